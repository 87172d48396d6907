/**
 * Event shapes carried by the outbox, Kafka and the realtime channels, and small id helpers.
 */
import { createHash, randomUUID } from 'node:crypto';

export type EventType = 'post.created' | 'message.created' | 'follow.created' | 'follow.deleted' | 'match.suggested';

/** What the outbox stores and Kafka carries (the outbox row's `payload`). */
export interface DomainEvent {
  /** Unique per event; consumers deduplicate on it. */
  readonly eventId: string;
  readonly type: EventType;
  /** ISO timestamp of the committing transaction. */
  readonly occurredAt: string;
  /** The user who acted. */
  readonly actorId: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** What a realtime pod writes to a user's sockets. */
export interface RealtimeEvent {
  readonly type: 'message' | 'match' | 'follow' | 'feed.post';
  /** Deduplication id (the message id, post id or event id). */
  readonly id: string;
  /** Epoch milliseconds when the event was committed (delivery latency is measured from it). */
  readonly at: number;
  readonly data: Readonly<Record<string, unknown>>;
}

export function newEvent(type: EventType, actorId: string, occurredAt: Date, data: Record<string, unknown>): DomainEvent {
  return { eventId: randomUUID(), type, occurredAt: occurredAt.toISOString(), actorId, data };
}

/** A name-based UUID (version 5 layout over SHA-1), stable for the same inputs. */
export function stableUuid(...parts: string[]): string {
  const h = createHash('sha1').update(parts.join('\u0000')).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The conversation between two users has one id whichever of them sends. */
export function conversationId(a: string, b: string): string {
  return stableUuid('conversation', ...[a, b].sort());
}

/** Redis channel a user's realtime events are published on. */
export function userChannel(prefix: string, userId: string): string {
  return `${prefix}rt:u:${userId}`;
}
