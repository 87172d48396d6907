import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Aspects, CfnResource, Fn, RemovalPolicy, Stack, Stage, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { WriteNagSuppressionsToCloudFormationAspect } from 'cdk-nag';
import { AuditReport, buildAuditReport, renderAuditJson, renderAuditMarkdown } from '../../audit/audit-report';
import { AssemblyStack, readAssembly } from '../../audit/cloud-assembly';
import { LONG_LIVED_ENVIRONMENTS } from '../../lib/config/environments';
import { deriveCapacity } from '../../lib/capacity/capacity-model';

/** A small app with one of each thing the report looks for, synthesized once for this file. */
function synthesizeFixture(outdir: string): void {
  // The CLI turns construct-path metadata on; an app built in-process must ask for it.
  const app = new App({ outdir, context: { 'aws:cdk:enable-path-metadata': true } });
  const stage = new Stage(app, 'fixture');
  const stack = new Stack(stage, 'Data', { stackName: 'fixture-data', env: { region: 'eu-west-1' } });
  Aspects.of(stage).add(new WriteNagSuppressionsToCloudFormationAspect());
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
  new s3.Bucket(stack, 'Kept', { encryption: s3.BucketEncryption.KMS, encryptionKey: key, versioned: true, removalPolicy: RemovalPolicy.RETAIN });
  new s3.Bucket(stack, 'Scratch', { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true });
  new logs.LogGroup(stack, 'Logs', { retention: logs.RetentionDays.TWO_WEEKS, encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY });
  const cluster = new rds.CfnDBCluster(stack, 'Cluster', {
    engine: 'aurora-postgresql', storageEncrypted: true, kmsKeyId: key.keyArn, backupRetentionPeriod: 35, deletionProtection: true,
    masterUsername: 'connecthub_admin', manageMasterUserPassword: true,
  });
  cluster.applyRemovalPolicy(RemovalPolicy.SNAPSHOT);
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
  role.addToPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [key.keyArn] }));
  Validations.of(role.node.findChild('DefaultPolicy').node.defaultChild!).acknowledge({
    id: 'AwsSolutions-IAM5[Action::s3:*]',
    reason: 'Fixture: the report must list this acknowledgment with its reason and path.',
  });
  new ec2.CfnSecurityGroup(stack, 'OpenGroup', {
    groupDescription: 'open to the world',
    securityGroupIngress: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIp: '0.0.0.0/0' }],
  });
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'app' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: {
        serviceAccountName: 'web', automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{ name: 'main', image: 'IMAGE_PLACEHOLDER', securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '200m', memory: '128Mi' } } }],
      } } },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'app', annotations: { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing' } },
      spec: { type: 'LoadBalancer', ports: [{ port: 443 }] } },
  ];
  const [before, after] = JSON.stringify(objects).split('IMAGE_PLACEHOLDER');
  new CfnResource(stack, 'Manifest', {
    type: 'Custom::AWSCDK-EKS-KubernetesResource',
    properties: { ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:kubectl', Manifest: Fn.join('', [before, key.keyId, after]) },
  });
  app.synth();
}

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-report-test-'));
let stacks: AssemblyStack[];
let report: AuditReport;
let markdown: string;

beforeAll(() => {
  synthesizeFixture(outdir);
  const assembly = readAssembly(outdir);
  expect([...assembly.keys()]).toEqual(['fixture']);
  stacks = assembly.get('fixture')!;
  report = buildAuditReport('fixture', stacks);
  markdown = renderAuditMarkdown(report);
});
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

