import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AuroraGlobalPrimary, AuroraGlobalSecondary } from '../../../constructs/data/aurora-global-database';
import { RegionalDatabaseProxy } from '../../../constructs/data/database-proxy';
import { NagFinding, nagFindings, newApp, newStack, testVpc } from './test-support';

const R6G_L = ec2.InstanceType.of(ec2.InstanceClass.R6G, ec2.InstanceSize.LARGE);

let primaryTemplate: Template;
let secondaryTemplate: Template;
let primaryProxy: RegionalDatabaseProxy;
let secondaryProxy: RegionalDatabaseProxy;
let devTemplate: Template;
let devProxy: RegionalDatabaseProxy;
let findings: NagFinding[];
let grantError = '';

beforeAll(() => {
  const app = newApp();
  const stack = newStack(app, 'Primary');
  const vpc = testVpc(stack);
  const primary = new AuroraGlobalPrimary(stack, 'Aurora', {
    vpc,
    globalClusterIdentifier: 'connecthub-staging',
    instanceType: R6G_L,
    readers: 1,
    backupRetention: Duration.days(35),
    removalPolicy: RemovalPolicy.SNAPSHOT,
    deletionProtection: true,
    maxConnections: 1000,
  });
  const backend = new ec2.SecurityGroup(stack, 'BackendPods', { vpc, allowAllOutbound: false });
  primaryProxy = new RegionalDatabaseProxy(stack, 'Proxy', {
    vpc,
    database: primary,
    dbUsers: ['connecthub_app'],
    allowedPeers: [backend],
  });
  const apiRole = new iam.Role(stack, 'ApiRole', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
  primaryProxy.grantConnect(apiRole, 'connecthub_app');
  Validations.of(apiRole).acknowledge({ id: 'NIST.800.53.R5-IAMNoInlinePolicy', reason: 'Test stand-in for the backend\'s Pod Identity role (grantee of grantConnect).' });
  try {
    primaryProxy.grantConnect(apiRole, 'postgres');
  } catch (e) {
    grantError = (e as Error).message;
  }

  const euStack = newStack(app, 'Secondary', 'eu-west-1');
  const euVpc = testVpc(euStack);
  const eu = new AuroraGlobalSecondary(euStack, 'Aurora', {
    vpc: euVpc,
    globalClusterIdentifier: 'connecthub-staging',
    instanceType: R6G_L,
    readers: 2,
    backupRetention: Duration.days(35),
    removalPolicy: RemovalPolicy.SNAPSHOT,
    deletionProtection: true,
    maxConnections: 2000,
    writeForwardingConnectionsPercent: 20,
  });
  secondaryProxy = new RegionalDatabaseProxy(euStack, 'Proxy', { vpc: euVpc, database: eu, dbUsers: ['connecthub_app'], maxConnectionsPercent: 95 });

  // dev-like: the writer alone (no readers) and no global write forwarding.
  const devStack = newStack(app, 'Dev');
  const devVpc = testVpc(devStack);
  const dev = new AuroraGlobalPrimary(devStack, 'Aurora', {
    vpc: devVpc,
    globalClusterIdentifier: 'connecthub-dev',
    instanceType: R6G_L,
    readers: 0,
    backupRetention: Duration.days(1),
    removalPolicy: RemovalPolicy.DESTROY,
    deletionProtection: false,
    enableGlobalWriteForwarding: false,
  });
  devProxy = new RegionalDatabaseProxy(devStack, 'Proxy', { vpc: devVpc, database: dev, dbUsers: ['connecthub_app'] });

  primaryTemplate = Template.fromStack(stack);
  secondaryTemplate = Template.fromStack(euStack);
  devTemplate = Template.fromStack(devStack);
  findings = nagFindings(stack, euStack, devStack);
});

test('TLS required and end-to-end IAM authentication (no database secret held by the proxy)', () => {
  for (const template of [primaryTemplate, secondaryTemplate]) {
    template.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      DefaultAuthScheme: 'IAM_AUTH',
      Auth: Match.absent(),
      DebugLogging: false,
    });
  }
});

test('pool size: the given share of max_connections minus the write-forwarding quota set in the cluster parameters', () => {
  expect(primaryProxy.maxConnectionsPercent).toBe(80); // default share 90 - default quota 10
  expect(secondaryProxy.maxConnectionsPercent).toBe(75); // 95 - 20
  expect(devProxy.maxConnectionsPercent).toBe(90); // no write forwarding, no quota
  primaryTemplate.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
    ConnectionPoolConfigurationInfo: Match.objectLike({ MaxConnectionsPercent: 80, MaxIdleConnectionsPercent: 40 }),
    DBClusterIdentifiers: [{ Ref: 'AuroraClusterD4EFE71C' }],
  });
  primaryTemplate.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
    Parameters: Match.objectLike({ 'apg_write_forward.max_forwarding_connections_percent': '10' }),
  });
  secondaryTemplate.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
    ConnectionPoolConfigurationInfo: Match.objectLike({ MaxConnectionsPercent: 75 }),
  });
  secondaryTemplate.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
    Parameters: Match.objectLike({ 'apg_write_forward.max_forwarding_connections_percent': '20' }),
  });
  devTemplate.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
    ConnectionPoolConfigurationInfo: Match.objectLike({ MaxConnectionsPercent: 90 }),
  });
  devTemplate.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
    Parameters: Match.objectLike({ 'apg_write_forward.max_forwarding_connections_percent': Match.absent() }),
  });
});

