/**
 * Observability as the real app wires it (the test assembly made once by globalSetup): which alarms and monitors
 * exist in which environment and region, and that every alarm dimension names a resource another stack of the same
 * environment and region really creates, directly or through the shared SSM parameter that stack publishes.
 */
import { buildAuditReport } from '../../audit/audit-report';
import { stacksOfEnvironment } from '../../audit/cloud-assembly';
import { redisNodeClusterIds } from '../../constructs/observability/connecthub-monitoring';
import { LONG_LIVED_ENVIRONMENTS, previewEnvironment } from '../../lib/config/environments';
import { stacksOf, SynthesizedStack, TEST_ASSEMBLY_DIR, TEST_ENVIRONMENTS } from '../support/synthesized-app';

type Json = Record<string, any>;
const stacks: Record<string, SynthesizedStack[]> = Object.fromEntries(TEST_ENVIRONMENTS.map((env) => [env, stacksOf(env)]));

const kindOf = (s: SynthesizedStack) => s.stackName.slice(`connecthub-${s.env}-`.length).replace(`-${s.region}`, '');
const stackOf = (env: string, kind: string, region: string) => {
  const found = stacks[env].find((s) => kindOf(s) === kind && s.region === region);
  if (!found) throw new Error(`no ${kind} stack in ${env} ${region}`);
  return found;
};
const observability = (env: string) => stacks[env].filter((s) => kindOf(s) === 'observability');
const primaryRegion = (env: string) => stacks[env].find((s) => kindOf(s) === 'identity')!.region;
const resourcesOfType = (s: SynthesizedStack, type: string) => Object.entries(s.template.Resources).filter(([, r]) => r.Type === type);

/** Metric alarms by the part of the name after `ConnectHub-<env>-<region>-`. */
function alarms(s: SynthesizedStack): Record<string, Json> {
  const prefix = `ConnectHub-${s.env}-${s.region}-`;
  return Object.fromEntries(resourcesOfType(s, 'AWS::CloudWatch::Alarm').map(([, r]) => [String(r.Properties.AlarmName).replace(prefix, ''), r.Properties]));
}
const alarmNames = (s: SynthesizedStack) => Object.keys(alarms(s)).sort();

/** Every dimension of every metric an alarm of the stack reads. */
function alarmDimensions(s: SynthesizedStack): { alarm: string; name: string; value: unknown }[] {
  return Object.entries(alarms(s)).flatMap(([alarm, p]) => {
    const metrics = p.MetricName ? [{ Dimensions: p.Dimensions }] : (p.Metrics ?? []).filter((m: Json) => m.MetricStat).map((m: Json) => m.MetricStat.Metric);
    return metrics.flatMap((m: Json) => (m.Dimensions ?? []).map((d: Json) => ({ alarm, name: d.Name, value: d.Value })));
  });
}

/** The SSM parameter behind a `{ Ref }` to a template parameter of type `AWS::SSM::Parameter::Value<String>`. */
function ssmName(s: SynthesizedStack, value: unknown): string | undefined {
  const ref = (value as Json)?.Ref;
  const parameter = ref ? (s.template.Parameters?.[ref] as Json | undefined) : undefined;
  return parameter?.Type === 'AWS::SSM::Parameter::Value<String>' ? parameter.Default : undefined;
}

/** The stack of the environment that publishes an SSM parameter, and the value it publishes. */
function publisher(env: string, name: string): { stack: SynthesizedStack; value: unknown } {
  for (const s of stacks[env]) {
    for (const [, r] of resourcesOfType(s, 'AWS::SSM::Parameter')) {
      if (r.Properties.Name === name) return { stack: s, value: r.Properties.Value };
    }
  }
  throw new Error(`no stack of ${env} publishes ${name}`);
}