describe('audit report on a synthesized template', () => {
  test('every stateful resource appears with its DeletionPolicy, UpdateReplacePolicy, encryption and backup', () => {
    const template = stacks[0].template.Resources!;
    const statefulIds = Object.entries(template)
      .filter(([, r]) => ['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::Logs::LogGroup', 'AWS::RDS::DBCluster'].includes(r.Type))
      .map(([id]) => id).sort();
    expect(report.statefulResources.map((r) => r.logicalId)).toEqual(statefulIds);
    for (const r of report.statefulResources) {
      expect(r.deletionPolicy).toBe(template[r.logicalId].DeletionPolicy ?? 'Delete');
      expect(r.updateReplacePolicy).toBe(template[r.logicalId].UpdateReplacePolicy ?? 'Delete');
      expect(markdown).toContain(`| fixture-data | ${r.logicalId} | ${r.type} | ${r.deletionPolicy}`);
    }
    const byType = (type: string) => report.statefulResources.filter((r) => r.type === type);
    expect(byType('AWS::RDS::DBCluster')[0]).toMatchObject({
      deletionPolicy: 'Snapshot', updateReplacePolicy: 'Snapshot', deletionProtection: 'true',
      backup: 'automated backups 35 day(s)', onDelete: 'final snapshot',
    });
    expect(byType('AWS::RDS::DBCluster')[0].encryption).toMatch(/^storage encrypted, KMS \$\{GetAtt:Key[0-9A-F]+\.Arn\}$/);
    const buckets = byType('AWS::S3::Bucket');
    const kept = buckets.find((b) => b.logicalId.startsWith('Kept'))!;
    const scratch = buckets.find((b) => b.logicalId.startsWith('Scratch'))!;
    expect(kept).toMatchObject({ deletionPolicy: 'Retain', backup: 'versioning Enabled', onDelete: 'objects kept' });
    expect(kept.encryption).toMatch(/^aws:kms \$\{GetAtt:Key/);
    expect(scratch).toMatchObject({ deletionPolicy: 'Delete', onDelete: 'objects auto-deleted (Custom::S3AutoDeleteObjects)' });
    expect(byType('AWS::KMS::Key')[0]).toMatchObject({ deletionPolicy: 'Retain', encryption: 'SYMMETRIC_DEFAULT key, rotation on' });
    expect(byType('AWS::Logs::LogGroup')[0]).toMatchObject({ deletionPolicy: 'Delete', backup: 'retention 14 days' });
  });

  test('wildcard IAM statements are found with their policy logical id and stack', () => {
    const identity = report.iamWildcards.filter((w) => w.policyKind === 'identity');
    expect(identity).toHaveLength(1);
    expect(identity[0]).toMatchObject({
      stack: 'fixture-data', policyType: 'AWS::IAM::Policy', effect: 'Allow', actions: ['s3:*'], resources: ['*'], wildcardIn: ['action', 'resource'],
    });
    expect(identity[0].policyLogicalId).toMatch(/^RoleDefaultPolicy/);
    // The scoped kms:Decrypt statement of the same policy is not a finding.
    expect(report.iamWildcards.some((w) => w.actions.includes('kms:Decrypt'))).toBe(false);
    // The auto-delete bucket policy and the key policy are resource policies with wildcards, reported as such.
    expect(report.iamWildcards.filter((w) => w.policyKind === 'resource').map((w) => w.policyType)).toEqual(
      expect.arrayContaining(['AWS::KMS::Key', 'AWS::S3::BucketPolicy']));
    expect(identity[0].principals).toEqual([]);
    // Resource policies name their principals: the key policy's admin statement goes to the account root.
    const keyAdmin = report.iamWildcards.find((w) => w.policyType === 'AWS::KMS::Key' && w.actions.includes('kms:*'))!;
    expect(keyAdmin.principals).toEqual([expect.stringMatching(/^AWS:arn:\$\{AWS::Partition\}:iam::\$\{AWS::AccountId\}:root$/)]);
    expect(markdown).toContain(`| fixture-data | ${identity[0].policyLogicalId} | AWS::IAM::Policy |`);
  });

  test('acknowledgments are listed with rule, reason and construct path', () => {
    expect(report.acknowledgments).toEqual([expect.objectContaining({
      stack: 'fixture-data',
      path: 'fixture/Data/Role/DefaultPolicy/Resource',
      rule: 'AwsSolutions-IAM5[Action::s3:*]',
      reason: 'Fixture: the report must list this acknowledgment with its reason and path.',
    })]);
    expect(markdown).toContain('| fixture-data | fixture/Data/Role/DefaultPolicy/Resource | AwsSolutions-IAM5[Action::s3:*] | whole rule | Fixture: the report');
  });

  test('internet exposure: open security group and an internet-facing Kubernetes load balancer', () => {
    const kinds = report.internetExposure.map((e) => `${e.kind} ${e.logicalId}`);
    expect(kinds).toEqual(expect.arrayContaining(['open-security-group OpenGroup', 'k8s-public-load-balancer Manifest']));
    expect(report.internetExposure.find((e) => e.kind === 'open-security-group')!.detail).toBe('ingress from 0.0.0.0/0: tcp 443-443');
  });

  test('Kubernetes workloads are summarised from the Fn::Join manifest, deploy-time values rendered', () => {
    expect(report.kubernetesParseErrors).toEqual([]);
    expect(report.kubernetesWorkloads).toHaveLength(1);
    const web = report.kubernetesWorkloads[0];
    expect(web).toMatchObject({ kind: 'Deployment', namespace: 'app', name: 'web', podSecurityEnforce: 'restricted', serviceAccount: 'web', automountServiceAccountToken: 'false' });
    expect(web.containers[0]).toMatchObject({
      image: expect.stringMatching(/^\$\{Ref:Key[0-9A-F]+\}$/), runAsNonRoot: true, readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false, capabilitiesDropped: ['ALL'], seccompProfile: 'RuntimeDefault',
    });
    // The project's workload gate flags what this fixture lacks (probes, PDB, pinned image): the report carries it.
    expect(web.policyViolations.join('\n')).toMatch(/not pinned/);
    expect(markdown).toContain('Deployment/web');
  });

  test('every resource is counted by type and stack', () => {
    const total = Object.keys(stacks[0].template.Resources!).length;
    expect(report.resourceTypes.reduce((a, t) => a + t.total, 0)).toBe(total);
    expect(report.stacks).toEqual([expect.objectContaining({ stackName: 'fixture-data', region: 'eu-west-1', resources: total })]);
  });
});

describe('report stability and capacity', () => {
  test('the same stacks in another order give byte-identical JSON and Markdown (no timestamps)', () => {
    const shuffled = stacks.map((s) => ({
      ...s,
      template: { ...s.template, Resources: Object.fromEntries(Object.entries(s.template.Resources!).reverse()) },
    }));
    const again = buildAuditReport('fixture', shuffled);
    expect(renderAuditJson(again)).toBe(renderAuditJson(report));
    expect(renderAuditMarkdown(again)).toBe(markdown);
    expect(markdown).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
  });

  test('the capacity section carries the model sizes with their derivation and checks them against the templates', () => {
    const prod = LONG_LIVED_ENVIRONMENTS.prod;
    const withCapacity = buildAuditReport('prod', [], prod);
    const plan = deriveCapacity(prod.tier, prod.regions.length);
    expect(withCapacity.capacity).toMatchObject({ tier: 'six-month', regions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'], plan });
    const md = renderAuditMarkdown(withCapacity);
    expect(md).toContain(plan.workloads.api.derivation);
    expect(md).toContain(plan.database.derivation);
    // Prod's tier keeps more hot data than one Aurora volume holds at the configured retention: the report says so.
    expect(md).toContain(plan.storage.derivation);
    expect(md).toMatch(/\| Aurora storage \(hot data, every region\) \| 455\.124 TB of 93\.8 TB usable per volume \(OVER one volume; longest retention that fits: 1 months\) \|/);
    expect(md).toContain('| apiRequestsPerPod | 400 |');
  });
});
