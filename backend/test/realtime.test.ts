/**
 * The realtime role: authenticated WebSockets, delivery across two pods through Redis pub/sub,
 * de-duplication, presence, the per-pod connection limit and backpressure on slow consumers.
 */
import WebSocket from 'ws';
import { Redis } from 'ioredis';
import type { RunningService } from '../src/service';
import { cleanRedis, createTestDb, env, http, Jwks, loadBundle, seedUser, startJwks, TestDb, uniquePrefix, waitFor } from './helpers';

jest.setTimeout(60_000);

let db: TestDb;
let jwks: Jwks;
let api: RunningService, podA: RunningService, podB: RunningService;
let redis: Redis;
const prefix = uniquePrefix('rt');
let alice: string, bob: string;
const open: WebSocket[] = [];

interface Client {
  readonly ws: WebSocket;
  readonly events: any[];
}

function connect(port: number, token: string | undefined, how: 'protocol' | 'header' = 'protocol'): Promise<Client> {
  return new Promise((resolve, reject) => {
    const protocols = ['connecthub.v1', ...(token && how === 'protocol' ? [`bearer.${token}`] : [])];
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, protocols, how === 'header' && token ? { headers: { authorization: `Bearer ${token}` } } : {});
    open.push(ws);
    const events: any[] = [];
    ws.on('message', (d) => {
      const e = JSON.parse(String(d));
      if (e.type === 'ready') resolve({ ws, events });
      else events.push(e);
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body: JSON.parse(body || '{}') })));
    });
    ws.on('error', (err) => reject(err));
  });
}

beforeAll(async () => {
  const b = loadBundle();
  [db, jwks] = await Promise.all([createTestDb('rt'), startJwks()]);
  const start = (role: 'api' | 'realtime', extra: Record<string, string> = {}) =>
    b.startService(b.loadConfig(env(role, role === 'api' ? db : undefined, prefix, jwks, extra)), { host: '127.0.0.1' });
  [api, podA, podB] = await Promise.all([start('api'), start('realtime'), start('realtime')]);
  redis = new Redis({ host: '127.0.0.1', port: 6379 });
  [alice, bob] = await Promise.all([seedUser(db.pool), seedUser(db.pool)]);
});

afterAll(async () => {
  for (const ws of open) ws.terminate();
  await Promise.all([api?.shutdown(), podA?.shutdown(), podB?.shutdown()]);
  redis?.disconnect();
  await cleanRedis(prefix);
  await Promise.all([db?.drop(), jwks?.close()]);
});

test('the upgrade needs a valid token: none, expired and wrong issuer are refused before the socket opens', async () => {
  await expect(connect(podA.port, undefined)).rejects.toMatchObject({ status: 401, body: { error: 'token_missing' } });
  const past = Math.floor(Date.now() / 1000) - 600;
  await expect(connect(podA.port, jwks.token(bob, { exp: past, iat: past - 10 }))).rejects.toMatchObject({ status: 401, body: { error: 'token_expired' } });
  await expect(connect(podA.port, jwks.token(bob, { iss: 'https://other/' }))).rejects.toMatchObject({ status: 401, body: { error: 'token_invalid' } });
});

test('the server answers with the connecthub.v1 subprotocol, never echoing the token; a header token also works', async () => {
  const c = await connect(podA.port, jwks.token(bob));
  expect(c.ws.protocol).toBe('connecthub.v1');
  const h = await connect(podA.port, jwks.token(alice), 'header');
  expect(h.ws.readyState).toBe(WebSocket.OPEN);
  c.ws.close();
  h.ws.close();
});

test('a message sent through the api reaches the recipient on another pod, on every device, once', async () => {
  const phone = await connect(podB.port, jwks.token(bob));
  const laptop = await connect(podA.port, jwks.token(bob));
  const sent = await http(api.port, 'POST', '/v1/messages', { token: jwks.token(alice), body: { recipientId: bob, body: 'hi bob', clientKey: 'rt-key-0001' } });
  expect(sent.status).toBe(201);
  for (const device of [phone, laptop]) {
    const e = await waitFor(() => device.events.find((x) => x.type === 'message'), 5_000, 'delivery');
    expect(e).toMatchObject({ type: 'message', id: sent.json.message.id, data: { message: { body: 'hi bob', senderId: alice } } });
  }
  // The worker's Kafka path publishes the same event again: pods drop the duplicate.
  await redis.publish(`${prefix}rt:u:${bob}`, JSON.stringify({ type: 'message', id: sent.json.message.id, at: Date.now(), data: {} }));
  await redis.publish(`${prefix}rt:u:${bob}`, JSON.stringify({ type: 'match', id: 'm-1', at: Date.now(), data: { candidateId: alice } }));
  await waitFor(() => phone.events.some((x) => x.type === 'match') && laptop.events.some((x) => x.type === 'match'), 5_000, 'match');
  expect(phone.events.filter((x) => x.type === 'message')).toHaveLength(1);
  expect(laptop.events.filter((x) => x.type === 'message')).toHaveLength(1);
  const metrics = await http(podB.port, 'GET', '/metrics');
  expect(metrics.text).toMatch(/message_delivery_latency_seconds_count\{[^}]*kind="message"[^}]*\} 1\n/);
  expect(metrics.text).toMatch(/ws_connections\{role="realtime"\} 1/);
  phone.ws.close();
  laptop.ws.close();
});

