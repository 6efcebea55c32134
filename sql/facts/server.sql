-- The running server's state: when it started, when it last read its configuration, which
-- settings wait for a restart, and the restart-only settings as they run (for the plan).
SELECT json_build_object(
    'start_time', extract(epoch FROM pg_postmaster_start_time()),
    'conf_load_time', extract(epoch FROM pg_conf_load_time()),
    'pending_restart', (
        SELECT coalesce(json_agg(name ORDER BY name), '[]'::json)
        FROM pg_settings WHERE pending_restart
    ),
    'restart_settings', (
        SELECT coalesce(json_object_agg(name, json_build_object('setting', setting, 'sourcefile', sourcefile)), '{}'::json)
        FROM pg_settings WHERE context = 'postmaster'
    ),
    -- Errors in the files. Not errors: a changed setting that waits for a restart ('setting
    -- could not be applied') and a removed one that does (no file: pending_restart says it).
    'file_errors', (
        SELECT coalesce(json_agg(DISTINCT format('%s:%s: %s', sourcefile, sourceline, error)), '[]'::json)
        FROM pg_file_settings
        WHERE error IS NOT NULL AND error <> 'setting could not be applied' AND sourcefile IS NOT NULL
    )
)
