import { Annotations, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import type { KafkaCluster, KafkaClusterMode } from './kafka-cluster';
import { kafkaArns } from './kafka-iam';
import { allowCloudWatchLogs } from './logs-key-policy';

/** Topics replicated from the primary region by default: everything a secondary region serves or would need after a failover. */
export const DEFAULT_REPLICATED_TOPICS: readonly string[] = ['user-activity', 'feed-updates', 'messages', 'match-notifications'];

/** Regions where MSK Replicator is available (AWS documentation, November 2026); others get a warning, not an error. */
export const MSK_REPLICATOR_REGIONS: readonly string[] = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'sa-east-1', 'eu-west-1', 'eu-west-2', 'eu-west-3',
  'eu-central-1', 'eu-north-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-south-1', 'ap-northeast-1', 'ap-northeast-2',
];

/**
 * The source cluster as plain values: it lives in another region's stack, so the lead passes what that stack
 * exposes (names known at synth, ARNs and ids through cross-region references or parameters).
 */
export interface ReplicationSource {
  /** Source cluster ARN. */
  readonly clusterArn: string;
  /** Source cluster name (the `<name>` part of its ARN). */
  readonly clusterName: string;
  /** Region of the source cluster. */
  readonly region: string;
  readonly mode: KafkaClusterMode;
  /** Provisioned: broker count (MSK Replicator needs at least 3). */
  readonly brokerCount?: number;
  /** Provisioned: broker instance type (t3 is not supported by MSK Replicator). */
  readonly instanceType?: string;
  /** Provisioned: whether multi-VPC IAM connectivity is on (required for a cross-region source). */
  readonly multiVpcIamConnectivity?: boolean;
  /** Subnets of the source VPC where the replicator reaches the source (the cluster's own subnets). */
  readonly subnetIds: readonly string[];
  /** Security group in the source VPC admitted to the source brokers (`KafkaCluster.allowMskReplicatorAccess()`). */
  readonly securityGroupIds: readonly string[];
}

/** Properties of {@link CrossRegionReplication}. */
export interface CrossRegionReplicationProps {
  /** The primary region's cluster. */
  readonly source: ReplicationSource;
  /** This region's cluster (the replicator is created in the target's region). */
  readonly target: KafkaCluster;
  /** Topics to replicate, exact names. @default DEFAULT_REPLICATED_TOPICS */
  readonly topics?: readonly string[];
  /** Where a new replicator starts: LATEST (new events only) or EARLIEST (everything retained). @default 'LATEST' */
  readonly startingPosition?: 'LATEST' | 'EARLIEST';
  /** Retention of the replicator's logs. */
  readonly logRetention: logs.RetentionDays;
  /** Key for the replicator log group; must allow CloudWatch Logs. @default the target cluster's key (provisioned), else AWS-managed */
  readonly encryptionKey?: kms.IKey;
  /** Replicator name (letters, digits, '-'; at most 128). @default derived from the construct path */
  readonly replicatorName?: string;
}

const TOPIC = /^[A-Za-z0-9._-]+$/;

