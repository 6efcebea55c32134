-- Shared stream 001: the tenants registry.
--
-- Targets: adx_core (public) and every dedicated tenant database (public).
-- Runs as adx_owner (the engine does SET ROLE adx_owner) inside one transaction.
-- The shared stream always lives in the public schema: SECURITY DEFINER functions of this
-- stream qualify its objects with public.

-- Privileges for everything this stream creates in the target schema, now and later.
-- The application gets data access only; the read-only role reads. Nobody but adx_owner
-- gets DDL. Column- or table-level exceptions are revoked next to the table they concern.
DO $grants$
DECLARE
    target_schema text := pg_catalog.current_schema();
BEGIN
    IF target_schema IS NULL THEN
        RAISE EXCEPTION 'no target schema: search_path names no existing schema';
    END IF;
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA %I TO adx_app, adx_readonly, adx_monitor', target_schema);
    EXECUTE pg_catalog.format(
        'ALTER DEFAULT PRIVILEGES FOR ROLE adx_owner IN SCHEMA %I '
        'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO adx_app', target_schema);
    EXECUTE pg_catalog.format(
        'ALTER DEFAULT PRIVILEGES FOR ROLE adx_owner IN SCHEMA %I '
        'GRANT SELECT ON TABLES TO adx_readonly', target_schema);
    EXECUTE pg_catalog.format(
        'ALTER DEFAULT PRIVILEGES FOR ROLE adx_owner IN SCHEMA %I '
        'GRANT USAGE ON SEQUENCES TO adx_app', target_schema);
END
$grants$;

CREATE TYPE tenant_isolation_level AS ENUM ('rls', 'schema', 'database');

-- provisioning: registered, storage not ready yet; archived: access revoked, data kept.
CREATE TYPE tenant_status AS ENUM ('provisioning', 'active', 'suspended', 'archived');

-- Named apart from the tenant stream's set_updated_at(): both streams share the public
-- schema of adx_core and of dedicated tenant databases.
CREATE FUNCTION shared_set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END
$$;

-- One row per tenant, whatever its isolation level. The application routes by
-- (isolation_level, db_host, db_port, db_name, db_schema):
--   rls       rows in adx_core.public, filtered by app.current_tenant; db_host NULL
--   schema    schema tenant_<slug> in adx_core; db_host NULL
--   database  database adx_tenant_<slug> on db_host (an inventory host name)
CREATE TABLE tenants (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug            text NOT NULL,
    name            text NOT NULL,
    status          tenant_status NOT NULL DEFAULT 'provisioning',
    isolation_level tenant_isolation_level NOT NULL DEFAULT 'rls',
    db_host         text,
    db_port         integer NOT NULL DEFAULT 5432,
    db_name         text NOT NULL DEFAULT 'adx_core',
    db_schema       text NOT NULL DEFAULT 'public',
    settings        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_slug_key UNIQUE (slug),
    CONSTRAINT tenants_slug_check CHECK (slug ~ '^[a-z][a-z0-9_]{1,39}$'),
    CONSTRAINT tenants_name_check CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    CONSTRAINT tenants_db_port_check CHECK (db_port BETWEEN 1 AND 65535),
    CONSTRAINT tenants_settings_check CHECK (jsonb_typeof(settings) = 'object'),
    CONSTRAINT tenants_db_host_check CHECK ((isolation_level = 'database') = (db_host IS NOT NULL)),
    CONSTRAINT tenants_location_check CHECK (
        CASE isolation_level
            WHEN 'rls' THEN db_schema = 'public'
            WHEN 'schema' THEN db_schema = 'tenant_' || slug
            WHEN 'database' THEN db_name = 'adx_tenant_' || slug AND db_schema = 'public'
        END
    )
);

COMMENT ON TABLE tenants IS
    'Tenants registry: isolation level and location of every tenant; the application routes by it.';
COMMENT ON COLUMN tenants.db_host IS
    'Inventory host name of a dedicated tenant database; NULL for rls and schema tenants (main database).';

CREATE INDEX tenants_status_idx ON tenants (status);
CREATE INDEX tenants_isolation_level_idx ON tenants (isolation_level) WHERE isolation_level <> 'rls';

CREATE TRIGGER tenants_set_updated_at
    BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION shared_set_updated_at();

-- The registry is infrastructure state written by the deploy: the application may read its
-- own row (see the policies in 002) and rename itself, nothing more.
REVOKE INSERT, UPDATE, DELETE ON tenants FROM adx_app;
GRANT UPDATE (name, settings) ON tenants TO adx_app;