test('a cluster without readers gets no read-only endpoint; reads go to the default (read/write) endpoint', () => {
  devTemplate.resourceCountIs('AWS::RDS::DBProxyEndpoint', 0);
  expect(devProxy.readOnlyEndpoint).toBeUndefined();
  const stack = devProxy.proxy.stack;
  expect(stack.resolve(devProxy.readerEndpoint)).toEqual(stack.resolve(devProxy.proxy.endpoint));
  expect(stack.resolve(devProxy.endpoint)).toEqual(stack.resolve(devProxy.proxy.endpoint));
});

test('runs in the isolated subnets', () => {
  const proxy = Object.values(primaryTemplate.findResources('AWS::RDS::DBProxy'))[0];
  const subnets = JSON.stringify(proxy.Properties.VpcSubnetIds);
  expect(subnets).toContain('Vpcdata');
  expect(subnets).not.toContain('Vpcapp');
  expect(subnets).not.toContain('Vpcpublic');
});

test('a read-only endpoint in both regions; the secondary backend is pointed at it (writes forwarded by Aurora)', () => {
  for (const template of [primaryTemplate, secondaryTemplate]) {
    template.hasResourceProperties('AWS::RDS::DBProxyEndpoint', { TargetRole: 'READ_ONLY' });
  }
  const stack = secondaryProxy.proxy.stack;
  expect(stack.resolve(secondaryProxy.endpoint)).toEqual(stack.resolve(secondaryProxy.readOnlyEndpoint!.endpoint));
  expect(stack.resolve(secondaryProxy.readerEndpoint)).toEqual(stack.resolve(secondaryProxy.readOnlyEndpoint!.endpoint));
  const primaryStack = primaryProxy.proxy.stack;
  expect(primaryStack.resolve(primaryProxy.endpoint)).toEqual(primaryStack.resolve(primaryProxy.proxy.endpoint));
});

test('security group admits only the named peer on 5432 and reaches only the cluster', () => {
  primaryTemplate.hasResourceProperties('AWS::EC2::SecurityGroup', {
    GroupDescription: Match.stringLikeRegexp('^RDS Proxy for connecthub-staging-us-east-1'),
    SecurityGroupEgress: Match.absent(),
    SecurityGroupIngress: Match.absent(),
  });
  const ingress = Object.values(primaryTemplate.findResources('AWS::EC2::SecurityGroupIngress'))
    .filter((r) => JSON.stringify(r.Properties.GroupId).includes('ProxySecurityGroup'));
  expect(ingress).toHaveLength(1);
  expect(ingress[0].Properties).toMatchObject({
    IpProtocol: 'tcp',
    FromPort: 5432,
    ToPort: 5432,
  });
  expect(ingress[0].Properties.SourceSecurityGroupId['Fn::GetAtt'][0]).toMatch(/^BackendPods/);
  const egress = Object.values(primaryTemplate.findResources('AWS::EC2::SecurityGroupEgress'))
    .filter((r) => JSON.stringify(r.Properties.GroupId).includes('ProxySecurityGroup'));
  expect(egress).toHaveLength(1);
  expect(JSON.stringify(egress[0].Properties.DestinationSecurityGroupId)).toContain('AuroraClusterSecurityGroup');
  expect(JSON.stringify(primaryTemplate.toJSON())).not.toContain('0.0.0.0/0"],"FromPort":5432');
});

test('the proxy role may log in to the cluster as exactly the configured users', () => {
  primaryTemplate.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('ProxyRole') }],
    PolicyDocument: {
      Statement: [Match.objectLike({
        Action: 'rds-db:connect',
        Resource: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':dbuser:'), { 'Fn::GetAtt': ['AuroraClusterD4EFE71C', 'DBClusterResourceId'] }, '/connecthub_app'])] }),
      })],
    },
  });
});

test('grantConnect gives rds-db:connect on the proxy for one of its users, and refuses others', () => {
  primaryTemplate.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('ApiRole') }],
    PolicyDocument: {
      Statement: [Match.objectLike({
        Action: 'rds-db:connect',
        Resource: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':dbuser:'), '/connecthub_app'])] }),
      })],
    },
  });
  expect(grantError).toContain('grantConnect dbUser = "postgres": one of the proxy\'s dbUsers (connecthub_app)');
});

test('cdk-nag AwsSolutions and NIST 800-53 r5: no unacknowledged findings', () => {
  expect(findings).toEqual([]);
});

test('validation lists every problem', () => {
  const app = newApp();
  const stack = newStack(app, 'Bad');
  const vpc = testVpc(stack);
  const primary = new AuroraGlobalPrimary(stack, 'Aurora', {
    vpc,
    globalClusterIdentifier: 'connecthub-bad',
    instanceType: R6G_L,
    readers: 0,
    backupRetention: Duration.days(1),
    removalPolicy: RemovalPolicy.DESTROY,
    deletionProtection: false,
    maxConnections: 100,
  });
  expect(() => new RegionalDatabaseProxy(stack, 'Proxy', {
    vpc,
    database: primary,
    dbUsers: ['App-User'],
    maxConnectionsPercent: 101,
    idleClientTimeout: Duration.hours(9),
  })).toThrow(/maxConnectionsPercent = 101: an integer from 1 to 100[\s\S]*dbUsers = "App-User"[\s\S]*idleClientTimeout = 9 hours/);
  // The share must leave the pool something once the forwarding quota (10 % by default) is taken out.
  expect(() => new RegionalDatabaseProxy(stack, 'Proxy2', { vpc, database: primary, dbUsers: ['connecthub_app'], maxConnectionsPercent: 10 }))
    .toThrow(/maxConnectionsPercent = 10: more than the cluster's write-forwarding quota \(10 % of max_connections\)/);
});
