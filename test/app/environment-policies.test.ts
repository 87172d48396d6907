/**
 * Environment policies on the synthesized app (the test assembly made once by globalSetup): staging and prod keep
 * their data; dev and pr-N destroy cleanly. Each check lists every offending resource, so a failure names them all.
 */
import { AssemblyStack, sortedResources, stacksOfEnvironment } from '../../audit/cloud-assembly';
import { autoDeletedBuckets, isStatefulType } from '../../audit/stateful-resources';
import { TEST_ASSEMBLY_DIR, TEST_ENVIRONMENTS } from '../support/synthesized-app';

const KEEPING = ['staging', 'prod'];
const DESTROYABLE = TEST_ENVIRONMENTS.filter((env) => !KEEPING.includes(env));
const RETAINING_POLICIES = ['Retain', 'Snapshot', 'RetainExceptOnCreate'];

const stacks: Record<string, AssemblyStack[]> = Object.fromEntries(TEST_ENVIRONMENTS.map((env) => [env, stacksOfEnvironment(TEST_ASSEMBLY_DIR, env)]));

/** `stack/logicalId (type): detail` for every resource of an environment that `offends` flags. */
function offenders(env: string, offends: (r: any, logicalId: string, stack: AssemblyStack) => string | undefined): string[] {
  return stacks[env].flatMap((stack) => sortedResources(stack.template).flatMap(([logicalId, r]) => {
    const detail = offends(r, logicalId, stack);
    return detail === undefined ? [] : [`${stack.stackName}/${logicalId} (${r.Type}): ${detail}`];
  }));
}

/** Deletion protection as each type spells it; undefined for types without one. */
function deletionProtection(r: any): boolean | undefined {
  const p = r.Properties ?? {};
  switch (r.Type) {
    case 'AWS::RDS::DBCluster':
    case 'AWS::RDS::GlobalCluster':
      return p.DeletionProtection === true;
    case 'AWS::RDS::DBInstance':
      // Aurora instances take the cluster's protection; a standalone instance carries its own.
      return p.DBClusterIdentifier ? undefined : p.DeletionProtection === true;
    case 'AWS::Cognito::UserPool':
      return p.DeletionProtection === 'ACTIVE';
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return p.DeletionProtectionEnabled === true;
    case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
      return (p.LoadBalancerAttributes ?? []).some((a: any) => a.Key === 'deletion_protection.enabled' && a.Value === 'true');
    default:
      return undefined;
  }
}

test('the test assembly holds the expected environments, each with stateful resources', () => {
  for (const env of TEST_ENVIRONMENTS) {
    expect({ env, stateful: offenders(env, (r) => (isStatefulType(r.Type) ? '' : undefined)).length > 0 }).toEqual({ env, stateful: true });
  }
});

describe.each(KEEPING)('%s keeps its data', (env) => {
  test('every stateful resource is retained or snapshotted on stack deletion and on replacement', () => {
    expect(offenders(env, (r) => {
      if (!isStatefulType(r.Type)) return undefined;
      const bad = [['DeletionPolicy', r.DeletionPolicy], ['UpdateReplacePolicy', r.UpdateReplacePolicy]]
        .filter(([, v]) => !RETAINING_POLICIES.includes(v)).map(([k, v]) => `${k} ${v ?? 'absent (Delete)'}`);
      return bad.length ? bad.join(', ') : undefined;
    })).toEqual([]);
  });

  test('databases (and the user pool) have deletion protection', () => {
    expect(offenders(env, (r) => (deletionProtection(r) === false ? 'deletion protection off' : undefined))).toEqual([]);
    expect(offenders(env, (r) => (r.Type === 'AWS::RDS::DBCluster' ? '' : undefined)).length).toBeGreaterThan(0);
  });

  test('every stack has termination protection', () => {
    expect(stacks[env].filter((s) => !s.terminationProtection).map((s) => s.stackName)).toEqual([]);
  });

  test('no bucket is emptied on stack deletion', () => {
    expect(offenders(env, (r) => (r.Type === 'Custom::S3AutoDeleteObjects' ? `empties ${JSON.stringify(r.Properties?.BucketName)}` : undefined))).toEqual([]);
  });
});

describe.each(DESTROYABLE)('%s destroys cleanly', (env) => {
  test('nothing is retained: no Retain or Snapshot deletion or replacement policy on any resource', () => {
    expect(offenders(env, (r) => {
      const bad = [['DeletionPolicy', r.DeletionPolicy], ['UpdateReplacePolicy', r.UpdateReplacePolicy]]
        .filter(([, v]) => RETAINING_POLICIES.includes(v)).map(([k, v]) => `${k} ${v}`);
      return bad.length ? bad.join(', ') : undefined;
    })).toEqual([]);
  });

  test('every bucket is emptied on delete by the auto-delete-objects custom resource', () => {
    const emptied = new Map(stacks[env].map((s) => [s.stackName, autoDeletedBuckets(s.template)]));
    expect(offenders(env, (r, logicalId, stack) =>
      (r.Type === 'AWS::S3::Bucket' && !emptied.get(stack.stackName)!.has(logicalId) ? 'no Custom::S3AutoDeleteObjects' : undefined))).toEqual([]);
    expect(offenders(env, (r) => (r.Type === 'AWS::S3::Bucket' ? '' : undefined)).length).toBeGreaterThan(0);
  });

  test('no deletion protection anywhere', () => {
    expect(offenders(env, (r) => (deletionProtection(r) === true ? 'deletion protection on' : undefined))).toEqual([]);
  });

  test('no stack has termination protection', () => {
    expect(stacks[env].filter((s) => s.terminationProtection).map((s) => s.stackName)).toEqual([]);
  });
});
