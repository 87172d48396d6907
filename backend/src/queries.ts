/**
 * The cached reads, shared by the api (cache-aside on request) and the worker (invalidation and
 * warming), so both agree on keys, TTLs and page shapes.
 *   feed:<user>     first feed page, FEED_CACHE_TTL_SECONDS (5 min), invalidated when a followee posts
 *   profile:<user>  public profile, QUERY_CACHE_TTL_SECONDS (30 min)
 *   matches:<user>  first page of match suggestions, QUERY_CACHE_TTL_SECONDS (30 min)
 */
import type { Cache, CacheResult } from './cache';
import type { Store } from './store';

export const FEED_PAGE = 20;
export const MATCH_PAGE = 20;
/** Followers whose feeds the api invalidates inline after a post; the worker covers all of them. */
export const INLINE_INVALIDATION_LIMIT = 1000;

export class CachedQueries {
  constructor(
    private readonly cache: Cache,
    private readonly store: Store,
    private readonly ttl: { feed: number; query: number },
  ) {}

  feedKey(userId: string): string {
    return this.cache.key('feed', userId);
  }
  profileKey(userId: string): string {
    return this.cache.key('profile', userId);
  }
  matchesKey(userId: string): string {
    return this.cache.key('matches', userId);
  }

  loadFeed(userId: string) {
    return this.store.feed(userId, FEED_PAGE).then((items) => ({ items }));
  }
  loadMatches(userId: string) {
    return this.store.matches(userId, MATCH_PAGE).then((items) => ({ items }));
  }

  feed(userId: string): Promise<{ json: string; result: CacheResult }> {
    return this.cache.getOrLoad('feed', this.feedKey(userId), this.ttl.feed, () => this.loadFeed(userId));
  }

  /** `json` is `null` text when the user does not exist (not cached: the user may be created soon). */
  async profile(userId: string): Promise<{ json: string; result: CacheResult }> {
    const key = this.profileKey(userId);
    return this.cache.getOrLoad('profile', key, this.ttl.query, async () => {
      const p = await this.store.profile(userId);
      if (!p) throw new NotFound(`user ${userId} does not exist`);
      return p;
    });
  }

  matches(userId: string): Promise<{ json: string; result: CacheResult }> {
    return this.cache.getOrLoad('matches', this.matchesKey(userId), this.ttl.query, () => this.loadMatches(userId));
  }

  /** Drops the cached feeds of `authorId`'s followers (keyset pages), up to `max` followers. */
  async invalidateFollowerFeeds(authorId: string, max = Number.POSITIVE_INFINITY): Promise<number> {
    let after: string | null = null;
    let done = 0;
    while (done < max) {
      const page: string[] = await this.store.followers(authorId, after, Math.min(1000, max - done));
      if (page.length === 0) break;
      await this.cache.invalidate(page.map((id) => this.feedKey(id)));
      done += page.length;
      after = page[page.length - 1];
      if (page.length < 1000) break;
    }
    return done;
  }

  /** Computes and stores a user's feed, profile and matches (cache warming). Returns entries written. */
  async warm(userId: string): Promise<number> {
    const [feed, profile, matches] = await Promise.all([this.loadFeed(userId), this.store.profile(userId), this.loadMatches(userId)]);
    const writes = [this.cache.put(this.feedKey(userId), feed, this.ttl.feed), this.cache.put(this.matchesKey(userId), matches, this.ttl.query)];
    if (profile) writes.push(this.cache.put(this.profileKey(userId), profile, this.ttl.query));
    return (await Promise.all(writes)).filter(Boolean).length;
  }
}

export class NotFound extends Error {
  readonly statusCode = 404;
  readonly code = 'not_found';
}
