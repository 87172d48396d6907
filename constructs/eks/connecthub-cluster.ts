/**
 * The ConnectHub EKS platform of one region: an EKS Auto Mode cluster (Kubernetes 1.35), its add-ons,
 * one least-privilege Pod Identity role per backend workload, KEDA with its own Pod Identity, an Amazon
 * Managed Service for Prometheus workspace fed by an agentless managed scraper (the request-rate metric
 * source), and `addBackendChart()` which applies the cdk8s backend chart and exposes the NLB hostnames and ARNs.
 *
 * No lookups: every version is pinned here (overridable through `versions`), nothing is resolved at synth.
 */
import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as aps from 'aws-cdk-lib/aws-aps';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IConstruct } from 'constructs';
import type { BackendChart } from '../../cdk8s/backend-chart';
import { BACKEND_CONTRACT } from '../../cdk8s/backend-contract';
import { checkWorkloadPolicies } from '../../cdk8s/workload-policy';
import {
  BACKEND_NAMESPACE,
  KEDA_NAMESPACE,
  KEDA_OPERATOR_SERVICE_ACCOUNT,
  WORKLOADS,
  type WorkloadName,
  serviceAccountName,
} from '../../cdk8s/workload-names';
import { COLLECTOR_SERVICE_NAME as COLLECTOR_SERVICE_ACCOUNT } from '../observability/otel-config';
import { LoadBalancerLookup } from './load-balancer-lookup';

/** Pinned versions of everything the cluster installs. Check before bumping (see docs/kubernetes.md). */
export interface PlatformVersions {
  /** EKS community add-on `metrics-server` (resource metrics for the HPAs KEDA creates). */
  readonly metricsServer: string;
  /** EKS add-on `amazon-cloudwatch-observability` (Container Insights, container logs). */
  readonly cloudWatchObservability: string;
  /** EKS add-on `aws-secrets-store-csi-driver-provider` (Secrets Store CSI driver + AWS provider). */
  readonly secretsStoreCsiProvider: string;
  /** KEDA Helm chart version (kedacore/keda). */
  readonly kedaChart: string;
  /** kube-state-metrics Helm chart version (prometheus-community/kube-state-metrics): HPA replica metrics. */
  readonly kubeStateMetricsChart: string;
}

/** Versions checked for Kubernetes 1.35 in November 2026. */
export const DEFAULT_PLATFORM_VERSIONS: PlatformVersions = {
  metricsServer: 'v0.8.0-eksbuild.1',
  cloudWatchObservability: 'v4.7.0-eksbuild.1',
  secretsStoreCsiProvider: 'v2.1.1-eksbuild.1',
  kedaChart: '2.22.0',
  // Chart 8.4.0 = kube-state-metrics 2.20.0 (August 2026).
  kubeStateMetricsChart: '8.4.0',
};

/** Where kube-state-metrics runs: the OpenTelemetry collector scrapes `kube-state-metrics.kube-system.svc:8080`. */
export const KUBE_STATE_METRICS = { release: 'kube-state-metrics', namespace: 'kube-system', port: 8080 } as const;

/** The control-plane log types, all five. */
export const CONTROL_PLANE_LOG_TYPES = [
  eks.ClusterLoggingTypes.API,
  eks.ClusterLoggingTypes.AUDIT,
  eks.ClusterLoggingTypes.AUTHENTICATOR,
  eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
  eks.ClusterLoggingTypes.SCHEDULER,
];

/** What one workload may do in AWS. Everything is optional; nothing is granted unless listed. */
export interface WorkloadAccess {
  /**
   * Secrets the workload reads (through the CSI driver, as the pod). Uses `secret.grantRead`, which also
   * grants decrypt on the secret's key.
   * @default - none
   */
  readonly readSecrets?: readonly secretsmanager.ISecret[];
  /**
   * Secret ARNs to read, when no `ISecret` is at hand (plain list). Give the full ARN.
   * @default - none
   */
  readonly readSecretArns?: readonly string[];
  /**
   * Customer-managed KMS keys that encrypt `readSecretArns`: the role gets kms:Decrypt on each, through Secrets
   * Manager only (kms:ViaService). Without it, GetSecretValue fails on such a secret and the CSI volume never mounts.
   * @default - none (the secrets use the AWS-managed key)
   */
  readonly secretKeys?: readonly kms.IKey[];
  /**
   * RDS Proxies and the database user to connect as with IAM auth (`proxy.grantConnect`).
   * @default - none
   */
  readonly rdsProxyConnect?: ReadonlyArray<{ readonly proxy: rds.IDatabaseProxy; readonly dbUser: string }>;
  /**
   * `rds-db:connect` resource ARNs (`arn:aws:rds-db:<region>:<account>:dbuser:prx-…/<user>`), as a plain list.
   * @default - none
   */
  readonly rdsConnectArns?: readonly string[];
  /**
   * MSK IAM access: the cluster, the topics it reads or writes, and its consumer groups. Writers also get
   * kafka-cluster:WriteDataIdempotently on the cluster: the backend's kafkajs producers are idempotent.
   * @default - no Kafka access
   */
  readonly kafka?: {
    readonly clusterArn: string;
    readonly readTopicArns?: readonly string[];
    readonly writeTopicArns?: readonly string[];
    readonly groupArns?: readonly string[];
  };
  /**
   * CloudWatch namespace the workload may publish metrics to (condition on `cloudwatch:namespace`).
   * @default - no PutMetricData
   */
  readonly cloudWatchNamespace?: string;
  /**
   * Grants from other constructs, e.g. `(g) => bucket.grantRead(g)`.
   * @default - none
   */
  readonly grants?: ReadonlyArray<(grantee: iam.IGrantable) => void>;
}

/** What KEDA must read to compute the queue length (worker consumer lag). */
export interface KafkaLagAccess {
  /** MSK cluster ARN. */
  readonly clusterArn: string;
  /** Topics whose offsets KEDA reads. */
  readonly topicArns: readonly string[];
  /** Consumer groups whose committed offsets KEDA reads. */
  readonly groupArns: readonly string[];
}

