/**
 * Aurora PostgreSQL global database: the PRIMARY region's construct (global cluster + writer + readers
 * + reader auto scaling + master secret with rotation) and the SECONDARY region's construct (a read-only
 * cluster joined to the global cluster by its identifier, with global write forwarding).
 *
 * aws-cdk-lib has no L2 for global databases (aws-cdk issues 22212, 29880): the L2 `DatabaseCluster`
 * is joined to the L1 `CfnGlobalCluster` by setting properties on its L1 resource (escape hatch).
 * See docs/data-infrastructure.md for the choices and their limits.
 *
 * Stable construct ids of stateful resources (renaming any of them replaces the resource):
 *   <id>/Key, <id>/GlobalCluster (primary only), <id>/Cluster (DBCluster: <id>/Cluster/Resource),
 *   <id>/Cluster/Writer, <id>/Cluster/Reader1..ReaderN, <id>/Cluster/Secret (primary only),
 *   <id>/PostgresLogs.
 */
import { Annotations, ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { PropsProblems, RDS_IDENTIFIER } from './props-validation';

/** Engine version used when none is given: Aurora PostgreSQL 17.7 (global databases and global write forwarding supported). */
export const DEFAULT_AURORA_POSTGRES_VERSION = rds.AuroraPostgresEngineVersion.VER_17_7;
/** Aurora PostgreSQL majors these constructs accept. */
export const SUPPORTED_POSTGRES_MAJORS: readonly string[] = ['16', '17'];
/** Aurora's limit on Aurora Replicas per cluster. */
export const MAX_AURORA_REPLICAS = 15;

/** Props shared by the primary and the secondary regional clusters. */
export interface AuroraRegionalClusterProps {
  /** VPC the cluster lives in. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets for the cluster's instances (at least two AZs).
   * @default - the VPC's isolated subnets (`PRIVATE_ISOLATED`)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Identifier of the global cluster, a plain string known at synth (e.g. `connecthub-prod`), the same in every
   * region: the secondary joins the global cluster by this name (no cross-region reference, no Fn::ImportValue).
   */
  readonly globalClusterIdentifier: string;
  /**
   * Identifier of this regional cluster. It also names the PostgreSQL log group
   * (`/aws/rds/cluster/<clusterIdentifier>/postgresql`), which is created before the cluster with KMS and retention.
   * @default `${globalClusterIdentifier}-${region}` (needs a stack with a concrete region)
   */
  readonly clusterIdentifier?: string;
  /**
   * Aurora PostgreSQL engine version (major 16 or 17). Must be the same in every region.
   * @default DEFAULT_AURORA_POSTGRES_VERSION (17.7)
   */
  readonly engineVersion?: rds.AuroraPostgresEngineVersion;
  /** Instance class of every instance in this region, e.g. `ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.XLARGE2)`. */
  readonly instanceType: ec2.InstanceType;
  /**
   * Reader instances created by CloudFormation in this region (0-15). In the primary region these are Aurora Replicas next
   * to the writer; in a secondary region every instance reads, so the secondary creates `readers` instances in all
   * (at least 1).
   */
  readonly readers: number;
  /**
   * `max_connections` of every instance (cluster parameter group). The plan sets 1000.
   * @default 1000
   */
  readonly maxConnections?: number;
  /**
   * Share of the writer's `max_connections` that sessions forwarded from secondary regions may hold
   * (`apg_write_forward.max_forwarding_connections_percent`, set explicitly in the cluster parameter group whenever
   * global write forwarding is on; Aurora's default is 25). An RDS Proxy in front of the cluster must leave this share
   * free (`RegionalDatabaseProxy` subtracts it). Set in every region: a secondary becomes the writer after a switchover.
   * @default 10
   */
  readonly writeForwardingConnectionsPercent?: number;
  /**
   * Statements slower than this are logged (`log_min_duration_statement`). The plan's query target is 50 ms.
   * @default Duration.millis(50)
   */
  readonly slowStatementThreshold?: Duration;
  /** Automated backup retention, 1 to 35 days (prod passes 35 days). */
  readonly backupRetention: Duration;
  /**
   * What happens to the cluster, its instances and its key when they leave the stack: RETAIN, SNAPSHOT (cluster snapshot;
   * the key and global cluster are retained) or DESTROY (dev and pr-N environments).
   */
  readonly removalPolicy: RemovalPolicy;
  /** RDS deletion protection on the cluster (and the global cluster). */
  readonly deletionProtection: boolean;
  /**
   * Enhanced monitoring interval (1, 5, 10, 15, 30 or 60 seconds).
   * @default Duration.seconds(60)
   */
  readonly monitoringInterval?: Duration;
  /**
   * Retention of the exported PostgreSQL log.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Performance Insights retention (encrypted with this region's key).
   * @default rds.PerformanceInsightRetention.DEFAULT (7 days)
   */
  readonly performanceInsightRetention?: rds.PerformanceInsightRetention;
  /**
   * Weekly maintenance window, e.g. `sun:04:00-sun:05:00` (UTC).
   * @default - chosen by RDS
   */
  readonly preferredMaintenanceWindow?: string;
  /**
   * Port the cluster listens on.
   * @default 5432
   */
  readonly port?: number;
}

/** Target tracking of the primary cluster's reader count (`rds:cluster:ReadReplicaCount`). */
export interface AuroraReaderAutoScaling {
  /** Fewest Aurora Replicas (0-15). Replicas created by CloudFormation (`readers`) are never removed by scaling. */
  readonly minCapacity: number;
  /** Most Aurora Replicas (1-15, at least `minCapacity` and `readers`). */
  readonly maxCapacity: number;
  /**
   * Average reader CPU the policy keeps (percent). The plan scales at 70 %.
   * @default 70
   */
  readonly targetCpuPercent?: number;
  /**
   * Wait after a scale-in.
   * @default Duration.minutes(10)
   */
  readonly scaleInCooldown?: Duration;
  /**
   * Wait after a scale-out.
   * @default Duration.minutes(5)
   */
  readonly scaleOutCooldown?: Duration;
}

/** Props of the primary region's cluster. */
export interface AuroraGlobalPrimaryProps extends AuroraRegionalClusterProps {
  /**
   * Database created in the cluster.
   * @default 'connecthub'
   */
  readonly databaseName?: string;
  /**
   * Master user name (its password is generated into a Secrets Manager secret encrypted with this region's key).
   * @default 'connecthub_admin'
   */
  readonly masterUsername?: string;
  /**
   * How often the master secret is rotated (single-user rotation Lambda in the VPC).
   * @default Duration.days(30)
   */
  readonly secretRotationInterval?: Duration;
  /**
   * Subnets of the secret rotation Lambda; they need a route to the Secrets Manager API (NAT or interface endpoint).
   * @default - the VPC's private subnets with egress (`PRIVATE_WITH_EGRESS`)
   */
  readonly secretRotationSubnets?: ec2.SubnetSelection;
  /**
   * Regions to replicate the master secret to (e.g. the secondary regions, so a promoted secondary finds it locally).
   * Replicas use the Secrets Manager key of their region.
   * @default - no replicas
   */
  readonly secretReplicaRegions?: string[];
  /**
   * Reader auto scaling on top of the CloudFormation-managed readers.
   * @default - no auto scaling
   */
  readonly readerAutoScaling?: AuroraReaderAutoScaling;
  /**
   * Let readers in this region forward writes to the writer (local write forwarding).
   * @default false
   */
  readonly enableLocalWriteForwarding?: boolean;
  /**
   * Set EnableGlobalWriteForwarding on the primary too: it does nothing while it is primary and takes effect if a
   * switchover or failover demotes it to a secondary.
   * @default true
   */
  readonly enableGlobalWriteForwarding?: boolean;
}

/** Props of a secondary region's cluster. */
export interface AuroraGlobalSecondaryProps extends AuroraRegionalClusterProps {
  /**
   * Forward writes sent to this region's readers to the primary's writer (global write forwarding).
   * @default true
   */
  readonly enableGlobalWriteForwarding?: boolean;
}

type Role = 'primary' | 'secondary';

interface RegionalParts {
  readonly key: kms.Key;
  readonly cluster: rds.DatabaseCluster;
  readonly cfnCluster: rds.CfnDBCluster;
  readonly parameterGroup: rds.ParameterGroup;
  readonly logGroup: logs.LogGroup;
  readonly clusterIdentifier: string;
  readonly engineVersion: rds.AuroraPostgresEngineVersion;
  readonly writeForwardingConnectionsPercent: number;
}

/** Things both regional constructs expose. */
export interface IAuroraRegionalCluster {
  /** The regional cluster (L2). */
  readonly cluster: rds.DatabaseCluster;
  /** This region's KMS key (storage, Performance Insights, logs, secret). */
  readonly key: kms.IKey;
  /** The cluster identifier (plain string). */
  readonly clusterIdentifier: string;
  /** The global cluster identifier (plain string). */
  readonly globalClusterIdentifier: string;
  /** Network access to the cluster (security group). */
  readonly connections: ec2.Connections;
  /** `max_connections` set on the instances. */
  readonly maxConnections: number;
  /** PostgreSQL port (plain number, for security group rules). */
  readonly port: number;
  /** `primary` holds the writer; a `secondary` only has read-only instances (writes are forwarded). */
  readonly role: 'primary' | 'secondary';
  /**
   * Read-only instances CloudFormation creates in this region: the Aurora Replicas of a primary (0 when the writer runs
   * alone), every instance of a secondary. With 0, nothing answers on a read-only endpoint.
   */
  readonly readerInstances: number;
  /**
   * `apg_write_forward.max_forwarding_connections_percent` set on the cluster (0 when global write forwarding is off):
   * the share of `max_connections` an RDS Proxy must leave to forwarded sessions.
   */
  readonly writeForwardingConnectionsPercent: number;
}

/**
 * Primary region of the Aurora PostgreSQL global database: creates the global cluster and the writer cluster that
 * joins it, readers, reader auto scaling and the master secret (rotated).
 */
export class AuroraGlobalPrimary extends Construct implements IAuroraRegionalCluster {
  readonly cluster: rds.DatabaseCluster;
  readonly key: kms.Key;
  readonly clusterIdentifier: string;
  readonly globalClusterIdentifier: string;
  readonly connections: ec2.Connections;
  readonly maxConnections: number;
  readonly port: number;
  readonly role = 'primary' as const;
  readonly readerInstances: number;
  readonly writeForwardingConnectionsPercent: number;
  /** The L1 global cluster. */
  readonly globalCluster: rds.CfnGlobalCluster;
  /** Master user secret (username/password JSON, encrypted with `key`, rotated). */
  readonly secret: secretsmanager.ISecret;
  /** Name of the database created in the cluster. */
  readonly databaseName: string;
  /** Reader auto scaling target, when configured. */
  readonly readerScaling?: appscaling.ScalableTarget;

  constructor(scope: Construct, id: string, props: AuroraGlobalPrimaryProps) {
    super(scope, id);
    const problems = new PropsProblems(`AuroraGlobalPrimary "${this.node.path}"`);
    validateCommon(this, problems, props, 'primary');
    const databaseName = props.databaseName ?? 'connecthub';
    const masterUsername = props.masterUsername ?? 'connecthub_admin';
    const rotation = props.secretRotationInterval ?? Duration.days(30);
    problems.check(/^[a-z_][a-z0-9_]{0,62}$/.test(databaseName), 'databaseName', databaseName,
      'a PostgreSQL identifier: lower-case letters, digits and _, starting with a letter or _, at most 63 characters');
    problems.check(/^[a-z_][a-z0-9_]{0,62}$/.test(masterUsername) && !['postgres', 'rdsadmin', 'admin'].includes(masterUsername),
      'masterUsername', masterUsername, 'a PostgreSQL identifier that is not a reserved name (postgres, rdsadmin, admin)');
    const rotationDays = rotation.toDays({ integral: false });
    problems.check(Number.isInteger(rotationDays) && rotationDays >= 1 && rotationDays <= 365,
      'secretRotationInterval', rotation, 'a whole number of days from 1 to 365');
    for (const region of props.secretReplicaRegions ?? []) {
      problems.check(/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region), 'secretReplicaRegions', region, 'AWS region names such as "eu-west-1"');
    }
    const scaling = props.readerAutoScaling;
    if (scaling) {
      problems.integerInRange('readerAutoScaling.minCapacity', scaling.minCapacity, 0, MAX_AURORA_REPLICAS);
      problems.integerInRange('readerAutoScaling.maxCapacity', scaling.maxCapacity, 1, MAX_AURORA_REPLICAS);
      problems.check(scaling.minCapacity <= scaling.maxCapacity, 'readerAutoScaling.minCapacity', scaling.minCapacity,
        `at most readerAutoScaling.maxCapacity (${scaling.maxCapacity})`);
      problems.check(props.readers <= scaling.maxCapacity, 'readers', props.readers,
        `at most readerAutoScaling.maxCapacity (${scaling.maxCapacity}), or the policy could never scale`);
      problems.check(props.readers >= 1, 'readers', props.readers, 'at least 1 when readerAutoScaling is set (the policy tracks average reader CPU, which has no data without a reader)');
      problems.integerInRange('readerAutoScaling.targetCpuPercent', scaling.targetCpuPercent, 10, 90);
    }
    problems.throwIfAny();

    this.globalClusterIdentifier = props.globalClusterIdentifier;
    this.databaseName = databaseName;
    const engineVersion = props.engineVersion ?? DEFAULT_AURORA_POSTGRES_VERSION;

    // The global cluster is created first, empty, and the primary joins it (CloudFormation's documented order for a
    // new global database). SNAPSHOT does not exist for AWS::RDS::GlobalCluster: it is retained instead.
    this.globalCluster = new rds.CfnGlobalCluster(this, 'GlobalCluster', {
      globalClusterIdentifier: props.globalClusterIdentifier,
      engine: 'aurora-postgresql',
      engineVersion: engineVersion.auroraPostgresFullVersion,
      storageEncrypted: true,
      deletionProtection: props.deletionProtection,
    });
    this.globalCluster.applyRemovalPolicy(keepOrDestroy(props.removalPolicy));

    const forwarding = props.enableGlobalWriteForwarding ?? true;
    const parts = buildRegionalCluster(this, props, 'primary', engineVersion, forwarding, (key) => ({
      credentials: rds.Credentials.fromGeneratedSecret(masterUsername, {
        encryptionKey: key,
        replicaRegions: props.secretReplicaRegions?.map((region) => ({ region })),
      }),
      defaultDatabaseName: databaseName,
      enableLocalWriteForwarding: props.enableLocalWriteForwarding ?? false,
    }));
    this.cluster = parts.cluster;
    this.key = parts.key;
    this.clusterIdentifier = parts.clusterIdentifier;
    this.connections = parts.cluster.connections;
    this.maxConnections = props.maxConnections ?? 1000;
    this.port = props.port ?? 5432;
    this.readerInstances = props.readers;
    this.writeForwardingConnectionsPercent = parts.writeForwardingConnectionsPercent;

    // Escape hatch: join the L2 cluster to the global cluster (no L2 support, aws-cdk#22212).
    parts.cfnCluster.globalClusterIdentifier = props.globalClusterIdentifier;
    parts.cfnCluster.enableGlobalWriteForwarding = forwarding;
    parts.cfnCluster.node.addDependency(this.globalCluster);

    // Managed master passwords (manageMasterUserPassword) are not supported for clusters in a global database, so the
    // master password is a CDK-generated secret, rotated by the single-user rotation application.
    const secret = parts.cluster.secret;
    if (!secret) throw new Error(`AuroraGlobalPrimary "${this.node.path}": the cluster has no master secret`);
    // The secret outlives the cluster whenever the data does (a snapshot is useless without its credentials).
    // (`cluster.secret` is the target attachment; the policy belongs on the generated DatabaseSecret itself.)
    const generated = parts.cluster.node.tryFindChild('Secret') as secretsmanager.Secret | undefined;
    generated?.applyRemovalPolicy(props.removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN);
    this.secret = secret;
    parts.cluster.addRotationSingleUser({
      automaticallyAfter: rotation,
      vpcSubnets: props.secretRotationSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });
    acknowledgeTokenPortIngress(parts.cluster);

    if (scaling) {
      this.readerScaling = new appscaling.ScalableTarget(this, 'ReaderScaling', {
        serviceNamespace: appscaling.ServiceNamespace.RDS,
        scalableDimension: 'rds:cluster:ReadReplicaCount',
        resourceId: `cluster:${parts.clusterIdentifier}`,
        minCapacity: scaling.minCapacity,
        maxCapacity: scaling.maxCapacity,
        // Aurora replica scaling runs under its service-linked role (created by Application Auto Scaling on first use).
        role: iam.Role.fromRoleArn(this, 'ReaderScalingServiceLinkedRole', Stack.of(this).formatArn({
          service: 'iam',
          region: '',
          resource: 'role',
          resourceName: 'aws-service-role/rds.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_RDSCluster',
        }), { mutable: false }),
      });
      // Scaling starts once the cluster and its CloudFormation-managed instances exist.
      this.readerScaling.node.addDependency(parts.cluster);
      this.readerScaling.scaleToTrackMetric('ReaderCpu', {
        predefinedMetric: appscaling.PredefinedMetric.RDS_READER_AVERAGE_CPU_UTILIZATION,
        targetValue: scaling.targetCpuPercent ?? 70,
        scaleInCooldown: scaling.scaleInCooldown ?? Duration.minutes(10),
        scaleOutCooldown: scaling.scaleOutCooldown ?? Duration.minutes(5),
      });
    }
  }

  /** Grants `rds-db:connect` to the cluster (direct IAM database authentication) as `dbUser`. */
  grantConnect(grantee: iam.IGrantable, dbUser: string): iam.Grant {
    return this.cluster.grantConnect(grantee, dbUser);
  }
}

