/**
 * OpenTelemetry wiring for the backend, as plain data the cdk8s chart can consume (no CDK imports).
 *
 * - {@link backendOtelEnvironment}: env vars for the backend pods (traces and metrics to the collector).
 * - {@link collectorConfig}: the ADOT collector configuration (an object; render it as YAML into the
 *   collector's ConfigMap). It writes backend metrics to CloudWatch (awsemf, namespace
 *   ConnectHub/Backend), traces to X-Ray, and, when `apm` is set, the same traces and metrics to New
 *   Relic (OTLP) or Datadog (datadog exporter) - an APM vendor is attached by configuration alone.
 * - {@link collectorSecretEnvironment}: env vars of the collector pod that carry the vendor API key from a
 *   Kubernetes Secret (never a plain value).
 * See docs/observability.md for the metric mapping table.
 */
import { BACKEND_METRICS, BACKEND_NAMESPACE, type BackendService } from '../../lambdas/slo-reporter/slo-definitions';

/** OTLP/HTTP port of the collector service. */
export const COLLECTOR_OTLP_HTTP_PORT = 4318;
/** OTLP/gRPC port of the collector service. */
export const COLLECTOR_OTLP_GRPC_PORT = 4317;
/** Name of the collector's Kubernetes Service (and Deployment) in the backend namespace. */
export const COLLECTOR_SERVICE_NAME = 'connecthub-otel-collector';
/** Env var of the collector that holds the APM vendor's API key. */
export const APM_API_KEY_ENV = 'APM_API_KEY';

/** A key in a Kubernetes Secret (for example synced from AWS Secrets Manager by the Secrets Store CSI driver). */
export interface SecretKeyRef {
  readonly secretName: string;
  readonly key: string;
}

/**
 * A secret delivered to the collector as a file (Secrets Store CSI driver): the collector reads it with its
 * `file` config provider (`${file:<path>}`), so the key is never an env value or a Kubernetes Secret.
 */
export interface SecretFileRef {
  /** Absolute path of the mounted file inside the collector container. */
  readonly file: string;
}

/** Where the collector finds the vendor API key. */
export type ApiKeySource = SecretKeyRef | SecretFileRef;

function isFileRef(k: ApiKeySource): k is SecretFileRef {
  return typeof (k as SecretFileRef).file === 'string';
}

/** The collector-config reference that expands to the API key at collector start. */
export function apiKeyReference(k: ApiKeySource): string {
  return isFileRef(k) ? `\${file:${k.file}}` : `\${env:${APM_API_KEY_ENV}}`;
}

/** New Relic: OTLP/HTTP to New Relic's endpoint with the license key in the `api-key` header. */
export interface NewRelicApm {
  readonly vendor: 'newrelic';
  /** Data center of the New Relic account. @default 'us' */
  readonly region?: 'us' | 'eu';
  readonly apiKey: ApiKeySource;
}

/** Datadog: the collector's `datadog` exporter (bundled in ADOT) with the API key and site. */
export interface DatadogApm {
  readonly vendor: 'datadog';
  /** Datadog site. @default 'datadoghq.com' */
  readonly site?: 'datadoghq.com' | 'datadoghq.eu' | 'us3.datadoghq.com' | 'us5.datadoghq.com' | 'ap1.datadoghq.com';
  readonly apiKey: ApiKeySource;
}

/** Any other OTLP/HTTP backend: endpoint plus the header that carries the key. */
export interface GenericOtlpApm {
  readonly vendor: 'otlp';
  /** https:// base endpoint (the exporter appends /v1/traces and /v1/metrics). */
  readonly endpoint: string;
  /** Header carrying the key, for example `x-api-key`. */
  readonly headerName: string;
  readonly apiKey: ApiKeySource;
}

export type ApmConfig = NewRelicApm | DatadogApm | GenericOtlpApm;

export interface BackendOtelOptions {
  readonly environmentName: string;
  readonly service: BackendService;
  /** Kubernetes namespace of the collector service. */
  readonly namespace: string;
  /** Share of traces sampled at the root (parent-based). @default 0.1 */
  readonly traceSampleRatio?: number;
  /** AWS region of the pods, added to the resource attributes as `cloud.region`. @default - not set */
  readonly region?: string;
}

