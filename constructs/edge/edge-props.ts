import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as logs from 'aws-cdk-lib/aws-logs';

/** One internal Network Load Balancer that CloudFront reaches as a VPC origin. */
export interface InternalLoadBalancer {
  /** ARN of the load balancer (`arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/net/<name>/<id>`). */
  readonly loadBalancerArn: string;
  /** Its DNS name (the origin's domain name). */
  readonly domainName: string;
}

/** The backend's load balancers in one region: the HTTP API and the WebSocket gateway each have their own NLB. */
export interface ApiRegionalOrigin {
  /** AWS region of the load balancers, e.g. `eu-west-1`. */
  readonly region: string;
  /** NLB of the api Service (`/v1/*`). */
  readonly api: InternalLoadBalancer;
  /** NLB of the realtime Service (`/ws*`, WebSockets). */
  readonly realtime: InternalLoadBalancer;
}

/** Geo restriction applied to the whole distribution. */
export interface EdgeGeoRestriction {
  /** `allow`: only these countries; `deny`: all but these countries. */
  readonly type: 'allow' | 'deny';
  /** ISO 3166-1 alpha-2 country codes, upper case. */
  readonly countries: readonly string[];
}

/** Bounds of the image pipeline, shared by the CloudFront Function and the transform Lambda. */
export interface ImageOptimizationOptions {
  /** Widths requests are snapped up to (ascending, px). @default [160, 320, 480, 640, 750, 828, 1080, 1280, 1920, 2560] */
  readonly widths?: readonly number[];
  /** Output never taller than this (px). @default 2560 */
  readonly maxHeight?: number;
  /** Originals with more pixels are refused (decompression-bomb guard). @default 40_000_000 */
  readonly maxInputPixels?: number;
  /** Originals larger than this are refused before download. @default 26_214_400 (25 MiB) */
  readonly maxInputBytes?: number;
  /** Lowest quality a request may ask for. @default 40 */
  readonly minQuality?: number;
  /** Highest quality a request may ask for. @default 90 */
  readonly maxQuality?: number;
  /** Quality when the request names none. @default 75 */
  readonly defaultQuality?: number;
  /** Memory of the transform Lambda (MiB); sharp scales with CPU, which scales with memory. @default 2048 */
  readonly memorySize?: number;
  /** Reserved concurrency of the transform Lambda (caps cost and protects the account pool). @default 50 */
  readonly reservedConcurrency?: number;
  /** Transformed images are deleted from their bucket after this long (they are re-made on demand). @default Duration.days(30) */
  readonly transformedImageExpiration?: Duration;
}

/** WAF settings. */
export interface EdgeWafOptions {
  /** Requests per IP per evaluation window before the rate rule blocks. @default 2000 */
  readonly rateLimit?: number;
  /** Evaluation window of the rate rule: 60, 120, 300 or 600 seconds. @default Duration.minutes(5) */
  readonly rateLimitWindow?: Duration;
  /** Rules of AWSManagedRulesCommonRuleSet switched to COUNT (false positives for the API). @default ['SizeRestrictions_BODY'] */
  readonly commonRuleSetCountOnly?: readonly string[];
}

/** Props of {@link ConnectHubEdge}. */
export interface ConnectHubEdgeProps {
  /** Primary region of the environment: Origin Shield region for the S3 and image origins. */
  readonly primaryRegion: string;
  /**
   * The internal load balancers of every region, primary region first. Each becomes a CloudFront VPC origin
   * (`AWS::CloudFront::VpcOrigin`), so nothing has to be internet-facing.
   */
  readonly apiOrigins: readonly ApiRegionalOrigin[];
  /**
   * Region whose VPC origins serve `/v1/*` and `/ws*`. A VPC origin is tied to one load balancer, so CloudFront
   * cannot pick a region per request by DNS; the other regions' VPC origins stay created (creating one takes
   * minutes) so that moving the API is a change of this value.
   * @default - the primary region
   */
  readonly activeApiRegion?: string;
  /**
   * ACM certificate (us-east-1) for `aliases`. Without it the distribution uses the default
   * `*.cloudfront.net` certificate.
   * @default - default CloudFront certificate
   */
  readonly certificateArn?: string;
  /** Alternate domain names served with `certificateArn`. @default - none */
  readonly aliases?: readonly string[];
  /** CloudFront price class. @default PriceClass.PRICE_CLASS_100 */
  readonly priceClass?: cloudfront.PriceClass;
  /** Geo restriction. @default - none: the app is served in every country */
  readonly geoRestriction?: EdgeGeoRestriction;
  /** Retention of access logs (S3 lifecycle expiry) and WAF logs (log group retention). @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the buckets, the key and the invalidation queues (stateful). @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Empty the buckets when the stack deletes them (an auto-delete custom resource per bucket), for environments
   * that are destroyed (dev, pr-N). Requires `removalPolicy: RemovalPolicy.DESTROY`.
   * @default false
   */
  readonly autoDeleteObjects?: boolean;
  /** Noncurrent versions of media and static objects are kept this long. @default Duration.days(30) */
  readonly noncurrentVersionRetention?: Duration;
  /** Local folder of built static assets to deploy (invalidating `/*`). @default - nothing deployed */
  readonly staticAssetsPath?: string;
  /** Content-Security-Policy sent with the static site. @default see DEFAULT_CONTENT_SECURITY_POLICY */
  readonly contentSecurityPolicy?: string;
  /** Image pipeline bounds. @default - see ImageOptimizationOptions */
  readonly imageOptimization?: ImageOptimizationOptions;
  /** WAF settings. @default - see EdgeWafOptions */
  readonly waf?: EdgeWafOptions;
  /** How long S3 change events are gathered before one invalidation run. @default Duration.seconds(60) */
  readonly invalidationBatchWindow?: Duration;
}

export const DEFAULT_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self' wss:",
  "script-src 'self'",
  "style-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
  'upgrade-insecure-requests',
].join('; ');

export const DEFAULT_IMAGE_WIDTHS: readonly number[] = [160, 320, 480, 640, 750, 828, 1080, 1280, 1920, 2560];

/** Image options with every default applied. */
export type ResolvedImageOptions = Required<ImageOptimizationOptions>;

export function resolveImageOptions(options: ImageOptimizationOptions = {}): ResolvedImageOptions {
  return {
    widths: options.widths ?? DEFAULT_IMAGE_WIDTHS,
    maxHeight: options.maxHeight ?? 2560,
    maxInputPixels: options.maxInputPixels ?? 40_000_000,
    maxInputBytes: options.maxInputBytes ?? 26_214_400,
    minQuality: options.minQuality ?? 40,
    maxQuality: options.maxQuality ?? 90,
    defaultQuality: options.defaultQuality ?? 75,
    memorySize: options.memorySize ?? 2048,
    reservedConcurrency: options.reservedConcurrency ?? 50,
    transformedImageExpiration: options.transformedImageExpiration ?? Duration.days(30),
  };
}

export type ResolvedWafOptions = Required<EdgeWafOptions>;

export function resolveWafOptions(options: EdgeWafOptions = {}): ResolvedWafOptions {
  return {
    rateLimit: options.rateLimit ?? 2000,
    rateLimitWindow: options.rateLimitWindow ?? Duration.minutes(5),
    commonRuleSetCountOnly: options.commonRuleSetCountOnly ?? ['SizeRestrictions_BODY'],
  };
}
