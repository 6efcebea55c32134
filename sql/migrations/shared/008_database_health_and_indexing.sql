-- Shared stream 008: health checks, connection pool monitoring, query performance tracking,
-- and control-plane indexes.
--
-- The tenant tables' indexes of the same migration are in tenant/008, built CONCURRENTLY.
--
-- Monitoring objects are for adx_monitor (a member of pg_monitor, so it sees every session
-- and statement). They run as the caller (SECURITY INVOKER): what a role sees is what its
-- own privileges allow. Views use security_invoker for the same reason. The application
-- and read-only roles get no access to them.

-- Health -------------------------------------------------------------------------------

-- One row per check: name, status ('ok' | 'warning' | 'critical'), detail.
-- Cluster-wide checks (connections, sessions, replication, archiving, wraparound) read the
-- whole cluster; the rest read the current database.
CREATE FUNCTION adx_health_check()
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
               current_setting('archive_mode') AS archive_mode
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
                WHEN a.last_failed_time > coalesce(a.last_archived_time, '-infinity')
                     THEN 'critical'
                ELSE 'ok' END,
           CASE WHEN a.archive_mode = 'off' THEN 'archive_mode is off'
                ELSE format('last archived %s, %s failures, last failure %s',
                                       coalesce(a.last_archived_time::text, 'never'),
                                       a.failed_count,
                                       coalesce(a.last_failed_time::text, 'never')) END
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

COMMENT ON FUNCTION adx_health_check() IS
    'Health checks: one row per check with status ok, warning or critical.';

-- The worst status of adx_health_check(), for probes that want one word.
CREATE FUNCTION adx_health_status() RETURNS text
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE max(CASE h.status WHEN 'critical' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END)
                WHEN 2 THEN 'critical' WHEN 1 THEN 'warning' ELSE 'ok' END
      FROM public.adx_health_check() AS h
$$;

-- Connection pool monitoring ------------------------------------------------------------

-- Client sessions grouped the way pools show up: per database, role and application.
CREATE VIEW adx_connection_pool WITH (security_invoker = true) AS
SELECT a.datname AS database_name,
       a.usename AS role_name,
       a.application_name,
       count(*) AS connections,
       count(*) FILTER (WHERE a.state = 'active') AS active,
       count(*) FILTER (WHERE a.state = 'idle') AS idle,
       count(*) FILTER (WHERE a.state LIKE 'idle in transaction%') AS idle_in_transaction,
       count(*) FILTER (WHERE a.wait_event_type = 'Lock') AS waiting_on_lock,
       max(now() - a.backend_start) AS oldest_connection_age,
       max(now() - a.xact_start) AS oldest_transaction_age,
       max(now() - a.query_start) FILTER (WHERE a.state = 'active') AS longest_active_query
  FROM pg_catalog.pg_stat_activity AS a
 WHERE a.backend_type = 'client backend'
 GROUP BY a.datname, a.usename, a.application_name;

COMMENT ON VIEW adx_connection_pool IS
    'Client connections per database, role and application (pool sizing and leaks).';

-- Totals against the server limit.
CREATE FUNCTION adx_connection_pool_summary()
    RETURNS TABLE (
        max_connections      integer,
        reserved_connections integer,
        connections          bigint,
        active               bigint,
        idle                 bigint,
        idle_in_transaction  bigint,
        waiting_on_lock      bigint,
        utilization_percent  numeric
    )
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.max_connections,
           s.reserved,
           a.connections,
           a.active,
           a.idle,
           a.idle_in_transaction,
           a.waiting_on_lock,
           round(100.0 * a.connections / NULLIF(s.max_connections - s.reserved, 0), 1)
      FROM (SELECT current_setting('max_connections')::integer AS max_connections,
                   current_setting('superuser_reserved_connections')::integer AS reserved) AS s,
           (SELECT count(*) AS connections,
                   count(*) FILTER (WHERE x.state = 'active') AS active,
                   count(*) FILTER (WHERE x.state = 'idle') AS idle,
                   count(*) FILTER (WHERE x.state LIKE 'idle in transaction%') AS idle_in_transaction,
                   count(*) FILTER (WHERE x.wait_event_type = 'Lock') AS waiting_on_lock
              FROM pg_catalog.pg_stat_activity AS x
             WHERE x.backend_type = 'client backend') AS a
$$;

-- Index usage: unused and oversized indexes, invalid ones.
CREATE VIEW adx_index_usage WITH (security_invoker = true) AS
SELECT s.schemaname AS schema_name,
       s.relname AS table_name,
       s.indexrelname AS index_name,
       s.idx_scan AS scans,
       s.idx_tup_read AS tuples_read,
       pg_relation_size(s.indexrelid) AS size_bytes,
       i.indisunique AS is_unique,
       i.indisprimary AS is_primary,
       i.indisvalid AS is_valid
  FROM pg_catalog.pg_stat_user_indexes AS s
  JOIN pg_catalog.pg_index AS i ON i.indexrelid = s.indexrelid;

COMMENT ON VIEW adx_index_usage IS
    'Per-index scans and size; candidates for removal have scans = 0 and are not unique.';

-- Query performance tracking ------------------------------------------------------------

-- pg_stat_statements needs shared_preload_libraries and a superuser to create it (it is
-- not a trusted extension). Migrations run as adx_owner, so normally the deploy creates
-- it; this block creates it only when running with the right to, and never fails.
DO $pgss$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pg_stat_statements') THEN
        RAISE NOTICE 'pg_stat_statements is not available: query performance tracking stays off';
    ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_stat_statements') THEN
        NULL;
    ELSIF (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user) THEN
        CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
    ELSE
        RAISE NOTICE 'pg_stat_statements is available but not installed; a superuser can run '
                     'CREATE EXTENSION pg_stat_statements (with it in shared_preload_libraries)';
    END IF;
