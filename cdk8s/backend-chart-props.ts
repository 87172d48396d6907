/**
 * Props of the backend chart and their validation. Plain data (strings, numbers): the lead's platform stack
 * passes values from the data, cache and stream stacks (CDK tokens are accepted where a value is only known
 * at deploy time, and skipped by the checks that need a literal).
 */
import { BACKEND_CONTRACT } from './backend-contract';
import { WORKLOADS, type WorkloadName } from './workload-names';

/** The container image, pinned to something immutable. Exactly one of `tag` or `digest`. */
export interface ContainerImage {
  /** Repository URI without tag, e.g. `asset.repository.repositoryUri` of a `DockerImageAsset`. */
  readonly repository: string;
  /**
   * An immutable content tag: the 64-hex CDK asset hash (`DockerImageAsset.imageTag`).
   * @default - use `digest`
   */
  readonly tag?: string;
  /**
   * An image digest, `sha256:` + 64 hex.
   * @default - use `tag`
   */
  readonly digest?: string;
}

/** CPU and memory of one container. */
export interface ResourceAmounts {
  /** CPU in millicores (1000 = one vCPU). */
  readonly cpuMillicores: number;
  /** Memory in MiB. */
  readonly memoryMebibytes: number;
}

/** Scaling behaviour of one direction of an HPA (see docs/kubernetes.md). */
export interface ScalingDirection {
  /** Window over which the HPA takes the most conservative recommendation, seconds. */
  readonly stabilizationWindowSeconds: number;
  /** At most this percentage of current pods added/removed per `periodSeconds`. */
  readonly percent: number;
  /** At most this many pods added/removed per `periodSeconds`. */
  readonly pods: number;
  /** Length of one policy period, seconds. */
  readonly periodSeconds: number;
}

/** Size and scaling of one workload (from the capacity model). */
export interface WorkloadSizing {
  /** Container requests (what the scheduler reserves; HPA utilisation is relative to these). */
  readonly requests: ResourceAmounts;
  /** Container limits (memory limit is the OOM line; CPU limit caps noisy neighbours). */
  readonly limits: ResourceAmounts;
  /**
   * Minimum replicas (HPA floor).
   * @default 3
   */
  readonly minReplicas?: number;
  /**
   * Maximum replicas (HPA ceiling; the tier's maximum).
   * @default 50
   */
  readonly maxReplicas?: number;
  /**
   * Scale-up behaviour.
   * @default - 0 s window, +100 % or +4 pods per 30 s, whichever is more
   */
  readonly scaleUp?: ScalingDirection;
  /**
   * Scale-down behaviour.
   * @default - 300 s window, -10 % or -2 pods per 60 s, whichever is less (realtime: 600 s, -1 pod per 120 s)
   */
  readonly scaleDown?: ScalingDirection;
  /**
   * Seconds the backend drains in-flight work after SIGTERM (`SHUTDOWN_DRAIN_SECONDS`).
   * @default 20 (realtime: 30, WebSockets get longer to close)
   */
  readonly drainSeconds?: number;
}

/** A Secrets Manager secret delivered as a file through the Secrets Store CSI driver (AWS provider). */
export interface SecretFile {
  /** Secret ARN (full ARN, so the CSI provider and the IAM grant name the same thing). */
  readonly secretArn: string;
  /**
   * Key inside a JSON secret (e.g. `password` for RDS-generated secrets).
   * @default - the whole secret string is the file content
   */
  readonly jsonKey?: string;
}

/** Database (RDS Proxy endpoints). */
export interface DatabaseSettings {
  /** Writer endpoint (RDS Proxy read/write endpoint). */
  readonly writerHost: string;
  /** Reader endpoint (RDS Proxy read-only endpoint in this region). */
  readonly readerHost: string;
  /** @default 5432 */
  readonly port?: number;
  /** Database name. */
  readonly name: string;
  /** Database user (the IAM-auth user when `auth` is `iam`). */
  readonly user: string;
  /** `iam` (RDS IAM auth through the proxy, no password) or `password`. */
  readonly auth: 'iam' | 'password';
  /**
   * Password secret, required when `auth` is `password`.
   * @default - none
   */
  readonly passwordSecret?: SecretFile;
  /** @default 'require' */
  readonly ssl?: 'require' | 'disable';
}

