import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { PATHS as BACKEND_PATHS } from '../../backend/src/contract';
import { BackendRoute, loadBackendRoutes } from './backend-routes';
import { BASE_PROPS, EdgeFixture, nagViolations, synthEdge } from './edge-fixture';

/** Default environment: no domain, default certificate, no geo restriction, no static deploy. */
let f: EdgeFixture;
let config: any;
let assemblyDir: string;

const MANAGED = {
  cachingDisabled: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
  allViewerExceptHost: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
};

function resourceOf(type: string, predicate: (props: any) => boolean = () => true): [string, any] {
  const found = Object.entries(f.template.findResources(type)).filter(([, r]) => predicate((r as any).Properties));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as [string, any];
}

function behaviour(pattern: string): any {
  const b = config.CacheBehaviors.find((x: any) => x.PathPattern === pattern);
  if (!b) throw new Error(`no behaviour ${pattern}`);
  return b;
}

/** The cache policy resource a behaviour points at. */
function cachePolicyOf(b: any): any {
  return f.template.toJSON().Resources[b.CachePolicyId.Ref].Properties.CachePolicyConfig;
}

const API_USE1 = BASE_PROPS.apiOrigins[0].api;

/** Logical id of the VPC origin the construct made for a role and region. */
function logicalIdOfVpcOrigin(role: 'Api' | 'Realtime', region: string): string {
  const vpcOrigin = (role === 'Api' ? f.edge.apiVpcOrigins : f.edge.realtimeVpcOrigins)[region];
  return f.stack.getLogicalId(vpcOrigin.node.defaultChild as any);
}

function originOf(b: any): any {
  return config.Origins.find((o: any) => o.Id === b.TargetOriginId);
}

/** A fake `npm` first on PATH during synthesis: it records any call (an `npm install` would need the network). */
const npmTrap = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-npm-trap-'));
const npmCalls = path.join(npmTrap, 'calls.log');

beforeAll(() => {
  fs.writeFileSync(path.join(npmTrap, 'npm'), `#!/bin/sh\necho "npm $*" >> '${npmCalls}'\nexit 1\n`, { mode: 0o755 });
  const savedPath = process.env.PATH;
  process.env.PATH = `${npmTrap}${path.delimiter}${savedPath}`;
  try {
    f = synthEdge(BASE_PROPS);
  } finally {
    process.env.PATH = savedPath;
  }
  config = resourceOf('AWS::CloudFront::Distribution')[1].Properties.DistributionConfig;
  assemblyDir = f.app.synth().directory;
}, 300_000);

describe('distribution', () => {
  it('serves HTTP/2 and HTTP/3 over IPv4 and IPv6, price class 100, with standard logs to the log bucket', () => {
    expect(config).toMatchObject({
      HttpVersion: 'http2and3',
      IPV6Enabled: true,
      PriceClass: 'PriceClass_100',
      DefaultRootObject: 'index.html',
      Logging: { Bucket: { 'Fn::GetAtt': ['EdgeStorageAccessLogBucketFF466F4D', 'RegionalDomainName'] }, Prefix: 'cloudfront/' },
      WebACLId: { 'Fn::GetAtt': ['EdgeWafWebAcl7303A48B', 'Arn'] },
    });
    expect(config.Restrictions).toBeUndefined();
    expect(config.Aliases).toBeUndefined();
  });

  it('subscribes to the additional metrics (cache hit rate, origin latency) the monitoring reads', () => {
    f.template.resourceCountIs('AWS::CloudFront::MonitoringSubscription', 1);
    f.template.hasResourceProperties('AWS::CloudFront::MonitoringSubscription', {
      DistributionId: { Ref: 'EdgeDistribution0060737B' },
      MonitoringSubscription: { RealtimeMetricsSubscriptionConfig: { RealtimeMetricsSubscriptionStatus: 'Enabled' } },
    });
    expect(() => f.edge.distribution.metricCacheHitRate()).not.toThrow();
    expect(() => f.edge.distribution.metricOriginLatency()).not.toThrow();
  });

  it('uses the default certificate without aliases (its TLS policy is fixed by CloudFront; acknowledged for cdk-nag)', () => {
    expect(config.ViewerCertificate).toBeUndefined();
  });

  it('redirects HTTP to HTTPS on every behaviour', () => {
    for (const b of [config.DefaultCacheBehavior, ...config.CacheBehaviors]) expect(b.ViewerProtocolPolicy).toBe('redirect-to-https');
  });

  it('has exactly the planned behaviours, in this order', () => {
    expect(config.CacheBehaviors.map((b: any) => b.PathPattern)).toEqual(['/assets/*', '/media/*', '/images/*', '/v1/*', '/ws*']);
  });
});

