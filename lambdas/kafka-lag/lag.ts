import type { KafkaAdminPort, PartitionOffsets } from '../kafka-common/admin-port';

/**
 * Lag of one partition for one consumer group, in records.
 *
 * The rule (tested in test/streaming/lag.test.ts):
 * - empty partition (log end offset <= log start offset, i.e. nothing retained): 0;
 * - no committed offset (`'-1'` or absent; a new group, or a partition added after the group last committed): every
 *   retained record is pending, `high - low`, because ConnectHub workers start from the earliest offset;
 * - committed offset below the log start (retention deleted records the group never read): `high - low`, as the
 *   consumer will reset to the earliest retained record;
 * - otherwise `max(0, high - committed)`.
 */
export function partitionLag(offsets: Pick<PartitionOffsets, 'low' | 'high'>, committed: string | undefined): bigint {
  const low = BigInt(offsets.low);
  const high = BigInt(offsets.high);
  if (high <= low) return 0n;
  const c = committed === undefined || committed === '' ? -1n : BigInt(committed);
  if (c < 0n || c < low) return high - low;
  return c >= high ? 0n : high - c;
}

/** Lag of one group on one topic. */
export interface TopicLag {
  readonly topic: string;
  /** Sum over the topic's partitions. */
  readonly lag: number;
  /** Number of partitions on the topic. */
  readonly partitions: number;
  /** Partitions without a committed offset for this group. */
  readonly uncommittedPartitions: number;
}

/** Lag of one consumer group. */
export interface GroupLag {
  readonly groupId: string;
  readonly topics: readonly TopicLag[];
  /** Sum over the group's topics. */
  readonly total: number;
}

/** Which groups and topics to measure. */
export interface LagScope {
  /** Explicit group -> topics subscriptions; measured even before the group has committed anything. */
  readonly subscriptions: readonly { readonly groupId: string; readonly topics: readonly string[] }[];
  /** Groups whose id starts with this prefix are discovered; their topics are those they have committed offsets on. Empty: no discovery. */
  readonly groupPrefix: string;
  /** Only these topics are measured (discovered groups' other topics are ignored). Empty: all. */
  readonly topics: readonly string[];
}

/** The outcome of one measurement run: lags per group, and groups that could not be measured. */
export interface LagReport {
  readonly groups: readonly GroupLag[];
  readonly failures: readonly { readonly groupId: string; readonly error: string }[];
}

function toNumber(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/**
 * Measures lag for every group in scope. Topic watermarks are read once per topic per run and shared by all groups.
 * A failure on one group is reported and does not stop the others.
 */
export async function measureLag(admin: KafkaAdminPort, scope: LagScope): Promise<LagReport> {
  const allowed = new Set(scope.topics);
  const inScope = (topic: string) => allowed.size === 0 || allowed.has(topic);

  const wanted = new Map<string, Set<string>>();
  for (const s of scope.subscriptions) {
    const set = wanted.get(s.groupId) ?? new Set<string>();
    s.topics.filter(inScope).forEach((t) => set.add(t));
    wanted.set(s.groupId, set);
  }
  const failures: { groupId: string; error: string }[] = [];
  if (scope.groupPrefix !== '') {
    for (const groupId of await admin.listConsumerGroups()) {
      if (!groupId.startsWith(scope.groupPrefix)) continue;
      try {
        const committed = await admin.fetchCommittedOffsets(groupId);
        const set = wanted.get(groupId) ?? new Set<string>();
        committed.filter((t) => inScope(t.topic) && t.partitions.some((p) => BigInt(p.offset) >= 0n)).forEach((t) => set.add(t.topic));
        wanted.set(groupId, set);
      } catch (err) {
        failures.push({ groupId, error: (err as Error).message });
      }
    }
  }

  const watermarks = new Map<string, Promise<PartitionOffsets[]>>();
  const topicOffsets = (topic: string) => {
    let p = watermarks.get(topic);
    if (!p) watermarks.set(topic, (p = admin.fetchTopicOffsets(topic)));
    return p;
  };

  const groups: GroupLag[] = [];
  for (const [groupId, topicSet] of [...wanted.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (failures.some((f) => f.groupId === groupId)) continue;
    const topics = [...topicSet].sort();
    if (topics.length === 0) continue;
    try {
      const committed = await admin.fetchCommittedOffsets(groupId, topics);
      const byTopic = new Map(committed.map((t) => [t.topic, new Map(t.partitions.map((p) => [p.partition, p.offset]))]));
      const topicLags: TopicLag[] = [];
      for (const topic of topics) {
        const offsets = await topicOffsets(topic);
        const commits = byTopic.get(topic) ?? new Map<number, string>();
        let lag = 0n;
        let uncommitted = 0;
        for (const o of offsets) {
          const c = commits.get(o.partition);
          if (c === undefined || BigInt(c) < 0n) uncommitted += 1;
          lag += partitionLag(o, c);
        }
        topicLags.push({ topic, lag: toNumber(lag), partitions: offsets.length, uncommittedPartitions: uncommitted });
      }
      groups.push({ groupId, topics: topicLags, total: topicLags.reduce((s, t) => s + t.lag, 0) });
    } catch (err) {
      failures.push({ groupId, error: (err as Error).message });
    }
  }
  return { groups, failures };
}
