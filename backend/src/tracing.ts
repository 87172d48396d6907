/**
 * Traces, pushed over OTLP/HTTP (JSON) to the collector, which sends them to X-Ray and to an APM vendor
 * (docs/observability.md, "Traces"). Spans are made here by hand, not by auto-instrumentation: the
 * service runs as one esbuild bundle, and the require hooks that auto-instrumentation patches modules
 * with never see a bundled module.
 *
 * - A SERVER span per HTTP request (probes and WebSocket upgrades excepted), named `<method> <route
 *   template>`, continuing the caller's trace from `traceparent` (and `X-Amzn-Trace-Id` with the xray
 *   propagator).
 * - A CLIENT span per PostgreSQL statement run inside a sampled span (never a root of its own: the
 *   worker's polling would otherwise flood the collector).
 * - The context of the sampled span that writes an outbox row, stored in the row (`trace_context`,
 *   `trace-context.ts`) by the same INSERT.
 * - A PRODUCER span per Kafka publish of the outbox relay (`send <topic>`), and for each message whose row
 *   carried a stored context a PRODUCER `create <topic>` span, child of that context: the message's own
 *   creation context, linked from the send span (the OpenTelemetry messaging conventions for a batch). A
 *   message's headers carry its create span's context, or the send span's when its row had none; a
 *   CONSUMER span per message the worker handles continues it. So a traced request, the relay and the
 *   worker are one trace (one trace id, which X-Ray shows as one trace), while the batch stays one send.
 *
 * Each running service owns its TracerProvider (no global provider): two services in one process, as
 * the tests run them, export separately. The AsyncLocalStorage context manager is process-wide (a
 * span's context follows the async calls made under it). Nothing here runs without `config.traces`.
 */
import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type Link,
  type Context,
  type Span,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type Sampler } from '@opentelemetry/sdk-trace';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config, DatabaseConfig } from './config';
import type { QueryTracer } from './db';
import type { MessageHandler, Publisher } from './kafka/port';
import type { TracePropagator, TracesConfig } from './tracing-config';
import { formatTraceContext } from './trace-context';

/** What the service asks of tracing; every method passes its input through unchanged when tracing is off. */
export interface Tracing {
  readonly enabled: boolean;
  /** Adds the server-span hooks. Call before any plugin or route is registered, so every later hook runs in the span's context. */
  instrumentHttp(app: FastifyInstance, skipRoutes: ReadonlySet<string>): void;
  /** For {@link Database}: a span per statement inside a sampled span; undefined when tracing is off. */
  readonly traceQuery?: QueryTracer;
  /** For the outbox INSERT: the stored form of the active span's context when that span is sampled, else null. */
  outboxTraceContext(): string | null;
  /** Wraps a Kafka publisher: a producer span per publish, its context injected into each message's headers. */
  publisher(publisher: Publisher): Publisher;
  /** Wraps a Kafka message handler: a consumer span per message, continuing the context in its headers. */
  handler(handler: MessageHandler): MessageHandler;
  /** Exports the spans still queued, then stops. Safe to call twice. */
  shutdown(): Promise<void>;
}

const DISABLED: Tracing = {
  enabled: false,
  instrumentHttp: () => undefined,
  traceQuery: undefined,
  outboxTraceContext: () => null,
  publisher: (p) => p,
  handler: (h) => h,
  shutdown: async () => undefined,
};

/** The request's server span (set in onRequest, ended in onResponse or onRequestAbort). */
const SERVER_SPAN = Symbol('connecthub.serverSpan');
type TracedRequest = FastifyRequest & { [SERVER_SPAN]?: Span };

const TRACER_NAME = 'connecthub-backend';
/** Longest attribute value kept (SQL text mostly); longer values are truncated by the SDK. */
const ATTRIBUTE_VALUE_LIMIT = 2048;

let contextManagerRegistered = false;
/**
 * Registers the AsyncLocalStorage context manager once per process (the API keeps one global manager;
 * if something registered another first, the API keeps that one and says so through its diag logger).
 */
function ensureContextManager(): void {
  if (contextManagerRegistered) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  contextManagerRegistered = true;
}

/** The sampler named by `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`. */
export function createSampler(config: Pick<TracesConfig, 'sampler' | 'ratio'>): Sampler {
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(config.ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.ratio) });
  }
}

