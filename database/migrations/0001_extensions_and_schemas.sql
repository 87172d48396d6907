-- 0001: schemas and extensions.
--   connecthub          application tables (the schema contract)
--   connecthub_archive  partitions detached by pg_partman retention wait here until the
--                       maintenance job has exported, verified and dropped them
--   partman             pg_partman (4.7 locally on Debian, 5.x on Aurora PostgreSQL 16/17)
CREATE SCHEMA IF NOT EXISTS connecthub;
CREATE SCHEMA IF NOT EXISTS connecthub_archive;
CREATE SCHEMA IF NOT EXISTS partman;
CREATE EXTENSION IF NOT EXISTS pg_partman WITH SCHEMA partman;
-- Query statistics for the 50 ms query-time target (the cluster preloads the library on Aurora;
-- creating the extension works without it, its view is then simply empty).
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;

-- Registers a RANGE-partitioned table with pg_partman as monthly partitions, on either major
-- version: pg_partman 4.x wants p_type 'native', 5.x removed that type and wants 'range'.
-- Retention detaches (never drops) partitions older than p_retention and moves them to
-- connecthub_archive, where the maintenance job archives them to cold storage before dropping.
CREATE OR REPLACE FUNCTION connecthub.partman_register_monthly(
  p_parent_table text,
  p_control text,
  p_premake int,
  p_retention interval
) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  v_version text;
BEGIN
  SELECT extversion INTO v_version FROM pg_extension WHERE extname = 'pg_partman';
  IF v_version IS NULL THEN
    RAISE EXCEPTION 'pg_partman is not installed in this database';
  END IF;
  IF split_part(v_version, '.', 1)::int >= 5 THEN
    PERFORM partman.create_parent(
      p_parent_table := p_parent_table,
      p_control := p_control,
      p_interval := '1 month',
      p_type := 'range',
      p_premake := p_premake);
  ELSE
    PERFORM partman.create_parent(
      p_parent_table := p_parent_table,
      p_control := p_control,
      p_interval := '1 month',
      p_type := 'native',
      p_premake := p_premake);
  END IF;
  UPDATE partman.part_config
     SET retention = p_retention::text,
         retention_keep_table = true,
         retention_keep_index = true,
         retention_schema = 'connecthub_archive',
         infinite_time_partitions = true
   WHERE parent_table = p_parent_table;
END
$fn$;
