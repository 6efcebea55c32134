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
-- Tenant-stream tables counted per schema in one pass over pg_class (a subquery per schema
-- would scan pg_class once per schema: 37 s at a thousand schema tenants).
-- The tenant roles' privileges in public likewise: each count made once for all roles.
WITH tenant_tables AS MATERIALIZED (
    SELECT c.relnamespace AS namespace, count(*) AS tables
    FROM pg_class c
    WHERE c.relkind IN ('r', 'p') AND c.oid IN (:adx_tenant_relations)
    GROUP BY c.relnamespace
),
tenant_roles AS MATERIALIZED (
    SELECT r.oid, r.rolname FROM pg_roles r WHERE r.rolname LIKE 'adx\_tenant\_%'
),
public_relations AS MATERIALIZED (
    SELECT c.oid, c.relkind, c.relacl, c.oid IN (:adx_tenant_relations) AS tenant
    FROM pg_class c
    WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'public')
),
relation_grants AS MATERIALIZED (
    SELECT a.grantee,
           count(*) FILTER (WHERE pr.tenant) AS tenant_granted,
           count(*) FILTER (WHERE NOT pr.tenant) AS other
    FROM public_relations pr, aclexplode(pr.relacl) a
    GROUP BY a.grantee
),
function_grants AS MATERIALIZED (
    SELECT a.grantee, count(*) AS granted
    FROM pg_proc p, aclexplode(p.proacl) a
    WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'public')
    GROUP BY a.grantee
),
missing AS MATERIALIZED (
    SELECT tr.oid AS role, count(*) AS tables
    FROM tenant_roles tr, public_relations pr
    WHERE pr.tenant AND pr.relkind IN ('r', 'p')
      AND NOT (has_table_privilege(tr.oid, pr.oid, 'SELECT')
               AND has_table_privilege(tr.oid, pr.oid, 'INSERT')
               AND has_table_privilege(tr.oid, pr.oid, 'UPDATE')
               AND has_table_privilege(tr.oid, pr.oid, 'DELETE'))
    GROUP BY tr.oid
),
public_grants AS MATERIALIZED (
    SELECT coalesce(json_object_agg(tr.rolname, json_build_object(
        'tenant_missing', coalesce(m.tables, 0),
        'tenant_granted', coalesce(rg.tenant_granted, 0),
        'other', coalesce(rg.other, 0) + coalesce(fg.granted, 0)
    ) ORDER BY tr.rolname), '{}'::json) AS grants
    FROM tenant_roles tr
    LEFT JOIN missing m ON m.role = tr.oid
    LEFT JOIN relation_grants rg ON rg.grantee = tr.oid
    LEFT JOIN function_grants fg ON fg.grantee = tr.oid
)
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
    'tenant_tables', coalesce(t.tables, 0),
    'table_grants', CASE WHEN n.nspname = 'public'
                         THEN (SELECT grants FROM public_grants) ELSE '{}'::json END
) ORDER BY n.nspname), '{}'::json)
FROM pg_namespace n
LEFT JOIN tenant_tables t ON t.namespace = n.oid
WHERE n.nspname = 'public' OR n.nspname LIKE 'tenant\_%';
\else
SELECT '{}'::json;
\endif
