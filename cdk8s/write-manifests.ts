/**
 * `npm run k8s:manifests [cdk.out] [dist/k8s]`: writes the auditors' Kubernetes YAML from an already
 * synthesized cloud assembly (run `npm run synth` first). Replaces the output folder, so files of removed
 * environments do not linger.
 */
import * as fs from 'node:fs';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { writeK8sManifests } from './audit-manifests';

const [assemblyDir = 'cdk.out', outDir = 'dist/k8s'] = process.argv.slice(2);
if (!fs.existsSync(`${assemblyDir}/manifest.json`)) {
  console.error(`k8s:manifests: no cloud assembly in ${assemblyDir} (run npm run synth first)`);
  process.exit(1);
}
fs.rmSync(outDir, { recursive: true, force: true });
const written = writeK8sManifests(new CloudAssembly(assemblyDir), outDir);
if (written.length === 0) {
  console.error(`k8s:manifests: no backend manifests in ${assemblyDir} (is the backend chart added to a cluster?)`);
  process.exit(1);
}
for (const file of written) console.log(file);
