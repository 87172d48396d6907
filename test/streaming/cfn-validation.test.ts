import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { RedisCache } from '../../constructs/cache/redis-cache';
import { ConsumerLagPublisher } from '../../constructs/streaming/consumer-lag-publisher';
import { CrossRegionReplication } from '../../constructs/streaming/cross-region-replication';
import { KafkaCluster } from '../../constructs/streaming/kafka-cluster';
import { CONNECTHUB_TOPICS, connectHubTopicSpecs, KafkaTopics } from '../../constructs/streaming/kafka-topics';
import { networkStack } from './helpers';

/**
 * Every construct of this area in one prod-like app (two regions, provisioned, replicator) and one dev-like app
 * (serverless, smallest cache), synthesized with CDK's built-in CloudFormation validation turned to errors, as the
 * project's cdk.json does.
 */
const partitions = { 'user-activity': 24, 'feed-updates': 12, messages: 48, 'match-notifications': 6 };

function synth(kind: 'prod' | 'dev') {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `ch-streaming-${kind}-`));
  const app = new App({ outdir, context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  const regions = kind === 'prod' ? ['us-east-1', 'eu-west-1'] : ['us-east-1'];
  const clusters: KafkaCluster[] = [];
  for (const region of regions) {
    const net = networkStack(region, `Data-${region}`, app);
    const provisioned = kind === 'prod';
    new RedisCache(net.stack, 'Cache', {
      vpc: net.vpc, subnets: net.privateSubnets, allowedPeers: [net.pods],
      nodeType: provisioned ? 'cache.r7g.large' : 'cache.t4g.micro', shards: provisioned ? 3 : 1, replicasPerShard: provisioned ? 2 : 0,
      snapshotRetentionDays: provisioned ? 15 : 0, removalPolicy: provisioned ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      logRetention: provisioned ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_WEEK,
    });
    const cluster = provisioned
      ? new KafkaCluster(net.stack, 'Kafka', {
        mode: 'provisioned', vpc: net.vpc, subnets: net.privateSubnets, allowedPeers: [net.pods], brokerCount: 6, instanceType: 'kafka.m7g.large',
        ebsVolumeGiB: 1000, multiVpcIamConnectivity: region === 'us-east-1', logRetention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN,
      })
      : new KafkaCluster(net.stack, 'Kafka', { mode: 'serverless', vpc: net.vpc, subnets: net.privateSubnets, allowedPeers: [net.pods], logRetention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY });
    const key = cluster.encryptionKey ?? new kms.Key(net.stack, 'StreamingKey', { enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
    new KafkaTopics(net.stack, 'Topics', {
      cluster, clusterSecurityGroup: cluster.securityGroup, vpc: net.vpc, subnets: net.privateSubnets, encryptionKey: key,
      topics: connectHubTopicSpecs({ partitions, ...(provisioned ? { replicationFactor: 3 } : {}) }), logRetention: logs.RetentionDays.ONE_MONTH,
    });
    new ConsumerLagPublisher(net.stack, 'Lag', {
      cluster, clusterSecurityGroup: cluster.securityGroup, vpc: net.vpc, subnets: net.privateSubnets, encryptionKey: key,
      topics: [...CONNECTHUB_TOPICS], logRetention: logs.RetentionDays.ONE_MONTH,
    });
    clusters.push(cluster);
  }
  if (kind === 'prod') {
    const [primary, secondary] = clusters;
    const sg = primary.allowMskReplicatorAccess({ crossRegionSource: true });
    new CrossRegionReplication(secondary, 'FromPrimary', {
      source: {
        clusterArn: 'arn:aws:kafka:us-east-1:111111111111:cluster/connecthub-prod-use1/0f0e0d0c-1111-2222-3333-444455556666-3',
        clusterName: 'connecthub-prod-use1', region: 'us-east-1', mode: 'provisioned', brokerCount: 6, instanceType: 'kafka.m7g.large',
        multiVpcIamConnectivity: true, subnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2', 'subnet-0ccccccccccccccc3'], securityGroupIds: ['sg-0123456789abcdef0'],
      },
      target: secondary, logRetention: logs.RetentionDays.ONE_MONTH,
    });
    expect(sg).toBeDefined();
  }
  const assembly = app.synth();
  fs.rmSync(outdir, { recursive: true, force: true });
  return assembly;
}

describe('CloudFormation validation (errors) over every construct', () => {
  test('prod-like: two regions, provisioned MSK with replicator, 3x2 cache', () => {
    const assembly = synth('prod');
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['Data-eu-west-1', 'Data-us-east-1']);
  });

  test('dev-like: serverless MSK, one-node cache', () => {
    expect(synth('dev').stacks).toHaveLength(1);
  });
});
