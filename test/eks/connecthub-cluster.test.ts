import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { ConnectHubCluster, DEFAULT_PLATFORM_VERSIONS, KUBE_STATE_METRICS, type ConnectHubClusterProps } from '../../constructs/eks/connecthub-cluster';
import { collectorConfig } from '../../constructs/observability/otel-config';
import { App as Cdk8sApp } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { BackendChart } from '../../cdk8s/backend-chart';
import { LoadBalancerLookup } from '../../constructs/eks/load-balancer-lookup';
import { chartProps } from '../cdk8s/fixtures';
import { ACCOUNT, MSK, TOPICS, buildPlatform, groupArn, topicArn, type Platform } from './harness';

let built: Platform;
let template: Template;
let resources: Record<string, any>;

beforeAll(() => {
  built = buildPlatform();
  template = Template.fromStack(built.stack);
  resources = template.toJSON().Resources;
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const helmChart = (chart: string) => ofType('Custom::AWSCDK-EKS-HelmChart').find(([, r]) => r.Properties.Chart === chart)!;
const logicalIdOf = (construct: { node: { defaultChild?: unknown } } | any) => built.stack.getLogicalId(construct.node?.defaultChild ?? construct);
const policyOf = (roleLogicalId: string) =>
  ofType('AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleLogicalId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);

describe('cluster', () => {
  test('EKS Auto Mode 1.35, private endpoint, all control-plane logs, KMS envelope encryption', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      Name: 'connecthub-dev-use1',
      Version: '1.35',
      ComputeConfig: { Enabled: true, NodePools: ['system', 'general-purpose'] },
      KubernetesNetworkConfig: { ElasticLoadBalancing: { Enabled: true } },
      StorageConfig: { BlockStorage: { Enabled: true } },
      ResourcesVpcConfig: { EndpointPrivateAccess: true, EndpointPublicAccess: false },
      Logging: { ClusterLogging: { EnabledTypes: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'].map((Type) => ({ Type })) } },
      EncryptionConfig: [{ Provider: { KeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EksSecretsKey'), 'Arn'] } }, Resources: ['secrets'] }],
      AccessConfig: { AuthenticationMode: 'API', BootstrapClusterCreatorAdminPermissions: false },
    });
  });

  test('the kubectl provider uses the Kubernetes 1.35 layer', () => {
    const fn = ofType('AWS::Lambda::Function').find(([id]) => id.includes('KubectlProviderHandler'))![1];
    expect(fn.Properties.Layers).toHaveLength(2);
    expect(built.platform.cluster.node.findChild('KubectlProvider')).toBeDefined();
    expect(built.platform.node.findChild('KubectlLayer').constructor.name).toBe('KubectlV35Layer');
  });

  test('admins come from props as access entries; the creator is not admin', () => {
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      PrincipalArn: `arn:aws:iam::${ACCOUNT}:role/PlatformAdmin`,
      AccessPolicies: [{ AccessScope: { Type: 'cluster' }, PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy']] } }],
    });
  });

  test('control-plane and Container Insights log groups exist first, with retention and KMS', () => {
    for (const name of ['/aws/eks/connecthub-dev-use1/cluster', '/aws/containerinsights/connecthub-dev-use1/application', '/aws/containerinsights/connecthub-dev-use1/performance']) {
      template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: name, RetentionInDays: 365, KmsKeyId: Match.anyValue() });
    }
    const clusterId = ofType('AWS::EKS::Cluster')[0][0];
    expect(resources[clusterId].DependsOn).toContain(logicalIdOf(built.platform.controlPlaneLogGroup));
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
  });

  test('Auto Mode NetworkPolicy enforcement is switched on', () => {
    const cm = ofType('Custom::AWSCDK-EKS-KubernetesResource').find(([id]) => id.includes('NetworkPolicyController'))![1];
    expect(cm.Properties.Overwrite).toBe(true);
    expect(JSON.parse(cm.Properties.Manifest)[0]).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' }, data: { 'enable-network-policy-controller': 'true' } });
  });
});

test('logical ids of the cluster, keys, log groups and the metrics workspace are pinned', () => {
  const ids = Object.keys(resources);
  for (const id of ['EksClusterB2BDED5B', 'EksSecretsKey89C78FFD', 'EksControlPlaneLogsDB7AEF19']) expect(ids).toContain(id);
  expect(ids.filter((i) => /^EksLogsKey[A-F0-9]{8}$/.test(i))).toHaveLength(1);
  expect(ids.filter((i) => /^EksPrometheusWorkspace[A-F0-9]{8}$/.test(i))).toHaveLength(1);
  expect(ids.filter((i) => /^EksContainerInsights(Application|Dataplane|Host|Performance)Logs[A-F0-9]{8}$/.test(i))).toHaveLength(4);
  for (const id of ids.filter((i) => /^Eks(SecretsKey|LogsKey|ControlPlaneLogs|PrometheusWorkspace|ContainerInsights)/.test(i))) {
    expect([id, resources[id].DeletionPolicy]).toEqual([id, 'Retain']);
  }
});

describe('add-ons', () => {
  test('metrics-server, CloudWatch observability (with its Pod Identity) and the Secrets Store CSI provider, pinned', () => {
    const addons = ofType('AWS::EKS::Addon').map(([, r]) => r.Properties);
    expect(addons.map((a) => [a.AddonName, a.AddonVersion]).sort()).toEqual(
      [
        ['amazon-cloudwatch-observability', DEFAULT_PLATFORM_VERSIONS.cloudWatchObservability],
        ['aws-secrets-store-csi-driver-provider', DEFAULT_PLATFORM_VERSIONS.secretsStoreCsiProvider],
        ['metrics-server', DEFAULT_PLATFORM_VERSIONS.metricsServer],
      ].sort(),
    );
    const cw = addons.find((a) => a.AddonName === 'amazon-cloudwatch-observability');
    expect(cw.PodIdentityAssociations).toEqual([{ ServiceAccount: 'cloudwatch-agent', RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/CloudWatchAgentRole/), 'Arn'] } }]);
    // Auto Mode ships the Pod Identity agent: no separate (unpinned) add-on.
    expect(addons.some((a) => a.AddonName === 'eks-pod-identity-agent')).toBe(false);
  });

  test('KEDA from its Helm repository at a pinned version, after its Pod Identity association and metrics-server', () => {
    const [id, keda] = helmChart('keda');
    expect(keda.Properties).toMatchObject({ Chart: 'keda', Repository: 'https://kedacore.github.io/charts', Version: DEFAULT_PLATFORM_VERSIONS.kedaChart, Namespace: 'keda', Release: 'keda' });
    const kedaAssociation = ofType('AWS::EKS::PodIdentityAssociation').find(([, r]) => r.Properties.Namespace === 'keda')![0];
    const metricsServer = ofType('AWS::EKS::Addon').find(([, r]) => r.Properties.AddonName === 'metrics-server')![0];
    expect(resources[id].DependsOn).toEqual(expect.arrayContaining([kedaAssociation, metricsServer]));
  });

  test('kube-state-metrics from its Helm repository at a pinned version, where the collector scrapes it, HPAs only', () => {
    const [, ksm] = helmChart('kube-state-metrics');
    expect(ksm.Properties).toMatchObject({
      Chart: 'kube-state-metrics',
      Repository: 'https://prometheus-community.github.io/helm-charts',
      Version: DEFAULT_PLATFORM_VERSIONS.kubeStateMetricsChart,
      Namespace: 'kube-system',
      // Release name = chart name, so the chart's Service is named kube-state-metrics.
      Release: 'kube-state-metrics',
    });
    const values = JSON.parse(ksm.Properties.Values);
    // Its ClusterRole follows the collectors: HPAs only, no Secrets or ConfigMaps; only the backend namespace.
    expect(values).toMatchObject({ collectors: ['horizontalpodautoscalers'], namespaces: 'connecthub', service: { port: 8080 } });
    // The collector's default scrape target is exactly this Service.
    const config = collectorConfig({ environmentName: 'dev', region: 'us-east-1', clusterName: 'c', namespace: 'connecthub' }) as any;
    const job = config.receivers.prometheus.config.scrape_configs.find((j: any) => j.job_name === 'kube-state-metrics');
    expect(job.static_configs[0].targets).toEqual([`${KUBE_STATE_METRICS.release}.${KUBE_STATE_METRICS.namespace}.svc:${KUBE_STATE_METRICS.port}`]);
    // Exactly what it keeps: the HPA replica metrics.
    expect(job.metric_relabel_configs[0].regex).toMatch(/^kube_horizontalpodautoscaler_/);
  });

  test('versions can be overridden, never to latest', () => {
    expect(() => buildPlatform({ versions: { kedaChart: 'latest' } })).toThrow(/versions\.kedaChart="latest": a pinned version string/);
  });
});

