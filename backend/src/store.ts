/**
 * SQL for the api and worker roles. Reads go to the reader pool, writes (and the outbox rows that
 * describe them) to the writer in one transaction.
 */
import type { PoolClient } from 'pg';
import type { Database } from './db';
import { conversationId, DomainEvent, newEvent } from './events';
import { TOPICS } from './contract';

export interface Post {
  readonly id: string;
  readonly authorId: string;
  readonly body: string;
  readonly mediaKeys: string[];
  readonly createdAt: string;
}

export interface Message {
  readonly id: string;
  readonly conversationId: string;
  readonly senderId: string;
  readonly recipientId: string;
  readonly body: string;
  readonly clientKey: string | null;
  readonly createdAt: string;
}

export interface Profile {
  readonly id: string;
  readonly homeRegion: string;
  readonly handle: string;
  readonly displayName: string | null;
  readonly bio: string | null;
  readonly interests: string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Posts older than this never appear in the feed (keeps the query on recent monthly partitions). */
export const FEED_WINDOW_DAYS = 30;

const POST_COLUMNS = `p.id, p.author_id AS "authorId", p.body, p.media_keys AS "mediaKeys", p.created_at AS "createdAt"`;
const MESSAGE_COLUMNS = `m.id, m.conversation_id AS "conversationId", m.sender_id AS "senderId", m.recipient_id AS "recipientId", m.body, m.client_key AS "clientKey", m.created_at AS "createdAt"`;
const PROFILE_COLUMNS = `u.id, u.home_region AS "homeRegion", u.handle, u.display_name AS "displayName", u.bio, u.interests, u.created_at AS "createdAt", u.updated_at AS "updatedAt"`;

/** `traceContext`: the stored form of the writer's sampled span context (`trace-context.ts`), or null. */
export async function insertOutbox(client: PoolClient, topic: string, key: string, event: DomainEvent, traceContext: string | null): Promise<void> {
  await client.query('INSERT INTO connecthub.outbox (topic, message_key, payload, trace_context) VALUES ($1, $2, $3, $4)', [topic, key, JSON.stringify(event), traceContext]);
}

export class Store {
  /**
   * @param outboxTraceContext the trace context to store with each outbox row, read in the writing request's
   *   context (`Tracing.outboxTraceContext`); none by default.
   */
  constructor(
    private readonly db: Database,
    private readonly outboxTraceContext: () => string | null = () => null,
  ) {}

  /** The newest posts by the user and everyone they follow. */
  feed(userId: string, limit: number, before?: string): Promise<Post[]> {
    return this.db.read<Post>(
      `SELECT ${POST_COLUMNS} FROM connecthub.posts p
        WHERE p.author_id IN (SELECT f.followee_id FROM connecthub.follows f WHERE f.follower_id = $1 UNION ALL SELECT $1::uuid)
          AND p.created_at > now() - make_interval(days => ${FEED_WINDOW_DAYS})
          AND ($3::timestamptz IS NULL OR p.created_at < $3::timestamptz)
        ORDER BY p.created_at DESC, p.id DESC LIMIT $2`,
      [userId, limit, before ?? null],
    );
  }

  async profile(userId: string): Promise<Profile | null> {
    const rows = await this.db.read<Profile>(`SELECT ${PROFILE_COLUMNS} FROM connecthub.users u WHERE u.id = $1 LIMIT 1`, [userId]);
    return rows[0] ?? null;
  }

  /** Best match suggestions with the candidates' public profile fields. */
  matches(userId: string, limit: number): Promise<Array<{ candidateId: string; score: number; handle: string | null; displayName: string | null; interests: string[] | null }>> {
    return this.db.read(
      `SELECT s.candidate_id AS "candidateId", s.score, u.handle, u.display_name AS "displayName", u.interests
         FROM connecthub.match_suggestions s
         LEFT JOIN connecthub.users u ON u.id = s.candidate_id
        WHERE s.user_id = $1
        ORDER BY s.score DESC, s.candidate_id LIMIT $2`,
      [userId, limit],
    );
  }

  /** Followers of `userId` after `afterId` (keyset pages), for cache invalidation fan-out. */
  async followers(userId: string, afterId: string | null, limit: number): Promise<string[]> {
    const rows = await this.db.read<{ id: string }>(
      `SELECT follower_id AS id FROM connecthub.follows WHERE followee_id = $1 AND ($2::uuid IS NULL OR follower_id > $2::uuid) ORDER BY follower_id LIMIT $3`,
      [userId, afterId, limit],
    );
    return rows.map((r) => r.id);
  }

