/**
 * The realtime role: an authenticated WebSocket endpoint (`/ws`) that pushes messages, match and
 * follow notifications and live feed posts to connected users.
 *
 * - Authentication: the JWT travels as a WebSocket subprotocol (`Sec-WebSocket-Protocol:
 *   connecthub.v1, bearer.<jwt>`; browsers cannot set headers on a WebSocket) or, for native
 *   clients, as `Authorization: Bearer <jwt>`. Never in the query string (it would land in access logs).
 *   The server answers with the `connecthub.v1` protocol only.
 * - Fan-out across pods: each pod subscribes to the Redis channel of every user connected to it
 *   (`<prefix>rt:u:<user>`); publishers (api, worker) publish to that channel, whichever pod holds the socket.
 * - Duplicates (the api's fast path and the worker's Kafka path) are dropped by id per pod.
 * - Presence: a Redis hash per user (`<prefix>presence:<user>`, field = pod, value = last heartbeat),
 *   refreshed every PRESENCE_TTL_SECONDS/3 and expiring after PRESENCE_TTL_SECONDS.
 * - Backpressure: a socket whose send buffer exceeds WS_MAX_BUFFERED_BYTES is closed (1013, try
 *   again later); the client reconnects and catches up with /v1/sync. A per-pod connection limit
 *   (MAX_WS_CONNECTIONS) answers 503 before the upgrade.
 * - Token lifetime: the JWT is checked at the upgrade only, so a socket is closed (4401, token expired) when
 *   its token would no longer be accepted; the client reconnects with a fresh token and catches up with /v1/sync.
 * - Accepted upgrades count in http_requests_total as status 101: @fastify/websocket hijacks the reply, so
 *   the server's onResponse hook never sees them (refused upgrades, 401 and 503, it does count).
 */
import type { FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { randomUUID } from 'node:crypto';
import { PATHS, WS_SUBPROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from '../contract';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { Authenticator, AuthError } from '../auth';
import { RedisClient, isRedisReady } from '../redis';
import type { RealtimeEvent } from '../events';

export const PRESENCE_TTL_SECONDS = 60;
export const WS_MAX_BUFFERED_BYTES = 1024 * 1024;
export const WS_HEARTBEAT_MS = 30_000;
/** Close code and reason for a socket whose token expired (4000-4999: application codes; 4401 mirrors HTTP 401). */
export const WS_TOKEN_EXPIRED_CODE = 4401;
export const WS_TOKEN_EXPIRED_REASON = 'token expired';
/** Longest delay setTimeout keeps (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2_147_483_647;
const DEDUPE_ENTRIES = 50_000;

export interface RealtimeDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly redis: RedisClient;
  readonly subscriber: RedisClient;
}

export class RealtimeHub {
  readonly podId = randomUUID();
  private readonly sockets = new Map<string, Set<WebSocket>>();
  private readonly alive = new WeakSet<WebSocket>();
  private readonly seen = new Map<string, true>();
  private count = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly channelPrefix: string;

  constructor(private readonly deps: RealtimeDeps) {
    this.channelPrefix = `${deps.config.redis.keyPrefix}rt:u:`;
    // Exported from the start, so the connection trigger reads 0 rather than no data on an idle pod.
    deps.metrics.wsConnections.set({ role: 'realtime' }, 0);
    deps.subscriber.on('message', (channel: string, payload: string) => this.onPublish(channel, payload));
    this.timers.push(setInterval(() => this.refreshPresence(), (PRESENCE_TTL_SECONDS * 1000) / 3).unref());
    this.timers.push(setInterval(() => this.heartbeat(), WS_HEARTBEAT_MS).unref());
  }

  get connections(): number {
    return this.count;
  }

  hasCapacity(): boolean {
    return this.count < this.deps.config.maxWsConnections;
  }

  private presenceKey(userId: string): string {
    return `${this.deps.config.redis.keyPrefix}presence:${userId}`;
  }

  async add(userId: string, socket: WebSocket): Promise<void> {
    this.count += 1;
    this.deps.metrics.wsConnections.set({ role: 'realtime' }, this.count);
    this.alive.add(socket);
    socket.on('pong', () => this.alive.add(socket));
    let set = this.sockets.get(userId);
    const first = !set;
    if (!set) {
      set = new Set();
      this.sockets.set(userId, set);
    }
    set.add(socket);
    socket.on('close', () => this.remove(userId, socket));
    if (first) await this.deps.subscriber.subscribe(this.channelPrefix + userId);
    this.markPresent([userId]);
  }

  private remove(userId: string, socket: WebSocket): void {
    const set = this.sockets.get(userId);
    if (!set || !set.delete(socket)) return;
    this.count -= 1;
    this.deps.metrics.wsConnections.set({ role: 'realtime' }, this.count);
    if (set.size === 0) {
      this.sockets.delete(userId);
      this.deps.subscriber.unsubscribe(this.channelPrefix + userId).catch(() => undefined);
      if (isRedisReady(this.deps.redis)) this.deps.redis.hdel(this.presenceKey(userId), this.podId).catch(() => undefined);
    }
  }

  private onPublish(channel: string, payload: string): void {
    if (!channel.startsWith(this.channelPrefix)) return;
    const userId = channel.slice(this.channelPrefix.length);
    const set = this.sockets.get(userId);
    if (!set) return;
    let event: RealtimeEvent;
    try {
      event = JSON.parse(payload) as RealtimeEvent;
    } catch {
      return;
    }
    const dedupeKey = `${userId}|${event.type}|${event.id}`;
    if (this.seen.has(dedupeKey)) return;
    this.seen.set(dedupeKey, true);
    if (this.seen.size > DEDUPE_ENTRIES) this.seen.delete(this.seen.keys().next().value as string);
    let delivered = false;
    for (const socket of set) {
      if (socket.readyState !== socket.OPEN) continue;
      if (socket.bufferedAmount > WS_MAX_BUFFERED_BYTES) {
        this.deps.metrics.wsDropped.inc({ reason: 'slow_consumer' });
        socket.close(1013, 'slow consumer: reconnect and sync');
        continue;
      }
      socket.send(payload);
      delivered = true;
    }
    if (delivered && typeof event.at === 'number') {
      this.deps.metrics.observeDelivery(event.type, Math.max(0, Date.now() - event.at));
    }
  }

  private markPresent(userIds: string[]): void {
    if (!isRedisReady(this.deps.redis) || userIds.length === 0) return;
    const now = String(Date.now());
    for (const id of userIds) {
      const key = this.presenceKey(id);
      this.deps.redis.hset(key, this.podId, now).catch(() => undefined);
      this.deps.redis.expire(key, PRESENCE_TTL_SECONDS).catch(() => undefined);
    }
  }

  private refreshPresence(): void {
    this.markPresent([...this.sockets.keys()]);
  }

  private heartbeat(): void {
    for (const set of this.sockets.values()) {
      for (const socket of set) {
        if (!this.alive.has(socket)) {
          this.deps.metrics.wsDropped.inc({ reason: 'heartbeat_timeout' });
          socket.terminate();
          continue;
        }
        this.alive.delete(socket);
        socket.ping();
      }
    }
  }

  /** Asks every client to reconnect elsewhere (1001 going away) and waits up to `ms` for them to close. */
  async drain(ms: number): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    const all = [...this.sockets.values()].flatMap((s) => [...s]);
    await Promise.all(
      all.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.readyState === socket.CLOSED) return resolve();
            const timer = setTimeout(() => {
              socket.terminate();
              resolve();
            }, ms);
            socket.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            socket.close(1001, 'server shutting down; reconnect');
          }),
      ),
    );
  }
}

