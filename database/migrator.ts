/**
 * Applies the versioned SQL migrations in `database/migrations/` (`NNNN_name.sql`).
 *
 * - Each pending migration runs in its own transaction, statement by statement, and is recorded in
 *   `connecthub.schema_migrations` in that same transaction: a failure rolls the whole file back and
 *   leaves the schema at the previous version.
 * - A session advisory lock serialises concurrent runners (two deploys, a Lambda and a developer):
 *   the second waits, then finds nothing pending.
 * - An already-applied migration whose file changed (checksum mismatch) is refused before anything runs.
 *
 * Used by the db-migrate Lambda, `tools/db.ts migrate` and the backend tests: one code path.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Pool, PoolClient, Client } from 'pg';
import { splitSqlStatements, SqlStatement } from './sql-splitter';

/** The default migrations directory of this repository. */
export const DEFAULT_MIGRATIONS_DIR = path.join(__dirname, 'migrations');

/** Schema holding the application tables and `schema_migrations`. */
export const SCHEMA = 'connecthub';

/** Advisory lock key (the ASCII bytes of "chmigr" as a bigint), shared by every runner of this migrator. */
export const MIGRATION_LOCK_KEY = '27980841823465984';

const FILE_PATTERN = /^(\d{4})_([a-z0-9][a-z0-9_]*)\.sql$/;
const TRANSACTION_CONTROL = /^(BEGIN|COMMIT|ROLLBACK|END|START\s+TRANSACTION|ABORT|SAVEPOINT|RELEASE)\b/i;

/** One migration file, parsed. */
export interface Migration {
  /** The number in the file name (`0003_posts.sql` → 3). */
  readonly version: number;
  /** The name part of the file name (`posts`). */
  readonly name: string;
  /** The file name (`0003_posts.sql`). */
  readonly file: string;
  /** SHA-256 (hex) of the file with line endings normalised to LF. */
  readonly checksum: string;
  /** The statements of the file, in order. */
  readonly statements: readonly SqlStatement[];
}

/** A row of `schema_migrations`. */
export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
  readonly appliedAt: Date;
}

/** Anything the migrator can run on: a `pg.Pool` (a client is checked out), a `pg.Client` or a `pg.PoolClient` (used as is, already connected). */
export type MigrationTarget = Pool | Client | PoolClient;

/** Options of {@link applyMigrations}. */
export interface ApplyMigrationsOptions {
  /**
   * Directory of `NNNN_name.sql` files.
   * @default DEFAULT_MIGRATIONS_DIR (`database/migrations`, or `migrations/` next to a Lambda bundle)
   */
  readonly directory?: string;
  /** Already loaded migrations (overrides `directory`). */
  readonly migrations?: readonly Migration[];
  /** Progress messages (one per applied migration). @default no logging */
  readonly log?: (message: string) => void;
  /**
   * Attempts per migration when it fails for a lock it could not get within its own `lock_timeout` (SQLSTATE 55P03):
   * such a migration rolled back whole, so it is safe to run again once the busy table is free. 1 turns retries off.
   * @default 5 (waits of 0.5, 1, 2 and 4 s between them)
   */
  readonly lockAttempts?: number;
  /** First wait between lock attempts, doubled each time. @default 500 ms */
  readonly lockRetryDelayMs?: number;
}

/** SQLSTATE lock_not_available: a statement gave up waiting for a lock (lock_timeout). */
const LOCK_NOT_AVAILABLE = '55P03';

/** What {@link applyMigrations} did. */
export interface ApplyMigrationsResult {
  /** Migrations applied by this call, in order (empty when nothing was pending). */
  readonly applied: ReadonlyArray<{ readonly version: number; readonly name: string; readonly file: string }>;
  /** Highest applied version after the call (0 for an empty database). */
  readonly schemaVersion: number;
  /** Versions recorded in the database that no file describes (the database is ahead of this code). */
  readonly unknownApplied: readonly number[];
}

