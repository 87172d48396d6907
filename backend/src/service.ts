/**
 * Assembles one role from its configuration and runs it until `shutdown()`.
 */
import type { Config } from './config';
import { createLogger, Logger } from './logger';
import { Metrics } from './metrics';
import { createLatencyExporter } from './otel-metrics';
import { createTracing } from './tracing';
import { Database } from './db';
import { createRedis, isRedisReady, quitRedis, RedisClient } from './redis';
import { Cache } from './cache';
import { createHttpServer, HttpServer, within } from './http';
import { registerApi } from './roles/api';
import { RealtimeHub, registerRealtime } from './roles/realtime';
import { ActivityConsumer, CacheWarmer, OutboxRelay, scheduleConsumerLag } from './roles/worker';
import { CachedQueries } from './queries';
import { Store } from './store';
import type { Consumer, KafkaPort, Publisher } from './kafka/port';
import { KafkaJsPort } from './kafka/kafkajs-adapter';
import { ACTIVITY_CONSUMER_GROUP, PATHS, TOPIC_NAMES } from './contract';

export interface ServiceOptions {
  /** Kafka implementation (worker); defaults to kafkajs against KAFKA_BROKERS. */
  readonly kafka?: KafkaPort;
  /** Logger; defaults to JSON on stdout at LOG_LEVEL. */
  readonly log?: Logger;
  /** Host to listen on. @default '0.0.0.0' */
  readonly host?: string;
}

export interface RunningService {
  readonly config: Config;
  readonly port: number;
  readonly http: HttpServer;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly hub?: RealtimeHub;
  readonly relay?: OutboxRelay;
  readonly consumer?: ActivityConsumer;
  readonly warmer?: CacheWarmer;
  /** Stops intake, fails /readyz, drains within SHUTDOWN_DRAIN_SECONDS and releases connections. Resolves true when the drain finished in time. */
  shutdown(reason?: string): Promise<boolean>;
}

