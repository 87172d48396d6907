/**
 * The worker role: outbox relay (at least once, ordered per key, a failing publisher loses
 * nothing), the stored trace context of outbox rows (migration 0007; malformed values ignored and
 * counted), the activity consumer (idempotent effects, dead letters) and cache warming.
 * Kafka is the in-process implementation of the port.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { Redis } from 'ioredis';
import { applyMigrations, loadMigrations } from '../../database/migrator';
import type { RunningService } from '../src/service';
import type { InProcessKafka as Kafka } from '../src/kafka/in-process';
import type { OutgoingMessage, Publisher } from '../src/kafka/port';
import { Bundle, cleanRedis, createTestDb, env, http, Jwks, loadBundle, seedUser, startJwks, TestDb, uniquePrefix, waitFor } from './helpers';

jest.setTimeout(60_000);

let b: Bundle;
let db: TestDb;
let jwks: Jwks;
let redis: Redis;
const prefix = uniquePrefix('worker');
const silent = () => loadBundle().createLogger('silent', 'worker');

beforeAll(async () => {
  b = loadBundle();
  [db, jwks] = await Promise.all([createTestDb('worker'), startJwks()]);
  redis = new Redis({ host: '127.0.0.1', port: 6379 });
});
afterAll(async () => {
  redis?.disconnect();
  await cleanRedis(prefix);
  await Promise.all([db?.drop(), jwks?.close()]);
});

async function fillOutbox(keys: string[], perKey: number): Promise<void> {
  // Interleaved keys, as concurrent users would write them.
  for (let i = 0; i < perKey; i++) {
    for (const key of keys) {
      await db.pool.query('INSERT INTO connecthub.outbox (topic, message_key, payload) VALUES ($1, $2, $3)', [
        'messages',
        key,
        JSON.stringify({ eventId: randomUUID(), type: 'test.seq', key, seq: i }),
      ]);
    }
  }
}
const pending = async () => (await db.pool.query('SELECT count(*)::int AS n FROM connecthub.outbox WHERE published_at IS NULL')).rows[0].n as number;
const database = () => new b.Database({ writerHost: '127.0.0.1', readerHost: '127.0.0.1', port: 5432, database: db.name, user: 'postgres', auth: 'password', ssl: 'disable', poolMax: 4 }, undefined, silent());

/** Per key, the sequence numbers in the order Kafka holds them. */
function sequences(kafka: Kafka, topic: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of kafka.records(topic)) {
    const v = JSON.parse(r.value) as { key: string; seq: number };
    out.set(v.key, [...(out.get(v.key) ?? []), v.seq]);
  }
  return out;
}

