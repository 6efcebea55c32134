-- psql script (fed on stdin): the tenant schemas and public schema of one database, with their
-- owner, who may use them, who gets data privileges through adx_owner's default privileges,
-- and, in public, the tables tenant roles hold privileges on: of the tenant stream (as the
-- ledger recorded it) and of anything else.
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'adx_database') AS adx_has_database \gset
\if :adx_has_database
\connect :"adx_database"
SELECT to_regclass('adx_migrations.stream_tables') IS NOT NULL AS adx_recorded \gset
\if :adx_recorded
\set adx_tenant_relations 'SELECT relation FROM adx_migrations.stream_tables WHERE stream = ''tenant'''
\else
\set adx_tenant_relations 'SELECT NULL::regclass WHERE false'
\endif
SELECT coalesce(json_object_agg(n.nspname, json_build_object(
    'owner', pg_get_userbyid(n.nspowner),
    'usage', (
        SELECT coalesce(json_agg(DISTINCT pg_get_userbyid(a.grantee)), '[]'::json)
        FROM aclexplode(n.nspacl) a
        WHERE a.privilege_type = 'USAGE' AND a.grantee <> 0 AND a.grantee <> n.nspowner),
    'data_roles', (
        SELECT coalesce(json_agg(DISTINCT pg_get_userbyid(a.grantee)), '[]'::json)
        FROM pg_default_acl d, aclexplode(d.defaclacl) a
        WHERE d.defaclnamespace = n.oid AND d.defaclobjtype = 'r'
          AND d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = 'adx_owner')
          AND a.privilege_type = 'DELETE'),
    'tenant_tables', (
        SELECT count(*) FROM pg_class c
        WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p')
          AND c.oid IN (:adx_tenant_relations)),
    'table_grants', (
        SELECT coalesce(json_object_agg(r.rolname, json_build_object(
            'tenant_missing', (
                SELECT count(*) FROM pg_class c
                WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p')
                  AND c.oid IN (:adx_tenant_relations)
                  AND NOT (has_table_privilege(r.oid, c.oid, 'SELECT')
                           AND has_table_privilege(r.oid, c.oid, 'INSERT')
                           AND has_table_privilege(r.oid, c.oid, 'UPDATE')
                           AND has_table_privilege(r.oid, c.oid, 'DELETE'))),
            'tenant_granted', (
                SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a
                WHERE c.relnamespace = n.oid AND a.grantee = r.oid
                  AND c.oid IN (:adx_tenant_relations)),
            'other', (
                SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a
                WHERE c.relnamespace = n.oid AND a.grantee = r.oid
                  AND c.oid NOT IN (:adx_tenant_relations))
              + (SELECT count(*) FROM pg_proc p, aclexplode(p.proacl) a
                 WHERE p.pronamespace = n.oid AND a.grantee = r.oid)
        ) ORDER BY r.rolname), '{}'::json)
        FROM pg_roles r WHERE r.rolname LIKE 'adx\_tenant\_%' AND n.nspname = 'public')
) ORDER BY n.nspname), '{}'::json)
FROM pg_namespace n
WHERE n.nspname = 'public' OR n.nspname LIKE 'tenant\_%';
\else
SELECT '{}'::json;
\endif
