-- After a migration file: the relations of its target schema that no file has claimed yet are
-- this file's stream's (an extension's own objects are the extension's, never a stream's).
-- Composed with psycopg.sql: {schema}, {stream}, {version} are literals. Rows of relations
-- dropped since are forgotten once per session (forget_dropped_relations.sql), not after each
-- file: that scan of the whole table after each of N x files steps was quadratic in N.
INSERT INTO "adx_migrations"."stream_tables" (relation, stream, version)
SELECT c.oid::regclass, {stream}, {version}
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = {schema} AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ON CONFLICT (relation) DO NOTHING;
