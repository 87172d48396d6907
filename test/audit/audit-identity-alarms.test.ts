/**
 * The audit report on what a browser can reach without signing in (Cognito identity pool guests, self sign-up,
 * RUM), on Helm releases, and on who receives the alarms. One small app, synthesized once for this file.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource, Duration, Stack, Stage } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rum from 'aws-cdk-lib/aws-rum';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { AuditReport, buildAuditReport, renderAuditMarkdown } from '../../audit/audit-report';
import { AssemblyStack, readAssembly } from '../../audit/cloud-assembly';
import { LONG_LIVED_ENVIRONMENTS } from '../../lib/config/environments';

function synthesizeFixture(outdir: string): void {
  const app = new App({ outdir, context: { 'aws:cdk:enable-path-metadata': true } });
  const stage = new Stage(app, 'fixture');

  const web = new Stack(stage, 'Web', { stackName: 'fixture-web', env: { region: 'us-east-1' } });
  const pool = new cognito.CfnIdentityPool(web, 'GuestPool', { allowUnauthenticatedIdentities: true, allowClassicFlow: false });
  const guest = new iam.Role(web, 'GuestRole', {
    assumedBy: new iam.FederatedPrincipal('cognito-identity.amazonaws.com', { StringEquals: { 'cognito-identity.amazonaws.com:aud': pool.ref } }, 'sts:AssumeRoleWithWebIdentity'),
  });
  new iam.ManagedPolicy(web, 'GuestPolicy', {
    statements: [new iam.PolicyStatement({ actions: ['rum:PutRumEvents'], resources: ['arn:aws:rum:us-east-1:111111111111:appmonitor/web'] })],
    roles: [guest],
  });
  new cognito.CfnIdentityPoolRoleAttachment(web, 'GuestPoolRoles', { identityPoolId: pool.ref, roles: { unauthenticated: guest.roleArn } });
  // A pool for signed-in users only: listed, but not as guest access.
  new cognito.CfnIdentityPool(web, 'MembersPool', { allowUnauthenticatedIdentities: false });
  new rum.CfnAppMonitor(web, 'Monitor', {
    name: 'web',
    domain: 'app.example.com',
    appMonitorConfiguration: { identityPoolId: pool.ref, guestRoleArn: guest.roleArn, sessionSampleRate: 0.1, telemetries: ['performance'] },
  });
  const users = new cognito.CfnUserPool(web, 'Users', {
    adminCreateUserConfig: { allowAdminCreateUserOnly: false },
    autoVerifiedAttributes: ['email'],
    mfaConfiguration: 'OPTIONAL',
  });
  new cognito.CfnUserPoolClient(web, 'Client', {
    userPoolId: users.ref,
    explicitAuthFlows: ['ALLOW_USER_SRP_AUTH'],
    allowedOAuthFlowsUserPoolClient: true,
    allowedOAuthFlows: ['implicit'],
    callbackUrLs: ['https://example.com'],
  });
  new cognito.CfnUserPool(web, 'StaffOnly', { adminCreateUserConfig: { allowAdminCreateUserOnly: true } });

  // Two alarm topics: one with an e-mail subscriber, one with nobody.
  const heard = new sns.Topic(web, 'Heard');
  heard.addSubscription(new subs.EmailSubscription('oncall@example.com'));
  const unheard = new sns.Topic(web, 'Unheard');
  const metric = new cw.Metric({ namespace: 'Fixture', metricName: 'Errors', period: Duration.minutes(5) });
  for (const [id, topic] of [['A', heard], ['B', unheard], ['C', unheard]] as const) {
    const alarm = metric.createAlarm(web, `Alarm${id}`, { threshold: 1, evaluationPeriods: 1 });
    alarm.addAlarmAction(new cwActions.SnsAction(topic));
    alarm.addOkAction(new cwActions.SnsAction(topic));
  }

  const platform = new Stack(stage, 'Platform', { stackName: 'fixture-platform', env: { region: 'eu-west-1' } });
  new CfnResource(platform, 'ChartKeda', {
    type: 'Custom::AWSCDK-EKS-HelmChart',
    properties: {
      ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:kubectl', ClusterName: 'c', Release: 'keda', Chart: 'keda',
      Version: '2.22.0', Namespace: 'keda', Repository: 'https://kedacore.github.io/charts', CreateNamespace: true,
      Values: JSON.stringify({ operator: { replicaCount: 2 }, metricsServer: { replicaCount: 2 } }),
    },
  });
  new CfnResource(platform, 'ChartUnpinned', {
    type: 'Custom::AWSCDK-EKS-HelmChart',
    properties: { ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:kubectl', ClusterName: 'c', Chart: 'kube-state-metrics', Repository: 'oci://registry.example.com/charts' },
  });
  app.synth();
}

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-identity-test-'));
let stacks: AssemblyStack[];
let report: AuditReport;

beforeAll(() => {
  synthesizeFixture(outdir);
  stacks = readAssembly(outdir).get('fixture')!;
  report = buildAuditReport('fixture', stacks);
});
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

const exposure = (kind: string) => report.internetExposure.filter((e) => e.kind === kind);

describe('internet exposure without signing in', () => {
  test('an identity pool with guest access names the unauthenticated role and what it may do', () => {
    const [guest] = exposure('cognito-guest-credentials');
    expect(guest).toMatchObject({ stack: 'fixture-web', type: 'AWS::Cognito::IdentityPool', path: 'fixture/Web/GuestPool' });
    expect(guest.logicalId).toBe('GuestPool');
    expect(guest.detail).toMatch(/^AllowUnauthenticatedIdentities true: anyone \(no sign-in\) gets temporary AWS credentials of the unauthenticated role GuestRole[0-9A-F]{8}, /);
    expect(guest.detail).toContain('which may: Allow rum:PutRumEvents on arn:aws:rum:us-east-1:111111111111:appmonitor/web;');
    expect(guest.detail).toContain('classic flow off');
    expect(exposure('cognito-guest-credentials')).toHaveLength(1);
    expect(exposure('cognito-identity-pool').map((e) => e.logicalId)).toEqual(['MembersPool']);
    expect(exposure('cognito-identity-pool')[0].detail).toMatch(/^no guest access; signed-in identities from: no provider/);
  });

  test('a user pool with self sign-up is listed with its app clients; an admin-only pool is not', () => {
    const pools = exposure('cognito-self-sign-up');
    expect(pools.map((e) => e.logicalId)).toEqual(['Users']);
    expect(pools[0].detail).toBe('self sign-up on: anyone can create an account; auto-verified email; MFA OPTIONAL; threat protection OFF; ' +
      'app clients: Client (auth flows ALLOW_USER_SRP_AUTH; OAuth flows implicit, callback URLs https://example.com; client secret no)');
  });

  test('the RUM app monitor: domain, identity pool and guest role, no resource policy', () => {
    const [monitor] = exposure('rum-app-monitor');
    expect(monitor.detail).toMatch(/^browsers on app\.example\.com send RUM events, signed with guest credentials of identity pool \$\{Ref:GuestPool\} \(role \$\{GetAtt:GuestRole[0-9A-F]{8}\.Arn\}\); no resource policy \(unsigned events refused\); sample rate 0\.1/);
  });

  test('the Markdown lists them in the internet section', () => {
    const md = renderAuditMarkdown(report);
    expect(md).toContain('| fixture-web | cognito-guest-credentials | GuestPool | AWS::Cognito::IdentityPool |');
    expect(md).toContain('| fixture-web | rum-app-monitor |');
  });
});

describe('Helm releases', () => {
  test('chart, repository, version, namespace and value keys of every release (by namespace); an unpinned chart says so', () => {
    expect(report.helmReleases).toEqual([
      {
        stack: 'fixture-platform', logicalId: 'ChartUnpinned', release: 'ChartUnpinned', chart: 'kube-state-metrics', repository: 'oci://registry.example.com/charts',
        version: 'unpinned (latest at deploy)', namespace: 'default', createNamespace: false, valueKeys: [],
      },
      {
        stack: 'fixture-platform', logicalId: 'ChartKeda', release: 'keda', chart: 'keda', repository: 'https://kedacore.github.io/charts',
        version: '2.22.0', namespace: 'keda', createNamespace: true, valueKeys: ['metricsServer', 'operator'],
      },
    ]);
    const md = renderAuditMarkdown(report);
    expect(md).toContain('## Helm releases');
    expect(md).toContain('| fixture-platform | keda | keda | https://kedacore.github.io/charts | 2.22.0 | keda (created) | metricsServer, operator |');
  });
});

describe('alarm recipients', () => {
  test('every topic the alarms notify, with its subscriptions and alarm count', () => {
    expect(report.alarmTopics.map((t) => [t.stack, t.topic.replace(/[0-9A-F]{8}$/, ''), t.alarms, t.subscriptions])).toEqual([
      ['fixture-web', 'Heard', 1, ['email oncall@example.com']],
      ['fixture-web', 'Unheard', 2, []],
    ]);
  });

  test('no finding for an environment that need not page anyone', () => {
    expect(report.alarmRecipientProblems).toEqual([]);
    expect(buildAuditReport('dev', stacks, LONG_LIVED_ENVIRONMENTS.dev).alarmRecipientProblems).toEqual([]);
  });

  test.each(['staging', 'prod'])('%s: a topic without subscribers is a finding, in the JSON and at the top of the Markdown', (env) => {
    const strict = buildAuditReport(env, stacks, LONG_LIVED_ENVIRONMENTS[env]);
    expect(strict.alarmRecipientProblems).toHaveLength(1);
    expect(strict.alarmRecipientProblems[0]).toMatch(new RegExp(`^no alarm subscribers: fixture-web topic Unheard[0-9A-F]{8} is notified by 2 alarm\\(s\\) and reaches nobody; set \`-c ${env}:alarmEmails=`));
    const md = renderAuditMarkdown(strict);
    const top = md.split('\n## ')[0];
    expect(top).toContain('- **Finding: no alarm subscribers: fixture-web topic Unheard');
    expect(md).toMatch(/\| fixture-web \| us-east-1 \| Unheard[0-9A-F]{8} \| 2 \| NONE \|/);
    expect(md).toMatch(/\| fixture-web \| us-east-1 \| Heard[0-9A-F]{8} \| 1 \| email oncall@example.com \|/);
  });
});
