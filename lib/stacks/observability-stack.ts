import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { connectHubMonitoringRedis } from './observability-sources';
import { ConnectHubMonitoring } from '../../constructs/observability/connecthub-monitoring';
import { SloReporter } from '../../constructs/observability/slo-reporter-function';
import { WebVitalsMonitor } from '../../constructs/observability/web-vitals-monitor';
import { ACTIVITY_CONSUMER_GROUP } from '../../backend/src/contract';
import { CapacityPlan } from '../capacity/capacity-model';
import { EnvironmentConfig, RegionConfig } from '../config/environment-config';
import { EDGE_REGION } from '../config/regions';
import { DataProtection } from '../policy/data-protection';
import { PLATFORM_KEYS } from '../wiring/platform-keys';
import { publishValue, readValue } from '../wiring/shared-parameters';
import { CACHE_STREAMING_KEYS } from './cache-streaming-stack';
import { DATABASE_KEYS } from './database-stack';
import { EDGE_KEYS } from './edge-stack';

/** Keys this stack publishes where the RUM app monitor lives (us-east-1): what the web client's RUM snippet needs. */
export const OBSERVABILITY_KEYS = {
  rumAppMonitorId: 'observability/rum-app-monitor-id',
  rumIdentityPoolId: 'observability/rum-identity-pool-id',
  rumGuestRoleArn: 'observability/rum-guest-role-arn',
} as const;

/** The region CloudFront sends `/v1/*` and `/ws*` to: the only one whose API always has traffic. */
export function activeApiRegion(config: EnvironmentConfig): string {
  return config.edge.activeApiRegion ?? config.regions[0].region;
}

export interface ObservabilityStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly regionConfig: RegionConfig;
  readonly capacity: CapacityPlan;
  readonly protection: DataProtection;
  /** True where the edge stack lives (us-east-1): CloudFront metrics and the web-vitals monitor are watched here. */
  readonly watchesEdge: boolean;
}

/**
 * Per region: dashboards and alarms on the plan's targets (API latency and errors, burn-rate availability, the api and
 * realtime network load balancers, database, cache, Kafka, EKS saturation), the SLO reporter, and, in us-east-1, CloudFront and
 * the web-vitals monitor (whose ids it publishes for the web client). Alarms go to a KMS-encrypted SNS topic whose
 * e-mail subscriptions come from the environment config (`-c <env>:alarmEmails=...`).
 */
export class ObservabilityStack extends Stack {
  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { config, regionConfig, capacity, protection } = props;
    const env = config.name;
    const region = regionConfig.region;
    const read = (key: string) => readValue(this, env, region, key);
    const isPrimary = region === config.regions[0].region;

    const reporter = new SloReporter(this, 'SloReporter', {
      environmentName: env,
      logRetention: protection.logRetention,
      removalPolicy: protection.removalPolicy,
    });
    const monitoring = new ConnectHubMonitoring(this, 'Monitoring', {
      environmentName: env,
      subscriptions: { emails: [...config.alarmEmails] },
      alertKeyRemovalPolicy: protection.removalPolicy,
      // Passive regions get no API traffic from CloudFront: a missing-data-is-breaching alarm there would never clear.
      alarmOnMissingTraffic: config.kind === 'prod' && region === activeApiRegion(config),
      // The NLBs the platform stack of this region created (the Kubernetes controller owns their target groups).
      loadBalancers: [
        { kind: 'network', name: 'api', loadBalancerArn: read(PLATFORM_KEYS.apiLoadBalancerArn) },
        { kind: 'network', name: 'realtime', loadBalancerArn: read(PLATFORM_KEYS.realtimeLoadBalancerArn) },
      ],
      cloudFront: props.watchesEdge ? { distributionId: readValue(this, env, EDGE_REGION, EDGE_KEYS.distributionId) } : undefined,
      aurora: {
        clusterIdentifier: `connecthub-${env}-${region}`,
        maxConnections: capacity.database.maxConnections,
        globalSecondary: !isPrimary,
        proxyName: read(DATABASE_KEYS.proxyName),
      },
      redis: connectHubMonitoringRedis(read(CACHE_STREAMING_KEYS.redisReplicationGroupId), capacity.cache),
      // Broker metrics exist only for provisioned MSK (dev and pr-N run MSK Serverless).
      kafka: capacity.streaming.mode === 'provisioned'
        ? { clusterName: read(CACHE_STREAMING_KEYS.kafkaClusterName), brokerCount: capacity.streaming.brokers, consumerGroups: [ACTIVITY_CONSUMER_GROUP] }
        : undefined,
      eks: {
        clusterName: `connecthub-${env}-${region}`,
        namespace: 'connecthub',
        workloads: (['api', 'realtime', 'worker'] as const).map((service) => ({
          service,
          maxReplicas: config.replicaOverrides?.[service]?.max ?? capacity.workloads[service].maxReplicas,
        })),
      },
      functions: { SloReporter: reporter.function },
    });
    if (props.watchesEdge) {
      const webVitals = new WebVitalsMonitor(this, 'WebVitals', {
        environmentName: env,
        webDomain: readValue(this, env, EDGE_REGION, EDGE_KEYS.distributionDomainName),
        aliases: config.edge.domainNames,
        alertTopic: monitoring.alertTopic,
      });
      // The web client's RUM snippet needs these three values and the region (docs/observability.md).
      const rum: [string, string, string, string][] = [
        ['RumAppMonitorId', OBSERVABILITY_KEYS.rumAppMonitorId, webVitals.appMonitor.attrId, 'CloudWatch RUM app monitor id'],
        ['RumIdentityPoolId', OBSERVABILITY_KEYS.rumIdentityPoolId, webVitals.identityPool.ref, 'Cognito identity pool the RUM web client gets guest credentials from'],
        ['RumGuestRoleArn', OBSERVABILITY_KEYS.rumGuestRoleArn, webVitals.guestRole.roleArn, 'Role of unauthenticated RUM visitors (rum:PutRumEvents on the app monitor only)'],
      ];
      for (const [id, key, value, description] of rum) {
        publishValue(this, env, region, key, value);
        new CfnOutput(this, id, { value, description });
      }
    }
  }
}
