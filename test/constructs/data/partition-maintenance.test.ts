import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AuroraGlobalPrimary } from '../../../constructs/data/aurora-global-database';
import { PartitionMaintenance, PartitionMaintenanceProps } from '../../../constructs/data/partition-maintenance';
import { NagFinding, nagFindings, newApp, newStack, testVpc } from './test-support';

let prod: Template;
let dev: Template;
let findings: NagFinding[];

function primary(stack: Stack, removalPolicy: RemovalPolicy): AuroraGlobalPrimary {
  return new AuroraGlobalPrimary(stack, 'Aurora', {
    vpc: testVpc(stack),
    globalClusterIdentifier: `connecthub-${stack.stackName.toLowerCase()}`,
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.R6G, ec2.InstanceSize.LARGE),
    readers: 1,
    backupRetention: Duration.days(removalPolicy === RemovalPolicy.DESTROY ? 1 : 35),
    removalPolicy,
    deletionProtection: removalPolicy !== RemovalPolicy.DESTROY,
  });
}

function props(db: AuroraGlobalPrimary, overrides: Partial<PartitionMaintenanceProps> = {}): PartitionMaintenanceProps {
  return { vpc: db.cluster.vpc, database: db, secret: db.secret, databaseName: db.databaseName, ...overrides };
}

beforeAll(() => {
  const app = newApp();
  const prodStack = newStack(app, 'Prod');
  const prodDb = primary(prodStack, RemovalPolicy.SNAPSHOT);
  new PartitionMaintenance(prodStack, 'Partitions', props(prodDb));

  const devStack = newStack(app, 'Dev');
  const devDb = primary(devStack, RemovalPolicy.DESTROY);
  const logs = new s3.Bucket(devStack, 'SharedAccessLogs', { enforceSSL: true });
  const devMaintenance = new PartitionMaintenance(devStack, 'Partitions', props(devDb, {
    removalPolicy: RemovalPolicy.DESTROY,
    schedule: Duration.hours(6),
    serverAccessLogsBucket: logs,
    archivePrefix: 'dev/partitions/',
    archiveSliceRows: 250_000,
    archiveSafetyMargin: Duration.seconds(90),
  }));
  prod = Template.fromStack(prodStack);
  dev = Template.fromStack(devStack);
  // The dev stack's shared log bucket is test scaffolding: check the dev stack's data constructs, not it.
  findings = nagFindings(prodStack, devDb, devMaintenance);
});

test('archive bucket: KMS (own key), TLS only, no public access, versioned, access logs to its own log bucket, retained', () => {
  prod.hasResource('AWS::S3::Bucket', {
    Properties: Match.objectLike({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PartitionsKey'), 'Arn'] } },
        }],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^PartitionsAccessLogsBucket') }, LogFilePrefix: 'partition-archive/' },
    }),
    DeletionPolicy: 'Retain',
  });
  const policies = Object.values(prod.findResources('AWS::S3::BucketPolicy'));
  const archivePolicy = policies.find((p) => JSON.stringify(p.Properties.Bucket).includes('PartitionsArchiveBucket'));
  expect(JSON.stringify(archivePolicy)).toContain('"aws:SecureTransport":"false"');
});

test('stateful logical ids are pinned (a change would replace the archive or its key)', () => {
  expect(Object.keys(prod.findResources('AWS::S3::Bucket')).sort()).toEqual(['PartitionsAccessLogsBucket00E62315', 'PartitionsArchiveBucketF171094D']);
  expect(Object.keys(prod.findResources('AWS::KMS::Key'))).toContain('PartitionsKeyCDA829AA');
});

test('lifecycle: Glacier after 30 days, Deep Archive after 180 days, incomplete uploads aborted', () => {
  prod.hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: {
      Rules: Match.arrayWith([
        Match.objectLike({
          Id: 'archive-to-glacier',
          Prefix: 'partitions/',
          Status: 'Enabled',
          Transitions: [
            { StorageClass: 'GLACIER', TransitionInDays: 30 },
            { StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 180 },
          ],
        }),
        Match.objectLike({ Id: 'abort-incomplete-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }),
      ]),
    },
  });
});

test('hourly EventBridge schedule by default (archival resumes each run), every 6 hours when asked, targeting the function', () => {
  prod.hasResourceProperties('AWS::Events::Rule', {
    ScheduleExpression: 'rate(1 hour)',
    State: 'ENABLED',
    Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PartitionsHandlerFunction'), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 } })],
  });
  dev.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)' });
});