/** What the collector's Pod Identity role may read for an APM vendor. */
export interface CollectorApmAccess {
  /** Full ARN of the Secrets Manager secret with the vendor's API key. */
  readonly apiKeySecretArn: string;
  /**
   * Customer-managed KMS key of that secret (the collector role gets kms:Decrypt on it).
   * @default - the secret uses the AWS-managed key
   */
  readonly encryptionKey?: kms.IKey;
}

export interface ConnectHubClusterProps {
  /** Cluster name (explicit, so the control-plane log group can be created with retention and KMS first). */
  readonly clusterName: string;
  /** The regional VPC (DNS hostnames and support enabled). */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the control-plane ENIs, the kubectl handler and the Prometheus scraper (at least two AZs).
   * @default - the VPC's private subnets with egress
   */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * CIDRs allowed to reach a public API endpoint. Empty or absent: the endpoint is private only.
   * @default - private endpoint
   */
  readonly publicAccessCidrs?: readonly string[];
  /** IAM role ARNs that get cluster-admin access entries (operators, break-glass). */
  readonly adminRoleArns: readonly string[];
  /**
   * Whether the deploying principal becomes cluster admin at creation. Keep false in prod: admins come from
   * `adminRoleArns`, and the kubectl handler has its own access entry. (Changing it replaces the cluster.)
   * @default false
   */
  readonly bootstrapClusterCreatorAdminPermissions?: boolean;
  /**
   * KMS key for envelope encryption of Kubernetes secrets.
   * @default - a new key with rotation
   */
  readonly secretsEncryptionKey?: kms.IKey;
  /**
   * KMS key for the control-plane and Container Insights log groups and the Prometheus workspace.
   * @default - a new key with rotation, usable by CloudWatch Logs in this region
   */
  readonly logsEncryptionKey?: kms.IKey;
  /**
   * Retention of the control-plane and Container Insights logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Removal policy of the log groups and the keys this construct creates.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Pinned add-on and chart versions.
   * @default DEFAULT_PLATFORM_VERSIONS
   */
  readonly versions?: Partial<PlatformVersions>;
  /**
   * AWS access per workload (its Pod Identity role gets exactly this).
   * @default - no AWS access beyond the pods' own identity
   */
  readonly workloadAccess?: Partial<Record<WorkloadName, WorkloadAccess>>;
  /**
   * What KEDA reads for the worker's queue-length trigger.
   * @default - KEDA gets no MSK access (the Kafka trigger would fail; CPU/memory still scale)
   */
  readonly kafkaLag?: KafkaLagAccess;
  /**
   * The APM vendor key the OpenTelemetry collector reads (through the CSI driver, as the collector pod). Give the
   * same ARN as the chart's `BackendChartProps.apm.apiKeySecretArn`; `addBackendChart` refuses a mismatch.
   * @default - no APM: the collector's role reads no secret
   */
  readonly apm?: CollectorApmAccess;
  /**
   * Tags on the cluster.
   * @default - none
   */
  readonly tags?: Record<string, string>;
}

/** What `addBackendChart` returns: the applied manifest and the NLBs' hostnames and ARNs for the edge stack. */
export interface BackendDeployment {
  readonly manifest: eks.KubernetesManifest;
  /** DNS name of the api NLB (deploy-time value). */
  readonly apiLoadBalancerHostname: string;
  /** DNS name of the realtime NLB (deploy-time value). */
  readonly realtimeLoadBalancerHostname: string;
  /** ARN of the api NLB, looked up by its fixed name (deploy-time value; a CloudFront VPC origin needs it). */
  readonly apiLoadBalancerArn: string;
  /** ARN of the realtime NLB, looked up by its fixed name (deploy-time value). */
  readonly realtimeLoadBalancerArn: string;
}

const CLUSTER_NAME = /^[a-zA-Z][a-zA-Z0-9-_]{0,99}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

