import { Fn, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ACTIVITY_CONSUMER_GROUP, TOPIC_NAMES } from '../../backend/src/contract';
import { RedisCache } from '../../constructs/cache/redis-cache';
import { ConsumerLagPublisher } from '../../constructs/streaming/consumer-lag-publisher';
import { CrossRegionReplication, ReplicationSource } from '../../constructs/streaming/cross-region-replication';
import { KafkaCluster } from '../../constructs/streaming/kafka-cluster';
import { connectHubTopicSpecs, KafkaTopics } from '../../constructs/streaming/kafka-topics';
import { CacheSize, StreamingSize, TOPICS } from '../capacity/capacity-model';
import { KafkaReplicationMode, RegionConfig } from '../config/environment-config';
import { DataProtection } from '../policy/data-protection';
import { CrossRegionParameter } from '../wiring/cross-region-parameter';
import { importSecurityGroup, importVpc, NETWORK_KEYS, publishValue } from '../wiring/shared-parameters';

/** Keys this stack publishes for the platform and observability stacks. */
export const CACHE_STREAMING_KEYS = {
  redisEndpoint: 'cache/configuration-endpoint',
  redisPort: 'cache/port',
  redisSecretArn: 'cache/secret-arn',
  /** The customer-managed key of the Redis secret: readers of the secret need kms:Decrypt on it. */
  redisSecretKeyArn: 'cache/secret-key-arn',
  redisUserName: 'cache/user-name',
  redisSecurityGroupId: 'cache/security-group-id',
  redisReplicationGroupId: 'cache/replication-group-id',
  kafkaClusterArn: 'streaming/cluster-arn',
  kafkaClusterName: 'streaming/cluster-name',
  kafkaBootstrapBrokers: 'streaming/bootstrap-brokers',
  kafkaSecurityGroupId: 'streaming/security-group-id',
  /** Primary region with replication `prepare`/`on`: the brokers' subnets (comma-separated), for MSK Replicator. */
  kafkaSubnetIds: 'streaming/subnet-ids',
  /** Primary region with replication `prepare`/`on`: the security group for MSK Replicator's ENIs in this VPC. */
  kafkaReplicatorSecurityGroupId: 'streaming/replicator-security-group-id',
} as const;

/** Cross-region Kafka replication as this region's stack sees it. */
export interface CacheStreamingReplicationProps {
  /** The environment's phase (`off`, `prepare`, `on`); see `KAFKA_REPLICATION_MODES`. */
  readonly mode: KafkaReplicationMode;
  /** The environment's primary region, whose cluster is the replicator source. */
  readonly primaryRegion: string;
  /** Availability zones of the primary region (its brokers use one subnet per zone). */
  readonly primaryZoneCount: number;
}

/** The cache's port: not the default 6379, so that scanners looking for open Redis find nothing. */
export const CACHE_PORT = 6380;

/** Worker consumer groups start with this prefix (backend contract); the lag publisher watches them. */
export const WORKER_CONSUMER_GROUP_PREFIX = 'connecthub-worker-';

/**
 * Days of daily cache snapshots in environments that keep data (staging, prod); dev and pr-N take none. The cache
 * only holds derived data with TTLs of 30 minutes or less, so a restored snapshot warms almost nothing. What a snapshot
 * is good for is finding out what the cache served, for example after a bug wrote wrong entries. A week covers an
 * incident found after a weekend or a release cycle. Longer would keep snapshots of user data that has no use.
 */
export const CACHE_SNAPSHOT_RETENTION_DAYS = 7;

export interface CacheStreamingStackProps extends StackProps {
  readonly envName: string;
  readonly regionConfig: RegionConfig;
  readonly cache: CacheSize;
  readonly streaming: StreamingSize;
  readonly protection: DataProtection;
  /**
   * Cross-region Kafka replication. In the primary region `prepare` and `on` turn on multi-VPC IAM connectivity and
   * the replicator access on its cluster; in a secondary region `on` adds the replicator from the primary.
   * @default no replication
   */
  readonly replication?: CacheStreamingReplicationProps;
}

