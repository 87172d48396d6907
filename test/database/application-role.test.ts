import { applyMigrations } from '../../database/migrator';
import { createTestDatabase, TestDatabase } from './pg-test-db';

jest.setTimeout(120_000);

describe('the application role (connecthub_app)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('approle');
    await applyMigrations(db.pool);
  });
  afterAll(async () => {
    await db.drop();
  });

  /** Runs statements as connecthub_app inside a transaction that is rolled back. */
  async function asApp<T>(fn: (query: (sql: string) => Promise<unknown>) => Promise<T>): Promise<T> {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL ROLE connecthub_app');
      return await fn((sql) => client.query(sql));
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  test('reads and writes the application tables, including partitions pg_partman made', async () => {
    await asApp(async (query) => {
      await query(`INSERT INTO connecthub.users (id, home_region, handle, display_name, created_at, updated_at)
                   VALUES (gen_random_uuid(), 'eu', 'ana', 'Ana', now(), now())`);
      await query(`INSERT INTO connecthub.posts (id, author_id, body, created_at) VALUES (gen_random_uuid(), gen_random_uuid(), 'hi', now())`);
      await query(`INSERT INTO connecthub.outbox (topic, message_key, payload) VALUES ('user-activity', 'k', '{}')`);
      const rows = (await query('SELECT count(*)::int AS n FROM connecthub.users_eu')) as { rows: { n: number }[] };
      expect(rows.rows[0].n).toBe(1);
    });
  });

  test('may not change the schema', async () => {
    await expect(asApp((query) => query('CREATE TABLE connecthub.intruder (id int)'))).rejects.toThrow(/permission denied/);
    await expect(asApp((query) => query('DROP TABLE connecthub.outbox'))).rejects.toThrow(/must be owner/);
  });

  test('has no rights on the migration history (schema_migrations)', async () => {
    const grants = await db.pool.query(
      `SELECT privilege_type FROM information_schema.role_table_grants
        WHERE grantee = 'connecthub_app' AND table_schema = 'connecthub' AND table_name = 'schema_migrations'`,
    );
    expect(grants.rows).toEqual([]);
    await expect(asApp((query) => query('SELECT * FROM connecthub.schema_migrations'))).rejects.toThrow(/permission denied/);
    await expect(asApp((query) => query('DELETE FROM connecthub.schema_migrations'))).rejects.toThrow(/permission denied/);
    await expect(asApp((query) => query(`INSERT INTO connecthub.schema_migrations (version, name, checksum) VALUES (999, 'forged', 'x')`)))
      .rejects.toThrow(/permission denied/);
  });

  test('can neither read nor write the archival progress (connecthub_maintenance)', async () => {
    const grants = await db.pool.query(
      `SELECT table_name, privilege_type FROM information_schema.role_table_grants
        WHERE grantee IN ('connecthub_app', 'PUBLIC') AND table_schema = 'connecthub_maintenance'`,
    );
    expect(grants.rows).toEqual([]);
    const owners = await db.pool.query<{ relname: string; owner: string }>(
      `SELECT c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'connecthub_maintenance' AND c.relkind = 'r' ORDER BY 1`,
    );
    // Owned by the role that runs migrations and maintenance (here the test superuser, on Aurora the master user).
    expect(owners.rows).toEqual([
      { relname: 'archive_plan', owner: 'postgres' },
      { relname: 'archive_slice', owner: 'postgres' },
    ]);
    // Forged progress could make maintenance drop a partition that was never archived.
    await expect(asApp((query) => query(
      `INSERT INTO connecthub_maintenance.archive_plan (table_name, relfilenode, total_blocks, blocks_per_slice, slice_count) VALUES ('posts_p2020_01', 1, 1, 1, 1)`,
    ))).rejects.toThrow(/permission denied for schema connecthub_maintenance/);
    await expect(asApp((query) => query('UPDATE connecthub_maintenance.archive_slice SET rows = 0'))).rejects.toThrow(/permission denied/);
    await expect(asApp((query) => query('DELETE FROM connecthub_maintenance.archive_slice'))).rejects.toThrow(/permission denied/);
    await expect(asApp((query) => query('SELECT * FROM connecthub_maintenance.archive_plan'))).rejects.toThrow(/permission denied/);
  });
});
