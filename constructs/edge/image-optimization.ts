import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { bundledCode } from '../lambda/bundled-code';
import { EDGE_TTLS } from './edge-policies';
import { ResolvedImageOptions } from './edge-props';
import { sharpCopyCommands } from './sharp-bundle';

/** Viewer path prefix of the image behaviour: `/images/<media key>?width=&quality=`. */
export const IMAGE_PATH_PREFIX = '/images/';
/** Source of the viewer-request CloudFront Function. */
export const NORMALIZE_FUNCTION_FILE = path.join(__dirname, 'functions', 'normalize-image-request.js');
/** Largest body returned inline: 6 MB Lambda response payload, base64 (4/3) and headers leave ~4.5 MB. */
export const MAX_INLINE_RESPONSE_BYTES = 4_500_000;

/** The CONFIG object the CloudFront Function reads (same shape as the default in its source). */
export interface NormalizeFunctionConfig {
  readonly prefix: string;
  readonly widths: readonly number[];
  readonly minQuality: number;
  readonly maxQuality: number;
  readonly qualityStep: number;
  readonly defaultQuality: number;
  readonly maxKeyLength: number;
}

/** The function source with its CONFIG line replaced by `config`. */
export function normalizeFunctionCode(config: NormalizeFunctionConfig): string {
  const source = fs.readFileSync(NORMALIZE_FUNCTION_FILE, 'utf8');
  const pattern = /^var CONFIG = \{.*\};$/m;
  if (!pattern.test(source)) throw new Error(`${NORMALIZE_FUNCTION_FILE} has no single-line "var CONFIG = {...};" to configure`);
  return source.replace(pattern, () => `var CONFIG = ${JSON.stringify(config)};`);
}

/** Props of {@link ImageOptimization}. */
export interface ImageOptimizationProps {
  /** Originals (read). */
  readonly mediaBucket: s3.IBucket;
  /** Derived images (written by the Lambda, origin-group primary). */
  readonly transformedBucket: s3.IBucket;
  /** Key for the Lambda's log group. */
  readonly logKey: kms.IKey;
  /** Origin Shield region (the primary region). */
  readonly originShieldRegion: string;
  /** Bounds, with defaults applied. */
  readonly options: ResolvedImageOptions;
  /** Retention of the Lambda's logs. */
  readonly logRetention: logs.RetentionDays;
  /** Removal policy of the Lambda's log group. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * On-the-fly image optimization after the AWS image-optimization sample: a viewer-request CloudFront
 * Function normalizes the request; an origin group tries the transformed-images bucket first and falls
 * back (403/404/5xx) to a sharp Lambda behind a function URL with Origin Access Control, which
 * transforms the original and stores the result for the next miss.
 */
export class ImageOptimization extends Construct {
  readonly normalizeFunction: cloudfront.Function;
  readonly transformFunction: nodejs.NodejsFunction;
  readonly functionUrl: lambda.FunctionUrl;
  /** Origin group: transformed-images bucket, then the transform Lambda. */
  readonly origin: cloudfront.IOrigin;

  constructor(scope: Construct, id: string, props: ImageOptimizationProps) {
    super(scope, id);
    const o = props.options;

    this.normalizeFunction = new cloudfront.Function(this, 'NormalizeRequest', {
      comment: 'ConnectHub: negotiate image format, snap width, bound quality, drop the rest',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(normalizeFunctionCode({
        prefix: IMAGE_PATH_PREFIX,
        widths: o.widths,
        minQuality: o.minQuality,
        maxQuality: o.maxQuality,
        qualityStep: 5,
        defaultQuality: o.defaultQuality,
        maxKeyLength: 900,
      })),
    });

    const logGroup = new logs.LogGroup(this, 'TransformLogs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(this, 'TransformRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'ConnectHub image-transform Lambda: read originals, write transformed images, write its logs',
    });
    logGroup.grantWrite(role);

    this.transformFunction = new nodejs.NodejsFunction(this, 'Transform', {
      code: bundledCode({
        entry: path.join(__dirname, '..', '..', 'lambdas', 'image-transform', 'index.ts'),
        externalModules: ['@aws-sdk/*', 'sharp'],
        afterBundling: (outputDir) => sharpCopyCommands(outputDir),
      }),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      // sharp's linux-x64 binaries are the ones installed here (see sharp-bundle.ts).
      architecture: lambda.Architecture.X86_64,
      memorySize: o.memorySize,
      timeout: Duration.seconds(30),
      reservedConcurrentExecutions: o.reservedConcurrency,
      role,
      logGroup,
      description: 'ConnectHub image transformation (sharp): resize, AVIF/WebP/JPEG, store in the transformed bucket',
      environment: {
        MEDIA_BUCKET: props.mediaBucket.bucketName,
        TRANSFORMED_BUCKET: props.transformedBucket.bucketName,
        PATH_PREFIX: IMAGE_PATH_PREFIX,
        TRANSFORMED_CACHE_CONTROL: `public, max-age=${EDGE_TTLS.media.toSeconds()}`,
        ALLOWED_WIDTHS: o.widths.join(','),
        MAX_WIDTH: String(o.widths[o.widths.length - 1]),
        MAX_HEIGHT: String(o.maxHeight),
        MAX_INPUT_PIXELS: String(o.maxInputPixels),
        MAX_INPUT_BYTES: String(o.maxInputBytes),
        MAX_RESPONSE_BYTES: String(MAX_INLINE_RESPONSE_BYTES),
        MIN_QUALITY: String(o.minQuality),
        MAX_QUALITY: String(o.maxQuality),
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    props.mediaBucket.grantRead(this.transformFunction);
    props.transformedBucket.grantPut(this.transformFunction);

    this.functionUrl = this.transformFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

    const originShield = { originShieldRegion: props.originShieldRegion };
    this.origin = new origins.OriginGroup({
      primaryOrigin: origins.S3BucketOrigin.withOriginAccessControl(props.transformedBucket, originShield),
      fallbackOrigin: origins.FunctionUrlOrigin.withOriginAccessControl(this.functionUrl, {
        ...originShield,
        readTimeout: Duration.seconds(30),
      }),
      // 403: object absent (no ListBucket for CloudFront); 404 kept for safety; 5xx: S3 trouble.
      fallbackStatusCodes: [403, 404, 500, 502, 503, 504],
    });
  }
}