/**
 * Per-region, stateful: the ElastiCache (Valkey) replication group for cache-aside and real-time fan-out, and the
 * MSK cluster with its topics (reconciled at deploy) and the consumer-lag publisher that feeds autoscaling.
 */
export class CacheStreamingStack extends Stack {
  public readonly cache: RedisCache;
  public readonly kafka: KafkaCluster;
  /** The replicator from the primary region (secondary regions with replication `on` only). */
  public readonly replication?: CrossRegionReplication;

  constructor(scope: Construct, id: string, props: CacheStreamingStackProps) {
    super(scope, id, props);
    const { envName, regionConfig, cache, streaming, protection } = props;
    const region = regionConfig.region;
    // Cache and brokers in the isolated tier; the Lambdas that call AWS APIs in the private tier (egress).
    const vpc = importVpc(this, envName, regionConfig, ['isolated', 'private']);
    const workloads = importSecurityGroup(this, 'WorkloadSecurityGroup', envName, region, NETWORK_KEYS.workloadSecurityGroupId);
    const isolated = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    const privateSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const replication = props.replication ?? { mode: 'off', primaryRegion: region, primaryZoneCount: regionConfig.availabilityZones.length };
    const isPrimary = region === replication.primaryRegion;
    const replicates = !isPrimary && replication.mode === 'on';

    this.cache = new RedisCache(this, 'Cache', {
      vpc,
      subnets: isolated,
      allowedPeers: [workloads],
      port: CACHE_PORT,
      nodeType: cache.nodeType,
      shards: cache.shards,
      replicasPerShard: cache.replicasPerShard,
      snapshotRetentionDays: protection.snapshotRemovalPolicy === RemovalPolicy.SNAPSHOT ? CACHE_SNAPSHOT_RETENTION_DAYS : 0,
      logRetention: protection.logRetention,
      removalPolicy: protection.snapshotRemovalPolicy,
    });

    this.kafka = new KafkaCluster(this, 'Kafka', {
      mode: streaming.mode,
      vpc,
      subnets: isolated,
      allowedPeers: [workloads],
      ...(streaming.mode === 'provisioned'
        ? {
          brokerCount: streaming.brokers,
          instanceType: streaming.brokerInstanceType,
          ebsVolumeGiB: streaming.volumeGiB,
          maxEbsVolumeGiB: streaming.maxVolumeGiB,
          // Only set when replicating, so that `off` leaves the template exactly as it was.
          ...(isPrimary && replication.mode !== 'off' ? { multiVpcIamConnectivity: true } : {}),
        }
        : {}),
      // The stack's AwsCustomResource function (the bootstrap-broker lookup, the cross-region reads) calls the Kafka
      // and SSM APIs: it runs in the private subnets with egress (isolated subnets have no route to either).
      lookupSubnets: privateSubnets,
      logRetention: protection.logRetention,
      removalPolicy: protection.removalPolicy,
    });

    // Logs of the topic and lag functions; MSK Serverless has no key of its own.
    const functionLogKey = this.kafka.encryptionKey ?? new kms.Key(this, 'StreamingFunctionsKey', {
      description: 'Encrypts the logs of the Kafka topic and consumer-lag functions',
      enableKeyRotation: true,
      removalPolicy: protection.removalPolicy,
    });
    new KafkaTopics(this, 'Topics', {
      cluster: this.kafka,
      clusterSecurityGroup: this.kafka.securityGroup,
      vpc,
      subnets: privateSubnets,
      topics: connectHubTopicSpecs({
        partitions: streaming.partitions,
        replicationFactor: streaming.mode === 'provisioned' ? streaming.replicationFactor : undefined,
      }),
      logRetention: protection.logRetention,
      encryptionKey: functionLogKey,
    });
    new ConsumerLagPublisher(this, 'ConsumerLag', {
      cluster: this.kafka,
      clusterSecurityGroup: this.kafka.securityGroup,
      vpc,
      subnets: privateSubnets,
      topics: [...TOPICS],
      consumerGroupPrefix: WORKER_CONSUMER_GROUP_PREFIX,
      // The worker's group is measured from the first run: before its first commit, every retained record is lag.
      subscriptions: [{ groupId: ACTIVITY_CONSUMER_GROUP, topics: [...TOPIC_NAMES] }],
      logRetention: protection.logRetention,
      encryptionKey: functionLogKey,
    });

    if (replicates) {
      this.replication = new CrossRegionReplication(this, 'ReplicationFromPrimary', {
        source: this.readPrimaryCluster(envName, replication, streaming, vpc),
        target: this.kafka,
        topics: [...TOPICS],
        logRetention: protection.logRetention,
      });
    }

    const publish = (key: string, value: string) => publishValue(this, envName, region, key, value);
    publish(CACHE_STREAMING_KEYS.redisEndpoint, this.cache.configurationEndpoint);
    publish(CACHE_STREAMING_KEYS.redisPort, String(this.cache.port));
    publish(CACHE_STREAMING_KEYS.redisSecretArn, this.cache.secret.secretArn);
    publish(CACHE_STREAMING_KEYS.redisSecretKeyArn, this.cache.encryptionKey.keyArn);
    publish(CACHE_STREAMING_KEYS.redisUserName, this.cache.appUserName);
    publish(CACHE_STREAMING_KEYS.redisSecurityGroupId, this.cache.securityGroup.securityGroupId);
    publish(CACHE_STREAMING_KEYS.redisReplicationGroupId, this.cache.replicationGroup.ref);
    publish(CACHE_STREAMING_KEYS.kafkaClusterArn, this.kafka.clusterArn);
    publish(CACHE_STREAMING_KEYS.kafkaClusterName, this.kafka.clusterName);
    publish(CACHE_STREAMING_KEYS.kafkaBootstrapBrokers, this.kafka.bootstrapBrokers);
    publish(CACHE_STREAMING_KEYS.kafkaSecurityGroupId, this.kafka.securityGroup.securityGroupId);
    if (isPrimary && replication.mode !== 'off') {
      // The source side of the secondaries' replicators: cluster policy for MSK Replicator and a security group for
      // its ENIs in this VPC, admitted to the brokers; the secondaries read these values across regions.
      const replicatorSg = this.kafka.allowMskReplicatorAccess({ crossRegionSource: true });
      publish(CACHE_STREAMING_KEYS.kafkaSubnetIds, Fn.join(',', [...this.kafka.subnetIds]));
      publish(CACHE_STREAMING_KEYS.kafkaReplicatorSecurityGroupId, replicatorSg.securityGroupId);
    }
  }

