/**
 * Image transformation origin (Lambda function URL behind CloudFront OAC, fallback of the origin group
 * whose primary is the transformed-images bucket).
 *
 * GET /images/<original key>/f=<avif|webp|jpeg>[,w=<width>],q=<quality>
 *  → reads <original key> from the media bucket, transforms it with sharp, stores the result in the
 *    transformed-images bucket under the request path (so the origin group's primary serves it next
 *    time) and returns it. Results above the inline limit are stored and answered with a 302 to the
 *    viewer URL, which CloudFront then serves from the bucket.
 * Missing original → 404, corrupt original → 400, unsupported format → 415, too large → 413, each with
 * a plain-text reason; only infrastructure failures give a 5xx.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ImageLimits, limitsFromEnv } from './limits';
import { ImageRequestError, ParsedImagePath, parseImagePath } from './operations';
import { transformImage } from './transform';

export interface FunctionUrlEvent {
  readonly rawPath?: string;
  readonly requestContext?: { readonly http?: { readonly method?: string } };
}

export interface FunctionUrlResult {
  statusCode: number;
  headers: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}

interface HandlerConfig {
  readonly mediaBucket: string;
  readonly transformedBucket: string;
  readonly pathPrefix: string;
  readonly cacheControl: string;
  readonly limits: ImageLimits;
}

const s3 = new S3Client({});
let config: HandlerConfig | undefined;

function loadConfig(): HandlerConfig {
  if (config) return config;
  const env = process.env;
  const missing = ['MEDIA_BUCKET', 'TRANSFORMED_BUCKET'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`image-transform configuration is invalid: ${missing.join(', ')} not set`);
  config = {
    mediaBucket: env.MEDIA_BUCKET!,
    transformedBucket: env.TRANSFORMED_BUCKET!,
    pathPrefix: env.PATH_PREFIX || '/images/',
    cacheControl: env.TRANSFORMED_CACHE_CONTROL || 'public, max-age=604800',
    limits: limitsFromEnv(env),
  };
  return config;
}

/** For tests: forget the configuration read from the environment. */
export function resetConfigForTests(): void {
  config = undefined;
}

function errorResult(error: ImageRequestError): FunctionUrlResult {
  return {
    statusCode: error.statusCode,
    // Short edge caching of refusals keeps a hot broken URL from reaching the Lambda on every request.
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'public, max-age=60' },
    body: error.message,
  };
}

function log(level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>): void {
  console[level](JSON.stringify({ level, message, ...fields }));
}

async function readOriginal(cfg: HandlerConfig, key: string): Promise<Buffer> {
  let response;
  try {
    response = await s3.send(new GetObjectCommand({ Bucket: cfg.mediaBucket, Key: key }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound') {
      throw new ImageRequestError(404, `original ${key} does not exist`);
    }
    throw error;
  }
  if (response.ContentLength !== undefined && response.ContentLength > cfg.limits.maxInputBytes) {
    throw new ImageRequestError(413, `original is ${response.ContentLength} bytes; the limit is ${cfg.limits.maxInputBytes} bytes`);
  }
  if (!response.Body) throw new ImageRequestError(400, `original ${key} is empty`);
  const bytes = Buffer.from(await response.Body.transformToByteArray());
  if (bytes.length === 0) throw new ImageRequestError(400, `original ${key} is empty`);
  return bytes;
}

function viewerUrl(cfg: HandlerConfig, parsed: ParsedImagePath): string {
  const key = parsed.originalKey.split('/').map(encodeURIComponent).join('/');
  const query = [parsed.operations.width ? `width=${parsed.operations.width}` : '', `quality=${parsed.operations.quality}`]
    .filter((p) => p.length > 0)
    .join('&');
  return `${cfg.pathPrefix}${key}?${query}`;
}

export async function handler(event: FunctionUrlEvent): Promise<FunctionUrlResult> {
  const cfg = loadConfig();
  const method = event.requestContext?.http?.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    return errorResult(new ImageRequestError(405, `method ${method} is not allowed; allowed: GET, HEAD`));
  }
  let parsed: ParsedImagePath;
  try {
    parsed = parseImagePath(event.rawPath ?? '', cfg.pathPrefix, cfg.limits);
  } catch (error) {
    if (error instanceof ImageRequestError) return errorResult(error);
    throw error;
  }
  const started = Date.now();
  let image;
  try {
    const original = await readOriginal(cfg, parsed.originalKey);
    image = await transformImage(original, parsed.operations, cfg.limits);
  } catch (error) {
    if (error instanceof ImageRequestError) {
      log('warn', 'image refused', { key: parsed.originalKey, ops: parsed.operationsSegment, status: error.statusCode, reason: error.message });
      return errorResult(error);
    }
    log('error', 'reading the original failed', { key: parsed.originalKey, error: String(error) });
    return {
      statusCode: 502,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
      body: 'the original could not be read',
    };
  }
  const transformMs = Date.now() - started;
  const storedKey = `${cfg.pathPrefix.replace(/^\//, '')}${parsed.originalKey}/${parsed.operationsSegment}`;
  const tooBig = image.body.length > cfg.limits.maxResponseBytes;
  let stored = false;
  try {
    await s3.send(new PutObjectCommand({
      Bucket: cfg.transformedBucket,
      Key: storedKey,
      Body: image.body,
      ContentType: image.contentType,
      CacheControl: cfg.cacheControl,
    }));
    stored = true;
  } catch (error) {
    // Not fatal for small results: the viewer still gets the image, CloudFront caches it.
    log('error', 'storing the transformed image failed', { key: storedKey, error: String(error) });
  }
  log('info', 'image transformed', {
    key: parsed.originalKey, ops: parsed.operationsSegment, bytes: image.body.length, width: image.width, height: image.height, transformMs, stored,
  });
  if (tooBig) {
    if (!stored) {
      return {
        statusCode: 502,
        headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
        body: `the transformed image is ${image.body.length} bytes, above the inline limit of ${cfg.limits.maxResponseBytes}, and could not be stored`,
      };
    }
    // The object now exists in the origin group's primary: the same viewer URL is served from S3.
    return {
      statusCode: 302,
      headers: { 'Location': viewerUrl(cfg, parsed), 'Cache-Control': 'private, no-store' },
    };
  }
  return {
    statusCode: 200,
    headers: { 'Content-Type': image.contentType, 'Cache-Control': cfg.cacheControl, 'Vary': 'Accept' },
    body: method === 'HEAD' ? '' : image.body.toString('base64'),
    isBase64Encoded: method !== 'HEAD',
  };
}
