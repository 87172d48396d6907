/**
 * The api role against real PostgreSQL (fresh database, shared migrations) and Redis: cache-aside
 * feed and query caches, authentication, validation, idempotent message sends, sync, compression,
 * probes and metrics.
 */
import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { brotliDecompressSync } from 'node:zlib';
import { Redis } from 'ioredis';
import type { RunningService } from '../src/service';
import { cleanRedis, createTestDb, env, http, Jwks, loadBundle, seedUser, startJwks, TestDb, uniquePrefix, waitFor } from './helpers';

jest.setTimeout(60_000);

let db: TestDb;
let jwks: Jwks;
let api: RunningService;
let redis: Redis;
const prefix = uniquePrefix('api');
let alice: string, bob: string, carol: string;
let tAlice: string, tBob: string, tCarol: string;

beforeAll(async () => {
  const b = loadBundle();
  [db, jwks] = await Promise.all([createTestDb('api'), startJwks()]);
  api = await b.startService(b.loadConfig(env('api', db, prefix, jwks, { FEED_CACHE_TTL_SECONDS: '300', QUERY_CACHE_TTL_SECONDS: '1800' })), { host: '127.0.0.1' });
  redis = new Redis({ host: '127.0.0.1', port: 6379 });
  [alice, bob, carol] = await Promise.all([seedUser(db.pool, { region: 'us' }), seedUser(db.pool, { region: 'eu' }), seedUser(db.pool, { region: 'ap' })]);
  [tAlice, tBob, tCarol] = [jwks.token(alice), jwks.token(bob), jwks.token(carol)];
});

afterAll(async () => {
  await api?.shutdown('test end');
  redis?.disconnect();
  await cleanRedis(prefix);
  await Promise.all([db?.drop(), jwks?.close()]);
});

describe('authentication', () => {
  test('a missing token is 401 naming the header', async () => {
    const r = await http(api.port, 'GET', '/v1/feed');
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: 'token_missing', message: expect.stringContaining('Authorization: Bearer') });
    expect(r.headers.get('www-authenticate')).toContain('invalid_token');
  });
  test('an expired token is 401 token_expired', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    const r = await http(api.port, 'GET', '/v1/feed', { token: jwks.token(alice, { exp: past, iat: past - 60 }) });
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('token_expired');
  });
  test('a token from another issuer is 401 naming the iss claim', async () => {
    const r = await http(api.port, 'GET', '/v1/feed', { token: jwks.token(alice, { iss: 'https://evil.example/' }) });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: 'token_invalid', message: expect.stringContaining('"iss"') });
  });
  test('a token for another audience or signed by an unknown key is rejected', async () => {
    expect((await http(api.port, 'GET', '/v1/feed', { token: jwks.token(alice, { aud: 'other' }) })).json.message).toContain('"aud"');
    const stranger = await http(api.port, 'GET', '/v1/feed', { token: jwks.token(alice, {}, jwks.strangerKey) });
    expect(stranger.status).toBe(401);
    expect((await http(api.port, 'GET', '/v1/feed', { token: 'not.a.jwt' })).status).toBe(401);
  });
  test('a subject that is not a user id is rejected', async () => {
    const r = await http(api.port, 'GET', '/v1/feed', { token: jwks.token('admin') });
    expect(r.status).toBe(401);
    expect(r.json.message).toContain('"sub"');
  });
  test('probes need no token', async () => {
    expect((await http(api.port, 'GET', '/healthz')).status).toBe(200);
    const ready = await http(api.port, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json.checks).toEqual({ database: 'ok', redis: 'ok' });
  });
});

