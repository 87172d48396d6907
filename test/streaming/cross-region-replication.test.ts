import { RemovalPolicy } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CrossRegionReplication, type ReplicationSource } from '../../constructs/streaming/cross-region-replication';
import { KafkaCluster, type KafkaClusterMode } from '../../constructs/streaming/kafka-cluster';
import { nagFindings, networkStack } from './helpers';

const primary: ReplicationSource = {
  clusterArn: 'arn:aws:kafka:us-east-1:111111111111:cluster/connecthub-prod-use1/0f0e0d0c-1111-2222-3333-444455556666-3',
  clusterName: 'connecthub-prod-use1',
  region: 'us-east-1',
  mode: 'provisioned',
  brokerCount: 6,
  instanceType: 'kafka.m7g.large',
  multiVpcIamConnectivity: true,
  subnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2', 'subnet-0ccccccccccccccc3'],
  securityGroupIds: ['sg-0123456789abcdef0'],
};

function secondary(mode: KafkaClusterMode = 'provisioned') {
  const net = networkStack('eu-west-1', 'DataEu');
  const target = mode === 'provisioned'
    ? new KafkaCluster(net.stack, 'Kafka', {
      mode, vpc: net.vpc, subnets: net.privateSubnets, allowedPeers: [net.pods], brokerCount: 3, instanceType: 'kafka.m7g.large',
      ebsVolumeGiB: 500, logRetention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.RETAIN,
    })
    : new KafkaCluster(net.stack, 'Kafka', { mode, vpc: net.vpc, subnets: net.privateSubnets, allowedPeers: [net.pods], logRetention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY });
  return { ...net, target };
}

describe('CrossRegionReplication us-east-1 -> eu-west-1 (provisioned to provisioned)', () => {
  let built: ReturnType<typeof secondary>;
  let template: Template;
  beforeAll(() => {
    built = secondary();
    new CrossRegionReplication(built.stack, 'FromPrimary', { source: primary, target: built.target, logRetention: logs.RetentionDays.ONE_MONTH });
    template = Template.fromStack(built.stack);
  });

  test('replicates the four application topics with identical names, GZIP, from the latest offset', () => {
    template.hasResourceProperties('AWS::MSK::Replicator', {
      ReplicationInfoList: [{
        SourceKafkaClusterArn: primary.clusterArn,
        TargetKafkaClusterArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaCluster'), 'Arn'] },
        TargetCompressionType: 'GZIP',
        TopicReplication: {
          TopicsToReplicate: ['^user-activity$', '^feed-updates$', '^messages$', '^match-notifications$'],
          TopicNameConfiguration: { Type: 'IDENTICAL' },
          StartingPosition: { Type: 'LATEST' },
          CopyTopicConfigurations: true, CopyAccessControlListsForTopics: false, DetectAndCopyNewTopics: true,
        },
        ConsumerGroupReplication: { ConsumerGroupsToReplicate: [], SynchroniseConsumerGroupOffsets: false, DetectAndCopyNewConsumerGroups: false },
      }],
    });
  });

  test('source ENIs in the primary VPC, target ENIs behind a security group admitted to the target brokers', () => {
    const rep = Object.values(template.findResources('AWS::MSK::Replicator'))[0].Properties;
    expect(rep.KafkaClusters[0]).toEqual({ AmazonMskCluster: { MskClusterArn: primary.clusterArn }, VpcConfig: { SubnetIds: primary.subnetIds, SecurityGroupIds: primary.securityGroupIds } });
    expect(rep.KafkaClusters[1].VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^KafkaReplicatorSecurityGroup/), 'GroupId'] }]);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 9098, SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaReplicatorSecurityGroup'), 'GroupId'] },
    });
  });

  test('service execution role: assumed by MSK for this account, scoped to the two clusters', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'kafka.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } } }] },
    });
    const policy = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))[0].Properties.PolicyDocument;
    const bySid = Object.fromEntries(policy.Statement.map((s: any) => [s.Sid, s]));
    expect(bySid.SourceCluster.Resource).toBe(primary.clusterArn);
    expect(JSON.stringify(bySid.SourceTopicsAndGroups.Resource)).toMatch(/topic\/connecthub-prod-use1\//);
    expect(JSON.stringify(bySid.TargetCluster.Resource)).toMatch(/KafkaCluster.*Arn/);
    expect([].concat(bySid.SourceTopicsAndGroups.Action)).not.toContain('kafka-cluster:AlterTopic');
  });

  test('replicator logs to CloudWatch with retention and the target key', () => {
    template.hasResourceProperties('AWS::MSK::Replicator', { LogDelivery: { ReplicatorLogDelivery: { CloudWatchLogs: { Enabled: true, LogGroup: { Ref: Match.stringLikeRegexp('^FromPrimaryLogs') } } } } });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaKey'), 'Arn'] } });
  });

  test('cdk-nag clean', () => {
    expect(nagFindings(built.stack)).toEqual([]);
  });
});

describe('CrossRegionReplication validation and limited combinations', () => {
  test('a provisioned cross-region source without multi-VPC, t3 brokers or fewer than 3 brokers are refused, all named', () => {
    const { stack, target } = secondary();
    expect(() => new CrossRegionReplication(stack, 'R', {
      source: { ...primary, multiVpcIamConnectivity: false, brokerCount: 2, instanceType: 'kafka.t3.small' }, target, logRetention: logs.RetentionDays.ONE_WEEK, topics: ['ok', 'bad topic'],
    })).toThrow(/topics contains "bad topic"[\s\S]*source has 2 brokers; MSK Replicator needs at least 3[\s\S]*source uses kafka\.t3\.small[\s\S]*without multiVpcIamConnectivity/);
  });

  test('a serverless source needs no multi-VPC; a serverless target is supported with a warning about copied configs', () => {
    const { stack, target } = secondary('serverless');
    new CrossRegionReplication(stack, 'R', {
      source: { ...primary, mode: 'serverless', brokerCount: undefined, instanceType: undefined, multiVpcIamConnectivity: undefined },
      target, logRetention: logs.RetentionDays.ONE_WEEK,
    });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('target is MSK Serverless'));
    Template.fromStack(stack).resourceCountIs('AWS::MSK::Replicator', 1);
  });
});
