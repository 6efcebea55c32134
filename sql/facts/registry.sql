-- psql script (fed on stdin): the tenants registry of adx_core, keyed by tenant id; empty
-- while the database or its shared migrations do not exist yet.
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'adx_core') AS adx_has_database \gset
\if :adx_has_database
\connect adx_core
SELECT to_regclass('public.tenants') IS NOT NULL AS adx_has_registry \gset
\if :adx_has_registry
SELECT coalesce(json_object_agg(id::text, json_build_object(
    'slug', slug, 'name', name, 'status', status, 'isolation_level', isolation_level,
    'db_host', db_host, 'db_port', db_port, 'db_name', db_name, 'db_schema', db_schema)
    ORDER BY slug), '{}'::json)
FROM public.tenants;
\else
SELECT '{}'::json;
\endif
\else
SELECT '{}'::json;
\endif
