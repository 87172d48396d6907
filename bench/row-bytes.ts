/**
 * `npm run bench:row-bytes [-- --rows 200000]`: bytes each kind of row takes on disk (heap, TOAST and every index) on
 * the real schema, measured on the local PostgreSQL. Feeds the capacity model's storage figures (`messageRowBytes`,
 * `postRowBytes`, ... in `lib/capacity/per-unit-figures.ts`). Creates its own database, applies the migrations, inserts
 * rows the way the backend writes them (random UUIDs, one row per statement's worth of index churn), and reports the
 * growth of each table's whole partition tree divided by the rows added. The last line is one JSON object.
 */
import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { applyMigrations } from '../database/migrator';

/**
 * What a row holds, from the backend's writes: a message of 100 characters (the API allows up to 4,000) with a UUID
 * client key; a post of 280 characters with one media key; the activity row a message leaves (its payload is the
 * message as JSON, the largest activity kind); the outbox event of a message; and per user a profile with a 160-character
 * bio, `FOLLOWS_PER_USER` follows and 25 match suggestions.
 */
export const ROW_SHAPES = { messageBodyChars: 100, postBodyChars: 280, bioChars: 160, followsPerUser: 200, suggestionsPerUser: 25 } as const;

export interface RowBytes {
  /** A message row with its primary key and both indexes. */
  readonly message: number;
  /** A post row with its primary key and the author index. */
  readonly post: number;
  /** The activity row a message leaves (payload: the message as JSON). */
  readonly activity: number;
  /** A message's idempotency guard. */
  readonly idempotency: number;
  /** A message's outbox row. */
  readonly outbox: number;
  /** A user: profile row, follows and match suggestions. */
  readonly user: number;
}

/** Bytes of every relation (heap, TOAST, indexes) in the partition tree of each table. */
async function treeBytes(c: Pool, table: string): Promise<number> {
  const res = await c.query<{ bytes: string }>(
    // pg_partition_tree lists nothing for a plain table: add the table itself (a partitioned parent has no storage).
    `SELECT coalesce(sum(pg_total_relation_size(relid)), 0)::bigint AS bytes
       FROM (SELECT relid FROM pg_partition_tree($1::regclass) UNION SELECT $1::regclass) t`,
    [table],
  );
  return Number(res.rows[0].bytes);
}

async function grown(pool: Pool, tables: string[], insert: () => Promise<unknown>): Promise<number> {
  const before = await Promise.all(tables.map((t) => treeBytes(pool, t)));
  await insert();
  await pool.query(`VACUUM ${tables.join(', ')}`);
  const after = await Promise.all(tables.map((t) => treeBytes(pool, t)));
  return after.reduce((sum, b, i) => sum + b - before[i], 0);
}

