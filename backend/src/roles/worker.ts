/**
 * The worker role:
 * - OutboxRelay: publishes outbox rows to Kafka, at least once and in order per key.
 * - ActivityConsumer: consumes the four topics, records activity and notifications (deduplicated by
 *   event id), invalidates caches and pushes realtime events.
 * - CacheWarmer: on a schedule, precomputes feed, profile and matches of the most active users.
 */
import type { Database } from '../db';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { Consumer, IncomingMessage, Publisher } from '../kafka/port';
import { RedisClient, isRedisReady } from '../redis';
import { CachedQueries } from '../queries';
import type { Cache } from '../cache';
import { Store } from '../store';
import { DomainEvent, RealtimeEvent, userChannel } from '../events';
import { parseTraceContext } from '../trace-context';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Selects a batch of unpublished rows no other relay holds, skipping rows whose key has an older unpublished row outside the batch. */
const CLAIM_SQL = `
WITH batch AS (
  SELECT id, topic, message_key, payload, trace_context FROM connecthub.outbox
   WHERE published_at IS NULL ORDER BY id LIMIT $1
   FOR UPDATE SKIP LOCKED
)
SELECT b.id, b.topic, b.message_key, b.payload::text AS payload, b.trace_context FROM batch b
 WHERE NOT EXISTS (
   SELECT 1 FROM connecthub.outbox o
    WHERE o.published_at IS NULL AND o.id < b.id AND o.topic = b.topic
      AND o.message_key IS NOT DISTINCT FROM b.message_key
      AND o.id NOT IN (SELECT id FROM batch))
 ORDER BY b.id`;

export interface RelayOptions {
  readonly batchSize?: number;
  readonly idleMs?: number;
}

/**
 * Outbox relay. Each round, in one transaction: claim a batch with FOR UPDATE SKIP LOCKED (several
 * relays share the work), publish it topic by topic in id order, and mark the rows published only
 * after Kafka acknowledged them. A failed publish rolls back: the rows stay unpublished and are
 * retried (at least once; a batch that was partly written before the failure is written again).
 * Per-key order across relays holds because a row is skipped while an older row with the same key
 * is unpublished and held by someone else. A row's stored trace context goes with its message to the
 * publisher (whose tracing wrapper continues it); a malformed one is counted and left out.
 */
export class OutboxRelay {
  private running = false;
  private loop?: Promise<void>;
  /** Consecutive failed rounds (0 after a successful publish or an empty round). */
  consecutiveFailures = 0;
  private readonly batchSize: number;
  private readonly idleMs: number;

  constructor(
    private readonly db: Database,
    private readonly publisher: Publisher,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    options: RelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.idleMs = options.idleMs ?? 100;
  }

