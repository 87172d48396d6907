import { Duration } from 'aws-cdk-lib';
import { PLAN_TARGETS } from '../../lambdas/slo-reporter/slo-definitions';

/** Latency, error and availability targets the alarms use. Defaults are the plan's numbers. */
export interface ServiceTargets {
  /** Availability objective (fraction). @default 0.999 */
  readonly availability?: number;
  /** Highest acceptable 5xx error rate, in percent. @default 0.1 */
  readonly errorRatePercent?: number;
  /** API p99 latency limit. @default 200 ms */
  readonly apiLatencyP99?: Duration;
  /** Database query p99 latency limit. @default 50 ms */
  readonly dbQueryLatencyP99?: Duration;
  /** Message delivery p99 latency limit. @default 500 ms */
  readonly messageDeliveryP99?: Duration;
}

/** Saturation thresholds; each defaults to a stated reason (see docs/observability.md). */
export interface SaturationThresholds {
  /** CPU of database, cache and Kubernetes nodes, percent. @default 80 */
  readonly cpuPercent?: number;
  /** Memory of Kubernetes nodes and Redis nodes, percent. @default 80 */
  readonly memoryPercent?: number;
  /** Database connections as a share of the maximum (Aurora and RDS Proxy), percent. @default 80 */
  readonly connectionsPercent?: number;
  /** Aurora in-region replica lag. @default 1 second */
  readonly auroraReplicaLag?: Duration;
  /** Aurora global database replication lag (secondary regions). @default 1 second */
  readonly auroraGlobalReplicationLag?: Duration;
  /** Redis evicted keys per 5 minutes per node. @default 100 */
  readonly redisEvictionsPer5Minutes?: number;
  /** Redis replica replication lag. @default 1 second */
  readonly redisReplicationLag?: Duration;
  /** Kafka broker CPU (user + system), percent; AWS advises staying below 60 %. @default 60 */
  readonly kafkaCpuPercent?: number;
  /** Kafka broker data disk used, percent. @default 85 */
  readonly kafkaDiskPercent?: number;
  /**
   * Consumer lag (messages) per consumer group.
   * @default 5000 - the plan's queue-length autoscaling signal (100 pending per pod) times its 50-pod maximum:
   * beyond it the worker HPA cannot keep up.
   */
  readonly consumerLag?: number;
}

/** A multi-window burn-rate pair (Google SRE workbook): alarm when both windows burn faster than `burnRate`. */
export interface BurnRateWindow {
  /** Name used in alarm names, for example `Fast`. */
  readonly name: string;
  /** Long window, for example 1 hour. At most 1 day (CloudWatch alarm period limit). */
  readonly longWindow: Duration;
  /** Short window (confirms the burn is still going on), for example 5 minutes. */
  readonly shortWindow: Duration;
  /** Burn-rate factor: 14.4 spends 2 % of a 30-day budget in one hour. */
  readonly burnRate: number;
}

export const DEFAULT_BURN_RATE_WINDOWS: readonly BurnRateWindow[] = [
  { name: 'Fast', longWindow: Duration.hours(1), shortWindow: Duration.minutes(5), burnRate: 14.4 },
  { name: 'Slow', longWindow: Duration.hours(6), shortWindow: Duration.minutes(30), burnRate: 6 },
];

export interface ResolvedTargets {
  readonly availability: number;
  readonly errorRatePercent: number;
  readonly apiLatencyP99Ms: number;
  readonly dbQueryLatencyP99Ms: number;
  readonly messageDeliveryP99Ms: number;
}

export function resolveTargets(t: ServiceTargets = {}): ResolvedTargets {
  return {
    availability: t.availability ?? PLAN_TARGETS.availability,
    errorRatePercent: t.errorRatePercent ?? PLAN_TARGETS.errorRate * 100,
    apiLatencyP99Ms: t.apiLatencyP99?.toMilliseconds() ?? PLAN_TARGETS.apiLatencyMs,
    dbQueryLatencyP99Ms: t.dbQueryLatencyP99?.toMilliseconds() ?? PLAN_TARGETS.dbQueryLatencyMs,
    messageDeliveryP99Ms: t.messageDeliveryP99?.toMilliseconds() ?? PLAN_TARGETS.messageDeliveryMs,
  };
}

export interface ResolvedThresholds {
  readonly cpuPercent: number;
  readonly memoryPercent: number;
  readonly connectionsPercent: number;
  readonly auroraReplicaLagMs: number;
  readonly auroraGlobalReplicationLagMs: number;
  readonly redisEvictionsPer5Minutes: number;
  readonly redisReplicationLagSeconds: number;
  readonly kafkaCpuPercent: number;
  readonly kafkaDiskPercent: number;
  readonly consumerLag: number;
}

export function resolveThresholds(t: SaturationThresholds = {}): ResolvedThresholds {
  return {
    cpuPercent: t.cpuPercent ?? 80,
    memoryPercent: t.memoryPercent ?? 80,
    connectionsPercent: t.connectionsPercent ?? 80,
    auroraReplicaLagMs: t.auroraReplicaLag?.toMilliseconds() ?? 1000,
    auroraGlobalReplicationLagMs: t.auroraGlobalReplicationLag?.toMilliseconds() ?? 1000,
    redisEvictionsPer5Minutes: t.redisEvictionsPer5Minutes ?? 100,
    redisReplicationLagSeconds: t.redisReplicationLag ? t.redisReplicationLag.toMilliseconds() / 1000 : 1,
    kafkaCpuPercent: t.kafkaCpuPercent ?? 60,
    kafkaDiskPercent: t.kafkaDiskPercent ?? 85,
    consumerLag: t.consumerLag ?? 100 * 50,
  };
}
