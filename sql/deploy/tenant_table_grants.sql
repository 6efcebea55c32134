-- A dedicated tenant database's own role: data privileges on what the tenant stream created
-- (tables, and the sequences they own), nothing on the shared stream's tables, views and
-- sequences, no explicit EXECUTE on any function. Composed with psycopg.sql: {schema} and
-- {role} are literals. Idempotent: run after each tenant-stream file and when the grants drift.
DO $adx_grants$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT c.oid::regclass AS relation, c.relkind,
               EXISTS (
                   SELECT 1 FROM "adx_migrations"."stream_tables" s
                   WHERE s.stream = 'tenant' AND (s.relation = c.oid OR s.relation IN (
                       SELECT d.refobjid FROM pg_depend d
                       WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                         AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
               ) AS tenant
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = {schema} AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
    LOOP
        IF item.tenant AND item.relkind = 'S' THEN
            EXECUTE format('GRANT USAGE ON SEQUENCE %s TO %I', item.relation, {role});
        ELSIF item.tenant THEN
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %I', item.relation, {role});
        ELSE
            EXECUTE format('REVOKE ALL ON %s FROM %I', item.relation, {role});
        END IF;
    END LOOP;
    EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA %I FROM %I', {schema}, {role});
END
$adx_grants$;
