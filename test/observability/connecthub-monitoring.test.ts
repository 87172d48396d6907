import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { ConnectHubMonitoring, redisNodeClusterIds } from '../../constructs/observability/connecthub-monitoring';
import { SloReporter } from '../../constructs/observability/slo-reporter-function';
import { FCP_EVENT_TYPE, WebVitalsMonitor } from '../../constructs/observability/web-vitals-monitor';

const ACCOUNT = '111111111111';
let app: App;
let eu: Template;
let us: Template;
let nlbOnly: Template;
let monitoringUs: ConnectHubMonitoring;
let reporter: SloReporter;

beforeAll(() => {
  app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  // Secondary region: ALB, Aurora secondary with proxy, Redis, Kafka, EKS; CloudFront widgets without alarms.
  const euStack = new Stack(app, 'ObsEu', { env: { account: ACCOUNT, region: 'eu-west-1' } });
  new ConnectHubMonitoring(euStack, 'Monitoring', {
    environmentName: 'prod',
    subscriptions: {
      emails: ['oncall@example.com'],
      httpsUrls: ['https://hooks.example.com/connecthub'],
      sqsQueueArns: [`arn:aws:sqs:eu-west-1:${ACCOUNT}:connecthub-alerts`],
    },
    loadBalancer: {
      kind: 'application',
      loadBalancerArn: `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:loadbalancer/app/connecthub/50dc6c495c0c9188`,
      targetGroupArn: `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:targetgroup/connecthub-api/73e2d6bc24d8a067`,
    },
    cloudFront: { distributionId: 'E2EXAMPLE1' },
    aurora: { clusterIdentifier: 'connecthub-prod-eu', globalSecondary: true, proxyName: 'connecthub-prod-eu' },
    redis: { replicationGroupId: 'ch-prod', nodeClusterIds: redisNodeClusterIds('ch-prod', 1, 1, true) },
    kafka: { clusterName: 'connecthub-prod', brokerCount: 2, consumerGroups: ['connecthub-worker-activity'] },
    eks: { clusterName: 'connecthub-prod-eu', namespace: 'connecthub', workloads: [{ service: 'api', maxReplicas: 50 }, { service: 'worker', maxReplicas: 30 }] },
    alarmOnMissingTraffic: true,
  });
  // Primary region: NLB, CloudFront alarms, an existing topic, the SLO reporter and RUM.
  const usStack = new Stack(app, 'ObsUs', { env: { account: ACCOUNT, region: 'us-east-1' } });
  reporter = new SloReporter(usStack, 'SloReporter', { environmentName: 'prod' });
  monitoringUs = new ConnectHubMonitoring(usStack, 'Monitoring', {
    environmentName: 'prod',
    loadBalancer: {
      kind: 'network',
      loadBalancerArn: `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/net/connecthub/50dc6c495c0c9188`,
      targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/connecthub-ws/73e2d6bc24d8a067`,
    },
    cloudFront: { distributionId: 'E2EXAMPLE1' },
    aurora: { clusterIdentifier: 'connecthub-prod-us' },
    burnRateWindows: [{ name: 'Page', longWindow: Duration.hours(1), shortWindow: Duration.minutes(5), burnRate: 14.4 }],
    functions: { SloReporter: reporter.function },
    alertKeyRemovalPolicy: RemovalPolicy.DESTROY,
  });
  new WebVitalsMonitor(usStack, 'WebVitals', { environmentName: 'prod', webDomain: 'app.connecthub.example', alertTopic: monitoringUs.alertTopic });
  // Two network load balancers known only by their ARNs (what the platform stack publishes; the controller owns the target groups).
  const nlbStack = new Stack(app, 'ObsNlb', { env: { account: ACCOUNT, region: 'ap-southeast-1' } });
  const nlbArn = (name: string) => `arn:aws:elasticloadbalancing:ap-southeast-1:${ACCOUNT}:loadbalancer/net/connecthub-staging-${name}/0123456789abcdef`;
  new ConnectHubMonitoring(nlbStack, 'Monitoring', {
    environmentName: 'staging',
    loadBalancers: [
      { kind: 'network', name: 'api', loadBalancerArn: nlbArn('api') },
      { kind: 'network', name: 'realtime', loadBalancerArn: nlbArn('realtime') },
    ],
    alertKeyRemovalPolicy: RemovalPolicy.DESTROY,
  });
  nlbOnly = Template.fromStack(nlbStack);
  eu = Template.fromStack(euStack);
  us = Template.fromStack(usStack);
});

type Json = Record<string, any>;
function alarm(t: Template, nameSuffix: string): Json {
  const found = Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter((r: Json) => String(r.Properties.AlarmName).endsWith(nameSuffix));
  if (found.length !== 1) throw new Error(`expected one alarm ending with ${nameSuffix}, found ${found.length}`);
  return found[0].Properties;
}
/** The single metric of an alarm, whether written as MetricName/Statistic or as a one-element Metrics array. */
function singleMetric(p: Json) {
  const sorted = (d?: Json[]) => (d ? [...d].sort((a, b) => a.Name.localeCompare(b.Name)) : d);
  if (p.MetricName) return { namespace: p.Namespace, name: p.MetricName, stat: p.ExtendedStatistic ?? p.Statistic, period: p.Period, dims: sorted(p.Dimensions) };
  const m = p.Metrics.find((x: Json) => x.ReturnData !== false);
  return { namespace: m.MetricStat.Metric.Namespace, name: m.MetricStat.Metric.MetricName, stat: m.MetricStat.Stat, period: m.MetricStat.Period, dims: sorted(m.MetricStat.Metric.Dimensions) };
}
/** Dashboard bodies by name, parsed (deploy-time tokens replaced by TOKEN). */
function dashboards(t: Template): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const r of Object.values(t.findResources('AWS::CloudWatch::Dashboard')) as Json[]) {
    const body = r.Properties.DashboardBody;
    const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((part: unknown) => (typeof part === 'string' ? part : 'TOKEN')).join('');
    out[r.Properties.DashboardName] = JSON.parse(text);
  }
  return out;
}
const dims = (o: Record<string, string>) => Object.entries(o).map(([Name, Value]) => ({ Name, Value })).sort((a, b) => a.Name.localeCompare(b.Name));

describe('plan target alarms (eu-west-1)', () => {
  test.each([
    ['-Api-ApiLatencyP99-Critical', 'ConnectHub/Backend', 'RequestLatency', 'p99', 200, { Environment: 'prod', Service: 'api' }],
    ['-Api-DbQueryLatencyP99-Critical', 'ConnectHub/Backend', 'DbQueryLatency', 'p99', 50, { Environment: 'prod', Service: 'api' }],
    ['-Api-MessageDeliveryP99-Critical', 'ConnectHub/Backend', 'MessageDeliveryLatency', 'p99', 500, { Environment: 'prod', Service: 'realtime' }],
  ])('%s: %s %s %s > %d over 3 x 5 min', (suffix, namespace, name, stat, threshold, d) => {
    const p = alarm(eu, suffix);
    expect(singleMetric(p)).toEqual({ namespace, name, stat, period: 300, dims: dims(d) });
    expect(p).toMatchObject({ Threshold: threshold, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 3, ActionsEnabled: true });
    expect(p.AlarmName).toBe(`ConnectHub-prod-eu-west-1${suffix}`);
  });

  test('error rate: 5xx / requests in percent above 0.1, only with at least 100 requests', () => {
    const p = alarm(eu, '-Api-ApiErrorRate-Critical');
    expect(p.Threshold).toBe(0.1);
    expect(p.ComparisonOperator).toBe('GreaterThanThreshold');
    const expr = p.Metrics.find((m: Json) => m.Expression);
    expect(expr.Expression).toBe('IF(requests >= 100, 100 * FILL(errors, 0) / requests, 0)');
    const byId = Object.fromEntries(p.Metrics.filter((m: Json) => m.MetricStat).map((m: Json) => [m.Id, m.MetricStat]));
    expect(byId.requests).toMatchObject({ Metric: { Namespace: 'ConnectHub/Backend', MetricName: 'Requests' }, Stat: 'Sum', Period: 300 });
    expect(byId.errors).toMatchObject({ Metric: { Namespace: 'ConnectHub/Backend', MetricName: 'Errors5xx' }, Stat: 'Sum', Period: 300 });
  });

  test.each([
    ['FastLong', 3600, 14.4],
    ['FastShort', 300, 14.4],
    ['SlowLong', 21600, 6],
    ['SlowShort', 1800, 6],
  ])('burn-rate component %s: window %ds, threshold %dx, silent on its own', (which, seconds, factor) => {
    const p = alarm(eu, `-Slo-ApiAvailabilityBurn${which}-Critical`);
    expect(p).toMatchObject({ Threshold: factor, EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: 'notBreaching', ActionsEnabled: false });
    const minutes = seconds / 60;
    expect(p.Metrics.find((m: Json) => m.Expression).Expression).toBe(`IF(total${minutes}m > 0, FILL(bad${minutes}m, 0) / total${minutes}m, 0) / 0.001`);
    for (const m of p.Metrics.filter((x: Json) => x.MetricStat)) {
      expect(m.MetricStat).toMatchObject({ Stat: 'Sum', Period: seconds, Metric: { Namespace: 'ConnectHub/Backend', Dimensions: dims({ Environment: 'prod', Service: 'api' }) } });
    }
  });

  test('burn-rate composites: long AND short window, notifying the topic', () => {
    const composites = eu.findResources('AWS::CloudWatch::CompositeAlarm');
    const byName = Object.fromEntries(Object.values(composites).map((r: Json) => [r.Properties.AlarmName, r.Properties]));
    for (const w of ['Fast', 'Slow']) {
      const c = byName[`ConnectHub-prod-eu-west-1-Slo-ApiAvailability${w}Burn-Critical`];
      expect(c.ActionsEnabled).toBe(true);
      expect(c.AlarmActions).toHaveLength(1);
      const rule = JSON.stringify(c.AlarmRule);
      expect(rule).toContain(') AND ALARM(');
      expect(rule).toContain(`ApiAvailabilityBurn${w}Long`);
      expect(rule).toContain(`ApiAvailabilityBurn${w}Short`);
    }
    expect(byName['ConnectHub-prod-eu-west-1-Slo-ApiAvailabilityFastBurn-Critical'].AlarmDescription).toMatch(/14\.4x over both 1 hour and 5 minutes: at this rate 2 % of a 30-day budget/);
  });

  test.each([
    [1, 'api-availability'],
    [2, 'api-latency'],
    [3, 'db-query-latency'],
    [4, 'message-delivery-latency'],
  ])('budget exhausted %d (%s): SLO reporter 30-day ErrorBudgetRemaining below 0 for 2 hours, a warning', (n, slo) => {
    const p = alarm(eu, `-SloReport-BudgetExhausted${n}-Warning`);
    expect(singleMetric(p)).toEqual({ namespace: 'ConnectHub/SLO', name: 'ErrorBudgetRemaining', stat: 'Minimum', period: 3600, dims: dims({ Environment: 'prod', Slo: slo, Window: '30d' }) });
    expect(p).toMatchObject({ Threshold: 0, ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 2, DatapointsToAlarm: 2, TreatMissingData: 'notBreaching' });
  });

  test('missing traffic alarm treats missing data as breaching', () => {
    const p = alarm(eu, '-Api-ApiMetricsMissing-Critical');
    expect(singleMetric(p)).toMatchObject({ name: 'Requests', stat: 'SampleCount', period: 300 });
    expect(p).toMatchObject({ Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching' });
  });
});

describe('load balancer, CloudFront, EKS (eu-west-1)', () => {
  test('ALB p99 target response time above 0.2 s and 5xx rate above 0.1 %', () => {
    const lat = alarm(eu, '-Alb-AlbLatencyP99-Critical');
    expect(singleMetric(lat)).toEqual({ namespace: 'AWS/ApplicationELB', name: 'TargetResponseTime', stat: 'p99', period: 300, dims: dims({ LoadBalancer: 'app/connecthub/50dc6c495c0c9188' }) });
    expect(lat.Threshold).toBe(0.2);
    const err = alarm(eu, '-Alb-AlbErrorRate-Critical');
    expect(err.Threshold).toBe(0.1);
    expect(err.Metrics.find((m: Json) => m.Expression).Expression).toBe('IF(requests > 0, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)');
    const unhealthy = alarm(eu, '-Alb-AlbUnhealthyTargets-Critical');
    expect(singleMetric(unhealthy).dims).toEqual(dims({ LoadBalancer: 'app/connecthub/50dc6c495c0c9188', TargetGroup: 'targetgroup/connecthub-api/73e2d6bc24d8a067' }));
  });

  test('no CloudFront alarms outside us-east-1, but the widgets read us-east-1', () => {
    expect(Object.values(eu.findResources('AWS::CloudWatch::Alarm')).filter((r: Json) => /CloudFront/.test(r.Properties.AlarmName))).toHaveLength(0);
    const widgets = dashboards(eu)['ConnectHub-prod-eu-west-1'].widgets as Json[];
    const origin = widgets.find((w) => w.properties?.title === 'Origin latency (ms)')!;
    expect(origin.properties.metrics[0].slice(0, 6)).toEqual(['AWS/CloudFront', 'OriginLatency', 'DistributionId', 'E2EXAMPLE1', 'Region', 'Global']);
    expect(origin.properties.metrics[0][6]).toMatchObject({ region: 'us-east-1', stat: 'p50' });
    // the library's CloudFront segment (traffic, errors, cache hit rate) reads us-east-1 as well
    const cloudFrontMetrics = widgets.flatMap((w) => (w.properties?.metrics ?? []) as Json[]).filter((m) => m[0] === 'AWS/CloudFront');
    expect(cloudFrontMetrics.map((m) => m[1])).toEqual(expect.arrayContaining(['Requests', 'CacheHitRate', '4xxErrorRate', '5xxErrorRate', 'OriginLatency']));
    for (const m of cloudFrontMetrics) expect(m.find((x: unknown) => typeof x === 'object')).toMatchObject({ region: 'us-east-1' });
  });

  test.each([
    ['-Eks-EksFailedNodes-Critical', 'cluster_failed_node_count', 'Maximum', 0, 'GreaterThanThreshold', { ClusterName: 'connecthub-prod-eu' }],
    ['-Eks-EksNodeCpu-Critical', 'node_cpu_utilization', 'Average', 80, 'GreaterThanThreshold', { ClusterName: 'connecthub-prod-eu' }],
    ['-Eks-EksNodeMemory-Critical', 'node_memory_utilization', 'Average', 80, 'GreaterThanThreshold', { ClusterName: 'connecthub-prod-eu' }],
  ])('%s', (suffix, name, stat, threshold, op, d) => {
    const p = alarm(eu, suffix);
    expect(singleMetric(p)).toEqual({ namespace: 'ContainerInsights', name, stat, period: 300, dims: dims(d) });
    expect(p).toMatchObject({ Threshold: threshold, ComparisonOperator: op });
  });

  test.each([
    ['-Eks-HpaApiAtMax-Critical', 'api', 50],
    ['-Eks-HpaWorkerAtMax-Critical', 'worker', 30],
  ])('%s: desired replicas at the HPA maximum', (suffix, service, max) => {
    const p = alarm(eu, suffix);
    expect(singleMetric(p)).toEqual({ namespace: 'ConnectHub/Backend', name: 'HpaDesiredReplicas', stat: 'Maximum', period: 300, dims: dims({ Environment: 'prod', Service: service }) });
    expect(p).toMatchObject({ Threshold: max, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });
});

describe('data tier saturation (eu-west-1)', () => {
  test.each([
    ['-Aurora-CPU-Usage-Critical', 'AWS/RDS', 'CPUUtilization', 'Average', 80, { DBClusterIdentifier: 'connecthub-prod-eu' }],
    ['-Aurora-Connection-Count-High-Critical', 'AWS/RDS', 'DatabaseConnections', 'Average', 800, { DBClusterIdentifier: 'connecthub-prod-eu' }],
    ['-AuroraExtra-AuroraReplicaLag-Critical', 'AWS/RDS', 'AuroraReplicaLagMaximum', 'Maximum', 1000, { DBClusterIdentifier: 'connecthub-prod-eu' }],
    ['-AuroraExtra-AuroraGlobalReplicationLag-Critical', 'AWS/RDS', 'AuroraGlobalDBReplicationLag', 'Maximum', 1000, { DBClusterIdentifier: 'connecthub-prod-eu' }],
    ['-Redis1-CPU-Usage-RedisEngine-Critical', 'AWS/ElastiCache', 'EngineCPUUtilization', 'Maximum', 80, { CacheClusterId: 'ch-prod-0001-001' }],
    ['-Redis2-Items-Evicted-Critical', 'AWS/ElastiCache', 'Evictions', 'Sum', 100, { CacheClusterId: 'ch-prod-0001-002' }],
    ['-RedisExtra-Redis1Memory-Critical', 'AWS/ElastiCache', 'DatabaseMemoryUsagePercentage', 'Maximum', 80, { CacheClusterId: 'ch-prod-0001-001' }],
    ['-RedisExtra-Redis2ReplicationLag-Critical', 'AWS/ElastiCache', 'ReplicationLag', 'Maximum', 1, { CacheClusterId: 'ch-prod-0001-002' }],
    ['-Kafka-KafkaOfflinePartitions-Critical', 'AWS/Kafka', 'OfflinePartitionsCount', 'Maximum', 0, { 'Cluster Name': 'connecthub-prod' }],
    ['-Kafka-KafkaNoActiveController-Critical', 'AWS/Kafka', 'ActiveControllerCount', 'Maximum', 1, { 'Cluster Name': 'connecthub-prod' }],
    ['-Kafka-KafkaBroker2Disk-Critical', 'AWS/Kafka', 'KafkaDataLogsDiskUsed', 'Maximum', 85, { 'Cluster Name': 'connecthub-prod', 'Broker ID': '2' }],
    ['-Kafka-ConsumerLag1-Critical', 'ConnectHub/Streaming', 'ConsumerLag', 'Maximum', 5000, { ConsumerGroup: 'connecthub-worker-activity' }],
  ])('%s: %s %s %s threshold %d', (suffix, namespace, name, stat, threshold, d) => {
    const p = alarm(eu, suffix);
    expect(singleMetric(p)).toEqual({ namespace, name, stat, period: 300, dims: dims(d) });
    expect(p.Threshold).toBe(threshold);
  });

  test('RDS Proxy pool and Kafka CPU are metric math over the right metrics, statistics and periods', () => {
    const proxy = alarm(eu, '-AuroraExtra-RdsProxyConnections-Critical');
    expect(proxy).toMatchObject({ Threshold: 80, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 3 });
    expect(proxy.Metrics.find((m: Json) => m.Expression).Expression).toBe('IF(allowed > 0, 100 * used / allowed, 0)');
    const stats = (p: Json) => p.Metrics.filter((m: Json) => m.MetricStat)
      .map((m: Json) => [m.Id, m.MetricStat.Metric.MetricName, m.MetricStat.Stat, m.MetricStat.Period, m.MetricStat.Metric.Dimensions]);
    expect(stats(proxy)).toEqual([
      ['used', 'DatabaseConnections', 'Maximum', 300, [{ Name: 'ProxyName', Value: 'connecthub-prod-eu' }]],
      ['allowed', 'MaxDatabaseConnectionsAllowed', 'Maximum', 300, [{ Name: 'ProxyName', Value: 'connecthub-prod-eu' }]],
    ]);
    const cpu = alarm(eu, '-Kafka-KafkaBroker1Cpu-Critical');
    expect(cpu).toMatchObject({ Threshold: 60, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 3 });
    expect(cpu.Metrics.find((m: Json) => m.Expression).Expression).toBe('user + system');
    const broker1 = dims({ 'Cluster Name': 'connecthub-prod', 'Broker ID': '1' });
    expect(stats(cpu).map(([id, name, stat, period, d]: any[]) => [id, name, stat, period, [...d].sort((a: Json, b: Json) => a.Name.localeCompare(b.Name))])).toEqual([
      ['user', 'CpuUser', 'Average', 300, broker1],
      ['system', 'CpuSystem', 'Average', 300, broker1],
    ]);
  });

  test('Redis replication lag ignores primaries (no data is not breaching)', () => {
    expect(alarm(eu, '-RedisExtra-Redis1ReplicationLag-Critical').TreatMissingData).toBe('notBreaching');
  });
});

describe('alert topic', () => {
  test('KMS-encrypted (rotating key), TLS-only, CloudWatch may publish; subscriptions from props', () => {
    eu.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    eu.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    const policy = JSON.stringify(eu.findResources('AWS::SNS::TopicPolicy'));
    expect(policy).toContain('"aws:SecureTransport":"false"');
    expect(policy).toContain('cloudwatch.amazonaws.com');
    eu.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowCloudWatchAlarmsToUseKey', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
    const subs = Object.values(eu.findResources('AWS::SNS::Subscription')).map((r: Json) => [r.Properties.Protocol, r.Properties.Endpoint]);
    expect(subs).toEqual([
      ['email', 'oncall@example.com'],
      ['https', 'https://hooks.example.com/connecthub'],
      ['sqs', `arn:aws:sqs:eu-west-1:${ACCOUNT}:connecthub-alerts`],
    ]);
  });

  test('the topic key is retained by default and destroyable on request', () => {
    const keyOf = (t: Template) => Object.entries(t.findResources('AWS::KMS::Key')).find(([id]) => id.startsWith('MonitoringAlertsKey'))![1] as Json;
    expect(keyOf(eu).DeletionPolicy).toBe('Retain');
    expect(keyOf(us).DeletionPolicy).toBe('Delete');
  });

  test('every alarm notifies the topic on ALARM and OK', () => {
    for (const r of Object.values(eu.findResources('AWS::CloudWatch::Alarm')) as Json[]) {
      expect(r.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^MonitoringAlertsTopic/) }]);
      expect(r.Properties.OKActions).toEqual(r.Properties.AlarmActions);
    }
  });

  test('dashboards per environment and region', () => {
    const names = Object.values(eu.findResources('AWS::CloudWatch::Dashboard')).map((r: Json) => r.Properties.DashboardName).sort();
    expect(names).toEqual(['ConnectHub-prod-eu-west-1', 'ConnectHub-prod-eu-west-1-Alarms', 'ConnectHub-prod-eu-west-1-Summary']);
    const body = JSON.stringify(eu.findResources('AWS::CloudWatch::Dashboard'));
    for (const m of ['RequestLatency', 'Requests', 'Errors5xx', 'CacheHitRate', 'Evictions', 'CommitLatency', 'AuroraGlobalDBReplicationLag', 'ClientConnections', 'BytesInPerSec', 'MessagesInPerSec', 'ConsumerLag', 'cluster_node_count', 'namespace_number_of_running_pods', 'HpaCurrentReplicas', 'ErrorBudgetRemaining', 'CacheHitRate']) {
      expect(body).toContain(m);
    }
  });
});

describe('us-east-1: NLB, CloudFront alarms, existing-topic-free default, SLO reporter, RUM', () => {
  test.each([
    ['-CloudFront-Fault-Rate-Critical', '5xxErrorRate', 0.1],
    ['-CloudFront-Error-Rate-Warning', '4xxErrorRate', 5],
  ])('CloudFront %s: %s (Average, 5 min, Region=Global) above %d %%', (suffix, name, threshold) => {
    const p = alarm(us, suffix);
    expect(singleMetric(p)).toEqual({ namespace: 'AWS/CloudFront', name, stat: 'Average', period: 300, dims: dims({ DistributionId: 'E2EXAMPLE1', Region: 'Global' }) });
    expect(p).toMatchObject({ Threshold: threshold, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 3 });
  });

  test('NLB unhealthy targets (with a target group): UnHealthyHostCount Maximum over 5 min per target group', () => {
    const p = alarm(us, '-Nlb-Unhealthy-Tasks-Critical');
    expect(singleMetric(p)).toEqual({
      namespace: 'AWS/NetworkELB', name: 'UnHealthyHostCount', stat: 'Maximum', period: 300,
      dims: dims({ LoadBalancer: 'net/connecthub/50dc6c495c0c9188', TargetGroup: 'targetgroup/connecthub-ws/73e2d6bc24d8a067' }),
    });
    expect(p).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 3 });
  });

  test('custom burn-rate windows replace the defaults', () => {
    expect(Object.keys(monitoringUs.burnRateAlarms)).toEqual(['Page']);
    expect(Object.values(us.findResources('AWS::CloudWatch::CompositeAlarm')).map((r: Json) => r.Properties.AlarmName)).toEqual(['ConnectHub-prod-us-east-1-Slo-ApiAvailabilityPageBurn-Critical']);
  });

  test('SLO reporter: Node 22 on arm64, hourly schedule, least privilege', () => {
    us.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 1,
      DeadLetterConfig: { TargetArn: Match.anyValue() },
      Environment: { Variables: { CONNECTHUB_ENVIRONMENT: 'prod', SLO_WINDOWS: '1h,1d,7d,30d', NODE_OPTIONS: '--enable-source-maps' } },
    });
    us.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' });
    us.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: Match.anyValue() });
    us.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Sid: 'ReadMetrics', Effect: 'Allow', Action: 'cloudwatch:GetMetricData', Resource: '*' },
          { Sid: 'PublishSloMetrics', Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'ConnectHub/SLO' } } },
        ]),
      },
    });
    const fault = alarm(us, '-SloReporter-Fault-Count-Critical');
    const [functionId] = Object.keys(us.findResources('AWS::Lambda::Function'));
    expect(singleMetric(fault)).toEqual({ namespace: 'AWS/Lambda', name: 'Errors', stat: 'Sum', period: 300, dims: [{ Name: 'FunctionName', Value: { Ref: functionId } }] });
    expect(fault).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1, DatapointsToAlarm: 1 });
  });

  test.each([
    ['FirstContentfulPaint', 'RUM/CustomMetrics/ConnectHubWeb-prod', 'FirstContentfulPaint', 1500, undefined],
    ['LargestContentfulPaint', 'AWS/RUM', 'WebVitalsLargestContentfulPaint', 2500, { application_name: 'connecthub-prod-web' }],
    ['CumulativeLayoutShift', 'AWS/RUM', 'WebVitalsCumulativeLayoutShift', 0.1, { application_name: 'connecthub-prod-web' }],
    ['FirstInputDelay', 'AWS/RUM', 'WebVitalsFirstInputDelay', 100, { application_name: 'connecthub-prod-web' }],
    ['InteractionToNextPaint', 'AWS/RUM', 'WebVitalsInteractionToNextPaint', 200, { application_name: 'connecthub-prod-web' }],
  ])('web vital %s: %s %s p75 > %d over 2 x 15 min', (id, namespace, name, threshold, d) => {
    const p = alarm(us, `-Web-${id}`);
    expect(singleMetric(p)).toEqual({ namespace, name, stat: 'p75', period: 900, dims: d ? dims(d) : undefined });
    expect(p).toMatchObject({ Threshold: threshold, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 2, DatapointsToAlarm: 2, TreatMissingData: 'notBreaching' });
  });

  test('RUM app monitor with a guest role limited to PutRumEvents on itself, and the FCP custom metric', () => {
    us.hasResourceProperties('AWS::RUM::AppMonitor', {
      Name: 'connecthub-prod-web',
      Domain: 'app.connecthub.example',
      CustomEvents: { Status: 'ENABLED' },
      AppMonitorConfiguration: Match.objectLike({
        Telemetries: ['performance', 'errors', 'http'],
        MetricDestinations: [
          { Destination: 'CloudWatch', MetricDefinitions: [{ Name: 'FirstContentfulPaint', Namespace: 'ConnectHubWeb-prod', ValueKey: 'event_details.value', UnitLabel: 'Milliseconds', EventPattern: JSON.stringify({ event_type: [FCP_EVENT_TYPE] }) }] },
        ],
      }),
    });
    us.hasResourceProperties('AWS::Cognito::IdentityPool', { AllowUnauthenticatedIdentities: true, AllowClassicFlow: false });
    const policies = Object.values(us.findResources('AWS::IAM::ManagedPolicy')).filter((r: Json) => JSON.stringify(r).includes('rum:PutRumEvents'));
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'rum:PutRumEvents', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rum:us-east-1:111111111111:appmonitor/connecthub-prod-web']] } },
    ]);
    us.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Action: 'sts:AssumeRoleWithWebIdentity', Condition: Match.objectLike({ 'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'unauthenticated' } }) })] },
    });
  });
});

describe('network load balancers known only by their ARNs (ap-southeast-1)', () => {
  const LB = { Api: 'net/connecthub-staging-api/0123456789abcdef', Realtime: 'net/connecthub-staging-realtime/0123456789abcdef' };

  test.each(Object.entries(LB))('Nlb%s: unhealthy targets over every target group of the load balancer, a Metrics Insights alarm, 3 x 5 min', (name, lb) => {
    const p = alarm(nlbOnly, `-Nlb${name}-UnhealthyTargets-Critical`);
    expect(p.AlarmName).toBe(`ConnectHub-staging-ap-southeast-1-Nlb${name}-UnhealthyTargets-Critical`);
    expect(p.Metrics).toEqual([expect.objectContaining({
      Expression: `SELECT MAX(UnHealthyHostCount) FROM SCHEMA("AWS/NetworkELB", LoadBalancer, TargetGroup) WHERE LoadBalancer = '${lb}'`,
      Period: 300,
    })]);
    expect(p).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 3 });
  });

  test('flows, processed bytes and TCP resets per load balancer on the dashboard, without alarms', () => {
    const widgets = dashboards(nlbOnly)['ConnectHub-staging-ap-southeast-1'].widgets as Json[];
    const metrics = widgets.flatMap((w) => (w.properties?.metrics ?? []) as Json[]).filter((m) => m[0] === 'AWS/NetworkELB');
    // Dashboards omit the default statistic (Average).
    const expected = Object.values(LB).flatMap((lb) => [
      ['ActiveFlowCount', 'LoadBalancer', lb, 'Average'],
      ['NewFlowCount', 'LoadBalancer', lb, 'Sum'],
      ['ProcessedBytes', 'LoadBalancer', lb, 'Sum'],
      ['TCP_Client_Reset_Count', 'LoadBalancer', lb, 'Sum'],
      ['TCP_ELB_Reset_Count', 'LoadBalancer', lb, 'Sum'],
      ['TCP_Target_Reset_Count', 'LoadBalancer', lb, 'Sum'],
    ]);
    expect(metrics.map((m) => [m[1], m[2], m[3], m[4].stat ?? 'Average']).sort()).toEqual(expected.sort());
    const healthy = widgets.flatMap((w) => (w.properties?.metrics ?? []) as Json[]).filter((m) => String(m[0]?.expression).startsWith('SELECT MIN(HealthyHostCount)'));
    expect(healthy).toHaveLength(2);
    const nlbAlarms = Object.values(nlbOnly.findResources('AWS::CloudWatch::Alarm')).map((r: Json) => r.Properties.AlarmName).filter((n: string) => n.includes('-Nlb')).sort();
    expect(nlbAlarms).toEqual(['ConnectHub-staging-ap-southeast-1-NlbApi-UnhealthyTargets-Critical', 'ConnectHub-staging-ap-southeast-1-NlbRealtime-UnhealthyTargets-Critical']);
  });
});

describe('gates', () => {
  test('cdk-nag AwsSolutions and NIST 800-53 r5: no unacknowledged findings', () => {
    const violations = [...new AwsSolutionsChecks().validateScope(app).violations, ...new NIST80053R5Checks().validateScope(app).violations];
    expect(violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId).join(',')}`)).toEqual([]);
  });

});