/** The propagators named by `OTEL_PROPAGATORS`, composed in that order. */
export function createPropagator(names: readonly TracePropagator[]): TextMapPropagator {
  const make = { tracecontext: () => new W3CTraceContextPropagator(), baggage: () => new W3CBaggagePropagator(), xray: () => new AWSXRayPropagator() };
  return new CompositePropagator({ propagators: names.map((n) => make[n]()) });
}

/** Creates the tracing of a service, or a pass-through one when `config.traces` is undefined. */
export function createTracing(config: Pick<Config, 'role' | 'traces' | 'database'>): Tracing {
  const traces = config.traces;
  if (!traces) return DISABLED;
  ensureContextManager();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      ...traces.resourceAttributes,
      'service.name': traces.serviceName ?? `connecthub-${config.role}`,
      'connecthub.role': config.role,
    }),
    sampler: createSampler(traces),
    spanLimits: { attributeValueLengthLimit: ATTRIBUTE_VALUE_LIMIT },
    // Explicit settings: the SDK would otherwise read OTEL_BSP_* from the process environment.
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: traces.url }),
        maxQueueSize: 2048,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 5_000,
        // A collector that is down costs at most this at shutdown (the metrics exporter uses the same bound).
        exportTimeoutMillis: 10_000,
      }),
    ],
  });
  const tracer = provider.getTracer(TRACER_NAME);
  const propagator = createPropagator(traces.propagators);
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    instrumentHttp: (app, skipRoutes) => instrumentHttp(app, tracer, propagator, skipRoutes),
    traceQuery: config.database ? queryTracer(tracer, config.database) : undefined,
    outboxTraceContext,
    publisher: (p) => tracedPublisher(p, tracer, propagator),
    handler: (h) => tracedHandler(h, tracer, propagator),
    shutdown: () => (stopped ??= provider.shutdown()),
  };
}

/** Marks the span failed with `error` (exception event plus ERROR status). */
function fail(span: Span, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}

function instrumentHttp(app: FastifyInstance, tracer: Tracer, propagator: TextMapPropagator, skipRoutes: ReadonlySet<string>): void {
  app.addHook('onRequest', (req: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    const route = req.routeOptions.url;
    // Probes are noise; a WebSocket upgrade is hijacked by the websocket plugin and never answers through Fastify.
    if ((route !== undefined && skipRoutes.has(route)) || req.headers.upgrade !== undefined) return done();
    const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const path = req.url.split('?')[0];
    const attributes: Attributes = {
      'http.request.method': req.method,
      'url.path': path,
      'url.scheme': req.protocol,
      'server.address': req.hostname,
      'client.address': req.ip,
      'network.protocol.version': req.raw.httpVersion,
      // The v1.12 names the collector's X-Ray exporter reads for the segment's http block (method, URL, client).
      'http.method': req.method,
      'http.url': `${req.protocol}://${req.host}${path}`,
      'http.client_ip': req.ip,
    };
    if (route !== undefined) attributes['http.route'] = route;
    const userAgent = req.headers['user-agent'];
    if (userAgent) attributes['user_agent.original'] = userAgent;
    const span = tracer.startSpan(route !== undefined ? `${req.method} ${route}` : req.method, { kind: SpanKind.SERVER, attributes }, parent);
    (req as TracedRequest)[SERVER_SPAN] = span;
    // The rest of the request (later hooks, body parsing, handler) runs in the span's context; Fastify
    // carries the context across the body's socket events itself (an AsyncResource per parse).
    context.with(trace.setSpan(parent, span), done);
  });

  app.addHook('onError', (req: FastifyRequest, _reply: FastifyReply, error: FastifyError, done: () => void) => {
    const span = (req as TracedRequest)[SERVER_SPAN];
    if (span && (error.statusCode ?? 500) >= 500) span.recordException(error);
    done();
  });

  app.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const span = (req as TracedRequest)[SERVER_SPAN];
    if (span) {
      const status = reply.statusCode;
      span.setAttributes({ 'http.response.status_code': status, 'http.status_code': status });
      // Server spans: a 4xx is the client's mistake, not a failure of this service.
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
      span.end();
      (req as TracedRequest)[SERVER_SPAN] = undefined;
    }
    done();
  });

  app.addHook('onRequestAbort', (req: FastifyRequest, done: () => void) => {
    const span = (req as TracedRequest)[SERVER_SPAN];
    if (span) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection before the response' });
      span.end();
      (req as TracedRequest)[SERVER_SPAN] = undefined;
    }
    done();
  });
}

