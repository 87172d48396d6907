import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Where alarm notifications go. Every list may be empty; values are validated at synth. */
export interface AlertSubscriptions {
  /** E-mail addresses (each recipient confirms the subscription once). @default - none */
  readonly emails?: readonly string[];
  /** HTTPS endpoints (for example a paging or chat webhook); must start with https://. @default - none */
  readonly httpsUrls?: readonly string[];
  /**
   * ARNs of SQS queues in this account and region. The queue's owner must allow `sns:SendMessage`
   * from this topic and, for a KMS-encrypted queue, let SNS use the queue's key. @default - none
   */
  readonly sqsQueueArns?: readonly string[];
}

export interface AlertTopicProps {
  readonly subscriptions?: AlertSubscriptions;
  /**
   * What happens to the topic's KMS key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly keyRemovalPolicy?: RemovalPolicy;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SQS_ARN = /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

/** Problems with alert subscriptions, each naming the field, the value and what is allowed. */
export function validateAlertSubscriptions(s: AlertSubscriptions | undefined, field = 'subscriptions'): string[] {
  const problems: string[] = [];
  (s?.emails ?? []).forEach((e, i) => {
    if (!Token.isUnresolved(e) && !EMAIL.test(e)) problems.push(`${field}.emails[${i}] "${e}" is not an e-mail address (name@domain.tld)`);
  });
  (s?.httpsUrls ?? []).forEach((u, i) => {
    if (Token.isUnresolved(u)) return;
    let ok = false;
    try {
      ok = new URL(u).protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) problems.push(`${field}.httpsUrls[${i}] "${u}" is not an https:// URL`);
  });
  (s?.sqsQueueArns ?? []).forEach((a, i) => {
    if (!Token.isUnresolved(a) && !SQS_ARN.test(a)) problems.push(`${field}.sqsQueueArns[${i}] "${a}" is not an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>)`);
  });
  const all = [...(s?.emails ?? []), ...(s?.httpsUrls ?? []), ...(s?.sqsQueueArns ?? [])];
  const dup = all.filter((v, i) => !Token.isUnresolved(v) && all.indexOf(v) !== i);
  if (dup.length > 0) problems.push(`${field} lists ${[...new Set(dup)].map((d) => `"${d}"`).join(', ')} more than once`);
  return problems;
}

/**
 * The alarm topic: SNS encrypted with a customer-managed KMS key (rotation on), TLS-only publishing,
 * CloudWatch (alarms) allowed to publish, and subscriptions from configuration.
 */
export class AlertTopic extends Construct {
  public readonly topic: sns.Topic;
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlertTopicProps = {}) {
    super(scope, id);
    const problems = validateAlertSubscriptions(props.subscriptions);
    if (problems.length > 0) throw new Error(`AlertTopic ${this.node.path}: ${problems.join('; ')}`);

    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the ConnectHub alarm topic ${this.node.path}`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: props.keyRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'ConnectHub alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    // CloudWatch alarms publish to the encrypted topic: the key must let the service use it.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseKey',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    for (const email of props.subscriptions?.emails ?? []) this.topic.addSubscription(new subs.EmailSubscription(email));
    for (const url of props.subscriptions?.httpsUrls ?? []) this.topic.addSubscription(new subs.UrlSubscription(url, { protocol: sns.SubscriptionProtocol.HTTPS }));
    (props.subscriptions?.sqsQueueArns ?? []).forEach((arn, i) => {
      this.topic.addSubscription(new subs.SqsSubscription(sqs.Queue.fromQueueArn(this, `Queue${i}`, arn), { rawMessageDelivery: false }));
    });
  }
}
