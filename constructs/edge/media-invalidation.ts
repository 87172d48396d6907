import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { bundledCode } from '../lambda/bundled-code';

/** Media keys that trigger invalidation (the `/media/*` behaviour maps URI = key). */
export const MEDIA_KEY_PREFIX = 'media/';

/** Props of {@link MediaInvalidation}. */
export interface MediaInvalidationProps {
  readonly distribution: cloudfront.IDistribution;
  /** Bucket whose changed objects are invalidated; its S3 events must go to EventBridge. */
  readonly mediaBucket: s3.IBucket;
  /** Bucket of derived images, purged for changed originals. */
  readonly transformedBucket: s3.IBucket;
  /** Viewer prefix of the derived images, without the leading slash (`images/`). */
  readonly imageKeyPrefix: string;
  /** Key of the queues and the log group. */
  readonly key: kms.IKey;
  /** How long events are gathered before one run. */
  readonly batchWindow: Duration;
  readonly logRetention: logs.RetentionDays;
  /** Removal policy of the log group. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Removal policy of the queue and the dead-letter queue (they hold pending invalidations). @default RemovalPolicy.RETAIN */
  readonly queueRemovalPolicy?: RemovalPolicy;
}

/**
 * Replaced or deleted media → EventBridge rule → SQS (batched) → Lambda that purges derived images and
 * calls CreateInvalidation (only that action, only on this distribution). Failed batches are retried by
 * SQS and land in a dead-letter queue after 5 attempts.
 */
export class MediaInvalidation extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly function: nodejs.NodejsFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: MediaInvalidationProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.queueRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      // At least 6x the function timeout (AWS guidance for SQS event sources).
      visibilityTimeout: Duration.minutes(6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
      removalPolicy: props.queueRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // EventBridge delivers to the KMS-encrypted queue only if the key lets it (scoped to this account).
    props.key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }));

    this.rule = new events.Rule(this, 'MediaChanged', {
      description: 'ConnectHub: media object created or deleted → invalidation queue',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created', 'Object Deleted'],
        detail: {
          bucket: { name: [props.mediaBucket.bucketName] },
          object: { key: [{ prefix: MEDIA_KEY_PREFIX }] },
        },
      },
      targets: [new targets.SqsQueue(this.queue)],
    });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.key,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'ConnectHub media invalidation: list media versions, purge derived images, invalidate the distribution',
    });
    logGroup.grantWrite(role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      code: bundledCode({ entry: path.join(__dirname, '..', '..', 'lambdas', 'media-invalidation', 'index.ts'), externalModules: ['@aws-sdk/*'] }),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(1),
      // One batch at a time keeps CreateInvalidation under CloudFront's in-progress quotas.
      reservedConcurrentExecutions: 2,
      role,
      logGroup,
      description: 'ConnectHub: batch CloudFront invalidations for replaced or deleted media',
      environment: {
        DISTRIBUTION_ID: props.distribution.distributionId,
        TRANSFORMED_BUCKET: props.transformedBucket.bucketName,
        IMAGE_PREFIX: props.imageKeyPrefix,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    this.function.addEventSource(new SqsEventSource(this.queue, {
      batchSize: 1000,
      maxBatchingWindow: props.batchWindow,
      maxConcurrency: 2,
    }));

    props.distribution.grantCreateInvalidation(this.function);
    // Overwrite detection: an earlier version of the key means viewers may hold the old bytes.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:ListBucketVersions'],
      resources: [props.mediaBucket.bucketArn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [props.transformedBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${props.imageKeyPrefix}*`] } },
    }));
    props.transformedBucket.grantDelete(this.function, `${props.imageKeyPrefix}*`);
  }
}
