import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { RedisCache, type RedisCacheProps } from '../../constructs/cache/redis-cache';

interface Built {
  app: App;
  stack: Stack;
  cache: RedisCache;
  template: Template;
}

function build(overrides: Partial<RedisCacheProps> & Pick<RedisCacheProps, 'nodeType' | 'shards' | 'replicasPerShard' | 'snapshotRetentionDays' | 'removalPolicy' | 'logRetention'>): Built {
  const app = new App();
  const stack = new Stack(app, 'Data', { env: { account: '111111111111', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    ],
  });
  const pods = new ec2.SecurityGroup(stack, 'PodsSg', { vpc });
  const cache = new RedisCache(stack, 'Cache', {
    vpc,
    subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    allowedPeers: [pods],
    ...overrides,
  });
  return { app, stack, cache, template: Template.fromStack(stack) };
}

function nagFindings(built: Built): string[] {
  const findings: string[] = [];
  for (const pack of [new AwsSolutionsChecks(), new NIST80053R5Checks()]) {
    for (const v of pack.validateScope(built.cache).violations) {
      findings.push(`${v.ruleName}: ${v.violatingResources.map((r) => r.locations?.join(',') ?? r.resourceLogicalId).join(' ')}`);
    }
  }
  return findings;
}

describe('RedisCache, prod-like (3 shards x 2 replicas, snapshots, RETAIN)', () => {
  let built: Built;
  beforeAll(() => {
    built = build({
      nodeType: 'cache.r7g.large', shards: 3, replicasPerShard: 2, snapshotRetentionDays: 15,
      removalPolicy: RemovalPolicy.SNAPSHOT, logRetention: logs.RetentionDays.ONE_YEAR,
    });
  });

  test('cluster mode with the requested shards, replicas and node type, Multi-AZ and automatic failover', () => {
    built.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'valkey', EngineVersion: '8.0', ClusterMode: 'enabled', CacheNodeType: 'cache.r7g.large',
      NumNodeGroups: 3, ReplicasPerNodeGroup: 2, MultiAZEnabled: true, AutomaticFailoverEnabled: true,
    });
  });

  test('TLS required in transit, KMS at rest, non-default port', () => {
    built.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      TransitEncryptionEnabled: true, TransitEncryptionMode: 'required', AtRestEncryptionEnabled: true,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheKey'), 'Arn'] }, Port: 6380,
    });
    built.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('RBAC: user group with a disabled default user and an app user whose password is a Secrets Manager reference', () => {
    built.template.hasResourceProperties('AWS::ElastiCache::User', { UserName: 'default', AccessString: 'off -@all', NoPasswordRequired: true });
    const users = built.template.findResources('AWS::ElastiCache::User', { Properties: { UserName: 'connecthub-app' } });
    const app = Object.values(users)[0].Properties;
    expect(app.AccessString).toBe('on ~* &* +@all -@dangerous');
    expect(JSON.stringify(app.Passwords)).toMatch(/resolve:secretsmanager:.*:SecretString:password::/);
    built.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { UserGroupIds: [Match.anyValue()], AuthToken: Match.absent() });
    built.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', PasswordLength: 64, SecretStringTemplate: '{"username":"connecthub-app"}' }),
      KmsKeyId: Match.anyValue(),
    });
    expect(JSON.stringify(built.template.toJSON())).not.toMatch(/"password"\s*:\s*"[A-Za-z0-9]{16,}"/);
  });

  test('parameter group for cache-aside: cluster enabled, allkeys-lru', () => {
    built.template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'valkey8',
      Properties: Match.objectLike({ 'cluster-enabled': 'yes', 'maxmemory-policy': 'allkeys-lru' }),
    });
  });

  test('private subnets and a security group that admits only the pods on the cache port', () => {
    const subnets = built.template.findResources('AWS::ElastiCache::SubnetGroup');
    expect(JSON.stringify(subnets)).toMatch(/VpcprivateSubnet1/);
    expect(JSON.stringify(subnets)).not.toMatch(/publicSubnet/);
    built.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 6380, ToPort: 6380, IpProtocol: 'tcp',
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PodsSg'), 'GroupId'] },
    });
    const sgs = built.template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('ElastiCache') } });
    const sg = Object.values(sgs)[0].Properties;
    expect(sg.SecurityGroupIngress).toBeUndefined();
    expect(sg.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]);
  });

  test('snapshots retained with the SNAPSHOT removal policy', () => {
    built.template.hasResource('AWS::ElastiCache::ReplicationGroup', {
      DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot',
      Properties: Match.objectLike({ SnapshotRetentionLimit: 15, SnapshotWindow: '03:00-04:00', PreferredMaintenanceWindow: 'sun:05:00-sun:06:00' }),
    });
    built.template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    built.template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
  });

  test('slow and engine logs to CloudWatch with retention and KMS', () => {
    built.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      LogDeliveryConfigurations: [
        Match.objectLike({ LogType: 'slow-log', DestinationType: 'cloudwatch-logs' }),
        Match.objectLike({ LogType: 'engine-log', DestinationType: 'cloudwatch-logs' }),
      ],
    });
    built.template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: Match.anyValue() }, 2);
  });

  test('exposes endpoint, port, secret and security group', () => {
    expect(built.cache.port).toBe(6380);
    expect(built.stack.resolve(built.cache.configurationEndpoint)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^CacheReplicationGroup/), 'ConfigurationEndPoint.Address'] });
    expect(built.cache.secret).toBeDefined();
    expect(built.cache.securityGroup).toBeDefined();
    const role = new iam.Role(built.stack, 'Reader', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    built.cache.grantReadSecret(role);
  });

  test('the logical id of the replication group is pinned', () => {
    expect(Object.keys(built.template.findResources('AWS::ElastiCache::ReplicationGroup'))).toEqual(['CacheReplicationGroupBFE59FF3']);
  });

  test('cdk-nag AwsSolutions and NIST 800-53 r5 are clean', () => {
    expect(nagFindings(built)).toEqual([]);
  });
});