describe('behaviours, TTLs and policies', () => {
  it('default (static site): 24 h at the edge, gzip + brotli, security headers with CSP and a 24 h browser cache', () => {
    const b = config.DefaultCacheBehavior;
    expect(b).toMatchObject({ Compress: true, AllowedMethods: ['GET', 'HEAD', 'OPTIONS'] });
    expect(cachePolicyOf(b)).toMatchObject({
      DefaultTTL: 86400, MinTTL: 0, MaxTTL: 31536000,
      ParametersInCacheKeyAndForwardedToOrigin: {
        EnableAcceptEncodingGzip: true, EnableAcceptEncodingBrotli: true,
        QueryStringsConfig: { QueryStringBehavior: 'none' }, HeadersConfig: { HeaderBehavior: 'none' }, CookiesConfig: { CookieBehavior: 'none' },
      },
    });
    const headers = f.template.toJSON().Resources[b.ResponseHeadersPolicyId.Ref].Properties.ResponseHeadersPolicyConfig;
    expect(headers.SecurityHeadersConfig).toMatchObject({
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true },
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'strict-origin-when-cross-origin', Override: true },
      ContentSecurityPolicy: { ContentSecurityPolicy: expect.stringContaining("default-src 'self'"), Override: true },
    });
    expect(headers.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy).toContain("frame-ancestors 'none'");
    expect(headers.CustomHeadersConfig.Items).toEqual([{ Header: 'Cache-Control', Value: 'public, max-age=86400', Override: false }]);
    expect(originOf(b).DomainName).toEqual({ 'Fn::GetAtt': ['EdgeStorageStaticAssetsBucketA2378BD6', 'RegionalDomainName'] });
  });

  it('/assets/* (content-hashed build output): immutable for a year at the edge and in browsers', () => {
    const b = behaviour('/assets/*');
    expect(cachePolicyOf(b)).toMatchObject({ DefaultTTL: 31536000, MinTTL: 31536000, MaxTTL: 31536000 });
    const headers = f.template.toJSON().Resources[b.ResponseHeadersPolicyId.Ref].Properties.ResponseHeadersPolicyConfig;
    expect(headers.CustomHeadersConfig.Items).toEqual([{ Header: 'Cache-Control', Value: 'public, max-age=31536000, immutable', Override: true }]);
    expect(originOf(b).Id).toBe(config.DefaultCacheBehavior.TargetOriginId);
  });

  it('/media/*: 7 days, GET/HEAD/OPTIONS, nothing that could strip Range (no function, no origin request policy)', () => {
    const b = behaviour('/media/*');
    expect(cachePolicyOf(b)).toMatchObject({
      DefaultTTL: 604800, MinTTL: 0,
      ParametersInCacheKeyAndForwardedToOrigin: { EnableAcceptEncodingGzip: true, EnableAcceptEncodingBrotli: true },
    });
    expect(b.AllowedMethods).toEqual(['GET', 'HEAD', 'OPTIONS']);
    expect(b.FunctionAssociations).toBeUndefined();
    expect(b.LambdaFunctionAssociations).toBeUndefined();
    expect(b.OriginRequestPolicyId).toBeUndefined();
    expect(originOf(b).DomainName).toEqual({ 'Fn::GetAtt': ['EdgeStorageMediaBucket8032C4B0', 'RegionalDomainName'] });
  });

  it('/images/*: the normalizing function on viewer request, URI-only cache key for 7 days, Vary: Accept', () => {
    const b = behaviour('/images/*');
    expect(b.FunctionAssociations).toEqual([{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [expect.any(String), 'FunctionARN'] } }]);
    expect(cachePolicyOf(b)).toMatchObject({
      DefaultTTL: 604800,
      ParametersInCacheKeyAndForwardedToOrigin: {
        QueryStringsConfig: { QueryStringBehavior: 'none' }, HeadersConfig: { HeaderBehavior: 'none' }, CookiesConfig: { CookieBehavior: 'none' },
      },
    });
    expect(b.AllowedMethods).toEqual(['GET', 'HEAD']);
    const headers = f.template.toJSON().Resources[b.ResponseHeadersPolicyId.Ref].Properties.ResponseHeadersPolicyConfig;
    expect(headers.CustomHeadersConfig.Items).toEqual([{ Header: 'Vary', Value: 'Accept', Override: true }]);
    const group = config.OriginGroups.Items.find((g: any) => g.Id === b.TargetOriginId);
    expect(group.FailoverCriteria.StatusCodes.Items).toEqual([403, 404, 500, 502, 503, 504]);
    const [primary, fallback] = group.Members.Items.map((m: any) => config.Origins.find((o: any) => o.Id === m.OriginId));
    expect(primary.DomainName).toEqual({ 'Fn::GetAtt': ['EdgeStorageTransformedImagesBucket09522A84', 'RegionalDomainName'] });
    expect(JSON.stringify(fallback.DomainName)).toContain('FunctionUrl');
    expect(fallback.OriginAccessControlId).toBeDefined();
  });

  it('/v1/*: not cached, all methods, every viewer header (incl. Authorization), query string and cookie except Host', () => {
    const b = behaviour('/v1/*');
    expect(b).toMatchObject({
      CachePolicyId: MANAGED.cachingDisabled,
      OriginRequestPolicyId: MANAGED.allViewerExceptHost,
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
    });
    expect(originOf(b)).toMatchObject({
      DomainName: API_USE1.domainName,
      VpcOriginConfig: { VpcOriginId: { 'Fn::GetAtt': [logicalIdOfVpcOrigin('Api', 'us-east-1'), 'Id'] }, OriginReadTimeout: 30, OriginKeepaliveTimeout: 60 },
    });
    expect(originOf(b).CustomOriginConfig).toBeUndefined();
    expect(originOf(b).OriginShield).toBeUndefined();
  });

  it('api and realtime NLBs of every region are VPC origins (internal load balancers, reached inside their VPC)', () => {
    const vpcOrigins = Object.values(f.template.findResources('AWS::CloudFront::VpcOrigin')).map((r: any) => r.Properties.VpcOriginEndpointConfig);
    expect(vpcOrigins.map((c: any) => c.Arn).sort()).toEqual(BASE_PROPS.apiOrigins.flatMap((o) => [o.api.loadBalancerArn, o.realtime.loadBalancerArn]).sort());
    for (const c of vpcOrigins) {
      expect(c).toMatchObject({ OriginProtocolPolicy: 'http-only', HTTPPort: 80, HTTPSPort: 443 });
      expect(c.Name.length).toBeLessThanOrEqual(64);
    }
    // Only the active (primary) region's two are attached; no origin of the distribution is a plain custom origin to an NLB.
    const attached = config.Origins.filter((o: any) => o.VpcOriginConfig).map((o: any) => o.VpcOriginConfig.VpcOriginId['Fn::GetAtt'][0]).sort();
    expect(attached).toEqual([logicalIdOfVpcOrigin('Api', 'us-east-1'), logicalIdOfVpcOrigin('Realtime', 'us-east-1')].sort());
    expect(config.Origins.filter((o: any) => JSON.stringify(o.DomainName).includes('.elb.') && !o.VpcOriginConfig)).toEqual([]);
    expect(f.edge.activeApiRegion).toBe('us-east-1');
  });

  it('/ws*: WebSocket upgrade allowed, not cached, Sec-WebSocket-* headers, query strings and cookies forwarded', () => {
    const b = behaviour('/ws*');
    expect(b).toMatchObject({ CachePolicyId: MANAGED.cachingDisabled, AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'], Compress: false });
    // WebSockets are served by the realtime Service, which has its own NLB.
    expect(b.TargetOriginId).not.toBe(behaviour('/v1/*').TargetOriginId);
    expect(originOf(b)).toMatchObject({
      DomainName: BASE_PROPS.apiOrigins[0].realtime.domainName,
      VpcOriginConfig: { VpcOriginId: { 'Fn::GetAtt': [logicalIdOfVpcOrigin('Realtime', 'us-east-1'), 'Id'] } },
    });
    const orp = f.template.toJSON().Resources[b.OriginRequestPolicyId.Ref].Properties.OriginRequestPolicyConfig;
    expect(orp).toMatchObject({
      HeadersConfig: { HeaderBehavior: 'whitelist', Headers: ['Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Sec-WebSocket-Protocol', 'Sec-WebSocket-Extensions', 'Origin', 'User-Agent'] },
      QueryStringsConfig: { QueryStringBehavior: 'all' },
      CookiesConfig: { CookieBehavior: 'all' },
    });
  });

  it('puts Origin Shield in the primary region on every S3 and image origin', () => {
    const shielded = config.Origins.filter((o: any) => o.S3OriginConfig || JSON.stringify(o.DomainName).includes('FunctionUrl'));
    expect(shielded).toHaveLength(4);
    for (const o of shielded) expect(o.OriginShield).toEqual({ Enabled: true, OriginShieldRegion: 'us-east-1' });
  });

  it('reaches every S3 origin through Origin Access Control (no OAI, no public bucket)', () => {
    const s3Origins = config.Origins.filter((o: any) => o.S3OriginConfig);
    expect(s3Origins).toHaveLength(3);
    for (const o of s3Origins) {
      expect(o.S3OriginConfig.OriginAccessIdentity).toBe('');
      expect(o.OriginAccessControlId).toBeDefined();
    }
    f.template.resourcePropertiesCountIs('AWS::CloudFront::OriginAccessControl',
      { OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' }) }, 3);
    f.template.resourcePropertiesCountIs('AWS::CloudFront::OriginAccessControl',
      { OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 'lambda', SigningBehavior: 'always' }) }, 1);
    f.template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
  });
});

