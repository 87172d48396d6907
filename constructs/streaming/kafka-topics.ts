import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { topicListProblems, type TopicSpec } from '../../lambdas/kafka-common/topic-spec';
import { DLQ_RETENTION_HOURS, TOPIC_RETENTION_HOURS } from '../../lib/capacity/capacity-model';
import { KafkaAdminFunction } from './kafka-admin-function';
import { allowCloudWatchLogs } from './logs-key-policy';
import { grantKafkaTopics, type KafkaClusterRef } from './kafka-iam';

/** The application topics of the backend runtime contract. */
export const CONNECTHUB_TOPICS = ['user-activity', 'feed-updates', 'messages', 'match-notifications'] as const;
export type ConnectHubTopic = (typeof CONNECTHUB_TOPICS)[number];

/** Suffix of each topic's dead-letter topic. */
export const DLQ_SUFFIX = '.dlq';

/** Retention per topic, from the capacity model, which sizes broker storage from the same figures. */
export const DEFAULT_RETENTION: Readonly<Record<ConnectHubTopic, Duration>> = Object.fromEntries(
  CONNECTHUB_TOPICS.map((topic) => [topic, Duration.hours(TOPIC_RETENTION_HOURS[topic])]),
) as Record<ConnectHubTopic, Duration>;
/** Dead letters are kept two weeks (capacity model) so that an incident can be replayed after it is understood. */
export const DLQ_RETENTION = Duration.hours(DLQ_RETENTION_HOURS);

/** Inputs of {@link connectHubTopicSpecs}. */
export interface ConnectHubTopicOptions {
  /** Partitions per application topic (from the capacity model). */
  readonly partitions: Readonly<Record<ConnectHubTopic, number>>;
  /** Partitions of every dead-letter topic. @default 3 */
  readonly dlqPartitions?: number;
  /** Replication factor; omit on MSK Serverless (fixed at 3 there). @default undefined (cluster default, 3 by the broker configuration) */
  readonly replicationFactor?: number;
}

/** The eight topics of the contract (four plus their `.dlq`), with partitions, retention and delete cleanup. */
export function connectHubTopicSpecs(options: ConnectHubTopicOptions): TopicSpec[] {
  const rf = options.replicationFactor === undefined ? {} : { replicationFactor: options.replicationFactor };
  const specs: TopicSpec[] = [];
  for (const name of CONNECTHUB_TOPICS) {
    specs.push({ name, partitions: options.partitions[name], ...rf, config: { 'retention.ms': String(DEFAULT_RETENTION[name].toMilliseconds()), 'cleanup.policy': 'delete' } });
    specs.push({ name: `${name}${DLQ_SUFFIX}`, partitions: options.dlqPartitions ?? 3, ...rf, config: { 'retention.ms': String(DLQ_RETENTION.toMilliseconds()), 'cleanup.policy': 'delete' } });
  }
  return specs;
}

/** Properties of {@link KafkaTopics}. */
export interface KafkaTopicsProps {
  /** The cluster (a `KafkaCluster`, or plain values for one owned elsewhere). */
  readonly cluster: KafkaClusterRef;
  /** Security group of the cluster's brokers (the function is admitted on 9098). */
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
  readonly vpc: ec2.IVpc;
  /** Private subnets for the reconciliation Lambda and the provider. */
  readonly subnets: ec2.SubnetSelection;
  /** Desired topics, e.g. `connectHubTopicSpecs({ partitions })`. Partition counts may only grow. */
  readonly topics: readonly TopicSpec[];
  /** Retention of the Lambda and provider logs. */
  readonly logRetention: logs.RetentionDays;
  /** Key for the logs and the function environments (e.g. the cluster's or the region's data key). */
  readonly encryptionKey: kms.IKey;
}

/**
 * Topics as code: a custom resource whose Lambda (kafkajs, MSK IAM auth) reconciles the desired topic list on every
 * deploy: creates missing topics, grows partitions, sets changed topic configuration, and fails the deployment with
 * a message naming the topic and both counts if a partition count would shrink. Deleting the resource (or the stack)
 * never deletes topics: they hold data.
 *
 * IAM is scoped to the listed topic ARNs of this cluster (create, alter, describe, dynamic configuration) plus connect.
 */
