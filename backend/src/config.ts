/**
 * Configuration: read once from the environment at start, validated as a whole. Every problem is
 * collected and reported in one error naming the setting, the value seen and what is allowed.
 */
import { readFileSync } from 'node:fs';
import {
  DEFAULT_FEED_CACHE_TTL_SECONDS,
  DEFAULT_PORT,
  DEFAULT_QUERY_CACHE_TTL_SECONDS,
  DEFAULT_SHUTDOWN_DELAY_SECONDS,
  DEFAULT_SHUTDOWN_DRAIN_SECONDS,
  ENV,
  HOME_REGIONS,
  OUTBOX_RELAY_MODES,
  ROLES,
  Role,
} from './contract';
import type { OtelConfig } from './otel-metrics';
import { parseResourceAttributes, readTracesConfig, type TracesConfig } from './tracing-config';

export { parseResourceAttributes } from './tracing-config';

export interface DatabaseConfig {
  readonly writerHost: string;
  readonly readerHost: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly auth: 'iam' | 'password';
  /** Mounted secret file holding the password (password auth); re-read for every new connection. */
  readonly passwordFile?: string;
  readonly ssl: 'require' | 'disable';
  /** Extra CA bundle for TLS verification (e.g. the RDS CA bundle); system CAs otherwise. */
  readonly caFile?: string;
  readonly poolMax: number;
}

export interface RedisConfig {
  readonly host: string;
  readonly port: number;
  readonly cluster: boolean;
  readonly tls: boolean;
  readonly username?: string;
  readonly passwordFile?: string;
  /** Prefix for every key and channel (lets several deployments or tests share one Redis). */
  readonly keyPrefix: string;
  /** A command without a reply after this long fails (the caller falls back to the database). */
  readonly commandTimeoutMs: number;
}

export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly auth: 'iam' | 'none';
  readonly tls: boolean;
}

export interface JwtConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
}

export interface Config {
  readonly role: Role;
  readonly port: number;
  readonly shutdownDrainSeconds: number;
  /** Seconds to keep serving (readiness failing) before the listener closes; within the drain. */
  readonly shutdownDelaySeconds: number;
  readonly logLevel: string;
  readonly awsRegion?: string;
  readonly homeRegion: 'us' | 'eu' | 'ap';
  /** Absent for realtime (it needs no database). */
  readonly database?: DatabaseConfig;
  readonly redis: RedisConfig;
  /** Worker only. */
  readonly kafka?: KafkaConfig;
  /**
   * Worker only (false elsewhere): relay the global outbox to this region's Kafka (`OUTBOX_RELAY`, default on).
   * Off in every region but the primary, or rows claimed there would never reach the primary's consumers.
   */
  readonly outboxRelay: boolean;
  /** api and realtime. */
  readonly jwt?: JwtConfig;
  readonly feedCacheTtlSeconds: number;
  readonly queryCacheTtlSeconds: number;
  readonly maxWsConnections: number;
  readonly rateLimitPerMinute: number;
  readonly cacheWarmIntervalSeconds: number;
  readonly cacheWarmUsers: number;
  /** OTLP export of the latency histograms; undefined (nothing exported) without `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly otel?: OtelConfig;
  /** OTLP export of traces; undefined (no spans) without `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`. */
  readonly traces?: TracesConfig;
}

/** Thrown by {@link loadConfig}; `problems` holds one line per bad setting. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

type Env = Readonly<Record<string, string | undefined>>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  required(name: string, what: string): string {
    const v = this.raw(name);
    if (v === undefined) this.problems.push(`${name} is not set; expected ${what}`);
    return v ?? '';
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
    const v = this.raw(name);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      this.problems.push(`${name} is not set; allowed: ${allowed.join(' | ')}`);
      return allowed[0];
    }
    if (!(allowed as readonly string[]).includes(v)) {
      this.problems.push(`${name}=${JSON.stringify(v)} is not allowed; allowed: ${allowed.join(' | ')}`);
      return allowed[0];
    }
    return v as T;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (v === 'true') return true;
    if (v === 'false') return false;
    this.problems.push(`${name}=${JSON.stringify(v)} is not allowed; allowed: true | false`);
    return fallback;
  }

  int(name: string, fallback: number | undefined, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      this.problems.push(`${name} is not set; expected an integer from ${min} to ${max}`);
      return min;
    }
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${name}=${JSON.stringify(v)} is not allowed; expected an integer from ${min} to ${max}`);
      return fallback ?? min;
    }
    return n;
  }

  hostPort(name: string): { host: string; port: number } {
    const v = this.required(name, 'host:port, e.g. cache.example.internal:6379');
    if (!v) return { host: '', port: 0 };
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      this.problems.push(`${name}=${JSON.stringify(v)} is not allowed; expected host:port with a port from 1 to 65535`);
      return { host: '', port: 0 };
    }
    return { host: m[1].replace(/^\[|\]$/g, ''), port };
  }

  host(name: string, value: string | undefined): void {
    if (value !== undefined && !/^[A-Za-z0-9.-]+$|^\[?[0-9a-fA-F:]+\]?$/.test(value)) {
      this.problems.push(`${name}=${JSON.stringify(value)} is not allowed; expected a host name or IP address`);
    }
  }

  readableFile(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    try {
      readFileSync(v);
    } catch (e) {
      this.problems.push(`${name}=${JSON.stringify(v)} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}); expected a mounted secret file`);
    }
    return v;
  }

  url(name: string): string {
    const v = this.required(name, 'an https:// (or http:// on loopback) URL');
    if (!v) return v;
    let u: URL | undefined;
    try {
      u = new URL(v);
    } catch {
      u = undefined;
    }
    const loopback = u && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
    if (!u || !(u.protocol === 'https:' || (u.protocol === 'http:' && loopback))) {
      this.problems.push(`${name}=${JSON.stringify(v)} is not allowed; expected an https:// URL (http:// only on loopback)`);
    }
    return v;
  }
}

/**
 * Reads and validates the configuration for the role named in `CONNECTHUB_ROLE`.
 * @throws ConfigError listing every problem at once.
 */
