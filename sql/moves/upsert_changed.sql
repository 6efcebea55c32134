-- Catch-up SQL (run in the pass's snapshot): prints the upserts, at the new location, of the
-- source rows of {source} whose keys the tenant ({tenant_id}) wrote since the capture began
-- ({changes}), in statements of at most {batch} rows and about {batch_bytes} bytes: a row
-- there already is updated in place (its key {conflict}; every column set), never deleted
-- and inserted (which would cascade to rows that did not change). The rows are looked up by
-- their captured keys (the table's primary key), so a pass costs what the tenant wrote, not
-- the tenant's size.
SELECT format(
    $adx_template$INSERT INTO %1$I.%2$I OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_recordset(NULL::%1$I.%2$I, %3$L) ON CONFLICT (%4$s) DO UPDATE SET %5$s;$adx_template$,
    {schema}, {table}, json_agg(b.r ORDER BY b.n), {conflict}, {assignments}
)
FROM (
    SELECT r, n, greatest((n - 1) / {batch}, (bytes - 1) / {batch_bytes}) AS batch
    FROM (
        SELECT r, row_number() OVER w AS n, sum(pg_column_size(r)) OVER w AS bytes
        FROM (SELECT DISTINCT c.key FROM {changes} c) c
        CROSS JOIN LATERAL jsonb_populate_record(NULL::{source}, c.key) k
        JOIN {source} r ON r.tenant_id = {tenant_id} AND {key_match}
        WINDOW w AS (ROWS UNBOUNDED PRECEDING)
    ) numbered
) b
GROUP BY b.batch ORDER BY b.batch;
