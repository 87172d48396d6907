import { Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { RedisCache } from '../../constructs/cache/redis-cache';
import { ConsumerLagPublisher } from '../../constructs/streaming/consumer-lag-publisher';
import { KafkaCluster } from '../../constructs/streaming/kafka-cluster';
import { connectHubTopicSpecs, KafkaTopics } from '../../constructs/streaming/kafka-topics';
import { CacheSize, StreamingSize, TOPICS } from '../capacity/capacity-model';
import { RegionConfig } from '../config/environment-config';
import { DataProtection } from '../policy/data-protection';
import { importSecurityGroup, importVpc, NETWORK_KEYS, publishValue } from '../wiring/shared-parameters';

/** Keys this stack publishes for the platform and observability stacks. */
export const CACHE_STREAMING_KEYS = {
  redisEndpoint: 'cache/configuration-endpoint',
  redisPort: 'cache/port',
  redisSecretArn: 'cache/secret-arn',
  redisUserName: 'cache/user-name',
  redisSecurityGroupId: 'cache/security-group-id',
  redisReplicationGroupId: 'cache/replication-group-id',
  kafkaClusterArn: 'streaming/cluster-arn',
  kafkaClusterName: 'streaming/cluster-name',
  kafkaBootstrapBrokers: 'streaming/bootstrap-brokers',
  kafkaSecurityGroupId: 'streaming/security-group-id',
} as const;

/** The cache's port: not the default 6379, so that scanners looking for open Redis find nothing. */
export const CACHE_PORT = 6380;

/** Worker consumer groups start with this prefix (backend contract); the lag publisher watches them. */
export const WORKER_CONSUMER_GROUP_PREFIX = 'connecthub-worker-';

export interface CacheStreamingStackProps extends StackProps {
  readonly envName: string;
  readonly regionConfig: RegionConfig;
  readonly cache: CacheSize;
  readonly streaming: StreamingSize;
  readonly protection: DataProtection;
}

/**
 * Per-region, stateful: the ElastiCache (Valkey) replication group for cache-aside and real-time fan-out, and the
 * MSK cluster with its topics (reconciled at deploy) and the consumer-lag publisher that feeds autoscaling.
 */
export class CacheStreamingStack extends Stack {
  public readonly cache: RedisCache;
  public readonly kafka: KafkaCluster;

  constructor(scope: Construct, id: string, props: CacheStreamingStackProps) {
    super(scope, id, props);
    const { envName, regionConfig, cache, streaming, protection } = props;
    const region = regionConfig.region;
    const vpc = importVpc(this, envName, regionConfig);
    const workloads = importSecurityGroup(this, 'WorkloadSecurityGroup', envName, region, NETWORK_KEYS.workloadSecurityGroupId);
    const isolated = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    const privateSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

    this.cache = new RedisCache(this, 'Cache', {
      vpc,
      subnets: isolated,
      allowedPeers: [workloads],
      port: CACHE_PORT,
      nodeType: cache.nodeType,
      shards: cache.shards,
      replicasPerShard: cache.replicasPerShard,
      snapshotRetentionDays: props.protection.deletionProtection ? 7 : 0,
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
        }
        : {}),
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
      logRetention: protection.logRetention,
      encryptionKey: functionLogKey,
    });

    const publish = (key: string, value: string) => publishValue(this, envName, region, key, value);
    publish(CACHE_STREAMING_KEYS.redisEndpoint, this.cache.configurationEndpoint);
    publish(CACHE_STREAMING_KEYS.redisPort, String(this.cache.port));
    publish(CACHE_STREAMING_KEYS.redisSecretArn, this.cache.secret.secretArn);
    publish(CACHE_STREAMING_KEYS.redisUserName, this.cache.appUserName);
    publish(CACHE_STREAMING_KEYS.redisSecurityGroupId, this.cache.securityGroup.securityGroupId);
    publish(CACHE_STREAMING_KEYS.redisReplicationGroupId, this.cache.replicationGroup.ref);
    publish(CACHE_STREAMING_KEYS.kafkaClusterArn, this.kafka.clusterArn);
    publish(CACHE_STREAMING_KEYS.kafkaClusterName, this.kafka.clusterName);
    publish(CACHE_STREAMING_KEYS.kafkaBootstrapBrokers, this.kafka.bootstrapBrokers);
    publish(CACHE_STREAMING_KEYS.kafkaSecurityGroupId, this.kafka.securityGroup.securityGroupId);
  }
}
