/**
 * Applies the SQL migrations at deploy time: a CloudFormation custom resource backed by `lambdas/db-migrate`
 * (custom_resources.Provider). The function runs in the VPC, reads the master secret, connects to the primary's
 * writer over TLS and applies pending migrations, each in a transaction; on failure the deploy fails with the file and
 * statement, and the schema stays at the previous version.
 *
 * The resource's properties carry a SHA-256 of the migrations folder, so adding or changing a migration is an Update
 * of the resource (and a new bundle, which ships the folder as `migrations/` next to the handler). The handler hashes
 * the folder it carries the same way: an event whose hash differs is a rollback sending the old properties to the new
 * code, and it succeeds without migrating (migrations are forward-only).
 * Make workloads wait for the schema with `workload.node.addDependency(schemaMigrations)`.
 *
 * Stable construct ids: <id>/Resource (the custom resource; physical id `connecthub-schema`), <id>/Handler,
 * <id>/Provider, <id>/Key.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CfnResource, CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { hashMigrationsDirectory } from '../../database/migrations-hash';
import { IAuroraRegionalCluster } from './aurora-global-database';
import { acknowledgeDefaultPolicy, DatabaseFunction } from './database-function';
import { PropsProblems } from './props-validation';

/** Repository root, seen from this file (constructs/data). */
const REPO_ROOT = path.join(__dirname, '..', '..');

export interface SchemaMigrationsProps {
  /** VPC of the cluster. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the migration function; they need a route to Secrets Manager (NAT or an interface endpoint).
   * @default - the VPC's private subnets with egress (`PRIVATE_WITH_EGRESS`)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The primary region's cluster (migrations need the writer). */
  readonly database: IAuroraRegionalCluster;
  /** Master secret (username/password JSON) the migrations run as. */
  readonly secret: secretsmanager.ISecret;
  /** Database the schema lives in. */
  readonly databaseName: string;
  /**
   * Folder of the `NNNN_name.sql` migrations (absolute path).
   * @default `<repo>/database/migrations`
   */
  readonly migrationsDirectory?: string;
  /**
   * Handler source.
   * @default `<repo>/lambdas/db-migrate/index.ts`
   */
  readonly entry?: string;
  /**
   * Time one deploy may spend migrating (Lambda timeout, at most 15 minutes).
   * @default Duration.minutes(10)
   */
  readonly timeout?: Duration;
  /**
   * Retention of the function logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Removal policy of the logs and their key.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class SchemaMigrations extends Construct {
  /** The custom resource; depend on it (or on this construct) to start after the schema is current. */
  readonly resource: CustomResource;
  /** The migration function. */
  readonly handler: DatabaseFunction;
  /** SHA-256 of the migrations folder (names and contents), as passed to the resource. */
  readonly migrationsHash: string;
  /** Schema version after the deploy (the `SchemaVersion` the handler returns). */
  readonly schemaVersion: string;

