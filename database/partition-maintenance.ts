/**
 * Partition maintenance and archival — the code path of the db-maintain Lambda and `tools/db.ts maintain`.
 *
 * 1. `partman.run_maintenance()` makes the next monthly partitions (premake) and, by retention,
 *    detaches expired ones into the `connecthub_archive` schema (never drops them:
 *    `retention_keep_table = true`, `retention_schema = 'connecthub_archive'`).
 * 2. Every table in `connecthub_archive` is exported as gzip'd JSON lines (one `row_to_json` object
 *    per row) inside a REPEATABLE READ snapshot, counting rows and hashing the uncompressed and the
 *    compressed bytes, and STREAMED into the archive sink as it is produced (S3: a multipart upload, one
 *    part in memory at a time) — never staged on local disk, so a month of any size fits a Lambda.
 * 3. The stored object is READ BACK and checked: its size and SHA-256 must equal the compressed bytes
 *    sent, its line count the table's row count and its uncompressed SHA-256 the one computed while exporting.
 * 4. A manifest (`<name>.manifest.json`) is written next to it, then the table is dropped under an
 *    ACCESS EXCLUSIVE lock after checking that its row count has not changed.
 * Any failure keeps the table and is reported; the next run tries again.
 */
import { createHash, Hash } from 'node:crypto';
import { once } from 'node:events';
import { pipeline, Transform, TransformCallback } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { Client, Pool, PoolClient } from 'pg';
import type { ArchiveSink } from './archive-sink';

/** Schema pg_partman retention moves detached partitions into (see migration 0001). */
export const ARCHIVE_SCHEMA = 'connecthub_archive';

/** Advisory lock key of maintenance runs (ASCII "chmaint" as a bigint): overlapping runs skip. */
export const MAINTENANCE_LOCK_KEY = '27980841689378420';

/** Options of {@link runMaintenance}. */
export interface MaintenanceOptions {
  /** Where archived partitions go. */
  readonly sink: ArchiveSink;
  /** Rows fetched per round trip while exporting. @default 5000 */
  readonly fetchSize?: number;
  /** Delete outbox rows published more than this many days ago; 0 disables. @default 7 */
  readonly outboxRetentionDays?: number;
  /** Delete message idempotency guards older than this many days; 0 disables. @default 30 */
  readonly idempotencyRetentionDays?: number;
  /** Progress messages. @default no logging */
  readonly log?: (message: string) => void;
}

/** One partition archived and dropped. */
export interface ArchivedPartition {
  /** `connecthub_archive.posts_p2024_01` */
  readonly table: string;
  /** Where the export is, e.g. `s3://bucket/prefix/connecthub/posts/posts_p2024_01.jsonl.gz`. */
  readonly location: string;
  readonly rows: number;
  /** SHA-256 (hex) of the uncompressed JSON lines. */
  readonly sha256: string;
  /** Size of the gzip'd export (the stored object). */
  readonly bytes: number;
  /** SHA-256 (hex) of the gzip'd export (the stored object's bytes). */
  readonly compressedSha256: string;
}

/** What {@link runMaintenance} did. */
export interface MaintenanceReport {
  /** Set when another run held the maintenance lock; nothing else was done. */
  readonly skipped?: string;
  /** Partitions that pg_partman created in this run (`connecthub.posts_p2027_06`). */
  readonly partitionsCreated: string[];
  /** Partitions that pg_partman detached in this run (`connecthub_archive.posts_p2024_01`). */
  readonly partitionsDetached: string[];
  readonly archived: ArchivedPartition[];
  /** Detached partitions that could not be archived (they were kept), and a failed `partman.run_maintenance()`. */
  readonly failed: Array<{ readonly table: string; readonly error: string }>;
  /** Rows found in each default partition (rows outside every monthly range; should be 0). */
  readonly defaultPartitionRows: Record<string, number>;
  readonly outboxRowsDeleted: number;
  readonly idempotencyRowsDeleted: number;
}

