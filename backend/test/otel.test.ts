/**
 * The latency histograms pushed over OTLP/HTTP: with OTEL_EXPORTER_OTLP_ENDPOINT set, a request, a
 * message delivery and the database statements behind them arrive at a local OTLP receiver as
 * exponential histograms in milliseconds (the same measurements as the Prometheus histograms) with
 * the attributes the collector maps to CloudWatch; without it nothing is sent.
 */
import WebSocket from 'ws';
import type { RunningService } from '../src/service';
import { cleanRedis, createTestDb, env, http, Jwks, loadBundle, Received, Receiver, seedUser, startJwks, startReceiver, TestDb, uniquePrefix, waitFor } from './helpers';

jest.setTimeout(60_000);

interface Point {
  readonly metric: string;
  readonly unit: string;
  readonly temporality: number;
  readonly resource: Record<string, string>;
  readonly attributes: Record<string, string>;
  readonly count: number;
  readonly sum: number;
  readonly scale: number;
  readonly bucketTotal: number;
}

const attrs = (list: Array<{ key: string; value: { stringValue?: string } }> = []) => Object.fromEntries(list.map((a) => [a.key, String(a.value.stringValue)]));

/** Every exponential-histogram data point in the received exports; throws if one of our instruments came as another type. */
function exponentialPoints(received: readonly Received[]): Point[] {
  const points: Point[] = [];
  for (const r of received) {
    for (const rm of r.body.resourceMetrics ?? []) {
      const resource = attrs(rm.resource?.attributes);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          if (!m.exponentialHistogram) throw new Error(`${m.name} was exported as ${Object.keys(m).join(',')}, not as an exponential histogram`);
          for (const dp of m.exponentialHistogram.dataPoints) {
            const buckets = (dp.positive?.bucketCounts ?? []).reduce((a: number, b: number | string) => a + Number(b), 0);
            points.push({
              metric: m.name,
              unit: m.unit,
              temporality: m.exponentialHistogram.aggregationTemporality,
              resource,
              attributes: attrs(dp.attributes),
              count: Number(dp.count),
              sum: Number(dp.sum),
              scale: Number(dp.scale ?? 0),
              bucketTotal: buckets + Number(dp.zeroCount ?? 0),
            });
          }
        }
      }
    }
  }
  return points;
}

/** `name{labels} value` lines of a Prometheus exposition whose labels include every entry of `labels`. */
function promValue(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}

let db: TestDb;
let jwks: Jwks;
let receiver: Receiver;
let api: RunningService | undefined, realtime: RunningService | undefined;
const prefix = uniquePrefix('otel');
let alice: string, bob: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  [db, jwks, receiver] = await Promise.all([createTestDb('otel'), startJwks(), startReceiver()]);
  [alice, bob] = await Promise.all([seedUser(db.pool), seedUser(db.pool)]);
});

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await Promise.all([api?.shutdown(), realtime?.shutdown()]);
  await cleanRedis(prefix);
  await Promise.all([db?.drop(), jwks?.close(), receiver?.close()]);
});

describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  let points: Point[];
  let apiMetrics: string;
  let rtMetrics: string;
  let messageId: string;

  beforeAll(async () => {
    const b = loadBundle();
    const otel = (role: string) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      // Long enough that the only export is the flush at shutdown.
      OTEL_METRIC_EXPORT_INTERVAL: '3600000',
      OTEL_RESOURCE_ATTRIBUTES: `service.namespace=connecthub,deployment.environment.name=test,connecthub.role=${role}`,
      OTEL_SERVICE_NAME: `connecthub-${role}`,
      // Traces would go to the same receiver; tracing.test.ts covers them.
      OTEL_TRACES_EXPORTER: 'none',
    });
    [api, realtime] = await Promise.all([
      b.startService(b.loadConfig(env('api', db, prefix, jwks, otel('api'))), { host: '127.0.0.1' }),
      b.startService(b.loadConfig(env('realtime', undefined, prefix, jwks, otel('realtime'))), { host: '127.0.0.1' }),
    ]);
    // A WebSocket for bob on the realtime pod, then a message from alice through the api.
    const events: any[] = [];
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${realtime!.port}/ws`, ['connecthub.v1', `bearer.${jwks.token(bob)}`]);
      sockets.push(ws);
      ws.on('message', (d) => {
        const e = JSON.parse(String(d));
        if (e.type === 'ready') resolve();
        else events.push(e);
      });
      ws.on('error', reject);
    });
    const profile = await http(api.port, 'GET', `/v1/users/${bob}`, { token: jwks.token(alice) });
    expect(profile.status).toBe(200);
    const sent = await http(api.port, 'POST', '/v1/messages', { token: jwks.token(alice), body: { recipientId: bob, body: 'hello over otlp', clientKey: 'otel-key-0001' } });
    expect(sent.status).toBe(201);
    messageId = sent.json.message.id;
    await waitFor(() => events.find((e) => e.type === 'message' && e.id === messageId), 5_000, 'delivery');
    apiMetrics = (await http(api.port, 'GET', '/metrics')).text;
    rtMetrics = (await http(realtime.port, 'GET', '/metrics')).text;
    expect(receiver.received).toHaveLength(0);
    await Promise.all([api.shutdown(), realtime.shutdown()]);
    points = exponentialPoints(receiver.received);
  });

  test('the exports are OTLP/HTTP JSON posted to <endpoint>/v1/metrics, only our three instruments, delta temporality, in ms', () => {
    expect(receiver.received.length).toBeGreaterThanOrEqual(2);
    for (const r of receiver.received) {
      expect(r.path).toBe('/v1/metrics');
      expect(r.contentType).toContain('application/json');
    }
    expect([...new Set(points.map((p) => p.metric))].sort()).toEqual(['connecthub.db.query.duration', 'connecthub.http.server.duration', 'connecthub.message.delivery.duration']);
    for (const p of points) {
      expect(p.unit).toBe('ms');
      expect(p.temporality).toBe(1); // AGGREGATION_TEMPORALITY_DELTA
      expect(p.bucketTotal).toBe(p.count);
    }
  });

  test('connecthub.http.server.duration carries role, route, method, status and the same measurement as http_request_duration_seconds', () => {
    const http = points.filter((p) => p.metric === 'connecthub.http.server.duration');
    expect(http.map((p) => p.attributes).sort((a, b) => a.route.localeCompare(b.route))).toEqual([
      { role: 'api', route: '/v1/messages', method: 'POST', status: '201' },
      { role: 'api', route: '/v1/users/:userId', method: 'GET', status: '200' },
    ]);
    for (const p of http) {
      expect(p.count).toBe(1);
      expect(p.resource).toMatchObject({ 'service.name': 'connecthub-api', 'connecthub.role': 'api', 'deployment.environment.name': 'test', 'service.namespace': 'connecthub' });
      const seconds = promValue(apiMetrics, 'http_request_duration_seconds_sum', p.attributes);
      expect(seconds).toBeGreaterThan(0);
      // Milliseconds, not seconds: the OTLP sum is 1000 x the Prometheus sum of the same requests.
      expect(p.sum).toBeCloseTo(seconds * 1000, 3);
    }
  });

  test('connecthub.message.delivery.duration comes from the realtime pod with role and kind, in ms', () => {
    const delivery = points.filter((p) => p.metric === 'connecthub.message.delivery.duration');
    expect(delivery.map((p) => p.attributes)).toEqual([{ role: 'realtime', kind: 'message' }]);
    expect(delivery[0].count).toBe(1);
    expect(delivery[0].resource).toMatchObject({ 'service.name': 'connecthub-realtime', 'connecthub.role': 'realtime' });
    const seconds = promValue(rtMetrics, 'message_delivery_latency_seconds_sum', { kind: 'message' });
    expect(delivery[0].sum).toBeCloseTo(seconds * 1000, 3);
  });

  test('connecthub.db.query.duration counts the api statements (readiness pings excluded), as db_query_duration_seconds does', () => {
    const dbPoints = points.filter((p) => p.metric === 'connecthub.db.query.duration');
    expect(dbPoints.map((p) => p.attributes)).toEqual([{ role: 'api', pool: 'writer' }]);
    const promCount = promValue(apiMetrics, 'db_query_duration_seconds_count', { role: 'api', pool: 'writer' });
    // The profile read, and BEGIN, guard insert, message insert, outbox insert, COMMIT at least.
    expect(promCount).toBeGreaterThanOrEqual(3);
    expect(dbPoints[0].count).toBe(promCount);
    expect(dbPoints[0].sum).toBeCloseTo(promValue(apiMetrics, 'db_query_duration_seconds_sum', { pool: 'writer' }) * 1000, 3);
  });
});

describe('without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  test('nothing is exported, even when the process environment names a collector (the service reads only its configuration)', async () => {
    const b = loadBundle();
    const other = await startReceiver();
    const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = other.url;
    try {
      const config = b.loadConfig(env('api', db, prefix, jwks));
      expect(config.otel).toBeUndefined();
      const svc = await b.startService(config, { host: '127.0.0.1' });
      expect(svc.metrics.otlp.enabled).toBe(false);
      // A profile not cached yet, so the request reads the database.
      const carol = await seedUser(db.pool);
      expect((await http(svc.port, 'GET', `/v1/users/${carol}`, { token: jwks.token(alice) })).status).toBe(200);
      const text = (await http(svc.port, 'GET', '/metrics')).text;
      // The Prometheus side is unchanged.
      expect(promValue(text, 'http_request_duration_seconds_count', { route: '/v1/users/:userId', status: '200' })).toBe(1);
      expect(promValue(text, 'db_query_duration_seconds_count', { pool: 'writer' })).toBeGreaterThanOrEqual(1);
      await svc.shutdown();
      expect(other.received).toHaveLength(0);
    } finally {
      if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
      await other.close();
    }
  });
});

describe('configuration', () => {
  const base = { CONNECTHUB_ROLE: 'realtime', REDIS_ENDPOINT: 'c:6379', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_JWKS_URL: 'https://idp.example.com/jwks' };
  const problems = (extra: Record<string, string>) => {
    try {
      loadBundle().loadConfig({ ...base, ...extra });
      return [];
    } catch (err) {
      return (err as { problems: string[] }).problems;
    }
  };

  test('defaults: export every 60 s with delta temporality; service name from the role unless OTEL_SERVICE_NAME', () => {
    const config = loadBundle().loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://connecthub-otel-collector.connecthub.svc.cluster.local:4318' });
    expect(config.otel).toEqual({
      endpoint: 'http://connecthub-otel-collector.connecthub.svc.cluster.local:4318',
      exportIntervalMillis: 60_000,
      temporality: 'delta',
      serviceName: undefined,
      resourceAttributes: {},
    });
    expect(loadBundle().loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318', OTEL_RESOURCE_ATTRIBUTES: 'a=b%2Cc, d = e' }).otel?.resourceAttributes).toEqual({ a: 'b,c', d: 'e' });
  });

  test('bad OTLP settings are reported together, naming the setting, the value and what is allowed', () => {
    expect(
      problems({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
        OTEL_METRIC_EXPORT_INTERVAL: '10',
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'lowmemory',
        OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=connecthub,oops',
      }),
    ).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" is not allowed; expected an http:// or https:// base URL of an OTLP/HTTP receiver, e.g. http://collector:4318',
      'OTEL_RESOURCE_ATTRIBUTES="service.namespace=connecthub,oops" is not allowed: entry "oops" is not key=value; expected key=value pairs separated by commas',
      'OTEL_METRIC_EXPORT_INTERVAL="10" is not allowed; expected an integer from 1000 to 3600000',
      'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE="lowmemory" is not allowed; allowed: delta | cumulative',
    ]);
    // Without the endpoint the other OTLP settings are not read (the chart may set them everywhere).
    expect(problems({ OTEL_METRIC_EXPORT_INTERVAL: '10' })).toEqual([]);
  });
});
