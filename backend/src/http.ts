/**
 * The HTTP server every role runs: probes, metrics, request metrics, error handling (validation
 * errors name the field, the value and what is allowed), compression and graceful draining.
 */
import Fastify, { LogController, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import compress from '@fastify/compress';
import { constants as zlib } from 'node:zlib';
import { PATHS } from './contract';
import type { Config } from './config';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

export type ReadinessCheck = () => Promise<Record<string, 'ok' | 'degraded' | 'down'>>;

interface AjvError {
  instancePath?: string;
  keyword: string;
  message?: string;
  params?: Record<string, unknown>;
  data?: unknown;
}

/** One readable problem per validation error: `body.recipientId: "abc" must be a UUID`. */
export function describeValidation(context: string | undefined, errors: readonly AjvError[]): Array<{ field: string; value?: unknown; problem: string }> {
  return errors.map((e) => {
    const path = (e.instancePath ?? '').split('/').filter(Boolean).join('.');
    let field = [context ?? 'request', path].filter(Boolean).join('.');
    let problem = e.message ?? 'is not valid';
    let value = e.data;
    if (e.keyword === 'required') {
      field = `${field}.${String(e.params?.missingProperty)}`;
      problem = 'is required';
      value = undefined;
    } else if (e.keyword === 'additionalProperties') {
      field = `${field}.${String(e.params?.additionalProperty)}`;
      problem = 'is not an allowed property';
      value = undefined;
    } else if (e.keyword === 'format' && e.params?.format === 'uuid') {
      problem = 'must be a UUID';
    } else if (e.keyword === 'enum') {
      problem = `must be one of ${JSON.stringify(e.params?.allowedValues)}`;
    }
    if (typeof value === 'string' && value.length > 80) value = `${value.slice(0, 80)}…`;
    if (value !== null && typeof value === 'object') value = undefined;
    return value === undefined ? { field, problem } : { field, value, problem };
  });
}

export interface HttpServer {
  readonly app: FastifyInstance;
  draining: boolean;
}

export function createHttpServer(config: Config, log: Logger, metrics: Metrics, ready: ReadinessCheck): HttpServer {
  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    trustProxy: true,
    bodyLimit: 256 * 1024,
    keepAliveTimeout: 65_000,
    ajv: { customOptions: { allErrors: true, verbose: true, removeAdditional: false, coerceTypes: 'array' } },
  }) as unknown as FastifyInstance;
  const server: HttpServer = { app, draining: false };
  const probePaths = new Set<string>([PATHS.liveness, PATHS.readiness, PATHS.metrics]);

  app.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    if (probePaths.has(route)) return;
    const labels = { role: config.role, route, method: req.method, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.observeHttp(labels, reply.elapsedTime);
  });

  app.setErrorHandler((err: FastifyError & { validationContext?: string }, req, reply) => {
    if (err.validation) {
      const details = describeValidation(err.validationContext, err.validation as AjvError[]);
      const message = details.map((d) => `${d.field}${'value' in d ? ` = ${JSON.stringify(d.value)}` : ''} ${d.problem}`).join('; ');
      return reply.status(400).send({ error: 'validation_failed', message, details });
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      req.log.error({ err, route: req.routeOptions.url }, 'request failed');
      return reply.status(status === 500 ? 500 : status).send({ error: 'internal_error', message: 'the request could not be completed; retry later' });
    }
    return reply.status(status).send({ error: err.code ?? 'bad_request', message: err.message });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  app.register(compress, {
    global: true,
    threshold: 1024,
    encodings: ['br', 'gzip', 'deflate'],
    // Quality 11 (the default) costs milliseconds per response; 4 keeps most of the saving.
    brotliOptions: { params: { [zlib.BROTLI_PARAM_QUALITY]: 4 } },
    zlibOptions: { level: 5 },
  });

  app.get(PATHS.liveness, async () => ({ status: 'ok' }));
  app.get(PATHS.readiness, async (_req, reply) => {
    if (server.draining) return reply.status(503).send({ status: 'draining' });
    let checks: Record<string, string>;
    try {
      checks = await ready();
    } catch (err) {
      checks = { check: `failed: ${(err as Error).message}` };
    }
    const down = Object.values(checks).some((v) => v !== 'ok' && v !== 'degraded');
    return reply.status(down ? 503 : 200).send({ status: down ? 'unavailable' : 'ready', checks });
  });
  app.get(PATHS.metrics, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  return server;
}

/** Resolves with the check's result, or 'down' after `ms`. */
export async function within(ms: number, check: () => Promise<unknown>): Promise<'ok' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([check(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]);
    return 'ok';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}
