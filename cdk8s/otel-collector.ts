/**
 * The ADOT (AWS Distro for OpenTelemetry) collector of the backend namespace: the backend pods send traces and
 * metrics to it over OTLP (4317 gRPC / 4318 HTTP); it writes metrics to CloudWatch (EMF log group, namespace
 * ConnectHub/Backend), traces to X-Ray and, with `apm`, the same data to an APM vendor over OTLP/HTTP.
 *
 * The collector configuration is the plain-data `collectorConfig(...)` of constructs/observability/otel-config.ts,
 * rendered as YAML into a ConfigMap. The vendor API key is a Secrets Manager secret mounted as a file through
 * the Secrets Store CSI driver (the collector reads it with its `file` config provider): it never appears in the
 * manifest, in an env var or in a Kubernetes Secret.
 */
import { createHash } from 'node:crypto';
import { ApiObject, type Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { stringify } from 'yaml';
import {
  type ApmConfig,
  COLLECTOR_OTLP_GRPC_PORT,
  COLLECTOR_OTLP_HTTP_PORT,
  COLLECTOR_SERVICE_NAME,
  collectorConfig,
} from '../constructs/observability/otel-config';
import type { ApmSettings } from './backend-chart-props';
import { BACKEND_NAMESPACE } from './workload-names';

/**
 * ADOT collector v0.48.0, pinned by digest (a tag can be re-pushed; the digest cannot). The digest is the one a
 * public repository records as verified for the v0.48.0 release; check it before a bump with
 * `crane digest public.ecr.aws/aws-observability/aws-otel-collector:v0.48.0` (see docs/kubernetes.md).
 */
export const ADOT_COLLECTOR_IMAGE =
  'public.ecr.aws/aws-observability/aws-otel-collector:v0.48.0@sha256:9b28046359054b414f4ba76056ba4e8cffda2d53fbcee06171d7eeecd71326c3';
/** ServiceAccount of the collector; its Pod Identity association points here. */
export const COLLECTOR_SERVICE_ACCOUNT = COLLECTOR_SERVICE_NAME;
/** The collector's health_check extension port (probes). */
export const COLLECTOR_HEALTH_PORT = 13133;
/** SecretProviderClass of the APM key (only with `apm`). */
export const APM_SECRET_PROVIDER_CLASS = 'connecthub-otel-apm';
/** Where the APM key file is mounted in the collector container. */
export const APM_SECRET_MOUNT_PATH = '/var/run/secrets/connecthub-apm';
/** File name (CSI object alias) of the APM key. */
export const APM_SECRET_FILE = 'api-key';
/** Pod Identity agent (link-local) that hands out the collector's AWS credentials. */
const POD_IDENTITY_AGENT = '169.254.170.23/32';
const DEFAULT_HEADERS: Readonly<Record<ApmSettings['vendor'], string>> = { newrelic: 'api-key', datadog: 'dd-api-key', otlp: 'x-api-key' };

/** What the backend chart passes to {@link addOtelCollector}. */
export interface OtelCollectorOptions {
  readonly environment: string;
  readonly region: string;
  readonly clusterName: string;
  /** CIDR of the VPC (kubelet health probes come from the nodes). */
  readonly vpcCidr: string;
  /** Container port of the backend pods (the collector scrapes their /metrics there). */
  readonly backendPort: number;
  /** Labels every object carries. */
  readonly commonLabels: Readonly<Record<string, string>>;
  /** Pod selector of the backend pods (all roles). */
  readonly backendSelector: Readonly<Record<string, string>>;
  readonly apm?: ApmSettings;
}

/** What the chart tells the cluster construct about the collector. */
export interface RenderedCollector {
  /** Service name (`<name>.<namespace>.svc.cluster.local`). */
  readonly serviceName: string;
  readonly serviceAccountName: string;
  /** CloudWatch Logs group the EMF exporter writes (the cluster construct creates it with retention and KMS). */
  readonly logGroupName: string;
  /** CloudWatch namespace of the metrics the EMF exporter writes. */
  readonly metricNamespace: string;
  /** The APM key secret the collector's role must read, if any. */
  readonly apmApiKeySecretArn?: string;
  /** The collector configuration, as rendered into the ConfigMap. */
  readonly config: Record<string, unknown>;
}

/** The ADOT form of the chart's APM setting: every vendor through the OTLP/HTTP exporter, key from the mounted file. */
export function toCollectorApm(apm: ApmSettings | undefined): ApmConfig | undefined {
  if (!apm) return undefined;
  return {
    vendor: 'otlp',
    endpoint: apm.endpoint,
    headerName: apm.headerName ?? DEFAULT_HEADERS[apm.vendor],
    apiKey: { file: `${APM_SECRET_MOUNT_PATH}/${APM_SECRET_FILE}` },
  };
}

/** Adds the collector's objects to `chart` (which lives in the backend namespace). */
export function addOtelCollector(chart: Chart, o: OtelCollectorOptions): RenderedCollector {
  const selector = { 'app.kubernetes.io/name': COLLECTOR_SERVICE_NAME, 'app.kubernetes.io/component': 'otel-collector' };
  const labels = { ...o.commonLabels, ...selector };
  const config = collectorConfig({
    environmentName: o.environment,
    region: o.region,
    clusterName: o.clusterName,
    namespace: BACKEND_NAMESPACE,
    apm: toCollectorApm(o.apm),
  });
  const awsemf = (config.exporters as Record<string, { log_group_name?: string; namespace?: string }>).awsemf;
  const configYaml = stringify(config, { lineWidth: 0 });
  const tcp = (port: number) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) });
  const uid = 10001;

  new k8s.KubeServiceAccount(chart, 'OtelCollector-ServiceAccount', {
    metadata: { name: COLLECTOR_SERVICE_ACCOUNT, labels },
    // The Prometheus receiver discovers the backend pods through the Kubernetes API (the Role below).
    automountServiceAccountToken: true,
  });
  new k8s.KubeRole(chart, 'OtelCollector-Role', {
    metadata: { name: COLLECTOR_SERVICE_NAME, labels },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
  });
  new k8s.KubeRoleBinding(chart, 'OtelCollector-RoleBinding', {
    metadata: { name: COLLECTOR_SERVICE_NAME, labels },
    subjects: [{ kind: 'ServiceAccount', name: COLLECTOR_SERVICE_ACCOUNT, namespace: BACKEND_NAMESPACE }],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: COLLECTOR_SERVICE_NAME },
  });
  new k8s.KubeConfigMap(chart, 'OtelCollector-Config', {
    metadata: { name: COLLECTOR_SERVICE_NAME, labels },
    data: { 'collector.yaml': configYaml },
  });

  const volumes: k8s.Volume[] = [
    { name: 'config', configMap: { name: COLLECTOR_SERVICE_NAME } },
    { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
  ];
  const mounts: k8s.VolumeMount[] = [
    { name: 'config', mountPath: '/etc/otel', readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  if (o.apm) {
    const object = o.apm.apiKeyJsonKey
      ? `- objectName: "${o.apm.apiKeySecretArn}"\n  objectType: "secretsmanager"\n  jmesPath:\n    - path: "${o.apm.apiKeyJsonKey}"\n      objectAlias: "${APM_SECRET_FILE}"`
      : `- objectName: "${o.apm.apiKeySecretArn}"\n  objectType: "secretsmanager"\n  objectAlias: "${APM_SECRET_FILE}"`;
    new ApiObject(chart, 'OtelCollector-ApmSecretProviderClass', {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: APM_SECRET_PROVIDER_CLASS, labels },
      spec: { provider: 'aws', parameters: { region: o.region, usePodIdentity: 'true', objects: object } },
    });
    volumes.push({ name: 'apm-secret', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: APM_SECRET_PROVIDER_CLASS } } });
    mounts.push({ name: 'apm-secret', mountPath: APM_SECRET_MOUNT_PATH, readOnly: true });
  }

  const probe = (periodSeconds: number, failureThreshold: number): k8s.Probe => ({
    httpGet: { path: '/', port: k8s.IntOrString.fromString('health'), scheme: 'HTTP' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
    successThreshold: 1,
  });
  const spread = (topologyKey: string): k8s.TopologySpreadConstraint => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: selector },
    matchLabelKeys: ['pod-template-hash'],
  });
  new k8s.KubeDeployment(chart, 'OtelCollector-Deployment', {
    metadata: { name: COLLECTOR_SERVICE_NAME, labels },
    spec: {
      // Two replicas in different zones behind the Service: one may be drained or lost without a gap.
      replicas: 2,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: k8s.IntOrString.fromNumber(1), maxUnavailable: k8s.IntOrString.fromNumber(0) } },
      template: {
        metadata: {
          labels,
          // A changed configuration rolls the pods (the collector reads its file only at start).
          annotations: { 'connecthub.io/config-sha256': createHash('sha256').update(configYaml).digest('hex') },
        },
        spec: {
          serviceAccountName: COLLECTOR_SERVICE_ACCOUNT,
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: 'RuntimeDefault' } },
          topologySpreadConstraints: [spread('topology.kubernetes.io/zone'), spread('kubernetes.io/hostname')],
          containers: [
            {
              name: 'otel-collector',
              image: ADOT_COLLECTOR_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              args: ['--config=/etc/otel/collector.yaml'],
              ports: [
                { name: 'otlp-grpc', containerPort: COLLECTOR_OTLP_GRPC_PORT, protocol: 'TCP' },
                { name: 'otlp-http', containerPort: COLLECTOR_OTLP_HTTP_PORT, protocol: 'TCP' },
                { name: 'health', containerPort: COLLECTOR_HEALTH_PORT, protocol: 'TCP' },
              ],
              env: [{ name: 'AWS_REGION', value: o.region }],
              // memory_limiter works at 80 % of the container limit (cgroup), so the collector sheds load before an OOM kill.
              resources: {
                requests: { cpu: k8s.Quantity.fromString('200m'), memory: k8s.Quantity.fromString('256Mi') },
                limits: { cpu: k8s.Quantity.fromString('1000m'), memory: k8s.Quantity.fromString('512Mi') },
              },
              startupProbe: probe(2, 30),
              readinessProbe: probe(5, 2),
              livenessProbe: probe(10, 3),
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
  new k8s.KubePodDisruptionBudget(chart, 'OtelCollector-PodDisruptionBudget', {
    metadata: { name: COLLECTOR_SERVICE_NAME, labels },
    spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
  });
  new k8s.KubeService(chart, 'OtelCollector-Service', {
    metadata: { name: COLLECTOR_SERVICE_NAME, labels },
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [
        { name: 'otlp-grpc', port: COLLECTOR_OTLP_GRPC_PORT, targetPort: k8s.IntOrString.fromString('otlp-grpc'), protocol: 'TCP', appProtocol: 'grpc' },
        { name: 'otlp-http', port: COLLECTOR_OTLP_HTTP_PORT, targetPort: k8s.IntOrString.fromString('otlp-http'), protocol: 'TCP', appProtocol: 'http' },
      ],
    },
  });

  // The namespace's default-deny applies: OTLP only from the backend pods, probes from the nodes.
  new k8s.KubeNetworkPolicy(chart, 'OtelCollector-AllowIngress', {
    metadata: { name: 'allow-ingress-otel-collector', labels },
    spec: {
      podSelector: { matchLabels: selector },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: { ...o.backendSelector } } }], ports: [tcp(COLLECTOR_OTLP_GRPC_PORT), tcp(COLLECTOR_OTLP_HTTP_PORT)] },
        { from: [{ ipBlock: { cidr: o.vpcCidr } }], ports: [tcp(COLLECTOR_HEALTH_PORT)] },
      ],
    },
  });
  new k8s.KubeNetworkPolicy(chart, 'OtelCollector-AllowEgress', {
    metadata: { name: 'allow-egress-otel-collector', labels },
    spec: {
      podSelector: { matchLabels: selector },
      policyTypes: ['Egress'],
      egress: [
        { ports: [{ protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) }, tcp(53)] },
        // CloudWatch Logs, X-Ray, the APM vendor and the Kubernetes API (pod discovery), all HTTPS.
        { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcp(443)] },
        { to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT } }], ports: [tcp(80)] },
        // Scrapes: the backend's /metrics and kube-state-metrics (HPA replicas).
        { to: [{ podSelector: { matchLabels: { ...o.backendSelector } } }], ports: [tcp(o.backendPort)] },
        { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: [tcp(8080)] },
      ],
    },
  });

  return {
    serviceName: COLLECTOR_SERVICE_NAME,
    serviceAccountName: COLLECTOR_SERVICE_ACCOUNT,
    logGroupName: awsemf.log_group_name!,
    metricNamespace: awsemf.namespace!,
    apmApiKeySecretArn: o.apm?.apiKeySecretArn,
    config,
  };
}
