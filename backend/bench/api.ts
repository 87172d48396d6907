/**
 * `npm run bench:api`: requests/s and p50/p99 latency of the bundled api role (started as the
 * container starts it) for the cached feed, an uncached profile read and post creation, beside a
 * bare Fastify hello-world on the same machine. The ratio to hello-world is the portable figure.
 * Loopback only, bounded in time (~1 minute). Prints one JSON line at the end.
 *
 * Then a sweep of a mixed workload at fixed arrival rates: the highest rate served with p99 under the plan's 200 ms
 * is the per-pod capacity figure the capacity model uses.
 *
 * Options (env): BENCH_SECONDS (per scenario, default 8), BENCH_CONNECTIONS (default 32), BENCH_SWEEP_RATES.
 */
import { spawn } from 'node:child_process';
import { cleanRedis } from '../test/helpers';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { buildBundle, cleanup, createTestDb, machine, onCleanup, ROOT, round, startBundled, startJwks, stop, Started } from './common';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Arrival rates of the mixed-workload sweep, req/s (BENCH_SWEEP_RATES, comma-separated). */
const SWEEP_RATES = (process.env.BENCH_SWEEP_RATES ?? '250,500,750,1000,1250,1500,2000,2500,3000').split(',').map(Number);
const SWEEP_CONNECTIONS = 64;
/** The plan's API response-time target. */
const API_P99_TARGET_MS = 200;
const USERS = 40_000;
const ACTIVE = 200;

async function run(name: string, opts: autocannon.Options) {
  const r = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts });
  const out = {
    requestsPerSecond: round(r.requests.average, 0),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
  process.stderr.write(`${name}: ${JSON.stringify(out)}\n`);
  return out;
}

async function helloWorld(): Promise<Started> {
  const code = `
    const app = require('fastify')();
    app.get('/', async () => ({ hello: 'world' }));
    app.listen({ port: 0, host: '127.0.0.1' }).then(() => console.log(JSON.stringify({ msg: 'listening', port: app.server.address().port })));
    process.on('SIGTERM', () => app.close().then(() => process.exit(0)));`;
  const child = spawn(process.execPath, ['-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ child, port: JSON.parse(d.toString()).port }));
    child.on('exit', (c) => reject(new Error(`hello world exited ${c}`)));
  });
}

