import { CapacityTierName, WorkloadName } from '../config/environment-config';
import { PER_UNIT } from './per-unit-figures';

/** The load a tier must carry: the plan's "Scaling milestones", plus a dev tier. */
export interface TierTarget {
  readonly concurrentUsers: number;
  readonly messagesPerSecond: number;
  readonly apiRequestsPerSecond: number;
  readonly storageTerabytes: number;
}

export const TIER_TARGETS: Readonly<Record<CapacityTierName, TierTarget>> = {
  dev: { concurrentUsers: 500, messagesPerSecond: 50, apiRequestsPerSecond: 100, storageTerabytes: 0.05 },
  launch: { concurrentUsers: 10_000, messagesPerSecond: 1_000, apiRequestsPerSecond: 5_000, storageTerabytes: 1 },
  'six-month': { concurrentUsers: 100_000, messagesPerSecond: 10_000, apiRequestsPerSecond: 50_000, storageTerabytes: 10 },
  'one-year': { concurrentUsers: 1_000_000, messagesPerSecond: 100_000, apiRequestsPerSecond: 500_000, storageTerabytes: 100 },
};

/** Aurora instance classes we size from, smallest first (vCPU and memory from the RDS instance-class table). */
export const AURORA_CLASSES = [
  { instanceClass: 'r7g.large', vcpu: 2, memoryGiB: 16 },
  { instanceClass: 'r7g.xlarge', vcpu: 4, memoryGiB: 32 },
  { instanceClass: 'r7g.2xlarge', vcpu: 8, memoryGiB: 64 },
  { instanceClass: 'r7g.4xlarge', vcpu: 16, memoryGiB: 128 },
  { instanceClass: 'r7g.8xlarge', vcpu: 32, memoryGiB: 256 },
  { instanceClass: 'r7g.16xlarge', vcpu: 64, memoryGiB: 512 },
  { instanceClass: 'r8g.24xlarge', vcpu: 96, memoryGiB: 768 },
  { instanceClass: 'r8g.48xlarge', vcpu: 192, memoryGiB: 1536 },
] as const;

/** MSK broker sizes: baseline network (EC2 published) and AWS's recommended partition replicas per broker. */
export const MSK_BROKER_TYPES = [
  { instanceType: 'kafka.m7g.large', networkGbps: 0.937, partitionsPerBroker: 1000 },
  { instanceType: 'kafka.m7g.xlarge', networkGbps: 1.876, partitionsPerBroker: 1000 },
  { instanceType: 'kafka.m7g.2xlarge', networkGbps: 3.75, partitionsPerBroker: 2000 },
  { instanceType: 'kafka.m7g.4xlarge', networkGbps: 7.5, partitionsPerBroker: 4000 },
  { instanceType: 'kafka.m7g.8xlarge', networkGbps: 15, partitionsPerBroker: 4000 },
  { instanceType: 'kafka.m7g.16xlarge', networkGbps: 30, partitionsPerBroker: 4000 },
] as const;

/** ElastiCache node types per tier class, with memory from the ElastiCache node-type table. */
const CACHE_NODE = {
  small: { nodeType: 'cache.t4g.medium', memoryGiB: 3.09 },
  standard: { nodeType: 'cache.r7g.large', memoryGiB: 13.07 },
} as const;

/** Kafka topics and the share of the event stream each carries. */
export const TOPICS = ['user-activity', 'feed-updates', 'messages', 'match-notifications'] as const;
export type TopicName = (typeof TOPICS)[number];

/**
 * Retention of each topic, hours: the one source for the topic configuration (`constructs/streaming/kafka-topics.ts`)
 * and for broker storage below. Activity and messages a week (replay and late consumers), derived feeds a day,
 * notifications three days.
 */
export const TOPIC_RETENTION_HOURS: Readonly<Record<TopicName, number>> = {
  'user-activity': 7 * 24,
  'feed-updates': 24,
  messages: 7 * 24,
  'match-notifications': 3 * 24,
};
/** Dead letters are kept two weeks so that an incident can be replayed after it is understood. */
export const DLQ_RETENTION_HOURS = 14 * 24;

