-- The databases of the cluster (template0 aside) with owner, encoding, limit and privileges.
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
    )
) ORDER BY d.datname), '{}'::json)
FROM pg_database d
WHERE d.datname <> 'template0'