/**
 * A secondary region of the Aurora PostgreSQL global database: a cluster that joins the global cluster by its
 * identifier, holds `readers` read-only instances and forwards writes to the primary (global write forwarding).
 * It has no master secret of its own: credentials come from the primary (the same users exist in every region).
 * Deploy it after the primary region's stack.
 */
export class AuroraGlobalSecondary extends Construct implements IAuroraRegionalCluster {
  readonly cluster: rds.DatabaseCluster;
  readonly key: kms.Key;
  readonly clusterIdentifier: string;
  readonly globalClusterIdentifier: string;
  readonly connections: ec2.Connections;
  readonly maxConnections: number;
  readonly port: number;
  readonly role = 'secondary' as const;
  readonly readerInstances: number;
  readonly writeForwardingConnectionsPercent: number;

  constructor(scope: Construct, id: string, props: AuroraGlobalSecondaryProps) {
    super(scope, id);
    const problems = new PropsProblems(`AuroraGlobalSecondary "${this.node.path}"`);
    validateCommon(this, problems, props, 'secondary');
    problems.throwIfAny();

    this.globalClusterIdentifier = props.globalClusterIdentifier;
    const engineVersion = props.engineVersion ?? DEFAULT_AURORA_POSTGRES_VERSION;
    const forwarding = props.enableGlobalWriteForwarding ?? true;
    const parts = buildRegionalCluster(this, props, 'secondary', engineVersion, forwarding, () => ({
      // The L2 always renders master credentials; asking for an RDS-managed password keeps it from generating a
      // secret, and the escape hatch below removes the credential properties altogether.
      manageMasterUserPassword: true,
    }));
    this.cluster = parts.cluster;
    this.key = parts.key;
    this.clusterIdentifier = parts.clusterIdentifier;
    this.connections = parts.cluster.connections;
    this.maxConnections = props.maxConnections ?? 1000;
    this.port = props.port ?? 5432;
    // Every instance of a secondary is read-only (validated: at least 1), so its read-only endpoint always has targets.
    this.readerInstances = props.readers;
    this.writeForwardingConnectionsPercent = parts.writeForwardingConnectionsPercent;

    // Escape hatch (aws-cdk#22212, #29880): a secondary takes its users and database from the primary; RDS rejects
    // MasterUsername/MasterUserPassword/ManageMasterUserPassword on it ("Cannot specify user name for cross region
    // replication cluster").
    const cfn = parts.cfnCluster;
    cfn.masterUsername = undefined;
    cfn.masterUserPassword = undefined;
    cfn.manageMasterUserPassword = undefined;
    cfn.masterUserSecret = undefined;
    cfn.databaseName = undefined;
    cfn.globalClusterIdentifier = props.globalClusterIdentifier;
    cfn.enableGlobalWriteForwarding = forwarding;
  }

