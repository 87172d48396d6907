/**
 * The small Kafka-admin port the two streaming Lambdas (topic reconciliation and consumer-lag publishing)
 * depend on. The logic that matters (what to create, grow or refuse; how lag is computed) is written against
 * this interface and tested with the in-process implementation (`in-memory-kafka-admin.ts`). The real
 * implementation (`kafkajs-admin.ts`) is a thin adapter over kafkajs with MSK IAM authentication; no Kafka
 * broker exists in this repository's test environment, so that adapter is the untested boundary.
 *
 * Offsets are decimal strings, as Kafka's int64 offsets do not fit a JavaScript number in general.
 */

/** A topic as it exists on the cluster. */
export interface TopicDescription {
  /** Topic name. */
  readonly name: string;
  /** Number of partitions. */
  readonly partitions: number;
  /** Replicas per partition (taken from partition 0). */
  readonly replicationFactor: number;
  /** Topic-level (dynamic) configuration overrides, e.g. `retention.ms`. Broker defaults are not listed. */
  readonly config: Readonly<Record<string, string>>;
}

/** A topic to create. */
export interface NewTopic {
  readonly name: string;
  readonly partitions: number;
  /** Replicas per partition; `undefined` lets the cluster choose (MSK Serverless fixes it at 3). */
  readonly replicationFactor?: number;
  readonly config: Readonly<Record<string, string>>;
}

/** Offsets of one partition of a topic: `low` is the log start offset, `high` the log end offset (next offset to be written). */
export interface PartitionOffsets {
  readonly partition: number;
  readonly low: string;
  readonly high: string;
}

/** The offset a consumer group committed for one partition; `'-1'` means no committed offset. */
export interface CommittedOffset {
  readonly partition: number;
  readonly offset: string;
}

/** Committed offsets of one consumer group on one topic. */
export interface TopicCommittedOffsets {
  readonly topic: string;
  readonly partitions: readonly CommittedOffset[];
}

/** The operations the streaming Lambdas need from a Kafka cluster. */
export interface KafkaAdminPort {
  /** All non-internal topics (names not starting with `__`) with their partition counts, replication factors and overrides. */
  listTopics(): Promise<TopicDescription[]>;
  /** Creates the given topics. Fails if one already exists. */
  createTopics(topics: readonly NewTopic[]): Promise<void>;
  /** Grows each topic to `count` partitions in total (Kafka can only add partitions). */
  createPartitions(updates: readonly { readonly topic: string; readonly count: number }[]): Promise<void>;
  /** Sets the given topic-level configuration keys; keys not mentioned keep their current value. */
  alterTopicConfig(topic: string, entries: Readonly<Record<string, string>>): Promise<void>;
  /** Ids of all consumer groups known to the cluster. */
  listConsumerGroups(): Promise<string[]>;
  /** Low and high watermark of every partition of a topic. */
  fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /**
   * Committed offsets of a consumer group. With `topics`, every partition of those topics is listed (`'-1'` where
   * nothing is committed); without, only the topics on which the group has committed something.
   */
  fetchCommittedOffsets(groupId: string, topics?: readonly string[]): Promise<TopicCommittedOffsets[]>;
  /** Closes connections. */
  disconnect(): Promise<void>;
}

/** The value Kafka returns for a partition on which a group has not committed an offset. */
export const NO_COMMITTED_OFFSET = '-1';
