/**
 * Resilience: with Redis down the api serves from the database (slower, not failing) and uses the
 * cache again when Redis returns; realtime reports not ready without Redis; database connections
 * killed under the pool (a failover) are replaced without failing requests or crashing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunningService } from '../src/service';
import { createTestDb, env, http, Jwks, loadBundle, seedUser, startJwks, TestDb, uniquePrefix, waitFor } from './helpers';

jest.setTimeout(60_000);

const port = 6390 + (process.pid % 9);
const dir = mkdtempSync(path.join(tmpdir(), 'ch-redis-'));
const startRedis = () =>
  execFileSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--dir', dir, '--pidfile', path.join(dir, 'redis.pid')]);
const stopRedis = () => {
  try {
    execFileSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore' });
  } catch {
    /* already down */
  }
};
const redisUp = () => {
  try {
    return execFileSync('redis-cli', ['-p', String(port), 'ping']).toString().trim() === 'PONG';
  } catch {
    return false;
  }
};

let db: TestDb;
let jwks: Jwks;
let api: RunningService;
let rt: RunningService;
let user: string;
let token: string;

beforeAll(async () => {
  stopRedis();
  startRedis();
  await waitFor(redisUp, 5_000, 'test redis');
  const b = loadBundle();
  [db, jwks] = await Promise.all([createTestDb('res'), startJwks()]);
  const extra = { REDIS_ENDPOINT: `127.0.0.1:${port}` };
  api = await b.startService(b.loadConfig(env('api', db, uniquePrefix('res'), jwks, extra)), { host: '127.0.0.1' });
  rt = await b.startService(b.loadConfig(env('realtime', undefined, uniquePrefix('res'), jwks, extra)), { host: '127.0.0.1' });
  user = await seedUser(db.pool);
  token = jwks.token(user);
  await waitFor(async () => (await http(api.port, 'GET', '/readyz')).json.checks.redis === 'ok', 5_000, 'api sees redis');
});

afterAll(async () => {
  await Promise.all([api?.shutdown(), rt?.shutdown()]);
  stopRedis();
  await Promise.all([db?.drop(), jwks?.close()]);
});

test('Redis down: reads come from the database, writes still work, readiness stays up (degraded)', async () => {
  await http(api.port, 'POST', '/v1/posts', { token, body: { body: 'before the outage' } });
  expect((await http(api.port, 'GET', '/v1/feed', { token })).headers.get('x-cache')).toBe('miss');
  expect((await http(api.port, 'GET', '/v1/feed', { token })).headers.get('x-cache')).toBe('hit');

  stopRedis();
  await waitFor(async () => (await http(api.port, 'GET', '/v1/feed', { token })).headers.get('x-cache') === 'bypass', 5_000, 'fallback');
  const feed = await http(api.port, 'GET', '/v1/feed', { token });
  expect(feed.status).toBe(200);
  expect(feed.json.items.map((p: { body: string }) => p.body)).toEqual(['before the outage']);
  const post = await http(api.port, 'POST', '/v1/posts', { token, body: { body: 'during the outage' } });
  expect(post.status).toBe(201);
  expect((await http(api.port, 'GET', `/v1/users/${user}`, { token })).status).toBe(200);
  const msg = await http(api.port, 'POST', '/v1/messages', { token, body: { recipientId: await seedUser(db.pool), body: 'still works', clientKey: 'outage-0001' } });
  expect(msg.status).toBe(201);
  const ready = await http(api.port, 'GET', '/readyz');
  expect(ready.status).toBe(200);
  expect(ready.json.checks).toEqual({ database: 'ok', redis: 'degraded' });
  // realtime cannot deliver without Redis: it leaves the load balancer until Redis is back.
  expect((await http(rt.port, 'GET', '/readyz')).status).toBe(503);
  const metrics = await http(api.port, 'GET', '/metrics');
  expect(metrics.text).toMatch(/cache_requests_total\{cache="feed",result="error",role="api"\} [1-9]/);
});

test('Redis back: the cache is used again without a restart', async () => {
  startRedis();
  await waitFor(async () => (await http(api.port, 'GET', '/v1/feed', { token })).headers.get('x-cache') === 'hit', 10_000, 'cache recovery');
  const feed = await http(api.port, 'GET', '/v1/feed', { token });
  expect(feed.json.items.map((p: { body: string }) => p.body)).toEqual(['during the outage', 'before the outage']);
  await waitFor(async () => (await http(rt.port, 'GET', '/readyz')).status === 200, 10_000, 'realtime ready again');
});

test('database connections killed under the pool (failover) are replaced; requests keep succeeding', async () => {
  expect((await http(api.port, 'GET', '/v1/feed?limit=5', { token })).status).toBe(200);
  const killed = await db.pool.query(
    `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'connecthub-backend'`,
    [db.name],
  );
  expect(killed.rows[0].n).toBeGreaterThan(0);
  const read = await http(api.port, 'GET', '/v1/feed?limit=5', { token });
  expect(read.status).toBe(200);
  const write = await http(api.port, 'POST', '/v1/posts', { token, body: { body: 'after failover' } });
  expect(write.status).toBe(201);
  expect((await http(api.port, 'GET', '/readyz')).json.checks.database).toBe('ok');
});
