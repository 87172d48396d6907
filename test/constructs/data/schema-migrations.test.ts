import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AuroraGlobalPrimary, AuroraGlobalSecondary } from '../../../constructs/data/aurora-global-database';
import { hashDirectory, SchemaMigrations } from '../../../constructs/data/schema-migrations';
import { NagFinding, nagFindings, newApp, newStack, testVpc } from './test-support';

const REPO = path.join(__dirname, '..', '..', '..');
const MIGRATIONS = path.join(REPO, 'database', 'migrations');

let prod: Template;
let dev: Template;
let assemblyDir: string;
let migrations: SchemaMigrations;
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

beforeAll(() => {
  const app = newApp();
  const prodStack = newStack(app, 'Prod');
  const prodDb = primary(prodStack, RemovalPolicy.SNAPSHOT);
  migrations = new SchemaMigrations(prodStack, 'Schema', {
    vpc: prodDb.cluster.vpc,
    database: prodDb,
    secret: prodDb.secret,
    databaseName: prodDb.databaseName,
  });
  const workload = new ec2.SecurityGroup(prodStack, 'Workload', { vpc: prodDb.cluster.vpc });
  workload.node.addDependency(migrations);

  const devStack = newStack(app, 'Dev');
  const devDb = primary(devStack, RemovalPolicy.DESTROY);
  new SchemaMigrations(devStack, 'Schema', {
    vpc: devDb.cluster.vpc,
    database: devDb,
    secret: devDb.secret,
    databaseName: devDb.databaseName,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  assemblyDir = app.synth().directory;
  prod = Template.fromStack(prodStack);
  dev = Template.fromStack(devStack);
  findings = nagFindings(prodStack, devStack);
});

test('custom resource carries the hash of the migrations folder, so a new migration is an Update', () => {
  expect(migrations.migrationsHash).toBe(hashDirectory(MIGRATIONS));
  expect(migrations.migrationsHash).toMatch(/^[0-9a-f]{64}$/);
  prod.hasResourceProperties('Custom::ConnectHubSchemaMigrations', {
    ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SchemaProviderframeworkonEvent'), 'Arn'] },
    MigrationsHash: migrations.migrationsHash,
    DatabaseName: 'connecthub',
    ClusterIdentifier: 'connecthub-prod-us-east-1',
  });
});

test('the resource waits for the cluster and its instances; workloads can wait for the resource', () => {
  const [id, resource] = Object.entries(prod.findResources('Custom::ConnectHubSchemaMigrations'))[0];
  expect(resource.DependsOn).toEqual(expect.arrayContaining(['AuroraClusterD4EFE71C', 'AuroraClusterWriter398336D3', 'AuroraClusterReader155F95274']));
  const workload = Object.values(prod.findResources('AWS::EC2::SecurityGroup')).find((r) => (r.DependsOn ?? []).includes(id));
  expect(workload).toBeDefined();
});

test('handler: Node.js 22 on arm64, in the private subnets, DB_* environment of the contract, KMS-encrypted environment', () => {
  prod.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'nodejs22.x',
    Architectures: ['arm64'],
    Handler: 'index.handler',
    Timeout: 600,
    KmsKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SchemaKey'), 'Arn'] },
    VpcConfig: Match.objectLike({ SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^VpcappSubnet') }]) }),
    Environment: {
      Variables: Match.objectLike({
        DB_HOST: { 'Fn::GetAtt': ['AuroraClusterD4EFE71C', 'Endpoint.Address'] },
        DB_PORT: '5432',
        DB_NAME: 'connecthub',
        DB_SECRET_ARN: { Ref: Match.stringLikeRegexp('AuroraClusterSecret') },
        DB_SSL: 'require',
        NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
        NODE_OPTIONS: '--enable-source-maps',
      }),
    },
  });
});

test('the bundle (local esbuild) ships the migrations folder next to index.js as migrations/', () => {
  const fn = Object.values(prod.findResources('AWS::Lambda::Function')).find((r) => r.Properties.Environment?.Variables?.DB_SSL);
  const assetHash = String(fn!.Properties.Code.S3Key).replace(/\.zip$/, '');
  const bundle = path.join(assemblyDir, `asset.${assetHash}`);
  expect(fs.existsSync(path.join(bundle, 'index.js'))).toBe(true);
  const shipped = fs.readdirSync(path.join(bundle, 'migrations')).sort();
  expect(shipped).toEqual(fs.readdirSync(MIGRATIONS).sort());
  expect(shipped.length).toBeGreaterThan(0);
  for (const file of shipped) {
    expect(fs.readFileSync(path.join(bundle, 'migrations', file), 'utf8')).toBe(fs.readFileSync(path.join(MIGRATIONS, file), 'utf8'));
  }
  // The handler hashes the folder it carries to recognise a rollback's old properties: it must match the resource's hash.
  expect(hashDirectory(path.join(bundle, 'migrations'))).toBe(migrations.migrationsHash);
  // The runtime provides the AWS SDK (left external); pg is bundled in.
  const code = fs.readFileSync(path.join(bundle, 'index.js'), 'utf8');
  expect(code).toContain('require("@aws-sdk/client-secrets-manager")');
  expect(code).not.toContain('require("pg")');
});

test('the master secret is readable by the handler only through a grant on that secret', () => {
  prod.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('^SchemaHandlerFunctionServiceRole') }],
    PolicyDocument: {
      Statement: Match.arrayWith([Match.objectLike({
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: { Ref: 'AuroraClusterSecretAttachmentA6390515' },
      })]),
    },
  });
});

