/**
 * The trace settings, read from the standard OpenTelemetry environment variables the chart sets
 * (constructs/observability/otel-config.ts, `backendOtelEnvironment`). Plain data, no SDK imports:
 * `config.ts` reads it with the rest of the configuration and reports every problem at once.
 *
 * Traces are on when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full URL, used as is) or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (the base URL; `/v1/traces` is appended) is set, unless
 * `OTEL_TRACES_EXPORTER=none`. Without either, nothing below is read.
 */

type Env = Readonly<Record<string, string | undefined>>;

/** The samplers of the OpenTelemetry SDK environment specification that this service implements. */
export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

/** Propagators this service can read and write (`none` turns propagation off). */
export const TRACE_PROPAGATORS = ['tracecontext', 'baggage', 'xray', 'none'] as const;
export type TracePropagator = Exclude<(typeof TRACE_PROPAGATORS)[number], 'none'>;

export const TRACES_ENV = {
  exporter: 'OTEL_TRACES_EXPORTER',
  endpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  tracesEndpoint: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  sampler: 'OTEL_TRACES_SAMPLER',
  samplerArg: 'OTEL_TRACES_SAMPLER_ARG',
  propagators: 'OTEL_PROPAGATORS',
  serviceName: 'OTEL_SERVICE_NAME',
  resourceAttributes: 'OTEL_RESOURCE_ATTRIBUTES',
} as const;

export interface TracesConfig {
  /** Full OTLP/HTTP traces URL, e.g. `http://collector:4318/v1/traces`. */
  readonly url: string;
  readonly sampler: TraceSampler;
  /** Share of root traces sampled by the `*traceidratio` samplers (0..1); 1 for the others. */
  readonly ratio: number;
  /** In the order given: on extraction a later propagator wins, on injection all write. Empty: no propagation. */
  readonly propagators: readonly TracePropagator[];
  /** `OTEL_SERVICE_NAME`; `connecthub-<role>` when unset. */
  readonly serviceName?: string;
  /** Parsed `OTEL_RESOURCE_ATTRIBUTES`. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
}

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** An http(s) URL without query or fragment, or undefined. */
function httpUrl(value: string): URL | undefined {
  try {
    const u = new URL(value);
    return ['http:', 'https:'].includes(u.protocol) && !u.search && !u.hash ? u : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the trace settings; pushes one line per bad setting (naming it, the value and what is
 * allowed) onto `problems`. Returns undefined when traces are off.
 */
export function readTracesConfig(env: Env, problems: string[]): TracesConfig | undefined {
  const exporter = raw(env, TRACES_ENV.exporter) ?? 'otlp';
  if (exporter !== 'otlp' && exporter !== 'none') {
    problems.push(`${TRACES_ENV.exporter}=${JSON.stringify(exporter)} is not allowed; allowed: otlp | none`);
    return undefined;
  }
  const tracesEndpoint = raw(env, TRACES_ENV.tracesEndpoint);
  const endpoint = raw(env, TRACES_ENV.endpoint);
  if (exporter === 'none' || (tracesEndpoint === undefined && endpoint === undefined)) return undefined;

  let url = '';
  if (tracesEndpoint !== undefined) {
    if (!httpUrl(tracesEndpoint)) {
      problems.push(
        `${TRACES_ENV.tracesEndpoint}=${JSON.stringify(tracesEndpoint)} is not allowed; expected the full http:// or https:// URL of an OTLP/HTTP traces receiver, e.g. http://collector:4318/v1/traces`,
      );
    }
    url = tracesEndpoint;
  } else if (endpoint !== undefined) {
    // A bad base endpoint is reported by the metrics settings, which read the same variable.
    url = `${endpoint.replace(/\/+$/, '')}/v1/traces`;
    if (!httpUrl(endpoint)) {
      problems.push(`${TRACES_ENV.endpoint}=${JSON.stringify(endpoint)} is not allowed; expected an http:// or https:// base URL of an OTLP/HTTP receiver, e.g. http://collector:4318`);
    }
  }

  const samplerRaw = raw(env, TRACES_ENV.sampler) ?? 'parentbased_always_on';
  let sampler: TraceSampler = 'parentbased_always_on';
  if ((TRACE_SAMPLERS as readonly string[]).includes(samplerRaw)) sampler = samplerRaw as TraceSampler;
  else problems.push(`${TRACES_ENV.sampler}=${JSON.stringify(samplerRaw)} is not allowed; allowed: ${TRACE_SAMPLERS.join(' | ')}`);

  let ratio = 1;
  const argRaw = raw(env, TRACES_ENV.samplerArg);
  // The argument means something only to the ratio samplers; the others ignore it, as the specification says.
  if (sampler.endsWith('traceidratio') && argRaw !== undefined) {
    const n = Number(argRaw);
    if (!/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(argRaw) || !(n >= 0 && n <= 1)) {
      problems.push(`${TRACES_ENV.samplerArg}=${JSON.stringify(argRaw)} is not allowed with ${TRACES_ENV.sampler}=${sampler}; expected a decimal number from 0 to 1, e.g. 0.1`);
    } else {
      ratio = n;
    }
  }

  const propagatorsRaw = raw(env, TRACES_ENV.propagators) ?? 'tracecontext,baggage';
  const names = propagatorsRaw.split(',').map((p) => p.trim()).filter(Boolean);
  const unknown = names.filter((p) => !(TRACE_PROPAGATORS as readonly string[]).includes(p));
  if (unknown.length > 0) {
    problems.push(`${TRACES_ENV.propagators}=${JSON.stringify(propagatorsRaw)} is not allowed: ${unknown.map((u) => JSON.stringify(u)).join(', ')} unknown; allowed: comma-separated ${TRACE_PROPAGATORS.join(' | ')}`);
  }
  const propagators = [...new Set(names.filter((p): p is TracePropagator => p !== 'none' && (TRACE_PROPAGATORS as readonly string[]).includes(p)))];

  const attributesRaw = raw(env, TRACES_ENV.resourceAttributes);
  const parsed = attributesRaw === undefined ? { attributes: {} } : parseResourceAttributes(attributesRaw);
  if ('problem' in parsed) {
    problems.push(`${TRACES_ENV.resourceAttributes}=${JSON.stringify(attributesRaw)} is not allowed: ${parsed.problem}; expected key=value pairs separated by commas`);
  }

  return {
    url,
    sampler,
    ratio,
    propagators: names.includes('none') ? [] : propagators,
    serviceName: raw(env, TRACES_ENV.serviceName),
    resourceAttributes: 'attributes' in parsed ? parsed.attributes : {},
  };
}

/** Parses `OTEL_RESOURCE_ATTRIBUTES` (`key=value,key=value`, values percent-encoded); returns the problem or the map. */
export function parseResourceAttributes(raw: string): { attributes: Record<string, string> } | { problem: string } {
  const attributes: Record<string, string> = {};
  for (const entry of raw.split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) return { problem: `entry ${JSON.stringify(entry)} is not key=value` };
    try {
      attributes[decodeURIComponent(entry.slice(0, eq).trim())] = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      return { problem: `entry ${JSON.stringify(entry)} has a bad percent-encoding` };
    }
  }
  return { attributes };
}
