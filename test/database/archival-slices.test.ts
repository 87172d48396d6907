import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { ArchiveSink, LocalFolderArchiveSink } from '../../database/archive-sink';
import { applyMigrations } from '../../database/migrator';
import { DROP_LOCK_TIMEOUT_MS, manifestKeyFor, runMaintenance, sliceKeyFor, summarizeMaintenance } from '../../database/partition-maintenance';
import { createTestDatabase, TestDatabase } from './pg-test-db';

// Real PostgreSQL work (CREATE DATABASE, migrations) on a shared 2-core machine: allow more than jest's 5 s default.
jest.setTimeout(120_000);

/** Records every key stored, and can fail the store or the read-back of chosen keys. */
class ObservedSink implements ArchiveSink {
  readonly description: string;
  readonly stored: string[] = [];
  failStore = new Set<string>();
  failReadBack = new Set<string>();
  /** Runs before a slice is stored, and after it is stored (its export's transaction has committed by then). */
  beforeStore?: (key: string) => Promise<void>;
  afterStore?: (key: string) => Promise<void>;

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
    await this.beforeStore?.(key);
    const result = await this.inner.putStream(key, body, contentType);
    this.stored.push(key);
    await this.afterStore?.(key);
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

  it('refuses writes to a partition being archived, also under session_replication_role = replica', async () => {
    const table = await seedExpired('posts', year - 2, 1000);
    const qualified = `connecthub_archive.${table}`;
    const sink = new ObservedSink(new LocalFolderArchiveSink(archiveDir));
    const first = await runMaintenance(db.pool, { sink, sliceRows: 200, remainingTimeMs: budgetOf(2), safetyMarginMs: 1000 });
    expect(first.inProgress[0].slicesDone).toBe(2);
    await expect(db.pool.query(`DELETE FROM ${qualified} WHERE body = 'post 1'`)).rejects.toThrow(
      `${qualified} is being archived in slices; writes would make the archive differ from the table`,
    );
    await expect(db.pool.query(`TRUNCATE ${qualified}`)).rejects.toThrow(/is being archived in slices/);
    // Replication-role sessions skip ordinary triggers; the freeze is ENABLE ALWAYS.
    const client = await db.pool.connect();
    try {
      await client.query(`SET session_replication_role = replica`);
      await expect(client.query(`DELETE FROM ${qualified} WHERE body = 'post 1'`)).rejects.toThrow(/is being archived in slices/);
    } finally {
      await client.query(`RESET session_replication_role`);
      client.release();
    }
  });

  it('discards the progress and archives again from the first slice when the trigger was disabled since planning', async () => {
    // Left over from the previous test: 2 of its slices recorded.
    const table = `posts_p${year - 2}_01`;
    const qualified = `connecthub_archive.${table}`;
    // Someone bypasses the guard and deletes a row that an archived slice already holds, then re-enables it.
    await db.pool.query(`ALTER TABLE ${qualified} DISABLE TRIGGER USER`);
    await db.pool.query(`DELETE FROM ${qualified} WHERE body = 'post 1'`);
    await db.pool.query(`ALTER TABLE ${qualified} ENABLE ALWAYS TRIGGER connecthub_archiving_refuse_writes`);
    const sink = new ObservedSink(new LocalFolderArchiveSink(archiveDir));
    const logged: string[] = [];
    const report = await runMaintenance(db.pool, { sink, sliceRows: 200, log: (m) => logged.push(m) });
    expect(report.failed).toEqual([]);
    expect(logged.join('\n')).toContain(`${qualified} changed since its slices were planned: its trigger connecthub_archiving_refuse_writes was altered or re-created since the plan`);
    expect(sink.stored[0]).toBe(sliceKeyFor(table, 1));
    expect(report.archived.map((a) => [a.table, a.rows])).toEqual([[qualified, 999]]);
    expect(await count(qualified)).toBeNull();
  });

