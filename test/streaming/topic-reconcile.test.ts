import { InMemoryKafkaAdmin } from '../../lambdas/kafka-common/in-memory-kafka-admin';
import { parseTopicSpecs, topicListProblems, type TopicSpec } from '../../lambdas/kafka-common/topic-spec';
import { createHandler, type TopicsResourceEvent } from '../../lambdas/kafka-topics/index';
import { planReconciliation, reconcileTopics, TopicReconciliationRefused } from '../../lambdas/kafka-topics/reconcile';

const week = String(7 * 24 * 3600 * 1000);
const desired: TopicSpec[] = [
  { name: 'user-activity', partitions: 12, replicationFactor: 3, config: { 'retention.ms': week, 'cleanup.policy': 'delete' } },
  { name: 'user-activity.dlq', partitions: 3, replicationFactor: 3, config: { 'retention.ms': week } },
  { name: 'messages', partitions: 24, replicationFactor: 3, config: {} },
];

beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));

describe('topic reconciliation against the in-process admin port', () => {
  test('creates every missing topic with partitions, replication factor and config', async () => {
    const admin = new InMemoryKafkaAdmin();
    const plan = await reconcileTopics(admin, desired);
    expect(plan.create.map((t) => t.name)).toEqual(['user-activity', 'user-activity.dlq', 'messages']);
    expect(admin.describe('user-activity')).toEqual({
      name: 'user-activity', partitions: 12, replicationFactor: 3, config: { 'retention.ms': week, 'cleanup.policy': 'delete' },
    });
    expect(admin.describe('messages')?.partitions).toBe(24);
    expect(admin.calls.map((c) => c.op)).toEqual(['createTopics']);
  });

  test('grows partitions of an existing topic and keeps the others as they are', async () => {
    const admin = new InMemoryKafkaAdmin()
      .seedTopic('user-activity', 6, 3, { 'retention.ms': week, 'cleanup.policy': 'delete' })
      .seedTopic('user-activity.dlq', 3, 3, { 'retention.ms': week })
      .seedTopic('messages', 24, 3);
    const plan = await reconcileTopics(admin, desired);
    expect(plan.grow).toEqual([{ topic: 'user-activity', from: 6, to: 12 }]);
    expect(plan.create).toEqual([]);
    expect(plan.unchanged).toEqual(['user-activity.dlq', 'messages']);
    expect(admin.describe('user-activity')?.partitions).toBe(12);
    expect(admin.calls).toEqual([{ op: 'createPartitions', args: [{ topic: 'user-activity', count: 12 }] }]);
  });

  test('refuses a shrink, naming the topic and both counts, and changes nothing (not even other topics)', async () => {
    const admin = new InMemoryKafkaAdmin().seedTopic('user-activity', 16, 3).seedTopic('messages', 30, 3);
    await expect(reconcileTopics(admin, desired)).rejects.toThrow(TopicReconciliationRefused);
    await expect(reconcileTopics(admin, desired)).rejects.toThrow(
      /topic "user-activity" has 16 partitions on the cluster and the desired count is 12[\s\S]*topic "messages" has 30 partitions on the cluster and the desired count is 24/,
    );
    expect(admin.calls).toEqual([]);
    expect(admin.describe('user-activity.dlq')).toBeUndefined();
  });

  test('is a no-op when the cluster already matches, and a second run after a change is a no-op too', async () => {
    const admin = new InMemoryKafkaAdmin();
    await reconcileTopics(admin, desired);
    const callsAfterFirst = admin.calls.length;
    const plan = await reconcileTopics(admin, desired);
    expect(plan).toEqual({ create: [], grow: [], configure: [], unchanged: ['user-activity', 'user-activity.dlq', 'messages'] });
    expect(admin.calls.length).toBe(callsAfterFirst);
  });

  test('sets only the config keys whose value differs, and leaves unmanaged overrides alone', async () => {
    const admin = new InMemoryKafkaAdmin()
      .seedTopic('user-activity', 12, 3, { 'retention.ms': '3600000', 'cleanup.policy': 'delete', 'segment.ms': '600000' })
      .seedTopic('user-activity.dlq', 3, 3, { 'retention.ms': week })
      .seedTopic('messages', 24, 3);
    const plan = await reconcileTopics(admin, desired);
    expect(plan.configure).toEqual([{ topic: 'user-activity', entries: { 'retention.ms': week } }]);
    expect(admin.describe('user-activity')?.config).toEqual({ 'retention.ms': week, 'cleanup.policy': 'delete', 'segment.ms': '600000' });
  });

  test('refuses a replication-factor change, and accepts an unspecified one (MSK Serverless)', () => {
    expect(() => planReconciliation([{ name: 'messages', partitions: 24, replicationFactor: 2 }], [
      { name: 'messages', partitions: 24, replicationFactor: 3, config: {} },
    ])).toThrow(/topic "messages" has replication factor 3 on the cluster and the desired one is 2/);
    expect(planReconciliation([{ name: 'messages', partitions: 24 }], [
      { name: 'messages', partitions: 24, replicationFactor: 3, config: {} },
    ]).unchanged).toEqual(['messages']);
  });

  test('never touches topics that are on the cluster but not in the desired list', async () => {
    const admin = new InMemoryKafkaAdmin().seedTopic('legacy', 5, 3).seedTopic('__consumer_offsets', 50, 3);
    await reconcileTopics(admin, desired);
    expect(admin.describe('legacy')?.partitions).toBe(5);
    expect((await admin.listTopics()).map((t) => t.name)).not.toContain('__consumer_offsets');
  });
});

