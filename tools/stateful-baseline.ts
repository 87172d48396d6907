/**
 * Rewrites the committed stateful-resource baselines (`audit/baseline/<env>.json`) from a fresh synthesis of the
 * long-lived environments with their default configuration: `npm run baseline:update`. Run it only when a change
 * to the stateful resources is intended; the diff of the baseline files is what reviewers approve.
 *
 *   tsx tools/stateful-baseline.ts [--assembly DIR]   # DIR: reuse an existing synthesis instead of a fresh one
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stacksOfEnvironment } from '../audit/cloud-assembly';
import { BASELINE_DIR, BASELINED_ENVIRONMENTS, compareWithBaseline, createBaseline, describeChange, readBaseline, renderBaseline } from '../audit/stateful-guard';
import { cdkJsonContext, createConnectHubApp } from '../lib/connecthub-app';

function freshAssembly(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'connecthub-baseline-'));
  const { app } = createConnectHubApp({ outdir: dir, context: { ...cdkJsonContext(), env: BASELINED_ENVIRONMENTS.join(',') } });
  app.synth();
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function main(): void {
  const args = process.argv.slice(2);
  const at = args.indexOf('--assembly');
  const given = at >= 0 ? args[at + 1] : undefined;
  if (at >= 0 && !given) throw new Error('--assembly expects a cloud-assembly folder');
  const { dir, cleanup } = given ? { dir: given, cleanup: () => undefined } : freshAssembly();
  try {
    fs.mkdirSync(BASELINE_DIR, { recursive: true });
    for (const env of BASELINED_ENVIRONMENTS) {
      const baseline = createBaseline(env, stacksOfEnvironment(dir, env));
      let changes: string[] = [];
      try {
        changes = compareWithBaseline(readBaseline(env).resources, baseline.resources).map(describeChange);
      } catch {
        changes = ['(no previous baseline)'];
      }
      fs.writeFileSync(path.join(BASELINE_DIR, `${env}.json`), renderBaseline(baseline));
      process.stdout.write(`audit/baseline/${env}.json: ${baseline.resources.length} stateful resources` +
        `${changes.length ? `; changes:\n${changes.map((c) => `  - ${c}`).join('\n')}` : '; unchanged'}\n`);
    }
  } finally {
    cleanup();
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`baseline:update: ${(error as Error).message}\n`);
  process.exit(1);
}
