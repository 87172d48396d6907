/**
 * The data tier as each environment synthesizes it (the test assembly made once by globalSetup): Aurora backups and
 * deletion protection, max_connections per tier, readers and their auto scaling in the primary, the secondary clusters,
 * one RDS Proxy per region with its pool and reader endpoint, and the migrations and partition maintenance in the
 * primary region only. Expected values come from the environment config and the capacity model, plus literals where
 * the plan fixes them (35 days, 1000 connections).
 */
import { deriveCapacity } from '../../lib/capacity/capacity-model';
import { LONG_LIVED_ENVIRONMENTS } from '../../lib/config/environments';
import { stacksOf, SynthesizedStack } from '../support/synthesized-app';

type Resource = SynthesizedStack['template']['Resources'][string];

const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
/** Share of max_connections the capacity model gives the proxy, minus the write-forwarding quota set in the cluster parameters. */
const FORWARDING_QUOTA = 10;

interface DatabaseStacks {
  readonly primary: SynthesizedStack;
  readonly secondaries: SynthesizedStack[];
  readonly all: SynthesizedStack[];
}

function databaseStacks(env: string): DatabaseStacks {
  const config = LONG_LIVED_ENVIRONMENTS[env];
  const all = stacksOf(env).filter((s) => s.stackName.startsWith(`connecthub-${env}-database-`));
  const primary = all.find((s) => s.region === config.regions[0].region)!;
  return { primary, secondaries: all.filter((s) => s !== primary), all };
}

function resourcesOf(stack: SynthesizedStack, type: string): Array<[string, Resource]> {
  return Object.entries(stack.template.Resources).filter(([, r]) => r.Type === type);
}

/** The value of the SSM parameter the stack publishes under `key` (e.g. `database/proxy-reader-endpoint`). */
function published(stack: SynthesizedStack, key: string): unknown {
  const found = resourcesOf(stack, 'AWS::SSM::Parameter').filter(([, r]) => String(r.Properties.Name).endsWith(`/${key}`));
  expect(found).toHaveLength(1);
  return found[0][1].Properties.Value;
}

const stacks = Object.fromEntries(ENVIRONMENTS.map((env) => [env, databaseStacks(env)])) as Record<(typeof ENVIRONMENTS)[number], DatabaseStacks>;

test('one database stack per region of each environment', () => {
  for (const env of ENVIRONMENTS) {
    expect({ env, regions: stacks[env].all.map((s) => s.region).sort() })
      .toEqual({ env, regions: LONG_LIVED_ENVIRONMENTS[env].regions.map((r) => r.region).sort() });
  }
  expect(stacks.prod.all).toHaveLength(3);
});

