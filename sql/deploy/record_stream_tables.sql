-- After a migration file: the relations of its target schema that no file has claimed yet are
-- this file's stream's (an extension's own objects are the extension's, never a stream's).
-- Composed with psycopg.sql: {schema}, {stream}, {version} are literals. Rows of relations
-- dropped since are forgotten once per session (forget_dropped_relations.sql), not after each
-- file: that scan of the whole table after each of N x files steps was quadratic in N. The
-- schema's relations are found through their dependency on it (pg_depend's index, as DROP
-- SCHEMA finds them), not by a scan of pg_class, which holds every schema's (~250 rows a
-- tenant).
INSERT INTO "adx_migrations"."stream_tables" (relation, stream, version)
SELECT c.oid::regclass, {stream}, {version}
FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = to_regnamespace({schema})::oid
  AND d.classid = 'pg_class'::regclass AND d.deptype = 'n'
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ON CONFLICT (relation) DO NOTHING;