type Queryable = Client | PoolClient;

function isPool(target: Pool | Queryable): target is Pool {
  return typeof (target as PoolClient).release !== 'function' && 'totalCount' in target;
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The monthly partition sets pg_partman manages (`connecthub.posts`, ...). */
async function partmanParents(client: Queryable): Promise<string[]> {
  const res = await client.query<{ parent_table: string }>('SELECT parent_table FROM partman.part_config ORDER BY parent_table');
  return res.rows.map((r) => r.parent_table);
}

interface ChildPartition {
  readonly parent: string;
  readonly name: string;
  readonly isDefault: boolean;
}

async function childPartitions(client: Queryable, parents: string[]): Promise<ChildPartition[]> {
  if (parents.length === 0) return [];
  const res = await client.query<{ parent: string; name: string; is_default: boolean }>(
    `SELECT pn.nspname || '.' || p.relname AS parent, cn.nspname || '.' || c.relname AS name,
            pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default
       FROM pg_inherits i
       JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
       JOIN pg_class c ON c.oid = i.inhrelid  JOIN pg_namespace cn ON cn.oid = c.relnamespace
      WHERE pn.nspname || '.' || p.relname = ANY($1)
      ORDER BY 2`,
    [parents],
  );
  return res.rows.map((r) => ({ parent: r.parent, name: r.name, isDefault: r.is_default }));
}

/** Tables waiting in the archive schema (detached partitions), oldest name first. */
export async function detachedPartitions(client: Queryable | Pool): Promise<string[]> {
  const res = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'r' AND NOT c.relispartition
      ORDER BY c.relname`,
    [ARCHIVE_SCHEMA],
  );
  return res.rows.map((r) => r.relname);
}

/** Archive key of a detached partition: `connecthub/posts/posts_p2024_01.jsonl.gz`. */
export function archiveKeyFor(tableName: string): string {
  const m = /^(.*?)_p\d{4}/.exec(tableName);
  const parent = m ? m[1] : 'other';
  return `connecthub/${parent}/${tableName}.jsonl.gz`;
}

interface ExportResult {
  readonly rows: number;
  readonly sha256: string;
  readonly bytes: number;
  readonly compressedSha256: string;
  readonly minCreatedAt: string | null;
  readonly maxCreatedAt: string | null;
  readonly columns: Array<{ name: string; type: string }>;
}

/** Passes bytes through, counting and hashing them. */
class ByteTally extends Transform {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    callback(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Exports `connecthub_archive.<table>` as gzip'd JSON lines, in one snapshot, streaming it into `sink` under `key`
 * while it is produced. The snapshot's transaction stays open until the last row is handed to the sink (backpressure:
 * rows are fetched only as fast as the sink stores them).
 */
async function exportTable(client: Queryable, table: string, sink: ArchiveSink, key: string, fetchSize: number): Promise<ExportResult> {
  const qualified = `${quoteIdent(ARCHIVE_SCHEMA)}.${quoteIdent(table)}`;
  const hash = createHash('sha256');
  const gzip = createGzip();
  const tally = new ByteTally();
  // Errors reach the sink through `tally` (pipeline destroys it) and the export through `stored`.
  pipeline(gzip, tally, () => undefined);
  const stored = sink.putStream(key, tally, 'application/gzip');
  stored.catch(() => undefined); // awaited below; keeps an early failure from being reported as unhandled
  const sinkGone = (): Promise<never> =>
    stored.then(() => Promise.reject(new Error(`the archive sink finished ${sink.locationOf(key)} before the export ended`)));
  let lines = 0;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // JSON timestamps in UTC, whatever the session default is.
    await client.query(`SET LOCAL TIME ZONE 'UTC'`);
    const cols = await client.query<{ name: string; type: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [qualified],
    );
    const hasCreatedAt = cols.rows.some((c) => c.name === 'created_at');
    const stats = await client.query<{ rows: string; min: string | null; max: string | null }>(
      `SELECT count(*) AS rows, ${hasCreatedAt ? 'min(created_at)::text AS min, max(created_at)::text AS max' : 'NULL AS min, NULL AS max'} FROM ${qualified}`,
    );
    await client.query(`DECLARE archive_export NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS line FROM ${qualified} t`);
    for (;;) {
      const batch = await client.query<{ line: string }>(`FETCH FORWARD ${fetchSize} FROM archive_export`);
      if (batch.rows.length === 0) break;
      // row_to_json escapes control characters, so "\n" only ever ends a line.
      const chunk = Buffer.from(batch.rows.map((r) => `${r.line}\n`).join(''), 'utf8');
      hash.update(chunk);
      lines += batch.rows.length;
      if (!gzip.write(chunk)) await Promise.race([once(gzip, 'drain'), sinkGone()]);
    }
    await client.query('CLOSE archive_export');
    await client.query('COMMIT');
    gzip.end();
    const { bytes: storedBytes } = await stored;
    const expected = Number(stats.rows[0].rows);
    if (lines !== expected) {
      throw new Error(`export wrote ${lines} rows but the table has ${expected}`);
    }
    if (storedBytes !== tally.bytes) {
      throw new Error(`the archive sink stored ${storedBytes} bytes of ${tally.bytes} exported to ${sink.locationOf(key)}`);
    }
    return {
      rows: lines,
      sha256: hash.digest('hex'),
      bytes: tally.bytes,
      compressedSha256: tally.digest(),
      minCreatedAt: stats.rows[0].min,
      maxCreatedAt: stats.rows[0].max,
      columns: cols.rows,
    };
  } catch (e) {
    // The sink tore the stream down first (e.g. an upload failed): its error is the cause, not the closed stream.
    const sinkFailedFirst = gzip.destroyed;
    await client.query('ROLLBACK').catch(() => undefined);
    gzip.destroy(e as Error);
    const sinkError = await stored.then(() => undefined, (err: unknown) => err);
    throw sinkFailedFirst && sinkError !== undefined ? sinkError : e;
  }
}

/** What reading an archived object back found. */
export interface ReadBack {
  /** Lines (rows) in the uncompressed content. */
  readonly rows: number;
  /** SHA-256 (hex) of the uncompressed content. */
  readonly sha256: string;
  /** Size of the stored (gzip'd) object. */
  readonly bytes: number;
  /** SHA-256 (hex) of the stored (gzip'd) object. */
  readonly compressedSha256: string;
}

/** Reads an archived object back, counting and hashing both the stored bytes and the uncompressed lines. */
export async function readBackArchive(sink: ArchiveSink, key: string): Promise<ReadBack> {
  const source = await sink.open(key);
  const stored = new ByteTally();
  const gunzip = createGunzip();
  const hash = createHash('sha256');
  let rows = 0;
  gunzip.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
  });
  pipeline(source, stored, gunzip, () => undefined);
  await finished(gunzip);
  return { rows, sha256: hash.digest('hex'), bytes: stored.bytes, compressedSha256: stored.digest() };
}

/**
 * Archives one detached partition: export, store, read back and verify, write the manifest, drop.
 * Throws (and keeps the table) when any step fails.
 */
export async function archiveDetachedPartition(
  client: Queryable,
  table: string,
  sink: ArchiveSink,
  options: { fetchSize?: number } = {},
): Promise<ArchivedPartition> {
  const key = archiveKeyFor(table);
  const exported = await exportTable(client, table, sink, key, options.fetchSize ?? 5000);
  const readBack = await readBackArchive(sink, key);
  if (
    readBack.rows !== exported.rows || readBack.sha256 !== exported.sha256 ||
    readBack.bytes !== exported.bytes || readBack.compressedSha256 !== exported.compressedSha256
  ) {
    throw new Error(
      `verification failed for ${sink.locationOf(key)}: read back ${readBack.rows} rows (sha256 ${readBack.sha256.slice(0, 12)}…, ` +
        `${readBack.bytes} bytes stored), exported ${exported.rows} rows (sha256 ${exported.sha256.slice(0, 12)}…, ${exported.bytes} bytes)`,
    );
  }
  const manifest = {
    format: 'jsonl+gzip',
    description: 'one JSON object per line (PostgreSQL row_to_json, timestamps in UTC); sha256 is of the uncompressed lines',
    source: `${ARCHIVE_SCHEMA}.${table}`,
    object: sink.locationOf(key),
    rows: exported.rows,
    sha256: exported.sha256,
    compressedBytes: exported.bytes,
    compressedSha256: exported.compressedSha256,
    minCreatedAt: exported.minCreatedAt,
    maxCreatedAt: exported.maxCreatedAt,
    columns: exported.columns,
    archivedAt: new Date().toISOString(),
  };
  await sink.putText(key.replace(/\.jsonl\.gz$/, '.manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, 'application/json');

  const qualified = `${quoteIdent(ARCHIVE_SCHEMA)}.${quoteIdent(table)}`;
  await client.query('BEGIN');
  try {
    await client.query(`LOCK TABLE ${qualified} IN ACCESS EXCLUSIVE MODE`);
    const now = await client.query<{ rows: string }>(`SELECT count(*) AS rows FROM ${qualified}`);
    if (Number(now.rows[0].rows) !== exported.rows) {
      throw new Error(`${qualified} changed during the export (${now.rows[0].rows} rows now, ${exported.rows} archived); not dropped`);
    }
    await client.query(`DROP TABLE ${qualified}`);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
  return {
    table: `${ARCHIVE_SCHEMA}.${table}`,
    location: sink.locationOf(key),
    rows: exported.rows,
    sha256: exported.sha256,
    bytes: exported.bytes,
    compressedSha256: exported.compressedSha256,
  };
}

async function deleteInBatches(client: Queryable, sql: string, days: number): Promise<number> {
  if (days <= 0) return 0;
  let total = 0;
  for (;;) {
    const res = await client.query(sql, [days]);
    total += res.rowCount ?? 0;
    if ((res.rowCount ?? 0) < 10000) return total;
  }
}

function checkOptions(options: MaintenanceOptions): void {
  const problems: string[] = [];
  if (!options.sink) problems.push('sink is required (an ArchiveSink)');
  const nonNegativeInt = (name: string, value: number | undefined) => {
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) problems.push(`${name} ${value} is not allowed: must be a whole number ≥ 0`);
  };
  nonNegativeInt('outboxRetentionDays', options.outboxRetentionDays);
  nonNegativeInt('idempotencyRetentionDays', options.idempotencyRetentionDays);
  if (options.fetchSize !== undefined && (!Number.isInteger(options.fetchSize) || options.fetchSize < 1)) {
    problems.push(`fetchSize ${options.fetchSize} is not allowed: must be a whole number ≥ 1`);
  }
  if (problems.length > 0) throw new Error(`invalid maintenance options: ${problems.join('; ')}`);
}

/**
 * Runs pg_partman maintenance, archives every detached partition and expires old outbox and
 * idempotency rows. Archive failures do not stop the run: they are listed in `failed`.
 */
export async function runMaintenance(target: Pool | Queryable, options: MaintenanceOptions): Promise<MaintenanceReport> {
  checkOptions(options);
  const log = options.log ?? (() => undefined);
  const client: Queryable = isPool(target) ? await target.connect() : target;
  const report: { -readonly [K in keyof MaintenanceReport]: MaintenanceReport[K] } = {
    partitionsCreated: [],
    partitionsDetached: [],
    archived: [],
    failed: [],
    defaultPartitionRows: {},
    outboxRowsDeleted: 0,
    idempotencyRowsDeleted: 0,
  };
  let locked = false;
  try {
    const lock = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${MAINTENANCE_LOCK_KEY}) AS ok`);
    if (!lock.rows[0].ok) {
      return { ...report, skipped: 'another maintenance run holds the lock' };
    }
    locked = true;

    const parents = await partmanParents(client);
    const before = new Set((await childPartitions(client, parents)).map((c) => c.name));
    const detachedBefore = new Set(await detachedPartitions(client));
    try {
      await client.query('SELECT partman.run_maintenance(p_analyze := false)');
    } catch (e) {
      // Still archive what earlier runs detached; the failure is reported (and fails the Lambda).
      const error = (e as Error).message.replace(/\s+/g, ' ').trim();
      report.failed.push({ table: 'partman.run_maintenance()', error });
      log(`pg_partman maintenance failed: ${error}`);
    }
    const after = await childPartitions(client, parents);
    report.partitionsCreated.push(...after.filter((c) => !before.has(c.name)).map((c) => c.name));
    const waiting = await detachedPartitions(client);
    report.partitionsDetached.push(...waiting.filter((t) => !detachedBefore.has(t)).map((t) => `${ARCHIVE_SCHEMA}.${t}`));
    log(`pg_partman maintenance: ${report.partitionsCreated.length} partitions created, ${report.partitionsDetached.length} detached`);

    for (const def of after.filter((c) => c.isDefault)) {
      const [schema, name] = def.name.split('.');
      const res = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(schema)}.${quoteIdent(name)}`);
      report.defaultPartitionRows[def.name] = Number(res.rows[0].n);
    }

    for (const table of waiting) {
      try {
        const archived = await archiveDetachedPartition(client, table, options.sink, options);
        report.archived.push(archived);
        log(`archived ${archived.table}: ${archived.rows} rows to ${archived.location}`);
      } catch (e) {
        const error = (e as Error).message;
        report.failed.push({ table: `${ARCHIVE_SCHEMA}.${table}`, error });
        log(`kept ${ARCHIVE_SCHEMA}.${table}: archiving failed: ${error}`);
      }
    }

    report.outboxRowsDeleted = await deleteInBatches(
      client,
      `DELETE FROM connecthub.outbox WHERE id IN (
         SELECT id FROM connecthub.outbox WHERE published_at < now() - make_interval(days => $1) LIMIT 10000)`,
      options.outboxRetentionDays ?? 7,
    );
    report.idempotencyRowsDeleted = await deleteInBatches(
      client,
      `DELETE FROM connecthub.message_idempotency WHERE (sender_id, client_key) IN (
         SELECT sender_id, client_key FROM connecthub.message_idempotency
          WHERE created_at < now() - make_interval(days => $1) LIMIT 10000)`,
      options.idempotencyRetentionDays ?? 30,
    );
    return report;
  } finally {
    if (locked) await client.query(`SELECT pg_advisory_unlock(${MAINTENANCE_LOCK_KEY})`).catch(() => undefined);
    if (isPool(target)) (client as PoolClient).release();
  }
}

/** One-line summary of a report, for logs and errors. */
export function summarizeMaintenance(report: MaintenanceReport): string {
  if (report.skipped) return `maintenance skipped: ${report.skipped}`;
  const parts = [
    `${report.partitionsCreated.length} partitions created`,
    `${report.partitionsDetached.length} detached`,
    `${report.archived.length} archived (${report.archived.reduce((n, a) => n + a.rows, 0)} rows)`,
    `${report.failed.length} failed`,
  ];
  const stray = Object.entries(report.defaultPartitionRows).filter(([, n]) => n > 0);
  if (stray.length > 0) parts.push(`rows in default partitions: ${stray.map(([t, n]) => `${t}=${n}`).join(', ')}`);
  let text = `maintenance: ${parts.join(', ')}`;
  if (report.failed.length > 0) text += `; failures: ${report.failed.map((f) => `${f.table}: ${f.error}`).join('; ')}`;
  return text;
}
