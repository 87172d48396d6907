import { Fn, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { RegionConfig } from '../config/environment-config';

/**
 * Cross-stack wiring through SSM parameters with names known at synth (`/connecthub/<env>/<region>/<key>`), in place
 * of CDK's automatic `Fn::ImportValue` exports: a producer can later change or drop a value without the export lock,
 * and every consumer stack reads the current value at deploy time.
 */
export function parameterName(env: string, region: string, key: string): string {
  return `/connecthub/${env}/${region}/${key}`;
}

/** Writes one shared value (producer side). */
export function publishValue(scope: Construct, env: string, region: string, key: string, value: string): ssm.StringParameter {
  return new ssm.StringParameter(scope, `Shared-${key.replace(/[^A-Za-z0-9]/g, '-')}`, {
    parameterName: parameterName(env, region, key),
    stringValue: value,
    description: `ConnectHub ${env} ${region}: ${key} (read by other stacks of the environment)`,
  });
}

/** Reads one shared value (consumer side): a deploy-time reference, resolved by CloudFormation. */
export function readValue(scope: Construct, env: string, region: string, key: string): string {
  return ssm.StringParameter.valueForStringParameter(scope, parameterName(env, region, key));
}

/** The keys the network stack publishes. */
export const NETWORK_KEYS = {
  vpcId: 'network/vpc-id',
  privateSubnetIds: 'network/private-subnet-ids',
  isolatedSubnetIds: 'network/isolated-subnet-ids',
  publicSubnetIds: 'network/public-subnet-ids',
  privateRouteTableIds: 'network/private-route-table-ids',
  isolatedRouteTableIds: 'network/isolated-route-table-ids',
  workloadSecurityGroupId: 'network/workload-security-group-id',
  dataClientSecurityGroupId: 'network/data-client-security-group-id',
} as const;

/** Publishes the VPC's ids so other stacks of the region can import it without exports. */
export function publishVpc(scope: Construct, env: string, region: string, vpc: ec2.IVpc): void {
  const join = (items: string[]) => Fn.join(',', items);
  publishValue(scope, env, region, NETWORK_KEYS.vpcId, vpc.vpcId);
  publishValue(scope, env, region, NETWORK_KEYS.privateSubnetIds, join(vpc.privateSubnets.map((s) => s.subnetId)));
  publishValue(scope, env, region, NETWORK_KEYS.isolatedSubnetIds, join(vpc.isolatedSubnets.map((s) => s.subnetId)));
  publishValue(scope, env, region, NETWORK_KEYS.publicSubnetIds, join(vpc.publicSubnets.map((s) => s.subnetId)));
  publishValue(scope, env, region, NETWORK_KEYS.privateRouteTableIds, join(vpc.privateSubnets.map((s) => s.routeTable.routeTableId)));
  publishValue(scope, env, region, NETWORK_KEYS.isolatedRouteTableIds, join(vpc.isolatedSubnets.map((s) => s.routeTable.routeTableId)));
}

/**
 * The region's VPC in a consumer stack. Zones and CIDR are plain config values; ids are deploy-time reads of the
 * network stack's parameters, split into as many items as there are zones.
 */
/** The subnet tiers a consumer stack places resources in. */
export type SubnetTier = 'private' | 'isolated';

/**
 * The network stack's VPC, imported with only the subnet tiers this stack uses: every value read becomes a template
 * parameter, and an unused one is a CloudFormation validation finding. Route tables are not imported: routing belongs
 * to the network stack, and no consumer changes it.
 */
export function importVpc(scope: Construct, env: string, regionConfig: RegionConfig, tiers: readonly SubnetTier[]): ec2.IVpc {
  if (tiers.length === 0) throw new Error('importVpc: name at least one subnet tier (private, isolated)');
  const zones = regionConfig.availabilityZones.length;
  const list = (key: string) => Fn.split(',', readValue(scope, env, regionConfig.region, key), zones);
  const vpc = ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId: readValue(scope, env, regionConfig.region, NETWORK_KEYS.vpcId),
    vpcCidrBlock: regionConfig.vpcCidr,
    availabilityZones: [...regionConfig.availabilityZones],
    ...(tiers.includes('private') ? { privateSubnetIds: list(NETWORK_KEYS.privateSubnetIds) } : {}),
    ...(tiers.includes('isolated') ? { isolatedSubnetIds: list(NETWORK_KEYS.isolatedSubnetIds) } : {}),
  });
  Validations.of(vpc).acknowledge({
    id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
    reason: 'Imported subnets without route tables on purpose: routing belongs to the network stack, and no resource of this stack reads or changes a route table.',
  });
  return vpc;
}

/** A security group published by the network stack, imported by id (rules added here live in the consumer stack). */
export function importSecurityGroup(scope: Construct, id: string, env: string, region: string, key: string): ec2.ISecurityGroup {
  return ec2.SecurityGroup.fromSecurityGroupId(scope, id, readValue(scope, env, region, key), { allowAllOutbound: false });
}
