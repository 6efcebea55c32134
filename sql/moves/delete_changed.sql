-- Catch-up SQL (run in the pass's snapshot): prints the DELETE, at the new location, of the
-- rows of {schema}.{table} whose keys the tenant ({tenant_id}) wrote at the source since the
-- capture began ({changes}) and that the source no longer holds. {key_match} compares the
-- source row r with the captured key k ((k).column, a row of the source table).
SELECT format(
    $adx_template$DELETE FROM %1$I.%2$I t USING json_populate_recordset(NULL::%1$I.%2$I, %3$L) k WHERE t.tenant_id = %4$L AND %5$s;$adx_template$,
    {schema}, {table}, json_agg(c.key), {tenant_id}, {target_match}
)
FROM (
    SELECT DISTINCT c.key FROM {changes} c
    WHERE NOT EXISTS (
        SELECT 1 FROM {source} r, jsonb_populate_record(NULL::{source}, c.key) k
        WHERE r.tenant_id = {tenant_id} AND {key_match})
) c
HAVING count(*) > 0;
