-- psql script (fed on stdin): the tenant schemas and public schema of one database, with their
-- owner, who may use them, and who gets data privileges through adx_owner's default privileges.
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'adx_database') AS adx_has_database \gset
\if :adx_has_database
\connect :"adx_database"
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
          AND a.privilege_type = 'DELETE')
) ORDER BY n.nspname), '{}'::json)
FROM pg_namespace n
WHERE n.nspname = 'public' OR n.nspname LIKE 'tenant\_%';
\else
SELECT '{}'::json;
\endif
