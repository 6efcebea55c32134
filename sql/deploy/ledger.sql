-- The migration ledger of one database (DESIGN.md decision 4): one row per applied file and
-- target schema (and per loaded seed), created by the first migration run.
CREATE SCHEMA IF NOT EXISTS "adx_migrations";
CREATE TABLE IF NOT EXISTS "adx_migrations"."ledger" (
    stream text NOT NULL CHECK (stream IN ('shared', 'tenant', 'seed')),
    target_schema text NOT NULL,
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    duration_ms integer NOT NULL,
    applied_by text NOT NULL,
    PRIMARY KEY (stream, target_schema, version)
);
REVOKE ALL ON SCHEMA "adx_migrations" FROM PUBLIC;
