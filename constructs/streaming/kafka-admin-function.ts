import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bundledCode } from '../lambda/bundled-code';
import { allowCloudWatchLogs } from './logs-key-policy';

/** Where the Lambda handlers live (lambdas/<name>/index.ts at the repository root). */
export const LAMBDAS_DIR = path.join(__dirname, '..', '..', 'lambdas');

/** Properties of {@link KafkaAdminFunction}. */
export interface KafkaAdminFunctionProps {
  /** Folder under lambdas/ holding index.ts. */
  readonly handlerDir: 'kafka-topics' | 'kafka-lag';
  readonly description: string;
  readonly vpc: ec2.IVpc;
  /** Private subnets with a route to the AWS APIs (NAT or interface endpoints). */
  readonly subnets: ec2.SubnetSelection;
  /** Security group of the MSK cluster; the function gets egress to it on 9098 and it gets the matching ingress. */
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
  /** Also allow HTTPS egress (for AWS APIs such as CloudWatch). @default false */
  readonly httpsEgress?: boolean;
  readonly environment?: Record<string, string>;
  readonly timeout: Duration;
  readonly logRetention: logs.RetentionDays;
  /** Key for the log group and the environment (CloudWatch Logs is allowed to use it if it is a key of this app). */
  readonly encryptionKey: kms.IKey;
  /** Reserved concurrency (these functions never need parallel copies). @default 1 */
  readonly reservedConcurrency?: number;
}

/**
 * A Node.js 22 / arm64 Lambda in the VPC's private subnets that talks to MSK with IAM auth: bundled with the local
 * esbuild (no Docker), minified with source maps, with its own log group (explicit retention) and a security group
 * whose only egress is the cluster on 9098 (plus HTTPS when asked).
 *
 * Everything is bundled, the AWS SDK included: aws-msk-iam-sasl-signer-js pins its own @aws-sdk/@smithy versions
 * for signing and the credential chain, and bundling keeps them consistent instead of mixing with the runtime's SDK.
 */
export class KafkaAdminFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: KafkaAdminFunctionProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.description}: egress to MSK on 9098${props.httpsEgress ? ' and HTTPS' : ''} only`,
      allowAllOutbound: false,
    });
    this.securityGroup.connections.allowTo(props.clusterSecurityGroup, ec2.Port.tcp(9098), `${props.handlerDir} to MSK (IAM over TLS)`);
    if (props.httpsEgress) this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs over HTTPS');

    allowCloudWatchLogs(props.encryptionKey);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: props.encryptionKey,
    });

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      // kafkajs and the MSK IAM signer are bundled: nothing is external.
      code: bundledCode({ entry: path.join(LAMBDAS_DIR, props.handlerDir, 'index.ts') }),
      handler: 'index.handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: props.timeout,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrency ?? 1,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...(props.environment ?? {}) },
      environmentEncryption: props.encryptionKey,
    });
    // Lambda decrypts the environment with the execution role.
    props.encryptionKey.grantDecrypt(this.function);

    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Pinned to nodejs22.x (the project standard, LTS into 2027) rather than the newest runtime, so the tested Node major is the deployed one.',
    });
    const role = this.function.role!;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'AWS managed basic-execution policy: only lets the function write its own logs.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason: 'AWS managed VPC-access policy: only lets Lambda manage the function\'s ENIs in the private subnets.',
    });
    Validations.of(role).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason: 'The inline policy is generated by grants (kafka-cluster actions on named topics of one cluster) and belongs to this function alone.',
    });
  }
}
