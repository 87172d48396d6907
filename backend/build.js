/**
 * Bundles the backend into one CommonJS file (`backend/dist/server.js`) with esbuild.
 * Deterministic: same sources, same bytes (no timestamps, no absolute paths in the output).
 * Used by `npm run backend:build`, by the Docker build stage, and by the tests (which load the bundle).
 *
 *   node backend/build.js [outfile]
 */
const path = require('node:path');

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
  require('esbuild').buildSync(buildOptions(outfile));
  return outfile;
}

module.exports = { build, buildOptions };

if (require.main === module) {
  const out = build(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  process.stdout.write(`built ${path.relative(process.cwd(), out)}\n`);
}