const KAFKA_REPLICATION_FACTOR = 3;
/** Kafka's default `log.segment.bytes` (the broker configuration keeps it): retention deletes whole segments only. */
const KAFKA_SEGMENT_GIB = 1;
/** Availability zones of a provisioned cluster: broker counts are multiples of it. */
const MSK_AZS = 3;
const MSK_MAX_BROKERS_PREFERRED = 9;
/** MSK's default quota of Standard brokers per ZooKeeper-based cluster (60 with KRaft; adjustable). */
export const MSK_MAX_BROKERS_PER_CLUSTER = 30;
/** MSK's maximum EBS volume per Standard broker. */
export const MSK_MAX_VOLUME_GIB = 16384;
const AURORA_MAX_CONNECTIONS_CEILING = 5000;
const AVERAGE_QUERY_SECONDS = 0.002;
/** Aurora's cluster-volume ceiling, 128 TiB, in TB. Every region's cluster of a global database holds all of the data. */
export const AURORA_MAX_VOLUME_TB = 128 * 1.099511627776;

/**
 * Months each monthly partition set stays in Aurora before pg_partman detaches it for archival to S3: the retention
 * migration 0003 registers (a test reads it there). Posts and messages 24 months, activity (feed input) 6.
 */
export const PARTITION_RETENTION_MONTHS = { posts: 24, messages: 24, activity: 6 } as const;
export type PartitionedTable = keyof typeof PARTITION_RETENTION_MONTHS;
/** Days partition maintenance keeps published outbox rows and message idempotency guards (`runMaintenance` defaults). */
export const OUTBOX_RETENTION_DAYS = 7;
export const IDEMPOTENCY_RETENTION_DAYS = 30;
const SECONDS_PER_DAY = 86_400;
const SECONDS_PER_MONTH = (365.25 / 12) * SECONDS_PER_DAY;

/** Pod bounds and resources for one workload, per region. */
export interface WorkloadSize {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Pods needed for the tier's whole load with headroom (one region can absorb another's traffic). */
  readonly podsForTierLoad: number;
  readonly cpuRequestMillis: number;
  readonly cpuLimitMillis: number;
  readonly memoryMiB: number;
  /** How the numbers were reached, for the README and audit report. */
  readonly derivation: string;
}

export interface CacheSize {
  readonly nodeType: string;
  readonly shards: number;
  readonly replicasPerShard: number;
  readonly multiAz: boolean;
  readonly peakOpsPerSecond: number;
  readonly workingSetGiB: number;
  readonly derivation: string;
}

export interface StreamingSize {
  readonly mode: 'serverless' | 'provisioned';
  readonly brokerInstanceType: string;
  readonly brokers: number;
  readonly volumeGiB: number;
  readonly maxVolumeGiB: number;
  readonly partitions: Readonly<Record<TopicName, number>>;
  readonly peakEventsPerSecond: number;
  readonly peakIngressMBps: number;
  readonly replicationFactor: number;
  /** Retention per topic, hours (the `.dlq` topics keep {@link DLQ_RETENTION_HOURS}). */
  readonly retentionHours: Readonly<Record<TopicName, number>>;
  readonly dlqRetentionHours: number;
  /** Bytes the brokers hold at the tier target, GiB over the cluster: every replica, dead letters and open segments. */
  readonly retainedGiB: number;
  readonly derivation: string;
}

export interface DatabaseSize {
  readonly instanceClass: string;
  readonly vcpuPerInstance: number;
  /** Readers per region (steady state); auto scaling may add up to `maxReaders`. */
  readonly readers: number;
  readonly maxReaders: number;
  readonly maxConnections: number;
  readonly proxyMaxConnectionsPercent: number;
  readonly peakReadQueriesPerSecond: number;
  readonly peakWriteTransactionsPerSecond: number;
  /** True when even the largest class cannot take the peak with headroom (it still carries the target). */
  readonly writerSaturated: boolean;
  readonly derivation: string;
}

