-- Clean: remove every test tenant ('test_' slugs and the test fixture ids) and its rows from
-- adx_core (public). Run by `adxdb clean` and, first, by the test seed. Superuser, one transaction.

-- Clear earlier test data ----------------------------------------------------------------
--
-- Tenant-stream tables have no foreign key to the registry, so each is cleared by
-- tenant_id explicitly (children before parents, although their own foreign keys cascade).
-- Shared-stream tables reference the registry ON DELETE RESTRICT: they go before tenants.
-- A final check fails the seed if any table with tenant_id still holds test rows, so a
-- table added by a later migration cannot be forgotten here silently.
DO $clear$
DECLARE
    test_ids uuid[];
    leftover text;
    tbl      regclass;
    has_rows boolean;
BEGIN
    SELECT array_agg(t.id) INTO test_ids
      FROM (SELECT id FROM tenants WHERE starts_with(slug, 'test_')
            UNION
            SELECT unnest(ARRAY['7e010000-0000-4000-8000-000000000001',
                                '7e010000-0000-4000-8000-000000000002',
                                '7e010000-0000-4000-8000-000000000003']::uuid[])) AS t (id);

    -- Schema or database test tenants keep their schema or database; only their registry
    -- row and control-plane rows (here) are removed.
    FOR leftover IN
        SELECT format('%s (%s: %s/%s)', slug, isolation_level, db_name, db_schema)
          FROM tenants
         WHERE id = ANY (test_ids) AND isolation_level <> 'rls'
    LOOP
        RAISE NOTICE 'test seed: removing registry row of non-rls test tenant %; its storage is not touched', leftover;
    END LOOP;

    -- Tenant stream: auth.
    DELETE FROM rate_limit_counters WHERE tenant_id = ANY (test_ids);
    DELETE FROM rate_limit_policies WHERE tenant_id = ANY (test_ids);
    DELETE FROM api_keys WHERE tenant_id = ANY (test_ids);
    DELETE FROM sso_user_mappings WHERE tenant_id = ANY (test_ids);
    DELETE FROM sso_providers WHERE tenant_id = ANY (test_ids);
    DELETE FROM mfa_recovery_codes WHERE tenant_id = ANY (test_ids);
    DELETE FROM user_mfa_factors WHERE tenant_id = ANY (test_ids);
    DELETE FROM email_verification_tokens WHERE tenant_id = ANY (test_ids);
    DELETE FROM password_reset_tokens WHERE tenant_id = ANY (test_ids);
    DELETE FROM sessions WHERE tenant_id = ANY (test_ids);
    -- Tenant stream: files.
    DELETE FROM file_tag_assignments WHERE tenant_id = ANY (test_ids);
    DELETE FROM file_tags WHERE tenant_id = ANY (test_ids);
    DELETE FROM file_thumbnails WHERE tenant_id = ANY (test_ids);
    DELETE FROM file_processing_jobs WHERE tenant_id = ANY (test_ids);
    DELETE FROM file_shares WHERE tenant_id = ANY (test_ids);
    DELETE FROM file_versions WHERE tenant_id = ANY (test_ids);
    DELETE FROM files WHERE tenant_id = ANY (test_ids);
    DELETE FROM folders WHERE tenant_id = ANY (test_ids);
    -- Tenant stream: workflows.
    DELETE FROM workflow_events WHERE tenant_id = ANY (test_ids);
    DELETE FROM workflow_activities WHERE tenant_id = ANY (test_ids);
    DELETE FROM ai_workflow_configs WHERE tenant_id = ANY (test_ids);
    DELETE FROM workflow_schedules WHERE tenant_id = ANY (test_ids);
    DELETE FROM workflow_executions WHERE tenant_id = ANY (test_ids);
    DELETE FROM workflow_templates WHERE tenant_id = ANY (test_ids);
    -- Tenant stream: users.
    DELETE FROM user_bookmarks WHERE tenant_id = ANY (test_ids);
    DELETE FROM user_connections WHERE tenant_id = ANY (test_ids);
    DELETE FROM user_skills WHERE tenant_id = ANY (test_ids);
    DELETE FROM skills WHERE tenant_id = ANY (test_ids);
    DELETE FROM team_members WHERE tenant_id = ANY (test_ids);
    DELETE FROM teams WHERE tenant_id = ANY (test_ids);
    DELETE FROM user_activity_logs WHERE tenant_id = ANY (test_ids);
    DELETE FROM notifications WHERE tenant_id = ANY (test_ids);
    DELETE FROM notification_settings WHERE tenant_id = ANY (test_ids);
    DELETE FROM user_preferences WHERE tenant_id = ANY (test_ids);
    DELETE FROM user_profiles WHERE tenant_id = ANY (test_ids);
    DELETE FROM users WHERE tenant_id = ANY (test_ids);
    -- Shared stream (control plane).
    DELETE FROM tenant_storage_configs WHERE tenant_id = ANY (test_ids);
    DELETE FROM tenant_backup_configs WHERE tenant_id = ANY (test_ids);
    DELETE FROM tenant_compliance_settings WHERE tenant_id = ANY (test_ids);
    DELETE FROM tenant_branding WHERE tenant_id = ANY (test_ids);
    DELETE FROM tenant_custom_domains WHERE tenant_id = ANY (test_ids);
    DELETE FROM tenant_invitations WHERE tenant_id = ANY (test_ids);
    DELETE FROM tenant_feature_flags WHERE tenant_id = ANY (test_ids);
    DELETE FROM tenant_quotas WHERE tenant_id = ANY (test_ids);
    DELETE FROM tenant_usage WHERE tenant_id = ANY (test_ids);
    DELETE FROM tenant_invoices WHERE tenant_id = ANY (test_ids);
    DELETE FROM tenant_billing WHERE tenant_id = ANY (test_ids);
    DELETE FROM tenants WHERE id = ANY (test_ids);

    FOR tbl IN
        SELECT c.oid::regclass
          FROM pg_catalog.pg_class AS c
          JOIN pg_catalog.pg_attribute AS a
            ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.relnamespace = 'public'::regnamespace
           AND c.relkind IN ('r', 'p')
    LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE tenant_id = ANY ($1))', tbl)
           INTO has_rows
          USING test_ids;
        IF has_rows THEN
            RAISE EXCEPTION 'test seed: table % still holds rows of test tenants', tbl
                USING HINT = 'Add a DELETE for this table to sql/seeds/test.sql.';
        END IF;
    END LOOP;
END
$clear$;
