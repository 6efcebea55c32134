-- The functions pg_rewind calls on the leader that adx_replication may not execute yet (a
-- failed leader rejoins through pg_rewind as adx_replication, connected to `postgres`).
SELECT coalesce(json_agg(f ORDER BY f), '[]'::json)
FROM unnest(ARRAY[
    'pg_catalog.pg_ls_dir(text, boolean, boolean)',
    'pg_catalog.pg_stat_file(text, boolean)',
    'pg_catalog.pg_read_binary_file(text)',
    'pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)'
]) AS f
WHERE NOT has_function_privilege('adx_replication', f, 'EXECUTE')
