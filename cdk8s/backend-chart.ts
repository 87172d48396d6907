/**
 * The ConnectHub backend on Kubernetes: api, realtime and worker from ONE image (role by `CONNECTHUB_ROLE`),
 * with their ServiceAccounts (Pod Identity), probes on the backend's contract paths, a Pod Security Standards
 * "restricted" security context, zone spread, PodDisruptionBudgets, NetworkPolicies, KEDA ScaledObjects
 * (which own the HPAs) and the Auto Mode NLB Services.
 *
 * Written with the generated Kubernetes API objects of cdk8s-plus-33 (`k8s.*`): the plus L2s leave out
 * seccomp and `drop: [ALL]`, have no session affinity and no PDB (see FIELD-NOTES), and their spread
 * helper emits required anti-affinity. Every object has a fixed `metadata.name` (no hashes), so renaming a
 * construct id never renames a Kubernetes object.
 */
import { ApiObject, Chart, type ChartProps, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import {
  type BackendChartProps,
  type ScalingDirection,
  type SecretFile,
  type WorkloadSizing,
  validateBackendChartProps,
} from './backend-chart-props';
import {
  AUTO_MODE_NLB_CLASS,
  BACKEND_NAMESPACE,
  type LoadBalancedWorkload,
  WORKLOADS,
  type WorkloadName,
  loadBalancerName,
  serviceAccountName,
  workloadObjectName,
} from './workload-names';
import { BACKEND_CONTRACT } from './backend-contract';
import { type RenderedCollector, addOtelCollector } from './otel-collector';
import {
  COLLECTOR_OTLP_GRPC_PORT,
  COLLECTOR_OTLP_HTTP_PORT,
  COLLECTOR_SERVICE_NAME,
  backendOtelEnvironment,
} from '../constructs/observability/otel-config';

export * from './backend-chart-props';
export { ADOT_COLLECTOR_IMAGE, COLLECTOR_SERVICE_ACCOUNT, type RenderedCollector } from './otel-collector';

/** Where mounted secret files live inside the container. */
export const SECRETS_MOUNT_PATH = '/var/run/secrets/connecthub';
/** Name of the SecretProviderClass (Secrets Store CSI driver, AWS provider). */
export const SECRET_PROVIDER_CLASS = 'connecthub-secrets';
/** Seconds added to preStop + drain for the process to exit after draining. */
export const TERMINATION_MARGIN_SECONDS = 10;

const DEFAULT_SCALE_UP: ScalingDirection = { stabilizationWindowSeconds: 0, percent: 100, pods: 4, periodSeconds: 30 };
const DEFAULT_SCALE_DOWN: ScalingDirection = { stabilizationWindowSeconds: 300, percent: 10, pods: 2, periodSeconds: 60 };
/**
 * Share of a realtime pod's connection limit (`MAX_WS_CONNECTIONS`) the HPA aims for: the same headroom as the 70 %
 * CPU target, so a burst of reconnects lands on pods that still accept them instead of answering 503.
 */
export const CONNECTION_TARGET_FRACTION = 0.7;
/** Realtime holds WebSockets: removing a pod disconnects its clients, so it shrinks slowly. */
const REALTIME_SCALE_DOWN: ScalingDirection = { stabilizationWindowSeconds: 600, percent: 10, pods: 1, periodSeconds: 120 };

/** The effective (defaulted) settings of one workload, as the chart rendered it. */
export interface RenderedWorkload {
  readonly name: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly drainSeconds: number;
  readonly terminationGracePeriodSeconds: number;
  readonly scaleUp: ScalingDirection;
  readonly scaleDown: ScalingDirection;
}

/**
 * The backend workloads. Add it to a cluster with `cluster.addCdk8sChart('Backend', chart)` (the EKS
 * construct does) and write the same objects for auditors with `writeBackendManifests`.
 */
export class BackendChart extends Chart {
  /** The namespace every backend object lives in. */
  public readonly namespaceName = BACKEND_NAMESPACE;
  /** Names of the LoadBalancer Services whose NLB hostnames the edge stack needs. */
  public readonly loadBalancedServices: Readonly<Record<LoadBalancedWorkload, string>> = {
    api: workloadObjectName('api'),
    realtime: workloadObjectName('realtime'),
  };
  /**
   * Names the NLBs are created with (`aws-load-balancer-name`), known at synth: the platform stack looks their ARNs
   * up by these names for the CloudFront VPC origins.
   */
  public readonly loadBalancerNames: Readonly<Record<LoadBalancedWorkload, string>>;
  /** Effective settings per workload (for tests, the audit report and the cluster construct). */
  public readonly workloads: Readonly<Record<WorkloadName, RenderedWorkload>>;

  /** The container port (HTTP, probes and /metrics). */
  public readonly port: number;
  /** Open WebSockets per realtime pod the HPA aims for (`autoscaling.connectionsPerPod` or 70 % of the limit). */
  public readonly realtimeConnectionTarget: number;
  /** The OpenTelemetry collector (ADOT): its Service, ServiceAccount, EMF log group and APM secret. */
  public readonly otelCollector: RenderedCollector;
  /** The APM setting the chart was given (the cluster construct checks its grant against it). */
  public readonly apm?: BackendChartProps['apm'];

  private readonly props: BackendChartProps;
  private readonly commonLabels: Record<string, string>;

  constructor(scope: Construct, id: string, props: BackendChartProps, chartProps: Omit<ChartProps, 'namespace'> = {}) {
    validateBackendChartProps(props);
    super(scope, id, { ...chartProps, namespace: BACKEND_NAMESPACE, disableResourceNameHashes: true });
    this.props = props;
    this.port = props.port ?? BACKEND_CONTRACT.defaultPort;
    this.realtimeConnectionTarget = props.autoscaling.connectionsPerPod
      ?? Math.max(1, Math.floor(props.maxWsConnectionsPerPod * CONNECTION_TARGET_FRACTION));
    this.loadBalancerNames = {
      api: loadBalancerName(props.environment, props.region, 'api'),
      realtime: loadBalancerName(props.environment, props.region, 'realtime'),
    };
    this.commonLabels = {
      'app.kubernetes.io/part-of': 'connecthub',
      'app.kubernetes.io/managed-by': 'cdk8s',
      'connecthub.io/environment': props.environment,
    };

    const preStop = props.preStopSleepSeconds ?? 15;
    const rendered = {} as Record<WorkloadName, RenderedWorkload>;
    for (const w of WORKLOADS) {
      const s = props.workloads[w];
      const drainSeconds = s.drainSeconds ?? (w === 'realtime' ? 30 : BACKEND_CONTRACT.defaultDrainSeconds);
      rendered[w] = {
        name: workloadObjectName(w),
        minReplicas: s.minReplicas ?? 3,
        maxReplicas: s.maxReplicas ?? 50,
        drainSeconds,
        terminationGracePeriodSeconds: preStop + drainSeconds + TERMINATION_MARGIN_SECONDS,
        scaleUp: s.scaleUp ?? DEFAULT_SCALE_UP,
        scaleDown: s.scaleDown ?? (w === 'realtime' ? REALTIME_SCALE_DOWN : DEFAULT_SCALE_DOWN),
      };
    }
    this.workloads = rendered;

    this.apm = props.apm;
    this.namespaceObject();
    this.networkPolicies();
    const secretFiles = this.secretFiles();
    if (secretFiles.length > 0) this.secretProviderClass(secretFiles);
    this.kedaAuthentication();
    for (const w of WORKLOADS) {
      this.serviceAccount(w);
      this.deployment(w, preStop, secretFiles.length > 0);
      this.podDisruptionBudget(w);
      this.scaledObject(w);
    }
    this.loadBalancerService('api');
    this.loadBalancerService('realtime');
    this.otelCollector = addOtelCollector(this, {
      environment: props.environment,
      region: props.region,
      clusterName: props.clusterName ?? `connecthub-${props.environment}-${props.region}`,
      vpcCidr: props.vpcCidr,
      backendPort: this.port,
      commonLabels: this.commonLabels,
      backendSelector: { 'app.kubernetes.io/name': 'connecthub-backend' },
      apm: props.apm,
    });
  }

  /** Container image reference: `repo:tag` (asset hash) or `repo@sha256:…`. */
  public get imageReference(): string {
    const { image } = this.props;
    return image.digest ? `${image.repository}@${image.digest}` : `${image.repository}:${image.tag}`;
  }

  private workloadLabels(w: WorkloadName): Record<string, string> {
    return { ...this.commonLabels, ...this.selector(w) };
  }

  private selector(w: WorkloadName): Record<string, string> {
    return { 'app.kubernetes.io/name': 'connecthub-backend', 'app.kubernetes.io/component': w };
  }

  private namespaceObject(): void {
    const ns = new k8s.KubeNamespace(this, 'Namespace', {
      metadata: {
        name: BACKEND_NAMESPACE,
        labels: {
          ...this.commonLabels,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      },
    });
    // A Namespace is cluster-scoped: drop the chart-wide metadata.namespace cdk8s adds to every object.
    ns.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  }

  private secretFiles(): Array<{ alias: string; secret: SecretFile; env: string }> {
    const files: Array<{ alias: string; secret: SecretFile; env: string }> = [];
    if (this.props.database.auth === 'password' && this.props.database.passwordSecret) {
      files.push({ alias: 'database-password', secret: this.props.database.passwordSecret, env: 'DATABASE_PASSWORD_FILE' });
    }
    if (this.props.redis.passwordSecret) {
      files.push({ alias: 'redis-password', secret: this.props.redis.passwordSecret, env: 'REDIS_PASSWORD_FILE' });
    }
    return files;
  }

  /** Secrets Store CSI driver (AWS provider, Pod Identity): secrets arrive as files, never in the manifest. */
  private secretProviderClass(files: Array<{ alias: string; secret: SecretFile }>): void {
    const objects = files
      .map(({ alias, secret }) =>
        secret.jsonKey
          ? `- objectName: "${secret.secretArn}"\n  objectType: "secretsmanager"\n  jmesPath:\n    - path: "${secret.jsonKey}"\n      objectAlias: "${alias}"`
          : `- objectName: "${secret.secretArn}"\n  objectType: "secretsmanager"\n  objectAlias: "${alias}"`,
      )
      .join('\n');
    new ApiObject(this, 'SecretProviderClass', {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: SECRET_PROVIDER_CLASS, labels: this.commonLabels },
      spec: {
        provider: 'aws',
        parameters: { region: this.props.region, usePodIdentity: 'true', objects },
      },
    });
  }

  private serviceAccount(w: WorkloadName): void {
    new k8s.KubeServiceAccount(this, `${w}-ServiceAccount`, {
      metadata: { name: serviceAccountName(w), labels: this.workloadLabels(w) },
      // Pods do not call the Kubernetes API. Pod Identity and the CSI driver bring their own projected tokens.
      automountServiceAccountToken: false,
    });
  }

  private env(w: WorkloadName, sizing: WorkloadSizing, withSecrets: boolean): k8s.EnvVar[] {
    const p = this.props;
    const vars: Array<[string, string | undefined]> = [
      ['CONNECTHUB_ROLE', w],
      ['PORT', String(this.port)],
      ['SHUTDOWN_DRAIN_SECONDS', String(this.workloads[w].drainSeconds)],
      // The preStop sleep already keeps the pod serving while the NLB deregisters it; a second delay would only
      // take drain time away from in-flight requests and WebSockets (backend/README.md).
      ['SHUTDOWN_DELAY_SECONDS', '0'],
      ['DATABASE_WRITER_HOST', p.database.writerHost],
      ['DATABASE_READER_HOST', p.database.readerHost],
      ['DATABASE_PORT', String(p.database.port ?? 5432)],
      ['DATABASE_NAME', p.database.name],
      ['DATABASE_USER', p.database.user],
      ['DATABASE_AUTH', p.database.auth],
      ['DATABASE_PASSWORD_FILE', withSecrets && p.database.auth === 'password' ? `${SECRETS_MOUNT_PATH}/database-password` : undefined],
      ['DATABASE_SSL', p.database.ssl ?? 'require'],
      ['REDIS_ENDPOINT', p.redis.endpoint],
      ['REDIS_CLUSTER', String(p.redis.cluster)],
      ['REDIS_TLS', String(p.redis.tls ?? true)],
      ['REDIS_USERNAME', p.redis.username],
      ['REDIS_PASSWORD_FILE', withSecrets && p.redis.passwordSecret ? `${SECRETS_MOUNT_PATH}/redis-password` : undefined],
      ['KAFKA_BROKERS', p.kafka.brokers],
      ['KAFKA_AUTH', p.kafka.auth ?? 'iam'],
      ['KAFKA_TLS', String(p.kafka.tls ?? true)],
      ['OUTBOX_RELAY', w === 'worker' ? ((p.outboxRelay ?? true) ? 'on' : 'off') : undefined],
      ['JWT_ISSUER', p.jwt.issuer],
      ['JWT_AUDIENCE', p.jwt.audience],
      ['JWT_JWKS_URL', p.jwt.jwksUrl],
      ['FEED_CACHE_TTL_SECONDS', String(p.feedCacheTtlSeconds ?? BACKEND_CONTRACT.feedCacheTtlSeconds)],
      ['QUERY_CACHE_TTL_SECONDS', String(p.queryCacheTtlSeconds ?? BACKEND_CONTRACT.queryCacheTtlSeconds)],
      ['MAX_WS_CONNECTIONS', String(p.maxWsConnectionsPerPod)],
      ['RATE_LIMIT_PER_MINUTE', String(p.rateLimitPerMinute)],
      ['AWS_REGION', p.region],
      ['HOME_REGION', p.homeRegion],
      ['LOG_LEVEL', p.logLevel ?? 'info'],
      // V8's heap stays under the memory limit (75 %), so memory pressure shows in the HPA before an OOM kill.
      ['NODE_OPTIONS', `--max-old-space-size=${Math.floor(sizing.limits.memoryMebibytes * 0.75)}`],
    ];
    // Traces and metrics over OTLP/HTTP to the collector Service (service name and resource attributes per role).
    const otel = backendOtelEnvironment({ environmentName: p.environment, service: w, namespace: BACKEND_NAMESPACE, region: p.region });
    vars.push(...Object.entries(otel));
    return vars.filter((v): v is [string, string] => v[1] !== undefined).map(([name, value]) => ({ name, value }));
  }

  private deployment(w: WorkloadName, preStopSleepSeconds: number, withSecrets: boolean): void {
    const sizing = this.props.workloads[w];
    const r = this.workloads[w];
    const uid = this.props.runAsUser ?? 65532;
    const probe = (path: string, periodSeconds: number, failureThreshold: number): k8s.Probe => ({
      httpGet: { path, port: k8s.IntOrString.fromString('http'), scheme: 'HTTP' },
      periodSeconds,
      failureThreshold,
      timeoutSeconds: 2,
      successThreshold: 1,
    });
    const quantity = (a: { cpuMillicores: number; memoryMebibytes: number }) => ({
      cpu: k8s.Quantity.fromString(`${a.cpuMillicores}m`),
      memory: k8s.Quantity.fromString(`${a.memoryMebibytes}Mi`),
    });
    const spread = (topologyKey: string): k8s.TopologySpreadConstraint => ({
      maxSkew: 1,
      topologyKey,
      // ScheduleAnyway: during a zone outage the HPA must still add pods in the surviving zones
      // (DoNotSchedule would leave them Pending to keep the skew). See docs/kubernetes.md.
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: this.selector(w) },
      matchLabelKeys: ['pod-template-hash'],
    });

    const volumes: k8s.Volume[] = [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } }];
    const mounts: k8s.VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }];
    if (withSecrets) {
      volumes.push({
        name: 'secrets',
        csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: SECRET_PROVIDER_CLASS } },
      });
      mounts.push({ name: 'secrets', mountPath: SECRETS_MOUNT_PATH, readOnly: true });
    }

    new k8s.KubeDeployment(this, `${w}-Deployment`, {
      metadata: { name: r.name, labels: this.workloadLabels(w) },
      spec: {
        // No `replicas`: KEDA's HPA owns the count (a replicas field would reset it on every apply).
        revisionHistoryLimit: 5,
        selector: { matchLabels: this.selector(w) },
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: k8s.IntOrString.fromString('25%'), maxUnavailable: k8s.IntOrString.fromNumber(0) },
        },
        template: {
          metadata: {
            labels: this.workloadLabels(w),
            annotations: {
              // Read by the Amazon Managed Prometheus scraper (see the cluster construct's scrape config).
              'prometheus.io/scrape': 'true',
              'prometheus.io/port': String(this.port),
              'prometheus.io/path': BACKEND_CONTRACT.paths.metrics,
            },
          },
          spec: {
            serviceAccountName: serviceAccountName(w),
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: r.terminationGracePeriodSeconds,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: uid,
              runAsGroup: uid,
              fsGroup: uid,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            topologySpreadConstraints: [spread('topology.kubernetes.io/zone'), spread('kubernetes.io/hostname')],
            containers: [
              {
                name: 'backend',
                image: this.imageReference,
                imagePullPolicy: 'IfNotPresent',
                ports: [{ name: 'http', containerPort: this.port, protocol: 'TCP' }],
                env: this.env(w, sizing, withSecrets),
                resources: { requests: quantity(sizing.requests), limits: quantity(sizing.limits) },
                // startup gates liveness: up to 60 s to boot; then liveness restarts a hung process,
                // readiness (which checks dependencies and fails while draining) takes it out of the LB.
                startupProbe: probe(BACKEND_CONTRACT.paths.liveness, 2, 30),
                readinessProbe: probe(BACKEND_CONTRACT.paths.readiness, 5, 2),
                livenessProbe: probe(BACKEND_CONTRACT.paths.liveness, 10, 3),
                lifecycle: { preStop: { sleep: { seconds: preStopSleepSeconds } } },
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: uid,
                  runAsGroup: uid,
                  allowPrivilegeEscalation: false,
                  privileged: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                  seccompProfile: { type: 'RuntimeDefault' },
                },
                volumeMounts: mounts,
              },
            ],
            volumes,
          },
        },
      },
    });
  }

  /** maxUnavailable 1: a node drain always proceeds, even at the HPA minimum, one pod at a time. */
  private podDisruptionBudget(w: WorkloadName): void {
    new k8s.KubePodDisruptionBudget(this, `${w}-PodDisruptionBudget`, {
      metadata: { name: workloadObjectName(w), labels: this.workloadLabels(w) },
      spec: {
        maxUnavailable: k8s.IntOrString.fromNumber(1),
        selector: { matchLabels: this.selector(w) },
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }

  /** KEDA reaches AWS (Prometheus workspace, MSK) with the operator's own Pod Identity. */
  private kedaAuthentication(): void {
    new ApiObject(this, 'KedaAwsAuthentication', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'TriggerAuthentication',
      metadata: { name: 'connecthub-keda-aws', labels: this.commonLabels },
      spec: { podIdentity: { provider: 'aws' } },
    });
  }

  /** One ScaledObject per workload; KEDA creates and owns the HPA (named like the Deployment). */
  private scaledObject(w: WorkloadName): void {
    const r = this.workloads[w];
    const a = this.props.autoscaling;
    const auth = { name: 'connecthub-keda-aws' };
    const triggers: Array<Record<string, unknown>> = [
      { type: 'cpu', metricType: 'Utilization', metadata: { value: '70' } },
      { type: 'memory', metricType: 'Utilization', metadata: { value: '80' } },
    ];
    if (w === 'realtime') {
      // A socket costs memory and heartbeats for as long as it stays open, whatever its request rate: scale on the
      // open connections (AverageValue: desired pods = all open sockets / target per pod).
      triggers.push({
        type: 'prometheus',
        name: 'connections-per-pod',
        metricType: 'AverageValue',
        authenticationRef: auth,
        metadata: {
          serverAddress: a.prometheusQueryEndpoint,
          awsRegion: a.awsRegion,
          query: `sum(${BACKEND_CONTRACT.metrics.wsConnections}{namespace="${BACKEND_NAMESPACE}",role="realtime"})`,
          threshold: String(this.realtimeConnectionTarget),
          ignoreNullValues: 'true',
        },
      });
    }
    if (w === 'api' || w === 'realtime') {
      const metric = a.requestCounterMetric ?? BACKEND_CONTRACT.metrics.httpRequestsTotal;
      triggers.push({
        type: 'prometheus',
        name: 'requests-per-minute',
        metricType: 'AverageValue',
        authenticationRef: auth,
        metadata: {
          serverAddress: a.prometheusQueryEndpoint,
          awsRegion: a.awsRegion,
          // requests per minute over all pods of the role; AverageValue divides by the pod count.
          query: `sum(rate(${metric}{namespace="${BACKEND_NAMESPACE}",role="${w}"}[2m])) * 60`,
          threshold: String(a.requestsPerMinutePerPod ?? 1000),
          // No data (scraper gap) must not scale to the minimum behind CPU's back: treat as 0 and let CPU/memory decide.
          ignoreNullValues: 'true',
        },
      });
    } else {
      const groups = a.workerConsumerGroups ?? [{ group: BACKEND_CONTRACT.activityConsumerGroup }];
      for (const g of groups) {
        triggers.push({
          type: 'apache-kafka',
          name: `lag-${(g.topic ?? g.group).replace(/[^a-z0-9-]/g, '-')}`,
          metricType: 'AverageValue',
          authenticationRef: auth,
          metadata: {
            bootstrapServers: this.props.kafka.brokers,
            consumerGroup: g.group,
            // Without a topic KEDA sums the lag over every topic the group consumes.
            ...(g.topic ? { topic: g.topic } : {}),
            // More consumers than partitions would idle: KEDA caps replicas at the partition count.
            allowIdleConsumers: 'false',
            lagThreshold: String(a.pendingMessagesPerPod ?? 100),
            offsetResetPolicy: 'earliest',
            ...((this.props.kafka.auth ?? 'iam') === 'iam' ? { sasl: 'aws_msk_iam', awsRegion: a.awsRegion } : {}),
            tls: (this.props.kafka.tls ?? true) ? 'enable' : 'disable',
          },
        });
      }
    }
    const direction = (d: ScalingDirection, select: 'Max' | 'Min') => ({
      stabilizationWindowSeconds: d.stabilizationWindowSeconds,
      selectPolicy: select,
      policies: [
        { type: 'Percent', value: d.percent, periodSeconds: d.periodSeconds },
        { type: 'Pods', value: d.pods, periodSeconds: d.periodSeconds },
      ],
    });
    new ApiObject(this, `${w}-ScaledObject`, {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: r.name, labels: this.workloadLabels(w) },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: r.name },
        minReplicaCount: r.minReplicas,
        maxReplicaCount: r.maxReplicas,
        pollingInterval: 15,
        // If a metric source fails, hold at least the minimum rather than guessing.
        fallback: { failureThreshold: 3, replicas: r.minReplicas },
        advanced: {
          horizontalPodAutoscalerConfig: {
            name: r.name,
            behavior: { scaleUp: direction(r.scaleUp, 'Max'), scaleDown: direction(r.scaleDown, 'Min') },
          },
        },
        triggers,
      },
    });
  }

  /** Auto Mode NLB (ip targets) with health checks on the readiness path. */
  private loadBalancerService(w: LoadBalancedWorkload): void {
    const lb = this.props.loadBalancer ?? {};
    const tls = lb.certificateArn !== undefined;
    const tgAttributes = [`deregistration_delay.timeout_seconds=${lb.deregistrationDelaySeconds ?? 30}`];
    // No target-group stickiness for realtime: behind CloudFront's VPC origin the NLB sees a handful of CloudFront
    // network interfaces as sources, so source-IP stickiness would pin every WebSocket to a few pods and leave new
    // pods idle. A WebSocket already stays on its pod for its lifetime; a reconnect may land on any pod (delivery
    // fans out through Redis and presence lives in Redis).
    const annotations: Record<string, string> = {
      // A fixed name, so the platform stack can find the NLB's ARN (the CloudFront VPC origin needs the ARN).
      'service.beta.kubernetes.io/aws-load-balancer-name': this.loadBalancerNames[w],
      'service.beta.kubernetes.io/aws-load-balancer-scheme': lb.scheme ?? 'internal',
      'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
      'service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol': 'HTTP',
      'service.beta.kubernetes.io/aws-load-balancer-healthcheck-port': 'traffic-port',
      'service.beta.kubernetes.io/aws-load-balancer-healthcheck-path': BACKEND_CONTRACT.paths.readiness,
      'service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval': '10',
      'service.beta.kubernetes.io/aws-load-balancer-healthcheck-healthy-threshold': '2',
      'service.beta.kubernetes.io/aws-load-balancer-healthcheck-unhealthy-threshold': '2',
      'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': tgAttributes.join(','),
      'service.beta.kubernetes.io/aws-load-balancer-attributes': 'load_balancing.cross_zone.enabled=true',
    };
    if (tls) {
      annotations['service.beta.kubernetes.io/aws-load-balancer-ssl-cert'] = lb.certificateArn!;
      annotations['service.beta.kubernetes.io/aws-load-balancer-ssl-ports'] = '443';
      annotations['service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy'] = 'ELBSecurityPolicy-TLS13-1-2-2021-06';
    }
    new k8s.KubeService(this, `${w}-Service`, {
      metadata: { name: workloadObjectName(w), labels: this.workloadLabels(w), annotations },
      spec: {
        type: 'LoadBalancer',
        loadBalancerClass: AUTO_MODE_NLB_CLASS,
        selector: this.selector(w),
        loadBalancerSourceRanges: [...(lb.sourceRanges ?? [this.props.vpcCidr])],
        ports: [{ name: tls ? 'https' : 'http', port: tls ? 443 : 80, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' }],
        // The plan's ClientIP affinity; it applies to in-cluster traffic through kube-proxy (NLB IP targets bypass it).
        ...(w === 'realtime'
          ? { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIp: { timeoutSeconds: 10800 } } }
          : {}),
      },
    });
  }

  /**
   * Default deny, then only what the backend needs. Egress to data services is limited to the VPC CIDR
   * and their ports; HTTPS (AWS APIs, JWKS) to anywhere on 443; DNS; the Pod Identity agent.
   */
  private networkPolicies(): void {
    const p = this.props;
    const all = { matchLabels: { 'app.kubernetes.io/name': 'connecthub-backend' } };
    const vpc = [{ ipBlock: { cidr: p.vpcCidr } }];
    const tcp = (port: number) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) });

    new k8s.KubeNetworkPolicy(this, 'DefaultDeny', {
      metadata: { name: 'default-deny-all', labels: this.commonLabels },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
    new k8s.KubeNetworkPolicy(this, 'AllowIngressHttp', {
      metadata: { name: 'allow-ingress-http-from-vpc', labels: this.commonLabels },
      spec: {
        // Every source of this traffic has a VPC address: the NLB (IP targets over TCP, client-IP preservation off,
        // so pods see the NLB's own private addresses in its subnets, whatever client CloudFront forwarded), the
        // kubelet probes (node addresses) and the managed Prometheus scraper (its ENIs in the private subnets). The
        // subnet CIDRs are not known here (the VPC is imported by id), so the VPC CIDR is the narrowest literal.
        podSelector: all,
        policyTypes: ['Ingress'],
        ingress: [{ from: vpc, ports: [tcp(this.port)] }],
      },
    });
    new k8s.KubeNetworkPolicy(this, 'AllowEgress', {
      metadata: { name: 'allow-egress-backend-dependencies', labels: this.commonLabels },
      spec: {
        podSelector: all,
        policyTypes: ['Egress'],
        egress: [
          { ports: [{ protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) }, tcp(53)] },
          { to: vpc, ports: [tcp(p.database.port ?? 5432)] },
          { to: vpc, ports: [tcp(p.redis.port ?? 6379)] },
          { to: vpc, ports: [tcp(p.kafka.port ?? 9098)] },
          { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcp(443)] },
          // EKS Pod Identity agent (link-local) hands out the workload's AWS credentials.
          { to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [tcp(80)] },
          // Traces and metrics to the OpenTelemetry collector (OTLP gRPC and HTTP).
          {
            to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': COLLECTOR_SERVICE_NAME } } }],
            ports: [tcp(COLLECTOR_OTLP_GRPC_PORT), tcp(COLLECTOR_OTLP_HTTP_PORT)],
          },
        ],
      },
    });
  }
}
