/**
 * Image pipeline benchmark (not a test): `npm run bench:images [-- --reps N]`.
 *
 * Generates photo-like originals (smooth gradients, mid-frequency texture, hard-edged shapes and sensor
 * noise; deterministic seed) at several camera sizes, saved as JPEG q90 the way phones upload them,
 * then runs the Lambda's own transform code (lambdas/image-transform/transform.ts) on each for every
 * output format, (a) at the original size (format gain only) and (b) at the 1080 px width a phone
 * screen asks for. Prints p50/p99 latency per transform kind and bytes saved against the original,
 * then ONE JSON line with every figure.
 */
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { DEFAULT_LIMITS, OutputFormat, OUTPUT_FORMATS } from '../lambdas/image-transform/limits';
import { transformImage } from '../lambdas/image-transform/transform';

const SIZES: ReadonlyArray<[number, number]> = [[1024, 768], [2048, 1536], [4032, 3024]];
const QUALITY = 75; // the CloudFront Function's default
const MOBILE_WIDTH = 1080;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function photoLike(width: number, height: number, seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
  // A few hard-edged "objects" over the background.
  const shapes = Array.from({ length: 12 }, () => ({
    x0: rnd() * width, y0: rnd() * height, w: rnd() * width * 0.3, h: rnd() * height * 0.3,
    c: [rnd() * 255, rnd() * 255, rnd() * 255],
  }));
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v | 0);
  for (let y = 0; y < height; y++) {
    const ty = Math.cos(y / 29);
    for (let x = 0; x < width; x++) {
      const texture = 18 * Math.sin(x / 13 + ty) * Math.sin(y / 17);
      // Approximately Gaussian sensor noise (sum of uniforms), sigma ~ 5.
      const noise = (rnd() + rnd() + rnd() - 1.5) * 10;
      let r = (200 * x) / width + 30 + texture;
      let g = (180 * y) / height + 40 + texture * 0.6;
      let b = 140 + 60 * Math.sin((x + y) / 300) - texture * 0.4;
      for (const sh of shapes) {
        if (x >= sh.x0 && x < sh.x0 + sh.w && y >= sh.y0 && y < sh.y0 + sh.h) { r = sh.c[0] + texture; g = sh.c[1] + texture; b = sh.c[2] + texture; }
      }
      const i = (y * width + x) * 3;
      raw[i] = clamp(r + noise);
      raw[i + 1] = clamp(g + noise);
      raw[i + 2] = clamp(b + noise);
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

interface Kind {
  latenciesMs: number[];
  originalBytes: number;
  outputBytes: number;
}

async function main(): Promise<void> {
  const reps = arg('reps', 3);
  if (!Number.isInteger(reps) || reps < 1 || reps > 50) throw new Error(`--reps ${reps}: allowed 1..50`);
  sharp.concurrency(1); // one transform at a time, like one Lambda invocation
  const originals = await Promise.all(SIZES.map(async ([w, h], i) => ({ w, h, bytes: await photoLike(w, h, 1000 + i) })));
  const kinds = new Map<string, Kind>();
  for (const original of originals) {
    for (const format of OUTPUT_FORMATS) {
      for (const scenario of ['original-size', `width-${MOBILE_WIDTH}`] as const) {
        // Format gain alone is only measurable where the original fits the output bounds.
        if (scenario === 'original-size' && original.w > DEFAULT_LIMITS.maxWidth) continue;
        const key = `${format}/${scenario}/${original.w}x${original.h}`;
        const kind = kinds.get(key) ?? { latenciesMs: [], originalBytes: 0, outputBytes: 0 };
        for (let r = 0; r < reps; r++) {
          const started = performance.now();
          const out = await transformImage(original.bytes, {
            format: format as OutputFormat, quality: QUALITY, width: scenario === 'original-size' ? undefined : MOBILE_WIDTH,
          }, DEFAULT_LIMITS);
          kind.latenciesMs.push(performance.now() - started);
          if (r === 0) { kind.originalBytes += original.bytes.length; kind.outputBytes += out.body.length; }
        }
        kinds.set(key, kind);
      }
    }
  }

  type Row = { n: number; p50Ms: number; p99Ms: number; originalBytes: number; outputBytes: number; bytesSavedPct: number };
  const row = (latencies: number[], originalBytes: number, outputBytes: number): Row => {
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      n: sorted.length,
      p50Ms: Math.round(percentile(sorted, 50)),
      p99Ms: Math.round(percentile(sorted, 99)),
      originalBytes,
      outputBytes,
      bytesSavedPct: Math.round(1000 * (1 - outputBytes / originalBytes)) / 10,
    };
  };
  const header = 'transform'.padEnd(34) + 'n'.padStart(4) + 'p50 ms'.padStart(9) + 'p99 ms'.padStart(9) + 'orig KiB'.padStart(10) + 'out KiB'.padStart(9) + 'saved'.padStart(8);
  const print = (key: string, r: Row) => console.log(key.padEnd(34) + String(r.n).padStart(4) + String(r.p50Ms).padStart(9) + String(r.p99Ms).padStart(9) +
    (r.originalBytes / 1024).toFixed(0).padStart(10) + (r.outputBytes / 1024).toFixed(0).padStart(9) + `${r.bytesSavedPct}%`.padStart(8));

  console.log(`originals (JPEG q90): ${originals.map((o) => `${o.w}x${o.h} ${(o.bytes.length / 1024).toFixed(0)} KiB`).join(', ')}`);
  console.log(`quality ${QUALITY}, ${reps} run(s) per image, one transform at a time; with this few samples p99 is close to the maximum\n`);
  console.log(header);
  const perTransform: Record<string, Row> = {};
  const perFormat = new Map<string, Kind>();
  for (const [key, kind] of kinds) {
    perTransform[key] = row(kind.latenciesMs, kind.originalBytes, kind.outputBytes);
    print(key, perTransform[key]);
    const group = key.split('/').slice(0, 2).join('/');
    const agg = perFormat.get(group) ?? { latenciesMs: [], originalBytes: 0, outputBytes: 0 };
    agg.latenciesMs.push(...kind.latenciesMs);
    agg.originalBytes += kind.originalBytes;
    agg.outputBytes += kind.outputBytes;
    perFormat.set(group, agg);
  }
  console.log(`\n${header}`);
  const perScenario: Record<string, Row> = {};
  for (const [key, kind] of perFormat) {
    perScenario[key] = row(kind.latenciesMs, kind.originalBytes, kind.outputBytes);
    print(key, perScenario[key]);
  }
  const planClaimPct = 60;
  const pct = (a: number, b: number) => Math.round(1000 * (1 - a / b)) / 10;
  const savings = Object.fromEntries(OUTPUT_FORMATS.map((f) => {
    const same = perScenario[`${f}/original-size`];
    const mobile = perScenario[`${f}/width-${MOBILE_WIDTH}`];
    const jpegSame = perScenario['jpeg/original-size'];
    const jpegMobile = perScenario[`jpeg/width-${MOBILE_WIDTH}`];
    return [f, {
      vsOriginalSameSizePct: same.bytesSavedPct,
      vsOriginalAt1080Pct: mobile.bytesSavedPct,
      vsJpegSameSettingsSameSizePct: pct(same.outputBytes, jpegSame.outputBytes),
      vsJpegSameSettingsAt1080Pct: pct(mobile.outputBytes, jpegMobile.outputBytes),
    }];
  }));
  console.log(`\nplan claims ${planClaimPct}% bandwidth savings. Bytes saved (vs the q90 original, same size | at ${MOBILE_WIDTH} px) and (vs progressive JPEG q${QUALITY}, same size | at ${MOBILE_WIDTH} px):`);
  for (const [f, v] of Object.entries(savings)) {
    console.log(`  ${f.padEnd(5)} ${v.vsOriginalSameSizePct}% | ${v.vsOriginalAt1080Pct}%    ${v.vsJpegSameSettingsSameSizePct}% | ${v.vsJpegSameSettingsAt1080Pct}%`);
  }
  console.log(JSON.stringify({
    bench: 'images', quality: QUALITY, reps, sharp: sharp.versions.sharp, vips: sharp.versions.vips,
    originals: originals.map((o) => ({ width: o.w, height: o.h, bytes: o.bytes.length })),
    planClaimPct, perTransform, perScenario, savings,
  }));
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
