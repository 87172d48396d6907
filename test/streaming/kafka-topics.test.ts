import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { KafkaCluster } from '../../constructs/streaming/kafka-cluster';
import { connectHubTopicSpecs, KafkaTopics } from '../../constructs/streaming/kafka-topics';
import { nagFindings, networkStack } from './helpers';

const partitions = { 'user-activity': 24, 'feed-updates': 12, messages: 48, 'match-notifications': 6 };

describe('KafkaTopics', () => {
  let net: ReturnType<typeof networkStack>;
  let template: Template;
  beforeAll(() => {
    net = networkStack();
    const cluster = new KafkaCluster(net.stack, 'Kafka', {
      mode: 'provisioned', vpc: net.vpc, subnets: net.privateSubnets, allowedPeers: [net.pods], brokerCount: 3,
      instanceType: 'kafka.m7g.large', ebsVolumeGiB: 500, logRetention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.RETAIN,
    });
    new KafkaTopics(net.stack, 'Topics', {
      cluster, clusterSecurityGroup: cluster.securityGroup, vpc: net.vpc, subnets: net.privateSubnets,
      topics: connectHubTopicSpecs({ partitions, replicationFactor: 3 }), logRetention: logs.RetentionDays.ONE_MONTH, encryptionKey: cluster.encryptionKey!,
    });
    template = Template.fromStack(net.stack);
  });

  test('the eight contract topics with partitions from props, RF 3, retention and delete cleanup', () => {
    const resource = Object.values(template.findResources('Custom::KafkaTopics'))[0].Properties;
    expect(resource.Topics.map((t: any) => [t.name, t.partitions])).toEqual([
      ['user-activity', 24], ['user-activity.dlq', 3], ['feed-updates', 12], ['feed-updates.dlq', 3],
      ['messages', 48], ['messages.dlq', 3], ['match-notifications', 6], ['match-notifications.dlq', 3],
    ]);
    expect(resource.Topics[0]).toEqual({ name: 'user-activity', partitions: 24, replicationFactor: 3, config: { 'retention.ms': '604800000', 'cleanup.policy': 'delete' } });
    expect(resource.Topics[1].config['retention.ms']).toBe(String(14 * 24 * 3600 * 1000));
    expect(resource.BootstrapBrokers).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^KafkaBootstrapBrokers/), 'BootstrapBrokerStringSaslIam'] });
  });

  test('the Lambda: Node.js 22, arm64, in the private subnets, egress only to MSK on 9098, log retention', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler', Timeout: 300, ReservedConcurrentExecutions: 1,
      VpcConfig: { SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('VpcprivateSubnet1') }]), SecurityGroupIds: Match.anyValue() },
      Description: Match.stringLikeRegexp('topics reconciliation'),
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { IpProtocol: 'tcp', FromPort: 9098, ToPort: 9098, DestinationSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaSecurityGroup'), 'GroupId'] } });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { IpProtocol: 'tcp', FromPort: 9098, SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TopicsHandlerSecurityGroup'), 'GroupId'] } });
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30, KmsKeyId: Match.anyValue() }, 4);
    const handlerSg = Object.values(template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('^ConnectHub Kafka topics reconciliation') } }))[0];
    expect(handlerSg.Properties.SecurityGroupEgress).toBeUndefined();
  });

  test('the provider framework runs in the VPC with HTTPS egress only (Lambda API, CloudFormation response URL)', () => {
    const sg = Object.values(template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('provider: HTTPS') } }))[0];
    expect(sg.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' })]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'framework.onEvent',
      VpcConfig: { SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^TopicsProviderSecurityGroup'), 'GroupId'] }], SubnetIds: Match.anyValue() },
    });
  });

  test('IAM: create/alter/describe on exactly the eight topic ARNs, connect on the cluster, nothing else on kafka', () => {
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^TopicsHandlerFunctionServiceRole') }] } });
    const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const kafka = statements.filter((s: any) => JSON.stringify(s.Action).includes('kafka-cluster'));
    expect(kafka).toHaveLength(2);
    const topicStatement = kafka.find((s: any) => [].concat(s.Action).includes('kafka-cluster:CreateTopic' as never))!;
    expect([].concat(topicStatement.Action).sort()).toEqual([
      'kafka-cluster:AlterTopic', 'kafka-cluster:AlterTopicDynamicConfiguration', 'kafka-cluster:CreateTopic',
      'kafka-cluster:DescribeTopic', 'kafka-cluster:DescribeTopicDynamicConfiguration',
    ]);
    expect(topicStatement.Resource).toHaveLength(8);
    expect(JSON.stringify(topicStatement.Resource)).not.toMatch(/\*/);
    expect(JSON.stringify(kafka.find((s: any) => [].concat(s.Action).includes('kafka-cluster:Connect' as never))!.Resource)).toMatch(/KafkaCluster.*Arn/);
  });

  test('the shared cluster key gets the CloudWatch Logs statement once', () => {
    const key = Object.entries(template.findResources('AWS::KMS::Key')).find(([id]) => id.startsWith('KafkaKey'))![1];
    expect(key.Properties.KeyPolicy.Statement.filter((st: any) => st.Sid === 'CloudWatchLogsUseOfTheKey')).toHaveLength(1);
  });

  test('synthesis is deterministic: same template twice', () => {
    const again = networkStack();
    const c = new KafkaCluster(again.stack, 'Kafka', {
      mode: 'provisioned', vpc: again.vpc, subnets: again.privateSubnets, allowedPeers: [again.pods], brokerCount: 3,
      instanceType: 'kafka.m7g.large', ebsVolumeGiB: 500, logRetention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.RETAIN,
    });
    new KafkaTopics(again.stack, 'Topics', {
      cluster: c, clusterSecurityGroup: c.securityGroup, vpc: again.vpc, subnets: again.privateSubnets,
      topics: connectHubTopicSpecs({ partitions, replicationFactor: 3 }), logRetention: logs.RetentionDays.ONE_MONTH, encryptionKey: c.encryptionKey!,
    });
    expect(Template.fromStack(again.stack).toJSON()).toEqual(template.toJSON());
  });

  test('cdk-nag clean', () => {
    expect(nagFindings(net.stack)).toEqual([]);
  });

  test('invalid topic lists are refused with every problem named', () => {
    const n = networkStack();
    expect(() => new KafkaTopics(n.stack, 'T', {
      cluster: { clusterArn: 'arn:aws:kafka:us-east-1:111111111111:cluster/c/u', clusterName: 'c', bootstrapBrokers: 'b:9098' },
      clusterSecurityGroup: n.pods, vpc: n.vpc, subnets: n.privateSubnets, logRetention: logs.RetentionDays.ONE_WEEK, encryptionKey: new kms.Key(n.stack, 'K'),
      topics: connectHubTopicSpecs({ partitions: { ...partitions, messages: 0 }, dlqPartitions: -1 }),
    })).toThrow(/topics\[1\]\.partitions is -1[\s\S]*topics\[4\]\.partitions is 0/);
  });
});
