/** Builds one region's platform the way the lead's stack will: VPC, cluster, chart with the cluster's endpoint. */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { App as Cdk8sApp } from 'cdk8s';
import { BackendChart, type BackendChartProps } from '../../cdk8s/backend-chart';
import { ConnectHubCluster, type ConnectHubClusterProps } from '../../constructs/eks/connecthub-cluster';
import { chartProps } from '../cdk8s/fixtures';
import { TOPIC_NAMES } from '../../backend/src/contract';

export const ACCOUNT = '111111111111';
/** The backend's topics (its contract); the worker consumes all of them with one group. */
export const TOPICS = [...TOPIC_NAMES];
export const MSK = `arn:aws:kafka:us-east-1:${ACCOUNT}:cluster/connecthub/11111111-2222-3333-4444-555555555555-1`;
export const topicArn = (t: string) => `arn:aws:kafka:us-east-1:${ACCOUNT}:topic/connecthub/11111111-2222-3333-4444-555555555555-1/${t}`;
export const groupArn = (g: string) => `arn:aws:kafka:us-east-1:${ACCOUNT}:group/connecthub/11111111-2222-3333-4444-555555555555-1/${g}`;

export interface Platform {
  app: App;
  stack: Stack;
  platform: ConnectHubCluster;
  chart: BackendChart;
  redisSecret: secretsmanager.Secret;
  /** The customer-managed key of the Redis secret (as the cache construct makes it). */
  redisKey: kms.Key;
}

export function buildPlatform(
  overrides: Partial<ConnectHubClusterProps> = {},
  context: Record<string, unknown> = {},
  chartOverrides: Partial<BackendChartProps> = {},
): Platform {
  const app = new App({ context });
  const stack = new Stack(app, 'Platform', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    ipAddresses: ec2.IpAddresses.cidr('10.10.0.0/16'),
    availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
    ],
  });
  // Like the cache construct: the secret is encrypted with a customer-managed key, and the roles get the secret by ARN
  // plus the key (as the platform stack passes them), so a missing decrypt grant shows in the tests.
  const redisKey = new kms.Key(stack, 'RedisKey', { enableKeyRotation: true });
  const redisSecret = new secretsmanager.Secret(stack, 'RedisAuth', { encryptionKey: redisKey });
  const redis = { readSecretArns: [redisSecret.secretArn], secretKeys: [redisKey] };
  const platform = new ConnectHubCluster(stack, 'Eks', {
    clusterName: 'connecthub-dev-use1',
    vpc,
    adminRoleArns: [`arn:aws:iam::${ACCOUNT}:role/PlatformAdmin`],
    workloadAccess: {
      api: {
        ...redis,
        rdsConnectArns: [`arn:aws:rds-db:us-east-1:${ACCOUNT}:dbuser:prx-0123456789abcdef0/connecthub_app`],
        kafka: { clusterArn: MSK, writeTopicArns: [topicArn('user-activity')] },
        cloudWatchNamespace: 'ConnectHub/dev',
      },
      realtime: {
        ...redis,
        kafka: { clusterArn: MSK, readTopicArns: [topicArn('messages'), topicArn('match-notifications')], groupArns: [groupArn('connecthub-realtime')] },
      },
      worker: {
        ...redis,
        rdsConnectArns: [`arn:aws:rds-db:us-east-1:${ACCOUNT}:dbuser:prx-0123456789abcdef0/connecthub_app`],
        kafka: {
          clusterArn: MSK,
          readTopicArns: TOPICS.map(topicArn),
          writeTopicArns: TOPICS.map((t) => topicArn(`${t}.dlq`)),
          groupArns: [groupArn('connecthub-worker-activity')],
        },
      },
    },
    kafkaLag: { clusterArn: MSK, topicArns: TOPICS.map(topicArn), groupArns: [groupArn('connecthub-worker-activity')] },
    ...overrides,
  });
  const base = chartProps();
  const chart = new BackendChart(new Cdk8sApp(), 'backend', {
    ...base,
    redis: { ...base.redis, passwordSecret: { secretArn: redisSecret.secretArn, jsonKey: 'password' } },
    autoscaling: { ...base.autoscaling, prometheusQueryEndpoint: platform.prometheusQueryEndpoint },
    ...chartOverrides,
  });
  platform.addBackendChart(chart);
  return { app, stack, platform, chart, redisSecret, redisKey };
}
