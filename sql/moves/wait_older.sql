-- Wait, at most {seconds} seconds, until no other session of this database runs a transaction
-- that began before this statement's own (one that may not see what was just committed:
-- a capture started, a fence set); stop with {message} otherwise. Nothing is locked: those
-- transactions go on. A transaction is known by the lock on its virtual transaction id, which
-- it holds from its start to its end (pg_locks: readable by any role, so the wait is the same
-- for postgres on the primary and for adx_migrator at a dedicated database); sessions of no
-- user (autovacuum) are not waited for.
DO $adx_wait$
DECLARE
    older text[];
BEGIN
    SELECT coalesce(array_agg(l.virtualxid), '{{}}') INTO older
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'virtualxid' AND l.mode = 'ExclusiveLock' AND l.granted
      AND l.pid <> pg_backend_pid() AND a.datname = current_database()
      AND a.usesysid IS NOT NULL;
    LOOP
        EXIT WHEN NOT EXISTS (
            SELECT 1 FROM pg_locks l
            WHERE l.locktype = 'virtualxid' AND l.mode = 'ExclusiveLock' AND l.granted
              AND l.virtualxid = ANY (older));
        IF clock_timestamp() - now() > make_interval(secs => {seconds}) THEN
            RAISE EXCEPTION USING MESSAGE = {message} || (
                SELECT ' (' || string_agg(l.pid::text || ' ' || coalesce(a.usename, '?')
                                          || ' since ' || coalesce(a.xact_start::text, '?'),
                                          ', ') || ')'
                FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'virtualxid' AND l.mode = 'ExclusiveLock' AND l.granted
                  AND l.virtualxid = ANY (older));
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$adx_wait$;
