import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import sharp from 'sharp';
import { handler, resetConfigForTests } from '../../lambdas/image-transform/index';
import { DEFAULT_LIMITS, ImageLimits, limitsFromEnv } from '../../lambdas/image-transform/limits';
import { ImageRequestError, parseImagePath } from '../../lambdas/image-transform/operations';
import { encoderQuality, transformImage } from '../../lambdas/image-transform/transform';

const s3 = mockClient(S3Client);

/** Photo-like test image: smooth gradients plus deterministic noise (compresses like a photo). */
async function photo(width: number, height: number, format: 'jpeg' | 'png' = 'jpeg', orientation?: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    const green = ((255 * y) / height) | 0;
    const cosY = Math.cos(y / 23);
    for (let x = 0; x < width; x++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const noise = ((seed >>> 16) % 21) - 10;
      const i = (y * width + x) * 3;
      raw[i] = clamp((((255 * x) / width) | 0) + noise);
      raw[i + 1] = clamp(green + noise);
      raw[i + 2] = clamp(128 + ((60 * Math.sin(x / 17) * cosY) | 0) + noise);
    }
  }
  let image = sharp(raw, { raw: { width, height, channels: 3 } });
  if (orientation) image = image.withMetadata({ orientation });
  return format === 'jpeg' ? image.jpeg({ quality: 92 }).toBuffer() : image.png().toBuffer();
}

function body(bytes: Buffer) {
  return { transformToByteArray: async () => new Uint8Array(bytes) } as never;
}

function request(path: string, method = 'GET') {
  return { rawPath: path, requestContext: { http: { method } } };
}

const originals: Record<string, Buffer> = {};

beforeAll(async () => {
  const started = Date.now();
  originals['media/u1/photo.jpg'] = await photo(1600, 1200);
  originals['media/u1/small.png'] = await photo(400, 300, 'png');
  originals['media/u1/rotated.jpg'] = await photo(400, 200, 'jpeg', 6);
  originals['media/u1/tall.jpg'] = await photo(200, 3000);
  originals['media/u1/truncated.jpg'] = originals['media/u1/photo.jpg'].subarray(0, 4000);
  originals['media/u1/not-an-image.jpg'] = Buffer.from('hello, this is plain text and not an image at all');
  originals['media/u1/drawing.svg'] = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
  Object.assign(process.env, {
    MEDIA_BUCKET: 'media-bucket',
    TRANSFORMED_BUCKET: 'transformed-bucket',
    PATH_PREFIX: '/images/',
    ALLOWED_WIDTHS: DEFAULT_LIMITS.allowedWidths.join(','),
    MAX_WIDTH: '2560',
    MAX_HEIGHT: '2560',
    MAX_INPUT_PIXELS: '40000000',
    MAX_INPUT_BYTES: String(5 * 1024 * 1024),
    MAX_RESPONSE_BYTES: '4500000',
  });
  console.log('fixtures ms', Date.now() - started);
}, 60_000);

beforeEach(() => {
  s3.reset();
  resetConfigForTests();
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const bytes = originals[input.Key];
    if (!bytes) {
      const error = new Error('The specified key does not exist.');
      error.name = 'NoSuchKey';
      throw error;
    }
    return { Body: body(bytes), ContentLength: bytes.length };
  });
  s3.on(PutObjectCommand).resolves({});
});

