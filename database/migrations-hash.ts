/**
 * The fingerprint of a migrations folder, shared by the CDK construct (it puts it in the custom resource's
 * `MigrationsHash` property at synth) and the db-migrate Lambda (it hashes the folder it carries, to tell a rollback's
 * old properties from its own bundle). Plain Node: no CDK imports.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** SHA-256 (hex) over the relative names and contents of every file under `dir`, in a stable order. */
export function hashMigrationsDirectory(dir: string): string {
  const hash = createHash('sha256');
  const walk = (current: string): void => {
    for (const name of fs.readdirSync(current).sort()) {
      const full = path.join(current, name);
      const stat = fs.statSync(full);
      if (stat.isDirectory()) {
        walk(full);
      } else if (stat.isFile()) {
        hash.update(path.relative(dir, full).split(path.sep).join('/'));
        hash.update('\0');
        hash.update(fs.readFileSync(full));
        hash.update('\0');
      }
    }
  };
  walk(dir);
  return hash.digest('hex');
}
