import * as path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { bundledCode } from '../lambda/bundled-code';
import { DEFAULT_REPORT_WINDOWS, parseWindow, PR_ENVIRONMENT_PATTERN, SLO_NAMESPACE } from '../../lambdas/slo-reporter/slo-definitions';

/** Repository root (bundling must not depend on the directory the CDK app runs from). */
const REPO_ROOT = path.join(__dirname, '..', '..');

export interface SloReporterProps {
  /** Environment name (dev, staging, prod or pr-<n>): the `Environment` dimension the reporter reads. */
  readonly environmentName: string;
  /** SLO windows to compute and publish. @default ['1h', '1d', '7d', '30d'] */
  readonly windows?: readonly string[];
  /** How often the reporter runs. @default 1 hour */
  readonly schedule?: Duration;
  /** Log retention. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** What happens to the log group, its key and the dead-letter queue when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Run the function in this VPC (it then needs a route or VPC endpoint to CloudWatch monitoring).
   * @default - not in a VPC: the function only calls the CloudWatch API
   */
  readonly vpc?: ec2.IVpc;
  /** Subnets in `vpc`. @default - private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

/** Problems with the props, each naming the field, the value and what is allowed. */
export function validateSloReporterProps(props: SloReporterProps): string[] {
  const p: string[] = [];
  if (!/^(dev|staging|prod)$/.test(props.environmentName) && !PR_ENVIRONMENT_PATTERN.test(props.environmentName)) {
    p.push(`environmentName "${props.environmentName}" is not allowed; use dev, staging, prod or pr-<number>`);
  }
  const windows = props.windows ?? DEFAULT_REPORT_WINDOWS;
  if (windows.length === 0) p.push('windows must list at least one window, for example 30d');
  windows.forEach((w, i) => {
    const r = parseWindow(w);
    if ('error' in r) p.push(`windows[${i}]: ${r.error}`);
  });
  if (new Set(windows).size !== windows.length) p.push(`windows ${JSON.stringify(windows)} lists a window twice`);
  const minutes = props.schedule?.toMinutes({ integral: false });
  if (minutes !== undefined && !(Number.isInteger(minutes) && minutes >= 5 && minutes <= 1440)) {
    p.push(`schedule ${props.schedule?.toHumanString()} must be whole minutes from 5 minutes to 1 day`);
  }
  if (props.vpcSubnets && !props.vpc) p.push('vpcSubnets is set but vpc is not');
  return p;
}

/**
 * The scheduled SLO reporter: an EventBridge rule runs lambdas/slo-reporter every `schedule`; the
 * function reads the backend metrics of its region (GetMetricData) and publishes attainment,
 * error budget, burn rate and coverage to ConnectHub/SLO (PutMetricData, limited to that namespace).
 */
export class SloReporter extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly rule: events.Rule;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly logGroup: logs.LogGroup;
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: SloReporterProps) {
    super(scope, id);
    const problems = validateSloReporterProps(props);
    if (problems.length > 0) throw new Error(`SloReporter ${this.node.path}: ${problems.join('; ')}`);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the SLO reporter's logs and dead-letter queue (${this.node.path})`,
      enableKeyRotation: true,
      removalPolicy,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogs',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) } },
      }),
    );
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: this.key,
      removalPolicy,
    });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'SLO reporter: reads CloudWatch metrics, publishes to ConnectHub/SLO, writes its own logs',
    });
    if (props.vpc) role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
    this.logGroup.grantWrite(role);
    // Neither action supports resource-level permissions; PutMetricData is pinned to one namespace.
    const readMetrics = new iam.PolicyStatement({ sid: 'ReadMetrics', actions: ['cloudwatch:GetMetricData'], resources: ['*'] });
    const publishSlo = new iam.PolicyStatement({
      sid: 'PublishSloMetrics',
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': SLO_NAMESPACE } },
    });
    const metricsPolicy = new iam.ManagedPolicy(this, 'MetricsPolicy', {
      description: `SLO reporter ${props.environmentName}: read CloudWatch metrics, publish to ${SLO_NAMESPACE} only`,
      statements: [readMetrics, publishSlo],
      roles: [role],
    });
    Validations.of(metricsPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:GetMetricData and cloudwatch:PutMetricData do not support resource-level permissions; PutMetricData is restricted to the ConnectHub/SLO namespace by condition.',
    });

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      code: bundledCode({ entry: path.join(REPO_ROOT, 'lambdas', 'slo-reporter', 'index.ts'), externalModules: ['@aws-sdk/*'] }),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(2),
      role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: 1,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 1,
      tracing: lambda.Tracing.ACTIVE,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? (props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }) : undefined,
      description: `ConnectHub ${props.environmentName}: publishes SLO attainment and error budgets to ${SLO_NAMESPACE}`,
      environment: {
        CONNECTHUB_ENVIRONMENT: props.environmentName,
        SLO_WINDOWS: (props.windows ?? DEFAULT_REPORT_WINDOWS).join(','),
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    // Sending to the KMS-encrypted dead-letter queue needs the key as well as sqs:SendMessage.
    this.deadLetterQueue.grantSendMessages(role);
    const defaultPolicy = role.node.findChild('DefaultPolicy');
    Validations.of(defaultPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which have no resource-level permissions; every other statement names this function\'s log group, queue or key.',
    });
    for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
      Validations.of(defaultPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: 'Written by grantSendMessages for the KMS-encrypted dead-letter queue; the resource is this construct\'s own key, used by nothing else.',
      });
    }
    Validations.of(defaultPolicy).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason: 'Statements written by CDK grant methods for this role alone (its log group, dead-letter queue, key and tracing); the policy lives and dies with the role and is attached to nothing else.',
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Project standard: Lambda functions run on Node.js 22 (the LTS the bundles are built and tested for); moving to a newer runtime is a deliberate, tested change.',
    });
    if (!props.vpc) {
      Validations.of(this.function).acknowledge({
        id: 'NIST.800.53.R5-LambdaInsideVPC',
        reason: 'The reporter only calls the regional CloudWatch API and reaches no VPC resource; pass `vpc` to run it in one.',
      });
    }
    this.rule = new events.Rule(this, 'Schedule', {
      description: `Runs the ConnectHub ${props.environmentName} SLO reporter`,
      schedule: events.Schedule.rate(props.schedule ?? Duration.hours(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2, maxEventAge: Duration.minutes(30) })],
    });
  }
}
