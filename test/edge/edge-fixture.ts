import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { ConnectHubEdge } from '../../constructs/edge/connecthub-edge';
import { ApiRegionalOrigin, ConnectHubEdgeProps } from '../../constructs/edge/edge-props';

/** The project's feature flags (cdk.json context), so tests synthesize what `cdk synth` does. */
export function projectContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'));
  return cdkJson.context ?? {};
}

export const BASE_PROPS: ConnectHubEdgeProps = {
  primaryRegion: 'us-east-1',
  apiOrigins: [regionalOrigin('us-east-1', 'use1'), regionalOrigin('eu-west-1', 'euw1')],
};

/** The api and realtime NLBs of one region, as the platform stack publishes them. */
export function regionalOrigin(region: string, code: string): ApiRegionalOrigin {
  const nlb = (role: string, id: string) => ({
    loadBalancerArn: `arn:aws:elasticloadbalancing:${region}:111122223333:loadbalancer/net/connecthub-dev-${code}-${role}/${id}`,
    domainName: `connecthub-dev-${code}-${role}-${id.slice(0, 10)}.elb.${region}.amazonaws.com`,
  });
  return { region, api: nlb('api', '0123456789abcdef'), realtime: nlb('rt', 'fedcba9876543210') };
}

export interface EdgeFixture {
  readonly app: App;
  readonly stack: Stack;
  readonly edge: ConnectHubEdge;
  readonly template: Template;
}

/** One app, one us-east-1 stack holding a ConnectHubEdge; synthesized once. */
export function synthEdge(props: ConnectHubEdgeProps, region = 'us-east-1', outdir?: string): EdgeFixture {
  const app = new App({ context: projectContext(), outdir });
  const stack = new Stack(app, 'Edge', { env: { account: '111122223333', region } });
  const edge = new ConnectHubEdge(stack, 'Edge', props);
  const template = Template.fromStack(stack);
  return { app, stack, edge, template };
}

/** Unacknowledged cdk-nag findings (AwsSolutions + NIST 800-53 r5) of the app. */
export function nagViolations(app: App): Array<{ ruleName: string; resource: string; description: string }> {
  const out: Array<{ ruleName: string; resource: string; description: string }> = [];
  for (const pack of [new AwsSolutionsChecks(), new NIST80053R5Checks()]) {
    const report = pack.validateScope(app);
    for (const v of report.violations) {
      for (const r of v.violatingResources) {
        out.push({ ruleName: v.ruleName, resource: `${r.constructPath ?? r.resourceLogicalId}`, description: v.description.split('\n')[0] });
      }
    }
  }
  return out;
}
