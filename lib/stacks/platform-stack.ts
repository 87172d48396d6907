import * as path from 'path';
import { Duration, Fn, IgnoreMode, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { ACTIVITY_CONSUMER_GROUP, DOCKER_CONTEXT_EXCLUDE, DOCKERFILE_PATH, TOPIC_NAMES, dlqTopic } from '../../backend/src/contract';
import { BackendChart } from '../../cdk8s/backend-chart';
import { WorkloadSizing } from '../../cdk8s/backend-chart-props';
import { ConnectHubCluster } from '../../constructs/eks/connecthub-cluster';
import { CapacityPlan } from '../capacity/capacity-model';
import { PER_UNIT } from '../capacity/per-unit-figures';
import { EnvironmentConfig, RegionConfig, WORKLOADS, WorkloadName } from '../config/environment-config';
import { homeRegionCode } from '../config/regions';
import { DataProtection } from '../policy/data-protection';
import { acknowledgeAwsCustomResourceFunction } from '../../constructs/nag/aws-custom-resource-function';
import { CrossRegionParameter } from '../wiring/cross-region-parameter';
import { PLATFORM_KEYS } from '../wiring/platform-keys';
import { importVpc, publishValue, readValue } from '../wiring/shared-parameters';
import { CACHE_PORT, CACHE_STREAMING_KEYS } from './cache-streaming-stack';
import { APP_DATABASE_USER, DATABASE_KEYS, DATABASE_NAME } from './database-stack';
import { IDENTITY_KEYS } from './identity-stack';

const REPO_ROOT = path.join(__dirname, '..', '..');
/** The workloads that open database connections (the backend's loadConfig requires a database for api and worker only). */
export const DATABASE_WORKLOADS: readonly WorkloadName[] = ['api', 'worker'];
/** The id AwsCustomResource gives its stack-level singleton function (fixed in aws-cdk-lib). */

export interface PlatformStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly regionConfig: RegionConfig;
  readonly capacity: CapacityPlan;
  readonly protection: DataProtection;
}

/**
 * Per-region, stateless: the EKS Auto Mode cluster with its add-ons and Pod Identity roles, the backend image (built
 * from `backend/` at deploy) and the cdk8s chart of the api, realtime and worker workloads, configured from the
 * database, cache/streaming and identity stacks' shared parameters. Publishes the internal load balancers' hostnames
 * and ARNs for the edge stack's CloudFront VPC origins.
 */
