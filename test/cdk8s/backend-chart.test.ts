import { Testing } from 'cdk8s';
import { BackendChart, CONNECTION_TARGET_FRACTION, SECRETS_MOUNT_PATH, TERMINATION_MARGIN_SECONDS } from '../../cdk8s/backend-chart';
import { DEFAULT_FEED_CACHE_TTL_SECONDS, DEFAULT_QUERY_CACHE_TTL_SECONDS, PATHS } from '../../backend/src/contract';
import { WORKLOADS, loadBalancerName, regionShortCode } from '../../cdk8s/workload-names';
import { ASSET_HASH, chartProps } from './fixtures';
import { checkWorkloadPolicies } from '../../cdk8s/workload-policy';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: any };

let objects: Obj[];
let chart: BackendChart;
const find = (kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name}`);
  return o;
};
const envOf = (name: string) =>
  Object.fromEntries((find('Deployment', name).spec.template.spec.containers[0].env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));

beforeAll(() => {
  chart = new BackendChart(Testing.app(), 'backend', chartProps());
  objects = Testing.synth(chart) as Obj[];
});

describe('workloads', () => {
  test('one Deployment, ServiceAccount, PDB and ScaledObject per role, with stable names', () => {
    for (const w of WORKLOADS) {
      expect(find('Deployment', `connecthub-${w}`).metadata.namespace).toBe('connecthub');
      expect(find('ServiceAccount', `connecthub-${w}`).spec).toBeUndefined();
      find('PodDisruptionBudget', `connecthub-${w}`);
      find('ScaledObject', `connecthub-${w}`);
    }
    // The three roles plus the OpenTelemetry collector (test/cdk8s/otel-collector.test.ts).
    expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name).sort()).toEqual(
      ['connecthub-api', 'connecthub-otel-collector', 'connecthub-realtime', 'connecthub-worker'],
    );
    expect(objects.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false); // KEDA owns the HPAs
  });

  test('every workload meets the restricted profile and the workload rules', () => {
    expect(checkWorkloadPolicies(objects)).toEqual([]);
  });

  test('the namespace enforces Pod Security Standards restricted', () => {
    expect(find('Namespace', 'connecthub').metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
  });

  test('image is pinned to the asset hash', () => {
    for (const w of WORKLOADS) {
      expect(find('Deployment', `connecthub-${w}`).spec.template.spec.containers[0].image).toBe(
        `111111111111.dkr.ecr.us-east-1.amazonaws.com/cdk-hnb659fds-container-assets:${ASSET_HASH}`,
      );
    }
  });

  test('env follows the backend contract: role, TTLs from the plan, endpoints, no secret values', () => {
    const env = envOf('connecthub-worker');
    expect(env).toMatchObject({
      CONNECTHUB_ROLE: 'worker',
      PORT: '8080',
      FEED_CACHE_TTL_SECONDS: String(DEFAULT_FEED_CACHE_TTL_SECONDS),
      QUERY_CACHE_TTL_SECONDS: String(DEFAULT_QUERY_CACHE_TTL_SECONDS),
      DATABASE_AUTH: 'iam',
      DATABASE_SSL: 'require',
      REDIS_TLS: 'true',
      REDIS_CLUSTER: 'true',
      REDIS_PASSWORD_FILE: `${SECRETS_MOUNT_PATH}/redis-password`,
      KAFKA_AUTH: 'iam',
      HOME_REGION: 'us',
      AWS_REGION: 'us-east-1',
    });
    expect(env.FEED_CACHE_TTL_SECONDS).toBe('300');
    expect(env.QUERY_CACHE_TTL_SECONDS).toBe('1800');
    expect(env.DATABASE_PASSWORD_FILE).toBeUndefined(); // IAM auth: no password at all
    for (const w of WORKLOADS) {
      const names = Object.keys(envOf(`connecthub-${w}`));
      expect(names.filter((n) => /PASSWORD$|SECRET|TOKEN/.test(n))).toEqual([]);
    }
  });

  test('secrets arrive as files through the CSI driver with Pod Identity', () => {
    const spc = find('SecretProviderClass', 'connecthub-secrets');
    expect(spc.spec.provider).toBe('aws');
    expect(spc.spec.parameters.usePodIdentity).toBe('true');
    expect(spc.spec.parameters.objects).toContain('objectAlias: "redis-password"');
    const pod = find('Deployment', 'connecthub-api').spec.template.spec;
    expect(pod.volumes).toContainEqual(expect.objectContaining({ name: 'secrets', csi: expect.objectContaining({ driver: 'secrets-store.csi.k8s.io', readOnly: true }) }));
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'secrets', mountPath: SECRETS_MOUNT_PATH, readOnly: true });
  });

  test('probes use the contract paths on the named port', () => {
    const c = find('Deployment', 'connecthub-realtime').spec.template.spec.containers[0];
    expect(c.startupProbe.httpGet).toMatchObject({ path: PATHS.liveness, port: 'http' });
    expect(c.livenessProbe.httpGet.path).toBe(PATHS.liveness);
    expect(c.readinessProbe.httpGet.path).toBe(PATHS.readiness);
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  });

  test('termination grace = preStop sleep + drain + margin; preStop sleeps natively', () => {
    for (const w of WORKLOADS) {
      const spec = find('Deployment', `connecthub-${w}`).spec.template.spec;
      const drain = Number(envOf(`connecthub-${w}`).SHUTDOWN_DRAIN_SECONDS);
      const sleep = spec.containers[0].lifecycle.preStop.sleep.seconds;
      expect(sleep).toBe(15);
      expect(spec.terminationGracePeriodSeconds).toBe(sleep + drain + TERMINATION_MARGIN_SECONDS);
    }
    expect(envOf('connecthub-api').SHUTDOWN_DRAIN_SECONDS).toBe('20');
    expect(envOf('connecthub-realtime').SHUTDOWN_DRAIN_SECONDS).toBe('30');
  });

  test('no second serving delay on top of the preStop sleep: SHUTDOWN_DELAY_SECONDS=0 for every role', () => {
    for (const w of WORKLOADS) expect(envOf(`connecthub-${w}`).SHUTDOWN_DELAY_SECONDS).toBe('0');
  });

  test('the worker relays the outbox by default (OUTBOX_RELAY=on); the other roles get no such setting', () => {
    expect(envOf('connecthub-worker').OUTBOX_RELAY).toBe('on');
    expect(envOf('connecthub-api').OUTBOX_RELAY).toBeUndefined();
    expect(envOf('connecthub-realtime').OUTBOX_RELAY).toBeUndefined();
  });
});

describe('autoscaling (KEDA ScaledObjects own the HPAs)', () => {
  test('plan bounds and resource triggers: min 3, max 50 (worker: the tier max), CPU 70 %, memory 80 %', () => {
    for (const w of WORKLOADS) {
      const so = find('ScaledObject', `connecthub-${w}`).spec;
      expect(so.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: `connecthub-${w}` });
      expect(so.minReplicaCount).toBe(3);
      expect(so.maxReplicaCount).toBe(w === 'worker' ? 24 : 50);
      expect(so.triggers).toContainEqual({ type: 'cpu', metricType: 'Utilization', metadata: { value: '70' } });
      expect(so.triggers).toContainEqual({ type: 'memory', metricType: 'Utilization', metadata: { value: '80' } });
      expect(find('Deployment', `connecthub-${w}`).spec.replicas).toBeUndefined();
    }
  });

  test('api and realtime scale on 1000 requests per minute per pod', () => {
    for (const w of ['api', 'realtime']) {
      const t = find('ScaledObject', `connecthub-${w}`).spec.triggers.find((x: any) => x.name === 'requests-per-minute');
      expect(t.metricType).toBe('AverageValue');
      expect(t.metadata.threshold).toBe('1000');
      expect(t.metadata.query).toBe(`sum(rate(http_requests_total{namespace="connecthub",role="${w}"}[2m])) * 60`);
      expect(t.metadata.awsRegion).toBe('us-east-1');
      expect(t.authenticationRef).toEqual({ name: 'connecthub-keda-aws' });
    }
  });

  test('realtime also scales on open WebSockets: 70 % of the per-pod limit (5000 → 3500) per pod', () => {
    const triggers = find('ScaledObject', 'connecthub-realtime').spec.triggers;
    const t = triggers.find((x: any) => x.name === 'connections-per-pod');
    expect(chart.realtimeConnectionTarget).toBe(Math.floor(5000 * CONNECTION_TARGET_FRACTION));
    expect(t).toEqual({
      type: 'prometheus',
      name: 'connections-per-pod',
      metricType: 'AverageValue',
      authenticationRef: { name: 'connecthub-keda-aws' },
      metadata: {
        serverAddress: chartProps().autoscaling.prometheusQueryEndpoint,
        awsRegion: 'us-east-1',
        query: 'sum(ws_connections{namespace="connecthub",role="realtime"})',
        threshold: '3500',
        ignoreNullValues: 'true',
      },
    });
    // The target stays below MAX_WS_CONNECTIONS, where the pod answers 503.
    expect(Number(t.metadata.threshold)).toBeLessThan(Number(envOf('connecthub-realtime').MAX_WS_CONNECTIONS));
    expect(find('ScaledObject', 'connecthub-api').spec.triggers.some((x: any) => x.name === 'connections-per-pod')).toBe(false);
  });

  test('worker scales on Kafka consumer lag of 100 pending per pod (MSK IAM)', () => {
    const t = find('ScaledObject', 'connecthub-worker').spec.triggers.find((x: any) => x.type === 'apache-kafka');
    // The backend's activity group over all its topics (backend contract), 100 pending per pod.
    expect(t.metadata).toMatchObject({ consumerGroup: 'connecthub-worker-activity', lagThreshold: '100', sasl: 'aws_msk_iam', tls: 'enable', awsRegion: 'us-east-1' });
    expect(t.metadata.topic).toBeUndefined();
    expect(t.metadata.bootstrapServers).toBe(chartProps().kafka.brokers);
    expect(find('TriggerAuthentication', 'connecthub-keda-aws').spec).toEqual({ podIdentity: { provider: 'aws' } });
  });

  test('behaviour: fast scale-up, stabilised slow scale-down (realtime slowest)', () => {
    const api = find('ScaledObject', 'connecthub-api').spec.advanced.horizontalPodAutoscalerConfig;
    expect(api.name).toBe('connecthub-api');
    expect(api.behavior.scaleUp).toEqual({
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Percent', value: 100, periodSeconds: 30 },
        { type: 'Pods', value: 4, periodSeconds: 30 },
      ],
    });
    expect(api.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
    expect(api.behavior.scaleDown.selectPolicy).toBe('Min');
    const rt = find('ScaledObject', 'connecthub-realtime').spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown;
    expect(rt.stabilizationWindowSeconds).toBe(600);
    expect(rt.policies).toContainEqual({ type: 'Pods', value: 1, periodSeconds: 120 });
  });
});

describe('services and network', () => {
  test('api: Auto Mode NLB, ip targets, health check on /readyz, internal by default', () => {
    const svc = find('Service', 'connecthub-api');
    expect(svc.spec).toMatchObject({ type: 'LoadBalancer', loadBalancerClass: 'eks.amazonaws.com/nlb', loadBalancerSourceRanges: ['10.10.0.0/16'] });
    expect(svc.spec.sessionAffinity).toBeUndefined();
    expect(svc.metadata.annotations).toMatchObject({
      'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal',
      'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
      'service.beta.kubernetes.io/aws-load-balancer-healthcheck-path': '/readyz',
      'service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol': 'HTTP',
    });
  });

  test('each NLB gets a fixed name (known at synth) for the CloudFront VPC origin lookup', () => {
    expect(chart.loadBalancerNames).toEqual({ api: 'connecthub-dev-use1-api', realtime: 'connecthub-dev-use1-rt' });
    expect(find('Service', 'connecthub-api').metadata.annotations!['service.beta.kubernetes.io/aws-load-balancer-name']).toBe('connecthub-dev-use1-api');
    expect(find('Service', 'connecthub-realtime').metadata.annotations!['service.beta.kubernetes.io/aws-load-balancer-name']).toBe('connecthub-dev-use1-rt');
  });

  test('NLB names stay within 32 characters, deterministic and distinct per environment, region and role', () => {
    const envs = ['dev', 'staging', 'prod', 'pr-123456', 'a-very-long-environment-name-x', 'a-very-long-environment-name-y'];
    const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-1', 'us-gov-west-1'];
    const names = envs.flatMap((e) => regions.flatMap((r) => (['api', 'realtime'] as const).map((w) => loadBalancerName(e, r, w))));
    for (const n of names) {
      expect(n.length).toBeLessThanOrEqual(32);
      expect(n).toMatch(/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/);
      expect(n.startsWith('internal-')).toBe(false);
    }
    expect(new Set(names).size).toBe(names.length);
    expect(loadBalancerName('staging', 'ap-southeast-1', 'realtime')).toBe('connecthub-staging-apse1-rt');
    expect(regionShortCode('eu-central-1')).toBe('euc1');
  });

  test('the region must be a literal: it names the NLBs', () => {
    expect(() => new BackendChart(Testing.app(), 'tok', chartProps({ region: '${Token[AWS.Region.12]}' }))).toThrow(
      /region="\$\{Token\[AWS\.Region\.12\]\}": an AWS region name known at synth \(it names the NLBs\)/,
    );
  });

  test('realtime: the plan\'s ClientIP affinity in the cluster, but no NLB source-IP stickiness (CloudFront\'s few sources would pin every socket to a few pods)', () => {
    const svc = find('Service', 'connecthub-realtime');
    expect(svc.spec.sessionAffinity).toBe('ClientIP');
    const attributes = svc.metadata.annotations!['service.beta.kubernetes.io/aws-load-balancer-target-group-attributes'];
    expect(attributes).toBe('deregistration_delay.timeout_seconds=30');
    expect(attributes).not.toContain('stickiness');
  });

  test('TLS listener when a certificate is given', () => {
    const c = new BackendChart(Testing.app(), 'tls', chartProps({ loadBalancer: { scheme: 'internet-facing', certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/abc', sourceRanges: ['0.0.0.0/0'] } }));
    const svc = (Testing.synth(c) as Obj[]).find((o) => o.kind === 'Service' && o.metadata.name === 'connecthub-api')!;
    expect(svc.spec.ports).toEqual([{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'http' }]);
    expect(svc.metadata.annotations!['service.beta.kubernetes.io/aws-load-balancer-ssl-cert']).toContain('certificate/abc');
  });

  test('default deny plus only the needed flows', () => {
    expect(find('NetworkPolicy', 'default-deny-all').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const ingress = find('NetworkPolicy', 'allow-ingress-http-from-vpc').spec.ingress;
    expect(ingress).toEqual([{ from: [{ ipBlock: { cidr: '10.10.0.0/16' } }], ports: [{ protocol: 'TCP', port: 8080 }] }]);
    const egress = find('NetworkPolicy', 'allow-egress-backend-dependencies').spec.egress;
    const ports = egress.flatMap((e: any) => e.ports.map((p: any) => `${p.protocol}/${p.port}`));
    expect(ports.sort()).toEqual(['TCP/443', 'TCP/5432', 'TCP/53', 'TCP/6379', 'TCP/80', 'TCP/9098', 'UDP/53', 'TCP/4317', 'TCP/4318'].sort());
    expect(egress.find((e: any) => e.ports[0].port === 80).to).toEqual([{ ipBlock: { cidr: '169.254.170.23/32' } }]);
    for (const port of [5432, 6379, 9098]) {
      expect(egress.find((e: any) => e.ports[0].port === port).to).toEqual([{ ipBlock: { cidr: '10.10.0.0/16' } }]);
    }
  });
});

describe('password mode and bad input', () => {
  test('database password mode mounts the password file', () => {
    const c = new BackendChart(Testing.app(), 'pw', chartProps({
      database: { ...chartProps().database, auth: 'password', passwordSecret: { secretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf', jsonKey: 'password' } },
    }));
    const dep = (Testing.synth(c) as Obj[]).find((o) => o.kind === 'Deployment')!;
    const env = dep.spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'DATABASE_PASSWORD_FILE', value: `${SECRETS_MOUNT_PATH}/database-password` });
  });

  test.each([
    [{ image: { repository: 'repo', tag: 'latest' } }, /image\.tag="latest": an immutable content tag/],
    [{ image: { repository: 'repo', tag: 'v1.2.3' } }, /image\.tag="v1\.2\.3"/],
    [{ image: { repository: 'repo:latest', digest: `sha256:${'b'.repeat(64)}` } }, /image\.repository="repo:latest"/],
    [{ image: { repository: 'repo' } }, /image\.tag\/image\.digest.*exactly one/],
    [{ image: { repository: 'repo', digest: 'sha256:abc' } }, /image\.digest="sha256:abc"/],
  ])('refuses a mutable or malformed image %#', (override, message) => {
    expect(() => new BackendChart(Testing.app(), 'bad', chartProps(override as any))).toThrow(message);
  });

  test('a secondary region: the worker consumes only (OUTBOX_RELAY=off); a connection target may be set', () => {
    const c = new BackendChart(Testing.app(), 'secondary', chartProps({
      outboxRelay: false,
      autoscaling: { ...chartProps().autoscaling, connectionsPerPod: 4000 },
    }));
    const synthesized = Testing.synth(c) as Obj[];
    const envIn = (name: string) => Object.fromEntries(
      synthesized.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]),
    );
    expect(envIn('connecthub-worker').OUTBOX_RELAY).toBe('off');
    const so = synthesized.find((o) => o.kind === 'ScaledObject' && o.metadata.name === 'connecthub-realtime')!;
    expect(so.spec.triggers.find((x: any) => x.name === 'connections-per-pod').metadata.threshold).toBe('4000');
  });

  test('a connection target above the per-pod limit, or a non-boolean outboxRelay, is refused', () => {
    expect(() => new BackendChart(Testing.app(), 'bad', chartProps({ autoscaling: { ...chartProps().autoscaling, connectionsPerPod: 6000 } }))).toThrow(
      /autoscaling\.connectionsPerPod=6000: a positive integer no larger than maxWsConnectionsPerPod \(5000\)/,
    );
    expect(() => new BackendChart(Testing.app(), 'bad', chartProps({ outboxRelay: 'off' as unknown as boolean }))).toThrow(/outboxRelay="off": true or false/);
  });

  test('a digest is accepted', () => {
    const c = new BackendChart(Testing.app(), 'digest', chartProps({ image: { repository: 'repo', digest: `sha256:${'c'.repeat(64)}` } }));
    expect(c.imageReference).toBe(`repo@sha256:${'c'.repeat(64)}`);
  });

  test('reports every problem at once, naming field, value and what is allowed', () => {
    const base = chartProps();
    let message = '';
    try {
      new BackendChart(Testing.app(), 'bad', {
        ...base,
        vpcCidr: '10.0.0.0/99',
        database: { ...base.database, auth: 'password' },
        workloads: { ...base.workloads, api: { ...base.workloads.api, minReplicas: 5, maxReplicas: 4 } },
        autoscaling: { ...base.autoscaling, workerConsumerGroups: [{ group: 'other', topic: 'user-activity' }] },
        loadBalancer: { scheme: 'internet-facing' },
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^Invalid BackendChart props \(5 problems\)/);
    expect(message).toContain('vpcCidr="10.0.0.0/99": an IPv4 CIDR');
    expect(message).toContain('database.passwordSecret=undefined: required when database.auth is password');
    expect(message).toContain('workloads.api.maxReplicas=4: an integer of at least minReplicas (5)');
    expect(message).toContain('autoscaling.workerConsumerGroups[0].group="other": a group id starting with connecthub-worker-');
    expect(message).toContain('loadBalancer.certificateArn=undefined: required for an internet-facing load balancer');
  });

  test('synthesis is deterministic', () => {
    const again = Testing.synth(new BackendChart(Testing.app(), 'backend', chartProps()));
    expect(JSON.stringify(again)).toBe(JSON.stringify(objects));
  });
});