/** Every problem with the props, one message each (and warnings for supported-but-limited combinations). */
export function replicationProblems(props: CrossRegionReplicationProps, targetRegion: string): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const { source, target } = props;
  const crossRegion = !Token.isUnresolved(targetRegion) && source.region !== targetRegion;
  const topics = props.topics ?? DEFAULT_REPLICATED_TOPICS;
  if (topics.length === 0) errors.push('topics is empty; allowed: at least one exact topic name');
  for (const t of topics) if (!TOPIC.test(t)) errors.push(`topics contains ${JSON.stringify(t)}; allowed: exact topic names (letters, digits, '.', '_', '-')`);
  if (source.subnetIds.length === 0) errors.push('source.subnetIds is empty; allowed: the source cluster subnets');
  if (source.securityGroupIds.length === 0) errors.push('source.securityGroupIds is empty; allowed: a security group admitted to the source brokers');
  const provisionedChecks = (who: string, mode: KafkaClusterMode, brokers?: number, instance?: string) => {
    if (mode !== 'provisioned') return;
    if (brokers !== undefined && !Token.isUnresolved(brokers) && brokers < 3) errors.push(`${who} has ${brokers} brokers; MSK Replicator needs at least 3`);
    if (instance !== undefined && instance.startsWith('kafka.t3.')) errors.push(`${who} uses ${instance}; MSK Replicator does not support t3 brokers (use m5.large or larger)`);
  };
  provisionedChecks('source', source.mode, source.brokerCount, source.instanceType);
  provisionedChecks('target', target.mode, target.brokerCount, target.instanceType);
  if (crossRegion && source.mode === 'provisioned' && !source.multiVpcIamConnectivity) {
    errors.push(`source (${source.region}) is a provisioned cluster without multiVpcIamConnectivity; a cross-region MSK Replicator needs multi-VPC IAM connectivity on a provisioned source (turn it on in a deploy after the cluster exists)`);
  }
  if (!crossRegion && !Token.isUnresolved(targetRegion)) {
    warnings.push(`source and target are both in ${targetRegion}: this is same-region replication, which this construct supports but ConnectHub does not use`);
  }
  if (target.mode === 'serverless') {
    warnings.push('target is MSK Serverless: only cleanup.policy, compression.type, max.message.bytes, retention.bytes and retention.ms are copied at topic creation (and not cleanup.policy on later syncs), and the replicator uses 83 compacted partitions of the serverless quota');
  }
  if (!Token.isUnresolved(targetRegion) && !MSK_REPLICATOR_REGIONS.includes(targetRegion)) {
    warnings.push(`MSK Replicator was not listed as available in ${targetRegion} when this construct was written; check before deploying`);
  }
  if (!Token.isUnresolved(source.region) && !MSK_REPLICATOR_REGIONS.includes(source.region)) {
    warnings.push(`MSK Replicator was not listed as available in ${source.region} when this construct was written; check before deploying`);
  }
  if (props.replicatorName !== undefined && !/^[a-zA-Z0-9-]{1,128}$/.test(props.replicatorName)) {
    errors.push(`replicatorName is ${JSON.stringify(props.replicatorName)}; allowed: 1-128 letters, digits and '-'`);
  }
  return { errors, warnings };
}

/**
 * One-way replication of selected topics from the primary region's MSK cluster into this region's, with MSK
 * Replicator (created in the target region): identical topic names (so every region's backend uses the same names),
 * new topics and partitions followed automatically, topic configuration copied, records re-compressed with GZIP
 * (the only codec kafkajs consumers decode without plugins), no consumer-group offset sync (each region's consumers
 * keep their own positions on their own cluster).
 *
 * The service execution role is scoped to the two cluster ARNs and to topics and groups of those two clusters.
 */
export class CrossRegionReplication extends Construct {
  public readonly replicator: msk.CfnReplicator;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly topics: readonly string[];

