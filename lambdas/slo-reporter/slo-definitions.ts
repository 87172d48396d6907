/**
 * The ConnectHub service-level objectives as plain data, shared by the SLO reporter Lambda, the
 * `npm run slo-report` CLI and the CDK monitoring constructs (which import it; it imports nothing).
 *
 * Targets come from the scalability plan ("Key Performance Metrics" and "PERFORMANCE TARGETS"):
 * API < 200 ms, database query < 50 ms, message delivery < 500 ms, 99.9 % availability,
 * error rate < 0.1 %, FCP 1.5 s, LCP 2.5 s, CLS 0.1, FID 100 ms.
 */

/** CloudWatch namespace of the backend's own metrics (published by the ADOT collector's awsemf exporter). */
export const BACKEND_NAMESPACE = 'ConnectHub/Backend';
/** CloudWatch namespace the SLO reporter publishes attainment and error-budget metrics to. */
export const SLO_NAMESPACE = 'ConnectHub/SLO';
/** Namespace of the Kafka consumer-lag metric published by the streaming components. */
export const STREAMING_NAMESPACE = 'ConnectHub/Streaming';

/** Backend metric names (see docs/observability.md for how the collector maps Prometheus/OTel metrics to them). */
export const BACKEND_METRICS = {
  /** Histogram of HTTP request durations in milliseconds (from `http_request_duration_seconds`). */
  requestLatency: 'RequestLatency',
  /** Count of HTTP requests (from `http_requests_total`). */
  requests: 'Requests',
  /** Count of HTTP requests answered with a 5xx status (from `http_requests_total{status=~"5.."}`). */
  errors5xx: 'Errors5xx',
  /** Histogram of message delivery latency in milliseconds, send to delivery on the WebSocket. */
  messageDeliveryLatency: 'MessageDeliveryLatency',
  /** Histogram of database query durations in milliseconds. */
  dbQueryLatency: 'DbQueryLatency',
  /** Current replicas of a workload's HorizontalPodAutoscaler (from kube-state-metrics). */
  hpaCurrentReplicas: 'HpaCurrentReplicas',
  /** Desired replicas of a workload's HorizontalPodAutoscaler (from kube-state-metrics). */
  hpaDesiredReplicas: 'HpaDesiredReplicas',
} as const;

/** Dimension names on every backend metric. */
export const BACKEND_DIMENSIONS = { environment: 'Environment', service: 'Service' } as const;

/** Backend roles (`CONNECTHUB_ROLE`), used as the `Service` dimension value. */
export type BackendService = 'api' | 'realtime' | 'worker';

/** The plan's numeric targets. */
export const PLAN_TARGETS = {
  /** Availability SLA: 99.9 %. */
  availability: 0.999,
  /** Error rate must stay below 0.1 % (as a fraction). */
  errorRate: 0.001,
  /** API response time (p99) below 200 ms. */
  apiLatencyMs: 200,
  /** Database query time (p99) below 50 ms. */
  dbQueryLatencyMs: 50,
  /** Message delivery (p99) below 500 ms. */
  messageDeliveryMs: 500,
  /** Web: First Contentful Paint below 1.5 s. */
  firstContentfulPaintMs: 1500,
  /** Web: Largest Contentful Paint below 2.5 s. */
  largestContentfulPaintMs: 2500,
  /** Web: Cumulative Layout Shift below 0.1. */
  cumulativeLayoutShift: 0.1,
  /** Web: First Input Delay below 100 ms. */
  firstInputDelayMs: 100,
} as const;

/** How an SLI's good and total events are read from CloudWatch. */
export type SliDefinition =
  | {
      /** Request-based availability: good = total - errors. */
      readonly kind: 'availability';
      readonly service: BackendService;
      readonly totalMetric: string;
      readonly errorMetric: string;
    }
  | {
      /** Latency: good = requests at or under the threshold, read as the CloudWatch `TC(:threshold)` statistic. */
      readonly kind: 'latency';
      readonly service: BackendService;
      readonly latencyMetric: string;
      readonly thresholdMs: number;
    };

