/**
 * RDS Proxy in front of one region's Aurora cluster: the connection pool the plan calls "PgBouncer with 1000
 * connections". TLS and IAM authentication are required end to end: clients present an IAM token to the proxy, and the
 * proxy logs in to PostgreSQL with IAM too (DefaultAuthScheme IAM_AUTH), so no database password is stored for it.
 *
 * Primary region: the default endpoint (read/write) reaches the writer; the `ReadOnly` endpoint reaches the readers.
 * A primary without readers (dev, pr-N) gets no `ReadOnly` endpoint — requests to a read-only endpoint with no reader
 * targets fail — and `readerEndpoint` is the default endpoint, so reads go to the writer.
 * Secondary region: the cluster has no writer, so the default endpoint answers "The target group doesn't have any
 * associated read/write instances"; clients use the `ReadOnly` endpoint (`endpoint` below), and writes sent there are
 * forwarded by Aurora global write forwarding to the primary's writer.
 *
 * Pool size: `maxConnectionsPercent` (the capacity model's share of `max_connections`) minus the cluster's global
 * write-forwarding quota, as AWS asks for proxies in front of a global database with write forwarding.
 *
 * Stable construct ids: <id>/Proxy, <id>/Proxy/ReadOnly, <id>/SecurityGroup, <id>/Role.
 */