END
$pgss$;

-- The top statements by total execution time. Resolves pg_stat_statements at call time, so
-- it works as soon as the extension is installed, and returns no rows (with a notice) while
-- it is not installed or not loaded.
CREATE FUNCTION adx_query_performance(p_limit integer DEFAULT 20)
    RETURNS TABLE (
        queryid          bigint,
        role_name        name,
        database_name    name,
        calls            bigint,
        total_exec_ms    double precision,
        mean_exec_ms     double precision,
        max_exec_ms      double precision,
        rows             bigint,
        shared_blks_hit  bigint,
        shared_blks_read bigint,
        query            text
    )
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pgss_schema name;
BEGIN
    SELECT n.nspname INTO pgss_schema
      FROM pg_catalog.pg_extension AS e
      JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_stat_statements';
    IF pgss_schema IS NULL THEN
        RAISE NOTICE 'pg_stat_statements is not installed';
        RETURN;
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT s.queryid, r.rolname, d.datname, s.calls, s.total_exec_time, s.mean_exec_time,'
        '       s.max_exec_time, s.rows, s.shared_blks_hit, s.shared_blks_read, s.query'
        '  FROM %I.pg_stat_statements AS s'
        '  LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = s.userid'
        '  LEFT JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid'
        ' ORDER BY s.total_exec_time DESC'
        ' LIMIT $1', pgss_schema)
        USING p_limit;
EXCEPTION
    WHEN object_not_in_prerequisite_state THEN
        -- "pg_stat_statements must be loaded via shared_preload_libraries"
        RAISE NOTICE 'pg_stat_statements is installed but not loaded: %', SQLERRM;
        RETURN;
END
$$;

-- Snapshots of pg_stat_statements, so that performance can be compared over time and
-- across statistics resets. Monitoring data: no tenant_id, not visible to the application.
CREATE TABLE query_performance_snapshots (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    captured_at      timestamptz NOT NULL DEFAULT now(),
    queryid          bigint,
    role_name        name,
    database_name    name,
    calls            bigint NOT NULL,
    total_exec_ms    double precision NOT NULL,
    mean_exec_ms     double precision NOT NULL,
    max_exec_ms      double precision NOT NULL,
    rows             bigint NOT NULL,
    shared_blks_hit  bigint NOT NULL,
    shared_blks_read bigint NOT NULL,
    query            text
);
CREATE INDEX query_performance_snapshots_captured_at_idx
    ON query_performance_snapshots (captured_at, queryid);

REVOKE ALL ON query_performance_snapshots FROM adx_app, adx_readonly;
GRANT SELECT, INSERT, DELETE ON query_performance_snapshots TO adx_monitor;

-- Records the current top statements; returns how many rows were captured. Snapshots older
-- than p_retention are deleted in the same call.
CREATE FUNCTION adx_capture_query_performance(
    p_limit     integer DEFAULT 100,
    p_retention interval DEFAULT interval '30 days'
) RETURNS integer
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    captured integer;
BEGIN
    DELETE FROM public.query_performance_snapshots AS q
     WHERE q.captured_at < pg_catalog.now() - p_retention;
    INSERT INTO public.query_performance_snapshots (
        queryid, role_name, database_name, calls, total_exec_ms, mean_exec_ms, max_exec_ms,
        rows, shared_blks_hit, shared_blks_read, query)
    SELECT p.queryid, p.role_name, p.database_name, p.calls, p.total_exec_ms, p.mean_exec_ms,
           p.max_exec_ms, p.rows, p.shared_blks_hit, p.shared_blks_read, p.query
      FROM public.adx_query_performance(p_limit) AS p;
    GET DIAGNOSTICS captured = ROW_COUNT;
    RETURN captured;
END
$$;

REVOKE ALL ON adx_connection_pool, adx_index_usage FROM adx_app, adx_readonly;
GRANT SELECT ON adx_connection_pool, adx_index_usage TO adx_monitor;

REVOKE EXECUTE ON FUNCTION
    adx_health_check(), adx_health_status(), adx_connection_pool_summary(),
    adx_query_performance(integer), adx_capture_query_performance(integer, interval)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    adx_health_check(), adx_health_status(), adx_connection_pool_summary(),
    adx_query_performance(integer), adx_capture_query_performance(integer, interval)
    TO adx_monitor;

-- Control-plane indexes ----------------------------------------------------------------
-- These tables stay small (one to a few rows per tenant): built inside the transaction.

-- Expiry sweeps of open invitations, per tenant.
CREATE INDEX tenant_invitations_pending_expiry_idx
    ON tenant_invitations (tenant_id, expires_at)
    WHERE status = 'pending';

-- Domains awaiting DNS verification, oldest check first.
CREATE INDEX tenant_custom_domains_pending_idx
    ON tenant_custom_domains (tenant_id, last_checked_at NULLS FIRST)
    WHERE status = 'pending';

-- Usage history per tenant, newest first (reports and quota checks).
CREATE INDEX tenant_usage_tenant_period_idx ON tenant_usage (tenant_id, period_start DESC, metric);

-- Containment queries on tenant settings (settings @> '{"sso_required": true}').
CREATE INDEX tenants_settings_gin_idx ON tenants USING gin (settings jsonb_path_ops);
