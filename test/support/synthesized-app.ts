import * as fs from 'fs';
import * as path from 'path';

/**
 * The whole app is synthesized once per test run (jest globalSetup) into this folder; app-level tests read the
 * templates from here instead of synthesizing again.
 */
export const TEST_ASSEMBLY_DIR = path.join(__dirname, '..', '..', 'cdk.out.test');

/** The environments the test assembly holds. */
export const TEST_ENVIRONMENTS = ['dev', 'staging', 'prod', 'pr-7'] as const;

export interface SynthesizedStack {
  readonly env: string;
  readonly stackName: string;
  readonly artifactId: string;
  readonly region: string;
  readonly terminationProtection: boolean;
  readonly template: { Resources: Record<string, { Type: string; Properties?: any; DeletionPolicy?: string; UpdateReplacePolicy?: string; Metadata?: any }>; Outputs?: Record<string, unknown>; Parameters?: Record<string, unknown> };
}

/** Every stack of one environment in the test assembly. */
export function stacksOf(env: string, dir = TEST_ASSEMBLY_DIR): SynthesizedStack[] {
  const assemblyDir = path.join(dir, `assembly-${env}`);
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8'));
  return Object.entries<any>(manifest.artifacts)
    .filter(([, a]) => a.type === 'aws:cloudformation:stack')
    .map(([artifactId, a]) => ({
      env,
      artifactId,
      stackName: a.properties.stackName ?? artifactId,
      region: String(a.environment).split('/').pop()!,
      terminationProtection: a.properties.terminationProtection === true,
      template: JSON.parse(fs.readFileSync(path.join(assemblyDir, a.properties.templateFile), 'utf8')),
    }))
    .sort((x, y) => x.stackName.localeCompare(y.stackName));
}