  it('does not drop a partition whose freeze or file changed while its slices were exported (checked under the drop lock)', async () => {
    const table = await seedExpired('posts', year - 3, 600);
    const qualified = `connecthub_archive.${table}`;
    const sink = new ObservedSink(new LocalFolderArchiveSink(archiveDir));
    // After the last slice is stored (its snapshot closed), before the drop: the trigger is switched off and on.
    sink.afterStore = async (key) => {
      if (key !== sliceKeyFor(table, 1)) return;
      await db.pool.query(`ALTER TABLE ${qualified} DISABLE TRIGGER USER`);
      await db.pool.query(`ALTER TABLE ${qualified} ENABLE ALWAYS TRIGGER connecthub_archiving_refuse_writes`);
    };
    const tampered = await runMaintenance(db.pool, { sink, sliceRows: 100_000 });
    expect(tampered.failed).toEqual([{
      table: qualified,
      error: `${qualified}: its trigger connecthub_archiving_refuse_writes was altered or re-created since the plan (writes may have been let through); not dropped (the next run archives it again)`,
    }]);
    expect(await count(qualified)).toBe(600);

    // A rewrite (new file) between the slices and the drop.
    sink.afterStore = async (key) => {
      if (key === sliceKeyFor(table, 1)) await db.pool.query(`VACUUM FULL ${qualified}`);
    };
    const rewritten = await runMaintenance(db.pool, { sink, sliceRows: 100_000 });
    expect(rewritten.failed).toEqual([{ table: qualified, error: expect.stringMatching(/changed while its slices were exported \(file \d+ → \d+, .*not dropped/) }]);
    expect(await count(qualified)).toBe(600);

    sink.afterStore = undefined;
    const done = await runMaintenance(db.pool, { sink, sliceRows: 100_000 });
    expect(done.archived.map((a) => [a.table, a.rows])).toEqual([[qualified, 600]]);
  });

  it('waits at most DROP_LOCK_TIMEOUT_MS for the drop lock, keeping the partition when a reader holds it', async () => {
    const table = await seedExpired('posts', year - 11, 100);
    const qualified = `connecthub_archive.${table}`;
    const sink = new ObservedSink(new LocalFolderArchiveSink(archiveDir));
    const reader = await db.pool.connect();
    try {
      // A reader of the detached table, from after the last slice until well past the lock timeout.
      sink.afterStore = async () => {
        await reader.query('BEGIN');
        await reader.query(`SELECT 1 FROM ${qualified} LIMIT 1`);
      };
      const started = Date.now();
      const report = await runMaintenance(db.pool, { sink, sliceRows: 100_000 });
      expect(Date.now() - started).toBeLessThan(DROP_LOCK_TIMEOUT_MS + 10_000);
      expect(report.failed).toEqual([{ table: qualified, error: 'canceling statement due to lock timeout' }]);
      expect(await count(qualified)).toBe(100);
    } finally {
      await reader.query('ROLLBACK');
      reader.release();
    }
    sink.afterStore = undefined;
    const done = await runMaintenance(db.pool, { sink, sliceRows: 100_000 });
    expect(done.archived.map((a) => [a.table, a.rows])).toEqual([[qualified, 100]]);
  });

  it('plans again from the first slice when the table was rewritten, and empties the old plan\'s objects', async () => {
    const table = await seedExpired('messages', year - 1, 1000);
    const qualified = `connecthub_archive.${table}`;
    const sink = new ObservedSink(new LocalFolderArchiveSink(archiveDir));
    const first = await runMaintenance(db.pool, { sink, sliceRows: 200, remainingTimeMs: budgetOf(2), safetyMarginMs: 1000 });
    expect(first.inProgress[0].slicesDone).toBe(2);
    await db.pool.query(`VACUUM FULL ${qualified}`);
    sink.stored.length = 0;
    const logged: string[] = [];
    // Planned again with one slice: the old plan's slices 2 and 3 (recorded, and the next one) must hold no rows.
    const report = await runMaintenance(db.pool, { sink, sliceRows: 100_000, log: (m) => logged.push(m) });
    expect(report.failed).toEqual([]);
    expect(report.archived.map((a) => [a.table, a.rows, a.slices])).toEqual([[qualified, 1000, 1]]);
    expect(logged.join('\n')).toMatch(new RegExp(`${qualified} changed since its slices were planned: rewritten \\(file .*archiving it again from the first slice`));
    // Old objects emptied first, then the new plan's one slice stored.
    expect(sink.stored).toEqual([sliceKeyFor(table, 1), sliceKeyFor(table, 2), sliceKeyFor(table, 3), sliceKeyFor(table, 1)]);
    for (const slice of [2, 3]) expect(gunzipSync(readFileSync(sink.locationOf(sliceKeyFor(table, slice)))).length).toBe(0);
    const lines = gunzipSync(readFileSync(sink.locationOf(sliceKeyFor(table, 1)))).toString('utf8').split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1000);
    // The manifest sits beside the folder, not among the rows.
    expect(manifestKeyFor(table)).toBe(`connecthub/messages/${table}.manifest.json`);
    expect(report.archived[0].location).toBe(sink.locationOf(manifestKeyFor(table)));
  });

