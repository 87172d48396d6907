import { Pool } from 'pg';
import { applyMigrations } from '../../database/migrator';
import { createTestDatabase, monthStart, partitionFor, TestDatabase } from './pg-test-db';

// Real PostgreSQL work (CREATE DATABASE, migrations) on a shared 2-core machine: allow more than jest's 5 s default.
jest.setTimeout(120_000);

/** Every table the plan reads (Relation Name of each plan node). */
async function relationsRead(pool: Pool, sql: string, params: unknown[] = []): Promise<string[]> {
  const res = await pool.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  const names = new Set<string>();
  const walk = (node: Record<string, unknown>): void => {
    if (typeof node['Relation Name'] === 'string') names.add(node['Relation Name'] as string);
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  walk((res.rows[0]['QUERY PLAN'] as Array<{ Plan: Record<string, unknown> }>)[0].Plan);
  return [...names].sort();
}

describe('schema after migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('schema');
    await applyMigrations(db.pool);
  });
  afterAll(async () => {
    await db.drop();
  });

  it.each(['posts', 'messages', 'activity'] as const)('%s has monthly partitions for the current month and 6 months ahead', async (table) => {
    for (let offset = 0; offset <= 6; offset++) {
      const start = monthStart(offset);
      const last = new Date(monthStart(offset + 1).getTime() - 1);
      const first = await partitionFor(db.pool, table, start);
      expect(first).not.toMatch(/_default$/);
      expect(first).toMatch(new RegExp(`^connecthub\\.${table}_p`));
      // The whole month lands in one partition, and the next month in another.
      expect(await partitionFor(db.pool, table, last)).toBe(first);
      expect(await partitionFor(db.pool, table, monthStart(offset + 1))).not.toBe(first);
    }
  });

  it('registers posts, messages and activity with pg_partman: monthly, premake 6, retention detaches into connecthub_archive', async () => {
    const res = await db.pool.query(
      `SELECT parent_table, partition_interval::interval = interval '1 month' AS monthly, premake, retention::interval AS retention,
              retention_keep_table, retention_schema, infinite_time_partitions
         FROM partman.part_config ORDER BY parent_table`,
    );
    expect(res.rows.map((r) => ({ ...r, retention: `${r.retention.years ?? 0}y${r.retention.months ?? 0}m` }))).toEqual([
      { parent_table: 'connecthub.activity', monthly: true, premake: 6, retention: '0y6m', retention_keep_table: true, retention_schema: 'connecthub_archive', infinite_time_partitions: true },
      { parent_table: 'connecthub.messages', monthly: true, premake: 6, retention: '2y0m', retention_keep_table: true, retention_schema: 'connecthub_archive', infinite_time_partitions: true },
      { parent_table: 'connecthub.posts', monthly: true, premake: 6, retention: '2y0m', retention_keep_table: true, retention_schema: 'connecthub_archive', infinite_time_partitions: true },
    ]);
  });

  it('routes users to their region partition, anything else to the default', async () => {
    const c = await db.pool.connect();
    try {
      await c.query('BEGIN');
      const res = await c.query<{ home_region: string; part: string }>(
        `INSERT INTO connecthub.users (home_region, handle) VALUES ('us', 'a'), ('eu', 'b'), ('ap', 'c'), ('sa', 'd')
         RETURNING home_region, tableoid::regclass::text AS part`,
      );
      expect(Object.fromEntries(res.rows.map((r) => [r.home_region, r.part]))).toEqual({
        us: 'connecthub.users_us',
        eu: 'connecthub.users_eu',
        ap: 'connecthub.users_ap',
        sa: 'connecthub.users_default',
      });
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  });

  it('a query for one region reads only that region partition (pruning)', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    expect(await relationsRead(db.pool, `SELECT * FROM connecthub.users WHERE home_region = 'eu' AND id = $1`, [id])).toEqual(['users_eu']);
    // Control: without the region every partition is read.
    expect(await relationsRead(db.pool, `SELECT * FROM connecthub.users WHERE id = $1`, [id])).toEqual([
      'users_ap',
      'users_default',
      'users_eu',
      'users_us',
    ]);
  });

  it('a query for one month reads only that month partition (pruning)', async () => {
    const from = monthStart(1);
    const to = monthStart(2);
    const expected = (await partitionFor(db.pool, 'posts', from)).replace(/^connecthub\./, '');
    const author = '00000000-0000-4000-8000-000000000002';
    expect(
      await relationsRead(
        db.pool,
        `SELECT * FROM connecthub.posts WHERE author_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at DESC LIMIT 20`,
        [author, from, to],
      ),
    ).toEqual([expected]);
    const msgPart = (await partitionFor(db.pool, 'messages', from)).replace(/^connecthub\./, '');
    expect(
      await relationsRead(db.pool, `SELECT * FROM connecthub.messages WHERE conversation_id = $1 AND created_at >= $2 AND created_at < $3`, [author, from, to]),
    ).toEqual([msgPart]);
    const all = await relationsRead(db.pool, `SELECT * FROM connecthub.posts WHERE author_id = $1`, [author]);
    expect(all.length).toBeGreaterThan(10);
  });

  it('has the indexes of the hot queries', async () => {
    const res = await db.pool.query<{ tablename: string; indexdef: string }>(
      `SELECT tablename, regexp_replace(indexdef, '^.* USING ', '') AS indexdef FROM pg_indexes
        WHERE schemaname = 'connecthub' AND tablename IN ('users','follows','posts','messages','activity','match_suggestions','outbox','message_idempotency')
        ORDER BY tablename, indexdef`,
    );
    const defs = res.rows.map((r) => `${r.tablename}: ${r.indexdef}`);
    expect(defs).toEqual(
      expect.arrayContaining([
        'users: btree (home_region, id)',
        'users: btree (id)',
        'follows: btree (follower_id, followee_id)',
        'follows: btree (followee_id)',
        'posts: btree (id, created_at)',
        'posts: btree (author_id, created_at DESC)',
        'messages: btree (id, created_at)',
        'messages: btree (conversation_id, created_at DESC)',
        'messages: btree (recipient_id, created_at)',
        'message_idempotency: btree (sender_id, client_key)',
        'activity: btree (id, created_at)',
        'activity: btree (user_id, created_at DESC)',
        'match_suggestions: btree (user_id, candidate_id)',
        'match_suggestions: btree (user_id, score DESC)',
        'outbox: btree (id)',
        'outbox: btree (id) WHERE (published_at IS NULL)',
      ]),
    );
  });

  it('enforces the idempotency guard and forbids self-follows', async () => {
    const sender = '00000000-0000-4000-8000-000000000003';
    await db.pool.query(`INSERT INTO connecthub.message_idempotency (sender_id, client_key, message_id) VALUES ($1, 'k1', gen_random_uuid())`, [sender]);
    await expect(
      db.pool.query(`INSERT INTO connecthub.message_idempotency (sender_id, client_key, message_id) VALUES ($1, 'k1', gen_random_uuid())`, [sender]),
    ).rejects.toThrow(/duplicate key value violates unique constraint/);
    await expect(db.pool.query(`INSERT INTO connecthub.follows (follower_id, followee_id) VALUES ($1, $1)`, [sender])).rejects.toThrow(/follows_not_self/);
  });
});
