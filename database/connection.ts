/**
 * Database connection settings for the Lambdas (environment + Secrets Manager) and the local CLI
 * (a postgres:// URL). Both validate their input and report every problem in one error.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ClientConfig } from 'pg';

/** How long to wait for a connection before giving up with a clear error. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** A configuration problem; its message lists every bad field. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** The variables the database Lambdas read (see the Lambda contract). */
export interface DatabaseEnvironment {
  readonly DB_HOST?: string;
  readonly DB_PORT?: string;
  readonly DB_NAME?: string;
  /** Secrets Manager secret with `{"username": ..., "password": ...}` (the RDS-managed master secret format). */
  readonly DB_SECRET_ARN?: string;
  /** `require` (TLS, server certificate verified; the default) or `disable` (local testing only). */
  readonly DB_SSL?: string;
}

interface ParsedEnvironment {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly secretArn: string;
  readonly ssl: boolean;
}

/** Validates the Lambda environment, listing every problem. */
export function parseDatabaseEnvironment(env: DatabaseEnvironment): ParsedEnvironment {
  const problems: string[] = [];
  const host = (env.DB_HOST ?? '').trim();
  if (!host) problems.push('DB_HOST is missing: set it to the cluster or proxy endpoint');
  const portText = (env.DB_PORT ?? '5432').trim();
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) problems.push(`DB_PORT "${env.DB_PORT}" is not allowed: expected a port number 1-65535`);
  const database = (env.DB_NAME ?? '').trim();
  if (!database) problems.push('DB_NAME is missing: set it to the database name');
  const secretArn = (env.DB_SECRET_ARN ?? '').trim();
  if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+/.test(secretArn)) {
    problems.push(`DB_SECRET_ARN "${env.DB_SECRET_ARN ?? ''}" is not allowed: expected a Secrets Manager secret ARN`);
  }
  const sslText = (env.DB_SSL ?? 'require').trim();
  if (sslText !== 'require' && sslText !== 'disable') {
    problems.push(`DB_SSL "${env.DB_SSL}" is not allowed: expected "require" (TLS with certificate verification) or "disable"`);
  }
  if (problems.length > 0) throw new ConfigurationError(`invalid database environment: ${problems.join('; ')}`);
  return { host, port, database, secretArn, ssl: sslText === 'require' };
}

let secretsClient: SecretsManagerClient | undefined;

/** Reads `{username, password}` from Secrets Manager. */
export async function readDatabaseSecret(secretArn: string, client?: SecretsManagerClient): Promise<{ username: string; password: string }> {
  const sm = client ?? (secretsClient ??= new SecretsManagerClient({}));
  const res = await sm.send(new GetSecretValueCommand({ SecretId: secretArn }));
  if (!res.SecretString) throw new ConfigurationError(`secret ${secretArn} has no SecretString`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.SecretString);
  } catch {
    throw new ConfigurationError(`secret ${secretArn} is not JSON: expected {"username": "...", "password": "..."}`);
  }
  const { username, password } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '') {
    throw new ConfigurationError(`secret ${secretArn} lacks a non-empty "username" and "password"`);
  }
  return { username, password };
}

/**
 * `pg` client settings for a Lambda: endpoint from the environment, credentials from Secrets
 * Manager, TLS with certificate verification unless `DB_SSL=disable`. On Lambda (Node.js 20+) set
 * `NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem` so the Amazon RDS certificate authorities are trusted.
 */
export async function clientConfigFromEnvironment(env: DatabaseEnvironment, client?: SecretsManagerClient): Promise<ClientConfig> {
  const parsed = parseDatabaseEnvironment(env);
  const secret = await readDatabaseSecret(parsed.secretArn, client);
  return {
    host: parsed.host,
    port: parsed.port,
    database: parsed.database,
    user: secret.username,
    password: secret.password,
    ssl: parsed.ssl ? { rejectUnauthorized: true } : false,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'connecthub-db-tools',
  };
}

/** Validates a `postgres://` URL (for the CLI). Throws a one-line error naming the value. */
export function parseDatabaseUrl(url: string | undefined): string {
  const expected = 'expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE';
  if (!url) throw new ConfigurationError(`--url is required: ${expected}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigurationError(`--url "${redactUrl(url)}" is not a valid URL: ${expected}`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigurationError(`--url "${redactUrl(url)}" has scheme "${parsed.protocol.replace(/:$/, '')}": ${expected}`);
  }
  if (!parsed.hostname) throw new ConfigurationError(`--url "${redactUrl(url)}" has no host: ${expected}`);
  if (parsed.pathname.replace(/^\//, '') === '') throw new ConfigurationError(`--url "${redactUrl(url)}" names no database: ${expected}`);
  return url;
}

/** The URL with its password replaced by `***`, safe for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/** One-line description of a connection failure (no stack trace). */
export function describeConnectionError(e: unknown, where: string): string {
  const err = e as Error & { code?: string };
  const reason = err.message || err.code || String(e);
  return `cannot connect to PostgreSQL at ${where}: ${reason}`;
}
