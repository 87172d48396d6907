import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * sharp for the image Lambda, packaged without Docker and without the network.
 *
 * `bundling.nodeModules` would make CDK run `npm install` at synth (network). Instead esbuild leaves
 * `sharp` external and the installed packages are copied into the bundle after esbuild ran. sharp's
 * native part is per platform: the Lambda runs on x86_64 and `npm ci` on Linux x64 installs exactly
 * `@img/sharp-linux-x64` + `@img/sharp-libvips-linux-x64` (the .node file finds libvips through a
 * relative rpath, so the `node_modules/@img` layout is kept).
 */
export const SHARP_PACKAGES = [
  'sharp',
  '@img/sharp-linux-x64',
  '@img/sharp-libvips-linux-x64',
  '@img/colour',
  'detect-libc',
  'semver',
] as const;

/** Finds `node_modules/<name>` walking up from `fromDir` (Node's lookup order); undefined if absent. */
export function findPackageDir(name: string, fromDir: string): string | undefined {
  let dir = path.resolve(fromDir);
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The afterBundling commands that copy sharp and its runtime dependencies into `outputDir/node_modules`.
 * Throws one error naming every missing package and how to install it.
 */
export function sharpCopyCommands(outputDir: string, fromDir: string = __dirname): string[] {
  const found = SHARP_PACKAGES.map((name) => ({ name, dir: findPackageDir(name, fromDir) }));
  const missing = found.filter((p) => p.dir === undefined).map((p) => p.name);
  if (missing.length > 0) {
    throw new Error(
      `image-transform bundling: ${missing.join(', ')} not installed under ${fromDir}; the Lambda runs on linux x86_64 and ` +
      'needs sharp for that platform: run `npm install --cpu=x64 --os=linux --libc=glibc sharp` (once, not at synth)',
    );
  }
  const commands = [`mkdir -p ${shellQuote(path.join(outputDir, 'node_modules', '@img'))}`];
  for (const { name, dir } of found) {
    commands.push(`cp -R ${shellQuote(dir!)} ${shellQuote(path.join(outputDir, 'node_modules', name))}`);
  }
  return commands;
}
