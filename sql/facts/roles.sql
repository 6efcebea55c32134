-- All roles of the cluster (one row, one JSON object) for the roles fact.
-- The password verifier itself never leaves the server: only its salt, iteration count and a
-- sha256 digest keyed by :adx_digest_key (a random key of the run, never printed), enough for
-- the deploy to tell whether a wanted password is the stored one, and for nobody else.
SELECT coalesce(json_object_agg(a.rolname, json_build_object(
    'login', a.rolcanlogin,
    'superuser', a.rolsuper,
    'createdb', a.rolcreatedb,
    'createrole', a.rolcreaterole,
    'replication', a.rolreplication,
    'bypassrls', a.rolbypassrls,
    'inherit', a.rolinherit,
    'connection_limit', a.rolconnlimit,
    'member_of', (
        SELECT coalesce(json_agg(g.rolname ORDER BY g.rolname), '[]'::json)
        FROM pg_auth_members m JOIN pg_authid g ON g.oid = m.roleid
        WHERE m.member = a.oid
    ),
    'password', CASE
        WHEN a.rolpassword IS NULL THEN NULL
        WHEN a.rolpassword LIKE 'SCRAM-SHA-256$%' THEN json_build_object(
            'iterations', split_part(split_part(a.rolpassword, '$', 2), ':', 1)::int,
            'salt', split_part(split_part(a.rolpassword, '$', 2), ':', 2),
            'digest', encode(sha256(convert_to(:'adx_digest_key' || a.rolpassword, 'UTF8')), 'hex'))
        ELSE json_build_object('iterations', 0, 'salt', '', 'digest', 'not-scram')
    END
) ORDER BY a.rolname), '{}'::json)
FROM pg_authid a
WHERE a.rolname !~ '^pg_'
