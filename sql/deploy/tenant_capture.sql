-- The change capture of one target schema ({schema}, a literal; composed with psycopg.sql): its
-- adx_capture_change() and, on each tenant-stream table with a tenant_id column, a row trigger
-- that records the key of every row a moving tenant writes there (adx_migrations.move_changes)
-- while a move of that tenant out of this schema runs (adx_migrations.move_captures). The
-- move's catch-up passes copy those rows again, so a busy tenant moves while it writes; any
-- other tenant's write costs one index probe. The trigger's arguments are the table's primary
-- key columns (none: the whole table of the tenant is copied again). Idempotent: run after a
-- target's tenant-stream files of a run and when the ledger fact finds a table without it. The
-- schema's tables are found through their dependency on it (pg_depend's index).
DO $adx_capture$
DECLARE
    item record;
BEGIN
    IF to_regprocedure(format('%I.adx_capture_change()', {schema})) IS NULL THEN
        EXECUTE format($f$
            CREATE FUNCTION %I.adx_capture_change() RETURNS trigger
                LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
            AS $body$
            DECLARE
                old_key jsonb;
                new_key jsonb;
            BEGIN
                IF TG_OP <> 'INSERT' AND EXISTS (
                    SELECT 1 FROM adx_migrations.move_captures c
                    WHERE c.target_schema = TG_TABLE_SCHEMA AND c.tenant = OLD.tenant_id
                ) THEN
                    SELECT coalesce(jsonb_object_agg(k, to_jsonb(OLD) -> k), '{{}}')
                    INTO old_key FROM unnest(TG_ARGV) k;
                    INSERT INTO adx_migrations.move_changes (target_schema, tenant, relation, key)
                    VALUES (TG_TABLE_SCHEMA, OLD.tenant_id,
                            coalesce(pg_partition_root(TG_RELID), TG_RELID), old_key);
                END IF;
                IF TG_OP <> 'DELETE' AND EXISTS (
                    SELECT 1 FROM adx_migrations.move_captures c
                    WHERE c.target_schema = TG_TABLE_SCHEMA AND c.tenant = NEW.tenant_id
                ) THEN
                    SELECT coalesce(jsonb_object_agg(k, to_jsonb(NEW) -> k), '{{}}')
                    INTO new_key FROM unnest(TG_ARGV) k;
                    IF new_key IS DISTINCT FROM old_key THEN
                        INSERT INTO adx_migrations.move_changes
                            (target_schema, tenant, relation, key)
                        VALUES (TG_TABLE_SCHEMA, NEW.tenant_id,
                                coalesce(pg_partition_root(TG_RELID), TG_RELID), new_key);
                    END IF;
                END IF;
                RETURN NULL;
            END
            $body$$f$, {schema});
        -- A trigger function: fired by its triggers, never called; nobody needs EXECUTE.
        EXECUTE format('REVOKE ALL ON FUNCTION %I.adx_capture_change() FROM PUBLIC', {schema});
    END IF;
    FOR item IN
        SELECT c.oid::regclass AS relation,
               (SELECT coalesce(string_agg(quote_literal(a.attname), ', ' ORDER BY k.i), '')
                FROM pg_index x
                CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, i)
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                WHERE x.indrelid = c.oid AND x.indisprimary) AS keys
        FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
        WHERE d.refclassid = 'pg_namespace'::regclass
          AND d.refobjid = to_regnamespace({schema})::oid
          AND d.classid = 'pg_class'::regclass AND d.deptype = 'n'
          AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND c.oid IN (SELECT s.relation FROM "adx_migrations"."stream_tables" s
                        WHERE s.stream = 'tenant')
          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                      AND a.attname = 'tenant_id' AND NOT a.attisdropped)
          AND NOT EXISTS (SELECT 1 FROM pg_trigger t
                          WHERE t.tgrelid = c.oid AND t.tgname = 'adx_capture')
    LOOP
        EXECUTE format(
            'CREATE TRIGGER adx_capture AFTER INSERT OR UPDATE OR DELETE ON %s '
            'FOR EACH ROW EXECUTE FUNCTION %I.adx_capture_change(%s)',
            item.relation, {schema}, item.keys);
    END LOOP;
END
$adx_capture$;