describe('RedisCache, dev-like minimum (1 shard, no replica, no snapshots, DESTROY)', () => {
  let built: Built;
  beforeAll(() => {
    built = build({
      nodeType: 'cache.t4g.micro', shards: 1, replicasPerShard: 0, snapshotRetentionDays: 0,
      removalPolicy: RemovalPolicy.DESTROY, logRetention: logs.RetentionDays.ONE_WEEK,
    });
  });

  test('one node, cluster mode still on, no Multi-AZ, failover flag kept (cluster mode requires it)', () => {
    built.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      CacheNodeType: 'cache.t4g.micro', ClusterMode: 'enabled', NumNodeGroups: 1, ReplicasPerNodeGroup: 0,
      MultiAZEnabled: false, AutomaticFailoverEnabled: true, SnapshotRetentionLimit: 0, SnapshotWindow: Match.absent(),
      TransitEncryptionEnabled: true, AtRestEncryptionEnabled: true,
    });
  });

  test('everything is destroyable', () => {
    built.template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Delete' });
    built.template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    built.template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    built.template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 7 }, 2);
  });

  test('cdk-nag clean, with the dev-only acknowledgments in place', () => {
    expect(nagFindings(built)).toEqual([]);
  });
});

describe('RedisCache validation', () => {
  test('one error lists every bad prop with value and what is allowed', () => {
    expect(() => build({
      nodeType: 'r7g.large', shards: 0, replicasPerShard: 6, snapshotRetentionDays: 40, port: 6379,
      removalPolicy: RemovalPolicy.DESTROY, logRetention: logs.RetentionDays.ONE_WEEK, engineVersion: '6.2',
      evictionPolicy: 'noeviction' as never, snapshotWindow: '3am',
    })).toThrow(new RegExp([
      'invalid props:',
      `engineVersion is "6.2"; allowed for valkey: 7.2, 8.0, 8.1`,
      `nodeType is "r7g.large"`,
      'shards is 0; allowed: an integer from 1 to 500',
      'replicasPerShard is 6; allowed: an integer from 0 to 5',
      'port is 6379; allowed: .* other than the default 6379',
      'snapshotRetentionDays is 40',
      'snapshotWindow is "3am"',
      'evictionPolicy is "noeviction"',
    ].join('[\\s\\S]*')));
  });

  test('no peers is refused', () => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { availabilityZones: ['us-east-1a', 'us-east-1b'] });
    expect(() => new RedisCache(stack, 'C', {
      vpc, subnets: {}, allowedPeers: [], nodeType: 'cache.t4g.micro', shards: 1, replicasPerShard: 0,
      snapshotRetentionDays: 0, removalPolicy: RemovalPolicy.DESTROY, logRetention: logs.RetentionDays.ONE_WEEK,
    })).toThrow(/allowedPeers is empty/);
  });
});