describe('Pod Identity', () => {
  test('one association per workload to its ServiceAccount, plus KEDA and the OpenTelemetry collector', () => {
    const assoc = ofType('AWS::EKS::PodIdentityAssociation').map(([, r]) => `${r.Properties.Namespace}/${r.Properties.ServiceAccount}`);
    expect(assoc.sort()).toEqual(['connecthub/connecthub-api', 'connecthub/connecthub-otel-collector', 'connecthub/connecthub-realtime', 'connecthub/connecthub-worker', 'keda/keda-operator']);
  });

  test('roles trust only the EKS Pod Identity service', () => {
    for (const role of Object.values(built.platform.workloadRoles)) {
      const doc = resources[logicalIdOf(role)].Properties.AssumeRolePolicyDocument.Statement;
      expect(doc.flatMap((s: any) => [].concat(s.Action))).toEqual(expect.arrayContaining(['sts:AssumeRole', 'sts:TagSession']));
      expect(doc.every((s: any) => s.Principal.Service === 'pods.eks.amazonaws.com')).toBe(true);
    }
  });

  test('the worker gets exactly its topics, groups, secret and RDS user; no wildcard resources', () => {
    const statements = policyOf(logicalIdOf(built.platform.workloadRoles.worker));
    const byAction = (action: string) => statements.filter((s: any) => [].concat(s.Action).includes(action as never));
    expect(byAction('kafka-cluster:ReadData')[0].Resource).toEqual(TOPICS.map(topicArn));
    expect(byAction('kafka-cluster:WriteData')[0].Resource).toEqual(TOPICS.map((t) => topicArn(`${t}.dlq`)));
    expect(byAction('kafka-cluster:AlterGroup')[0].Resource).toEqual(groupArn('connecthub-worker-activity'));
    expect(byAction('kafka-cluster:Connect')[0].Resource).toEqual(MSK);
    // kafkajs producers are idempotent (InitProducerId): authorized on the cluster resource.
    expect(byAction('kafka-cluster:WriteDataIdempotently').map((s: any) => s.Resource)).toEqual([MSK]);
    expect(byAction('rds-db:connect')[0].Resource).toEqual(`arn:aws:rds-db:us-east-1:${ACCOUNT}:dbuser:prx-0123456789abcdef0/connecthub_app`);
    expect(byAction('secretsmanager:GetSecretValue')[0].Resource).toEqual({ Ref: logicalIdOf(built.redisSecret) });
    expect(statements.filter((s: any) => [].concat(s.Resource).includes('*' as never))).toEqual([]);
    expect(byAction('kafka-cluster:WriteData').length).toBe(1);
  });

  test('a role that writes no topic gets no idempotent-write permission', () => {
    for (const w of ['api', 'realtime'] as const) {
      const actions = policyOf(logicalIdOf(built.platform.workloadRoles[w])).flatMap((s: any) => [].concat(s.Action));
      expect({ w, idempotent: actions.includes('kafka-cluster:WriteDataIdempotently' as never) }).toEqual({ w, idempotent: w === 'api' });
    }
  });

  test('every role that mounts the Redis secret may decrypt its customer-managed key, through Secrets Manager only', () => {
    const keyArn = { 'Fn::GetAtt': [logicalIdOf(built.redisKey), 'Arn'] };
    for (const w of ['api', 'realtime', 'worker'] as const) {
      const statements = policyOf(logicalIdOf(built.platform.workloadRoles[w]));
      expect(statements.find((s: any) => [].concat(s.Action).includes('secretsmanager:GetSecretValue' as never)).Resource).toEqual({ Ref: logicalIdOf(built.redisSecret) });
      const decrypt = statements.filter((s: any) => [].concat(s.Action).includes('kms:Decrypt' as never));
      expect({ w, decrypt: decrypt.map((s: any) => ({ Action: s.Action, Resource: s.Resource, Condition: s.Condition })) }).toEqual({
        w,
        decrypt: [{ Action: 'kms:Decrypt', Resource: keyArn, Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } } }],
      });
    }
  });

  test('the api may publish metrics only to its namespace', () => {
    const statements = policyOf(logicalIdOf(built.platform.workloadRoles.api));
    const put = statements.find((s: any) => s.Action === 'cloudwatch:PutMetricData');
    expect(put.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'ConnectHub/dev' } });
    expect(statements.some((s: any) => [].concat(s.Action).includes('kafka-cluster:ReadData' as never))).toBe(false);
  });

  test('KEDA reads the Prometheus workspace and MSK group/topic metadata only', () => {
    const statements = policyOf(logicalIdOf(built.platform.kedaRole));
    const actions = statements.flatMap((s: any) => [].concat(s.Action)).sort();
    expect(actions).toEqual(
      ['aps:GetLabels', 'aps:GetMetricMetadata', 'aps:GetSeries', 'aps:QueryMetrics', 'kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:DescribeGroup', 'kafka-cluster:DescribeTopic', 'kms:Decrypt'].sort(),
    );
    expect(actions.some((a: string) => /ReadData|WriteData|AlterGroup/.test(a))).toBe(false);
  });
});

