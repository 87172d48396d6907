import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CONSUMER_LAG_METRIC, METRIC_NAMESPACE } from '../../lambdas/kafka-lag/publish';
import { KafkaAdminFunction } from './kafka-admin-function';
import { grantKafkaTopics, kafkaArns, type KafkaClusterRef } from './kafka-iam';

/** Properties of {@link ConsumerLagPublisher}. */
export interface ConsumerLagPublisherProps {
  readonly cluster: KafkaClusterRef;
  /** Security group of the brokers (the function is admitted on 9098). */
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
  readonly vpc: ec2.IVpc;
  /** Private subnets with a route to CloudWatch (NAT or a `monitoring` interface endpoint). */
  readonly subnets: ec2.SubnetSelection;
  /** Topics to measure (exact names; DescribeTopic is granted on these only). */
  readonly topics: readonly string[];
  /** Consumer groups starting with this prefix are discovered and measured. @default 'connecthub-worker-' */
  readonly consumerGroupPrefix?: string;
  /** Groups measured even before they commit (e.g. a new worker's group), with their topics. @default none */
  readonly subscriptions?: readonly { readonly groupId: string; readonly topics: readonly string[] }[];
  /** How often to publish. @default Duration.minutes(1) */
  readonly schedule?: Duration;
  readonly logRetention: logs.RetentionDays;
  /** Key for the logs and the function environment (e.g. the cluster's or the region's data key). */
  readonly encryptionKey: kms.IKey;
}

/**
 * The queue-length signal: a scheduled Lambda (EventBridge, every minute) measuring consumer lag per group and topic
 * through the Kafka admin API and publishing `ConnectHub/Streaming` `ConsumerLag` (dimensions ConsumerGroup+Topic,
 * and ConsumerGroup alone for the group total) with PutMetricData, which IAM restricts to that namespace.
 */
export class ConsumerLagPublisher extends Construct {
  public readonly handler: KafkaAdminFunction;
  public readonly rule: events.Rule;
  public readonly namespace = METRIC_NAMESPACE;

  constructor(scope: Construct, id: string, props: ConsumerLagPublisherProps) {
    super(scope, id);
    const prefix = props.consumerGroupPrefix ?? 'connecthub-worker-';
    const subscriptions = props.subscriptions ?? [];
    const schedule = props.schedule ?? Duration.minutes(1);
    const problems: string[] = [];
    if (props.topics.length === 0) problems.push('topics is empty; allowed: at least one topic name');
    for (const s of subscriptions) {
      for (const t of s.topics) if (!props.topics.includes(t)) problems.push(`subscriptions: group ${JSON.stringify(s.groupId)} lists topic ${JSON.stringify(t)}, which is not in topics; allowed: ${props.topics.join(', ')}`);
      if (!/^[A-Za-z0-9._-]+$/.test(s.groupId)) problems.push(`subscriptions: groupId ${JSON.stringify(s.groupId)}; allowed: letters, digits, '.', '_', '-'`);
    }
    if (prefix === '' && subscriptions.length === 0) problems.push('consumerGroupPrefix is empty and there are no subscriptions; allowed: a prefix, subscriptions, or both');
    if (schedule.toSeconds() < 60) problems.push(`schedule is ${schedule.toHumanString()}; allowed: 1 minute or more (EventBridge's finest rate)`);
    if (problems.length > 0) throw new Error(`ConsumerLagPublisher ${this.node.path}: invalid props:\n- ${problems.join('\n- ')}`);

    this.handler = new KafkaAdminFunction(this, 'Handler', {
      handlerDir: 'kafka-lag',
      description: 'ConnectHub consumer lag publisher (CloudWatch ConnectHub/Streaming ConsumerLag)',
      vpc: props.vpc,
      subnets: props.subnets,
      clusterSecurityGroup: props.clusterSecurityGroup,
      httpsEgress: true,
      timeout: Duration.seconds(Math.min(50, schedule.toSeconds() - 10)),
      logRetention: props.logRetention,
      encryptionKey: props.encryptionKey,
      environment: {
        BOOTSTRAP_BROKERS: props.cluster.bootstrapBrokers,
        TOPICS: props.topics.join(','),
        GROUP_PREFIX: prefix,
        SUBSCRIPTIONS: JSON.stringify(subscriptions),
        METRIC_NAMESPACE: METRIC_NAMESPACE,
      },
    });
    const fn = this.handler.function;
    if (prefix !== '') {
      grantKafkaTopics(fn, this, props.cluster, { topics: props.topics, access: 'describe', consumerGroupPrefix: prefix });
    } else {
      grantKafkaTopics(fn, this, props.cluster, { topics: props.topics, access: 'describe' });
    }
    const outsidePrefix = subscriptions.filter((s) => prefix === '' || !s.groupId.startsWith(prefix));
    if (outsidePrefix.length > 0) {
      const arns = kafkaArns(this, props.cluster);
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['kafka-cluster:DescribeGroup'], resources: outsidePrefix.map((s) => arns.group(s.groupId)) }));
    }
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
    }));
    Validations.of(fn.role!.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `cloudwatch:PutMetricData has no resource-level permissions; the statement is limited by the cloudwatch:namespace condition to ${METRIC_NAMESPACE}.`,
    });

    // A lag figure older than a minute is worthless: no retries, drop stale events.
    fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.seconds(60) });
    Validations.of(fn).acknowledge({
      id: 'NIST.800.53.R5-LambdaDLQ',
      reason: 'A scheduled metric sample: a failed minute is superseded by the next one; dead-lettering it would keep nothing useful. Failures show in the function Errors metric.',
    });
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Publish Kafka consumer lag',
      schedule: events.Schedule.rate(schedule),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0, maxEventAge: Duration.seconds(60) })],
    });
  }

  /** `ConsumerLag` of a group (its total over topics), or of a group on one topic. Maximum over the period. */
  metricConsumerLag(groupId: string, topic?: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: CONSUMER_LAG_METRIC,
      dimensionsMap: topic ? { ConsumerGroup: groupId, Topic: topic } : { ConsumerGroup: groupId },
      statistic: 'Maximum',
      period: Duration.minutes(1),
      ...options,
    });
  }
}
