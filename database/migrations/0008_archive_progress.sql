-- 0008: progress of sliced partition archival (database/partition-maintenance.ts).
-- A detached partition is exported in slices of physical blocks (ctid ranges), each its own verified object,
-- across as many maintenance runs as it takes; these tables record which slices are stored and verified so a
-- later run resumes after the last one. They live in their own schema, owned by the role that runs migrations
-- and maintenance: the application role (0005) has no USAGE on it, so it can neither read nor forge progress
-- (forged progress could make maintenance drop a partition whose rows were never archived).
CREATE SCHEMA IF NOT EXISTS connecthub_maintenance;
REVOKE ALL ON SCHEMA connecthub_maintenance FROM PUBLIC;

-- One row per detached partition being archived: how it was cut into slices.
CREATE TABLE connecthub_maintenance.archive_plan (
  table_name       text PRIMARY KEY,          -- relation name in connecthub_archive
  relfilenode      oid NOT NULL,              -- physical file when planned; a rewrite (VACUUM FULL) moves rows between blocks
  total_blocks     bigint NOT NULL CHECK (total_blocks >= 0),
  blocks_per_slice bigint NOT NULL CHECK (blocks_per_slice >= 1),
  slice_count      integer NOT NULL CHECK (slice_count >= 1),
  planned_at       timestamptz NOT NULL DEFAULT now()
);

-- One row per slice that was stored AND verified by reading it back. Written only after verification.
CREATE TABLE connecthub_maintenance.archive_slice (
  table_name        text NOT NULL REFERENCES connecthub_maintenance.archive_plan (table_name) ON DELETE CASCADE,
  slice             integer NOT NULL CHECK (slice >= 1),
  first_block       bigint NOT NULL,
  end_block         bigint NOT NULL,          -- exclusive
  object_key        text NOT NULL,
  rows              bigint NOT NULL CHECK (rows >= 0),
  sha256            text NOT NULL,            -- of the uncompressed JSON lines
  compressed_bytes  bigint NOT NULL,
  compressed_sha256 text NOT NULL,            -- of the stored object
  min_created_at    timestamptz,
  max_created_at    timestamptz,
  scan_ms           integer NOT NULL,         -- time the slice's count took (one read of its blocks), for operators
  verified_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (table_name, slice)
);

REVOKE ALL ON ALL TABLES IN SCHEMA connecthub_maintenance FROM PUBLIC;

-- Slices are block ranges read at different times, so the partition must not change while it is being archived.
-- Maintenance attaches this to the detached table when it plans the slices; any write, even the owner's, fails.
CREATE OR REPLACE FUNCTION connecthub_maintenance.refuse_writes_while_archiving() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION '%.% is being archived in slices; writes would make the archive differ from the table', TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'object_not_in_prerequisite_state';
END
$fn$;
REVOKE ALL ON FUNCTION connecthub_maintenance.refuse_writes_while_archiving() FROM PUBLIC;
