/**
 * The image recipe and the bundle: multi-stage, non-root, nothing but the bundle in the runtime
 * stage, a build context limited to what the build copies, and a deterministic bundle.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as contract from '../src/contract';

jest.setTimeout(60_000);

const backend = path.join(__dirname, '..');
const dockerfile = readFileSync(path.join(backend, 'Dockerfile'), 'utf8');
const lines = dockerfile.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
const stages = lines.filter((l) => /^FROM /.test(l));
const runtime = lines.slice(lines.indexOf(stages[stages.length - 1]));

test('multi-stage: a build stage that installs the backend workspace only and bundles it', () => {
  expect(stages).toHaveLength(2);
  expect(stages[0]).toMatch(/^FROM \$\{BUILD_IMAGE\} AS build$/);
  expect(dockerfile).toContain('ARG BUILD_IMAGE=node:22-');
  expect(dockerfile).toMatch(/RUN npm ci --workspace backend --include-workspace-root=false --ignore-scripts/);
  expect(dockerfile).toContain('RUN node backend/build.js');
});

test('runtime: distroless Node.js 22, non-root, only the bundle copied, no package manager steps', () => {
  expect(dockerfile).toContain('ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs22-debian12:nonroot');
  expect(runtime[0]).toBe('FROM ${RUNTIME_IMAGE}');
  expect(runtime.filter((l) => /^COPY /.test(l))).toEqual(['COPY --from=build --chown=65532:65532 /src/backend/dist/server.js /app/server.js']);
  expect(runtime.some((l) => /^RUN /.test(l))).toBe(false);
  expect(runtime).toContain('USER 65532:65532');
  expect(runtime).toContain('CMD ["/app/server.js"]');
  expect(runtime.join('\n')).toContain(`PORT=${contract.DEFAULT_PORT}`);
});

test('the build context allow-list matches the contract and covers every COPY source', () => {
  const ignore = readFileSync(path.join(backend, 'Dockerfile.dockerignore'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'));
  expect(ignore).toEqual([...contract.DOCKER_CONTEXT_EXCLUDE]);
  expect(contract.DOCKERFILE_PATH).toBe('backend/Dockerfile');
  const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1));
  const sources = lines
    .filter((l) => /^COPY /.test(l) && !l.includes('--from='))
    .flatMap((l) => l.replace(/^COPY\s+/, '').split(/\s+/).slice(0, -1));
  expect(sources.length).toBeGreaterThan(0);
  for (const src of sources) {
    const ok = allowed.some((a) => a === src || (a.endsWith('/**') && (src === a.slice(0, -3) || src.startsWith(a.slice(0, -2)))));
    expect({ src, ok }).toEqual({ src, ok: true });
  }
});

test('contract.ts is plain data (no imports), so the cdk8s chart can import it', () => {
  const text = readFileSync(path.join(backend, 'src', 'contract.ts'), 'utf8');
  expect(text).not.toMatch(/^\s*import\s/m);
  expect(contract.TOPIC_NAMES).toEqual(['user-activity', 'feed-updates', 'messages', 'match-notifications']);
  expect(contract.dlqTopic('messages')).toBe('messages.dlq');
  expect(contract.ACTIVITY_CONSUMER_GROUP.startsWith(contract.CONSUMER_GROUP_PREFIX)).toBe(true);
  expect(contract.PATHS).toEqual({ liveness: '/healthz', readiness: '/readyz', metrics: '/metrics', websocket: '/ws', apiPrefix: '/v1' });
  expect(contract.DEFAULT_SHUTDOWN_DELAY_SECONDS).toBeLessThan(contract.DEFAULT_SHUTDOWN_DRAIN_SECONDS);
  expect(contract.TERMINATION_GRACE_SECONDS).toBeGreaterThan(contract.DEFAULT_SHUTDOWN_DRAIN_SECONDS);
});

test('the bundle is deterministic and carries no build-machine paths', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { build } = require('../build.js') as { build: (out: string) => string };
  const dir = path.join(tmpdir(), `ch-det-${process.pid}`);
  const a = readFileSync(build(path.join(dir, 'a', 'server.js')));
  const b = readFileSync(build(path.join(dir, 'b', 'server.js')));
  expect(a.equals(b)).toBe(true);
  expect(a.includes(Buffer.from(path.join(backend, '..')))).toBe(false);
});
