/**
 * Scheduled (EventBridge) partition maintenance: pg_partman maintenance, then every detached
 * partition is exported to the S3 archive bucket, read back and verified, and only then dropped
 * (database/partition-maintenance.ts). A failed export keeps the partition and fails the invocation
 * (so the Errors metric alarms) after the other partitions were processed.
 * Env: DB_HOST, DB_PORT, DB_NAME, DB_SECRET_ARN, DB_SSL, ARCHIVE_BUCKET, ARCHIVE_PREFIX, ARCHIVE_KMS_KEY_ARN.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { S3ArchiveSink } from '../../database/archive-sink';
import { clientConfigFromEnvironment, ConfigurationError, describeConnectionError } from '../../database/connection';
import { MaintenanceReport, runMaintenance, summarizeMaintenance } from '../../database/partition-maintenance';

let s3: S3Client | undefined;

/** The archive sink described by the environment. */
export function archiveSinkFromEnvironment(env: NodeJS.ProcessEnv): S3ArchiveSink {
  const bucket = (env.ARCHIVE_BUCKET ?? '').trim();
  if (!bucket) throw new ConfigurationError('ARCHIVE_BUCKET is missing: set it to the archive bucket name');
  const kmsKeyArn = (env.ARCHIVE_KMS_KEY_ARN ?? '').trim();
  if (kmsKeyArn && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+/.test(kmsKeyArn)) {
    throw new ConfigurationError(`ARCHIVE_KMS_KEY_ARN "${kmsKeyArn}" is not allowed: expected a KMS key or alias ARN`);
  }
  return new S3ArchiveSink({
    client: (s3 ??= new S3Client({})),
    bucket,
    prefix: env.ARCHIVE_PREFIX ?? '',
    kmsKeyArn: kmsKeyArn || undefined,
  });
}

export async function handler(): Promise<MaintenanceReport> {
  const sink = archiveSinkFromEnvironment(process.env);
  const config = await clientConfigFromEnvironment(process.env);
  const client = new Client(config);
  try {
    await client.connect();
  } catch (e) {
    throw new Error(describeConnectionError(e, `${config.host}:${config.port}/${config.database}`));
  }
  try {
    const report = await runMaintenance(client, { sink, log: (m) => console.log(m) });
    console.log(JSON.stringify(report));
    const summary = summarizeMaintenance(report);
    if (report.failed.length > 0) throw new Error(summary);
    console.log(summary);
    return report;
  } finally {
    await client.end().catch(() => undefined);
  }
}
