-- The running server's state: when it started, when it last read its configuration, and which
-- settings wait for a restart.
SELECT json_build_object(
    'start_time', extract(epoch FROM pg_postmaster_start_time()),
    'conf_load_time', extract(epoch FROM pg_conf_load_time()),
    'pending_restart', (
        SELECT coalesce(json_agg(name ORDER BY name), '[]'::json)
        FROM pg_settings WHERE pending_restart
    ),
    'file_errors', (
        SELECT coalesce(json_agg(DISTINCT sourcefile || ':' || sourceline || ': ' || error), '[]'::json)
        FROM pg_file_settings WHERE error IS NOT NULL AND error <> 'setting could not be applied'
    )
)