  it('keeps the plan and the progress when a plain VACUUM truncated empty trailing pages', async () => {
    const table = await seedExpired('posts', year - 4, 2000);
    // Dead rows at the end (deleted before the partition is detached), left for VACUUM to truncate later.
    await db.pool.query(`ALTER TABLE connecthub.${table} SET (autovacuum_enabled = false)`);
    await db.pool.query(`DELETE FROM connecthub.${table} WHERE created_at > $1::timestamptz + interval '1000 minutes'`, [`${year - 4}-01-01T00:00:00Z`]);
    const qualified = `connecthub_archive.${table}`;
    const sink = new ObservedSink(new LocalFolderArchiveSink(archiveDir));
    const first = await runMaintenance(db.pool, { sink, sliceRows: 200, remainingTimeMs: budgetOf(2), safetyMarginMs: 1000 });
    expect(first.inProgress[0].slicesDone).toBe(2);
    const blocks = async () => (await db.pool.query<{ n: number }>(`SELECT (pg_relation_size('${qualified}') / 8192)::int AS n`)).rows[0].n;
    const before = await blocks();
    await db.pool.query(`VACUUM ${qualified}`);
    expect(await blocks()).toBeLessThan(before);
    sink.stored.length = 0;
    const logged: string[] = [];
    const report = await runMaintenance(db.pool, { sink, sliceRows: 200, log: (m) => logged.push(m) });
    expect(report.failed).toEqual([]);
    expect(logged.join('\n')).not.toContain('changed since its slices were planned');
    expect(sink.stored[0]).toBe(sliceKeyFor(table, 3));
    expect(report.archived.map((a) => [a.table, a.rows])).toEqual([[qualified, 1000]]);
  });

  it('drops a partition whose slices are all verified without counting the whole table, and fails when the drop can never start', async () => {
    const a = await seedExpired('posts', year - 5, 500);
    const b = await seedExpired('posts', year - 6, 500);
    const sink = new ObservedSink(new LocalFolderArchiveSink(archiveDir));
    // One slice each (name order: b first): b's slice is stored, the budget runs out just before its drop.
    let asked = 0;
    const first = await runMaintenance(db.pool, { sink, sliceRows: 100_000, remainingTimeMs: () => (asked++ < 1 ? 600_000 : 0), safetyMarginMs: 1000 });
    expect(first.failed).toEqual([]);
    expect(first.inProgress.map((p) => [p.table, p.slicesDone === p.slices])).toEqual([[`connecthub_archive.${b}`, true]]);
    // A month of 2,600 one-million-row slices: counting it again would take about 14 hours.
    await db.pool.query(`UPDATE connecthub_maintenance.archive_slice SET scan_ms = 20000 WHERE table_name = $1`, [b]);
    // Only the margin is left: enough for the drop, which reads no rows.
    const dropped = await runMaintenance(db.pool, { sink, sliceRows: 100_000, remainingTimeMs: () => 1000, safetyMarginMs: 1000 });
    expect(dropped.failed).toEqual([]);
    // (a's first slice starts too: no slice of this run took time yet.)
    expect(dropped.archived.map((p) => p.table)).toEqual([`connecthub_archive.${b}`, `connecthub_archive.${a}`]);

    // Partition c: slices all verified before the run, and a budget that cannot fit even the drop — a failure.
    const c = await seedExpired('posts', year - 10, 500);
    asked = 0;
    await runMaintenance(db.pool, { sink, sliceRows: 100_000, remainingTimeMs: () => (asked++ < 1 ? 600_000 : 0), safetyMarginMs: 1000 });
    const stuck = await runMaintenance(db.pool, { sink, sliceRows: 100_000, remainingTimeMs: () => 999, safetyMarginMs: 1000 });
    expect(stuck.inProgress).toEqual([]);
    expect(stuck.failed).toEqual([{
      table: `connecthub_archive.${c}`,
      error: 'all 1 slices are verified but the drop could not start within the time budget (999 ms left, safety margin 1000 ms); raise the function\'s timeout or lower archiveSafetyMargin',
    }]);
    expect(summarizeMaintenance(stuck)).toContain('1 failed');
    const done = await runMaintenance(db.pool, { sink, sliceRows: 100_000 });
    expect(done.archived.map((p) => [p.table, p.rows])).toEqual([[`connecthub_archive.${c}`, 500]]);
  });

