import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { stacksOf, SynthesizedStack, TEST_ASSEMBLY_DIR, TEST_ENVIRONMENTS } from '../support/synthesized-app';

const ROOT = path.join(__dirname, '..', '..');
const stacks: Record<string, SynthesizedStack[]> = Object.fromEntries(TEST_ENVIRONMENTS.map((env) => [env, stacksOf(env)]));
const all = Object.values(stacks).flat();

/** Runs the app entry point as the CLI would, with the given context, without synthesizing to cdk.out. */
function runApp(context: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'bin/connecthub.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: path.join(ROOT, 'cdk.out.test', 'cli-run') },
    timeout: 60000,
  });
}

describe('the synthesized app', () => {
  test('every environment has its regional stacks in its own regions', () => {
    const regionsOf = (env: string) => [...new Set(stacks[env].filter((s) => s.stackName.includes('-network-')).map((s) => s.region))];
    expect(regionsOf('dev')).toEqual(['us-east-1']);
    expect(regionsOf('staging').sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(regionsOf('prod').sort()).toEqual(['ap-southeast-1', 'eu-west-1', 'us-east-1']);
    expect(regionsOf('pr-7')).toEqual(['us-east-1']);
    for (const s of all) expect(s.stackName).toMatch(new RegExp(`^connecthub-${s.env}-[a-z]+(-[a-z0-9-]+)?$`));
  });

  test('staging and prod stacks have termination protection; dev and pr-N do not', () => {
    for (const s of all) expect(s.terminationProtection).toBe(s.env === 'staging' || s.env === 'prod');
  });

  test('no automatic cross-stack exports or imports', () => {
    for (const s of all) {
      const outputs = Object.values<any>(s.template.Outputs ?? {});
      expect(outputs.filter((o) => o.Export)).toEqual([]);
      expect(JSON.stringify(s.template)).not.toContain('Fn::ImportValue');
    }
  });

  test('every taggable resource carries the four tags', () => {
    for (const s of all) {
      for (const [logicalId, resource] of Object.entries(s.template.Resources)) {
        const tags = resource.Properties?.Tags;
        if (!Array.isArray(tags)) continue;
        const keys = tags.map((t: { Key: string }) => t.Key);
        expect({ logicalId, keys: ['Project', 'Environment', 'CostCenter', 'DataClassification'].filter((k) => !keys.includes(k)) })
          .toEqual({ logicalId, keys: [] });
        expect(tags.find((t: { Key: string; Value: string }) => t.Key === 'Environment').Value).toBe(s.env);
      }
    }
  });

  test('pr-N retains nothing: no Retain or Snapshot policies', () => {
    for (const s of stacks['pr-7']) {
      for (const [logicalId, r] of Object.entries(s.template.Resources)) {
        expect({ logicalId, policy: r.DeletionPolicy ?? 'Delete' }).not.toEqual({ logicalId, policy: 'Retain' });
        expect({ logicalId, policy: r.DeletionPolicy ?? 'Delete' }).not.toEqual({ logicalId, policy: 'Snapshot' });
      }
    }
  });

  test('security acknowledgments are recorded in template metadata with their reasons', () => {
    const acknowledged = all.flatMap((s) => Object.values(s.template.Resources).flatMap((r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? []));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const rule of acknowledged) expect(rule.reason.length).toBeGreaterThan(20);
  });

  test('synthesis leaves no warning unanswered: no CloudFormation validation finding or construct annotation', () => {
    // Warnings fail nothing on their own, but hundreds of them would hide the one that matters from an auditor.
    const report = JSON.parse(fs.readFileSync(path.join(TEST_ASSEMBLY_DIR, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports.length).toBeGreaterThan(0);
    const open = report.pluginReports.flatMap((p: any) =>
      p.violations.map((v: any) => `${p.pluginName} ${v.ruleName}: ${v.description} (${v.violatingConstructs?.[0]?.constructPath})`));
    expect(open).toEqual([]);
  });
});

describe('the app entry point', () => {
  test('an unknown environment exits 1 with one message naming the known environments, no stack trace', () => {
    const result = runApp({ env: 'qa' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      'Invalid ConnectHub configuration (1 problem):\n  - -c env = "qa": a known environment: dev, staging, prod, pr-<number>',
    );
  });

  test('several problems come in one message', () => {
    const result = runApp({ env: 'pr-01,prod', 'prod:tier': 'ten-year', 'prod:account': '42' });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toBe('Invalid ConnectHub configuration (3 problems):');
    expect(lines.slice(1).map((l) => l.split(' = ')[0].trim())).toEqual(['- -c env', '- prod.account', '- prod.tier']);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