/** ElastiCache. */
export interface RedisSettings {
  /** `host:port` of the configuration (cluster mode) or primary endpoint. */
  readonly endpoint: string;
  /** Port, for the NetworkPolicy. @default 6379 */
  readonly port?: number;
  /** Cluster mode enabled. */
  readonly cluster: boolean;
  /** @default true */
  readonly tls?: boolean;
  /** @default - no username (AUTH token only, or no AUTH) */
  readonly username?: string;
  /** @default - no password file */
  readonly passwordSecret?: SecretFile;
}

/** MSK. */
export interface KafkaSettings {
  /** Bootstrap brokers, `host:port` each. */
  readonly brokers: string;
  /** Broker port, for the NetworkPolicy (9098 = IAM over TLS). @default 9098 */
  readonly port?: number;
  /** @default 'iam' */
  readonly auth?: 'iam' | 'none';
  /** @default true */
  readonly tls?: boolean;
}

/** JWT verification. */
export interface JwtSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
}

/** The autoscaling metric sources (KEDA triggers). */
export interface AutoscalingSettings {
  /**
   * Prometheus-compatible query endpoint holding the backends' `/metrics`
   * (the Amazon Managed Service for Prometheus workspace's `prometheusEndpoint`, without `api/v1/query`).
   */
  readonly prometheusQueryEndpoint: string;
  /** Region of the Prometheus workspace and the MSK cluster (SigV4 for KEDA). */
  readonly awsRegion: string;
  /** @default 1000 — the plan's request rate per pod per minute */
  readonly requestsPerMinutePerPod?: number;
  /** @default 100 — the plan's queue length (Kafka consumer lag per worker pod) */
  readonly pendingMessagesPerPod?: number;
  /**
   * Open WebSockets per realtime pod the HPA aims for (a Prometheus trigger on the backend's `ws_connections` gauge).
   * @default - 70 % of `maxWsConnectionsPerPod`, rounded down (the CPU target's headroom below the refusal limit)
   */
  readonly connectionsPerPod?: number;
  /**
   * Prometheus counter of handled HTTP requests, labelled with `role` (the backend's metric).
   * @default 'http_requests_total' (the backend contract's METRICS.httpRequestsTotal)
   */
  readonly requestCounterMetric?: string;
  /**
   * Consumer groups of the worker whose lag is the queue length (a topic narrows it to one topic).
   * @default - the backend's activity group over all its topics
   */
  readonly workerConsumerGroups?: ReadonlyArray<{ readonly group: string; readonly topic?: string }>;
}

/** The load balancers (Auto Mode NLBs). */
export interface LoadBalancerSettings {
  /**
   * `internal` (CloudFront VPC origin, nothing public) or `internet-facing`.
   * @default 'internal'
   */
  readonly scheme?: 'internal' | 'internet-facing';
  /**
   * ACM certificate for a TLS listener on 443.
   * @default - plain TCP listener on 80 (inside the VPC)
   */
  readonly certificateArn?: string;
  /**
   * Seconds the NLB keeps a deregistering target (connection draining).
   * @default 30
   */
  readonly deregistrationDelaySeconds?: number;
  /**
   * Client CIDRs allowed through the NLB security group (`loadBalancerSourceRanges`).
   * @default - the VPC CIDR only
   */
  readonly sourceRanges?: readonly string[];
}

/**
 * An APM vendor that receives the collector's traces and metrics as well (OTLP/HTTP). The API key stays in
 * Secrets Manager and reaches the collector as a file through the Secrets Store CSI driver.
 */
