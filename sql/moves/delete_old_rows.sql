-- After the switch: the tenant's rows ({tenant_id}) of {source} at the location it left
-- (fenced: no one writes there), deleted {batch} at a time, each batch committed on its own,
-- so that a large tenant never holds one long transaction. Each batch runs in the tenant's
-- context ({context}): adx_migrator, at a dedicated database, sees its rows only so.
DO $adx_delete$
DECLARE
    deleted bigint;
BEGIN
    LOOP
        PERFORM {context};
        DELETE FROM {source} WHERE tenant_id = {tenant_id} AND ctid IN (
            SELECT ctid FROM {source} WHERE tenant_id = {tenant_id} LIMIT {batch});
        GET DIAGNOSTICS deleted = ROW_COUNT;
        COMMIT;
        EXIT WHEN deleted = 0;
    END LOOP;
END
$adx_delete$;
