/**
 * RDS Proxy in front of one region's Aurora cluster: the connection pool the plan calls "PgBouncer with 1000
 * connections". TLS and IAM authentication are required end to end: clients present an IAM token to the proxy, and the
 * proxy logs in to PostgreSQL with IAM too (DefaultAuthScheme IAM_AUTH), so no database password is stored for it.
 *
 * Primary region: the default endpoint (read/write) reaches the writer; the `ReadOnly` endpoint reaches the readers.
 * Secondary region: the cluster has no writer, so the default endpoint answers "The target group doesn't have any
 * associated read/write instances"; clients use the `ReadOnly` endpoint (`endpoint` below), and writes sent there are
 * forwarded by Aurora global write forwarding to the primary's writer.
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
   * Connections of `max_connections` kept out of the pool, for the migration and maintenance Lambdas, secret rotation,
   * operators and (on secondaries) write forwarding sessions. The pool's size is
   * `maxConnectionsPercent = floor((max_connections - reservedConnections) * 100 / max_connections)`.
   * @default 50
   */
  readonly reservedConnections?: number;
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
  /** Read-only proxy endpoint (readers of this region). */
  readonly readOnlyEndpoint: rds.IDatabaseProxyEndpoint;
  /**
   * Host name the region's backend should use: the read/write endpoint in the primary region, the read-only endpoint
   * (with write forwarding) in a secondary region.
   */
  readonly endpoint: string;
  /** Host name of the read-only endpoint. */
  readonly readerEndpoint: string;
  /** Pool size as a percentage of `max_connections` (derived from `reservedConnections`). */
  readonly maxConnectionsPercent: number;
  /** Security group of the proxy and its endpoints. */
  readonly securityGroup: ec2.SecurityGroup;
  readonly connections: ec2.Connections;
  /** Users clients may log in as. */
  readonly dbUsers: readonly string[];

  constructor(scope: Construct, id: string, props: RegionalDatabaseProxyProps) {
    super(scope, id);
    const problems = new PropsProblems(`RegionalDatabaseProxy "${this.node.path}"`);
    const maxConnections = props.database.maxConnections;
    const reserved = props.reservedConnections ?? 50;
    problems.integerInRange('reservedConnections', reserved, 0, maxConnections - 1);
    problems.check(props.dbUsers.length > 0, 'dbUsers', props.dbUsers, 'at least one database user');
    for (const user of props.dbUsers) {
      problems.check(/^[a-z_][a-z0-9_]{0,62}$/.test(user), 'dbUsers', user, 'PostgreSQL user names: lower-case letters, digits and _');
    }
    problems.check(new Set(props.dbUsers).size === props.dbUsers.length, 'dbUsers', props.dbUsers, 'distinct names');
    const idle = props.idleClientTimeout ?? Duration.minutes(30);
    problems.check(idle.toSeconds() >= 1 && idle.toSeconds() <= 28_800, 'idleClientTimeout', idle, 'from 1 second to 8 hours');
    const borrow = props.borrowTimeout ?? Duration.seconds(30);
    problems.check(borrow.toSeconds() >= 1 && borrow.toSeconds() <= 3_600, 'borrowTimeout', borrow, 'from 1 second to 1 hour');
    const percent = Math.floor(((maxConnections - reserved) * 100) / maxConnections);
    problems.check(percent >= 1, 'reservedConnections', reserved, `small enough to leave at least 1 % of max_connections (${maxConnections}) to the pool`);
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
    this.readOnlyEndpoint = this.proxy.addEndpoint('ReadOnly', {
      vpc: props.vpc,
      targetRole: rds.ProxyEndpointTargetRole.READ_ONLY,
      vpcSubnets,
      securityGroups: [this.securityGroup],
    });
    this.readerEndpoint = this.readOnlyEndpoint.endpoint;
    this.endpoint = props.database.role === 'primary' ? this.proxy.endpoint : this.readOnlyEndpoint.endpoint;

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