export class KafkaTopics extends Construct {
  public readonly resource: CustomResource;
  public readonly handler: KafkaAdminFunction;
  public readonly topics: readonly TopicSpec[];

  constructor(scope: Construct, id: string, props: KafkaTopicsProps) {
    super(scope, id);
    const problems = topicListProblems(props.topics, 'topics');
    if (problems.length > 0) throw new Error(`KafkaTopics ${this.node.path}: invalid props:\n- ${problems.join('\n- ')}`);
    this.topics = props.topics;

    this.handler = new KafkaAdminFunction(this, 'Handler', {
      handlerDir: 'kafka-topics',
      description: 'ConnectHub Kafka topics reconciliation (custom resource)',
      vpc: props.vpc,
      subnets: props.subnets,
      clusterSecurityGroup: props.clusterSecurityGroup,
      timeout: Duration.minutes(5),
      logRetention: props.logRetention,
      encryptionKey: props.encryptionKey,
    });
    grantKafkaTopics(this.handler.function, this, props.cluster, { topics: props.topics.map((t) => t.name), access: 'admin' });

    allowCloudWatchLogs(props.encryptionKey);
    const providerLogs = new logs.LogGroup(this, 'ProviderLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: props.encryptionKey,
    });
    // The provider framework calls the Lambda API and answers CloudFormation through a pre-signed S3 URL: HTTPS only.
    const providerSg = new ec2.SecurityGroup(this, 'ProviderSecurityGroup', {
      vpc: props.vpc,
      description: 'Kafka topics custom-resource provider: HTTPS to AWS APIs only',
      allowAllOutbound: false,
    });
    providerSg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'Lambda API and CloudFormation response URL over HTTPS');
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler.function,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [providerSg],
      logGroup: providerLogs,
      providerFunctionEnvEncryption: props.encryptionKey,
    });
    acknowledgeProviderFramework(provider);

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::KafkaTopics',
      properties: {
        ClusterArn: props.cluster.clusterArn,
        BootstrapBrokers: props.cluster.bootstrapBrokers,
        Topics: props.topics.map((t) => ({ ...t, config: { ...(t.config ?? {}) } })),
      },
    });
    Validations.of(this.handler.function).acknowledge({
      id: 'NIST.800.53.R5-LambdaDLQ',
      reason: 'Invoked synchronously by the custom-resource provider; a failure fails the CloudFormation deployment, so there is no lost asynchronous event to dead-letter.',
    });
  }
}

/** Acknowledges the findings on CDK's provider-framework function (its code and role are CDK's, not ours). */
function acknowledgeProviderFramework(provider: cr.Provider): void {
  const fn = provider.node.tryFindChild('framework-onEvent');
  if (!fn) return;
  const stack = Stack.of(provider);
  const role = fn.node.tryFindChild('ServiceRole');
  const policy = role?.node.tryFindChild('DefaultPolicy');
  const reasons: [string, string][] = [
    ['AwsSolutions-L1', 'CDK provider-framework function; its runtime is chosen by aws-cdk-lib.'],
    ['NIST.800.53.R5-LambdaConcurrency', 'Deploy-time provider function invoked by CloudFormation only.'],
    ['NIST.800.53.R5-LambdaDLQ', 'Synchronous custom-resource provider; failures are returned to CloudFormation.'],
  ];
  for (const [id, reason] of reasons) Validations.of(fn).acknowledge({ id, reason });
  if (role) {
    for (const managed of ['AWSLambdaBasicExecutionRole', 'AWSLambdaVPCAccessExecutionRole']) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${managed}]`,
        reason: `CDK provider-framework role: the AWS managed ${managed} policy only covers its logs and ENIs.`,
      });
    }
  }
  if (policy) {
    Validations.of(policy).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason: 'CDK provider-framework role: inline policy letting it invoke the one handler function.',
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(`${provider.onEventHandler.functionArn}:*`))}]`,
      reason: 'CDK provider-framework role may invoke any version or alias (":*") of the one handler function it wraps.',
    });
  }
}
