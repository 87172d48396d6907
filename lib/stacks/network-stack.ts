import { Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { ConnectHubVpc } from '../../constructs/network/connecthub-vpc';
import { RegionConfig } from '../config/environment-config';
import { DataProtection } from '../policy/data-protection';

export interface NetworkStackProps extends StackProps {
  /** The region's network settings. */
  readonly regionConfig: RegionConfig;
  /** The environment's data-protection settings (flow-log retention and removal). */
  readonly protection: DataProtection;
}

/** Per-region network: the VPC every other regional stack lives in. */
export class NetworkStack extends Stack {
  public readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const network = new ConnectHubVpc(this, 'Network', {
      cidr: props.regionConfig.vpcCidr,
      availabilityZones: props.regionConfig.availabilityZones,
      natGateways: props.regionConfig.natGateways,
      flowLogRetention: props.protection.logRetention,
      removalPolicy: props.protection.removalPolicy,
    });
    this.vpc = network.vpc;
  }
}
