import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import {
  AuroraGlobalPrimary,
  AuroraGlobalPrimaryProps,
  AuroraGlobalSecondary,
} from '../../../constructs/data/aurora-global-database';
import { NagFinding, nagFindings, newApp, newStack, testVpc } from './test-support';

const GLOBAL_ID = 'connecthub-prod';
const R7G_XL = ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.XLARGE);

function primaryProps(vpc: ec2.IVpc, overrides: Partial<AuroraGlobalPrimaryProps> = {}): AuroraGlobalPrimaryProps {
  return {
    vpc,
    globalClusterIdentifier: GLOBAL_ID,
    instanceType: R7G_XL,
    readers: 2,
    backupRetention: Duration.days(35),
    removalPolicy: RemovalPolicy.SNAPSHOT,
    deletionProtection: true,
    readerAutoScaling: { minCapacity: 2, maxCapacity: 6 },
    secretReplicaRegions: ['eu-west-1', 'ap-southeast-1'],
    ...overrides,
  };
}

let prod: Template;
let secondary: Template;
let dev: Template;
let devStack: Stack;
let findings: NagFinding[];
let primary: AuroraGlobalPrimary;
let eu: AuroraGlobalSecondary;

beforeAll(() => {
  const app = newApp();
  const prodStack = newStack(app, 'ProdData');
  primary = new AuroraGlobalPrimary(prodStack, 'Aurora', primaryProps(testVpc(prodStack), { maxConnections: 1000 }));
  const euStack = newStack(app, 'ProdDataEu', 'eu-west-1');
  eu = new AuroraGlobalSecondary(euStack, 'Aurora', {
    vpc: testVpc(euStack),
    globalClusterIdentifier: GLOBAL_ID,
    instanceType: R7G_XL,
    readers: 2,
    backupRetention: Duration.days(35),
    removalPolicy: RemovalPolicy.RETAIN,
    deletionProtection: true,
  });
  devStack = newStack(app, 'DevData');
  new AuroraGlobalPrimary(devStack, 'Aurora', {
    vpc: testVpc(devStack),
    globalClusterIdentifier: 'connecthub-dev',
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
    readers: 0,
    backupRetention: Duration.days(1),
    removalPolicy: RemovalPolicy.DESTROY,
    deletionProtection: false,
    engineVersion: rds.AuroraPostgresEngineVersion.VER_16_6,
    slowStatementThreshold: Duration.millis(100),
    logRetention: logs.RetentionDays.ONE_WEEK,
  });
  prod = Template.fromStack(prodStack);
  secondary = Template.fromStack(euStack);
  dev = Template.fromStack(devStack);
  findings = nagFindings(prodStack, euStack, devStack);
});

