import { Annotations, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { allowCloudWatchLogs } from './logs-key-policy';
import { grantKafkaTopics, kafkaConnectStatements, type KafkaClusterRef, type KafkaTopicGrantOptions } from './kafka-iam';
import { acknowledgeAwsCustomResourceFunction } from '../nag/aws-custom-resource-function';

/** Provisioned brokers (staging, prod) or MSK Serverless (dev, pr-N). */
export type KafkaClusterMode = 'provisioned' | 'serverless';

/** Enhanced-monitoring levels of provisioned MSK. */
export type KafkaEnhancedMonitoring = 'DEFAULT' | 'PER_BROKER' | 'PER_TOPIC_PER_BROKER' | 'PER_TOPIC_PER_PARTITION';

/** Default Kafka version: the version MSK marks as recommended (November 2026 documentation). */
export const DEFAULT_KAFKA_VERSION = '3.8.x';

/** Kafka versions MSK still supports for new provisioned clusters (end-of-support ones removed). */
export const SUPPORTED_KAFKA_VERSIONS: readonly string[] = ['3.6.0', '3.7.x', '3.7.x.kraft', '3.8.x', '3.8.x.kraft', '3.9.x', '3.9.x.kraft', '4.0.x.kraft'];

/** Broker settings every provisioned cluster gets (durable, no implicit topics). */
export const BROKER_SERVER_PROPERTIES: Readonly<Record<string, string>> = {
  'auto.create.topics.enable': 'false',
  'default.replication.factor': '3',
  'min.insync.replicas': '2',
  'unclean.leader.election.enable': 'false',
  'num.partitions': '6',
  'log.retention.hours': '168',
  'offsets.topic.replication.factor': '3',
  'transaction.state.log.replication.factor': '3',
  'transaction.state.log.min.isr': '2',
};

/** Properties of {@link KafkaCluster}. */
export interface KafkaClusterProps {
  /** `provisioned` (brokers you size) or `serverless`. */
  readonly mode: KafkaClusterMode;
  /** VPC of the cluster. */
  readonly vpc: ec2.IVpc;
  /** Private subnets; one is used per AZ. Provisioned clusters need two or three AZs (three for production). */
  readonly subnets: ec2.SubnetSelection;
  /** Security groups allowed to reach the brokers on 9098 (IAM over TLS): the backend pods. */
  readonly allowedPeers: readonly ec2.ISecurityGroup[];
  /** Cluster name (1-64 letters, digits, '-'). @default derived from the construct path */
  readonly clusterName?: string;
  /** Brokers in total (provisioned); a multiple of the AZ count, at least 3. */
  readonly brokerCount?: number;
  /** Broker instance type (provisioned), e.g. `kafka.m7g.large`. */
  readonly instanceType?: string;
  /** EBS size per broker at creation, GiB (provisioned). */
  readonly ebsVolumeGiB?: number;
  /** Upper bound for storage auto scaling, GiB per broker. @default 4 x ebsVolumeGiB (at most 16384) */
  readonly maxEbsVolumeGiB?: number;
  /** Disk utilization (%) that storage auto scaling keeps brokers under. @default 60 */
  readonly storageTargetUtilizationPercent?: number;
  /** Kafka version (provisioned). @default DEFAULT_KAFKA_VERSION */
  readonly kafkaVersion?: string;
  /** Enhanced monitoring (provisioned). @default 'PER_TOPIC_PER_BROKER' */
  readonly enhancedMonitoring?: KafkaEnhancedMonitoring;
  /**
   * Multi-VPC private connectivity for IAM clients (provisioned). Required on the SOURCE cluster of a cross-region
   * MSK Replicator. MSK refuses it at cluster creation: deploy the cluster first, then turn this on.
   * @default false
   */
  readonly multiVpcIamConnectivity?: boolean;
  /** Key for data at rest and the broker log group (provisioned; Serverless always uses an AWS-owned key). @default a new key with rotation */
  readonly encryptionKey?: kms.IKey;
  /**
   * Subnets of the bootstrap-broker lookup (a call to the MSK API at deploy time). They need a route to that API: NAT
   * or a `kafka` interface endpoint. The lookup runs in the stack's shared AwsCustomResource function, and the first
   * AwsCustomResource of a stack decides where that function runs.
   * @default subnets
   */
  readonly lookupSubnets?: ec2.SubnetSelection;
  /** Retention of the broker logs (and the bootstrap-broker lookup's logs). */
  readonly logRetention: logs.RetentionDays;
  /** RETAIN (staging, prod) or DESTROY (dev, pr-N). SNAPSHOT does not exist for MSK. */
  readonly removalPolicy: RemovalPolicy;
}

const CLUSTER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,63}$/;

