import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { DeleteObjectsCommand, ListObjectsV2Command, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { mapWithConcurrency } from '../../lambdas/media-invalidation/concurrency';
import { callerReference, changesFromEvent, handler, S3_CONCURRENCY, SqsEvent } from '../../lambdas/media-invalidation/index';
import { batchPaths, collapsePaths, DEFAULT_INVALIDATION_LIMITS, pathForKey, planInvalidations } from '../../lambdas/media-invalidation/plan';

const s3 = mockClient(S3Client);
const cloudfront = mockClient(CloudFrontClient);

function s3Event(type: 'Object Created' | 'Object Deleted', key: string, bucket = 'media-bucket') {
  return { version: '0', source: 'aws.s3', 'detail-type': type, detail: { bucket: { name: bucket }, object: { key } } };
}

function sqs(...bodies: unknown[]): SqsEvent {
  return { Records: bodies.map((b, i) => ({ messageId: `m-${i}`, body: typeof b === 'string' ? b : JSON.stringify(b) })) };
}

describe('invalidation planning', () => {
  it('encodes keys like a browser does, keeping the image operation delimiters and never producing a wildcard', () => {
    expect(pathForKey('media/u 1/é.jpg')).toBe('/media/u%201/%C3%A9.jpg');
    expect(pathForKey('images/media/a.jpg/f=avif,w=640,q=75')).toBe('/images/media/a.jpg/f=avif,w=640,q=75');
    expect(pathForKey('media/star*.jpg')).toBe('/media/star%2A.jpg');
  });

  it('dedupes and sorts', () => {
    expect(collapsePaths(['/media/b.jpg', '/media/a.jpg', '/media/b.jpg'])).toEqual(['/media/a.jpg', '/media/b.jpg']);
  });

  it('collapses a folder with more than collapseThreshold paths into one wildcard', () => {
    const many = Array.from({ length: 101 }, (_, i) => `/media/u1/p${i}.jpg`);
    const result = collapsePaths([...many, '/media/u2/x.jpg']);
    expect(result).toEqual(['/media/u1/*', '/media/u2/x.jpg']);
    // At the threshold nothing collapses.
    expect(collapsePaths(many.slice(0, 100))).toHaveLength(100);
  });

  it('drops paths and narrower wildcards already covered by a wildcard', () => {
    expect(collapsePaths(['/images/media/a.jpg/*', '/images/media/a.jpg/f=avif,q=75', '/images/*', '/media/x.jpg']))
      .toEqual(['/images/*', '/media/x.jpg']);
  });

  it('splits into batches of at most 3000 paths', () => {
    const paths = Array.from({ length: 7001 }, (_, i) => `/media/u${i}/p.jpg`);
    const batches = batchPaths(paths);
    expect(batches.map((b) => b.length)).toEqual([3000, 3000, 1001]);
    expect(batches.flat()).toEqual(paths);
  });

  it('puts at most 15 wildcard paths in one batch', () => {
    const paths = [...Array.from({ length: 20 }, (_, i) => `/media/u${i}/*`), '/media/z.jpg'];
    const batches = batchPaths(paths);
    expect(batches.map((b) => b.filter((p) => p.endsWith('*')).length)).toEqual([15, 5]);
    expect(batches.flat()).toHaveLength(21);
  });

  it('plans media and derived image paths together', () => {
    const batches = planInvalidations(['media/u1/a.jpg'], ['images/media/u1/a.jpg/f=webp,w=320,q=75', 'images/media/u1/a.jpg/f=avif,q=75']);
    expect(batches).toEqual([[
      '/images/media/u1/a.jpg/f=avif,q=75',
      '/images/media/u1/a.jpg/f=webp,w=320,q=75',
      '/media/u1/a.jpg',
    ]]);
  });

  it('has CloudFront\'s quotas as defaults', () => {
    expect(DEFAULT_INVALIDATION_LIMITS).toEqual({ maxPathsPerBatch: 3000, maxWildcardsPerBatch: 15, collapseThreshold: 100 });
  });
});

/** Counts calls in flight: `run` wraps an async call; `max` is the highest count seen. */
function inFlightMeter() {
  const meter = {
    current: 0,
    max: 0,
    async run<T>(fn: () => T): Promise<T> {
      meter.current++;
      meter.max = Math.max(meter.max, meter.current);
      try {
        // Let every other pending call start before this one answers.
        await new Promise((resolve) => setTimeout(resolve, 1));
        return fn();
      } finally {
        meter.current--;
      }
    },
  };
  return meter;
}

describe('bounded concurrency', () => {
  it('runs every item, keeps the input order and never has more than the limit in flight', async () => {
    const meter = inFlightMeter();
    const items = Array.from({ length: 100 }, (_, i) => i);
    const results = await mapWithConcurrency(items, 7, (i) => meter.run(() => i * 2));
    expect(results).toEqual(items.map((i) => i * 2));
    expect(meter.max).toBe(7);
    expect(await mapWithConcurrency([], 7, async () => 1)).toEqual([]);
  });

  it('rejects with the first failure and starts no further item', async () => {
    const started: number[] = [];
    const run = mapWithConcurrency(Array.from({ length: 50 }, (_, i) => i), 4, async (i) => {
      started.push(i);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (i === 5) throw new Error('item 5 failed');
      return i;
    });
    await expect(run).rejects.toThrow('item 5 failed');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(started.length).toBeLessThan(12);
  });

  it('refuses a limit below 1', async () => {
    await expect(mapWithConcurrency([1], 0, async (x) => x)).rejects.toThrow('concurrency limit 0 is not allowed; use a whole number of at least 1');
  });
});

describe('media-invalidation handler', () => {
  beforeAll(() => {
    process.env.DISTRIBUTION_ID = 'E2EXAMPLE';
    process.env.TRANSFORMED_BUCKET = 'transformed-bucket';
    process.env.IMAGE_PREFIX = 'images/';
  });

  beforeEach(() => {
    s3.reset();
    cloudfront.reset();
    cloudfront.on(CreateInvalidationCommand).resolves({ Invalidation: { Id: 'I1', Status: 'InProgress', CreateTime: new Date(0), InvalidationBatch: undefined as never } });
    s3.on(DeleteObjectsCommand).resolves({});
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  });

  it('parses EventBridge S3 events from SQS and skips anything else', () => {
    const changes = changesFromEvent(sqs(
      s3Event('Object Created', 'media/u1/a b.jpg'),
      s3Event('Object Deleted', 'media/u1/c.jpg'),
      { source: 'aws.s3', 'detail-type': 'Object Restore Completed', detail: { bucket: { name: 'x' }, object: { key: 'k' } } },
      'not json',
    ));
    expect(changes).toEqual([
      { bucket: 'media-bucket', key: 'media/u1/a b.jpg', removed: false },
      { bucket: 'media-bucket', key: 'media/u1/c.jpg', removed: true },
    ]);
  });

  it('ignores brand-new keys: nothing is cached for them yet', async () => {
    s3.on(ListObjectVersionsCommand).resolves({ Versions: [{ Key: 'media/u1/new.jpg', VersionId: 'v1' }] });
    const result = await handler(sqs(s3Event('Object Created', 'media/u1/new.jpg')));
    expect(result).toEqual({ invalidations: 0, paths: 0 });
    expect(cloudfront.commandCalls(CreateInvalidationCommand)).toHaveLength(0);
  });

  it('invalidates an overwritten key and its derived images, after deleting them from the transformed bucket', async () => {
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [
        { Key: 'media/u1/p.jpg', VersionId: 'v2' },
        { Key: 'media/u1/p.jpg', VersionId: 'v1' },
        { Key: 'media/u1/p.jpg.bak', VersionId: 'v9' },
      ],
    });
    s3.on(ListObjectsV2Command, { Prefix: 'images/media/u1/p.jpg/' }).resolves({
      Contents: [{ Key: 'images/media/u1/p.jpg/f=avif,w=640,q=75' }, { Key: 'images/media/u1/p.jpg/f=jpeg,q=75' }],
    });
    const result = await handler(sqs(s3Event('Object Created', 'media/u1/p.jpg'), s3Event('Object Created', 'media/u1/p.jpg')));
    expect(result).toEqual({ invalidations: 1, paths: 3 });
    const del = s3.commandCalls(DeleteObjectsCommand)[0].args[0].input;
    expect(del.Bucket).toBe('transformed-bucket');
    expect(del.Delete!.Objects!.map((o) => o.Key)).toEqual(['images/media/u1/p.jpg/f=avif,w=640,q=75', 'images/media/u1/p.jpg/f=jpeg,q=75']);
    const call = cloudfront.commandCalls(CreateInvalidationCommand)[0].args[0].input;
    expect(call.DistributionId).toBe('E2EXAMPLE');
    expect(call.InvalidationBatch!.Paths).toEqual({
      Quantity: 3,
      Items: ['/images/media/u1/p.jpg/f=avif,w=640,q=75', '/images/media/u1/p.jpg/f=jpeg,q=75', '/media/u1/p.jpg'],
    });
    // The version check ran once for the duplicated event.
    expect(s3.commandCalls(ListObjectVersionsCommand)).toHaveLength(1);
  });

  it('invalidates deleted keys without a version check', async () => {
    const result = await handler(sqs(s3Event('Object Deleted', 'media/u1/gone.jpg')));
    expect(result).toEqual({ invalidations: 1, paths: 1 });
    expect(s3.commandCalls(ListObjectVersionsCommand)).toHaveLength(0);
  });

  it('batches a large replacement into wildcard-collapsed calls with stable caller references', async () => {
    s3.on(ListObjectVersionsCommand).callsFake((input: { Prefix: string }) => ({
      Versions: [{ Key: input.Prefix, VersionId: 'b' }, { Key: input.Prefix, VersionId: 'a' }],
    }));
    const events = Array.from({ length: 150 }, (_, i) => s3Event('Object Created', `media/u7/p${i}.jpg`));
    events.push(...Array.from({ length: 20 }, (_, i) => s3Event('Object Deleted', `media/u${100 + i}/x.jpg`)));
    const batch = sqs(...events);
    const result = await handler(batch);
    const calls = cloudfront.commandCalls(CreateInvalidationCommand).map((c) => c.args[0].input.InvalidationBatch!);
    expect(result.invalidations).toBe(1);
    expect(calls[0].Paths!.Items).toContain('/media/u7/*');
    expect(calls[0].Paths!.Items!.filter((p) => p.startsWith('/media/u7/'))).toEqual(['/media/u7/*']);
    expect(calls[0].Paths!.Quantity).toBe(21);
    // A redelivered batch produces the same caller reference (CloudFront treats it as the same request).
    cloudfront.resetHistory();
    await handler(batch);
    expect(cloudfront.commandCalls(CreateInvalidationCommand)[0].args[0].input.InvalidationBatch!.CallerReference).toBe(calls[0].CallerReference);
    expect(callerReference(['/a'], 'm-1')).not.toBe(callerReference(['/a'], 'm-2'));
  });

  it('checks a burst of 1000 created keys with at most S3_CONCURRENCY list calls in flight, each key once', async () => {
    const versions = inFlightMeter();
    const listings = inFlightMeter();
    // Even keys replaced an earlier version; odd keys are new.
    s3.on(ListObjectVersionsCommand).callsFake((input: { Prefix: string }) => versions.run(() => {
      const n = Number(/p(\d+)\.jpg$/.exec(input.Prefix)![1]);
      const ids = n % 2 === 0 ? ['b', 'a'] : ['a'];
      return { Versions: ids.map((VersionId) => ({ Key: input.Prefix, VersionId })) };
    }));
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => listings.run(() => ({ Contents: [{ Key: `${input.Prefix}f=jpeg,q=75` }] })));
    const keys = Array.from({ length: 1000 }, (_, i) => `media/u${i}/p${i}.jpg`);
    const result = await handler(sqs(...keys.map((k) => s3Event('Object Created', k))));

    expect(S3_CONCURRENCY).toBe(16);
    expect(versions.max).toBe(S3_CONCURRENCY);
    expect(listings.max).toBe(S3_CONCURRENCY);
    expect(s3.commandCalls(ListObjectVersionsCommand).map((c) => c.args[0].input.Prefix).sort()).toEqual([...keys].sort());
    const overwritten = keys.filter((_, i) => i % 2 === 0);
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix).sort()).toEqual(overwritten.map((k) => `images/${k}/`).sort());
    // One delete for all 500 derived images; 500 media paths + 500 image paths in one invalidation.
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(1);
    expect(s3.commandCalls(DeleteObjectsCommand)[0].args[0].input.Delete!.Objects).toHaveLength(500);
    expect(result).toEqual({ invalidations: 1, paths: 1000 });
    const items = cloudfront.commandCalls(CreateInvalidationCommand)[0].args[0].input.InvalidationBatch!.Paths!.Items!;
    expect(items).toEqual(expect.arrayContaining(overwritten.flatMap((k) => [`/${k}`, `/images/${k}/f=jpeg,q=75`])));
  });

  it('fails the batch without invalidating when a version check fails', async () => {
    s3.on(ListObjectVersionsCommand).rejects(Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown' }));
    await expect(handler(sqs(s3Event('Object Created', 'media/u1/a.jpg'), s3Event('Object Created', 'media/u1/b.jpg')))).rejects.toThrow(/reduce your request rate/);
    expect(cloudfront.commandCalls(CreateInvalidationCommand)).toHaveLength(0);
  });

  it('fails the batch (for SQS to retry) when CloudFront refuses', async () => {
    cloudfront.on(CreateInvalidationCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyInvalidationsInProgress' }));
    await expect(handler(sqs(s3Event('Object Deleted', 'media/u1/gone.jpg')))).rejects.toThrow(/Rate exceeded/);
  });

  it('fails the batch when derived images cannot be deleted', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'images/media/u1/gone.jpg/f=jpeg,q=75' }] });
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'images/media/u1/gone.jpg/f=jpeg,q=75', Code: 'AccessDenied' }] });
    await expect(handler(sqs(s3Event('Object Deleted', 'media/u1/gone.jpg')))).rejects.toThrow(/deleting derived images failed for 1 object/);
    expect(cloudfront.commandCalls(CreateInvalidationCommand)).toHaveLength(0);
  });
});
