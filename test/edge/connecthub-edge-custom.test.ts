import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as logs from 'aws-cdk-lib/aws-logs';
import { BASE_PROPS, EdgeFixture, nagViolations, synthEdge } from './edge-fixture';

/**
 * Every optional prop set: custom domain + certificate, latency-routed API origins in three regions,
 * geo restriction, static deploy, custom WAF and image bounds, and a destroyable (dev-like) removal policy.
 */
const CERT = 'arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-1111-2222-3333-444455556666';
let f: EdgeFixture;
let config: any;

beforeAll(() => {
  f = synthEdge({
    primaryRegion: 'us-east-1',
    apiOrigins: [
      ...BASE_PROPS.apiOrigins,
      { region: 'ap-southeast-1', domainName: 'api-apse1.elb.example.net' },
    ],
    hostedZone: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'connecthub.example.com' },
    apiHealthCheckPath: '/api/health',
    certificateArn: CERT,
    aliases: ['connecthub.example.com', 'www.connecthub.example.com'],
    priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL,
    geoRestriction: { type: 'deny', countries: ['KP', 'IR'] },
    logRetention: logs.RetentionDays.ONE_MONTH,
    staticAssetsPath: path.join(__dirname, 'fixtures', 'site'),
    imageOptimization: { widths: [320, 640, 1280], maxHeight: 2000, reservedConcurrency: 200, transformedImageExpiration: Duration.days(14) },
    waf: { rateLimit: 500, rateLimitWindow: Duration.minutes(1), commonRuleSetCountOnly: [] },
    invalidationBatchWindow: Duration.seconds(20),
    removalPolicy: RemovalPolicy.DESTROY,
  });
  config = Object.values(f.template.findResources('AWS::CloudFront::Distribution'))[0].Properties.DistributionConfig;
}, 300_000);

describe('custom domain', () => {
  it('serves the aliases with the ACM certificate, SNI and the TLSv1.2_2021 policy', () => {
    expect(config.Aliases).toEqual(['connecthub.example.com', 'www.connecthub.example.com']);
    expect(config.ViewerCertificate).toEqual({ AcmCertificateArn: CERT, SslSupportMethod: 'sni-only', MinimumProtocolVersion: 'TLSv1.2_2021' });
  });

  it('applies price class and geo restriction from props', () => {
    expect(config.PriceClass).toBe('PriceClass_All');
    expect(config.Restrictions).toEqual({ GeoRestriction: { RestrictionType: 'blacklist', Locations: ['KP', 'IR'] } });
  });
});

describe('latency-routed API origin', () => {
  it('uses api-origin.<zone> as the API origin', () => {
    const api = config.CacheBehaviors.find((b: any) => b.PathPattern === '/api/*');
    expect(config.Origins.find((o: any) => o.Id === api.TargetOriginId).DomainName).toBe('api-origin.connecthub.example.com');
    expect(f.edge.apiOriginDomainName).toBe('api-origin.connecthub.example.com');
  });

  it.each([
    ['us-east-1', 'api-use1.elb.example.net'],
    ['eu-west-1', 'api-euw1.elb.example.net'],
    ['ap-southeast-1', 'api-apse1.elb.example.net'],
  ])('has a latency record and an HTTPS health check for %s', (region, target) => {
    const checks = f.template.findResources('AWS::Route53::HealthCheck', {
      Properties: { HealthCheckConfig: { FullyQualifiedDomainName: target } },
    });
    expect(Object.values(checks)).toHaveLength(1);
    const [checkId, check] = Object.entries(checks)[0] as [string, any];
    expect(check.Properties.HealthCheckConfig).toMatchObject({ Type: 'HTTPS', Port: 443, ResourcePath: '/api/health', EnableSNI: true, FailureThreshold: 3 });
    f.template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'api-origin.connecthub.example.com.',
      Type: 'CNAME',
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
      Region: region,
      SetIdentifier: `api-${region}`,
      ResourceRecords: [target],
      HealthCheckId: { Ref: checkId },
      TTL: '60',
    });
  });
});

describe('static deployment', () => {
  it('uploads the folder and invalidates /* through the deployment, without pruning old hashed files', () => {
    f.template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketName: { Ref: 'EdgeStorageStaticAssetsBucketA2378BD6' },
      DistributionId: { Ref: 'EdgeDistribution0060737B' },
      DistributionPaths: ['/*'],
      Prune: false,
      SystemMetadata: { 'cache-control': 'public, max-age=86400' },
    });
  });
});

describe('props reach the resources', () => {
  it('WAF rate limit and window', () => {
    const acl = Object.values(f.template.findResources('AWS::WAFv2::WebACL'))[0] as any;
    const rate = acl.Properties.Rules.find((r: any) => r.Name === 'RateLimitPerIp');
    expect(rate.Statement.RateBasedStatement).toEqual({ Limit: 500, AggregateKeyType: 'IP', EvaluationWindowSec: 60 });
    const common = acl.Properties.Rules.find((r: any) => r.Name === 'AWS-AWSManagedRulesCommonRuleSet');
    expect(common.Statement.ManagedRuleGroupStatement.RuleActionOverrides).toBeUndefined();
  });

  it('image bounds in the function and the Lambda', () => {
    const fn = Object.values(f.template.findResources('AWS::CloudFront::Function'))[0] as any;
    expect(fn.Properties.FunctionCode).toContain('"widths":[320,640,1280]');
    f.template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 200,
      Environment: { Variables: Match.objectLike({ ALLOWED_WIDTHS: '320,640,1280', MAX_WIDTH: '1280', MAX_HEIGHT: '2000' }) },
    });
    const transformed = f.template.toJSON().Resources.EdgeStorageTransformedImagesBucket09522A84;
    expect(transformed.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(14);
  });

  it('log retention everywhere and the invalidation batching window', () => {
    for (const group of Object.values(f.template.findResources('AWS::Logs::LogGroup')) as any[]) {
      expect(group.Properties.RetentionInDays).toBe(30);
    }
    expect(f.template.toJSON().Resources.EdgeStorageAccessLogBucketFF466F4D.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(30);
    f.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumBatchingWindowInSeconds: 20 });
  });
});

describe('removal policy', () => {
  it('applies to the key, every bucket and every log group', () => {
    const resources = Object.values(f.template.toJSON().Resources) as any[];
    const stateful = resources.filter((r) => ['AWS::KMS::Key', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup'].includes(r.Type));
    expect(stateful.length).toBe(1 + 4 + 4);
    for (const r of stateful) expect([r.Type, r.DeletionPolicy]).toEqual([r.Type, 'Delete']);
  });
});

describe('gates', () => {
  it('has no unacknowledged cdk-nag findings with certificate, geo restriction and static deployment', () => {
    expect(nagViolations(f.app)).toEqual([]);
  }, 120_000);
});
