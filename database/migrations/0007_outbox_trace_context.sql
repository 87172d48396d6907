-- 0007: the trace context of the request that wrote an outbox row, so the relay's Kafka spans continue that trace.
-- Format (backend/src/trace-context.ts): a W3C traceparent (version 00, 55 characters), then, when the request
-- carried one, a space and its tracestate (at most 512 characters, W3C's propagation limit): at most 568 bytes.
-- NULL when the writer had no sampled span; the relay validates the value on read and ignores a malformed one.

-- The api writes this table on every post, follow and message: never queue those writes for long behind this ALTER
-- (which waits for the relay's open transaction, and every later INSERT waits behind the ALTER). One second at most;
-- the migrator retries a migration that gave up on a lock (it rolled back whole) with growing waits.
SET LOCAL lock_timeout = '1s';

-- Nullable without a default: a catalogue change only, the table is neither rewritten nor scanned. The outbox is
-- not partitioned and its indexes (the primary key, the partial index on unpublished ids) do not involve the column.
ALTER TABLE connecthub.outbox ADD COLUMN trace_context text;

-- NOT VALID skips the proof scan under the ALTER's exclusive lock (every existing row is NULL, which passes);
-- every row inserted or updated from now on is checked.
ALTER TABLE connecthub.outbox
  ADD CONSTRAINT outbox_trace_context_length CHECK (octet_length(trace_context) <= 568) NOT VALID;