export interface CollectorOptions {
  readonly environmentName: string;
  /** AWS region the collector runs in (CloudWatch and X-Ray endpoints). */
  readonly region: string;
  readonly clusterName: string;
  /** Namespace of the backend pods (scraped) and of the collector. */
  readonly namespace: string;
  /** Send traces and metrics to an APM vendor as well. @default - CloudWatch and X-Ray only */
  readonly apm?: ApmConfig;
  /** Service and port of kube-state-metrics (HPA replica metrics). @default 'kube-state-metrics.kube-system.svc:8080' */
  readonly kubeStateMetricsTarget?: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/** Problems with an APM configuration, each naming the field, value and what is allowed. */
export function validateApmConfig(apm: ApmConfig | undefined, field = 'apm'): string[] {
  if (!apm) return [];
  const p: string[] = [];
  const vendor = (apm as { vendor: string }).vendor;
  if (!['newrelic', 'datadog', 'otlp'].includes(vendor)) return [`${field}.vendor "${vendor}" is not supported; use newrelic, datadog or otlp`];
  if (isFileRef(apm.apiKey)) {
    if (!/^\/[-._a-zA-Z0-9/]+$/.test(apm.apiKey.file)) p.push(`${field}.apiKey.file "${apm.apiKey.file}" must be an absolute path (letters, digits, '-', '_', '.', '/')`);
  } else {
    if (!DNS_LABEL.test(apm.apiKey.secretName)) p.push(`${field}.apiKey.secretName "${apm.apiKey.secretName}" must be a Kubernetes object name (lower-case letters, digits, '-')`);
    if (!SECRET_KEY.test(apm.apiKey.key)) p.push(`${field}.apiKey.key "${apm.apiKey.key}" must be a Secret data key (letters, digits, '-', '_', '.')`);
  }
  if (apm.vendor === 'newrelic' && apm.region !== undefined && !['us', 'eu'].includes(apm.region)) p.push(`${field}.region "${apm.region}" must be us or eu`);
  if (apm.vendor === 'otlp') {
    let https = false;
    try {
      https = new URL(apm.endpoint).protocol === 'https:';
    } catch {
      https = false;
    }
    if (!https) p.push(`${field}.endpoint "${apm.endpoint}" must be an https:// URL`);
    if (!/^[A-Za-z0-9-]+$/.test(apm.headerName)) p.push(`${field}.headerName "${apm.headerName}" must be an HTTP header name`);
  }
  return p;
}

/** Env vars for a backend container: OTLP/HTTP to the collector, service identity, sampling, propagation. */
export function backendOtelEnvironment(o: BackendOtelOptions): Record<string, string> {
  const ratio = o.traceSampleRatio ?? 0.1;
  if (!(ratio >= 0 && ratio <= 1)) throw new Error(`traceSampleRatio ${ratio} must be between 0 and 1`);
  if (!DNS_LABEL.test(o.namespace)) throw new Error(`namespace "${o.namespace}" must be a Kubernetes namespace name`);
  return {
    OTEL_SERVICE_NAME: `connecthub-${o.service}`,
    OTEL_RESOURCE_ATTRIBUTES: `service.namespace=connecthub,deployment.environment.name=${o.environmentName},connecthub.role=${o.service}${o.region ? `,cloud.provider=aws,cloud.region=${o.region}` : ''}`,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://${COLLECTOR_SERVICE_NAME}.${o.namespace}.svc.cluster.local:${COLLECTOR_OTLP_HTTP_PORT}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'none',
    // CloudWatch computes percentiles only from distributions; awsemf writes those for exponential histograms.
    OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram',
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
    OTEL_METRIC_EXPORT_INTERVAL: '60000',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(ratio),
    OTEL_PROPAGATORS: 'tracecontext,baggage,xray',
  };
}

/**
 * OTLP instrument (pushed by the backend, milliseconds, exponential histograms) -> CloudWatch metric.
 * Counters come from the Prometheus endpoint the backend already serves (see {@link collectorConfig}).
 */
export const OTLP_METRIC_RENAMES: Readonly<Record<string, string>> = {
  'connecthub.http.server.duration': BACKEND_METRICS.requestLatency,
  'connecthub.message.delivery.duration': BACKEND_METRICS.messageDeliveryLatency,
  'connecthub.db.query.duration': BACKEND_METRICS.dbQueryLatency,
};

const NEW_RELIC_ENDPOINTS = { us: 'https://otlp.nr-data.net', eu: 'https://otlp.eu01.nr-data.net' } as const;

/** Env vars of the collector container: the APM key from its Secret. Empty without `apm` or with a file-based key. */
export function collectorSecretEnvironment(apm: ApmConfig | undefined): Array<{ name: string; valueFrom: { secretKeyRef: { name: string; key: string } } }> {
  if (!apm) return [];
  const problems = validateApmConfig(apm);
  if (problems.length > 0) throw new Error(`Invalid APM configuration: ${problems.join('; ')}`);
  if (isFileRef(apm.apiKey)) return [];
  return [{ name: APM_API_KEY_ENV, valueFrom: { secretKeyRef: { name: apm.apiKey.secretName, key: apm.apiKey.key } } }];
}

/** The ADOT collector configuration for one cluster (render as YAML). */
export function collectorConfig(o: CollectorOptions): Record<string, unknown> {
  const problems = validateApmConfig(o.apm);
  if (!DNS_LABEL.test(o.namespace)) problems.push(`namespace "${o.namespace}" must be a Kubernetes namespace name`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(o.region)) problems.push(`region "${o.region}" is not an AWS region name`);
  if (problems.length > 0) throw new Error(`Invalid collector options: ${problems.join('; ')}`);
  const renameStatements = Object.entries(OTLP_METRIC_RENAMES).map(([from, to]) => `set(metric.name, "${to}") where metric.name == "${from}"`);
  const exporters: Record<string, unknown> = {
    awsemf: {
      region: o.region,
      namespace: BACKEND_NAMESPACE,
      log_group_name: `/connecthub/${o.environmentName}/metrics`,
      log_retention: 30,
      dimension_rollup_option: 'NoDimensionRollup',
      resource_to_telemetry_conversion: { enabled: true },
      metric_declarations: [
        {
          dimensions: [['Environment', 'Service']],
          metric_name_selectors: [`^(${Object.values(BACKEND_METRICS).join('|')})$`],
        },
      ],
    },
    // Resource attributes become segment annotations only under their `otel.resource.` names. W3C (fully random)
    // trace ids are accepted: X-Ray takes them from ADOT 0.34 on (the exporter skips its timestamp check by default).
    awsxray: { region: o.region, indexed_attributes: ['otel.resource.deployment.environment.name', 'otel.resource.connecthub.role'] },
  };
  const traceExporters = ['awsxray'];
  const metricExporters = ['awsemf'];
  if (o.apm?.vendor === 'newrelic') {
    exporters['otlphttp/apm'] = { endpoint: NEW_RELIC_ENDPOINTS[o.apm.region ?? 'us'], headers: { 'api-key': apiKeyReference(o.apm.apiKey) }, compression: 'gzip' };
  } else if (o.apm?.vendor === 'datadog') {
    exporters['datadog/apm'] = { api: { key: apiKeyReference(o.apm.apiKey), site: o.apm.site ?? 'datadoghq.com' } };
  } else if (o.apm?.vendor === 'otlp') {
    exporters['otlphttp/apm'] = { endpoint: o.apm.endpoint, headers: { [o.apm.headerName]: apiKeyReference(o.apm.apiKey) }, compression: 'gzip' };
  }
  const apmExporter = o.apm ? (o.apm.vendor === 'datadog' ? 'datadog/apm' : 'otlphttp/apm') : undefined;
  if (apmExporter) {
    traceExporters.push(apmExporter);
    metricExporters.push(apmExporter);
  }
  return {
    receivers: {
      otlp: { protocols: { grpc: { endpoint: `0.0.0.0:${COLLECTOR_OTLP_GRPC_PORT}` }, http: { endpoint: `0.0.0.0:${COLLECTOR_OTLP_HTTP_PORT}` } } },
      prometheus: {
        config: {
          scrape_configs: [
            {
              job_name: 'connecthub-backend',
              scrape_interval: '30s',
              metrics_path: '/metrics',
              kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [o.namespace] } }],
              relabel_configs: [
                { source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_part_of'], regex: 'connecthub', action: 'keep' },
                { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'http', action: 'keep' },
              ],
              metric_relabel_configs: [{ source_labels: ['__name__'], regex: 'http_requests_total', action: 'keep' }],
            },
            {
              job_name: 'kube-state-metrics',
              scrape_interval: '60s',
              static_configs: [{ targets: [o.kubeStateMetricsTarget ?? 'kube-state-metrics.kube-system.svc:8080'] }],
              metric_relabel_configs: [
                { source_labels: ['__name__'], regex: 'kube_horizontalpodautoscaler_status_(current|desired)_replicas', action: 'keep' },
                { source_labels: ['namespace'], regex: o.namespace, action: 'keep' },
              ],
            },
          ],
        },
      },
    },
    processors: {
      memory_limiter: { check_interval: '1s', limit_percentage: 80, spike_limit_percentage: 20 },
      batch: { timeout: '10s' },
      'resource/connecthub': {
        attributes: [
          { key: 'Environment', value: o.environmentName, action: 'upsert' },
          { key: 'ClusterName', value: o.clusterName, action: 'upsert' },
        ],
      },
      'transform/connecthub': {
        error_mode: 'ignore',
        metric_statements: [
          {
            context: 'metric',
            statements: [
              ...renameStatements,
              // The Prometheus receiver may drop the _total suffix of counters (name normalization): match both.
              'copy_metric(name="Errors5xx") where metric.name == "http_requests_total" or metric.name == "http_requests"',
              `set(metric.name, "${BACKEND_METRICS.requests}") where metric.name == "http_requests_total" or metric.name == "http_requests"`,
              `set(metric.name, "${BACKEND_METRICS.hpaCurrentReplicas}") where metric.name == "kube_horizontalpodautoscaler_status_current_replicas"`,
              `set(metric.name, "${BACKEND_METRICS.hpaDesiredReplicas}") where metric.name == "kube_horizontalpodautoscaler_status_desired_replicas"`,
            ],
          },
          {
            context: 'datapoint',
            statements: [
              // Service = backend role: from the OTLP resource, the Prometheus `role` label, or the HPA name connecthub-<role>.
              'set(attributes["Service"], resource.attributes["connecthub.role"]) where resource.attributes["connecthub.role"] != nil',
              'set(attributes["Service"], attributes["role"]) where attributes["role"] != nil',
              'replace_pattern(attributes["horizontalpodautoscaler"], "^connecthub-", "") where attributes["horizontalpodautoscaler"] != nil',
              'set(attributes["Service"], attributes["horizontalpodautoscaler"]) where attributes["horizontalpodautoscaler"] != nil',
            ],
          },
        ],
      },
      'filter/errors5xx': {
        error_mode: 'ignore',
        metrics: { datapoint: ['metric.name == "Errors5xx" and not IsMatch(attributes["status"], "^5[0-9][0-9]$")'] },
      },
    },
    exporters,
    extensions: { health_check: { endpoint: '0.0.0.0:13133' } },
    service: {
      extensions: ['health_check'],
      pipelines: {
        traces: { receivers: ['otlp'], processors: ['memory_limiter', 'resource/connecthub', 'batch'], exporters: traceExporters },
        metrics: {
          receivers: ['otlp', 'prometheus'],
          processors: ['memory_limiter', 'resource/connecthub', 'transform/connecthub', 'filter/errors5xx', 'batch'],
          exporters: metricExporters,
        },
      },
    },
  };
}
