/**
 * Test helpers: the bundled service (the tests load the esbuild bundle, as the container runs it),
 * a fresh PostgreSQL database per test file with the shared migrations, a local JWKS server and
 * token signing, and seeding.
 */
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { createHash, generateKeyPairSync, KeyObject, randomBytes, randomUUID, sign as cryptoSign } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { Client, Pool } from 'pg';
import { applyMigrations } from '../../database/migrator';

export type Bundle = typeof import('../src/server');

/** Path of a bundle built from the current sources (built once, shared by test files through a content hash). */
export function buildBundleFile(): string {
  const root = path.join(__dirname, '..');
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
      const f = path.join(dir, e.name);
      if (e.isDirectory()) walk(f);
      else h.update(f).update(readFileSync(f));
    }
  };
  walk(path.join(root, 'src'));
  h.update(readFileSync(path.join(root, 'build.js')));
  const out = path.join(tmpdir(), `connecthub-backend-${h.digest('hex').slice(0, 16)}`, 'server.js');
  if (!existsSync(out)) {
    mkdirSync(path.dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { build } = require('../build.js') as { build: (out: string) => string };
    build(tmp);
    renameSync(tmp, out);
  }
  return out;
}

let bundle: Bundle | undefined;
/** Loads the service bundle (what the container runs). */
export function loadBundle(): Bundle {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  bundle ??= require(buildBundleFile()) as Bundle;
  return bundle;
}

export interface TestDb {
  readonly name: string;
  readonly pool: Pool;
  drop(): Promise<void>;
}

/** Creates `ch_<area>_<random>` and applies database/migrations to it. */
export async function createTestDb(area: string): Promise<TestDb> {
  const name = `ch_${area}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const pool = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: name, max: 4 });
  await applyMigrations(pool);
  return {
    name,
    pool,
    async drop() {
      // pool.end() resolves before the server has closed every connection; the FORCE below can then
      // terminate one that is still ending, and the pool re-emits that as 'error'. Without a listener
      // the test file would crash after all its tests passed, so it is expected and ignored here.
      pool.on('error', () => undefined);
      await pool.end();
      const a = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export interface Jwks {
  readonly url: string;
  readonly issuer: string;
  readonly audience: string;
  /** Signs an RS256 token; override claims (or set them to undefined) to make bad ones. */
  token(sub: string, claims?: Record<string, unknown>, key?: KeyObject): string;
  /** A key the JWKS does not publish. */
  readonly strangerKey: KeyObject;
  close(): Promise<void>;
}

export async function startJwks(): Promise<Jwks> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  const issuer = 'https://auth.connecthub.test/';
  const audience = 'connecthub-api';
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return {
    url,
    issuer,
    audience,
    strangerKey: stranger.privateKey,
    token(sub, claims = {}, key = privateKey) {
      const now = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = { sub, iss: issuer, aud: audience, iat: now, exp: now + 3600, ...claims };
      for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
      const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'test-key' })}.${b64(payload)}`;
      return `${input}.${cryptoSign('RSA-SHA256', Buffer.from(input), key).toString('base64url')}`;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The environment a pod would get, pointing at the local services (as the least-privilege application role of migration 0005). */
export function env(role: 'api' | 'realtime' | 'worker', db: TestDb | undefined, prefix: string, jwks: Jwks | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CONNECTHUB_ROLE: role,
    PORT: '0',
    LOG_LEVEL: 'silent',
    SHUTDOWN_DRAIN_SECONDS: '5',
    SHUTDOWN_DELAY_SECONDS: '0',
    ...(db ? { DATABASE_WRITER_HOST: '127.0.0.1', DATABASE_READER_HOST: '127.0.0.1', DATABASE_NAME: db.name, DATABASE_USER: 'connecthub_app', DATABASE_AUTH: 'password', DATABASE_SSL: 'disable' } : {}),
    REDIS_ENDPOINT: '127.0.0.1:6379',
    REDIS_KEY_PREFIX: prefix,
    ...(jwks ? { JWT_ISSUER: jwks.issuer, JWT_AUDIENCE: jwks.audience, JWT_JWKS_URL: jwks.url } : {}),
    KAFKA_BROKERS: 'localhost:9092',
    KAFKA_AUTH: 'none',
    KAFKA_TLS: 'false',
    RATE_LIMIT_PER_MINUTE: '100000',
    // The service runs inside the jest worker: on a loaded machine its event loop can stall past the 500 ms default,
    // and a timed-out command makes caches miss and the rate limiter (which fails open) let a request through.
    REDIS_COMMAND_TIMEOUT_MS: '5000',
    ...extra,
  };
}

export function uniquePrefix(area: string): string {
  return `t:${area}:${randomBytes(4).toString('hex')}:`;
}

export async function seedUser(pool: Pool, opts: { id?: string; region?: string; handle?: string; interests?: string[] } = {}): Promise<string> {
  const id = opts.id ?? randomUUID();
  await pool.query(`INSERT INTO connecthub.users (id, home_region, handle, display_name, interests) VALUES ($1, $2, $3, $4, $5)`, [
    id,
    opts.region ?? 'us',
    opts.handle ?? `user_${id.slice(0, 8)}`,
    `User ${id.slice(0, 4)}`,
    opts.interests ?? ['hiking'],
  ]);
  return id;
}

/** Deletes every Redis key under `prefix` (never FLUSHALL). */
export async function cleanRedis(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  await r.connect();
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await r.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  r.disconnect();
}

export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 5_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function http(port: number, method: string, url: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${url}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.headers ?? {}),
    },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

export interface Received {
  readonly path: string;
  readonly contentType: string;
  readonly body: any;
}

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  close(): Promise<void>;
}

/** A minimal OTLP/HTTP receiver on loopback that keeps every export request (JSON) and answers 200. */
export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const contentType = String(req.headers['content-type'] ?? '');
      received.push({ path: req.url ?? '', contentType, body: contentType.includes('json') ? JSON.parse(raw.toString('utf8')) : raw });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
