-- restore drill: verify one database of a restored copy, as one JSON document: its ledger
-- against the migration files ({expected}: stream, target schema, version, name, checksum),
-- amcheck's bt_index_check (heap included) on every B-tree index, and the rows of every table.
-- psql variable `target`: 'latest' (a file not applied is a problem) or a recovery time (a
-- file applied later is only listed).
CREATE EXTENSION IF NOT EXISTS amcheck;
CREATE FUNCTION pg_temp.adx_drill_indexes(OUT checked integer, OUT problems text[])
LANGUAGE plpgsql AS $$
DECLARE
    index_oid oid;
BEGIN
    checked := 0;
    problems := ARRAY[]::text[];
    FOR index_oid IN
        SELECT c.oid
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_am am ON am.oid = c.relam
        WHERE am.amname = 'btree' AND i.indisvalid AND i.indisready AND c.relpersistence <> 't'
        ORDER BY c.oid
    LOOP
        BEGIN
            PERFORM bt_index_check(index_oid, true);
        EXCEPTION WHEN OTHERS THEN
            problems := problems || format('index %s: %s', index_oid::regclass, SQLERRM);
        END;
        checked := checked + 1;
    END LOOP;
END
$$;
WITH expected (stream, target_schema, version, name, checksum) AS (
    VALUES {expected}
),
ledger AS (
    SELECT stream, target_schema, version, name, checksum
    FROM adx_migrations.ledger
    WHERE stream IN ('shared', 'tenant')
),
compared AS (
    SELECT e.stream AS file_stream, l.stream AS ledger_stream,
           coalesce(e.stream, l.stream) AS stream,
           coalesce(e.target_schema, l.target_schema) AS target_schema,
           coalesce(e.version, l.version) AS version,
           coalesce(e.name, l.name) AS name,
           e.checksum AS file_checksum, l.checksum AS ledger_checksum
    FROM (SELECT * FROM expected WHERE stream IS NOT NULL) e
    FULL JOIN ledger l USING (stream, target_schema, version)
),
labelled AS (
    SELECT *,
           format('%s/%s_%s.sql', stream, lpad(version::text, 3, '0'), name) AS label,
           format('%s.%s', current_database(), target_schema) AS place
    FROM compared
),
ledger_problems AS (
    SELECT CASE
        WHEN file_stream IS NULL THEN
            format('%s was applied to %s but the inventory''s migrations have no such file',
                   label, place)
        WHEN ledger_checksum IS DISTINCT FROM file_checksum AND ledger_stream IS NOT NULL THEN
            format('%s differs from the file applied to %s: applied sha256 %s, file sha256 %s',
                   label, place, ledger_checksum, file_checksum)
        ELSE format('%s: %s not applied', place, label)
    END AS problem,
    ledger_stream IS NULL AS pending
    FROM labelled
    WHERE file_stream IS NULL OR ledger_stream IS NULL
       OR ledger_checksum IS DISTINCT FROM file_checksum
),
indexes AS (
    SELECT checked, problems FROM pg_temp.adx_drill_indexes()
),
tables AS (
    SELECT format('%I.%I', n.nspname, c.relname) AS name,
           (xpath('/row/c/text()', query_to_xml(
               format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname),
               false, true, '')))[1]::text::bigint AS row_count
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\_toast%'
)
SELECT json_build_object(
    'database', current_database(),
    'ledger_rows', (SELECT count(*) FROM ledger),
    'not_applied_at_target', (
        SELECT coalesce(json_agg(problem ORDER BY problem), '[]'::json)
        FROM ledger_problems WHERE pending AND :'target' <> 'latest'
    ),
    'indexes_checked', (SELECT checked FROM indexes),
    'tables', (
        SELECT coalesce(json_object_agg(name, row_count ORDER BY name), '{{}}'::json) FROM tables
    ),
    'problems', (
        SELECT coalesce(json_agg(problem ORDER BY problem), '[]'::json)
        FROM (
            SELECT problem FROM ledger_problems WHERE NOT pending OR :'target' = 'latest'
            UNION ALL
            SELECT unnest(problems) FROM indexes
        ) found
    )
);
