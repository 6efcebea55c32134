-- Catch-up SQL (run in the frozen snapshot): prints a DO block that fails with {message}
-- unless {schema}.{table} at the new location holds as many of the tenant's rows ({tenant_id})
-- as {source} holds now.
SELECT format(
    $adx_template$DO $adx_count$ BEGIN IF (SELECT count(*) FROM %1$I.%2$I WHERE tenant_id = %3$L) <> %4$s THEN RAISE EXCEPTION %5$L; END IF; END $adx_count$;$adx_template$,
    {schema}, {table}, {tenant_id}, (SELECT count(*) FROM {source} r WHERE r.tenant_id = {tenant_id}), {message}
);
