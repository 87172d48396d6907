/**
 * The three latency histograms pushed over OTLP/HTTP (JSON) as OpenTelemetry exponential histograms in
 * milliseconds, next to the Prometheus histograms served on /metrics.
 *
 * Why both: the CloudWatch agent drops Prometheus histograms and the ADOT awsemf exporter keeps only
 * count/sum/min/max of explicit-bucket histograms, so CloudWatch can compute p99 and `TC(:200)` only
 * from exponential histograms (see docs/observability.md, "Backend metrics"). The collector renames
 * the instruments to `RequestLatency`, `MessageDeliveryLatency` and `DbQueryLatency`.
 *
 * Each running service owns its MeterProvider (no global provider): two services in one process, as
 * the tests run them, export separately. Nothing here runs unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
 */
import type { Attributes, Histogram } from '@opentelemetry/api';
import { AggregationTemporality, AggregationType, MeterProvider, PeriodicExportingMetricReader, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTEL_INSTRUMENTS, Role } from './contract';

export interface OtelConfig {
  /** OTLP/HTTP base endpoint; metrics go to `<endpoint>/v1/metrics`. */
  readonly endpoint: string;
  /** Milliseconds between exports (`OTEL_METRIC_EXPORT_INTERVAL`). */
  readonly exportIntervalMillis: number;
  /** `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`. */
  readonly temporality: 'delta' | 'cumulative';
  /** `OTEL_SERVICE_NAME`; `connecthub-<role>` when unset. */
  readonly serviceName?: string;
  /** Parsed `OTEL_RESOURCE_ATTRIBUTES`. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
}

export interface HttpAttributes {
  readonly role: Role;
  readonly route: string;
  readonly method: string;
  readonly status: string;
}

/** The OTLP side of the latency measurements; every method is a no-op when exporting is off. */
export interface LatencyExporter {
  readonly enabled: boolean;
  httpServerDuration(ms: number, attributes: HttpAttributes): void;
  messageDeliveryDuration(ms: number, attributes: { readonly role: Role; readonly kind: string }): void;
  dbQueryDuration(ms: number, attributes: { readonly role: Role; readonly pool: 'writer' | 'reader' }): void;
  /** Exports what was recorded since the last export, then stops. Safe to call twice. */
  shutdown(): Promise<void>;
}

const DISABLED: LatencyExporter = {
  enabled: false,
  httpServerDuration: () => undefined,
  messageDeliveryDuration: () => undefined,
  dbQueryDuration: () => undefined,
  shutdown: async () => undefined,
};

/** Creates the exporter for a role, or a no-op one when `config` is undefined. */
export function createLatencyExporter(role: Role, config: OtelConfig | undefined): LatencyExporter {
  if (!config) return DISABLED;
  const exporter = new OTLPMetricExporter({
    url: `${config.endpoint.replace(/\/+$/, '')}/v1/metrics`,
    temporalityPreference: config.temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
  });
  const instruments = Object.values(OTEL_INSTRUMENTS);
  const views: ViewOptions[] = instruments.map((instrumentName) => ({
    instrumentName,
    aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160, recordMinMax: true } },
  }));
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      ...config.resourceAttributes,
      'service.name': config.serviceName ?? `connecthub-${role}`,
      'connecthub.role': role,
    }),
    views,
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: config.exportIntervalMillis, exportTimeoutMillis: Math.min(config.exportIntervalMillis, 10_000) })],
  });
  const meter = provider.getMeter('connecthub-backend');
  const histogram = (name: string, description: string): Histogram<Attributes> => meter.createHistogram(name, { description, unit: 'ms' });
  const http = histogram(OTEL_INSTRUMENTS.httpServerDuration, 'HTTP request duration (the API objective is < 200 ms)');
  const delivery = histogram(OTEL_INSTRUMENTS.messageDeliveryDuration, 'Event committed -> written to the recipient socket (objective < 500 ms)');
  const db = histogram(OTEL_INSTRUMENTS.dbQueryDuration, 'PostgreSQL statement round trip (objective < 50 ms)');
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    httpServerDuration: (ms, a) => http.record(ms, { role: a.role, route: a.route, method: a.method, status: a.status }),
    messageDeliveryDuration: (ms, a) => delivery.record(ms, { role: a.role, kind: a.kind }),
    dbQueryDuration: (ms, a) => db.record(ms, { role: a.role, pool: a.pool }),
    shutdown: () => (stopped ??= provider.shutdown()),
  };
}
