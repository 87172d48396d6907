import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { backendManifestsOf, renderIntrinsic, writeK8sManifests } from '../../cdk8s/audit-manifests';
import { checkWorkloadPolicies } from '../../cdk8s/workload-policy';
import { buildPlatform, type Platform } from '../eks/harness';

let built: Platform;
let outDir: string;
let written: string[];
let assemblyDir: string;

/** What the chart produced, with CDK tokens rendered the way the audit file renders them. */
function renderTokens(value: any): any {
  if (Array.isArray(value)) return value.map(renderTokens);
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) return renderIntrinsic(value);
    return Object.fromEntries(keys.map((k) => [k, renderTokens(value[k])]));
  }
  return value;
}
const withoutPruneLabel = (o: any) => {
  const copy = JSON.parse(JSON.stringify(o));
  for (const k of Object.keys(copy.metadata.labels ?? {})) if (k.startsWith('aws.cdk.eks/prune-')) delete copy.metadata.labels[k];
  return copy;
};

beforeAll(() => {
  built = buildPlatform();
  const assembly = built.app.synth();
  assemblyDir = assembly.directory;
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-audit-'));
  written = writeK8sManifests(assembly, outDir);
});
afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

test('one file per environment and region', () => {
  expect(written).toEqual([path.join(outDir, 'dev', 'us-east-1', 'backend.yaml')]);
});

test('the YAML holds exactly the objects the cluster custom resource applies', () => {
  const docs = parseAllDocuments(fs.readFileSync(written[0], 'utf8')).map((d) => d.toJS()).filter((d) => d !== null);
  const [fromTemplate] = backendManifestsOf(built.app.synth().getStackByName('Platform'));
  expect(docs).toEqual(fromTemplate.objects);
  // …and they are the chart's own objects (tokens rendered), plus the prune label CDK adds for kubectl.
  const chartObjects = renderTokens(built.stack.resolve(built.chart.toJson()));
  expect(docs.map(withoutPruneLabel)).toEqual(chartObjects);
  expect(docs.every((d: any) => Object.keys(d.metadata.labels).some((k) => k.startsWith('aws.cdk.eks/prune-')))).toBe(true);
});

test('deploy-time values appear as readable CloudFormation placeholders', () => {
  const text = fs.readFileSync(written[0], 'utf8');
  expect(text).toMatch(/serverAddress: https:\/\/aps-workspaces\.us-east-1\.\$\{AWS::URLSuffix\}\/workspaces\/\$\{GetAtt:EksPrometheusWorkspace[A-F0-9]+\.WorkspaceId\}\n/);
  expect(text).toMatch(/objectName: "\$\{Ref:RedisAuth[A-F0-9]+\}"/);
  expect(text).not.toContain('Token[');
});

test('the auditors\' files pass the same workload gate', () => {
  const docs = parseAllDocuments(fs.readFileSync(written[0], 'utf8')).map((d) => d.toJS());
  expect(checkWorkloadPolicies(docs)).toEqual([]);
});

test('deterministic: the same assembly gives the same bytes', () => {
  const again = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-audit-'));
  try {
    const [file] = writeK8sManifests(built.app.synth(), again);
    expect(fs.readFileSync(file, 'utf8')).toBe(fs.readFileSync(written[0], 'utf8'));
  } finally {
    fs.rmSync(again, { recursive: true, force: true });
  }
});

test('npm run k8s:manifests writes the same file from a cdk.out folder', () => {
  const cliOut = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-cli-'));
  try {
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'cdk8s/write-manifests.ts', assemblyDir, cliOut], { encoding: 'utf8' });
    const file = path.join(cliOut, 'dev', 'us-east-1', 'backend.yaml');
    expect(stdout.trim()).toBe(file);
    expect(fs.readFileSync(file, 'utf8')).toBe(fs.readFileSync(written[0], 'utf8'));
  } finally {
    fs.rmSync(cliOut, { recursive: true, force: true });
  }
});

test('renderIntrinsic', () => {
  expect(renderIntrinsic({ Ref: 'AWS::Region' })).toBe('${AWS::Region}');
  expect(renderIntrinsic({ 'Fn::Join': ['', ['a', { Ref: 'X' }, { 'Fn::GetAtt': ['Y', 'Arn'] }]] })).toBe('a${Ref:X}${GetAtt:Y.Arn}');
  expect(renderIntrinsic({ 'Fn::Sub': '${AWS::AccountId}.dkr.ecr' })).toBe('${AWS::AccountId}.dkr.ecr');
  expect(renderIntrinsic({ 'Fn::Select': [0, { 'Fn::Split': [',', { Ref: 'L' }] }] })).toBe('${Select:0:${Split:,:${Ref:L}}}');
});