/** What holds hot relational data in Aurora, one share each. */
export type HotDataHolder = 'messages' | 'posts' | 'activity' | 'idempotency' | 'outbox' | 'users';

/**
 * The relational data the Aurora cluster volume holds at the tier's average rates (target / headroom) and the
 * partition retention. Media, and partitions past their retention, are in S3 and bounded by nothing here.
 */
export interface StorageSize {
  readonly retentionMonths: Readonly<Record<PartitionedTable, number>>;
  readonly averageMessagesPerSecond: number;
  /** API writes per second on average: each is counted as a post (the largest row a write leaves) and an activity row. */
  readonly averageWritesPerSecond: number;
  /** Hot data per holder, TB. */
  readonly hotTerabytes: Readonly<Record<HotDataHolder, number>>;
  readonly totalHotTerabytes: number;
  readonly volumeLimitTerabytes: number;
  /** The volume limit / headroom: room for bloat, the detached month awaiting export, and growth between checks. */
  readonly usableTerabytes: number;
  /** False when the hot data exceeds {@link usableTerabytes}: one cluster volume cannot hold this tier (see README). */
  readonly fitsOneVolume: boolean;
  /**
   * The longest retention of messages and posts, up to the configured one (activity at most its own), whose hot data
   * fits the usable volume at these rates: how far the retention must shrink. 0 also when not even the month being
   * written fits (then `fitsOneVolume` is false).
   */
  readonly maxRetentionMonths: number;
  readonly derivation: string;
}

/** Every size of a tier, derived from its target and the per-unit figures. */
export interface CapacityPlan {
  readonly tier: CapacityTierName;
  readonly target: TierTarget;
  readonly workloads: Readonly<Record<WorkloadName, WorkloadSize>>;
  readonly cache: CacheSize;
  readonly streaming: StreamingSize;
  readonly database: DatabaseSize;
  readonly storage: StorageSize;
}

const headroom = PER_UNIT.headroom.value;

function workload(
  podsForLoad: number,
  cpuRequestMillis: number,
  cpuLimitMillis: number,
  memoryMiB: number,
  derivation: string,
): WorkloadSize {
  const minReplicas = PER_UNIT.planMinReplicas.value;
  const maxReplicas = Math.max(PER_UNIT.planMaxReplicas.value, podsForLoad);
  return { minReplicas, maxReplicas, podsForTierLoad: podsForLoad, cpuRequestMillis, cpuLimitMillis, memoryMiB, derivation };
}

/** Events per second on each topic for a target. */
export function topicEventsPerSecond(target: TierTarget): Record<TopicName, number> {
  const writes = target.apiRequestsPerSecond * PER_UNIT.apiWriteFraction.value;
  return {
    'user-activity': writes,
    'feed-updates': writes,
    messages: target.messagesPerSecond,
    // A match is far rarer than a message; one per hundred messages bounds it from above.
    'match-notifications': Math.ceil(target.messagesPerSecond / 100),
  };
}

function deriveWorkloads(target: TierTarget): Record<WorkloadName, WorkloadSize> {
  const apiPods = Math.ceil((target.apiRequestsPerSecond * headroom) / PER_UNIT.apiRequestsPerPod.value);
  const realtimePods = Math.ceil((target.concurrentUsers * headroom) / PER_UNIT.realtimeConnectionsPerPod.value);
  const events = Object.values(topicEventsPerSecond(target)).reduce((a, b) => a + b, 0);
  const workerPods = Math.ceil((events * headroom) / PER_UNIT.workerEventsPerPod.value);
  return {
    api: workload(apiPods, 1000, 2000, 1024,
      `${target.apiRequestsPerSecond} req/s x ${headroom} / ${PER_UNIT.apiRequestsPerPod.value} req/s per pod = ${apiPods} pods`),
    realtime: workload(realtimePods, 1000, 2000, 1536,
      `${target.concurrentUsers} users x ${headroom} / ${PER_UNIT.realtimeConnectionsPerPod.value} sockets per pod = ${realtimePods} pods`),
    worker: workload(workerPods, 500, 1000, 512,
      `${events} events/s x ${headroom} / ${PER_UNIT.workerEventsPerPod.value} events/s per pod = ${workerPods} pods`),
  };
}