describe('primary region (prod-like props)', () => {
  test('global cluster: Aurora PostgreSQL 17.7, encrypted, identifier from the props, retained', () => {
    prod.hasResource('AWS::RDS::GlobalCluster', {
      Properties: {
        GlobalClusterIdentifier: GLOBAL_ID,
        Engine: 'aurora-postgresql',
        EngineVersion: '17.7',
        StorageEncrypted: true,
        DeletionProtection: true,
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('the L2 cluster joins the global cluster (escape hatch) after it exists, with KMS, IAM auth, logs and 35-day backups', () => {
    const clusters = prod.findResources('AWS::RDS::DBCluster');
    const [logicalId, cluster] = Object.entries(clusters)[0];
    expect(Object.keys(clusters)).toHaveLength(1);
    expect(logicalId).toBe('AuroraClusterD4EFE71C'); // stateful: a changed logical id would replace the cluster
    expect(cluster.DependsOn).toContain('AuroraGlobalCluster202C6998');
    expect(cluster.DeletionPolicy).toBe('Snapshot');
    expect(cluster.UpdateReplacePolicy).toBe('Snapshot');
    expect(cluster.Properties).toMatchObject({
      GlobalClusterIdentifier: GLOBAL_ID,
      DBClusterIdentifier: 'connecthub-prod-us-east-1',
      Engine: 'aurora-postgresql',
      EngineVersion: '17.7',
      StorageEncrypted: true,
      KmsKeyId: { 'Fn::GetAtt': ['AuroraKey76CE1F13', 'Arn'] },
      EnableIAMDatabaseAuthentication: true,
      BackupRetentionPeriod: 35,
      DeletionProtection: true,
      EnableCloudwatchLogsExports: ['postgresql'],
      PerformanceInsightsEnabled: true,
      PerformanceInsightsKmsKeyId: { 'Fn::GetAtt': ['AuroraKey76CE1F13', 'Arn'] },
      EnableGlobalWriteForwarding: true,
      DatabaseName: 'connecthub',
      MasterUsername: 'connecthub_admin',
    });
    // Managed master passwords are not supported in global databases: a generated secret is referenced instead.
    expect(cluster.Properties.ManageMasterUserPassword).toBeUndefined();
    expect(JSON.stringify(cluster.Properties.MasterUserPassword)).toContain('resolve:secretsmanager');
  });

  test('writer + 2 readers, each with the SNAPSHOT policy (L2 instances would default to Delete), PI with KMS, monitoring', () => {
    const instances = prod.findResources('AWS::RDS::DBInstance');
    expect(Object.keys(instances).sort()).toEqual(['AuroraClusterReader155F95274', 'AuroraClusterReader25D42B509', 'AuroraClusterWriter398336D3']);
    for (const instance of Object.values(instances)) {
      expect(instance.DeletionPolicy).toBe('Snapshot');
      expect(instance.UpdateReplacePolicy).toBe('Snapshot');
      expect(instance.Properties).toMatchObject({
        DBInstanceClass: 'db.r7g.xlarge',
        PubliclyAccessible: false,
        EnablePerformanceInsights: true,
        PerformanceInsightsKMSKeyId: { 'Fn::GetAtt': ['AuroraKey76CE1F13', 'Arn'] },
        MonitoringInterval: 60,
        AutoMinorVersionUpgrade: false,
      });
    }
  });

  test('cluster parameter group: force_ssl, pg_stat_statements, max_connections from the prop, 50 ms slow-statement log', () => {
    prod.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
      Family: 'aurora-postgresql17',
      Parameters: Match.objectLike({
        'rds.force_ssl': '1',
        shared_preload_libraries: 'pg_stat_statements',
        max_connections: '1000',
        log_min_duration_statement: '50',
        // The write-forwarding quota is explicit (Aurora's default is 25 %), so proxies can subtract it.
        'apg_write_forward.max_forwarding_connections_percent': '10',
      }),
    });
    expect(primary.writeForwardingConnectionsPercent).toBe(10);
    expect(primary.readerInstances).toBe(2);
  });

  test('per-region KMS key with rotation, retained with the data', () => {
    prod.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({ EnableKeyRotation: true }),
      DeletionPolicy: 'Retain',
    });
  });

  test('PostgreSQL log group created before the cluster, KMS-encrypted, with retention', () => {
    prod.hasResource('AWS::Logs::LogGroup', {
      Properties: {
        LogGroupName: '/aws/rds/cluster/connecthub-prod-us-east-1/postgresql',
        RetentionInDays: 30,
        KmsKeyId: { 'Fn::GetAtt': ['AuroraKey76CE1F13', 'Arn'] },
      },
      DeletionPolicy: 'Retain',
    });
  });

  test('master secret: generated, encrypted with the region key, replicated, rotated every 30 days', () => {
    prod.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: { 'Fn::GetAtt': ['AuroraKey76CE1F13', 'Arn'] },
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"connecthub_admin"}' }),
      ReplicaRegions: [{ Region: 'eu-west-1' }, { Region: 'ap-southeast-1' }],
    });
    prod.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
  });

  test('reader auto scaling on rds:cluster:ReadReplicaCount with CPU target tracking at 70 %', () => {
    prod.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'rds',
      ScalableDimension: 'rds:cluster:ReadReplicaCount',
      ResourceId: 'cluster:connecthub-prod-us-east-1',
      MinCapacity: 2,
      MaxCapacity: 6,
      RoleARN: 'arn:aws:iam::111111111111:role/aws-service-role/rds.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_RDSCluster',
    });
    prod.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'RDSReaderAverageCPUUtilization' },
        TargetValue: 70,
      }),
    });
  });
});

