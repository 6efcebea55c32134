-- psql: which database this is, as `SYSTEM_IDENTIFIER:DATABASE_OID` (one line): two addresses
-- that answer the same are the same database of the same cluster.
SELECT (SELECT system_identifier FROM pg_control_system()) || ':'
       || (SELECT oid FROM pg_database WHERE datname = current_database());
