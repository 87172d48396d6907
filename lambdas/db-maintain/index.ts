/**
 * Scheduled (EventBridge) partition maintenance: pg_partman maintenance, then every detached
 * partition is exported to the S3 archive bucket in slices, each read back and verified, and the
 * partition dropped once all are (database/partition-maintenance.ts). The invocation's remaining time
 * is the budget: when it runs low no slice is started and the next invocation resumes (not an error).
 * Housekeeping (outbox and idempotency purges) runs first, inside the same budget. A failed slice or drop keeps
 * the partition and its verified slices and fails the invocation (so the Errors metric alarms) after the other
 * partitions were processed; so does a partition whose verified slices await a drop that cannot start in budget.
 * Env: DB_HOST, DB_PORT, DB_NAME, DB_SECRET_ARN, DB_SSL, ARCHIVE_BUCKET, ARCHIVE_PREFIX, ARCHIVE_KMS_KEY_ARN,
 * ARCHIVE_SLICE_ROWS (default 1000000), ARCHIVE_SAFETY_MARGIN_SECONDS (default 120).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { S3ArchiveSink } from '../../database/archive-sink';
import { clientConfigFromEnvironment, ConfigurationError, describeConnectionError } from '../../database/connection';
import { MaintenanceOptions, MaintenanceReport, runMaintenance, summarizeMaintenance } from '../../database/partition-maintenance';

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

/** Slice size and safety margin from the environment (unset: the defaults of runMaintenance). */
export function archivalSettingsFromEnvironment(env: NodeJS.ProcessEnv): Pick<MaintenanceOptions, 'sliceRows' | 'safetyMarginMs'> {
  const problems: string[] = [];
  const wholeNumber = (name: string, min: number, max: number): number | undefined => {
    const raw = (env[name] ?? '').trim();
    if (raw === '') return undefined;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} "${raw}" is not allowed: expected a whole number from ${min} to ${max}`);
      return undefined;
    }
    return value;
  };
  const sliceRows = wholeNumber('ARCHIVE_SLICE_ROWS', 1000, 100_000_000);
  const marginSeconds = wholeNumber('ARCHIVE_SAFETY_MARGIN_SECONDS', 10, 840);
  if (problems.length > 0) throw new ConfigurationError(`invalid archival settings: ${problems.join('; ')}`);
  return { sliceRows, safetyMarginMs: marginSeconds === undefined ? undefined : marginSeconds * 1000 };
}

/** The part of the Lambda context this handler uses. */
export interface MaintainContext {
  getRemainingTimeInMillis(): number;
}

export async function handler(_event?: unknown, context?: MaintainContext): Promise<MaintenanceReport> {
  const sink = archiveSinkFromEnvironment(process.env);
  const settings = archivalSettingsFromEnvironment(process.env);
  const config = await clientConfigFromEnvironment(process.env);
  const client = new Client(config);
  try {
    await client.connect();
  } catch (e) {
    throw new Error(describeConnectionError(e, `${config.host}:${config.port}/${config.database}`));
  }
  try {
    const report = await runMaintenance(client, {
      sink,
      ...settings,
      // The invocation's own deadline; without a context (a manual call) there is no budget.
      remainingTimeMs: context ? () => context.getRemainingTimeInMillis() : undefined,
      log: (m) => console.log(m),
    });
    console.log(JSON.stringify(report));
    const summary = summarizeMaintenance(report);
    if (report.failed.length > 0) throw new Error(summary);
    console.log(summary);
    return report;
  } finally {
    await client.end().catch(() => undefined);
  }
}
