/** The ADOT collector objects of the backend chart and the backend pods' OpenTelemetry env. */
import { Testing } from 'cdk8s';
import { parse } from 'yaml';
import { ADOT_COLLECTOR_IMAGE, BackendChart } from '../../cdk8s/backend-chart';
import { APM_SECRET_MOUNT_PATH, APM_SECRET_PROVIDER_CLASS } from '../../cdk8s/otel-collector';
import { checkWorkloadPolicies } from '../../cdk8s/workload-policy';
import { WORKLOADS } from '../../cdk8s/workload-names';
import { chartProps } from './fixtures';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: any; data?: any; rules?: any; subjects?: any; roleRef?: any; automountServiceAccountToken?: boolean };

const NAME = 'connecthub-otel-collector';
const APM_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:connecthub/datadog-api-AbCdEf';
let plain: Obj[];
let withApm: Obj[];
let apmChart: BackendChart;

const find = (objects: Obj[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name}`);
  return o;
};
const configOf = (objects: Obj[]) => parse(find(objects, 'ConfigMap', NAME).data['collector.yaml']);
const collectorPod = (objects: Obj[]) => find(objects, 'Deployment', NAME).spec.template.spec;

beforeAll(() => {
  plain = Testing.synth(new BackendChart(Testing.app(), 'plain', chartProps())) as Obj[];
  apmChart = new BackendChart(Testing.app(), 'apm', chartProps({ apm: { vendor: 'datadog', endpoint: 'https://otlp.datadoghq.eu', apiKeySecretArn: APM_SECRET } }));
  withApm = Testing.synth(apmChart) as Obj[];
});

describe('collector workload', () => {
  test('Deployment, ConfigMap, ClusterIP Service on 4317/4318, ServiceAccount, PDB, in the backend namespace', () => {
    for (const kind of ['Deployment', 'ConfigMap', 'Service', 'ServiceAccount', 'PodDisruptionBudget', 'Role', 'RoleBinding']) {
      expect(find(plain, kind, NAME).metadata.namespace).toBe('connecthub');
    }
    const svc = find(plain, 'Service', NAME).spec;
    expect(svc.type).toBe('ClusterIP');
    expect(svc.ports.map((p: any) => `${p.name}:${p.port}->${p.targetPort}`)).toEqual(['otlp-grpc:4317->otlp-grpc', 'otlp-http:4318->otlp-http']);
    expect(svc.selector).toEqual(find(plain, 'Deployment', NAME).spec.selector.matchLabels);
    expect(find(plain, 'PodDisruptionBudget', NAME).spec).toMatchObject({ maxUnavailable: 1, selector: { matchLabels: svc.selector } });
    expect(find(plain, 'Deployment', NAME).spec.replicas).toBe(2);
  });

  test('restricted profile, pinned image, requests/limits and the workload rules pass for the whole chart', () => {
    expect(checkWorkloadPolicies(plain)).toEqual([]);
    expect(checkWorkloadPolicies(withApm)).toEqual([]);
    const pod = collectorPod(plain);
    const c = pod.containers[0];
    expect(c.image).toBe(ADOT_COLLECTOR_IMAGE);
    expect(c.image).toMatch(/^public\.ecr\.aws\/aws-observability\/aws-otel-collector:v\d+\.\d+\.\d+@sha256:[a-f0-9]{64}$/);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, runAsNonRoot: true });
    expect(c.resources).toEqual({ requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '1000m', memory: '512Mi' } });
    expect(c.args).toEqual(['--config=/etc/otel/collector.yaml']);
  });

  test('probes hit the health_check extension on 13133', () => {
    const c = collectorPod(plain).containers[0];
    expect(c.ports.find((p: any) => p.name === 'health').containerPort).toBe(13133);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(c[probe].httpGet).toEqual({ path: '/', port: 'health', scheme: 'HTTP' });
    expect(configOf(plain).extensions.health_check.endpoint).toBe('0.0.0.0:13133');
    expect(configOf(plain).service.extensions).toEqual(['health_check']);
  });

  test('may list pods in its namespace (Prometheus discovery) and nothing else', () => {
    expect(find(plain, 'Role', NAME).rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
    expect(find(plain, 'RoleBinding', NAME).subjects).toEqual([{ kind: 'ServiceAccount', name: NAME, namespace: 'connecthub' }]);
    expect(collectorPod(plain).serviceAccountName).toBe(NAME);
  });

  test('a config change rolls the pods (config hash on the template)', () => {
    const hash = (o: Obj[]) => find(o, 'Deployment', NAME).spec.template.metadata.annotations['connecthub.io/config-sha256'];
    expect(hash(plain)).toMatch(/^[a-f0-9]{64}$/);
    expect(hash(withApm)).not.toBe(hash(plain));
  });
});

describe('network', () => {
  test('OTLP only from the backend pods; probes from the VPC', () => {
    const ingress = find(plain, 'NetworkPolicy', 'allow-ingress-otel-collector').spec;
    expect(ingress.podSelector.matchLabels['app.kubernetes.io/name']).toBe(NAME);
    expect(ingress.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'connecthub-backend' } } }], ports: [{ protocol: 'TCP', port: 4317 }, { protocol: 'TCP', port: 4318 }] },
      { from: [{ ipBlock: { cidr: '10.10.0.0/16' } }], ports: [{ protocol: 'TCP', port: 13133 }] },
    ]);
  });

  test('egress: DNS, HTTPS (AWS APIs), the Pod Identity agent and its two scrape targets', () => {
    const egress = find(plain, 'NetworkPolicy', 'allow-egress-otel-collector').spec.egress;
    expect(egress).toEqual([
      { ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
      { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 443 }] },
      { to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [{ protocol: 'TCP', port: 80 }] },
      { to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'connecthub-backend' } } }], ports: [{ protocol: 'TCP', port: 8080 }] },
      { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: [{ protocol: 'TCP', port: 8080 }] },
    ]);
  });

  test('the backend may reach the collector on 4317/4318', () => {
    const egress = find(plain, 'NetworkPolicy', 'allow-egress-backend-dependencies').spec.egress;
    expect(egress).toContainEqual({ to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': NAME } } }], ports: [{ protocol: 'TCP', port: 4317 }, { protocol: 'TCP', port: 4318 }] });
  });
});

describe('collector configuration', () => {
  test('default: CloudWatch EMF and X-Ray, no APM exporter, no secret mounted', () => {
    const config = configOf(plain);
    expect(Object.keys(config.exporters).sort()).toEqual(['awsemf', 'awsxray']);
    expect(config.exporters.awsemf).toMatchObject({ region: 'us-east-1', namespace: 'ConnectHub/Backend', log_group_name: '/connecthub/dev/metrics' });
    expect(config.service.pipelines.traces.exporters).toEqual(['awsxray']);
    expect(config.service.pipelines.metrics.exporters).toEqual(['awsemf']);
    expect(config.receivers.otlp.protocols).toEqual({ grpc: { endpoint: '0.0.0.0:4317' }, http: { endpoint: '0.0.0.0:4318' } });
    expect(config.processors['resource/connecthub'].attributes).toContainEqual({ key: 'ClusterName', value: 'connecthub-dev-us-east-1', action: 'upsert' });
    expect(plain.some((o) => o.kind === 'SecretProviderClass' && o.metadata.name === APM_SECRET_PROVIDER_CLASS)).toBe(false);
    expect(collectorPod(plain).volumes.map((v: any) => v.name)).toEqual(['config', 'tmp']);
  });

  test('with apm: an OTLP/HTTP exporter in both pipelines, key read from the CSI-mounted file', () => {
    const config = configOf(withApm);
    expect(config.exporters['otlphttp/apm']).toEqual({
      endpoint: 'https://otlp.datadoghq.eu',
      headers: { 'dd-api-key': `\${file:${APM_SECRET_MOUNT_PATH}/api-key}` },
      compression: 'gzip',
    });
    expect(config.service.pipelines.traces.exporters).toEqual(['awsxray', 'otlphttp/apm']);
    expect(config.service.pipelines.metrics.exporters).toEqual(['awsemf', 'otlphttp/apm']);
    const spc = find(withApm, 'SecretProviderClass', APM_SECRET_PROVIDER_CLASS);
    expect(spc.spec).toEqual({
      provider: 'aws',
      parameters: { region: 'us-east-1', usePodIdentity: 'true', objects: `- objectName: "${APM_SECRET}"\n  objectType: "secretsmanager"\n  objectAlias: "api-key"` },
    });
    const pod = collectorPod(withApm);
    expect(pod.volumes).toContainEqual({ name: 'apm-secret', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: APM_SECRET_PROVIDER_CLASS } } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'apm-secret', mountPath: APM_SECRET_MOUNT_PATH, readOnly: true });
    expect(apmChart.otelCollector.apmApiKeySecretArn).toBe(APM_SECRET);
  });

  test('the key is never in the manifest: no env value or Secret carries it', () => {
    const text = JSON.stringify(withApm);
    expect(withApm.some((o) => o.kind === 'Secret')).toBe(false);
    expect(collectorPod(withApm).containers[0].env).toEqual([{ name: 'AWS_REGION', value: 'us-east-1' }]);
    expect(text).not.toMatch(/secretKeyRef/);
  });

  test.each([
    ['newrelic', 'api-key'],
    ['otlp', 'x-api-key'],
  ] as const)('vendor %s sends its key in the %s header', (vendor, header) => {
    const objects = Testing.synth(new BackendChart(Testing.app(), vendor, chartProps({ apm: { vendor, endpoint: 'https://otlp.example.com', apiKeySecretArn: APM_SECRET } }))) as Obj[];
    expect(Object.keys(configOf(objects).exporters['otlphttp/apm'].headers)).toEqual([header]);
  });

  test('bad apm settings: one error naming each field, value and what is allowed', () => {
    expect(() => new BackendChart(Testing.app(), 'bad', chartProps({ apm: { vendor: 'splunk' as never, endpoint: 'http://x', apiKeySecretArn: 'secret' } }))).toThrow(
      /apm\.vendor="splunk": one of newrelic, datadog, otlp[\s\S]*apm\.endpoint="http:\/\/x": an https:\/\/ URL[\s\S]*apm\.apiKeySecretArn="secret": a full Secrets Manager secret ARN/,
    );
  });
});

describe('backend OpenTelemetry env', () => {
  test.each(WORKLOADS)('%s sends OTLP to the collector Service with its service name, environment and region', (w) => {
    const env = Object.fromEntries(
      (find(plain, 'Deployment', `connecthub-${w}`).spec.template.spec.containers[0].env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]),
    );
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(`http://${NAME}.connecthub.svc.cluster.local:4318`);
    expect(env.OTEL_EXPORTER_OTLP_PROTOCOL).toBe('http/protobuf');
    expect(env.OTEL_SERVICE_NAME).toBe(`connecthub-${w}`);
    expect(env.OTEL_RESOURCE_ATTRIBUTES.split(',')).toEqual(
      expect.arrayContaining(['deployment.environment.name=dev', `connecthub.role=${w}`, 'cloud.region=us-east-1']),
    );
    expect(env.OTEL_TRACES_EXPORTER).toBe('otlp');
    expect(env.OTEL_METRICS_EXPORTER).toBe('otlp');
  });
});
