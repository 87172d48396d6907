/**
 * The backend runtime contract: the values the EKS/cdk8s chart and the backend agree on.
 *
 * Plain data with no imports, so the chart (and anything else) can import it without pulling in the
 * backend's dependencies. Changing a value here changes both sides at once.
 */

/** The roles one image can run as, chosen by {@link ENV.role}. */
export const ROLES = ['api', 'realtime', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/** HTTP port every role listens on unless `PORT` says otherwise (the worker serves only probes and metrics). */
export const DEFAULT_PORT = 8080;

/** Probe and endpoint paths. */
export const PATHS = {
  /** Liveness: answers 200 while the process runs; checks no dependency. */
  liveness: '/healthz',
  /** Readiness: checks the role's dependencies; 503 while draining. */
  readiness: '/readyz',
  /** Prometheus exposition format. */
  metrics: '/metrics',
  /** realtime's WebSocket endpoint. */
  websocket: '/ws',
  /** Prefix of every api route (`/v1/feed`, ...); CloudFront sends `<prefix>/*` to the api load balancer unchanged. */
  apiPrefix: '/v1',
} as const;

/** Seconds the service takes to drain after SIGTERM unless `SHUTDOWN_DRAIN_SECONDS` says otherwise. */
export const DEFAULT_SHUTDOWN_DRAIN_SECONDS = 20;

/**
 * Seconds the service keeps serving after SIGTERM with /readyz failing, so load balancers stop
 * sending new requests before the listener closes (`SHUTDOWN_DELAY_SECONDS`; part of the drain budget).
 * Distroless images have no `sleep` for a preStop hook, so the delay lives in the service.
 */
export const DEFAULT_SHUTDOWN_DELAY_SECONDS = 5;

/**
 * Suggested pod `terminationGracePeriodSeconds`: the drain plus a margin for the pre-stop delay
 * (endpoint removal) and process exit.
 */
export const TERMINATION_GRACE_SECONDS = DEFAULT_SHUTDOWN_DRAIN_SECONDS + 10;

/** Default cache TTLs (plan Step 5.2: feeds 5 minutes, profile and match queries 30 minutes). */
export const DEFAULT_FEED_CACHE_TTL_SECONDS = 300;
export const DEFAULT_QUERY_CACHE_TTL_SECONDS = 1800;

/** Environment variable names the service reads. */
export const ENV = {
  role: 'CONNECTHUB_ROLE',
  port: 'PORT',
  shutdownDrainSeconds: 'SHUTDOWN_DRAIN_SECONDS',
  shutdownDelaySeconds: 'SHUTDOWN_DELAY_SECONDS',
  databaseWriterHost: 'DATABASE_WRITER_HOST',
  databaseReaderHost: 'DATABASE_READER_HOST',
  databasePort: 'DATABASE_PORT',
  databaseName: 'DATABASE_NAME',
  databaseUser: 'DATABASE_USER',
  databaseAuth: 'DATABASE_AUTH',
  databasePasswordFile: 'DATABASE_PASSWORD_FILE',
  databaseSsl: 'DATABASE_SSL',
  databaseCaFile: 'DATABASE_CA_FILE',
  databasePoolMax: 'DATABASE_POOL_MAX',
  redisEndpoint: 'REDIS_ENDPOINT',
  redisCluster: 'REDIS_CLUSTER',
  redisTls: 'REDIS_TLS',
  redisUsername: 'REDIS_USERNAME',
  redisPasswordFile: 'REDIS_PASSWORD_FILE',
  redisKeyPrefix: 'REDIS_KEY_PREFIX',
  redisCommandTimeoutMs: 'REDIS_COMMAND_TIMEOUT_MS',
  kafkaBrokers: 'KAFKA_BROKERS',
  kafkaAuth: 'KAFKA_AUTH',
  kafkaTls: 'KAFKA_TLS',
  outboxRelay: 'OUTBOX_RELAY',
  jwtIssuer: 'JWT_ISSUER',
  jwtAudience: 'JWT_AUDIENCE',
  jwtJwksUrl: 'JWT_JWKS_URL',
  feedCacheTtlSeconds: 'FEED_CACHE_TTL_SECONDS',
  queryCacheTtlSeconds: 'QUERY_CACHE_TTL_SECONDS',
  maxWsConnections: 'MAX_WS_CONNECTIONS',
  rateLimitPerMinute: 'RATE_LIMIT_PER_MINUTE',
  cacheWarmIntervalSeconds: 'CACHE_WARM_INTERVAL_SECONDS',
  cacheWarmUsers: 'CACHE_WARM_USERS',
  awsRegion: 'AWS_REGION',
  homeRegion: 'HOME_REGION',
  logLevel: 'LOG_LEVEL',
  otelEndpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  otelExportInterval: 'OTEL_METRIC_EXPORT_INTERVAL',
  otelTemporality: 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
  otelServiceName: 'OTEL_SERVICE_NAME',
  otelResourceAttributes: 'OTEL_RESOURCE_ATTRIBUTES',
} as const;

/**
 * `OUTBOX_RELAY` (worker): `on` relays the outbox to this region's Kafka; `off` only consumes. The outbox is one
 * table of the global database, so exactly one region (the primary, whose Kafka the others replicate) relays it.
 */
export const OUTBOX_RELAY_MODES = ['on', 'off'] as const;
export type OutboxRelayMode = (typeof OUTBOX_RELAY_MODES)[number];

/** Home regions a user row can belong to (the `users` table is LIST-partitioned on it). */
export const HOME_REGIONS = ['us', 'eu', 'ap'] as const;

/** Kafka topics; each has a dead-letter topic named `<topic>.dlq`. */
export const TOPICS = {
  userActivity: 'user-activity',
  feedUpdates: 'feed-updates',
  messages: 'messages',
  matchNotifications: 'match-notifications',
} as const;
export const TOPIC_NAMES = Object.values(TOPICS);
export const DLQ_SUFFIX = '.dlq';
/** `user-activity` → `user-activity.dlq`. */
export function dlqTopic(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

/** Worker consumer group ids start with this prefix (IAM policies and lag alarms match on it). */
export const CONSUMER_GROUP_PREFIX = 'connecthub-worker-';
/** The worker's consumer group for activity (feeds, caches, notifications). */
export const ACTIVITY_CONSUMER_GROUP = `${CONSUMER_GROUP_PREFIX}activity`;

/**
 * Prometheus metric names the HPA (through the adapter) and the alarms use.
 * Labels: http metrics carry `role`, `route`, `method`, `status`.
 */
export const METRICS = {
  httpRequestsTotal: 'http_requests_total',
  httpRequestDurationSeconds: 'http_request_duration_seconds',
  wsConnections: 'ws_connections',
  messageDeliveryLatencySeconds: 'message_delivery_latency_seconds',
  outboxLagSeconds: 'outbox_lag_seconds',
  outboxPending: 'outbox_pending',
  kafkaConsumerLag: 'kafka_consumer_lag',
  cacheRequestsTotal: 'cache_requests_total',
  dbQueryDurationSeconds: 'db_query_duration_seconds',
} as const;

/**
 * OpenTelemetry histograms (milliseconds, exponential) pushed over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT`
 * is set; the collector renames them to the CloudWatch metrics the latency alarms and SLOs read.
 * Attributes: http `role`, `route`, `method`, `status`; delivery `role`, `kind`; db `role`, `pool`.
 */
export const OTEL_INSTRUMENTS = {
  httpServerDuration: 'connecthub.http.server.duration',
  messageDeliveryDuration: 'connecthub.message.delivery.duration',
  dbQueryDuration: 'connecthub.db.query.duration',
} as const;

/** WebSocket subprotocol the realtime role speaks; the token travels as a second offered protocol `bearer.<jwt>`. */
export const WS_SUBPROTOCOL = 'connecthub.v1';
export const WS_TOKEN_PROTOCOL_PREFIX = 'bearer.';

/**
 * Files the Docker build needs from the repository root (the build context). Everything else is
 * excluded; pass `DOCKER_CONTEXT_EXCLUDE` as the image asset's `exclude` with `ignoreMode: DOCKER`.
 */
export const DOCKERFILE_PATH = 'backend/Dockerfile';
export const DOCKER_CONTEXT_EXCLUDE = [
  '**',
  '!package.json',
  '!package-lock.json',
  '!backend/package.json',
  '!backend/build.js',
  '!backend/src/**',
] as const;