test('handler security group: egress only to the cluster port and HTTPS; the cluster admits it on 5432', () => {
  prod.hasResourceProperties('AWS::EC2::SecurityGroup', {
    GroupDescription: Match.stringLikeRegexp('^ConnectHub schema migrations'),
    SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' })],
  });
  prod.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
    GroupId: { 'Fn::GetAtt': ['AuroraClusterSecurityGroupF9876682', 'GroupId'] },
    SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SchemaHandlerSecurityGroup'), 'GroupId'] },
    FromPort: 5432,
    ToPort: 5432,
  });
});

test('logs: KMS-encrypted with retention; retained in prod, destroyed in dev', () => {
  prod.hasResource('AWS::Logs::LogGroup', {
    Properties: { KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SchemaKey'), 'Arn'] }, RetentionInDays: 90 },
    DeletionPolicy: 'Retain',
  });
  dev.hasResource('AWS::Logs::LogGroup', {
    Properties: { KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SchemaKey'), 'Arn'] }, RetentionInDays: 90 },
    DeletionPolicy: 'Delete',
  });
  dev.hasResource('AWS::KMS::Key', { Properties: Match.objectLike({ Description: Match.stringLikeRegexp('^Schema migrations') }), DeletionPolicy: 'Delete' });
});

test('cdk-nag AwsSolutions and NIST 800-53 r5: no unacknowledged findings', () => {
  expect(findings).toEqual([]);
});

test('hashDirectory changes when a migration is added or edited, and not otherwise', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ch-migrations-'));
  try {
    fs.writeFileSync(path.join(dir, '0001_a.sql'), 'CREATE TABLE a (id int);');
    const first = hashDirectory(dir);
    expect(hashDirectory(dir)).toBe(first);
    fs.writeFileSync(path.join(dir, '0002_b.sql'), 'CREATE TABLE b (id int);');
    const second = hashDirectory(dir);
    expect(second).not.toBe(first);
    fs.writeFileSync(path.join(dir, '0002_b.sql'), 'CREATE TABLE b (id bigint);');
    expect(hashDirectory(dir)).not.toBe(second);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('validation: migrations need the primary, an existing folder and a sane timeout', () => {
  const app = newApp();
  const stack = newStack(app, 'Bad', 'eu-west-1');
  const secondary = new AuroraGlobalSecondary(stack, 'Aurora', {
    vpc: testVpc(stack),
    globalClusterIdentifier: 'connecthub-bad',
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.R6G, ec2.InstanceSize.LARGE),
    readers: 1,
    backupRetention: Duration.days(1),
    removalPolicy: RemovalPolicy.DESTROY,
    deletionProtection: false,
  });
  const primaryOfOtherStack = newStack(app, 'Other');
  const other = primary(primaryOfOtherStack, RemovalPolicy.DESTROY);
  expect(() => new SchemaMigrations(stack, 'Schema', {
    vpc: secondary.cluster.vpc,
    database: secondary,
    secret: other.secret,
    databaseName: 'connecthub',
    migrationsDirectory: 'relative/dir',
    timeout: Duration.minutes(20),
  })).toThrow(/database = "connecthub-bad-eu-west-1": the primary region's cluster[\s\S]*migrationsDirectory = "relative\/dir"[\s\S]*timeout = 20 minutes: from 1 to 15 minutes/);
});
