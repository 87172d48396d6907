-- The login role the backend uses through RDS Proxy (IAM authentication end to end). On Aurora the role gets
-- rds_iam so that IAM tokens log it in; locally, where rds_iam does not exist, it is a plain role.
-- Least privilege: data access in the connecthub schema only, no DDL, nothing in partman or the archive schema.
DO $$
BEGIN
  BEGIN
    CREATE ROLE connecthub_app LOGIN;
  EXCEPTION WHEN duplicate_object THEN
    NULL; -- roles are cluster-wide: another database of the same cluster created it already
  END;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam') THEN
    GRANT rds_iam TO connecthub_app;
  END IF;
END
$$;

GRANT USAGE ON SCHEMA connecthub TO connecthub_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA connecthub TO connecthub_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA connecthub TO connecthub_app;
-- Partitions pg_partman creates later belong to the migration role; these defaults give the app the same access.
ALTER DEFAULT PRIVILEGES IN SCHEMA connecthub GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO connecthub_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA connecthub GRANT USAGE, SELECT ON SEQUENCES TO connecthub_app;