describe('image optimization', () => {
  it('deploys the normalizing function as cloudfront-js-2.0 with the configured bounds', () => {
    const [, fn] = resourceOf('AWS::CloudFront::Function');
    expect(fn.Properties.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    expect(fn.Properties.FunctionCode).toContain('var CONFIG = {"prefix":"/images/","widths":[160,320,480,640,750,828,1080,1280,1920,2560],"minQuality":40,"maxQuality":90');
    expect(fn.Properties.AutoPublish).toBe(true);
  });

  it('runs the transform Lambda on Node 22 x86_64 with its guard rails in the environment', () => {
    const [, fn] = resourceOf('AWS::Lambda::Function', (p) => p.Environment?.Variables?.PATH_PREFIX === '/images/');
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x', Architectures: ['x86_64'], MemorySize: 2048, Timeout: 30, ReservedConcurrentExecutions: 50,
      Environment: { Variables: {
        MEDIA_BUCKET: { Ref: 'EdgeStorageMediaBucket8032C4B0' },
        TRANSFORMED_BUCKET: { Ref: 'EdgeStorageTransformedImagesBucket09522A84' },
        ALLOWED_WIDTHS: '160,320,480,640,750,828,1080,1280,1920,2560',
        MAX_WIDTH: '2560', MAX_HEIGHT: '2560', MAX_INPUT_PIXELS: '40000000', MAX_INPUT_BYTES: '26214400',
        MAX_RESPONSE_BYTES: '4500000', MIN_QUALITY: '40', MAX_QUALITY: '90', TRANSFORMED_CACHE_CONTROL: 'public, max-age=604800',
      } },
    });
    const [, url] = resourceOf('AWS::Lambda::Url');
    expect(url.Properties.AuthType).toBe('AWS_IAM');
  });

  it('lets only this distribution invoke the function URL', () => {
    for (const action of ['lambda:InvokeFunctionUrl', 'lambda:InvokeFunction']) {
      f.template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: action,
        Principal: 'cloudfront.amazonaws.com',
        SourceArn: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp(':distribution/'), { Ref: 'EdgeDistribution0060737B' }])]) }),
      });
    }
  });

  it('synthesizes without calling npm (bundling is offline)', () => {
    expect(fs.existsSync(npmCalls) ? fs.readFileSync(npmCalls, 'utf8') : '').toBe('');
  });

  it('bundles sharp for linux-x64 into the asset without npm (no package files, only the copied packages)', async () => {
    const [, fn] = resourceOf('AWS::Lambda::Function', (p) => p.Environment?.Variables?.PATH_PREFIX === '/images/');
    const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    const asset = path.join(assemblyDir, `asset.${hash}`);
    expect(fs.readdirSync(asset).sort()).toEqual(['index.js', 'index.js.map', 'node_modules']);
    expect(fs.readdirSync(path.join(asset, 'node_modules')).sort()).toEqual(['@img', 'detect-libc', 'semver', 'sharp']);
    expect(fs.readdirSync(path.join(asset, 'node_modules', '@img')).sort()).toEqual(['colour', 'sharp-libvips-linux-x64', 'sharp-linux-x64']);
    expect(fs.readFileSync(path.join(asset, 'index.js'), 'utf8')).toMatch(/require\("sharp"\)/);
    // The copied sharp loads from the bundle alone and encodes AVIF.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundled = require(path.join(asset, 'node_modules', 'sharp'));
    const out: Buffer = await bundled({ create: { width: 8, height: 8, channels: 3, background: '#336699' } }).avif().toBuffer();
    expect(out.subarray(4, 12).toString('latin1')).toBe('ftypavif');
  }, 60_000);

  it('grants the transform role read on media and put on transformed images only', () => {
    const policies = f.template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('EdgeImagesTransformRole') }] } });
    const actions = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement.flatMap((s: any) => [].concat(s.Action)));
    expect(actions).not.toContain('s3:DeleteObject*');
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject', 'kms:Decrypt']));
    expect(actions.some((a: string) => a.startsWith('cloudfront:'))).toBe(false);
  });
});