  /** Grants `rds-db:connect` to this region's cluster (direct IAM database authentication) as `dbUser`. */
  grantConnect(grantee: iam.IGrantable, dbUser: string): iam.Grant {
    return this.cluster.grantConnect(grantee, dbUser);
  }
}

function validateCommon(scope: Construct, problems: PropsProblems, props: AuroraRegionalClusterProps, role: Role): void {
  problems.check(RDS_IDENTIFIER.test(props.globalClusterIdentifier), 'globalClusterIdentifier', props.globalClusterIdentifier,
    'lower-case letters, digits and single hyphens, starting with a letter, not ending with a hyphen, 2-63 characters');
  const clusterIdentifier = resolveClusterIdentifier(scope, props);
  if (clusterIdentifier === undefined) {
    problems.add('clusterIdentifier', undefined, 'required when the stack has no concrete region (the default is `${globalClusterIdentifier}-${region}`)');
  } else {
    problems.check(RDS_IDENTIFIER.test(clusterIdentifier), 'clusterIdentifier', clusterIdentifier,
      'lower-case letters, digits and single hyphens, starting with a letter, not ending with a hyphen, 2-63 characters');
  }
  const version = props.engineVersion ?? DEFAULT_AURORA_POSTGRES_VERSION;
  problems.check(SUPPORTED_POSTGRES_MAJORS.includes(version.auroraPostgresMajorVersion), 'engineVersion',
    version.auroraPostgresFullVersion, `an Aurora PostgreSQL ${SUPPORTED_POSTGRES_MAJORS.join(' or ')}.x version`);
  problems.integerInRange('readers', props.readers, role === 'secondary' ? 1 : 0, MAX_AURORA_REPLICAS);
  problems.integerInRange('maxConnections', props.maxConnections, 100, 262143);
  // AWS accepts 1-100; above 50 forwarded sessions could starve the proxy of the writer's connections.
  problems.integerInRange('writeForwardingConnectionsPercent', props.writeForwardingConnectionsPercent, 1, 50);
  const slow = props.slowStatementThreshold;
  if (slow !== undefined) {
    const ms = slow.toMilliseconds();
    problems.check(ms >= 1 && ms <= 60_000, 'slowStatementThreshold', slow, 'from 1 ms to 60 s');
  }
  const backupDays = props.backupRetention.toDays({ integral: false });
  problems.check(Number.isInteger(backupDays) && backupDays >= 1 && backupDays <= 35, 'backupRetention', props.backupRetention,
    'a whole number of days from 1 to 35');
  problems.check([RemovalPolicy.RETAIN, RemovalPolicy.SNAPSHOT, RemovalPolicy.DESTROY].includes(props.removalPolicy),
    'removalPolicy', props.removalPolicy, 'RETAIN, SNAPSHOT or DESTROY');
  if (props.monitoringInterval !== undefined) {
    const seconds = props.monitoringInterval.toSeconds();
    problems.check([1, 5, 10, 15, 30, 60].includes(seconds), 'monitoringInterval', props.monitoringInterval, '1, 5, 10, 15, 30 or 60 seconds');
  }
  problems.integerInRange('port', props.port, 1150, 65535);
  if (props.preferredMaintenanceWindow !== undefined) {
    problems.check(/^(mon|tue|wed|thu|fri|sat|sun):\d\d:\d\d-(mon|tue|wed|thu|fri|sat|sun):\d\d:\d\d$/.test(props.preferredMaintenanceWindow),
      'preferredMaintenanceWindow', props.preferredMaintenanceWindow, 'ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. "sun:04:00-sun:05:00"');
  }
  if (props.deletionProtection && props.removalPolicy === RemovalPolicy.DESTROY) {
    Annotations.of(scope).addWarningV2('@connecthub/data:deletionProtectionWithDestroy',
      'deletionProtection is true while removalPolicy is DESTROY: deleting the stack fails until deletion protection is turned off.');
  }
}