describe('validation', () => {
  test('a bad field is 400 naming the field, the value and what is allowed', async () => {
    const r = await http(api.port, 'POST', '/v1/messages', { token: tAlice, body: { recipientId: 'bob', body: 'hi', clientKey: 'key-00000001' } });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('validation_failed');
    expect(r.json.details).toEqual([{ field: 'body.recipientId', value: 'bob', problem: 'must be a UUID' }]);
    expect(r.json.message).toBe('body.recipientId = "bob" must be a UUID');
  });
  test('every problem is reported at once, missing and unknown fields included', async () => {
    const r = await http(api.port, 'POST', '/v1/posts', { token: tAlice, body: { text: 'x', mediaKeys: ['ok', 'bad key!'] } });
    expect(r.status).toBe(400);
    const fields = r.json.details.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(['body.body', 'body.mediaKeys.1', 'body.text']);
    expect(r.json.details.find((d: { field: string }) => d.field === 'body.body').problem).toBe('is required');
  });
  test('query parameters and path parameters are validated too', async () => {
    const q = await http(api.port, 'GET', '/v1/feed?limit=1000', { token: tAlice });
    expect(q.status).toBe(400);
    expect(q.json.message).toContain('querystring.limit = 1000 must be <= 100');
    const p = await http(api.port, 'GET', '/v1/users/123', { token: tAlice });
    expect(p.json.details).toEqual([{ field: 'params.userId', value: '123', problem: 'must be a UUID' }]);
  });
  test('an unknown route is 404 and a bad cursor is 400', async () => {
    expect((await http(api.port, 'GET', '/v1/nothing', { token: tAlice })).status).toBe(404);
    const c = await http(api.port, 'GET', '/v1/sync?cursor=garbage', { token: tAlice });
    expect(c.status).toBe(400);
    expect(c.json.message).toContain('"cursor"');
  });
});

describe('feed cache (cache-aside, 5 minutes, invalidated when a followee posts)', () => {
  test('miss, then hit, stored with the feed TTL', async () => {
    await http(api.port, 'PUT', `/v1/follows/${bob}`, { token: tAlice });
    await http(api.port, 'POST', '/v1/posts', { token: tBob, body: { body: 'bob post 1' } });
    const first = await http(api.port, 'GET', '/v1/feed', { token: tAlice });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('miss');
    expect(first.json.items.map((p: { body: string }) => p.body)).toEqual(['bob post 1']);
    const second = await http(api.port, 'GET', '/v1/feed', { token: tAlice });
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(second.json).toEqual(first.json);
    const ttl = await redis.ttl(`${prefix}feed:${alice}`);
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
  });
  test('a post by someone the user follows invalidates the cached feed', async () => {
    await http(api.port, 'GET', '/v1/feed', { token: tAlice });
    expect(await redis.exists(`${prefix}feed:${alice}`)).toBe(1);
    const post = await http(api.port, 'POST', '/v1/posts', { token: tBob, body: { body: 'bob post 2', mediaKeys: ['media/a.jpg'] } });
    expect(post.status).toBe(201);
    expect(await redis.exists(`${prefix}feed:${alice}`)).toBe(0);
    const after = await http(api.port, 'GET', '/v1/feed', { token: tAlice });
    expect(after.headers.get('x-cache')).toBe('miss');
    expect(after.json.items[0]).toMatchObject({ body: 'bob post 2', authorId: bob, mediaKeys: ['media/a.jpg'] });
  });
  test('a post by someone the user does not follow leaves the cache alone', async () => {
    await http(api.port, 'GET', '/v1/feed', { token: tAlice });
    await http(api.port, 'POST', '/v1/posts', { token: tCarol, body: { body: 'carol post' } });
    const r = await http(api.port, 'GET', '/v1/feed', { token: tAlice });
    expect(r.headers.get('x-cache')).toBe('hit');
    expect(r.json.items.some((p: { body: string }) => p.body === 'carol post')).toBe(false);
  });
  test('an expired entry is a miss (TTL honoured)', async () => {
    await http(api.port, 'GET', '/v1/feed', { token: tAlice });
    await redis.pexpire(`${prefix}feed:${alice}`, 1);
    await new Promise((r) => setTimeout(r, 20));
    expect((await http(api.port, 'GET', '/v1/feed', { token: tAlice })).headers.get('x-cache')).toBe('miss');
  });
  test('pages other than the first bypass the cache', async () => {
    const r = await http(api.port, 'GET', '/v1/feed?limit=1', { token: tAlice });
    expect(r.headers.get('x-cache')).toBe('bypass');
    expect(r.json.items).toHaveLength(1);
  });
  test('following someone invalidates the follower’s feed', async () => {
    await http(api.port, 'GET', '/v1/feed', { token: tAlice });
    await http(api.port, 'PUT', `/v1/follows/${carol}`, { token: tAlice });
    const r = await http(api.port, 'GET', '/v1/feed', { token: tAlice });
    expect(r.headers.get('x-cache')).toBe('miss');
    expect(r.json.items.some((p: { body: string }) => p.body === 'carol post')).toBe(true);
  });
});