function distinctAzs(vpc: ec2.IVpc, subnets: ec2.SubnetSelection): string[] {
  return [...new Set(vpc.selectSubnets({ ...subnets, onePerAz: true }).availabilityZones)];
}

/** Every problem with the props, one message each. */
export function kafkaClusterProblems(props: KafkaClusterProps, azCount: number): string[] {
  const p: string[] = [];
  const isNum = (v: number | undefined) => v !== undefined && Token.isUnresolved(v);
  if (props.mode !== 'provisioned' && props.mode !== 'serverless') p.push(`mode is ${JSON.stringify(props.mode)}; allowed: 'provisioned' or 'serverless'`);
  if (props.removalPolicy === RemovalPolicy.SNAPSHOT) {
    p.push('removalPolicy is SNAPSHOT; allowed: RETAIN or DESTROY (MSK clusters have no snapshots; CloudFormation rejects SNAPSHOT on AWS::MSK::Cluster)');
  } else if (![RemovalPolicy.RETAIN, RemovalPolicy.DESTROY, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE].includes(props.removalPolicy)) {
    p.push(`removalPolicy is ${JSON.stringify(props.removalPolicy)}; allowed: RETAIN or DESTROY`);
  }
  if (props.clusterName !== undefined && !CLUSTER_NAME.test(props.clusterName)) {
    p.push(`clusterName is ${JSON.stringify(props.clusterName)}; allowed: 1-64 letters, digits and '-', starting with a letter or digit`);
  }
  if (!props.allowedPeers || props.allowedPeers.length === 0) p.push('allowedPeers is empty; allowed: at least one security group (the backend pods)');
  if (props.mode === 'provisioned') {
    if (azCount < 2 || azCount > 3) p.push(`subnets span ${azCount} availability zone(s); allowed: 2 or 3 (3 for production) for a provisioned cluster`);
    const b = props.brokerCount;
    if (b === undefined) p.push('brokerCount is missing; required for mode provisioned');
    else if (!isNum(b)) {
      if (!Number.isInteger(b) || b < 3) p.push(`brokerCount is ${JSON.stringify(b)}; allowed: an integer of at least 3 (replication factor 3)`);
      else if (azCount > 0 && b % azCount !== 0) p.push(`brokerCount is ${b}; allowed: a multiple of the ${azCount} availability zones (e.g. ${Math.ceil(b / azCount) * azCount})`);
    }
    if (props.instanceType === undefined) p.push('instanceType is missing; required for mode provisioned');
    else if (!Token.isUnresolved(props.instanceType) && !/^(kafka|express)\.[a-z0-9]+\.[a-z0-9]+$/.test(props.instanceType)) {
      p.push(`instanceType is ${JSON.stringify(props.instanceType)}; allowed: an MSK broker type such as 'kafka.m7g.large'`);
    }
    const ebs = props.ebsVolumeGiB;
    if (ebs === undefined) p.push('ebsVolumeGiB is missing; required for mode provisioned');
    else if (!isNum(ebs) && (!Number.isInteger(ebs) || ebs < 1 || ebs > 16384)) p.push(`ebsVolumeGiB is ${JSON.stringify(ebs)}; allowed: an integer from 1 to 16384`);
    const max = props.maxEbsVolumeGiB;
    if (max !== undefined && (!Number.isInteger(max) || max > 16384 || (ebs !== undefined && max <= ebs))) {
      p.push(`maxEbsVolumeGiB is ${JSON.stringify(max)}; allowed: an integer above ebsVolumeGiB (${ebs}) and at most 16384`);
    }
    const target = props.storageTargetUtilizationPercent;
    if (target !== undefined && (!Number.isFinite(target) || target < 10 || target > 90)) {
      p.push(`storageTargetUtilizationPercent is ${JSON.stringify(target)}; allowed: 10 to 90`);
    }
    const v = props.kafkaVersion;
    if (v !== undefined && !SUPPORTED_KAFKA_VERSIONS.includes(v)) {
      p.push(`kafkaVersion is ${JSON.stringify(v)}; allowed: ${SUPPORTED_KAFKA_VERSIONS.join(', ')}`);
    }
    if (props.multiVpcIamConnectivity && props.instanceType?.startsWith('kafka.t3.')) {
      p.push(`multiVpcIamConnectivity is true with instanceType ${props.instanceType}; multi-VPC connectivity does not support t3 brokers`);
    }
  } else if (props.mode === 'serverless') {
    const provisionedOnly: (keyof KafkaClusterProps)[] = ['brokerCount', 'instanceType', 'ebsVolumeGiB', 'maxEbsVolumeGiB', 'storageTargetUtilizationPercent', 'kafkaVersion', 'enhancedMonitoring', 'encryptionKey'];
    for (const key of provisionedOnly) {
      if (props[key] !== undefined) p.push(`${key} is set with mode serverless; allowed only with mode provisioned (MSK Serverless sizes, versions and encrypts itself)`);
    }
    if (props.multiVpcIamConnectivity) p.push('multiVpcIamConnectivity is true with mode serverless; MSK Serverless has no multi-VPC connectivity (and does not need it as a replicator source)');
  }
  return p;
}