function resolveClusterIdentifier(scope: Construct, props: AuroraRegionalClusterProps): string | undefined {
  if (props.clusterIdentifier !== undefined) return props.clusterIdentifier;
  const region = Stack.of(scope).region;
  return Token.isUnresolved(region) ? undefined : `${props.globalClusterIdentifier}-${region}`;
}

/** Resources that cannot be snapshotted (keys, global cluster, parameter group) keep the data reachable by retaining. */
function keepOrDestroy(policy: RemovalPolicy): RemovalPolicy {
  return policy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}

function buildRegionalCluster(
  scope: Construct,
  props: AuroraRegionalClusterProps,
  role: Role,
  engineVersion: rds.AuroraPostgresEngineVersion,
  globalWriteForwarding: boolean,
  roleProps: (key: kms.IKey) => Partial<rds.DatabaseClusterProps>,
): RegionalParts {
  const stack = Stack.of(scope);
  const clusterIdentifier = resolveClusterIdentifier(scope, props)!;
  const engine = rds.DatabaseClusterEngine.auroraPostgres({ version: engineVersion });
  const maxConnections = props.maxConnections ?? 1000;
  const slowMs = (props.slowStatementThreshold ?? Duration.millis(50)).toMilliseconds();
  const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  const keepPolicy = keepOrDestroy(props.removalPolicy);
  const forwardingPercent = globalWriteForwarding ? props.writeForwardingConnectionsPercent ?? 10 : 0;

  const key = new kms.Key(scope, 'Key', {
    description: `Aurora ${role} cluster ${clusterIdentifier}: storage, Performance Insights, logs and secrets`,
    enableKeyRotation: true,
    removalPolicy: keepPolicy,
    pendingWindow: Duration.days(30),
  });

  // The PostgreSQL log group exists before the cluster, so it is ours (KMS, retention) rather than created by RDS.
  const logGroupName = `/aws/rds/cluster/${clusterIdentifier}/postgresql`;
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudWatchLogsForTheClusterLogGroup',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnEquals: {
        'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      },
    },
  }));
  const logGroup = new logs.LogGroup(scope, 'PostgresLogs', {
    logGroupName,
    retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    encryptionKey: key,
    removalPolicy: keepPolicy,
  });

  const parameterGroup = new rds.ParameterGroup(scope, 'ClusterParameters', {
    engine,
    description: `ConnectHub Aurora PostgreSQL ${engineVersion.auroraPostgresMajorVersion} cluster parameters (${role})`,
    parameters: {
      'rds.force_ssl': '1',
      shared_preload_libraries: 'pg_stat_statements',
      'pg_stat_statements.track': 'top',
      max_connections: String(maxConnections),
      log_min_duration_statement: String(slowMs),
      log_lock_waits: '1',
      log_temp_files: '0',
      log_statement: 'ddl',
      // Explicit forwarding quota (the proxy's pool is reduced by it); static, applied at the next reboot when changed.
      ...(forwardingPercent > 0 ? { 'apg_write_forward.max_forwarding_connections_percent': String(forwardingPercent) } : {}),
    },
    removalPolicy: keepPolicy,
  });

  const instanceProps: rds.ProvisionedClusterInstanceProps = {
    instanceType: props.instanceType,
    publiclyAccessible: false,
    enablePerformanceInsights: true,
    performanceInsightEncryptionKey: key,
    performanceInsightRetention: props.performanceInsightRetention ?? rds.PerformanceInsightRetention.DEFAULT,
    // Global databases are upgraded through the global cluster (engineVersion), never per instance.
    autoMinorVersionUpgrade: false,
  };
  const readers: rds.IClusterInstance[] = [];
  const readerCount = role === 'primary' ? props.readers : props.readers - 1;
  for (let i = 1; i <= readerCount; i++) {
    readers.push(rds.ClusterInstance.provisioned(`Reader${i}`, { ...instanceProps, promotionTier: 1 }));
  }

  const cluster = new rds.DatabaseCluster(scope, 'Cluster', {
    engine,
    clusterIdentifier,
    vpc: props.vpc,
    vpcSubnets,
    port: props.port ?? 5432,
    // In a secondary region the "writer" is simply the first read-only instance (the cluster has no writer until promoted).
    writer: rds.ClusterInstance.provisioned('Writer', instanceProps),
    readers,
    parameterGroup,
    storageEncrypted: true,
    storageEncryptionKey: key,
    iamAuthentication: true,
    backup: { retention: props.backupRetention },
    deletionProtection: props.deletionProtection,
    removalPolicy: props.removalPolicy,
    copyTagsToSnapshot: true,
    cloudwatchLogsExports: ['postgresql'],
    monitoringInterval: props.monitoringInterval ?? Duration.seconds(60),
    enablePerformanceInsights: true,
    performanceInsightEncryptionKey: key,
    performanceInsightRetention: props.performanceInsightRetention ?? rds.PerformanceInsightRetention.DEFAULT,
    preferredMaintenanceWindow: props.preferredMaintenanceWindow,
    instanceUpdateBehaviour: rds.InstanceUpdateBehaviour.ROLLING,
    ...roleProps(key),
  });
  cluster.node.addDependency(logGroup);

  // Every stateful resource gets the policy: the L2 gives instances DESTROY unless the policy is RETAIN. On an Aurora
  // member instance SNAPSHOT takes no snapshot of its own (CloudFormation skips it for cluster members), the data is
  // in the cluster's snapshot, and the instance is deleted so the cluster can be.
  const cfnCluster = cluster.node.defaultChild as rds.CfnDBCluster;
  for (const child of cluster.node.findAll()) {
    if (child instanceof rds.CfnDBInstance) {
      child.applyRemovalPolicy(props.removalPolicy);
      Validations.of(child).acknowledge({
        id: 'NIST.800.53.R5-RDSInBackupPlan',
        reason: `Aurora member instance: the cluster volume is backed up continuously by Aurora (point-in-time restore over backupRetention, ${props.backupRetention.toDays()} days here) and snapshotted or retained on removal; an instance has no separate data to put in an AWS Backup plan.`,
      });
    }
  }

  acknowledgeClusterFindings(cluster, props);
  return { key, cluster, cfnCluster, parameterGroup, logGroup, clusterIdentifier, engineVersion, writeForwardingConnectionsPercent: forwardingPercent };
}