function deriveCache(tier: CapacityTierName, target: TierTarget): CacheSize {
  const node = tier === 'dev' ? CACHE_NODE.small : CACHE_NODE.standard;
  const peakOps = Math.ceil(
    (target.apiRequestsPerSecond * PER_UNIT.redisOpsPerApiRequest.value +
      target.messagesPerSecond * PER_UNIT.redisOpsPerMessage.value +
      target.concurrentUsers * PER_UNIT.presenceOpsPerUser.value) * headroom,
  );
  const workingSetGiB = (target.concurrentUsers * PER_UNIT.cacheBytesPerUser.value * headroom) / 1024 ** 3;
  const byOps = Math.ceil(peakOps / PER_UNIT.redisOpsPerShard.value);
  const byMemory = Math.ceil(workingSetGiB / (node.memoryGiB * PER_UNIT.redisUsableMemoryShare.value));
  const shards = Math.max(1, byOps, byMemory);
  // dev: one primary, no replica (smallest that works). launch: one replica per shard. Larger: two, across AZs.
  const replicasPerShard = tier === 'dev' ? 0 : tier === 'launch' ? 1 : 2;
  return {
    nodeType: node.nodeType,
    shards,
    replicasPerShard,
    multiAz: replicasPerShard > 0,
    peakOpsPerSecond: peakOps,
    workingSetGiB: Math.round(workingSetGiB * 100) / 100,
    derivation: `shards = max(1, ${peakOps} ops/s / ${PER_UNIT.redisOpsPerShard.value} = ${byOps}, ` +
      `${workingSetGiB.toFixed(2)} GiB / (${node.memoryGiB} GiB x ${PER_UNIT.redisUsableMemoryShare.value}) = ${byMemory})`,
  };
}

/**
 * What the brokers hold when the tier runs at its target, GiB over the whole cluster: each topic's events x event size
 * x its retention, the dead letters over their retention, every replica, and per partition replica one segment that
 * retention cannot delete yet (Kafka deletes whole segments, and never the open one).
 */
export function kafkaRetainedGiB(perTopic: Readonly<Record<TopicName, number>>, partitionReplicas: number): number {
  const bytes = TOPICS.reduce((sum, topic) => sum + perTopic[topic] * PER_UNIT.eventBytes.value * 3600 *
    (TOPIC_RETENTION_HOURS[topic] + PER_UNIT.deadLetterShare.value * DLQ_RETENTION_HOURS), 0);
  return (bytes * KAFKA_REPLICATION_FACTOR) / 1024 ** 3 + partitionReplicas * KAFKA_SEGMENT_GIB;
}

function roundUpToAzs(brokers: number): number {
  return Math.max(MSK_AZS, Math.ceil(brokers / MSK_AZS) * MSK_AZS);
}

