/**
 * Partition maintenance and archival: an S3 archive bucket (KMS, TLS only, no public access, versioned, moved to
 * Glacier Flexible Retrieval then Deep Archive), the `lambdas/db-maintain` function in the VPC, and an EventBridge
 * schedule that runs it. The function runs pg_partman maintenance, exports each detached partition to the bucket in
 * slices, reads each back to verify, and drops the partition once every slice is verified; a large partition takes
 * several invocations (each stops between slices before its timeout and the next resumes). A failed slice keeps the
 * partition and the invocation fails (Lambda Errors metric, then the dead-letter queue).
 *
 * Stable construct ids: <id>/Key, <id>/ArchiveBucket, <id>/AccessLogsBucket (when no log bucket is given),
 * <id>/Handler, <id>/DeadLetterQueue, <id>/Schedule.
 */
import * as path from 'path';
import * as fs from 'fs';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { IAuroraRegionalCluster } from './aurora-global-database';
import { acknowledgeDefaultPolicy, DatabaseFunction } from './database-function';
import { PropsProblems } from './props-validation';

const REPO_ROOT = path.join(__dirname, '..', '..');

export interface PartitionMaintenanceProps {
  /** VPC of the cluster. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the function; they need a route to Secrets Manager and S3 (NAT or endpoints).
   * @default - the VPC's private subnets with egress (`PRIVATE_WITH_EGRESS`)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The primary region's cluster (maintenance creates and drops partitions on the writer). */
  readonly database: IAuroraRegionalCluster;
  /** Secret (username/password JSON) maintenance runs as. */
  readonly secret: secretsmanager.ISecret;
  /** Database the schema lives in. */
  readonly databaseName: string;
  /**
   * How often maintenance runs (whole minutes, at least 5 minutes, at most 7 days). Each run archives what fits in
   * one invocation (about 40 million rows at the rate measured in docs/database.md), so the schedule bounds the
   * archival throughput: hourly is about a billion rows a day, enough for a month of messages at the launch peak
   * (2.6 billion) within three days; daily would fall behind.
   * @default Duration.hours(1)
   */
  readonly schedule?: Duration;
  /**
   * Rows per archive slice (one S3 object each; 1,000 to 100,000,000). A slice must fit in one invocation with room
   * to spare: at ~48,000 rows/s, 1,000,000 rows take about 20 s.
   * @default 1000000
   */
  readonly archiveSliceRows?: number;
  /**
   * Time left in an invocation below which no new slice is started (whole seconds, at least 10 s, less than the
   * timeout minus one minute). It must cover the slowest slice.
   * @default Duration.minutes(2)
   */
  readonly archiveSafetyMargin?: Duration;
  /**
   * Key prefix of the archived partitions in the bucket.
   * @default 'partitions/'
   */
  readonly archivePrefix?: string;
  /**
   * Days after which archived objects move to Glacier Flexible Retrieval.
   * @default Duration.days(30)
   */
  readonly transitionToGlacierAfter?: Duration;
  /**
   * Days after which archived objects move to Glacier Deep Archive (after the Glacier transition, at least 90 days later).
   * @default Duration.days(180)
   */
  readonly transitionToDeepArchiveAfter?: Duration;
  /**
   * Bucket that receives the archive bucket's server access logs.
   * @default - a dedicated access-log bucket is created
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /**
   * What happens to the bucket(s), key and logs when they leave the stack. DESTROY also empties the buckets (dev, pr-N).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Function timeout (at most 15 minutes).
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /**
   * Function memory in MiB.
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Retention of the function logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Handler source.
   * @default `<repo>/lambdas/db-maintain/index.ts`
   */
  readonly entry?: string;
}

export class PartitionMaintenance extends Construct {
  /** The archive bucket. */
  readonly archiveBucket: s3.Bucket;
  /** Key of the archive (objects), the dead-letter queue and the function logs. */
  readonly key: kms.Key;
  /** The maintenance function. */
  readonly handler: DatabaseFunction;
  /** The schedule. */
  readonly rule: events.Rule;
  /** Failed invocations (after the retries) land here. */
  readonly deadLetterQueue: sqs.Queue;
  /** Key prefix of the archived partitions. */
  readonly archivePrefix: string;

