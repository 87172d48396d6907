import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { ArchiveSink, LocalFolderArchiveSink } from '../../database/archive-sink';
import { applyMigrations } from '../../database/migrator';
import {
  detachedPartitions,
  manifestKeyFor,
  MAINTENANCE_LOCK_KEY,
  runMaintenance,
  summarizeMaintenance,
} from '../../database/partition-maintenance';
import { createTestDatabase, monthStart, partitionFor, TestDatabase } from './pg-test-db';

// Real PostgreSQL work (CREATE DATABASE, migrations) on a shared 2-core machine: allow more than jest's 5 s default.
jest.setTimeout(120_000);

/** Makes an expired posts partition (January three years ago) holding `rows` posts. */
async function seedExpiredPosts(db: TestDatabase, rows: number, year: number): Promise<void> {
  await db.pool.query(
    `SELECT partman.create_partition_time(p_parent_table := 'connecthub.posts', p_partition_times := ARRAY[$1::timestamptz])`,
    [`${year}-01-01T00:00:00Z`],
  );
  await db.pool.query(
    `INSERT INTO connecthub.posts (author_id, body, media_keys, created_at)
     SELECT gen_random_uuid(), 'post ' || g || E'\\nwith "quotes", a tab\\t and ü', ARRAY['m/' || g], $1::timestamptz + g * interval '1 minute'
       FROM generate_series(1, $2::int) g`,
    [`${year}-01-01T00:00:00Z`, rows],
  );
}

async function postCount(db: TestDatabase): Promise<number> {
  const res = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM connecthub.posts');
  return Number(res.rows[0].n);
}

async function progressRows(db: TestDatabase, table: string): Promise<{ plans: number; slices: number }> {
  const res = await db.pool.query<{ plans: number; slices: number }>(
    `SELECT (SELECT count(*)::int FROM connecthub_maintenance.archive_plan WHERE table_name = $1) AS plans,
            (SELECT count(*)::int FROM connecthub_maintenance.archive_slice WHERE table_name = $1) AS slices`,
    [table],
  );
  return res.rows[0];
}

async function tableExists(db: TestDatabase, qualified: string): Promise<boolean> {
  const res = await db.pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [qualified]);
  return res.rows[0].t !== null;
}

