import { Testing } from 'cdk8s';
import { BackendChart } from '../../cdk8s/backend-chart';
import { checkWorkloadPolicies, disruptionsAllowed } from '../../cdk8s/workload-policy';
import { chartProps } from './fixtures';

let good: any[];
beforeAll(() => {
  good = Testing.synth(new BackendChart(Testing.app(), 'backend', chartProps()));
});

/** A deep copy of the good manifests with one Deployment changed. */
function mutate(name: string, change: (d: any) => void): any[] {
  const copy = JSON.parse(JSON.stringify(good));
  change(copy.find((o: any) => o.kind === 'Deployment' && o.metadata.name === name));
  return copy;
}

describe('checkWorkloadPolicies catches each rule', () => {
  test('the chart passes', () => expect(checkWorkloadPolicies(good)).toEqual([]));

  test.each<[string, (d: any) => void, RegExp]>([
    ['seccomp', (d) => { delete d.spec.template.spec.securityContext.seccompProfile; delete d.spec.template.spec.containers[0].securityContext.seccompProfile; }, /seccompProfile is unset/],
    ['drop ALL', (d) => { d.spec.template.spec.containers[0].securityContext.capabilities = {}; }, /capabilities.drop does not include ALL/],
    ['escalation', (d) => { d.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true; }, /allowPrivilegeEscalation is not false/],
    ['root fs', (d) => { d.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false; }, /readOnlyRootFilesystem/],
    ['root user', (d) => { d.spec.template.spec.containers[0].securityContext.runAsUser = 0; }, /runs as UID 0/],
    ['hostPath', (d) => { d.spec.template.spec.volumes.push({ name: 'h', hostPath: { path: '/' } }); }, /volume h of type hostPath/],
    ['latest', (d) => { d.spec.template.spec.containers[0].image = 'repo:latest'; }, /not pinned/],
    ['version tag', (d) => { d.spec.template.spec.containers[0].image = 'repo:1.2.3'; }, /not pinned/],
    ['limits', (d) => { delete d.spec.template.spec.containers[0].resources.limits.memory; }, /resources.limits.memory missing/],
    ['probe', (d) => { delete d.spec.template.spec.containers[0].readinessProbe; }, /readinessProbe missing/],
    ['spread', (d) => { d.spec.template.spec.topologySpreadConstraints = []; }, /no topologySpreadConstraint/],
    ['replicas', (d) => { d.spec.replicas = 3; }, /sets replicas although ScaledObject/],
  ])('%s', (_name, change, expected) => {
    const violations = checkWorkloadPolicies(mutate('connecthub-api', change));
    expect(violations.some((x) => expected.test(x))).toBe(true);
  });

  test('a missing PDB and a PDB that blocks eviction at the HPA minimum', () => {
    const noPdb = good.filter((o) => !(o.kind === 'PodDisruptionBudget' && o.metadata.name === 'connecthub-worker'));
    expect(checkWorkloadPolicies(noPdb)).toContain('Deployment/connecthub-worker: no PodDisruptionBudget selects its pods');
    const blocking = JSON.parse(JSON.stringify(good));
    const pdb = blocking.find((o: any) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'connecthub-api');
    pdb.spec = { minAvailable: 3, selector: pdb.spec.selector };
    expect(checkWorkloadPolicies(blocking)).toContain(
      'PodDisruptionBudget/connecthub-api: allows 0 disruptions at the autoscaling minimum of 3 (blocks node drains)',
    );
  });

  test('namespace without the restricted label', () => {
    const copy = JSON.parse(JSON.stringify(good));
    delete copy.find((o: any) => o.kind === 'Namespace').metadata.labels['pod-security.kubernetes.io/enforce'];
    expect(checkWorkloadPolicies(copy).filter((x) => /does not enforce pod-security restricted/.test(x))).toHaveLength(4); // three roles + the collector
  });
});

test('disruptionsAllowed follows Kubernetes rounding', () => {
  expect(disruptionsAllowed({ maxUnavailable: 1 }, 3)).toBe(1);
  expect(disruptionsAllowed({ maxUnavailable: '10%' }, 3)).toBe(1);
  expect(disruptionsAllowed({ minAvailable: 2 }, 3)).toBe(1);
  expect(disruptionsAllowed({ minAvailable: '100%' }, 3)).toBe(0);
});