describe('storage (stateful; logical ids pinned)', () => {
  it('keeps the logical ids of the key and the buckets, all retained', () => {
    for (const [type, id] of [
      ['AWS::KMS::Key', 'EdgeStorageKey3BA3ABB2'],
      ['AWS::S3::Bucket', 'EdgeStorageMediaBucket8032C4B0'],
      ['AWS::S3::Bucket', 'EdgeStorageStaticAssetsBucketA2378BD6'],
      ['AWS::S3::Bucket', 'EdgeStorageTransformedImagesBucket09522A84'],
      ['AWS::S3::Bucket', 'EdgeStorageAccessLogBucketFF466F4D'],
    ]) {
      const resource = f.template.toJSON().Resources[id];
      expect(resource?.Type).toBe(type);
      expect(resource.DeletionPolicy).toBe('Retain');
      expect(resource.UpdateReplacePolicy).toBe('Retain');
    }
    f.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    f.template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    for (const queue of Object.values(f.template.findResources('AWS::SQS::Queue'))) {
      expect([queue.DeletionPolicy, queue.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    }
  });

  it('encrypts media, static and transformed buckets with the edge key and logs their access', () => {
    for (const id of ['EdgeStorageMediaBucket8032C4B0', 'EdgeStorageStaticAssetsBucketA2378BD6', 'EdgeStorageTransformedImagesBucket09522A84']) {
      const p = f.template.toJSON().Resources[id].Properties;
      expect(p.BucketEncryption.ServerSideEncryptionConfiguration[0]).toEqual({
        BucketKeyEnabled: true,
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': ['EdgeStorageKey3BA3ABB2', 'Arn'] } },
      });
      expect(p.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: 'EdgeStorageAccessLogBucketFF466F4D' });
      expect(p.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    }
  });

  it('versions media (overwrite detection) and sends its events to EventBridge natively', () => {
    const p = f.template.toJSON().Resources.EdgeStorageMediaBucket8032C4B0.Properties;
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(p.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
    expect(p.LifecycleConfiguration.Rules[0]).toMatchObject({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' });
    f.template.resourceCountIs('Custom::S3BucketNotifications', 0);
  });

  it('expires transformed images after 30 days and access logs after the retention (90 days)', () => {
    const r = f.template.toJSON().Resources;
    expect(r.EdgeStorageTransformedImagesBucket09522A84.Properties.LifecycleConfiguration.Rules[0]).toMatchObject({ ExpirationInDays: 30 });
    expect(r.EdgeStorageAccessLogBucketFF466F4D.Properties.LifecycleConfiguration.Rules[0]).toMatchObject({ ExpirationInDays: 90 });
    expect(r.EdgeStorageAccessLogBucketFF466F4D.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'ObjectWriter' }] });
  });
});

describe('WAF', () => {
  it('is a CLOUDFRONT web ACL with the three managed groups and a per-IP rate rule', () => {
    const [, acl] = resourceOf('AWS::WAFv2::WebACL');
    expect(acl.Properties.Scope).toBe('CLOUDFRONT');
    expect(acl.Properties.DefaultAction).toEqual({ Allow: {} });
    const rules = acl.Properties.Rules;
    expect(rules.map((r: any) => r.Name)).toEqual([
      'AWS-AWSManagedRulesAmazonIpReputationList', 'AWS-AWSManagedRulesCommonRuleSet', 'AWS-AWSManagedRulesKnownBadInputsRuleSet', 'RateLimitPerIp',
    ]);
    expect(rules[1].Statement.ManagedRuleGroupStatement.RuleActionOverrides).toEqual([{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }]);
    expect(rules[3]).toMatchObject({
      Action: { Block: {} },
      Statement: { RateBasedStatement: { Limit: 2000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
    });
  });

  it('logs to an aws-waf-logs-* group with retention and KMS, redacting credentials', () => {
    const [id, group] = resourceOf('AWS::Logs::LogGroup', (p) => String(p.LogGroupName ?? '').startsWith('aws-waf-logs-'));
    expect(group.Properties).toMatchObject({ RetentionInDays: 90, KmsKeyId: { 'Fn::GetAtt': ['EdgeStorageKey3BA3ABB2', 'Arn'] } });
    const [, logging] = resourceOf('AWS::WAFv2::LoggingConfiguration');
    expect(logging.Properties.ResourceArn).toEqual({ 'Fn::GetAtt': ['EdgeWafWebAcl7303A48B', 'Arn'] });
    expect(JSON.stringify(logging.Properties.LogDestinationConfigs)).toContain(id);
    expect(JSON.stringify(logging.Properties.LogDestinationConfigs)).not.toContain(':*');
    expect(logging.Properties.RedactedFields).toEqual([{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'cookie' } }]);
  });
});

describe('media invalidation', () => {
  it('routes created/deleted media events to a KMS-encrypted queue with a dead-letter queue', () => {
    f.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created', 'Object Deleted'],
        detail: { bucket: { name: [{ Ref: 'EdgeStorageMediaBucket8032C4B0' }] }, object: { key: [{ prefix: 'media/' }] } },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EdgeInvalidationQueue'), 'Arn'] } })],
    });
    f.template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': ['EdgeStorageKey3BA3ABB2', 'Arn'] },
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
    });
  });

  it('batches events for 60 s (up to 1000) before each run', () => {
    f.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1000, MaximumBatchingWindowInSeconds: 60, ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('grants cloudfront:CreateInvalidation on this distribution only', () => {
    const policies = f.template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('EdgeInvalidationRole') }] } });
    const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const cf = statements.filter((s: any) => [].concat(s.Action).some((a: string) => a.startsWith('cloudfront:')));
    expect(cf).toHaveLength(1);
    expect(cf[0].Action).toBe('cloudfront:CreateInvalidation');
    expect(JSON.stringify(cf[0].Resource)).toContain('EdgeDistribution0060737B');
    expect(JSON.stringify(cf[0].Resource)).not.toContain('*');
  });

  it('passes the distribution id and transformed bucket to the function', () => {
    f.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Environment: { Variables: Match.objectLike({ DISTRIBUTION_ID: { Ref: 'EdgeDistribution0060737B' }, IMAGE_PREFIX: 'images/' }) },
    });
  });
});