import { Duration, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { acknowledgeTokenPortIngress, IAuroraRegionalCluster } from './aurora-global-database';
import { acknowledgeDefaultPolicy } from './database-function';
import { PropsProblems } from './props-validation';

/** PostgreSQL proxies listen on 5432. */
export const PROXY_PORT = 5432;

export interface RegionalDatabaseProxyProps {
  /** VPC of the cluster. */
  readonly vpc: ec2.IVpc;
  /**
   * Private subnets for the proxy's network interfaces.
   * @default - the VPC's isolated subnets (`PRIVATE_ISOLATED`)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The regional cluster to front (`AuroraGlobalPrimary` or `AuroraGlobalSecondary`). */
  readonly database: IAuroraRegionalCluster;
  /**
   * Database users clients may log in as through the proxy. Each must exist in PostgreSQL with `GRANT rds_iam`;
   * the proxy's role may connect to the cluster as exactly these users.
   */
  readonly dbUsers: string[];
  /**
   * Share of `max_connections` (percent) the proxy and forwarded writes may use together; the rest stays free for the
   * migration and maintenance Lambdas, secret rotation and operators. The proxy's own pool is this minus the cluster's
   * `writeForwardingConnectionsPercent` (AWS: reduce MaxConnectionsPercent by the write-forwarding quota).
   * @default 90
   */
  readonly maxConnectionsPercent?: number;
  /**
   * Peers allowed to connect to the proxy (e.g. the EKS cluster's pod security group). More can be added with `allowFrom`.
   * @default - none
   */
  readonly allowedPeers?: ec2.IConnectable[];
  /**
   * Idle client connections are closed after this long.
   * @default Duration.minutes(30)
   */
  readonly idleClientTimeout?: Duration;
  /**
   * How long a client waits for a pooled connection when all are busy.
   * @default Duration.seconds(30)
   */
  readonly borrowTimeout?: Duration;
}

export class RegionalDatabaseProxy extends Construct implements ec2.IConnectable {
  /** The L2 proxy. */
  readonly proxy: rds.DatabaseProxy;
  /** Read-only proxy endpoint (readers of this region); absent when the cluster has no reader instances. */
  readonly readOnlyEndpoint?: rds.IDatabaseProxyEndpoint;
  /**
   * Host name the region's backend should use: the read/write endpoint in the primary region, the read-only endpoint
   * (with write forwarding) in a secondary region.
   */
  readonly endpoint: string;
  /** Host name for reads: the read-only endpoint, or the default endpoint when the cluster has no readers. */
  readonly readerEndpoint: string;
  /** The proxy's MaxConnectionsPercent: `maxConnectionsPercent` minus the cluster's write-forwarding quota. */
  readonly maxConnectionsPercent: number;
  /** Security group of the proxy and its endpoints. */
  readonly securityGroup: ec2.SecurityGroup;
  readonly connections: ec2.Connections;
  /** Users clients may log in as. */
  readonly dbUsers: readonly string[];

  constructor(scope: Construct, id: string, props: RegionalDatabaseProxyProps) {
    super(scope, id);
    const problems = new PropsProblems(`RegionalDatabaseProxy "${this.node.path}"`);
    const share = props.maxConnectionsPercent ?? 90;
    const forwarding = props.database.writeForwardingConnectionsPercent;
    problems.integerInRange('maxConnectionsPercent', share, 1, 100);
    problems.check(props.database.role === 'primary' || props.database.readerInstances > 0, 'database', props.database.clusterIdentifier,
      'a secondary cluster with at least one instance (its read-only endpoint is the only one that answers)');
    problems.check(props.dbUsers.length > 0, 'dbUsers', props.dbUsers, 'at least one database user');
    for (const user of props.dbUsers) {
      problems.check(/^[a-z_][a-z0-9_]{0,62}$/.test(user), 'dbUsers', user, 'PostgreSQL user names: lower-case letters, digits and _');
    }
    problems.check(new Set(props.dbUsers).size === props.dbUsers.length, 'dbUsers', props.dbUsers, 'distinct names');
    const idle = props.idleClientTimeout ?? Duration.minutes(30);
    problems.check(idle.toSeconds() >= 1 && idle.toSeconds() <= 28_800, 'idleClientTimeout', idle, 'from 1 second to 8 hours');
    const borrow = props.borrowTimeout ?? Duration.seconds(30);
    problems.check(borrow.toSeconds() >= 1 && borrow.toSeconds() <= 3_600, 'borrowTimeout', borrow, 'from 1 second to 1 hour');
    const percent = share - forwarding;
    problems.check(!Number.isInteger(share) || percent >= 1, 'maxConnectionsPercent', share,
      `more than the cluster's write-forwarding quota (${forwarding} % of max_connections), so the pool keeps at least 1 %`);
    problems.throwIfAny();

    this.maxConnectionsPercent = percent;
    this.dbUsers = [...props.dbUsers];
    const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `RDS Proxy for ${props.database.clusterIdentifier}: admits named peers on ${PROXY_PORT}, reaches only the cluster`,
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [this.securityGroup], defaultPort: ec2.Port.tcp(PROXY_PORT) });

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('rds.amazonaws.com'),
      description: `RDS Proxy for ${props.database.clusterIdentifier}: IAM login to the cluster as the proxy's users`,
    });
    for (const user of props.dbUsers) props.database.cluster.grantConnect(role, user);

    this.proxy = new rds.DatabaseProxy(this, 'Proxy', {
      proxyTarget: rds.ProxyTarget.fromCluster(props.database.cluster),
      vpc: props.vpc,
      vpcSubnets,
      securityGroups: [this.securityGroup],
      role,
      requireTLS: true,
      iamAuth: true,
      defaultAuthScheme: rds.DefaultAuthScheme.IAM_AUTH,
      maxConnectionsPercent: percent,
      maxIdleConnectionsPercent: Math.max(1, Math.floor(percent / 2)),
      idleClientTimeout: idle,
      borrowTimeout: borrow,
      debugLogging: false,
    });
    if (props.database.readerInstances > 0) {
      this.readOnlyEndpoint = this.proxy.addEndpoint('ReadOnly', {
        vpc: props.vpc,
        targetRole: rds.ProxyEndpointTargetRole.READ_ONLY,
        vpcSubnets,
        securityGroups: [this.securityGroup],
      });
    }
    // Without readers a read-only endpoint has no targets and every request to it fails: reads go to the writer.
    this.readerEndpoint = this.readOnlyEndpoint?.endpoint ?? this.proxy.endpoint;
    this.endpoint = props.database.role === 'primary' ? this.proxy.endpoint : this.readerEndpoint;

    // ProxyTarget.fromCluster adds proxy -> cluster on the cluster's port (egress here, ingress on the cluster's group).
    acknowledgeTokenPortIngress(props.database.cluster);
    acknowledgeDefaultPolicy(role);

    for (const peer of props.allowedPeers ?? []) this.allowFrom(peer);
  }

  /** Lets `peer` open connections to the proxy's endpoints (port 5432). */
  allowFrom(peer: ec2.IConnectable, description = 'Client of the RDS Proxy'): void {
    this.connections.allowFrom(peer, ec2.Port.tcp(PROXY_PORT), description);
  }

  /**
   * Grants `rds-db:connect` on this proxy as `dbUser` (one of `dbUsers`): the grantee can then generate an IAM
   * authentication token (e.g. `@aws-sdk/rds-signer`) for the proxy endpoint.
   */
  grantConnect(grantee: iam.IGrantable, dbUser: string): iam.Grant {
    if (Token.isUnresolved(dbUser) || !this.dbUsers.includes(dbUser)) {
      const error = new Error(`Invalid props for RegionalDatabaseProxy "${this.node.path}":\n  - grantConnect dbUser = ${JSON.stringify(dbUser)}: one of the proxy's dbUsers (${this.dbUsers.join(', ')})`);
      error.stack = error.message;
      throw error;
    }
    return this.proxy.grantConnect(grantee, dbUser);
  }
}