  it('reserves the longest slice of the run, not of the partition, before each slice', async () => {
    const first = await seedExpired('posts', year - 7, 300);
    const second = await seedExpired('posts', year - 8, 300);
    const sink = new ObservedSink(new LocalFolderArchiveSink(archiveDir));
    // Each slice takes at least 20 ms; 10 ms above the margin fits the first slice of the run only.
    sink.beforeStore = () => new Promise((resolve) => setTimeout(resolve, 20));
    const report = await runMaintenance(db.pool, { sink, sliceRows: 100_000, remainingTimeMs: () => 1010, safetyMarginMs: 1000 });
    expect(report.failed).toEqual([]);
    // Name order: the older month (second) comes first, is stored and dropped; the other one waits.
    expect(report.archived.map((a) => a.table)).toEqual([`connecthub_archive.${second}`]);
    expect(report.inProgress).toEqual([{ table: `connecthub_archive.${first}`, slicesDone: 0, slices: 1, rowsDone: 0 }]);
    expect(report.outOfTime).toBe(true);
    await runMaintenance(db.pool, { sink, sliceRows: 100_000 });
    expect(await count(`connecthub_archive.${first}`)).toBeNull();
  });

  it('runs housekeeping before the archival, within the budget', async () => {
    await db.pool.query(
      `INSERT INTO connecthub.outbox (topic, payload, created_at, published_at)
       SELECT 'posts', '{}', now() - interval '10 days', now() - interval '10 days' FROM generate_series(1, 5)`,
    );
    const table = await seedExpired('posts', year - 9, 100);
    const sink = new ObservedSink(new LocalFolderArchiveSink(archiveDir));
    const oldOutboxRows: number[] = [];
    sink.beforeStore = async () => {
      const res = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM connecthub.outbox WHERE published_at < now() - interval '7 days'`);
      oldOutboxRows.push(res.rows[0].n);
    };
    // A budget of one slice: the run stops for time with the partition in progress, and has still purged the outbox.
    const report = await runMaintenance(db.pool, { sink, sliceRows: 50, remainingTimeMs: budgetOf(1), safetyMarginMs: 1000 });
    expect(report.outboxRowsDeleted).toBe(5);
    expect(oldOutboxRows).toEqual([0]);
    expect(report.outOfTime).toBe(true);
    expect(report.inProgress.map((p) => p.table)).toEqual([`connecthub_archive.${table}`]);
    await runMaintenance(db.pool, { sink });
  });

  it('rejects bad slicing and budget options naming each field', async () => {
    await expect(
      runMaintenance(db.pool, { sink: new LocalFolderArchiveSink(archiveDir), sliceRows: 0, safetyMarginMs: -5 }),
    ).rejects.toThrow('invalid maintenance options: sliceRows 0 is not allowed: must be a whole number ≥ 1; safetyMarginMs -5 is not allowed: must be a whole number ≥ 0');
  });
});