/**
 * An Amazon MSK cluster that only speaks IAM over TLS.
 *
 * Provisioned: brokers spread over the subnets' AZs (a multiple of the AZ count), EBS storage with target-tracking
 * auto scaling (Application Auto Scaling, scale-out only, as MSK cannot shrink volumes), KMS at rest, TLS between
 * clients and brokers and inside the cluster, broker logs in CloudWatch, enhanced monitoring, and a broker
 * configuration with replication factor 3, min.insync.replicas 2, no topic auto-creation and no unclean leader
 * election. Serverless: IAM auth in the same subnets (encryption and sizing are managed by MSK).
 *
 * CloudFormation does not return bootstrap brokers, so an AwsCustomResource calls kafka:GetBootstrapBrokers (scoped to
 * this cluster's ARN) and exposes `BootstrapBrokerStringSaslIam` as {@link bootstrapBrokers}.
 */
export class KafkaCluster extends Construct implements KafkaClusterRef, ec2.IConnectable {
  public readonly mode: KafkaClusterMode;
  public readonly clusterArn: string;
  public readonly clusterName: string;
  /** Comma-separated SASL/IAM bootstrap brokers (port 9098), resolved at deploy time. */
  public readonly bootstrapBrokers: string;
  /** Port clients use: IAM over TLS. */
  public readonly port = 9098;
  public readonly securityGroup: ec2.ISecurityGroup;
  public readonly connections: ec2.Connections;
  /** Subnets of the brokers (one per AZ). */
  public readonly subnetIds: readonly string[];
  /** Security group for MSK Replicator ENIs in this VPC, admitted to the brokers (created by {@link allowMskReplicatorAccess}). */
  public replicatorSecurityGroup?: ec2.ISecurityGroup;
  /** Availability zones of the brokers. */
  public readonly availabilityZones: readonly string[];
  /** Broker count (provisioned only). */
  public readonly brokerCount?: number;
  /** Broker instance type (provisioned only). */
  public readonly instanceType?: string;
  /** Kafka version (provisioned only). */
  public readonly kafkaVersion?: string;
  /** Whether multi-VPC IAM connectivity is on (provisioned only). */
  public readonly multiVpcIamConnectivity: boolean;
  /** The L1 resource. */
  public readonly resource: msk.CfnCluster | msk.CfnServerlessCluster;
  /** Broker configuration (provisioned only). */
  public readonly configuration?: msk.CfnConfiguration;
  /** Broker log group (provisioned only). */
  public readonly brokerLogGroup?: logs.ILogGroup;
  /** Key of data at rest and logs (provisioned only). */
  public readonly encryptionKey?: kms.IKey;
  /** VPC of the cluster. */
  public readonly vpc: ec2.IVpc;
  private clusterPolicy?: msk.CfnClusterPolicy;
  private readonly policyStatements: iam.PolicyStatement[] = [];