function deriveStreaming(tier: CapacityTierName, target: TierTarget, workerMaxPods: number): StreamingSize {
  const perTopic = topicEventsPerSecond(target);
  const events = Object.values(perTopic).reduce((a, b) => a + b, 0);
  const peakIngressMBps = (events * headroom * PER_UNIT.eventBytes.value) / 1e6;
  const partitions = Object.fromEntries(
    TOPICS.map((topic) => [topic, Math.max(6, Math.ceil((perTopic[topic] * headroom) / PER_UNIT.eventsPerPartition.value))]),
  ) as Record<TopicName, number>;
  const partitionReplicas = Object.values(partitions).reduce((a, b) => a + b, 0) * 2 /* dead-letter topics */ * KAFKA_REPLICATION_FACTOR;

  // Storage: the retained bytes with headroom, spread over the brokers. Add brokers (whole AZ rows) until each volume
  // stays below MSK's per-broker maximum, which storage auto scaling may still grow into.
  const retainedGiB = kafkaRetainedGiB(perTopic, partitionReplicas);
  const volumeFor = (brokers: number) => Math.max(100, Math.ceil((retainedGiB * headroom) / brokers / 100) * 100);
  let storageBrokers = MSK_AZS;
  while (volumeFor(storageBrokers) >= MSK_MAX_VOLUME_GIB) storageBrokers += MSK_AZS;

  // The smallest broker type that carries the traffic within the preferred count, or within the count storage needs
  // anyway (then more, smaller brokers cost less than the same count of larger ones).
  const brokerLimit = Math.max(MSK_MAX_BROKERS_PREFERRED, storageBrokers);
  const egressMultiplier = KAFKA_REPLICATION_FACTOR - 1 + PER_UNIT.consumerFanOut.value;
  let chosen: { instanceType: string; brokers: number; perBrokerMBps: number; byTraffic: number } | undefined;
  for (const type of MSK_BROKER_TYPES) {
    const perBrokerMBps = (type.networkGbps * 125 * PER_UNIT.brokerNetworkShare.value) / egressMultiplier;
    const byThroughput = Math.ceil(peakIngressMBps / perBrokerMBps);
    const byPartitions = Math.ceil(partitionReplicas / type.partitionsPerBroker);
    const byTraffic = roundUpToAzs(Math.max(byThroughput, byPartitions));
    chosen = { instanceType: type.instanceType, brokers: Math.max(byTraffic, storageBrokers), perBrokerMBps, byTraffic };
    if (chosen.brokers <= brokerLimit) break;
  }
  const { instanceType, brokers, perBrokerMBps, byTraffic } = chosen!;
  const volumeGiB = volumeFor(brokers);
  const retention = TOPICS.map((t) => `${t} ${TOPIC_RETENTION_HOURS[t]} h`).join(', ');
  return {
    mode: tier === 'dev' ? 'serverless' : 'provisioned',
    brokerInstanceType: instanceType,
    brokers,
    volumeGiB,
    maxVolumeGiB: MSK_MAX_VOLUME_GIB,
    partitions,
    peakEventsPerSecond: Math.ceil(events * headroom),
    peakIngressMBps: Math.round(peakIngressMBps * 100) / 100,
    replicationFactor: KAFKA_REPLICATION_FACTOR,
    retentionHours: TOPIC_RETENTION_HOURS,
    dlqRetentionHours: DLQ_RETENTION_HOURS,
    retainedGiB: Math.ceil(retainedGiB),
    derivation: `${peakIngressMBps.toFixed(1)} MB/s peak ingress / ${perBrokerMBps.toFixed(1)} MB/s per ${instanceType} ` +
      `(network x ${PER_UNIT.brokerNetworkShare.value} / ${egressMultiplier}) -> ${byTraffic} brokers over ${MSK_AZS} AZs; ` +
      `storage: topic events x ${PER_UNIT.eventBytes.value} B x retention (${retention}; dead letters ` +
      `${PER_UNIT.deadLetterShare.value} x ${DLQ_RETENTION_HOURS} h) x RF ${KAFKA_REPLICATION_FACTOR} + ${KAFKA_SEGMENT_GIB} GiB ` +
      `per partition replica = ${Math.ceil(retainedGiB)} GiB; x ${headroom} / ${brokers} brokers = ${volumeGiB} GiB per broker ` +
      `(MSK maximum ${MSK_MAX_VOLUME_GIB}${storageBrokers > byTraffic ? `; storage needs ${storageBrokers} brokers` : ''}); ` +
      `partitions = max(6, topic events x ${headroom} / ${PER_UNIT.eventsPerPartition.value}); worker max ${workerMaxPods} pods`,
  };
}