export interface ApmSettings {
  /** `newrelic`, `datadog` (Datadog's OTLP intake) or any other `otlp` endpoint. */
  readonly vendor: 'newrelic' | 'datadog' | 'otlp';
  /**
   * https:// base endpoint (the exporter appends /v1/traces and /v1/metrics), e.g. `https://otlp.nr-data.net`,
   * `https://otlp.eu01.nr-data.net` or the Datadog OTLP intake of your site.
   */
  readonly endpoint: string;
  /** Full ARN of the Secrets Manager secret holding the API / license key (the collector's Pod Identity role may read it). */
  readonly apiKeySecretArn: string;
  /**
   * Key inside a JSON secret.
   * @default - the whole secret string is the key
   */
  readonly apiKeyJsonKey?: string;
  /**
   * Header that carries the key.
   * @default - `api-key` (newrelic), `dd-api-key` (datadog), `x-api-key` (otlp)
   */
  readonly headerName?: string;
}

/** Everything the backend chart needs. */
export interface BackendChartProps {
  /** Environment name (`dev`, `prod`, `pr-12`...), a label on every object. */
  readonly environment: string;
  /** AWS region of this cluster (`AWS_REGION`). */
  readonly region: string;
  /** Home-region code (`HOME_REGION`). */
  readonly homeRegion: 'us' | 'eu' | 'ap';
  /** The backend image, immutable. */
  readonly image: ContainerImage;
  /** CIDR of the VPC (load balancer, probes, scraper ingress; endpoints of data services). */
  readonly vpcCidr: string;
  readonly database: DatabaseSettings;
  readonly redis: RedisSettings;
  readonly kafka: KafkaSettings;
  readonly jwt: JwtSettings;
  /** Sizes per workload, from the capacity model. */
  readonly workloads: Readonly<Record<WorkloadName, WorkloadSizing>>;
  readonly autoscaling: AutoscalingSettings;
  /** @default - internal NLBs on port 80 */
  readonly loadBalancer?: LoadBalancerSettings;
  /** @default 300 — the plan's feed cache TTL */
  readonly feedCacheTtlSeconds?: number;
  /** @default 1800 — the plan's query cache TTL */
  readonly queryCacheTtlSeconds?: number;
  /** Per-pod WebSocket limit of realtime (`MAX_WS_CONNECTIONS`). */
  readonly maxWsConnectionsPerPod: number;
  /** Per-client rate limit of the api (`RATE_LIMIT_PER_MINUTE`). */
  readonly rateLimitPerMinute: number;
  /**
   * Whether this region's worker relays the outbox to this region's Kafka (`OUTBOX_RELAY`). The outbox is one table
   * of the global database: set it in the primary region only (whose Kafka the other regions replicate).
   * @default true
   */
  readonly outboxRelay?: boolean;
  /** @default 'info' */
  readonly logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /**
   * Seconds the pod keeps serving after termination starts, before SIGTERM, so the NLB stops sending first.
   * @default 15
   */
  readonly preStopSleepSeconds?: number;
  /** @default 8080 (the contract's default `PORT`) */
  readonly port?: number;
  /** UID/GID the container runs as. @default 65532 (the distroless image's nonroot user) */
  readonly runAsUser?: number;
  /**
   * EKS cluster name (the `ClusterName` resource attribute the collector adds).
   * @default `connecthub-<environment>-<region>` (what the platform stack names its clusters)
   */
  readonly clusterName?: string;
  /**
   * Send traces and metrics to an APM vendor as well as CloudWatch and X-Ray. Give the same secret ARN to
   * `ConnectHubClusterProps.apm` so the collector's role may read it.
   * @default - CloudWatch (EMF) and X-Ray only
   */
  readonly apm?: ApmSettings;
}

