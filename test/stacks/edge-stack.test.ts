import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { resolveEnvironments } from '../../lib/config/resolve-environments';
import { dataProtectionFor } from '../../lib/policy/data-protection';
import { addStageChecks } from '../../lib/security-gates';
import { EdgeStack } from '../../lib/stacks/edge-stack';
import { projectContext } from '../edge/edge-fixture';

/**
 * The edge stack from configuration to template: staging as shipped (no domain) and staging with a domain and
 * certificate set through `-c staging:edgeDomainNames` / `-c staging:edgeCertificateArn`. One app, synthesized once.
 */
const CERT = 'arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-1111-2222-3333-444455556666';
const [plainConfig] = resolveEnvironments((key) => ({ env: 'staging', account: '111111111111' } as Record<string, unknown>)[key]);
const [domainConfig] = resolveEnvironments((key) => ({
  env: 'staging',
  account: '111111111111',
  'staging:edgeDomainNames': 'connecthub.example.com,www.connecthub.example.com',
  'staging:edgeCertificateArn': CERT,
} as Record<string, unknown>)[key]);

let plain: Template;
let withDomain: Template;

beforeAll(() => {
  const app = new App({ context: projectContext() });
  addStageChecks(app);
  const env = { account: '111111111111', region: 'us-east-1' };
  const plainStack = new EdgeStack(app, 'PlainEdge', { env, config: plainConfig, protection: dataProtectionFor(plainConfig) });
  const domainStack = new EdgeStack(app, 'DomainEdge', { env, config: domainConfig, protection: dataProtectionFor(domainConfig) });
  plain = Template.fromStack(plainStack);
  withDomain = Template.fromStack(domainStack);
}, 300_000);

function distributionConfig(template: Template): any {
  return (Object.values(template.findResources('AWS::CloudFront::Distribution'))[0] as any).Properties.DistributionConfig;
}

function acknowledgedRules(template: Template): string[] {
  const distribution = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0] as any;
  return (distribution.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((r: { id: string }) => r.id);
}

describe('edge stack custom domain', () => {
  test('with domainNames and certificateArn: the aliases, the ACM certificate over SNI and TLSv1.2_2021 at least', () => {
    const config = distributionConfig(withDomain);
    expect(config.Aliases).toEqual(['connecthub.example.com', 'www.connecthub.example.com']);
    expect(config.ViewerCertificate).toEqual({ AcmCertificateArn: CERT, SslSupportMethod: 'sni-only', MinimumProtocolVersion: 'TLSv1.2_2021' });
    // The TLS finding is fixed, not acknowledged.
    expect(acknowledgedRules(withDomain)).not.toContain('AwsSolutions-CFR4');
  });

  test('without: no aliases, the default certificate, and the TLS finding acknowledged with its reason', () => {
    const config = distributionConfig(plain);
    expect(config.Aliases).toBeUndefined();
    expect(config.ViewerCertificate).toBeUndefined();
    expect(acknowledgedRules(plain)).toContain('AwsSolutions-CFR4');
  });

  test('the domain changes only the distribution: same resources otherwise', () => {
    const types = (t: Template) => Object.values(t.toJSON().Resources).map((r: any) => r.Type).sort();
    expect(types(withDomain)).toEqual(types(plain));
  });
});