async function main() {
  buildBundle();
  const [db, jwks] = await Promise.all([createTestDb('bench'), startJwks()]);
  const prefix = `bench:${randomUUID().slice(0, 8)}:`;
  let api: Started | undefined;
  let hello: Started | undefined;
  onCleanup(() => Promise.all([db.drop(), jwks.close()]));
  onCleanup(() => cleanRedis(prefix));
  onCleanup(() => Promise.all([stop(api), stop(hello)]));
  {
    const t0 = Date.now();
    const step = (what: string) => process.stderr.write(`${what} (${Date.now() - t0} ms)\n`);
    step('seeding');
    // 40k users (profiles), the first 200 active: each follows 50 others and has posted 20 times.
    await db.pool.query(
      `INSERT INTO connecthub.users (id, home_region, handle, display_name, bio, interests)
       SELECT gen_random_uuid(), (ARRAY['us','eu','ap'])[1 + g % 3], 'user' || g, 'User ' || g, repeat('bio ', 20), ARRAY['hiking','music']
         FROM generate_series(1, ${USERS}) g`,
    );
    step('users');
    const ids = (await db.pool.query<{ id: string }>('SELECT id FROM connecthub.users ORDER BY handle')).rows.map((r) => r.id);
    const active = ids.slice(0, ACTIVE);
    await db.pool.query(
      `INSERT INTO connecthub.follows (follower_id, followee_id)
       SELECT a.id, b.id FROM unnest($1::uuid[]) WITH ORDINALITY a(id, n)
         JOIN unnest($1::uuid[]) WITH ORDINALITY b(id, m) ON b.m <> a.n AND (b.m - a.n + ${ACTIVE}) % ${ACTIVE} <= 50`,
      [active],
    );
    step('follows');
    await db.pool.query(
      `INSERT INTO connecthub.posts (author_id, body, created_at)
       SELECT a.id, 'post ' || g || ' ' || repeat('lorem ipsum ', 10), now() - g * interval '7 minutes'
         FROM unnest($1::uuid[]) a(id), generate_series(1, 20) g`,
      [active],
    );
    await db.pool.query('ANALYZE');
    step('posts');
    const tokens = active.map((id) => jwks.token(id, { exp: Math.floor(Date.now() / 1000) + 3600 }));

    hello = await helloWorld();
    api = await startBundled('api', db, prefix, jwks, { RATE_LIMIT_PER_MINUTE: '10000000', DATABASE_POOL_MAX: '20', SHUTDOWN_DELAY_SECONDS: '0' });
    const base = `http://127.0.0.1:${api.port}`;

    const helloRes = await run('hello-world', { url: `http://127.0.0.1:${hello.port}/` });

    // Warm every active user's feed so the run measures cache hits.
    for (let i = 0; i < ACTIVE; i++) await fetch(`${base}/v1/feed`, { headers: { authorization: `Bearer ${tokens[i]}` } });
    let n = 0;
    const feed = await run('cached feed', {
      url: base,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: '/v1/feed', headers: { authorization: `Bearer ${tokens[n++ % ACTIVE]}` } }) }],
    });

    // Each request reads a profile nobody read before (a cache miss and a database read).
    let p = ACTIVE;
    const profile = await run('uncached profile', {
      url: base,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/users/${ids[p++ % USERS]}`, headers: { authorization: `Bearer ${tokens[p % ACTIVE]}` } }) }],
    });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const count = (result: string) => Number(new RegExp(`cache_requests_total\\{cache="profile",result="${result}"[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    const missRatio = round(count('miss') / Math.max(1, count('miss') + count('hit')), 3);

    let k = 0;
    const post = await run('post creation', {
      url: base,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => ({
            ...req,
            path: '/v1/posts',
            headers: { authorization: `Bearer ${tokens[k++ % ACTIVE]}`, 'content-type': 'application/json' },
            body: JSON.stringify({ body: `bench post ${k}` }),
          }),
        },
      ],
    });

    // The figures above are at saturation (closed loop: latency is mostly queueing behind 32 connections). Per-pod
    // capacity is the rate the pod serves within the plan's API target, so sweep a mixed workload (80 % cached feed,
    // 10 % uncached profile, 10 % post) at fixed arrival rates and keep the highest one whose p99 stays under 200 ms
    // with no errors and the rate actually delivered.
    const mix: autocannon.Request[] = [
      ...Array.from({ length: 8 }, () => ({ method: 'GET' as const, setupRequest: (req: autocannon.Request) => ({ ...req, path: '/v1/feed', headers: { authorization: `Bearer ${tokens[n++ % ACTIVE]}` } }) })),
      { method: 'GET', setupRequest: (req: autocannon.Request) => ({ ...req, path: `/v1/users/${ids[p++ % USERS]}`, headers: { authorization: `Bearer ${tokens[p % ACTIVE]}` } }) },
      {
        method: 'POST',
        setupRequest: (req: autocannon.Request) => ({
          ...req,
          path: '/v1/posts',
          headers: { authorization: `Bearer ${tokens[k++ % ACTIVE]}`, 'content-type': 'application/json' },
          body: JSON.stringify({ body: `bench post ${k}` }),
        }),
      },
    ];
    const sweep: Array<{ targetRate: number; requestsPerSecond: number; p50Ms: number; p99Ms: number; non2xx: number; errors: number; withinTarget: boolean }> = [];
    for (const targetRate of SWEEP_RATES) {
      const r = await run(`mix at ${targetRate} req/s`, { url: base, connections: SWEEP_CONNECTIONS, overallRate: targetRate, requests: mix });
      const withinTarget = r.p99Ms < API_P99_TARGET_MS && r.non2xx === 0 && r.errors === 0 && r.requestsPerSecond >= 0.95 * targetRate;
      sweep.push({ targetRate, ...r, withinTarget });
      if (!withinTarget) break;
    }
    const sustained = sweep.filter((x) => x.withinTarget).map((x) => x.targetRate);

    const ratio = (x: { requestsPerSecond: number }) => round(x.requestsPerSecond / helloRes.requestsPerSecond, 3);
    const result = {
      bench: 'api',
      secondsPerScenario: SECONDS,
      connections: CONNECTIONS,
      ...machine(),
      helloWorld: helloRes,
      cachedFeed: { ...feed, ratioToHelloWorld: ratio(feed) },
      uncachedProfile: { ...profile, ratioToHelloWorld: ratio(profile), cacheMissRatio: missRatio },
      postCreation: { ...post, ratioToHelloWorld: ratio(post) },
      mixSweep: { mix: '80% cached feed, 10% uncached profile, 10% post', p99TargetMs: API_P99_TARGET_MS, connections: SWEEP_CONNECTIONS, steps: sweep },
      maxMixRateWithinP99Target: sustained.length > 0 ? Math.max(...sustained) : 0,
      note: 'one api process (one core at most) and autocannon on the same machine; per-pod capacity = maxMixRateWithinP99Target',
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  await cleanup();
}

main().catch(async (err) => {
  process.stderr.write(`bench:api failed: ${err.stack ?? err}\n`);
  await cleanup();
  process.exit(1);
});