function deriveDatabase(tier: CapacityTierName, target: TierTarget, regionCount: number): DatabaseSize {
  const reads = target.apiRequestsPerSecond * (1 - PER_UNIT.apiWriteFraction.value) * PER_UNIT.cacheMissRatio.value *
    PER_UNIT.queriesPerApiRequest.value * headroom;
  // Every message and every API write is one transaction (its row, idempotency key or follower fan-out, outbox row).
  const writes = (target.messagesPerSecond + target.apiRequestsPerSecond * PER_UNIT.apiWriteFraction.value) * headroom;
  const writerVcpu = writes / PER_UNIT.writeTransactionsPerVcpu.value;
  const cls = AURORA_CLASSES.find((c) => c.vcpu >= writerVcpu) ?? AURORA_CLASSES[AURORA_CLASSES.length - 1];
  const writerSaturated = cls.vcpu < writerVcpu;
  const readerVcpuAll = reads / PER_UNIT.readQueriesPerVcpu.value;
  const minReaders = tier === 'dev' ? 0 : 1;
  const readersForAll = Math.ceil(readerVcpuAll / cls.vcpu);
  // dev runs the writer alone; every other tier keeps a reader per region for failover and read scaling.
  const readers = tier === 'dev' ? 0 : Math.max(minReaders, Math.ceil(readersForAll / regionCount));
  const maxReaders = Math.min(15, Math.max(readers, readersForAll, tier === 'dev' ? 1 : 2));
  const concurrent = (reads + writes) * AVERAGE_QUERY_SECONDS;
  const maxConnections = Math.min(AURORA_MAX_CONNECTIONS_CEILING, Math.max(PER_UNIT.planMaxConnections.value, Math.ceil(concurrent * 2)));
  return {
    instanceClass: cls.instanceClass,
    vcpuPerInstance: cls.vcpu,
    readers,
    maxReaders,
    maxConnections,
    proxyMaxConnectionsPercent: 90,
    peakReadQueriesPerSecond: Math.ceil(reads),
    peakWriteTransactionsPerSecond: Math.ceil(writes),
    writerSaturated,
    derivation: `writer: ${Math.ceil(writes)} transactions/s / ${PER_UNIT.writeTransactionsPerVcpu.value} per vCPU = ` +
      `${writerVcpu.toFixed(1)} vCPU -> db.${cls.instanceClass}` +
      `${writerSaturated ? ' (the largest class: the peak with headroom exceeds one writer; see README)' : ''}; readers: ${Math.ceil(reads)} queries/s / ` +
      `${PER_UNIT.readQueriesPerVcpu.value} per vCPU over ${regionCount} region(s); max_connections = ` +
      `clamp(2 x ${concurrent.toFixed(0)} concurrent statements, ${PER_UNIT.planMaxConnections.value}, ${AURORA_MAX_CONNECTIONS_CEILING})`,
  };
}

const TB = 1e12;

/** Hot data per holder, TB, at average rates and the given retention (the partition being written counts as a month). */
function hotData(target: TierTarget, retention: Readonly<Record<PartitionedTable, number>>): Record<HotDataHolder, number> {
  const messages = target.messagesPerSecond / headroom;
  const writes = (target.apiRequestsPerSecond * PER_UNIT.apiWriteFraction.value) / headroom;
  // pg_partman detaches a month only once all of it is older than the retention: with the month being written,
  // retention + 1 monthly partitions are online.
  const months = (table: PartitionedTable) => (retention[table] + 1) * SECONDS_PER_MONTH;
  return {
    messages: (messages * months('messages') * PER_UNIT.messageRowBytes.value) / TB,
    posts: (writes * months('posts') * PER_UNIT.postRowBytes.value) / TB,
    activity: ((messages + writes) * months('activity') * PER_UNIT.activityRowBytes.value) / TB,
    idempotency: (messages * IDEMPOTENCY_RETENTION_DAYS * SECONDS_PER_DAY * PER_UNIT.idempotencyRowBytes.value) / TB,
    outbox: ((messages + writes) * OUTBOX_RETENTION_DAYS * SECONDS_PER_DAY * PER_UNIT.outboxRowBytes.value) / TB,
    users: (target.concurrentUsers * PER_UNIT.registeredUsersPerConcurrentUser.value * PER_UNIT.userBytes.value) / TB,
  };
}

