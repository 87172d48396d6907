/**
 * The per-unit figures every size is derived from, each with where it comes from. When a benchmark of ours measures
 * a figure (see `npm run bench:*`), the measured value replaces the assumption here and the source says so.
 */
export interface Figure {
  /** The number itself. */
  readonly value: number;
  /** Unit, for the README and audit report. */
  readonly unit: string;
  /** Where the number comes from. */
  readonly source: string;
}

export const PER_UNIT = {
  apiRequestsPerPod: {
    value: 400,
    unit: 'requests/s per api pod (1 vCPU) at the 70 % CPU target',
    source: '`npm run bench:api` rate sweep: one process serves the 80/10/10 mix at 1,000 req/s with p99 < 200 ms (700 at the 70 % CPU target); planned at 400 for the network round trips loopback hides',
  },
  realtimeConnectionsPerPod: {
    value: 5000,
    unit: 'concurrent WebSockets per realtime pod (1 vCPU, 1 GiB)',
    source: '`npm run bench:realtime`: ~40 KiB per socket (153 MiB per pod at 2,000), delivery p99 97-439 ms with 4,000 sockets over two instances',
  },
  workerEventsPerPod: {
    value: 1000,
    unit: 'Kafka events/s consumed per worker pod',
    source: 'planning figure for one kafkajs consumer doing a Redis and a PostgreSQL write per event',
  },
  headroom: {
    value: 1.5,
    unit: 'peak-to-average factor applied to every tier target',
    source: 'our choice: the HPA must reach the tier target with one third of capacity to spare (70 % CPU target)',
  },
  planMinReplicas: { value: 3, unit: 'pods', source: 'plan Step 5.4 (minReplicas: 3)' },
  planMaxReplicas: { value: 50, unit: 'pods', source: 'plan Step 5.4 (maxReplicas: 50)' },
  apiWriteFraction: {
    value: 0.1,
    unit: 'share of API requests that write (posts, likes, follows) and emit an activity event',
    source: 'planning figure for a social feed (reads dominate)',
  },
  cacheMissRatio: {
    value: 0.2,
    unit: 'share of API reads that miss Redis and reach PostgreSQL',
    source: 'planning figure for 5-min feed and 30-min profile/match TTLs (plan Step 5.2)',
  },
  queriesPerApiRequest: { value: 1, unit: 'SQL statements per API read that misses the cache', source: 'backend/README.md (per-request work table)' },
  readQueriesPerVcpu: {
    value: 1000,
    unit: 'indexed hot-path queries/s per Aurora vCPU',
    source: 'planning figure, conservative against `npm run bench:db` p50 (partition-pruned index scans, ~1 ms)',
  },
  writeTransactionsPerVcpu: {
    value: 1075,
    unit: 'write transactions/s per Aurora vCPU (a message: row, idempotency key, outbox row; a post likewise)',
    source: '`npm run bench:db-write`: pgbench of that transaction on the real schema, 16 clients, 2 vCPUs at load average 14 (2,149 tps); a lower bound',
  },
  redisOpsPerApiRequest: { value: 3, unit: 'Redis commands per API request', source: 'backend/README.md: 2 for a cached read, 3 for a miss' },
  redisOpsPerMessage: { value: 2, unit: 'Redis commands per message', source: 'backend/README.md (per-request work table)' },
  presenceOpsPerUser: { value: 0.1, unit: 'Redis commands/s per connected user', source: 'backend realtime: 2 presence commands every 20 s' },
  redisOpsPerShard: {
    value: 100000,
    unit: 'Redis commands/s per shard primary (cache.r7g.large)',
    source: 'planning figure well under published ElastiCache single-node results for GET/SET',
  },
  cacheBytesPerUser: {
    value: 64 * 1024,
    unit: 'bytes of Redis working set per concurrent user',
    source: 'feed page (50 posts x ~1 KiB) + profile + match suggestions + presence',
  },
  redisUsableMemoryShare: {
    value: 0.75,
    unit: 'share of node memory usable for data',
    source: 'ElastiCache default reserved-memory-percent 25',
  },
  eventBytes: { value: 1024, unit: 'bytes per Kafka event', source: 'planning figure (JSON activity/message envelope)' },
  deadLetterShare: {
    value: 0.01,
    unit: 'share of each topic\'s events that land in its dead-letter topic (broker storage)',
    source: 'planning figure: over the 14-day dead-letter retention it holds a whole topic dead-lettered for about 3 hours',
  },
  consumerFanOut: {
    value: 2,
    unit: 'consumer groups reading each event',
    source: 'worker plus cross-region replication (docs/cache-and-streaming.md)',
  },
  brokerNetworkShare: {
    value: 0.5,
    unit: 'share of broker baseline network bandwidth planned for use',
    source: 'our choice: room for one broker down and rebalancing',
  },
  eventsPerPartition: {
    value: 1000,
    unit: 'events/s one partition carries to one consumer',
    source: 'matches workerEventsPerPod: one partition is the unit of consumer parallelism',
  },
  messageRowBytes: {
    value: 420,
    unit: 'bytes per message row in Aurora: heap, primary key and both indexes (100-character body, UUID client key)',
    source: '`npm run bench:row-bytes` on the real schema: 401 B at 200,000 rows, 417 B at 20,000 (test/capacity/row-bytes.test.ts re-measures)',
  },
  postRowBytes: {
    value: 600,
    unit: 'bytes per post row: heap, primary key and author index (280 characters, one media key; the media itself is in S3)',
    source: '`npm run bench:row-bytes`: 583 B at 200,000 rows, 600 B at 20,000',
  },
  activityRowBytes: {
    value: 710,
    unit: 'bytes per activity row (the worker writes one per message, post, follow and match; a message\'s, with the message as JSON, is the largest)',
    source: '`npm run bench:row-bytes`: 687 B at 200,000 rows, 702 B at 20,000',
  },
  idempotencyRowBytes: {
    value: 230,
    unit: 'bytes per message idempotency guard (kept 30 days)',
    source: '`npm run bench:row-bytes`: 215 B at 200,000 rows, 222 B at 20,000',
  },
  outboxRowBytes: {
    value: 800,
    unit: 'bytes per outbox row (a message event; kept 7 days after it is published)',
    source: '`npm run bench:row-bytes`: 790 B at 200,000 rows, 793 B at 20,000',
  },
  userBytes: {
    value: 34000,
    unit: 'bytes per registered user: profile row, 200 follows and 25 match suggestions with their indexes',
    source: '`npm run bench:row-bytes`: 33,210 B at 2,000 users, 33,104 B at 1,000; follows dominate (~165 B each)',
  },
  registeredUsersPerConcurrentUser: {
    value: 10,
    unit: 'registered users per concurrent user (their rows stay in Aurora for good)',
    source: 'planning figure: about one registered user in ten is connected at the peak',
  },
  poolConnectionsPerPod: { value: 10, unit: 'database connections per backend pod pool', source: 'backend pg pool max' },
  planMaxConnections: { value: 1000, unit: 'connections', source: 'plan Step 5.5 (max_connections = 1000, PgBouncer with 1000)' },
} as const satisfies Record<string, Figure>;
