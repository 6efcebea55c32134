-- Tenant stream 002: tenant context functions and row level security.
--
-- The tenant context is the transaction-local setting app.current_tenant (a tenant uuid),
-- set by set_tenant_context(uuid). Every table with tenant_id has RLS enabled AND forced
-- (so the owner is filtered too) and a policy that compares tenant_id with the context in
-- USING and WITH CHECK. An unset context is NULL in a fresh session and '' once the
-- setting was ever set in the session: NULLIF(..., '')::uuid turns both into NULL, and
-- tenant_id = NULL is never true, so an unset context sees no row and writes none.
--
-- The functions are created in the target schema (this stream runs in several schemas), so
-- adx_core.public, every tenant_<slug> schema and every dedicated database have their own
-- copy; all copies set the same setting.

CREATE FUNCTION set_tenant_context(p_tenant_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_tenant_id IS NULL THEN
        RAISE EXCEPTION 'set_tenant_context: tenant id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Use clear_tenant_context() to drop the tenant context.';
    END IF;
    -- is_local = true: the context ends with the transaction, so a pooled connection never
    -- carries one request's tenant into the next.
    PERFORM pg_catalog.set_config('app.current_tenant', p_tenant_id::text, true);
END
$$;

COMMENT ON FUNCTION set_tenant_context(uuid) IS
    'Sets the tenant context (app.current_tenant) for the rest of the current transaction.';

CREATE FUNCTION current_tenant_id() RETURNS uuid
    LANGUAGE sql
    STABLE
    PARALLEL SAFE
AS $$
    SELECT NULLIF(pg_catalog.current_setting('app.current_tenant', true), '')::uuid
$$;

COMMENT ON FUNCTION current_tenant_id() IS
    'The tenant context of the current transaction, or NULL when none is set.';

CREATE FUNCTION clear_tenant_context() RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_catalog.set_config('app.current_tenant', '', true);
END
$$;

COMMENT ON FUNCTION clear_tenant_context() IS
    'Drops the tenant context for the rest of the current transaction.';

-- Tenant roles (adx_tenant_<slug>) are granted EXECUTE by the deploy, per schema.
REVOKE EXECUTE ON FUNCTION set_tenant_context(uuid), current_tenant_id(), clear_tenant_context()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION set_tenant_context(uuid), current_tenant_id(), clear_tenant_context()
    TO adx_app, adx_readonly;

-- The policy expression is written out rather than calling current_tenant_id(): it keeps
-- each policy independent of function resolution and lets the planner use tenant-first
-- indexes (current_setting is stable).
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE files ENABLE ROW LEVEL SECURITY;
ALTER TABLE files FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON files
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sessions
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);
