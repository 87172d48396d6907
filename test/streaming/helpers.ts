import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** A stack with a three-AZ VPC (explicit AZs, no lookups) and a "pods" security group. */
export function networkStack(region = 'us-east-1', id = 'Data', app = new App()) {
  const stack = new Stack(app, id, { env: { account: '111111111111', region } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: [`${region}a`, `${region}b`, `${region}c`],
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    ],
  });
  const pods = new ec2.SecurityGroup(stack, 'PodsSg', { vpc });
  return { app, stack, vpc, pods, privateSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } };
}

/**
 * cdk-nag AwsSolutions + NIST 800-53 r5 findings under a scope (usually the whole stack, so that stack-level
 * singletons such as the AwsCustomResource function are included), as `rule: construct paths` lines. Findings on
 * the test fixture's own VPC (not ours to fix) are left out.
 */
export function nagFindings(scope: IConstruct, ignore: RegExp = /\/Vpc\//): string[] {
  const findings: string[] = [];
  for (const pack of [new AwsSolutionsChecks(), new NIST80053R5Checks()]) {
    for (const v of pack.validateScope(scope).violations) {
      const paths = v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId ?? '?').filter((p) => !ignore.test(p));
      if (paths.length > 0) findings.push(`${v.ruleName}: ${paths.join(' ')}`);
    }
  }
  return findings;
}
