/**
 * Redis connections. Commands fail fast while Redis is unreachable (no offline queue, short command
 * timeout) so callers can fall back to the database; the client keeps reconnecting in the background
 * and the cache is used again as soon as Redis answers.
 */
import { readFileSync } from 'node:fs';
import { Cluster, Redis, RedisOptions } from 'ioredis';
import type { RedisConfig } from './config';
import type { Logger } from './logger';

export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** Subscriber connections queue commands while reconnecting and resubscribe afterwards. */
  readonly subscriber?: boolean;
  readonly name: string;
}

export function createRedis(config: RedisConfig, log: Logger, opts: RedisClientOptions): RedisClient {
  const password = config.passwordFile ? readFileSync(config.passwordFile, 'utf8').trim() : undefined;
  const options: RedisOptions = {
    username: config.username,
    password,
    tls: config.tls ? {} : undefined,
    connectionName: `connecthub-${opts.name}`,
    lazyConnect: false,
    connectTimeout: 2_000,
    enableOfflineQueue: opts.subscriber === true,
    maxRetriesPerRequest: opts.subscriber ? null : 1,
    commandTimeout: opts.subscriber ? undefined : config.commandTimeoutMs,
    autoResubscribe: true,
    enableAutoPipelining: !opts.subscriber,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
  };
  let client: RedisClient;
  if (config.cluster) {
    client = new Cluster([{ host: config.host, port: config.port }], {
      redisOptions: options,
      enableOfflineQueue: options.enableOfflineQueue,
      enableAutoPipelining: options.enableAutoPipelining,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2_000),
      // ElastiCache with TLS presents certificates for the configuration endpoint's name.
      dnsLookup: (address, callback) => callback(null, address),
      slotsRefreshTimeout: 2_000,
    });
  } else {
    client = new Redis({ ...options, host: config.host, port: config.port });
  }
  let down = false;
  client.on('error', (err: Error) => {
    if (!down) log.warn({ redis: opts.name, err: err.message }, 'redis unavailable; reads fall back to the database');
    down = true;
  });
  client.on('ready', () => {
    if (down) log.info({ redis: opts.name }, 'redis reachable again');
    down = false;
  });
  return client;
}

export function isRedisReady(client: RedisClient): boolean {
  return client.status === 'ready';
}

export async function quitRedis(client: RedisClient): Promise<void> {
  try {
    if (client.status === 'ready') await client.quit();
    else client.disconnect();
  } catch {
    client.disconnect();
  }
}
