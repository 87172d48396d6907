import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { DEFAULT_KAFKA_VERSION, KafkaCluster, type KafkaClusterProps } from '../../constructs/streaming/kafka-cluster';
import { networkStack, nagFindings } from './helpers';

function build(props: Omit<KafkaClusterProps, 'vpc' | 'subnets' | 'allowedPeers'>) {
  const net = networkStack();
  const cluster = new KafkaCluster(net.stack, 'Kafka', { vpc: net.vpc, subnets: net.privateSubnets, allowedPeers: [net.pods], ...props });
  return { ...net, cluster };
}

const prodProps = {
  mode: 'provisioned', brokerCount: 6, instanceType: 'kafka.m7g.large', ebsVolumeGiB: 1000, maxEbsVolumeGiB: 4000,
  logRetention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN,
} as const;

describe('KafkaCluster, provisioned (prod-like)', () => {
  let built: ReturnType<typeof build>;
  let template: Template;
  let role: iam.Role;
  beforeAll(() => {
    built = build(prodProps);
    role = new iam.Role(built.stack, 'WorkerRole', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    built.cluster.grantTopic(role, { topics: ['user-activity', 'user-activity.dlq'], access: 'produce-consume', consumerGroupPrefix: 'connecthub-worker-' });
    // The stack owner's choice for every grant-generated policy (not this construct's to make).
    Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({ id: 'NIST.800.53.R5-IAMNoInlinePolicy', reason: 'grant-generated policy' });
    template = Template.fromStack(built.stack);
  });

  test('brokers over three AZs, instance type, EBS size, current Kafka version', () => {
    expect(built.cluster.availabilityZones).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    template.hasResourceProperties('AWS::MSK::Cluster', {
      KafkaVersion: '3.8.x', NumberOfBrokerNodes: 6,
      BrokerNodeGroupInfo: Match.objectLike({
        InstanceType: 'kafka.m7g.large',
                StorageInfo: { EBSStorageInfo: { VolumeSize: 1000 } },
        ConnectivityInfo: { PublicAccess: { Type: 'DISABLED' } },
      }),
    });
    const cluster = Object.values(template.findResources('AWS::MSK::Cluster'))[0];
    expect(cluster.Properties.BrokerNodeGroupInfo.ClientSubnets).toHaveLength(3);
    expect(DEFAULT_KAFKA_VERSION).toBe('3.8.x');
  });

  test('IAM client auth only, TLS client-broker and in-cluster, KMS at rest', () => {
    template.hasResourceProperties('AWS::MSK::Cluster', {
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } },
      EncryptionInfo: {
        EncryptionAtRest: { DataVolumeKMSKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaKey'), 'Arn'] } },
        EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true },
      },
    });
    const auth = Object.values(template.findResources('AWS::MSK::Cluster'))[0].Properties.ClientAuthentication;
    expect(auth.Tls).toBeUndefined();
    expect(auth.Sasl.Scram).toBeUndefined();
  });

  test('broker logs to CloudWatch with retention, enhanced monitoring per topic per broker', () => {
    template.hasResourceProperties('AWS::MSK::Cluster', {
      LoggingInfo: { BrokerLogs: { CloudWatchLogs: { Enabled: true, LogGroup: { Ref: Match.stringLikeRegexp('^KafkaBrokerLogs') } } } },
      EnhancedMonitoring: 'PER_TOPIC_PER_BROKER',
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: Match.anyValue() });
  });

  test('broker configuration: RF 3, min ISR 2, no auto-create, no unclean election', () => {
    const cfg = Object.values(template.findResources('AWS::MSK::Configuration'))[0].Properties;
    const props = Object.fromEntries(String(cfg.ServerProperties).split('\n').map((l: string) => l.split('=')));
    expect(props).toEqual(expect.objectContaining({
      'default.replication.factor': '3', 'min.insync.replicas': '2', 'auto.create.topics.enable': 'false', 'unclean.leader.election.enable': 'false',
    }));
    expect(cfg.KafkaVersionsList).toEqual(['3.8.x']);
    template.hasResourceProperties('AWS::MSK::Cluster', {
      ConfigurationInfo: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaConfiguration'), 'Arn'] }, Revision: { 'Fn::GetAtt': [Match.anyValue(), 'LatestRevision.Revision'] } },
    });
  });

  test('storage auto scaling by target tracking, scale-out only, up to the maximum', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'kafka', ScalableDimension: 'kafka:broker-storage:VolumeSize', MaxCapacity: 4000,
      ResourceId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaCluster'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'KafkaBrokerStorageUtilization' }, TargetValue: 60, DisableScaleIn: true,
      },
    });
  });

  test('retained: the cluster, its key and its logs survive stack deletion', () => {
    template.hasResource('AWS::MSK::Cluster', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
  });

  test('security group admits only the pods on 9098', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp', FromPort: 9098, ToPort: 9098, SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PodsSg'), 'GroupId'] },
    });
    const sg = Object.values(template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('^MSK') } }))[0];
    expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
  });

  test('bootstrap brokers come from kafka:GetBootstrapBrokers scoped to this cluster', () => {
    const lookup = Object.values(template.findResources('Custom::AWS'))[0];
    const create = JSON.stringify(lookup.Properties.Create);
    expect(create).toMatch(/"service\\":\\"Kafka\\",\\"action\\":\\"getBootstrapBrokers\\"/);
    expect(create).toMatch(/BootstrapBrokerStringSaslIam/);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'kafka:GetBootstrapBrokers', Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaCluster'), 'Arn'] } }] },
    });
    expect(built.stack.resolve(built.cluster.bootstrapBrokers)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^KafkaBootstrapBrokers/), 'BootstrapBrokerStringSaslIam'] });
  });

  test('grantTopic: exact topic ARNs, group prefix, idempotent write on the cluster only', () => {
    const policy = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^WorkerRole') }] } }))[0];
    const statements = built.stack.resolve(policy.Properties.PolicyDocument.Statement) as any[];
    const byAction = (a: string) => statements.filter((s) => [].concat(s.Action).includes(a as never));
    expect(JSON.stringify(byAction('kafka-cluster:Connect')[0].Resource)).toMatch(/KafkaCluster.*Arn/);
    const topicStatement = byAction('kafka-cluster:ReadData')[0];
    expect([].concat(topicStatement.Action).sort()).toEqual(['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData', 'kafka-cluster:WriteData']);
    const topicArns = JSON.stringify(topicStatement.Resource);
    expect(topicArns).toMatch(/:topic\/.*\/user-activity"/);
    expect(topicArns).toMatch(/\/user-activity\.dlq"/);
    expect(topicArns).not.toMatch(/\*/);
    const group = byAction('kafka-cluster:AlterGroup')[0];
    expect(JSON.stringify(group.Resource)).toMatch(/:group\/.*\/connecthub-worker-\*/);
    expect(JSON.stringify(byAction('kafka-cluster:WriteDataIdempotently')[0].Resource)).toMatch(/KafkaCluster.*Arn/);
  });

  test('the logical id of the cluster is pinned', () => {
    expect(Object.keys(template.findResources('AWS::MSK::Cluster'))).toEqual(['KafkaCluster21A1BE89']);
  });

  test('cdk-nag AwsSolutions and NIST 800-53 r5 are clean', () => {
    expect(nagFindings(built.stack)).toEqual([]);
  });
});

