import { Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  AlarmWithAnnotation,
  CompositeAlarmOperator,
  CustomMetricGroup,
  DefaultDashboardFactory,
  ElastiCacheClusterType,
  MonitoringFacade,
  SnsAlarmActionStrategy,
  type CustomThreshold,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import {
  BACKEND_DIMENSIONS,
  BACKEND_METRICS,
  BACKEND_NAMESPACE,
  PR_ENVIRONMENT_PATTERN,
  SLO_NAMESPACE,
  SLOS,
  STREAMING_NAMESPACE,
  type BackendService,
} from '../../lambdas/slo-reporter/slo-definitions';
import { AlertTopic, validateAlertSubscriptions, type AlertSubscriptions } from './alert-topic';
import {
  DEFAULT_BURN_RATE_WINDOWS,
  resolveTargets,
  resolveThresholds,
  type BurnRateWindow,
  type ResolvedTargets,
  type ResolvedThresholds,
  type SaturationThresholds,
  type ServiceTargets,
} from './monitoring-defaults';

/** The regional load balancer in front of the backend (created by the platform stack). */
export interface LoadBalancerToMonitor {
  /** `network` (TCP/TLS, WebSockets pass through) or `application` (HTTP metrics: latency and 5xx). */
  readonly kind: 'network' | 'application';
  /** ARN of the load balancer. */
  readonly loadBalancerArn: string;
  /**
   * ARN of the target group of the backend pods. Required for `application`. For `network` without it (the target
   * group belongs to the Kubernetes load balancer controller and is published nowhere), target health is read with a
   * Metrics Insights query over every target group of the load balancer.
   * @default - none (network only)
   */
  readonly targetGroupArn?: string;
  /**
   * Name shown in titles and part of alarm names (`Nlb<Name>-...`), e.g. `api`; required when several load balancers
   * are watched. @default - none (alarm names `Nlb-...` / `Alb-...`)
   */
  readonly name?: string;
}

/** The CloudFront distribution (its metrics live in us-east-1 with the dimension Region=Global). */
export interface CloudFrontToMonitor {
  readonly distributionId: string;
  /**
   * Create CloudFront alarms (CloudWatch cannot alarm across regions, so only a stack in us-east-1 can).
   * @default - true when this stack is in us-east-1
   */
  readonly alarms?: boolean;
}

export interface AuroraToMonitor {
  /** DB cluster identifier of this region's cluster (writer cluster in the primary, secondary elsewhere). */
  readonly clusterIdentifier: string;
  /** The cluster's `max_connections`. @default 1000 (the plan's pool size) */
  readonly maxConnections?: number;
  /** True in secondary regions of the global database: alarms on AuroraGlobalDBReplicationLag. @default false */
  readonly globalSecondary?: boolean;
  /** Name of the RDS Proxy in this region. @default - no proxy widgets or alarms */
  readonly proxyName?: string;
}

export interface RedisToMonitor {
  /** Replication group id (shown in titles). */
  readonly replicationGroupId: string;
  /** Cache cluster (node) ids to watch; see {@link redisNodeClusterIds}. */
  readonly nodeClusterIds: readonly string[];
}

export interface KafkaToMonitor {
  /** MSK cluster name (the `Cluster Name` dimension). */
  readonly clusterName: string;
  /** Number of brokers; broker ids are 1..brokerCount. */
  readonly brokerCount: number;
  /** Consumer groups whose lag (ConnectHub/Streaming ConsumerLag) is watched. */
  readonly consumerGroups: readonly string[];
}

export interface WorkloadToMonitor {
  /** Backend role (`CONNECTHUB_ROLE`), the `Service` dimension of backend metrics. */
  readonly service: BackendService;
  /** The HPA's maxReplicas: staying there means the workload cannot scale further. */
  readonly maxReplicas: number;
}

export interface EksToMonitor {
  readonly clusterName: string;
  /** Kubernetes namespace of the backend workloads. */
  readonly namespace: string;
  readonly workloads: readonly WorkloadToMonitor[];
}

export interface ConnectHubMonitoringProps {
  /** Environment name (dev, staging, prod or pr-<n>); the `Environment` dimension of backend metrics. */
  readonly environmentName: string;
  /** Alarm notification targets for the topic this construct creates. @default - no subscriptions */
  readonly subscriptions?: AlertSubscriptions;
  /** Send alarms to this topic instead of creating one (then `subscriptions` must be empty). @default - a new KMS-encrypted topic */
  readonly alertTopic?: sns.ITopic;
  /** Latency/error/availability targets. @default - the plan's targets */
  readonly targets?: ServiceTargets;
  /** Saturation thresholds. @default - see SaturationThresholds */
  readonly thresholds?: SaturationThresholds;
  /** Burn-rate window pairs for the availability SLO. @default - 1h/5m at 14.4x and 6h/30m at 6x */
  readonly burnRateWindows?: readonly BurnRateWindow[];
  /** Fewest API requests in 5 minutes for the error-rate alarm to judge (avoids 1-of-3 alarms at night). @default 100 */
  readonly minRequestsForErrorRate?: number;
  /** Alarm when the API publishes no request metrics for 15 minutes (use where traffic never stops). @default false */
  readonly alarmOnMissingTraffic?: boolean;
  /**
   * What happens to the alert topic's KMS key when the stack is deleted (DESTROY for short-lived pr-N environments).
   * @default RemovalPolicy.RETAIN
   */
  readonly alertKeyRemovalPolicy?: RemovalPolicy;
  /** @default - no load balancer section */
  readonly loadBalancer?: LoadBalancerToMonitor;
  /** Further load balancers, one section each (every one of them, and `loadBalancer`, then needs a distinct `name`). @default - none */
  readonly loadBalancers?: readonly LoadBalancerToMonitor[];
  /** @default - no CloudFront section */
  readonly cloudFront?: CloudFrontToMonitor;
  /** @default - no Aurora section */
  readonly aurora?: AuroraToMonitor;
  /** @default - no Redis section */
  readonly redis?: RedisToMonitor;
  /** @default - no Kafka section */
  readonly kafka?: KafkaToMonitor;
  /** @default - no EKS section */
  readonly eks?: EksToMonitor;
  /**
   * Lambda functions to watch (faults, throttles, duration), keyed by a name used in alarm names,
   * for example `{ SloReporter: reporter.function }`. @default - none
   */
  readonly functions?: Readonly<Record<string, lambda.IFunction>>;
}

const ENV_NAME = /^(dev|staging|prod)$/;

/**
 * Cache cluster (node) ids of an ElastiCache replication group: `<id>-<shard 4 digits>-<node 3 digits>`
 * with cluster mode enabled, `<id>-<node 3 digits>` without.
 */
export function redisNodeClusterIds(replicationGroupId: string, shards: number, replicasPerShard: number, clusterMode: boolean): string[] {
  const ids: string[] = [];
  const nodes = replicasPerShard + 1;
  for (let s = 1; s <= (clusterMode ? shards : 1); s++) {
    for (let n = 1; n <= nodes; n++) {
      const node = String(n).padStart(3, '0');
      ids.push(clusterMode ? `${replicationGroupId}-${String(s).padStart(4, '0')}-${node}` : `${replicationGroupId}-${node}`);
    }
  }
  return ids;
}

/** Every problem with the props, each naming the field, value and what is allowed. */
export function validateMonitoringProps(props: ConnectHubMonitoringProps): string[] {
  const p: string[] = [];
  const positiveInt = (field: string, v: number | undefined, min = 1) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) p.push(`${field} ${v} must be an integer >= ${min}`);
  };
  const nonEmpty = (field: string, v: string | undefined) => {
    if (v !== undefined && !Token.isUnresolved(v) && v.trim() === '') p.push(`${field} must not be empty`);
  };
  if (!ENV_NAME.test(props.environmentName) && !PR_ENVIRONMENT_PATTERN.test(props.environmentName)) {
    p.push(`environmentName "${props.environmentName}" is not allowed; use dev, staging, prod or pr-<number>`);
  }
  p.push(...validateAlertSubscriptions(props.subscriptions));
  const subCount = (props.subscriptions?.emails?.length ?? 0) + (props.subscriptions?.httpsUrls?.length ?? 0) + (props.subscriptions?.sqsQueueArns?.length ?? 0);
  if (props.alertTopic && subCount > 0) p.push('subscriptions must be empty when alertTopic is given (subscribe to that topic where it is created)');
  const t = resolveTargets(props.targets);
  if (!(t.availability > 0 && t.availability < 1)) p.push(`targets.availability ${t.availability} must be between 0 and 1 (exclusive), for example 0.999`);
  if (!(t.errorRatePercent > 0 && t.errorRatePercent < 100)) p.push(`targets.errorRatePercent ${t.errorRatePercent} must be between 0 and 100`);
  for (const [k, v] of [['apiLatencyP99', t.apiLatencyP99Ms], ['dbQueryLatencyP99', t.dbQueryLatencyP99Ms], ['messageDeliveryP99', t.messageDeliveryP99Ms]] as const) {
    if (!(v > 0)) p.push(`targets.${k} ${v} ms must be positive`);
  }
  const th = resolveThresholds(props.thresholds);
  for (const k of ['cpuPercent', 'memoryPercent', 'connectionsPercent', 'kafkaCpuPercent', 'kafkaDiskPercent'] as const) {
    if (!(th[k] > 0 && th[k] <= 100)) p.push(`thresholds.${k} ${th[k]} must be a percentage in (0, 100]`);
  }
  positiveInt('thresholds.consumerLag', props.thresholds?.consumerLag);
  positiveInt('thresholds.redisEvictionsPer5Minutes', props.thresholds?.redisEvictionsPer5Minutes, 0);
  const windows = props.burnRateWindows ?? DEFAULT_BURN_RATE_WINDOWS;
  if (windows.length === 0) p.push('burnRateWindows must list at least one window pair');
  const names = new Set<string>();
  windows.forEach((w, i) => {
    const f = `burnRateWindows[${i}]`;
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(w.name)) p.push(`${f}.name "${w.name}" must be letters and digits, starting with a letter`);
    if (names.has(w.name)) p.push(`${f}.name "${w.name}" is used twice`);
    names.add(w.name);
    const long = w.longWindow.toSeconds();
    const short = w.shortWindow.toSeconds();
    for (const [k, s] of [['longWindow', long], ['shortWindow', short]] as const) {
      if (s % 60 !== 0 || s < 60 || s > 86400) p.push(`${f}.${k} ${s}s must be whole minutes between 1 minute and 1 day`);
    }
    if (short >= long) p.push(`${f}.shortWindow (${short}s) must be shorter than longWindow (${long}s)`);
    if (!(w.burnRate > 0 && w.burnRate * (1 - t.availability) <= 1)) p.push(`${f}.burnRate ${w.burnRate} must be positive and at most 1/(1 - availability)`);
  });
  positiveInt('minRequestsForErrorRate', props.minRequestsForErrorRate);
  for (const name of Object.keys(props.functions ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) p.push(`functions key "${name}" must be letters and digits, starting with a letter (it becomes part of alarm names)`);
  }
  const lbs = allLoadBalancers(props);
  const lbNames = new Set<string>();
  for (const [field, lb] of lbs) {
    nonEmpty(`${field}.loadBalancerArn`, lb.loadBalancerArn);
    if (lb.kind === 'application' && lb.targetGroupArn === undefined) {
      p.push(`${field}.targetGroupArn is required when ${field}.kind is application (its target health and 5xx alarms need it)`);
    }
    if (lb.name !== undefined && !/^[a-z][a-z0-9-]*$/.test(lb.name)) {
      p.push(`${field}.name "${lb.name}" must be lower-case letters, digits and dashes, starting with a letter`);
    }
    if (lbs.length > 1 && lb.name === undefined) p.push(`${field}.name is required when several load balancers are watched (it keeps their alarm names apart)`);
    if (lb.name !== undefined && lbNames.has(lb.name)) p.push(`${field}.name "${lb.name}" is used twice`);
    if (lb.name !== undefined) lbNames.add(lb.name);
  }
  if (props.cloudFront) nonEmpty('cloudFront.distributionId', props.cloudFront.distributionId);
  if (props.aurora) {
    nonEmpty('aurora.clusterIdentifier', props.aurora.clusterIdentifier);
    positiveInt('aurora.maxConnections', props.aurora.maxConnections);
    if (props.aurora.proxyName !== undefined) nonEmpty('aurora.proxyName', props.aurora.proxyName);
  }
  if (props.redis) {
    nonEmpty('redis.replicationGroupId', props.redis.replicationGroupId);
    if (props.redis.nodeClusterIds.length === 0) p.push('redis.nodeClusterIds must list at least one node (see redisNodeClusterIds)');
    props.redis.nodeClusterIds.forEach((id, i) => nonEmpty(`redis.nodeClusterIds[${i}]`, id));
  }
  if (props.kafka) {
    nonEmpty('kafka.clusterName', props.kafka.clusterName);
    positiveInt('kafka.brokerCount', props.kafka.brokerCount);
    props.kafka.consumerGroups.forEach((g, i) => nonEmpty(`kafka.consumerGroups[${i}]`, g));
  }
  if (props.eks) {
    nonEmpty('eks.clusterName', props.eks.clusterName);
    nonEmpty('eks.namespace', props.eks.namespace);
    props.eks.workloads.forEach((w, i) => {
      if (!['api', 'realtime', 'worker'].includes(w.service)) p.push(`eks.workloads[${i}].service "${w.service}" must be api, realtime or worker`);
      positiveInt(`eks.workloads[${i}].maxReplicas`, w.maxReplicas);
    });
  }
  return p;
}

