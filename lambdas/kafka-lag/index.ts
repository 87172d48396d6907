import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { KafkaAdminPort } from '../kafka-common/admin-port';
import { KafkajsAdmin } from '../kafka-common/kafkajs-admin';
import { measureLag, type LagScope } from './lag';
import { METRIC_NAMESPACE, publishMetricData, toMetricData } from './publish';

/** Settings read from the function's environment. */
export interface LagPublisherSettings {
  readonly bootstrapBrokers: string;
  readonly region: string;
  readonly namespace: string;
  readonly scope: LagScope;
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Reads and validates the environment: `BOOTSTRAP_BROKERS` (required), `AWS_REGION` (set by Lambda),
 * `METRIC_NAMESPACE` (default ConnectHub/Streaming), `TOPICS` (comma list; empty = all), `GROUP_PREFIX`
 * (discovery prefix; empty = none), `SUBSCRIPTIONS` (JSON `[{ "groupId": "...", "topics": ["..."] }]`).
 * Throws one error naming every bad setting.
 */
export function readSettings(env: Record<string, string | undefined>): LagPublisherSettings {
  const problems: string[] = [];
  const bootstrapBrokers = env.BOOTSTRAP_BROKERS ?? '';
  if (list(bootstrapBrokers).length === 0) problems.push(`BOOTSTRAP_BROKERS is ${JSON.stringify(env.BOOTSTRAP_BROKERS)}; allowed: a comma-separated host:port list`);
  const region = env.AWS_REGION ?? '';
  if (region === '') problems.push('AWS_REGION is not set; allowed: an AWS region name (Lambda sets it)');
  let subscriptions: LagScope['subscriptions'] = [];
  if (env.SUBSCRIPTIONS && env.SUBSCRIPTIONS.trim() !== '') {
    try {
      const parsed = JSON.parse(env.SUBSCRIPTIONS);
      const ok = Array.isArray(parsed) && parsed.every((s) => typeof s?.groupId === 'string' && s.groupId !== '' && Array.isArray(s.topics) && s.topics.every((t: unknown) => typeof t === 'string'));
      if (!ok) throw new Error('wrong shape');
      subscriptions = parsed;
    } catch {
      problems.push(`SUBSCRIPTIONS is ${JSON.stringify(env.SUBSCRIPTIONS)}; allowed: JSON [{"groupId": "...", "topics": ["..."]}]`);
    }
  }
  const groupPrefix = env.GROUP_PREFIX ?? '';
  if (subscriptions.length === 0 && groupPrefix === '') problems.push('GROUP_PREFIX and SUBSCRIPTIONS are both empty; allowed: at least one of them, or no group is measured');
  if (problems.length > 0) throw new Error(`Invalid consumer-lag publisher settings:\n- ${problems.join('\n- ')}`);
  return { bootstrapBrokers, region, namespace: env.METRIC_NAMESPACE || METRIC_NAMESPACE, scope: { subscriptions, groupPrefix, topics: list(env.TOPICS) } };
}

/** Result of one run, also the Lambda's return value. */
export interface LagRunResult {
  readonly groups: number;
  readonly datums: number;
  readonly requests: number;
  readonly failures: readonly { readonly groupId: string; readonly error: string }[];
}

/**
 * One run: measure, publish whatever was measured, then fail the invocation if any group could not be measured
 * (so the function's Errors metric shows it) after the good data points are already in CloudWatch.
 */
export async function runOnce(admin: KafkaAdminPort, cloudwatch: CloudWatchClient, settings: LagPublisherSettings, now: Date): Promise<LagRunResult> {
  try {
    const report = await measureLag(admin, settings.scope);
    const data = toMetricData(report.groups, now);
    const requests = await publishMetricData(cloudwatch, data, settings.namespace);
    const result = { groups: report.groups.length, datums: data.length, requests, failures: report.failures };
    console.log(JSON.stringify({ msg: 'consumer lag published', ...result }));
    if (report.failures.length > 0) {
      throw new Error(`Consumer lag could not be measured for: ${report.failures.map((f) => `${f.groupId} (${f.error})`).join('; ')}`);
    }
    return result;
  } finally {
    await admin.disconnect();
  }
}

let cloudwatch: CloudWatchClient | undefined;

/** Lambda entry point (EventBridge schedule). */
export async function handler(): Promise<LagRunResult> {
  const settings = readSettings(process.env);
  cloudwatch ??= new CloudWatchClient({ region: settings.region });
  const admin = new KafkajsAdmin({ bootstrapBrokers: settings.bootstrapBrokers, region: settings.region, clientId: 'connecthub-kafka-lag' });
  return runOnce(admin, cloudwatch, settings, new Date());
}
