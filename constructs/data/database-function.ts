/**
 * A Node.js Lambda that talks to the Aurora cluster from inside the VPC, as the migration and maintenance functions
 * need it: bundled by the local esbuild (no Docker), Node.js 22 on arm64, its own security group (egress only to the
 * cluster's port and HTTPS for AWS APIs), the master secret readable, logs in a KMS-encrypted group with retention,
 * and the `DB_*` environment of the database Lambda contract.
 *
 * Stable construct ids: <id>/Function, <id>/SecurityGroup, <id>/Logs.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { bundledCode } from '../lambda/bundled-code';
import { IAuroraRegionalCluster } from './aurora-global-database';

/** Repository root, seen from this file (constructs/data): esbuild's project root and lock file. */

export interface DatabaseFunctionProps {
  /** Handler source file (TypeScript), e.g. `lambdas/db-migrate/index.ts`. */
  readonly entry: string;
  /** What the function does (Lambda description). */
  readonly description: string;
  /** VPC of the cluster. */
  readonly vpc: ec2.IVpc;
  /** Subnets with a route to Secrets Manager (NAT or an interface endpoint). */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The cluster the function connects to (its writer endpoint). */
  readonly database: IAuroraRegionalCluster;
  /** Secret with `username`/`password` for the database. */
  readonly secret: secretsmanager.ISecret;
  /** Database name (DB_NAME). */
  readonly databaseName: string;
  /** Key for the log group and the environment variables. */
  readonly encryptionKey: kms.IKey;
  /** Log retention. */
  readonly logRetention: logs.RetentionDays;
  /** Removal policy of the log group. */
  readonly logRemovalPolicy: RemovalPolicy;
  /** Function timeout. */
  readonly timeout: Duration;
  /** Memory in MiB. */
  readonly memorySize: number;
  /** Extra environment variables. */
  readonly environment?: Record<string, string>;
  /** Commands run after esbuild, with the output folder (e.g. to ship files next to the bundle). */
  readonly afterBundling?: (outputDir: string) => string[];
  /** Asynchronous-invocation dead-letter queue. */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Retries of asynchronous invocations.
   * @default 2 (the Lambda default)
   */
  readonly retryAttempts?: number;
}

export class DatabaseFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: DatabaseFunctionProps) {
    super(scope, id);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.description}: egress to the cluster and to AWS APIs over HTTPS only`,
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs (Secrets Manager, S3, KMS) over HTTPS');
    props.database.connections.allowFrom(this.securityGroup, ec2.Port.tcp(props.database.port), props.description);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.logRemovalPolicy,
    });

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      // The runtime provides the AWS SDK v3; pg's optional native binding is never used.
      code: bundledCode({ entry: props.entry, externalModules: ['@aws-sdk/*', 'pg-native'], afterBundling: props.afterBundling }),
      handler: 'index.handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [this.securityGroup],
      logGroup: this.logGroup,
      environmentEncryption: props.encryptionKey,
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: props.retryAttempts,
      environment: {
        DB_HOST: props.database.cluster.clusterEndpoint.hostname,
        DB_PORT: String(props.database.port),
        DB_NAME: props.databaseName,
        DB_SECRET_ARN: props.secret.secretArn,
        DB_SSL: 'require',
        // Trust the Amazon RDS certificate authorities shipped with the Lambda runtime (TLS with verification).
        NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
        // Stack traces point into the TypeScript sources (the bundle ships its source map).
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
    });
    props.secret.grantRead(this.function);

    acknowledgeFunctionFindings(this.function);
  }
}

/**
 * NIST 800-53 r5 IAMNoInlinePolicy flags the AWS::IAM::Policy that CDK `grant*` calls attach to one role. Acknowledged
 * on that policy: it is generated from the grants (least privilege, scoped to this construct's resources) and belongs
 * to exactly one role; a customer-managed policy would only add a shareable copy. Call after the grants are made.
 */
export function acknowledgeDefaultPolicy(role: iam.IRole): void {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  Validations.of(policy).acknowledge({
    id: 'NIST.800.53.R5-IAMNoInlinePolicy',
    reason: 'Policy generated by CDK grant* calls for this single role, least privilege and scoped to the construct\'s resources; a managed policy would only add a shareable copy.',
  });
}

/** Findings every VPC database function carries, acknowledged on the narrowest construct with the reason. */
function acknowledgeFunctionFindings(fn: nodejs.NodejsFunction): void {
  const roleConstruct = fn.role!;
  Validations.of(roleConstruct).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'AWS-maintained minimal policy for writing the function\'s own logs.',
  });
  Validations.of(roleConstruct).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    reason: 'AWS-maintained policy that lets Lambda manage the ENIs of a function attached to the VPC; needed to reach the cluster.',
  });
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason: 'Node.js 22 is the project\'s pinned Lambda runtime (standard across all functions, matching the backend\'s Node version).',
  });
  Validations.of(fn).acknowledge({
    id: 'NIST.800.53.R5-LambdaConcurrency',
    reason: 'Runs rarely (per deploy or per schedule); reserving concurrency would take capacity from the account pool for no protection.',
  });
}