/** `loadBalancer` and `loadBalancers` as one list of [field, load balancer]. */
function allLoadBalancers(props: ConnectHubMonitoringProps): [string, LoadBalancerToMonitor][] {
  return [
    ...(props.loadBalancer ? [['loadBalancer', props.loadBalancer] as [string, LoadBalancerToMonitor]] : []),
    ...(props.loadBalancers ?? []).map((lb, i) => [`loadBalancers[${i}]`, lb] as [string, LoadBalancerToMonitor]),
  ];
}

/** `api` -> `Api`, `real-time` -> `RealTime`: the part of alarm names that tells load balancers apart. */
function pascal(name: string | undefined): string {
  return (name ?? '').split('-').map((w) => (w ? w[0].toUpperCase() + w.slice(1) : '')).join('');
}

/** Formats a number for a metric math expression without binary noise (1 - 0.999 -> 0.001). */
function num(v: number): string {
  return String(Number(v.toPrecision(10)));
}

/** Full name (`app/name/id` or `net/name/id`) of a load balancer from its ARN, token-safe. */
function loadBalancerFullName(arn: string): string {
  if (!Token.isUnresolved(arn)) {
    const part = arn.split(':loadbalancer/')[1];
    if (!part) throw new Error(`loadBalancer.loadBalancerArn "${arn}" is not a load balancer ARN (arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/<app|net>/<name>/<id>)`);
    return part;
  }
  const parts = Fn.split('/', arn);
  return Fn.join('/', [Fn.select(1, parts), Fn.select(2, parts), Fn.select(3, parts)]);
}