describe('query cache (profiles and match suggestions, 30 minutes)', () => {
  test('profile: miss then hit with the query TTL; unknown users are 404 and not cached', async () => {
    const a = await http(api.port, 'GET', `/v1/users/${bob}`, { token: tAlice });
    expect(a.headers.get('x-cache')).toBe('miss');
    expect(a.json).toMatchObject({ id: bob, homeRegion: 'eu' });
    expect((await http(api.port, 'GET', `/v1/users/${bob}`, { token: tAlice })).headers.get('x-cache')).toBe('hit');
    expect(await redis.ttl(`${prefix}profile:${bob}`)).toBeGreaterThan(1790);
    const missing = randomUUID();
    const nf = await http(api.port, 'GET', `/v1/users/${missing}`, { token: tAlice });
    expect(nf.status).toBe(404);
    expect(await redis.exists(`${prefix}profile:${missing}`)).toBe(0);
  });
  test('match suggestions come best first and are cached', async () => {
    await db.pool.query('INSERT INTO connecthub.match_suggestions (user_id, candidate_id, score) VALUES ($1, $2, 0.4), ($1, $3, 0.9)', [alice, bob, carol]);
    const m = await http(api.port, 'GET', '/v1/matches', { token: tAlice });
    expect(m.headers.get('x-cache')).toBe('miss');
    expect(m.json.items.map((i: { candidateId: string }) => i.candidateId)).toEqual([carol, bob]);
    expect((await http(api.port, 'GET', '/v1/matches', { token: tAlice })).headers.get('x-cache')).toBe('hit');
    expect(await redis.ttl(`${prefix}matches:${alice}`)).toBeGreaterThan(1790);
  });
});

