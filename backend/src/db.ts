/**
 * PostgreSQL access: a writer pool and a reader pool (the regional Aurora reader, or RDS Proxy's
 * read-only endpoint). Connections are short-lived enough to follow a failover: broken clients are
 * discarded, idle-client errors are logged instead of crashing the process, connections are recycled
 * after `maxLifetimeSeconds`, and reads retry once on a connection-level failure.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Pool, PoolClient, PoolConfig, QueryResultRow } from 'pg';
import { Signer } from '@aws-sdk/rds-signer';
import type { DatabaseConfig } from './config';
import type { Logger } from './logger';

/** SQLSTATE classes and socket errors that mean "this connection is gone", not "this query is wrong". */
const CONNECTION_ERRORS = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e?.code && CONNECTION_ERRORS.has(e.code)) return true;
  const m = e?.message ?? '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|read-only transaction/i.test(m);
}

export class Database {
  readonly writer: Pool;
  readonly reader: Pool;

  constructor(config: DatabaseConfig, awsRegion: string | undefined, private readonly log: Logger) {
    const base = (host: string): PoolConfig => ({
      host,
      port: config.port,
      database: config.database,
      user: config.user,
      password: passwordSource(config, host, awsRegion),
      // `ca` replaces Node's root store, so an extra bundle is added to it rather than used alone.
      ssl: config.ssl === 'require' ? { rejectUnauthorized: true, ca: config.caFile ? [...rootCertificates, readFileSync(config.caFile, 'utf8')] : undefined } : false,
      max: config.poolMax,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 3_000,
      maxLifetimeSeconds: 300,
      keepAlive: true,
      statement_timeout: 5_000,
      application_name: 'connecthub-backend',
    });
    this.writer = new Pool(base(config.writerHost));
    this.reader = config.readerHost === config.writerHost ? this.writer : new Pool(base(config.readerHost));
    for (const [name, pool] of [['writer', this.writer], ['reader', this.reader]] as const) {
      // An idle client losing its connection (failover, proxy restart) emits here; without a listener
      // the process would crash. The pool drops the client and opens a new one on the next checkout.
      pool.on('error', (err) => this.log.warn({ pool: name, err: err.message }, 'database connection lost; it will be replaced'));
    }
  }

  /** A read on the reader pool, retried once when the connection (not the query) failed. */
  async read<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.reader.query<R>(text, values)).rows;
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      this.log.warn({ err: (err as Error).message }, 'reader connection failed; retrying once');
      return (await this.reader.query<R>(text, values)).rows;
    }
  }

  /** Runs `fn` in a transaction on the writer. Not retried: callers retry with idempotency keys. */
  async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.writer.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      broken = isConnectionError(err);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release(broken ? true : undefined);
    }
  }

  async ping(): Promise<void> {
    await Promise.all([this.writer.query('SELECT 1'), this.reader === this.writer ? undefined : this.reader.query('SELECT 1')]);
  }

  async close(): Promise<void> {
    await this.writer.end();
    if (this.reader !== this.writer) await this.reader.end();
  }
}

function passwordSource(config: DatabaseConfig, host: string, awsRegion: string | undefined): PoolConfig['password'] {
  if (config.auth === 'iam') {
    // A fresh 15-minute token per new connection; the SDK's default chain finds the Pod Identity credentials.
    const signer = new Signer({ hostname: host, port: config.port, username: config.user, region: awsRegion });
    return () => signer.getAuthToken();
  }
  if (config.passwordFile) {
    const file = config.passwordFile;
    // Re-read for every new connection so a rotated secret takes effect without a restart.
    return async () => readFileSync(file, 'utf8').trim();
  }
  return undefined;
}
