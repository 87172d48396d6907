import type {
  CommittedOffset,
  KafkaAdminPort,
  NewTopic,
  PartitionOffsets,
  TopicCommittedOffsets,
  TopicDescription,
} from './admin-port';
import { NO_COMMITTED_OFFSET } from './admin-port';

interface PartitionState {
  low: bigint;
  high: bigint;
}

interface TopicState {
  partitions: PartitionState[];
  replicationFactor: number;
  config: Record<string, string>;
}

/** One call made through the port, recorded for assertions. */
export interface AdminCall {
  readonly op: 'createTopics' | 'createPartitions' | 'alterTopicConfig';
  readonly args: unknown;
}

/**
 * An in-process Kafka cluster model implementing {@link KafkaAdminPort} with Kafka's rules: creating an existing
 * topic fails, partitions can only be added, committed offsets are per group/topic/partition, `'-1'` where none.
 * Used by the tests of the reconciliation and lag logic; also handy for local dry runs.
 */
export class InMemoryKafkaAdmin implements KafkaAdminPort {
  /** Mutating calls in order. */
  public readonly calls: AdminCall[] = [];
  private readonly topics = new Map<string, TopicState>();
  private readonly groups = new Map<string, Map<string, Map<number, bigint>>>();
  private readonly defaultReplicationFactor: number;
  private connected = true;

  constructor(options: { defaultReplicationFactor?: number } = {}) {
    this.defaultReplicationFactor = options.defaultReplicationFactor ?? 3;
  }

  // ---- test helpers: shape the cluster state ------------------------------------------------------------

  /** Creates a topic directly (not recorded as a call). */
  seedTopic(name: string, partitions: number, replicationFactor = this.defaultReplicationFactor, config: Record<string, string> = {}): this {
    this.topics.set(name, {
      partitions: Array.from({ length: partitions }, () => ({ low: 0n, high: 0n })),
      replicationFactor,
      config: { ...config },
    });
    return this;
  }

  /** Appends `count` records to one partition. */
  produce(topic: string, partition: number, count: number): this {
    const p = this.partition(topic, partition);
    p.high += BigInt(count);
    return this;
  }

  /** Deletes records below `low` (retention), as Kafka does. */
  truncate(topic: string, partition: number, low: number): this {
    const p = this.partition(topic, partition);
    p.low = BigInt(low);
    if (p.high < p.low) p.high = p.low;
    return this;
  }

  /** Commits an offset for a consumer group. */
  commit(groupId: string, topic: string, partition: number, offset: number): this {
    this.partition(topic, partition);
    let byTopic = this.groups.get(groupId);
    if (!byTopic) this.groups.set(groupId, (byTopic = new Map()));
    let byPartition = byTopic.get(topic);
    if (!byPartition) byTopic.set(topic, (byPartition = new Map()));
    byPartition.set(partition, BigInt(offset));
    return this;
  }

  /** Registers a group that has joined but committed nothing. */
  addGroup(groupId: string): this {
    if (!this.groups.has(groupId)) this.groups.set(groupId, new Map());
    return this;
  }

  /** Current state of one topic, or undefined. */
  describe(name: string): TopicDescription | undefined {
    const t = this.topics.get(name);
    return t && { name, partitions: t.partitions.length, replicationFactor: t.replicationFactor, config: { ...t.config } };
  }

  get isConnected(): boolean {
    return this.connected;
  }

  // ---- KafkaAdminPort ----------------------------------------------------------------------------------

  async listTopics(): Promise<TopicDescription[]> {
    return [...this.topics.keys()].filter((n) => !n.startsWith('__')).sort().map((n) => this.describe(n)!);
  }

  async createTopics(topics: readonly NewTopic[]): Promise<void> {
    this.calls.push({ op: 'createTopics', args: topics.map((t) => ({ ...t, config: { ...t.config } })) });
    for (const t of topics) {
      if (this.topics.has(t.name)) throw new Error(`Topic with this name already exists: ${t.name}`);
    }
    for (const t of topics) this.seedTopic(t.name, t.partitions, t.replicationFactor ?? this.defaultReplicationFactor, { ...t.config });
  }

  async createPartitions(updates: readonly { readonly topic: string; readonly count: number }[]): Promise<void> {
    this.calls.push({ op: 'createPartitions', args: updates.map((u) => ({ ...u })) });
    for (const u of updates) {
      const t = this.topics.get(u.topic);
      if (!t) throw new Error(`This server does not host this topic-partition: ${u.topic}`);
      if (u.count <= t.partitions.length) {
        throw new Error(`Topic ${u.topic} currently has ${t.partitions.length} partitions, ${u.count} would not be an increase.`);
      }
    }
    for (const u of updates) {
      const t = this.topics.get(u.topic)!;
      while (t.partitions.length < u.count) t.partitions.push({ low: 0n, high: 0n });
    }
  }

  async alterTopicConfig(topic: string, entries: Readonly<Record<string, string>>): Promise<void> {
    this.calls.push({ op: 'alterTopicConfig', args: { topic, entries: { ...entries } } });
    const t = this.topics.get(topic);
    if (!t) throw new Error(`This server does not host this topic-partition: ${topic}`);
    Object.assign(t.config, entries);
  }

  async listConsumerGroups(): Promise<string[]> {
    return [...this.groups.keys()].sort();
  }

  async fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]> {
    const t = this.topics.get(topic);
    if (!t) throw new Error(`This server does not host this topic-partition: ${topic}`);
    return t.partitions.map((p, partition) => ({ partition, low: p.low.toString(), high: p.high.toString() }));
  }

  async fetchCommittedOffsets(groupId: string, topics?: readonly string[]): Promise<TopicCommittedOffsets[]> {
    const byTopic = this.groups.get(groupId) ?? new Map<string, Map<number, bigint>>();
    const names = topics ?? [...byTopic.keys()].sort();
    return names.map((topic) => {
      const t = this.topics.get(topic);
      if (!t) throw new Error(`This server does not host this topic-partition: ${topic}`);
      const committed = byTopic.get(topic);
      const partitions: CommittedOffset[] = topics
        ? t.partitions.map((_, partition) => ({ partition, offset: committed?.get(partition)?.toString() ?? NO_COMMITTED_OFFSET }))
        : [...(committed ?? new Map<number, bigint>()).entries()].sort(([a], [b]) => a - b).map(([partition, offset]) => ({ partition, offset: offset.toString() }));
      return { topic, partitions };
    });
  }

  async disconnect(): Promise<void> {
    this.connected = false;
  }

  private partition(topic: string, partition: number): PartitionState {
    const t = this.topics.get(topic);
    if (!t || !t.partitions[partition]) throw new Error(`No partition ${partition} of topic ${topic}`);
    return t.partitions[partition];
  }
}
