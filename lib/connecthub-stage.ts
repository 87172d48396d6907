import { Aspects, Stage, StageProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CapacityPlan, deriveCapacity } from './capacity/capacity-model';
import { EnvironmentConfig } from './config/environment-config';
import { EDGE_REGION } from './config/regions';
import { DataProtection, dataProtectionFor } from './policy/data-protection';
import { LogGroupRemovalPolicy } from './policy/log-group-removal';
import { addStageChecks, tagEnvironment } from './security-gates';
import { CacheStreamingStack } from './stacks/cache-streaming-stack';
import { DatabaseStack } from './stacks/database-stack';
import { EdgeStack } from './stacks/edge-stack';
import { IdentityStack } from './stacks/identity-stack';
import { NetworkStack } from './stacks/network-stack';
import { ObservabilityStack } from './stacks/observability-stack';
import { PlatformStack } from './stacks/platform-stack';

export interface ConnectHubStageProps extends StageProps {
  /** The validated environment configuration. */
  readonly config: EnvironmentConfig;
}

/**
 * One environment: per region network, database, cache/streaming and platform stacks; the identity stack in the
 * primary region; the global edge stack in us-east-1. Dependencies give the deploy order.
 */
export class ConnectHubStage extends Stage {
  public readonly config: EnvironmentConfig;
  public readonly capacity: CapacityPlan;
  public readonly protection: DataProtection;

  constructor(scope: Construct, props: ConnectHubStageProps) {
    const { config } = props;
    super(scope, config.name, props);
    this.config = config;
    this.capacity = deriveCapacity(config.tier, config.regions.length);
    this.protection = dataProtectionFor(config);
    const name = config.name;
    const stackEnv = (region: string) => ({
      env: { account: config.account, region },
      terminationProtection: config.terminationProtection,
    });

    const primaryRegion = config.regions[0].region;
    const identity = new IdentityStack(this, `Identity-${primaryRegion}`, {
      ...stackEnv(primaryRegion),
      stackName: `connecthub-${name}-identity-${primaryRegion}`,
      description: `ConnectHub ${name} user pool (JWT issuer for the backend)`,
      envName: name,
      protection: this.protection,
    });

    let primaryDatabase: DatabaseStack | undefined;
    let primaryCacheStreaming: CacheStreamingStack | undefined;
    const kafkaReplication = config.kafkaReplication ?? 'off';
    const platforms: PlatformStack[] = [];
    for (const regionConfig of config.regions) {
      const region = regionConfig.region;
      const isPrimary = region === primaryRegion;
      const network = new NetworkStack(this, `Network-${region}`, {
        ...stackEnv(region),
        stackName: `connecthub-${name}-network-${region}`,
        description: `ConnectHub ${name} network in ${region}`,
        envName: name,
        regionConfig,
        protection: this.protection,
      });
      const database = new DatabaseStack(this, `Database-${region}`, {
        ...stackEnv(region),
        stackName: `connecthub-${name}-database-${region}`,
        description: `ConnectHub ${name} Aurora ${isPrimary ? 'primary' : 'secondary'} cluster and RDS Proxy in ${region}`,
        envName: name,
        regionConfig,
        isPrimary,
        size: this.capacity.database,
        protection: this.protection,
      });
      database.addStackDependency(network);
      // A secondary cluster joins the global cluster that the primary region creates.
      if (primaryDatabase) database.addStackDependency(primaryDatabase);
      else primaryDatabase = database;

      const cacheStreaming = new CacheStreamingStack(this, `CacheStreaming-${region}`, {
        ...stackEnv(region),
        stackName: `connecthub-${name}-cache-streaming-${region}`,
        description: `ConnectHub ${name} ElastiCache and MSK in ${region}`,
        envName: name,
        regionConfig,
        cache: this.capacity.cache,
        streaming: this.capacity.streaming,
        protection: this.protection,
        replication: {
          mode: kafkaReplication,
          primaryRegion,
          primaryZoneCount: config.regions[0].availabilityZones.length,
        },
      });
      cacheStreaming.addStackDependency(network);
      // With replication, a secondary reads the primary cluster's values (published there) for its MSK Replicator.
      if (primaryCacheStreaming && kafkaReplication !== 'off') cacheStreaming.addStackDependency(primaryCacheStreaming);
      primaryCacheStreaming ??= cacheStreaming;

      const platform = new PlatformStack(this, `Platform-${region}`, {
        ...stackEnv(region),
        stackName: `connecthub-${name}-platform-${region}`,
        description: `ConnectHub ${name} EKS cluster and backend workloads in ${region}`,
        config,
        regionConfig,
        capacity: this.capacity,
        protection: this.protection,
      });
      // Workloads start after the schema is migrated and the stores they connect to exist.
      platform.addStackDependency(database);
      platform.addStackDependency(cacheStreaming);
      platform.addStackDependency(identity);
      platforms.push(platform);
    }

    const edge = new EdgeStack(this, 'Edge', {
      ...stackEnv(EDGE_REGION),
      stackName: `connecthub-${name}-edge`,
      description: `ConnectHub ${name} CloudFront, WAF, image optimization and invalidation (global)`,
      config,
      protection: this.protection,
    });
    // The API origins are the load balancers the platform stacks create.
    for (const platform of platforms) edge.addStackDependency(platform);

    for (const [i, regionConfig] of config.regions.entries()) {
      const region = regionConfig.region;
      const observability = new ObservabilityStack(this, `Observability-${region}`, {
        ...stackEnv(region),
        stackName: `connecthub-${name}-observability-${region}`,
        description: `ConnectHub ${name} dashboards, alarms and SLO reporting in ${region}`,
        config,
        regionConfig,
        capacity: this.capacity,
        protection: this.protection,
        watchesEdge: region === EDGE_REGION,
      });
      observability.addStackDependency(platforms[i]);
      if (region === EDGE_REGION) observability.addStackDependency(edge);
    }

    tagEnvironment(this, config);
    Aspects.of(this).add(new LogGroupRemovalPolicy(this.protection.removalPolicy));
    addStageChecks(this);
  }
}
