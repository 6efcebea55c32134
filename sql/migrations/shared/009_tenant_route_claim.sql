-- Shared stream 009: a tenant transaction holds its route while it runs.
--
-- Targets: adx_core (public) and every dedicated tenant database (public).
-- A tenant move (adxdb/moves.py) switches the registry row, then deletes the tenant's rows at
-- the old location, in one transaction. An application that looked the route up before the
-- switch and writes after it would write to the old location, behind the move. So the
-- application claims the route inside its tenant transaction (adxdb.pool does): the claim is
-- a share lock on the registry row, which the switch's update waits for; a transaction that
-- claims after the switch committed reads the new route, sees it differs from the one it
-- looked up, and looks again.

CREATE FUNCTION claim_tenant_route(p_tenant uuid)
    RETURNS TABLE (
        isolation_level public.tenant_isolation_level,
        db_host         text,
        db_port         integer,
        db_name         text,
        db_schema       text
    )
    LANGUAGE sql
    VOLATILE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.isolation_level, t.db_host, t.db_port, t.db_name, t.db_schema
      FROM public.tenants AS t
     WHERE t.id = p_tenant
       AND t.status <> 'archived'::public.tenant_status
       FOR SHARE
$$;

COMMENT ON FUNCTION claim_tenant_route(uuid) IS
    'The route of one tenant, share-locked until the end of the calling transaction.';

REVOKE EXECUTE ON FUNCTION claim_tenant_route(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_tenant_route(uuid) TO adx_app;
