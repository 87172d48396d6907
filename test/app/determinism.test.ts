import * as fs from 'fs';
import * as os from 'os';
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

test('a second synthesis of the same commit, into another folder, gives byte-identical templates and asset manifests', () => {
  // A folder elsewhere and at another depth: nothing synthesized may depend on where the assembly is written (bundled
  // source maps hold repository-relative paths). prod has every stack kind and three regions; dev the smallest tier.
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ch-determinism-'));
  const environments = ['dev', 'prod'];
  try {
    const { app } = createConnectHubApp({ outdir, context: { ...cdkJsonContext(), env: environments.join(',') } });
    app.synth();
    for (const env of environments) {
      const first = filesOf(TEST_ASSEMBLY_DIR, env);
      const second = filesOf(outdir, env);
      expect(Object.keys(second)).toEqual(Object.keys(first));
      expect(Object.keys(first).length).toBeGreaterThan(0);
      for (const name of Object.keys(first)) expect({ env, name, same: second[name] === first[name] }).toEqual({ env, name, same: true });
    }
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
