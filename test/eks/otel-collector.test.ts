/** The OpenTelemetry collector's AWS side: its Pod Identity role (least privilege), EMF log group and APM key grant. */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { App as Cdk8sApp } from 'cdk8s';
import { BackendChart } from '../../cdk8s/backend-chart';
import { ConnectHubCluster } from '../../constructs/eks/connecthub-cluster';
import { chartProps } from '../cdk8s/fixtures';
import { ACCOUNT, buildPlatform, type Platform } from './harness';

const APM_SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:connecthub/newrelic-license-AbCdEf`;
const APM = { vendor: 'newrelic' as const, endpoint: 'https://otlp.nr-data.net', apiKeySecretArn: APM_SECRET };

type Built = { built: Platform; resources: Record<string, any> };
let plain: Built;
let withApm: Built & { key: kms.Key };

const statementsOf = (b: Built) => {
  const roleId = b.built.stack.getLogicalId(b.built.platform.collectorRole.node.defaultChild as any);
  return Object.values(b.resources)
    .filter((r: any) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleId))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
};
const logGroupId = (b: Built) => b.built.stack.getLogicalId(b.built.platform.collectorLogGroup!.node.defaultChild as any);
const nagFindings = (app: App) => {
  const mine = (report: { violations: any[] }) =>
    report.violations
      .map((v) => ({ rule: v.ruleName, paths: v.violatingResources.map((r: any) => r.constructPath).filter((p: string) => p?.startsWith('Platform/Eks/')) }))
      .filter((v) => v.paths.length > 0);
  return [...mine(new AwsSolutionsChecks().validateScope(app)), ...mine(new NIST80053R5Checks().validateScope(app))];
};

beforeAll(() => {
  const a = buildPlatform();
  plain = { built: a, resources: Template.fromStack(a.stack).toJSON().Resources };
  // A customer-managed key on the APM secret: the collector may decrypt with it (through Secrets Manager).
  const app = new App();
  const stack = new Stack(app, 'Platform', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const key = new kms.Key(stack, 'ApmKey', { enableKeyRotation: true });
  const built2 = buildPlatformWithKey(app, stack, key);
  withApm = { built: built2, resources: Template.fromStack(built2.stack).toJSON().Resources, key };
});

/** The harness' platform in a given stack, with the APM grant and its key (the harness does not take a key). */
function buildPlatformWithKey(app: App, stack: Stack, key: kms.Key): Platform {
  const vpc = new ec2.Vpc(stack, 'Vpc', { availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'], natGateways: 1 });
  const platform = new ConnectHubCluster(stack, 'Eks', {
    clusterName: 'connecthub-dev-use1',
    vpc,
    adminRoleArns: [`arn:aws:iam::${ACCOUNT}:role/PlatformAdmin`],
    apm: { apiKeySecretArn: APM_SECRET, encryptionKey: key },
  });
  const base = chartProps();
  const chart = new BackendChart(new Cdk8sApp(), 'backend', {
    ...base,
    autoscaling: { ...base.autoscaling, prometheusQueryEndpoint: platform.prometheusQueryEndpoint },
    apm: APM,
  });
  platform.addBackendChart(chart);
  return { app, stack, platform, chart, redisSecret: undefined as never, redisKey: undefined as never };
}

describe('collector role: exactly the least-privilege set', () => {
  test('without APM: X-Ray (no resource-level support) and write access to its own log group only', () => {
    const statements = statementsOf(plain).map((s: any) => ({ Sid: s.Sid, Action: s.Action, Resource: s.Resource, Condition: s.Condition }));
    expect(statements).toEqual([
      { Sid: 'XRayTraces', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*', Condition: undefined },
      { Sid: 'EmfMetricsLogs', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroupId(plain), 'Arn'] }, Condition: undefined },
    ]);
    // The EMF exporter publishes metrics through log events: no cloudwatch:PutMetricData, no logs:CreateLogGroup.
    const actions = statementsOf(plain).flatMap((s: any) => [].concat(s.Action));
    expect(actions.some((a: string) => a.startsWith('cloudwatch:') || a === 'logs:CreateLogGroup' || a.startsWith('secretsmanager:'))).toBe(false);
  });

  test('with APM: plus reading that one secret and decrypting with its key', () => {
    const statements = statementsOf(withApm);
    const sids = statements.map((s: any) => s.Sid ?? [].concat(s.Action).join(','));
    expect(sids).toEqual(['XRayTraces', 'ReadApmApiKey', 'DecryptApmApiKey', 'EmfMetricsLogs']);
    const read = statements.find((s: any) => s.Sid === 'ReadApmApiKey');
    expect(read).toMatchObject({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: APM_SECRET });
    const decrypt = statements.find((s: any) => s.Action === 'kms:Decrypt');
    expect(decrypt.Resource).toEqual({ 'Fn::GetAtt': [withApm.built.stack.getLogicalId(withApm.key.node.defaultChild as any), 'Arn'] });
    expect(decrypt.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } });
  });

  test('the role is the collector ServiceAccount\'s Pod Identity, trusted only by EKS Pod Identity', () => {
    const roleId = plain.built.stack.getLogicalId(plain.built.platform.collectorRole.node.defaultChild as any);
    const assoc = Object.values(plain.resources).find((r: any) => r.Type === 'AWS::EKS::PodIdentityAssociation' && r.Properties.ServiceAccount === 'connecthub-otel-collector') as any;
    expect(assoc.Properties).toMatchObject({ Namespace: 'connecthub', RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } });
    const trust = plain.resources[roleId].Properties.AssumeRolePolicyDocument.Statement;
    expect(trust.every((s: any) => s.Principal.Service === 'pods.eks.amazonaws.com')).toBe(true);
  });
});

describe('EMF log group', () => {
  test('created before the collector starts, with KMS, retention and the name the collector config uses', () => {
    const group = plain.resources[logGroupId(plain)];
    expect(group.Properties.LogGroupName).toBe('/connecthub/dev/metrics');
    expect(group.Properties.KmsKeyId).toBeDefined();
    expect(group.Properties.RetentionInDays).toBe(365);
    expect(plain.built.chart.otelCollector.logGroupName).toBe('/connecthub/dev/metrics');
    const manifest = Object.entries(plain.resources).find(([id, r]: [string, any]) => r.Type === 'Custom::AWSCDK-EKS-KubernetesResource' && id.includes('BackendManifests'));
    expect(manifest![1].DependsOn).toContain(logGroupId(plain));
  });

  test('the cluster\'s own logs key lets CloudWatch Logs use it for exactly that group', () => {
    const key = Object.values(plain.resources).find((r: any) => r.Type === 'AWS::KMS::Key' && r.Properties.Description?.includes('control-plane')) as any;
    const st = key.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'CloudWatchLogsOfTheCollector');
    expect(JSON.stringify(st.Condition)).toContain(':log-group:/connecthub/dev/metrics"');
  });
});

describe('gates and consistency', () => {
  test('cdk-nag AwsSolutions and NIST 800-53 R5 clean, with and without APM', () => {
    expect(nagFindings(plain.built.app)).toEqual([]);
    expect(nagFindings(withApm.built.app)).toEqual([]);
  });

  test('an APM chart without the cluster grant, a grant without APM, and different secrets are refused', () => {
    expect(() => buildPlatform({}, {}, { apm: APM })).toThrow(/the chart sends to an APM vendor with the key .*newrelic-license.*set ConnectHubClusterProps\.apm\.apiKeySecretArn/);
    expect(() => buildPlatform({ apm: { apiKeySecretArn: APM_SECRET } })).toThrow(/props\.apm grants the collector the secret .* but the chart has no apm setting/);
    expect(() => buildPlatform({ apm: { apiKeySecretArn: APM_SECRET.replace('newrelic', 'datadog') } }, {}, { apm: APM })).toThrow(/differs from the cluster's props\.apm\.apiKeySecretArn/);
  });

  test('a malformed APM secret ARN is one clear error', () => {
    expect(() => buildPlatform({ apm: { apiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:*' } })).toThrow(
      /apm\.apiKeySecretArn="arn:aws:secretsmanager:us-east-1:111111111111:secret:\*": a full Secrets Manager secret ARN without wildcards/,
    );
  });
});
