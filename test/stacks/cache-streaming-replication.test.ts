import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { cdkJsonContext, createConnectHubApp } from '../../lib/connecthub-app';
import { ConnectHubStage } from '../../lib/connecthub-stage';
import { CACHE_STREAMING_KEYS, CacheStreamingStack } from '../../lib/stacks/cache-streaming-stack';

/**
 * Cross-region Kafka replication wired through the stage: prod with `-c prod:kafkaReplication=on` (three regions)
 * and staging with the default `off` (two regions), built in-process once for the whole file.
 */
const APP_TOPICS = ['user-activity', 'feed-updates', 'messages', 'match-notifications'];

interface Built {
  stage: ConnectHubStage;
  stacks: CacheStreamingStack[];
  templates: Template[];
}

let prod: Built;
let staging: Built;

function built(stages: ConnectHubStage[], name: string): Built {
  const stage = stages.find((s) => s.config.name === name)!;
  const stacks = stage.config.regions.map((r) => stage.node.findChild(`CacheStreaming-${r.region}`) as CacheStreamingStack);
  return { stage, stacks, templates: stacks.map((s) => Template.fromStack(s)) };
}

beforeAll(() => {
  const { app } = createConnectHubApp({
    context: { ...cdkJsonContext(), env: 'prod,staging', 'prod:kafkaReplication': 'on' },
  });
  const stages = app.node.children.filter((c): c is ConnectHubStage => c instanceof ConnectHubStage);
  prod = built(stages, 'prod');
  staging = built(stages, 'staging');
}, 600_000);

/** Resources of a type, by logical id. */
const resources = (t: Template, type: string) => t.findResources(type);
const count = (t: Template, type: string) => Object.keys(resources(t, type)).length;

/** Logical ids of the cross-region parameter reads in a template, by the SSM parameter name they read. */
function crossRegionReads(t: Template): Record<string, { logicalId: string; region: string }> {
  const out: Record<string, { logicalId: string; region: string }> = {};
  for (const [logicalId, r] of Object.entries(resources(t, 'Custom::CrossRegionParameter'))) {
    const call = JSON.parse(r.Properties.Update);
    out[call.parameters.Name] = { logicalId, region: call.region };
  }
  return out;
}

/** The logical id that a value refers to through Fn::GetAtt (possibly inside Fn::Select / Fn::Split). */
function getAttTargets(value: unknown): string[] {
  const json = JSON.stringify(value);
  return [...new Set([...json.matchAll(/"Fn::GetAtt":\["([^"]+)","Parameter\.Value"\]/g)].map((m) => m[1]))];
}

describe('kafkaReplication on (prod): primary region', () => {
  test('the primary cluster has multi-VPC IAM connectivity and the MSK Replicator cluster policy', () => {
    const [primary] = prod.templates;
    primary.hasResourceProperties('AWS::MSK::Cluster', {
      BrokerNodeGroupInfo: Match.objectLike({
        ConnectivityInfo: {
          PublicAccess: { Type: 'DISABLED' },
          VpcConnectivity: { ClientAuthentication: { Sasl: { Iam: { Enabled: true } } } },
        },
      }),
    });
    primary.resourceCountIs('AWS::MSK::ClusterPolicy', 1);
    const [policy] = Object.values(resources(primary, 'AWS::MSK::ClusterPolicy'));
    const [clusterId] = Object.keys(resources(primary, 'AWS::MSK::Cluster'));
    expect(policy.Properties.ClusterArn).toEqual({ 'Fn::GetAtt': [clusterId, 'Arn'] });
    expect(policy.Properties.Policy.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'kafka.amazonaws.com' },
        Action: ['kafka:CreateVpcConnection', 'kafka:GetBootstrapBrokers', 'kafka:DescribeClusterV2'],
        Resource: { 'Fn::GetAtt': [clusterId, 'Arn'] },
        Condition: { StringEquals: { 'aws:SourceAccount': expect.anything() } },
      }),
    ]);
  });

  test('publishes the subnets and the replicator security group for the secondaries; runs no replicator itself', () => {
    const [primary] = prod.templates;
    const param = (key: string) => Object.values(resources(primary, 'AWS::SSM::Parameter'))
      .find((p) => p.Properties.Name === `/connecthub/prod/us-east-1/${key}`);
    const subnets = param(CACHE_STREAMING_KEYS.kafkaSubnetIds);
    const sg = param(CACHE_STREAMING_KEYS.kafkaReplicatorSecurityGroupId);
    expect(param(CACHE_STREAMING_KEYS.kafkaClusterArn)).toBeDefined();
    const [cluster] = Object.values(resources(primary, 'AWS::MSK::Cluster'));
    // The same three subnets the brokers use, comma-joined.
    expect(subnets!.Properties.Value).toEqual({ 'Fn::Join': [',', cluster.Properties.BrokerNodeGroupInfo.ClientSubnets] });
    const [sgId] = Object.entries(resources(primary, 'AWS::EC2::SecurityGroup'))
      .filter(([, r]) => String(r.Properties.GroupDescription).startsWith('MSK Replicator ENIs')).map(([id]) => id);
    expect(sg!.Properties.Value).toEqual({ 'Fn::GetAtt': [sgId, 'GroupId'] });
    // That security group only reaches the brokers on 9098.
    primary.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] }, IpProtocol: 'tcp', FromPort: 9098, ToPort: 9098,
    });
    primary.resourceCountIs('AWS::MSK::Replicator', 0);
    primary.resourceCountIs('Custom::CrossRegionParameter', 0);
  });
});

