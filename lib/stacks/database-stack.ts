import { Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { AuroraGlobalPrimary, AuroraGlobalSecondary, IAuroraRegionalCluster } from '../../constructs/data/aurora-global-database';
import { RegionalDatabaseProxy } from '../../constructs/data/database-proxy';
import { PartitionMaintenance } from '../../constructs/data/partition-maintenance';
import { SchemaMigrations } from '../../constructs/data/schema-migrations';
import { DatabaseSize } from '../capacity/capacity-model';
import { RegionConfig } from '../config/environment-config';
import { DataProtection } from '../policy/data-protection';
import { importSecurityGroup, importVpc, NETWORK_KEYS, publishValue } from '../wiring/shared-parameters';

/** The database user the backend logs in as through the proxy (IAM authentication). */
export const APP_DATABASE_USER = 'connecthub_app';
/** The database that holds the ConnectHub schema. */
export const DATABASE_NAME = 'connecthub';

/** Keys this stack publishes for the platform and observability stacks. */
export const DATABASE_KEYS = {
  clusterIdentifier: 'database/cluster-identifier',
  proxyEndpoint: 'database/proxy-endpoint',
  proxyReaderEndpoint: 'database/proxy-reader-endpoint',
  proxyResourceId: 'database/proxy-resource-id',
  proxyName: 'database/proxy-name',
  proxySecurityGroupId: 'database/proxy-security-group-id',
  schemaVersion: 'database/schema-version',
} as const;

export interface DatabaseStackProps extends StackProps {
  readonly envName: string;
  readonly regionConfig: RegionConfig;
  /** True in the environment's first region: it holds the writer, the migrations and partition maintenance. */
  readonly isPrimary: boolean;
  /** Sizes from the capacity model. */
  readonly size: DatabaseSize;
  readonly protection: DataProtection;
}

/** `r7g.4xlarge` -> an ec2.InstanceType usable by RDS (`db.` is added by RDS). */
function instanceType(instanceClass: string): ec2.InstanceType {
  return new ec2.InstanceType(instanceClass);
}

/**
 * Per-region, stateful: the region's Aurora cluster of the global database (writer in the primary region, read-only
 * secondary elsewhere) and its RDS Proxy. The primary region also runs the schema migrations (a custom resource the
 * platform stack waits for) and the scheduled partition maintenance and archival.
 */
export class DatabaseStack extends Stack {
  public readonly database: IAuroraRegionalCluster;
  public readonly proxy: RegionalDatabaseProxy;
  public readonly migrations?: SchemaMigrations;

  constructor(scope: Construct, id: string, props: DatabaseStackProps) {
    super(scope, id, props);
    const { envName, regionConfig, size, protection } = props;
    const region = regionConfig.region;
    // Clusters and proxies in the isolated tier; the primary's migration, maintenance and secret-rotation functions
    // call AWS APIs from the private tier (egress).
    const vpc = importVpc(this, envName, regionConfig, props.isPrimary ? ['isolated', 'private'] : ['isolated']);
    const workloads = importSecurityGroup(this, 'WorkloadSecurityGroup', envName, region, NETWORK_KEYS.workloadSecurityGroupId);
    const dataClients = importSecurityGroup(this, 'DataClientSecurityGroup', envName, region, NETWORK_KEYS.dataClientSecurityGroupId);

    const common = {
      vpc,
      globalClusterIdentifier: `connecthub-${envName}`,
      instanceType: instanceType(size.instanceClass),
      maxConnections: size.maxConnections,
      backupRetention: protection.backupRetention,
      removalPolicy: protection.snapshotRemovalPolicy,
      deletionProtection: protection.deletionProtection,
      logRetention: protection.logRetention,
    };
    let primary: AuroraGlobalPrimary | undefined;
    if (props.isPrimary) {
      primary = new AuroraGlobalPrimary(this, 'Aurora', {
        ...common,
        readers: size.readers,
        databaseName: DATABASE_NAME,
        // Aurora Auto Scaling copies an existing replica; dev runs the writer alone and does not scale.
        readerAutoScaling: size.readers > 0 ? { minCapacity: size.readers, maxCapacity: size.maxReaders } : undefined,
      });
      this.database = primary;
    } else {
      this.database = new AuroraGlobalSecondary(this, 'Aurora', { ...common, readers: Math.max(1, size.readers) });
    }

    if (!protection.deletionProtection) {
      Validations.of(this.database.cluster.node.defaultChild!).acknowledge({
        id: 'NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled',
        reason: 'dev and pr-N environments hold no lasting data and must destroy cleanly; staging and prod enable deletion protection.',
      });
    }

    this.proxy = new RegionalDatabaseProxy(this, 'Proxy', {
      vpc,
      database: this.database,
      dbUsers: [APP_DATABASE_USER],
      allowedPeers: [workloads, dataClients],
      // The capacity model's share; the proxy subtracts the cluster's write-forwarding quota from it.
      maxConnectionsPercent: size.proxyMaxConnectionsPercent,
    });

    if (primary) {
      this.migrations = new SchemaMigrations(this, 'SchemaMigrations', {
        vpc,
        database: primary,
        secret: primary.secret,
        databaseName: DATABASE_NAME,
        logRetention: protection.logRetention,
        removalPolicy: protection.removalPolicy,
      });
      new PartitionMaintenance(this, 'PartitionMaintenance', {
        vpc,
        database: primary,
        secret: primary.secret,
        databaseName: DATABASE_NAME,
        logRetention: protection.logRetention,
        removalPolicy: protection.removalPolicy,
      });
      publishValue(this, envName, region, DATABASE_KEYS.schemaVersion, this.migrations.schemaVersion);
    }

    publishValue(this, envName, region, DATABASE_KEYS.clusterIdentifier, this.database.clusterIdentifier);
    publishValue(this, envName, region, DATABASE_KEYS.proxyEndpoint, this.proxy.endpoint);
    publishValue(this, envName, region, DATABASE_KEYS.proxyReaderEndpoint, this.proxy.readerEndpoint);
    publishValue(this, envName, region, DATABASE_KEYS.proxyResourceId, this.proxy.proxy.dbProxyArn);
    publishValue(this, envName, region, DATABASE_KEYS.proxyName, this.proxy.proxy.dbProxyName);
    publishValue(this, envName, region, DATABASE_KEYS.proxySecurityGroupId, this.proxy.securityGroup.securityGroupId);
  }
}
