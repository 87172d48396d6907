import sharp, { Metadata } from 'sharp';
import { ImageLimits, OutputFormat } from './limits';
import { ImageOperations, ImageRequestError } from './operations';

export const CONTENT_TYPES: Record<OutputFormat, string> = {
  avif: 'image/avif',
  webp: 'image/webp',
  jpeg: 'image/jpeg',
};

export interface TransformedImage {
  readonly body: Buffer;
  readonly contentType: string;
  readonly width: number;
  readonly height: number;
}

/**
 * The request's quality is on the JPEG scale (what clients know). AVIF reaches the same visual quality
 * at a lower number (sharp's defaults: JPEG 80, AVIF 50), so it is shifted down by 25; WebP uses the
 * JPEG scale as is.
 */
export function encoderQuality(format: OutputFormat, quality: number): number {
  return format === 'avif' ? Math.max(1, quality - 25) : quality;
}

function classifySharpError(error: unknown): ImageRequestError {
  const message = error instanceof Error ? error.message : String(error);
  if (/unsupported image format/i.test(message)) {
    return new ImageRequestError(415, 'original is not an image in a supported format');
  }
  if (/pixel limit/i.test(message)) {
    return new ImageRequestError(413, 'original has more pixels than allowed');
  }
  return new ImageRequestError(400, `original is corrupt or truncated and cannot be decoded (${message.split('\n')[0].slice(0, 160)})`);
}

/**
 * Decodes `input`, checks it against the limits, auto-orients it (EXIF), resizes it to fit the request
 * and the bounds, strips metadata and encodes it (progressive JPEG, WebP or AVIF). Bad input raises an
 * ImageRequestError with a 4xx status, never a generic error.
 */
export async function transformImage(input: Buffer, ops: ImageOperations, limits: ImageLimits): Promise<TransformedImage> {
  if (input.length > limits.maxInputBytes) {
    throw new ImageRequestError(413, `original is ${input.length} bytes; the limit is ${limits.maxInputBytes} bytes`);
  }
  let metadata: Metadata;
  try {
    metadata = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw classifySharpError(error);
  }
  const format = metadata.format ?? 'unknown';
  if (!limits.allowedInputFormats.includes(format)) {
    throw new ImageRequestError(415, `original format ${format} is not allowed; allowed: ${limits.allowedInputFormats.join(', ')}`);
  }
  if (!metadata.width || !metadata.height) {
    throw new ImageRequestError(400, 'original has no dimensions and cannot be decoded');
  }
  const pixels = metadata.width * metadata.height;
  if (pixels > limits.maxInputPixels) {
    throw new ImageRequestError(
      413,
      `original is ${metadata.width}x${metadata.height} = ${pixels} pixels; the limit is ${limits.maxInputPixels} pixels`,
    );
  }
  // EXIF orientations 5-8 swap width and height once applied.
  const oriented = metadata.orientation && metadata.orientation >= 5
    ? { width: metadata.height, height: metadata.width }
    : { width: metadata.width, height: metadata.height };
  // Fit inside (requested width or the original's, capped at maxWidth) x maxHeight, never enlarging.
  const boxWidth = Math.min(ops.width ?? oriented.width, limits.maxWidth);
  const quality = encoderQuality(ops.format, ops.quality);
  try {
    let pipeline = sharp(input, { limitInputPixels: limits.maxInputPixels, failOn: 'error' })
      .rotate()
      .resize({ width: boxWidth, height: limits.maxHeight, fit: 'inside', withoutEnlargement: true });
    if (ops.format === 'avif') pipeline = pipeline.avif({ quality, effort: 3 });
    else if (ops.format === 'webp') pipeline = pipeline.webp({ quality, effort: 4 });
    else pipeline = pipeline.jpeg({ quality, progressive: true, mozjpeg: false });
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    return { body: data, contentType: CONTENT_TYPES[ops.format], width: info.width, height: info.height };
  } catch (error) {
    throw classifySharpError(error);
  }
}
