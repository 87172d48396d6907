/**
 * The typed shape of one ConnectHub environment. Values live in `environments.ts`; `bin/` may override a few from
 * CDK context. Everything here is plain data known at synth time: no lookups, no tokens.
 */

/** The capacity tiers: the plan's three scaling milestones plus the smallest deployment that still works. */
export const CAPACITY_TIERS = ['dev', 'launch', 'six-month', 'one-year'] as const;
export type CapacityTierName = (typeof CAPACITY_TIERS)[number];

/** What kind of environment this is; decides data retention, protection and sizing defaults. */
export type EnvironmentKind = 'dev' | 'staging' | 'prod' | 'preview';

/** The workloads the backend image runs as. */
export const WORKLOADS = ['api', 'realtime', 'worker'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/**
 * Cross-region Kafka replication (MSK Replicator from the primary region's cluster into each secondary region's).
 * MSK accepts multi-VPC IAM connectivity, which a cross-region replicator source needs, only on an existing cluster,
 * so it is switched on in two deploys:
 * - `off`: no replication; nothing is published for it;
 * - `prepare`: the primary cluster gets multi-VPC IAM connectivity and the replicator's cluster policy and security
 *   group, and publishes what the secondaries need; no replicator yet;
 * - `on`: as `prepare`, plus one replicator per secondary region, pulling the application topics from the primary.
 */
export const KAFKA_REPLICATION_MODES = ['off', 'prepare', 'on'] as const;
export type KafkaReplicationMode = (typeof KAFKA_REPLICATION_MODES)[number];

/** A min/max pair, used for overrides of derived replica bounds. */
export interface ReplicaBounds {
  /** Lower bound (at least 1). */
  readonly min: number;
  /** Upper bound (at least `min`). */
  readonly max: number;
}

/** One region of an environment. The first region of an environment is its primary. */
export interface RegionConfig {
  /** AWS region name, e.g. `us-east-1`. */
  readonly region: string;
  /** The VPC's IPv4 CIDR (a /16 to /20); must not overlap another region of the same environment. */
  readonly vpcCidr: string;
  /** Availability zones listed explicitly so synth never looks them up. */
  readonly availabilityZones: readonly string[];
  /** NAT gateways: one per AZ in prod, one in dev. */
  readonly natGateways: number;
}

/** Edge (CloudFront + WAF) settings. */
export interface EdgeConfig {
  /** CloudFront price class. */
  readonly priceClass: 'PriceClass_100' | 'PriceClass_200' | 'PriceClass_All';
  /** Geo restriction: `none`, or an allow/deny list of ISO 3166-1 alpha-2 country codes. */
  readonly geoRestriction: { readonly type: 'none' } | { readonly type: 'allow' | 'deny'; readonly countries: readonly string[] };
  /** Requests per 5-minute window per client IP before the WAF rate rule blocks. */
  readonly wafRateLimitPer5Minutes: number;
  /**
   * Region whose load balancers serve `/v1/*` and `/ws*` through CloudFront (VPC origins are chosen by id, so one
   * region is active at a time; switch it to move traffic).
   * @default the primary region
   */
  readonly activeApiRegion?: string;
  /**
   * Host names the distribution serves (CloudFront aliases), e.g. `app.example.com`; set together with
   * `certificateArn`. DNS records pointing them at the distribution are made outside this project.
   * @default none: only the `*.cloudfront.net` name, with CloudFront's default certificate (minimum TLSv1)
   */
  readonly domainNames?: readonly string[];
  /**
   * ACM certificate in us-east-1 (CloudFront reads certificates only there) covering every name in `domainNames`;
   * with it viewers need TLSv1.2 (`TLSv1.2_2021` policy, SNI).
   * @default none: the default certificate
   */
  readonly certificateArn?: string;
}

/** EKS access settings. */
export interface ClusterAccessConfig {
  /** IAM role ARNs granted cluster-admin through access entries. */
  readonly adminRoleArns: readonly string[];
  /** CIDRs allowed to reach the public API endpoint; empty means the endpoint is private only. */
  readonly publicEndpointCidrs: readonly string[];
  /** Whether the role that deploys the stack is made a cluster admin (never in prod). */
  readonly deployerIsClusterAdmin: boolean;
}

/** Everything that differs between environments. */
export interface EnvironmentConfig {
  /** Environment name: `dev`, `staging`, `prod`, or `pr-<number>`. */
  readonly name: string;
  /** Environment class. */
  readonly kind: EnvironmentKind;
  /** 12-digit AWS account id; when absent the stacks are account-agnostic and deploy to the caller's account. */
  readonly account?: string;
  /** Regions, primary first. */
  readonly regions: readonly RegionConfig[];
  /** Capacity tier the sizes are derived from. */
  readonly tier: CapacityTierName;
  /** Keep stateful resources on stack deletion (RETAIN/SNAPSHOT) and protect them (deletion protection). */
  readonly retainData: boolean;
  /** CloudFormation termination protection on every stack. */
  readonly terminationProtection: boolean;
  /** Automated backup retention for databases, in days (1-35). */
  readonly backupRetentionDays: number;
  /** Retention of logs (flow logs, database logs, access logs), in days. */
  readonly logRetentionDays: number;
  /** Cost-allocation tag value. */
  readonly costCenter: string;
  /** Data classification tag value. */
  readonly dataClassification: 'public' | 'internal' | 'confidential' | 'restricted';
  /** Edge settings. */
  readonly edge: EdgeConfig;
  /** EKS access settings. */
  readonly clusterAccess: ClusterAccessConfig;
  /** Addresses that receive alarm notifications (email). */
  readonly alarmEmails: readonly string[];
  /**
   * Cross-region Kafka replication phase (see {@link KAFKA_REPLICATION_MODES}); `-c <env>:kafkaReplication=...`.
   * Only provisioned MSK (tiers other than `dev`) can be a replicator source.
   * @default 'off'
   */
  readonly kafkaReplication?: KafkaReplicationMode;
  /** Optional overrides of the derived pod bounds per workload. */
  readonly replicaOverrides?: Partial<Record<WorkloadName, ReplicaBounds>>;
}
