import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as logs from 'aws-cdk-lib/aws-logs';
import { BASE_PROPS, EdgeFixture, nagViolations, regionalOrigin, synthEdge } from './edge-fixture';

/**
 * Every optional prop set: custom domain + certificate, VPC origins in three regions with the API moved to the second,
 * geo restriction, static deploy, custom WAF and image bounds, and a destroyable (dev-like) removal policy.
 */
const CERT = 'arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-1111-2222-3333-444455556666';
let f: EdgeFixture;
let config: any;

beforeAll(() => {
  f = synthEdge({
    primaryRegion: 'us-east-1',
    apiOrigins: [...BASE_PROPS.apiOrigins, regionalOrigin('ap-southeast-1', 'apse1')],
    activeApiRegion: 'eu-west-1',
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
    autoDeleteObjects: true,
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

describe('API origins in three regions, API moved to eu-west-1', () => {
  it('has a VPC origin for the api and the realtime NLB of each region', () => {
    const arns = Object.values(f.template.findResources('AWS::CloudFront::VpcOrigin')).map((r: any) => r.Properties.VpcOriginEndpointConfig.Arn).sort();
    expect(arns).toHaveLength(6);
    for (const [region, code] of [['us-east-1', 'use1'], ['eu-west-1', 'euw1'], ['ap-southeast-1', 'apse1']]) {
      const prefix = `arn:aws:elasticloadbalancing:${region}:111122223333:loadbalancer/net/connecthub-dev-${code}`;
      expect(arns.filter((a) => a.startsWith(`${prefix}-api/`))).toHaveLength(1);
      expect(arns.filter((a) => a.startsWith(`${prefix}-rt/`))).toHaveLength(1);
    }
  });

  it('routes /v1/* and /ws* to the active region\'s api and realtime NLBs', () => {
    const target = (pattern: string) => {
      const b = config.CacheBehaviors.find((x: any) => x.PathPattern === pattern);
      return config.Origins.find((o: any) => o.Id === b.TargetOriginId);
    };
    const euw1 = BASE_PROPS.apiOrigins[1];
    expect(target('/v1/*').DomainName).toBe(euw1.api.domainName);
    expect(target('/ws*').DomainName).toBe(euw1.realtime.domainName);
    expect(target('/v1/*').VpcOriginConfig.VpcOriginId).toEqual({ 'Fn::GetAtt': [f.stack.getLogicalId(f.edge.apiVpcOrigins['eu-west-1'].node.defaultChild as any), 'Id'] });
    expect(target('/ws*').VpcOriginConfig.VpcOriginId).toEqual({ 'Fn::GetAtt': [f.stack.getLogicalId(f.edge.realtimeVpcOrigins['eu-west-1'].node.defaultChild as any), 'Id'] });
    expect(f.edge.activeApiRegion).toBe('eu-west-1');
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
  it('applies to the key, every bucket, every log group and both invalidation queues', () => {
    const resources = Object.values(f.template.toJSON().Resources) as any[];
    const stateful = resources.filter((r) => ['AWS::KMS::Key', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup', 'AWS::SQS::Queue'].includes(r.Type));
    expect(stateful.length).toBe(1 + 4 + 4 + 2);
    for (const r of stateful) expect([r.Type, r.DeletionPolicy]).toEqual([r.Type, 'Delete']);
  });

  it('empties every bucket on delete (autoDeleteObjects), so a destroyable environment deletes cleanly', () => {
    const resources = f.template.toJSON().Resources as Record<string, any>;
    const emptied = Object.values(resources)
      .filter((r) => r.Type === 'Custom::S3AutoDeleteObjects')
      .map((r) => r.Properties.BucketName.Ref)
      .sort();
    const buckets = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::S3::Bucket').map(([id]) => id).sort();
    expect(emptied).toEqual(buckets);
  });
});

describe('gates', () => {
  it('has no unacknowledged cdk-nag findings with certificate, geo restriction and static deployment', () => {
    expect(nagViolations(f.app)).toEqual([]);
  }, 120_000);
});
