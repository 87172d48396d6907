/**
 * Cache-aside over Redis. A failed or unavailable Redis is a miss, never an error: the caller's
 * loader (the database) answers and the result is written back once Redis is reachable again.
 */
import type { Metrics } from './metrics';
import type { Logger } from './logger';
import { RedisClient, isRedisReady } from './redis';

export type CacheResult = 'hit' | 'miss' | 'bypass';

export class Cache {
  /** Loads in progress per key: concurrent misses on one pod share one database query. */
  private readonly loading = new Map<string, Promise<string>>();

  constructor(
    private readonly redis: RedisClient,
    readonly prefix: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  key(...parts: string[]): string {
    return `${this.prefix}${parts.join(':')}`;
  }

  /**
   * Returns the cached JSON text for `key`, or runs `load`, stores its result for `ttlSeconds`
   * and returns it. `result` says where the value came from (`bypass`: Redis was unavailable).
   */
  async getOrLoad(cache: string, key: string, ttlSeconds: number, load: () => Promise<unknown>): Promise<{ json: string; result: CacheResult }> {
    let available = isRedisReady(this.redis);
    if (available) {
      try {
        const hit = await this.redis.get(key);
        if (hit !== null) {
          this.metrics.cacheRequests.inc({ cache, result: 'hit' });
          return { json: hit, result: 'hit' };
        }
      } catch (err) {
        available = false;
        this.log.debug({ err: (err as Error).message, key }, 'cache read failed');
      }
    }
    let pending = this.loading.get(key);
    if (!pending) {
      pending = load().then((v) => JSON.stringify(v));
      this.loading.set(key, pending);
      const clear = () => this.loading.delete(key);
      pending.then(clear, clear);
    }
    const json = await pending;
    if (available) {
      this.metrics.cacheRequests.inc({ cache, result: 'miss' });
      this.redis.set(key, json, 'EX', ttlSeconds).catch((err: Error) => this.log.debug({ err: err.message, key }, 'cache write failed'));
      return { json, result: 'miss' };
    }
    this.metrics.cacheRequests.inc({ cache, result: 'error' });
    return { json, result: 'bypass' };
  }

  /** Writes a value (the warmer). Returns false when Redis is unavailable. */
  async put(key: string, value: unknown, ttlSeconds: number): Promise<boolean> {
    if (!isRedisReady(this.redis)) return false;
    try {
      await this.redis.set(key, JSON.stringify(value), 'EX', ttlSeconds);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Removes keys. Issued one command per key (auto-pipelined) so it also works on a cluster, where
   * the keys live in different slots. Returns false when Redis was unavailable (the TTL bounds staleness).
   */
  async invalidate(keys: readonly string[]): Promise<boolean> {
    if (keys.length === 0) return true;
    if (!isRedisReady(this.redis)) return false;
    try {
      for (let i = 0; i < keys.length; i += 500) {
        await Promise.all(keys.slice(i, i + 500).map((k) => this.redis.unlink(k)));
      }
      return true;
    } catch (err) {
      this.log.warn({ err: (err as Error).message, keys: keys.length }, 'cache invalidation failed; entries expire by TTL');
      return false;
    }
  }
}
