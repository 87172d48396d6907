import { Stage, StageProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CapacityPlan, deriveCapacity } from './capacity/capacity-model';
import { EDGE_REGION } from './config/regions';
import { EnvironmentConfig } from './config/environment-config';
import { DataProtection, dataProtectionFor } from './policy/data-protection';
import { addStageChecks, tagEnvironment } from './security-gates';
import { CacheStreamingStack } from './stacks/cache-streaming-stack';
import { DatabaseStack } from './stacks/database-stack';
import { EdgeStack } from './stacks/edge-stack';
import { IdentityStack } from './stacks/identity-stack';
import { NetworkStack } from './stacks/network-stack';

export interface ConnectHubStageProps extends StageProps {
  /** The validated environment configuration. */
  readonly config: EnvironmentConfig;
}

/** One environment: its regional stacks and its global edge stack. */
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

    let primaryDatabase: DatabaseStack | undefined;
    for (const regionConfig of config.regions) {
      const region = regionConfig.region;
      const common = {
        env: { account: config.account, region },
        terminationProtection: config.terminationProtection,
      };
      const isPrimary = region === config.regions[0].region;
      const network = new NetworkStack(this, `Network-${region}`, {
        ...common,
        stackName: `connecthub-${config.name}-network-${region}`,
        description: `ConnectHub ${config.name} network in ${region}`,
        envName: config.name,
        regionConfig,
        protection: this.protection,
      });
      const database = new DatabaseStack(this, `Database-${region}`, {
        ...common,
        stackName: `connecthub-${config.name}-database-${region}`,
        description: `ConnectHub ${config.name} Aurora ${isPrimary ? 'primary' : 'secondary'} cluster and RDS Proxy in ${region}`,
        envName: config.name,
        regionConfig,
        isPrimary,
        size: this.capacity.database,
        protection: this.protection,
      });
      database.addDependency(network);
      const cacheStreaming = new CacheStreamingStack(this, `CacheStreaming-${region}`, {
        ...common,
        stackName: `connecthub-${config.name}-cache-streaming-${region}`,
        description: `ConnectHub ${config.name} ElastiCache and MSK in ${region}`,
        envName: config.name,
        regionConfig,
        cache: this.capacity.cache,
        streaming: this.capacity.streaming,
        protection: this.protection,
      });
      cacheStreaming.addDependency(network);
      // A secondary cluster joins the global cluster that the primary region creates.
      if (primaryDatabase) database.addDependency(primaryDatabase);
      else primaryDatabase = database;
    }
    const primaryRegion = config.regions[0].region;
    new IdentityStack(this, `Identity-${primaryRegion}`, {
      env: { account: config.account, region: primaryRegion },
      terminationProtection: config.terminationProtection,
      stackName: `connecthub-${config.name}-identity-${primaryRegion}`,
      description: `ConnectHub ${config.name} user pool (JWT issuer for the backend)`,
      envName: config.name,
      protection: this.protection,
    });
    new EdgeStack(this, 'Edge', {
      env: { account: config.account, region: EDGE_REGION },
      terminationProtection: config.terminationProtection,
      stackName: `connecthub-${config.name}-edge`,
      description: `ConnectHub ${config.name} CloudFront, WAF, image optimization and invalidation (global)`,
      config,
      protection: this.protection,
    });
    tagEnvironment(this, config);
    addStageChecks(this);
  }
}