describe('messages: outbox in the same transaction and idempotent retries', () => {
  test('a send writes the message, its idempotency guard and one outbox row', async () => {
    const before = Number((await db.pool.query('SELECT count(*) FROM connecthub.outbox WHERE topic = $1', ['messages'])).rows[0].count);
    const r = await http(api.port, 'POST', '/v1/messages', { token: tAlice, body: { recipientId: bob, body: 'hello bob', clientKey: 'offline-0001' } });
    expect(r.status).toBe(201);
    expect(r.json.message).toMatchObject({ senderId: alice, recipientId: bob, body: 'hello bob', clientKey: 'offline-0001' });
    const outbox = await db.pool.query('SELECT message_key, payload FROM connecthub.outbox WHERE topic = $1 ORDER BY id', ['messages']);
    expect(outbox.rows).toHaveLength(before + 1);
    const last = outbox.rows[outbox.rows.length - 1];
    expect(last.message_key).toBe(r.json.message.conversationId);
    expect(last.payload).toMatchObject({ type: 'message.created', actorId: alice, data: { message: { id: r.json.message.id } } });
  });
  test('retrying with the same client key returns the original message and writes nothing', async () => {
    const send = () => http(api.port, 'POST', '/v1/messages', { token: tAlice, body: { recipientId: bob, body: 'retry me', clientKey: 'offline-0002' } });
    const first = await send();
    const count = async () => (await db.pool.query(`SELECT (SELECT count(*) FROM connecthub.messages)::int AS m, (SELECT count(*) FROM connecthub.outbox)::int AS o`)).rows[0];
    const before = await count();
    const [r1, r2, r3] = await Promise.all([send(), send(), send()]);
    for (const r of [r1, r2, r3]) {
      expect(r.status).toBe(200);
      expect(r.headers.get('idempotent-replayed')).toBe('true');
      expect(r.json.message.id).toBe(first.json.message.id);
    }
    expect(await count()).toEqual(before);
  });
  test('concurrent first attempts create exactly one message', async () => {
    const rs = await Promise.all(Array.from({ length: 5 }, () => http(api.port, 'POST', '/v1/messages', { token: tBob, body: { recipientId: alice, body: 'race', clientKey: 'race-key-0001' } })));
    expect(rs.filter((r) => r.status === 201)).toHaveLength(1);
    expect(new Set(rs.map((r) => r.json.message.id)).size).toBe(1);
    const n = await db.pool.query(`SELECT count(*)::int AS n FROM connecthub.messages WHERE client_key = 'race-key-0001'`);
    expect(n.rows[0].n).toBe(1);
  });
  test('reusing a key for a different message is 409', async () => {
    const r = await http(api.port, 'POST', '/v1/messages', { token: tAlice, body: { recipientId: bob, body: 'something else', clientKey: 'offline-0002' } });
    expect(r.status).toBe(409);
    expect(r.json.message).toContain('offline-0002');
  });
  test('the conversation lists both directions, newest first', async () => {
    const r = await http(api.port, 'GET', `/v1/messages?peer=${bob}`, { token: tAlice });
    expect(r.status).toBe(200);
    expect(r.json.items[0].body).toBe('race');
    expect(r.json.items.map((m: { body: string }) => m.body)).toEqual(expect.arrayContaining(['hello bob', 'retry me']));
  });
  test('a post writes its outbox row in the same transaction', async () => {
    const r = await http(api.port, 'POST', '/v1/posts', { token: tCarol, body: { body: 'outbox check' } });
    const row = await db.pool.query(`SELECT topic, message_key, payload FROM connecthub.outbox WHERE payload->'data'->>'postId' = $1`, [r.json.post.id]);
    expect(row.rows).toEqual([{ topic: 'feed-updates', message_key: carol, payload: expect.objectContaining({ type: 'post.created', actorId: carol }) }]);
  });
});

describe('sync for offline clients', () => {
  test('returns changes since the cursor and nothing twice once outside the safety window', async () => {
    const dave = await seedUser(db.pool);
    const tDave = jwks.token(dave);
    // Rows older than the safety window, as if written a minute ago.
    await db.pool.query(`INSERT INTO connecthub.messages (conversation_id, sender_id, recipient_id, body, created_at) VALUES (gen_random_uuid(), $1, $2, 'old msg', now() - interval '1 minute')`, [alice, dave]);
    await db.pool.query(`INSERT INTO connecthub.activity (user_id, kind, subject_id, created_at) VALUES ($1, 'follow.received', $2, now() - interval '1 minute')`, [dave, alice]);
    const full = await http(api.port, 'GET', '/v1/sync', { token: tDave });
    expect(full.status).toBe(200);
    expect(full.json.reset).toBe(true);
    expect(full.json.messages.map((m: { body: string }) => m.body)).toEqual(['old msg']);
    expect(full.json.notifications).toEqual([expect.objectContaining({ kind: 'follow.received', subjectId: alice })]);
    const again = await http(api.port, 'GET', `/v1/sync?cursor=${full.json.cursor}`, { token: tDave });
    expect(again.json).toMatchObject({ messages: [], posts: [], notifications: [], hasMore: false, reset: false });
    // A new message arrives while the client is offline.
    await http(api.port, 'POST', '/v1/messages', { token: tBob, body: { recipientId: dave, body: 'while you were away', clientKey: 'away-00001' } });
    const next = await http(api.port, 'GET', `/v1/sync?cursor=${again.json.cursor}`, { token: tDave });
    expect(next.json.messages.map((m: { body: string }) => m.body)).toEqual(['while you were away']);
  });
  test('pages with hasMore and a cursor that continues where the page ended', async () => {
    const erin = await seedUser(db.pool);
    await db.pool.query(
      `INSERT INTO connecthub.messages (conversation_id, sender_id, recipient_id, body, created_at)
       SELECT gen_random_uuid(), $1, $2, 'm' || g, now() - interval '10 minutes' + g * interval '1 second' FROM generate_series(1, 5) g`,
      [alice, erin],
    );
    const t = jwks.token(erin);
    const p1 = await http(api.port, 'GET', '/v1/sync?limit=2', { token: t });
    expect(p1.json.messages.map((m: { body: string }) => m.body)).toEqual(['m1', 'm2']);
    expect(p1.json.hasMore).toBe(true);
    const p2 = await http(api.port, 'GET', `/v1/sync?limit=2&cursor=${p1.json.cursor}`, { token: t });
    expect(p2.json.messages.map((m: { body: string }) => m.body)).toEqual(['m3', 'm4']);
    const p3 = await http(api.port, 'GET', `/v1/sync?limit=2&cursor=${p2.json.cursor}`, { token: t });
    expect(p3.json.messages.map((m: { body: string }) => m.body)).toEqual(['m5']);
    expect(p3.json.hasMore).toBe(false);
  });
});

