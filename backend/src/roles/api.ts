/**
 * The api role: feed, profiles, match suggestions, posts, follows, messages, sync and presence.
 * Every /v1 route requires a JWT; requests are validated by JSON schema and rate limited per user.
 */
import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { Authenticator, AuthError, Principal } from '../auth';
import type { Cache, CacheResult } from '../cache';
import type { RedisClient } from '../redis';
import { isRedisReady } from '../redis';
import { CachedQueries, INLINE_INVALIDATION_LIMIT } from '../queries';
import { Store } from '../store';
import type { Database } from '../db';
import { sync, CursorError } from '../sync';
import { PATHS } from '../contract';
import { RealtimeEvent, userChannel } from '../events';
import { PRESENCE_TTL_SECONDS } from './realtime';

const uuid = { type: 'string', format: 'uuid' } as const;

export interface ApiDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly db: Database;
  readonly redis: RedisClient;
  readonly cache: Cache;
  /** The trace context stored with each outbox row the api writes (`Tracing.outboxTraceContext`). */
  readonly outboxTraceContext?: () => string | null;
}

function principal(req: { principal?: Principal }): Principal {
  if (!req.principal) throw new AuthError(401, 'token_missing', 'authentication required');
  return req.principal;
}

export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  const { config, db, redis, cache, log } = deps;
  const auth = new Authenticator(config.jwt!);
  const store = new Store(db, deps.outboxTraceContext);
  const queries = new CachedQueries(cache, store, { feed: config.feedCacheTtlSeconds, query: config.queryCacheTtlSeconds });
  const sendCached = (reply: { header: (k: string, v: string) => unknown; type: (t: string) => unknown }, r: { json: string; result: CacheResult }) => {
    reply.header('x-cache', r.result);
    reply.type('application/json; charset=utf-8');
    return r.json;
  };

  app.register(
    async (v1) => {
      v1.addHook('onRequest', async (req, reply) => {
        try {
          req.principal = await auth.verify(Authenticator.bearer(req.headers.authorization));
        } catch (err) {
          const e = err instanceof AuthError ? err : new AuthError(401, 'token_invalid', 'token rejected');
          if (e.statusCode === 401) reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${e.code}"`);
          return reply.status(e.statusCode).send({ error: e.code, message: e.message });
        }
      });
      await v1.register(rateLimit, {
        hook: 'preHandler',
        max: config.rateLimitPerMinute,
        timeWindow: 60_000,
        redis: redis as never,
        nameSpace: `${config.redis.keyPrefix}rl:`,
        skipOnError: true,
        keyGenerator: (req) => req.principal?.userId ?? req.ip,
        errorResponseBuilder: (_req, ctx) => ({
          statusCode: 429,
          code: 'rate_limited',
          error: 'rate_limited',
          message: `more than ${ctx.max} requests per minute; retry in ${ctx.after}`,
        }),
      });

      v1.get('/feed', {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { limit: { type: 'integer', minimum: 1, maximum: 100 }, before: { type: 'string', format: 'date-time' } },
          },
        },
      }, async (req, reply) => {
        const { userId } = principal(req);
        const q = req.query as { limit?: number; before?: string };
        if ((q.limit === undefined || q.limit === 20) && q.before === undefined) return sendCached(reply, await queries.feed(userId));
        reply.header('x-cache', 'bypass');
        return { items: await store.feed(userId, q.limit ?? 20, q.before) };
      });

      v1.get('/users/:userId', { schema: { params: { type: 'object', required: ['userId'], properties: { userId: uuid } } } }, async (req, reply) => {
        const { userId } = req.params as { userId: string };
        return sendCached(reply, await queries.profile(userId.toLowerCase()));
      });

      v1.get('/matches', async (req, reply) => sendCached(reply, await queries.matches(principal(req).userId)));

      v1.post('/posts', {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['body'],
            properties: {
              body: { type: 'string', minLength: 1, maxLength: 5000 },
              mediaKeys: { type: 'array', maxItems: 10, items: { type: 'string', pattern: '^[A-Za-z0-9/_.-]{1,256}$' } },
            },
          },
        },
      }, async (req, reply) => {
        const { userId } = principal(req);
        const b = req.body as { body: string; mediaKeys?: string[] };
        const post = await store.createPost(userId, b.body, b.mediaKeys ?? []);
        // Read-your-writes for the author; followers' feeds now (bounded), all of them by the worker.
        await cache.invalidate([queries.feedKey(userId)]);
        await queries.invalidateFollowerFeeds(userId, INLINE_INVALIDATION_LIMIT).catch((err: Error) => log.warn({ err: err.message }, 'inline feed invalidation failed'));
        return reply.status(201).send({ post });
      });

      const followParams = { params: { type: 'object', required: ['userId'], properties: { userId: uuid } } };
      const follow = (on: boolean) => async (req: { principal?: Principal; params: unknown }, reply: { status: (n: number) => { send: (b: unknown) => unknown } }) => {
        const { userId } = principal(req);
        const target = (req.params as { userId: string }).userId.toLowerCase();
        if (target === userId) return reply.status(400).send({ error: 'validation_failed', message: `params.userId = "${target}" is yourself; follow someone else` });
        const changed = await store.setFollow(userId, target, on);
        await cache.invalidate([queries.feedKey(userId)]);
        return reply.status(200).send({ following: on, changed });
      };
      v1.put('/follows/:userId', { schema: followParams }, follow(true));
      v1.delete('/follows/:userId', { schema: followParams }, follow(false));

      v1.post('/messages', {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['recipientId', 'body', 'clientKey'],
            properties: {
              recipientId: uuid,
              body: { type: 'string', minLength: 1, maxLength: 4000 },
              clientKey: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{8,128}$' },
            },
          },
        },
      }, async (req, reply) => {
        const { userId } = principal(req);
        const b = req.body as { recipientId: string; body: string; clientKey: string };
        const recipientId = b.recipientId.toLowerCase();
        if (recipientId === userId) {
          return reply.status(400).send({ error: 'validation_failed', message: `body.recipientId = "${recipientId}" is the sender; send to someone else` });
        }
        const { message, replayed, conflict } = await store.sendMessage(userId, recipientId, b.body, b.clientKey);
        if (conflict) {
          return reply.status(409).send({
            error: 'idempotency_conflict',
            message: `body.clientKey = "${b.clientKey}" was already used for a different message; use a new key for a new message`,
          });
        }
        if (replayed) {
          reply.header('idempotent-replayed', 'true');
          return reply.status(200).send({ message });
        }
        // Fast path to the recipient's sockets; the worker re-delivers from Kafka if this is lost.
        const event: RealtimeEvent = { type: 'message', id: message.id, at: Date.now(), data: { message } };
        if (isRedisReady(redis)) {
          redis.publish(userChannel(config.redis.keyPrefix, recipientId), JSON.stringify(event)).catch((err: Error) => log.debug({ err: err.message }, 'realtime publish failed'));
        }
        return reply.status(201).send({ message });
      });

      v1.get('/messages', {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            required: ['peer'],
            properties: { peer: uuid, limit: { type: 'integer', minimum: 1, maximum: 100 }, before: { type: 'string', format: 'date-time' } },
          },
        },
      }, async (req) => {
        const q = req.query as { peer: string; limit?: number; before?: string };
        return { items: await store.conversation(principal(req).userId, q.peer.toLowerCase(), q.limit ?? 50, q.before) };
      });

      v1.get('/sync', {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { cursor: { type: 'string', maxLength: 2048 }, limit: { type: 'integer', minimum: 1, maximum: 500 } },
          },
        },
      }, async (req, reply) => {
        const q = req.query as { cursor?: string; limit?: number };
        try {
          return await sync(db, principal(req).userId, q.cursor, q.limit ?? 100);
        } catch (err) {
          if (err instanceof CursorError) return reply.status(400).send({ error: 'validation_failed', message: err.message });
          throw err;
        }
      });

      v1.get('/presence', {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            required: ['userIds'],
            properties: { userIds: { type: 'array', minItems: 1, maxItems: 100, items: uuid } },
          },
        },
      }, async (req, reply) => {
        const ids = (req.query as { userIds: string[] }).userIds.map((s) => s.toLowerCase());
        if (!isRedisReady(redis)) return reply.status(503).send({ error: 'presence_unavailable', message: 'presence is kept in Redis, which is unreachable; retry later' });
        const cutoff = Date.now() - PRESENCE_TTL_SECONDS * 1000;
        const all = await Promise.all(ids.map((id) => redis.hvals(`${config.redis.keyPrefix}presence:${id}`)));
        return { online: Object.fromEntries(ids.map((id, i) => [id, all[i].some((ts) => Number(ts) > cutoff)])) };
      });
    },
    { prefix: PATHS.apiPrefix },
  );
}