test('identifiers the lead wires across regions are plain strings known at synth, and roles are told apart', () => {
  for (const value of [primary.globalClusterIdentifier, primary.clusterIdentifier, eu.globalClusterIdentifier, eu.clusterIdentifier]) {
    expect(Token.isUnresolved(value)).toBe(false);
  }
  expect(eu.globalClusterIdentifier).toBe(primary.globalClusterIdentifier);
  expect([primary.role, eu.role]).toEqual(['primary', 'secondary']);
  expect([primary.port, primary.maxConnections]).toEqual([5432, 1000]);
});

describe('secondary region', () => {
  test('joins the global cluster by its plain identifier, forwards writes, carries no credentials or database name', () => {
    const clusters = secondary.findResources('AWS::RDS::DBCluster');
    const cluster = Object.values(clusters)[0];
    expect(cluster.Properties).toMatchObject({
      GlobalClusterIdentifier: GLOBAL_ID,
      DBClusterIdentifier: 'connecthub-prod-eu-west-1',
      EnableGlobalWriteForwarding: true,
      StorageEncrypted: true,
      KmsKeyId: { 'Fn::GetAtt': ['AuroraKey76CE1F13', 'Arn'] },
      EnableIAMDatabaseAuthentication: true,
      BackupRetentionPeriod: 35,
      DeletionProtection: true,
    });
    for (const absent of ['MasterUsername', 'MasterUserPassword', 'ManageMasterUserPassword', 'MasterUserSecret', 'DatabaseName']) {
      expect(cluster.Properties[absent]).toBeUndefined();
    }
    expect(cluster.DeletionPolicy).toBe('Retain');
  });

  test('no global cluster, no secret and no import of the primary stack in the secondary template', () => {
    secondary.resourceCountIs('AWS::RDS::GlobalCluster', 0);
    secondary.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(JSON.stringify(secondary.toJSON())).not.toContain('Fn::ImportValue');
  });

  test('`readers` instances in all (the first is the failover target), every one retained', () => {
    const instances = Object.values(secondary.findResources('AWS::RDS::DBInstance'));
    expect(instances).toHaveLength(2);
    expect(eu.readerInstances).toBe(2);
    secondary.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
      Parameters: Match.objectLike({ 'apg_write_forward.max_forwarding_connections_percent': '10' }),
    });
    for (const instance of instances) expect(instance.DeletionPolicy).toBe('Retain');
  });

  test('its own regional key, parameter group and log group', () => {
    secondary.resourceCountIs('AWS::KMS::Key', 1);
    secondary.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
      Parameters: Match.objectLike({ 'rds.force_ssl': '1', log_min_duration_statement: '50' }),
    });
    secondary.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/rds/cluster/connecthub-prod-eu-west-1/postgresql' });
  });
});

describe('dev-like props', () => {
  test('everything stateful is DESTROY and unprotected, 1-day backups, engine 16, single writer', () => {
    const cluster = Object.values(dev.findResources('AWS::RDS::DBCluster'))[0];
    expect(cluster.DeletionPolicy).toBe('Delete');
    expect(cluster.Properties.DeletionProtection).toBe(false);
    expect(cluster.Properties.BackupRetentionPeriod).toBe(1);
    expect(cluster.Properties.EngineVersion).toMatch(/^16\./);
    const instances = Object.values(dev.findResources('AWS::RDS::DBInstance'));
    expect(instances).toHaveLength(1);
    expect(instances[0].DeletionPolicy).toBe('Delete');
    dev.hasResource('AWS::RDS::GlobalCluster', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ DeletionProtection: false }) });
    dev.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    dev.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ RetentionInDays: 7 }) });
    dev.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });

  test('slow-statement threshold and family follow the props', () => {
    dev.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
      Family: 'aurora-postgresql16',
      Parameters: Match.objectLike({ log_min_duration_statement: '100' }),
    });
  });

  test('no warnings on the dev stack', () => {
    Annotations.fromStack(devStack).hasNoWarning('*', Match.anyValue());
  });
});

