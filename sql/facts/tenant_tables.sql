-- psql script (fed on stdin): the tables of one schema of one database that hold tenant rows
-- (have a tenant_id column), each with the tables of the same schema its foreign keys
-- reference. Empty when the database does not exist.
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'adx_database') AS adx_has_database \gset
\if :adx_has_database
\connect :"adx_database"
SELECT coalesce(json_object_agg(c.relname, (
    SELECT coalesce(json_agg(DISTINCT p.relname ORDER BY p.relname), '[]'::json)
    FROM pg_constraint k
    JOIN pg_class p ON p.oid = k.confrelid
    WHERE k.conrelid = c.oid AND k.contype = 'f' AND p.relnamespace = c.relnamespace
) ORDER BY c.relname), '{}'::json)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = :'adx_schema'
  AND c.relkind IN ('r', 'p')
  AND EXISTS (SELECT 1 FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped);
\else
SELECT '{}'::json;
\endif