describe('metrics pipeline and backend manifests', () => {
  test('Prometheus workspace (KMS) and a managed scraper of the backend namespace', () => {
    template.hasResourceProperties('AWS::APS::Workspace', { KmsKeyArn: Match.anyValue() });
    const scraper = ofType('AWS::APS::Scraper')[0][1].Properties;
    const config = Buffer.from(scraper.ScrapeConfiguration.ConfigurationBlob, 'base64').toString('utf8');
    expect(config).toContain('names: [connecthub]');
    expect(config).toContain('__meta_kubernetes_pod_annotation_prometheus_io_scrape');
    expect(scraper.Source.EksConfiguration.SubnetIds).toHaveLength(3);
    expect(built.stack.resolve(built.platform.prometheusQueryEndpoint)).toEqual({
      'Fn::Join': ['', ['https://aps-workspaces.us-east-1.', { Ref: 'AWS::URLSuffix' }, '/workspaces/', { 'Fn::GetAtt': [expect.stringMatching(/^EksPrometheusWorkspace/), 'WorkspaceId'] }]],
    });
  });

  test('the backend chart is applied after KEDA, the CSI driver and the Pod Identity associations', () => {
    const [id, manifest] = ofType('Custom::AWSCDK-EKS-KubernetesResource').find(([i]) => i.includes('BackendManifests'))!;
    const deps: string[] = manifest.DependsOn;
    const keda = helmChart('keda')[0];
    const csi = ofType('AWS::EKS::Addon').find(([, r]) => r.Properties.AddonName === 'aws-secrets-store-csi-driver-provider')![0];
    const assoc = ofType('AWS::EKS::PodIdentityAssociation').filter(([, r]) => r.Properties.Namespace === 'connecthub').map(([i]) => i);
    expect(deps).toEqual(expect.arrayContaining([keda, csi, ...assoc]));
    expect(id).toMatch(/BackendManifests/);
  });

  test('the NLB hostnames are read back from the Services for the edge stack', () => {
    const values = ofType('Custom::AWSCDK-EKS-KubernetesObjectValue').map(([, r]) => r.Properties);
    expect(values.map((v) => v.ObjectName).sort()).toEqual(['connecthub-api', 'connecthub-realtime']);
    for (const v of values) expect(v).toMatchObject({ ObjectType: 'service', ObjectNamespace: 'connecthub', JsonPath: '.status.loadBalancer.ingress[0].hostname' });
    expect(built.stack.resolve(built.platform.apiLoadBalancerHostname)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/ApiLoadBalancerHostname/), 'Value'] });
    expect(built.platform.realtimeLoadBalancerHostname).toBeDefined();
  });

  test('the NLB ARNs are looked up by the names the chart pins, after the Services report their hostnames', () => {
    const lookups = ofType('Custom::LoadBalancerLookup');
    expect(lookups).toHaveLength(2);
    const byName = Object.fromEntries(lookups.map(([id, r]) => {
      const create = JSON.parse(r.Properties.Create['Fn::Join'] ? r.Properties.Create['Fn::Join'][1].join('') : r.Properties.Create);
      return [create.parameters.Names[0], { id, create, deps: r.DependsOn as string[] }];
    }));
    expect(Object.keys(byName).sort()).toEqual(['connecthub-dev-use1-api', 'connecthub-dev-use1-rt']);
    const api = byName['connecthub-dev-use1-api'];
    expect(api.create).toMatchObject({ service: 'ElasticLoadBalancingV2', action: 'describeLoadBalancers', outputPaths: ['LoadBalancers.0.LoadBalancerArn', 'LoadBalancers.0.DNSName'] });
    expect(api.deps.some((d: string) => /ApiLoadBalancerHostname/.test(d))).toBe(true);
    expect(byName['connecthub-dev-use1-rt'].deps.some((d: string) => /RealtimeLoadBalancerHostname/.test(d))).toBe(true);
    expect(built.stack.resolve(built.platform.apiLoadBalancerArn)).toEqual({ 'Fn::GetAtt': [api.id, 'LoadBalancers.0.LoadBalancerArn'] });
    // Least privilege: the one read-only action, which takes no resource-level permissions.
    const statements = ofType('AWS::IAM::Policy')
      .filter(([id]) => /LoadBalancerLookup/.test(id))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([{ Action: 'elasticloadbalancing:DescribeLoadBalancers', Effect: 'Allow', Resource: '*' }, { Action: 'elasticloadbalancing:DescribeLoadBalancers', Effect: 'Allow', Resource: '*' }]);
  });

  test('a load balancer name that is not a literal ELB name is refused', () => {
    const stack = new Stack(new App(), 'L', { env: { account: ACCOUNT, region: 'us-east-1' } });
    expect(() => new LoadBalancerLookup(stack, 'Bad', { loadBalancerName: 'x'.repeat(33) })).toThrow(/loadBalancerName="x{33}": a literal load balancer name, 1-32 letters/);
    expect(() => new LoadBalancerLookup(stack, 'Internal', { loadBalancerName: 'internal-api' })).toThrow(/not starting or ending with "-" nor starting with "internal-"/);
  });

  test('a chart that breaks the workload gate, or uses another port, is refused before it reaches the cluster', () => {
    const fresh = buildPlatform();
    // A fresh platform (the shared one must stay unchanged) and a chart with a rogue Deployment added after construction.
    const rogueScope = new Cdk8sApp();
    const chart = new BackendChart(rogueScope, 'backend', chartProps());
    new k8s.KubeDeployment(chart, 'Rogue', {
      metadata: { name: 'rogue' },
      spec: { selector: { matchLabels: { app: 'rogue' } }, template: { metadata: { labels: { app: 'rogue' } }, spec: { containers: [{ name: 'c', image: 'nginx:latest' }] } } },
    });
    const other = new ConnectHubCluster(fresh.stack, 'Other', { clusterName: 'other', vpc: fresh.platform.cluster.vpc, adminRoleArns: [`arn:aws:iam::${ACCOUNT}:role/Admin`] });
    const otherPort = new BackendChart(new Cdk8sApp(), 'backend', chartProps({ port: 9090 }));
    expect(() => other.addBackendChart(otherPort)).toThrow(/the chart's port 9090 differs from 8080/);
    expect(() => other.addBackendChart(chart)).toThrow(/addBackendChart: the chart breaks \d+ workload rules:[\s\S]*Deployment\/rogue container c: image nginx:latest is not pinned/);
  });

  test('a second backend chart is refused', () => {
    expect(() => built.platform.addBackendChart(built.chart)).toThrow(/already added/);
  });
});

