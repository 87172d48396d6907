/**
 * The bundled server started as the container starts it (`node dist/server.js` with env):
 * configuration errors exit non-zero naming the setting; SIGTERM fails readiness, finishes
 * in-flight requests, closes WebSockets with 1001 and exits 0 within the drain.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import WebSocket from 'ws';
import { buildBundleFile, cleanRedis, createTestDb, env, http, Jwks, loadBundle, seedUser, startJwks, TestDb, uniquePrefix, waitFor } from './helpers';

jest.setTimeout(60_000);

let bundlePath: string;
let db: TestDb;
let jwks: Jwks;
const prefix = uniquePrefix('life');

beforeAll(async () => {
  bundlePath = buildBundleFile();
  [db, jwks] = await Promise.all([createTestDb('life'), startJwks()]);
});
afterAll(async () => {
  await cleanRedis(prefix);
  await Promise.all([db?.drop(), jwks?.close()]);
});

describe('configuration', () => {
  test('every bad setting is reported at once, naming the setting, the value and what is allowed', () => {
    const { loadConfig } = loadBundle();
    let message = '';
    try {
      loadConfig({ CONNECTHUB_ROLE: 'api', DATABASE_WRITER_HOST: 'db', DATABASE_NAME: 'x', DATABASE_USER: 'u', DATABASE_SSL: 'yes', DATABASE_PORT: '99999', REDIS_ENDPOINT: 'cache', REDIS_TLS: 'maybe', REDIS_COMMAND_TIMEOUT_MS: '0', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_JWKS_URL: 'http://idp.example.com/jwks', FEED_CACHE_TTL_SECONDS: '-1' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('invalid configuration (7 problems)');
    expect(message).toContain('DATABASE_SSL="yes" is not allowed; allowed: require | disable');
    expect(message).toContain('DATABASE_PORT="99999" is not allowed; expected an integer from 1 to 65535');
    expect(message).toContain('REDIS_ENDPOINT="cache" is not allowed; expected host:port');
    expect(message).toContain('REDIS_TLS="maybe" is not allowed; allowed: true | false');
    expect(message).toContain('REDIS_COMMAND_TIMEOUT_MS="0" is not allowed; expected an integer from 10 to 60000');
    expect(message).toContain('JWT_JWKS_URL="http://idp.example.com/jwks" is not allowed; expected an https:// URL');
    expect(message).toContain('FEED_CACHE_TTL_SECONDS="-1" is not allowed');
  });

  test('role-specific requirements: IAM auth needs a region and TLS; the worker needs brokers; plain-text passwords are refused', () => {
    const { loadConfig } = loadBundle();
    const problems = (e: Record<string, string>) => {
      try {
        loadConfig(e);
        return [];
      } catch (err) {
        return (err as { problems: string[] }).problems;
      }
    };
    const worker = problems({ CONNECTHUB_ROLE: 'worker', DATABASE_WRITER_HOST: 'db', DATABASE_NAME: 'x', DATABASE_USER: 'u', DATABASE_AUTH: 'iam', DATABASE_SSL: 'disable', DATABASE_PASSWORD: 'hunter2', REDIS_ENDPOINT: 'c:6379' });
    expect(worker).toEqual([
      'DATABASE_PASSWORD is set; passwords are read from a mounted file only: set DATABASE_PASSWORD_FILE instead',
      'AWS_REGION is not set; it is required when DATABASE_AUTH=iam (the token is signed for a region)',
      'DATABASE_SSL=disable is not allowed with DATABASE_AUTH=iam; IAM authentication needs TLS: set require',
      'KAFKA_BROKERS is not set; expected a comma-separated list of host:port',
      'AWS_REGION is not set; it is required when KAFKA_AUTH=iam',
    ]);
    // OUTBOX_RELAY: on by default; a bad value names the variable, the value and the allowed values.
    const workerEnv = { CONNECTHUB_ROLE: 'worker', DATABASE_WRITER_HOST: 'db', DATABASE_NAME: 'x', DATABASE_USER: 'u', REDIS_ENDPOINT: 'c:6379', KAFKA_BROKERS: 'k:9092', KAFKA_AUTH: 'none', KAFKA_TLS: 'false' };
    expect(loadConfig(workerEnv).outboxRelay).toBe(true);
    expect(loadConfig({ ...workerEnv, OUTBOX_RELAY: 'off' }).outboxRelay).toBe(false);
    expect(problems({ ...workerEnv, OUTBOX_RELAY: 'primary' })).toEqual(['OUTBOX_RELAY="primary" is not allowed; allowed: on | off']);
    // realtime needs neither a database nor Kafka.
    const rt = loadConfig({ CONNECTHUB_ROLE: 'realtime', REDIS_ENDPOINT: 'c:6379', REDIS_CLUSTER: 'true', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_JWKS_URL: 'https://idp/jwks' });
    expect(rt).toMatchObject({ role: 'realtime', port: 8080, shutdownDrainSeconds: 20, database: undefined, kafka: undefined, redis: { cluster: true, host: 'c', port: 6379 } });
    expect(rt.feedCacheTtlSeconds).toBe(300);
    expect(rt.queryCacheTtlSeconds).toBe(1800);
  });

  test('the bundled server exits 1 on bad configuration with the message on stderr', () => {
    const r = spawnSync(process.execPath, [bundlePath], { env: { PATH: process.env.PATH, CONNECTHUB_ROLE: 'apx' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('CONNECTHUB_ROLE="apx" is not allowed; allowed: api | realtime | worker');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

function start(role: 'api' | 'realtime', extra: Record<string, string>): Promise<{ child: ChildProcess; port: number; logs: string[] }> {
  const child = spawn(process.execPath, [bundlePath], {
    env: { PATH: process.env.PATH, ...env(role, role === 'api' ? db : undefined, prefix, jwks, { LOG_LEVEL: 'info', ...extra }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        const entry = JSON.parse(line);
        if (entry.msg === 'listening') resolve({ child, port: entry.port, logs });
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${logs.join('\n')}`)));
  });
}
const exited = (child: ChildProcess) => new Promise<number | null>((r) => child.on('exit', (code) => r(code)));

test('api: SIGTERM fails readiness, keeps serving during the delay, completes an in-flight request and exits 0', async () => {
  const { child, port, logs } = await start('api', { SHUTDOWN_DELAY_SECONDS: '1', SHUTDOWN_DRAIN_SECONDS: '10' });
  const user = await seedUser(db.pool);
  const token = jwks.token(user);
  expect((await http(port, 'GET', '/readyz')).status).toBe(200);
  // An in-flight request: headers and half the body sent before SIGTERM, the rest after.
  const body = JSON.stringify({ body: 'sent across the shutdown' });
  const sock = netConnect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let response = '';
  sock.on('data', (d) => (response += d.toString()));
  const responded = new Promise<void>((r) => sock.on('end', () => r()));
  sock.write(`POST /v1/posts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`);
  const code = exited(child);
  child.kill('SIGTERM');
  await waitFor(async () => (await http(port, 'GET', '/readyz')).status === 503, 2_000, 'readiness failing');
  // Still serving during the delay (load balancers are catching up).
  expect((await http(port, 'GET', `/v1/users/${user}`, { token })).status).toBe(200);
  sock.write(body.slice(10));
  await responded;
  expect(response).toMatch(/^HTTP\/1.1 201/);
  expect(await code).toBe(0);
  expect(logs.some((l) => JSON.parse(l).msg === 'drained')).toBe(true);
  const rows = await db.pool.query(`SELECT count(*)::int AS n FROM connecthub.posts WHERE body = 'sent across the shutdown'`);
  expect(rows.rows[0].n).toBe(1);
});

test('realtime: SIGTERM closes WebSockets with 1001 (reconnect elsewhere) and exits 0', async () => {
  const { child, port } = await start('realtime', { SHUTDOWN_DELAY_SECONDS: '0', SHUTDOWN_DRAIN_SECONDS: '5' });
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['connecthub.v1', `bearer.${jwks.token(await seedUser(db.pool))}`]);
  await new Promise((r, j) => {
    ws.on('message', r);
    ws.on('error', j);
  });
  const closed = new Promise<number>((r) => ws.on('close', (c) => r(c)));
  const code = exited(child);
  child.kill('SIGTERM');
  expect(await closed).toBe(1001);
  expect(await code).toBe(0);
});