describe('outbox relay', () => {
  beforeEach(() => db.pool.query('TRUNCATE connecthub.outbox'));

  test('a failing publisher loses nothing: rows stay pending until acknowledged, then publish once, in key order', async () => {
    const kafka = new b.InProcessKafka(3);
    const dbx = database();
    const relay = new b.OutboxRelay(dbx, kafka.publisher(), new b.Metrics('worker'), silent(), { batchSize: 7 });
    await fillOutbox(['k1', 'k2', 'k3'], 10);
    kafka.failNextPublishes = 3;
    for (let i = 0; i < 3; i++) await expect(relay.runOnce()).rejects.toThrow('simulated broker failure');
    expect(await pending()).toBe(30);
    while ((await relay.runOnce()) > 0);
    expect(await pending()).toBe(0);
    const seqs = sequences(kafka, 'messages');
    for (const k of ['k1', 'k2', 'k3']) expect(seqs.get(k)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await dbx.close();
  });

  test('an acknowledgement lost after the write republishes (at least once) without reordering a key', async () => {
    const kafka = new b.InProcessKafka(3);
    const inner = kafka.publisher();
    let loseAcks = 2;
    const flaky: Publisher = {
      connect: inner.connect,
      disconnect: inner.disconnect,
      publish: async (topic, messages) => {
        await inner.publish(topic, messages);
        if (loseAcks-- > 0) throw new Error('timeout waiting for acks');
      },
    };
    const dbx = database();
    const relay = new b.OutboxRelay(dbx, flaky, new b.Metrics('worker'), silent(), { batchSize: 5 });
    await fillOutbox(['a', 'b'], 6);
    for (;;) {
      try {
        if ((await relay.runOnce()) === 0) break;
      } catch {
        /* retried next round */
      }
    }
    expect(await pending()).toBe(0);
    for (const [, seq] of sequences(kafka, 'messages')) {
      // Every row is there; repeats are whole re-sent runs, so dropping repeats leaves the original order.
      expect([...new Set(seq)]).toEqual([0, 1, 2, 3, 4, 5]);
    }
    // At-least-once, bounded: at most one batch (5 rows) re-sent per lost acknowledgement (2).
    expect(kafka.records('messages').length).toBeGreaterThan(12);
    expect(kafka.records('messages').length).toBeLessThanOrEqual(12 + 2 * 5);
    await dbx.close();
  });

  test('two relays share the table with SKIP LOCKED: every row once, order per key kept', async () => {
    const kafka = new b.InProcessKafka(3);
    const [d1, d2] = [database(), database()];
    const m = new b.Metrics('worker');
    const r1 = new b.OutboxRelay(d1, kafka.publisher(), m, silent(), { batchSize: 4 });
    const r2 = new b.OutboxRelay(d2, kafka.publisher(), m, silent(), { batchSize: 4 });
    await fillOutbox(['x', 'y', 'z', 'w'], 8);
    const drain = async (r: typeof r1) => {
      let idle = 0;
      while (idle < 3) idle = (await r.runOnce()) === 0 ? idle + 1 : 0;
    };
    await Promise.all([drain(r1), drain(r2)]);
    expect(await pending()).toBe(0);
    expect(kafka.records('messages')).toHaveLength(32);
    for (const [, seq] of sequences(kafka, 'messages')) expect(seq).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await Promise.all([d1.close(), d2.close()]);
  });

  test('stored trace contexts: NULL and malformed values never fail the relay; a valid one goes to the publisher, a malformed one is counted and dropped', async () => {
    const kafka = new b.InProcessKafka(3);
    const inner = kafka.publisher();
    const handed: OutgoingMessage[] = [];
    const recording: Publisher = { connect: inner.connect, disconnect: inner.disconnect, publish: (topic, messages) => (handed.push(...messages), inner.publish(topic, messages)) };
    const dbx = database();
    const metrics = new b.Metrics('worker');
    const relay = new b.OutboxRelay(dbx, recording, metrics, silent());
    const traceId = randomBytes(16).toString('hex');
    const valid = `00-${traceId}-${randomBytes(8).toString('hex')}-01 congo=t61rcWkgMzE`;
    const values = [null, valid, 'garbage', `00-${traceId.toUpperCase()}-00f067aa0ba902b7-01`, `00-${traceId}-00f067aa0ba902b7-01 Not=valid`];
    for (const [i, v] of values.entries()) {
      await db.pool.query(`INSERT INTO connecthub.outbox (topic, message_key, payload, trace_context) VALUES ('messages', 'tc', $1, $2)`, [JSON.stringify({ eventId: randomUUID(), seq: i }), v]);
    }
    expect(await relay.runOnce()).toBe(5);
    expect(await pending()).toBe(0);
    expect(handed.map((m) => m.traceContext?.traceId)).toEqual([undefined, traceId, undefined, undefined, undefined]);
    expect(handed[1].traceContext?.traceState?.get('congo')).toBe('t61rcWkgMzE');
    // Without tracing nothing about the stored context reaches Kafka.
    expect(kafka.records('messages').map((r) => Object.keys(r.headers))).toEqual(values.map(() => ['outbox-id']));
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^outbox_trace_context_invalid_total\{role="worker"\} 3$/m);
    expect(text).toMatch(/^outbox_published_total\{role="worker"\} 5$/m);
    await dbx.close();
  });

  test('lag and pending are measured for autoscaling and alarms', async () => {
    const dbx = database();
    const metrics = new b.Metrics('worker');
    const relay = new b.OutboxRelay(dbx, new b.InProcessKafka().publisher(), metrics, silent());
    await db.pool.query(`INSERT INTO connecthub.outbox (topic, message_key, payload, created_at) VALUES ('messages', 'k', '{}', now() - interval '42 seconds')`);
    await relay.measure();
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/outbox_pending\{role="worker"\} 1/);
    const lag = Number(/outbox_lag_seconds\{role="worker"\} ([\d.]+)/.exec(text)![1]);
    expect(lag).toBeGreaterThanOrEqual(42);
    await dbx.close();
  });
});

