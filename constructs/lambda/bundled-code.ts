import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildSync } from 'esbuild';

/** The repository root: esbuild resolves packages from here and source-map paths are relative to it. */
export const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..');

/** The Node.js major of every ConnectHub Lambda (nodejs22.x). */
const TARGET = 'node22';

export interface BundledCodeOptions {
  /** The handler module (TypeScript), inside the repository. */
  readonly entry: string;
  /** Modules left out of the bundle: provided by the runtime (`@aws-sdk/*`) or copied in by `afterBundling`. */
  readonly externalModules?: readonly string[];
  /** Shell commands run after esbuild, given the output folder (copies of files that cannot be bundled). */
  readonly afterBundling?: (outputDir: string) => readonly string[];
}

/**
 * Lambda code bundled by esbuild in this process, for `NodejsFunction`'s `code` (handler `index.handler`).
 *
 * Why not NodejsFunction's own bundling: with esbuild installed in the workspace it starts esbuild through
 * `npx --no-install`, and npm's start-up alone costs 1.4 to 3.4 s per function on a 2-core machine, on every
 * synth. Here esbuild runs as a library call. Everything else stays CDK's: the asset is staged and hashed from its
 * output (`AssetHashType.OUTPUT`) and the in-process asset cache bundles each Lambda once per synth, however many
 * environments and regions use it.
 *
 * The output is the same bytes wherever the checkout or the output folder is: esbuild writes to memory with the
 * repository root as the output folder, so source-map paths read `lambdas/...` and `node_modules/...`.
 */
export function bundledCode(options: BundledCodeOptions): lambda.Code {
  const entry = path.resolve(options.entry);
  const relativeEntry = path.relative(REPOSITORY_ROOT, entry);
  if (relativeEntry.startsWith('..') || path.isAbsolute(relativeEntry) || !fs.existsSync(entry)) {
    throw new Error(`bundledCode: entry "${options.entry}" must be an existing file inside ${REPOSITORY_ROOT}`);
  }
  const externalModules = [...(options.externalModules ?? [])];
  return lambda.Code.fromAsset(path.dirname(entry), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Image and command are required by the type and never run: local bundling always succeeds or throws. The
      // command still says what runs and is part of CDK's asset cache key, so two Lambdas never share a bundle.
      image: DockerImage.fromRegistry('connecthub/local-esbuild-only'),
      command: ['esbuild', relativeEntry.split(path.sep).join('/'), `--target=${TARGET}`, ...externalModules.map((m) => `--external:${m}`)],
      local: {
        tryBundle(outputDir: string): boolean {
          bundleInto(outputDir, entry, externalModules);
          for (const command of options.afterBundling?.(outputDir) ?? []) {
            execFileSync('bash', ['-c', command], { cwd: REPOSITORY_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
          }
          return true;
        },
      },
    },
  });
}

/** esbuild in memory, then `index.js` and `index.js.map` written into `outputDir`. */
function bundleInto(outputDir: string, entry: string, externalModules: readonly string[]): void {
  const result = buildSync({
    entryPoints: [entry],
    absWorkingDir: REPOSITORY_ROOT,
    // Not written: only fixes the folder that source-map paths are relative to.
    outfile: path.join(REPOSITORY_ROOT, 'index.js'),
    write: false,
    bundle: true,
    platform: 'node',
    target: TARGET,
    format: 'cjs',
    minify: true,
    sourcemap: true,
    external: [...externalModules],
    logLevel: 'warning',
  });
  for (const file of result.outputFiles) {
    fs.writeFileSync(path.join(outputDir, path.basename(file.path)), file.contents);
  }
}
