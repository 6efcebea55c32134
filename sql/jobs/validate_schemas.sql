-- validate: the registry's schema tenants against the schemas that exist (missing, orphans).
SELECT problem, slug, schema_name
FROM public.tenant_schema_drift()
ORDER BY schema_name
