/**
 * Shared scaffolding for the data-construct tests: an App with the project's feature flags (cdk.json context),
 * a stack with an explicit account/region, a VPC over explicitly listed AZs (no lookups), and cdk-nag runs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, PolicyValidationPluginReport, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';

export const ACCOUNT = '111111111111';

export function projectContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'cdk.json'), 'utf8'));
  return cdkJson.context;
}

export function newApp(): App {
  return new App({ context: projectContext() });
}

export function newStack(app: App, id: string, region = 'us-east-1'): Stack {
  return new Stack(app, id, { env: { account: ACCOUNT, region } });
}

/**
 * Test scaffolding standing in for the network stack: three explicit AZs, public (NAT), private-with-egress ("app")
 * and isolated ("data") subnets. Its own network findings are acknowledged here, since the real VPC (with flow logs)
 * is the network stack's, so that cdk-nag runs over whole test stacks report only the data constructs.
 */
export function testVpc(stack: Stack, id = 'Vpc'): ec2.Vpc {
  const region = stack.region;
  const vpc = new ec2.Vpc(stack, id, {
    availabilityZones: [`${region}a`, `${region}b`, `${region}c`],
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ],
  });
  for (const rule of ['AwsSolutions-VPC7', 'NIST.800.53.R5-VPCFlowLogsEnabled', 'NIST.800.53.R5-VPCSubnetAutoAssignPublicIpDisabled', 'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW']) {
    Validations.of(vpc).acknowledge({ id: rule, reason: 'Test scaffolding for the data constructs; the network stack owns the real VPC, its flow logs and its public (NAT) subnets.' });
  }
  return vpc;
}

export interface NagFinding {
  readonly pack: string;
  readonly rule: string;
  readonly resources: string[];
}

/** Runs AwsSolutions and NIST 800-53 r5 on the given scopes and returns every unacknowledged finding. */
export function nagFindings(...scopes: IConstruct[]): NagFinding[] {
  const findings: NagFinding[] = [];
  for (const scope of scopes) {
    for (const pack of [new AwsSolutionsChecks(), new NIST80053R5Checks()]) {
      const report: PolicyValidationPluginReport = pack.validateScope(scope);
      for (const violation of report.violations) {
        findings.push({
          pack: pack.name,
          rule: violation.ruleName,
          resources: violation.violatingResources.map((r) => (r as { constructPath?: string }).constructPath ?? String(r.resourceLogicalId)),
        });
      }
    }
  }
  return findings;
}
