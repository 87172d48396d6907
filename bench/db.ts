/**
 * Database benchmark: `npm run bench:db [-- --url postgres://postgres@127.0.0.1:5432/postgres]`.
 *
 * Creates its own database (`ch_bench_<random>`), applies the migrations, seeds a realistic volume
 * with generate_series (100k users over 3 regions, ≥1.2M posts and 1M messages over 12 months with
 * skewed authors/conversations, follows, match suggestions), then runs the hot queries as prepared
 * statements and prints p50/p99 per query with partition pruning on and off
 * (`enable_partition_pruning`), plus the partitions each variant reads. The database is dropped at
 * the end. The last line is one JSON object.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { applyMigrations } from '../database/migrator';
import { parseDatabaseUrl, redactUrl } from '../database/connection';

interface Options {
  adminUrl: string;
  posts: number;
  messages: number;
  users: number;
  iterations: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { adminUrl: 'postgres://postgres@127.0.0.1:5432/postgres', posts: 1_200_000, messages: 1_000_000, users: 100_000, iterations: 400 };
  for (let i = 0; i < argv.length; i++) {
    const [name, value] = [argv[i], argv[i + 1]];
    const num = (): number => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${name} "${value}" is not allowed: expected a whole number ≥ 1`);
      i++;
      return n;
    };
    if (name === '--url') { opts.adminUrl = parseDatabaseUrl(value); i++; }
    else if (name === '--posts') opts.posts = num();
    else if (name === '--messages') opts.messages = num();
    else if (name === '--users') opts.users = num();
    else if (name === '--iterations') opts.iterations = num();
    else throw new Error(`unknown option "${name}"; allowed: --url, --posts, --messages, --users, --iterations`);
  }
  return opts;
}

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function timed<T>(label: string, fn: () => Promise<T>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  log(`  ${label}: ${seconds.toFixed(1)} s`);
  return seconds;
}

async function seed(c: Client, o: Options): Promise<Record<string, number>> {
  await c.query('SET synchronous_commit = off');
  await c.query(`SET maintenance_work_mem = '256MB'`);
  // Partitions for the 12 past months beyond pg_partman's initial window.
  for (const parent of ['connecthub.posts', 'connecthub.messages']) {
    await c.query(
      `SELECT partman.create_partition_time(p_parent_table := $1,
         p_partition_times := ARRAY(SELECT date_trunc('month', now()) - make_interval(months => m) FROM generate_series(1, 13) m))`,
      [parent],
    );
  }
  // Deterministic ids: user n is md5('u' || n)::uuid.
  await timed(`users (${o.users})`, () =>
    c.query(
      `INSERT INTO connecthub.users (id, home_region, handle, display_name, bio, interests, created_at)
       SELECT md5('u' || g)::uuid, (ARRAY['us','eu','ap'])[1 + g % 3], 'user' || g, 'User ' || g,
              'Bio of user ' || g, ARRAY['i' || (g % 50), 'i' || (g % 17)], now() - (g % 700) * interval '1 day'
         FROM generate_series(1, $1::int) g`,
      [o.users],
    ),
  );
  await timed(`follows (${o.users * 10})`, () =>
    c.query(
      `INSERT INTO connecthub.follows (follower_id, followee_id)
       SELECT DISTINCT md5('u' || f)::uuid, md5('u' || (1 + ((f * 7919 + k * 104729) % $1::int)))::uuid
         FROM generate_series(1, $1::int) f, generate_series(1, 10) k
        WHERE 1 + ((f * 7919 + k * 104729) % $1::int) <> f`,
      [o.users],
    ),
  );
  // Skewed authorship (random()^3): a few prolific authors, a long tail of occasional ones.
  const chunk = 200_000;
  await timed(`posts (${o.posts})`, async () => {
    for (let done = 0; done < o.posts; done += chunk) {
      await c.query(
        `INSERT INTO connecthub.posts (author_id, body, media_keys, created_at)
         SELECT md5('u' || (1 + floor($2::int * power(random(), 3))::int))::uuid,
                'Post ' || g || ': ' || repeat('lorem ipsum ', 1 + (g % 8)),
                CASE WHEN g % 4 = 0 THEN ARRAY['media/' || g || '.jpg'] ELSE '{}' END,
                now() - random() * interval '365 days'
           FROM generate_series(1, $1::int) g`,
        [Math.min(chunk, o.posts - done), o.users],
      );
    }
  });
  await timed(`messages (${o.messages})`, async () => {
    for (let done = 0; done < o.messages; done += chunk) {
      await c.query(
        `INSERT INTO connecthub.messages (conversation_id, sender_id, recipient_id, body, client_key, created_at)
         SELECT md5('c' || k)::uuid, md5('u' || (1 + k % $2::int))::uuid, md5('u' || (1 + (k * 31) % $2::int))::uuid,
                'Message ' || g, 'ck-' || g, now() - random() * interval '365 days'
           FROM (SELECT g, 1 + floor(50000 * power(random(), 2))::int AS k FROM generate_series(1, $1::int) g) s`,
        [Math.min(chunk, o.messages - done), o.users],
      );
    }
  });
  const suggesting = Math.min(o.users, 20_000);
  await timed(`match_suggestions (${suggesting * 25})`, () =>
    c.query(
      `INSERT INTO connecthub.match_suggestions (user_id, candidate_id, score)
       SELECT DISTINCT ON (u, cand) md5('u' || u)::uuid, md5('u' || cand)::uuid, random()
         FROM (SELECT u, 1 + ((u * 13 + k * 7907) % $2::int) AS cand FROM generate_series(1, $1::int) u, generate_series(1, 25) k) s
        WHERE cand <> u`,
      [suggesting, o.users],
    ),
  );
  await timed('analyze', () => c.query('ANALYZE'));
  const counts = await c.query<{ t: string; n: string }>(
    `SELECT 'users' AS t, count(*) AS n FROM connecthub.users UNION ALL SELECT 'follows', count(*) FROM connecthub.follows
     UNION ALL SELECT 'posts', count(*) FROM connecthub.posts UNION ALL SELECT 'messages', count(*) FROM connecthub.messages
     UNION ALL SELECT 'match_suggestions', count(*) FROM connecthub.match_suggestions`,
  );
  const partitions = await c.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'connecthub.posts'::regclass`,
  );
  return { ...Object.fromEntries(counts.rows.map((r) => [r.t, Number(r.n)])), posts_partitions: Number(partitions.rows[0].n) };
}

interface HotQuery {
  readonly name: string;
  readonly sql: string;
  /** SQL returning rows of parameters (sampled from the data). */
  readonly sample: string;
}

