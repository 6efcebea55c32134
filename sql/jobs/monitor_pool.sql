-- monitor-pool: server-side connection use.
SELECT * FROM public.adx_connection_pool_summary()