test('presence is set while connected (with a TTL) and cleared on disconnect', async () => {
  const q = `/v1/presence?userIds=${bob}&userIds=${alice}`;
  const c = await connect(podA.port, jwks.token(bob));
  await waitFor(async () => (await http(api.port, 'GET', q, { token: jwks.token(alice) })).json.online[bob] === true, 3_000, 'bob online');
  const ttl = await redis.ttl(`${prefix}presence:${bob}`);
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(60);
  expect((await http(api.port, 'GET', q, { token: jwks.token(alice) })).json.online[alice]).toBe(false);
  c.ws.close();
  await waitFor(async () => (await http(api.port, 'GET', q, { token: jwks.token(alice) })).json.online[bob] === false, 3_000, 'bob offline');
});

test('the per-pod connection limit refuses the upgrade with 503', async () => {
  const b = loadBundle();
  const small = await b.startService(b.loadConfig(env('realtime', undefined, prefix, jwks, { MAX_WS_CONNECTIONS: '1' })), { host: '127.0.0.1' });
  try {
    const first = await connect(small.port, jwks.token(alice));
    await expect(connect(small.port, jwks.token(bob))).rejects.toMatchObject({ status: 503, body: { error: 'pod_full' } });
    first.ws.close();
    await waitFor(() => small.hub!.connections === 0, 3_000, 'slot freed');
    const again = await connect(small.port, jwks.token(bob));
    again.ws.close();
  } finally {
    await small.shutdown();
  }
});

test('a consumer that stops reading is closed (1013) instead of buffering without bound', async () => {
  const slow = await connect(podA.port, jwks.token(alice));
  const closed = new Promise<number>((r) => slow.ws.on('close', (code) => r(code)));
  // Stop reading: the kernel buffers fill, then the server's send buffer grows.
  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const chunk = 'x'.repeat(64 * 1024);
  for (let i = 0; i < 600; i++) {
    await redis.publish(`${prefix}rt:u:${alice}`, JSON.stringify({ type: 'feed.post', id: `p-${i}`, at: Date.now(), data: { chunk } }));
    if (i % 50 === 49 && /slow_consumer/.test((await http(podA.port, 'GET', '/metrics')).text)) break;
  }
  await waitFor(async () => /ws_dropped_total\{reason="slow_consumer",role="realtime"\} [1-9]/.test((await http(podA.port, 'GET', '/metrics')).text), 10_000, 'slow consumer dropped');
  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  expect(await closed).toBe(1013);
});

test('an accepted upgrade counts in http_requests_total as status 101 (the request-rate trigger sees it); refusals keep their status', async () => {
  const count = async (status: string) => {
    const text = (await http(podB.port, 'GET', '/metrics')).text;
    const m = new RegExp(`^http_requests_total\\{role="realtime",route="/ws",method="GET",status="${status}"\\} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  const [before101, before401] = [await count('101'), await count('401')];
  const c = await connect(podB.port, jwks.token(alice));
  await expect(connect(podB.port, undefined)).rejects.toMatchObject({ status: 401 });
  expect(await count('101')).toBe(before101 + 1);
  await waitFor(async () => (await count('401')) === before401 + 1, 3_000, 'the refused upgrade counted');
  c.ws.close();
  await waitFor(async () => (await count('101')) === before101 + 1 && podB.hub!.connections === 0, 3_000, 'closed without a second count');
  // The open-connection gauge the realtime ScaledObject scales on.
  expect((await http(podB.port, 'GET', '/metrics')).text).toMatch(/^ws_connections\{role="realtime"\} 0$/m);
});

test('a socket is closed with 4401 "token expired" once its token expires; a longer-lived one stays open', async () => {
  const exp = Math.floor(Date.now() / 1000) + 1;
  const shortLived = await connect(podA.port, jwks.token(alice, { exp }));
  const longLived = await connect(podA.port, jwks.token(bob));
  const closed = await new Promise<{ code: number; reason: string; at: number }>((resolve) =>
    shortLived.ws.on('close', (code, reason) => resolve({ code, reason: String(reason), at: Date.now() })));
  expect(closed).toMatchObject({ code: 4401, reason: 'token expired' });
  // Not before the token stops being accepted (exp plus the 5 s clock tolerance the upgrade also allows).
  expect(closed.at).toBeGreaterThanOrEqual((exp + 5) * 1000);
  expect(longLived.ws.readyState).toBe(WebSocket.OPEN);
  expect((await http(podA.port, 'GET', '/metrics')).text).toMatch(/ws_dropped_total\{reason="token_expired",role="realtime"\} 1/);
  longLived.ws.close();
});

test('realtime readiness depends on Redis', async () => {
  const r = await http(podA.port, 'GET', '/readyz');
  expect(r.json).toEqual({ status: 'ready', checks: { redis: 'ok' } });
});
