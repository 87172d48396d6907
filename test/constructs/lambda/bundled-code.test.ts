/**
 * In-process Lambda bundling: one esbuild call per Lambda per synth (not one per stack), no npm or npx, the same
 * bytes whatever folder the assembly goes to, externals left out, afterBundling commands run, bad entries refused.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, AssetStaging, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { bundledCode, REPOSITORY_ROOT } from '../../../constructs/lambda/bundled-code';

const ENTRY = path.join(REPOSITORY_ROOT, 'lambdas', 'slo-reporter', 'index.ts');

interface Synthesized {
  readonly outdir: string;
  /** Asset folder of each stack's function. */
  readonly assets: string[];
  /** How many times the Lambda was bundled. */
  readonly bundlings: number;
}

/** Synthesizes `stacks` stacks that each hold the same function into a fresh folder. */
function synthesize(stacks: number, marker: string): Synthesized {
  AssetStaging.clearAssetHashCache();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ch-bundled-code-'));
  const app = new App({ outdir });
  let bundlings = 0;
  for (let i = 0; i < stacks; i++) {
    const stack = new Stack(app, `S${i}`);
    new nodejs.NodejsFunction(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: bundledCode({
        entry: ENTRY,
        externalModules: ['@aws-sdk/*'],
        afterBundling: (out) => {
          bundlings++;
          return [`printf %s ${marker} > "${out}/marker.txt"`];
        },
      }),
    });
  }
  app.synth();
  const assets = app.node.children.filter(Stack.isStack).map((s) => {
    const fn = (s as Stack).node.findChild('Fn') as lambda.Function;
    const cfn = fn.node.defaultChild as lambda.CfnFunction;
    const key = String((Stack.of(fn).resolve(cfn.code) as { s3Key: string }).s3Key);
    return path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
  });
  return { outdir, assets, bundlings };
}

const first = synthesize(3, 'one');
const second = synthesize(1, 'one');

afterAll(() => {
  for (const dir of [first.outdir, second.outdir]) fs.rmSync(dir, { recursive: true, force: true });
});

test('bundles once per synth however many stacks use the Lambda', () => {
  expect(new Set(first.assets).size).toBe(1);
  expect(first.bundlings).toBe(1);
});

test('the asset holds the bundle, its source map and what afterBundling copied', () => {
  const asset = first.assets[0];
  expect(fs.readdirSync(asset).sort()).toEqual(['index.js', 'index.js.map', 'marker.txt']);
  const code = fs.readFileSync(path.join(asset, 'index.js'), 'utf8');
  expect(code).toContain('require("@aws-sdk/client-cloudwatch")');
  expect(code).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
  expect(fs.readFileSync(path.join(asset, 'marker.txt'), 'utf8')).toBe('one');
});

test('the same bytes and the same hash in another output folder; source-map paths are repository-relative', () => {
  expect(path.basename(second.assets[0])).toBe(path.basename(first.assets[0]));
  const map = JSON.parse(fs.readFileSync(path.join(first.assets[0], 'index.js.map'), 'utf8'));
  expect(map.sources).toContain('lambdas/slo-reporter/index.ts');
  expect(map.sources.every((s: string) => !s.startsWith('..') && !path.isAbsolute(s))).toBe(true);
});

test('an entry outside the repository, or one that does not exist, is refused with the path', () => {
  expect(() => bundledCode({ entry: '/etc/hostname' })).toThrow(/entry "\/etc\/hostname" must be an existing file inside/);
  expect(() => bundledCode({ entry: path.join(REPOSITORY_ROOT, 'lambdas', 'nope', 'index.ts') })).toThrow(/lambdas\/nope\/index\.ts" must be an existing file/);
});
