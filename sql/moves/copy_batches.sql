-- Export-script SQL (run in the snapshot): prints the INSERTs that copy the tenant's rows
-- ({tenant_id}) of {source} into {schema}.{table} at the new location, {batch} rows a
-- statement, as json read back with the target table's own row type (OVERRIDING SYSTEM VALUE
-- keeps identity values).
SELECT format(
    $adx_template$INSERT INTO %1$I.%2$I OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_recordset(NULL::%1$I.%2$I, %3$L);$adx_template$,
    {schema}, {table}, json_agg(b.r)
)
FROM (
    SELECT r, (row_number() OVER () - 1) / {batch} AS batch
    FROM {source} r WHERE r.tenant_id = {tenant_id}
) b
GROUP BY b.batch ORDER BY b.batch;
