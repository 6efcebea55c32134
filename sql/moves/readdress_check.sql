-- psql, at a re-addressed tenant database (as adx_migrator): one line `STATE IDENTITY`, STATE
-- `fenced` (a move fences the tenant {tenant_id} in {schema} here), `rows` (the tenant has
-- rows in some tenant-stream table here) or `empty`; IDENTITY the cluster's system identifier
-- and the database's oid (sql/moves/identity.sql), to compare with the old address's. One
-- transaction in the tenant's context ({context}): its policies are forced, adx_migrator sees
-- its rows only so.
BEGIN;
DO $adx_context$ BEGIN PERFORM {context}; END $adx_context$;
SELECT coalesce(string_agg(
           format('SELECT 1 FROM %s WHERE tenant_id = %L', c.oid::regclass, {tenant_id}),
           ' UNION ALL '), 'SELECT 1 WHERE false') AS adx_tenant_rows
FROM adx_migrations.stream_tables s JOIN pg_class c ON c.oid = s.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE s.stream = 'tenant' AND n.nspname = {schema}
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
              AND a.attname = 'tenant_id' AND NOT a.attisdropped) \gset
SELECT CASE
           WHEN EXISTS (SELECT 1 FROM adx_migrations.tenant_fences f
                        WHERE f.target_schema = {schema} AND f.tenant = {tenant_id}) THEN 'fenced'
           WHEN EXISTS (:adx_tenant_rows) THEN 'rows'
           ELSE 'empty'
       END || ' ' || (SELECT system_identifier FROM pg_control_system()) || ':'
       || (SELECT oid FROM pg_database WHERE datname = current_database());
COMMIT;
