-- Shared stream 010: the health check's WAL archiving check also finds archiving that is on
-- but cannot work (no archive_command) and archiving that has stalled (a segment waiting
-- longer than 10 minutes is critical, 2 minutes a warning), not only a failed last attempt.
--
-- The rest of adx_health_check() is unchanged from shared/008; CREATE OR REPLACE keeps its
-- owner and grants. pg_ls_archive_statusdir() needs pg_monitor, which adx_monitor is a
-- member of.

CREATE OR REPLACE FUNCTION adx_health_check()
    RETURNS TABLE (name text, status text, detail text)
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH activity AS (
        SELECT a.state,
               a.wait_event_type,
               now() - a.query_start AS query_age,
               now() - a.state_change AS state_age,
               cardinality(pg_blocking_pids(a.pid)) > 0 AS blocked
          FROM pg_catalog.pg_stat_activity AS a
         WHERE a.backend_type = 'client backend'
           AND a.pid <> pg_backend_pid()
    ),
    limits AS (
        SELECT current_setting('max_connections')::integer
               - current_setting('superuser_reserved_connections')::integer AS usable
    ),
    isolation AS (
        SELECT count(*) AS holes,
               string_agg(format('%I.%I', schema_name, table_name), ', '
                                     ORDER BY schema_name, table_name) AS tables
          FROM public.tenant_isolation_audit()
         WHERE NOT ok
    ),
    drift AS (
        SELECT count(*) FILTER (WHERE problem = 'missing_schema') AS missing,
               count(*) FILTER (WHERE problem = 'orphan_schema') AS orphans,
               string_agg(problem || ' ' || schema_name, ', ' ORDER BY schema_name) AS items
          FROM public.tenant_schema_drift()
    ),
    invalid_indexes AS (
        SELECT count(*) AS n,
               string_agg(i.indexrelid::regclass::text, ', ') AS names
          FROM pg_catalog.pg_index AS i
         WHERE NOT i.indisvalid
    ),
    archiver AS (
        SELECT s.failed_count,
               s.last_failed_time,
               s.last_archived_time,
               current_setting('archive_mode') AS archive_mode,
               current_setting('archive_command') AS archive_command,
               current_setting('archive_library') AS archive_library,
               (SELECT count(*) FROM pg_catalog.pg_ls_archive_statusdir() AS f
                 WHERE f.name LIKE '%.ready') AS waiting,
               (SELECT now() - min(f.modification) FROM pg_catalog.pg_ls_archive_statusdir() AS f
                 WHERE f.name LIKE '%.ready') AS oldest_waiting
          FROM pg_catalog.pg_stat_archiver AS s
    ),
    wraparound AS (
        SELECT max(age(d.datfrozenxid))::numeric / 2147483648 AS used
          FROM pg_catalog.pg_database AS d
         WHERE d.datallowconn
    ),
    cache AS (
        SELECT d.blks_hit, d.blks_read
          FROM pg_catalog.pg_stat_database AS d
         WHERE d.datname = current_database()
    )
    SELECT 'database',
           'ok',
           format('%s; up %s; %s',
                             current_setting('server_version'),
                             date_trunc('second',
                                                   now() - pg_postmaster_start_time()),
                             pg_size_pretty(pg_database_size(current_database())))
    UNION ALL
    SELECT 'connections',
           CASE WHEN n >= l.usable * 0.95 THEN 'critical'
                WHEN n >= l.usable * 0.80 THEN 'warning'
                ELSE 'ok' END,
           format('%s of %s client connections in use', n, l.usable)
      FROM (SELECT count(*) + 1 AS n FROM activity) AS c, limits AS l
    UNION ALL
    SELECT 'long_running_queries',
           CASE WHEN n > 0 THEN 'warning' ELSE 'ok' END,
           format('%s queries active for more than 5 minutes', n)
      FROM (SELECT count(*) AS n FROM activity
             WHERE state = 'active' AND query_age > interval '5 minutes') AS q
    UNION ALL
    SELECT 'idle_in_transaction',
           CASE WHEN n > 0 THEN 'warning' ELSE 'ok' END,
           format('%s sessions idle in transaction for more than 5 minutes', n)
      FROM (SELECT count(*) AS n FROM activity
             WHERE state LIKE 'idle in transaction%' AND state_age > interval '5 minutes') AS q
    UNION ALL
    SELECT 'blocked_sessions',
           CASE WHEN n > 0 THEN 'warning' ELSE 'ok' END,
           format('%s sessions waiting on a lock held by another session', n)
      FROM (SELECT count(*) AS n FROM activity WHERE blocked) AS q
    UNION ALL
    SELECT 'replication',
           CASE WHEN pg_is_in_recovery() THEN
                    CASE WHEN now() - pg_last_xact_replay_timestamp()
                              > interval '5 minutes' THEN 'warning' ELSE 'ok' END
                WHEN r.inactive_slots > 0 THEN 'warning'
                ELSE 'ok' END,
           CASE WHEN pg_is_in_recovery() THEN
                    format('replica; last replayed transaction %s ago',
                                      coalesce(
                                          date_trunc('second', now()
                                              - pg_last_xact_replay_timestamp())::text,
                                          'never'))
                ELSE format('primary; %s streaming replicas, max replay lag %s; %s inactive replication slots',
                                       r.replicas, coalesce(r.max_lag::text, 'n/a'),
                                       r.inactive_slots) END
      FROM (SELECT (SELECT count(*) FROM pg_catalog.pg_stat_replication) AS replicas,
                   (SELECT max(replay_lag) FROM pg_catalog.pg_stat_replication) AS max_lag,
                   (SELECT count(*) FROM pg_catalog.pg_replication_slots
                     WHERE NOT active) AS inactive_slots) AS r
    UNION ALL
    SELECT 'wal_archiving',
           CASE WHEN a.archive_mode = 'off' THEN 'warning'
                WHEN a.archive_command = '' AND a.archive_library = '' THEN 'critical'
                WHEN a.last_failed_time > coalesce(a.last_archived_time, '-infinity')
                     THEN 'critical'
                WHEN a.oldest_waiting > interval '10 minutes' THEN 'critical'
                WHEN a.oldest_waiting > interval '2 minutes' THEN 'warning'
                ELSE 'ok' END,
           CASE WHEN a.archive_mode = 'off' THEN 'archive_mode is off'
                WHEN a.archive_command = '' AND a.archive_library = ''
                     THEN format('archive_mode is %s but no archive_command is set: %s WAL '
                                 'segments wait and are kept', a.archive_mode, a.waiting)
                ELSE format('last archived %s, %s failures, last failure %s, %s segments '
                            'waiting (oldest %s)',
                                       coalesce(a.last_archived_time::text, 'never'),
                                       a.failed_count,
                                       coalesce(a.last_failed_time::text, 'never'),
                                       a.waiting,
                                       coalesce(date_trunc('second', a.oldest_waiting)::text,
                                                'none')) END
      FROM archiver AS a
    UNION ALL
    SELECT 'transaction_wraparound',
           CASE WHEN w.used > 0.75 THEN 'critical' WHEN w.used > 0.40 THEN 'warning' ELSE 'ok' END,
           format('oldest unfrozen transaction id at %s%% of the wraparound limit',
                             round(w.used * 100, 1))
      FROM wraparound AS w
    UNION ALL
    SELECT 'cache_hit_ratio',
           CASE WHEN c.blks_hit + c.blks_read > 10000
                     AND c.blks_hit::numeric / (c.blks_hit + c.blks_read) < 0.90 THEN 'warning'
                ELSE 'ok' END,
           format('%s%% of block reads served from shared buffers',
                             coalesce(
                                 round(100 * c.blks_hit::numeric
                                                  / NULLIF(c.blks_hit + c.blks_read, 0), 2)::text,
                                 'n/a'))
      FROM cache AS c
    UNION ALL
    SELECT 'invalid_indexes',
           CASE WHEN v.n > 0 THEN 'critical' ELSE 'ok' END,
           CASE WHEN v.n > 0
                THEN format('%s invalid indexes (failed concurrent build; drop and re-run): %s',
                                       v.n, v.names)
                ELSE 'no invalid indexes' END
      FROM invalid_indexes AS v
    UNION ALL
    SELECT 'tenant_isolation',
           CASE WHEN s.holes > 0 THEN 'critical' ELSE 'ok' END,
           CASE WHEN s.holes > 0
                THEN format('%s tables with tenant_id lack forced RLS or a policy: %s',
                                       s.holes, s.tables)
                ELSE 'every table with tenant_id has RLS enabled, forced and a policy' END
      FROM isolation AS s
    UNION ALL
    SELECT 'tenant_schemas',
           CASE WHEN d.missing > 0 THEN 'critical' WHEN d.orphans > 0 THEN 'warning' ELSE 'ok' END,
           coalesce(d.items, 'registry and schemas agree')
      FROM drift AS d
    UNION ALL
    SELECT 'query_statistics',
           'ok',
           CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_stat_statements')
                THEN 'pg_stat_statements installed'
                ELSE 'pg_stat_statements not installed: query performance tracking is off' END
$$;
