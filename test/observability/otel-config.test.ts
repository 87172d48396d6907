import {
  APM_API_KEY_ENV,
  backendOtelEnvironment,
  collectorConfig,
  collectorSecretEnvironment,
  validateApmConfig,
} from '../../constructs/observability/otel-config';

type Json = Record<string, any>;
const base = { environmentName: 'prod', region: 'eu-west-1', clusterName: 'connecthub-prod-eu', namespace: 'connecthub' };

describe('backend OpenTelemetry environment', () => {
  test('points the SDK at the collector with exponential histograms and parent-based sampling', () => {
    expect(backendOtelEnvironment({ environmentName: 'prod', service: 'api', namespace: 'connecthub' })).toEqual({
      OTEL_SERVICE_NAME: 'connecthub-api',
      OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=connecthub,deployment.environment.name=prod,connecthub.role=api',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://connecthub-otel-collector.connecthub.svc.cluster.local:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
      OTEL_METRIC_EXPORT_INTERVAL: '60000',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
      OTEL_PROPAGATORS: 'tracecontext,baggage,xray',
    });
    expect(() => backendOtelEnvironment({ environmentName: 'prod', service: 'api', namespace: 'connecthub', traceSampleRatio: 2 })).toThrow(/traceSampleRatio 2 must be between 0 and 1/);
  });
});

describe('collector configuration', () => {
  test('CloudWatch only: awsemf to ConnectHub/Backend with Environment/Service dimensions, traces to X-Ray', () => {
    const c = collectorConfig(base) as Json;
    expect(c.exporters.awsemf).toMatchObject({
      region: 'eu-west-1',
      namespace: 'ConnectHub/Backend',
      metric_declarations: [{ dimensions: [['Environment', 'Service']], metric_name_selectors: [expect.stringContaining('RequestLatency|Requests|Errors5xx|MessageDeliveryLatency|DbQueryLatency')] }],
    });
    expect(c.service.pipelines.traces.exporters).toEqual(['awsxray']);
    // The exporter prefixes resource attributes with `otel.resource.`; only those names make them searchable annotations.
    expect(c.exporters.awsxray).toEqual({ region: 'eu-west-1', indexed_attributes: ['otel.resource.deployment.environment.name', 'otel.resource.connecthub.role'] });
    expect(c.service.pipelines.metrics.exporters).toEqual(['awsemf']);
    const statements = c.processors['transform/connecthub'].metric_statements.flatMap((s: Json) => s.statements).join('\n');
    expect(statements).toContain('set(metric.name, "RequestLatency") where metric.name == "connecthub.http.server.duration"');
    expect(statements).toContain('set(metric.name, "MessageDeliveryLatency") where metric.name == "connecthub.message.delivery.duration"');
    expect(statements).toContain('copy_metric(name="Errors5xx") where metric.name == "http_requests_total"');
    expect(statements).toContain('set(metric.name, "HpaDesiredReplicas") where metric.name == "kube_horizontalpodautoscaler_status_desired_replicas"');
    expect(c.processors['filter/errors5xx'].metrics.datapoint).toEqual(['metric.name == "Errors5xx" and not IsMatch(attributes["status"], "^5[0-9][0-9]$")']);
    expect(collectorSecretEnvironment(undefined)).toEqual([]);
  });

  test('New Relic is attached by configuration: OTLP exporter with the key from a Secret', () => {
    const c = collectorConfig({ ...base, apm: { vendor: 'newrelic', region: 'eu', apiKey: { secretName: 'newrelic-license', key: 'license-key' } } }) as Json;
    expect(c.exporters['otlphttp/apm']).toEqual({ endpoint: 'https://otlp.eu01.nr-data.net', headers: { 'api-key': `\${env:${APM_API_KEY_ENV}}` }, compression: 'gzip' });
    expect(c.service.pipelines.traces.exporters).toEqual(['awsxray', 'otlphttp/apm']);
    expect(c.service.pipelines.metrics.exporters).toEqual(['awsemf', 'otlphttp/apm']);
    expect(collectorSecretEnvironment({ vendor: 'newrelic', apiKey: { secretName: 'newrelic-license', key: 'license-key' } })).toEqual([
      { name: 'APM_API_KEY', valueFrom: { secretKeyRef: { name: 'newrelic-license', key: 'license-key' } } },
    ]);
    expect(JSON.stringify(c)).not.toMatch(/license-key/); // the key itself never appears in the config
  });

  test('Datadog is attached by configuration: datadog exporter with site and key', () => {
    const c = collectorConfig({ ...base, apm: { vendor: 'datadog', site: 'datadoghq.eu', apiKey: { secretName: 'datadog', key: 'api-key' } } }) as Json;
    expect(c.exporters['datadog/apm']).toEqual({ api: { key: '${env:APM_API_KEY}', site: 'datadoghq.eu' } });
    expect(c.service.pipelines.traces.exporters).toEqual(['awsxray', 'datadog/apm']);
  });

  test('invalid APM settings are reported together', () => {
    expect(validateApmConfig({ vendor: 'otlp', endpoint: 'http://collector.example.com', headerName: 'x key', apiKey: { secretName: 'Bad_Name', key: 'k/1' } })).toEqual([
      'apm.apiKey.secretName "Bad_Name" must be a Kubernetes object name (lower-case letters, digits, \'-\')',
      'apm.apiKey.key "k/1" must be a Secret data key (letters, digits, \'-\', \'_\', \'.\')',
      'apm.endpoint "http://collector.example.com" must be an https:// URL',
      'apm.headerName "x key" must be an HTTP header name',
    ]);
    expect(validateApmConfig({ vendor: 'splunk' } as never)).toEqual(['apm.vendor "splunk" is not supported; use newrelic, datadog or otlp']);
    expect(() => collectorConfig({ ...base, region: 'Europe', namespace: 'Bad' })).toThrow(/namespace "Bad" must be a Kubernetes namespace name; region "Europe" is not an AWS region name/);
  });
});
