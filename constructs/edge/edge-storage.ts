import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Props of {@link EdgeStorage}. */
export interface EdgeStorageProps {
  /** Removal policy of the key and the media/static buckets. */
  readonly removalPolicy: RemovalPolicy;
  /** Empty the buckets when they are deleted (needs `removalPolicy` DESTROY: dev and pr-N). */
  readonly autoDeleteObjects: boolean;
  /** Access-log retention: lifecycle expiry of the log bucket. */
  readonly logRetention: logs.RetentionDays;
  /** Noncurrent object versions kept this long in the media and static buckets. */
  readonly noncurrentVersionRetention: Duration;
  /** Expiry of objects in the transformed-images bucket. */
  readonly transformedImageExpiration: Duration;
}

/**
 * The edge's stateful storage: a KMS key, the media bucket (originals, video), the static-assets
 * bucket, the transformed-images bucket (a cache, with expiry) and the access-log bucket.
 * Construct ids here are pinned by tests: renaming one replaces a bucket.
 */
export class EdgeStorage extends Construct {
  /** Customer-managed key of the media, static and transformed buckets, the Lambda logs and the queue. */
  readonly key: kms.Key;
  /** Originals uploaded by users under `media/` (images, video). Versioned. */
  readonly mediaBucket: s3.Bucket;
  /** Built web assets (default behaviour). Versioned. */
  readonly staticBucket: s3.Bucket;
  /** Derived images (origin-group primary), expiring. */
  readonly transformedBucket: s3.Bucket;
  /** CloudFront standard logs and S3 server access logs (SSE-S3: those log deliveries cannot use SSE-KMS). */
  readonly logBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: EdgeStorageProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.key = new kms.Key(this, 'Key', {
      description: 'ConnectHub edge: media, static and transformed buckets, edge Lambda logs, invalidation queue',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    // CloudWatch Logs encrypts the edge log groups with this key (scoped to this account's log groups).
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
      },
    }));

    this.logBucket = new s3.Bucket(this, 'AccessLogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // CloudFront standard logging writes with ACLs (awslogsdelivery), so ACLs must stay enabled here.
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      versioned: true,
      lifecycleRules: [{
        id: 'expire-access-logs',
        expiration: Duration.days(props.logRetention),
        noncurrentVersionExpiration: Duration.days(1),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: props.autoDeleteObjects,
    });

    const common = {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logBucket,
    } as const;

    this.mediaBucket = new s3.Bucket(this, 'MediaBucket', {
      ...common,
      serverAccessLogsPrefix: 's3/media/',
      versioned: true,
      lifecycleRules: [{
        id: 'expire-noncurrent-media',
        noncurrentVersionExpiration: props.noncurrentVersionRetention,
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      }],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: props.autoDeleteObjects,
    });

    // S3 → EventBridge natively (no notification custom resource): feeds the media invalidation.
    (this.mediaBucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };

    this.staticBucket = new s3.Bucket(this, 'StaticAssetsBucket', {
      ...common,
      serverAccessLogsPrefix: 's3/static/',
      versioned: true,
      lifecycleRules: [{
        id: 'expire-noncurrent-static',
        noncurrentVersionExpiration: props.noncurrentVersionRetention,
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: props.autoDeleteObjects,
    });

    this.transformedBucket = new s3.Bucket(this, 'TransformedImagesBucket', {
      ...common,
      serverAccessLogsPrefix: 's3/transformed/',
      lifecycleRules: [{
        id: 'expire-transformed-images',
        expiration: props.transformedImageExpiration,
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: props.autoDeleteObjects,
    });
  }
}