describe('kafkaReplication on (prod): secondary regions', () => {
  test.each([1, 2])('secondary %i replicates the four application topics from the primary cluster', (i) => {
    const t = prod.templates[i];
    const region = prod.stage.config.regions[i].region;
    t.resourceCountIs('AWS::MSK::Replicator', 1);
    const [replicator] = Object.values(resources(t, 'AWS::MSK::Replicator'));
    const [info] = replicator.Properties.ReplicationInfoList;
    expect(info.TopicReplication.TopicsToReplicate).toEqual(APP_TOPICS.map((topic) => `^${topic}$`));
    expect(info.TopicReplication).toMatchObject({ TopicNameConfiguration: { Type: 'IDENTICAL' }, StartingPosition: { Type: 'LATEST' } });
    expect(info.ConsumerGroupReplication).toMatchObject({ SynchroniseConsumerGroupOffsets: false });
    // Target: this region's own cluster.
    const [targetId] = Object.keys(resources(t, 'AWS::MSK::Cluster'));
    expect(info.TargetKafkaClusterArn).toEqual({ 'Fn::GetAtt': [targetId, 'Arn'] });
    expect(replicator.Properties.ReplicatorName).toMatch(new RegExp(`^us-east-1-to-${region}-`));
    // A secondary's own cluster is not a source: no multi-VPC connectivity, no cluster policy.
    const [cluster] = Object.values(resources(t, 'AWS::MSK::Cluster'));
    expect(cluster.Properties.BrokerNodeGroupInfo.ConnectivityInfo.VpcConnectivity).toBeUndefined();
    t.resourceCountIs('AWS::MSK::ClusterPolicy', 0);
  });

  test.each([1, 2])('secondary %i reads the primary cluster ARN, subnets and security group through cross-region parameter reads', (i) => {
    const t = prod.templates[i];
    const reads = crossRegionReads(t);
    const name = (key: string) => `/connecthub/prod/us-east-1/${key}`;
    expect(Object.keys(reads).sort()).toEqual([
      name(CACHE_STREAMING_KEYS.kafkaClusterArn),
      name(CACHE_STREAMING_KEYS.kafkaReplicatorSecurityGroupId),
      name(CACHE_STREAMING_KEYS.kafkaSubnetIds),
    ].sort());
    for (const read of Object.values(reads)) expect(read.region).toBe('us-east-1');

    const [replicator] = Object.values(resources(t, 'AWS::MSK::Replicator'));
    const [source, target] = replicator.Properties.KafkaClusters;
    const arnRead = reads[name(CACHE_STREAMING_KEYS.kafkaClusterArn)].logicalId;
    expect(source.AmazonMskCluster.MskClusterArn).toEqual({ 'Fn::GetAtt': [arnRead, 'Parameter.Value'] });
    expect(replicator.Properties.ReplicationInfoList[0].SourceKafkaClusterArn).toEqual({ 'Fn::GetAtt': [arnRead, 'Parameter.Value'] });
    expect(getAttTargets(source.VpcConfig.SubnetIds)).toEqual([reads[name(CACHE_STREAMING_KEYS.kafkaSubnetIds)].logicalId]);
    expect(JSON.stringify(source.VpcConfig.SubnetIds)).toContain('"Fn::Split"');
    expect(getAttTargets(source.VpcConfig.SecurityGroupIds)).toEqual([reads[name(CACHE_STREAMING_KEYS.kafkaReplicatorSecurityGroupId)].logicalId]);
    // The target side stays in this region's VPC.
    expect(getAttTargets(target.VpcConfig)).toEqual([]);

    // Each read's IAM allows ssm:GetParameter on exactly its parameter, in the primary region.
    const policies = resources(t, 'AWS::IAM::Policy');
    for (const [parameter, read] of Object.entries(reads)) {
      const policy = Object.entries(policies).find(([id]) => id.startsWith(read.logicalId.replace(/Read[0-9A-F]{8}$/, 'ReadCustomResourcePolicy')))![1];
      const statements = policy.Properties.PolicyDocument.Statement;
      expect(statements).toHaveLength(1);
      expect(statements[0].Action).toBe('ssm:GetParameter');
      const resource = JSON.stringify(statements[0].Resource);
      expect(resource).toContain(':ssm:us-east-1:');
      expect(resource).toContain(`:parameter${parameter}"`);
    }
    // No CloudFormation exports or CDK cross-region references.
    expect(JSON.stringify(t.toJSON())).not.toContain('Fn::ImportValue');
    expect(count(t, 'Custom::CrossRegionExportReader')).toBe(0);
  });

  test('the reads run in the private subnets with egress (another region\'s SSM endpoint needs a route out)', () => {
    // The stack's shared AwsCustomResource function: the Kafka bootstrap lookup places it, the reads reuse it.
    const t = prod.templates[1];
    const stack = prod.stacks[1];
    const fn = stack.node.findChild('AWS679f53fac002430cb0da5b7982bd2287').node.defaultChild as unknown as { logicalId: string };
    const props = resources(t, 'AWS::Lambda::Function')[stack.resolve(fn.logicalId)].Properties;
    // Subnet ids come from the network stack's SSM parameters (template parameters whose default is the name).
    const parameters = t.toJSON().Parameters as Record<string, { Default: string }>;
    const names = [...JSON.stringify(props.VpcConfig.SubnetIds).matchAll(/"Ref":"([^"]+)"/g)].map((m) => parameters[m[1]].Default);
    expect([...new Set(names)]).toEqual(['/connecthub/prod/eu-west-1/network/private-subnet-ids']);
    // It keeps logging to the Kafka cluster's KMS-encrypted lookup log group.
    const logGroupId = stack.resolve((stack.node.findChild('Kafka').node.findChild('BootstrapBrokersLookupLogs').node.defaultChild as unknown as { logicalId: string }).logicalId);
    expect(props.LoggingConfig).toEqual({ LogGroup: { Ref: logGroupId } });
    expect(resources(t, 'AWS::Logs::LogGroup')[logGroupId].Properties.KmsKeyId).toBeDefined();
  });

  test('each secondary cache-streaming stack depends on the primary one', () => {
    const [primary, ...secondaries] = prod.stacks;
    for (const s of secondaries) expect(s.dependencies).toContain(primary);
  });

  test('cdk-nag AwsSolutions and NIST 800-53 r5: no unacknowledged findings in the cache-streaming stacks', () => {
    const findings: string[] = [];
    for (const stack of prod.stacks) {
      for (const pack of [new AwsSolutionsChecks(), new NIST80053R5Checks()]) {
        for (const v of pack.validateScope(stack).violations) {
          findings.push(`${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId).join(' ')}`);
        }
      }
    }
    expect(findings).toEqual([]);
  });
});