describe('topic list parsing and validation', () => {
  test('parses numbers that CloudFormation sent as strings', () => {
    expect(parseTopicSpecs([{ name: 'messages', partitions: '24', replicationFactor: '3', config: { 'retention.ms': '1000' } }])).toEqual([
      { name: 'messages', partitions: 24, replicationFactor: 3, config: { 'retention.ms': '1000' } },
    ]);
  });

  test('reports every problem at once, naming field and value', () => {
    const problems = topicListProblems([
      { name: 'bad name!', partitions: 0 },
      { name: 'ok', partitions: 1.5, replicationFactor: 0 },
      { name: 'ok', partitions: 3, config: { 'Retention MS': '1' } },
    ]);
    expect(problems).toEqual([
      expect.stringMatching(/topics\[0\]\.name is "bad name!"/),
      expect.stringMatching(/topics\[0\]\.partitions is 0; allowed: an integer from 1/),
      expect.stringMatching(/topics\[1\]\.partitions is 1\.5/),
      expect.stringMatching(/topics\[1\]\.replicationFactor is 0/),
      expect.stringMatching(/topics\[2\]\.config key "Retention MS"/),
      expect.stringMatching(/topics\[2\]\.name "ok" appears more than once/),
    ]);
    expect(() => parseTopicSpecs('nope')).toThrow(/Topics is "nope"; allowed: a list/);
    expect(() => parseTopicSpecs([])).toThrow(/Topics is empty/);
  });
});

describe('custom-resource handler', () => {
  const props = { BootstrapBrokers: 'b-1:9098', ClusterArn: 'arn:aws:kafka:us-east-1:111111111111:cluster/ch/abc', Topics: [{ name: 'feed-updates', partitions: '6', config: {} }] };

  test('Create reconciles, reports what it did, and disconnects', async () => {
    const admin = new InMemoryKafkaAdmin();
    const handler = createHandler((brokers) => {
      expect(brokers).toBe('b-1:9098');
      return admin;
    });
    const res = await handler({ RequestType: 'Create', ResourceProperties: props });
    expect(res).toEqual({
      PhysicalResourceId: 'kafka-topics:arn:aws:kafka:us-east-1:111111111111:cluster/ch/abc',
      Data: { Created: 'feed-updates', Grown: '', Configured: '', Unchanged: '' },
    });
    expect(admin.isConnected).toBe(false);
  });

  test('Update with a shrink fails with the clear message and still disconnects', async () => {
    const admin = new InMemoryKafkaAdmin().seedTopic('feed-updates', 8);
    const handler = createHandler(() => admin);
    const event: TopicsResourceEvent = { RequestType: 'Update', PhysicalResourceId: 'kafka-topics:x', ResourceProperties: props };
    await expect(handler(event)).rejects.toThrow(/topic "feed-updates" has 8 partitions on the cluster and the desired count is 6/);
    expect(admin.isConnected).toBe(false);
  });

  test('Delete keeps the topics and does not even connect', async () => {
    const factory = jest.fn();
    const res = await createHandler(factory)({ RequestType: 'Delete', PhysicalResourceId: 'kafka-topics:x', ResourceProperties: props });
    expect(res).toEqual({ PhysicalResourceId: 'kafka-topics:x' });
    expect(factory).not.toHaveBeenCalled();
  });
});
