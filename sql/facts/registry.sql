-- psql script (fed on stdin): the tenants registry of adx_core, keyed by tenant id, each row
-- with what a move left for later: whether its remote fence is still to be lifted, whether its
-- writes are still captured, and its fences on the primary (schema -> whether the rows left
-- there are deleted); empty while the database or its shared migrations do not exist yet.
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'adx_core') AS adx_has_database \gset
\if :adx_has_database
\connect adx_core
SELECT to_regclass('public.tenants') IS NOT NULL AS adx_has_registry,
       to_regclass('adx_migrations.pending_unfences') IS NOT NULL AS adx_has_unfences \gset
\if :adx_has_registry
\if :adx_has_unfences
\set adx_unfence_pending 'EXISTS (SELECT 1 FROM adx_migrations.pending_unfences p WHERE p.tenant = t.id)'
\set adx_capturing 'EXISTS (SELECT 1 FROM adx_migrations.move_captures c WHERE c.tenant = t.id)'
\set adx_fences '(SELECT coalesce(json_object_agg(f.target_schema, f.cleared), ''{}'') FROM adx_migrations.tenant_fences f WHERE f.tenant = t.id)'
\else
\set adx_unfence_pending 'false'
\set adx_capturing 'false'
\set adx_fences '''{}''::json'
\endif
SELECT coalesce(json_object_agg(t.id::text, json_build_object(
    'slug', t.slug, 'name', t.name, 'status', t.status, 'isolation_level', t.isolation_level,
    'db_host', t.db_host, 'db_port', t.db_port, 'db_name', t.db_name, 'db_schema', t.db_schema,
    'unfence_pending', :adx_unfence_pending, 'capturing', :adx_capturing,
    'fences', :adx_fences)
    ORDER BY t.slug), '{}'::json)
FROM public.tenants t;
\else
SELECT '{}'::json;
\endif
\else
SELECT '{}'::json;
\endif