/** One service-level objective. */
export interface SloDefinition {
  /** Stable id, used as the `Slo` dimension of published metrics. */
  readonly id: string;
  /** Human-readable description. */
  readonly description: string;
  /** Objective as a fraction of good events (0.999 = 99.9 %). */
  readonly objective: number;
  readonly sli: SliDefinition;
}

/** The ConnectHub SLOs. Latency SLOs read "p99 under X" as "99 % of events at or under X". */
export const SLOS: readonly SloDefinition[] = [
  {
    id: 'api-availability',
    description: 'API requests answered without a 5xx (99.9 %)',
    objective: PLAN_TARGETS.availability,
    sli: { kind: 'availability', service: 'api', totalMetric: BACKEND_METRICS.requests, errorMetric: BACKEND_METRICS.errors5xx },
  },
  {
    id: 'api-latency',
    description: `API requests answered within ${PLAN_TARGETS.apiLatencyMs} ms (p99)`,
    objective: 0.99,
    sli: { kind: 'latency', service: 'api', latencyMetric: BACKEND_METRICS.requestLatency, thresholdMs: PLAN_TARGETS.apiLatencyMs },
  },
  {
    id: 'db-query-latency',
    description: `Database queries within ${PLAN_TARGETS.dbQueryLatencyMs} ms (p99)`,
    objective: 0.99,
    sli: { kind: 'latency', service: 'api', latencyMetric: BACKEND_METRICS.dbQueryLatency, thresholdMs: PLAN_TARGETS.dbQueryLatencyMs },
  },
  {
    id: 'message-delivery-latency',
    description: `Messages delivered within ${PLAN_TARGETS.messageDeliveryMs} ms (p99)`,
    objective: 0.99,
    sli: { kind: 'latency', service: 'realtime', latencyMetric: BACKEND_METRICS.messageDeliveryLatency, thresholdMs: PLAN_TARGETS.messageDeliveryMs },
  },
];

/** Environments and their regions (first = primary). The lead aligns these with lib/ config. */
export const ENVIRONMENT_REGIONS: Readonly<Record<string, readonly string[]>> = {
  dev: ['us-east-1'],
  staging: ['us-east-1', 'eu-west-1'],
  prod: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
};

/** Short-lived CI environments: `pr-<number>`, in the first region of `dev`. */
export const PR_ENVIRONMENT_PATTERN = /^pr-[1-9][0-9]*$/;

/** Regions of an environment, or an error message naming the allowed values. */
export function environmentRegions(env: string): { regions: readonly string[] } | { error: string } {
  const regions = ENVIRONMENT_REGIONS[env];
  if (regions) return { regions };
  if (PR_ENVIRONMENT_PATTERN.test(env)) return { regions: ENVIRONMENT_REGIONS.dev };
  return { error: `env "${env}" is not known; allowed: ${Object.keys(ENVIRONMENT_REGIONS).join(', ')} or pr-<number>` };
}

/** SLO windows the scheduled reporter publishes (the CLI takes any window with --window). */
export const DEFAULT_REPORT_WINDOWS = ['1h', '1d', '7d', '30d'] as const;

/** Longest window accepted: CloudWatch keeps 1-hour data points for 455 days. */
export const MAX_WINDOW_SECONDS = 455 * 86400;

/**
 * Parses a window like `90m`, `6h`, `7d` or `4w` into seconds; returns an error message for anything else.
 * Windows must be whole minutes, at least 5 minutes, and at most 455 days.
 */
export function parseWindow(text: string): { seconds: number } | { error: string } {
  const m = /^([1-9][0-9]*)(m|h|d|w)$/.exec(text.trim());
  if (!m) return { error: `window "${text}" is not valid; use a number followed by m, h, d or w (for example 30d, 6h, 90m)` };
  const unit = { m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  const seconds = Number(m[1]) * unit;
  if (seconds < 300) return { error: `window "${text}" is too short; the minimum is 5m` };
  if (seconds > MAX_WINDOW_SECONDS) return { error: `window "${text}" is too long; CloudWatch keeps hourly data for 455 days (maximum 455d)` };
  return { seconds };
}
