import * as vm from 'node:vm';
import { NORMALIZE_FUNCTION_FILE, normalizeFunctionCode } from '../../constructs/edge/image-optimization';
import * as fs from 'node:fs';

type Handler = (event: unknown) => any;

/** Loads the CloudFront Function source as CloudFront does (a script defining `handler`). */
function load(code: string): Handler {
  const context = vm.createContext({});
  vm.runInContext(code, context, { filename: NORMALIZE_FUNCTION_FILE });
  return (context as { handler: Handler }).handler;
}

function event(uri: string, query: Record<string, string | string[]> = {}, accept?: string) {
  const querystring: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(query)) {
    querystring[k] = Array.isArray(v) ? { value: v[0], multiValue: v.map((value) => ({ value })) } : { value: v };
  }
  return {
    version: '1.0',
    context: { eventType: 'viewer-request' },
    viewer: { ip: '198.51.100.7' },
    request: { method: 'GET', uri, querystring, headers: accept === undefined ? {} : { accept: { value: accept } }, cookies: {} },
  };
}

const CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const SAFARI_OLD = 'image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5';
const LEGACY = 'image/png,image/*;q=0.8,*/*;q=0.5';

describe('normalize-image-request CloudFront Function (source file, default CONFIG)', () => {
  const handler = load(fs.readFileSync(NORMALIZE_FUNCTION_FILE, 'utf8'));

  const table: Array<[string, string, Record<string, string | string[]>, string | undefined, string]> = [
    ['AVIF first when accepted', '/images/media/u1/p.jpg', { width: '500' }, CHROME, '/images/media/u1/p.jpg/f=avif,w=640,q=75'],
    ['WebP when AVIF is not accepted', '/images/media/u1/p.jpg', { width: '500' }, SAFARI_OLD, '/images/media/u1/p.jpg/f=webp,w=640,q=75'],
    ['JPEG (progressive) for legacy clients', '/images/media/u1/p.jpg', { width: '500' }, LEGACY, '/images/media/u1/p.jpg/f=jpeg,w=640,q=75'],
    ['JPEG without an Accept header', '/images/media/u1/p.jpg', {}, undefined, '/images/media/u1/p.jpg/f=jpeg,q=75'],
    ['AVIF refused with q=0', '/images/a.png', {}, 'image/avif;q=0,image/webp', '/images/a.png/f=webp,q=75'],
    ['media types are case-insensitive', '/images/a.png', {}, 'IMAGE/AVIF', '/images/a.png/f=avif,q=75'],
    ['width exactly on a step stays', '/images/a.png', { width: '640' }, LEGACY, '/images/a.png/f=jpeg,w=640,q=75'],
    ['width snaps up to the next step', '/images/a.png', { width: '641' }, LEGACY, '/images/a.png/f=jpeg,w=750,q=75'],
    ['tiny width snaps to the smallest', '/images/a.png', { width: '1' }, LEGACY, '/images/a.png/f=jpeg,w=160,q=75'],
    ['huge width capped at the largest', '/images/a.png', { width: '99999' }, LEGACY, '/images/a.png/f=jpeg,w=2560,q=75'],
    ['w is an alias of width', '/images/a.png', { w: '300' }, LEGACY, '/images/a.png/f=jpeg,w=320,q=75'],
    ['junk width is dropped', '/images/a.png', { width: '12abc' }, LEGACY, '/images/a.png/f=jpeg,q=75'],
    ['negative width is dropped', '/images/a.png', { width: '-5' }, LEGACY, '/images/a.png/f=jpeg,q=75'],
    ['zero width is dropped', '/images/a.png', { width: '0' }, LEGACY, '/images/a.png/f=jpeg,q=75'],
    ['quality rounds to a step of 5', '/images/a.png', { quality: '83' }, LEGACY, '/images/a.png/f=jpeg,q=85'],
    ['quality clamped to the minimum', '/images/a.png', { quality: '5' }, LEGACY, '/images/a.png/f=jpeg,q=40'],
    ['quality clamped to the maximum', '/images/a.png', { quality: '100' }, LEGACY, '/images/a.png/f=jpeg,q=90'],
    ['junk quality falls back to the default', '/images/a.png', { quality: 'best' }, LEGACY, '/images/a.png/f=jpeg,q=75'],
    ['q is an alias of quality', '/images/a.png', { q: '60' }, LEGACY, '/images/a.png/f=jpeg,q=60'],
    ['repeated parameter: first value wins', '/images/a.png', { width: ['300', '2000'] }, LEGACY, '/images/a.png/f=jpeg,w=320,q=75'],
    ['unknown parameters are dropped', '/images/a.png', { width: '300', utm_source: 'x', height: '900', format: 'png' }, LEGACY, '/images/a.png/f=jpeg,w=320,q=75'],
    ['percent-encoded keys pass through', '/images/media/u%201/p%C3%A9.jpg', {}, CHROME, '/images/media/u%201/p%C3%A9.jpg/f=avif,q=75'],
  ];

  it.each(table)('%s', (_name, uri, query, accept, expected) => {
    const result = handler(event(uri, query, accept));
    expect(result.uri).toBe(expected);
    expect(result.querystring).toEqual({});
  });

  it('leaves requests outside /images/ untouched', () => {
    const request = handler(event('/media/u1/video.mp4', { t: '1' }, CHROME));
    expect(request.uri).toBe('/media/u1/video.mp4');
    expect(request.querystring).toEqual({ t: { value: '1' } });
  });

  it('keeps other request fields (headers, method) for the origin', () => {
    const request = handler(event('/images/a.png', {}, CHROME));
    expect(request.method).toBe('GET');
    expect(request.headers.accept.value).toBe(CHROME);
  });

  const refused: Array<[string, string, RegExp]> = [
    ['empty key', '/images/', /image path is empty/],
    ['directory key', '/images/media/', /image path is empty/],
    ['dot-dot segment', '/images/media/../secret.jpg', /must not contain empty, "\." or "\.\." segments/],
    ['empty segment', '/images/media//a.jpg', /must not contain empty/],
    ['operations segment supplied by the viewer', '/images/a.png/f=avif,w=99,q=1', /operations segment/],
    ['overlong key', `/images/${'a'.repeat(901)}`, /longer than 900 characters/],
  ];
  it.each(refused)('answers 400 for %s', (_name, uri, reason) => {
    const response = handler(event(uri, {}, CHROME));
    expect(response.statusCode).toBe(400);
    expect(response.body).toMatch(reason);
    expect(response.headers['cache-control'].value).toBe('no-store');
  });

  it('bounds the number of cache variants per original', () => {
    const variants = new Set<string>();
    for (const accept of [CHROME, SAFARI_OLD, LEGACY, undefined]) {
      for (let width = 0; width <= 5000; width += 37) {
        for (let quality = 0; quality <= 110; quality += 7) {
          variants.add(handler(event('/images/a.png', { width: String(width), quality: String(quality) }, accept)).uri);
        }
      }
    }
    // 3 formats x (10 widths + none) x 11 qualities (40..90 step 5)
    expect(variants.size).toBeLessThanOrEqual(3 * 11 * 11);
  });
});

describe('normalize-image-request with CONFIG from the construct', () => {
  const code = normalizeFunctionCode({
    prefix: '/images/', widths: [100, 200], minQuality: 50, maxQuality: 80, qualityStep: 10, defaultQuality: 60, maxKeyLength: 100,
  });
  const handler = load(code);

  it('replaces the CONFIG line and nothing else', () => {
    const source = fs.readFileSync(NORMALIZE_FUNCTION_FILE, 'utf8');
    expect(code).toContain('var CONFIG = {"prefix":"/images/","widths":[100,200],"minQuality":50');
    expect(code.split('\n').length).toBe(source.split('\n').length);
  });

  it.each([
    ['150', '95', '/images/a.png/f=jpeg,w=200,q=80'],
    ['90', '', '/images/a.png/f=jpeg,w=100,q=60'],
    ['5000', '44', '/images/a.png/f=jpeg,w=200,q=50'],
  ])('width %s quality %s → %s', (width, quality, expected) => {
    expect(handler(event('/images/a.png', { width, quality }, LEGACY)).uri).toBe(expected);
  });

  it('stays within the CloudFront Functions size limit (10 KB)', () => {
    expect(Buffer.byteLength(code)).toBeLessThan(10 * 1024);
  });
});
