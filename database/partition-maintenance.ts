/**
 * Partition maintenance and archival — the code path of the db-maintain Lambda and `tools/db.ts maintain`.
 *
 * 1. `partman.run_maintenance()` makes the next monthly partitions (premake) and, by retention,
 *    detaches expired ones into the `connecthub_archive` schema (never drops them:
 *    `retention_keep_table = true`, `retention_schema = 'connecthub_archive'`).
 * 2. Every table in `connecthub_archive` is archived in SLICES, resumably, across as many runs as it takes:
 *    a plan cuts the table into ranges of physical blocks (ctid ranges, about `sliceRows` rows each; a TID range
 *    scan reads only those blocks, where a range of created_at would scan the whole month: no index leads with it)
 *    and an ENABLE ALWAYS trigger refuses writes to the table from then on (also under session_replication_role =
 *    replica), so slices read at different times add up to the table. Every run re-checks the freeze before
 *    exporting: the trigger's catalog row must be the one created with the plan (same xmin), which disabling,
 *    re-enabling, dropping or replacing it would change; otherwise the progress is discarded and the table planned again.
 * 3. Each slice is exported as gzip'd JSON lines (one `row_to_json` object per row) inside a REPEATABLE READ
 *    snapshot and STREAMED into the archive sink under a key that sorts (`.../part-000001.jsonl.gz`; S3: a
 *    multipart upload, one part in memory at a time), then READ BACK and checked (size, both SHA-256s, line count),
 *    and only then recorded in `connecthub_maintenance.archive_slice`. A slice stored but not recorded (a crash,
 *    a timeout) is exported again to the same key, replacing the object.
 * 4. A time budget: no slice is started when the run's remaining time is below the safety margin plus the longest
 *    slice of this run; the next run resumes after the last recorded slice.
 * 5. When every slice is recorded: under an ACCESS EXCLUSIVE lock (waited for at most DROP_LOCK_TIMEOUT_MS) cheap
 *    proofs that the freeze held since planning — the trigger's catalog row unchanged and enabled ALWAYS, the same
 *    relfilenode, no more blocks than planned, the recorded slices covering every planned block — replace a count of
 *    the whole table (which for a 2.6-billion-row month would not fit in one invocation); then the manifest
 *    (`<parent>/<partition>.manifest.json`, beside the slices' folder) is written, the table dropped and its
 *    progress deleted in one transaction.
 * Any failure keeps the table and the recorded progress, and is reported; the next run carries on.
 */
import { createHash, Hash } from 'node:crypto';
import { once } from 'node:events';
import { pipeline, Readable, Transform, TransformCallback } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip, createGzip, gzipSync } from 'node:zlib';
import type { Client, Pool, PoolClient } from 'pg';
import type { ArchiveSink } from './archive-sink';

/** Schema pg_partman retention moves detached partitions into (see migration 0001). */
export const ARCHIVE_SCHEMA = 'connecthub_archive';

/** Advisory lock key of maintenance runs (ASCII "chmaint" as a bigint): overlapping runs skip. */
export const MAINTENANCE_LOCK_KEY = '27980841689378420';

const DEFAULT_SLICE_ROWS = 1_000_000;
const DEFAULT_SAFETY_MARGIN_MS = 120_000;
/** Longest wait for the drop's ACCESS EXCLUSIVE lock (a reader of the detached table): part of the safety margin. */
export const DROP_LOCK_TIMEOUT_MS = 5_000;

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
  /**
   * Target rows per archive slice (one object each). The slice is cut in whole blocks from the table's statistics,
   * so a slice holds about this many rows. @default 1000000
   */
  readonly sliceRows?: number;
  /**
   * Milliseconds this run may still take, asked before each slice (the Lambda passes
   * `context.getRemainingTimeInMillis`). @default no time limit
   */
  readonly remainingTimeMs?: () => number;
  /**
   * No slice is started when less than this margin plus the longest slice of this run remains; no partition's drop
   * step (lock wait of at most {@link DROP_LOCK_TIMEOUT_MS}, catalog checks, manifest) when less than the margin
   * remains. @default 120000 (2 minutes)
   */
  readonly safetyMarginMs?: number;
  /** Progress messages. @default no logging */
  readonly log?: (message: string) => void;
}

