import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AssemblyStack } from '../../audit/cloud-assembly';
import {
  BaselineEntry, baselineEntries, compareWithBaseline, createBaseline, guardMessage, readBaseline, renderBaseline,
} from '../../audit/stateful-guard';

const baseline: BaselineEntry[] = [
  { stack: 'connecthub-prod-database-us-east-1', logicalId: 'AuroraClusterD4EFE71C', type: 'AWS::RDS::DBCluster' },
  { stack: 'connecthub-prod-database-us-east-1', logicalId: 'AuroraKey76CE1F13', type: 'AWS::KMS::Key' },
  { stack: 'connecthub-prod-cache-streaming-us-east-1', logicalId: 'CacheReplicationGroupBFE59FF3', type: 'AWS::ElastiCache::ReplicationGroup' },
  { stack: 'connecthub-prod-edge', logicalId: 'EdgeStorageMediaBucket8032C4B0', type: 'AWS::S3::Bucket' },
];
const without = (logicalId: string) => baseline.filter((e) => e.logicalId !== logicalId);

describe('compareWithBaseline', () => {
  test('no change, in any order: nothing reported', () => {
    expect(compareWithBaseline(baseline, [...baseline].reverse())).toEqual([]);
    expect(guardMessage('prod', [])).toBe('');
  });

  test('a removed resource is named', () => {
    const changes = compareWithBaseline(baseline, without('EdgeStorageMediaBucket8032C4B0'));
    expect(changes).toEqual([{ kind: 'removed', before: baseline[3] }]);
    const message = guardMessage('prod', changes);
    expect(message).toContain('REMOVED AWS::S3::Bucket EdgeStorageMediaBucket8032C4B0 from connecthub-prod-edge: CloudFormation would delete it');
    expect(message).toContain('npm run baseline:update');
    expect(message).toContain('audit/baseline/prod.json');
  });

  test('a renamed resource (new logical id, same stack and type) is named with both ids', () => {
    const renamed = { ...baseline[0], logicalId: 'DatabaseClusterA1B2C3D4' };
    const changes = compareWithBaseline(baseline, [...without('AuroraClusterD4EFE71C'), renamed]);
    expect(changes).toEqual([{ kind: 'renamed', before: baseline[0], after: renamed }]);
    expect(guardMessage('prod', changes)).toContain(
      'RENAMED AWS::RDS::DBCluster AuroraClusterD4EFE71C -> DatabaseClusterA1B2C3D4 in connecthub-prod-database-us-east-1: ' +
      'CloudFormation would create a new resource and delete the old one');
  });

  test('a retyped resource (same logical id, other type) is named with both types', () => {
    const retyped = { ...baseline[2], type: 'AWS::ElastiCache::ServerlessCache' };
    const changes = compareWithBaseline(baseline, [...without('CacheReplicationGroupBFE59FF3'), retyped]);
    expect(changes).toEqual([{ kind: 'retyped', before: baseline[2], after: retyped }]);
    expect(guardMessage('prod', changes)).toContain(
      'RETYPED CacheReplicationGroupBFE59FF3 in connecthub-prod-cache-streaming-us-east-1 from AWS::ElastiCache::ReplicationGroup ' +
      'to AWS::ElastiCache::ServerlessCache: CloudFormation would replace it');
  });

  test('a new resource is an addition that asks for a baseline update', () => {
    const added = { stack: 'connecthub-prod-edge', logicalId: 'EdgeLogsBucketAAAAAAAA', type: 'AWS::S3::Bucket' };
    const changes = compareWithBaseline(baseline, [...baseline, added]);
    expect(changes).toEqual([{ kind: 'added', after: added }]);
    const message = guardMessage('prod', changes);
    expect(message).toContain('0 change(s) that would delete or replace data, 1 addition(s)');
    expect(message).toContain('ADDED AWS::S3::Bucket EdgeLogsBucketAAAAAAAA in connecthub-prod-edge: not in the baseline yet');
    expect(message).toContain('must enter the baseline so that it stays complete: run `npm run baseline:update`');
  });

  test('a removal and an unrelated addition of another type stay a removal and an addition', () => {
    const added = { stack: 'connecthub-prod-database-us-east-1', logicalId: 'AuroraLogsAAAAAAAA', type: 'AWS::Logs::LogGroup' };
    const changes = compareWithBaseline(baseline, [...without('AuroraKey76CE1F13'), added]);
    expect(changes.map((c) => c.kind)).toEqual(['removed', 'added']);
  });

  test('a moved stack (resources in another stack) counts as removed from the old one', () => {
    const moved = { ...baseline[3], stack: 'connecthub-prod-media' };
    const changes = compareWithBaseline(baseline, [...without('EdgeStorageMediaBucket8032C4B0'), moved]);
    expect(changes.map((c) => c.kind)).toEqual(['removed', 'added']);
  });

  test('renames pair with the most similar logical id when several candidates exist', () => {
    const base = [
      { stack: 's', logicalId: 'MediaBucketAAAAAAAA', type: 'AWS::S3::Bucket' },
      { stack: 's', logicalId: 'LogsBucketBBBBBBBB', type: 'AWS::S3::Bucket' },
    ];
    const now = [
      { stack: 's', logicalId: 'LogsBucket2CCCCCCCC', type: 'AWS::S3::Bucket' },
      { stack: 's', logicalId: 'MediaBucket2DDDDDDDD', type: 'AWS::S3::Bucket' },
    ];
    const changes = compareWithBaseline(base, now);
    expect(changes.map((c) => (c.kind === 'renamed' ? `${c.before.logicalId}->${c.after.logicalId}` : c.kind)).sort()).toEqual([
      'LogsBucketBBBBBBBB->LogsBucket2CCCCCCCC', 'MediaBucketAAAAAAAA->MediaBucket2DDDDDDDD',
    ]);
  });

  test('every kind at once: destructive changes first, then additions, each named', () => {
    const renamed = { ...baseline[0], logicalId: 'DatabaseClusterA1B2C3D4' };
    const retyped = { ...baseline[2], type: 'AWS::ElastiCache::ServerlessCache' };
    const added = { stack: 'connecthub-prod-identity-us-east-1', logicalId: 'Users0A0EEA89', type: 'AWS::Cognito::UserPool' };
    const changes = compareWithBaseline(baseline, [renamed, baseline[1], retyped, added]);
    expect(changes.map((c) => c.kind)).toEqual(['removed', 'renamed', 'retyped', 'added']);
    expect(guardMessage('prod', changes).split('\n')[0]).toBe(
      'Stateful-resource guard, environment prod: 3 change(s) that would delete or replace data, 1 addition(s).');
  });
});

