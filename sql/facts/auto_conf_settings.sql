-- The settings this server's postgresql.auto.conf sets (ALTER SYSTEM, or a restore tool's
-- leftovers): on an HA member they would override Patroni's dynamic configuration.
SELECT coalesce(json_agg(DISTINCT name ORDER BY name), '[]'::json)
FROM pg_catalog.pg_file_settings
WHERE sourcefile LIKE '%/postgresql.auto.conf';