const sum = (values: Readonly<Record<string, number>>) => Object.values(values).reduce((a, b) => a + b, 0);
const tb = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(2));

/**
 * The hot relational data of a target at a partition retention, checked against one Aurora cluster volume. Exported so
 * that a test can ask about rates and retentions no tier has.
 */
export function deriveStorage(
  target: TierTarget,
  retentionMonths: Readonly<Record<PartitionedTable, number>> = PARTITION_RETENTION_MONTHS,
): StorageSize {
  for (const [table, months] of Object.entries(retentionMonths)) {
    if (!Number.isInteger(months) || months < 0) {
      throw new Error(`retentionMonths.${table} = ${months} is not allowed: expected a whole number of months >= 0`);
    }
  }
  const hot = hotData(target, retentionMonths);
  const total = sum(hot);
  const usable = AURORA_MAX_VOLUME_TB / headroom;
  // The longest common retention of messages and posts that fits (activity keeps at most its own).
  const longest = Math.max(retentionMonths.messages, retentionMonths.posts);
  let maxRetentionMonths = 0;
  for (let m = longest; m >= 0; m--) {
    const shorter = { posts: m, messages: m, activity: Math.min(m, retentionMonths.activity) };
    if (sum(hotData(target, shorter)) <= usable) {
      maxRetentionMonths = m;
      break;
    }
  }
  const fitsOneVolume = total <= usable;
  const monthsFit = fitsOneVolume ? ''
    : sum(hotData(target, { posts: 0, messages: 0, activity: 0 })) > usable
      ? '; not even the month being written fits: one volume cannot hold this tier (shard, or Aurora Limitless Database)'
      : `; it holds ${maxRetentionMonths} month(s) of messages and posts (README)`;
  const averageMessagesPerSecond = target.messagesPerSecond / headroom;
  const averageWritesPerSecond = (target.apiRequestsPerSecond * PER_UNIT.apiWriteFraction.value) / headroom;
  return {
    retentionMonths,
    averageMessagesPerSecond: Math.round(averageMessagesPerSecond),
    averageWritesPerSecond: Math.round(averageWritesPerSecond),
    hotTerabytes: Object.fromEntries(Object.entries(hot).map(([k, v]) => [k, Math.round(v * 1000) / 1000])) as Record<HotDataHolder, number>,
    totalHotTerabytes: Math.round(total * 1000) / 1000,
    volumeLimitTerabytes: Math.round(AURORA_MAX_VOLUME_TB * 10) / 10,
    usableTerabytes: Math.round(usable * 10) / 10,
    fitsOneVolume,
    maxRetentionMonths,
    derivation: `average ${averageMessagesPerSecond.toFixed(0)} messages/s and ${averageWritesPerSecond.toFixed(0)} writes/s ` +
      `(target / ${headroom}) x bytes per row x (retention + 1) months: messages ${tb(hot.messages)} TB ` +
      `(${retentionMonths.messages} months x ${PER_UNIT.messageRowBytes.value} B), posts ${tb(hot.posts)} TB ` +
      `(${retentionMonths.posts} x ${PER_UNIT.postRowBytes.value} B), activity ${tb(hot.activity)} TB ` +
      `(${retentionMonths.activity} x ${PER_UNIT.activityRowBytes.value} B), idempotency ${tb(hot.idempotency)} TB ` +
      `(${IDEMPOTENCY_RETENTION_DAYS} days), outbox ${tb(hot.outbox)} TB (${OUTBOX_RETENTION_DAYS} days), users ${tb(hot.users)} TB ` +
      `(${PER_UNIT.registeredUsersPerConcurrentUser.value} x ${target.concurrentUsers} x ${PER_UNIT.userBytes.value} B) = ` +
      `${tb(total)} TB hot against ${tb(usable)} TB usable (128 TiB / ${headroom})${monthsFit}; media and archived ` +
      'partitions are in S3',
  };
}

