import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PATHS as BACKEND_PATHS } from '../../backend/src/contract';
import { acknowledgeEdgeFindings } from './edge-acknowledgments';
import { EdgePolicies } from './edge-policies';
import { ConnectHubEdgeProps, DEFAULT_CONTENT_SECURITY_POLICY, InternalLoadBalancer, resolveImageOptions, resolveWafOptions } from './edge-props';
import { EdgeStorage } from './edge-storage';
import { EdgeWebAcl } from './edge-web-acl';
import { IMAGE_PATH_PREFIX, ImageOptimization } from './image-optimization';
import { MediaInvalidation } from './media-invalidation';
import { StaticAssetsDeployment } from './static-assets-deployment';
import { validateEdgeProps } from './validate-edge-props';

/**
 * Path patterns of the distribution's behaviours (the default behaviour serves the static site). CloudFront forwards
 * the viewer's path unchanged, so the api and WebSocket patterns are built from the backend's own route constants:
 * a request the edge sends to a load balancer is one the backend serves.
 */
export const EDGE_PATHS = {
  assets: '/assets/*',
  media: '/media/*',
  images: `${IMAGE_PATH_PREFIX}*`,
  api: `${BACKEND_PATHS.apiPrefix}/*`,
  webSocket: `${BACKEND_PATHS.websocket}*`,
} as const;

/**
 * ConnectHub's edge (plan Steps 5.1, 5.2, 5.8): one CloudFront distribution in front of the static
 * site, user media (with on-the-fly image optimization) and the regional APIs, protected by a WAF
 * web ACL, with media invalidation on change. Must live in a us-east-1 stack.
 *
 * | path          | origin                                   | cache                     |
 * |---------------|------------------------------------------|---------------------------|
 * | default (`*`) | static bucket (OAC, Origin Shield)       | 24 h                      |
 * | `/assets/*`   | static bucket                            | 1 year, immutable         |
 * | `/media/*`    | media bucket (OAC, Origin Shield)        | 7 days, Range passes      |
 * | `/images/*`   | transformed bucket → transform Lambda    | 7 days, key = normalized  |
 * | `/v1/*`       | api NLB (VPC origin, active region)      | not cached                |
 * | `/ws*`        | realtime NLB (VPC origin, WebSocket)     | not cached                |
 *
 * The NLBs stay internal: each region's api and realtime NLB is an `AWS::CloudFront::VpcOrigin`, which CloudFront
 * reaches through network interfaces it places in that VPC.
 */