/** Inserts `rows` of each kind (`rows / 100` users, at least 1,000) into a migrated database and returns the bytes per row. */
export async function measureRowBytes(pool: Pool, rows: number): Promise<RowBytes> {
  const s = ROW_SHAPES;
  const chunk = 50_000;
  const inChunks = async (n: number, sql: string): Promise<void> => {
    for (let done = 0; done < n; done += chunk) await pool.query(sql, [Math.min(chunk, n - done)]);
  };
  // Text of a given length that does not compress to nothing (pglz would shrink repeated text).
  const text = (chars: number) => `substr(repeat(md5(random()::text), ${Math.ceil(chars / 32)}), 1, ${chars})`;
  const message = await grown(pool, ['connecthub.messages'], () => inChunks(rows,
    `INSERT INTO connecthub.messages (conversation_id, sender_id, recipient_id, body, client_key)
     SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), ${text(s.messageBodyChars)}, gen_random_uuid()::text
       FROM generate_series(1, $1::int)`));
  const post = await grown(pool, ['connecthub.posts'], () => inChunks(rows,
    `INSERT INTO connecthub.posts (author_id, body, media_keys)
     SELECT gen_random_uuid(), ${text(s.postBodyChars)}, ARRAY['media/' || gen_random_uuid() || '/' || gen_random_uuid() || '.jpg']
       FROM generate_series(1, $1::int)`));
  const messageJson = `jsonb_build_object('id', gen_random_uuid(), 'conversationId', gen_random_uuid(), 'senderId', gen_random_uuid(),
      'recipientId', gen_random_uuid(), 'body', ${text(s.messageBodyChars)}, 'clientKey', gen_random_uuid(), 'createdAt', now())`;
  const activity = await grown(pool, ['connecthub.activity'], () => inChunks(rows,
    `INSERT INTO connecthub.activity (user_id, kind, subject_id, payload)
     SELECT gen_random_uuid(), 'message.sent', gen_random_uuid(), jsonb_build_object('message', ${messageJson})
       FROM generate_series(1, $1::int)`));
  const idempotency = await grown(pool, ['connecthub.message_idempotency'], () => inChunks(rows,
    `INSERT INTO connecthub.message_idempotency (sender_id, client_key, message_id)
     SELECT gen_random_uuid(), gen_random_uuid()::text, gen_random_uuid() FROM generate_series(1, $1::int)`));
  const outbox = await grown(pool, ['connecthub.outbox'], () => inChunks(rows,
    `INSERT INTO connecthub.outbox (topic, message_key, payload)
     SELECT 'messages', gen_random_uuid()::text, jsonb_build_object('eventId', gen_random_uuid(), 'type', 'message.created',
            'occurredAt', now(), 'actorId', gen_random_uuid(), 'data', jsonb_build_object('message', ${messageJson}))
       FROM generate_series(1, $1::int)`));
  // More users than follows per user, so that the follow pattern below never follows oneself.
  const users = Math.max(1000, Math.floor(rows / 100));
  const user = await grown(pool, ['connecthub.users', 'connecthub.follows', 'connecthub.match_suggestions'], async () => {
    await pool.query(
      `INSERT INTO connecthub.users (id, home_region, handle, display_name, bio, interests)
       SELECT md5('u' || g)::uuid, (ARRAY['us','eu','ap'])[1 + g % 3], 'user' || g, 'User number ' || g, ${text(s.bioChars)},
              ARRAY['hiking', 'music', 'food', 'travel', 'films']
         FROM generate_series(1, $1::int) g`, [users]);
    await pool.query(
      `INSERT INTO connecthub.follows (follower_id, followee_id)
       SELECT md5('u' || f)::uuid, md5('u' || (1 + (f + k) % $1::int))::uuid
         FROM generate_series(1, $1::int) f, generate_series(1, ${s.followsPerUser}) k`, [users]);
    await pool.query(
      `INSERT INTO connecthub.match_suggestions (user_id, candidate_id, score)
       SELECT md5('u' || u)::uuid, md5('u' || (1 + (u + k * 7) % $1::int))::uuid, random()
         FROM generate_series(1, $1::int) u, generate_series(1, ${s.suggestionsPerUser}) k`, [users]);
  });
  const per = (bytes: number, n: number) => Math.round(bytes / n);
  return {
    message: per(message, rows), post: per(post, rows), activity: per(activity, rows),
    idempotency: per(idempotency, rows), outbox: per(outbox, rows), user: per(user, users),
  };
}

async function main(): Promise<void> {
  const rowsArg = process.argv.indexOf('--rows');
  const rows = rowsArg >= 0 ? Number(process.argv[rowsArg + 1]) : 200_000;
  if (!Number.isInteger(rows) || rows < 10_000) throw new Error(`--rows "${process.argv[rowsArg + 1]}" is not allowed: expected a whole number >= 10000`);
  const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `ch_bench_rows_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new Client({ connectionString: adminUrl });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new Pool({ connectionString: url.toString(), max: 2 });
  try {
    await applyMigrations(pool);
    const bytes = await measureRowBytes(pool, rows);
    for (const [kind, b] of Object.entries(bytes)) process.stdout.write(`${kind}: ${b} bytes per ${kind === 'user' ? 'user' : 'row'}\n`);
    process.stdout.write(`${JSON.stringify({ rows, shapes: ROW_SHAPES, bytesPerRow: bytes })}\n`);
  } finally {
    await pool.end();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
