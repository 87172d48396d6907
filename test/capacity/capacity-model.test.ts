import { connectHubTopicSpecs, DLQ_SUFFIX } from '../../constructs/streaming/kafka-topics';
import * as fs from 'fs';
import * as path from 'path';
import {
  AURORA_MAX_VOLUME_TB, carriedLoad, deriveCapacity, deriveStorage, IDEMPOTENCY_RETENTION_DAYS, MSK_MAX_BROKERS_PER_CLUSTER,
  MSK_MAX_VOLUME_GIB, OUTBOX_RETENTION_DAYS, PARTITION_RETENTION_MONTHS, TIER_TARGETS, topicEventsPerSecond, type TopicName,
} from '../../lib/capacity/capacity-model';
import { PER_UNIT } from '../../lib/capacity/per-unit-figures';
import { BROKER_SERVER_PROPERTIES } from '../../constructs/streaming/kafka-cluster';
import { CAPACITY_TIERS } from '../../lib/config/environment-config';

describe('capacity model', () => {
  test('the tiers are the plan\'s scaling milestones', () => {
    expect(TIER_TARGETS.launch).toEqual({ concurrentUsers: 10_000, messagesPerSecond: 1_000, apiRequestsPerSecond: 5_000, storageTerabytes: 1 });
    expect(TIER_TARGETS['six-month']).toEqual({ concurrentUsers: 100_000, messagesPerSecond: 10_000, apiRequestsPerSecond: 50_000, storageTerabytes: 10 });
    expect(TIER_TARGETS['one-year']).toEqual({ concurrentUsers: 1_000_000, messagesPerSecond: 100_000, apiRequestsPerSecond: 500_000, storageTerabytes: 100 });
  });

  test('the one-year tier carries 1,000,000 users, 100,000 messages/s and 500,000 API requests/s, but not its data in one volume', () => {
    const plan = deriveCapacity('one-year', 3);
    const carried = carriedLoad(plan);
    expect(carried.concurrentUsers).toBeGreaterThanOrEqual(1_000_000);
    expect(carried.messagesPerSecond).toBeGreaterThanOrEqual(100_000);
    expect(carried.apiRequestsPerSecond).toBeGreaterThanOrEqual(500_000);
    const events = Object.values(topicEventsPerSecond(TIER_TARGETS['one-year'])).reduce((a, b) => a + b, 0);
    expect(carried.eventsPerSecond).toBeGreaterThanOrEqual(events);
    // 100 TB: the hot relational data alone is ~4,500 TB, and a month of it is more than one cluster volume holds.
    expect(carried.storageTerabytes).toBeLessThan(100);
    expect(plan.storage).toMatchObject({ fitsOneVolume: false, maxRetentionMonths: 0 });
    expect(plan.storage.derivation).toMatch(/not even the month being written fits.*Aurora Limitless/);
  });

  /** Whether each tier's hot relational data fits one Aurora volume with headroom at the configured retention. */
  const FITS_ONE_VOLUME = { dev: true, launch: true, 'six-month': false, 'one-year': false } as const;

  test.each(CAPACITY_TIERS)('every tier carries its own target (%s), storage only where its hot data fits one volume', (tier) => {
    const plan = deriveCapacity(tier, 1);
    const carried = carriedLoad(plan);
    const target = TIER_TARGETS[tier];
    expect(carried.concurrentUsers).toBeGreaterThanOrEqual(target.concurrentUsers);
    expect(carried.messagesPerSecond).toBeGreaterThanOrEqual(target.messagesPerSecond);
    expect(carried.apiRequestsPerSecond).toBeGreaterThanOrEqual(target.apiRequestsPerSecond);
    expect(plan.storage.fitsOneVolume).toBe(FITS_ONE_VOLUME[tier]);
    expect(carried.storageTerabytes >= target.storageTerabytes).toBe(FITS_ONE_VOLUME[tier]);
    expect(plan.storage.totalHotTerabytes <= plan.storage.usableTerabytes).toBe(FITS_ONE_VOLUME[tier]);
  });

  describe('Aurora storage: hot relational data against the cluster volume', () => {
    const SECONDS_PER_MONTH = (365.25 / 12) * 86_400;

    test('hot data = average rates x bytes per row x online partitions, plus users (launch, by hand)', () => {
      const s = deriveCapacity('launch').storage;
      // 1,000 messages/s peak / 1.5 = 666.7 on average, 25 monthly partitions online (24 retained + the one being written).
      expect(s.averageMessagesPerSecond).toBe(667);
      expect(s.hotTerabytes.messages).toBeCloseTo((1000 / 1.5) * 25 * SECONDS_PER_MONTH * PER_UNIT.messageRowBytes.value / 1e12, 2);
      // Every message and API write leaves an activity row, kept 6 months (+ the month being written).
      expect(s.hotTerabytes.activity).toBeCloseTo(((1000 + 500) / 1.5) * 7 * SECONDS_PER_MONTH * PER_UNIT.activityRowBytes.value / 1e12, 2);
      expect(s.hotTerabytes.users).toBeCloseTo(10_000 * 10 * PER_UNIT.userBytes.value / 1e12, 3);
      expect(s.totalHotTerabytes).toBeCloseTo(Object.values(s.hotTerabytes).reduce((a, b) => a + b, 0), 2);
      expect(s.usableTerabytes).toBeCloseTo(AURORA_MAX_VOLUME_TB / PER_UNIT.headroom.value, 1);
      expect(s.volumeLimitTerabytes).toBeCloseTo(140.7, 1); // 128 TiB
      expect(s).toMatchObject({ fitsOneVolume: true, maxRetentionMonths: 24 });
    });

    test('a plan with too long a hot retention fails the storage check', () => {
      const launch = deriveCapacity('launch');
      const tooLong = { ...launch, storage: deriveStorage(TIER_TARGETS.launch, { posts: 72, messages: 72, activity: 6 }) };
      expect(tooLong.storage.fitsOneVolume).toBe(false);
      expect(carriedLoad(tooLong).storageTerabytes).toBeLessThan(TIER_TARGETS.launch.storageTerabytes);
      // It still names what fits at these rates: the configured 24 months hold, 72 (six years) do not.
      expect(tooLong.storage.maxRetentionMonths).toBeGreaterThanOrEqual(24);
      expect(tooLong.storage.maxRetentionMonths).toBeLessThan(72);
      expect(tooLong.storage.derivation).toMatch(/it holds \d+ month\(s\) of messages and posts/);
    });

    test('a plan with too high a message rate fails the storage check', () => {
      const launch = deriveCapacity('launch');
      const busier = { ...TIER_TARGETS.launch, messagesPerSecond: 5_000 };
      const plan = { ...launch, target: busier, storage: deriveStorage(busier) };
      expect(plan.storage.fitsOneVolume).toBe(false);
      expect(carriedLoad(plan).storageTerabytes).toBeLessThan(busier.storageTerabytes);
    });

    test('a shorter retention is what lets the six-month tier (prod) fit: one month of messages and posts', () => {
      const s = deriveCapacity('six-month').storage;
      expect(s.maxRetentionMonths).toBe(1);
      expect(deriveStorage(TIER_TARGETS['six-month'], { posts: 1, messages: 1, activity: 1 }).fitsOneVolume).toBe(true);
      expect(deriveStorage(TIER_TARGETS['six-month'], { posts: 2, messages: 2, activity: 2 }).fitsOneVolume).toBe(false);
    });

    test('a retention that is not a whole number of months is refused, naming the field', () => {
      expect(() => deriveStorage(TIER_TARGETS.launch, { posts: 24, messages: -1, activity: 6 }))
        .toThrow('retentionMonths.messages = -1 is not allowed: expected a whole number of months >= 0');
      expect(() => deriveStorage(TIER_TARGETS.launch, { posts: 1.5, messages: 24, activity: 6 })).toThrow(/retentionMonths.posts = 1.5/);
    });

    test('the retention the model assumes is the one the migrations register with pg_partman', () => {
      const sql = fs.readFileSync(path.join(__dirname, '..', '..', 'database', 'migrations', '0003_posts_messages_activity.sql'), 'utf8');
      const registered = Object.fromEntries([...sql.matchAll(/partman_register_monthly\('connecthub\.(\w+)', 'created_at', \d+, interval '(\d+) months'\)/g)]
        .map((m) => [m[1], Number(m[2])]));
      expect(registered).toEqual(PARTITION_RETENTION_MONTHS);
    });

    test('outbox and idempotency retention are the partition-maintenance defaults', () => {
      const source = fs.readFileSync(path.join(__dirname, '..', '..', 'database', 'partition-maintenance.ts'), 'utf8');
      expect(source).toContain(`options.outboxRetentionDays ?? ${OUTBOX_RETENTION_DAYS},`);
      expect(source).toContain(`options.idempotencyRetentionDays ?? ${IDEMPOTENCY_RETENTION_DAYS},`);
    });
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

  describe('MSK broker storage holds what the topics retain', () => {
    /** GiB the brokers hold at the tier target, from the topic configuration that is deployed (retention.ms, RF, partitions). */
    function retainedOnBrokersGiB(tier: (typeof CAPACITY_TIERS)[number]): number {
      const s = deriveCapacity(tier).streaming;
      const events = topicEventsPerSecond(TIER_TARGETS[tier]);
      let bytes = 0;
      for (const spec of connectHubTopicSpecs({ partitions: s.partitions, replicationFactor: s.replicationFactor })) {
        const dlq = spec.name.endsWith(DLQ_SUFFIX);
        const rate = events[spec.name.replace(DLQ_SUFFIX, '') as TopicName] * (dlq ? PER_UNIT.deadLetterShare.value : 1);
        const seconds = Number(spec.config!['retention.ms']) / 1000;
        // Kafka deletes whole segments and never the open one: up to one segment (1 GiB default) more per partition replica.
        const openSegments = spec.partitions * 1024 ** 3;
        bytes += (rate * PER_UNIT.eventBytes.value * seconds + openSegments) * spec.replicationFactor!;
      }
      return bytes / 1024 ** 3;
    }
    const provisioned = CAPACITY_TIERS.filter((t) => deriveCapacity(t).streaming.mode === 'provisioned');

    test.each(provisioned)('%s: brokers x volume hold the retained bytes with headroom, within MSK limits', (tier) => {
      const s = deriveCapacity(tier).streaming;
      const retained = retainedOnBrokersGiB(tier);
      expect(s.brokers * s.volumeGiB).toBeGreaterThanOrEqual(retained * PER_UNIT.headroom.value);
      expect(s.retainedGiB).toBeGreaterThanOrEqual(retained);
      expect(s.volumeGiB).toBeLessThan(MSK_MAX_VOLUME_GIB);
      // Storage auto scaling may grow volumes, never shrink them: its ceiling must stay above what is provisioned.
      expect(s.maxVolumeGiB).toBeGreaterThan(s.volumeGiB);
      expect(s.maxVolumeGiB).toBeLessThanOrEqual(MSK_MAX_VOLUME_GIB);
      expect(s.brokers % 3).toBe(0);
      expect(s.brokers).toBeLessThanOrEqual(MSK_MAX_BROKERS_PER_CLUSTER);
    });

    test('the week of activity and messages is what sizes the disks (six-month: ~9,100 GiB per broker before headroom)', () => {
      const s = deriveCapacity('six-month').streaming;
      expect(retainedOnBrokersGiB('six-month') / s.brokers).toBeGreaterThan(9000);
      expect(s.volumeGiB).toBeGreaterThan(9000 * PER_UNIT.headroom.value);
      expect(s.retentionHours).toMatchObject({ 'user-activity': 168, messages: 168 });
      expect(s.derivation).toMatch(/per broker/);
    });

    test('one-year adds brokers when one volume cannot hold its share', () => {
      const s = deriveCapacity('one-year', 3).streaming;
      expect(retainedOnBrokersGiB('one-year') * PER_UNIT.headroom.value / 6).toBeGreaterThan(MSK_MAX_VOLUME_GIB);
      expect(s.brokers).toBeGreaterThan(Math.ceil((retainedOnBrokersGiB('one-year') * PER_UNIT.headroom.value) / MSK_MAX_VOLUME_GIB) - 1);
      expect(s.derivation).toMatch(/storage needs \d+ brokers/);
    });

    test('topics retain no longer than the broker default the model assumes for anything unlisted', () => {
      expect(BROKER_SERVER_PROPERTIES['log.retention.hours']).toBe('168');
    });
  });
});
