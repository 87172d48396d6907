-- 0004: message idempotency guard, match suggestions, transactional outbox.

-- Global (unpartitioned) uniqueness guard for offline retries: one message per (sender, client key).
CREATE TABLE connecthub.message_idempotency (
  sender_id  uuid        NOT NULL,
  client_key text        NOT NULL,
  message_id uuid        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sender_id, client_key)
);
-- Lets the maintenance job expire old guards without a sequential scan.
CREATE INDEX message_idempotency_created_idx ON connecthub.message_idempotency (created_at);

CREATE TABLE connecthub.match_suggestions (
  user_id      uuid        NOT NULL,
  candidate_id uuid        NOT NULL,
  score        real        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, candidate_id)
);
-- Best suggestions first.
CREATE INDEX match_suggestions_user_score_idx ON connecthub.match_suggestions (user_id, score DESC);

-- Events written in the same transaction as the change, published to Kafka afterwards.
CREATE TABLE connecthub.outbox (
  id           bigserial PRIMARY KEY,
  topic        text        NOT NULL,
  message_key  text,
  payload      jsonb       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
-- The relay polls unpublished events in id order.
CREATE INDEX outbox_unpublished_idx ON connecthub.outbox (id) WHERE published_at IS NULL;
