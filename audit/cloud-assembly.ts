/**
 * Reads a synthesized cloud assembly (`cdk.out`, or the tests' `cdk.out.test`) from disk, generically: every
 * nested assembly (one per environment stage) and every CloudFormation stack in it, whatever stacks the app
 * contains. Plain JSON reading, no aws-cdk-lib: the audit tools work on exactly what the CLI would deploy.
 */
import * as fs from 'fs';
import * as path from 'path';

/** One resource of a template (the fields the audit reads). */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: any;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Metadata?: any;
  readonly DependsOn?: string | string[];
  readonly Condition?: string;
}

/** A CloudFormation template (the fields the audit reads). */
export interface Template {
  readonly Resources?: Record<string, TemplateResource>;
  readonly Outputs?: Record<string, unknown>;
  readonly Parameters?: Record<string, unknown>;
}

/** One stack of an environment, with its template. */
export interface AssemblyStack {
  /** Environment (the nested assembly's display name, e.g. `prod`). */
  readonly env: string;
  /** CloudFormation stack name. */
  readonly stackName: string;
  /** Construct path of the stack, e.g. `prod/Database-us-east-1`. */
  readonly displayName: string;
  /** Artifact id in the manifest. */
  readonly artifactId: string;
  /** Region from the artifact's environment (`unknown-region` when the stack is region-agnostic). */
  readonly region: string;
  /** Account from the artifact's environment (`unknown-account` when account-agnostic). */
  readonly account: string;
  readonly terminationProtection: boolean;
  readonly template: Template;
}

/** Error for an assembly folder that is missing or not a cloud assembly; names the folder and what to run. */
export class AssemblyReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssemblyReadError';
  }
}

function readJson(file: string): any {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AssemblyReadError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** The environments (nested assemblies) of a cloud assembly, sorted by name, with their folders. */
export function assemblyEnvironments(dir: string): { env: string; directory: string }[] {
  const manifestFile = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) {
    throw new AssemblyReadError(`${dir} holds no cloud assembly (no manifest.json): run \`npm run synth\` first`);
  }
  const manifest = readJson(manifestFile);
  return Object.entries<any>(manifest.artifacts ?? {})
    .filter(([, a]) => a.type === 'cdk:cloud-assembly')
    .map(([id, a]) => ({ env: String(a.properties?.displayName ?? id), directory: path.join(dir, a.properties?.directoryName ?? id) }))
    .sort((x, y) => (x.env < y.env ? -1 : x.env > y.env ? 1 : 0));
}

/** Every CloudFormation stack of one nested assembly folder, sorted by stack name. */
export function stacksInDirectory(env: string, directory: string): AssemblyStack[] {
  const manifest = readJson(path.join(directory, 'manifest.json'));
  return Object.entries<any>(manifest.artifacts ?? {})
    .filter(([, a]) => a.type === 'aws:cloudformation:stack')
    .map(([artifactId, a]) => {
      const [account, region] = String(a.environment ?? 'aws://unknown-account/unknown-region').replace(/^aws:\/\//, '').split('/');
      return {
        env,
        artifactId,
        stackName: String(a.properties?.stackName ?? artifactId),
        displayName: String(a.displayName ?? artifactId),
        region,
        account,
        terminationProtection: a.properties?.terminationProtection === true,
        template: readJson(path.join(directory, a.properties.templateFile)) as Template,
      };
    })
    .sort((x, y) => (x.stackName < y.stackName ? -1 : x.stackName > y.stackName ? 1 : 0));
}

/** Every stack of one environment of the assembly in `dir`. Throws naming the environments present if absent. */
export function stacksOfEnvironment(dir: string, env: string): AssemblyStack[] {
  const found = assemblyEnvironments(dir);
  const entry = found.find((e) => e.env === env);
  if (!entry) {
    throw new AssemblyReadError(`${dir} has no environment "${env}"; it has: ${found.map((e) => e.env).join(', ') || 'none'}`);
  }
  return stacksInDirectory(env, entry.directory);
}

/** Every environment of the assembly in `dir` with its stacks. */
export function readAssembly(dir: string): Map<string, AssemblyStack[]> {
  return new Map(assemblyEnvironments(dir).map(({ env, directory }) => [env, stacksInDirectory(env, directory)]));
}

/** The construct path CDK records in template metadata, or `<stack>/<logicalId>` when path metadata is off. */
export function constructPath(stack: Pick<AssemblyStack, 'displayName'>, logicalId: string, resource: TemplateResource): string {
  const recorded = resource.Metadata?.['aws:cdk:path'];
  return typeof recorded === 'string' ? recorded : `${stack.displayName}/${logicalId}`;
}

/** Resources of a template as sorted [logicalId, resource] pairs (stable order for reports). */
export function sortedResources(template: Template): [string, TemplateResource][] {
  return Object.entries(template.Resources ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
