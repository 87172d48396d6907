/**
 * onEvent handler of the `connecthub-schema` custom resource (custom_resources.Provider).
 * Create/Update: applies pending migrations (database/migrator.ts); Delete: no-op, the schema is never dropped.
 * Migrations are shipped next to the bundle as `migrations/`.
 * Env: DB_HOST, DB_PORT, DB_NAME, DB_SECRET_ARN, DB_SSL (see database/connection.ts).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { clientConfigFromEnvironment, describeConnectionError } from '../../database/connection';
import { applyMigrations, DEFAULT_MIGRATIONS_DIR } from '../../database/migrator';

/** Stable physical id: the resource is never replaced. */
export const PHYSICAL_RESOURCE_ID = 'connecthub-schema';

/** The fields of a CloudFormation custom resource event this handler reads. */
export interface SchemaResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties?: Record<string, unknown>;
}

/** What the Provider framework passes back to CloudFormation. */
export interface SchemaResourceResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: { readonly SchemaVersion: string; readonly Applied: string };
}

/** `migrations/` next to the bundle; in the source tree, `database/migrations`. */
export function migrationsDirectory(): string {
  const bundled = path.join(__dirname, 'migrations');
  return existsSync(bundled) ? bundled : DEFAULT_MIGRATIONS_DIR;
}

export async function handler(event: SchemaResourceEvent): Promise<SchemaResourceResponse> {
  if (event.RequestType === 'Delete') {
    console.log('Delete: the schema is kept (never dropped by the stack)');
    return { PhysicalResourceId: event.PhysicalResourceId ?? PHYSICAL_RESOURCE_ID };
  }
  const config = await clientConfigFromEnvironment(process.env);
  const client = new Client(config);
  try {
    await client.connect();
  } catch (e) {
    throw new Error(describeConnectionError(e, `${config.host}:${config.port}/${config.database}`));
  }
  try {
    const result = await applyMigrations(client, { directory: migrationsDirectory(), log: (m) => console.log(m) });
    if (result.unknownApplied.length > 0) {
      console.log(`database has versions this bundle does not know (${result.unknownApplied.join(', ')}): left untouched`);
    }
    console.log(`schema at version ${result.schemaVersion}; applied ${result.applied.length} migration(s)`);
    return {
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: { SchemaVersion: String(result.schemaVersion), Applied: result.applied.map((a) => a.file).join(',') },
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
