/**
 * Who hears the alarms: every SNS topic that CloudWatch alarms of the templates notify, with its subscriptions
 * (`AWS::SNS::Subscription` resources and the topic's inline `Subscription` list). A staging or prod topic without
 * subscribers is flagged: its alarms change state and page nobody.
 */
import { AssemblyStack, constructPath, sortedResources } from './cloud-assembly';
import { renderValue } from './render-value';
import { compare } from './stateful-resources';

/** One topic alarms notify. */
export interface AlarmTopic {
  readonly stack: string;
  readonly region: string;
  /** Logical id of the topic, or its rendered ARN when it is not defined in this stack. */
  readonly topic: string;
  readonly path: string;
  /** Metric and composite alarms of the stack that notify it (on ALARM, OK or INSUFFICIENT_DATA). */
  readonly alarms: number;
  /** `protocol endpoint` per subscription, sorted; empty when nobody is subscribed (or the topic lives elsewhere). */
  readonly subscriptions: string[];
  /** False for a topic defined outside the stack: its subscriptions cannot be read from the templates. */
  readonly definedHere: boolean;
}

const ALARM_TYPES = new Set(['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm']);
const ACTIONS = ['AlarmActions', 'OKActions', 'InsufficientDataActions'];

function topicKey(action: any): string {
  return typeof action?.Ref === 'string' ? action.Ref : renderValue(action);
}

/** Every topic the alarms of the stacks notify, sorted by stack and topic. */
export function alarmTopics(stacks: readonly AssemblyStack[]): AlarmTopic[] {
  const found: AlarmTopic[] = [];
  for (const stack of stacks) {
    const resources = stack.template.Resources ?? {};
    const alarmsByTopic = new Map<string, number>();
    for (const [, r] of sortedResources(stack.template)) {
      if (!ALARM_TYPES.has(r.Type)) continue;
      const targets = new Set(ACTIONS.flatMap((k) => (r.Properties?.[k] ?? []) as unknown[]).map(topicKey));
      for (const t of targets) alarmsByTopic.set(t, (alarmsByTopic.get(t) ?? 0) + 1);
    }
    for (const [topic, alarms] of alarmsByTopic) {
      const resource = resources[topic];
      // Alarm actions can also be Auto Scaling, EC2 or Systems Manager ARNs: only SNS topics are recipients.
      if (resource && resource.Type !== 'AWS::SNS::Topic') continue;
      if (!resource && !/:sns:/.test(topic)) continue;
      const subscriptions = resource
        ? [
          ...((resource.Properties?.Subscription ?? []) as any[]).map((s) => `${s.Protocol} ${renderValue(s.Endpoint)}`),
          ...Object.values(resources)
            .filter((s) => s.Type === 'AWS::SNS::Subscription' && s.Properties?.TopicArn?.Ref === topic)
            .map((s) => `${s.Properties.Protocol} ${renderValue(s.Properties.Endpoint)}`),
        ].sort(compare)
        : [];
      found.push({
        stack: stack.stackName,
        region: stack.region,
        topic,
        path: resource ? constructPath(stack, topic, resource) : '',
        alarms,
        subscriptions,
        definedHere: resource !== undefined,
      });
    }
  }
  return found.sort((a, b) => compare(a.stack, b.stack) || compare(a.topic, b.topic));
}

/**
 * Problems with the recipients: for environments whose alarms must reach someone (staging and prod), every topic of
 * the stacks without a subscriber.
 */
export function alarmRecipientProblems(env: string, topics: readonly AlarmTopic[], recipientsRequired: boolean): string[] {
  if (!recipientsRequired) return [];
  return topics
    .filter((t) => t.definedHere && t.subscriptions.length === 0)
    .map((t) => `no alarm subscribers: ${t.stack} topic ${t.topic} is notified by ${t.alarms} alarm(s) and reaches nobody; ` +
      `set \`-c ${env}:alarmEmails=oncall@example.com[,...]\` (docs/observability.md, "Alarm recipients")`);
}