describe('image-transform handler: format negotiation and resize', () => {
  it.each([
    ['avif', 'image/avif'],
    ['webp', 'image/webp'],
    ['jpeg', 'image/jpeg'],
  ] as const)('f=%s returns %s, resized, smaller than the original, and stores it', async (format, contentType) => {
    const result = await handler(request(`/images/media/u1/photo.jpg/f=${format},w=640,q=75`));
    expect(result.statusCode).toBe(200);
    expect(result.headers['Content-Type']).toBe(contentType);
    expect(result.headers['Cache-Control']).toBe('public, max-age=604800');
    expect(result.isBase64Encoded).toBe(true);
    const out = Buffer.from(result.body!, 'base64');
    const meta = await sharp(out).metadata();
    expect(meta.format).toBe(format === 'avif' ? 'heif' : format);
    expect(meta.width).toBe(640);
    expect(meta.height).toBe(480);
    expect(out.length).toBeLessThan(originals['media/u1/photo.jpg'].length);
    if (format === 'jpeg') expect(meta.isProgressive).toBe(true);
    const puts = s3.commandCalls(PutObjectCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0].args[0].input).toMatchObject({
      Bucket: 'transformed-bucket',
      Key: `images/media/u1/photo.jpg/f=${format},w=640,q=75`,
      ContentType: contentType,
      CacheControl: 'public, max-age=604800',
    });
    expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toEqual({ Bucket: 'media-bucket', Key: 'media/u1/photo.jpg' });
  });

  it('keeps the original width when no width is asked, and never enlarges', async () => {
    const noWidth = await handler(request('/images/media/u1/small.png/f=webp,q=75'));
    expect((await sharp(Buffer.from(noWidth.body!, 'base64')).metadata()).width).toBe(400);
    const larger = await handler(request('/images/media/u1/small.png/f=webp,w=1920,q=75'));
    expect((await sharp(Buffer.from(larger.body!, 'base64')).metadata()).width).toBe(400);
  });

  it('applies the EXIF orientation (and strips metadata)', async () => {
    const result = await handler(request('/images/media/u1/rotated.jpg/f=jpeg,q=75'));
    const meta = await sharp(Buffer.from(result.body!, 'base64')).metadata();
    expect([meta.width, meta.height]).toEqual([200, 400]);
    expect(meta.orientation).toBeUndefined();
  });

  it('bounds the height (maxHeight)', async () => {
    const result = await handler(request('/images/media/u1/tall.jpg/f=jpeg,q=75'));
    const meta = await sharp(Buffer.from(result.body!, 'base64')).metadata();
    expect(meta.height).toBe(2560);
    expect(Math.abs(meta.width! - (200 * 2560) / 3000)).toBeLessThanOrEqual(1);
  });

  it('answers HEAD without a body', async () => {
    const result = await handler(request('/images/media/u1/small.png/f=jpeg,q=75', 'HEAD'));
    expect(result.statusCode).toBe(200);
    expect(result.body).toBe('');
  });

  it('decodes percent-encoded keys', async () => {
    originals['media/u 1/é.png'] = originals['media/u1/small.png'];
    const result = await handler(request('/images/media/u%201/%C3%A9.png/f=webp,w=160,q=75'));
    expect(result.statusCode).toBe(200);
    expect(s3.commandCalls(GetObjectCommand)[0].args[0].input.Key).toBe('media/u 1/é.png');
  });
});

describe('image-transform handler: refusals are 4xx with a reason, never 5xx', () => {
  it.each([
    ['missing original', '/images/media/u1/nope.jpg/f=avif,q=75', 404, /original media\/u1\/nope.jpg does not exist/],
    ['truncated JPEG', '/images/media/u1/truncated.jpg/f=webp,q=75', 400, /corrupt or truncated/],
    ['text posing as JPEG', '/images/media/u1/not-an-image.jpg/f=webp,q=75', 415, /not an image in a supported format/],
    ['SVG original (not an allowed input)', '/images/media/u1/drawing.svg/f=webp,q=75', 415, /format svg is not allowed/],
    ['width outside the allowed set', '/images/media/u1/photo.jpg/f=webp,w=641,q=75', 400, /width "641" is not allowed/],
    ['quality above the maximum', '/images/media/u1/photo.jpg/f=webp,q=95', 400, /quality "95" is not allowed/],
    ['quality below the minimum', '/images/media/u1/photo.jpg/f=webp,q=10', 400, /quality "10" is not allowed/],
    ['format not offered', '/images/media/u1/photo.jpg/f=png,q=75', 400, /format "png" is not allowed/],
    ['unknown operation', '/images/media/u1/photo.jpg/f=webp,q=75,h=10', 400, /unknown operation\(s\) h/],
    ['operations out of order', '/images/media/u1/photo.jpg/q=75,f=webp', 400, /not canonical/],
    ['no operations segment', '/images/photo.jpg', 400, /path must be/],
    ['dot-dot segment', '/images/media/../secret/f=webp,q=75', 400, /must not contain/],
    ['bad percent-encoding', '/images/media/%E0%A4%A/f=webp,q=75', 400, /invalid percent-encoding/],
  ])('%s', async (_name, path, status, reason) => {
    const result = await handler(request(path));
    expect(result.statusCode).toBe(status);
    expect(result.body).toMatch(reason);
    expect(result.headers['Content-Type']).toBe('text/plain; charset=utf-8');
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('refuses methods other than GET and HEAD with 405', async () => {
    const result = await handler(request('/images/media/u1/photo.jpg/f=webp,q=75', 'POST'));
    expect(result.statusCode).toBe(405);
  });

  it('refuses an original above maxInputBytes before downloading it (413)', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body(Buffer.alloc(1)), ContentLength: 6 * 1024 * 1024 });
    const result = await handler(request('/images/media/u1/photo.jpg/f=webp,q=75'));
    expect(result.statusCode).toBe(413);
    expect(result.body).toMatch(/6291456 bytes; the limit is 5242880 bytes/);
  });

  it('gives 502 (not a 4xx) when S3 itself fails', async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    const result = await handler(request('/images/media/u1/photo.jpg/f=webp,q=75'));
    expect(result.statusCode).toBe(502);
    expect(result.headers['Cache-Control']).toBe('no-store');
  });
});