/** A migration failed: names the file, the statement and its line; the schema stayed at `schemaVersion`. */
export class MigrationFailedError extends Error {
  constructor(
    readonly file: string,
    readonly statement: SqlStatement,
    readonly schemaVersion: number,
    readonly causeMessage: string,
    readonly sqlState: string | undefined,
  ) {
    super(
      `migration ${file} failed at statement ${statement.index} (line ${statement.line}): ${causeMessage}` +
        (sqlState ? ` [SQLSTATE ${sqlState}]` : '') +
        ` — statement: ${abbreviate(statement.text)} — schema left at version ${schemaVersion}`,
    );
    this.name = 'MigrationFailedError';
  }
}

/** The files and the database disagree (edited applied migration, out-of-order file, bad file name). */
export class MigrationIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationIntegrityError';
  }
}

function abbreviate(sql: string, max = 400): string {
  const oneLine = sql.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** SHA-256 of a migration's text, insensitive to CRLF/LF checkouts. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n'), 'utf8').digest('hex');
}

/** Parses one migration file's text. */
export function parseMigration(file: string, sql: string): Migration {
  const m = FILE_PATTERN.exec(file);
  if (!m) {
    throw new MigrationIntegrityError(
      `migration file name "${file}" is not allowed: expected NNNN_name.sql (four digits, lower-case letters, digits and underscores)`,
    );
  }
  let statements: SqlStatement[];
  try {
    statements = splitSqlStatements(sql);
  } catch (e) {
    throw new MigrationIntegrityError(`migration ${file}: ${(e as Error).message}`);
  }
  if (statements.length === 0) {
    throw new MigrationIntegrityError(`migration ${file} contains no SQL statement`);
  }
  for (const s of statements) {
    if (TRANSACTION_CONTROL.test(s.text)) {
      throw new MigrationIntegrityError(
        `migration ${file} line ${s.line}: transaction control ("${abbreviate(s.text, 40)}") is not allowed; each migration already runs in its own transaction`,
      );
    }
  }
  return { version: Number(m[1]), name: m[2], file, checksum: migrationChecksum(sql), statements };
}

/** Loads and validates every `NNNN_name.sql` of `directory`, sorted by version. Other files are ignored. */
export function loadMigrations(directory: string = DEFAULT_MIGRATIONS_DIR): Migration[] {
  let entries: string[];
  try {
    entries = readdirSync(directory);
  } catch (e) {
    throw new MigrationIntegrityError(`cannot read migrations directory "${directory}": ${(e as Error).message}`);
  }
  const migrations = entries
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => parseMigration(f, readFileSync(path.join(directory, f), 'utf8')));
  const seen = new Map<number, string>();
  for (const mig of migrations) {
    const other = seen.get(mig.version);
    if (other) {
      throw new MigrationIntegrityError(`migrations ${other} and ${mig.file} share version ${mig.version}; each version must be unique`);
    }
    seen.set(mig.version, mig.file);
  }
  return migrations.sort((a, b) => a.version - b.version);
}

function isPool(target: MigrationTarget): target is Pool {
  return typeof (target as PoolClient).release !== 'function' && 'totalCount' in target;
}

/** Reads `schema_migrations` (empty when the table does not exist yet). */
export async function appliedMigrations(target: MigrationTarget): Promise<AppliedMigration[]> {
  const exists = await target.query<{ t: string | null }>(`SELECT to_regclass('${SCHEMA}.schema_migrations')::text AS t`);
  if (!exists.rows[0].t) return [];
  const res = await target.query<{ version: number; name: string; checksum: string; applied_at: Date }>(
    `SELECT version, name, checksum, applied_at FROM ${SCHEMA}.schema_migrations ORDER BY version`,
  );
  return res.rows.map((r) => ({ version: r.version, name: r.name, checksum: r.checksum, appliedAt: r.applied_at }));
}

