/** A throw-away PostgreSQL database per test file (`ch_db_<area>_<random>`), dropped afterwards. */
import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';

export const PG_ADMIN_URL = process.env.CH_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  readonly pool: Pool;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * Runs an admin statement, retrying briefly when another session holds the template or the database
 * (SQLSTATE 55006 "object in use": CREATE DATABASE fails while anyone is connected to template1).
 */
async function adminWithRetry(sql: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin((c) => c.query(sql));
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== '55006' || attempt >= 5) throw e;
      await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
    }
  }
}

export async function createTestDatabase(area: string): Promise<TestDatabase> {
  const name = `ch_db_${area}_${randomBytes(4).toString('hex')}`;
  await adminWithRetry(`CREATE DATABASE ${name}`);
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const pool = new Pool({ connectionString: url, max: 4 });
  return {
    name,
    url,
    pool,
    async drop() {
      // pool.end() resolves before the server has closed every connection; the FORCE below can then
      // terminate one that is still ending, which the pool re-emits as 'error' (a crash without a listener).
      pool.on('error', () => undefined);
      await pool.end();
      await adminWithRetry(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** The partition a row with this created_at would land in (the insert is rolled back). */
export async function partitionFor(pool: Pool, table: 'posts' | 'messages' | 'activity', createdAt: Date): Promise<string> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const cols =
      table === 'posts'
        ? `(author_id, body, created_at) VALUES (gen_random_uuid(), 'probe', $1)`
        : table === 'messages'
          ? `(conversation_id, sender_id, recipient_id, body, created_at) VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'probe', $1)`
          : `(user_id, kind, created_at) VALUES (gen_random_uuid(), 'probe', $1)`;
    const res = await c.query<{ part: string }>(`INSERT INTO connecthub.${table} ${cols} RETURNING tableoid::regclass::text AS part`, [createdAt]);
    return res.rows[0].part;
  } finally {
    await c.query('ROLLBACK');
    c.release();
  }
}

/** First instant of the UTC month `offset` months from `from`. */
export function monthStart(offset: number, from = new Date()): Date {
  return new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + offset, 1));
}