/** Throws one error listing every problem in the props. */
export function validateConnectHubClusterProps(props: ConnectHubClusterProps): void {
  const problems: string[] = [];
  const bad = (field: string, value: unknown, allowed: string) => problems.push(`${field}=${JSON.stringify(value)}: ${allowed}`);
  const literal = (v: string) => !Token.isUnresolved(v);
  if (!CLUSTER_NAME.test(props.clusterName ?? '')) bad('clusterName', props.clusterName, 'a letter then letters, digits, - or _ (max 100)');
  (props.publicAccessCidrs ?? []).forEach((c, i) => {
    if (literal(c) && !CIDR.test(c)) bad(`publicAccessCidrs[${i}]`, c, 'an IPv4 CIDR');
    else if (c === '0.0.0.0/0') bad(`publicAccessCidrs[${i}]`, c, 'a restricted CIDR (an endpoint open to the internet is refused)');
  });
  if (!props.adminRoleArns || props.adminRoleArns.length === 0) {
    bad('adminRoleArns', props.adminRoleArns, 'at least one IAM role ARN (someone must be able to administer the cluster)');
  }
  (props.adminRoleArns ?? []).forEach((a, i) => {
    if (literal(a) && !ROLE_ARN.test(a)) bad(`adminRoleArns[${i}]`, a, 'an IAM role ARN (arn:aws:iam::<account>:role/<name>)');
  });
  for (const [k, v] of Object.entries(props.versions ?? {})) {
    if (typeof v !== 'string' || v.length === 0 || v === 'latest') bad(`versions.${k}`, v, 'a pinned version string');
  }
  for (const [w, access] of Object.entries(props.workloadAccess ?? {})) {
    if (!(WORKLOADS as readonly string[]).includes(w)) bad(`workloadAccess.${w}`, '…', `a workload name (${WORKLOADS.join(', ')})`);
    const a = access as WorkloadAccess | undefined;
    (a?.readSecretArns ?? []).forEach((s, i) => {
      if (literal(s) && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/.test(s)) {
        bad(`workloadAccess.${w}.readSecretArns[${i}]`, s, 'a Secrets Manager secret ARN');
      }
      if (literal(s) && s.includes('*')) bad(`workloadAccess.${w}.readSecretArns[${i}]`, s, 'a full ARN without wildcards');
    });
    (a?.rdsConnectArns ?? []).forEach((s, i) => {
      if (literal(s) && !/^arn:aws[a-z-]*:rds-db:[a-z0-9-]+:\d{12}:dbuser:[^*]+\/[^*]+$/.test(s)) {
        bad(`workloadAccess.${w}.rdsConnectArns[${i}]`, s, 'arn:aws:rds-db:<region>:<account>:dbuser:<proxy or cluster resource id>/<user>, no wildcards');
      }
    });
    if (a?.kafka) checkKafkaArns(problems, `workloadAccess.${w}.kafka`, a.kafka.clusterArn, [
      ['readTopicArns', a.kafka.readTopicArns ?? [], 'topic'],
      ['writeTopicArns', a.kafka.writeTopicArns ?? [], 'topic'],
      ['groupArns', a.kafka.groupArns ?? [], 'group'],
    ]);
    if (a?.cloudWatchNamespace !== undefined && !/^[A-Za-z0-9_./#:-]{1,255}$/.test(a.cloudWatchNamespace)) {
      bad(`workloadAccess.${w}.cloudWatchNamespace`, a.cloudWatchNamespace, 'a CloudWatch namespace (letters, digits, . _ - / # :)');
    } else if (a?.cloudWatchNamespace?.startsWith('AWS/')) {
      bad(`workloadAccess.${w}.cloudWatchNamespace`, a.cloudWatchNamespace, 'a custom namespace (AWS/ is reserved)');
    }
  }
  if (props.apm) {
    const arn = props.apm.apiKeySecretArn;
    if (typeof arn !== 'string' || (literal(arn) && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^*]+$/.test(arn))) {
      bad('apm.apiKeySecretArn', arn, 'a full Secrets Manager secret ARN without wildcards');
    }
  }
  if (props.kafkaLag) {
    checkKafkaArns(problems, 'kafkaLag', props.kafkaLag.clusterArn, [
      ['topicArns', props.kafkaLag.topicArns, 'topic'],
      ['groupArns', props.kafkaLag.groupArns, 'group'],
    ]);
    if (props.kafkaLag.groupArns.length === 0) bad('kafkaLag.groupArns', [], 'at least one consumer group ARN');
  }
  if (problems.length > 0) {
    throw new Error(`Invalid ConnectHubCluster props (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  - ${problems.join('\n  - ')}`);
  }
}

