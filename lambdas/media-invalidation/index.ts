/**
 * Media cache invalidation. S3 events of the media bucket (Object Created, Object Deleted) go through
 * EventBridge into an SQS queue; this function receives them in batches (up to the batching window) and:
 *  1. keeps the keys whose content changed for viewers: removed objects, and created objects that
 *     replaced an earlier version (a brand-new key has nothing cached, so invalidating it only costs);
 *  2. deletes the derived images of those keys from the transformed-images bucket (else the origin
 *     group would keep serving the old variants) and collects their paths;
 *  3. invalidates the media paths and the derived image paths in as few CreateInvalidation calls as
 *     CloudFront's quotas allow (see plan.ts). The caller reference is a hash of the batch, so a retried
 *     SQS batch does not create a second invalidation.
 * Any failure fails the whole SQS batch, which SQS retries and finally moves to the dead-letter queue.
 */
import { createHash } from 'node:crypto';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { DeleteObjectsCommand, ListObjectsV2Command, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { mapWithConcurrency } from './concurrency';
import { DEFAULT_INVALIDATION_LIMITS, InvalidationLimits, planInvalidations } from './plan';

export interface SqsEvent {
  readonly Records: ReadonlyArray<{ readonly messageId: string; readonly body: string }>;
}

/** An S3 event delivered by EventBridge (`source: aws.s3`); keys arrive as-is, not URL-encoded. */
interface S3EventBridgeEvent {
  readonly 'detail-type'?: string;
  readonly source?: string;
  readonly detail?: { readonly bucket?: { readonly name?: string }; readonly object?: { readonly key?: string } };
}

export interface MediaChange {
  readonly bucket: string;
  readonly key: string;
  readonly removed: boolean;
}

/**
 * S3 list calls in flight at once. A batch holds up to 1000 events, one ListObjectVersions call each; one at a time
 * they could outlast the function's 60 s timeout, all at once they would queue on the SDK's 50 sockets and meet S3
 * throttling. 16 keeps a full batch to about 63 rounds.
 */
export const S3_CONCURRENCY = 16;

const s3 = new S3Client({});
const cloudfront = new CloudFrontClient({});

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`media-invalidation configuration is invalid: ${name} is not set`);
  return value;
}

/** Extracts the media changes from an SQS batch of EventBridge S3 events; other messages are skipped. */
export function changesFromEvent(event: SqsEvent): MediaChange[] {
  const changes: MediaChange[] = [];
  for (const record of event.Records) {
    let body: S3EventBridgeEvent;
    try {
      body = JSON.parse(record.body);
    } catch {
      console.warn(JSON.stringify({ level: 'warn', message: 'message is not JSON; skipped', messageId: record.messageId }));
      continue;
    }
    const type = body['detail-type'];
    const bucket = body.detail?.bucket?.name;
    const key = body.detail?.object?.key;
    if (body.source !== 'aws.s3' || !bucket || !key || (type !== 'Object Created' && type !== 'Object Deleted')) {
      console.warn(JSON.stringify({ level: 'warn', message: 'not an S3 object event; skipped', messageId: record.messageId }));
      continue;
    }
    changes.push({ bucket, key, removed: type === 'Object Deleted' });
  }
  return changes;
}

/** True when the key has an earlier version, i.e. the create overwrote something viewers may have cached. */
async function wasOverwritten(bucket: string, key: string): Promise<boolean> {
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, MaxKeys: 3 }));
  const same = [...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])].filter((v) => v.Key === key);
  return same.length > 1;
}

async function derivedObjects(transformedBucket: string, imagePrefix: string, key: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({
      Bucket: transformedBucket, Prefix: `${imagePrefix}${key}/`, ContinuationToken: token,
    }));
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function deleteObjects(bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = keys.slice(i, i + 1000);
    const result = await s3.send(new DeleteObjectsCommand({
      Bucket: bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
    }));
    if (result.Errors && result.Errors.length > 0) {
      throw new Error(`deleting derived images failed for ${result.Errors.length} object(s), first: ${result.Errors[0].Key} ${result.Errors[0].Code}`);
    }
  }
}

export function callerReference(paths: readonly string[], batchId: string): string {
  return createHash('sha256').update(batchId).update('\n').update(paths.join('\n')).digest('hex').slice(0, 64);
}

export async function handler(event: SqsEvent): Promise<{ invalidations: number; paths: number }> {
  const distributionId = requiredEnv('DISTRIBUTION_ID');
  const transformedBucket = requiredEnv('TRANSFORMED_BUCKET');
  const imagePrefix = process.env.IMAGE_PREFIX ?? 'images/';
  const limits: InvalidationLimits = {
    ...DEFAULT_INVALIDATION_LIMITS,
    collapseThreshold: Number(process.env.COLLAPSE_THRESHOLD ?? DEFAULT_INVALIDATION_LIMITS.collapseThreshold),
  };

  const changes = changesFromEvent(event);
  const unique = new Map<string, MediaChange>();
  for (const change of changes) {
    const id = `${change.bucket}/${change.key}`;
    const seen = unique.get(id);
    unique.set(id, { ...change, removed: change.removed || (seen?.removed ?? false) });
  }
  const candidates = [...unique.values()];
  const changed = await mapWithConcurrency(candidates, S3_CONCURRENCY,
    async (change) => change.removed || await wasOverwritten(change.bucket, change.key));
  const changedKeys = candidates.filter((_, i) => changed[i]).map((change) => change.key);
  const derivedKeys = (await mapWithConcurrency(changedKeys, S3_CONCURRENCY,
    (key) => derivedObjects(transformedBucket, imagePrefix, key))).flat();
  await deleteObjects(transformedBucket, derivedKeys);
  const batches = planInvalidations(changedKeys, derivedKeys, limits);
  const batchId = event.Records.map((r) => r.messageId).sort().join(',');
  for (const paths of batches) {
    await cloudfront.send(new CreateInvalidationCommand({
      DistributionId: distributionId,
      InvalidationBatch: { CallerReference: callerReference(paths, batchId), Paths: { Quantity: paths.length, Items: paths } },
    }));
  }
  const total = batches.reduce((n, b) => n + b.length, 0);
  console.info(JSON.stringify({
    level: 'info', message: 'invalidation done', events: changes.length, changedKeys: changedKeys.length,
    derivedDeleted: derivedKeys.length, invalidations: batches.length, paths: total,
  }));
  return { invalidations: batches.length, paths: total };
}
