-- The export's own session on the primary (psql -A -t, its output the copy stream): one
-- REPEATABLE READ snapshot that every query of the export reads, its rows fetched 20 at a time
-- so that psql streams the batches and never holds a whole table.
\set FETCH_COUNT 20
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