/** Derives every size of a tier. Pure: same input, same output. */
export function deriveCapacity(tier: CapacityTierName, regionCount = 1): CapacityPlan {
  const target = TIER_TARGETS[tier];
  const workloads = deriveWorkloads(target);
  return {
    tier,
    target,
    workloads,
    cache: deriveCache(tier, target),
    streaming: deriveStreaming(tier, target, workloads.worker.maxReplicas),
    database: deriveDatabase(tier, target, regionCount),
    storage: deriveStorage(target),
  };
}

/** What a plan can carry at most, computed back from its sizes and the per-unit figures (used to prove the sizes). */
export function carriedLoad(plan: CapacityPlan): TierTarget & { readonly eventsPerSecond: number } {
  const w = plan.workloads;
  const cls = AURORA_CLASSES.find((c) => c.instanceClass === plan.database.instanceClass)!;
  const readerQps = plan.database.maxReaders * cls.vcpu * PER_UNIT.readQueriesPerVcpu.value;
  const readBoundApi = readerQps / ((1 - PER_UNIT.apiWriteFraction.value) * PER_UNIT.cacheMissRatio.value * PER_UNIT.queriesPerApiRequest.value);
  const writerTransactions = cls.vcpu * PER_UNIT.writeTransactionsPerVcpu.value;
  const cacheOps = plan.cache.shards * PER_UNIT.redisOpsPerShard.value;
  const type = MSK_BROKER_TYPES.find((t) => t.instanceType === plan.streaming.brokerInstanceType)!;
  const perBrokerMBps = (type.networkGbps * 125 * PER_UNIT.brokerNetworkShare.value) /
    (KAFKA_REPLICATION_FACTOR - 1 + PER_UNIT.consumerFanOut.value);
  const streamEvents = (plan.streaming.brokers * perBrokerMBps * 1e6) / PER_UNIT.eventBytes.value;
  const workerEvents = w.worker.maxReplicas * PER_UNIT.workerEventsPerPod.value;
  const api = Math.min(w.api.maxReplicas * PER_UNIT.apiRequestsPerPod.value, readBoundApi,
    cacheOps / PER_UNIT.redisOpsPerApiRequest.value);
  // Messages the writer and the cache still carry while serving the tier's API traffic and connected users.
  const { apiRequestsPerSecond: targetApi, concurrentUsers: users } = plan.target;
  const messages = Math.min(
    writerTransactions - targetApi * PER_UNIT.apiWriteFraction.value,
    (cacheOps - targetApi * PER_UNIT.redisOpsPerApiRequest.value - users * PER_UNIT.presenceOpsPerUser.value) / PER_UNIT.redisOpsPerMessage.value,
  );
  const cacheUsers = (plan.cache.shards * (plan.cache.nodeType === CACHE_NODE.small.nodeType ? CACHE_NODE.small.memoryGiB : CACHE_NODE.standard.memoryGiB) *
    PER_UNIT.redisUsableMemoryShare.value * 1024 ** 3) / PER_UNIT.cacheBytesPerUser.value;
  return {
    apiRequestsPerSecond: Math.floor(api),
    messagesPerSecond: Math.floor(messages),
    concurrentUsers: Math.floor(Math.min(w.realtime.maxReplicas * PER_UNIT.realtimeConnectionsPerPod.value, cacheUsers)),
    // Total data in the tier's own mix: media and archived partitions are in S3 (no ceiling), so what bounds the total
    // is the hot relational data, which grows with it. Scaling the tier's data until the hot part fills the usable
    // volume gives the total the plan holds: below the target exactly when the hot data does not fit.
    storageTerabytes: (plan.target.storageTerabytes * plan.storage.usableTerabytes) / plan.storage.totalHotTerabytes,
    eventsPerSecond: Math.floor(Math.min(streamEvents, workerEvents)),
  };
}
