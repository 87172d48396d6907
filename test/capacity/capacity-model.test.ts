import { carriedLoad, deriveCapacity, TIER_TARGETS, topicEventsPerSecond } from '../../lib/capacity/capacity-model';
import { PER_UNIT } from '../../lib/capacity/per-unit-figures';
import { CAPACITY_TIERS } from '../../lib/config/environment-config';

describe('capacity model', () => {
  test('the tiers are the plan\'s scaling milestones', () => {
    expect(TIER_TARGETS.launch).toEqual({ concurrentUsers: 10_000, messagesPerSecond: 1_000, apiRequestsPerSecond: 5_000, storageTerabytes: 1 });
    expect(TIER_TARGETS['six-month']).toEqual({ concurrentUsers: 100_000, messagesPerSecond: 10_000, apiRequestsPerSecond: 50_000, storageTerabytes: 10 });
    expect(TIER_TARGETS['one-year']).toEqual({ concurrentUsers: 1_000_000, messagesPerSecond: 100_000, apiRequestsPerSecond: 500_000, storageTerabytes: 100 });
  });

  test('the one-year tier carries 1,000,000 users, 100,000 messages/s, 500,000 API requests/s and 100 TB', () => {
    const carried = carriedLoad(deriveCapacity('one-year', 3));
    expect(carried.concurrentUsers).toBeGreaterThanOrEqual(1_000_000);
    expect(carried.messagesPerSecond).toBeGreaterThanOrEqual(100_000);
    expect(carried.apiRequestsPerSecond).toBeGreaterThanOrEqual(500_000);
    expect(carried.storageTerabytes).toBeGreaterThanOrEqual(100);
    const events = Object.values(topicEventsPerSecond(TIER_TARGETS['one-year'])).reduce((a, b) => a + b, 0);
    expect(carried.eventsPerSecond).toBeGreaterThanOrEqual(events);
  });

  test.each(CAPACITY_TIERS)('every tier carries its own target (%s)', (tier) => {
    const carried = carriedLoad(deriveCapacity(tier, 1));
    const target = TIER_TARGETS[tier];
    expect(carried.concurrentUsers).toBeGreaterThanOrEqual(target.concurrentUsers);
    expect(carried.messagesPerSecond).toBeGreaterThanOrEqual(target.messagesPerSecond);
    expect(carried.apiRequestsPerSecond).toBeGreaterThanOrEqual(target.apiRequestsPerSecond);
    expect(carried.storageTerabytes).toBeGreaterThanOrEqual(target.storageTerabytes);
  });

  test('the plan\'s HPA bounds (min 3, max 50) hold at launch', () => {
    const plan = deriveCapacity('launch', 2);
    for (const size of Object.values(plan.workloads)) {
      expect(size.minReplicas).toBe(3);
      expect(size.maxReplicas).toBe(50);
      expect(size.podsForTierLoad).toBeLessThanOrEqual(50);
    }
  });

  test('the one-year writer is the largest class and the model says it runs without headroom', () => {
    const db = deriveCapacity('one-year', 3).database;
    expect(db.instanceClass).toBe('r8g.48xlarge');
    expect(db.writerSaturated).toBe(true);
    expect(db.derivation).toMatch(/exceeds one writer/);
  });

  test('larger tiers raise the maximum beyond 50, never the minimum', () => {
    const plan = deriveCapacity('one-year', 3);
    expect(plan.workloads.api.maxReplicas).toBe(Math.ceil((500_000 * PER_UNIT.headroom.value) / PER_UNIT.apiRequestsPerPod.value));
    expect(plan.workloads.realtime.maxReplicas).toBe(300);
    for (const size of Object.values(plan.workloads)) expect(size.minReplicas).toBe(3);
  });

  test('sizes derive from the per-unit figures (launch)', () => {
    const plan = deriveCapacity('launch', 2);
    expect(plan.workloads.api.podsForTierLoad).toBe(19); // 5,000 x 1.5 / 400
    expect(plan.cache).toMatchObject({ nodeType: 'cache.r7g.large', shards: 1, replicasPerShard: 1, multiAz: true });
    expect(plan.streaming).toMatchObject({ mode: 'provisioned', brokerInstanceType: 'kafka.m7g.large', brokers: 3, replicationFactor: 3 });
    expect(plan.database).toMatchObject({ instanceClass: 'r7g.xlarge', readers: 1, maxConnections: 1000, writerSaturated: false });
  });

  test('dev is the smallest deployment that works', () => {
    const plan = deriveCapacity('dev', 1);
    expect(plan.cache).toMatchObject({ nodeType: 'cache.t4g.medium', shards: 1, replicasPerShard: 0, multiAz: false });
    expect(plan.streaming.mode).toBe('serverless');
    expect(plan.database.readers).toBe(0);
  });

  test('MSK brokers are a multiple of the three AZs and respect partitions per broker', () => {
    for (const tier of CAPACITY_TIERS) {
      const s = deriveCapacity(tier).streaming;
      expect(s.brokers % 3).toBe(0);
      const replicas = Object.values(s.partitions).reduce((a, b) => a + b, 0) * 2 * s.replicationFactor;
      const perBroker = s.brokerInstanceType === 'kafka.m7g.2xlarge' ? 2000 : s.brokerInstanceType.match(/(4|8|16)xlarge/) ? 4000 : 1000;
      expect(replicas / s.brokers).toBeLessThanOrEqual(perBroker);
      expect(s.volumeGiB).toBeLessThanOrEqual(s.maxVolumeGiB);
    }
  });

  test('partitions never shrink as tiers grow', () => {
    const order = CAPACITY_TIERS.map((t) => deriveCapacity(t).streaming.partitions);
    for (let i = 1; i < order.length; i++) {
      for (const topic of Object.keys(order[i]) as (keyof (typeof order)[number])[]) {
        expect(order[i][topic]).toBeGreaterThanOrEqual(order[i - 1][topic]);
      }
    }
  });

  test('max_connections starts at the plan\'s 1000 and stays within Aurora\'s ceiling', () => {
    for (const tier of CAPACITY_TIERS) {
      const { maxConnections } = deriveCapacity(tier).database;
      expect(maxConnections).toBeGreaterThanOrEqual(1000);
      expect(maxConnections).toBeLessThanOrEqual(5000);
    }
  });

  test('pure: the same tier gives the same plan', () => {
    expect(deriveCapacity('six-month', 3)).toEqual(deriveCapacity('six-month', 3));
  });

  test('every per-unit figure names its source', () => {
    for (const figure of Object.values(PER_UNIT)) {
      expect(figure.source.length).toBeGreaterThan(10);
      expect(figure.value).toBeGreaterThan(0);
    }
  });
});