  async createPost(authorId: string, body: string, mediaKeys: string[]): Promise<Post> {
    return this.db.transaction(async (c) => {
      const { rows } = await c.query<Post>(
        `INSERT INTO connecthub.posts AS p (author_id, body, media_keys) VALUES ($1, $2, $3) RETURNING ${POST_COLUMNS}`,
        [authorId, body, mediaKeys],
      );
      const post = rows[0];
      await insertOutbox(c, TOPICS.feedUpdates, authorId, newEvent('post.created', authorId, new Date(post.createdAt), { postId: post.id, authorId }), this.outboxTraceContext());
      return post;
    });
  }

  /** Follows (or unfollows) a user; returns whether anything changed. */
  async setFollow(followerId: string, followeeId: string, follow: boolean): Promise<boolean> {
    return this.db.transaction(async (c) => {
      const res = follow
        ? await c.query('INSERT INTO connecthub.follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING created_at', [followerId, followeeId])
        : await c.query('DELETE FROM connecthub.follows WHERE follower_id = $1 AND followee_id = $2 RETURNING now() AS created_at', [followerId, followeeId]);
      if (res.rowCount === 0) return false;
      const at = new Date(res.rows[0].created_at);
      await insertOutbox(c, TOPICS.userActivity, followerId, newEvent(follow ? 'follow.created' : 'follow.deleted', followerId, at, { followerId, followeeId }), this.outboxTraceContext());
      return true;
    });
  }

  /**
   * Sends a message exactly once per (sender, client key): the idempotency row, the message and its
   * outbox event commit together. A retry returns the original message (`replayed: true`); a retry
   * whose content differs is a conflict.
   */
  async sendMessage(senderId: string, recipientId: string, body: string, clientKey: string): Promise<{ message: Message; replayed: boolean; conflict: boolean }> {
    return this.db.transaction(async (c) => {
      const claim = await c.query<{ message_id: string }>(
        `INSERT INTO connecthub.message_idempotency (sender_id, client_key, message_id) VALUES ($1, $2, gen_random_uuid())
         ON CONFLICT (sender_id, client_key) DO NOTHING RETURNING message_id`,
        [senderId, clientKey],
      );
      if (claim.rowCount === 0) {
        // Waited for (or found) the first attempt's committed guard: return what it created.
        const { rows } = await c.query<Message>(
          `SELECT ${MESSAGE_COLUMNS} FROM connecthub.message_idempotency g
             JOIN connecthub.messages m ON m.id = g.message_id AND m.sender_id = g.sender_id
            WHERE g.sender_id = $1 AND g.client_key = $2`,
          [senderId, clientKey],
        );
        const message = rows[0];
        if (!message) throw new Error(`idempotency guard for client key ${clientKey} has no message`);
        const conflict = message.recipientId !== recipientId || message.body !== body;
        return { message, replayed: true, conflict };
      }
      const { rows } = await c.query<Message>(
        `INSERT INTO connecthub.messages AS m (id, conversation_id, sender_id, recipient_id, body, client_key)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${MESSAGE_COLUMNS}`,
        [claim.rows[0].message_id, conversationId(senderId, recipientId), senderId, recipientId, body, clientKey],
      );
      const message = rows[0];
      await insertOutbox(c, TOPICS.messages, message.conversationId, newEvent('message.created', senderId, new Date(message.createdAt), { message }), this.outboxTraceContext());
      return { message, replayed: false, conflict: false };
    });
  }

  /** A conversation's messages, newest first. */
  conversation(userId: string, peerId: string, limit: number, before?: string): Promise<Message[]> {
    return this.db.read<Message>(
      `SELECT ${MESSAGE_COLUMNS} FROM connecthub.messages m
        WHERE m.conversation_id = $1 AND ($3::timestamptz IS NULL OR m.created_at < $3::timestamptz)
        ORDER BY m.created_at DESC, m.id DESC LIMIT $2`,
      [conversationId(userId, peerId), limit, before ?? null],
    );
  }

  /** Users with the most activity in the last hour (the cache warmer's targets). */
  async mostActiveUsers(limit: number): Promise<string[]> {
    const rows = await this.db.read<{ user_id: string }>(
      `SELECT user_id FROM connecthub.activity WHERE created_at > now() - interval '1 hour'
        GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.user_id);
  }
}