/** One partition whose slices are all archived and verified, and which was dropped. */
export interface ArchivedPartition {
  /** `connecthub_archive.posts_p2024_01` */
  readonly table: string;
  /** The manifest, e.g. `s3://bucket/prefix/connecthub/posts/posts_p2024_01.manifest.json`. */
  readonly location: string;
  readonly rows: number;
  /** Objects (slices) the rows are in. */
  readonly slices: number;
  /** Size of all gzip'd slices. */
  readonly bytes: number;
  /** SHA-256 (hex) of the manifest as stored. */
  readonly manifestSha256: string;
}

/** A partition partly archived when the run's time budget ran out; the next run resumes it. */
export interface PartitionInProgress {
  /** `connecthub_archive.messages_p2024_01` */
  readonly table: string;
  /** Slices stored and verified so far (by this and earlier runs). */
  readonly slicesDone: number;
  readonly slices: number;
  /** Rows in the verified slices. */
  readonly rowsDone: number;
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
  /** Partitions left partly archived because the time budget ran out (not a failure). */
  readonly inProgress: PartitionInProgress[];
  /** Slices this run stored and verified. */
  readonly slicesStored: number;
  /** True when the time budget stopped the archival; partitions not reached wait for the next run. */
  readonly outOfTime: boolean;
  /**
   * Detached partitions that could not be archived (they were kept), and a failed `partman.run_maintenance()`. Also a
   * partition whose slices were all verified before this run when its drop could not start although the run had
   * done no other archival work: its budget can never fit the drop, and staying `inProgress` forever would not alarm.
   */
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

/** Schema of the archival progress tables (migration 0008). */
export const MAINTENANCE_SCHEMA = 'connecthub_maintenance';

/** Name of the trigger that refuses writes to a partition while it is archived in slices. */
const FREEZE_TRIGGER = 'connecthub_archiving_refuse_writes';

/** Key prefix of a detached partition's archive: `connecthub/posts/posts_p2024_01/`. */
export function archivePrefixFor(tableName: string): string {
  const m = /^(.*?)_p\d{4}/.exec(tableName);
  const parent = m ? m[1] : 'other';
  return `connecthub/${parent}/${tableName}/`;
}

/** Key of slice `slice` (from 1): `connecthub/posts/posts_p2024_01/part-000001.jsonl.gz` (zero-padded, so keys sort). */
export function sliceKeyFor(tableName: string, slice: number): string {
  return `${archivePrefixFor(tableName)}part-${String(slice).padStart(6, '0')}.jsonl.gz`;
}

/**
 * Key of a partition's manifest: `connecthub/posts/posts_p2024_01.manifest.json`, beside the slices' folder rather than
 * in it, so a JSON Lines reader pointed at the folder (Athena, Spark) reads only rows.
 */
export function manifestKeyFor(tableName: string): string {
  return `${archivePrefixFor(tableName).replace(/\/$/, '')}.manifest.json`;
}

interface ExportResult {
  readonly rows: number;
  readonly sha256: string;
  readonly bytes: number;
  readonly compressedSha256: string;
  readonly minCreatedAt: string | null;
  readonly maxCreatedAt: string | null;
  /** Milliseconds the slice's count took (recorded for operators). */
  readonly scanMs: number;
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

async function tableColumns(client: Queryable, qualified: string): Promise<Array<{ name: string; type: string }>> {
  const cols = await client.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [qualified],
  );
  return cols.rows;
}

/** A slice: blocks `firstBlock` (inclusive) to `endBlock` (exclusive) of the table. */
interface BlockRange {
  readonly firstBlock: number;
  readonly endBlock: number;
}

/**
 * Exports the rows of `connecthub_archive.<table>` in a block range as gzip'd JSON lines, in one snapshot, streaming
 * them into `sink` under `key` while they are produced. The snapshot's transaction stays open until the last row is
 * handed to the sink (backpressure: rows are fetched only as fast as the sink stores them).
 */
async function exportSlice(
  client: Queryable, table: string, range: BlockRange, sink: ArchiveSink, key: string, fetchSize: number,
): Promise<ExportResult> {
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
    const cols = await tableColumns(client, qualified);
    const hasCreatedAt = cols.some((c) => c.name === 'created_at');
    // A TID range scan: only the slice's blocks are read.
    const where = `WHERE t.ctid >= '(${range.firstBlock},0)'::tid AND t.ctid < '(${range.endBlock},0)'::tid`;
    const scanStart = Date.now();
    const stats = await client.query<{ rows: string; min: string | null; max: string | null }>(
      `SELECT count(*) AS rows, ${hasCreatedAt ? 'min(t.created_at)::text AS min, max(t.created_at)::text AS max' : 'NULL AS min, NULL AS max'} FROM ${qualified} t ${where}`,
    );
    const scanMs = Date.now() - scanStart;
    await client.query(`DECLARE archive_export NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS line FROM ${qualified} t ${where}`);
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
      throw new Error(`export wrote ${lines} rows but blocks ${range.firstBlock}-${range.endBlock - 1} of the table hold ${expected}`);
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
      scanMs,
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

/** How a detached partition is cut into slices (a row of `connecthub_maintenance.archive_plan`). */
interface ArchivePlan {
  readonly relfilenode: number;
  readonly totalBlocks: number;
  readonly blocksPerSlice: number;
  readonly sliceCount: number;
}

/** A verified slice (a row of `connecthub_maintenance.archive_slice`). */
interface SliceRecord extends BlockRange {
  readonly slice: number;
  readonly key: string;
  readonly rows: number;
  readonly sha256: string;
  readonly bytes: number;
  readonly compressedSha256: string;
  readonly minCreatedAt: string | null;
  readonly maxCreatedAt: string | null;
  readonly scanMs: number;
}

/** Options of {@link archiveDetachedPartition}. */
export interface ArchivePartitionOptions {
  /** Rows fetched per round trip while exporting. @default 5000 */
  readonly fetchSize?: number;
  /** Target rows per slice. @default 1000000 */
  readonly sliceRows?: number;
  /**
   * Asked before each slice (`expectedMs`: the longest slice of this call so far) and before the drop step
   * (`expectedMs` 0: the margin covers it): may it start? @default always
   */
  readonly mayStart?: (expectedMs: number, step: 'slice' | 'drop') => boolean;
  /** Called after each slice is stored, verified and recorded, with the milliseconds it took. @default nothing */
  readonly onSliceStored?: (ms: number) => void;
  /** Progress messages. @default no logging */
  readonly log?: (message: string) => void;
}

/** Result of {@link archiveDetachedPartition}: dropped, or left for a later run. */
export type PartitionArchival =
  | ({ readonly status: 'archived' } & ArchivedPartition)
  | ({ readonly status: 'in-progress' } & PartitionInProgress);

/** Current size and physical file of a table; runs ANALYZE first when it has no statistics yet. */
async function tableShape(client: Queryable, qualified: string): Promise<{ relfilenode: number; blocks: number; rowsPerBlock: number }> {
  const read = () => client.query<{ relfilenode: number; blocks: string; reltuples: number; relpages: number }>(
    `SELECT c.relfilenode, pg_relation_size(c.oid) / current_setting('block_size')::bigint AS blocks, c.reltuples, c.relpages
       FROM pg_class c WHERE c.oid = $1::regclass`,
    [qualified],
  );
  let row = (await read()).rows[0];
  if (row.reltuples < 0 || (row.relpages === 0 && Number(row.blocks) > 0)) {
    await client.query(`ANALYZE ${qualified}`);
    row = (await read()).rows[0];
  }
  const rowsPerBlock = row.relpages > 0 && row.reltuples > 0 ? row.reltuples / row.relpages : 1;
  return { relfilenode: Number(row.relfilenode), blocks: Number(row.blocks), rowsPerBlock };
}

/**
 * Whether the freeze made with the plan still holds: the trigger exists, is enabled ALWAYS, and its catalog row is the
 * one written in the plan's transaction (same xmin as the plan row). Disabling and re-enabling it, or dropping and
 * re-creating it, writes a new row, so a window in which writes were possible cannot go unseen. Returns why not, or null.
 */
async function freezeBroken(client: Queryable, table: string): Promise<string | null> {
  const res = await client.query<{ enabled: string | null; same_xact: boolean | null }>(
    `SELECT t.tgenabled::text AS enabled, t.xmin = p.xmin AS same_xact
       FROM ${MAINTENANCE_SCHEMA}.archive_plan p
       LEFT JOIN pg_trigger t ON t.tgrelid = to_regclass($2) AND t.tgname = $3
      WHERE p.table_name = $1`,
    [table, `${quoteIdent(ARCHIVE_SCHEMA)}.${quoteIdent(table)}`, FREEZE_TRIGGER],
  );
  const row = res.rows[0];
  if (!row) return 'its plan is gone';
  if (row.enabled === null) return `its trigger ${FREEZE_TRIGGER} is missing`;
  if (row.enabled !== 'A') return `its trigger ${FREEZE_TRIGGER} is not enabled ALWAYS (tgenabled ${row.enabled})`;
  if (!row.same_xact) return `its trigger ${FREEZE_TRIGGER} was altered or re-created since the plan (writes may have been let through)`;
  return null;
}

/**
 * The partition's slice plan: the recorded one, or a new one (recorded in one transaction with the write-refusing
 * trigger, which is created first so the shape is read with writes already refused). A recorded plan is discarded
 * with its progress when its block ranges may no longer hold the rows its slices counted: the table was rewritten
 * (new relfilenode), grew, or the freeze was broken. A table that only shrank (VACUUM truncating empty trailing
 * pages) keeps its plan: the planned ranges still cover every tuple.
 */
async function slicePlan(client: Queryable, table: string, sliceRows: number, sink: ArchiveSink, log: (m: string) => void): Promise<ArchivePlan> {
  const qualified = `${quoteIdent(ARCHIVE_SCHEMA)}.${quoteIdent(table)}`;
  const shape = await tableShape(client, qualified);
  const recorded = await client.query<{ relfilenode: number; total_blocks: string; blocks_per_slice: string; slice_count: number; last_slice: number | null }>(
    `SELECT relfilenode, total_blocks, blocks_per_slice, slice_count,
            (SELECT max(slice) FROM ${MAINTENANCE_SCHEMA}.archive_slice s WHERE s.table_name = p.table_name) AS last_slice
       FROM ${MAINTENANCE_SCHEMA}.archive_plan p WHERE table_name = $1`,
    [table],
  );
  const plan = recorded.rows[0];
  let why: string | null = null;
  if (plan) {
    if (Number(plan.relfilenode) !== shape.relfilenode) why = `rewritten (file ${plan.relfilenode} → ${shape.relfilenode})`;
    else if (shape.blocks > Number(plan.total_blocks)) why = `grew (${plan.total_blocks} → ${shape.blocks} blocks)`;
    else why = await freezeBroken(client, table);
    if (why === null) {
      return { relfilenode: shape.relfilenode, totalBlocks: Number(plan.total_blocks), blocksPerSlice: Number(plan.blocks_per_slice), sliceCount: plan.slice_count };
    }
  }
  if (plan) {
    // The old plan's objects (the recorded slices and the next one, maybe stored but not recorded) no longer count:
    // replace each with an empty gzip object before planning again, so the folder never holds rows the new plan
    // does not count (the new plan may have fewer slices). Done first: if it fails, the next run sees the old plan
    // and does it again.
    const oldLast = Math.min(plan.slice_count, (plan.last_slice ?? 0) + 1);
    for (let slice = 1; slice <= oldLast; slice++) {
      await sink.putStream(sliceKeyFor(table, slice), Readable.from([gzipSync('')]), 'application/gzip');
    }
  }
  let planned: ArchivePlan;
  await client.query('BEGIN');
  try {
    if (plan) {
      log(`${ARCHIVE_SCHEMA}.${table} changed since its slices were planned: ${why}; archiving it again from the first slice`);
      await client.query(`DELETE FROM ${MAINTENANCE_SCHEMA}.archive_plan WHERE table_name = $1`, [table]);
    }
    // Trigger first: its lock waits for writers, and from then on the shape read below cannot change but by shrinking.
    await client.query(
      `CREATE OR REPLACE TRIGGER ${FREEZE_TRIGGER} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${qualified}
         FOR EACH STATEMENT EXECUTE FUNCTION ${MAINTENANCE_SCHEMA}.refuse_writes_while_archiving()`,
    );
    // ALWAYS: an ordinary trigger does not fire under session_replication_role = replica.
    await client.query(`ALTER TABLE ${qualified} ENABLE ALWAYS TRIGGER ${FREEZE_TRIGGER}`);
    const now = await tableShape(client, qualified);
    const blocksPerSlice = Math.max(1, Math.floor(sliceRows / Math.max(now.rowsPerBlock, 1)));
    const sliceCount = Math.max(1, Math.ceil(now.blocks / blocksPerSlice));
    await client.query(
      `INSERT INTO ${MAINTENANCE_SCHEMA}.archive_plan (table_name, relfilenode, total_blocks, blocks_per_slice, slice_count) VALUES ($1, $2, $3, $4, $5)`,
      [table, now.relfilenode, now.blocks, blocksPerSlice, sliceCount],
    );
    await client.query('COMMIT');
    planned = { relfilenode: now.relfilenode, totalBlocks: now.blocks, blocksPerSlice, sliceCount };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
  log(`${ARCHIVE_SCHEMA}.${table}: ${planned.totalBlocks} blocks planned as ${planned.sliceCount} slices of ${planned.blocksPerSlice} blocks (~${sliceRows} rows)`);
  return planned;
}

async function recordedSlices(client: Queryable, table: string): Promise<SliceRecord[]> {
  const res = await client.query<{
    slice: number; first_block: string; end_block: string; object_key: string; rows: string; sha256: string;
    compressed_bytes: string; compressed_sha256: string; min_created_at: string | null; max_created_at: string | null; scan_ms: number;
  }>(
    `SELECT slice, first_block, end_block, object_key, rows, sha256, compressed_bytes, compressed_sha256,
            to_char(min_created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS min_created_at,
            to_char(max_created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS max_created_at, scan_ms
       FROM ${MAINTENANCE_SCHEMA}.archive_slice WHERE table_name = $1 ORDER BY slice`,
    [table],
  );
  return res.rows.map((r) => ({
    slice: r.slice, firstBlock: Number(r.first_block), endBlock: Number(r.end_block), key: r.object_key, rows: Number(r.rows),
    sha256: r.sha256, bytes: Number(r.compressed_bytes), compressedSha256: r.compressed_sha256,
    minCreatedAt: r.min_created_at, maxCreatedAt: r.max_created_at, scanMs: r.scan_ms,
  }));
}

/** Exports one slice, reads it back and checks it; throws when anything differs. */
async function storeVerifiedSlice(
  client: Queryable, table: string, slice: number, range: BlockRange, sink: ArchiveSink, fetchSize: number,
): Promise<SliceRecord> {
  const key = sliceKeyFor(table, slice);
  const exported = await exportSlice(client, table, range, sink, key, fetchSize);
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
  const record: SliceRecord = { slice, ...range, key, ...exported };
  await client.query(
    `INSERT INTO ${MAINTENANCE_SCHEMA}.archive_slice (table_name, slice, first_block, end_block, object_key, rows, sha256,
            compressed_bytes, compressed_sha256, min_created_at, max_created_at, scan_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [table, slice, range.firstBlock, range.endBlock, key, record.rows, record.sha256, record.bytes, record.compressedSha256,
      record.minCreatedAt, record.maxCreatedAt, record.scanMs],
  );
  return record;
}

/**
 * Archives one detached partition, resuming where earlier runs stopped: plans its slices (once), stores and verifies
 * each slice not yet recorded, and when all are recorded proves under an ACCESS EXCLUSIVE lock that the table cannot
 * have changed since planning, writes the manifest and drops the table. Returns `in-progress` when `mayStart` declines
 * the next step. Throws (keeping the table and every slice recorded so far) when any step or proof fails.
 */
export async function archiveDetachedPartition(
  client: Queryable,
  table: string,
  sink: ArchiveSink,
  options: ArchivePartitionOptions = {},
): Promise<PartitionArchival> {
  const log = options.log ?? (() => undefined);
  const mayStart = options.mayStart ?? (() => true);
  const qualified = `${quoteIdent(ARCHIVE_SCHEMA)}.${quoteIdent(table)}`;
  const plan = await slicePlan(client, table, options.sliceRows ?? DEFAULT_SLICE_ROWS, sink, log);
  const slices = await recordedSlices(client, table);
  const done = new Set(slices.map((s) => s.slice));
  let longestMs = 0;
  const inProgress = (): PartitionArchival => ({
    status: 'in-progress', table: `${ARCHIVE_SCHEMA}.${table}`,
    slicesDone: slices.length, slices: plan.sliceCount, rowsDone: slices.reduce((n, s) => n + s.rows, 0),
  });

  for (let slice = 1; slice <= plan.sliceCount; slice++) {
    if (done.has(slice)) continue;
    if (!mayStart(longestMs, 'slice')) return inProgress();
    const firstBlock = (slice - 1) * plan.blocksPerSlice;
    // The last slice ends at the planned end; at least one block, so an empty table still gets its (empty) slice.
    // Rows past the planned blocks cannot appear (the trigger); if the table grew, the drop's checks refuse it.
    const endBlock = slice === plan.sliceCount ? Math.max(plan.totalBlocks, firstBlock + 1) : firstBlock + plan.blocksPerSlice;
    const started = Date.now();
    const record = await storeVerifiedSlice(client, table, slice, { firstBlock, endBlock }, sink, options.fetchSize ?? 5000);
    const ms = Date.now() - started;
    longestMs = Math.max(longestMs, ms);
    slices.push(record);
    options.onSliceStored?.(ms);
    log(`${ARCHIVE_SCHEMA}.${table}: slice ${slice}/${plan.sliceCount} (${record.rows} rows) stored and verified at ${sink.locationOf(record.key)}`);
  }

  // No count of the table here: it would read the whole month again (as long as all its slices' counts together).
  if (!mayStart(0, 'drop')) return inProgress();
  const manifestKey = manifestKeyFor(table);
  await client.query('BEGIN');
  try {
    // A reader of the detached table must not hold the drop (and the run) past its budget.
    await client.query(`SET LOCAL lock_timeout = ${DROP_LOCK_TIMEOUT_MS}`);
    await client.query(`LOCK TABLE ${qualified} IN ACCESS EXCLUSIVE MODE`);
    await proveUnchangedSincePlan(client, table, plan);
    // Under the lock, so the manifest holds exactly what was recorded (timestamps in one format).
    slices.splice(0, slices.length, ...(await recordedSlices(client, table)));
    let next = 0;
    for (const [i, s] of slices.entries()) {
      if (s.slice !== i + 1 || s.firstBlock !== next) {
        throw new Error(`${ARCHIVE_SCHEMA}.${table}: the recorded slices do not cover blocks 0-${plan.totalBlocks - 1} in order (slice ${s.slice} starts at block ${s.firstBlock}); not dropped`);
      }
      next = s.endBlock;
    }
    if (slices.length !== plan.sliceCount || next < plan.totalBlocks) {
      throw new Error(`${ARCHIVE_SCHEMA}.${table}: ${slices.length} of ${plan.sliceCount} slices recorded, covering blocks up to ${next} of ${plan.totalBlocks}; not dropped`);
    }
    // Each slice's rows were counted in its export's snapshot with writes refused, so they add up to the table.
    const rows = slices.reduce((n, s) => n + s.rows, 0);
    const bytes = slices.reduce((n, s) => n + s.bytes, 0);
    const manifest = {
      format: 'jsonl+gzip',
      description: 'one JSON object per line (PostgreSQL row_to_json, timestamps in UTC) in each slice; sha256 is of the uncompressed lines, compressedSha256 of the object',
      source: `${ARCHIVE_SCHEMA}.${table}`,
      slicing: `ranges of ${plan.blocksPerSlice} blocks (ctid) of ${plan.totalBlocks}; rows within a slice are in physical order`,
      rows,
      compressedBytes: bytes,
      minCreatedAt: minOf(slices.map((s) => s.minCreatedAt)),
      maxCreatedAt: maxOf(slices.map((s) => s.maxCreatedAt)),
      columns: await tableColumns(client, qualified),
      slices: slices.map((s) => ({
        object: sink.locationOf(s.key), key: s.key, rows: s.rows, sha256: s.sha256, compressedBytes: s.bytes,
        compressedSha256: s.compressedSha256, minCreatedAt: s.minCreatedAt, maxCreatedAt: s.maxCreatedAt,
        blocks: [s.firstBlock, s.endBlock],
      })),
      archivedAt: new Date().toISOString(),
    };
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    // Written before the drop commits: a dropped partition always has its manifest.
    await sink.putText(manifestKey, text, 'application/json');
    const stored = await readText(sink, manifestKey);
    if (JSON.parse(stored).rows !== rows) {
      throw new Error(`${sink.locationOf(manifestKey)} read back does not record the ${rows} rows of the verified slices; not dropped`);
    }
    await client.query(`DROP TABLE ${qualified}`);
    await client.query(`DELETE FROM ${MAINTENANCE_SCHEMA}.archive_plan WHERE table_name = $1`, [table]);
    await client.query('COMMIT');
    return {
      status: 'archived', table: `${ARCHIVE_SCHEMA}.${table}`, location: sink.locationOf(manifestKey),
      rows, slices: slices.length, bytes, manifestSha256: createHash('sha256').update(text).digest('hex'),
    };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** Under the drop lock: the freeze held (trigger row unchanged), same file, no more blocks than planned. */
async function proveUnchangedSincePlan(client: Queryable, table: string, plan: ArchivePlan): Promise<void> {
  const broken = await freezeBroken(client, table);
  if (broken !== null) throw new Error(`${ARCHIVE_SCHEMA}.${table}: ${broken}; not dropped (the next run archives it again)`);
  const qualified = `${quoteIdent(ARCHIVE_SCHEMA)}.${quoteIdent(table)}`;
  const shape = await client.query<{ relfilenode: number; blocks: string }>(
    `SELECT relfilenode, pg_relation_size(oid) / current_setting('block_size')::bigint AS blocks FROM pg_class WHERE oid = $1::regclass`,
    [qualified],
  );
  const { relfilenode, blocks } = shape.rows[0];
  if (Number(relfilenode) !== plan.relfilenode || Number(blocks) > plan.totalBlocks) {
    throw new Error(
      `${ARCHIVE_SCHEMA}.${table} changed while its slices were exported (file ${plan.relfilenode} → ${relfilenode}, ` +
        `${plan.totalBlocks} planned blocks → ${blocks}); not dropped (the next run archives it again)`,
    );
  }
}

async function readText(sink: ArchiveSink, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await sink.open(key)) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Earliest/latest of ISO 8601 UTC timestamps of one fixed width, which sort as strings. */
function minOf(values: Array<string | null>): string | null {
  return values.filter((v): v is string => v !== null).sort()[0] ?? null;
}
function maxOf(values: Array<string | null>): string | null {
  return values.filter((v): v is string => v !== null).sort().pop() ?? null;
}

/** Deletes in batches of 10,000; no batch after the first is started when `mayStart` declines. */
async function deleteInBatches(client: Queryable, sql: string, days: number, mayStart: () => boolean): Promise<number> {
  if (days <= 0) return 0;
  let total = 0;
  for (let batch = 0; ; batch++) {
    if (batch > 0 && !mayStart()) return total;
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
  if (options.sliceRows !== undefined && (!Number.isInteger(options.sliceRows) || options.sliceRows < 1)) {
    problems.push(`sliceRows ${options.sliceRows} is not allowed: must be a whole number ≥ 1`);
  }
  nonNegativeInt('safetyMarginMs', options.safetyMarginMs);
  if (options.remainingTimeMs !== undefined && typeof options.remainingTimeMs !== 'function') {
    problems.push('remainingTimeMs is not allowed: must be a function returning the milliseconds left (e.g. context.getRemainingTimeInMillis)');
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
    inProgress: [],
    slicesStored: 0,
    outOfTime: false,
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

    const remaining = options.remainingTimeMs;
    const margin = options.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
    // The longest slice of this run, whichever partition it belonged to.
    let longestSliceMs = 0;
    const mayStart = (expectedMs: number): boolean => {
      if (remaining === undefined || remaining() >= margin + expectedMs) return true;
      report.outOfTime = true;
      return false;
    };

    // Housekeeping first: a few bounded batches, so a long archival can neither starve it nor push the run past its
    // deadline (the archival below stops for time; housekeeping after it would not).
    report.outboxRowsDeleted = await deleteInBatches(
      client,
      `DELETE FROM connecthub.outbox WHERE id IN (
         SELECT id FROM connecthub.outbox WHERE published_at < now() - make_interval(days => $1) LIMIT 10000)`,
      options.outboxRetentionDays ?? 7,
      () => mayStart(0),
    );
    report.idempotencyRowsDeleted = await deleteInBatches(
      client,
      `DELETE FROM connecthub.message_idempotency WHERE (sender_id, client_key) IN (
         SELECT sender_id, client_key FROM connecthub.message_idempotency
          WHERE created_at < now() - make_interval(days => $1) LIMIT 10000)`,
      options.idempotencyRetentionDays ?? 30,
      () => mayStart(0),
    );

    for (const table of waiting) {
      if (report.outOfTime) {
        log(`${ARCHIVE_SCHEMA}.${table} waits for the next run: out of time`);
        continue;
      }
      try {
        const progressedBefore = report.slicesStored > 0 || report.archived.length > 0;
        const result = await archiveDetachedPartition(client, table, options.sink, {
          ...options, log,
          mayStart: (expectedMs, step) => mayStart(step === 'slice' ? Math.max(expectedMs, longestSliceMs) : expectedMs),
          onSliceStored: (ms) => {
            report.slicesStored++;
            longestSliceMs = Math.max(longestSliceMs, ms);
          },
        });
        if (result.status === 'archived') {
          const { status: _s, ...archived } = result;
          report.archived.push(archived);
          log(`archived ${archived.table}: ${archived.rows} rows in ${archived.slices} slices, manifest ${archived.location}`);
        } else if (result.slicesDone === result.slices && !progressedBefore && report.slicesStored === 0) {
          // Every slice was verified before this run, and the drop could not start though nothing else used the
          // budget: no later run will fare better. A failure, so the Lambda's error alarm fires.
          const error = `all ${result.slices} slices are verified but the drop could not start within the time budget ` +
            `(${remaining?.()} ms left, safety margin ${margin} ms); raise the function's timeout or lower archiveSafetyMargin`;
          report.failed.push({ table: result.table, error });
          log(`kept ${result.table}: ${error}`);
        } else {
          const { status: _s, ...progress } = result;
          report.inProgress.push(progress);
          log(`${progress.table}: ${progress.slicesDone}/${progress.slices} slices archived; out of time, the next run resumes`);
        }
      } catch (e) {
        const error = (e as Error).message;
        report.failed.push({ table: `${ARCHIVE_SCHEMA}.${table}`, error });
        log(`kept ${ARCHIVE_SCHEMA}.${table}: archiving failed (verified slices stay recorded): ${error}`);
      }
    }

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
    `${report.slicesStored} slices stored`,
    `${report.failed.length} failed`,
  ];
  if (report.inProgress.length > 0) {
    parts.push(`in progress: ${report.inProgress.map((p) => `${p.table} ${p.slicesDone}/${p.slices} slices`).join(', ')}`);
  }
  if (report.outOfTime) parts.push('stopped for time (the next run resumes)');
  const stray = Object.entries(report.defaultPartitionRows).filter(([, n]) => n > 0);
  if (stray.length > 0) parts.push(`rows in default partitions: ${stray.map(([t, n]) => `${t}=${n}`).join(', ')}`);
  let text = `maintenance: ${parts.join(', ')}`;
  if (report.failed.length > 0) text += `; failures: ${report.failed.map((f) => `${f.table}: ${f.error}`).join('; ')}`;
  return text;
}