/** Closes `socket` with 4401 once `expiresAt` (ms since the epoch) has passed; the timer goes when the socket closes. */
export function closeWhenTokenExpires(socket: WebSocket, expiresAt: number, onExpired: () => void): void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const wait = expiresAt - Date.now();
    if (wait > MAX_TIMER_MS) {
      timer = setTimeout(arm, MAX_TIMER_MS);
      return;
    }
    timer = setTimeout(() => {
      if (socket.readyState !== socket.OPEN) return;
      onExpired();
      socket.close(WS_TOKEN_EXPIRED_CODE, WS_TOKEN_EXPIRED_REASON);
    }, Math.max(0, wait));
  };
  arm();
  socket.once('close', () => clearTimeout(timer));
}

/** Picks the token from the offered subprotocols (`bearer.<jwt>`) or the Authorization header. */
export function wsToken(protocolHeader: string | undefined, authorization: string | undefined): string | undefined {
  for (const p of (protocolHeader ?? '').split(',').map((s) => s.trim())) {
    if (p.startsWith(WS_TOKEN_PROTOCOL_PREFIX)) return p.slice(WS_TOKEN_PROTOCOL_PREFIX.length);
  }
  return Authenticator.bearer(authorization);
}

export async function registerRealtime(app: FastifyInstance, deps: RealtimeDeps, hub: RealtimeHub, drainMs: () => number): Promise<void> {
  const auth = new Authenticator(deps.config.jwt!);
  await app.register(websocket, {
    options: {
      maxPayload: 4096,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
    },
    preClose: async () => {
      await hub.drain(drainMs());
    },
  });
  app.get(PATHS.websocket, {
    websocket: true,
    onRequest: async (req, reply) => {
      if (!hub.hasCapacity()) {
        deps.metrics.wsDropped.inc({ reason: 'pod_full' });
        return reply.status(503).header('retry-after', '1').send({ error: 'pod_full', message: `this pod holds ${deps.config.maxWsConnections} connections (MAX_WS_CONNECTIONS); retry` });
      }
      try {
        const principal = await auth.verify(wsToken(req.headers['sec-websocket-protocol'], req.headers.authorization));
        req.principal = principal;
      } catch (err) {
        const e = err instanceof AuthError ? err : new AuthError(401, 'token_invalid', 'token rejected');
        deps.metrics.wsDropped.inc({ reason: 'unauthenticated' });
        return reply.status(e.statusCode).send({ error: e.code, message: e.message });
      }
    },
  }, async (socket, req) => {
    const { userId, expiresAt } = req.principal!;
    socket.on('message', (data) => {
      // Clients only keep the connection warm; anything else is ignored.
      if (String(data) === 'ping') socket.send('pong');
    });
    closeWhenTokenExpires(socket, expiresAt, () => deps.metrics.wsDropped.inc({ reason: 'token_expired' }));
    deps.metrics.httpRequests.inc({ role: deps.config.role, route: PATHS.websocket, method: 'GET', status: '101' });
    await hub.add(userId, socket);
    socket.send(JSON.stringify({ type: 'ready', userId, pod: hub.podId }));
  });
}
