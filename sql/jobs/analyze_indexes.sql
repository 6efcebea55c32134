-- analyze-indexes: invalid indexes first, then never-used non-unique indexes, largest first.
SELECT schema_name, table_name, index_name, scans, pg_size_pretty(size_bytes) AS size,
       CASE WHEN NOT is_valid THEN 'INVALID: rebuild'
            WHEN scans = 0 AND NOT is_unique AND NOT is_primary THEN 'unused'
            ELSE 'ok' END AS verdict
FROM public.adx_index_usage
ORDER BY (NOT is_valid) DESC, (scans = 0 AND NOT is_unique AND NOT is_primary) DESC,
         size_bytes DESC, index_name
