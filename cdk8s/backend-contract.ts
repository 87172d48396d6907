/**
 * The backend runtime contract as the chart uses it, read from the backend's own plain-data module
 * (`backend/src/contract.ts`), so a change there changes the manifests too.
 */
import {
  ACTIVITY_CONSUMER_GROUP,
  CONSUMER_GROUP_PREFIX,
  DEFAULT_FEED_CACHE_TTL_SECONDS,
  DEFAULT_PORT,
  DEFAULT_QUERY_CACHE_TTL_SECONDS,
  DEFAULT_SHUTDOWN_DRAIN_SECONDS,
  ENV,
  METRICS,
  PATHS,
  ROLES,
  TOPICS,
} from '../backend/src/contract';

export const BACKEND_CONTRACT = {
  roles: ROLES,
  defaultPort: DEFAULT_PORT,
  paths: PATHS,
  defaultDrainSeconds: DEFAULT_SHUTDOWN_DRAIN_SECONDS,
  feedCacheTtlSeconds: DEFAULT_FEED_CACHE_TTL_SECONDS,
  queryCacheTtlSeconds: DEFAULT_QUERY_CACHE_TTL_SECONDS,
  env: ENV,
  metrics: METRICS,
  topics: TOPICS,
  consumerGroupPrefix: CONSUMER_GROUP_PREFIX,
  activityConsumerGroup: ACTIVITY_CONSUMER_GROUP,
} as const;
