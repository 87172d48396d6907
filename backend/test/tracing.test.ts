/**
 * Traces pushed over OTLP/HTTP: with OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
 * set, a request arrives at a local OTLP receiver as a SERVER span that continues the caller's
 * `traceparent`, with a CLIENT span per PostgreSQL statement under it; the outbox relay's Kafka
 * publish and the worker's handling of the message are one trace, and a traced request that writes an
 * outbox row stores its context there, so the relay and the worker continue the request's trace. Without
 * the endpoint nothing is sent.
 * The service is the esbuild bundle, as the container runs it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { backendOtelEnvironment } from '../../constructs/observability/otel-config';
import type { InProcessKafka } from '../src/kafka/in-process';
import { cleanRedis, createTestDb, env, http, Jwks, loadBundle, Received, Receiver, seedUser, startJwks, startReceiver, TestDb, uniquePrefix, waitFor } from './helpers';

jest.setTimeout(60_000);

interface ExportedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly statusCode: number;
  readonly attributes: Record<string, string | number>;
  readonly events: string[];
  readonly links: Array<{ traceId: string; spanId: string }>;
  readonly resource: Record<string, string | number>;
  readonly scope: string;
}

// OTLP SpanKind and StatusCode values.
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
const attrs = (list: Array<{ key: string; value: AnyValue }> = []): Record<string, string | number> =>
  Object.fromEntries(list.map((a) => [a.key, a.value.stringValue ?? (a.value.intValue !== undefined ? Number(a.value.intValue) : (a.value.doubleValue ?? String(a.value.boolValue)))]));

/** Every span in the trace exports received so far (OTLP/JSON: ids are hex strings). */
function spans(received: readonly Received[]): ExportedSpan[] {
  const out: ExportedSpan[] = [];
  for (const r of received) {
    if (r.path !== '/v1/traces') continue;
    for (const rs of r.body.resourceSpans ?? []) {
      const resource = attrs(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          out.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            kind: s.kind,
            statusCode: s.status?.code ?? STATUS_UNSET,
            attributes: attrs(s.attributes),
            events: (s.events ?? []).map((e: { name: string }) => e.name),
            links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({ traceId: l.traceId, spanId: l.spanId })),
            resource,
            scope: ss.scope?.name,
          });
        }
      }
    }
  }
  return out;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/**
 * POSTs JSON with the body sent 50 ms after the headers, as a slow client or a large body does: the
 * body then arrives in socket events of its own, outside the request's async context.
 */
function slowPost(port: number, path: string, headers: Record<string, string>, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.flushHeaders();
    setTimeout(() => req.end(JSON.stringify(body)), 50);
  });
}

let db: TestDb;
let jwks: Jwks;
let receiver: Receiver;
const prefix = uniquePrefix('traces');
let alice: string, bob: string;

beforeAll(async () => {
  [db, jwks, receiver] = await Promise.all([createTestDb('traces'), startJwks(), startReceiver()]);
  [alice, bob] = await Promise.all([seedUser(db.pool), seedUser(db.pool)]);
});

afterAll(async () => {
  await cleanRedis(prefix);
  await Promise.all([db?.drop(), jwks?.close(), receiver?.close()]);
});

