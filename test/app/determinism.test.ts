import * as fs from 'fs';
import * as path from 'path';
import { cdkJsonContext, createConnectHubApp } from '../../lib/connecthub-app';
import { TEST_ASSEMBLY_DIR } from '../support/synthesized-app';

/** Template and asset-manifest files of one environment's assembly, by name. */
function filesOf(dir: string, env: string): Record<string, string> {
  const assemblyDir = path.join(dir, `assembly-${env}`);
  return Object.fromEntries(
    fs.readdirSync(assemblyDir)
      .filter((f) => f.endsWith('.template.json') || f.endsWith('.assets.json'))
      .sort()
      .map((f) => [f, fs.readFileSync(path.join(assemblyDir, f), 'utf8')]),
  );
}

test('a second synthesis of the same commit gives byte-identical templates and asset manifests', () => {
  // Same folder depth as the first synthesis: bundled source maps hold paths relative to the output folder.
  const outdir = path.join(TEST_ASSEMBLY_DIR, '..', 'cdk.out.test-second');
  fs.rmSync(outdir, { recursive: true, force: true });
  try {
    const { app } = createConnectHubApp({ outdir, context: { ...cdkJsonContext(), env: 'dev' } });
    app.synth();
    const first = filesOf(TEST_ASSEMBLY_DIR, 'dev');
    const second = filesOf(outdir, 'dev');
    expect(Object.keys(second)).toEqual(Object.keys(first));
    expect(Object.keys(first).length).toBeGreaterThan(0);
    for (const name of Object.keys(first)) expect({ name, same: second[name] === first[name] }).toEqual({ name, same: true });
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
