/**
 * onEvent handler of the `connecthub-schema` custom resource (custom_resources.Provider).
 * Create/Update: applies pending migrations (database/migrator.ts); Delete: no-op, the schema is never dropped.
 * Migrations are shipped next to the bundle as `migrations/`.
 *
 * Rollbacks: when a deploy fails after this function's code was updated (a failing migration, or any later resource),
 * CloudFormation rolls the custom resource back first — an Update carrying the OLD properties — while the function still
 * holds the NEW code and migrations. Re-running them would fail again (or apply new migrations during a rollback) and
 * leave the stack in UPDATE_ROLLBACK_FAILED. So an event whose `MigrationsHash` differs from the hash of the migrations
 * this bundle carries succeeds without migrating: migrations are forward-only, and the schema stays at the version the
 * last successful transaction left (what is applied is backward compatible with the previous release by rule).
 * Env: DB_HOST, DB_PORT, DB_NAME, DB_SECRET_ARN, DB_SSL (see database/connection.ts).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { clientConfigFromEnvironment, describeConnectionError } from '../../database/connection';
import { hashMigrationsDirectory } from '../../database/migrations-hash';
import { appliedMigrations, applyMigrations, DEFAULT_MIGRATIONS_DIR } from '../../database/migrator';

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

async function connect(): Promise<Client> {
  const config = await clientConfigFromEnvironment(process.env);
  const client = new Client(config);
  try {
    await client.connect();
  } catch (e) {
    throw new Error(describeConnectionError(e, `${config.host}:${config.port}/${config.database}`));
  }
  return client;
}

/** The event was built for other migrations than the ones this code carries: a rollback; do not migrate. */
async function skipForeignMigrations(event: SchemaResourceEvent, requested: string, carried: string): Promise<SchemaResourceResponse> {
  // The attribute SchemaVersion must be in the response; read it, but never fail a rollback for it.
  let version = 'unknown';
  let client: Client | undefined;
  try {
    client = await connect();
    const applied = await appliedMigrations(client);
    version = String(applied.length > 0 ? applied[applied.length - 1].version : 0);
  } catch (e) {
    console.log(`could not read the schema version (${(e as Error).message}); reporting "unknown"`);
  } finally {
    await client?.end().catch(() => undefined);
  }
  console.log(
    `${event.RequestType} asks for migrations ${requested.slice(0, 12)}… but this function carries ${carried.slice(0, 12)}…: ` +
      `a CloudFormation rollback sending the previous properties to the new code. Migrations are forward-only: nothing is applied, ` +
      `the schema stays at version ${version}.`,
  );
  return { PhysicalResourceId: event.PhysicalResourceId ?? PHYSICAL_RESOURCE_ID, Data: { SchemaVersion: version, Applied: '' } };
}

export async function handler(event: SchemaResourceEvent): Promise<SchemaResourceResponse> {
  if (event.RequestType === 'Delete') {
    console.log('Delete: the schema is kept (never dropped by the stack)');
    return { PhysicalResourceId: event.PhysicalResourceId ?? PHYSICAL_RESOURCE_ID };
  }
  const directory = migrationsDirectory();
  const requested = event.ResourceProperties?.MigrationsHash;
  // The construct always sets MigrationsHash; an event without one (a manual invocation) migrates with the bundle.
  if (typeof requested === 'string') {
    const carried = hashMigrationsDirectory(directory);
    if (requested !== carried) return skipForeignMigrations(event, requested, carried);
  }
  const client = await connect();
  try {
    const result = await applyMigrations(client, { directory, log: (m) => console.log(m) });
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
