-- The databases of the cluster (template0 aside) with owner, encoding, limit, privileges, and
-- the settings of roles in each database (ALTER ROLE ... IN DATABASE ... SET).
SELECT coalesce(json_object_agg(d.datname, json_build_object(
    'owner', pg_get_userbyid(d.datdba),
    'encoding', pg_encoding_to_char(d.encoding),
    'locale', d.datcollate,
    'connection_limit', d.datconnlimit,
    'privileges', (
        SELECT coalesce(json_agg(json_build_object(
                   'grantee', CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                   'privilege', a.privilege_type)
               ORDER BY a.grantee, a.privilege_type), '[]'::json)
        FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
    ),
    'role_settings', (
        SELECT coalesce(json_object_agg(pg_get_userbyid(s.setrole), s.setconfig), '{}'::json)
        FROM pg_db_role_setting s
        WHERE s.setdatabase = d.oid AND s.setrole <> 0
    )
) ORDER BY d.datname), '{}'::json)
FROM pg_database d
WHERE d.datname <> 'template0'