describe('gates', () => {
  test('cdk-nag AwsSolutions and NIST 800-53 R5: no unacknowledged finding in the construct', () => {
    const mine = (report: { violations: any[] }) =>
      report.violations
        .map((v) => ({ rule: v.ruleName, paths: v.violatingResources.map((r: any) => r.constructPath).filter((p: string) => p?.startsWith('Platform/Eks/')) }))
        .filter((v) => v.paths.length > 0);
    expect(mine(new AwsSolutionsChecks().validateScope(built.app))).toEqual([]);
    expect(mine(new NIST80053R5Checks().validateScope(built.app))).toEqual([]);
  });

  test('no warnings or errors from the construct', () => {
    const annotations = Annotations.fromStack(built.stack);
    expect(annotations.findWarning('/Platform/Eks/*', Match.anyValue())).toEqual([]);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
  });
});

describe('props', () => {
  const base = (): ConnectHubClusterProps => {
    const stack = new Stack(new App(), 'S', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { availabilityZones: ['us-east-1a', 'us-east-1b'], natGateways: 1 });
    return { clusterName: 'c1', vpc, adminRoleArns: [`arn:aws:iam::${ACCOUNT}:role/Admin`] };
  };

  test('a public endpoint only for the CIDRs given, and the creator-admin switch', () => {
    const props = base();
    const stack = Stack.of(props.vpc);
    new ConnectHubCluster(stack, 'Eks', { ...props, publicAccessCidrs: ['203.0.113.0/24'], bootstrapClusterCreatorAdminPermissions: true });
    Template.fromStack(stack).hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: { EndpointPrivateAccess: true, EndpointPublicAccess: true, PublicAccessCidrs: ['203.0.113.0/24'] },
      AccessConfig: { BootstrapClusterCreatorAdminPermissions: true },
    });
  });

  test('bad props: one error naming every field, value and what is allowed', () => {
    const props = base();
    let message = '';
    try {
      new ConnectHubCluster(Stack.of(props.vpc), 'Bad', {
        ...props,
        clusterName: '9bad name',
        publicAccessCidrs: ['0.0.0.0/0', 'nope'],
        adminRoleArns: ['arn:aws:iam::123:user/bob'],
        workloadAccess: {
          worker: { readSecretArns: ['arn:aws:secretsmanager:us-east-1:111111111111:secret:*'], kafka: { clusterArn: 'arn:aws:kafka:us-east-1:111111111111:cluster/x', readTopicArns: ['user-activity'] } },
        },
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^Invalid ConnectHubCluster props \(7 problems\)/);
    expect(message).toContain('clusterName="9bad name": a letter then letters');
    expect(message).toContain('publicAccessCidrs[0]="0.0.0.0/0": a restricted CIDR');
    expect(message).toContain('publicAccessCidrs[1]="nope": an IPv4 CIDR');
    expect(message).toContain('adminRoleArns[0]="arn:aws:iam::123:user/bob": an IAM role ARN');
    expect(message).toContain('workloadAccess.worker.readSecretArns[0]="arn:aws:secretsmanager:us-east-1:111111111111:secret:*": a full ARN without wildcards');
    expect(message).toContain('workloadAccess.worker.kafka.clusterArn="arn:aws:kafka:us-east-1:111111111111:cluster/x": an MSK cluster ARN');
    expect(message).toContain('workloadAccess.worker.kafka.readTopicArns[0]="user-activity": an MSK topic ARN');
  });
});

describe('CloudFormation validation', () => {
  test('synthesizes with the built-in validation turned into errors', () => {
    const { app } = buildPlatform({}, { '@aws-cdk/core:validateAgainstDefaultRules': true });
    expect(() => app.synth()).not.toThrow();
  });
});
