-- Export-script SQL (run in the snapshot): prints the INSERTs that copy the tenant's rows
-- ({tenant_id}) of {source} into {schema}.{table} at the new location, as json read back with
-- the target table's own row type (OVERRIDING SYSTEM VALUE keeps identity values). A statement
-- carries at most {batch} rows and about {batch_bytes} bytes of them (pg_column_size), so a
-- table of any size goes in bounded statements; the session sorts rather than hashes (no
-- enable_hashagg), so the server builds one batch at a time. After each statement the new
-- location's psql prints the table's progress to its stderr (`adx-progress TABLE ROWS BYTES`,
-- the rows and bytes copied so far), which the move runner reports.
SELECT format(
    $adx_template$INSERT INTO %1$I.%2$I OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_recordset(NULL::%1$I.%2$I, %3$L);$adx_template$,
    {schema}, {table}, json_agg(b.r ORDER BY b.n)
) || E'\n' || format('\warn adx-progress %s %s %s',
    regexp_replace({table}, '[^A-Za-z0-9_]', '_', 'g'), max(b.n), max(b.bytes))
FROM (
    SELECT r, n, bytes, greatest((n - 1) / {batch}, (bytes - 1) / {batch_bytes}) AS batch
    FROM (
        SELECT r, row_number() OVER w AS n, sum(pg_column_size(r)) OVER w AS bytes
        FROM {source} r WHERE r.tenant_id = {tenant_id}
        WINDOW w AS (ROWS UNBOUNDED PRECEDING)
    ) numbered
) b
GROUP BY b.batch ORDER BY b.batch;