function checkKafkaArns(problems: string[], prefix: string, clusterArn: string, lists: Array<[string, readonly string[], 'topic' | 'group']>): void {
  if (!Token.isUnresolved(clusterArn) && !/^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[^/]+\/[^/*]+$/.test(clusterArn)) {
    problems.push(`${prefix}.clusterArn=${JSON.stringify(clusterArn)}: an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)`);
  }
  for (const [field, arns, kind] of lists) {
    arns.forEach((arn, i) => {
      if (Token.isUnresolved(arn)) return;
      if (!new RegExp(`^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\\d{12}:${kind}/[^/]+/[^/]+/.+$`).test(arn)) {
        problems.push(`${prefix}.${field}[${i}]=${JSON.stringify(arn)}: an MSK ${kind} ARN (arn:aws:kafka:<region>:<account>:${kind}/<cluster>/<uuid>/<name>)`);
      }
    });
  }
}

/**
 * One region's EKS platform for ConnectHub. The lead's platform stack creates it, passes
 * `prometheusQueryEndpoint` into the backend chart, then calls `addBackendChart(chart)`.
 */
export class ConnectHubCluster extends Construct {
  /** The EKS Auto Mode cluster. */
  public readonly cluster: eks.Cluster;
  /** Envelope-encryption key of Kubernetes secrets. */
  public readonly secretsEncryptionKey: kms.IKey;
  /** Key of the log groups and the Prometheus workspace. */
  public readonly logsEncryptionKey: kms.IKey;
  /** Control-plane log group (`/aws/eks/<name>/cluster`). */
  public readonly controlPlaneLogGroup: logs.LogGroup;
  /** Pod Identity role per workload. */
  public readonly workloadRoles: Readonly<Record<WorkloadName, iam.Role>>;
  /** Pod Identity role of the KEDA operator. */
  public readonly kedaRole: iam.Role;
  /** Pod Identity role of the OpenTelemetry collector (X-Ray, its EMF log group, the APM key). */
  public readonly collectorRole: iam.Role;
  /** Set by `addBackendChart`: the log group the collector's EMF exporter writes (metrics source). */
  public collectorLogGroup?: logs.LogGroup;
  /** The KEDA Helm release. */
  public readonly keda: eks.HelmChart;
  /** The kube-state-metrics Helm release (kube-system): HPA replica metrics for the collector. */
  public readonly kubeStateMetrics: eks.HelmChart;
  /** The Prometheus workspace the managed scraper writes to and KEDA reads. */
  public readonly prometheusWorkspace: aps.CfnWorkspace;
  /** Query endpoint of the workspace, for `BackendChartProps.autoscaling.prometheusQueryEndpoint`. */
  public readonly prometheusQueryEndpoint: string;
  /** Pinned versions in use. */
  public readonly versions: PlatformVersions;
  /** Set by `addBackendChart`: api NLB hostname. */
  public apiLoadBalancerHostname?: string;
  /** Set by `addBackendChart`: realtime NLB hostname. */
  public realtimeLoadBalancerHostname?: string;
  /** Set by `addBackendChart`: api NLB ARN. */
  public apiLoadBalancerArn?: string;
  /** Set by `addBackendChart`: realtime NLB ARN. */
  public realtimeLoadBalancerArn?: string;

  private readonly secretsCsi: eks.CfnAddon;
  private readonly workloadAssociations: eks.CfnPodIdentityAssociation[] = [];
  private readonly platformManifests: eks.KubernetesManifest[] = [];
  private backendAdded = false;
  private readonly apmAccess?: CollectorApmAccess;
  private readonly ownLogsKey?: kms.Key;
  private readonly logRetention: logs.RetentionDays;
  private readonly removalPolicy: RemovalPolicy;

  constructor(scope: Construct, id: string, props: ConnectHubClusterProps) {
    super(scope, id);
    validateConnectHubClusterProps(props);
    this.versions = { ...DEFAULT_PLATFORM_VERSIONS, ...props.versions };
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const stack = Stack.of(this);
    this.secretsEncryptionKey =
      props.secretsEncryptionKey ??
      new kms.Key(this, 'SecretsKey', {
        description: `EKS ${props.clusterName}: envelope encryption of Kubernetes secrets`,
        enableKeyRotation: true,
        removalPolicy,
      });
    this.ownLogsKey = props.logsEncryptionKey ? undefined : this.createLogsKey(props.clusterName, removalPolicy);
    this.logsEncryptionKey = props.logsEncryptionKey ?? this.ownLogsKey!;
    this.logRetention = retention;
    this.removalPolicy = removalPolicy;
    this.apmAccess = props.apm;

    // EKS writes to this fixed name; creating it first gives it retention and KMS instead of "never expire".
    this.controlPlaneLogGroup = new logs.LogGroup(this, 'ControlPlaneLogs', {
      logGroupName: `/aws/eks/${props.clusterName}/cluster`,
      retention,
      encryptionKey: this.logsEncryptionKey,
      removalPolicy,
    });
    // Container Insights (Fluent Bit, agent) would otherwise create these without retention or KMS.
    const insightsLogGroups = ['application', 'dataplane', 'host', 'performance'].map(
      (kind) =>
        new logs.LogGroup(this, `ContainerInsights${kind[0].toUpperCase()}${kind.slice(1)}Logs`, {
          logGroupName: `/aws/containerinsights/${props.clusterName}/${kind}`,
          retention,
          encryptionKey: this.logsEncryptionKey,
          removalPolicy,
        }),
    );

    const subnets = props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const publicCidrs = [...(props.publicAccessCidrs ?? [])];
    this.cluster = new eks.Cluster(this, 'Cluster', {
      clusterName: props.clusterName,
      version: eks.KubernetesVersion.V1_35,
      vpc: props.vpc,
      vpcSubnets: [subnets],
      endpointAccess: publicCidrs.length > 0 ? eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...publicCidrs) : eks.EndpointAccess.PRIVATE,
      defaultCapacityType: eks.DefaultCapacityType.AUTOMODE,
      compute: { nodePools: ['system', 'general-purpose'] },
      secretsEncryptionKey: this.secretsEncryptionKey,
      clusterLogging: CONTROL_PLANE_LOG_TYPES,
      bootstrapClusterCreatorAdminPermissions: props.bootstrapClusterCreatorAdminPermissions ?? false,
      kubectlProviderOptions: { kubectlLayer: new KubectlV35Layer(this, 'KubectlLayer') },
      outputConfigCommand: false,
      tags: props.tags,
    });
    this.cluster.node.addDependency(this.controlPlaneLogGroup);
    Validations.of(this.cluster.node.defaultChild!).acknowledge({
      id: 'CloudFormation-Validate::W9009',
      reason: 'aws-eks-v2 renders EncryptionConfig.Resources ["secrets"], the value EKS envelope encryption expects; the schema marks the property deprecated, the API still accepts it.',
    });

    props.adminRoleArns.forEach((arn, i) => this.cluster.grantClusterAdmin(`Admin${i}`, arn));

    // Auto Mode enforces NetworkPolicies once the VPC CNI network-policy controller is switched on.
    this.platformManifests.push(
      new eks.KubernetesManifest(this, 'NetworkPolicyController', {
        cluster: this.cluster,
        // apply (not create): the ConfigMap may already exist on the cluster.
        overwrite: true,
        manifest: [
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' },
            data: { 'enable-network-policy-controller': 'true' },
          },
        ],
      }),
    );

    // --- Add-ons (Auto Mode already runs the VPC CNI, CoreDNS, kube-proxy, EBS CSI, the load balancer
    // controller, the Pod Identity agent and Karpenter-based node scaling as part of the platform).
    const metricsServer = this.addon('MetricsServer', 'metrics-server', this.versions.metricsServer);
    const cloudWatchRole = this.podIdentityRole('CloudWatchAgentRole', 'Container Insights agent and Fluent Bit');
    cloudWatchRole.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('CloudWatchAgentServerPolicy'));
    const cloudWatch = this.addon('CloudWatchObservability', 'amazon-cloudwatch-observability', this.versions.cloudWatchObservability, {
      podIdentityAssociations: [{ serviceAccount: 'cloudwatch-agent', roleArn: cloudWatchRole.roleArn }],
    });
    insightsLogGroups.forEach((g) => cloudWatch.node.addDependency(g));
    this.secretsCsi = this.addon('SecretsStoreCsiProvider', 'aws-secrets-store-csi-driver-provider', this.versions.secretsStoreCsiProvider);

    // --- Pod Identity roles per workload (ServiceAccounts themselves are in the backend chart).
    const roles = {} as Record<WorkloadName, iam.Role>;
    for (const w of WORKLOADS) {
      const role = this.podIdentityRole(`${w[0].toUpperCase()}${w.slice(1)}Role`, `ConnectHub ${w} pods (${BACKEND_NAMESPACE}/${serviceAccountName(w)})`);
      this.applyAccess(role, props.workloadAccess?.[w] ?? {}, w);
      this.workloadAssociations.push(
        new eks.CfnPodIdentityAssociation(this, `${w[0].toUpperCase()}${w.slice(1)}PodIdentity`, {
          clusterName: this.cluster.clusterName,
          namespace: BACKEND_NAMESPACE,
          serviceAccount: serviceAccountName(w),
          roleArn: role.roleArn,
        }),
      );
      roles[w] = role;
    }
    this.workloadRoles = roles;

    // --- OpenTelemetry collector (ADOT, in the backend chart): X-Ray here, its EMF log group in addBackendChart.
    this.collectorRole = this.podIdentityRole('OtelCollectorRole', `OpenTelemetry collector (${BACKEND_NAMESPACE}/${COLLECTOR_SERVICE_ACCOUNT})`);
    this.collectorRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'XRayTraces', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }),
    );
    if (props.apm) {
      this.collectorRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadApmApiKey',
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [props.apm.apiKeySecretArn],
        }),
      );
      if (props.apm.encryptionKey) this.collectorRole.addToPrincipalPolicy(this.decryptThroughSecretsManager('DecryptApmApiKey', [props.apm.encryptionKey]));
    }
    Validations.of(this.collectorRole.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions (Resource must be *); they are the only actions of the collector role on *.',
    });
    this.workloadAssociations.push(
      new eks.CfnPodIdentityAssociation(this, 'OtelCollectorPodIdentity', {
        clusterName: this.cluster.clusterName,
        namespace: BACKEND_NAMESPACE,
        serviceAccount: COLLECTOR_SERVICE_ACCOUNT,
        roleArn: this.collectorRole.roleArn,
      }),
    );

    // --- Prometheus: workspace + agentless managed scraper (request rate for KEDA, dashboards for SLOs).
    this.prometheusWorkspace = new aps.CfnWorkspace(this, 'PrometheusWorkspace', {
      alias: `${props.clusterName}-metrics`,
      kmsKeyArn: this.logsEncryptionKey.keyArn,
    });
    this.prometheusWorkspace.applyRemovalPolicy(removalPolicy);
    // Built from the id (the PrometheusEndpoint attribute ends in "/", and KEDA appends "/api/v1/query").
    this.prometheusQueryEndpoint = `https://aps-workspaces.${stack.region}.${stack.urlSuffix}/workspaces/${this.prometheusWorkspace.attrWorkspaceId}`;
    this.addScraper(props, subnets);

    // --- KEDA with its own Pod Identity (reads the Prometheus workspace and, for lag, MSK metadata).
    this.kedaRole = this.podIdentityRole('KedaOperatorRole', `KEDA operator (${KEDA_NAMESPACE}/${KEDA_OPERATOR_SERVICE_ACCOUNT})`);
    this.kedaRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'QueryBackendMetrics',
        actions: ['aps:QueryMetrics', 'aps:GetSeries', 'aps:GetLabels', 'aps:GetMetricMetadata'],
        resources: [this.prometheusWorkspace.attrArn],
      }),
    );
    this.logsEncryptionKey.grantDecrypt(this.kedaRole);
    if (props.kafkaLag) {
      this.kedaRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'MskConnect', actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], resources: [props.kafkaLag.clusterArn] }),
      );
      this.kedaRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'MskDescribeTopics', actions: ['kafka-cluster:DescribeTopic'], resources: [...props.kafkaLag.topicArns] }),
      );
      this.kedaRole.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'MskDescribeGroups', actions: ['kafka-cluster:DescribeGroup'], resources: [...props.kafkaLag.groupArns] }),
      );
    }
    const kedaAssociation = new eks.CfnPodIdentityAssociation(this, 'KedaPodIdentity', {
      clusterName: this.cluster.clusterName,
      namespace: KEDA_NAMESPACE,
      serviceAccount: KEDA_OPERATOR_SERVICE_ACCOUNT,
      roleArn: this.kedaRole.roleArn,
    });
    this.keda = this.cluster.addHelmChart('Keda', {
      chart: 'keda',
      repository: 'https://kedacore.github.io/charts',
      version: this.versions.kedaChart,
      release: 'keda',
      namespace: KEDA_NAMESPACE,
      createNamespace: true,
      wait: true,
      timeout: Duration.minutes(10),
      values: {
        operator: { replicaCount: 2 },
        metricsServer: { replicaCount: 2 },
        webhooks: { replicaCount: 2 },
        podDisruptionBudget: { operator: { maxUnavailable: 1 }, metricServer: { maxUnavailable: 1 }, webhooks: { maxUnavailable: 1 } },
      },
    });
    // Credentials are injected when the operator pod starts: the association must exist first.
    this.keda.node.addDependency(kedaAssociation);
    // HPAs created by KEDA need resource metrics (cpu/memory triggers).
    this.keda.node.addDependency(metricsServer);

    // --- kube-state-metrics: the HPA replica counts the collector turns into HpaCurrentReplicas/HpaDesiredReplicas
    // (dashboards, "HPA at max" alarms). Only the HPA collector, only the backend namespace: it lists nothing else
    // (its ClusterRole follows the collectors, so it cannot read Secrets or ConfigMaps).
    this.kubeStateMetrics = this.cluster.addHelmChart('KubeStateMetrics', {
      chart: 'kube-state-metrics',
      repository: 'https://prometheus-community.github.io/helm-charts',
      version: this.versions.kubeStateMetricsChart,
      // Release name = chart name: the chart then names its Service `kube-state-metrics` (the collector's target).
      release: KUBE_STATE_METRICS.release,
      namespace: KUBE_STATE_METRICS.namespace,
      wait: true,
      timeout: Duration.minutes(10),
      values: {
        collectors: ['horizontalpodautoscalers'],
        namespaces: BACKEND_NAMESPACE,
        service: { port: KUBE_STATE_METRICS.port },
        // The managed scraper does not look outside the backend namespace; the collector scrapes it by name.
        prometheusScrape: false,
        resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } },
      },
    });

    for (const role of [...Object.values(this.workloadRoles), this.kedaRole, this.collectorRole]) {
      const policy = role.node.tryFindChild('DefaultPolicy');
      if (policy) {
        Validations.of(policy).acknowledge({
          id: 'NIST.800.53.R5-IAMNoInlinePolicy',
          reason: 'Written by grant* and scoped statements for this one Pod Identity role; inline keeps each permission tied to the role it was granted to.',
        });
      }
    }
    Validations.of(cloudWatchRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/CloudWatchAgentServerPolicy]',
      reason: 'The policy AWS documents for the amazon-cloudwatch-observability add-on (agent + Fluent Bit); AWS keeps it in step with the agent. Only the add-on service account can assume this role.',
    });
    this.acknowledgeNagFindings();
  }

  /**
   * Applies the backend chart (after KEDA's CRDs, the CSI driver and the Pod Identity associations exist)
   * and reads the two NLB hostnames back from the cluster for the edge stack.
   */
  public addBackendChart(chart: BackendChart): BackendDeployment {
    if (this.backendAdded) throw new Error('addBackendChart: the backend chart was already added to this cluster (one per cluster)');
    // The Kubernetes gate: nothing reaches the cluster that breaks the restricted profile or the workload rules.
    if (chart.port !== BACKEND_CONTRACT.defaultPort) {
      throw new Error(`addBackendChart: the chart's port ${chart.port} differs from ${BACKEND_CONTRACT.defaultPort}, the port the scraper security group opens; keep the contract's default port`);
    }
    const violations = checkWorkloadPolicies(chart.toJson());
    if (violations.length > 0) {
      throw new Error(`addBackendChart: the chart breaks ${violations.length} workload rule${violations.length > 1 ? 's' : ''}:\n  - ${violations.join('\n  - ')}`);
    }
    const chartApm = chart.otelCollector.apmApiKeySecretArn;
    const grantedApm = this.apmAccess?.apiKeySecretArn;
    if (chartApm !== undefined && grantedApm === undefined) {
      throw new Error(`addBackendChart: the chart sends to an APM vendor with the key ${chartApm}, but the cluster's props.apm grants the collector no secret; set ConnectHubClusterProps.apm.apiKeySecretArn to the same ARN`);
    }
    if (chartApm === undefined && grantedApm !== undefined) {
      throw new Error(`addBackendChart: props.apm grants the collector the secret ${grantedApm}, but the chart has no apm setting; set BackendChartProps.apm or remove ConnectHubClusterProps.apm`);
    }
    if (chartApm !== undefined && grantedApm !== undefined && !Token.isUnresolved(chartApm) && !Token.isUnresolved(grantedApm) && chartApm !== grantedApm) {
      throw new Error(`addBackendChart: the chart's apm.apiKeySecretArn ${chartApm} differs from the cluster's props.apm.apiKeySecretArn ${grantedApm}; they must name the same secret`);
    }
    this.backendAdded = true;
    this.grantCollectorLogs(chart.otelCollector.logGroupName);
    const manifest = this.cluster.addCdk8sChart('BackendManifests', chart);
    manifest.node.addDependency(this.keda);
    manifest.node.addDependency(this.secretsCsi);
    for (const d of [...this.workloadAssociations, ...this.platformManifests]) manifest.node.addDependency(d);
    // The collector writes into its log group from the first batch: the group (with retention and KMS) comes first.
    manifest.node.addDependency(this.collectorLogGroup!);
    const hostname = (service: string, id: string) => {
      const value = new eks.KubernetesObjectValue(this, id, {
        cluster: this.cluster,
        objectType: 'service',
        objectName: service,
        objectNamespace: chart.namespaceName,
        jsonPath: '.status.loadBalancer.ingress[0].hostname',
        timeout: Duration.minutes(10),
      });
      value.node.addDependency(manifest);
      return value.value;
    };
    this.apiLoadBalancerHostname = hostname(chart.loadBalancedServices.api, 'ApiLoadBalancerHostname');
    this.realtimeLoadBalancerHostname = hostname(chart.loadBalancedServices.realtime, 'RealtimeLoadBalancerHostname');
    // The controller names each NLB as the chart asks (aws-load-balancer-name); once the Service reports its
    // hostname the NLB exists, and its ARN (what a CloudFront VPC origin takes) is read by that name.
    const arn = (w: 'api' | 'realtime', id: string, after: string) => {
      const lookup = new LoadBalancerLookup(this, id, { loadBalancerName: chart.loadBalancerNames[w], vpc: this.cluster.vpc });
      lookup.node.addDependency(this.node.findChild(after));
      return lookup.loadBalancerArn;
    };
    this.apiLoadBalancerArn = arn('api', 'ApiLoadBalancerLookup', 'ApiLoadBalancerHostname');
    this.realtimeLoadBalancerArn = arn('realtime', 'RealtimeLoadBalancerLookup', 'RealtimeLoadBalancerHostname');
    return {
      manifest,
      apiLoadBalancerHostname: this.apiLoadBalancerHostname,
      realtimeLoadBalancerHostname: this.realtimeLoadBalancerHostname,
      apiLoadBalancerArn: this.apiLoadBalancerArn,
      realtimeLoadBalancerArn: this.realtimeLoadBalancerArn,
    };
  }

  /**
   * The collector's EMF log group, created here with retention and KMS (the exporter would otherwise create it
   * itself, unencrypted), and the collector's right to write streams into it - nothing else in CloudWatch Logs.
   * The EMF exporter publishes metrics through these log events, so the role needs no cloudwatch:PutMetricData.
   */
  private grantCollectorLogs(logGroupName: string): void {
    const stack = Stack.of(this);
    this.ownLogsKey?.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfTheCollector',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${logGroupName}` } },
      }),
    );
    this.collectorLogGroup = new logs.LogGroup(this, 'CollectorMetricsLogs', {
      logGroupName,
      retention: this.logRetention,
      encryptionKey: this.logsEncryptionKey,
      removalPolicy: this.removalPolicy,
    });
    this.collectorRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EmfMetricsLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.collectorLogGroup.logGroupArn],
      }),
    );
  }

  private createLogsKey(clusterName: string, removalPolicy: RemovalPolicy): kms.Key {
    const stack = Stack.of(this);
    const key = new kms.Key(this, 'LogsKey', {
      description: `EKS ${clusterName}: control-plane and Container Insights logs, Prometheus workspace`,
      enableKeyRotation: true,
      removalPolicy,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfThisCluster',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': [
              `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws/eks/${clusterName}/*`,
              `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws/containerinsights/${clusterName}/*`,
            ],
          },
        },
      }),
    );
    return key;
  }

  /**
   * kms:Decrypt on secret keys, through Secrets Manager in this region only. GetSecretValue decrypts with the caller's
   * own permissions, so a pod reading a secret under a customer-managed key needs this; the condition keeps the role
   * from decrypting anything else with the key. In the role's policy: the keys' default policies delegate to IAM, and
   * an imported key's policy cannot be changed from here.
   */
  private decryptThroughSecretsManager(sid: string, keys: readonly kms.IKey[]): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid,
      actions: ['kms:Decrypt'],
      resources: keys.map((k) => k.keyArn),
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
    });
  }

  private podIdentityRole(id: string, purpose: string): iam.Role {
    const role = new iam.Role(this, id, {
      description: `Pod Identity: ${purpose}`,
      assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com'),
      maxSessionDuration: Duration.hours(1),
    });
    role.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({
        actions: ['sts:TagSession'],
        principals: [new iam.ServicePrincipal('pods.eks.amazonaws.com')],
      }),
    );
    return role;
  }

  private addon(id: string, name: string, version: string, extra: Partial<eks.CfnAddonProps> = {}): eks.CfnAddon {
    const addon = new eks.CfnAddon(this, id, {
      clusterName: this.cluster.clusterName,
      addonName: name,
      addonVersion: version,
      resolveConflicts: 'OVERWRITE',
      preserveOnDelete: false,
      ...extra,
    });
    return addon;
  }

  private applyAccess(role: iam.Role, access: WorkloadAccess, w: WorkloadName): void {
    for (const secret of access.readSecrets ?? []) secret.grantRead(role);
    if ((access.readSecretArns ?? []).length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadMountedSecrets',
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [...access.readSecretArns!],
        }),
      );
    }
    if ((access.secretKeys ?? []).length > 0) role.addToPrincipalPolicy(this.decryptThroughSecretsManager('DecryptMountedSecrets', access.secretKeys!));
    for (const { proxy, dbUser } of access.rdsProxyConnect ?? []) proxy.grantConnect(role, dbUser);
    if ((access.rdsConnectArns ?? []).length > 0) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'RdsIamAuth', actions: ['rds-db:connect'], resources: [...access.rdsConnectArns!] }));
    }
    if (access.kafka) {
      const k = access.kafka;
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'MskConnect', actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], resources: [k.clusterArn] }),
      );
      if ((k.readTopicArns ?? []).length > 0) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ sid: 'MskReadTopics', actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], resources: [...k.readTopicArns!] }),
        );
      }
      if ((k.writeTopicArns ?? []).length > 0) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ sid: 'MskWriteTopics', actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], resources: [...k.writeTopicArns!] }),
        );
        // An idempotent producer (kafkajs `idempotent: true`) asks for a producer id (InitProducerId), which MSK
        // authorizes on the cluster resource; without it every send fails.
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ sid: 'MskIdempotentWrites', actions: ['kafka-cluster:WriteDataIdempotently'], resources: [k.clusterArn] }),
        );
      }
      if ((k.groupArns ?? []).length > 0) {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ sid: 'MskConsumerGroups', actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'], resources: [...k.groupArns!] }),
        );
      }
    }
    if (access.cloudWatchNamespace) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'PublishOwnMetrics',
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': access.cloudWatchNamespace } },
        }),
      );
      const policy = role.node.tryFindChild('DefaultPolicy');
      if (policy) {
        Validations.of(policy).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: `cloudwatch:PutMetricData has no resource-level permissions; the ${w} role is limited to the namespace ${access.cloudWatchNamespace} by the cloudwatch:namespace condition.`,
        });
      }
    }
    for (const grant of access.grants ?? []) grant(role);
  }

  private addScraper(props: ConnectHubClusterProps, subnets: ec2.SubnetSelection): void {
    const scraperSg = new ec2.SecurityGroup(this, 'ScraperSecurityGroup', {
      vpc: props.vpc,
      description: `Managed Prometheus scraper of ${props.clusterName} to the backend metrics port`,
      allowAllOutbound: false,
    });
    const metricsPort = ec2.Port.tcp(BACKEND_CONTRACT.defaultPort);
    scraperSg.addEgressRule(ec2.Peer.securityGroupId(this.cluster.clusterSecurityGroupId), metricsPort, 'backend /metrics');
    scraperSg.addEgressRule(ec2.Peer.securityGroupId(this.cluster.clusterSecurityGroupId), ec2.Port.tcp(443), 'Kubernetes API (pod discovery)');
    new ec2.CfnSecurityGroupIngress(this, 'ScraperToPods', {
      groupId: this.cluster.clusterSecurityGroupId,
      sourceSecurityGroupId: scraperSg.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: BACKEND_CONTRACT.defaultPort,
      toPort: BACKEND_CONTRACT.defaultPort,
      description: 'Managed Prometheus scraper to backend /metrics',
    });
    new ec2.CfnSecurityGroupIngress(this, 'ScraperToApi', {
      groupId: this.cluster.clusterSecurityGroupId,
      sourceSecurityGroupId: scraperSg.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      description: 'Managed Prometheus scraper to the Kubernetes API (pod discovery)',
    });
    const scrapeConfig = [
      'global:',
      '  scrape_interval: 30s',
      '  external_labels:',
      `    cluster: ${props.clusterName}`,
      'scrape_configs:',
      '  - job_name: connecthub-backend',
      '    kubernetes_sd_configs:',
      '      - role: pod',
      '        namespaces:',
      `          names: [${BACKEND_NAMESPACE}]`,
      '    relabel_configs:',
      '      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]',
      '        action: keep',
      '        regex: "true"',
      '      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]',
      '        action: replace',
      '        regex: ([^:]+)(?::\\d+)?;(\\d+)',
      '        replacement: $1:$2',
      '        target_label: __address__',
      '      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]',
      '        action: replace',
      '        regex: (.+)',
      '        target_label: __metrics_path__',
      '      - source_labels: [__meta_kubernetes_namespace]',
      '        target_label: namespace',
      '      - source_labels: [__meta_kubernetes_pod_name]',
      '        target_label: pod',
      '      - source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_component]',
      '        target_label: component',
      '',
    ].join('\n');
    const selected = props.vpc.selectSubnets(subnets);
    new aps.CfnScraper(this, 'PrometheusScraper', {
      alias: `${props.clusterName}-backend`,
      source: {
        eksConfiguration: {
          clusterArn: this.cluster.clusterArn,
          subnetIds: selected.subnetIds,
          securityGroupIds: [scraperSg.securityGroupId],
        },
      },
      scrapeConfiguration: { configurationBlob: Buffer.from(scrapeConfig, 'utf8').toString('base64') },
      destination: { ampConfiguration: { workspaceArn: this.prometheusWorkspace.attrArn } },
    });
    // RBAC the managed collector needs (its access entry maps it to the user aps-collector-user).
    this.platformManifests.push(
      this.cluster.addManifest(
        'ScraperRbac',
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRole',
          metadata: { name: 'aps-collector-role' },
          rules: [
            { apiGroups: [''], resources: ['nodes', 'nodes/proxy', 'nodes/metrics', 'services', 'endpoints', 'pods', 'ingresses', 'configmaps'], verbs: ['describe', 'get', 'list', 'watch'] },
            { apiGroups: ['extensions', 'networking.k8s.io'], resources: ['ingresses/status', 'ingresses'], verbs: ['describe', 'get', 'list', 'watch'] },
            { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
            { nonResourceURLs: ['/metrics'], verbs: ['get'] },
          ],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: 'aps-collector-user-role-binding' },
          subjects: [{ kind: 'User', name: 'aps-collector-user', apiGroup: 'rbac.authorization.k8s.io' }],
          roleRef: { kind: 'ClusterRole', name: 'aps-collector-role', apiGroup: 'rbac.authorization.k8s.io' },
        },
      ),
    );
  }

  /** cdk-nag findings on CDK's own EKS plumbing, acknowledged on the narrowest construct with a reason. */
  private acknowledgeNagFindings(): void {
    const ack = (path: string, id: string, reason: string) => {
      const target = this.cluster.node.tryFindChild(path.split('/')[0]);
      const node = path.split('/').slice(1).reduce((c, p) => c?.node.tryFindChild(p), target);
      if (!node) throw new Error(`ConnectHubCluster: expected construct Cluster/${path} for a cdk-nag acknowledgment; aws-eks-v2 changed its tree`);
      Validations.of(node).acknowledge({ id, reason });
    };
    const logicalId = (path: string) => {
      const element = path.split('/').reduce<IConstruct | undefined>((c, p) => c?.node.tryFindChild(p), this.cluster);
      if (!(element instanceof CfnElement)) throw new Error(`ConnectHubCluster: expected CloudFormation element Cluster/${path}; aws-eks-v2 changed its tree`);
      return Stack.of(this).getLogicalId(element);
    };
    const eksManaged = 'AWS-managed EKS policy that EKS requires on this role and AWS keeps current as the service evolves; a copy would drift.';
    for (const policy of ['AmazonEKSClusterPolicy', 'AmazonEKSComputePolicy', 'AmazonEKSBlockStoragePolicy', 'AmazonEKSLoadBalancingPolicy', 'AmazonEKSNetworkingPolicy']) {
      ack('Role', `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policy}]`, `Auto Mode cluster role: ${eksManaged}`);
    }
    for (const policy of ['AmazonEKSWorkerNodePolicy', 'AmazonEC2ContainerRegistryReadOnly']) {
      ack(`${this.cluster.node.id}nodePoolRole`, `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policy}]`, `Auto Mode node role: ${eksManaged}`);
    }
    const handlerRole = 'KubectlProvider/Handler/ServiceRole';
    const frameworkRole = 'KubectlProvider/Provider/framework-onEvent/ServiceRole';
    const lambdaManaged = 'CDK kubectl custom-resource Lambda: AWS-managed execution-role policies (CloudWatch Logs, VPC ENIs) set by aws-eks-v2.';
    for (const role of [handlerRole, frameworkRole]) {
      ack(role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', lambdaManaged);
      ack(role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]', lambdaManaged);
      ack(role, 'NIST.800.53.R5-IAMNoInlinePolicy', 'CDK kubectl custom-resource roles: inline policies generated by aws-eks-v2, scoped to this cluster and handler.');
    }
    ack(handlerRole, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly]', 'kubectl handler pulls Helm charts from ECR (OCI): read-only registry access set by aws-eks-v2.');
    ack(
      handlerRole,
      `AwsSolutions-IAM4[Policy::{"Fn::If":["${logicalId('KubectlProvider/Handler/HasEcrPublic')}",{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}]`,
      'kubectl handler pulls public OCI Helm charts where ECR Public exists: read-only, set by aws-eks-v2.',
    );
    ack('KubectlProvider/Provider/framework-onEvent/ServiceRole/DefaultPolicy', `AwsSolutions-IAM5[Resource::<${logicalId('KubectlProvider/Handler/Resource')}.Arn>:*]`, 'The provider framework invokes any version of its own kubectl handler (ARN:*); no other function.');
    ack('KubectlProvider/Handler', 'AwsSolutions-L1', 'Runtime chosen by aws-eks-v2 (latest Python it knows) for the kubectl/helm layer; upgraded with aws-cdk-lib.');
    for (const fn of ['KubectlProvider/Handler', 'KubectlProvider/Provider/framework-onEvent']) {
      ack(fn, 'NIST.800.53.R5-LambdaConcurrency', 'Invoked only by CloudFormation during deployments of this stack; concurrency is bounded by the resources in it.');
      ack(fn, 'NIST.800.53.R5-LambdaDLQ', 'Synchronous CloudFormation custom-resource handler: failures are reported to CloudFormation and roll the deployment back, nothing is queued.');
    }
  }
}