  /** Publishes one batch; returns how many rows were published (throws when the publish failed). */
  async runOnce(): Promise<number> {
    return this.db.transaction(async (c) => {
      const { rows } = await c.query<{ id: string; topic: string; message_key: string | null; payload: string; trace_context: string | null }>(CLAIM_SQL, [this.batchSize]);
      if (rows.length === 0) return 0;
      // A malformed stored context is ignored (the message is published without it), never a reason to fail the batch.
      const malformed: string[] = [];
      const traced = rows.map((r) => {
        if (r.trace_context === null) return undefined;
        const parsed = parseTraceContext(r.trace_context);
        if (!parsed) malformed.push(r.id);
        return parsed;
      });
      // Consecutive runs per topic keep the id order within each key.
      let i = 0;
      while (i < rows.length) {
        let j = i;
        while (j < rows.length && rows[j].topic === rows[i].topic) j++;
        await this.publisher.publish(
          rows[i].topic,
          rows.slice(i, j).map((r, k) => ({ key: r.message_key, value: r.payload, headers: { 'outbox-id': r.id }, traceContext: traced[i + k] })),
        );
        i = j;
      }
      await c.query('UPDATE connecthub.outbox SET published_at = now() WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      this.metrics.outboxPublished.inc(rows.length);
      if (malformed.length > 0) {
        this.metrics.outboxTraceContextInvalid.inc(malformed.length);
        this.log.warn({ outboxIds: malformed.slice(0, 10), count: malformed.length }, 'ignored malformed trace_context values of published outbox rows');
      }
      return rows.length;
    });
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      let backoff = 100;
      while (this.running) {
        try {
          const n = await this.runOnce();
          backoff = 100;
          this.consecutiveFailures = 0;
          if (n < this.batchSize) await sleep(this.idleMs);
        } catch (err) {
          this.metrics.outboxPublishFailures.inc();
          this.consecutiveFailures += 1;
          this.log.warn({ err: (err as Error).message, retryInMs: backoff }, 'outbox publish failed; rows stay pending');
          await sleep(backoff);
          backoff = Math.min(backoff * 2, 5_000);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Updates outbox_pending and outbox_lag_seconds. */
  async measure(): Promise<void> {
    const rows = await this.db.read<{ pending: string; lag: number | null }>(
      `SELECT count(*)::text AS pending, extract(epoch FROM now() - min(created_at))::float8 AS lag
         FROM connecthub.outbox WHERE published_at IS NULL`,
    );
    this.metrics.outboxPending.set(Number(rows[0].pending));
    this.metrics.outboxLag.set(rows[0].lag ?? 0);
  }

  /** Deletes published rows older than `hours`, in bounded batches. */
  async purge(hours = 24): Promise<number> {
    let total = 0;
    for (;;) {
      const res = await this.db.writer.query(
        `DELETE FROM connecthub.outbox WHERE id IN (
           SELECT id FROM connecthub.outbox WHERE published_at < now() - make_interval(hours => $1) ORDER BY id LIMIT 5000)`,
        [hours],
      );
      total += res.rowCount ?? 0;
      if ((res.rowCount ?? 0) < 5000) return total;
    }
  }
}

/** Activity kinds the consumer records, per event type: [user the row belongs to, kind, subject]. */
function activityRow(e: DomainEvent): { userId: string; kind: string; subjectId: string | null } | null {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'post.created':
      return { userId: e.actorId, kind: 'post.created', subjectId: String(d.postId) };
    case 'message.created': {
      const m = d.message as { id: string };
      return { userId: e.actorId, kind: 'message.sent', subjectId: m.id };
    }
    case 'follow.created':
      return { userId: String(d.followeeId), kind: 'follow.received', subjectId: String(d.followerId) };
    case 'match.suggested':
      return { userId: String(d.userId), kind: 'match.suggested', subjectId: String(d.candidateId) };
    default:
      return null;
  }
}

/**
 * Consumes activity from Kafka. Every effect is idempotent, so a redelivered event (at-least-once)
 * changes nothing: the activity/notification row is keyed by the event id (ON CONFLICT DO NOTHING),
 * cache invalidation is a delete, and realtime pushes carry an id the realtime pods deduplicate.
 */
export class ActivityConsumer {
  private readonly store: Store;

  constructor(
    private readonly db: Database,
    private readonly redis: RedisClient,
    private readonly cache: Cache,
    private readonly queries: CachedQueries,
    private readonly keyPrefix: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.store = new Store(db);
  }

  private async push(userId: string, event: RealtimeEvent): Promise<void> {
    if (!isRedisReady(this.redis)) return;
    await this.redis.publish(userChannel(this.keyPrefix, userId), JSON.stringify(event)).catch(() => undefined);
  }

  readonly handle = async (msg: IncomingMessage): Promise<void> => {
    let event: DomainEvent;
    try {
      event = JSON.parse(msg.value) as DomainEvent;
    } catch {
      this.log.warn({ topic: msg.topic, offset: msg.offset }, 'skipping an event that is not JSON');
      this.metrics.eventsConsumed.inc({ topic: msg.topic, outcome: 'skipped' });
      return;
    }
    if (!event.eventId || !event.type) {
      this.metrics.eventsConsumed.inc({ topic: msg.topic, outcome: 'skipped' });
      return;
    }
    const d = event.data as Record<string, unknown>;
    const at = Date.parse(event.occurredAt);
    switch (event.type) {
      case 'post.created': {
        await this.queries.invalidateFollowerFeeds(event.actorId);
        await this.pushToFollowers(event.actorId, { type: 'feed.post', id: String(d.postId), at, data: { postId: d.postId, authorId: event.actorId } });
        break;
      }
      case 'message.created': {
        const m = d.message as { id: string; recipientId: string };
        await this.push(m.recipientId, { type: 'message', id: m.id, at, data: { message: m } });
        break;
      }
      case 'follow.created':
      case 'follow.deleted': {
        await this.cacheInvalidate([this.queries.feedKey(String(d.followerId))]);
        if (event.type === 'follow.created') {
          await this.push(String(d.followeeId), { type: 'follow', id: event.eventId, at, data: { followerId: d.followerId } });
        }
        break;
      }
      case 'match.suggested': {
        await this.cacheInvalidate([this.queries.matchesKey(String(d.userId))]);
        await this.push(String(d.userId), { type: 'match', id: event.eventId, at, data: { candidateId: d.candidateId, score: d.score } });
        break;
      }
      default:
        this.log.debug({ type: event.type }, 'event type without effects');
    }
    const row = activityRow(event);
    if (row) {
      await this.db.writer.query(
        `INSERT INTO connecthub.activity (id, user_id, kind, subject_id, payload, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [event.eventId, row.userId, row.kind, row.subjectId, JSON.stringify(event.data), event.occurredAt],
      );
    }
    this.metrics.eventsConsumed.inc({ topic: msg.topic, outcome: 'ok' });
  };

  private cacheInvalidate(keys: string[]): Promise<boolean> {
    return this.cache.invalidate(keys);
  }

  /** Live feed updates to followers (published to each follower's channel; cheap when nobody listens). */
  private async pushToFollowers(authorId: string, event: RealtimeEvent): Promise<void> {
    if (!isRedisReady(this.redis)) return;
    let after: string | null = null;
    for (;;) {
      const page: string[] = await this.store.followers(authorId, after, 1000);
      await Promise.all(page.map((id) => this.push(id, event)));
      if (page.length < 1000) return;
      after = page[page.length - 1];
    }
  }
}

/**
 * Cache warming ("automatic cache warming", plan Step 5.2): every interval, one worker pod (a Redis
 * lock) writes feed, profile and matches of the most active users of the last hour.
 */
export class CacheWarmer {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly store: Store,
    private readonly queries: CachedQueries,
    private readonly redis: RedisClient,
    private readonly lockKey: string,
    private readonly intervalSeconds: number,
    private readonly users: number,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** One warming pass; returns the number of cache entries written (0 when another pod holds the lock). */
  async runOnce(): Promise<number> {
    if (this.users === 0 || !isRedisReady(this.redis)) return 0;
    const locked = await this.redis.set(this.lockKey, '1', 'EX', Math.max(1, this.intervalSeconds - 1), 'NX').catch(() => null);
    if (locked !== 'OK') return 0;
    const ids = await this.store.mostActiveUsers(this.users);
    let written = 0;
    for (let i = 0; i < ids.length; i += 8) {
      const n = await Promise.all(ids.slice(i, i + 8).map((id) => this.queries.warm(id)));
      written += n.reduce((a, b) => a + b, 0);
    }
    this.metrics.cacheWarmed.inc({ cache: 'all' }, written);
    this.log.info({ users: ids.length, entries: written }, 'cache warmed');
    return written;
  }

  start(): void {
    const tick = () => {
      this.running = this.runOnce().catch((err: Error) => {
        this.log.warn({ err: err.message }, 'cache warming failed');
        return 0;
      });
    };
    this.timer = setInterval(tick, this.intervalSeconds * 1000).unref();
    setTimeout(tick, 1_000).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

export function scheduleConsumerLag(consumer: Consumer, metrics: Metrics, log: Logger, everyMs = 15_000): NodeJS.Timeout {
  return setInterval(() => {
    consumer
      .lag()
      .then((lag) => {
        for (const [topic, n] of Object.entries(lag)) metrics.consumerLag.set({ topic }, n);
      })
      .catch((err: Error) => log.debug({ err: err.message }, 'consumer lag unavailable'));
  }, everyMs).unref();
}