describe('compression, rate limits and metrics', () => {
  const raw = (path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: api.port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });

  test('large responses are brotli-compressed when accepted, gzip otherwise, plain when not', async () => {
    for (let i = 0; i < 20; i++) await http(api.port, 'POST', '/v1/posts', { token: tBob, body: { body: `a fairly long post body number ${i} `.repeat(8) } });
    const auth = { authorization: `Bearer ${tAlice}` };
    const br = await raw('/v1/feed', { ...auth, 'accept-encoding': 'br, gzip' });
    expect(br.headers['content-encoding']).toBe('br');
    const plain = JSON.parse(brotliDecompressSync(br.body).toString());
    expect(plain.items).toHaveLength(20);
    expect(br.body.length).toBeLessThan(JSON.stringify(plain).length / 2);
    expect((await raw('/v1/feed', { ...auth, 'accept-encoding': 'gzip' })).headers['content-encoding']).toBe('gzip');
    expect((await raw('/v1/feed', auth)).headers['content-encoding']).toBeUndefined();
  });

  test('requests beyond the per-user limit get 429 with a clear message', async () => {
    const b = loadBundle();
    const rlPrefix = uniquePrefix('rl');
    const limited = await b.startService(b.loadConfig(env('api', db, rlPrefix, jwks, { RATE_LIMIT_PER_MINUTE: '3' })), { host: '127.0.0.1' });
    try {
      // Before its Redis connection is up the limiter fails open (commands are not queued), so the first requests
      // would not be counted; the api stays ready without Redis (it reads from the database), so wait for Redis itself.
      await waitFor(async () => (await http(limited.port, 'GET', '/readyz')).json.checks.redis === 'ok', 10_000, 'rate limiter sees Redis');
      const t = jwks.token(carol);
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await http(limited.port, 'GET', `/v1/users/${bob}`, { token: t })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const r = await http(limited.port, 'GET', `/v1/users/${bob}`, { token: t });
      expect(r.json).toMatchObject({ error: 'rate_limited', message: expect.stringContaining('more than 3 requests per minute') });
      // Another user has their own budget.
      expect((await http(limited.port, 'GET', `/v1/users/${bob}`, { token: tBob })).status).toBe(200);
    } finally {
      await limited.shutdown();
      await cleanRedis(rlPrefix);
    }
  });

  test('/metrics exposes request counts and latency histograms by role, route, method and status', async () => {
    const m = await http(api.port, 'GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.text).toMatch(/http_requests_total\{role="api",route="\/v1\/feed",method="GET",status="200"\} \d+/);
    expect(m.text).toMatch(/http_request_duration_seconds_bucket\{le="0.2",role="api",route="\/v1\/feed",method="GET",status="200"\} \d+/);
    expect(m.text).toMatch(/cache_requests_total\{cache="feed",result="hit",role="api"\} \d+/);
    expect(m.text).not.toContain('route="/healthz"');
  });
});