describe.each(ENVIRONMENTS)('%s', (env) => {
  const config = LONG_LIVED_ENVIRONMENTS[env];
  const size = deriveCapacity(config.tier, config.regions.length).database;
  const keeps = env !== 'dev';
  const { primary, secondaries, all } = stacks[env];

  test(`backups: ${keeps ? '35' : '1'} days on every cluster; deletion protection ${keeps ? 'on' : 'off'} (clusters and global cluster)`, () => {
    const clusters = all.flatMap((s) => resourcesOf(s, 'AWS::RDS::DBCluster'));
    expect(clusters).toHaveLength(all.length);
    for (const [, cluster] of clusters) {
      expect(cluster.Properties.BackupRetentionPeriod).toBe(keeps ? 35 : 1);
      expect(cluster.Properties.DeletionProtection).toBe(keeps);
    }
    expect(config.backupRetentionDays).toBe(keeps ? 35 : 1);
    const globals = all.flatMap((s) => resourcesOf(s, 'AWS::RDS::GlobalCluster'));
    expect(globals).toHaveLength(1);
    expect(globals[0][1].Properties.DeletionProtection).toBe(keeps);
  });

  test(`max_connections ${size.maxConnections} (tier ${config.tier}) and the write-forwarding quota in every region`, () => {
    expect(size.maxConnections).toBe(1000);
    for (const stack of all) {
      const groups = resourcesOf(stack, 'AWS::RDS::DBClusterParameterGroup');
      expect(groups).toHaveLength(1);
      expect(groups[0][1].Properties.Parameters).toMatchObject({
        max_connections: String(size.maxConnections),
        'apg_write_forward.max_forwarding_connections_percent': String(FORWARDING_QUOTA),
      });
    }
  });

  test(`primary region: writer + ${size.readers} reader(s); auto scaling ${size.readers > 0 ? `${size.readers}..${size.maxReaders}` : 'off'}`, () => {
    const clusters = resourcesOf(primary, 'AWS::RDS::DBCluster');
    expect(clusters).toHaveLength(1);
    expect(clusters[0][1].Properties.MasterUsername).toBeDefined();
    expect(resourcesOf(primary, 'AWS::RDS::DBInstance')).toHaveLength(1 + size.readers);
    const scaling = resourcesOf(primary, 'AWS::ApplicationAutoScaling::ScalableTarget')
      .filter(([, r]) => r.Properties.ScalableDimension === 'rds:cluster:ReadReplicaCount');
    if (size.readers === 0) {
      expect(scaling).toEqual([]);
    } else {
      expect(scaling).toHaveLength(1);
      expect(scaling[0][1].Properties).toMatchObject({ MinCapacity: size.readers, MaxCapacity: size.maxReaders });
    }
  });

  test(`${config.regions.length - 1} secondary cluster(s), each joined to the global cluster with at least one (read-only) instance`, () => {
    expect(secondaries).toHaveLength(config.regions.length - 1);
    for (const stack of secondaries) {
      const clusters = resourcesOf(stack, 'AWS::RDS::DBCluster');
      expect(clusters).toHaveLength(1);
      expect(clusters[0][1].Properties).toMatchObject({ GlobalClusterIdentifier: `connecthub-${env}`, EnableGlobalWriteForwarding: true });
      expect(clusters[0][1].Properties.MasterUsername).toBeUndefined();
      expect(resourcesOf(stack, 'AWS::RDS::DBInstance').length).toBe(Math.max(1, size.readers));
      expect(resourcesOf(stack, 'AWS::RDS::GlobalCluster')).toEqual([]);
    }
  });

  test(`one RDS Proxy per region, pool ${size.proxyMaxConnectionsPercent} - ${FORWARDING_QUOTA} % of max_connections`, () => {
    for (const stack of all) {
      expect(resourcesOf(stack, 'AWS::RDS::DBProxy')).toHaveLength(1);
      const groups = resourcesOf(stack, 'AWS::RDS::DBProxyTargetGroup');
      expect(groups).toHaveLength(1);
      expect(groups[0][1].Properties.ConnectionPoolConfigurationInfo.MaxConnectionsPercent).toBe(size.proxyMaxConnectionsPercent - FORWARDING_QUOTA);
    }
  });

  test('a read-only proxy endpoint only where the cluster has readers; otherwise reads use the default endpoint', () => {
    for (const stack of all) {
      const hasReaders = stack !== primary || size.readers > 0;
      const endpoints = resourcesOf(stack, 'AWS::RDS::DBProxyEndpoint');
      expect({ region: stack.region, readOnlyEndpoints: endpoints.length }).toEqual({ region: stack.region, readOnlyEndpoints: hasReaders ? 1 : 0 });
      const [proxyId] = resourcesOf(stack, 'AWS::RDS::DBProxy')[0];
      const reader = published(stack, 'database/proxy-reader-endpoint');
      if (hasReaders) {
        expect(endpoints[0][1].Properties.TargetRole).toBe('READ_ONLY');
        expect(reader).toEqual({ 'Fn::GetAtt': [endpoints[0][0], 'Endpoint'] });
      } else {
        expect(reader).toEqual({ 'Fn::GetAtt': [proxyId, 'Endpoint'] });
      }
    }
  });

  test('migrations and partition maintenance run in the primary region only', () => {
    expect(resourcesOf(primary, 'Custom::ConnectHubSchemaMigrations')).toHaveLength(1);
    expect(resourcesOf(primary, 'AWS::Events::Rule').filter(([id]) => id.startsWith('PartitionMaintenance'))).toHaveLength(1);
    for (const stack of secondaries) {
      expect(resourcesOf(stack, 'Custom::ConnectHubSchemaMigrations')).toEqual([]);
      expect(resourcesOf(stack, 'AWS::Events::Rule')).toEqual([]);
      expect(resourcesOf(stack, 'AWS::S3::Bucket')).toEqual([]);
    }
  });
});