export function loadConfig(env: Env): Config {
  const r = new Reader(env);
  const role = r.oneOf(ENV.role, ROLES);
  const needsDb = role === 'api' || role === 'worker';
  const needsJwt = role === 'api' || role === 'realtime';
  const needsKafka = role === 'worker';

  let database: DatabaseConfig | undefined;
  if (needsDb) {
    const writerHost = r.required(ENV.databaseWriterHost, 'the writer (or RDS Proxy) host name');
    r.host(ENV.databaseWriterHost, r.raw(ENV.databaseWriterHost));
    const readerHost = r.raw(ENV.databaseReaderHost) ?? writerHost;
    r.host(ENV.databaseReaderHost, r.raw(ENV.databaseReaderHost));
    const auth = r.oneOf(ENV.databaseAuth, ['iam', 'password'] as const, 'password');
    const passwordFile = r.readableFile(ENV.databasePasswordFile);
    // Password mode without a file connects without a password (a local trust-auth PostgreSQL).
    if (env.DATABASE_PASSWORD !== undefined) {
      r.problems.push(`DATABASE_PASSWORD is set; passwords are read from a mounted file only: set ${ENV.databasePasswordFile} instead`);
    }
    if (auth === 'iam' && !r.raw(ENV.awsRegion)) {
      r.problems.push(`${ENV.awsRegion} is not set; it is required when ${ENV.databaseAuth}=iam (the token is signed for a region)`);
    }
    const ssl = r.oneOf(ENV.databaseSsl, ['require', 'disable'] as const, 'require');
    if (auth === 'iam' && ssl === 'disable') {
      r.problems.push(`${ENV.databaseSsl}=disable is not allowed with ${ENV.databaseAuth}=iam; IAM authentication needs TLS: set require`);
    }
    database = {
      writerHost,
      readerHost,
      port: r.int(ENV.databasePort, 5432, 1, 65535),
      database: r.required(ENV.databaseName, 'the database name'),
      user: r.required(ENV.databaseUser, 'the database user'),
      auth,
      passwordFile,
      ssl,
      caFile: r.readableFile(ENV.databaseCaFile),
      poolMax: r.int(ENV.databasePoolMax, 10, 1, 200),
    };
  }

  const { host, port } = r.hostPort(ENV.redisEndpoint);
  const redis: RedisConfig = {
    host,
    port,
    cluster: r.bool(ENV.redisCluster, false),
    tls: r.bool(ENV.redisTls, false),
    username: r.raw(ENV.redisUsername),
    passwordFile: r.readableFile(ENV.redisPasswordFile),
    keyPrefix: r.raw(ENV.redisKeyPrefix) ?? 'ch:',
    commandTimeoutMs: r.int(ENV.redisCommandTimeoutMs, 500, 10, 60_000),
  };
  if (env.REDIS_PASSWORD !== undefined) {
    r.problems.push(`REDIS_PASSWORD is set; passwords are read from a mounted file only: set ${ENV.redisPasswordFile} instead`);
  }

  let kafka: KafkaConfig | undefined;
  if (needsKafka) {
    const brokersRaw = r.required(ENV.kafkaBrokers, 'a comma-separated list of host:port');
    const brokers = brokersRaw ? brokersRaw.split(',').map((b) => b.trim()).filter(Boolean) : [];
    for (const b of brokers) {
      if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(b)) {
        r.problems.push(`${ENV.kafkaBrokers} entry ${JSON.stringify(b)} is not allowed; expected host:port`);
      }
    }
    const auth = r.oneOf(ENV.kafkaAuth, ['iam', 'none'] as const, 'iam');
    const tls = r.bool(ENV.kafkaTls, true);
    if (auth === 'iam' && !tls) r.problems.push(`${ENV.kafkaTls}=false is not allowed with ${ENV.kafkaAuth}=iam; MSK IAM needs TLS`);
    if (auth === 'iam' && !r.raw(ENV.awsRegion)) {
      r.problems.push(`${ENV.awsRegion} is not set; it is required when ${ENV.kafkaAuth}=iam`);
    }
    kafka = { brokers, auth, tls };
  }
  const outboxRelay = needsKafka && r.oneOf(ENV.outboxRelay, OUTBOX_RELAY_MODES, 'on') === 'on';

  let jwt: JwtConfig | undefined;
  if (needsJwt) {
    jwt = {
      issuer: r.required(ENV.jwtIssuer, 'the token issuer (iss), e.g. https://auth.example.com/'),
      audience: r.required(ENV.jwtAudience, 'the token audience (aud)'),
      jwksUrl: r.url(ENV.jwtJwksUrl),
    };
  }

  let otel: OtelConfig | undefined;
  const otelEndpoint = r.raw(ENV.otelEndpoint);
  if (otelEndpoint !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(otelEndpoint);
    } catch {
      u = undefined;
    }
    if (!u || !['http:', 'https:'].includes(u.protocol) || u.search || u.hash) {
      r.problems.push(`${ENV.otelEndpoint}=${JSON.stringify(otelEndpoint)} is not allowed; expected an http:// or https:// base URL of an OTLP/HTTP receiver, e.g. http://collector:4318`);
    }
    const rawAttributes = r.raw(ENV.otelResourceAttributes);
    const parsed = rawAttributes === undefined ? { attributes: {} } : parseResourceAttributes(rawAttributes);
    if ('problem' in parsed) {
      r.problems.push(`${ENV.otelResourceAttributes}=${JSON.stringify(rawAttributes)} is not allowed: ${parsed.problem}; expected key=value pairs separated by commas`);
    }
    otel = {
      endpoint: otelEndpoint,
      exportIntervalMillis: r.int(ENV.otelExportInterval, 60_000, 1_000, 3_600_000),
      temporality: r.oneOf(ENV.otelTemporality, ['delta', 'cumulative'] as const, 'delta'),
      serviceName: r.raw(ENV.otelServiceName),
      resourceAttributes: 'attributes' in parsed ? parsed.attributes : {},
    };
  }

  const config: Config = {
    role,
    port: r.int(ENV.port, DEFAULT_PORT, 0, 65535),
    shutdownDrainSeconds: r.int(ENV.shutdownDrainSeconds, DEFAULT_SHUTDOWN_DRAIN_SECONDS, 1, 600),
    shutdownDelaySeconds: r.int(ENV.shutdownDelaySeconds, DEFAULT_SHUTDOWN_DELAY_SECONDS, 0, 600),
    logLevel: r.oneOf(ENV.logLevel, LOG_LEVELS, 'info'),
    awsRegion: r.raw(ENV.awsRegion),
    homeRegion: r.oneOf(ENV.homeRegion, HOME_REGIONS, 'us'),
    database,
    redis,
    kafka,
    outboxRelay,
    jwt,
    feedCacheTtlSeconds: r.int(ENV.feedCacheTtlSeconds, DEFAULT_FEED_CACHE_TTL_SECONDS, 1, 86_400),
    queryCacheTtlSeconds: r.int(ENV.queryCacheTtlSeconds, DEFAULT_QUERY_CACHE_TTL_SECONDS, 1, 86_400),
    maxWsConnections: r.int(ENV.maxWsConnections, 10_000, 1, 1_000_000),
    rateLimitPerMinute: r.int(ENV.rateLimitPerMinute, 600, 1, 10_000_000),
    cacheWarmIntervalSeconds: r.int(ENV.cacheWarmIntervalSeconds, 300, 1, 86_400),
    cacheWarmUsers: r.int(ENV.cacheWarmUsers, 1000, 0, 1_000_000),
    otel,
    traces: readTracesConfig(env, r.problems),
  };
  if (config.shutdownDelaySeconds >= config.shutdownDrainSeconds && r.raw(ENV.shutdownDelaySeconds) !== undefined) {
    r.problems.push(
      `${ENV.shutdownDelaySeconds}=${config.shutdownDelaySeconds} is not allowed; it must be less than ${ENV.shutdownDrainSeconds} (${config.shutdownDrainSeconds}), which includes it`,
    );
  }
  // The metric and trace settings share some variables: report a problem with one of them once.
  if (r.problems.length > 0) throw new ConfigError([...new Set(r.problems)]);
  return config;
}