describe('baseline files', () => {
  const stack = (stackName: string, resources: Record<string, string>): AssemblyStack => ({
    env: 'dev', stackName, displayName: stackName, artifactId: stackName, region: 'us-east-1', account: 'unknown-account',
    terminationProtection: false,
    template: { Resources: Object.fromEntries(Object.entries(resources).map(([id, Type]) => [id, { Type }])) },
  });

  test('entries keep stateful types only, sorted by stack and logical id', () => {
    const entries = baselineEntries([
      stack('b-stack', { Zeta: 'AWS::S3::Bucket', Alpha: 'AWS::IAM::Role', Key: 'AWS::KMS::Key' }),
      stack('a-stack', { Queue: 'AWS::SQS::Queue', Topic: 'AWS::SNS::Topic' }),
    ]);
    expect(entries).toEqual([
      { stack: 'a-stack', logicalId: 'Queue', type: 'AWS::SQS::Queue' },
      { stack: 'b-stack', logicalId: 'Key', type: 'AWS::KMS::Key' },
      { stack: 'b-stack', logicalId: 'Zeta', type: 'AWS::S3::Bucket' },
    ]);
  });

  test('a rendered baseline reads back; a missing or malformed file names the update command', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-test-'));
    try {
      const written = createBaseline('dev', [stack('s', { Bucket: 'AWS::S3::Bucket' })]);
      fs.writeFileSync(path.join(dir, 'dev.json'), renderBaseline(written));
      expect(readBaseline('dev', dir)).toEqual(written);
      expect(() => readBaseline('prod', dir)).toThrow(/no stateful-resource baseline for environment prod .*npm run baseline:update/);
      fs.writeFileSync(path.join(dir, 'staging.json'), JSON.stringify({ environment: 'staging', resources: [{ stack: 's' }] }));
      expect(() => readBaseline('staging', dir)).toThrow(/is not a stateful-resource baseline of staging .*npm run baseline:update/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
