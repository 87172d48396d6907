/**
 * `GET /v1/sync?cursor=`: what changed for a user since a cursor, for clients coming back online.
 *
 * The cursor is opaque to clients (base64url JSON) and holds one position per stream
 * (messages, feed posts, notifications): the (created_at in microseconds, id) of the last row
 * returned. Positions never advance past "now minus SAFETY_WINDOW", so rows committed late (a
 * transaction that started earlier) or not yet on the reader are returned by a later sync; items
 * are idempotent by id, so clients drop the few repeats.
 */
import type { Database } from './db';
import { FEED_WINDOW_DAYS } from './store';

export const SYNC_SAFETY_WINDOW_MS = 5_000;
/** A cursor older than this gets `reset: true` (the client should reload instead of replaying). */
export const SYNC_MAX_AGE_DAYS = 30;
/** Notification kinds (activity rows addressed to the user) that sync returns. */
export const NOTIFICATION_KINDS = ['follow.received', 'match.suggested'];

type Position = [string, string]; // [microseconds since epoch (string, exact), id]
interface CursorState {
  readonly v: 1;
  readonly m: Position;
  readonly p: Position;
  readonly n: Position;
}

const ZERO_ID = '00000000-0000-0000-0000-000000000000';

export class CursorError extends Error {}

export function decodeCursor(raw: string | undefined, nowMs: number): { state: CursorState; reset: boolean } {
  const floor = String((nowMs - SYNC_MAX_AGE_DAYS * 86_400_000) * 1000);
  const start: Position = [floor, ZERO_ID];
  if (raw === undefined || raw === '') return { state: { v: 1, m: start, p: start, n: start }, reset: true };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new CursorError('query parameter "cursor" is not a cursor returned by this API; omit it for a full sync');
  }
  const ok = (x: unknown): x is Position => Array.isArray(x) && x.length === 2 && /^\d{1,17}$/.test(String(x[0])) && /^[0-9a-f-]{36}$/.test(String(x[1]));
  const c = parsed as Partial<CursorState>;
  if (!c || c.v !== 1 || !ok(c.m) || !ok(c.p) || !ok(c.n)) {
    throw new CursorError('query parameter "cursor" is not a cursor returned by this API; omit it for a full sync');
  }
  const tooOld = BigInt(c.m[0]) < BigInt(floor);
  const clamp = (pos: Position): Position => (BigInt(pos[0]) < BigInt(floor) ? start : pos);
  return { state: { v: 1, m: clamp(c.m), p: clamp(c.p), n: clamp(c.n) }, reset: tooOld };
}

export function encodeCursor(state: CursorState): string {
  return Buffer.from(JSON.stringify(state)).toString('base64url');
}

interface Row {
  readonly pos: string;
  readonly id: string;
  readonly item: Record<string, unknown>;
}

export async function sync(db: Database, userId: string, rawCursor: string | undefined, limit: number, nowMs = Date.now()) {
  const { state, reset } = decodeCursor(rawCursor, nowMs);
  const cap = String((nowMs - SYNC_SAFETY_WINDOW_MS) * 1000);
  const since = (alias: string) => `(${alias}.created_at, ${alias}.id) > ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::uuid)`;
  const pos = (alias: string) => `(extract(epoch from ${alias}.created_at) * 1000000)::bigint::text AS pos`;

  const [messages, posts, notifications] = await Promise.all([
    db.read<Row>(
      `SELECT ${pos('m')}, m.id, json_build_object('id', m.id, 'conversationId', m.conversation_id, 'senderId', m.sender_id,
              'recipientId', m.recipient_id, 'body', m.body, 'clientKey', m.client_key, 'createdAt', m.created_at) AS item
         FROM connecthub.messages m
        WHERE (m.recipient_id = $1 OR m.sender_id = $1) AND ${since('m')}
        ORDER BY m.created_at, m.id LIMIT $4`,
      [userId, state.m[0], state.m[1], limit + 1],
    ),
    db.read<Row>(
      `SELECT ${pos('p')}, p.id, json_build_object('id', p.id, 'authorId', p.author_id, 'body', p.body, 'mediaKeys', p.media_keys, 'createdAt', p.created_at) AS item
         FROM connecthub.posts p
        WHERE p.author_id IN (SELECT f.followee_id FROM connecthub.follows f WHERE f.follower_id = $1 UNION ALL SELECT $1::uuid)
          AND p.created_at > now() - make_interval(days => ${FEED_WINDOW_DAYS}) AND ${since('p')}
        ORDER BY p.created_at, p.id LIMIT $4`,
      [userId, state.p[0], state.p[1], limit + 1],
    ),
    db.read<Row>(
      `SELECT ${pos('a')}, a.id, json_build_object('id', a.id, 'kind', a.kind, 'subjectId', a.subject_id, 'payload', a.payload, 'createdAt', a.created_at) AS item
         FROM connecthub.activity a
        WHERE a.user_id = $1 AND a.kind = ANY($5::text[]) AND ${since('a')}
        ORDER BY a.created_at, a.id LIMIT $4`,
      [userId, state.n[0], state.n[1], limit + 1, NOTIFICATION_KINDS],
    ),
  ]);

  let hasMore = false;
  const advance = (rows: Row[], from: Position): { items: Record<string, unknown>[]; to: Position } => {
    if (rows.length > limit) {
      hasMore = true;
      rows = rows.slice(0, limit);
    }
    let to = from;
    for (const r of rows) {
      // Rows inside the safety window are returned now and again next time (clients dedupe by id).
      if (BigInt(r.pos) <= BigInt(cap)) to = [r.pos, r.id];
      else if (BigInt(to[0]) < BigInt(cap)) to = [cap, ZERO_ID];
    }
    return { items: rows.map((r) => r.item), to };
  };
  const m = advance(messages, state.m);
  const p = advance(posts, state.p);
  const n = advance(notifications, state.n);
  return {
    messages: m.items,
    posts: p.items,
    notifications: n.items,
    cursor: encodeCursor({ v: 1, m: m.to, p: p.to, n: n.to }),
    hasMore,
    reset,
  };
}
