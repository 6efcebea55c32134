-- The export's own session on the primary (psql -A -t, its output the copy stream): one
-- REPEATABLE READ snapshot that every query of the export reads, its rows (each a batch of the
-- copy, of bounded size) fetched one at a time, so that psql streams the batches and never
-- holds more than one; aggregates sort (spilling to disk) instead of hashing every batch of a
-- table at once.
\set FETCH_COUNT 1
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SET LOCAL enable_hashagg = off;
