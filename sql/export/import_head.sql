-- tenant import (the head of the psql script adxdb.plan.tenant_export renders): one
-- transaction; foreign keys and triggers wait (session_replication_role: rows arrive in file
-- order, self-references included) while every table is checked against the manifest.
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
BEGIN;
SET LOCAL session_replication_role = replica;
SET LOCAL TimeZone = 'UTC';
SET LOCAL extra_float_digits = 1;
SET LOCAL IntervalStyle = 'postgres';
SET LOCAL bytea_output = 'hex';
SET LOCAL DateStyle = 'ISO, YMD';
CREATE FUNCTION pg_temp.adx_import_empty(table_name text, held bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF held > 0 THEN
        RAISE EXCEPTION 'tenant-import: % holds % row(s) of the tenant: an import goes into an empty location; nothing was imported', table_name, held;
    END IF;
END
$$;
CREATE FUNCTION pg_temp.adx_import_check(
    table_name text, held bigint, digest text, want_rows bigint, want_digest text
) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF held <> want_rows OR digest <> want_digest THEN
        RAISE EXCEPTION 'tenant-import: % holds % row(s), checksum %, after the import; the manifest says % row(s), %; nothing was imported', table_name, held, digest, want_rows, want_digest;
    END IF;
END
$$;
