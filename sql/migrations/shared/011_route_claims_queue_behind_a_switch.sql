-- Shared stream 011: route claims queue behind a waiting switch.
--
-- Targets: adx_core (public) and every dedicated tenant database (public).
-- claim_tenant_route() (009) share-locks the tenant's registry row. PostgreSQL grants a row's
-- share lock to every new claimer while an updater waits for the share locks already held, so
-- the switch of a busy tenant's move could wait for ever (until lock_timeout, every run). A
-- claim now first takes the tenant's route lock shared: an advisory lock of class 1094996564
-- ("ADRT", adxdb.contract.ROUTE_LOCK_CLASS) keyed hashtext(tenant id), which a switch takes
-- exclusively before it updates the row. Lock requests of that kind wait in line, so a claim
-- made after a switch began to wait waits behind it, then reads the new route. Both locks end
-- with the claiming transaction.

CREATE OR REPLACE FUNCTION claim_tenant_route(p_tenant uuid)
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
    SELECT pg_advisory_xact_lock_shared(1094996564, hashtext(p_tenant::text));
    SELECT t.isolation_level, t.db_host, t.db_port, t.db_name, t.db_schema
      FROM public.tenants AS t
     WHERE t.id = p_tenant
       AND t.status <> 'archived'::public.tenant_status
       FOR SHARE
$$;

COMMENT ON FUNCTION claim_tenant_route(uuid) IS
    'The route of one tenant, claimed until the end of the calling transaction (the tenant''s '
    'route lock shared, then its registry row share-locked); a waiting switch goes first.';
