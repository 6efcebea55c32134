-- psql script (fed on stdin): the migration ledger of one database and the INVALID indexes of
-- its schemas, as one JSON line; a database or ledger that does not exist yet reads as empty.
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'adx_database') AS adx_has_database \gset
\if :adx_has_database
\connect :"adx_database"
SELECT to_regclass('adx_migrations.ledger') IS NOT NULL AS adx_has_ledger \gset
\if :adx_has_ledger
SELECT json_build_object(
    'database', true,
    'ledger', (
        SELECT coalesce(json_agg(json_build_object(
            'stream', stream, 'target_schema', target_schema, 'version', version,
            'name', name, 'checksum', checksum) ORDER BY stream, target_schema, version), '[]'::json)
        FROM adx_migrations.ledger),
    'invalid_indexes', (
        SELECT coalesce(json_agg(n.nspname || '.' || c.relname ORDER BY 1), '[]'::json)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT i.indisvalid));
\else
SELECT json_build_object('database', true, 'ledger', '[]'::json, 'invalid_indexes', '[]'::json);
\endif
\else
SELECT json_build_object('database', false, 'ledger', '[]'::json, 'invalid_indexes', '[]'::json);
\endif