/**
 * Applies every pending migration, in version order. Safe to call concurrently and repeatedly:
 * a second call is a no-op.
 *
 * @throws MigrationIntegrityError before anything runs when an applied migration's file changed,
 *   a pending file is numbered below an applied one, or a file name or file is invalid.
 * @throws MigrationFailedError when a statement fails (the file is rolled back).
 */
export async function applyMigrations(target: MigrationTarget, options: ApplyMigrationsOptions = {}): Promise<ApplyMigrationsResult> {
  const migrations = options.migrations ?? loadMigrations(options.directory ?? DEFAULT_MIGRATIONS_DIR);
  const log = options.log ?? (() => undefined);
  const client: Client | PoolClient = isPool(target) ? await target.connect() : target;
  let locked = false;
  try {
    await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    locked = true;
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_migrations (
      version    int PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);

    const applied = await appliedMigrations(client);
    const byVersion = new Map(migrations.map((m) => [m.version, m]));
    const appliedVersions = new Set(applied.map((a) => a.version));
    for (const a of applied) {
      const mig = byVersion.get(a.version);
      if (mig && mig.checksum !== a.checksum) {
        throw new MigrationIntegrityError(
          `migration ${mig.file} was changed after it was applied (checksum in database ${a.checksum.slice(0, 12)}…, file ${mig.checksum.slice(0, 12)}…); ` +
            'applied migrations are immutable: revert the edit and add a new migration instead',
        );
      }
    }
    let schemaVersion = applied.reduce((max, a) => Math.max(max, a.version), 0);
    const pending = migrations.filter((m) => !appliedVersions.has(m.version));
    const outOfOrder = pending.find((m) => m.version < schemaVersion);
    if (outOfOrder) {
      throw new MigrationIntegrityError(
        `migration ${outOfOrder.file} is pending but version ${schemaVersion} is already applied; ` +
          'a new migration must be numbered above every applied one',
      );
    }
    const unknownApplied = applied.filter((a) => !byVersion.has(a.version)).map((a) => a.version);

    const done: Array<{ version: number; name: string; file: string }> = [];
    const lockAttempts = options.lockAttempts ?? 5;
    if (!Number.isInteger(lockAttempts) || lockAttempts < 1 || lockAttempts > 20) {
      throw new RangeError(`applyMigrations: lockAttempts = ${lockAttempts}; allowed: an integer from 1 to 20`);
    }
    const applyOne = async (mig: Migration): Promise<void> => {
      await client.query('BEGIN');
      try {
        for (const statement of mig.statements) {
          try {
            await client.query(statement.text);
          } catch (e) {
            const err = e as Error & { code?: string };
            throw new MigrationFailedError(mig.file, statement, schemaVersion, err.message, err.code);
          }
        }
        await client.query(`INSERT INTO ${SCHEMA}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, [
          mig.version,
          mig.name,
          mig.checksum,
        ]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    };
    for (const mig of pending) {
      for (let attempt = 1; ; attempt++) {
        try {
          await applyOne(mig);
          break;
        } catch (e) {
          if (!(e instanceof MigrationFailedError) || e.sqlState !== LOCK_NOT_AVAILABLE || attempt >= lockAttempts) throw e;
          const waitMs = (options.lockRetryDelayMs ?? 500) * 2 ** (attempt - 1);
          log(`${mig.file}: a table it changes is busy (${e.causeMessage}); rolled back, attempt ${attempt + 1} of ${lockAttempts} in ${waitMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, waitMs));
        }
      }
      schemaVersion = mig.version;
      done.push({ version: mig.version, name: mig.name, file: mig.file });
      log(`applied ${mig.file} (${mig.statements.length} statements)`);
    }
    return { applied: done, schemaVersion, unknownApplied };
  } finally {
    if (locked) {
      await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`).catch(() => undefined);
    }
    if (isPool(target)) (client as PoolClient).release();
  }
}
