/**
 * PostgreSQL access: a writer pool and a reader pool (the regional Aurora reader, or RDS Proxy's
 * read-only endpoint). Connections are short-lived enough to follow a failover: broken clients are
 * discarded, idle-client errors are logged instead of crashing the process, connections are recycled
 * after `maxLifetimeSeconds`, and reads retry once on a connection-level failure.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { Pool, PoolClient, PoolConfig, QueryResultRow } from 'pg';
import { Signer } from '@aws-sdk/rds-signer';
import { context } from '@opentelemetry/api';
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

/** Readiness probe statement; not counted as a query (it would pull the latency percentiles down). */
const PING_SQL = 'SELECT 1 AS readiness';

/** Called once per statement with the pool it ran on and its duration in milliseconds (success or error). */
export type QueryObserver = (pool: 'writer' | 'reader', ms: number) => void;

/** Called when a statement starts (in the caller's trace context); returns what to call when it settles, if it traces it. */
export type QueryTracer = (pool: 'writer' | 'reader', text: string) => ((error?: unknown) => void) | undefined;

/**
 * Times (and, with a tracer, traces) every statement a pooled client runs (pool.query goes through
 * client.query too): wraps the client's `query` once, when the pool opens the connection. Callback and
 * promise forms are timed; streaming submittables (not used here) pass through untimed.
 */
function instrumentClient(client: PoolClient, pool: 'writer' | 'reader', observe: QueryObserver | undefined, trace: QueryTracer | undefined): void {
  const original = client.query as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = function timedQuery(this: unknown, ...args: unknown[]): unknown {
    const first = args[0] as { text?: string; submit?: unknown } | string | undefined;
    const text = typeof first === 'string' ? first : first?.text;
    if (text === PING_SQL || (typeof first === 'object' && typeof first?.submit === 'function')) return original.apply(this, args);
    const start = performance.now();
    const end = text === undefined ? undefined : trace?.(pool, text);
    let recorded = false;
    const done = (error?: unknown): void => {
      if (recorded) return;
      recorded = true;
      observe?.(pool, performance.now() - start);
      end?.(error);
    };
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = function timedCallback(this: unknown, ...cbArgs: unknown[]) {
        done(cbArgs[0] ?? undefined);
        return (last as (...a: unknown[]) => unknown).apply(this, cbArgs);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args) as Promise<unknown> | undefined;
    if (result && typeof result.then === 'function') result.then(() => done(), done);
    return result;
  };
}

/**
 * `pool.query` checks a client out with a callback that a waiting caller may receive from another
 * caller's `release()`: bind that callback to the trace context of the caller that asked, so its
 * statement becomes a child of the right request. (The promise form needs nothing: `await` resumes
 * in the caller's context.)
 */
function bindCheckoutToCaller(pool: Pool): void {
  const connect = pool.connect.bind(pool) as (cb?: (...a: unknown[]) => void) => unknown;
  (pool as unknown as { connect: typeof connect }).connect = (cb) => (cb ? connect(context.bind(context.active(), cb)) : connect());
}

export class Database {
  readonly writer: Pool;
  readonly reader: Pool;

  constructor(
    config: DatabaseConfig,
    awsRegion: string | undefined,
    private readonly log: Logger,
    observeQuery?: QueryObserver,
    traceQuery?: QueryTracer,
  ) {
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
      // With one host, the single pool is the writer (reads on it are counted as writer statements).
      if ((observeQuery || traceQuery) && (name === 'writer' || this.reader !== this.writer)) pool.on('connect', (client) => instrumentClient(client, name, observeQuery, traceQuery));
      if (traceQuery && (name === 'writer' || this.reader !== this.writer)) bindCheckoutToCaller(pool);
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
    await Promise.all([this.writer.query(PING_SQL), this.reader === this.writer ? undefined : this.reader.query(PING_SQL)]);
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