  constructor(scope: Construct, id: string, props: KafkaClusterProps) {
    super(scope, id);
    const azs = distinctAzs(props.vpc, props.subnets);
    const problems = kafkaClusterProblems(props, azs.length);
    if (problems.length > 0) throw new Error(`KafkaCluster ${this.node.path}: invalid props:\n- ${problems.join('\n- ')}`);

    this.mode = props.mode;
    this.availabilityZones = azs;
    this.multiVpcIamConnectivity = props.multiVpcIamConnectivity ?? false;
    this.clusterName = props.clusterName ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }).replace(/[^a-zA-Z0-9-]/g, '-');
    const subnetIds = props.vpc.selectSubnets({ ...props.subnets, onePerAz: true }).subnetIds;
    this.subnetIds = subnetIds;
    this.vpc = props.vpc;
    const keepData = props.removalPolicy !== RemovalPolicy.DESTROY;
    const supportingRemoval = keepData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const sg = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `MSK ${this.node.path}: IAM/TLS clients on 9098 only`,
      allowAllOutbound: false,
    });
    this.securityGroup = sg;
    this.connections = new ec2.Connections({ securityGroups: [sg], defaultPort: ec2.Port.tcp(this.port) });
    props.allowedPeers.forEach((peer) => this.allowClientsFrom(peer, `Kafka clients (${peer.node.id})`));

    if (props.mode === 'provisioned') {
      this.brokerCount = props.brokerCount!;
      this.instanceType = props.instanceType!;
      this.kafkaVersion = props.kafkaVersion ?? DEFAULT_KAFKA_VERSION;
      const ebs = props.ebsVolumeGiB!;
      const maxEbs = props.maxEbsVolumeGiB ?? Math.min(16384, ebs * 4);
      if (maxEbs <= ebs) throw new Error(`KafkaCluster ${this.node.path}: invalid props:\n- ebsVolumeGiB is ${ebs}; allowed: below 16384 so that storage auto scaling has room`);

      const key = props.encryptionKey ?? new kms.Key(this, 'Key', {
        description: `MSK ${this.node.path}: broker data at rest and broker logs`,
        enableKeyRotation: true,
        removalPolicy: supportingRemoval,
      });
      const logGroup = new logs.LogGroup(this, 'BrokerLogs', { retention: props.logRetention, encryptionKey: key, removalPolicy: supportingRemoval });
      this.brokerLogGroup = logGroup;
      this.encryptionKey = key;
      allowCloudWatchLogs(key);

      const configuration = new msk.CfnConfiguration(this, 'Configuration', {
        name: `${this.clusterName}-config`.slice(0, 64),
        description: 'ConnectHub brokers: RF 3, min ISR 2, no topic auto-creation, no unclean leader election',
        kafkaVersionsList: [this.kafkaVersion],
        serverProperties: Object.entries(BROKER_SERVER_PROPERTIES).map(([k, v]) => `${k}=${v}`).join('\n'),
      });
      this.configuration = configuration;

      const cluster = new msk.CfnCluster(this, 'Cluster', {
        clusterName: this.clusterName,
        kafkaVersion: this.kafkaVersion,
        numberOfBrokerNodes: this.brokerCount,
        brokerNodeGroupInfo: {
          instanceType: this.instanceType,
          clientSubnets: subnetIds,
          securityGroups: [sg.securityGroupId],
          storageInfo: { ebsStorageInfo: { volumeSize: ebs } },
          connectivityInfo: {
            publicAccess: { type: 'DISABLED' },
            ...(this.multiVpcIamConnectivity ? { vpcConnectivity: { clientAuthentication: { sasl: { iam: { enabled: true } } } } } : {}),
          },
        },
        clientAuthentication: { sasl: { iam: { enabled: true } }, unauthenticated: { enabled: false } },
        encryptionInfo: {
          encryptionAtRest: { dataVolumeKmsKeyId: key.keyArn },
          encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
        },
        loggingInfo: { brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: logGroup.logGroupName } } },
        enhancedMonitoring: props.enhancedMonitoring ?? 'PER_TOPIC_PER_BROKER',
        configurationInfo: { arn: configuration.attrArn, revision: configuration.attrLatestRevisionRevision },
      });
      cluster.applyRemovalPolicy(props.removalPolicy);
      this.resource = cluster;
      this.clusterArn = cluster.attrArn;

      // Storage auto scaling: MSK registers with Application Auto Scaling through its service-linked role.
      const target = new appscaling.CfnScalableTarget(this, 'StorageScalableTarget', {
        serviceNamespace: 'kafka',
        scalableDimension: 'kafka:broker-storage:VolumeSize',
        resourceId: cluster.attrArn,
        minCapacity: 1,
        maxCapacity: maxEbs,
      });
      new appscaling.CfnScalingPolicy(this, 'StorageScalingPolicy', {
        policyName: `${this.clusterName}-storage`.slice(0, 256),
        policyType: 'TargetTrackingScaling',
        scalingTargetId: target.ref,
        targetTrackingScalingPolicyConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: 'KafkaBrokerStorageUtilization' },
          targetValue: props.storageTargetUtilizationPercent ?? 60,
          disableScaleIn: true,
        },
      });
      if (this.multiVpcIamConnectivity) {
        Annotations.of(this).addWarningV2('connecthub:msk-multi-vpc-after-create',
          'multiVpcIamConnectivity is on: MSK accepts it only on an existing cluster (creation fails with it), and turning it on takes about an hour.');
      }
    } else {
      const cluster = new msk.CfnServerlessCluster(this, 'ServerlessCluster', {
        clusterName: this.clusterName,
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [{ subnetIds, securityGroups: [sg.securityGroupId] }],
      });
      cluster.applyRemovalPolicy(props.removalPolicy);
      this.resource = cluster;
      this.clusterArn = cluster.attrArn;
    }

    const lookupLogs = new logs.LogGroup(this, 'BootstrapBrokersLookupLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
      ...(this.encryptionKey ? { encryptionKey: this.encryptionKey } : {}),
    });
    if (!this.encryptionKey) {
      Validations.of(lookupLogs).acknowledge({
        id: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
        reason: 'Serverless mode has no customer key (MSK Serverless encrypts with an AWS-owned key); this group only holds the bootstrap-broker lookup logs (host names, no data), encrypted by CloudWatch Logs by default.',
      });
    }
    const lookup = new cr.AwsCustomResource(this, 'BootstrapBrokers', {
      onUpdate: {
        service: 'Kafka',
        action: 'getBootstrapBrokers',
        parameters: { ClusterArn: this.clusterArn },
        physicalResourceId: cr.PhysicalResourceId.of(this.clusterArn),
        outputPaths: ['BootstrapBrokerStringSaslIam'],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['kafka:GetBootstrapBrokers'], resources: [this.clusterArn] }),
      ]),
      installLatestAwsSdk: false,
      logGroup: lookupLogs,
      vpc: props.vpc,
      vpcSubnets: props.lookupSubnets ?? props.subnets,
    });
    this.bootstrapBrokers = lookup.getResponseField('BootstrapBrokerStringSaslIam');
    const lookupPolicy = lookup.node.tryFindChild('CustomResourcePolicy');
    if (lookupPolicy) {
      Validations.of(lookupPolicy).acknowledge({
        id: 'NIST.800.53.R5-IAMNoInlinePolicy',
        reason: 'AwsCustomResource attaches its one statement (kafka:GetBootstrapBrokers on this cluster ARN only) as an inline policy of its role; a managed policy would add nothing but indirection.',
      });
    }
    acknowledgeAwsCustomResourceFunction(Stack.of(this), { inVpc: true });
  }

  /** Admits a security group to the brokers on 9098. */
  allowClientsFrom(peer: ec2.ISecurityGroup, description = 'Kafka clients'): void {
    this.securityGroup.addIngressRule(peer, ec2.Port.tcp(this.port), `${description}: IAM over TLS`);
  }

  /** Lets a principal connect (IAM auth) and describe the cluster. */
  grantConnect(grantee: iam.IGrantable): iam.Grant {
    const [statement] = kafkaConnectStatements(this, this);
    return iam.Grant.addToPrincipal({ grantee, actions: statement.actions, resourceArns: statement.resources });
  }

  /**
   * Least-privilege access to exact topics (and consumer groups by prefix), plus connect. E.g. the worker:
   * `grantTopic(role, { topics: ['user-activity', 'user-activity.dlq'], access: 'produce-consume', consumerGroupPrefix: 'connecthub-worker-' })`.
   */
  grantTopic(grantee: iam.IGrantable, options: KafkaTopicGrantOptions): iam.Grant {
    return grantKafkaTopics(grantee, this, this, options);
  }

  /**
   * Prepares this cluster to be the source (or target) of MSK Replicator: a security group for the replicator's
   * ENIs in this VPC, admitted to the brokers, and (provisioned, multi-VPC) a cluster policy letting MSK Replicator
   * (service principal kafka.amazonaws.com, this account only) create the multi-VPC connection and read bootstrap
   * brokers, which a cross-region replicator needs on its source. Idempotent. Returns the security group.
   */
  allowMskReplicatorAccess(options: { readonly crossRegionSource?: boolean } = {}): ec2.ISecurityGroup {
    if (!this.replicatorSecurityGroup) {
      const sg = new ec2.SecurityGroup(this, 'ReplicatorSecurityGroup', {
        vpc: this.vpc,
        description: `MSK Replicator ENIs for ${this.node.path}: egress to the brokers on 9098 only`,
        allowAllOutbound: false,
      });
      sg.connections.allowTo(this.securityGroup, ec2.Port.tcp(this.port), 'MSK Replicator to brokers (IAM over TLS)');
      this.replicatorSecurityGroup = sg;
    }
    if (this.mode !== 'provisioned' || !options.crossRegionSource) return this.replicatorSecurityGroup;
    if (!this.multiVpcIamConnectivity) {
      throw new Error(`KafkaCluster ${this.node.path}: allowMskReplicatorAccess({ crossRegionSource: true }) needs multiVpcIamConnectivity: true (a provisioned source of a cross-region MSK Replicator must have multi-VPC IAM connectivity)`);
    }
    if (this.clusterPolicy) return this.replicatorSecurityGroup;
    const stack = Stack.of(this);
    this.policyStatements.push(new iam.PolicyStatement({
      sid: 'MskReplicatorMultiVpc',
      principals: [new iam.ServicePrincipal('kafka.amazonaws.com')],
      actions: ['kafka:CreateVpcConnection', 'kafka:GetBootstrapBrokers', 'kafka:DescribeClusterV2'],
      resources: [this.clusterArn],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }));
    this.clusterPolicy = new msk.CfnClusterPolicy(this, 'ClusterPolicy', {
      clusterArn: this.clusterArn,
      policy: new iam.PolicyDocument({ statements: this.policyStatements }).toJSON(),
    });
    Validations.of(this.clusterPolicy).acknowledge({
      id: 'AwsSolutions-IAM5',
      reason: 'Not applicable: the cluster policy names only this cluster ARN and the MSK service principal of this account.',
    });
    return this.replicatorSecurityGroup;
  }
}