/**
 * CloudFront's path-pattern match: `*` is any run of characters (also none), `?` exactly one, case-sensitive, over
 * the whole path (query string excluded). Behaviours are tried in order and the first match wins; no match means the
 * default behaviour.
 */
function cloudFrontMatches(pattern: string, urlPath: string): boolean {
  const anchored = pattern.startsWith('/') ? pattern : `/${pattern}`;
  const re = anchored.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(urlPath);
}

/** The behaviour CloudFront picks for a path (undefined: the default behaviour, i.e. the static site). */
function behaviourFor(urlPath: string): any {
  return config.CacheBehaviors.find((b: any) => cloudFrontMatches(b.PathPattern, urlPath));
}

/** A concrete request path for a route (`/v1/users/:userId` -> `/v1/users/<uuid>`). */
function samplePath(route: BackendRoute): string {
  return route.url.replace(/:[^/]+/g, '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b');
}

describe('API routing', () => {
  let apiRoutes: BackendRoute[];
  let realtimeRoutes: BackendRoute[];
  beforeAll(async () => {
    const backendRoutes = loadBackendRoutes();
    apiRoutes = await backendRoutes('api');
    realtimeRoutes = await backendRoutes('realtime');
  }, 120_000);

  it('matches path patterns the way CloudFront does', () => {
    expect(cloudFrontMatches('/v1/*', '/v1/feed')).toBe(true);
    expect(cloudFrontMatches('/v1/*', '/api/v1/feed')).toBe(false);
    expect(cloudFrontMatches('/v1/*', '/V1/feed')).toBe(false);
    expect(cloudFrontMatches('/ws*', '/ws')).toBe(true);
    expect(cloudFrontMatches('/images/*', '/images.html')).toBe(false);
    expect(cloudFrontMatches('/a?c', '/abc')).toBe(true);
  });

  it('sends every route the api role registers to the api NLB, never to the static site, with the route\'s method allowed', () => {
    // The api registers its routes under the contract prefix (currently 16 method/path pairs).
    expect(apiRoutes.length).toBeGreaterThan(10);
    for (const route of apiRoutes) {
      const b = behaviourFor(samplePath(route));
      expect({ route: `${route.method} ${route.url}`, pattern: b?.PathPattern }).toEqual({ route: `${route.method} ${route.url}`, pattern: '/v1/*' });
      expect(originOf(b).DomainName).toBe(API_USE1.domainName);
      expect(b.AllowedMethods).toContain(route.method);
    }
  });

  it('sends the realtime role\'s WebSocket route to the realtime NLB', () => {
    const ws = realtimeRoutes.filter((r) => r.method === 'GET');
    expect(ws.map((r) => r.url)).toEqual([BACKEND_PATHS.websocket]);
    for (const route of ws) {
      const b = behaviourFor(samplePath(route));
      expect(b?.PathPattern).toBe('/ws*');
      expect(originOf(b).DomainName).toBe(BASE_PROPS.apiOrigins[0].realtime.domainName);
    }
  });

  it('does not expose the probes or /metrics: those paths fall to the static site', () => {
    for (const p of [BACKEND_PATHS.liveness, BACKEND_PATHS.readiness, BACKEND_PATHS.metrics]) expect(behaviourFor(p)).toBeUndefined();
  });

  it('creates no DNS records or health checks: VPC origins are chosen by id, not by DNS', () => {
    f.template.resourceCountIs('AWS::Route53::RecordSet', 0);
    f.template.resourceCountIs('AWS::Route53::HealthCheck', 0);
  });
});

afterAll(() => fs.rmSync(npmTrap, { recursive: true, force: true }));

describe('gates', () => {
  it('has no unacknowledged cdk-nag findings (AwsSolutions, NIST 800-53 r5)', () => {
    expect(nagViolations(f.app)).toEqual([]);
  }, 120_000);

  it('gives every Lambda an explicit, KMS-encrypted log group with retention', () => {
    const fns = f.template.findResources('AWS::Lambda::Function');
    for (const fn of Object.values(fns) as any[]) {
      const group = fn.Properties.LoggingConfig?.LogGroup?.Ref;
      expect(group).toBeDefined();
      expect(f.template.toJSON().Resources[group].Properties).toMatchObject({ RetentionInDays: 90, KmsKeyId: expect.anything() });
    }
  });
});
