import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { ArchiveSink, LocalFolderArchiveSink } from '../../database/archive-sink';
import { applyMigrations } from '../../database/migrator';
import { runMaintenance, sliceKeyFor, summarizeMaintenance } from '../../database/partition-maintenance';
import { createTestDatabase, TestDatabase } from './pg-test-db';

// Real PostgreSQL work (CREATE DATABASE, migrations) on a shared 2-core machine: allow more than jest's 5 s default.
jest.setTimeout(120_000);

/** Records every key stored, and can fail the store or the read-back of chosen keys. */
class ObservedSink implements ArchiveSink {
  readonly description: string;
  readonly stored: string[] = [];
  failStore = new Set<string>();
  failReadBack = new Set<string>();

  constructor(private readonly inner: LocalFolderArchiveSink) {
    this.description = inner.description;
  }
  locationOf(key: string): string {
    return this.inner.locationOf(key);
  }
  async putStream(key: string, body: Readable, contentType: string): Promise<{ readonly bytes: number }> {
    if (this.failStore.has(key)) {
      body.destroy();
      throw new Error(`SlowDown: reduce your request rate (${key})`);
    }
    const result = await this.inner.putStream(key, body, contentType);
    this.stored.push(key);
    return result;
  }
  putText(key: string, text: string, contentType: string): Promise<void> {
    return this.inner.putText(key, text, contentType);
  }
  async open(key: string): Promise<Readable> {
    // The object IS stored; only reading it back fails (a crash or timeout between upload and record looks the same).
    if (this.failReadBack.has(key)) throw new Error(`connection reset while reading ${key} back`);
    return this.inner.open(key);
  }
}

/** A budget that allows `slices` slice starts per run, then reports no time left. */
function budgetOf(slices: number): () => number {
  let asked = 0;
  return () => (asked++ < slices ? 600_000 : 0);
}