test('function: Node.js 22 arm64 in the VPC with the DB_* and ARCHIVE_* environment, a KMS dead-letter queue', () => {
  prod.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'nodejs22.x',
    Architectures: ['arm64'],
    Timeout: 900,
    MemorySize: 1024,
    VpcConfig: Match.objectLike({ SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^VpcappSubnet') }]) }),
    DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PartitionsDeadLetterQueue'), 'Arn'] } },
    Environment: {
      Variables: Match.objectLike({
        DB_HOST: { 'Fn::GetAtt': ['AuroraClusterD4EFE71C', 'Endpoint.Address'] },
        DB_PORT: '5432',
        DB_NAME: 'connecthub',
        DB_SECRET_ARN: { Ref: 'AuroraClusterSecretAttachmentA6390515' },
        DB_SSL: 'require',
        ARCHIVE_BUCKET: { Ref: Match.stringLikeRegexp('^PartitionsArchiveBucket') },
        ARCHIVE_PREFIX: 'partitions/',
        ARCHIVE_KMS_KEY_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PartitionsKey'), 'Arn'] },
        ARCHIVE_SLICE_ROWS: '1000000',
        ARCHIVE_SAFETY_MARGIN_SECONDS: '120',
      }),
    },
  });
  prod.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 1 });
  prod.hasResourceProperties('AWS::SQS::Queue', {
    KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PartitionsKey'), 'Arn'] },
    MessageRetentionPeriod: 1209600,
  });
});

test('grants: write and read back under the archive prefix only, the secret, no delete', () => {
  const policy = Object.values(prod.findResources('AWS::IAM::Policy'))
    .find((p) => JSON.stringify(p.Properties.Roles).includes('PartitionsHandlerFunctionServiceRole'))!;
  const statements = policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>;
  const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
  expect(actions).toEqual(expect.arrayContaining(['s3:PutObject', 's3:GetObject*', 'kms:Decrypt', 'kms:GenerateDataKey*', 'secretsmanager:GetSecretValue']));
  expect(actions.some((a) => a.startsWith('s3:Delete'))).toBe(false);
  const objectResources = JSON.stringify(statements.filter((s) => JSON.stringify(s.Action).includes('s3:PutObject')).map((s) => s.Resource));
  expect(objectResources).toContain('/partitions/*');
});

test('dev-like: buckets, key, queue and logs are destroyed (bucket emptied first); a given log bucket is used', () => {
  dev.hasResource('AWS::S3::Bucket', {
    Properties: Match.objectLike({
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^SharedAccessLogs') }, LogFilePrefix: 'partition-archive/' },
    }),
    DeletionPolicy: 'Delete',
  });
  dev.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  dev.hasResource('AWS::KMS::Key', { Properties: Match.objectLike({ Description: Match.stringLikeRegexp('^Partition archive') }), DeletionPolicy: 'Delete' });
  dev.hasResource('AWS::SQS::Queue', { DeletionPolicy: 'Delete' });
  expect(Object.keys(dev.findResources('AWS::S3::Bucket')).some((id) => id.startsWith('PartitionsAccessLogsBucket'))).toBe(false);
  dev.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ ARCHIVE_PREFIX: 'dev/partitions/', ARCHIVE_SLICE_ROWS: '250000', ARCHIVE_SAFETY_MARGIN_SECONDS: '90' }) },
  });
});

test('cdk-nag AwsSolutions and NIST 800-53 r5: no unacknowledged findings', () => {
  expect(findings).toEqual([]);
});

test('validation lists every problem', () => {
  const app = newApp();
  const stack = newStack(app, 'Bad');
  const db = primary(stack, RemovalPolicy.DESTROY);
  expect(() => new PartitionMaintenance(stack, 'Partitions', props(db, {
    schedule: Duration.minutes(2),
    archivePrefix: '/no-leading-slash',
    transitionToGlacierAfter: Duration.days(30),
    transitionToDeepArchiveAfter: Duration.days(60),
    removalPolicy: RemovalPolicy.SNAPSHOT,
    timeout: Duration.minutes(5),
    archiveSliceRows: 500,
    archiveSafetyMargin: Duration.minutes(5),
  }))).toThrow(/schedule = 2 minutes[\s\S]*archivePrefix = "\/no-leading-slash"[\s\S]*transitionToDeepArchiveAfter = 60 days: a whole number of days, at least 90 days after[\s\S]*removalPolicy = "snapshot": RETAIN or DESTROY[\s\S]*archiveSliceRows = 500: an integer from 1000 to 100000000[\s\S]*archiveSafetyMargin = 5 minutes: whole seconds from 10 seconds to the timeout minus one minute \(240 seconds\)/);
});
