-- 0005 granted DML on ALL TABLES in connecthub, which included the migrator's own history table. The backend never
-- reads or writes it; a compromised or buggy application could otherwise forge or erase the record of applied
-- migrations (and make the migrator skip or re-run one). Only the migration role (the table's owner) keeps rights.
REVOKE ALL ON TABLE connecthub.schema_migrations FROM connecthub_app;
