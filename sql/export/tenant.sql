-- tenant export (psql script, run as postgres in the tenant's database): one tenant's rows in
-- one REPEATABLE READ snapshot. psql variables: mode (rls|schema|database), schema (where the
-- tenant stream's tables are), tenant_id, outdir. Per table, OUTDIR/<part>/<schema>.<table>.csv
-- (CSV with a header, in primary key order) and .json (rows and the order-independent
-- checksum of sql/moves/checksum.sql). Part "data": the tenant stream's tables, an rls
-- tenant's read as adx_readonly under its tenant context; part "control": rls and schema, the
-- main database's shared tables by tenant_id and the tenant's tenants row; database, the
-- dedicated database's shared-stream tables.
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
\set commands :outdir/commands.psql
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SET LOCAL TimeZone = 'UTC';
SET LOCAL extra_float_digits = 1;
SET LOCAL IntervalStyle = 'postgres';
SET LOCAL bytea_output = 'hex';
SET LOCAL DateStyle = 'ISO, YMD';
\o :commands
WITH tables AS (
    SELECT n.nspname AS schema_name, c.relname AS table_name, s.stream,
           EXISTS (
               SELECT 1 FROM pg_attribute a
               WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
           ) AS has_tenant_id,
           coalesce((
               SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.i)
               FROM pg_index x
               CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, i)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
               WHERE x.indrelid = c.oid AND x.indisprimary
           ), '1') AS order_by
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN adx_migrations.stream_tables s ON s.relation = c.oid
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND n.nspname IN (:'schema', 'public')
),
chosen AS (
    SELECT t.*, 'data' AS part, 1 AS phase, 'true' AS filter
    FROM tables t
    WHERE t.schema_name = :'schema' AND t.stream = 'tenant'
    UNION ALL
    SELECT t.*, 'control', 3,
           CASE WHEN t.has_tenant_id THEN format('r.tenant_id = %L', :'tenant_id')
                ELSE format('r.id = %L', :'tenant_id') END
    FROM tables t
    WHERE :'mode' <> 'database' AND t.schema_name = 'public' AND t.stream = 'shared'
      AND (t.has_tenant_id OR t.table_name = 'tenants')
    UNION ALL
    SELECT t.*, 'control', 3, 'true'
    FROM tables t
    WHERE :'mode' = 'database' AND t.schema_name = 'public' AND t.stream = 'shared'
),
lines AS (
    SELECT 0 AS phase, '' AS name, 1 AS step, 'SET LOCAL ROLE adx_readonly;' AS line
    WHERE :'mode' = 'rls'
    UNION ALL
    SELECT 0, '', 2, format('SELECT set_tenant_context(%L) \g /dev/null', :'tenant_id')
    WHERE :'mode' = 'rls'
    UNION ALL
    SELECT 2, '', 1, 'RESET ROLE;' WHERE :'mode' = 'rls'
    UNION ALL
    SELECT c.phase, format('%s.%s', c.schema_name, c.table_name), 1,
           format('\copy (SELECT * FROM %I.%I r WHERE %s ORDER BY %s) TO %L WITH (FORMAT csv, HEADER)',
                  c.schema_name, c.table_name, c.filter, c.order_by,
                  format('%s/%s/%s.%s.csv', :'outdir', c.part, c.schema_name, c.table_name))
    FROM chosen c
    UNION ALL
    SELECT c.phase, format('%s.%s', c.schema_name, c.table_name), 2,
           format('SELECT json_build_object(''rows'', count(*), ''checksum'', '
                  'md5(coalesce(string_agg(h, '''' ORDER BY h), ''''))) '
                  'FROM (SELECT md5(to_jsonb(r)::text) AS h FROM %I.%I r WHERE %s) hashed \g %s',
                  c.schema_name, c.table_name, c.filter,
                  format('%s/%s/%s.%s.json', :'outdir', c.part, c.schema_name, c.table_name))
    FROM chosen c
)
SELECT line FROM lines ORDER BY phase, name, step;
\o
\i :commands
COMMIT;