const HEX64 = /^[a-f0-9]{64}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const TOKEN = /\$\{Token\[|#\{Token\[|\[TOKEN\./; // CDK-token markers (deploy-time values)
const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** True when `value` carries a CDK token (known only at deploy time). */
export function isDeployTimeValue(value: string): boolean {
  return TOKEN.test(value);
}

function isCidr(value: string): boolean {
  const m = CIDR.exec(value);
  return !!m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}

/**
 * Checks every prop and throws ONE error listing each problem (field, value, what is allowed).
 */
export function validateBackendChartProps(props: BackendChartProps): void {
  const problems: string[] = [];
  const bad = (field: string, value: unknown, allowed: string) =>
    problems.push(`${field}=${JSON.stringify(value)}: ${allowed}`);
  const literal = (v: string | undefined) => v !== undefined && !isDeployTimeValue(v);

  // image: immutable only
  const { image } = props;
  if (!image || typeof image.repository !== 'string' || image.repository.length === 0) {
    bad('image.repository', image?.repository, 'a repository URI is required');
  } else if (literal(image.repository) && /[:@]/.test(image.repository.split('/').pop() ?? '')) {
    bad('image.repository', image.repository, 'the repository without a tag or digest (give those in image.tag or image.digest)');
  }
  if (image && (image.tag === undefined) === (image.digest === undefined)) {
    bad('image.tag/image.digest', { tag: image.tag, digest: image.digest }, 'exactly one of them');
  }
  if (image?.tag !== undefined && literal(image.tag) && !HEX64.test(image.tag)) {
    bad('image.tag', image.tag, `an immutable content tag (the 64-hex CDK asset hash); mutable tags such as "latest" or versions are refused — use image.digest (sha256:…) for other images`);
  }
  if (image?.digest !== undefined && literal(image.digest) && !DIGEST.test(image.digest)) {
    bad('image.digest', image.digest, 'sha256: followed by 64 lowercase hex characters');
  }

  if (!/^[a-z][a-z0-9-]{0,30}$/.test(props.environment ?? '')) {
    bad('environment', props.environment, 'lowercase letters, digits and dashes, starting with a letter (max 31)');
  }
  if (typeof props.region !== 'string' || isDeployTimeValue(props.region)) {
    bad('region', props.region, 'an AWS region name known at synth (it names the NLBs), such as us-east-1');
  } else if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(props.region)) {
    bad('region', props.region, 'an AWS region name such as us-east-1');
  }
  if (!['us', 'eu', 'ap'].includes(props.homeRegion)) bad('homeRegion', props.homeRegion, 'one of us, eu, ap');
  if (literal(props.vpcCidr) && !isCidr(props.vpcCidr)) bad('vpcCidr', props.vpcCidr, 'an IPv4 CIDR such as 10.0.0.0/16');

  // database
  const db = props.database;
  if (!['iam', 'password'].includes(db?.auth)) bad('database.auth', db?.auth, 'one of iam, password');
  if (db?.auth === 'password' && !db.passwordSecret) {
    bad('database.passwordSecret', undefined, 'required when database.auth is password (mounted as a file, never an env value)');
  }
  if (db?.auth === 'iam' && db.passwordSecret) {
    bad('database.passwordSecret', db.passwordSecret.secretArn, 'must be absent when database.auth is iam');
  }
  if (db?.ssl !== undefined && !['require', 'disable'].includes(db.ssl)) bad('database.ssl', db.ssl, 'one of require, disable');
  for (const f of ['writerHost', 'readerHost', 'name', 'user'] as const) {
    if (!db?.[f]) bad(`database.${f}`, db?.[f], 'a non-empty value');
  }
  checkPort(problems, 'database.port', db?.port);

  // redis
  const redis = props.redis;
  if (!redis?.endpoint) bad('redis.endpoint', redis?.endpoint, 'host:port');
  else if (literal(redis.endpoint) && !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(redis.endpoint)) {
    bad('redis.endpoint', redis.endpoint, 'host:port');
  }
  checkPort(problems, 'redis.port', redis?.port);

  // kafka
  const kafka = props.kafka;
  if (!kafka?.brokers) bad('kafka.brokers', kafka?.brokers, 'a comma-separated list of host:port');
  else if (literal(kafka.brokers) && !kafka.brokers.split(',').every((b) => /^[A-Za-z0-9.-]+:\d{1,5}$/.test(b.trim()))) {
    bad('kafka.brokers', kafka.brokers, 'a comma-separated list of host:port');
  }
  if (kafka?.auth !== undefined && !['iam', 'none'].includes(kafka.auth)) bad('kafka.auth', kafka.auth, 'one of iam, none');
  checkPort(problems, 'kafka.port', kafka?.port);

  for (const f of ['issuer', 'audience', 'jwksUrl'] as const) {
    if (!props.jwt?.[f]) bad(`jwt.${f}`, props.jwt?.[f], 'a non-empty value');
  }
  if (props.jwt?.jwksUrl && literal(props.jwt.jwksUrl) && !props.jwt.jwksUrl.startsWith('https://')) {
    bad('jwt.jwksUrl', props.jwt.jwksUrl, 'an https:// URL');
  }

  // workloads
  for (const w of WORKLOADS) {
    const s = props.workloads?.[w];
    const p = `workloads.${w}`;
    if (!s) {
      bad(p, s, 'sizes are required for api, realtime and worker');
      continue;
    }
    for (const kind of ['requests', 'limits'] as const) {
      const r = s[kind];
      if (!r || !(Number.isInteger(r.cpuMillicores) && r.cpuMillicores > 0)) {
        bad(`${p}.${kind}.cpuMillicores`, r?.cpuMillicores, 'a positive integer');
      }
      if (!r || !(Number.isInteger(r.memoryMebibytes) && r.memoryMebibytes > 0)) {
        bad(`${p}.${kind}.memoryMebibytes`, r?.memoryMebibytes, 'a positive integer');
      }
    }
    if (s.requests && s.limits) {
      if (s.limits.cpuMillicores < s.requests.cpuMillicores) {
        bad(`${p}.limits.cpuMillicores`, s.limits.cpuMillicores, `at least the request (${s.requests.cpuMillicores})`);
      }
      if (s.limits.memoryMebibytes < s.requests.memoryMebibytes) {
        bad(`${p}.limits.memoryMebibytes`, s.limits.memoryMebibytes, `at least the request (${s.requests.memoryMebibytes})`);
      }
    }
    const min = s.minReplicas ?? 3;
    const max = s.maxReplicas ?? 50;
    if (!Number.isInteger(min) || min < 2) bad(`${p}.minReplicas`, min, 'an integer of at least 2 (one per zone loss survives; the plan says 3)');
    if (!Number.isInteger(max) || max < min) bad(`${p}.maxReplicas`, max, `an integer of at least minReplicas (${min})`);
    for (const dir of ['scaleUp', 'scaleDown'] as const) {
      const d = s[dir];
      if (!d) continue;
      if (!(Number.isInteger(d.stabilizationWindowSeconds) && d.stabilizationWindowSeconds >= 0 && d.stabilizationWindowSeconds <= 3600)) {
        bad(`${p}.${dir}.stabilizationWindowSeconds`, d.stabilizationWindowSeconds, 'an integer from 0 to 3600');
      }
      if (!(Number.isInteger(d.periodSeconds) && d.periodSeconds >= 1 && d.periodSeconds <= 1800)) {
        bad(`${p}.${dir}.periodSeconds`, d.periodSeconds, 'an integer from 1 to 1800');
      }
      if (!(Number.isInteger(d.percent) && d.percent >= 1)) bad(`${p}.${dir}.percent`, d.percent, 'a positive integer');
      if (!(Number.isInteger(d.pods) && d.pods >= 1)) bad(`${p}.${dir}.pods`, d.pods, 'a positive integer');
    }
    const drain = s.drainSeconds;
    if (drain !== undefined && !(Number.isInteger(drain) && drain >= 1 && drain <= 600)) {
      bad(`${p}.drainSeconds`, drain, 'an integer from 1 to 600');
    }
  }

  // autoscaling
  const a = props.autoscaling;
  if (!a?.prometheusQueryEndpoint) bad('autoscaling.prometheusQueryEndpoint', a?.prometheusQueryEndpoint, 'the Prometheus workspace endpoint');
  else if (literal(a.prometheusQueryEndpoint) && !a.prometheusQueryEndpoint.startsWith('https://')) {
    bad('autoscaling.prometheusQueryEndpoint', a.prometheusQueryEndpoint, 'an https:// URL');
  }
  if (a?.requestsPerMinutePerPod !== undefined && !(a.requestsPerMinutePerPod > 0)) {
    bad('autoscaling.requestsPerMinutePerPod', a.requestsPerMinutePerPod, 'a positive number');
  }
  if (a?.pendingMessagesPerPod !== undefined && !(Number.isInteger(a.pendingMessagesPerPod) && a.pendingMessagesPerPod > 0)) {
    bad('autoscaling.pendingMessagesPerPod', a.pendingMessagesPerPod, 'a positive integer');
  }
  if (a?.connectionsPerPod !== undefined && !(Number.isInteger(a.connectionsPerPod) && a.connectionsPerPod > 0 && a.connectionsPerPod <= props.maxWsConnectionsPerPod)) {
    bad('autoscaling.connectionsPerPod', a.connectionsPerPod, `a positive integer no larger than maxWsConnectionsPerPod (${props.maxWsConnectionsPerPod}), where pods refuse connections`);
  }
  if (a?.requestCounterMetric !== undefined && !METRIC.test(a.requestCounterMetric)) {
    bad('autoscaling.requestCounterMetric', a.requestCounterMetric, 'a Prometheus metric name');
  }
  if (a?.workerConsumerGroups !== undefined && a.workerConsumerGroups.length === 0) {
    bad('autoscaling.workerConsumerGroups', a.workerConsumerGroups, 'at least one { group } (the worker lag is the queue length), or leave it out for the default');
  }
  (a?.workerConsumerGroups ?? []).forEach((g, i) => {
    if (!g.group?.startsWith(BACKEND_CONTRACT.consumerGroupPrefix)) {
      bad(`autoscaling.workerConsumerGroups[${i}].group`, g.group, `a group id starting with ${BACKEND_CONTRACT.consumerGroupPrefix}`);
    }
    if (g.topic !== undefined && !/^[a-zA-Z0-9._-]{1,249}$/.test(g.topic)) bad(`autoscaling.workerConsumerGroups[${i}].topic`, g.topic, 'a Kafka topic name');
  });

  // load balancer
  const lb = props.loadBalancer ?? {};
  if (lb.scheme !== undefined && !['internal', 'internet-facing'].includes(lb.scheme)) {
    bad('loadBalancer.scheme', lb.scheme, 'one of internal, internet-facing');
  }
  if (lb.deregistrationDelaySeconds !== undefined && !(Number.isInteger(lb.deregistrationDelaySeconds) && lb.deregistrationDelaySeconds >= 0 && lb.deregistrationDelaySeconds <= 3600)) {
    bad('loadBalancer.deregistrationDelaySeconds', lb.deregistrationDelaySeconds, 'an integer from 0 to 3600');
  }
  (lb.sourceRanges ?? []).forEach((c, i) => {
    if (literal(c) && !isCidr(c)) bad(`loadBalancer.sourceRanges[${i}]`, c, 'an IPv4 CIDR');
  });
  if (lb.scheme === 'internet-facing' && !lb.certificateArn) {
    bad('loadBalancer.certificateArn', undefined, 'required for an internet-facing load balancer (no plaintext listener on the internet)');
  }

  for (const [f, v] of [['feedCacheTtlSeconds', props.feedCacheTtlSeconds], ['queryCacheTtlSeconds', props.queryCacheTtlSeconds]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) bad(f, v, 'a positive integer of seconds');
  }
  if (!(Number.isInteger(props.maxWsConnectionsPerPod) && props.maxWsConnectionsPerPod > 0)) {
    bad('maxWsConnectionsPerPod', props.maxWsConnectionsPerPod, 'a positive integer');
  }
  if (!(Number.isInteger(props.rateLimitPerMinute) && props.rateLimitPerMinute > 0)) {
    bad('rateLimitPerMinute', props.rateLimitPerMinute, 'a positive integer');
  }
  if (props.outboxRelay !== undefined && typeof props.outboxRelay !== 'boolean') bad('outboxRelay', props.outboxRelay, 'true or false');
  if (props.logLevel !== undefined && !['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(props.logLevel)) {
    bad('logLevel', props.logLevel, 'one of fatal, error, warn, info, debug, trace');
  }
  if (props.preStopSleepSeconds !== undefined && !(Number.isInteger(props.preStopSleepSeconds) && props.preStopSleepSeconds >= 1 && props.preStopSleepSeconds <= 120)) {
    bad('preStopSleepSeconds', props.preStopSleepSeconds, 'an integer from 1 to 120');
  }
  checkPort(problems, 'port', props.port);
  if (props.port !== undefined && props.port < 1024) bad('port', props.port, 'an unprivileged port (1024-65535): the container runs as non-root');
  if (props.runAsUser !== undefined && !(Number.isInteger(props.runAsUser) && props.runAsUser > 0)) {
    bad('runAsUser', props.runAsUser, 'a positive integer (non-root)');
  }

  if (props.clusterName !== undefined && literal(props.clusterName) && !/^[a-zA-Z][a-zA-Z0-9-_]{0,99}$/.test(props.clusterName)) {
    bad('clusterName', props.clusterName, 'an EKS cluster name (a letter, then letters, digits, - or _)');
  }
  const apm = props.apm;
  if (apm !== undefined) {
    if (!['newrelic', 'datadog', 'otlp'].includes(apm.vendor)) bad('apm.vendor', apm.vendor, 'one of newrelic, datadog, otlp');
    let https = false;
    try {
      https = typeof apm.endpoint === 'string' && new URL(apm.endpoint).protocol === 'https:';
    } catch {
      https = false;
    }
    if (literal(apm.endpoint) && !https) bad('apm.endpoint', apm.endpoint, 'an https:// URL');
    if (!apm.apiKeySecretArn) bad('apm.apiKeySecretArn', apm.apiKeySecretArn, 'a Secrets Manager secret ARN');
    else if (literal(apm.apiKeySecretArn) && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^*]+$/.test(apm.apiKeySecretArn)) {
      bad('apm.apiKeySecretArn', apm.apiKeySecretArn, 'a full Secrets Manager secret ARN without wildcards');
    }
    if (apm.headerName !== undefined && !/^[A-Za-z0-9-]+$/.test(apm.headerName)) bad('apm.headerName', apm.headerName, 'an HTTP header name (letters, digits, -)');
    if (apm.apiKeyJsonKey !== undefined && !/^[A-Za-z0-9_.-]+$/.test(apm.apiKeyJsonKey)) bad('apm.apiKeyJsonKey', apm.apiKeyJsonKey, 'a JSON key (letters, digits, _ . -)');
  }

  if (problems.length > 0) {
    throw new Error(`Invalid BackendChart props (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  - ${problems.join('\n  - ')}`);
  }
}

function checkPort(problems: string[], field: string, port: number | undefined): void {
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    problems.push(`${field}=${JSON.stringify(port)}: an integer port from 1 to 65535`);
  }
}
