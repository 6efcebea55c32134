-- A session that carries a password verifier: none of its statements may reach the server
-- log (whatever the inventory's logging settings), pg_stat_activity or pg_stat_statements.
-- Runs as the postgres superuser, who may set every one of these for its own session.
SET log_statement = 'none';
SET log_min_error_statement = 'panic';
SET log_min_duration_statement = -1;
SET log_duration = off;
SET debug_print_parse = off;
SET debug_print_rewritten = off;
SET debug_print_plan = off;
SET track_activities = off;
SET pg_stat_statements.track = 'none';
SET pg_stat_statements.track_utility = off;
