/**
 * Synth speed: `npm run synth` (every environment, the security gates, the audit report) against the floor, an
 * empty CDK app with one trivial stack run the same way (same CLI, same loader from cdk.json's `app` line, same
 * cdk.json context, so the same built-in CloudFormation validation), `--runs` times each, alternating.
 * Prints progress to stderr and one JSON line at the end.
 *
 *   npm run bench:synth [-- --runs 3] [-- --breakdown]
 *
 * `--breakdown` adds one in-process synthesis of the app with the time spent in Lambda bundling, CloudFormation
 * validation (engine set-up and per template) and the cdk-nag packs, to show where the rest of the time goes.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const ENTRY = 'bin/connecthub.ts';

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2);
}

/** A folder holding the floor app: one stack with one resource, cdk.json with the project's app line and context. */
function floorApp(): string {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8'));
  if (typeof cdkJson.app !== 'string' || !cdkJson.app.includes(ENTRY)) {
    throw new Error(`cdk.json "app" must name ${ENTRY} so the floor can run the same way; it is ${JSON.stringify(cdkJson.app)}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'connecthub-synth-floor-'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, ENTRY), [
    "import { App, CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';",
    'const app = new App();',
    "new CfnWaitConditionHandle(new Stack(app, 'Floor'), 'Handle');",
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: cdkJson.app, context: cdkJson.context }, null, 2));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'synth-floor', private: true, scripts: { synth: 'cdk synth --quiet "**"' } }, null, 2));
  return dir;
}

/** Wall time of `npm run synth` in a folder, in ms; throws with the output when it fails. */
function timeSynth(cwd: string): number {
  const start = process.hrtime.bigint();
  const result = spawnSync('npm', ['run', '--silent', 'synth'], { cwd, encoding: 'utf8', env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' }, maxBuffer: 64 * 1024 * 1024 });
  const ms = Number((process.hrtime.bigint() - start) / 1_000_000n);
  if (result.status !== 0) throw new Error(`npm run synth failed in ${cwd} (exit ${result.status}):\n${result.stderr.slice(-4000)}`);
  return ms;
}

/** One in-process synthesis with the time of its expensive parts (best effort: hooks on library prototypes). */
function breakdown(): Record<string, number> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const cdkLibDir = path.dirname(require.resolve('aws-cdk-lib/package.json'));
  const cfnValidate = require(require.resolve('@aws/cloudformation-validate', { paths: [cdkLibDir] }));
  const { AssetStaging } = require('aws-cdk-lib');
  const { NagPack } = require('cdk-nag');
  const spent = { bundlingMs: 0, bundles: 0, cfnValidateSetupMs: 0, cfnValidateTemplatesMs: 0, templates: 0, cdkNagMs: 0 };
  const wrap = (owner: any, name: string, add: (ms: number) => void) => {
    const original = owner[name];
    owner[name] = function (this: unknown, ...args: unknown[]) {
      const start = Date.now();
      try {
        return original.apply(this, args);
      } finally {
        add(Date.now() - start);
      }
    };
  };
  wrap(AssetStaging.prototype, 'stageByBundling', (ms) => { spent.bundlingMs += ms; spent.bundles++; });
  wrap(cfnValidate.CompositeEngine.prototype, 'validateTemplate', (ms) => { spent.cfnValidateTemplatesMs += ms; spent.templates++; });
  const Engine = cfnValidate.CompositeEngine;
  cfnValidate.CompositeEngine = function (...args: unknown[]) {
    const start = Date.now();
    const engine = new Engine(...args);
    spent.cfnValidateSetupMs += Date.now() - start;
    return engine;
  };
  cfnValidate.CompositeEngine.prototype = Engine.prototype;
  wrap(NagPack.prototype, 'validate', (ms) => { spent.cdkNagMs += ms; });
  const { cdkJsonContext, createConnectHubApp } = require('../lib/connecthub-app');
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'connecthub-synth-breakdown-'));
  // The in-process synthesis prints bundling progress and validation warnings; keep them out of the bench output.
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const start = Date.now();
    const { app } = createConnectHubApp({ outdir, context: { ...cdkJsonContext(), 'aws:cdk:enable-path-metadata': true } });
    const constructMs = Date.now() - start;
    app.synth();
    return { constructMs, synthMs: Date.now() - start - constructMs, ...spent };
  } finally {
    process.stderr.write = write;
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function main(): void {
  const runs = Number(argument('--runs') ?? 3);
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new Error(`--runs must be an integer from 1 to 20, got ${argument('--runs')}`);
  const floorDir = floorApp();
  const synthRunsMs: number[] = [];
  const floorRunsMs: number[] = [];
  try {
    // One unmeasured run each warms the loader's compile cache and the file-system cache, as on a developer machine.
    timeSynth(floorDir);
    timeSynth(ROOT);
    for (let i = 0; i < runs; i++) {
      floorRunsMs.push(timeSynth(floorDir));
      synthRunsMs.push(timeSynth(ROOT));
      process.stderr.write(`run ${i + 1}/${runs}: floor ${floorRunsMs[i]} ms, npm run synth ${synthRunsMs[i]} ms\n`);
    }
  } finally {
    fs.rmSync(floorDir, { recursive: true, force: true });
  }
  const environments = fs.readdirSync(path.join(ROOT, 'cdk.out')).filter((d) => d.startsWith('assembly-')).map((d) => d.slice('assembly-'.length)).sort();
  const synthMedianMs = median(synthRunsMs);
  const floorMedianMs = median(floorRunsMs);
  const result = {
    benchmark: 'synth',
    command: 'npm run synth',
    environments,
    runs,
    synthMedianMs,
    floorMedianMs,
    ratio: Math.round((synthMedianMs / floorMedianMs) * 100) / 100,
    synthRunsMs,
    floorRunsMs,
    cpus: os.cpus().length,
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
    ...(process.argv.includes('--breakdown') ? { breakdown: breakdown() } : {}),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`bench:synth: ${(error as Error).message}\n`);
  process.exit(1);
}
