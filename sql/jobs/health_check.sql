-- health-check: every check of adx_health_check(), worst first.
SELECT name, status, detail
FROM public.adx_health_check()
ORDER BY CASE status WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, name