describe('sliced, resumable archival', () => {
  let db: TestDatabase;
  let archiveDir: string;
  const year = new Date().getUTCFullYear() - 3;

  /** Makes the expired `<parent>_p<y>_01` partition (detached by the next run) holding `rows` rows. */
  async function seedExpired(parent: 'posts' | 'messages', y: number, rows: number): Promise<string> {
    await db.pool.query(
      `SELECT partman.create_partition_time(p_parent_table := $1, p_partition_times := ARRAY[$2::timestamptz])`,
      [`connecthub.${parent}`, `${y}-01-01T00:00:00Z`],
    );
    const insert = parent === 'posts'
      ? `INSERT INTO connecthub.posts (author_id, body, created_at)
         SELECT gen_random_uuid(), 'post ' || g, $1::timestamptz + g * interval '1 minute' FROM generate_series(1, $2::int) g`
      : `INSERT INTO connecthub.messages (conversation_id, sender_id, recipient_id, body, created_at)
         SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'message ' || g, $1::timestamptz + g * interval '1 minute'
           FROM generate_series(1, $2::int) g`;
    await db.pool.query(insert, [`${y}-01-01T00:00:00Z`, rows]);
    return `${parent}_p${y}_01`;
  }

  async function count(qualified: string): Promise<number | null> {
    const exists = await db.pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [qualified]);
    if (exists.rows[0].t === null) return null;
    const res = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${qualified}`);
    return res.rows[0].n;
  }

  async function recorded(table: string): Promise<number[]> {
    const res = await db.pool.query<{ slice: number }>(
      'SELECT slice FROM connecthub_maintenance.archive_slice WHERE table_name = $1 ORDER BY slice',
      [table],
    );
    return res.rows.map((r) => r.slice);
  }

  beforeAll(async () => {
    db = await createTestDatabase('slices');
    await applyMigrations(db.pool);
    archiveDir = mkdtempSync(path.join(os.tmpdir(), 'ch-slices-'));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(archiveDir, { recursive: true, force: true });
  });

  it('archives a partition across several runs with a tiny time budget, resuming after the last verified slice, then drops it', async () => {
    const table = await seedExpired('messages', year, 3000);
    const ids = (await db.pool.query<{ id: string }>(`SELECT id FROM connecthub.${table} ORDER BY id`)).rows.map((r) => r.id);
    const sink = new ObservedSink(new LocalFolderArchiveSink(archiveDir));

    const runs = [];
    for (let run = 1; run <= 20; run++) {
      const report = await runMaintenance(db.pool, { sink, sliceRows: 400, remainingTimeMs: budgetOf(2), safetyMarginMs: 1000 });
      expect(report.failed).toEqual([]);
      runs.push(report);
      if (report.archived.length > 0) break;
      // Out of time: partly archived, the table and its rows untouched, progress recorded.
      expect(report.outOfTime).toBe(true);
      expect(report.slicesStored).toBe(2);
      expect(report.inProgress).toEqual([
        { table: `connecthub_archive.${table}`, slicesDone: 2 * run, slices: expect.any(Number), rowsDone: expect.any(Number) },
      ]);
      expect(await recorded(table)).toEqual(Array.from({ length: 2 * run }, (_, i) => i + 1));
      expect(await count(`connecthub_archive.${table}`)).toBe(3000);
      expect(summarizeMaintenance(report)).toContain(`in progress: connecthub_archive.${table} ${2 * run}/`);
      expect(summarizeMaintenance(report)).toContain('stopped for time (the next run resumes)');
    }
    const slices = runs[0].inProgress[0].slices;
    expect(slices).toBeGreaterThanOrEqual(5);
    expect(runs.length).toBe(Math.ceil(slices / 2) + (slices % 2 === 0 ? 1 : 0));
    // Every slice was stored exactly once: each run resumed after the last verified one.
    expect(sink.stored).toEqual(Array.from({ length: slices }, (_, i) => sliceKeyFor(table, i + 1)));

    const last = runs[runs.length - 1];
    expect(last.archived).toEqual([expect.objectContaining({ table: `connecthub_archive.${table}`, rows: 3000, slices })]);
    expect(await count(`connecthub_archive.${table}`)).toBeNull();
    expect(await recorded(table)).toEqual([]);
    const manifest = JSON.parse(readFileSync(last.archived[0].location, 'utf8'));
    expect(manifest.slices.map((s: { key: string }) => s.key)).toEqual(sink.stored);
    expect(manifest.slices.reduce((n: number, s: { rows: number }) => n + s.rows, 0)).toBe(3000);
    const archivedIds = sink.stored.flatMap((key) =>
      gunzipSync(readFileSync(sink.locationOf(key))).toString('utf8').split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { id: string }).id));
    expect(archivedIds.sort()).toEqual(ids);
  });

  it('starts no slice when the budget is below the safety margin', async () => {
    const table = await seedExpired('posts', year, 100);
    const sink = new ObservedSink(new LocalFolderArchiveSink(archiveDir));
    const report = await runMaintenance(db.pool, { sink, remainingTimeMs: () => 119_999 });
    expect(report.outOfTime).toBe(true);
    expect(sink.stored).toEqual([]);
    expect(report.inProgress).toEqual([{ table: `connecthub_archive.${table}`, slicesDone: 0, slices: 1, rowsDone: 0 }]);
    const done = await runMaintenance(db.pool, { sink, remainingTimeMs: () => 120_000 + 60_000 });
    expect(done.archived.map((a) => [a.table, a.rows])).toEqual([[`connecthub_archive.${table}`, 100]]);
  });

  it('a failing slice keeps the partition and the verified slices; the next run re-exports it to the same key and goes on', async () => {
    const table = await seedExpired('posts', year - 1, 2000);
    const sink = new ObservedSink(new LocalFolderArchiveSink(archiveDir));
    // Slice 3 is stored but its read-back fails: stored, never recorded.
    sink.failReadBack.add(sliceKeyFor(table, 3));
    const failed = await runMaintenance(db.pool, { sink, sliceRows: 300 });
    expect(failed.archived).toEqual([]);
    expect(failed.failed).toEqual([{ table: `connecthub_archive.${table}`, error: `connection reset while reading ${sliceKeyFor(table, 3)} back` }]);
    expect(failed.slicesStored).toBe(2);
    expect(await recorded(table)).toEqual([1, 2]);
    expect(await count(`connecthub_archive.${table}`)).toBe(2000);

    // A store that fails outright keeps the progress too.
    sink.failReadBack.clear();
    sink.failStore.add(sliceKeyFor(table, 3));
    const refused = await runMaintenance(db.pool, { sink, sliceRows: 300 });
    expect(refused.failed[0].error).toMatch(/^SlowDown/);
    expect(await recorded(table)).toEqual([1, 2]);
    expect(await count(`connecthub_archive.${table}`)).toBe(2000);

    sink.failStore.clear();
    sink.stored.length = 0;
    const resumed = await runMaintenance(db.pool, { sink, sliceRows: 300 });
    expect(resumed.failed).toEqual([]);
    const slices = resumed.archived[0].slices;
    // Slices 1 and 2 were not exported again; slice 3 went to the same key, replacing the unrecorded object.
    expect(sink.stored).toEqual(Array.from({ length: slices - 2 }, (_, i) => sliceKeyFor(table, i + 3)));
    expect(resumed.archived[0].rows).toBe(2000);
    expect(await count(`connecthub_archive.${table}`)).toBeNull();
  });

  it('refuses writes to a partition being archived, and does not drop it when the rows no longer add up', async () => {
    const table = await seedExpired('posts', year - 2, 1000);
    const qualified = `connecthub_archive.${table}`;
    const sink = new ObservedSink(new LocalFolderArchiveSink(archiveDir));
    const first = await runMaintenance(db.pool, { sink, sliceRows: 200, remainingTimeMs: budgetOf(2), safetyMarginMs: 1000 });
    expect(first.inProgress[0].slicesDone).toBe(2);
    await expect(db.pool.query(`DELETE FROM ${qualified} WHERE body = 'post 1'`)).rejects.toThrow(
      `${qualified} is being archived in slices; writes would make the archive differ from the table`,
    );
    await expect(db.pool.query(`TRUNCATE ${qualified}`)).rejects.toThrow(/is being archived in slices/);

    // Someone bypasses the guard and deletes a row that an archived slice already holds.
    await db.pool.query(`ALTER TABLE ${qualified} DISABLE TRIGGER USER`);
    await db.pool.query(`DELETE FROM ${qualified} WHERE body = 'post 1'`);
    await db.pool.query(`ALTER TABLE ${qualified} ENABLE TRIGGER USER`);
    const report = await runMaintenance(db.pool, { sink, sliceRows: 200 });
    expect(report.archived).toEqual([]);
    expect(report.failed).toEqual([{ table: qualified, error: expect.stringMatching(new RegExp(`has 999 rows but its \\d+ verified slices hold 1000; not dropped$`)) }]);
    expect(await count(qualified)).toBe(999);
    const slices = await recorded(table);
    expect(slices.length).toBeGreaterThan(2);
    expect(slices).toEqual(Array.from({ length: slices.length }, (_, i) => i + 1));
  });

  it('plans again from the first slice when the table was rewritten since its slices were planned', async () => {
    // Left over from the previous test: restore the deleted row, rewrite the table (new file), archive.
    const table = `posts_p${year - 2}_01`;
    const qualified = `connecthub_archive.${table}`;
    await db.pool.query(`ALTER TABLE ${qualified} DISABLE TRIGGER USER`);
    await db.pool.query(`INSERT INTO ${qualified} (author_id, body, created_at) VALUES (gen_random_uuid(), 'post 1', '${year - 2}-01-01T00:01:00Z')`);
    await db.pool.query(`ALTER TABLE ${qualified} ENABLE TRIGGER USER`);
    await db.pool.query(`VACUUM FULL ${qualified}`);
    const sink = new ObservedSink(new LocalFolderArchiveSink(archiveDir));
    const logged: string[] = [];
    const report = await runMaintenance(db.pool, { sink, sliceRows: 200, log: (m) => logged.push(m) });
    expect(report.failed).toEqual([]);
    expect(report.archived.map((a) => [a.table, a.rows])).toEqual([[qualified, 1000]]);
    expect(sink.stored[0]).toBe(sliceKeyFor(table, 1));
    expect(logged.join('\n')).toMatch(new RegExp(`${qualified} changed since its slices were planned .*archiving it again from the first slice`));
  });

  it('rejects bad slicing and budget options naming each field', async () => {
    await expect(
      runMaintenance(db.pool, { sink: new LocalFolderArchiveSink(archiveDir), sliceRows: 0, safetyMarginMs: -5 }),
    ).rejects.toThrow('invalid maintenance options: sliceRows 0 is not allowed: must be a whole number ≥ 1; safetyMarginMs -5 is not allowed: must be a whole number ≥ 0');
  });
});
