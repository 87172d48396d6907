/**
 * The observability stack with a configuration the test assembly does not hold: the API served from a secondary
 * region (`-c prod:activeApiRegion=...`). One app, two stacks, synthesized once for this file.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { deriveCapacity } from '../../lib/capacity/capacity-model';
import { EnvironmentConfig } from '../../lib/config/environment-config';
import { LONG_LIVED_ENVIRONMENTS } from '../../lib/config/environments';
import { dataProtectionFor } from '../../lib/policy/data-protection';
import { activeApiRegion, ObservabilityStack } from '../../lib/stacks/observability-stack';

const base = LONG_LIVED_ENVIRONMENTS.prod;
const config: EnvironmentConfig = { ...base, edge: { ...base.edge, activeApiRegion: base.regions[2].region } };
const app = new App();
const stacks = [base.regions[1], base.regions[2]].map((regionConfig) => new ObservabilityStack(app, `Observability-${regionConfig.region}`, {
  env: { region: regionConfig.region },
  config,
  regionConfig,
  capacity: deriveCapacity(config.tier, config.regions.length),
  protection: dataProtectionFor(config),
  watchesEdge: false,
}));
const templates = Object.fromEntries(stacks.map((stack) => [stack.region, Template.fromStack(stack)]));

// The edge's own host names reach the RUM app monitor of the us-east-1 observability stack.
const withDomain: EnvironmentConfig = { ...base, edge: { ...base.edge, domainNames: ['app.connecthub.example', 'www.connecthub.example'] } };
const rumApp = new App();
const rumStacks = [base, withDomain].map((c, i) => new ObservabilityStack(rumApp, `Observability-us-east-1-${i}`, {
  env: { region: 'us-east-1' },
  config: c,
  regionConfig: c.regions[0],
  capacity: deriveCapacity(c.tier, c.regions.length),
  protection: dataProtectionFor(c),
  watchesEdge: true,
}));
const rumTemplates = rumStacks.map((stack) => Template.fromStack(stack));

test('RUM accepts events from the site\'s own host names when the distribution has them, else from its CloudFront name', () => {
  const monitor = (t: Template) => Object.values(t.findResources('AWS::RUM::AppMonitor'))[0].Properties;
  const plain = monitor(rumTemplates[0]);
  expect(plain.Domain).toEqual({ Ref: expect.stringMatching(/^SsmParameterValue.*edge/) });
  expect(plain.DomainList).toBeUndefined();
  const named = monitor(rumTemplates[1]);
  expect(named.Domain).toBeUndefined();
  expect(named.DomainList).toEqual([plain.Domain, 'app.connecthub.example', 'www.connecthub.example']);
});

const alarmNames = (t: Template) => Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((r) => String(r.Properties.AlarmName));

test('activeApiRegion: the configured region, else the primary', () => {
  expect(activeApiRegion(base)).toBe('us-east-1');
  expect(activeApiRegion(config)).toBe('ap-southeast-1');
});

test('with the API moved to another region, only that region alarms on missing API traffic', () => {
  expect(alarmNames(templates['ap-southeast-1'])).toContain('ConnectHub-prod-ap-southeast-1-Api-ApiMetricsMissing-Critical');
  expect(alarmNames(templates['eu-west-1']).filter((n) => n.includes('ApiMetricsMissing'))).toEqual([]);
});

test('each region watches its own api and realtime load balancers, read from the parameters its platform stack publishes', () => {
  for (const [region, t] of Object.entries(templates)) {
    const names = Object.values(t.toJSON().Parameters as Record<string, { Default?: string }>).map((p) => p.Default);
    expect(names).toEqual(expect.arrayContaining([
      `/connecthub/prod/${region}/platform/api-load-balancer-arn`,
      `/connecthub/prod/${region}/platform/realtime-load-balancer-arn`,
    ]));
    expect(alarmNames(t).filter((n) => n.includes('-Nlb')).sort()).toEqual([
      `ConnectHub-prod-${region}-NlbApi-UnhealthyTargets-Critical`,
      `ConnectHub-prod-${region}-NlbRealtime-UnhealthyTargets-Critical`,
    ]);
  }
});
