import { cpSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  applyMigrations,
  appliedMigrations,
  DEFAULT_MIGRATIONS_DIR,
  loadMigrations,
  MigrationFailedError,
  MigrationIntegrityError,
  parseMigration,
} from '../../database/migrator';
import { createTestDatabase, TestDatabase } from './pg-test-db';

// Real PostgreSQL work (CREATE DATABASE, migrations) on a shared 2-core machine: allow more than jest's 5 s default.
jest.setTimeout(120_000);

const SHIPPED = loadMigrations();
const LATEST = SHIPPED[SHIPPED.length - 1].version;

function copyOfMigrations(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ch-migrations-'));
  cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

async function tableNames(db: TestDatabase): Promise<string[]> {
  const res = await db.pool.query<{ relname: string }>(
    `SELECT relname FROM pg_class WHERE relnamespace = 'connecthub'::regnamespace AND relkind IN ('r', 'p') ORDER BY relname`,
  );
  return res.rows.map((r) => r.relname);
}

describe('applyMigrations on an empty database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('migr');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('applies every shipped migration in order and records it', async () => {
    const logged: string[] = [];
    const result = await applyMigrations(db.pool, { log: (m) => logged.push(m) });
    expect(result.applied.map((a) => a.version)).toEqual(SHIPPED.map((m) => m.version));
    expect(result.schemaVersion).toBe(LATEST);
    expect(logged).toHaveLength(SHIPPED.length);
    const recorded = await appliedMigrations(db.pool);
    expect(recorded.map((r) => [r.version, r.name, r.checksum])).toEqual(SHIPPED.map((m) => [m.version, m.name, m.checksum]));
    const tables = await tableNames(db);
    for (const t of ['users', 'users_us', 'users_eu', 'users_ap', 'users_default', 'follows', 'posts', 'messages', 'message_idempotency', 'activity', 'match_suggestions', 'outbox', 'schema_migrations']) {
      expect(tables).toContain(t);
    }
  });

  it('re-applying is a no-op, also for concurrent runners', async () => {
    const before = await tableNames(db);
    const results = await Promise.all([applyMigrations(db.pool), applyMigrations(db.pool), applyMigrations(db.pool)]);
    for (const r of results) {
      expect(r.applied).toEqual([]);
      expect(r.schemaVersion).toBe(LATEST);
    }
    expect(await tableNames(db)).toEqual(before);
    expect((await appliedMigrations(db.pool)).length).toBe(SHIPPED.length);
  });

  it('refuses an applied migration whose file was edited, before running anything', async () => {
    const dir = copyOfMigrations();
    try {
      appendFileSync(path.join(dir, SHIPPED[1].file), '\n-- a harmless-looking edit\n');
      writeFileSync(path.join(dir, '0900_never_runs.sql'), 'CREATE TABLE connecthub.never_runs (id int);\n');
      const run = applyMigrations(db.pool, { directory: dir });
      await expect(run).rejects.toThrow(MigrationIntegrityError);
      await expect(applyMigrations(db.pool, { directory: dir })).rejects.toThrow(
        new RegExp(`migration ${SHIPPED[1].file} was changed after it was applied .*revert the edit and add a new migration`),
      );
      expect(await tableNames(db)).not.toContain('never_runs');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a pending migration numbered below an applied one', async () => {
    const dir = copyOfMigrations();
    try {
      writeFileSync(path.join(dir, '0000_too_early.sql'), 'SELECT 1;\n');
      await expect(applyMigrations(db.pool, { directory: dir })).rejects.toThrow(
        `migration 0000_too_early.sql is pending but version ${LATEST} is already applied`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rolls a failing migration back, names file, line and statement, and keeps the previous version', async () => {
    const dir = copyOfMigrations();
    try {
      const good = `${String(LATEST + 1).padStart(4, '0')}_good.sql`;
      const bad = `${String(LATEST + 2).padStart(4, '0')}_bad.sql`;
      writeFileSync(path.join(dir, good), 'CREATE TABLE connecthub.good_one (id int PRIMARY KEY);\n');
      writeFileSync(
        path.join(dir, bad),
        [
          '-- creates a table, then fails on the second statement',
          'CREATE TABLE connecthub.half_done (id int);',
          '',
          'INSERT INTO connecthub.no_such_table',
          '  VALUES (1);',
          'CREATE TABLE connecthub.never_reached (id int);',
        ].join('\n'),
      );
      let error: MigrationFailedError | undefined;
      try {
        await applyMigrations(db.pool, { directory: dir });
      } catch (e) {
        error = e as MigrationFailedError;
      }
      expect(error).toBeInstanceOf(MigrationFailedError);
      expect(error!.file).toBe(bad);
      expect(error!.statement.line).toBe(4);
      expect(error!.statement.index).toBe(2);
      expect(error!.sqlState).toBe('42P01');
      expect(error!.schemaVersion).toBe(LATEST + 1);
      expect(error!.message).toBe(
        `migration ${bad} failed at statement 2 (line 4): relation "connecthub.no_such_table" does not exist [SQLSTATE 42P01]` +
          ` — statement: INSERT INTO connecthub.no_such_table VALUES (1) — schema left at version ${LATEST + 1}`,
      );
      const tables = await tableNames(db);
      expect(tables).toContain('good_one');
      expect(tables).not.toContain('half_done');
      expect(tables).not.toContain('never_reached');
      const versions = (await appliedMigrations(db.pool)).map((a) => a.version);
      expect(Math.max(...versions)).toBe(LATEST + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('migration files', () => {
  it('are named NNNN_name.sql with unique versions and contain no transaction control', () => {
    expect(SHIPPED.length).toBeGreaterThanOrEqual(4);
    expect(SHIPPED.map((m) => m.version)).toEqual([...SHIPPED.map((m) => m.version)].sort((a, b) => a - b));
    for (const m of SHIPPED) expect(m.statements.length).toBeGreaterThan(0);
  });

  it('rejects bad names, transaction control and empty files with the file named', () => {
    expect(() => parseMigration('5_bad.sql', 'SELECT 1')).toThrow('migration file name "5_bad.sql" is not allowed: expected NNNN_name.sql');
    expect(() => parseMigration('0005_tx.sql', 'SELECT 1;\nCOMMIT;')).toThrow(
      'migration 0005_tx.sql line 2: transaction control ("COMMIT") is not allowed; each migration already runs in its own transaction',
    );
    expect(() => parseMigration('0005_empty.sql', '-- nothing\n')).toThrow('migration 0005_empty.sql contains no SQL statement');
  });

  it('checksums ignore CRLF vs LF line endings', () => {
    expect(parseMigration('0001_a.sql', 'SELECT 1;\r\nSELECT 2;\r\n').checksum).toBe(parseMigration('0001_a.sql', 'SELECT 1;\nSELECT 2;\n').checksum);
  });

  it('rejects two files with one version', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ch-migrations-'));
    try {
      writeFileSync(path.join(dir, '0001_a.sql'), 'SELECT 1;');
      writeFileSync(path.join(dir, '0001_b.sql'), 'SELECT 2;');
      expect(() => loadMigrations(dir)).toThrow('migrations 0001_a.sql and 0001_b.sql share version 1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a migration that cannot get its lock in time', () => {
  let db: TestDatabase;
  const busy = parseMigration('0900_busy.sql', "SET LOCAL lock_timeout = '200ms';\nALTER TABLE connecthub.outbox ADD COLUMN busy_probe int;\n");

  beforeAll(async () => {
    db = await createTestDatabase('migrlock');
    await applyMigrations(db.pool);
  });
  afterAll(() => db.drop());

  /** Holds a lock on the outbox (as the relay's open transaction does) for `ms`, on its own connection. */
  async function holdOutbox(ms: number): Promise<void> {
    const c = await db.pool.connect();
    await c.query('BEGIN');
    await c.query('LOCK TABLE connecthub.outbox IN ROW EXCLUSIVE MODE');
    setTimeout(() => void c.query('COMMIT').finally(() => c.release()), ms);
  }

  test('is rolled back and retried with growing waits until the table is free', async () => {
    await holdOutbox(700);
    const logged: string[] = [];
    const result = await applyMigrations(db.pool, { migrations: [...SHIPPED, busy], lockRetryDelayMs: 200, log: (m) => logged.push(m) });
    expect(result.applied.map((m) => m.file)).toEqual(['0900_busy.sql']);
    expect(logged.filter((m) => m.includes('0900_busy.sql: a table it changes is busy')).length).toBeGreaterThanOrEqual(1);
    await db.pool.query('ALTER TABLE connecthub.outbox DROP COLUMN busy_probe');
    await db.pool.query('DELETE FROM connecthub.schema_migrations WHERE version = 900');
  });

  test('fails with the lock error and leaves the schema where it was when the table stays busy', async () => {
    await holdOutbox(1_500);
    const error = await applyMigrations(db.pool, { migrations: [...SHIPPED, busy], lockAttempts: 2, lockRetryDelayMs: 100 }).catch((e) => e);
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect(error.sqlState).toBe('55P03');
    expect(error.message).toContain(`schema left at version ${LATEST}`);
    expect((await appliedMigrations(db.pool)).map((m) => m.version)).not.toContain(900);
    await new Promise((resolve) => setTimeout(resolve, 1_600));
  });

  test('lockAttempts outside 1 to 20 is refused', async () => {
    await expect(applyMigrations(db.pool, { lockAttempts: 0 })).rejects.toThrow('applyMigrations: lockAttempts = 0; allowed: an integer from 1 to 20');
  });
});
