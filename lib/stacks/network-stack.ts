import { Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { ConnectHubVpc } from '../../constructs/network/connecthub-vpc';
import { RegionConfig } from '../config/environment-config';
import { DataProtection } from '../policy/data-protection';
import { NETWORK_KEYS, publishValue, publishVpc } from '../wiring/shared-parameters';

export interface NetworkStackProps extends StackProps {
  /** Environment name, for the shared parameter names. */
  readonly envName: string;
  /** The region's network settings. */
  readonly regionConfig: RegionConfig;
  /** The environment's data-protection settings (flow-log retention and removal). */
  readonly protection: DataProtection;
}

/**
 * Per-region network: the VPC every other regional stack lives in, and the two client security groups the data
 * stores admit (backend workloads; Lambdas that touch data). Ids are shared through SSM parameters.
 */
export class NetworkStack extends Stack {
  public readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { envName } = props;
    const region = props.regionConfig.region;
    const network = new ConnectHubVpc(this, 'Network', {
      cidr: props.regionConfig.vpcCidr,
      availabilityZones: props.regionConfig.availabilityZones,
      natGateways: props.regionConfig.natGateways,
      flowLogRetention: props.protection.logRetention,
      removalPolicy: props.protection.removalPolicy,
    });
    this.vpc = network.vpc;

    // The data stores admit this group for backend workloads that run outside the EKS cluster's own security group
    // (security groups for pods, or a custom Auto Mode NodeClass). Today the pods carry the cluster security group,
    // which the platform stack admits at the proxy, Redis and MSK with rules of its own.
    const workloads = new ec2.SecurityGroup(this, 'WorkloadSecurityGroup', {
      vpc: this.vpc,
      description: 'ConnectHub backend workloads outside the EKS cluster security group; admitted by RDS Proxy, Redis and MSK',
      allowAllOutbound: true,
    });
    const dataClients = new ec2.SecurityGroup(this, 'DataClientSecurityGroup', {
      vpc: this.vpc,
      description: 'ConnectHub Lambdas that reach the data stores (migrations, maintenance, topics, lag)',
      allowAllOutbound: true,
    });
    publishVpc(this, envName, region, this.vpc);
    publishValue(this, envName, region, NETWORK_KEYS.workloadSecurityGroupId, workloads.securityGroupId);
    publishValue(this, envName, region, NETWORK_KEYS.dataClientSecurityGroupId, dataClients.securityGroupId);
  }
}