function queryTracer(tracer: Tracer, db: DatabaseConfig): QueryTracer {
  return (pool, text) => {
    const parent = context.active();
    // Only inside a sampled span: no root spans for the worker's polling statements.
    if (!trace.getSpan(parent)?.isRecording()) return undefined;
    const statement = text.replace(/\s+/g, ' ').trim();
    const operation = /^[A-Za-z]+/.exec(statement)?.[0].toUpperCase() ?? 'QUERY';
    const span = tracer.startSpan(
      operation,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system.name': 'postgresql',
          'db.namespace': db.database,
          'db.operation.name': operation,
          'db.query.text': statement,
          'server.address': pool === 'writer' ? db.writerHost : db.readerHost,
          'server.port': db.port,
          'connecthub.db.pool': pool,
          // The v1.12 names the X-Ray exporter reads for the subsegment's name and sql block.
          'db.system': 'postgresql',
          'db.name': db.database,
          'db.statement': statement,
        },
      },
      parent,
    );
    return (error) => {
      if (error) fail(span, error);
      span.end();
    };
  };
}

/**
 * The active span's context in its stored form. Read from the API's active context: the request's server
 * span (statement spans are never made active), and nothing outside a request.
 */
function outboxTraceContext(): string | null {
  const span = trace.getSpan(context.active());
  return span?.isRecording() ? formatTraceContext(span.spanContext()) : null;
}

function tracedPublisher(publisher: Publisher, tracer: Tracer, propagator: TextMapPropagator): Publisher {
  return {
    connect: () => publisher.connect(),
    disconnect: () => publisher.disconnect(),
    publish: async (topic, messages) => {
      const parent = context.active();
      const common: Attributes = { 'messaging.system': 'kafka', 'messaging.destination.name': topic };
      // One creation span per message that continues a stored trace; it ends with the send, failed if the send
      // failed, so a retried hand-over shows as failed attempts rather than as several successful ones.
      const createSpans = messages.map((m) =>
        m.traceContext
          ? tracer.startSpan(`create ${topic}`, { kind: SpanKind.PRODUCER, attributes: { ...common, 'messaging.operation.type': 'create' } }, trace.setSpanContext(ROOT_CONTEXT, m.traceContext))
          : undefined);
      const created = createSpans.map((c) => (c ? trace.setSpan(ROOT_CONTEXT, c) : undefined));
      // Links to the sampled creation contexts only (the SDK keeps at most 128 links per span).
      const links: Link[] = created.flatMap((c) => {
        const sc = c && trace.getSpanContext(c);
        return sc && sc.traceFlags & TraceFlags.SAMPLED ? [{ context: sc }] : [];
      });
      const span = tracer.startSpan(
        `send ${topic}`,
        { kind: SpanKind.PRODUCER, attributes: { ...common, 'messaging.operation.type': 'send', 'messaging.batch.message_count': messages.length }, links },
        parent,
      );
      const ctx = trace.setSpan(parent, span);
      // Unsampled spans are injected too (flags 00): the consumer then makes the same sampling decision.
      const stamped = messages.map(({ traceContext: _stored, ...m }, i) => {
        const headers: Record<string, string> = { ...(m.headers ?? {}) };
        propagator.inject(created[i] ?? ctx, headers, defaultTextMapSetter);
        return { ...m, headers };
      });
      try {
        await context.with(ctx, () => publisher.publish(topic, stamped));
      } catch (err) {
        fail(span, err);
        for (const c of createSpans) if (c) fail(c, err);
        throw err;
      } finally {
        span.end();
        for (const c of createSpans) c?.end();
      }
    },
  };
}

function tracedHandler(handler: MessageHandler, tracer: Tracer, propagator: TextMapPropagator): MessageHandler {
  return async (message) => {
    const parent: Context = propagator.extract(ROOT_CONTEXT, message.headers, defaultTextMapGetter);
    const span = tracer.startSpan(
      `process ${message.topic}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': message.topic,
          'messaging.destination.partition.id': String(message.partition),
          'messaging.kafka.offset': Number(message.offset),
        },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), () => handler(message));
    } catch (err) {
      fail(span, err);
      throw err;
    } finally {
      span.end();
    }
  };
}
