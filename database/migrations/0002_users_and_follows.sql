-- 0002: users, LIST-partitioned by home region, and the follow graph.
CREATE TABLE connecthub.users (
  id           uuid        NOT NULL DEFAULT gen_random_uuid(),
  home_region  text        NOT NULL,
  handle       text        NOT NULL,
  display_name text,
  bio          text,
  interests    text[]      NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (home_region, id)
) PARTITION BY LIST (home_region);

CREATE TABLE connecthub.users_us PARTITION OF connecthub.users FOR VALUES IN ('us');
CREATE TABLE connecthub.users_eu PARTITION OF connecthub.users FOR VALUES IN ('eu');
CREATE TABLE connecthub.users_ap PARTITION OF connecthub.users FOR VALUES IN ('ap');
CREATE TABLE connecthub.users_default PARTITION OF connecthub.users DEFAULT;

-- Profile by id when the region is not known (one index probe per region partition).
CREATE INDEX users_id_idx ON connecthub.users (id);

CREATE TABLE connecthub.follows (
  follower_id uuid        NOT NULL,
  followee_id uuid        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (follower_id, followee_id),
  CONSTRAINT follows_not_self CHECK (follower_id <> followee_id)
);
-- Followers of a user (fan-out on a new post).
CREATE INDEX follows_followee_idx ON connecthub.follows (followee_id);