function acknowledgeClusterFindings(cluster: rds.DatabaseCluster, props: AuroraRegionalClusterProps): void {
  const monitoringRole = cluster.node.tryFindChild('MonitoringRole');
  if (monitoringRole) {
    Validations.of(monitoringRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      reason: 'Enhanced monitoring needs exactly this AWS-maintained service-role policy; it only lets RDS write OS metrics to the RDSOSMetrics log group.',
    });
  }
  Validations.of(cluster).acknowledge({
    id: 'AwsSolutions-RDS11',
    reason: 'PostgreSQL keeps its standard port: clients reach it only through RDS Proxy and security groups that admit named peers; a non-default port adds no protection.',
  });
  if (!props.deletionProtection) {
    Validations.of(cluster).acknowledge({
      id: 'AwsSolutions-RDS10',
      reason: 'Deletion protection is off by configuration (deletionProtection: false) for destroyable dev / pr-N environments; staging and prod pass true.',
    });
    Validations.of(cluster).acknowledge({
      id: 'NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled',
      reason: 'Deletion protection is off by configuration (deletionProtection: false) for destroyable dev / pr-N environments; staging and prod pass true.',
    });
  }
}

/**
 * Rules the L2 creates with `connections.allowDefaultPortFrom` (e.g. for the rotation Lambda) take the port from
 * Fn::GetAtt Endpoint.Port, which cdk-nag cannot read. Acknowledged per rule: the port is the cluster's PostgreSQL port
 * and the peer is one security group (never a CIDR). Only rules that exist when this is called are touched.
 */
export function acknowledgeTokenPortIngress(cluster: rds.DatabaseCluster): void {
  const securityGroup = cluster.node.tryFindChild('SecurityGroup');
  for (const rule of securityGroup?.node.children ?? []) {
    if (!(rule instanceof ec2.CfnSecurityGroupIngress) || !Token.isUnresolved(rule.fromPort) || rule.sourceSecurityGroupId === undefined) continue;
    for (const id of ['NIST.800.53.R5-EC2RestrictedCommonPorts', 'NIST.800.53.R5-EC2RestrictedSSH']) {
      Validations.of(rule).acknowledge({
        id,
        reason: "Ingress on the cluster's PostgreSQL port (resolved at deploy from Fn::GetAtt Endpoint.Port, which the checker cannot read) from a single security group, never from a CIDR.",
      });
    }
  }
}