test('cdk-nag AwsSolutions and NIST 800-53 r5: no unacknowledged findings (prod-like, secondary, dev-like)', () => {
  expect(findings).toEqual([]);
});

describe('validation', () => {
  const build = (overrides: Partial<AuroraGlobalPrimaryProps>) => {
    const app = newApp();
    const stack = newStack(app, 'Bad');
    return () => new AuroraGlobalPrimary(stack, 'Aurora', primaryProps(testVpc(stack), overrides));
  };

  test('reader auto scaling min > max is reported with the field, the value and what is allowed', () => {
    expect(build({ readerAutoScaling: { minCapacity: 5, maxCapacity: 3 } })).toThrow(
      /readerAutoScaling\.minCapacity = 5: at most readerAutoScaling\.maxCapacity \(3\)/,
    );
  });

  test('every problem is listed in one error', () => {
    let message = '';
    try {
      build({
        globalClusterIdentifier: 'Bad_Name',
        readers: 20,
        backupRetention: Duration.days(40),
        engineVersion: rds.AuroraPostgresEngineVersion.VER_15_10,
        maxConnections: 10,
        writeForwardingConnectionsPercent: 60,
        monitoringInterval: Duration.seconds(7),
        readerAutoScaling: undefined,
      })();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^Invalid props for AuroraGlobalPrimary "Bad\/Aurora":/);
    expect(message).toContain('globalClusterIdentifier = "Bad_Name"');
    expect(message).toContain('readers = 20: an integer from 0 to 15');
    expect(message).toContain('backupRetention = 40 days: a whole number of days from 1 to 35');
    expect(message).toContain('engineVersion = "15.10": an Aurora PostgreSQL 16 or 17.x version');
    expect(message).toContain('maxConnections = 10: an integer from 100 to 262143');
    expect(message).toContain('writeForwardingConnectionsPercent = 60: an integer from 1 to 50');
    expect(message).toContain('monitoringInterval = 7 seconds');
    expect(message).not.toMatch(/\n\s+at /); // no stack trace in the message
  });

  test('readers above the auto scaling maximum are rejected', () => {
    expect(build({ readers: 4, readerAutoScaling: { minCapacity: 1, maxCapacity: 3 } })).toThrow(/readers = 4: at most readerAutoScaling\.maxCapacity \(3\)/);
  });

  test('auto scaling without a reader to measure is rejected', () => {
    expect(build({ readers: 0, readerAutoScaling: { minCapacity: 0, maxCapacity: 3 } })).toThrow(/readers = 0: at least 1 when readerAutoScaling is set/);
  });

  test('a secondary needs at least one instance', () => {
    const app = newApp();
    const stack = newStack(app, 'BadEu', 'eu-west-1');
    expect(() => new AuroraGlobalSecondary(stack, 'Aurora', {
      vpc: testVpc(stack),
      globalClusterIdentifier: GLOBAL_ID,
      instanceType: R7G_XL,
      readers: 0,
      backupRetention: Duration.days(35),
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    })).toThrow(/readers = 0: an integer from 1 to 15/);
  });

  test('an environment-agnostic stack must name the cluster', () => {
    const app = newApp();
    const stack = new Stack(app, 'Agnostic');
    expect(() => new AuroraGlobalPrimary(stack, 'Aurora', primaryProps(new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }))))
      .toThrow(/clusterIdentifier = undefined: required when the stack has no concrete region/);
  });
});