  constructor(scope: Construct, id: string, props: CrossRegionReplicationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { errors, warnings } = replicationProblems(props, stack.region);
    if (errors.length > 0) throw new Error(`CrossRegionReplication ${this.node.path}: invalid props:\n- ${errors.join('\n- ')}`);
    warnings.forEach((w, i) => Annotations.of(this).addWarningV2(`connecthub:msk-replicator-${i}`, w));
    const topics = props.topics ?? DEFAULT_REPLICATED_TOPICS;
    this.topics = topics;
    const { source, target } = props;

    const targetSg = target.allowMskReplicatorAccess();

    this.role = new iam.Role(this, 'ServiceExecutionRole', {
      description: `MSK Replicator ${source.region} -> ${stack.region}`,
      assumedBy: new iam.ServicePrincipal('kafka.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    const src = kafkaArns(this, source);
    const dst = kafkaArns(this, target);
    const wildcardArns = [src.topic('*'), src.group('*'), dst.topic('*'), dst.group('*')];
    const policy = new iam.ManagedPolicy(this, 'ReplicationPolicy', {
      description: 'MSK Replicator: read the source cluster, write the target cluster (these two clusters only)',
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'SourceCluster',
          actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:AlterCluster', 'kafka-cluster:WriteDataIdempotently'],
          resources: [source.clusterArn],
        }),
        new iam.PolicyStatement({
          sid: 'SourceTopicsAndGroups',
          // Read the replicated topics; the replicator also keeps its own internal topics and consumer group on the source.
          actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:DescribeTopicDynamicConfiguration', 'kafka-cluster:ReadData', 'kafka-cluster:CreateTopic', 'kafka-cluster:WriteData', 'kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
          resources: [src.topic('*'), src.group('*')],
        }),
        new iam.PolicyStatement({
          sid: 'TargetCluster',
          actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:AlterCluster', 'kafka-cluster:WriteDataIdempotently'],
          resources: [target.clusterArn],
        }),
        new iam.PolicyStatement({
          sid: 'TargetTopicsAndGroups',
          actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:CreateTopic', 'kafka-cluster:AlterTopic', 'kafka-cluster:WriteData', 'kafka-cluster:ReadData', 'kafka-cluster:DescribeTopicDynamicConfiguration', 'kafka-cluster:AlterTopicDynamicConfiguration', 'kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
          resources: [dst.topic('*'), dst.group('*')],
        }),
      ],
    });
    for (const arn of wildcardArns) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(arn))}]`,
        reason: 'MSK Replicator creates and uses its own internal topics and consumer group whose names it chooses; the wildcard stays inside one of the two named clusters.',
      });
    }

    const key = props.encryptionKey ?? target.encryptionKey;
    if (key) allowCloudWatchLogs(key);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
      ...(key ? { encryptionKey: key } : {}),
    });
    if (!key) {
      Validations.of(this.logGroup).acknowledge({
        id: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
        reason: 'Serverless target without a customer key: replicator logs (status, no record data) use CloudWatch Logs default encryption.',
      });
    }

    const name = props.replicatorName ?? `${source.region}-to-${stack.region}-${this.node.addr.slice(0, 8)}`.replace(/[^a-zA-Z0-9-]/g, '-');
    this.replicator = new msk.CfnReplicator(this, 'Replicator', {
      replicatorName: name,
      description: `ConnectHub events ${source.region} -> ${stack.region}: ${topics.join(', ')}`,
      serviceExecutionRoleArn: this.role.roleArn,
      kafkaClusters: [
        {
          amazonMskCluster: { mskClusterArn: source.clusterArn },
          vpcConfig: { subnetIds: [...source.subnetIds], securityGroupIds: [...source.securityGroupIds] },
        },
        {
          amazonMskCluster: { mskClusterArn: target.clusterArn },
          vpcConfig: { subnetIds: [...target.subnetIds], securityGroupIds: [targetSg.securityGroupId] },
        },
      ],
      replicationInfoList: [{
        sourceKafkaClusterArn: source.clusterArn,
        targetKafkaClusterArn: target.clusterArn,
        targetCompressionType: 'GZIP',
        topicReplication: {
          topicsToReplicate: topics.map((t) => `^${t.replace(/\./g, '\\.')}$`),
          topicNameConfiguration: { type: 'IDENTICAL' },
          startingPosition: { type: props.startingPosition ?? 'LATEST' },
          copyTopicConfigurations: true,
          copyAccessControlListsForTopics: false,
          detectAndCopyNewTopics: true,
        },
        consumerGroupReplication: {
          consumerGroupsToReplicate: [],
          synchroniseConsumerGroupOffsets: false,
          detectAndCopyNewConsumerGroups: false,
        },
      }],
      logDelivery: { replicatorLogDelivery: { cloudWatchLogs: { enabled: true, logGroup: this.logGroup.logGroupName } } },
    });
    this.replicator.node.addDependency(policy);
  }
}
