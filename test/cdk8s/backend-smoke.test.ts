/**
 * Smoke test: the backend bundle started with the env, port and probe paths of the SYNTHESIZED Deployments
 * answers every probe healthily, and drains on SIGTERM the way the termination settings assume.
 *
 * api and realtime run as the container runs them (`node server.js`, env from the Deployment). The worker
 * needs a Kafka broker, which cannot run on this machine (FIELD-NOTES): it is started from the same bundle
 * through its exported `startService`, with the same env and the in-process Kafka port.
 *
 * Only the addresses of the dependencies are mapped to the local PostgreSQL and Redis (listed in LOCAL);
 * everything else — role, port, drain, TTLs, JWT, limits — is what the cluster would pass.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { Client, Pool } from 'pg';
import { applyMigrations } from '../../database/migrator';
import { BackendChart } from '../../cdk8s/backend-chart';
import { chartProps } from './fixtures';

type Deployment = { metadata: { name: string }; spec: { template: { metadata?: { annotations?: Record<string, string> }; spec: any } } };

const suffix = randomBytes(4).toString('hex');
const dbName = `ch_k8s_${suffix}`;
let bundlePath: string;
let deployments: Record<string, Deployment>;

/** The mapping from cluster dependencies to the local ones (nothing else is changed). */
const LOCAL: Record<string, string | undefined> = {
  DATABASE_WRITER_HOST: '127.0.0.1',
  DATABASE_READER_HOST: '127.0.0.1',
  DATABASE_PORT: '5432',
  DATABASE_NAME: dbName,
  DATABASE_USER: 'postgres',
  DATABASE_AUTH: 'password', // local trust auth: password mode without a file
  DATABASE_SSL: 'disable',
  REDIS_ENDPOINT: '127.0.0.1:6379',
  REDIS_CLUSTER: 'false',
  REDIS_TLS: 'false',
  REDIS_USERNAME: undefined,
  REDIS_PASSWORD_FILE: undefined,
  REDIS_KEY_PREFIX: `ch_k8s_smoke_${suffix}:`,
  KAFKA_AUTH: 'none',
  KAFKA_TLS: 'false',
};

function containerOf(role: string) {
  return deployments[`connecthub-${role}`].spec.template.spec.containers[0];
}

/** The container env of a role, with the dependency addresses mapped to local services. */
function envFor(role: string, port: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { name, value } of containerOf(role).env as Array<{ name: string; value: string }>) env[name] = value;
  for (const [k, v] of Object.entries(LOCAL)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  env.PORT = String(port);
  return { PATH: process.env.PATH ?? '', ...env };
}

/** The Deployment's container port if free here, else a free one (the container has its own network namespace). */
async function portFor(role: string): Promise<number> {
  const wanted: number = containerOf(role).ports[0].containerPort;
  const tryListen = (p: number) =>
    new Promise<number | undefined>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(undefined));
      srv.listen(p, '127.0.0.1', () => {
        const got = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(got));
      });
    });
  return (await tryListen(wanted)) ?? (await tryListen(0))!;
}

async function get(port: number, p: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, body: await res.text() };
}

/** Polls the startup probe as the kubelet would: every periodSeconds, up to failureThreshold attempts. */
async function waitForStartup(role: string, port: number, exited: () => string | undefined): Promise<void> {
  const probe = containerOf(role).startupProbe;
  for (let attempt = 0; attempt < probe.failureThreshold; attempt++) {
    const gone = exited();
    if (gone !== undefined) throw new Error(`${role} exited before its startup probe passed: ${gone}`);
    try {
      if ((await get(port, probe.httpGet.path)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, probe.periodSeconds * 1000));
  }
  throw new Error(`${role}: startup probe ${probe.httpGet.path} never answered 200`);
}

async function checkProbes(role: string, port: number): Promise<void> {
  const c = containerOf(role);
  const ready = await get(port, c.readinessProbe.httpGet.path);
  expect(ready.status).toBe(200);
  expect(JSON.parse(ready.body)).toMatchObject({ status: 'ready' });
  expect((await get(port, c.livenessProbe.httpGet.path)).status).toBe(200);
  const scrape = deployments[`connecthub-${role}`].spec.template.metadata?.annotations ?? {};
  const metrics = await get(port, scrape['prometheus.io/path']);
  expect(metrics.status).toBe(200);
  expect(metrics.body).toContain(`role="${role}"`);
}

beforeAll(async () => {
  const chart = new BackendChart(Testing.app(), 'backend', chartProps());
  deployments = Object.fromEntries(
    (Testing.synth(chart) as Array<{ kind: string } & Deployment>).filter((o) => o.kind === 'Deployment').map((d) => [d.metadata.name, d]),
  );
  // The bundle exactly as `npm run backend:build` makes it (same build function), into a private folder.
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ch-k8s-bundle-')), 'server.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  bundlePath = (require('../../backend/build.js') as { build: (o: string) => string }).build(out);

  const admin = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const pool = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: dbName, max: 2 });
  await applyMigrations(pool);
  await pool.end();
}, 120_000);

afterAll(async () => {
  const admin = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  fs.rmSync(path.dirname(bundlePath), { recursive: true, force: true });
});

describe.each(['api', 'realtime'])('%s as the container runs it', (role) => {
  let child: ChildProcess;
  let port: number;
  let exit: string | undefined;
  let stderr = '';

  beforeAll(async () => {
    port = await portFor(role);
    child = spawn(process.execPath, [bundlePath], { env: envFor(role, port), stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code, signal) => (exit = `code ${code} signal ${signal} ${stderr}`));
    await waitForStartup(role, port, () => exit);
  }, 90_000);

  afterAll(() => {
    if (exit === undefined) child.kill('SIGKILL');
  });

  test('startup, readiness, liveness and metrics answer healthily on the Deployment paths', async () => {
    await checkProbes(role, port);
  });

  test('SIGTERM: readiness stops answering ready at once, then the process exits 0 within its drain', async () => {
    // The Deployment sets no serving delay of its own: the preStop sleep has already kept the pod serving while
    // the NLB deregistered it, so the listener closes right after SIGTERM. Readiness therefore answers 503 for
    // a moment or the connection is refused; the backend's readiness during a delay is covered in
    // backend/test/lifecycle.test.ts.
    expect(envFor(role, port).SHUTDOWN_DELAY_SECONDS).toBe('0');
    const drainSeconds = Number(envFor(role, port).SHUTDOWN_DRAIN_SECONDS);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const started = Date.now();
    child.kill('SIGTERM');
    // The signal is handled asynchronously: poll readiness (as the kubelet and the NLB do) until it is not ready.
    let status = 200;
    while (status === 200) {
      status = await get(port, containerOf(role).readinessProbe.httpGet.path).then((r) => r.status, () => -1);
      if (status === 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect([503, -1]).toContain(status);
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(drainSeconds * 1000);
  }, 90_000);
});

describe('worker from the same bundle (in-process Kafka)', () => {
  test('startup, readiness, liveness and metrics answer healthily, then it drains', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(bundlePath) as typeof import('../../backend/src/server');
    const port = await portFor('worker');
    const config = bundle.loadConfig(envFor('worker', port));
    expect(config.role).toBe('worker');
    const service = await bundle.startService(config, { kafka: new bundle.InProcessKafka(), host: '127.0.0.1' });
    try {
      await waitForStartup('worker', service.port, () => undefined);
      await checkProbes('worker', service.port);
    } finally {
      expect(await service.shutdown('test')).toBe(true);
    }
  }, 90_000);
});
