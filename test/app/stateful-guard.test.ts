/**
 * The stateful-resource guard on the synthesized app (the test assembly made once by globalSetup): every baselined
 * stateful resource of dev, staging and prod is still there, with the same logical id and type, and every stateful
 * resource is baselined. To accept an intended change: `npm run baseline:update`, then commit audit/baseline/.
 */
import { buildAuditReport } from '../../audit/audit-report';
import { sortedResources, stacksOfEnvironment } from '../../audit/cloud-assembly';
import { isStatefulType } from '../../audit/stateful-resources';
import { BASELINED_ENVIRONMENTS, baselineEntries, compareWithBaseline, guardMessage, readBaseline } from '../../audit/stateful-guard';
import { LONG_LIVED_ENVIRONMENTS, previewEnvironment } from '../../lib/config/environments';
import { TEST_ASSEMBLY_DIR, TEST_ENVIRONMENTS } from '../support/synthesized-app';

const stacks = Object.fromEntries(TEST_ENVIRONMENTS.map((env) => [env, stacksOfEnvironment(TEST_ASSEMBLY_DIR, env)]));

describe.each(BASELINED_ENVIRONMENTS)('stateful resources of %s', (env) => {
  test('match the committed baseline: none removed, renamed or retyped, none unbaselined', () => {
    const changes = compareWithBaseline(readBaseline(env).resources, baselineEntries(stacks[env]));
    // The message names each change and tells how to update the baseline when the change is intended.
    expect(guardMessage(env, changes)).toBe('');
  });
});

describe.each(TEST_ENVIRONMENTS)('the audit report of %s', (env) => {
  const report = buildAuditReport(env, stacks[env], LONG_LIVED_ENVIRONMENTS[env] ?? previewEnvironment(env));
  const resources = stacks[env].flatMap((s) => sortedResources(s.template).map(([id, r]) => ({ stack: s.stackName, id, r })));

  test('lists every stateful resource with its DeletionPolicy and UpdateReplacePolicy', () => {
    const expected = resources.filter(({ r }) => isStatefulType(r.Type))
      .map(({ stack, id, r }) => `${stack}/${id} ${r.Type} ${r.DeletionPolicy ?? 'Delete'}/${r.UpdateReplacePolicy ?? 'Delete'}`).sort();
    const listed = report.statefulResources.map((s) => `${s.stack}/${s.logicalId} ${s.type} ${s.deletionPolicy}/${s.updateReplacePolicy}`).sort();
    expect(listed).toEqual(expected);
    expect(listed.length).toBeGreaterThan(0);
  });

  test('lists every acknowledgment recorded in the templates, each with a reason', () => {
    const recorded = resources.flatMap(({ stack, id, r }) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((a: any) => `${stack}/${id} ${a.id}`)).sort();
    expect(report.acknowledgments.map((a) => `${a.stack}/${a.logicalId} ${a.rule}`).sort()).toEqual(recorded);
    expect(recorded.length).toBeGreaterThan(0);
    for (const a of report.acknowledgments) expect({ rule: a.rule, path: a.path, reason: a.reason.length > 20 }).toEqual({ rule: a.rule, path: a.path, reason: true });
  });

  test('finds the wildcard IAM statements, each carrying a *', () => {
    expect(report.iamWildcards.length).toBeGreaterThan(0);
    for (const w of report.iamWildcards) {
      expect([...w.actions, ...w.resources].some((v) => v.includes('*'))).toBe(true);
    }
  });

  test('the capacity model agrees with the templates (pod bounds, Aurora, ElastiCache, MSK)', () => {
    const checks = report.capacity!.checks;
    expect(checks.filter((c) => !c.agrees)).toEqual([]);
    expect(checks.map((c) => c.what)).toEqual(expect.arrayContaining(['Aurora instance class', 'ElastiCache node type', 'ElastiCache shards per region']));
  });
});