const HOT_QUERIES: HotQuery[] = [
  {
    name: 'feed_by_author',
    sql: `SELECT id, author_id, body, media_keys, created_at FROM connecthub.posts
           WHERE author_id = $1 AND created_at > $2::timestamptz - interval '30 days' AND created_at <= $2::timestamptz
           ORDER BY created_at DESC LIMIT 20`,
    sample: `SELECT author_id, created_at FROM connecthub.posts TABLESAMPLE SYSTEM (1) LIMIT $1`,
  },
  {
    name: 'home_feed',
    sql: `SELECT p.id, p.author_id, p.body, p.created_at FROM connecthub.posts p
           WHERE p.author_id IN (SELECT followee_id FROM connecthub.follows WHERE follower_id = $1)
             AND p.created_at > $2::timestamptz - interval '7 days' AND p.created_at <= $2::timestamptz
           ORDER BY p.created_at DESC LIMIT 20`,
    sample: `SELECT follower_id, now() - random() * interval '300 days' FROM connecthub.follows TABLESAMPLE SYSTEM (1) LIMIT $1`,
  },
  {
    name: 'messages_by_conversation',
    sql: `SELECT id, sender_id, recipient_id, body, created_at FROM connecthub.messages
           WHERE conversation_id = $1 AND created_at > $2::timestamptz - interval '30 days' AND created_at <= $2::timestamptz
           ORDER BY created_at DESC LIMIT 50`,
    sample: `SELECT conversation_id, created_at FROM connecthub.messages TABLESAMPLE SYSTEM (1) LIMIT $1`,
  },
  {
    name: 'profile_by_id',
    sql: `SELECT id, home_region, handle, display_name, bio, interests FROM connecthub.users WHERE home_region = $2 AND id = $1`,
    sample: `SELECT id, home_region FROM connecthub.users TABLESAMPLE SYSTEM (2) LIMIT $1`,
  },
  {
    name: 'profile_by_id_region_unknown',
    sql: `SELECT id, home_region, handle, display_name, bio, interests FROM connecthub.users WHERE id = $1`,
    sample: `SELECT id FROM connecthub.users TABLESAMPLE SYSTEM (2) LIMIT $1`,
  },
  {
    name: 'match_suggestions',
    sql: `SELECT ms.candidate_id, ms.score, u.handle, u.display_name, u.interests
            FROM connecthub.match_suggestions ms JOIN connecthub.users u ON u.id = ms.candidate_id
           WHERE ms.user_id = $1 ORDER BY ms.score DESC LIMIT 20`,
    sample: `SELECT DISTINCT user_id FROM connecthub.match_suggestions TABLESAMPLE SYSTEM (5) LIMIT $1`,
  },
];