/** Full name (`targetgroup/name/id`) of a target group from its ARN, token-safe. */
function targetGroupFullName(arn: string): string {
  if (!Token.isUnresolved(arn)) {
    const part = arn.split(':').pop() ?? '';
    if (!part.startsWith('targetgroup/')) throw new Error(`loadBalancer.targetGroupArn "${arn}" is not a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)`);
    return part;
  }
  return Fn.select(5, Fn.split(':', arn));
}

const GT = cw.ComparisonOperator.GREATER_THAN_THRESHOLD;
const GTE = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
const LT = cw.ComparisonOperator.LESS_THAN_THRESHOLD;

/**
 * ConnectHub dashboards and alarms for one environment in one region.
 *
 * Uses cdk-monitoring-constructs for Aurora, ElastiCache, CloudFront, the network load balancer and
 * Lambda, and hand-written metrics (through the same library's custom segments and alarm factory) for
 * the backend's own metrics, ALB HTTP metrics, Aurora replication lag, RDS Proxy, MSK, consumer lag,
 * EKS/Container Insights and the multi-window burn-rate SLO alarms.
 *
 * Creates the dashboards `ConnectHub-<env>-<region>` (detail), `...-Summary` and `...-Alarms`.
 */
export class ConnectHubMonitoring extends Construct {
  /** The topic alarms notify (created here unless `alertTopic` was given). */
  public readonly alertTopic: sns.ITopic;
  /** The AlertTopic construct when this construct created the topic. */
  public readonly createdAlertTopic?: AlertTopic;
  public readonly facade: MonitoringFacade;
  /** Composite alarms of the availability burn-rate pairs, by window name. */
  public readonly burnRateAlarms: Record<string, cw.CompositeAlarm> = {};
  /** Prefix of every alarm and dashboard name. */
  public readonly namePrefix: string;

  private readonly env: string;
  private readonly targets: ResolvedTargets;
  private readonly thresholds: ResolvedThresholds;

