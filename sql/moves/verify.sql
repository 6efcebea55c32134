-- Export-script SQL (run in the snapshot): prints a DO block that fails with {message} unless
-- the table {schema}.{table} holds exactly the tenant's rows ({tenant_id}) that {checksum}
-- (checksum.sql of the source table) finds in the snapshot: the same count, the same checksum.
-- The block's own query is checksum.sql's, written for format(): %1$I.%2$I the checked table,
-- %3$L the tenant; %4$s and %5$L take the snapshot's figures, %6$L the message.
SELECT format(
    $adx_template$DO $adx_verify$ BEGIN IF NOT EXISTS (SELECT 1 FROM (SELECT count(*) AS n, md5(coalesce(string_agg(h, '' ORDER BY h), '')) AS digest FROM (SELECT md5(to_jsonb(r)::text) AS h FROM %1$I.%2$I r WHERE r.tenant_id = %3$L) hashed) c WHERE c.n = %4$s AND c.digest = %5$L) THEN RAISE EXCEPTION %6$L; END IF; END $adx_verify$;$adx_template$,
    {schema}, {table}, {tenant_id}, v.n, v.digest, {message}
)
FROM ({checksum}) v;
