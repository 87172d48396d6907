import { ACTIVITY_CONSUMER_GROUP, TOPIC_NAMES } from '../../backend/src/contract';
import { deriveCapacity } from '../../lib/capacity/capacity-model';
import { LONG_LIVED_ENVIRONMENTS } from '../../lib/config/environments';
import { CACHE_SNAPSHOT_RETENTION_DAYS } from '../../lib/stacks/cache-streaming-stack';
import { stacksOf, SynthesizedStack } from '../support/synthesized-app';

/** The cache-streaming stacks of one environment in the test assembly (one per region). */
const cacheStacks = (env: string): SynthesizedStack[] => stacksOf(env).filter((s) => s.stackName.startsWith(`connecthub-${env}-cache-streaming-`));
const stacks: Record<string, SynthesizedStack[]> = Object.fromEntries(['dev', 'staging', 'prod', 'pr-7'].map((env) => [env, cacheStacks(env)]));

function only(stack: SynthesizedStack, type: string) {
  const found = Object.values(stack.template.Resources).filter((r) => r.Type === type);
  expect({ stack: stack.stackName, type, count: found.length }).toEqual({ stack: stack.stackName, type, count: 1 });
  return found[0];
}

describe('cache per environment (synthesized app)', () => {
  // Node type, shards and replicas come from the tier; snapshots from whether the environment keeps data.
  const expected = {
    dev: { nodeType: 'cache.t4g.medium', shards: 1, replicas: 0, multiAz: false, snapshotDays: 0, deletionPolicy: 'Delete' },
    'pr-7': { nodeType: 'cache.t4g.medium', shards: 1, replicas: 0, multiAz: false, snapshotDays: 0, deletionPolicy: 'Delete' },
    staging: { nodeType: 'cache.r7g.large', shards: 1, replicas: 1, multiAz: true, snapshotDays: 7, deletionPolicy: 'Snapshot' },
    prod: { nodeType: 'cache.r7g.large', shards: 3, replicas: 2, multiAz: true, snapshotDays: 7, deletionPolicy: 'Snapshot' },
  };

  test.each(Object.entries(expected))('%s: node type, shards, replicas, Multi-AZ, snapshots', (env, want) => {
    expect(stacks[env].length).toBeGreaterThan(0);
    for (const stack of stacks[env]) {
      const rg = only(stack, 'AWS::ElastiCache::ReplicationGroup');
      expect({ stack: stack.stackName, ...rg.Properties, DeletionPolicy: rg.DeletionPolicy }).toMatchObject({
        stack: stack.stackName,
        CacheNodeType: want.nodeType,
        NumNodeGroups: want.shards,
        ReplicasPerNodeGroup: want.replicas,
        MultiAZEnabled: want.multiAz,
        SnapshotRetentionLimit: want.snapshotDays,
        DeletionPolicy: want.deletionPolicy,
      });
      expect(rg.Properties.SnapshotWindow !== undefined).toBe(want.snapshotDays > 0);
    }
  });

  test('the table above is what the model and the data policy derive', () => {
    expect(CACHE_SNAPSHOT_RETENTION_DAYS).toBe(7);
    for (const env of ['dev', 'staging', 'prod'] as const) {
      const cache = deriveCapacity(LONG_LIVED_ENVIRONMENTS[env].tier).cache;
      expect({ env, nodeType: cache.nodeType, shards: cache.shards, replicas: cache.replicasPerShard })
        .toEqual({ env, nodeType: expected[env].nodeType, shards: expected[env].shards, replicas: expected[env].replicas });
    }
  });
});

describe('MSK per environment (synthesized app)', () => {
  test.each(['staging', 'prod'])('%s: brokers and volumes are the model\'s; auto scaling may only grow them', (env) => {
    const streaming = deriveCapacity(LONG_LIVED_ENVIRONMENTS[env].tier).streaming;
    for (const stack of stacks[env]) {
      const cluster = only(stack, 'AWS::MSK::Cluster').Properties;
      const volume = cluster.BrokerNodeGroupInfo.StorageInfo.EBSStorageInfo.VolumeSize;
      expect({ stack: stack.stackName, brokers: cluster.NumberOfBrokerNodes, volume })
        .toEqual({ stack: stack.stackName, brokers: streaming.brokers, volume: streaming.volumeGiB });
      const scaling = only(stack, 'AWS::ApplicationAutoScaling::ScalableTarget').Properties;
      expect(scaling.MaxCapacity).toBeGreaterThan(volume);
      expect(scaling.MaxCapacity).toBeLessThanOrEqual(16384);
    }
  });
});

describe('consumer lag (synthesized app)', () => {
  test.each(['dev', 'staging', 'prod', 'pr-7'])('%s: the worker group is measured before its first commit', (env) => {
    for (const stack of stacks[env]) {
      const fns = Object.values(stack.template.Resources)
        .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Environment?.Variables?.SUBSCRIPTIONS !== undefined);
      expect(fns).toHaveLength(1);
      const vars = fns[0].Properties.Environment.Variables;
      expect(JSON.parse(vars.SUBSCRIPTIONS)).toEqual([{ groupId: ACTIVITY_CONSUMER_GROUP, topics: [...TOPIC_NAMES] }]);
      // Every subscribed topic is one the function measures (and may describe).
      for (const topic of TOPIC_NAMES) expect(vars.TOPICS.split(',')).toContain(topic);
    }
  });
});