  /**
   * The primary cluster as a replicator source, read from the primary region's parameters at deploy time. The reads
   * run in the stack's shared AwsCustomResource function, which the Kafka cluster's lookup has placed in the private
   * subnets with egress (a call to another region's SSM endpoint needs NAT; the isolated subnets have no route out).
   */
  private readPrimaryCluster(envName: string, replication: CacheStreamingReplicationProps, streaming: StreamingSize, vpc: ec2.IVpc): ReplicationSource {
    const read = (id: string, key: string) => new CrossRegionParameter(this, `Primary-${id}`, {
      envName,
      sourceRegion: replication.primaryRegion,
      key,
      vpc,
    }).value;
    const clusterArn = read('KafkaClusterArn', CACHE_STREAMING_KEYS.kafkaClusterArn);
    return {
      clusterArn,
      // arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>
      clusterName: Fn.select(1, Fn.split('/', clusterArn, 3)),
      region: replication.primaryRegion,
      mode: 'provisioned',
      brokerCount: streaming.brokers,
      instanceType: streaming.brokerInstanceType,
      multiVpcIamConnectivity: true,
      subnetIds: Fn.split(',', read('KafkaSubnetIds', CACHE_STREAMING_KEYS.kafkaSubnetIds), replication.primaryZoneCount),
      securityGroupIds: [read('KafkaReplicatorSecurityGroupId', CACHE_STREAMING_KEYS.kafkaReplicatorSecurityGroupId)],
    };
  }
}