describe.each(TEST_ENVIRONMENTS)('%s observability wiring', (env) => {
  const obs = observability(env);
  const primary = primaryRegion(env);

  test('one observability stack per region of the environment', () => {
    const regions = stacks[env].filter((s) => kindOf(s) === 'network').map((s) => s.region).sort();
    expect(obs.map((s) => s.region).sort()).toEqual(regions);
  });

  test('Aurora global replication lag is watched in secondary regions only', () => {
    for (const s of obs) {
      expect({ region: s.region, watched: alarmNames(s).includes('AuroraExtra-AuroraGlobalReplicationLag-Critical') })
        .toEqual({ region: s.region, watched: s.region !== primary });
    }
  });

  test('the Kafka section exists exactly where provisioned MSK runs, with one CPU and disk alarm per broker', () => {
    for (const s of obs) {
      const msk = resourcesOfType(stackOf(env, 'cache-streaming', s.region), 'AWS::MSK::Cluster');
      const kafkaAlarms = alarmNames(s).filter((n) => n.startsWith('Kafka-'));
      expect({ region: s.region, kafka: kafkaAlarms.length > 0 }).toEqual({ region: s.region, kafka: msk.length === 1 });
      if (msk.length === 1) {
        const brokers = msk[0][1].Properties.NumberOfBrokerNodes;
        expect(kafkaAlarms.filter((n) => /^Kafka-KafkaBroker\d+Cpu-/.test(n))).toHaveLength(brokers);
        expect(kafkaAlarms.filter((n) => /^Kafka-KafkaBroker\d+Disk-/.test(n))).toHaveLength(brokers);
      }
    }
    // Provisioned MSK in staging and prod; dev and pr-N run MSK Serverless, which has no broker metrics.
    expect(obs.some((s) => alarmNames(s).some((n) => n.startsWith('Kafka-')))).toBe(env === 'staging' || env === 'prod');
  });

  test('RUM and CloudFront are watched only from us-east-1, where the edge stack lives', () => {
    const edgeRegion = stacks[env].find((s) => kindOf(s) === 'edge')!.region;
    expect(edgeRegion).toBe('us-east-1');
    for (const s of obs) {
      const here = s.region === edgeRegion;
      const dashboards = JSON.stringify(resourcesOfType(s, 'AWS::CloudWatch::Dashboard'));
      expect({
        region: s.region,
        rum: resourcesOfType(s, 'AWS::RUM::AppMonitor').length,
        identityPools: resourcesOfType(s, 'AWS::Cognito::IdentityPool').length,
        webAlarms: alarmNames(s).filter((n) => n.startsWith('Web-')).length,
        cloudFrontAlarms: alarmNames(s).filter((n) => n.startsWith('CloudFront-')).sort(),
        cloudFrontOnDashboards: dashboards.includes('AWS/CloudFront'),
      }).toEqual({
        region: s.region,
        rum: here ? 1 : 0,
        identityPools: here ? 1 : 0,
        webAlarms: here ? 5 : 0,
        cloudFrontAlarms: here ? ['CloudFront-Error-Rate-Warning', 'CloudFront-Fault-Rate-Critical'] : [],
        cloudFrontOnDashboards: here,
      });
    }
  });

  test('the RUM snippet values are published (SSM and stack outputs) where the app monitor lives', () => {
    const s = obs.find((x) => x.region === 'us-east-1')!;
    const [[monitorId]] = resourcesOfType(s, 'AWS::RUM::AppMonitor');
    const [[poolId]] = resourcesOfType(s, 'AWS::Cognito::IdentityPool');
    const guestRoleId = resourcesOfType(s, 'AWS::IAM::Role').find(([id]) => id.startsWith('WebVitalsGuestRole'))![0];
    const expected = {
      'rum-app-monitor-id': { 'Fn::GetAtt': [monitorId, 'Id'] },
      'rum-identity-pool-id': { Ref: poolId },
      'rum-guest-role-arn': { 'Fn::GetAtt': [guestRoleId, 'Arn'] },
    };
    for (const [key, value] of Object.entries(expected)) {
      expect(publisher(env, `/connecthub/${env}/us-east-1/observability/${key}`)).toEqual({ stack: s, value });
    }
    const outputs = s.template.Outputs as Record<string, Json>;
    expect(outputs.RumAppMonitorId.Value).toEqual(expected['rum-app-monitor-id']);
    expect(outputs.RumIdentityPoolId.Value).toEqual(expected['rum-identity-pool-id']);
    expect(outputs.RumGuestRoleArn.Value).toEqual(expected['rum-guest-role-arn']);
    for (const other of obs.filter((x) => x !== s)) expect(other.template.Outputs ?? {}).not.toHaveProperty('RumAppMonitorId');
  });

  test('the missing-traffic alarm exists only in prod, and there only in the region CloudFront sends the API to', () => {
    const withAlarm = obs.filter((s) => alarmNames(s).includes('Api-ApiMetricsMissing-Critical')).map((s) => s.region);
    // No activeApiRegion is configured in the test assembly: the primary region serves the API.
    expect(withAlarm).toEqual(env === 'prod' ? [primary] : []);
  });

  test('every alarm notifies the region\'s alert topic', () => {
    for (const s of obs) {
      const [[topicId]] = resourcesOfType(s, 'AWS::SNS::Topic');
      for (const [name, p] of Object.entries(alarms(s))) {
        // Burn-rate components notify through their composite alarm only.
        if (p.ActionsEnabled === false) continue;
        expect({ name, actions: p.AlarmActions }).toEqual({ name, actions: [{ Ref: topicId }] });
      }
    }
  });

  describe('alarm dimensions name the real resources', () => {
    test('Aurora cluster, RDS Proxy and EKS cluster', () => {
      for (const s of obs) {
        const [, cluster] = resourcesOfType(stackOf(env, 'database', s.region), 'AWS::RDS::DBCluster')[0];
        const [proxyId] = resourcesOfType(stackOf(env, 'database', s.region), 'AWS::RDS::DBProxy')[0];
        const [, eks] = resourcesOfType(stackOf(env, 'platform', s.region), 'AWS::EKS::Cluster')[0];
        const dims = alarmDimensions(s);
        const values = (name: string) => [...new Set(dims.filter((d) => d.name === name).map((d) => JSON.stringify(d.value)))];
        expect(values('DBClusterIdentifier')).toEqual([JSON.stringify(cluster.Properties.DBClusterIdentifier)]);
        expect(values('ClusterName')).toEqual([JSON.stringify(eks.Properties.Name)]);
        const proxyNames = dims.filter((d) => d.name === 'ProxyName');
        expect(proxyNames.length).toBeGreaterThan(0);
        for (const d of proxyNames) {
          const name = ssmName(s, d.value)!;
          expect(name).toBe(`/connecthub/${env}/${s.region}/database/proxy-name`);
          expect(publisher(env, name)).toEqual({ stack: stackOf(env, 'database', s.region), value: { Ref: proxyId } });
        }
      }
    });

    test('Redis nodes: one set of alarms per node of the real replication group, ids built from its published id', () => {
      for (const s of obs) {
        const cache = stackOf(env, 'cache-streaming', s.region);
        const [groupId, group] = resourcesOfType(cache, 'AWS::ElastiCache::ReplicationGroup')[0];
        const nodes = redisNodeClusterIds('', group.Properties.NumNodeGroups, group.Properties.ReplicasPerNodeGroup, true);
        const cacheDims = alarmDimensions(s).filter((d) => d.name === 'CacheClusterId');
        const suffixes = new Set<string>();
        for (const d of cacheDims) {
          const [, [ref, suffix]] = (d.value as Json)['Fn::Join'];
          const name = ssmName(s, ref)!;
          expect(publisher(env, name)).toEqual({ stack: cache, value: { Ref: groupId } });
          suffixes.add(suffix);
        }
        expect([...suffixes].sort()).toEqual(nodes.sort());
      }
    });

    test('Kafka cluster name is the one the MSK cluster of the region has', () => {
      for (const s of obs) {
        const msk = resourcesOfType(stackOf(env, 'cache-streaming', s.region), 'AWS::MSK::Cluster');
        const dims = alarmDimensions(s).filter((d) => d.name === 'Cluster Name');
        if (msk.length === 0) {
          expect(dims).toEqual([]);
          continue;
        }
        expect(dims.length).toBeGreaterThan(0);
        for (const d of dims) expect(publisher(env, ssmName(s, d.value)!).value).toBe(msk[0][1].Properties.ClusterName);
      }
    });

    test.each([['Api', 'api'], ['Realtime', 'realtime']])('the %s network load balancer: its ARN as the platform stack of the region publishes it', (name, key) => {
      for (const s of obs) {
        const p = alarms(s)[`Nlb${name}-UnhealthyTargets-Critical`];
        expect(p).toBeDefined();
        const text = JSON.stringify(p.Metrics);
        expect(text).toContain('SELECT MAX(UnHealthyHostCount) FROM SCHEMA(\\"AWS/NetworkELB\\", LoadBalancer, TargetGroup) WHERE LoadBalancer = ');
        const refs = [...new Set([...text.matchAll(/"Ref":"([^"]+)"/g)].map((m) => m[1]))];
        const parameter = `/connecthub/${env}/${s.region}/platform/${key}-load-balancer-arn`;
        expect(refs.map((r) => ssmName(s, { Ref: r }))).toEqual([parameter]);
        const { stack, value } = publisher(env, parameter);
        expect(stack).toBe(stackOf(env, 'platform', s.region));
        expect(JSON.stringify(value)).toMatch(new RegExp(`${name}LoadBalancerLookup.*LoadBalancers\\.0\\.LoadBalancerArn`));
      }
    });

    test('flows, bytes and resets per load balancer are on the dashboard', () => {
      for (const s of obs) {
        const dashboards = JSON.stringify(resourcesOfType(s, 'AWS::CloudWatch::Dashboard'));
        for (const m of ['ActiveFlowCount', 'NewFlowCount', 'ProcessedBytes', 'TCP_Client_Reset_Count', 'TCP_Target_Reset_Count', 'TCP_ELB_Reset_Count']) {
          expect(dashboards.split(`\\"AWS/NetworkELB\\",\\"${m}\\",\\"LoadBalancer\\"`).length - 1).toBe(2);
        }
      }
    });
  });

  describe('what the audit report says about it', () => {
    const report = buildAuditReport(env, stacksOfEnvironment(TEST_ASSEMBLY_DIR, env), LONG_LIVED_ENVIRONMENTS[env] ?? previewEnvironment(env));

    test('the RUM identity pool hands anyone the guest role, which may only send RUM events', () => {
      const guest = report.internetExposure.filter((e) => e.kind === 'cognito-guest-credentials');
      expect(guest.map((e) => e.stack)).toEqual([`connecthub-${env}-observability-us-east-1`]);
      expect(guest[0].detail).toMatch(new RegExp(`unauthenticated role WebVitalsGuestRole[0-9A-F]{8}, which may: Allow rum:PutRumEvents on arn:aws:rum:us-east-1:\\$\\{AWS::AccountId\\}:appmonitor/connecthub-${env}-web;`));
      expect(report.internetExposure.filter((e) => e.kind === 'rum-app-monitor')).toHaveLength(1);
      expect(report.internetExposure.filter((e) => e.kind === 'cognito-self-sign-up').map((e) => e.stack)).toEqual([`connecthub-${env}-identity-${primary}`]);
    });

    test('alarm topics: one per region; with the default (empty) alarmEmails, staging and prod get one finding per topic', () => {
      expect(report.alarmTopics.map((t) => t.region).sort()).toEqual(obs.map((s) => s.region).sort());
      for (const t of report.alarmTopics) expect(t.subscriptions).toEqual([]);
      expect(report.alarmRecipientProblems).toHaveLength(env === 'staging' || env === 'prod' ? obs.length : 0);
    });
  });
});