export class ConnectHubEdge extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly storage: EdgeStorage;
  readonly policies: EdgePolicies;
  readonly images: ImageOptimization;
  readonly invalidation: MediaInvalidation;
  readonly waf: EdgeWebAcl;
  /** Present when `staticAssetsPath` is given. */
  readonly staticDeployment?: StaticAssetsDeployment;
  /** VPC origin of each region's api NLB, by region. */
  readonly apiVpcOrigins: Readonly<Record<string, cloudfront.VpcOrigin>>;
  /** VPC origin of each region's realtime NLB, by region. */
  readonly realtimeVpcOrigins: Readonly<Record<string, cloudfront.VpcOrigin>>;
  /** The region whose VPC origins serve `/v1/*` and `/ws*`. */
  readonly activeApiRegion: string;

  /** The media bucket (originals under `media/`); pass its name to other stacks as a plain value. */
  get mediaBucket(): s3.Bucket {
    return this.storage.mediaBucket;
  }

  constructor(scope: Construct, id: string, props: ConnectHubEdgeProps) {
    super(scope, id);
    validateEdgeProps(props, Stack.of(this).region);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const imageOptions = resolveImageOptions(props.imageOptimization);
    const originShield = { originShieldRegion: props.primaryRegion };

    this.storage = new EdgeStorage(this, 'Storage', {
      removalPolicy,
      autoDeleteObjects: props.autoDeleteObjects ?? false,
      logRetention,
      noncurrentVersionRetention: props.noncurrentVersionRetention ?? Duration.days(30),
      transformedImageExpiration: imageOptions.transformedImageExpiration,
    });
    this.policies = new EdgePolicies(this, 'Policies', {
      contentSecurityPolicy: props.contentSecurityPolicy ?? DEFAULT_CONTENT_SECURITY_POLICY,
    });
    this.images = new ImageOptimization(this, 'Images', {
      mediaBucket: this.storage.mediaBucket,
      transformedBucket: this.storage.transformedBucket,
      logKey: this.storage.key,
      originShieldRegion: props.primaryRegion,
      options: imageOptions,
      logRetention,
      logRemovalPolicy: removalPolicy,
    });
    this.waf = new EdgeWebAcl(this, 'Waf', {
      options: resolveWafOptions(props.waf),
      logRetention,
      removalPolicy,
      encryptionKey: this.storage.key,
    });

    // One VPC origin per region and role. Only the active region's are attached to the distribution; the others
    // exist so that moving the API to another region does not wait for VPC origin creation.
    const vpcOrigin = (role: 'Api' | 'Realtime', region: string, lb: InternalLoadBalancer) => {
      const nlb = elbv2.NetworkLoadBalancer.fromNetworkLoadBalancerAttributes(this, `${role}Nlb-${region}`, {
        loadBalancerArn: lb.loadBalancerArn,
        loadBalancerDnsName: lb.domainName,
      });
      return new cloudfront.VpcOrigin(this, `${role}VpcOrigin-${region}`, {
        endpoint: cloudfront.VpcOriginEndpoint.networkLoadBalancer(nlb),
        // Plain HTTP on the NLB's port 80, over CloudFront's network interfaces inside the VPC: the NLB has no
        // certificate (its name is an elb.amazonaws.com name no public certificate can cover). See docs/edge.md.
        protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
        httpPort: 80,
        httpsPort: 443,
      });
    };
    const apiVpcOrigins: Record<string, cloudfront.VpcOrigin> = {};
    const realtimeVpcOrigins: Record<string, cloudfront.VpcOrigin> = {};
    for (const origin of props.apiOrigins) {
      apiVpcOrigins[origin.region] = vpcOrigin('Api', origin.region, origin.api);
      realtimeVpcOrigins[origin.region] = vpcOrigin('Realtime', origin.region, origin.realtime);
    }
    this.apiVpcOrigins = apiVpcOrigins;
    this.realtimeVpcOrigins = realtimeVpcOrigins;
    this.activeApiRegion = props.activeApiRegion ?? props.primaryRegion;
    const active = props.apiOrigins.find((o) => o.region === this.activeApiRegion)!;

    const staticOrigin = origins.S3BucketOrigin.withOriginAccessControl(this.storage.staticBucket, originShield);
    const mediaOrigin = origins.S3BucketOrigin.withOriginAccessControl(this.storage.mediaBucket, originShield);
    const timeouts = { readTimeout: Duration.seconds(30), keepaliveTimeout: Duration.seconds(60) };
    const apiOrigin = origins.VpcOrigin.withVpcOrigin(apiVpcOrigins[active.region], { domainName: active.api.domainName, ...timeouts });
    const realtimeOrigin = origins.VpcOrigin.withVpcOrigin(realtimeVpcOrigins[active.region], { domainName: active.realtime.domainName, ...timeouts });

    const https = cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS;
    const certificate = props.certificateArn
      ? acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn)
      : undefined;
    const geo = props.geoRestriction
      ? (props.geoRestriction.type === 'allow'
        ? cloudfront.GeoRestriction.allowlist(...props.geoRestriction.countries)
        : cloudfront.GeoRestriction.denylist(...props.geoRestriction.countries))
      : undefined;

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'ConnectHub: static site, media, images, API, WebSocket',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableIpv6: true,
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_100,
      geoRestriction: geo,
      certificate,
      domainNames: certificate ? [...(props.aliases ?? [])] : undefined,
      // Applies with a custom certificate; the default certificate's policy is fixed (see acknowledgments).
      minimumProtocolVersion: certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      sslSupportMethod: certificate ? cloudfront.SSLMethod.SNI : undefined,
      // Cache hit rate, origin latency and per-status error rates (the monitoring's CacheHitRate and OriginLatency
      // widgets and alarms) exist only with the additional-metrics subscription.
      publishAdditionalMetrics: true,
      enableLogging: true,
      logBucket: this.storage.logBucket,
      logFilePrefix: 'cloudfront/',
      webAclId: this.waf.webAcl.attrArn,
      defaultBehavior: {
        origin: staticOrigin,
        viewerProtocolPolicy: https,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
        cachePolicy: this.policies.staticCache,
        responseHeadersPolicy: this.policies.staticHeaders,
        compress: true,
      },
      additionalBehaviors: {
        [EDGE_PATHS.assets]: {
          origin: staticOrigin,
          viewerProtocolPolicy: https,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
          cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
          cachePolicy: this.policies.immutableCache,
          responseHeadersPolicy: this.policies.immutableHeaders,
          compress: true,
        },
        // Range requests reach S3 unchanged (CloudFront forwards Range for GET); no function or policy strips it.
        [EDGE_PATHS.media]: {
          origin: mediaOrigin,
          viewerProtocolPolicy: https,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
          cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
          cachePolicy: this.policies.mediaCache,
          responseHeadersPolicy: this.policies.defaultHeaders,
          compress: true,
        },
        [EDGE_PATHS.images]: {
          origin: this.images.origin,
          viewerProtocolPolicy: https,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
          cachePolicy: this.policies.imageCache,
          responseHeadersPolicy: this.policies.imageHeaders,
          compress: false,
          functionAssociations: [{ function: this.images.normalizeFunction, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
        },
        [EDGE_PATHS.api]: {
          origin: apiOrigin,
          viewerProtocolPolicy: https,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          // With caching disabled this managed policy also forwards Authorization.
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: this.policies.defaultHeaders,
          compress: true,
        },
        [EDGE_PATHS.webSocket]: {
          origin: realtimeOrigin,
          viewerProtocolPolicy: https,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: this.policies.webSocketOriginRequest,
          compress: false,
        },
      },
    });

    this.invalidation = new MediaInvalidation(this, 'Invalidation', {
      distribution: this.distribution,
      mediaBucket: this.storage.mediaBucket,
      transformedBucket: this.storage.transformedBucket,
      imageKeyPrefix: IMAGE_PATH_PREFIX.replace(/^\//, ''),
      key: this.storage.key,
      batchWindow: props.invalidationBatchWindow ?? Duration.seconds(60),
      logRetention,
      logRemovalPolicy: removalPolicy,
      queueRemovalPolicy: removalPolicy,
    });

    if (props.staticAssetsPath !== undefined) {
      this.staticDeployment = new StaticAssetsDeployment(this, 'StaticDeployment', {
        sourcePath: props.staticAssetsPath,
        bucket: this.storage.staticBucket,
        distribution: this.distribution,
        logKey: this.storage.key,
        logRetention,
        logRemovalPolicy: removalPolicy,
      });
    }

    acknowledgeEdgeFindings(this, { defaultCertificate: certificate === undefined, geoRestricted: geo !== undefined });
  }
}
