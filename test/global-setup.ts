import * as fs from 'fs';
import { cdkJsonContext, createConnectHubApp } from '../lib/connecthub-app';
import { TEST_ASSEMBLY_DIR, TEST_ENVIRONMENTS } from './support/synthesized-app';

/** Synthesizes every environment once for the whole test run; the security gates throw here on any finding. */
export default function globalSetup(): void {
  fs.rmSync(TEST_ASSEMBLY_DIR, { recursive: true, force: true });
  const { app } = createConnectHubApp({
    outdir: TEST_ASSEMBLY_DIR,
    context: { ...cdkJsonContext(), env: TEST_ENVIRONMENTS.join(',') },
  });
  app.synth();
}