  constructor(scope: Construct, id: string, props: SchemaMigrationsProps) {
    super(scope, id);
    const migrationsDirectory = props.migrationsDirectory ?? path.join(REPO_ROOT, 'database', 'migrations');
    const entry = props.entry ?? path.join(REPO_ROOT, 'lambdas', 'db-migrate', 'index.ts');
    const timeout = props.timeout ?? Duration.minutes(10);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    const problems = new PropsProblems(`SchemaMigrations "${this.node.path}"`);
    problems.check(props.database.role === 'primary', 'database', props.database.clusterIdentifier,
      'the primary region\'s cluster (AuroraGlobalPrimary): migrations need the writer');
    problems.check(path.isAbsolute(migrationsDirectory) && isDirectory(migrationsDirectory), 'migrationsDirectory', migrationsDirectory,
      'an absolute path to an existing folder of .sql migrations');
    if (isDirectory(migrationsDirectory)) {
      problems.check(fs.readdirSync(migrationsDirectory).some((f) => f.endsWith('.sql')), 'migrationsDirectory', migrationsDirectory,
        'a folder holding at least one .sql migration');
    }
    problems.check(fs.existsSync(entry), 'entry', entry, 'an existing handler source file');
    problems.check(timeout.toSeconds() >= 60 && timeout.toSeconds() <= 900, 'timeout', timeout, 'from 1 to 15 minutes');
    problems.throwIfAny();

    this.migrationsHash = hashMigrationsDirectory(migrationsDirectory);

    const key = new kms.Key(this, 'Key', {
      description: 'Schema migrations: function logs and environment',
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch Logs encrypts the two log groups with this key.
    key.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${Stack.of(this).region}.amazonaws.com`));

    this.handler = new DatabaseFunction(this, 'Handler', {
      entry,
      description: 'ConnectHub schema migrations (custom resource onEvent)',
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      database: props.database,
      secret: props.secret,
      databaseName: props.databaseName,
      encryptionKey: key,
      logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      logRemovalPolicy: removalPolicy,
      timeout,
      memorySize: 512,
      // The migrations travel with the code: the handler reads path.join(__dirname, 'migrations').
      afterBundling: (outputDir) => [`cp -R ${shellQuote(migrationsDirectory)} ${shellQuote(path.join(outputDir, 'migrations'))}`],
    });
    Validations.of(this.handler.function).acknowledge({
      id: 'NIST.800.53.R5-LambdaDLQ',
      reason: 'Invoked synchronously by the custom resource provider; a failure fails the deployment with the error, there is no asynchronous event to park.',
    });

    const providerLogs = new logs.LogGroup(this, 'ProviderLogs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      encryptionKey: key,
      removalPolicy,
    });
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler.function,
      logGroup: providerLogs,
      providerFunctionEnvEncryption: key,
    });
    acknowledgeProviderFindings(provider);

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ConnectHubSchemaMigrations',
      properties: {
        MigrationsHash: this.migrationsHash,
        DatabaseName: props.databaseName,
        ClusterIdentifier: props.database.clusterIdentifier,
      },
      // Delete is a no-op in the handler: the schema is never dropped by the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeDefaultPolicy(this.handler.function.role!);
    // Migrate only once the cluster and all its CloudFormation-managed instances exist.
    this.resource.node.addDependency(props.database.cluster);
    this.schemaVersion = this.resource.getAttString('SchemaVersion');
  }
}

/** SHA-256 over the relative names and contents of every file under `dir` (the handler computes the same over its bundle). */
export const hashDirectory = hashMigrationsDirectory;

function isDirectory(p: string): boolean {
  return fs.existsSync(p) && fs.statSync(p).isDirectory();
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function onEventResource(provider: cr.Provider): CfnResource {
  return provider.onEventHandler.node.defaultChild as CfnResource;
}

function acknowledgeProviderFindings(provider: cr.Provider): void {
  const framework = provider.node.findChild('framework-onEvent');
  const role = framework.node.tryFindChild('ServiceRole');
  if (role) {
    acknowledgeDefaultPolicy(role as iam.IRole);
    const defaultPolicy = role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) {
      Validations.of(defaultPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(provider).getLogicalId(onEventResource(provider))}.Arn>:*]`,
        reason: 'CDK provider framework: lambda:InvokeFunction on the versions and aliases of the migration function only.',
      });
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'CDK provider framework function: AWS-maintained minimal policy for its own logs.',
    });
  }
  Validations.of(framework).acknowledge({
    id: 'NIST.800.53.R5-LambdaInsideVPC',
    reason: 'CDK provider framework function: it only invokes the migration function and answers CloudFormation\'s pre-signed S3 URL; it never touches the database, so it stays out of the VPC.',
  });
  Validations.of(framework).acknowledge({
    id: 'NIST.800.53.R5-LambdaDLQ',
    reason: 'CDK provider framework function, invoked by CloudFormation; failures are reported to CloudFormation, not queued.',
  });
  Validations.of(framework).acknowledge({
    id: 'NIST.800.53.R5-LambdaConcurrency',
    reason: 'CDK provider framework function, runs once per deploy of this resource.',
  });
}
