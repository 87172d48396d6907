/**
 * Prometheus metrics. Each running service owns its registry (two services in one process, as the
 * tests run them, do not share counters). The three latency measurements also go to the OTLP
 * exporter ({@link LatencyExporter}, a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT is set): record them
 * through {@link Metrics.observeHttp}, {@link Metrics.observeDelivery} and {@link Metrics.observeDbQuery}.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { METRICS, Role } from './contract';
import type { HttpAttributes, LatencyExporter } from './otel-metrics';

const NO_EXPORT: LatencyExporter = {
  enabled: false,
  httpServerDuration: () => undefined,
  messageDeliveryDuration: () => undefined,
  dbQueryDuration: () => undefined,
  shutdown: async () => undefined,
};

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'role' | 'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'role' | 'route' | 'method' | 'status'>;
  readonly wsConnections: Gauge<'role'>;
  readonly wsDropped: Counter<'reason'>;
  readonly deliveryLatency: Histogram<'kind'>;
  readonly outboxLag: Gauge;
  readonly outboxPending: Gauge;
  readonly outboxPublished: Counter;
  readonly outboxPublishFailures: Counter;
  readonly outboxTraceContextInvalid: Counter;
  readonly consumerLag: Gauge<'topic'>;
  readonly eventsConsumed: Counter<'topic' | 'outcome'>;
  readonly cacheRequests: Counter<'cache' | 'result'>;
  readonly cacheWarmed: Counter<'cache'>;
  readonly dbQueryDuration: Histogram<'pool'>;

  constructor(
    readonly role: Role,
    /** Where the latency measurements are pushed as OTLP exponential histograms (ms). */
    readonly otlp: LatencyExporter = NO_EXPORT,
  ) {
    const registers = [this.registry];
    // Role-specific series are registered only where they mean something (no always-zero gauges).
    const only = (...roles: Role[]) => (roles.includes(role) ? registers : []);
    this.registry.setDefaultLabels({ role });
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: METRICS.httpRequestsTotal,
      help: 'HTTP requests answered, by route template, method and status code',
      labelNames: ['role', 'route', 'method', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: METRICS.httpRequestDurationSeconds,
      help: 'HTTP request duration in seconds (the API objective is < 200 ms)',
      labelNames: ['role', 'route', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5],
      registers,
    });
    this.wsConnections = new Gauge({ name: METRICS.wsConnections, help: 'Open WebSocket connections on this pod', labelNames: ['role'], registers: only('realtime') });
    this.wsDropped = new Counter({
      name: 'ws_dropped_total',
      help: 'WebSocket connections refused or closed by the server, by reason',
      labelNames: ['reason'],
      registers: only('realtime'),
    });
    this.deliveryLatency = new Histogram({
      name: METRICS.messageDeliveryLatencySeconds,
      help: 'Seconds from an event being committed to it being written to the recipient socket (objective < 0.5 s)',
      labelNames: ['kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: only('realtime'),
    });
    this.outboxLag = new Gauge({ name: METRICS.outboxLagSeconds, help: 'Age in seconds of the oldest unpublished outbox row (0 when empty)', registers: only('worker') });
    this.outboxPending = new Gauge({ name: METRICS.outboxPending, help: 'Unpublished outbox rows (queue length for autoscaling)', registers: only('worker') });
    this.outboxPublished = new Counter({ name: 'outbox_published_total', help: 'Outbox rows published to Kafka and acknowledged', registers: only('worker') });
    this.outboxPublishFailures = new Counter({ name: 'outbox_publish_failures_total', help: 'Outbox batches whose publish failed (retried later)', registers: only('worker') });
    this.outboxTraceContextInvalid = new Counter({
      name: 'outbox_trace_context_invalid_total',
      help: 'Outbox rows published whose stored trace_context was malformed and ignored (published without continuing it)',
      registers: only('worker'),
    });
    this.consumerLag = new Gauge({ name: METRICS.kafkaConsumerLag, help: 'Messages not yet consumed by the worker group, per topic', labelNames: ['topic'], registers: only('worker') });
    this.eventsConsumed = new Counter({
      name: 'events_consumed_total',
      help: 'Kafka events handled by the worker, by topic and outcome (ok | skipped: not a ConnectHub event)',
      labelNames: ['topic', 'outcome'],
      registers: only('worker'),
    });
    this.cacheRequests = new Counter({
      name: METRICS.cacheRequestsTotal,
      help: 'Cache lookups by cache and result (hit | miss | error: Redis unavailable, served from the database)',
      labelNames: ['cache', 'result'],
      registers: only('api', 'worker'),
    });
    this.cacheWarmed = new Counter({ name: 'cache_warmed_total', help: 'Cache entries written by the warmer', labelNames: ['cache'], registers: only('worker') });
    this.dbQueryDuration = new Histogram({
      name: METRICS.dbQueryDurationSeconds,
      help: 'PostgreSQL statement round trip in seconds, by pool (writer | reader); the objective is < 0.05 s',
      labelNames: ['pool'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: only('api', 'worker'),
    });
  }

  /** One answered HTTP request (not probes): Prometheus histogram in seconds, OTLP in ms. */
  observeHttp(labels: HttpAttributes, ms: number): void {
    this.httpDuration.observe(labels, ms / 1000);
    this.otlp.httpServerDuration(ms, labels);
  }

  /** One event written to a recipient socket, `ms` after it was committed. */
  observeDelivery(kind: string, ms: number): void {
    this.deliveryLatency.observe({ kind }, ms / 1000);
    this.otlp.messageDeliveryDuration(ms, { role: this.role, kind });
  }

  /** One PostgreSQL statement (success or failure) on the writer or reader pool. */
  observeDbQuery(pool: 'writer' | 'reader', ms: number): void {
    this.dbQueryDuration.observe({ pool }, ms / 1000);
    this.otlp.dbQueryDuration(ms, { role: this.role, pool });
  }
}
