import { ImageLimits, OUTPUT_FORMATS, OutputFormat } from './limits';

/** An error that maps to an HTTP status with a reason the viewer may read. */
export class ImageRequestError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
    this.name = 'ImageRequestError';
  }
}

/** What the normalized URI asks for. */
export interface ImageOperations {
  readonly format: OutputFormat;
  /** Target width in px; undefined keeps the original width (still bounded by maxWidth). */
  readonly width?: number;
  readonly quality: number;
}

export interface ParsedImagePath {
  /** Key of the original in the media bucket. */
  readonly originalKey: string;
  /** The operations segment exactly as it is used in the transformed-images key (canonical order). */
  readonly operationsSegment: string;
  readonly operations: ImageOperations;
}

/** Canonical operations segment; the CloudFront Function writes the same string. */
export function formatOperations(ops: ImageOperations): string {
  return `f=${ops.format}${ops.width ? `,w=${ops.width}` : ''},q=${ops.quality}`;
}

/**
 * Parses `/<prefix>/<original key>/f=<fmt>[,w=<width>],q=<quality>` (what the CloudFront Function
 * produces) and re-checks every value against the limits: the function URL is only reachable through
 * CloudFront (OAC), but the Lambda does not trust its caller.
 */
export function parseImagePath(rawPath: string, prefix: string, limits: ImageLimits): ParsedImagePath {
  if (!rawPath.startsWith(prefix)) {
    throw new ImageRequestError(400, `path must start with ${prefix}`);
  }
  const rest = rawPath.substring(prefix.length);
  const slash = rest.lastIndexOf('/');
  if (slash <= 0) {
    throw new ImageRequestError(400, `path must be ${prefix}<original key>/f=<format>[,w=<width>],q=<quality>`);
  }
  let originalKey: string;
  try {
    originalKey = rest.substring(0, slash).split('/').map((s) => decodeURIComponent(s)).join('/');
  } catch {
    throw new ImageRequestError(400, 'path contains an invalid percent-encoding');
  }
  if (originalKey.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new ImageRequestError(400, 'original key must not contain empty, "." or ".." segments');
  }
  const segment = rest.substring(slash + 1);
  const fields = new Map<string, string>();
  for (const part of segment.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || fields.has(part.substring(0, eq))) {
      throw new ImageRequestError(400, `operations segment ${JSON.stringify(segment)} is malformed`);
    }
    fields.set(part.substring(0, eq), part.substring(eq + 1));
  }
  const unknown = [...fields.keys()].filter((k) => !['f', 'w', 'q'].includes(k));
  if (unknown.length > 0) {
    throw new ImageRequestError(400, `unknown operation(s) ${unknown.join(', ')}; allowed: f, w, q`);
  }
  const format = fields.get('f') as OutputFormat | undefined;
  if (!format || !OUTPUT_FORMATS.includes(format)) {
    throw new ImageRequestError(400, `format ${JSON.stringify(format ?? '')} is not allowed; allowed: ${OUTPUT_FORMATS.join(', ')}`);
  }
  let width: number | undefined;
  if (fields.has('w')) {
    width = Number(fields.get('w'));
    if (!limits.allowedWidths.includes(width)) {
      throw new ImageRequestError(400, `width ${JSON.stringify(fields.get('w'))} is not allowed; allowed: ${limits.allowedWidths.join(', ')}`);
    }
  }
  const quality = Number(fields.get('q'));
  if (!Number.isInteger(quality) || quality < limits.minQuality || quality > limits.maxQuality) {
    throw new ImageRequestError(400, `quality ${JSON.stringify(fields.get('q') ?? '')} is not allowed; allowed: integers ${limits.minQuality}..${limits.maxQuality}`);
  }
  const operations: ImageOperations = { format, width, quality };
  const operationsSegment = formatOperations(operations);
  if (operationsSegment !== segment) {
    throw new ImageRequestError(400, `operations segment ${JSON.stringify(segment)} is not canonical; expected ${JSON.stringify(operationsSegment)}`);
  }
  return { originalKey, operationsSegment, operations };
}
