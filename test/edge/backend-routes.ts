import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as Entry from './backend-routes-entry';

export type { BackendRoute } from './backend-routes-entry';

/**
 * Loads `backendRoutes` from an esbuild bundle of `backend-routes-entry.ts`, built with the backend's own build
 * options (as the container's bundle is), so the backend's ESM dependencies load under jest.
 */
export function loadBackendRoutes(): typeof Entry.backendRoutes {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildOptions, requireBuiltinDynamicImports } = require('../../backend/build.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild');
  const outfile = path.join(mkdtempSync(path.join(tmpdir(), 'edge-backend-routes-')), 'routes.js');
  const [out] = esbuild.buildSync({ ...buildOptions(outfile), entryPoints: [path.join(__dirname, 'backend-routes-entry.ts')], write: false }).outputFiles;
  writeFileSync(outfile, requireBuiltinDynamicImports(out.text));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(outfile) as typeof Entry).backendRoutes;
}