describe('migration 0007: outbox.trace_context', () => {
  const name = `ch_tracectx_${randomBytes(4).toString('hex')}`;
  let pool: Pool;
  const admin = async (sql: string) => {
    const c = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  beforeAll(async () => {
    await admin(`CREATE DATABASE ${name}`);
    pool = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: name, max: 2 });
  });
  afterAll(async () => {
    pool.on('error', () => undefined);
    await pool?.end();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  test('adds a nullable, bounded column without rewriting or scanning the table; existing rows read NULL', async () => {
    const shipped = loadMigrations();
    await applyMigrations(pool, { migrations: shipped.filter((m) => m.version < 7) });
    await pool.query(`INSERT INTO connecthub.outbox (topic, message_key, payload) SELECT 'messages', 'k', jsonb_build_object('seq', g) FROM generate_series(1, 1000) g`);
    const fileNode = async () => (await pool.query(`SELECT pg_relation_filenode('connecthub.outbox')::text AS n`)).rows[0].n as string;
    const before = await fileNode();
    expect((await applyMigrations(pool, { migrations: shipped })).applied.map((m) => m.file)).toContain('0007_outbox_trace_context.sql');
    // Same file node: no rewrite. NOT VALID: the length check was not proven by a scan (every existing row is NULL).
    expect(await fileNode()).toBe(before);
    const column = await pool.query(
      `SELECT data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'connecthub' AND table_name = 'outbox' AND column_name = 'trace_context'`,
    );
    expect(column.rows).toEqual([{ data_type: 'text', is_nullable: 'YES', column_default: null }]);
    const constraint = await pool.query(`SELECT convalidated, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'outbox_trace_context_length'`);
    expect(constraint.rows).toEqual([{ convalidated: false, def: 'CHECK ((octet_length(trace_context) <= 568)) NOT VALID' }]);
    expect((await pool.query(`SELECT count(*)::int AS n FROM connecthub.outbox WHERE trace_context IS NULL`)).rows[0].n).toBe(1000);
    // New rows are checked: the longest stored form fits, one byte more does not.
    const longest = 'x'.repeat(b.MAX_STORED_TRACE_CONTEXT_LENGTH);
    await pool.query(`INSERT INTO connecthub.outbox (topic, payload, trace_context) VALUES ('messages', '{}', $1)`, [longest]);
    await expect(pool.query(`INSERT INTO connecthub.outbox (topic, payload, trace_context) VALUES ('messages', '{}', $1)`, [`${longest}x`])).rejects.toThrow(/outbox_trace_context_length/);
  });
});

describe('worker service: relay, activity consumer and cache warming', () => {
  let kafka: Kafka;
  let worker: RunningService;
  let api: RunningService;
  let alice: string, bob: string;

  beforeAll(async () => {
    kafka = new b.InProcessKafka(3);
    worker = await b.startService(b.loadConfig(env('worker', db, prefix, undefined, { CACHE_WARM_INTERVAL_SECONDS: '3600', CACHE_WARM_USERS: '10' })), { kafka, host: '127.0.0.1' });
    api = await b.startService(b.loadConfig(env('api', db, prefix, jwks)), { host: '127.0.0.1' });
    [alice, bob] = await Promise.all([seedUser(db.pool), seedUser(db.pool)]);
    await db.pool.query('INSERT INTO connecthub.follows (follower_id, followee_id) VALUES ($1, $2)', [alice, bob]);
  });
  afterAll(async () => {
    await Promise.all([worker?.shutdown(), api?.shutdown()]);
  });

  const activity = async (id: string) => (await db.pool.query('SELECT user_id, kind, subject_id FROM connecthub.activity WHERE id = $1', [id])).rows;

  test('a post travels outbox → Kafka → consumer: followers’ feeds invalidated, activity recorded once', async () => {
    const feedKey = `${prefix}feed:${alice}`;
    // A stale entry (e.g. written by a reader that had not seen the post yet, which the api's
    // inline invalidation cannot catch): only the worker's invalidation removes it.
    await redis.set(feedKey, '{"items":[]}', 'EX', 300);
    const post = await http(api.port, 'POST', '/v1/posts', { token: jwks.token(bob), body: { body: 'through kafka' } });
    expect(post.status).toBe(201);
    await redis.set(feedKey, '{"items":[]}', 'EX', 300);
    const record = await waitFor(() => kafka.records('feed-updates').find((r) => JSON.parse(r.value).data.postId === post.json.post.id), 5_000, 'the post event in Kafka');
    expect(record.key).toBe(bob);
    const event = JSON.parse(record.value);
    await waitFor(async () => (await activity(event.eventId)).length === 1, 5_000, 'the activity row');
    expect(await activity(event.eventId)).toEqual([{ user_id: bob, kind: 'post.created', subject_id: post.json.post.id }]);
    // Redeliver the event after re-creating the stale entry: the consumer removes it again (idempotent, repeatable).
    await redis.set(feedKey, '{"items":[]}', 'EX', 300);
    kafka.append('feed-updates', [{ key: bob, value: record.value }]);
    await waitFor(async () => (await redis.exists(feedKey)) === 0, 5_000, 'the follower feed invalidated by the worker');
    expect(await activity(event.eventId)).toHaveLength(1);
  });

  test('a redelivered event changes nothing (idempotent consumer)', async () => {
    const event = b.newEvent('follow.created', alice, new Date(), { followerId: alice, followeeId: bob });
    const sub = new Redis({ host: '127.0.0.1', port: 6379 });
    const pushed: string[] = [];
    await sub.subscribe(`${prefix}rt:u:${bob}`);
    sub.on('message', (_c, m) => pushed.push(m));
    kafka.append('user-activity', [{ key: alice, value: JSON.stringify(event) }]);
    kafka.append('user-activity', [{ key: alice, value: JSON.stringify(event) }]);
    await waitFor(async () => (await kafka.consumer({ groupId: 'connecthub-worker-activity', topics: ['user-activity'] }).lag())['user-activity'] === 0, 5_000, 'both deliveries consumed');
    expect(await activity(event.eventId)).toEqual([{ user_id: bob, kind: 'follow.received', subject_id: alice }]);
    await waitFor(() => pushed.length >= 2, 2_000, 'realtime pushes');
    // Both pushes carry the same id, which the realtime pods deduplicate.
    expect(new Set(pushed.map((p) => JSON.parse(p).id))).toEqual(new Set([event.eventId]));
    sub.disconnect();
  });

  test('a match notification invalidates the match cache and is recorded for sync', async () => {
    await redis.set(`${prefix}matches:${alice}`, '{"items":[]}', 'EX', 1800);
    const event = b.newEvent('match.suggested', alice, new Date(), { userId: alice, candidateId: bob, score: 0.93 });
    kafka.append('match-notifications', [{ key: alice, value: JSON.stringify(event) }]);
    await waitFor(async () => (await activity(event.eventId)).length === 1, 5_000, 'the notification row');
    expect(await redis.exists(`${prefix}matches:${alice}`)).toBe(0);
    const sync = await http(api.port, 'GET', '/v1/sync', { token: jwks.token(alice) });
    expect(sync.json.notifications).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'match.suggested', subjectId: bob })]));
  });

  test('an event that keeps failing goes to the dead-letter topic and the consumer moves on', async () => {
    const bad = b.newEvent('match.suggested', alice, new Date(), { userId: 'not-a-uuid', candidateId: bob, score: 1 });
    const good = b.newEvent('match.suggested', bob, new Date(), { userId: bob, candidateId: alice, score: 0.5 });
    kafka.append('match-notifications', [{ key: 'x', value: JSON.stringify(bad) }, { key: 'x', value: JSON.stringify(good) }]);
    await waitFor(async () => (await activity(good.eventId)).length === 1, 10_000, 'the event after the poison one');
    const dlq = kafka.records('match-notifications.dlq');
    expect(dlq.map((r) => JSON.parse(r.value).eventId)).toEqual([bad.eventId]);
  });

  test('the warmer writes feed, profile and matches of the most active users, one pod per interval', async () => {
    const keys = [`${prefix}feed:${bob}`, `${prefix}profile:${bob}`, `${prefix}matches:${bob}`];
    await redis.del(...keys, `${prefix}warm-lock`);
    const written = await worker.warmer!.runOnce();
    expect(written).toBeGreaterThanOrEqual(3);
    expect(await redis.exists(...keys)).toBe(3);
    expect(await redis.ttl(keys[0])).toBeGreaterThan(290);
    expect(await redis.ttl(keys[1])).toBeGreaterThan(1790);
    // A cached feed written by the warmer is what the api serves.
    const r = await http(api.port, 'GET', '/v1/feed', { token: jwks.token(bob) });
    expect(r.headers.get('x-cache')).toBe('hit');
    expect(r.json.items[0].body).toBe('through kafka');
    // Another pod in the same interval finds the lock taken.
    expect(await worker.warmer!.runOnce()).toBe(0);
  });

  test('worker readiness and metrics', async () => {
    const ready = await http(worker.port, 'GET', '/readyz');
    expect(ready.json).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok', kafka: 'ok' } });
    // A broker outage: the relay keeps failing, readiness says so (degraded: nothing is lost, it retries).
    await db.pool.query(`INSERT INTO connecthub.outbox (topic, message_key, payload) VALUES ('messages', 'k', '{}')`);
    kafka.failNextPublishes = 1000;
    await waitFor(async () => (await http(worker.port, 'GET', '/readyz')).json.checks.kafka === 'degraded', 10_000, 'kafka degraded');
    kafka.failNextPublishes = 0;
    await waitFor(async () => (await http(worker.port, 'GET', '/readyz')).json.checks.kafka === 'ok', 15_000, 'kafka ok again');
    const m = await http(worker.port, 'GET', '/metrics');
    expect(m.text).toMatch(/outbox_published_total\{role="worker"\} [1-9]/);
    expect(m.text).toMatch(/events_consumed_total\{topic="feed-updates",outcome="ok",role="worker"\} [1-9]/);
  });
});

