import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ConsumerLagPublisher } from '../../constructs/streaming/consumer-lag-publisher';
import { KafkaCluster } from '../../constructs/streaming/kafka-cluster';
import { nagFindings, networkStack } from './helpers';

const topics = ['user-activity', 'feed-updates', 'messages', 'match-notifications'];

describe('ConsumerLagPublisher', () => {
  let net: ReturnType<typeof networkStack>;
  let template: Template;
  let publisher: ConsumerLagPublisher;
  beforeAll(() => {
    net = networkStack();
    const cluster = new KafkaCluster(net.stack, 'Kafka', {
      mode: 'serverless', vpc: net.vpc, subnets: net.privateSubnets, allowedPeers: [net.pods],
      logRetention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY,
    });
    const key = new kms.Key(net.stack, 'DataKey', { enableKeyRotation: true });
    publisher = new ConsumerLagPublisher(net.stack, 'Lag', {
      cluster, clusterSecurityGroup: cluster.securityGroup, vpc: net.vpc, subnets: net.privateSubnets, topics,
      subscriptions: [{ groupId: 'connecthub-worker-feed', topics: ['user-activity'] }, { groupId: 'realtime-fanout', topics: ['messages'] }],
      logRetention: logs.RetentionDays.TWO_WEEKS, encryptionKey: key,
    });
    template = Template.fromStack(net.stack);
  });

  test('runs every minute from EventBridge, no retries of stale samples', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)', State: 'ENABLED',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
  });

  test('Node.js 22 arm64 in the private subnets with the settings it needs', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x', Architectures: ['arm64'], Timeout: 50,
      VpcConfig: Match.objectLike({ SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('VpcprivateSubnet1') }]) }),
      Environment: { Variables: Match.objectLike({
        BOOTSTRAP_BROKERS: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaBootstrapBrokers'), 'BootstrapBrokerStringSaslIam'] },
        TOPICS: topics.join(','), GROUP_PREFIX: 'connecthub-worker-', METRIC_NAMESPACE: 'ConnectHub/Streaming',
        SUBSCRIPTIONS: JSON.stringify([{ groupId: 'connecthub-worker-feed', topics: ['user-activity'] }, { groupId: 'realtime-fanout', topics: ['messages'] }]),
      }) },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
  });

  test('PutMetricData only into ConnectHub/Streaming; Kafka describe-only access', () => {
    const policy = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^LagHandlerFunctionServiceRole') }] } }))[0];
    const statements = policy.Properties.PolicyDocument.Statement as any[];
    expect(statements).toContainEqual({
      Action: 'cloudwatch:PutMetricData', Effect: 'Allow', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'ConnectHub/Streaming' } },
    });
    const kafkaActions = statements.flatMap((s) => [].concat(s.Action)).filter((a: string) => a.startsWith('kafka-cluster:')).sort();
    expect([...new Set(kafkaActions)]).toEqual(['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:DescribeGroup', 'kafka-cluster:DescribeTopic']);
    const groups = JSON.stringify(statements.filter((s) => s.Action === 'kafka-cluster:DescribeGroup' || [].concat(s.Action).includes('kafka-cluster:DescribeGroup' as never)).map((s) => s.Resource));
    expect(groups).toMatch(/connecthub-worker-\*/);
    expect(groups).toMatch(/\/realtime-fanout"/);
  });

  test('HTTPS egress for CloudWatch, 9098 to the brokers, nothing else', () => {
    const sg = Object.values(template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('consumer lag') } }))[0];
    expect(sg.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })]);
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { FromPort: 9098, GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LagHandlerSecurityGroup'), 'GroupId'] } });
  });

  test('the given key is made usable by CloudWatch Logs (the function log group is encrypted with it)', () => {
    const key = Object.entries(template.findResources('AWS::KMS::Key')).find(([id]) => id.startsWith('DataKey'))![1];
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(expect.objectContaining({
      Sid: 'CloudWatchLogsUseOfTheKey', Principal: { Service: 'logs.us-east-1.amazonaws.com' },
    }));
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataKey'), 'Arn'] } });
  });

  test('metric helper names the published metric', () => {
    const m = publisher.metricConsumerLag('connecthub-worker-feed', 'user-activity');
    expect([m.namespace, m.metricName, m.dimensions, m.statistic]).toEqual(['ConnectHub/Streaming', 'ConsumerLag', { ConsumerGroup: 'connecthub-worker-feed', Topic: 'user-activity' }, 'Maximum']);
    expect(publisher.metricConsumerLag('connecthub-worker-feed').dimensions).toEqual({ ConsumerGroup: 'connecthub-worker-feed' });
  });

  test('cdk-nag clean', () => {
    expect(nagFindings(net.stack)).toEqual([]);
  });

  test('validation names every problem', () => {
    const n = networkStack();
    expect(() => new ConsumerLagPublisher(n.stack, 'L', {
      cluster: { clusterArn: 'arn:aws:kafka:us-east-1:111111111111:cluster/c/u', clusterName: 'c', bootstrapBrokers: 'b:9098' },
      clusterSecurityGroup: n.pods, vpc: n.vpc, subnets: n.privateSubnets, topics: ['messages'], consumerGroupPrefix: '',
      subscriptions: [{ groupId: 'bad group', topics: ['nope'] }], schedule: Duration.seconds(30), logRetention: logs.RetentionDays.ONE_WEEK, encryptionKey: new kms.Key(n.stack, 'K'),
    })).toThrow(/group "bad group" lists topic "nope", which is not in topics[\s\S]*groupId "bad group"[\s\S]*schedule is 30 seconds/);
  });
});
