/**
 * The desired-topic description shared by the CDK construct (which validates it at synth) and the topic
 * reconciliation Lambda (which parses it from the custom-resource properties, where CloudFormation has turned
 * every number into a string). Plain data and functions only: no CDK, no AWS SDK.
 */

/** One topic as it should exist on the cluster. */
export interface TopicSpec {
  /** Topic name: letters, digits, `.`, `_`, `-`; at most 249 characters. */
  readonly name: string;
  /** Partition count; may only grow once the topic exists. */
  readonly partitions: number;
  /** Replicas per partition; omit to let the cluster decide (required on MSK Serverless, which fixes it at 3). */
  readonly replicationFactor?: number;
  /** Topic-level configuration, e.g. `{ 'retention.ms': '604800000', 'cleanup.policy': 'delete' }`. */
  readonly config?: Readonly<Record<string, string>>;
}

/** Kafka's own limit on topic name length. */
export const MAX_TOPIC_NAME_LENGTH = 249;
/** A sanity bound on partitions per topic; far above what the capacity model produces. */
export const MAX_PARTITIONS = 10_000;

const TOPIC_NAME = /^[A-Za-z0-9._-]+$/;
const CONFIG_KEY = /^[a-z0-9]+(\.[a-z0-9]+)*$/;

function toInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

/** Problems with one topic spec (empty when valid). `where` prefixes each message, e.g. `topics[2]`. */
export function topicSpecProblems(spec: TopicSpec, where: string): string[] {
  const problems: string[] = [];
  const name = spec.name;
  if (typeof name !== 'string' || !TOPIC_NAME.test(name) || name === '.' || name === '..' || name.length > MAX_TOPIC_NAME_LENGTH) {
    problems.push(`${where}.name is ${JSON.stringify(name)}; allowed: 1-${MAX_TOPIC_NAME_LENGTH} characters of letters, digits, '.', '_' and '-' (not '.' or '..')`);
  }
  if (!Number.isInteger(spec.partitions) || spec.partitions < 1 || spec.partitions > MAX_PARTITIONS) {
    problems.push(`${where}.partitions is ${JSON.stringify(spec.partitions)}; allowed: an integer from 1 to ${MAX_PARTITIONS}`);
  }
  if (spec.replicationFactor !== undefined && (!Number.isInteger(spec.replicationFactor) || spec.replicationFactor < 1 || spec.replicationFactor > 32)) {
    problems.push(`${where}.replicationFactor is ${JSON.stringify(spec.replicationFactor)}; allowed: an integer from 1 to 32, or omitted`);
  }
  for (const [key, value] of Object.entries(spec.config ?? {})) {
    if (!CONFIG_KEY.test(key)) problems.push(`${where}.config key ${JSON.stringify(key)} is not a Kafka topic configuration name (lower-case words joined by '.')`);
    if (typeof value !== 'string') problems.push(`${where}.config[${JSON.stringify(key)}] is ${JSON.stringify(value)}; allowed: a string`);
  }
  return problems;
}

/** Problems with a whole list: each spec, plus duplicate names. */
export function topicListProblems(specs: readonly TopicSpec[], where = 'topics'): string[] {
  const problems: string[] = [];
  if (!Array.isArray(specs) || specs.length === 0) return [`${where} is empty; allowed: at least one topic`];
  const seen = new Set<string>();
  specs.forEach((spec, i) => {
    problems.push(...topicSpecProblems(spec, `${where}[${i}]`));
    if (seen.has(spec.name)) problems.push(`${where}[${i}].name ${JSON.stringify(spec.name)} appears more than once; allowed: each topic once`);
    seen.add(spec.name);
  });
  return problems;
}

/**
 * Parses the topic list as it arrives in custom-resource properties (numbers as strings) and validates it.
 * Throws one error listing every problem.
 */
export function parseTopicSpecs(raw: unknown): TopicSpec[] {
  if (!Array.isArray(raw)) {
    throw new Error(`Topics is ${JSON.stringify(raw)}; allowed: a list of { name, partitions, replicationFactor?, config? }`);
  }
  const specs: TopicSpec[] = raw.map((item: any) => {
    const replicationFactor = item?.replicationFactor === undefined || item?.replicationFactor === '' ? undefined : toInteger(item.replicationFactor) ?? item.replicationFactor;
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(item?.config ?? {})) config[key] = typeof value === 'number' || typeof value === 'boolean' ? String(value) : (value as string);
    return {
      name: item?.name,
      partitions: toInteger(item?.partitions) ?? item?.partitions,
      ...(replicationFactor === undefined ? {} : { replicationFactor }),
      config,
    } as TopicSpec;
  });
  const problems = topicListProblems(specs, 'Topics');
  if (problems.length > 0) throw new Error(`Invalid topic list:\n- ${problems.join('\n- ')}`);
  return specs;
}
