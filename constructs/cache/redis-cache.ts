import { Names, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** Cache engine: Valkey (default; the open-source Redis fork ElastiCache prices lower) or Redis OSS. */
export type CacheEngine = 'valkey' | 'redis';

/**
 * Eviction policies that make sense for a cache-aside cluster.
 * - `allkeys-lru` (default): evict the least recently used key of any kind.
 * - `volatile-lru`: evict only keys with a TTL; writes fail with OOM once no such key is left.
 * - `allkeys-lfu`: like allkeys-lru but by access frequency, for very skewed popularity.
 */
export type CacheEvictionPolicy = 'allkeys-lru' | 'volatile-lru' | 'allkeys-lfu';

/** Engine versions and their parameter-group families this construct knows. */
export const CACHE_ENGINE_VERSIONS: Readonly<Record<CacheEngine, Readonly<Record<string, string>>>> = {
  valkey: { '7.2': 'valkey7', '8.0': 'valkey8', '8.1': 'valkey8' },
  redis: { '7.0': 'redis7', '7.1': 'redis7' },
};

/** Properties of {@link RedisCache}. */
export interface RedisCacheProps {
  /** VPC the cache runs in. */
  readonly vpc: ec2.IVpc;
  /** Private subnets for the cache nodes (one per AZ the nodes may use). */
  readonly subnets: ec2.SubnetSelection;
  /** Security groups allowed to connect (the backend pods' security group); nothing else is admitted. */
  readonly allowedPeers: readonly ec2.ISecurityGroup[];
  /** Node type, e.g. `cache.r7g.large`; the capacity model chooses it. */
  readonly nodeType: string;
  /** Shards (node groups) in cluster mode; 1-500. */
  readonly shards: number;
  /** Replicas per shard, 0-5. With 0 there is no Multi-AZ: the dev minimum. */
  readonly replicasPerShard: number;
  /** @default 'valkey' */
  readonly engine?: CacheEngine;
  /** @default '8.0' for valkey, '7.1' for redis */
  readonly engineVersion?: string;
  /** TCP port; must not be the well-known 6379. @default 6380 */
  readonly port?: number;
  /** Eviction policy (see {@link CacheEvictionPolicy}). @default 'allkeys-lru' */
  readonly evictionPolicy?: CacheEvictionPolicy;
  /** Key for data at rest, the password secret and the logs. @default a new key with rotation */
  readonly encryptionKey?: kms.IKey;
  /** Days of daily snapshots to keep; 0 turns snapshots off. */
  readonly snapshotRetentionDays: number;
  /** UTC window for the daily snapshot. @default '03:00-04:00' */
  readonly snapshotWindow?: string;
  /** UTC weekly maintenance window; must not overlap the snapshot window. @default 'sun:05:00-sun:06:00' */
  readonly maintenanceWindow?: string;
  /** Retention of the slow and engine logs in CloudWatch. */
  readonly logRetention: logs.RetentionDays;
  /** RETAIN or SNAPSHOT for real data, DESTROY for dev and pr-N. */
  readonly removalPolicy: RemovalPolicy;
  /** Name the application user logs in with (`REDIS_USERNAME`). @default 'connecthub-app' */
  readonly appUserName?: string;
}

const DEFAULT_ENGINE_VERSION: Record<CacheEngine, string> = { valkey: '8.0', redis: '7.1' };
const WINDOW = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;
const MAINTENANCE_WINDOW = /^(sun|mon|tue|wed|thu|fri|sat):([01]\d|2[0-3]):[0-5]\d-(sun|mon|tue|wed|thu|fri|sat):([01]\d|2[0-3]):[0-5]\d$/;

/** Every problem with the props, as one message per problem. */
export function redisCacheProblems(props: RedisCacheProps): string[] {
  const p: string[] = [];
  const num = (v: unknown) => typeof v === 'number' && Token.isUnresolved(v);
  const engine = props.engine ?? 'valkey';
  if (!(engine in CACHE_ENGINE_VERSIONS)) p.push(`engine is ${JSON.stringify(engine)}; allowed: 'valkey' or 'redis'`);
  else {
    const version = props.engineVersion ?? DEFAULT_ENGINE_VERSION[engine];
    if (!(version in CACHE_ENGINE_VERSIONS[engine])) {
      p.push(`engineVersion is ${JSON.stringify(version)}; allowed for ${engine}: ${Object.keys(CACHE_ENGINE_VERSIONS[engine]).join(', ')}`);
    }
  }
  if (!Token.isUnresolved(props.nodeType) && !/^cache\.[a-z0-9]+\.[a-z0-9]+$/.test(props.nodeType)) {
    p.push(`nodeType is ${JSON.stringify(props.nodeType)}; allowed: an ElastiCache node type such as 'cache.r7g.large'`);
  }
  if (!num(props.shards) && (!Number.isInteger(props.shards) || props.shards < 1 || props.shards > 500)) {
    p.push(`shards is ${JSON.stringify(props.shards)}; allowed: an integer from 1 to 500`);
  }
  if (!num(props.replicasPerShard) && (!Number.isInteger(props.replicasPerShard) || props.replicasPerShard < 0 || props.replicasPerShard > 5)) {
    p.push(`replicasPerShard is ${JSON.stringify(props.replicasPerShard)}; allowed: an integer from 0 to 5`);
  }
  const port = props.port ?? 6380;
  if (!Number.isInteger(port) || port < 1024 || port > 65535 || port === 6379) {
    p.push(`port is ${JSON.stringify(port)}; allowed: an integer from 1024 to 65535 other than the default 6379`);
  }
  if (!Number.isInteger(props.snapshotRetentionDays) || props.snapshotRetentionDays < 0 || props.snapshotRetentionDays > 35) {
    p.push(`snapshotRetentionDays is ${JSON.stringify(props.snapshotRetentionDays)}; allowed: an integer from 0 (off) to 35`);
  }
  if (props.snapshotWindow !== undefined && !WINDOW.test(props.snapshotWindow)) {
    p.push(`snapshotWindow is ${JSON.stringify(props.snapshotWindow)}; allowed: 'hh:mm-hh:mm' in UTC`);
  }
  if (props.maintenanceWindow !== undefined && !MAINTENANCE_WINDOW.test(props.maintenanceWindow)) {
    p.push(`maintenanceWindow is ${JSON.stringify(props.maintenanceWindow)}; allowed: 'ddd:hh:mm-ddd:hh:mm' in UTC, e.g. 'sun:05:00-sun:06:00'`);
  }
  const policies: CacheEvictionPolicy[] = ['allkeys-lru', 'volatile-lru', 'allkeys-lfu'];
  if (props.evictionPolicy !== undefined && !policies.includes(props.evictionPolicy)) {
    p.push(`evictionPolicy is ${JSON.stringify(props.evictionPolicy)}; allowed: ${policies.join(', ')}`);
  }
  if (!props.allowedPeers || props.allowedPeers.length === 0) {
    p.push('allowedPeers is empty; allowed: at least one security group (the backend pods), or nothing could connect');
  }
  if (![RemovalPolicy.RETAIN, RemovalPolicy.SNAPSHOT, RemovalPolicy.DESTROY, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE].includes(props.removalPolicy)) {
    p.push(`removalPolicy is ${JSON.stringify(props.removalPolicy)}; allowed: RETAIN, SNAPSHOT, DESTROY or RETAIN_ON_UPDATE_OR_DELETE`);
  }
  const user = props.appUserName ?? 'connecthub-app';
  if (!/^[a-zA-Z][a-zA-Z0-9-]{0,39}$/.test(user) || user === 'default') {
    p.push(`appUserName is ${JSON.stringify(user)}; allowed: 1-40 letters, digits or '-', starting with a letter, not 'default'`);
  }
  return p;
}

/**
 * An ElastiCache (Valkey or Redis OSS) replication group in cluster mode for cache-aside use: TLS required in
 * transit, KMS at rest, RBAC (an application user whose generated password lives in Secrets Manager, the
 * `default` user switched off), a parameter group with the chosen eviction policy, a non-default port, private
 * subnets, a security group admitting only the given peers, slow and engine logs in CloudWatch.
 *
 * With `replicasPerShard: 0` (the dev minimum: one shard, one node) Multi-AZ is off; automatic failover stays on
 * because cluster mode requires it. Cluster mode is on even then, so clients use the same cluster protocol in
 * every environment.
 */
export class RedisCache extends Construct {
  /** Cluster-mode configuration endpoint host (`REDIS_ENDPOINT` is `host:port`). */
  public readonly configurationEndpoint: string;
  /** TCP port. */
  public readonly port: number;
  /** Secret holding `{ "username", "password" }` of the application user. */
  public readonly secret: secretsmanager.ISecret;
  /** Security group of the cache nodes. */
  public readonly securityGroup: ec2.ISecurityGroup;
  /** Key encrypting data at rest, the secret and the logs. */
  public readonly encryptionKey: kms.IKey;
  /** The replication group (L1). */
  public readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** Name of the application user. */
  public readonly appUserName: string;
  /** The eviction policy in force. */
  public readonly evictionPolicy: CacheEvictionPolicy;

  constructor(scope: Construct, id: string, props: RedisCacheProps) {
    super(scope, id);
    const problems = redisCacheProblems(props);
    if (problems.length > 0) throw new Error(`RedisCache ${this.node.path}: invalid props:\n- ${problems.join('\n- ')}`);

    const engine = props.engine ?? 'valkey';
    const engineVersion = props.engineVersion ?? DEFAULT_ENGINE_VERSION[engine];
    this.port = props.port ?? 6380;
    this.evictionPolicy = props.evictionPolicy ?? 'allkeys-lru';
    this.appUserName = props.appUserName ?? 'connecthub-app';
    const keepData = props.removalPolicy !== RemovalPolicy.DESTROY;
    const supportingRemoval = keepData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const key = props.encryptionKey ?? new kms.Key(this, 'Key', {
      description: `ElastiCache ${this.node.path}: data at rest, app-user secret, logs`,
      enableKeyRotation: true,
      removalPolicy: supportingRemoval,
    });
    this.encryptionKey = key;

    const logGroup = (name: string) => {
      const group = new logs.LogGroup(this, name, { retention: props.logRetention, encryptionKey: key, removalPolicy: supportingRemoval });
      return group;
    };
    const slowLog = logGroup('SlowLog');
    const engineLog = logGroup('EngineLog');
    if (!props.encryptionKey) {
      const stack = slowLog.stack;
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'CloudWatchLogsUseOfTheKey',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` } },
      }));
    }

    const sg = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `ElastiCache ${this.node.path}: admits only the backend pods on ${this.port}`,
      allowAllOutbound: false,
    });
    props.allowedPeers.forEach((peer) => sg.addIngressRule(peer, ec2.Port.tcp(this.port), `cache clients (${peer.node.id}) over TLS`));
    this.securityGroup = sg;

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: `ElastiCache ${this.node.path} private subnets`,
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
    });

    const parameterGroup = new elasticache.CfnParameterGroup(this, 'Parameters', {
      cacheParameterGroupFamily: CACHE_ENGINE_VERSIONS[engine][engineVersion],
      description: `ConnectHub cache-aside: cluster mode, ${this.evictionPolicy} eviction`,
      properties: {
        'cluster-enabled': 'yes',
        'maxmemory-policy': this.evictionPolicy,
        // Sample more keys per eviction: closer to true LRU for a few microseconds more work.
        'maxmemory-samples': '10',
        // Slow log: anything over 10 ms, last 256 entries (also shipped to CloudWatch).
        'slowlog-log-slower-than': '10000',
        'slowlog-max-len': '256',
      },
    });

    const secret = new secretsmanager.Secret(this, 'AppUserSecret', {
      description: `ElastiCache ${this.node.path}: password of RBAC user ${this.appUserName}`,
      encryptionKey: key,
      removalPolicy: supportingRemoval,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: this.appUserName }),
        generateStringKey: 'password',
        passwordLength: 64,
        excludePunctuation: true,
        includeSpace: false,
      },
    });
    this.secret = secret;
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'ElastiCache RBAC passwords are rotated by updating the user with a second password and rolling the pods; Secrets Manager has no managed rotation for ElastiCache users. Rotation is an operational runbook, not automatic.',
    });
    Validations.of(secret).acknowledge({
      id: 'NIST.800.53.R5-SecretsManagerRotationEnabled',
      reason: 'ElastiCache RBAC passwords have no managed Secrets Manager rotation; they are rotated by the dual-password runbook (see docs/cache-and-streaming.md).',
    });

    // RBAC user and group ids are physical names (required by the API); derive them from the construct path so
    // that two stacks never collide and synth stays deterministic.
    const idBase = Names.uniqueResourceName(this, { maxLength: 30, separator: '-' }).toLowerCase().replace(/[^a-z0-9-]/g, '').replace(/-+/g, '-').replace(/-$/, '');
    const physical = (suffix: string) => `c-${idBase}-${suffix}`;
    const defaultUser = new elasticache.CfnUser(this, 'DefaultUser', {
      engine,
      userId: physical('default'),
      userName: 'default',
      accessString: 'off -@all',
      noPasswordRequired: true,
    });
    const appUser = new elasticache.CfnUser(this, 'AppUser', {
      engine,
      userId: physical('app'),
      userName: this.appUserName,
      // All keys and pub/sub channels (feeds, query cache, presence, WebSocket fan-out); no dangerous commands
      // (FLUSHALL, KEYS, CONFIG, DEBUG, ...).
      accessString: 'on ~* &* +@all -@dangerous',
      passwords: [secret.secretValueFromJson('password').unsafeUnwrap()],
    });
    const userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      engine,
      userGroupId: physical('users'),
      userIds: [defaultUser.ref, appUser.ref],
    });

    const multiAz = props.replicasPerShard > 0;
    const rg = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: `ConnectHub cache (${engine} ${engineVersion}, ${props.shards}x${props.replicasPerShard + 1} ${props.nodeType})`,
      engine,
      engineVersion,
      cacheNodeType: props.nodeType,
      clusterMode: 'enabled',
      numNodeGroups: props.shards,
      replicasPerNodeGroup: props.replicasPerShard,
      automaticFailoverEnabled: true,
      multiAzEnabled: multiAz,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      kmsKeyId: key.keyArn,
      userGroupIds: [userGroup.ref],
      port: this.port,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [sg.securityGroupId],
      cacheParameterGroupName: parameterGroup.ref,
      snapshotRetentionLimit: props.snapshotRetentionDays,
      ...(props.snapshotRetentionDays > 0 ? { snapshotWindow: props.snapshotWindow ?? '03:00-04:00' } : {}),
      preferredMaintenanceWindow: props.maintenanceWindow ?? 'sun:05:00-sun:06:00',
      autoMinorVersionUpgrade: true,
      networkType: 'ipv4',
      logDeliveryConfigurations: [
        { logType: 'slow-log', logFormat: 'json', destinationType: 'cloudwatch-logs', destinationDetails: { cloudWatchLogsDetails: { logGroup: slowLog.logGroupName } } },
        { logType: 'engine-log', logFormat: 'json', destinationType: 'cloudwatch-logs', destinationDetails: { cloudWatchLogsDetails: { logGroup: engineLog.logGroupName } } },
      ],
    });
    rg.applyRemovalPolicy(props.removalPolicy);
    this.replicationGroup = rg;
    this.configurationEndpoint = rg.attrConfigurationEndPointAddress;

    Validations.of(rg).acknowledge({
      id: 'AwsSolutions-AEC6',
      reason: 'Authentication is RBAC: a user group with a disabled default user and an application user whose generated password is in Secrets Manager. AuthToken (legacy AUTH) and UserGroupIds are mutually exclusive.',
    });
    if (!multiAz) {
      Validations.of(rg).acknowledge({
        id: 'AwsSolutions-AEC4',
        reason: 'replicasPerShard is 0: the smallest working dev/pr deployment (one shard, one node). Multi-AZ needs a replica; staging and prod set replicas and get Multi-AZ.',
      });
      Validations.of(rg).acknowledge({
        id: 'NIST.800.53.R5-ElastiCacheRedisClusterMultiAZ',
        reason: 'replicasPerShard is 0: the smallest working dev/pr deployment; staging and prod run replicas with Multi-AZ.',
      });
    }
    if (props.snapshotRetentionDays < 15) {
      Validations.of(rg).acknowledge({
        id: 'NIST.800.53.R5-ElastiCacheRedisClusterAutomaticBackup',
        reason: `Snapshots kept ${props.snapshotRetentionDays} days: the cache holds only data derived from Aurora (feeds, query results, presence) with short TTLs, which cache-aside rebuilds on a miss; a snapshot restores almost nothing live and serves to inspect what the cache held.`,
      });
    }
  }

  /** `host:port` for the contract's `REDIS_ENDPOINT`. */
  get endpoint(): string {
    return `${this.configurationEndpoint}:${this.port}`;
  }

  /** Lets a principal read the application user's secret (and decrypt it). */
  grantReadSecret(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }
}
