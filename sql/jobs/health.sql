-- health: can we reach the database, as whom, over TLS, and what does it say of itself.
SELECT current_database() AS database,
       current_user AS "user",
       split_part(version(), ' ', 2) AS server_version,
       (SELECT CASE WHEN inet_client_addr() IS NULL THEN 'unix socket'
                    WHEN ssl THEN version ELSE 'none' END
          FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS tls,
       public.adx_health_status() AS status
