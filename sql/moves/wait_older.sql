-- Wait, at most {seconds} seconds, until no other session of this database runs a transaction
-- that began before this statement's own (one that may not see what was just committed:
-- a capture started, a fence set); stop with {message} otherwise. Nothing is locked: those
-- transactions go on.
DO $adx_wait$
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();
        EXIT WHEN NOT EXISTS (
            SELECT 1 FROM pg_stat_activity a
            WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
              AND a.backend_type = 'client backend' AND a.xact_start < now());
        IF clock_timestamp() - now() > make_interval(secs => {seconds}) THEN
            RAISE EXCEPTION USING MESSAGE = {message} || (
                SELECT ' (' || string_agg(a.pid::text || ' ' || coalesce(a.usename, '?')
                                          || ' since ' || a.xact_start::text, ', ') || ')'
                FROM pg_stat_activity a
                WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
                  AND a.backend_type = 'client backend' AND a.xact_start < now());
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$adx_wait$;
