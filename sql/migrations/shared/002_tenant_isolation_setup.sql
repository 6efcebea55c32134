-- Shared stream 002: registry isolation, tenant routing and tenant schema helpers.
--
-- The tenant context functions (set_tenant_context, current_tenant_id,
-- clear_tenant_context) belong to the tenant stream (tenant/002), which creates them in
-- every target schema, adx_core.public included. Shared tables with a tenant_id column
-- carry the same policy as tenant tables, written out so this stream depends on nothing
-- of the tenant stream.

-- The registry: a tenant sees its own row; the control plane (adx_owner, which the deploy
-- and the SECURITY DEFINER routing functions below run as) sees all rows. adx_owner owns
-- the table and could lift RLS anyway; the explicit policy keeps FORCE on for everyone else.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_self ON tenants
    USING (id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);
CREATE POLICY control_plane ON tenants
    TO adx_owner
    USING (true)
    WITH CHECK (true);

-- Routing: before it has a tenant context the application must learn where a tenant lives.
-- This returns the location of one tenant by slug (never a list, never archived tenants).
CREATE FUNCTION tenant_route(p_slug text)
    RETURNS TABLE (
        tenant_id       uuid,
        slug            text,
        status          public.tenant_status,
        isolation_level public.tenant_isolation_level,
        db_host         text,
        db_port         integer,
        db_name         text,
        db_schema       text
    )
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.id, t.slug, t.status, t.isolation_level, t.db_host, t.db_port, t.db_name, t.db_schema
      FROM public.tenants AS t
     WHERE t.slug = p_slug
       AND t.status <> 'archived'::public.tenant_status
$$;

COMMENT ON FUNCTION tenant_route(text) IS
    'Location of one non-archived tenant by slug, for routing before a tenant context exists.';

REVOKE EXECUTE ON FUNCTION tenant_route(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_route(text) TO adx_app, adx_readonly;

-- Names derived from a slug, in one place (DESIGN.md contract). Each raises on an invalid
-- slug rather than building a name from it.
CREATE FUNCTION tenant_schema_name(p_slug text) RETURNS text
    LANGUAGE plpgsql
    IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_slug IS NULL OR p_slug !~ '^[a-z][a-z0-9_]{1,39}$' THEN
        RAISE EXCEPTION 'invalid tenant slug: %', pg_catalog.quote_nullable(p_slug)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'lowercase letters, digits, _; starts with a letter; 2-40 chars';
    END IF;
    RETURN 'tenant_' || p_slug;
END
$$;

CREATE FUNCTION tenant_database_name(p_slug text) RETURNS text
    LANGUAGE plpgsql
    IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_slug IS NULL OR p_slug !~ '^[a-z][a-z0-9_]{1,39}$' THEN
        RAISE EXCEPTION 'invalid tenant slug: %', pg_catalog.quote_nullable(p_slug)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'lowercase letters, digits, _; starts with a letter; 2-40 chars';
    END IF;
    RETURN 'adx_tenant_' || p_slug;
END
$$;

-- A schema or database tenant's own role has the same name as a database tenant's database.
CREATE FUNCTION tenant_role_name(p_slug text) RETURNS text
    LANGUAGE sql
    IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT public.tenant_database_name(p_slug)
$$;

-- Every table in this database that holds tenant data (has a tenant_id column), with its
-- RLS state. A row with ok = false is an isolation hole.
CREATE FUNCTION tenant_isolation_audit()
    RETURNS TABLE (
        schema_name  name,
        table_name   name,
        rls_enabled  boolean,
        rls_forced   boolean,
        policy_count integer,
        ok           boolean
    )
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT n.nspname,
           c.relname,
           c.relrowsecurity,
           c.relforcerowsecurity,
           p.policy_count,
           c.relrowsecurity AND c.relforcerowsecurity AND p.policy_count > 0
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
      CROSS JOIN LATERAL (
            SELECT count(*)::integer AS policy_count
              FROM pg_catalog.pg_policy AS pol
             WHERE pol.polrelid = c.oid
      ) AS p
     WHERE c.relkind IN ('r', 'p')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname !~ '^pg_toast'
       AND EXISTS (
            SELECT 1
              FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = c.oid
               AND a.attname = 'tenant_id'
               AND a.attnum > 0
               AND NOT a.attisdropped
       )
     ORDER BY n.nspname, c.relname
$$;

COMMENT ON FUNCTION tenant_isolation_audit() IS
    'Tables with a tenant_id column and their RLS state; ok = enabled AND forced AND >= 1 policy.';

-- Registry versus catalog for schema tenants of this database: registered schemas that do
-- not exist, and tenant_* schemas that no registry row claims. Empty when consistent.
CREATE FUNCTION tenant_schema_drift()
    RETURNS TABLE (problem text, slug text, schema_name text)
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'missing_schema', t.slug, t.db_schema
      FROM public.tenants AS t
     WHERE t.isolation_level = 'schema'::public.tenant_isolation_level
       -- a tenant still provisioning has no schema yet by definition
       AND t.status <> 'provisioning'::public.tenant_status
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace AS n WHERE n.nspname = t.db_schema)
    UNION ALL
    SELECT 'orphan_schema', NULL, n.nspname::text
      FROM pg_catalog.pg_namespace AS n
     WHERE n.nspname LIKE 'tenant\_%'
       AND NOT EXISTS (
            SELECT 1
              FROM public.tenants AS t
             WHERE t.isolation_level = 'schema'::public.tenant_isolation_level
               AND t.db_schema = n.nspname
       )
    ORDER BY 1, 3
$$;

COMMENT ON FUNCTION tenant_schema_drift() IS
    'Schema tenants whose schema is missing, and tenant_* schemas no registry row claims.';

REVOKE EXECUTE ON FUNCTION
    tenant_schema_name(text), tenant_database_name(text), tenant_role_name(text),
    tenant_isolation_audit(), tenant_schema_drift()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_schema_name(text), tenant_database_name(text), tenant_role_name(text)
    TO adx_app, adx_readonly, adx_monitor;
GRANT EXECUTE ON FUNCTION tenant_isolation_audit(), tenant_schema_drift() TO adx_monitor;
