/**
 * Shared benchmark plumbing: a scratch database with the shared migrations, a local JWKS, the
 * bundled server started as the container starts it (`node backend/dist/server.js` + env), and
 * percentile helpers. Loopback only; everything started here is stopped at the end.
 */
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { createTestDb, env, Jwks, startJwks, TestDb } from '../test/helpers';

export const ROOT = path.join(__dirname, '..', '..');
export const BUNDLE = path.join(ROOT, 'backend', 'dist', 'server.js');

export function buildBundle(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('../build.js') as { build: () => string }).build();
}

export interface Started {
  readonly child: ChildProcess;
  readonly port: number;
}

/** Starts the bundled server for `role`; resolves when it logs "listening". */
export function startBundled(role: 'api' | 'realtime', db: TestDb | undefined, prefix: string, jwks: Jwks, extra: Record<string, string> = {}): Promise<Started> {
  // BENCH_NODE_ARGS reach the server's node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, BUNDLE], {
    env: { PATH: process.env.PATH, ...env(role, db, prefix, jwks, { LOG_LEVEL: 'info', ...extra }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const e = JSON.parse(line);
          if (e.msg === 'listening') {
            child.stdout!.off('data', onData);
            child.stdout!.resume();
            resolve({ child, port: e.port });
          }
        } catch {
          /* not JSON */
        }
      }
    };
    child.stdout!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${role} exited ${code} before listening`)));
  });
}

export async function stop(s: Started | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null) return;
  const done = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await done;
}

const cleanups: Array<() => Promise<unknown>> = [];
/** Registers cleanup that also runs when the benchmark is interrupted (SIGINT/SIGTERM). */
export function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}
export async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

export function machine() {
  return { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', loadAverage1m: round(os.loadavg()[0]) };
}

export { createTestDb, startJwks };
export type { TestDb, Jwks };