export async function startService(config: Config, options: ServiceOptions = {}): Promise<RunningService> {
  const log = options.log ?? createLogger(config.logLevel, config.role);
  const otlp = createLatencyExporter(config.role, config.otel);
  const metrics = new Metrics(config.role, otlp);
  const tracing = createTracing(config);
  const closers: Array<() => Promise<unknown>> = [];

  const redis: RedisClient = createRedis(config.redis, log, { name: `${config.role}-cmd` });
  closers.push(() => quitRedis(redis));
  const cache = new Cache(redis, config.redis.keyPrefix, metrics, log);
  const db = config.database ? new Database(config.database, config.awsRegion, log, (pool, ms) => metrics.observeDbQuery(pool, ms), tracing.traceQuery) : undefined;
  if (db) closers.push(() => db.close());

  let hub: RealtimeHub | undefined;
  let relay: OutboxRelay | undefined;
  let consumer: ActivityConsumer | undefined;
  let warmer: CacheWarmer | undefined;
  let kafkaConsumer: Consumer | undefined;
  let publisher: Publisher | undefined;
  const stoppers: Array<() => Promise<unknown>> = [];

  const ready = async (): Promise<Record<string, 'ok' | 'degraded' | 'down'>> => {
    const checks: Record<string, 'ok' | 'degraded' | 'down'> = {};
    if (db) checks.database = await within(1_000, () => db.ping());
    const redisUp = isRedisReady(redis) ? await within(500, () => redis.ping()) : 'down';
    // The api and worker keep serving from the database without Redis; realtime cannot deliver without it.
    checks.redis = redisUp === 'ok' ? 'ok' : config.role === 'realtime' ? 'down' : 'degraded';
    // Kafka trouble shows as failing relay rounds; the worker keeps retrying (nothing is lost), so degraded, not down.
    if (relay) checks.kafka = relay.consecutiveFailures >= 3 ? 'degraded' : 'ok';
    return checks;
  };
  const http = createHttpServer(config, log, metrics, ready);
  tracing.instrumentHttp(http.app, new Set<string>([PATHS.liveness, PATHS.readiness, PATHS.metrics]));
  let drainDeadline = Date.now() + config.shutdownDrainSeconds * 1000;

  if (config.role === 'api') {
    registerApi(http.app, { config, log, db: db!, redis, cache, outboxTraceContext: tracing.outboxTraceContext });
  } else if (config.role === 'realtime') {
    const subscriber = createRedis(config.redis, log, { name: 'realtime-sub', subscriber: true });
    closers.push(() => quitRedis(subscriber));
    hub = new RealtimeHub({ config, log, metrics, redis, subscriber });
    const h = hub;
    await registerRealtime(http.app, { config, log, metrics, redis, subscriber }, h, () => Math.max(100, drainDeadline - Date.now() - 500));
  } else {
    const kafka = options.kafka ?? new KafkaJsPort(config.kafka!, config.awsRegion, log);
    const store = new Store(db!);
    const queries = new CachedQueries(cache, store, { feed: config.feedCacheTtlSeconds, query: config.queryCacheTtlSeconds });
    if (config.outboxRelay) {
      publisher = tracing.publisher(kafka.publisher());
      await publisher.connect();
      relay = new OutboxRelay(db!, publisher, metrics, log);
      relay.start();
    } else {
      // The outbox is global: the primary region's workers relay it to the Kafka the other regions replicate.
      log.info('outbox relay off (OUTBOX_RELAY=off): another region relays the outbox; consuming only');
    }
    consumer = new ActivityConsumer(db!, redis, cache, queries, config.redis.keyPrefix, metrics, log);
    kafkaConsumer = kafka.consumer({ groupId: ACTIVITY_CONSUMER_GROUP, topics: TOPIC_NAMES });
    await kafkaConsumer.run(tracing.handler(consumer.handle));
    warmer = new CacheWarmer(store, queries, redis, cache.key('warm-lock'), config.cacheWarmIntervalSeconds, config.cacheWarmUsers, metrics, log);
    warmer.start();
    const r = relay;
    // Outbox lag, pending rows and the purge belong to the relaying region (one measurement of the one table).
    const measure = r && setInterval(() => r.measure().catch(() => undefined), 5_000).unref();
    const purge = r && setInterval(() => r.purge().catch((err: Error) => log.warn({ err: err.message }, 'outbox purge failed')), 600_000).unref();
    const lag = scheduleConsumerLag(kafkaConsumer, metrics, log);
    const kc = kafkaConsumer;
    const pub = publisher;
    const w = warmer;
    stoppers.push(async () => {
      clearInterval(measure);
      clearInterval(purge);
      clearInterval(lag);
      await Promise.all([r?.stop(), kc.stop(), w.stop()]);
      await pub?.disconnect();
    });
  }

  await http.app.listen({ port: config.port, host: options.host ?? '0.0.0.0' });
  const address = http.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info({ port, role: config.role }, 'listening');

  let shutdownPromise: Promise<boolean> | undefined;
  const shutdown = (reason = 'shutdown'): Promise<boolean> => {
    shutdownPromise ??= (async () => {
      drainDeadline = Date.now() + config.shutdownDrainSeconds * 1000;
      http.draining = true;
      log.info({ reason, drainSeconds: config.shutdownDrainSeconds, delaySeconds: config.shutdownDelaySeconds }, 'draining');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), config.shutdownDrainSeconds * 1000)));
      const drain = (async () => {
        // Keep serving while load balancers notice the failing readiness, then stop intake.
        const delay = Math.min(config.shutdownDelaySeconds, Math.max(0, config.shutdownDrainSeconds - 2)) * 1000;
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        await Promise.all(stoppers.map((s) => s()));
        await http.app.close();
        return true as const;
      })();
      const inTime = await Promise.race([drain, deadline]);
      clearTimeout(timer);
      await Promise.all(closers.map((c) => c().catch(() => undefined)));
      // Last: push what the drain itself recorded. A collector that is down costs at most the export timeout.
      await Promise.all([
        otlp.shutdown().catch((err: Error) => log.warn({ err: err.message }, 'final OTLP metrics export failed')),
        tracing.shutdown().catch((err: Error) => log.warn({ err: err.message }, 'final OTLP trace export failed')),
      ]);
      log.info({ inTime }, inTime ? 'drained' : 'drain deadline reached; closing anyway');
      return inTime;
    })();
    return shutdownPromise;
  };

  return { config, port, http, metrics, log, hub, relay, consumer, warmer, shutdown };
}
