-- psql script (fed on stdin): the tables of one schema of one database (partitions aside: a
-- partitioned table stands for its partitions), each with the migration stream the ledger
-- records as its creator (adx_migrations.stream_tables: 'tenant', 'shared', 'unrecorded', or
-- null for a table no migration made), whether it has a tenant_id column, the tables of the
-- same schema its foreign keys reference, and its foreign keys to itself (the columns, and the
-- columns they reference, in order). Empty when the database does not exist.
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'adx_database') AS adx_has_database \gset
\if :adx_has_database
\connect :"adx_database"
SELECT to_regclass('adx_migrations.stream_tables') IS NOT NULL AS adx_has_streams \gset
\if :adx_has_streams
\set adx_stream '(SELECT s.stream FROM adx_migrations.stream_tables s WHERE s.relation = c.oid)'
\else
\set adx_stream 'NULL::text'
\endif
SELECT coalesce(json_object_agg(c.relname, json_build_object(
    'stream', :adx_stream,
    'primary_key', (
        SELECT coalesce(json_agg(a.attname ORDER BY k.i), '[]'::json)
        FROM pg_index x
        CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, i)
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
        WHERE x.indrelid = c.oid AND x.indisprimary),
    'columns', (
        SELECT coalesce(json_agg(a.attname ORDER BY a.attnum), '[]'::json)
        FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attgenerated = ''),
    'tenant_id', EXISTS (
        SELECT 1 FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped),
    'parents', (
        SELECT coalesce(json_agg(DISTINCT p.relname ORDER BY p.relname), '[]'::json)
        FROM pg_constraint k
        JOIN pg_class p ON p.oid = k.confrelid
        WHERE k.conrelid = c.oid AND k.contype = 'f' AND p.relnamespace = c.relnamespace),
    'self_keys', (
        SELECT coalesce(json_agg(json_build_object(
            'columns', (SELECT json_agg(a.attname ORDER BY u.i)
                        FROM unnest(k.conkey) WITH ORDINALITY u(attnum, i)
                        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum),
            'references', (SELECT json_agg(a.attname ORDER BY u.i)
                           FROM unnest(k.confkey) WITH ORDINALITY u(attnum, i)
                           JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum)
        ) ORDER BY k.conname), '[]'::json)
        FROM pg_constraint k
        WHERE k.conrelid = c.oid AND k.confrelid = c.oid AND k.contype = 'f')
) ORDER BY c.relname), '{}'::json)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = :'adx_schema'
  AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition;
\else
SELECT '{}'::json;
\endif
