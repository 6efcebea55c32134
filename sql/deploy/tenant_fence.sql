-- The write fence of one target schema ({schema}, a literal; composed with psycopg.sql): its
-- adx_tenant_fenced(uuid), and on each tenant-stream table with a tenant_id column two
-- restrictive policies, so that no role but the superuser inserts or updates a fenced tenant's
-- rows there (adx_migrations.tenant_fences). Reads are not fenced (the rows a move leaves are
-- deleted by its switch). Idempotent: run after a target's tenant-stream files of a run and
-- when the ledger fact finds a table without them. The schema's tables are found through their
-- dependency on it (pg_depend's index), not by a scan of every schema's pg_class rows.
DO $adx_fence$
DECLARE
    item record;
BEGIN
    IF to_regprocedure(format('%I.adx_tenant_fenced(uuid)', {schema})) IS NULL THEN
        EXECUTE format(
            $f$CREATE FUNCTION %I.adx_tenant_fenced(p_tenant_id uuid) RETURNS boolean
                LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
                AS %L$f$,
            {schema},
            format('SELECT EXISTS (SELECT 1 FROM adx_migrations.tenant_fences f '
                   'WHERE f.target_schema = %L AND f.tenant = p_tenant_id)', {schema}));
    END IF;
    FOR item IN
        SELECT c.oid::regclass AS relation,
               NOT EXISTS (SELECT 1 FROM pg_policy p
                           WHERE p.polrelid = c.oid AND p.polname = 'adx_fence_insert') AS insert,
               NOT EXISTS (SELECT 1 FROM pg_policy p
                           WHERE p.polrelid = c.oid AND p.polname = 'adx_fence_update') AS update
        FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
        WHERE d.refclassid = 'pg_namespace'::regclass
          AND d.refobjid = to_regnamespace({schema})::oid
          AND d.classid = 'pg_class'::regclass AND d.deptype = 'n'
          AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND c.oid IN (SELECT s.relation FROM "adx_migrations"."stream_tables" s
                        WHERE s.stream = 'tenant')
          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                      AND a.attname = 'tenant_id' AND NOT a.attisdropped)
    LOOP
        IF item.insert THEN
            EXECUTE format(
                'CREATE POLICY adx_fence_insert ON %s AS RESTRICTIVE FOR INSERT '
                'WITH CHECK (NOT %I.adx_tenant_fenced(tenant_id))', item.relation, {schema});
        END IF;
        IF item.update THEN
            EXECUTE format(
                'CREATE POLICY adx_fence_update ON %s AS RESTRICTIVE FOR UPDATE '
                'USING (NOT %2$I.adx_tenant_fenced(tenant_id)) '
                'WITH CHECK (NOT %2$I.adx_tenant_fenced(tenant_id))', item.relation, {schema});
        END IF;
    END LOOP;
END
$adx_fence$;
