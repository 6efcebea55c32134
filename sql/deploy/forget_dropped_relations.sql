-- Once per migration session, before its files: forget the stream of relations that no
-- longer exist (dropped by a file, or by hand), so that a new relation is claimed afresh.
DELETE FROM "adx_migrations"."stream_tables" s
WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = s.relation);
