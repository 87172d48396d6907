/**
 * Guard rails of the image pipeline, read from the Lambda environment (set by the
 * ConnectHubImageOptimization construct). Plain data: imported by the handler and the benchmark,
 * never by CDK code.
 */
export type OutputFormat = 'avif' | 'webp' | 'jpeg';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['avif', 'webp', 'jpeg'];

export interface ImageLimits {
  /** Widths the CloudFront Function snaps to; any other width is refused. */
  readonly allowedWidths: readonly number[];
  /** Output is never wider than this (px). */
  readonly maxWidth: number;
  /** Output is never taller than this (px). */
  readonly maxHeight: number;
  /** Originals with more pixels than this are refused before decoding (decompression bombs). */
  readonly maxInputPixels: number;
  /** Originals larger than this many bytes are refused before download. */
  readonly maxInputBytes: number;
  /** Largest body returned inline; bigger results are stored and answered with a 302 (Lambda's 6 MB payload limit, base64 adds a third). */
  readonly maxResponseBytes: number;
  /** Quality bounds accepted in the normalized path. */
  readonly minQuality: number;
  readonly maxQuality: number;
  /** Decoded input formats (sharp metadata names) that are transformed. */
  readonly allowedInputFormats: readonly string[];
}

export const DEFAULT_LIMITS: ImageLimits = {
  allowedWidths: [160, 320, 480, 640, 750, 828, 1080, 1280, 1920, 2560],
  maxWidth: 2560,
  maxHeight: 2560,
  maxInputPixels: 40_000_000,
  maxInputBytes: 25 * 1024 * 1024,
  maxResponseBytes: 4_500_000,
  minQuality: 40,
  maxQuality: 90,
  allowedInputFormats: ['jpeg', 'png', 'webp', 'avif', 'heif', 'gif', 'tiff'],
};

function intFrom(env: Record<string, string | undefined>, name: string, fallback: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    problems.push(`${name}=${JSON.stringify(raw)} is not a positive integer`);
    return fallback;
  }
  return value;
}

/** Reads the limits from environment variables; throws one error naming every bad variable. */
export function limitsFromEnv(env: Record<string, string | undefined>): ImageLimits {
  const problems: string[] = [];
  let allowedWidths = DEFAULT_LIMITS.allowedWidths;
  if (env.ALLOWED_WIDTHS) {
    const widths = env.ALLOWED_WIDTHS.split(',').map((w) => Number(w.trim()));
    if (widths.some((w) => !Number.isInteger(w) || w <= 0)) {
      problems.push(`ALLOWED_WIDTHS=${JSON.stringify(env.ALLOWED_WIDTHS)} must be a comma-separated list of positive integers`);
    } else {
      allowedWidths = widths;
    }
  }
  const limits: ImageLimits = {
    allowedWidths,
    maxWidth: intFrom(env, 'MAX_WIDTH', DEFAULT_LIMITS.maxWidth, problems),
    maxHeight: intFrom(env, 'MAX_HEIGHT', DEFAULT_LIMITS.maxHeight, problems),
    maxInputPixels: intFrom(env, 'MAX_INPUT_PIXELS', DEFAULT_LIMITS.maxInputPixels, problems),
    maxInputBytes: intFrom(env, 'MAX_INPUT_BYTES', DEFAULT_LIMITS.maxInputBytes, problems),
    maxResponseBytes: intFrom(env, 'MAX_RESPONSE_BYTES', DEFAULT_LIMITS.maxResponseBytes, problems),
    minQuality: intFrom(env, 'MIN_QUALITY', DEFAULT_LIMITS.minQuality, problems),
    maxQuality: intFrom(env, 'MAX_QUALITY', DEFAULT_LIMITS.maxQuality, problems),
    allowedInputFormats: env.ALLOWED_INPUT_FORMATS
      ? env.ALLOWED_INPUT_FORMATS.split(',').map((f) => f.trim().toLowerCase()).filter((f) => f.length > 0)
      : DEFAULT_LIMITS.allowedInputFormats,
  };
  if (problems.length > 0) throw new Error(`image-transform configuration is invalid: ${problems.join('; ')}`);
  return limits;
}
