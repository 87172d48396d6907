import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { InMemoryKafkaAdmin } from '../../lambdas/kafka-common/in-memory-kafka-admin';
import { readSettings, runOnce } from '../../lambdas/kafka-lag/index';
import { measureLag, partitionLag } from '../../lambdas/kafka-lag/lag';
import { MAX_DATUMS_PER_REQUEST, publishMetricData, toMetricData } from '../../lambdas/kafka-lag/publish';

beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));

describe('partition lag rule', () => {
  test.each([
    ['empty partition, nothing committed', { low: '0', high: '0' }, '-1', 0n],
    ['empty partition after retention, committed at the end', { low: '500', high: '500' }, '500', 0n],
    ['empty partition after retention, old commit', { low: '500', high: '500' }, '10', 0n],
    ['no committed offset: every retained record is pending', { low: '100', high: '250' }, '-1', 150n],
    ['partition unknown to the group (absent)', { low: '0', high: '40' }, undefined, 40n],
    ['committed inside the log', { low: '0', high: '1000' }, '990', 10n],
    ['committed at the end', { low: '0', high: '1000' }, '1000', 0n],
    ['committed below the log start (retention passed it)', { low: '300', high: '1000' }, '100', 700n],
    ['beyond int53', { low: '0', high: '9223372036854775807' }, '9223372036854775800', 7n],
  ])('%s', (_name, offsets, committed, expected) => {
    expect(partitionLag(offsets, committed)).toBe(expected);
  });
});

describe('measuring lag through the admin port', () => {
  function cluster() {
    return new InMemoryKafkaAdmin()
      .seedTopic('user-activity', 3)
      .seedTopic('feed-updates', 2)
      .seedTopic('messages', 2)
      .produce('user-activity', 0, 100)
      .produce('user-activity', 1, 50)
      // partition 2 of user-activity stays empty
      .produce('feed-updates', 0, 10)
      .produce('messages', 1, 7)
      .commit('connecthub-worker-feed', 'user-activity', 0, 90)
      .commit('connecthub-worker-feed', 'user-activity', 1, 50)
      .commit('connecthub-worker-notify', 'messages', 0, 0)
      .commit('other-app', 'messages', 1, 0);
  }

  test('discovers groups by prefix, sums partitions, counts uncommitted partitions and skips unrelated groups', async () => {
    const report = await measureLag(cluster(), { subscriptions: [], groupPrefix: 'connecthub-worker-', topics: [] });
    expect(report.failures).toEqual([]);
    expect(report.groups).toEqual([
      { groupId: 'connecthub-worker-feed', total: 10, topics: [{ topic: 'user-activity', lag: 10, partitions: 3, uncommittedPartitions: 1 }] },
      // committed nothing on partition 1 of messages, which holds 7 records
      { groupId: 'connecthub-worker-notify', total: 7, topics: [{ topic: 'messages', lag: 7, partitions: 2, uncommittedPartitions: 1 }] },
    ]);
  });

  test('a partition added after the group committed counts all its records as pending', async () => {
    const admin = cluster();
    await admin.createPartitions([{ topic: 'user-activity', count: 4 }]);
    admin.produce('user-activity', 3, 25);
    const report = await measureLag(admin, { subscriptions: [], groupPrefix: 'connecthub-worker-', topics: [] });
    expect(report.groups[0]).toEqual({
      groupId: 'connecthub-worker-feed', total: 35, topics: [{ topic: 'user-activity', lag: 35, partitions: 4, uncommittedPartitions: 2 }],
    });
  });

  test('an explicit subscription is measured before the group has committed anything', async () => {
    const report = await measureLag(cluster(), {
      subscriptions: [{ groupId: 'connecthub-worker-fanout', topics: ['feed-updates', 'not-managed'] }],
      groupPrefix: '',
      topics: ['feed-updates', 'user-activity'],
    });
    expect(report.groups).toEqual([
      { groupId: 'connecthub-worker-fanout', total: 10, topics: [{ topic: 'feed-updates', lag: 10, partitions: 2, uncommittedPartitions: 2 }] },
    ]);
  });

  test('a failing group is reported and the others are still measured', async () => {
    const admin = cluster();
    const original = admin.fetchCommittedOffsets.bind(admin);
    admin.fetchCommittedOffsets = async (groupId, topics) => {
      if (groupId === 'connecthub-worker-notify' && topics) throw new Error('COORDINATOR_NOT_AVAILABLE');
      return original(groupId, topics);
    };
    const report = await measureLag(admin, { subscriptions: [], groupPrefix: 'connecthub-worker-', topics: [] });
    expect(report.groups.map((g) => g.groupId)).toEqual(['connecthub-worker-feed']);
    expect(report.failures).toEqual([{ groupId: 'connecthub-worker-notify', error: 'COORDINATOR_NOT_AVAILABLE' }]);
  });
});