  constructor(scope: Construct, id: string, props: ConnectHubMonitoringProps) {
    super(scope, id);
    const problems = validateMonitoringProps(props);
    const region = Stack.of(this).region;
    if (Token.isUnresolved(region)) problems.push('the stack must have an explicit region (env.region): dashboard and alarm names include it');
    const cloudFrontAlarms = props.cloudFront ? (props.cloudFront.alarms ?? region === 'us-east-1') : false;
    if (props.cloudFront?.alarms === true && region !== 'us-east-1') {
      problems.push(`cloudFront.alarms is true but the stack region is ${region}; CloudFront metrics are in us-east-1 and CloudWatch cannot alarm across regions`);
    }
    if (problems.length > 0) throw new Error(`ConnectHubMonitoring ${this.node.path}: ${problems.join('; ')}`);

    this.env = props.environmentName;
    this.targets = resolveTargets(props.targets);
    this.thresholds = resolveThresholds(props.thresholds);
    this.namePrefix = `ConnectHub-${props.environmentName}-${region}`;

    if (props.alertTopic) this.alertTopic = props.alertTopic;
    else {
      this.createdAlertTopic = new AlertTopic(this, 'Alerts', { subscriptions: props.subscriptions, keyRemovalPolicy: props.alertKeyRemovalPolicy });
      this.alertTopic = this.createdAlertTopic.topic;
    }

    this.facade = new MonitoringFacade(this, 'Facade', {
      metricFactoryDefaults: { period: Duration.minutes(5) },
      alarmFactoryDefaults: {
        alarmNamePrefix: this.namePrefix,
        actionsEnabled: true,
        action: new SnsAlarmActionStrategy({ onAlarmTopic: this.alertTopic, onOkTopic: this.alertTopic }),
        datapointsToAlarm: 3,
        evaluationPeriods: 3,
      },
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: this.namePrefix,
        createDashboard: true,
        createSummaryDashboard: true,
        createAlarmDashboard: true,
        detailDashboardRange: Duration.hours(8),
      }),
    });

    this.facade.addLargeHeader(`ConnectHub ${props.environmentName} in ${region}: SLOs and API`, true, true);
    this.addApiSection(props);
    this.addBurnRateAlarms(props.burnRateWindows ?? DEFAULT_BURN_RATE_WINDOWS);
    this.addSloReportSection();
    for (const [, lb] of allLoadBalancers(props)) this.addLoadBalancerSection(lb);
    if (props.cloudFront) this.addCloudFrontSection(props.cloudFront, cloudFrontAlarms);
    if (props.eks) this.addEksSection(props.eks);
    if (props.aurora || props.redis || props.kafka) this.facade.addLargeHeader('Data: Aurora PostgreSQL, Redis, Kafka');
    if (props.aurora) this.addAuroraSection(props.aurora);
    if (props.redis) this.addRedisSection(props.redis);
    if (props.kafka) this.addKafkaSection(props.kafka);
    for (const [name, fn] of Object.entries(props.functions ?? {})) {
      this.facade.monitorLambdaFunction({
        lambdaFunction: fn,
        alarmFriendlyName: name,
        humanReadableName: `Lambda ${name}`,
        addFaultCountAlarm: { Critical: { maxErrorCount: 0, datapointsToAlarm: 1, evaluationPeriods: 1 } },
      });
    }
  }

  /** A metric of the backend's own namespace for one role. */
  private backend(metricName: string, service: BackendService, statistic: string, period = Duration.minutes(5), label?: string): cw.Metric {
    return new cw.Metric({
      namespace: BACKEND_NAMESPACE,
      metricName,
      dimensionsMap: { [BACKEND_DIMENSIONS.environment]: this.env, [BACKEND_DIMENSIONS.service]: service },
      statistic,
      period,
      label,
    });
  }

  private threshold(value: number, op: cw.ComparisonOperator, extra: Partial<CustomThreshold> = {}): Record<string, CustomThreshold> {
    return { Critical: { threshold: value, comparisonOperator: op, ...extra } };
  }

  private addApiSection(props: ConnectHubMonitoringProps): void {
    const t = this.targets;
    const minRequests = props.minRequestsForErrorRate ?? 100;
    const latency = (metric: string, service: BackendService, stat: string) => this.backend(metric, service, stat, Duration.minutes(5), `${metric} ${stat}`);
    const requests = this.backend(BACKEND_METRICS.requests, 'api', 'Sum', Duration.minutes(5), 'Requests');
    const errors = this.backend(BACKEND_METRICS.errors5xx, 'api', 'Sum', Duration.minutes(5), '5xx');
    const errorRate = new cw.MathExpression({
      expression: `IF(requests >= ${minRequests}, 100 * FILL(errors, 0) / requests, 0)`,
      usingMetrics: { requests, errors },
      period: Duration.minutes(5),
      label: 'API 5xx rate (%)',
    });
    const groups: CustomMetricGroup[] = [
      {
        title: 'API latency (ms)',
        important: true,
        metrics: [
          latency(BACKEND_METRICS.requestLatency, 'api', 'p50'),
          latency(BACKEND_METRICS.requestLatency, 'api', 'p95'),
          {
            metric: latency(BACKEND_METRICS.requestLatency, 'api', 'p99'),
            alarmFriendlyName: 'ApiLatencyP99',
            addAlarm: this.threshold(t.apiLatencyP99Ms, GT, { additionalDescription: `API p99 latency above ${t.apiLatencyP99Ms} ms for 15 minutes (plan: API < 200 ms).` }),
          },
        ],
      },
      {
        title: 'API throughput and errors',
        important: true,
        metrics: [requests.with({ label: 'Requests / 5 min' }), errors],
      },
      {
        title: 'API error rate (%)',
        important: true,
        metrics: [
          {
            metric: errorRate,
            alarmFriendlyName: 'ApiErrorRate',
            addAlarm: this.threshold(t.errorRatePercent, GT, {
              additionalDescription: `API 5xx rate above ${t.errorRatePercent} % for 15 minutes (plan: error rate < 0.1 %), judged only with at least ${minRequests} requests per 5 minutes.`,
            }),
          },
        ],
      },
      {
        title: 'Database query latency (ms)',
        metrics: [
          latency(BACKEND_METRICS.dbQueryLatency, 'api', 'p50'),
          {
            metric: latency(BACKEND_METRICS.dbQueryLatency, 'api', 'p99'),
            alarmFriendlyName: 'DbQueryLatencyP99',
            addAlarm: this.threshold(t.dbQueryLatencyP99Ms, GT, { additionalDescription: `Database query p99 above ${t.dbQueryLatencyP99Ms} ms for 15 minutes (plan: < 50 ms).` }),
          },
        ],
      },
      {
        title: 'Message delivery latency (ms)',
        metrics: [
          latency(BACKEND_METRICS.messageDeliveryLatency, 'realtime', 'p50'),
          {
            metric: latency(BACKEND_METRICS.messageDeliveryLatency, 'realtime', 'p99'),
            alarmFriendlyName: 'MessageDeliveryP99',
            addAlarm: this.threshold(t.messageDeliveryP99Ms, GT, { additionalDescription: `Message delivery p99 above ${t.messageDeliveryP99Ms} ms for 15 minutes (plan: < 500 ms).` }),
          },
        ],
      },
    ];
    if (props.alarmOnMissingTraffic) {
      groups.push({
        title: 'API metrics present',
        metrics: [
          {
            metric: this.backend(BACKEND_METRICS.requests, 'api', 'SampleCount', Duration.minutes(5), 'Request data points'),
            alarmFriendlyName: 'ApiMetricsMissing',
            addAlarm: this.threshold(1, LT, {
              treatMissingDataOverride: cw.TreatMissingData.BREACHING,
              additionalDescription: 'No API request metrics for 15 minutes: the backend or its metrics pipeline (ADOT collector) is down.',
            }),
          },
        ],
      });
    }
    this.facade.monitorCustom({ alarmFriendlyName: 'Api', humanReadableName: 'API (backend metrics, ConnectHub/Backend)', metricGroups: groups });
  }

  private addBurnRateAlarms(windows: readonly BurnRateWindow[]): void {
    const allowance = 1 - this.targets.availability;
    // Ids carry the window length: graphs show both windows of a pair and ids must be unique there.
    const burnRate = (window: Duration, label: string) => {
      const total = `total${window.toMinutes()}m`;
      const bad = `bad${window.toMinutes()}m`;
      return new cw.MathExpression({
        expression: `IF(${total} > 0, FILL(${bad}, 0) / ${total}, 0) / ${num(allowance)}`,
        usingMetrics: {
          [total]: this.backend(BACKEND_METRICS.requests, 'api', 'Sum', window),
          [bad]: this.backend(BACKEND_METRICS.errors5xx, 'api', 'Sum', window),
        },
        period: window,
        label,
      });
    };
    const groups: CustomMetricGroup[] = [];
    for (const w of windows) {
      const tag = `burn-rate-${w.name}`;
      const component = (d: Duration, which: 'Long' | 'Short') => ({
        metric: burnRate(d, `Burn rate over ${d.toHumanString()}`),
        alarmFriendlyName: `ApiAvailabilityBurn${w.name}${which}`,
        addAlarm: this.threshold(w.burnRate, GT, {
          evaluationPeriods: 1,
          datapointsToAlarm: 1,
          actionsEnabled: false,
          treatMissingDataOverride: cw.TreatMissingData.NOT_BREACHING,
          customTags: [tag],
          additionalDescription: `Availability error budget burning faster than ${w.burnRate}x over ${d.toHumanString()} (component of the ${w.name} burn-rate alarm; no notification on its own).`,
        }),
      });
      groups.push({
        title: `Availability burn rate, ${w.name.toLowerCase()} (${w.longWindow.toHumanString()} / ${w.shortWindow.toHumanString()}, alarm at ${w.burnRate}x)`,
        important: true,
        metrics: [component(w.longWindow, 'Long'), component(w.shortWindow, 'Short')],
      });
    }
    this.facade.monitorCustom({
      alarmFriendlyName: 'Slo',
      humanReadableName: `Availability SLO ${num(this.targets.availability * 100)} %: multi-window burn rate`,
      metricGroups: groups,
    });
    const alarmFactory = this.facade.createAlarmFactory('Slo');
    for (const w of windows) {
      const parts = this.facade.createdAlarmsWithTag(`burn-rate-${w.name}`);
      for (const part of parts) {
        Validations.of(part.alarm).acknowledge({
          id: 'NIST.800.53.R5-CloudWatchAlarmAction',
          reason: 'One window of a multi-window burn-rate pair: it notifies only through the composite alarm (both windows burning), so a short blip or a long-finished incident does not page.',
        });
      }
      this.burnRateAlarms[w.name] = alarmFactory.addCompositeAlarm(parts, {
        disambiguator: 'Critical',
        alarmNameSuffix: `ApiAvailability${w.name}Burn`,
        compositeOperator: CompositeAlarmOperator.AND,
        alarmDescription:
          `Availability SLO (${num(this.targets.availability * 100)} %) error budget burning at more than ${w.burnRate}x over both ` +
          `${w.longWindow.toHumanString()} and ${w.shortWindow.toHumanString()}: at this rate ${num((w.burnRate * w.longWindow.toHours({ integral: false }) * 100) / (30 * 24))} % ` +
          'of a 30-day budget is gone within the long window.',
      });
    }
  }

  private addSloReportSection(): void {
    // Published hourly by the SloReporter; an exhausted 30-day budget opens a ticket (Warning), it does not page.
    const metrics = SLOS.map((slo, i) => ({
      metric: new cw.Metric({
        namespace: SLO_NAMESPACE,
        metricName: 'ErrorBudgetRemaining',
        dimensionsMap: { Environment: this.env, Slo: slo.id, Window: '30d' },
        statistic: 'Minimum',
        period: Duration.hours(1),
        label: slo.id,
      }),
      alarmFriendlyName: `BudgetExhausted${i + 1}`,
      addAlarm: {
        Warning: {
          threshold: 0,
          comparisonOperator: LT,
          evaluationPeriods: 2,
          datapointsToAlarm: 2,
          treatMissingDataOverride: cw.TreatMissingData.NOT_BREACHING,
          additionalDescription: `The 30-day error budget of SLO ${slo.id} (${slo.description}) is spent (reported by the SLO reporter for two hours in a row).`,
        },
      },
    }));
    this.facade.monitorCustom({
      alarmFriendlyName: 'SloReport',
      humanReadableName: 'SLO reporter: error budget left over 30 days (%)',
      metricGroups: [{ title: 'Error budget remaining, 30 days (%)', metrics }],
    });
  }

  private addLoadBalancerSection(lb: LoadBalancerToMonitor): void {
    const lbName = loadBalancerFullName(lb.loadBalancerArn);
    const suffix = pascal(lb.name);
    if (lb.kind === 'network' && lb.targetGroupArn === undefined) {
      this.addNetworkLoadBalancerSection(lbName, lb.name, suffix);
      return;
    }
    // Validation guarantees a target group from here on (application, or network with one given).
    const targetGroupArn = lb.targetGroupArn!;
    const tgName = targetGroupFullName(targetGroupArn);
    if (lb.kind === 'network') {
      const networkLoadBalancer = elbv2.NetworkLoadBalancer.fromNetworkLoadBalancerAttributes(this, `Nlb${suffix}`, { loadBalancerArn: lb.loadBalancerArn });
      const networkTargetGroup = elbv2.NetworkTargetGroup.fromTargetGroupAttributes(this, `Nlb${suffix}Targets`, {
        targetGroupArn,
        loadBalancerArns: lb.loadBalancerArn,
      });
      this.facade.monitorNetworkLoadBalancer({
        networkLoadBalancer,
        networkTargetGroup,
        networkLoadBalancerTargetType: elbv2.TargetType.IP,
        alarmFriendlyName: `Nlb${suffix}`,
        humanReadableName: `Network load balancer${lb.name ? ` (${lb.name})` : ''}`,
        addUnhealthyTaskCountAlarm: { Critical: { maxUnhealthyTasks: 0 } },
      });
      return;
    }
    const alb = (metricName: string, statistic: string, label: string, withTg = false) =>
      new cw.Metric({
        namespace: 'AWS/ApplicationELB',
        metricName,
        dimensionsMap: withTg ? { LoadBalancer: lbName, TargetGroup: tgName } : { LoadBalancer: lbName },
        statistic,
        period: Duration.minutes(5),
        label,
      });
    const requestCount = alb('RequestCount', 'Sum', 'Requests');
    const targetErrors = alb('HTTPCode_Target_5XX_Count', 'Sum', 'Target 5xx');
    const elbErrors = alb('HTTPCode_ELB_5XX_Count', 'Sum', 'Load balancer 5xx');
    this.facade.monitorCustom({
      alarmFriendlyName: `Alb${suffix}`,
      humanReadableName: `Application load balancer${lb.name ? ` (${lb.name})` : ''}`,
      metricGroups: [
        {
          title: 'Target response time (s)',
          metrics: [
            alb('TargetResponseTime', 'p50', 'p50'),
            alb('TargetResponseTime', 'p95', 'p95'),
            {
              metric: alb('TargetResponseTime', 'p99', 'p99'),
              alarmFriendlyName: 'AlbLatencyP99',
              addAlarm: this.threshold(this.targets.apiLatencyP99Ms / 1000, GT, { additionalDescription: `Load balancer p99 target response time above ${this.targets.apiLatencyP99Ms} ms for 15 minutes.` }),
            },
          ],
        },
        { title: 'Requests and 5xx', metrics: [requestCount, targetErrors, elbErrors] },
        {
          title: '5xx rate (%)',
          metrics: [
            {
              metric: new cw.MathExpression({
                expression: 'IF(requests > 0, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)',
                usingMetrics: { requests: requestCount, target5xx: targetErrors, elb5xx: elbErrors },
                period: Duration.minutes(5),
                label: '5xx rate (%)',
              }),
              alarmFriendlyName: 'AlbErrorRate',
              addAlarm: this.threshold(this.targets.errorRatePercent, GT, { additionalDescription: `Load balancer 5xx rate above ${this.targets.errorRatePercent} % for 15 minutes.` }),
            },
          ],
        },
        {
          title: 'Targets',
          metrics: [
            alb('HealthyHostCount', 'Minimum', 'Healthy', true),
            {
              metric: alb('UnHealthyHostCount', 'Maximum', 'Unhealthy', true),
              alarmFriendlyName: 'AlbUnhealthyTargets',
              addAlarm: this.threshold(0, GT, { additionalDescription: 'Unhealthy backend targets behind the load balancer for 15 minutes.' }),
            },
          ],
        },
      ],
    });
  }

  /**
   * A network load balancer known only by its ARN: flows, bytes and TCP resets per load balancer, and target health
   * through Metrics Insights (`UnHealthyHostCount` exists only per target group, whose ARN is not known here).
   */
  private addNetworkLoadBalancerSection(lbName: string, name: string | undefined, suffix: string): void {
    const nlb = (metricName: string, statistic: string, label: string) =>
      new cw.Metric({ namespace: 'AWS/NetworkELB', metricName, dimensionsMap: { LoadBalancer: lbName }, statistic, period: Duration.minutes(5), label });
    // One series over all target groups of this load balancer; alarms may evaluate such a query (last 3 hours only).
    const targetHealth = (fn: 'MAX' | 'MIN', metricName: string, label: string) =>
      new cw.MathExpression({
        expression: `SELECT ${fn}(${metricName}) FROM SCHEMA("AWS/NetworkELB", LoadBalancer, TargetGroup) WHERE LoadBalancer = '${lbName}'`,
        usingMetrics: {},
        period: Duration.minutes(5),
        label,
      });
    this.facade.monitorCustom({
      alarmFriendlyName: `Nlb${suffix}`,
      humanReadableName: `Network load balancer${name ? ` (${name})` : ''}`,
      metricGroups: [
        {
          title: 'Targets (over all target groups)',
          metrics: [
            targetHealth('MIN', 'HealthyHostCount', 'Healthy (min)'),
            {
              metric: targetHealth('MAX', 'UnHealthyHostCount', 'Unhealthy (max)'),
              alarmFriendlyName: 'UnhealthyTargets',
              addAlarm: this.threshold(0, GT, { additionalDescription: `Unhealthy ${name ?? 'backend'} targets behind the network load balancer for 15 minutes.` }),
            },
          ],
        },
        { title: 'Flows', metrics: [nlb('ActiveFlowCount', 'Average', 'Active flows'), nlb('NewFlowCount', 'Sum', 'New flows / 5 min')] },
        { title: 'Processed bytes', metrics: [nlb('ProcessedBytes', 'Sum', 'Bytes / 5 min')] },
        {
          title: 'TCP resets / 5 min',
          metrics: [
            nlb('TCP_Client_Reset_Count', 'Sum', 'Client resets'),
            nlb('TCP_Target_Reset_Count', 'Sum', 'Target resets'),
            nlb('TCP_ELB_Reset_Count', 'Sum', 'Load balancer resets'),
          ],
        },
      ],
    });
  }

  private addCloudFrontSection(cf: CloudFrontToMonitor, alarms: boolean): void {
    const distribution = cloudfront.Distribution.fromDistributionAttributes(this, 'Distribution', {
      distributionId: cf.distributionId,
      domainName: `${cf.distributionId}.cloudfront.net`,
    });
    this.facade.monitorCloudFrontDistribution({
      distribution,
      region: 'us-east-1',
      additionalMetricsEnabled: true,
      alarmFriendlyName: 'CloudFront',
      humanReadableName: 'CloudFront (us-east-1, Region=Global)',
      ...(alarms
        ? {
            addFault5xxRate: { Critical: { maxErrorRate: this.targets.errorRatePercent } },
            addError4xxRate: { Warning: { maxErrorRate: 5 } },
          }
        : {}),
    });
    const originLatency = (stat: string) =>
      new cw.Metric({
        namespace: 'AWS/CloudFront',
        metricName: 'OriginLatency',
        dimensionsMap: { DistributionId: cf.distributionId, Region: 'Global' },
        statistic: stat,
        period: Duration.minutes(5),
        region: 'us-east-1',
        label: `Origin latency ${stat}`,
      });
    this.facade.monitorCustom({
      alarmFriendlyName: 'CloudFrontOrigin',
      humanReadableName: 'CloudFront origin latency (ms, additional metrics)',
      metricGroups: [{ title: 'Origin latency (ms)', metrics: [originLatency('p50'), originLatency('p99')] }],
    });
  }

  private addEksSection(eks: EksToMonitor): void {
    const ci = (metricName: string, statistic: string, label: string, extra: Record<string, string> = {}) =>
      new cw.Metric({
        namespace: 'ContainerInsights',
        metricName,
        dimensionsMap: { ClusterName: eks.clusterName, ...extra },
        statistic,
        period: Duration.minutes(5),
        label,
      });
    const th = this.thresholds;
    const groups: CustomMetricGroup[] = [
      {
        title: 'Nodes',
        metrics: [
          ci('cluster_node_count', 'Average', 'Nodes'),
          {
            metric: ci('cluster_failed_node_count', 'Maximum', 'Failed nodes'),
            alarmFriendlyName: 'EksFailedNodes',
            addAlarm: this.threshold(0, GT, { additionalDescription: 'Kubernetes nodes failing for 15 minutes.' }),
          },
        ],
      },
      {
        title: 'Node CPU and memory (%)',
        metrics: [
          {
            metric: ci('node_cpu_utilization', 'Average', 'Node CPU'),
            alarmFriendlyName: 'EksNodeCpu',
            addAlarm: this.threshold(th.cpuPercent, GT, { additionalDescription: `Average node CPU above ${th.cpuPercent} % for 15 minutes: pods cannot scale out on this capacity.` }),
          },
          {
            metric: ci('node_memory_utilization', 'Average', 'Node memory'),
            alarmFriendlyName: 'EksNodeMemory',
            addAlarm: this.threshold(th.memoryPercent, GT, { additionalDescription: `Average node memory above ${th.memoryPercent} % for 15 minutes.` }),
          },
        ],
      },
      {
        title: `Pods in ${eks.namespace}`,
        metrics: [
          ci('namespace_number_of_running_pods', 'Average', 'Running pods', { Namespace: eks.namespace }),
          ci('pod_cpu_utilization', 'Average', 'Pod CPU %', { Namespace: eks.namespace }),
          ci('pod_memory_utilization', 'Average', 'Pod memory %', { Namespace: eks.namespace }),
        ],
      },
    ];
    for (const w of eks.workloads) {
      groups.push({
        title: `HPA ${w.service} replicas (max ${w.maxReplicas})`,
        metrics: [
          this.backend(BACKEND_METRICS.hpaCurrentReplicas, w.service, 'Average', Duration.minutes(5), 'Current'),
          {
            metric: this.backend(BACKEND_METRICS.hpaDesiredReplicas, w.service, 'Maximum', Duration.minutes(5), 'Desired'),
            alarmFriendlyName: `Hpa${w.service[0].toUpperCase()}${w.service.slice(1)}AtMax`,
            addAlarm: this.threshold(w.maxReplicas, GTE, {
              additionalDescription: `The ${w.service} HPA wants ${w.maxReplicas} (its maximum) replicas for 15 minutes: the workload cannot scale further.`,
            }),
          },
        ],
      });
    }
    this.facade.addLargeHeader(`EKS ${eks.clusterName}`);
    this.facade.monitorCustom({ alarmFriendlyName: 'Eks', humanReadableName: `EKS ${eks.clusterName} (Container Insights)`, metricGroups: groups });
  }

  private addAuroraSection(a: AuroraToMonitor): void {
    const th = this.thresholds;
    const maxConnections = a.maxConnections ?? 1000;
    const cluster = rds.DatabaseCluster.fromDatabaseClusterAttributes(this, 'AuroraCluster', { clusterIdentifier: a.clusterIdentifier });
    this.facade.monitorAuroraCluster({
      cluster,
      alarmFriendlyName: 'Aurora',
      humanReadableName: `Aurora ${a.clusterIdentifier}`,
      addCpuUsageAlarm: { Critical: { maxUsagePercent: th.cpuPercent } },
      addMaxConnectionCountAlarm: { Critical: { maxConnectionCount: Math.floor((maxConnections * th.connectionsPercent) / 100) } },
    });
    const rdsMetric = (metricName: string, statistic: string, label: string, dims: Record<string, string>) =>
      new cw.Metric({ namespace: 'AWS/RDS', metricName, dimensionsMap: dims, statistic, period: Duration.minutes(5), label });
    const clusterDims = { DBClusterIdentifier: a.clusterIdentifier };
    const lag: CustomMetricGroup['metrics'] = [
      {
        metric: rdsMetric('AuroraReplicaLagMaximum', 'Maximum', 'Replica lag max (ms)', clusterDims),
        alarmFriendlyName: 'AuroraReplicaLag',
        addAlarm: this.threshold(th.auroraReplicaLagMs, GT, { additionalDescription: `Aurora reader lag above ${th.auroraReplicaLagMs} ms for 15 minutes: reads are stale.` }),
      },
    ];
    if (a.globalSecondary) {
      lag.push({
        metric: rdsMetric('AuroraGlobalDBReplicationLag', 'Maximum', 'Global replication lag (ms)', clusterDims),
        alarmFriendlyName: 'AuroraGlobalReplicationLag',
        addAlarm: this.threshold(th.auroraGlobalReplicationLagMs, GT, {
          additionalDescription: `Aurora global database replication lag above ${th.auroraGlobalReplicationLagMs} ms for 15 minutes: this region's reads and recovery point fall behind.`,
        }),
      });
    }
    const groups: CustomMetricGroup[] = [
      { title: 'Replication lag (ms)', metrics: lag },
      { title: 'Commit latency (ms)', metrics: [rdsMetric('CommitLatency', 'Average', 'Commit latency', clusterDims)] },
    ];
    if (a.proxyName) {
      const proxyDims = { ProxyName: a.proxyName };
      const used = rdsMetric('DatabaseConnections', 'Maximum', 'Proxy DB connections', proxyDims);
      const allowed = rdsMetric('MaxDatabaseConnectionsAllowed', 'Maximum', 'Allowed', proxyDims);
      groups.push({
        title: `RDS Proxy ${a.proxyName} connections`,
        metrics: [
          rdsMetric('ClientConnections', 'Maximum', 'Client connections', proxyDims),
          used,
          rdsMetric('DatabaseConnectionsCurrentlySessionPinned', 'Maximum', 'Pinned', proxyDims),
        ],
      });
      groups.push({
        title: 'RDS Proxy pool used (%)',
        metrics: [
          {
            metric: new cw.MathExpression({ expression: 'IF(allowed > 0, 100 * used / allowed, 0)', usingMetrics: { used, allowed }, period: Duration.minutes(5), label: 'Pool used (%)' }),
            alarmFriendlyName: 'RdsProxyConnections',
            addAlarm: this.threshold(th.connectionsPercent, GT, { additionalDescription: `RDS Proxy uses more than ${th.connectionsPercent} % of the database connections it may open, for 15 minutes.` }),
          },
        ],
      });
    }
    this.facade.monitorCustom({ alarmFriendlyName: 'AuroraExtra', humanReadableName: `Aurora ${a.clusterIdentifier}: replication and proxy`, metricGroups: groups });
  }

  private addRedisSection(r: RedisToMonitor): void {
    const th = this.thresholds;
    const groups: CustomMetricGroup[] = [];
    const ec = (metricName: string, node: string, statistic: string, label: string) =>
      new cw.Metric({ namespace: 'AWS/ElastiCache', metricName, dimensionsMap: { CacheClusterId: node }, statistic, period: Duration.minutes(5), label });
    r.nodeClusterIds.forEach((node, i) => {
      this.facade.monitorElastiCacheCluster({
        clusterId: node,
        clusterType: ElastiCacheClusterType.REDIS,
        alarmFriendlyName: `Redis${i + 1}`,
        humanReadableName: `Redis ${node}`,
        addRedisEngineCpuUsageAlarm: { Critical: { maxUsagePercent: th.cpuPercent } },
        addMaxEvictedItemsCountAlarm: { Critical: { maxItemsCount: th.redisEvictionsPer5Minutes } },
      });
      groups.push({
        title: `${node}: hit rate, memory, replication lag`,
        metrics: [
          ec('CacheHitRate', node, 'Average', 'Hit rate %'),
          {
            metric: ec('DatabaseMemoryUsagePercentage', node, 'Maximum', 'Memory used %'),
            alarmFriendlyName: `Redis${i + 1}Memory`,
            addAlarm: this.threshold(th.memoryPercent, GT, { additionalDescription: `Redis node ${node} memory above ${th.memoryPercent} % for 15 minutes: evictions follow.` }),
          },
          {
            metric: ec('ReplicationLag', node, 'Maximum', 'Replication lag (s)'),
            alarmFriendlyName: `Redis${i + 1}ReplicationLag`,
            addAlarm: this.threshold(th.redisReplicationLagSeconds, GT, {
              treatMissingDataOverride: cw.TreatMissingData.NOT_BREACHING,
              additionalDescription: `Redis replica ${node} lags its primary by more than ${th.redisReplicationLagSeconds} s for 15 minutes (primaries publish no value).`,
            }),
          },
        ],
      });
    });
    this.facade.monitorCustom({ alarmFriendlyName: 'RedisExtra', humanReadableName: `Redis ${r.replicationGroupId}: hit rate, memory, replication`, metricGroups: groups });
  }

  private addKafkaSection(k: KafkaToMonitor): void {
    const th = this.thresholds;
    const kafka = (metricName: string, statistic: string, label: string, broker?: number) =>
      new cw.Metric({
        namespace: 'AWS/Kafka',
        metricName,
        dimensionsMap: broker === undefined ? { 'Cluster Name': k.clusterName } : { 'Cluster Name': k.clusterName, 'Broker ID': String(broker) },
        statistic,
        period: Duration.minutes(5),
        label,
      });
    const brokers = Array.from({ length: k.brokerCount }, (_, i) => i + 1);
    const sumOver = (metricName: string, label: string) => {
      const usingMetrics: Record<string, cw.IMetric> = {};
      const id = (b: number) => `${metricName.replace('PerSec', '').toLowerCase()}${b}`;
      brokers.forEach((b) => (usingMetrics[id(b)] = kafka(metricName, 'Average', `${metricName} broker ${b}`, b)));
      return new cw.MathExpression({ expression: brokers.map((b) => `FILL(${id(b)}, 0)`).join(' + '), usingMetrics, period: Duration.minutes(5), label });
    };
    const groups: CustomMetricGroup[] = [
      {
        title: 'Throughput (cluster, per second)',
        important: true,
        metrics: [sumOver('BytesInPerSec', 'Bytes in/s'), sumOver('BytesOutPerSec', 'Bytes out/s'), sumOver('MessagesInPerSec', 'Messages in/s')],
      },
      {
        title: 'Cluster health',
        metrics: [
          {
            metric: kafka('OfflinePartitionsCount', 'Maximum', 'Offline partitions'),
            alarmFriendlyName: 'KafkaOfflinePartitions',
            addAlarm: this.threshold(0, GT, { evaluationPeriods: 1, datapointsToAlarm: 1, additionalDescription: 'Kafka has offline partitions: producers and consumers of them are stuck.' }),
          },
          {
            metric: kafka('ActiveControllerCount', 'Maximum', 'Active controller'),
            alarmFriendlyName: 'KafkaNoActiveController',
            addAlarm: this.threshold(1, LT, { additionalDescription: 'No active Kafka controller for 15 minutes.' }),
          },
        ],
      },
    ];
    brokers.forEach((b) => {
      groups.push({
        title: `Broker ${b}: CPU and disk (%)`,
        metrics: [
          {
            metric: new cw.MathExpression({
              expression: 'user + system',
              usingMetrics: { user: kafka('CpuUser', 'Average', 'user', b), system: kafka('CpuSystem', 'Average', 'system', b) },
              period: Duration.minutes(5),
              label: 'CPU (user + system)',
            }),
            alarmFriendlyName: `KafkaBroker${b}Cpu`,
            addAlarm: this.threshold(th.kafkaCpuPercent, GT, { additionalDescription: `Kafka broker ${b} CPU above ${th.kafkaCpuPercent} % for 15 minutes (AWS advises < 60 % to survive a broker loss).` }),
          },
          {
            metric: kafka('KafkaDataLogsDiskUsed', 'Maximum', 'Data disk used', b),
            alarmFriendlyName: `KafkaBroker${b}Disk`,
            addAlarm: this.threshold(th.kafkaDiskPercent, GT, { additionalDescription: `Kafka broker ${b} data disk above ${th.kafkaDiskPercent} % for 15 minutes.` }),
          },
        ],
      });
    });
    if (k.consumerGroups.length > 0) {
      groups.push({
        title: 'Consumer lag (messages)',
        important: true,
        metrics: k.consumerGroups.map((group, i) => ({
          metric: new cw.Metric({ namespace: STREAMING_NAMESPACE, metricName: 'ConsumerLag', dimensionsMap: { ConsumerGroup: group }, statistic: 'Maximum', period: Duration.minutes(5), label: group }),
          alarmFriendlyName: `ConsumerLag${i + 1}`,
          addAlarm: this.threshold(th.consumerLag, GT, { additionalDescription: `Consumer group ${group} lags by more than ${th.consumerLag} messages for 15 minutes.` }),
        })),
      });
    }
    this.facade.monitorCustom({ alarmFriendlyName: 'Kafka', humanReadableName: `MSK ${k.clusterName}`, metricGroups: groups });
  }

  /** Every alarm created through the monitoring library (metric alarms and the burn-rate composites). */
  public alarms(): AlarmWithAnnotation[] {
    return this.facade.createdAlarms();
  }
}