describe('image-transform handler: the 6 MB Lambda response limit', () => {
  beforeEach(() => { process.env.MAX_RESPONSE_BYTES = '2000'; resetConfigForTests(); });
  afterAll(() => { process.env.MAX_RESPONSE_BYTES = '4500000'; resetConfigForTests(); });

  it('stores an oversized result and redirects (302) to the viewer URL, which the bucket then serves', async () => {
    const result = await handler(request('/images/media/u1/photo.jpg/f=jpeg,w=1280,q=90'));
    expect(result.statusCode).toBe(302);
    expect(result.headers.Location).toBe('/images/media/u1/photo.jpg?width=1280&quality=90');
    expect(result.headers['Cache-Control']).toBe('private, no-store');
    expect(result.body).toBeUndefined();
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put.Key).toBe('images/media/u1/photo.jpg/f=jpeg,w=1280,q=90');
    expect((put.Body as Buffer).length).toBeGreaterThan(2000);
  });

  it('answers 502 when an oversized result cannot be stored', async () => {
    s3.on(PutObjectCommand).rejects(new Error('SlowDown'));
    const result = await handler(request('/images/media/u1/photo.jpg/f=jpeg,w=1280,q=90'));
    expect(result.statusCode).toBe(502);
    expect(result.body).toMatch(/above the inline limit of 2000/);
  });

  it('still returns a small result inline when storing fails', async () => {
    process.env.MAX_RESPONSE_BYTES = '4500000';
    resetConfigForTests();
    s3.on(PutObjectCommand).rejects(new Error('SlowDown'));
    const result = await handler(request('/images/media/u1/small.png/f=webp,w=160,q=75'));
    expect(result.statusCode).toBe(200);
  });
});

describe('transformImage bounds (direct)', () => {
  const limits: ImageLimits = { ...DEFAULT_LIMITS, maxInputPixels: 1_000_000, maxWidth: 800, maxHeight: 600 };

  it('refuses originals above maxInputPixels (decompression-bomb guard) with 413', async () => {
    await expect(transformImage(originals['media/u1/photo.jpg'], { format: 'webp', quality: 75 }, limits))
      .rejects.toMatchObject({ statusCode: 413, message: expect.stringMatching(/1600x1200 = 1920000 pixels; the limit is 1000000/) });
  });

  it('fits the output inside maxWidth x maxHeight', async () => {
    const out = await transformImage(originals['media/u1/small.png'], { format: 'webp', quality: 75 }, { ...DEFAULT_LIMITS, maxWidth: 200, maxHeight: 100 });
    expect([out.width, out.height]).toEqual([133, 100]);
  });

  it('refuses inputs above maxInputBytes with 413', async () => {
    await expect(transformImage(originals['media/u1/photo.jpg'], { format: 'webp', quality: 75 }, { ...DEFAULT_LIMITS, maxInputBytes: 1000 }))
      .rejects.toBeInstanceOf(ImageRequestError);
  });

  it('refuses input formats outside the allowed list with 415', async () => {
    await expect(transformImage(originals['media/u1/small.png'], { format: 'webp', quality: 75 }, { ...DEFAULT_LIMITS, allowedInputFormats: ['jpeg'] }))
      .rejects.toMatchObject({ statusCode: 415, message: 'original format png is not allowed; allowed: jpeg' });
  });

  it('maps the JPEG-scale quality to the AVIF encoder scale', () => {
    expect(encoderQuality('avif', 75)).toBe(50);
    expect(encoderQuality('webp', 75)).toBe(75);
    expect(encoderQuality('jpeg', 40)).toBe(40);
  });
});

describe('limits and path parsing', () => {
  it('reads limits from the environment and reports every bad variable at once', () => {
    expect(limitsFromEnv({ ALLOWED_WIDTHS: '100, 200', MAX_WIDTH: '200' }).allowedWidths).toEqual([100, 200]);
    const bad = () => limitsFromEnv({ MAX_WIDTH: 'wide', MAX_INPUT_BYTES: '-1', ALLOWED_WIDTHS: '1,x' });
    expect(bad).toThrow(/MAX_WIDTH="wide" is not a positive integer/);
    expect(bad).toThrow(/MAX_INPUT_BYTES="-1" is not a positive integer/);
    expect(bad).toThrow(/ALLOWED_WIDTHS="1,x" must be a comma-separated list of positive integers/);
  });

  it('parses the canonical path the CloudFront Function writes', () => {
    expect(parseImagePath('/images/media/a/b.jpg/f=avif,w=320,q=60', '/images/', DEFAULT_LIMITS)).toEqual({
      originalKey: 'media/a/b.jpg',
      operationsSegment: 'f=avif,w=320,q=60',
      operations: { format: 'avif', width: 320, quality: 60 },
    });
  });
});