interface VariantResult {
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
  readonly partitions_read: number;
}

function percentile(sorted: number[], p: number): number {
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, idx)] * 1000) / 1000;
}

async function partitionsRead(c: Client, sql: string, params: unknown[]): Promise<number> {
  const res = await c.query<{ 'QUERY PLAN': Array<{ Plan: Record<string, unknown> }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  const names = new Set<string>();
  const walk = (n: Record<string, unknown>): void => {
    if (typeof n['Relation Name'] === 'string' && /_(p\d|us$|eu$|ap$|default$)/.test(n['Relation Name'] as string)) names.add(n['Relation Name'] as string);
    for (const child of (n.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  walk(res.rows[0]['QUERY PLAN'][0].Plan);
  return names.size;
}

async function runVariant(c: Client, q: HotQuery, params: unknown[][], pruning: boolean): Promise<VariantResult> {
  await c.query(`SET enable_partition_pruning = ${pruning ? 'on' : 'off'}`);
  const name = `${q.name}_${pruning ? 'on' : 'off'}`;
  // Warm-up (also lets PostgreSQL settle on a generic or custom plan for the prepared statement).
  for (const p of params.slice(0, 20)) await c.query({ name, text: q.sql, values: p });
  const times: number[] = [];
  for (const p of params) {
    const t0 = process.hrtime.bigint();
    await c.query({ name, text: q.sql, values: p });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const read = await partitionsRead(c, q.sql, params[0]);
  await c.query('RESET enable_partition_pruning');
  return { p50_ms: percentile(times, 50), p99_ms: percentile(times, 99), max_ms: percentile(times, 100), partitions_read: read };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const dbName = `ch_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: o.adminUrl, connectionTimeoutMillis: 10_000 });
  try {
    await admin.connect();
  } catch (e) {
    throw new Error(`cannot connect to PostgreSQL at ${redactUrl(o.adminUrl)}: ${(e as Error).message}`);
  }
  await admin.query(`CREATE DATABASE ${dbName}`);
  const target = new URL(o.adminUrl);
  target.pathname = `/${dbName}`;
  const url = target.toString();
  const c = new Client({ connectionString: url });
  const started = Date.now();
  let dropped = false;
  const drop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    await c.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  };
  process.once('SIGINT', () => {
    void drop().finally(() => process.exit(130));
  });
  try {
    await c.connect();
    log(`database ${dbName}: applying migrations`);
    await applyMigrations(c);
    log('seeding:');
    const seedStart = Date.now();
    const rows = await seed(c, o);
    const seedSeconds = Math.round((Date.now() - seedStart) / 100) / 10;
    log(`seeded in ${seedSeconds} s: ${JSON.stringify(rows)}`);

    const results: Record<string, { pruning_on: VariantResult; pruning_off: VariantResult }> = {};
    for (const q of HOT_QUERIES) {
      const sampled = await c.query({ text: q.sample, values: [o.iterations], rowMode: 'array' });
      const params = sampled.rows as unknown[][];
      while (params.length < o.iterations && params.length > 0) params.push(params[params.length % sampled.rows.length]);
      const on = await runVariant(c, q, params, true);
      const off = await runVariant(c, q, params, false);
      results[q.name] = { pruning_on: on, pruning_off: off };
      log(
        `${q.name.padEnd(30)} pruning on: p50 ${on.p50_ms.toFixed(2)} ms  p99 ${on.p99_ms.toFixed(2)} ms  (${on.partitions_read} partitions)   ` +
          `off: p50 ${off.p50_ms.toFixed(2)} ms  p99 ${off.p99_ms.toFixed(2)} ms  (${off.partitions_read} partitions)`,
      );
    }
    const worstP99 = Math.max(...Object.values(results).map((r) => r.pruning_on.p99_ms));
    const summary = {
      benchmark: 'db',
      postgres: (await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0].v,
      pg_partman: (await c.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'pg_partman'`)).rows[0].v,
      rows,
      seed_seconds: seedSeconds,
      iterations_per_variant: o.iterations,
      queries: results,
      target_p99_ms: 50,
      worst_p99_ms_with_pruning: worstP99,
      meets_target: worstP99 < 50,
      total_seconds: Math.round((Date.now() - started) / 100) / 10,
    };
    await drop();
    log(JSON.stringify(summary));
  } finally {
    await drop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${(e as Error)?.message ?? String(e)}\n`);
  process.exit(1);
});