export class PlatformStack extends Stack {
  public readonly cluster: ConnectHubCluster;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config, regionConfig, capacity, protection } = props;
    const env = config.name;
    const region = regionConfig.region;
    const primaryRegion = config.regions[0].region;
    // The cluster, its pods and the lookup functions run in the private tier (egress through NAT).
    const vpc = importVpc(this, env, regionConfig, ['private']);
    const read = (key: string) => readValue(this, env, region, key);
    const readPrimary = (key: string) => region === primaryRegion
      ? read(key)
      : new CrossRegionParameter(this, `Primary-${key.replace(/[^A-Za-z0-9]/g, '-')}`, { envName: env, sourceRegion: primaryRegion, key, vpc }).value;

    const proxyArn = read(DATABASE_KEYS.proxyResourceId);
    // arn:aws:rds:<region>:<account>:db-proxy:prx-... -> the resource id that rds-db:connect ARNs use.
    const proxyResourceId = Fn.select(6, Fn.split(':', proxyArn));
    const kafkaClusterArn = read(CACHE_STREAMING_KEYS.kafkaClusterArn);
    const kafkaArns = kafkaResourceArns(this, kafkaClusterArn);
    // Only the primary region's workers relay the outbox into the topics; everywhere a worker writes its dead letters.
    const writtenTopics = region === primaryRegion ? TOPIC_NAMES.flatMap((t) => [t, dlqTopic(t)]) : TOPIC_NAMES.map(dlqTopic);
    // The Redis secret (the one secret the pods mount, through the CSI driver as the pod) is encrypted with the
    // cache's customer-managed key: every role that mounts it needs decrypt on that key.
    const redisSecretArn = read(CACHE_STREAMING_KEYS.redisSecretArn);
    const redisSecretKey = kms.Key.fromKeyArn(this, 'CacheSecretKey', read(CACHE_STREAMING_KEYS.redisSecretKeyArn));

    // Without configured admins, a role in this account becomes the cluster admin: whoever the account's IAM
    // policies allow to assume it (the deploying role is never made admin in prod).
    const adminRoleArns = config.clusterAccess.adminRoleArns.length > 0
      ? config.clusterAccess.adminRoleArns
      : [new iam.Role(this, 'ClusterAdminRole', {
        assumedBy: new iam.AccountRootPrincipal(),
        description: `Cluster admin of connecthub-${env}-${region}: assumable by principals this account's IAM policies allow`,
        maxSessionDuration: Duration.hours(1),
      }).roleArn];

    this.cluster = new ConnectHubCluster(this, 'Cluster', {
      clusterName: `connecthub-${env}-${region}`,
      vpc,
      publicAccessCidrs: config.clusterAccess.publicEndpointCidrs,
      adminRoleArns,
      bootstrapClusterCreatorAdminPermissions: config.clusterAccess.deployerIsClusterAdmin,
      logRetention: protection.logRetention,
      removalPolicy: protection.removalPolicy,
      // What each role's code does (backend/src/service.ts, config.ts): every pod mounts the Redis secret; api and
      // worker use the database (realtime has none); only the worker talks to Kafka. Metrics leave over OTLP to the
      // collector, so no role calls cloudwatch:PutMetricData.
      workloadAccess: Object.fromEntries(WORKLOADS.map((w) => [w, {
        readSecretArns: [redisSecretArn],
        secretKeys: [redisSecretKey],
        rdsConnectArns: DATABASE_WORKLOADS.includes(w)
          ? [`arn:${this.partition}:rds-db:${region}:${this.account}:dbuser:${proxyResourceId}/${APP_DATABASE_USER}`]
          : undefined,
        // The worker consumes the four topics as its one group, writes them in the primary region (outbox relay) and
        // writes their dead-letter topics (failed messages) everywhere; nothing reads the dead-letter topics. In the
        // other regions the topics belong to MSK Replicator once replication is on.
        kafka: w === 'worker'
          ? {
            clusterArn: kafkaClusterArn,
            readTopicArns: TOPIC_NAMES.map(kafkaArns.topic),
            writeTopicArns: writtenTopics.map(kafkaArns.topic),
            groupArns: [kafkaArns.group(ACTIVITY_CONSUMER_GROUP)],
          }
          : undefined,
      }])),
      // KEDA sums the lag of the worker's group over the topics it consumes: the four, not the dead-letter topics.
      kafkaLag: {
        clusterArn: kafkaClusterArn,
        topicArns: TOPIC_NAMES.map(kafkaArns.topic),
        groupArns: [kafkaArns.group(ACTIVITY_CONSUMER_GROUP)],
      },
    });
    Validations.of(this.cluster.cluster).acknowledge({
      id: 'Annotation::@aws-cdk/aws-eks:clusterMustManuallyTagSubnet',
      reason: 'The network stack tags the private subnets kubernetes.io/role/internal-elb=1 (and the public ones kubernetes.io/role/elb=1) when it creates them; this stack imports them and cannot tag them.',
    });

    // The kubectl provider's two functions get log groups from CDK's managed-log-group flag, without a key option.
    for (const path of [['KubectlProvider', 'Handler'], ['KubectlProvider', 'Provider', 'framework-onEvent']]) {
      let node: Construct | undefined = this.cluster.cluster;
      for (const id of [...path, 'LogGroup', 'Resource']) node = node?.node.tryFindChild(id) as Construct | undefined;
      if (node) {
        Validations.of(node).acknowledge({
          id: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
          reason: 'Log group CDK creates for the kubectl provider\'s deploy-time functions; it holds kubectl output about our own manifests, no customer data.',
        });
      }
    }

    // Auto Mode nodes (and so the pods) carry the cluster security group: admit it at the proxy, Redis and MSK.
    const admit = (idName: string, key: string, port: ec2.Port, what: string) =>
      new ec2.CfnSecurityGroupIngress(this, idName, {
        groupId: read(key),
        sourceSecurityGroupId: this.cluster.cluster.clusterSecurityGroupId,
        ipProtocol: 'tcp',
        fromPort: port.toRuleJson().fromPort,
        toPort: port.toRuleJson().toPort,
        description: `Backend pods on EKS to ${what}`,
      });
    admit('PodsToDatabaseProxy', DATABASE_KEYS.proxySecurityGroupId, ec2.Port.tcp(5432), 'RDS Proxy');
    admit('PodsToCache', CACHE_STREAMING_KEYS.redisSecurityGroupId, ec2.Port.tcp(CACHE_PORT), 'ElastiCache (TLS)');
    admit('PodsToKafka', CACHE_STREAMING_KEYS.kafkaSecurityGroupId, ec2.Port.tcp(9098), 'MSK (IAM, TLS)');

    const image = new ecrAssets.DockerImageAsset(this, 'BackendImage', {
      directory: REPO_ROOT,
      file: DOCKERFILE_PATH,
      exclude: [...DOCKER_CONTEXT_EXCLUDE],
      ignoreMode: IgnoreMode.DOCKER,
      platform: ecrAssets.Platform.LINUX_AMD64,
    });

    const sizing = (w: WorkloadName): WorkloadSizing => {
      const size = capacity.workloads[w];
      const override = config.replicaOverrides?.[w];
      return {
        requests: { cpuMillicores: size.cpuRequestMillis, memoryMebibytes: size.memoryMiB },
        limits: { cpuMillicores: size.cpuLimitMillis, memoryMebibytes: size.memoryMiB },
        minReplicas: override?.min ?? size.minReplicas,
        maxReplicas: override?.max ?? size.maxReplicas,
      };
    };
    const home = homeRegionCode(region);
    const chart = new BackendChart(new cdk8s.App(), 'Backend', {
      environment: env,
      region,
      homeRegion: home === 'other' ? 'us' : home,
      image: { repository: image.repository.repositoryUri, tag: image.imageTag },
      vpcCidr: regionConfig.vpcCidr,
      database: {
        writerHost: read(DATABASE_KEYS.proxyEndpoint),
        readerHost: read(DATABASE_KEYS.proxyReaderEndpoint),
        name: DATABASE_NAME,
        user: APP_DATABASE_USER,
        auth: 'iam',
        ssl: 'require',
      },
      redis: {
        endpoint: read(CACHE_STREAMING_KEYS.redisEndpoint),
        port: CACHE_PORT,
        cluster: true,
        tls: true,
        username: read(CACHE_STREAMING_KEYS.redisUserName),
        passwordSecret: { secretArn: redisSecretArn, jsonKey: 'password' },
      },
      kafka: { brokers: read(CACHE_STREAMING_KEYS.kafkaBootstrapBrokers), auth: 'iam', tls: true },
      jwt: {
        issuer: readPrimary(IDENTITY_KEYS.issuer),
        audience: readPrimary(IDENTITY_KEYS.audience),
        jwksUrl: readPrimary(IDENTITY_KEYS.jwksUrl),
      },
      workloads: { api: sizing('api'), realtime: sizing('realtime'), worker: sizing('worker') },
      autoscaling: { prometheusQueryEndpoint: this.cluster.prometheusQueryEndpoint, awsRegion: region },
      // The capacity model's sockets per pod; the chart scales realtime at 70 % of it.
      maxWsConnectionsPerPod: PER_UNIT.realtimeConnectionsPerPod.value,
      rateLimitPerMinute: 600,
      // One outbox table (global database), relayed once: to the primary region's Kafka, which the others replicate.
      outboxRelay: region === primaryRegion,
    });
    const deployment = this.cluster.addBackendChart(chart);

    publishValue(this, env, region, PLATFORM_KEYS.apiLoadBalancerHostname, deployment.apiLoadBalancerHostname);
    publishValue(this, env, region, PLATFORM_KEYS.realtimeLoadBalancerHostname, deployment.realtimeLoadBalancerHostname);
    publishValue(this, env, region, PLATFORM_KEYS.apiLoadBalancerArn, deployment.apiLoadBalancerArn);
    publishValue(this, env, region, PLATFORM_KEYS.realtimeLoadBalancerArn, deployment.realtimeLoadBalancerArn);
    // The NLB lookups run in the VPC through CDK's AwsCustomResource function (shared with the cross-region reads);
    // its log group follows the environment's removal policy like every other (lib/policy/log-group-removal.ts).
    acknowledgeAwsCustomResourceFunction(this, { inVpc: true });
    publishValue(this, env, region, PLATFORM_KEYS.clusterName, this.cluster.cluster.clusterName);
  }
}

/** ARNs of MSK topics and groups of a cluster given its ARN (arn:...:cluster/<name>/<uuid>). */
function kafkaResourceArns(stack: Stack, clusterArn: string) {
  const parts = Fn.split('/', clusterArn);
  const name = Fn.select(1, parts);
  const uuid = Fn.select(2, parts);
  const arn = (kind: string, resource: string) =>
    `arn:${stack.partition}:kafka:${stack.region}:${stack.account}:${kind}/${name}/${uuid}/${resource}`;
  return { topic: (topic: string) => arn('topic', topic), group: (group: string) => arn('group', group) };
}
