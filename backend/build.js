/**
 * Bundles the backend into one CommonJS file (`backend/dist/server.js`) with esbuild.
 * Deterministic: same sources, same bytes (no timestamps, no absolute paths in the output).
 * Used by `npm run backend:build`, by the Docker build stage, and by the tests (which load the bundle).
 *
 *   node backend/build.js [outfile]
 */
const fs = require('node:fs');
const path = require('node:path');

/**
 * The OTLP exporter loads `http`/`https` with a dynamic `import()`, which esbuild keeps as a native
 * dynamic import. Node runs that, but a VM context without an ESM loader (jest, which loads this
 * bundle in the tests) rejects it and the export silently never happens. The bundle therefore loads
 * those Node built-ins with `require` (the same modules, through Node's CommonJS loader).
 */
function requireBuiltinDynamicImports(code) {
  return code.replace(/\bimport\("(https?)"\)/g, (_m, mod) => `Promise.resolve().then(() => require("${mod}"))`);
}

/** esbuild options shared by every build of the service. */
function buildOptions(outfile) {
  return {
    entryPoints: [path.join(__dirname, 'src', 'server.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Optional native/peer modules that are loaded inside try/catch and never used here.
    external: ['pg-native', 'pino-pretty', 'snappy', 'kerberos', '@mongodb-js/zstd', 'bufferutil', 'utf-8-validate'],
    minify: false,
    keepNames: true,
    sourcemap: false,
    legalComments: 'none',
    absWorkingDir: path.join(__dirname, '..'),
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  };
}

/** Builds to `outfile` (default backend/dist/server.js) synchronously; returns the path. */
function build(outfile = path.join(__dirname, 'dist', 'server.js')) {
  const [out] = require('esbuild').buildSync({ ...buildOptions(outfile), write: false }).outputFiles;
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  fs.writeFileSync(outfile, requireBuiltinDynamicImports(out.text));
  return outfile;
}

module.exports = { build, buildOptions, requireBuiltinDynamicImports };

if (require.main === module) {
  const out = build(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  process.stdout.write(`built ${path.relative(process.cwd(), out)}\n`);
}