describe('KafkaCluster, serverless (dev-like)', () => {
  let built: ReturnType<typeof build>;
  let template: Template;
  beforeAll(() => {
    built = build({ mode: 'serverless', logRetention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY });
    template = Template.fromStack(built.stack);
  });

  test('MSK Serverless with IAM auth in the private subnets', () => {
    template.resourceCountIs('AWS::MSK::Cluster', 0);
    template.hasResource('AWS::MSK::ServerlessCluster', {
      DeletionPolicy: 'Delete',
      Properties: {
        ClusterName: Match.anyValue(),
        ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
        VpcConfigs: [{ SecurityGroups: [Match.anyValue()] }],
      },
    });
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });

  test('bootstrap brokers looked up the same way', () => {
    expect(built.stack.resolve(built.cluster.bootstrapBrokers)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^KafkaBootstrapBrokers/), 'BootstrapBrokerStringSaslIam'] });
  });

  test('the logical id of the serverless cluster is pinned', () => {
    expect(Object.keys(template.findResources('AWS::MSK::ServerlessCluster'))).toEqual(['KafkaServerlessCluster2369A351']);
  });

  test('cdk-nag clean', () => {
    expect(nagFindings(built.stack)).toEqual([]);
  });
});

describe('KafkaCluster validation', () => {
  test('SNAPSHOT is rejected with a clear reason', () => {
    expect(() => build({ ...prodProps, removalPolicy: RemovalPolicy.SNAPSHOT })).toThrow(/removalPolicy is SNAPSHOT; allowed: RETAIN or DESTROY \(MSK clusters have no snapshots/);
  });

  test('broker count must be a multiple of the AZ count, and every problem is listed at once', () => {
    expect(() => build({ ...prodProps, brokerCount: 4, instanceType: 'm7g.large', ebsVolumeGiB: 0, kafkaVersion: '2.8.1' })).toThrow(new RegExp([
      'brokerCount is 4; allowed: a multiple of the 3 availability zones \\(e.g. 6\\)',
      'instanceType is "m7g.large"',
      'ebsVolumeGiB is 0',
      'kafkaVersion is "2.8.1"; allowed: 3.6.0',
    ].join('[\\s\\S]*')));
    expect(() => build({ ...prodProps, brokerCount: 2 })).toThrow(/brokerCount is 2; allowed: an integer of at least 3/);
  });

  test('provisioned-only settings are refused on serverless', () => {
    expect(() => build({ mode: 'serverless', brokerCount: 3, multiVpcIamConnectivity: true, logRetention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY }))
      .toThrow(/brokerCount is set with mode serverless[\s\S]*multiVpcIamConnectivity is true with mode serverless/);
  });

  test('missing sizes for provisioned are named', () => {
    expect(() => build({ mode: 'provisioned', logRetention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY }))
      .toThrow(/brokerCount is missing[\s\S]*instanceType is missing[\s\S]*ebsVolumeGiB is missing/);
  });

  test('grant options are validated', () => {
    const { cluster } = build(prodProps);
    const role = new iam.Role(Stack.of(cluster), 'R', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => cluster.grantTopic(role, { topics: ['user-*'], access: 'consume' })).toThrow(
      /topics contains "user-\*"; allowed: exact topic names[\s\S]*consumerGroupPrefix is missing; required for access 'consume'/,
    );
  });

  test('multi-VPC connectivity warns that it only works on an existing cluster; replicator access needs it', () => {
    const { cluster, stack } = build({ ...prodProps, multiVpcIamConnectivity: true });
    const replicatorSg = cluster.allowMskReplicatorAccess({ crossRegionSource: true });
    expect(cluster.allowMskReplicatorAccess({ crossRegionSource: true })).toBe(replicatorSg);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::MSK::Cluster', {
      BrokerNodeGroupInfo: Match.objectLike({ ConnectivityInfo: { PublicAccess: { Type: 'DISABLED' }, VpcConnectivity: { ClientAuthentication: { Sasl: { Iam: { Enabled: true } } } } } }),
    });
    template.hasResourceProperties('AWS::MSK::ClusterPolicy', {
      Policy: { Statement: [Match.objectLike({ Principal: { Service: 'kafka.amazonaws.com' }, Action: ['kafka:CreateVpcConnection', 'kafka:GetBootstrapBrokers', 'kafka:DescribeClusterV2'] })] },
    });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('only on an existing cluster'));
    const plain = build(prodProps).cluster;
    expect(() => plain.allowMskReplicatorAccess({ crossRegionSource: true })).toThrow(/needs multiVpcIamConnectivity: true/);
    expect(plain.allowMskReplicatorAccess()).toBeDefined();
  });
});