  constructor(scope: Construct, id: string, props: PartitionMaintenanceProps) {
    super(scope, id);
    const schedule = props.schedule ?? Duration.hours(1);
    const sliceRows = props.archiveSliceRows ?? 1_000_000;
    const safetyMargin = props.archiveSafetyMargin ?? Duration.minutes(2);
    const archivePrefix = props.archivePrefix ?? 'partitions/';
    const glacierAfter = props.transitionToGlacierAfter ?? Duration.days(30);
    const deepArchiveAfter = props.transitionToDeepArchiveAfter ?? Duration.days(180);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const timeout = props.timeout ?? Duration.minutes(15);
    const memorySize = props.memorySize ?? 1024;
    const entry = props.entry ?? path.join(REPO_ROOT, 'lambdas', 'db-maintain', 'index.ts');

    const problems = new PropsProblems(`PartitionMaintenance "${this.node.path}"`);
    problems.check(props.database.role === 'primary', 'database', props.database.clusterIdentifier,
      'the primary region\'s cluster (AuroraGlobalPrimary): maintenance writes to the writer');
    const minutes = schedule.toMinutes({ integral: false });
    problems.check(Number.isInteger(minutes) && minutes >= 5 && minutes <= 7 * 24 * 60, 'schedule', schedule,
      'a whole number of minutes from 5 minutes to 7 days');
    problems.check(/^([A-Za-z0-9!_.*'()-]+\/)*$/.test(archivePrefix), 'archivePrefix', archivePrefix,
      'empty or "/"-terminated path segments of S3-safe characters, e.g. "partitions/"');
    const glacierDays = glacierAfter.toDays({ integral: false });
    const deepDays = deepArchiveAfter.toDays({ integral: false });
    problems.check(Number.isInteger(glacierDays) && glacierDays >= 0, 'transitionToGlacierAfter', glacierAfter, 'a whole number of days');
    problems.check(Number.isInteger(deepDays) && deepDays >= glacierDays + 90, 'transitionToDeepArchiveAfter', deepArchiveAfter,
      `a whole number of days, at least 90 days after transitionToGlacierAfter (${glacierDays} days): Glacier's minimum storage duration`);
    problems.check([RemovalPolicy.RETAIN, RemovalPolicy.DESTROY].includes(removalPolicy), 'removalPolicy', removalPolicy,
      'RETAIN or DESTROY (buckets and keys have no snapshots)');
    problems.check(timeout.toSeconds() >= 60 && timeout.toSeconds() <= 900, 'timeout', timeout, 'from 1 to 15 minutes');
    problems.integerInRange('memorySize', memorySize, 256, 10240);
    problems.integerInRange('archiveSliceRows', sliceRows, 1000, 100_000_000);
    const marginSeconds = safetyMargin.toSeconds({ integral: false });
    problems.check(Number.isInteger(marginSeconds) && marginSeconds >= 10 && marginSeconds <= timeout.toSeconds() - 60, 'archiveSafetyMargin', safetyMargin,
      `whole seconds from 10 seconds to the timeout minus one minute (${timeout.toSeconds() - 60} seconds), leaving time for slices`);
    problems.check(fs.existsSync(entry), 'entry', entry, 'an existing handler source file');
    problems.throwIfAny();

    this.archivePrefix = archivePrefix;
    const destroy = removalPolicy === RemovalPolicy.DESTROY;

    this.key = new kms.Key(this, 'Key', {
      description: 'Partition archive: archived objects, dead-letter queue, maintenance logs',
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(30),
    });
    this.key.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${Stack.of(this).region}.amazonaws.com`));

    const accessLogs = props.serverAccessLogsBucket ?? this.createAccessLogsBucket(removalPolicy);

    this.archiveBucket = new s3.Bucket(this, 'ArchiveBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'partition-archive/',
      lifecycleRules: [
        {
          id: 'archive-to-glacier',
          prefix: archivePrefix || undefined,
          transitions: [
            { storageClass: s3.StorageClass.GLACIER, transitionAfter: glacierAfter },
            { storageClass: s3.StorageClass.DEEP_ARCHIVE, transitionAfter: deepArchiveAfter },
          ],
          noncurrentVersionTransitions: [{ storageClass: s3.StorageClass.GLACIER, transitionAfter: Duration.days(30) }],
          noncurrentVersionExpiration: Duration.days(365),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
    Validations.of(this.archiveBucket).acknowledge({
      id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
      reason: 'Archived partitions are a copy of data already held in the Aurora global database (replicated to every region) until verified; versioning protects the copy. Cross-region replication of cold archives is not required by the plan.',
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue IS the dead-letter queue of the maintenance function.',
    });

    this.handler = new DatabaseFunction(this, 'Handler', {
      entry,
      description: 'ConnectHub partition maintenance and archival',
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      database: props.database,
      secret: props.secret,
      databaseName: props.databaseName,
      encryptionKey: this.key,
      logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      logRemovalPolicy: removalPolicy,
      timeout,
      memorySize,
      deadLetterQueue: this.deadLetterQueue,
      // Maintenance is idempotent; one retry covers a transient failure, the next schedule covers the rest.
      retryAttempts: 1,
      environment: {
        ARCHIVE_BUCKET: this.archiveBucket.bucketName,
        ARCHIVE_PREFIX: archivePrefix,
        ARCHIVE_KMS_KEY_ARN: this.key.keyArn,
        ARCHIVE_SLICE_ROWS: String(sliceRows),
        ARCHIVE_SAFETY_MARGIN_SECONDS: String(marginSeconds),
      },
    });
    // Write the exports (multipart included) and read them back to verify; no delete, no listing of the whole bucket.
    this.archiveBucket.grantPut(this.handler.function, `${archivePrefix}*`);
    this.archiveBucket.grantRead(this.handler.function, `${archivePrefix}*`);
    const role = this.handler.function.role!;
    acknowledgeDefaultPolicy(role);
    const defaultPolicy = role.node.findChild('DefaultPolicy');
    Validations.of(defaultPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.archiveBucket.node.defaultChild as s3.CfnBucket)}.Arn>/${archivePrefix}*]`,
      reason: `Object access is limited to the archive prefix "${archivePrefix}"; partition object names are only known when a partition is detached.`,
    });
    const grantActions: Record<string, string> = {
      's3:GetObject*': 'read-back verification of an export (GetObject and its version/ACL variants) under the archive prefix',
      's3:GetBucket*': 'bucket metadata read by grantRead on the archive bucket only',
      's3:List*': 'listing the archive bucket only (grantRead), to find an export before verifying it',
      's3:Abort*': 'aborting a failed multipart export under the archive prefix',
      'kms:GenerateDataKey*': 'SSE-KMS data keys from the archive\'s own key for the exports',
      'kms:ReEncrypt*': 'SSE-KMS on the archive\'s own key (from the CDK grant)',
    };
    for (const [action, why] of Object.entries(grantActions)) {
      Validations.of(defaultPolicy).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason: `From CDK grantRead/grantPut: ${why}.` });
    }

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'ConnectHub partition maintenance (pg_partman, export, verify, drop)',
      schedule: events.Schedule.rate(schedule),
      targets: [new targets.LambdaFunction(this.handler.function, { retryAttempts: 2, maxEventAge: Duration.hours(2) })],
    });
  }

  private createAccessLogsBucket(removalPolicy: RemovalPolicy): s3.Bucket {
    // S3 server access logs can only be delivered to a bucket with SSE-S3 (not SSE-KMS).
    const bucket = new s3.Bucket(this, 'AccessLogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the server-access-log sink of the archive bucket; logging it into itself would loop.',
    });
    Validations.of(bucket).acknowledge({
      id: 'NIST.800.53.R5-S3BucketLoggingEnabled',
      reason: 'This bucket is the server-access-log sink of the archive bucket; logging it into itself would loop.',
    });
    Validations.of(bucket).acknowledge({
      id: 'NIST.800.53.R5-S3DefaultEncryptionKMS',
      reason: 'S3 delivers server access logs only to buckets encrypted with SSE-S3; SSE-KMS targets are not supported.',
    });
    Validations.of(bucket).acknowledge({
      id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
      reason: 'Access logs of the archive bucket are kept for a year in-region; replicating them adds no recovery value.',
    });
    return bucket;
  }
}