describe('kafkaReplication off (staging, the default)', () => {
  test('no multi-VPC connectivity, cluster policy, replicator, replication parameters or cross-region reads', () => {
    for (const t of staging.templates) {
      const [cluster] = Object.values(resources(t, 'AWS::MSK::Cluster'));
      expect(cluster.Properties.BrokerNodeGroupInfo.ConnectivityInfo).toEqual({ PublicAccess: { Type: 'DISABLED' } });
      for (const type of ['AWS::MSK::ClusterPolicy', 'AWS::MSK::Replicator', 'Custom::CrossRegionParameter']) expect(count(t, type)).toBe(0);
      const names = Object.values(resources(t, 'AWS::SSM::Parameter')).map((p) => String(p.Properties.Name));
      expect(names.filter((n) => n.endsWith(CACHE_STREAMING_KEYS.kafkaSubnetIds) || n.endsWith(CACHE_STREAMING_KEYS.kafkaReplicatorSecurityGroupId))).toEqual([]);
      expect(JSON.stringify(t.toJSON())).not.toContain('MSK Replicator');
    }
  });

  test('the secondary cache-streaming stack does not depend on the primary one', () => {
    const [primary, secondary] = staging.stacks;
    expect(secondary.dependencies).not.toContain(primary);
    expect(secondary.replication).toBeUndefined();
    expect(Stack.of(secondary).region).toBe('eu-west-1');
  });
});
