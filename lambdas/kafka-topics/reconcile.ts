import type { KafkaAdminPort, NewTopic, TopicDescription } from '../kafka-common/admin-port';
import type { TopicSpec } from '../kafka-common/topic-spec';

/** What reconciliation will do (or did). */
export interface ReconcilePlan {
  /** Topics to create. */
  readonly create: readonly NewTopic[];
  /** Topics whose partition count grows. */
  readonly grow: readonly { readonly topic: string; readonly from: number; readonly to: number }[];
  /** Topic-level configuration keys to set on existing topics (only those whose value differs). */
  readonly configure: readonly { readonly topic: string; readonly entries: Readonly<Record<string, string>> }[];
  /** Topics that already match. */
  readonly unchanged: readonly string[];
}

/** Raised when the desired state cannot be reached without losing data; nothing has been changed. */
export class TopicReconciliationRefused extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Kafka topic reconciliation refused; nothing was changed:\n- ${problems.join('\n- ')}`);
    this.name = 'TopicReconciliationRefused';
  }
}

/**
 * Compares the desired topics with the cluster and decides what to do. Kafka cannot remove partitions (messages
 * are assigned to partitions by key hash, so removing one would lose its data and reorder keys), and changing a
 * replication factor needs a partition reassignment: both are refused, listing every offending topic, before any
 * change is made. Topics on the cluster that are not in the desired list are left alone.
 */
export function planReconciliation(desired: readonly TopicSpec[], existing: readonly TopicDescription[]): ReconcilePlan {
  const byName = new Map(existing.map((t) => [t.name, t]));
  const create: NewTopic[] = [];
  const grow: { topic: string; from: number; to: number }[] = [];
  const configure: { topic: string; entries: Record<string, string> }[] = [];
  const unchanged: string[] = [];
  const problems: string[] = [];

  for (const spec of desired) {
    const current = byName.get(spec.name);
    const config = { ...(spec.config ?? {}) };
    if (!current) {
      create.push({ name: spec.name, partitions: spec.partitions, replicationFactor: spec.replicationFactor, config });
      continue;
    }
    if (spec.partitions < current.partitions) {
      problems.push(
        `topic "${spec.name}" has ${current.partitions} partitions on the cluster and the desired count is ${spec.partitions}; ` +
          `Kafka cannot remove partitions, so set partitions to ${current.partitions} or more`,
      );
    }
    if (spec.replicationFactor !== undefined && spec.replicationFactor !== current.replicationFactor) {
      problems.push(
        `topic "${spec.name}" has replication factor ${current.replicationFactor} on the cluster and the desired one is ${spec.replicationFactor}; ` +
          `changing it needs a partition reassignment, which this resource does not perform`,
      );
    }
    const changed: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
      if (current.config[key] !== value) changed[key] = value;
    }
    const grows = spec.partitions > current.partitions;
    if (grows) grow.push({ topic: spec.name, from: current.partitions, to: spec.partitions });
    if (Object.keys(changed).length > 0) configure.push({ topic: spec.name, entries: changed });
    if (!grows && Object.keys(changed).length === 0 && spec.partitions === current.partitions) unchanged.push(spec.name);
  }

  if (problems.length > 0) throw new TopicReconciliationRefused(problems);
  return { create, grow, configure, unchanged };
}

/** Reads the cluster, plans, and applies the plan. Idempotent: a second run with the same input changes nothing. */
export async function reconcileTopics(admin: KafkaAdminPort, desired: readonly TopicSpec[]): Promise<ReconcilePlan> {
  const plan = planReconciliation(desired, await admin.listTopics());
  if (plan.create.length > 0) await admin.createTopics(plan.create);
  if (plan.grow.length > 0) await admin.createPartitions(plan.grow.map((g) => ({ topic: g.topic, count: g.to })));
  for (const c of plan.configure) await admin.alterTopicConfig(c.topic, c.entries);
  return plan;
}