describe('metric publishing', () => {
  const cw = mockClient(CloudWatchClient);
  const at = new Date('2026-11-26T12:00:00Z');
  beforeEach(() => cw.reset());

  test('one datum per group and topic plus the group aggregate, in ConnectHub/Streaming', async () => {
    const data = toMetricData([
      { groupId: 'connecthub-worker-feed', total: 12, topics: [
        { topic: 'user-activity', lag: 10, partitions: 3, uncommittedPartitions: 0 },
        { topic: 'feed-updates', lag: 2, partitions: 3, uncommittedPartitions: 0 },
      ] },
    ], at);
    cw.on(PutMetricDataCommand).resolves({});
    await publishMetricData(new CloudWatchClient({ region: 'us-east-1' }), data);
    expect(cw).toHaveReceivedCommandTimes(PutMetricDataCommand, 1);
    expect(cw).toHaveReceivedCommandWith(PutMetricDataCommand, {
      Namespace: 'ConnectHub/Streaming',
      MetricData: [
        { MetricName: 'ConsumerLag', Dimensions: [{ Name: 'ConsumerGroup', Value: 'connecthub-worker-feed' }, { Name: 'Topic', Value: 'user-activity' }], Timestamp: at, Unit: 'Count', Value: 10 },
        { MetricName: 'ConsumerLag', Dimensions: [{ Name: 'ConsumerGroup', Value: 'connecthub-worker-feed' }, { Name: 'Topic', Value: 'feed-updates' }], Timestamp: at, Unit: 'Count', Value: 2 },
        { MetricName: 'ConsumerLag', Dimensions: [{ Name: 'ConsumerGroup', Value: 'connecthub-worker-feed' }], Timestamp: at, Unit: 'Count', Value: 12 },
      ],
    });
  });

  test('batches within the PutMetricData limit', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const groups = Array.from({ length: 700 }, (_, i) => ({
      groupId: `connecthub-worker-${i}`, total: i, topics: [{ topic: 'messages', lag: i, partitions: 1, uncommittedPartitions: 0 }],
    }));
    const data = toMetricData(groups, at);
    expect(data.length).toBe(1400);
    const requests = await publishMetricData(new CloudWatchClient({ region: 'us-east-1' }), data);
    expect(requests).toBe(2);
    const sizes = cw.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input.MetricData!.length);
    expect(sizes).toEqual([MAX_DATUMS_PER_REQUEST, 400]);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1000);
  });

  test('nothing to publish means no request', async () => {
    expect(await publishMetricData(new CloudWatchClient({ region: 'us-east-1' }), [])).toBe(0);
    expect(cw).toHaveReceivedCommandTimes(PutMetricDataCommand, 0);
  });

  test('a run publishes what it measured, then fails naming the group it could not measure', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const admin = new InMemoryKafkaAdmin().seedTopic('messages', 1).produce('messages', 0, 5).commit('connecthub-worker-a', 'messages', 0, 1);
    admin.addGroup('connecthub-worker-b');
    const original = admin.fetchCommittedOffsets.bind(admin);
    admin.fetchCommittedOffsets = async (g, t) => {
      if (g === 'connecthub-worker-b') throw new Error('GROUP_AUTHORIZATION_FAILED');
      return original(g, t);
    };
    const settings = readSettings({ BOOTSTRAP_BROKERS: 'b-1:9098', AWS_REGION: 'us-east-1', GROUP_PREFIX: 'connecthub-worker-' });
    await expect(runOnce(admin, new CloudWatchClient({ region: 'us-east-1' }), settings, at)).rejects.toThrow(
      /could not be measured for: connecthub-worker-b \(GROUP_AUTHORIZATION_FAILED\)/,
    );
    expect(cw).toHaveReceivedCommandWith(PutMetricDataCommand, {
      MetricData: [
        expect.objectContaining({ Value: 4, Dimensions: [{ Name: 'ConsumerGroup', Value: 'connecthub-worker-a' }, { Name: 'Topic', Value: 'messages' }] }),
        expect.objectContaining({ Value: 4, Dimensions: [{ Name: 'ConsumerGroup', Value: 'connecthub-worker-a' }] }),
      ],
    });
    expect(admin.isConnected).toBe(false);
  });

  test('settings are validated with one error naming every bad one', () => {
    expect(() => readSettings({ SUBSCRIPTIONS: '{"groupId":1}' })).toThrow(
      /BOOTSTRAP_BROKERS is undefined[\s\S]*AWS_REGION is not set[\s\S]*SUBSCRIPTIONS is "\{\\"groupId\\":1\}"/,
    );
    expect(() => readSettings({ BOOTSTRAP_BROKERS: 'b:9098', AWS_REGION: 'eu-west-1' })).toThrow(/GROUP_PREFIX and SUBSCRIPTIONS are both empty/);
    expect(readSettings({ BOOTSTRAP_BROKERS: 'b:9098', AWS_REGION: 'eu-west-1', GROUP_PREFIX: 'connecthub-worker-', TOPICS: 'a, b' })).toEqual({
      bootstrapBrokers: 'b:9098', region: 'eu-west-1', namespace: 'ConnectHub/Streaming',
      scope: { subscriptions: [], groupPrefix: 'connecthub-worker-', topics: ['a', 'b'] },
    });
  });
});
