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
-- Which stream created each table, view and sequence of this database, recorded from the
-- catalog after each file is applied (a regclass follows renames): a tenant's data is what the
-- tenant stream created, whatever the migration's text looks like.
CREATE TABLE IF NOT EXISTS "adx_migrations"."stream_tables" (
    relation regclass PRIMARY KEY,
    stream text NOT NULL CHECK (stream IN ('shared', 'tenant', 'unrecorded')),
    version integer NOT NULL
);
-- A database migrated before streams were recorded: what it holds is marked 'unrecorded' once,
-- so that no later file claims it (its tenant role's grants are then left as they are).
INSERT INTO "adx_migrations"."stream_tables" (relation, stream, version)
SELECT c.oid::regclass, 'unrecorded', 0
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'adx_migrations', 'pg_toast')
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  AND NOT EXISTS (SELECT 1 FROM "adx_migrations"."stream_tables")
  AND EXISTS (SELECT 1 FROM "adx_migrations"."ledger" WHERE stream <> 'seed')
ON CONFLICT (relation) DO NOTHING;
-- The move tables below name the tenant `tenant`, not `tenant_id`: they are the deploy's
-- bookkeeping, not tenant data (tenant_isolation_audit() lists every tenant_id table).
-- Where a tenant may not write (DESIGN.md decision 10): a location a move took it away from,
-- and the new one until the move's switch. Every tenant-stream table with a tenant_id column
-- has two restrictive policies (sql/deploy/tenant_fence.sql) that read it through its schema's
-- adx_tenant_fenced(): for every role but the superuser, on every code path.
CREATE TABLE IF NOT EXISTS "adx_migrations"."tenant_fences" (
    target_schema name NOT NULL,
    tenant uuid NOT NULL,
    reason text NOT NULL,
    fenced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_schema, tenant)
);
-- false while the rows a move left at this (old) location are still to be deleted.
ALTER TABLE "adx_migrations"."tenant_fences"
    ADD COLUMN IF NOT EXISTS cleared boolean NOT NULL DEFAULT false;
-- On the primary: the tenants whose move switched to a remote location whose fence is still to
-- be lifted there (set by the switch, cleared by the move runner once lifted; a later deploy
-- lifts what a failed one left).
CREATE TABLE IF NOT EXISTS "adx_migrations"."pending_unfences" (
    tenant uuid PRIMARY KEY,
    target text NOT NULL,
    since timestamptz NOT NULL DEFAULT now()
);
-- On the primary: the tenants a move is taking out of a schema (their writes there are
-- captured), and the keys of the rows they wrote since (sql/deploy/tenant_capture.sql): the
-- move's catch-up passes copy those rows again, then remove their keys.
CREATE TABLE IF NOT EXISTS "adx_migrations"."move_captures" (
    target_schema name NOT NULL,
    tenant uuid NOT NULL,
    since timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_schema, tenant)
);
CREATE TABLE IF NOT EXISTS "adx_migrations"."move_changes" (
    id bigserial PRIMARY KEY,
    target_schema name NOT NULL,
    tenant uuid NOT NULL,
    relation regclass NOT NULL,
    key jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS move_changes_tenant
    ON "adx_migrations"."move_changes" (target_schema, tenant, relation);
-- On the primary: every tenant move that switched, with how long the tenant's writes were
-- frozen for its switch (from its fence at the old location to the switch's commit).
CREATE TABLE IF NOT EXISTS "adx_migrations"."move_history" (
    id bigserial PRIMARY KEY,
    tenant uuid NOT NULL,
    slug text NOT NULL,
    from_location text NOT NULL,
    to_location text NOT NULL,
    switched_at timestamptz NOT NULL DEFAULT now(),
    frozen_ms integer NOT NULL
);