describe('OUTBOX_RELAY=off: a secondary region’s worker consumes its regional topics and never claims outbox rows', () => {
  test('the relay is not started: rows stay pending for the primary region while events are still consumed', async () => {
    const kafka = new b.InProcessKafka(3);
    const worker = await b.startService(b.loadConfig(env('worker', db, prefix, undefined, { OUTBOX_RELAY: 'off', CACHE_WARM_INTERVAL_SECONDS: '3600' })), { kafka, host: '127.0.0.1' });
    try {
      expect(worker.config.outboxRelay).toBe(false);
      expect(worker.relay).toBeUndefined();
      const key = randomUUID();
      const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO connecthub.outbox (topic, message_key, payload) VALUES ('messages', $1, '{}') RETURNING id`, [key]);
      // The consumer runs: a replicated event from the primary's Kafka is handled here.
      const [alice, bob] = await Promise.all([seedUser(db.pool), seedUser(db.pool)]);
      const event = b.newEvent('match.suggested', alice, new Date(), { userId: alice, candidateId: bob, score: 0.7 });
      kafka.append('match-notifications', [{ key: alice, value: JSON.stringify(event) }]);
      await waitFor(async () => (await db.pool.query('SELECT 1 FROM connecthub.activity WHERE id = $1', [event.eventId])).rowCount === 1, 5_000, 'the consumed event');
      // A relay polls every 100 ms when idle; a second is ten rounds it would have had.
      await new Promise((r) => setTimeout(r, 1_000));
      const row = await db.pool.query('SELECT published_at FROM connecthub.outbox WHERE id = $1', [rows[0].id]);
      expect(row.rows[0].published_at).toBeNull();
      expect(kafka.records('messages').filter((r) => r.key === key)).toEqual([]);
      // Readiness has no relay to judge Kafka by; the series of the relaying region are not exported here.
      expect((await http(worker.port, 'GET', '/readyz')).json).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
      expect((await http(worker.port, 'GET', '/metrics')).text).not.toMatch(/^outbox_published_total\{[^}]*\} [1-9]/m);
    } finally {
      await worker.shutdown();
    }
  });
});