describe('api requests with OTEL_EXPORTER_OTLP_ENDPOINT set (parent-based, roots never sampled)', () => {
  let all: ExportedSpan[];
  const profileTrace = { traceId: hex(16), parentId: hex(8) };
  const postTrace = { traceId: hex(16), parentId: hex(8) };
  const unsampledTrace = hex(16);
  const missingTrace = { traceId: hex(16), parentId: hex(8) };
  const xrayTrace = { traceId: `${Math.floor(Date.now() / 1000).toString(16)}${hex(12)}`, parentId: hex(8) };
  const concurrent = Array.from({ length: 6 }, () => ({ traceId: hex(16), parentId: hex(8) }));
  let otherReceiver: Receiver;

  beforeAll(async () => {
    otherReceiver = await startReceiver();
    const b = loadBundle();
    const config = b.loadConfig(
      env('api', db, prefix, jwks, {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_METRIC_EXPORT_INTERVAL: '3600000',
        OTEL_SERVICE_NAME: 'connecthub-api',
        OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=connecthub,deployment.environment.name=test',
        // Ratio 0: a trace is recorded only when the caller sampled it, which proves the parent was read.
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0',
        OTEL_PROPAGATORS: 'tracecontext,baggage,xray',
        // One connection: concurrent requests queue for it (see the concurrency test).
        DATABASE_POOL_MAX: '1',
      }),
    );
    const api = await b.startService(config, { host: '127.0.0.1' });
    const sampled = (t: { traceId: string; parentId: string }) => ({ traceparent: `00-${t.traceId}-${t.parentId}-01` });
    // The SDK's own environment variables must not redirect the export.
    const saved = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${otherReceiver.url}/v1/traces`;
    try {
      const token = jwks.token(alice);
      expect((await http(api.port, 'GET', `/v1/users/${bob}`, { token, headers: sampled(profileTrace) })).status).toBe(200);
      const sent = await slowPost(api.port, '/v1/messages', { authorization: `Bearer ${token}`, ...sampled(postTrace) }, { recipientId: bob, body: 'traced', clientKey: 'trace-key-0001' });
      expect(sent).toBe(201);
      expect((await http(api.port, 'GET', '/v1/no-such-route', { token, headers: sampled(missingTrace) })).status).toBe(404);
      // Not sampled by the caller, and no caller at all: with ratio 0 neither is recorded.
      expect((await http(api.port, 'GET', `/v1/users/${alice}`, { token, headers: { traceparent: `00-${unsampledTrace}-${hex(8)}-00` } })).status).toBe(200);
      expect((await http(api.port, 'GET', `/v1/users/${alice}`, { token })).status).toBe(200);
      // The X-Ray header an ALB or another X-Ray-instrumented caller sends.
      const xrayRoot = `1-${xrayTrace.traceId.slice(0, 8)}-${xrayTrace.traceId.slice(8)}`;
      expect((await http(api.port, 'GET', `/v1/users/${alice}`, { token, headers: { 'x-amzn-trace-id': `Root=${xrayRoot};Parent=${xrayTrace.parentId};Sampled=1` } })).status).toBe(200);
      // Uncached profiles read at once: all but one request wait for the single connection.
      const users = await Promise.all(concurrent.map(() => seedUser(db.pool)));
      const statuses = await Promise.all(concurrent.map((t, i) => http(api.port, 'GET', `/v1/users/${users[i]}`, { token, headers: sampled(t) })));
      expect(statuses.map((r) => r.status)).toEqual(concurrent.map(() => 200));
      // Probes never make spans, even when sampled.
      expect((await http(api.port, 'GET', '/readyz', { headers: sampled({ traceId: hex(16), parentId: hex(8) }) })).status).toBe(200);
      await api.shutdown();
    } finally {
      if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
      else process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = saved;
    }
    all = spans(receiver.received);
  });

  afterAll(async () => {
    await otherReceiver?.close();
  });

  test('the spans are OTLP/HTTP JSON posted to <endpoint>/v1/traces, with the service resource', () => {
    const traceExports = receiver.received.filter((r) => r.path === '/v1/traces');
    expect(traceExports.length).toBeGreaterThanOrEqual(1);
    for (const r of traceExports) expect(r.contentType).toContain('application/json');
    expect(otherReceiver.received).toHaveLength(0);
    expect(all.length).toBeGreaterThan(0);
    for (const s of all) {
      expect(s.resource).toMatchObject({ 'service.name': 'connecthub-api', 'connecthub.role': 'api', 'service.namespace': 'connecthub', 'deployment.environment.name': 'test' });
      expect(s.scope).toBe('connecthub-backend');
    }
  });

  test('a request becomes a SERVER span named by its route template, child of the incoming traceparent', () => {
    const [server, ...rest] = all.filter((s) => s.traceId === profileTrace.traceId && s.kind === SERVER);
    expect(rest).toHaveLength(0);
    expect(server).toMatchObject({ name: 'GET /v1/users/:userId', parentSpanId: profileTrace.parentId, statusCode: STATUS_UNSET });
    expect(server.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/v1/users/:userId',
      'url.path': `/v1/users/${bob}`,
      'url.scheme': 'http',
      'http.response.status_code': 200,
      'http.method': 'GET',
      'http.status_code': 200,
    });
  });

  test('the database statements behind it are CLIENT spans under the server span', () => {
    const server = all.find((s) => s.traceId === profileTrace.traceId && s.kind === SERVER)!;
    const statements = all.filter((s) => s.traceId === profileTrace.traceId && s.kind === CLIENT);
    expect(statements.length).toBeGreaterThanOrEqual(1);
    for (const s of statements) {
      expect(s.parentSpanId).toBe(server.spanId);
      expect(s.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.namespace': db.name, 'server.address': '127.0.0.1', 'server.port': 5432, 'connecthub.db.pool': 'writer' });
    }
    const profileRead = statements.find((s) => String(s.attributes['db.query.text']).includes('connecthub.users'));
    expect(profileRead).toMatchObject({ name: 'SELECT' });
    expect(profileRead!.attributes['db.operation.name']).toBe('SELECT');
  });

  test('a POST whose body arrives late keeps its context through body parsing: the transaction statements are children of its span', () => {
    const server = all.find((s) => s.traceId === postTrace.traceId && s.kind === SERVER)!;
    expect(server).toMatchObject({ name: 'POST /v1/messages', parentSpanId: postTrace.parentId });
    expect(server.attributes['http.response.status_code']).toBe(201);
    const names = all.filter((s) => s.traceId === postTrace.traceId && s.kind === CLIENT && s.parentSpanId === server.spanId).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['BEGIN', 'INSERT', 'COMMIT']));
    expect(all.filter((s) => s.traceId === postTrace.traceId && s.kind === CLIENT).every((s) => s.parentSpanId === server.spanId)).toBe(true);
  });

  test('requests that queue for a pooled connection each keep their own statements (checkout bound to the caller)', () => {
    for (const t of concurrent) {
      const server = all.filter((s) => s.traceId === t.traceId && s.kind === SERVER);
      expect(server).toHaveLength(1);
      const statements = all.filter((s) => s.traceId === t.traceId && s.kind === CLIENT);
      expect(statements.map((s) => s.parentSpanId)).toEqual([server[0].spanId]);
    }
  });

  test('an unmatched route is named by its method alone; a 4xx is not a server error', () => {
    const [server] = all.filter((s) => s.traceId === missingTrace.traceId);
    expect(server).toMatchObject({ name: 'GET', kind: SERVER, parentSpanId: missingTrace.parentId, statusCode: STATUS_UNSET });
    expect(server.attributes['http.response.status_code']).toBe(404);
    expect(server.attributes['http.route']).toBeUndefined();
  });

  test('an X-Amzn-Trace-Id parent is continued (xray propagator); unsampled parents, new roots at ratio 0 and probes are not recorded', () => {
    const xray = all.filter((s) => s.traceId === xrayTrace.traceId && s.kind === SERVER);
    expect(xray.map((s) => s.parentSpanId)).toEqual([xrayTrace.parentId]);
    expect(all.filter((s) => s.traceId === unsampledTrace)).toHaveLength(0);
    const known = new Set([profileTrace.traceId, postTrace.traceId, missingTrace.traceId, xrayTrace.traceId, ...concurrent.map((t) => t.traceId)]);
    expect(all.filter((s) => !known.has(s.traceId))).toEqual([]);
    expect(all.filter((s) => String(s.attributes['url.path']).startsWith('/readyz'))).toEqual([]);
  });
});

describe('worker: the outbox relay publish and the handling of the message are one trace', () => {
  let all: ExportedSpan[];
  let kafka: InProcessKafka;
  let messageId: string;
  let stored: Array<{ trace_context: string | null; published_at: Date | null }>;

  beforeAll(async () => {
    const b = loadBundle();
    kafka = new b.InProcessKafka(3);
    const traces = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`, OTEL_TRACES_SAMPLER: 'always_on' };
    const worker = await b.startService(b.loadConfig(env('worker', db, prefix, undefined, { CACHE_WARM_INTERVAL_SECONDS: '3600', CACHE_WARM_USERS: '0', ...traces })), { kafka, host: '127.0.0.1' });
    // The api without tracing: the relay's span is the root of the Kafka trace.
    const api = await b.startService(b.loadConfig(env('api', db, prefix, jwks)), { host: '127.0.0.1' });
    receiver.received.length = 0;
    const sent = await http(api.port, 'POST', '/v1/messages', { token: jwks.token(alice), body: { recipientId: bob, body: 'through kafka', clientKey: 'trace-key-0002' } });
    expect(sent.status).toBe(201);
    messageId = sent.json.message.id;
    await waitFor(() => kafka.records('messages').find((r) => r.value.includes(messageId)), 5_000, 'the message event in Kafka');
    await waitFor(async () => (await kafka.consumer({ groupId: 'connecthub-worker-activity', topics: ['messages'] }).lag()).messages === 0, 5_000, 'the event consumed');
    await Promise.all([worker.shutdown(), api.shutdown()]);
    stored = (await db.pool.query(`SELECT trace_context, published_at FROM connecthub.outbox WHERE payload->'data'->'message'->>'id' = $1`, [messageId])).rows;
    all = spans(receiver.received);
  });

  test('a PRODUCER span per publish, a CONSUMER span continuing it from the message headers, statements under the consumer', () => {
    // The send span whose context the message carries (the traced request of the first block was relayed too, in a trace of its own).
    const traceparent = kafka.records('messages').find((r) => r.value.includes(messageId))!.headers.traceparent;
    const producer = all.find((s) => s.kind === PRODUCER && s.name === 'send messages' && traceparent === `00-${s.traceId}-${s.spanId}-01`);
    expect(producer).toBeDefined();
    expect(producer!.parentSpanId).toBe('');
    expect(producer!.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.operation.type': 'send', 'messaging.destination.name': 'messages' });
    expect(producer!.attributes['messaging.batch.message_count']).toBeGreaterThanOrEqual(1);
    const consumer = all.find((s) => s.kind === CONSUMER && s.name === 'process messages' && s.parentSpanId === producer!.spanId);
    expect(consumer).toBeDefined();
    expect(consumer!.traceId).toBe(producer!.traceId);
    expect(consumer!.statusCode).not.toBe(STATUS_ERROR);
    expect(consumer!.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.operation.type': 'process', 'messaging.destination.name': 'messages' });
    expect(consumer!.resource['service.name']).toBe('connecthub-worker');
  });

  test('an outbox row written without tracing stores no trace context (NULL) and is relayed as before', () => {
    expect(stored).toHaveLength(1);
    expect(stored[0].trace_context).toBeNull();
    expect(stored[0].published_at).not.toBeNull();
  });

  test('statements outside a span (the relay polling the outbox) make no spans of their own', () => {
    const clients = all.filter((s) => s.kind === CLIENT);
    const parents = new Set(all.filter((s) => s.kind === CONSUMER).map((s) => s.spanId));
    expect(clients.length).toBeGreaterThanOrEqual(1);
    for (const c of clients) expect(parents.has(c.parentSpanId)).toBe(true);
  });
});

describe('api request → outbox row → relay → worker: the request\'s trace continues through Kafka', () => {
  let all: ExportedSpan[];
  let kafka: InProcessKafka;
  let invalidMetric: string;
  const postTrace = { traceId: hex(16), parentId: hex(8) };
  const tracestate = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';
  const unsampledTrace = hex(16);
  let postId: string;
  let unsampledMessageId: string;
  let untracedMessageId: string;
  let malformedEventId: string;
  const outboxRow = async (jsonPath: string, id: string) =>
    (await db.pool.query<{ trace_context: string | null; published_at: Date | null }>(`SELECT trace_context, published_at FROM connecthub.outbox WHERE payload #>> $1 = $2`, [jsonPath, id])).rows;
  const record = (topic: string, match: string) => kafka.records(topic).find((r) => r.value.includes(match));

  beforeAll(async () => {
    const b = loadBundle();
    kafka = new b.InProcessKafka(3);
    const worker = await b.startService(
      b.loadConfig(env('worker', db, prefix, undefined, { CACHE_WARM_INTERVAL_SECONDS: '3600', CACHE_WARM_USERS: '0', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`, OTEL_TRACES_SAMPLER: 'always_on' })),
      { kafka, host: '127.0.0.1' },
    );
    // As the chart runs it: new roots never sampled here (ratio 0), so only the caller's decision counts.
    const api = await b.startService(
      b.loadConfig(env('api', db, prefix, jwks, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0', OTEL_PROPAGATORS: 'tracecontext,baggage,xray' })),
      { host: '127.0.0.1' },
    );
    receiver.received.length = 0;
    const token = jwks.token(alice);
    const post = await http(api.port, 'POST', '/v1/posts', { token, body: { body: 'traced through kafka' }, headers: { traceparent: `00-${postTrace.traceId}-${postTrace.parentId}-01`, tracestate } });
    expect(post.status).toBe(201);
    postId = post.json.post.id;
    const unsampled = await http(api.port, 'POST', '/v1/messages', { token, body: { recipientId: bob, body: 'not sampled', clientKey: 'trace-key-0003' }, headers: { traceparent: `00-${unsampledTrace}-${hex(8)}-00` } });
    expect(unsampled.status).toBe(201);
    unsampledMessageId = unsampled.json.message.id;
    const untraced = await http(api.port, 'POST', '/v1/messages', { token, body: { recipientId: bob, body: 'no caller trace', clientKey: 'trace-key-0004' } });
    expect(untraced.status).toBe(201);
    untracedMessageId = untraced.json.message.id;
    // A row whose stored value is not a trace context (a foreign writer, a bad edit): published all the same.
    malformedEventId = randomUUID();
    await db.pool.query(`INSERT INTO connecthub.outbox (topic, message_key, payload, trace_context) VALUES ('user-activity', $1, $2, $3)`, [
      alice,
      JSON.stringify({ eventId: malformedEventId, type: 'follow.deleted', occurredAt: new Date().toISOString(), actorId: alice, data: { followerId: alice, followeeId: bob } }),
      `00-${'0'.repeat(32)}-${hex(8)}-01`,
    ]);
    await waitFor(() => record('feed-updates', postId) && record('messages', unsampledMessageId) && record('messages', untracedMessageId) && record('user-activity', malformedEventId), 10_000, 'the four events in Kafka');
    const consumer = kafka.consumer({ groupId: 'connecthub-worker-activity', topics: ['feed-updates', 'messages', 'user-activity'] });
    await waitFor(async () => Object.values(await consumer.lag()).every((n) => n === 0), 10_000, 'the events consumed');
    invalidMetric = await worker.metrics.registry.metrics();
    // After the relay stopped: its last round has committed.
    await Promise.all([worker.shutdown(), api.shutdown()]);
    all = spans(receiver.received);
  });

  const serverSpan = () => all.find((s) => s.traceId === postTrace.traceId && s.kind === SERVER)!;
  const createSpan = () => all.find((s) => s.traceId === postTrace.traceId && s.kind === PRODUCER && s.name === 'create feed-updates')!;

  test('the api stores the sampled request span\'s context (traceparent and tracestate) in the outbox row it writes', async () => {
    const server = serverSpan();
    expect(server).toMatchObject({ name: 'POST /v1/posts', parentSpanId: postTrace.parentId });
    expect(await outboxRow('{data,postId}', postId)).toEqual([{ trace_context: `00-${postTrace.traceId}-${server.spanId}-01 ${tracestate}`, published_at: expect.any(Date) }]);
  });

  test('the relay makes a PRODUCER "create" span per such message, child of the request\'s span in the worker', () => {
    const create = createSpan();
    expect(create).toBeDefined();
    expect(create.parentSpanId).toBe(serverSpan().spanId);
    expect(create.resource['service.name']).toBe('connecthub-worker');
    expect(create.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.operation.type': 'create', 'messaging.destination.name': 'feed-updates' });
    // The message carries the creation context, tracestate included.
    expect(record('feed-updates', postId)!.headers).toMatchObject({ traceparent: `00-${postTrace.traceId}-${create.spanId}-01`, tracestate });
  });

  test('the batch\'s "send" span links to the creation context; the worker\'s handling and its statements are in the request\'s trace', () => {
    const create = createSpan();
    const send = all.find((s) => s.kind === PRODUCER && s.name === 'send feed-updates' && s.links.some((l) => l.spanId === create.spanId))!;
    expect(send).toBeDefined();
    expect(send.links).toContainEqual({ traceId: postTrace.traceId, spanId: create.spanId });
    const consumer = all.find((s) => s.kind === CONSUMER && s.name === 'process feed-updates' && s.traceId === postTrace.traceId)!;
    expect(consumer.parentSpanId).toBe(create.spanId);
    expect(consumer.statusCode).not.toBe(STATUS_ERROR);
    const statements = all.filter((s) => s.traceId === postTrace.traceId && s.kind === CLIENT && s.resource['service.name'] === 'connecthub-worker');
    expect(statements.length).toBeGreaterThanOrEqual(1);
    for (const s of statements) expect(s.parentSpanId).toBe(consumer.spanId);
  });

  test('a request the caller did not sample, or with no caller trace at ratio 0, stores NULL; its message continues the relay\'s own send span', async () => {
    expect(all.filter((s) => s.traceId === unsampledTrace)).toEqual([]);
    for (const id of [unsampledMessageId, untracedMessageId]) {
      expect(await outboxRow('{data,message,id}', id)).toEqual([{ trace_context: null, published_at: expect.any(Date) }]);
      const traceparent = record('messages', id)!.headers.traceparent;
      const send = all.find((s) => s.kind === PRODUCER && s.name === 'send messages' && traceparent === `00-${s.traceId}-${s.spanId}-01`);
      expect(send).toBeDefined();
      expect(send!.parentSpanId).toBe('');
    }
    expect(all.filter((s) => s.name === 'create messages')).toEqual([]);
  });

  test('a malformed stored value is ignored and counted: the row is published under the send span, nothing fails', async () => {
    expect((await outboxRow('{eventId}', malformedEventId))[0].published_at).not.toBeNull();
    const traceparent = record('user-activity', malformedEventId)!.headers.traceparent;
    const send = all.find((s) => s.name === 'send user-activity' && traceparent === `00-${s.traceId}-${s.spanId}-01`);
    expect(send).toBeDefined();
    expect(all.filter((s) => s.name === 'create user-activity')).toEqual([]);
    expect(all.filter((s) => s.traceId === '0'.repeat(32))).toEqual([]);
    expect(invalidMetric).toMatch(/^outbox_trace_context_invalid_total\{role="worker"\} 1$/m);
    expect(invalidMetric).toMatch(/^outbox_publish_failures_total\{role="worker"\} 0$/m);
  });
});

describe('a failed publish', () => {
  test('marks the batch\'s send span and every creation span failed, and ends them only then', async () => {
    const b = loadBundle();
    const receiver = await startReceiver();
    try {
      const config = b.loadConfig(env('worker', db, prefix, undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: 'always_on' }));
      const tracing = b.createTracing(config);
      const failing = { connect: async () => undefined, disconnect: async () => undefined, publish: async () => { throw new Error('broker unavailable'); } };
      const traceId = hex(16);
      const stored = { traceId, spanId: hex(8), traceFlags: 1, isRemote: true };
      await expect(tracing.publisher(failing as never).publish('feed-updates', [{ key: 'k', value: '{}', traceContext: stored } as never])).rejects.toThrow('broker unavailable');
      await tracing.shutdown();
      const all = spans(receiver.received);
      const create = all.find((x) => x.name === 'create feed-updates')!;
      const send = all.find((x) => x.name === 'send feed-updates')!;
      expect(create).toMatchObject({ traceId, kind: PRODUCER, statusCode: STATUS_ERROR });
      expect(send).toMatchObject({ kind: PRODUCER, statusCode: STATUS_ERROR });
    } finally {
      await receiver.close();
    }
  });
});

describe('the stored trace context format', () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const spanId = '00f067aa0ba902b7';

  test('a sampled span context is stored as traceparent, then a space and its tracestate; unsampled or invalid ones as nothing', () => {
    const b = loadBundle();
    const state = b.parseTraceContext(`00-${traceId}-${spanId}-01 congo=t61rcWkgMzE,rojo=00f067aa0ba902b7`)!.traceState;
    expect(b.formatTraceContext({ traceId, spanId, traceFlags: 1, traceState: state })).toBe(`00-${traceId}-${spanId}-01 congo=t61rcWkgMzE,rojo=00f067aa0ba902b7`);
    expect(b.formatTraceContext({ traceId, spanId, traceFlags: 1 })).toBe(`00-${traceId}-${spanId}-01`);
    expect(b.formatTraceContext({ traceId, spanId, traceFlags: 0 })).toBeNull();
    expect(b.formatTraceContext({ traceId: '0'.repeat(32), spanId, traceFlags: 1 })).toBeNull();
  });

  test('reading accepts exactly that form, within the column\'s bound', () => {
    const b = loadBundle();
    expect(b.parseTraceContext(`00-${traceId}-${spanId}-01`)).toEqual({ traceId, spanId, traceFlags: 1, isRemote: true });
    const withState = b.parseTraceContext(`00-${traceId}-${spanId}-03 a=1, b@vendor=x y ,,`)!;
    expect(withState.traceFlags).toBe(3);
    expect(withState.traceState?.get('b@vendor')).toBe('x y');
    // The longest value kept: 32 members filling the 512 characters of tracestate.
    const longState = Array.from({ length: 32 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(11)}`).join(',').padEnd(512, 'v');
    expect(longState).toHaveLength(512);
    expect(b.parseTraceContext(`00-${traceId}-${spanId}-01 ${longState}`)).toBeDefined();
    expect(`00-${traceId}-${spanId}-01 ${longState}`).toHaveLength(b.MAX_STORED_TRACE_CONTEXT_LENGTH);
  });

  test.each([
    ['empty', ''],
    ['not a traceparent', 'garbage'],
    ['upper-case hex', `00-${traceId.toUpperCase()}-${spanId}-01`],
    ['an unknown version', `01-${traceId}-${spanId}-01`],
    ['the forbidden version ff', `ff-${traceId}-${spanId}-01`],
    ['a short trace id', `00-${traceId.slice(2)}-${spanId}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${spanId}-01`],
    ['an all-zero span id', `00-${traceId}-${'0'.repeat(16)}-01`],
    ['trailing fields', `00-${traceId}-${spanId}-01-extra`],
    ['a newline', `00-${traceId}-${spanId}-01\n`],
    ['an empty tracestate', `00-${traceId}-${spanId}-01 `],
    ['a tracestate member without =', `00-${traceId}-${spanId}-01 congo`],
    ['a tracestate key with upper case', `00-${traceId}-${spanId}-01 Congo=1`],
    ['a tracestate value with =', `00-${traceId}-${spanId}-01 congo=a=b`],
    ['a duplicate tracestate key', `00-${traceId}-${spanId}-01 congo=1,congo=2`],
    ['33 tracestate members', `00-${traceId}-${spanId}-01 ${Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')}`],
    ['a tracestate over 512 characters', `00-${traceId}-${spanId}-01 a=${'v'.repeat(255)},b=${'v'.repeat(255)}`],
  ])('a stored value with %s is rejected', (_what, value) => {
    expect(loadBundle().parseTraceContext(value)).toBeUndefined();
  });
});

describe('without an OTLP endpoint', () => {
  test('no spans are sent, even when the process environment names a collector (the service reads only its configuration)', async () => {
    const b = loadBundle();
    const other = await startReceiver();
    const saved = { base: process.env.OTEL_EXPORTER_OTLP_ENDPOINT, traces: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT };
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = other.url;
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${other.url}/v1/traces`;
    try {
      const config = b.loadConfig(env('api', db, prefix, jwks, { OTEL_TRACES_SAMPLER: 'always_on' }));
      expect(config.traces).toBeUndefined();
      const svc = await b.startService(config, { host: '127.0.0.1' });
      const carol = await seedUser(db.pool);
      const res = await http(svc.port, 'GET', `/v1/users/${carol}`, { token: jwks.token(alice), headers: { traceparent: `00-${hex(16)}-${hex(8)}-01` } });
      expect(res.status).toBe(200);
      await svc.shutdown();
      expect(other.received).toHaveLength(0);
    } finally {
      for (const [k, v] of [['OTEL_EXPORTER_OTLP_ENDPOINT', saved.base], ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', saved.traces]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await other.close();
    }
  });

  test('OTEL_TRACES_EXPORTER=none turns traces off while the metrics still go to the endpoint', () => {
    const config = loadBundle().loadConfig(env('api', db, prefix, jwks, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }));
    expect(config.traces).toBeUndefined();
    expect(config.otel?.endpoint).toBe('http://c:4318');
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

  test('what the chart sets for a pod is accepted as is: ratio sampling at the root, W3C and X-Ray propagation, /v1/traces on the collector', () => {
    const chartEnv = backendOtelEnvironment({ environmentName: 'prod', service: 'realtime', namespace: 'connecthub', region: 'eu-west-1' });
    const config = loadBundle().loadConfig({ ...base, ...chartEnv });
    expect(config.traces).toEqual({
      url: 'http://connecthub-otel-collector.connecthub.svc.cluster.local:4318/v1/traces',
      sampler: 'parentbased_traceidratio',
      ratio: 0.1,
      propagators: ['tracecontext', 'baggage', 'xray'],
      serviceName: 'connecthub-realtime',
      resourceAttributes: {
        'service.namespace': 'connecthub',
        'deployment.environment.name': 'prod',
        'connecthub.role': 'realtime',
        'cloud.provider': 'aws',
        'cloud.region': 'eu-west-1',
      },
    });
  });

  test('defaults follow the OpenTelemetry specification; a traces endpoint is used as is', () => {
    const config = loadBundle().loadConfig({ ...base, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example.com/custom/traces' });
    expect(config.traces).toEqual({ url: 'https://collector.example.com/custom/traces', sampler: 'parentbased_always_on', ratio: 1, propagators: ['tracecontext', 'baggage'], serviceName: undefined, resourceAttributes: {} });
    // Traces only: the metrics exporter stays off.
    expect(config.otel).toBeUndefined();
    expect(loadBundle().loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/', OTEL_PROPAGATORS: 'none' }).traces).toMatchObject({ url: 'http://c:4318/v1/traces', propagators: [] });
    // The argument is ignored by samplers that take none.
    expect(loadBundle().loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'always_on', OTEL_TRACES_SAMPLER_ARG: 'x' }).traces?.ratio).toBe(1);
  });

  test('bad trace settings are reported together, naming the setting, the value and what is allowed', () => {
    expect(
      problems({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318/v1/traces',
        OTEL_TRACES_SAMPLER: 'xray',
        OTEL_PROPAGATORS: 'tracecontext,b3',
        OTEL_RESOURCE_ATTRIBUTES: 'oops',
      }),
    ).toEqual([
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="collector:4318/v1/traces" is not allowed; expected the full http:// or https:// URL of an OTLP/HTTP traces receiver, e.g. http://collector:4318/v1/traces',
      'OTEL_TRACES_SAMPLER="xray" is not allowed; allowed: always_on | always_off | traceidratio | parentbased_always_on | parentbased_always_off | parentbased_traceidratio',
      'OTEL_PROPAGATORS="tracecontext,b3" is not allowed: "b3" unknown; allowed: comma-separated tracecontext | baggage | xray | none',
      'OTEL_RESOURCE_ATTRIBUTES="oops" is not allowed: entry "oops" is not key=value; expected key=value pairs separated by commas',
    ]);
    expect(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' })).toEqual([
      'OTEL_TRACES_SAMPLER_ARG="1.5" is not allowed with OTEL_TRACES_SAMPLER=traceidratio; expected a decimal number from 0 to 1, e.g. 0.1',
    ]);
    expect(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'zipkin' })).toEqual(['OTEL_TRACES_EXPORTER="zipkin" is not allowed; allowed: otlp | none']);
    // A bad shared base endpoint is reported once, not by the metric and the trace settings each.
    expect(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" is not allowed; expected an http:// or https:// base URL of an OTLP/HTTP receiver, e.g. http://collector:4318',
    ]);
    // Without an endpoint the other trace settings are not read (the chart may set them everywhere).
    expect(problems({ OTEL_TRACES_SAMPLER: 'xray' })).toEqual([]);
  });
});
