-- 0003: the high-volume tables, RANGE-partitioned by month on created_at and managed by
-- pg_partman: 6 monthly partitions made ahead (and behind on creation), a default partition
-- catches out-of-range rows, and retention detaches old months into connecthub_archive.
CREATE TABLE connecthub.posts (
  id         uuid        NOT NULL DEFAULT gen_random_uuid(),
  author_id  uuid        NOT NULL,
  body       text        NOT NULL DEFAULT '',
  media_keys text[]      NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
-- Feed by author and time.
CREATE INDEX posts_author_created_idx ON connecthub.posts (author_id, created_at DESC);

CREATE TABLE connecthub.messages (
  id              uuid        NOT NULL DEFAULT gen_random_uuid(),
  conversation_id uuid        NOT NULL,
  sender_id       uuid        NOT NULL,
  recipient_id    uuid        NOT NULL,
  body            text        NOT NULL,
  client_key      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
-- Messages by conversation and time.
CREATE INDEX messages_conversation_created_idx ON connecthub.messages (conversation_id, created_at DESC);
-- A recipient's inbox / catch-up after reconnecting.
CREATE INDEX messages_recipient_created_idx ON connecthub.messages (recipient_id, created_at);

CREATE TABLE connecthub.activity (
  id         uuid        NOT NULL DEFAULT gen_random_uuid(),
  user_id    uuid        NOT NULL,
  kind       text        NOT NULL,
  subject_id uuid,
  payload    jsonb       NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
-- A user's activity stream.
CREATE INDEX activity_user_created_idx ON connecthub.activity (user_id, created_at DESC);

-- Retention: posts and messages stay online for 24 months, activity (feed input) for 6.
SELECT connecthub.partman_register_monthly('connecthub.posts', 'created_at', 6, interval '24 months');
SELECT connecthub.partman_register_monthly('connecthub.messages', 'created_at', 6, interval '24 months');
SELECT connecthub.partman_register_monthly('connecthub.activity', 'created_at', 6, interval '6 months');
