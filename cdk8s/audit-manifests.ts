/**
 * Kubernetes manifests for auditors: the exact objects each cluster receives, as YAML, one file per
 * environment and region (`<outDir>/<env>/<region>/backend.yaml`).
 *
 * The source is the synthesized CloudFormation itself — the `Manifest` property of the EKS custom resource
 * that applies the backend chart — so the file cannot drift from what `kubectl apply` gets. Values only
 * known at deploy time (endpoints, ARNs, the image registry) appear as CloudFormation placeholders:
 * `${Ref:Logical}`, `${GetAtt:Logical.Attribute}`, `${AWS::AccountId}`, …
 *
 * Call `writeK8sManifests(app.synth())` from the app, or run `npm run k8s:manifests` after `npm run synth`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';

/** The part of a cloud-assembly stack artifact this module reads. */
export interface StackArtifactLike {
  readonly displayName: string;
  readonly template: any;
  readonly environment: { readonly region: string };
}

/** A cloud assembly (from `app.synth()` or `new CloudAssembly('cdk.out')`). */
export interface CloudAssemblyLike {
  readonly stacksRecursively: readonly StackArtifactLike[];
}

/** One backend manifest found in a template. */
export interface BackendManifestFile {
  readonly environment: string;
  readonly region: string;
  readonly stack: string;
  readonly logicalId: string;
  /** The Kubernetes objects, in apply order, with deploy-time values as placeholders. */
  readonly objects: any[];
}

const MANIFEST_TYPE = 'Custom::AWSCDK-EKS-KubernetesResource';
const ENV_LABEL = 'connecthub.io/environment';
const BACKEND_NAMESPACE_KIND = (o: any) => o?.kind === 'Namespace' && o?.metadata?.labels?.['app.kubernetes.io/part-of'] === 'connecthub';

/** Renders a CloudFormation intrinsic as a readable placeholder (no quotes, so it stays valid inside JSON strings). */
export function renderIntrinsic(value: any): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object') {
    if ('Ref' in value) return value.Ref.startsWith('AWS::') ? `\${${value.Ref}}` : `\${Ref:${value.Ref}}`;
    if ('Fn::GetAtt' in value) {
      const [id, attr] = Array.isArray(value['Fn::GetAtt']) ? value['Fn::GetAtt'] : String(value['Fn::GetAtt']).split('.');
      return `\${GetAtt:${id}.${renderIntrinsic(attr)}}`;
    }
    if ('Fn::Join' in value) {
      const [delimiter, parts] = value['Fn::Join'];
      return (parts as any[]).map(renderIntrinsic).join(delimiter);
    }
    if ('Fn::Sub' in value) {
      const sub = value['Fn::Sub'];
      return typeof sub === 'string' ? sub : renderIntrinsic(sub[0]);
    }
    if ('Fn::Select' in value) {
      const [index, list] = value['Fn::Select'];
      return `\${Select:${index}:${renderIntrinsic(list)}}`;
    }
    if ('Fn::Split' in value) {
      const [delimiter, source] = value['Fn::Split'];
      return `\${Split:${delimiter}:${renderIntrinsic(source)}}`;
    }
    if ('Fn::ImportValue' in value) return `\${ImportValue:${renderIntrinsic(value['Fn::ImportValue'])}}`;
    const [fn] = Object.keys(value);
    return `\${${fn}}`;
  }
  throw new Error(`renderIntrinsic: cannot render ${JSON.stringify(value)}`);
}

/** Escapes a rendered placeholder for use inside a JSON string literal. */
function jsonInner(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** The backend manifests in one stack template (the chart's custom resource, recognised by its Namespace). */
export function backendManifestsOf(stack: StackArtifactLike): BackendManifestFile[] {
  const found: BackendManifestFile[] = [];
  for (const [logicalId, resource] of Object.entries<any>(stack.template?.Resources ?? {})) {
    if (resource.Type !== MANIFEST_TYPE) continue;
    const raw = resource.Properties?.Manifest;
    const text =
      typeof raw === 'string'
        ? raw
        : raw?.['Fn::Join']
          ? (raw['Fn::Join'][1] as any[]).map((p) => (typeof p === 'string' ? p : jsonInner(renderIntrinsic(p)))).join(raw['Fn::Join'][0])
          : undefined;
    if (text === undefined) continue;
    const objects = JSON.parse(text) as any[];
    const ns = objects.find(BACKEND_NAMESPACE_KIND);
    if (!ns) continue;
    found.push({
      environment: ns.metadata.labels[ENV_LABEL],
      region: stack.environment.region,
      stack: stack.displayName,
      logicalId,
      objects,
    });
  }
  return found;
}

/** YAML of one manifest file: a header, then one document per object in apply order. */
export function renderManifestYaml(file: BackendManifestFile): string {
  const header = [
    `# ConnectHub backend manifests: environment ${file.environment}, region ${file.region}.`,
    `# Generated from ${file.stack} (${file.logicalId}), the exact objects the cluster receives.`,
    '# ${...} are CloudFormation values resolved at deploy time. Do not edit: regenerate with npm run k8s:manifests.',
  ].join('\n');
  const docs = file.objects.map((o) => stringify(o, { lineWidth: 0, minContentWidth: 0 }).trimEnd());
  return `${header}\n---\n${docs.join('\n---\n')}\n`;
}

/**
 * Writes `<outDir>/<env>/<region>/backend.yaml` for every backend manifest in the assembly.
 * Deterministic: same assembly, same bytes. Returns the files written (sorted).
 */
export function writeK8sManifests(assembly: CloudAssemblyLike, outDir = path.join('dist', 'k8s')): string[] {
  const files = assembly.stacksRecursively.flatMap(backendManifestsOf);
  const seen = new Map<string, string>();
  const written: string[] = [];
  for (const file of files) {
    if (!file.environment || !/^[a-z][a-z0-9-]*$/.test(file.environment)) {
      throw new Error(`writeK8sManifests: the backend Namespace in ${file.stack} has no valid ${ENV_LABEL} label (got ${JSON.stringify(file.environment)})`);
    }
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(file.region)) {
      throw new Error(`writeK8sManifests: stack ${file.stack} has no concrete region (got ${JSON.stringify(file.region)}); give the stack an explicit env`);
    }
    const target = path.join(outDir, file.environment, file.region, 'backend.yaml');
    if (seen.has(target)) {
      throw new Error(`writeK8sManifests: two backend manifests for ${file.environment}/${file.region} (${seen.get(target)} and ${file.stack})`);
    }
    seen.set(target, file.stack);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, renderManifestYaml(file));
    written.push(target);
  }
  return written.sort();
}