describe('partition maintenance and archival', () => {
  let db: TestDatabase;
  let archiveDir: string;
  const year = new Date().getUTCFullYear() - 3;
  const expired = `posts_p${year}_01`;

  beforeAll(async () => {
    db = await createTestDatabase('maint');
    await applyMigrations(db.pool);
    archiveDir = mkdtempSync(path.join(os.tmpdir(), 'ch-archive-'));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(archiveDir, { recursive: true, force: true });
  });

  it('creates the next partitions when the premake window grows', async () => {
    const far = monthStart(8);
    expect(await partitionFor(db.pool, 'posts', far)).toBe('connecthub.posts_default');
    await db.pool.query(`UPDATE partman.part_config SET premake = 8 WHERE parent_table = 'connecthub.posts'`);
    const report = await runMaintenance(db.pool, { sink: new LocalFolderArchiveSink(archiveDir) });
    expect(report.failed).toEqual([]);
    const farPartition = await partitionFor(db.pool, 'posts', far);
    expect(farPartition).not.toBe('connecthub.posts_default');
    expect(report.partitionsCreated).toContain(farPartition);
    expect(report.defaultPartitionRows['connecthub.posts_default']).toBe(0);
    await db.pool.query(`UPDATE partman.part_config SET premake = 6 WHERE parent_table = 'connecthub.posts'`);
  });

  it('archives an expired partition with no row lost, then drops it', async () => {
    await seedExpiredPosts(db, 12_345, year);
    await db.pool.query(`INSERT INTO connecthub.posts (author_id, body) SELECT gen_random_uuid(), 'recent ' || g FROM generate_series(1, 100) g`);
    const rowsBefore = await postCount(db);
    const expiredIds = (await db.pool.query<{ id: string }>(`SELECT id FROM connecthub.${expired} ORDER BY id`)).rows.map((r) => r.id);
    expect(expiredIds).toHaveLength(12_345);

    const logged: string[] = [];
    const sink = new LocalFolderArchiveSink(archiveDir);
    const report = await runMaintenance(db.pool, { sink, fetchSize: 1000, sliceRows: 5000, log: (m) => logged.push(m) });

    expect(report.partitionsDetached).toEqual([`connecthub_archive.${expired}`]);
    expect(report.failed).toEqual([]);
    expect(report.inProgress).toEqual([]);
    expect(report.outOfTime).toBe(false);
    expect(report.archived).toHaveLength(1);
    const archived = report.archived[0];
    expect(archived.table).toBe(`connecthub_archive.${expired}`);
    expect(archived.rows).toBe(12_345);
    expect(archived.location).toBe(path.join(archiveDir, 'connecthub', 'posts', `${expired}.manifest.json`));
    // ~5,000 rows per slice, cut in whole blocks.
    expect(archived.slices).toBeGreaterThanOrEqual(3);
    expect(report.slicesStored).toBe(archived.slices);

    // No row lost: rows before = rows archived + rows remaining.
    const rowsAfter = await postCount(db);
    expect(rowsAfter).toBe(100);
    expect(rowsBefore).toBe(archived.rows + rowsAfter);
    expect(await tableExists(db, `connecthub_archive.${expired}`)).toBe(false);
    expect(await tableExists(db, `connecthub.${expired}`)).toBe(false);

    // The slices hold exactly the rows, as JSON lines, byte-for-byte what the manifest lists; their keys sort.
    const folder = path.join(archiveDir, 'connecthub', 'posts', expired);
    const parts = readdirSync(folder).filter((f) => f.endsWith('.jsonl.gz'));
    expect(parts).toEqual(Array.from({ length: archived.slices }, (_, i) => `part-${String(i + 1).padStart(6, '0')}.jsonl.gz`));
    const manifestText = readFileSync(archived.location, 'utf8');
    expect(createHash('sha256').update(manifestText).digest('hex')).toBe(archived.manifestSha256);
    const manifest = JSON.parse(manifestText);
    expect(manifest).toMatchObject({ format: 'jsonl+gzip', source: `connecthub_archive.${expired}`, rows: 12_345 });
    expect(manifest.slices).toHaveLength(archived.slices);
    const rows: Array<{ id: string; body: string; media_keys: string[]; created_at: string }> = [];
    for (const [i, slice] of (manifest.slices as Array<{ object: string; rows: number; sha256: string; compressedSha256: string }>).entries()) {
      expect(slice.object).toBe(path.join(folder, parts[i]));
      const stored = readFileSync(slice.object);
      expect(createHash('sha256').update(stored).digest('hex')).toBe(slice.compressedSha256);
      const text = gunzipSync(stored).toString('utf8');
      expect(createHash('sha256').update(text).digest('hex')).toBe(slice.sha256);
      const lines = text.split('\n');
      expect(lines.pop()).toBe('');
      expect(lines).toHaveLength(slice.rows);
      rows.push(...lines.map((l) => JSON.parse(l)));
    }
    expect(rows.map((r) => r.id).sort()).toEqual(expiredIds);
    const first = rows.find((r) => r.body.startsWith('post 1\n'))!;
    expect(first.body).toBe('post 1\nwith "quotes", a tab\t and ü');
    expect(first.media_keys).toEqual(['m/1']);
    expect(first.created_at).toBe(`${year}-01-01T00:01:00+00:00`);
    expect(manifest.minCreatedAt).toBe(`${year}-01-01T00:01:00.000000Z`);
    expect(manifest.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'author_id', 'body', 'media_keys', 'created_at']);
    // Progress is deleted with the table.
    expect(await progressRows(db, expired)).toEqual({ plans: 0, slices: 0 });
    expect(summarizeMaintenance(report)).toMatch(new RegExp(`1 detached, 1 archived \\(12345 rows\\), ${archived.slices} slices stored, 0 failed`));
  });

  it('keeps the partition and reports it when the export cannot be stored, then archives it on a later run', async () => {
    await seedExpiredPosts(db, 500, year - 1);
    const table = `posts_p${year - 1}_01`;
    const failing: ArchiveSink = {
      description: 'failing',
      locationOf: (key) => `failing://${key}`,
      putStream: async () => {
        throw new Error('AccessDenied: not allowed to write');
      },
      putText: async () => undefined,
      open: async () => Readable.from([]),
    };
    const report = await runMaintenance(db.pool, { sink: failing });
    expect(report.archived).toEqual([]);
    expect(report.failed).toEqual([{ table: `connecthub_archive.${table}`, error: 'AccessDenied: not allowed to write' }]);
    const kept = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM connecthub_archive.${table}`);
    expect(Number(kept.rows[0].n)).toBe(500);
    expect(summarizeMaintenance(report)).toContain(`failures: connecthub_archive.${table}: AccessDenied: not allowed to write`);

    const retry = await runMaintenance(db.pool, { sink: new LocalFolderArchiveSink(archiveDir) });
    expect(retry.archived.map((a) => [a.table, a.rows])).toEqual([[`connecthub_archive.${table}`, 500]]);
    expect(await tableExists(db, `connecthub_archive.${table}`)).toBe(false);
  });

  it('keeps the partition when the read-back does not match the export', async () => {
    await seedExpiredPosts(db, 200, year - 2);
    const table = `posts_p${year - 2}_01`;
    const inner = new LocalFolderArchiveSink(path.join(archiveDir, 'corrupt'));
    const corrupting: ArchiveSink = {
      description: 'corrupting',
      locationOf: (key) => inner.locationOf(key),
      putStream: (key, body, type) => inner.putStream(key, body, type),
      putText: (key, text, type) => inner.putText(key, text, type),
      // Reads back an archive that lost its last row.
      open: async (key) => {
        const text = gunzipSync(readFileSync(inner.locationOf(key))).toString('utf8');
        const truncated = text.split('\n').slice(0, -2).join('\n') + '\n';
        const { gzipSync } = await import('node:zlib');
        return Readable.from([gzipSync(truncated)]);
      },
    };
    const report = await runMaintenance(db.pool, { sink: corrupting });
    expect(report.archived).toEqual([]);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0].table).toBe(`connecthub_archive.${table}`);
    expect(report.failed[0].error).toMatch(/^verification failed for .*: read back 199 rows .*exported 200 rows/);
    expect(await tableExists(db, `connecthub_archive.${table}`)).toBe(true);
    expect(existsSync(inner.locationOf(manifestKeyFor(table)))).toBe(false);
    // Leave the database clean for the next test.
    await runMaintenance(db.pool, { sink: new LocalFolderArchiveSink(archiveDir) });
    expect(await detachedPartitions(db.pool)).toEqual([]);
  });

  it('still archives detached partitions when pg_partman maintenance itself fails, and reports the failure', async () => {
    await seedExpiredPosts(db, 50, year - 3);
    const table = `posts_p${year - 3}_01`;
    await db.pool.query(`ALTER TABLE connecthub.${table} RENAME TO ${table}_x`);
    await db.pool.query(`ALTER TABLE connecthub.posts DETACH PARTITION connecthub.${table}_x`);
    await db.pool.query(`ALTER TABLE connecthub.${table}_x SET SCHEMA connecthub_archive`);
    // A broken pg_partman configuration row makes run_maintenance() raise.
    const cfg = await db.pool.query(`SELECT partition_type FROM partman.part_config WHERE parent_table = 'connecthub.posts'`);
    await db.pool.query(
      `INSERT INTO partman.part_config (parent_table, control, partition_type, partition_interval) VALUES ('connecthub.no_such_parent', 'created_at', $1, '1 mon')`,
      [cfg.rows[0].partition_type],
    );
    try {
      const report = await runMaintenance(db.pool, { sink: new LocalFolderArchiveSink(archiveDir) });
      expect(report.failed).toHaveLength(1);
      expect(report.failed[0].table).toBe('partman.run_maintenance()');
      expect(report.failed[0].error).not.toMatch(/\n/);
      expect(report.archived.map((a) => [a.table, a.rows])).toEqual([[`connecthub_archive.${table}_x`, 50]]);
    } finally {
      await db.pool.query(`DELETE FROM partman.part_config WHERE parent_table = 'connecthub.no_such_parent'`);
    }
  });

  it('skips when another run holds the maintenance lock', async () => {
    const holder = await db.pool.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(${MAINTENANCE_LOCK_KEY})`);
      const report = await runMaintenance(db.pool, { sink: new LocalFolderArchiveSink(archiveDir) });
      expect(report.skipped).toBe('another maintenance run holds the lock');
      expect(summarizeMaintenance(report)).toBe('maintenance skipped: another maintenance run holds the lock');
    } finally {
      await holder.query(`SELECT pg_advisory_unlock(${MAINTENANCE_LOCK_KEY})`);
      holder.release();
    }
  });

  it('expires published outbox rows and old idempotency guards, keeping the rest', async () => {
    await db.pool.query(
      `INSERT INTO connecthub.outbox (topic, payload, created_at, published_at) VALUES
         ('posts', '{}', now() - interval '10 days', now() - interval '10 days'),
         ('posts', '{}', now() - interval '10 days', NULL),
         ('posts', '{}', now(), now())`,
    );
    await db.pool.query(
      `INSERT INTO connecthub.message_idempotency (sender_id, client_key, message_id, created_at) VALUES
         (gen_random_uuid(), 'old', gen_random_uuid(), now() - interval '40 days'),
         (gen_random_uuid(), 'new', gen_random_uuid(), now())`,
    );
    const report = await runMaintenance(db.pool, { sink: new LocalFolderArchiveSink(archiveDir) });
    expect(report.outboxRowsDeleted).toBe(1);
    expect(report.idempotencyRowsDeleted).toBe(1);
    const outbox = await db.pool.query(`SELECT count(*)::int AS n FROM connecthub.outbox`);
    expect(outbox.rows[0].n).toBe(2);
  });

  it('rejects bad options naming each field', async () => {
    await expect(
      runMaintenance(db.pool, { sink: new LocalFolderArchiveSink(archiveDir), outboxRetentionDays: -1, fetchSize: 0 }),
    ).rejects.toThrow('invalid maintenance options: outboxRetentionDays -1 is not allowed: must be a whole number ≥ 0; fetchSize 0 is not allowed: must be a whole number ≥ 1');
  });
});
