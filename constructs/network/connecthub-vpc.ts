import { RemovalPolicy, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Props of {@link ConnectHubVpc}. */
export interface ConnectHubVpcProps {
  /** The VPC's IPv4 CIDR, a /16 to /20. */
  readonly cidr: string;
  /** Availability zones, listed explicitly so synth needs no lookup. */
  readonly availabilityZones: readonly string[];
  /** NAT gateways (1 to the zone count). */
  readonly natGateways: number;
  /** Flow-log retention. */
  readonly flowLogRetention: logs.RetentionDays;
  /** What happens to the flow-log group and its key when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * AWS services reached through interface endpoints, so that pods and Lambdas call them without the NAT.
   * @default ECR (api, dkr), Secrets Manager, CloudWatch Logs and metrics, STS, KMS, EKS Auth (Pod Identity), X-Ray
   */
  readonly interfaceEndpoints?: readonly ec2.InterfaceVpcEndpointAwsService[];
}

const DEFAULT_INTERFACE_ENDPOINTS = [
  ec2.InterfaceVpcEndpointAwsService.ECR,
  ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
  ec2.InterfaceVpcEndpointAwsService.STS,
  ec2.InterfaceVpcEndpointAwsService.KMS,
  ec2.InterfaceVpcEndpointAwsService.EKS_AUTH,
  ec2.InterfaceVpcEndpointAwsService.XRAY,
];

/**
 * The regional VPC: public subnets (NAT gateways and internet-facing load balancers only), private subnets with
 * egress (EKS pods, Lambdas) and isolated subnets (Aurora, ElastiCache, MSK), an S3 gateway endpoint, interface
 * endpoints, and KMS-encrypted flow logs of all traffic.
 */
export class ConnectHubVpc extends Construct {
  public readonly vpc: ec2.Vpc;
  /** The key encrypting the flow-log group. */
  public readonly flowLogKey: kms.Key;

  constructor(scope: Construct, id: string, props: ConnectHubVpcProps) {
    super(scope, id);
    const prefix = Number(props.cidr.split('/')[1]);
    if (!(prefix >= 16 && prefix <= 20)) {
      throw new Error(`ConnectHubVpc: cidr = "${props.cidr}": a /16 to /20 is required`);
    }

    // Subnet sizes scale with the VPC: most addresses go to the private tier, where EKS gives every pod a VPC IP.
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      availabilityZones: [...props.availabilityZones],
      natGateways: props.natGateways,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        // Largest first so that the quarter-of-the-VPC private subnets stay aligned.
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: prefix + 2 },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: prefix + 6 },
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: prefix + 8, mapPublicIpOnLaunch: false },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    // The subnet-discovery tags of EKS Auto Mode's load balancer controller: internal NLBs (the backend's, behind
    // CloudFront's VPC origins) go to the private subnets, internet-facing ones to the public subnets. The platform
    // stacks import these subnets and cannot tag them, so they are tagged where they are created.
    for (const subnet of this.vpc.privateSubnets) Tags.of(subnet).add('kubernetes.io/role/internal-elb', '1');
    for (const subnet of this.vpc.publicSubnets) Tags.of(subnet).add('kubernetes.io/role/elb', '1');

    this.flowLogKey = new kms.Key(this, 'FlowLogKey', {
      description: 'Encrypts the VPC flow-log group',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    const region = Stack.of(this).region;
    this.flowLogKey.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${region}.amazonaws.com`));
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention,
      encryptionKey: this.flowLogKey,
      removalPolicy: props.removalPolicy,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    for (const service of props.interfaceEndpoints ?? DEFAULT_INTERFACE_ENDPOINTS) {
      const name = service.shortName.replace(/[^a-zA-Z0-9]/g, '-');
      // `open: false` plus an explicit rule on the literal CIDR: HTTPS from inside the VPC only, and a rule the
      // security checks can read (the default rule references the VPC's CIDR attribute, which they cannot resolve).
      const endpoint = this.vpc.addInterfaceEndpoint(`Endpoint-${name}`, {
        service,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        privateDnsEnabled: true,
        open: false,
      });
      endpoint.connections.allowFrom(ec2.Peer.ipv4(props.cidr), ec2.Port.tcp(443), 'HTTPS from inside the VPC');
    }

    // Public subnets exist for NAT gateways and internet-facing load balancers; a default route to the internet
    // gateway is their purpose. Nothing else is placed in them (mapPublicIpOnLaunch is off).
    for (const subnet of this.vpc.publicSubnets) {
      const route = subnet.node.tryFindChild('DefaultRoute');
      if (route) {
        Validations.of(route).acknowledge({
          id: 'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW',
          reason: 'Public subnet route table: holds only NAT gateways and internet-facing load balancers, which need the route to the internet gateway.',
        });
      }
    }
  }
}
