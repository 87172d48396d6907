import { Fn, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/**
 * What the streaming constructs need to know about an MSK cluster (provisioned or serverless). `KafkaCluster`
 * implements it; a cluster owned by another stack can be described with plain values.
 */
export interface KafkaClusterRef {
  /** Cluster ARN: `arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>`. */
  readonly clusterArn: string;
  /** Cluster name (the `<name>` part of the ARN). */
  readonly clusterName: string;
  /** Comma-separated SASL/IAM bootstrap brokers (port 9098). */
  readonly bootstrapBrokers: string;
}

/** What a principal may do with a list of topics. */
export type KafkaTopicAccess = 'produce' | 'consume' | 'produce-consume' | 'describe' | 'admin';

/** Options of {@link kafkaTopicStatements}. */
export interface KafkaTopicGrantOptions {
  /** Exact topic names (no wildcards; list dead-letter topics explicitly). */
  readonly topics: readonly string[];
  /** Kind of access. */
  readonly access: KafkaTopicAccess;
  /** Consumer groups the principal may join / describe, as a prefix (e.g. `connecthub-worker-`). Required for consume. */
  readonly consumerGroupPrefix?: string;
}

/**
 * ARNs of the cluster, its topics and its groups. Topic and group ARNs embed the cluster name and UUID; the UUID
 * is the last path element of the cluster ARN, taken apart with Fn::Split so that it works for deploy-time ARNs.
 */
export function kafkaArns(scope: IConstruct, cluster: Pick<KafkaClusterRef, 'clusterArn' | 'clusterName'>) {
  const stack = Stack.of(scope);
  const parts = Fn.split(':', cluster.clusterArn, 6);
  const region = Fn.select(3, parts);
  const account = Fn.select(4, parts);
  const uuid = Fn.select(2, Fn.split('/', cluster.clusterArn, 3));
  const base = (kind: string) => `arn:${stack.partition}:kafka:${region}:${account}:${kind}/${cluster.clusterName}/${uuid}`;
  return {
    cluster: cluster.clusterArn,
    topic: (name: string) => `${base('topic')}/${name}`,
    group: (nameOrPrefix: string) => `${base('group')}/${nameOrPrefix}`,
  };
}

const TOPIC_ACTIONS: Record<KafkaTopicAccess, string[]> = {
  describe: ['kafka-cluster:DescribeTopic'],
  produce: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
  consume: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
  'produce-consume': ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData', 'kafka-cluster:ReadData'],
  admin: [
    'kafka-cluster:DescribeTopic',
    'kafka-cluster:CreateTopic',
    'kafka-cluster:AlterTopic',
    'kafka-cluster:DescribeTopicDynamicConfiguration',
    'kafka-cluster:AlterTopicDynamicConfiguration',
  ],
};

/** Statements to connect to the cluster (IAM auth) and describe it. */
export function kafkaConnectStatements(scope: IConstruct, cluster: Pick<KafkaClusterRef, 'clusterArn' | 'clusterName'>): iam.PolicyStatement[] {
  const arns = kafkaArns(scope, cluster);
  return [new iam.PolicyStatement({ actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], resources: [arns.cluster] })];
}

/** Problems with grant options (empty when valid). */
export function kafkaTopicGrantProblems(options: KafkaTopicGrantOptions): string[] {
  const p: string[] = [];
  if (!options.topics || options.topics.length === 0) p.push('topics is empty; allowed: at least one exact topic name');
  for (const t of options.topics ?? []) {
    if (!/^[A-Za-z0-9._-]+$/.test(t)) p.push(`topics contains ${JSON.stringify(t)}; allowed: exact topic names (letters, digits, '.', '_', '-'; no wildcards)`);
  }
  const consumes = options.access === 'consume' || options.access === 'produce-consume';
  if (consumes && !options.consumerGroupPrefix) p.push(`consumerGroupPrefix is missing; required for access '${options.access}'`);
  if (options.consumerGroupPrefix !== undefined && !/^[A-Za-z0-9._-]+$/.test(options.consumerGroupPrefix)) {
    p.push(`consumerGroupPrefix is ${JSON.stringify(options.consumerGroupPrefix)}; allowed: letters, digits, '.', '_', '-' (the '*' is added)`);
  }
  return p;
}

/**
 * Least-privilege statements for a topic list: actions on the exact topic ARNs, group actions on
 * `group/<cluster>/<uuid>/<prefix>*`, and idempotent-write on the cluster for producers (kafkajs and the Java
 * client enable idempotence by default).
 */
export function kafkaTopicStatements(scope: IConstruct, cluster: Pick<KafkaClusterRef, 'clusterArn' | 'clusterName'>, options: KafkaTopicGrantOptions): iam.PolicyStatement[] {
  const problems = kafkaTopicGrantProblems(options);
  if (problems.length > 0) throw new Error(`Kafka topic grant: invalid options:\n- ${problems.join('\n- ')}`);
  const arns = kafkaArns(scope, cluster);
  const statements = [new iam.PolicyStatement({ actions: TOPIC_ACTIONS[options.access], resources: options.topics.map((t) => arns.topic(t)) })];
  if (options.access === 'produce' || options.access === 'produce-consume') {
    statements.push(new iam.PolicyStatement({ actions: ['kafka-cluster:WriteDataIdempotently'], resources: [arns.cluster] }));
  }
  if (options.consumerGroupPrefix) {
    const groupActions = options.access === 'consume' || options.access === 'produce-consume'
      ? ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup']
      : ['kafka-cluster:DescribeGroup'];
    statements.push(new iam.PolicyStatement({ actions: groupActions, resources: [arns.group(`${options.consumerGroupPrefix}*`)] }));
  }
  return statements;
}

/** Adds connect + topic statements to a principal's policy. */
export function grantKafkaTopics(grantee: iam.IGrantable, scope: IConstruct, cluster: Pick<KafkaClusterRef, 'clusterArn' | 'clusterName'>, options: KafkaTopicGrantOptions): iam.Grant {
  const statements = [...kafkaConnectStatements(scope, cluster), ...kafkaTopicStatements(scope, cluster, options)];
  let grant: iam.Grant | undefined;
  for (const statement of statements) {
    const g = iam.Grant.addToPrincipal({ grantee, actions: statement.actions, resourceArns: statement.resources });
    grant = grant ? grant.combine(g) : g;
  }
  if (options.consumerGroupPrefix) {
    const policy = (grantee.grantPrincipal as unknown as IConstruct).node?.tryFindChild('DefaultPolicy');
    if (policy) acknowledgeGroupPrefixWildcard(policy, scope, cluster, options.consumerGroupPrefix);
  }
  return grant!;
}

/**
 * Acknowledges exactly one cdk-nag finding on a policy: the `AwsSolutions-IAM5` wildcard of the consumer-group
 * prefix ARN of this cluster (the finding id embeds the resolved ARN, so it is computed, not typed).
 */
export function acknowledgeGroupPrefixWildcard(policy: IConstruct, scope: IConstruct, cluster: Pick<KafkaClusterRef, 'clusterArn' | 'clusterName'>, prefix: string): void {
  const arn = kafkaArns(scope, cluster).group(`${prefix}*`);
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(policy).resolve(arn))}]`,
    reason: `Consumer groups are named at run time; access is limited to groups starting with '${prefix}' on this one cluster.`,
  });
}
