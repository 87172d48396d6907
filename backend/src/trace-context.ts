/**
 * The trace context stored with an outbox row (`connecthub.outbox.trace_context`, migration 0007): the W3C
 * `traceparent` of the span that wrote the row and, when there is one, a space and its `tracestate`:
 *
 *     00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 congo=t61rcWkgMzE,rojo=00f067aa0ba902b7
 *
 * The api writes it in the outbox INSERT; the relay reads it back and its Kafka spans continue that trace.
 * The value is data from the database (a matching job outside this service writes outbox rows too), so
 * reading is strict: anything but this exact form is rejected, never half-used.
 */
import { isSpanContextValid, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';

/** W3C: vendors propagate at least this much tracestate and may drop the rest. */
export const MAX_TRACESTATE_LENGTH = 512;
/** `00-<32 hex>-<16 hex>-<2 hex>`. */
const TRACEPARENT_LENGTH = 55;
/** The column's CHECK bound (migration 0007): a traceparent, a space and the longest tracestate kept. */
export const MAX_STORED_TRACE_CONTEXT_LENGTH = TRACEPARENT_LENGTH + 1 + MAX_TRACESTATE_LENGTH;

// Version 00 only: it is the version this service writes, and a later version may add fields this parser cannot check.
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const MAX_TRACESTATE_MEMBERS = 32;
// The W3C Trace Context list-member grammar (simple and multi-tenant keys; printable values without ',' and '=').
const TRACESTATE_KEY = /^(?:[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})$/;
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** The stored form of `spanContext`, or null when it is not a valid, sampled context (only those are worth continuing). */
export function formatTraceContext(spanContext: SpanContext): string | null {
  if (!isSpanContextValid(spanContext) || (spanContext.traceFlags & TraceFlags.SAMPLED) === 0) return null;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  const traceparent = `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
  const tracestate = spanContext.traceState?.serialize() ?? '';
  // The SDK caps a parsed tracestate at 512 characters already; a longer one is dropped rather than cut mid-member.
  return tracestate === '' || tracestate.length > MAX_TRACESTATE_LENGTH ? traceparent : `${traceparent} ${tracestate}`;
}

function validTracestate(raw: string): boolean {
  if (raw.length > MAX_TRACESTATE_LENGTH) return false;
  // W3C allows empty members (",,") and optional whitespace around them.
  const members = raw.split(',').map((m) => m.trim()).filter((m) => m !== '');
  if (members.length === 0 || members.length > MAX_TRACESTATE_MEMBERS) return false;
  const keys = new Set<string>();
  for (const m of members) {
    const eq = m.indexOf('=');
    if (eq <= 0) return false;
    const key = m.slice(0, eq);
    if (!TRACESTATE_KEY.test(key) || !TRACESTATE_VALUE.test(m.slice(eq + 1)) || keys.has(key)) return false;
    keys.add(key);
  }
  return true;
}

/** The remote span context a stored value describes, or undefined when the value is malformed in any part. */
export function parseTraceContext(stored: string): SpanContext | undefined {
  if (stored.length > MAX_STORED_TRACE_CONTEXT_LENGTH) return undefined;
  const space = stored.indexOf(' ');
  const traceparent = space === -1 ? stored : stored.slice(0, space);
  const match = TRACEPARENT.exec(traceparent);
  if (!match) return undefined;
  const tracestate = space === -1 ? undefined : stored.slice(space + 1);
  if (tracestate !== undefined && !validTracestate(tracestate)) return undefined;
  const spanContext: SpanContext = {
    traceId: match[1],
    spanId: match[2],
    traceFlags: parseInt(match[3], 16),
    isRemote: true,
    ...(tracestate !== undefined ? { traceState: new TraceState(tracestate) } : {}),
  };
  // All-zero trace or span ids are invalid in W3C.
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}
