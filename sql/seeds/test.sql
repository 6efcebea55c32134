-- Seed: test fixtures for adx_core (public).
--
-- Runs after every migration of both streams, as the postgres superuser (RLS does not
-- filter it), with search_path = public, inside one transaction that the deploy opens and
-- commits. Every run first clears earlier test data, then inserts the same fixtures with
-- the same ids and timestamps: the end state is identical after any number of runs.
--
-- Test data is every tenant whose slug starts with 'test_' (plus the fixture ids below,
-- whatever their slug is now), and every row of those tenants in public. Nothing else is
-- touched: the development seed's tenants and any real tenant survive. The fixtures are
-- plain INSERTs: after the clearing a conflict can only mean a fixture id or key is held by
-- a row that is not test data, and that must fail the seed rather than be skipped.
--
-- Fixtures (rls tenants; ids 7eTT0000-000N-4000-8000-0000000000SS, N = tenant number):
--   test_alpha  active     owner, member, pending user, shared@example.test; a folder, two
--                          files (one with two versions); a live and an expired session
--   test_beta   active     owner and shared@example.test (the same address as in
--                          test_alpha: emails are unique per tenant only); a file; sessions
--   test_gamma  archived   one user (tenant_route() must not return it)
-- Passwords: 'test-password' (argon2id). Session tokens: the text passed to sha256().

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

-- Fixtures -------------------------------------------------------------------------------

INSERT INTO tenants (id, slug, name, status, isolation_level, db_host, db_port, db_name, db_schema,
                     settings, created_at, updated_at)
VALUES
    ('7e010000-0000-4000-8000-000000000001', 'test_alpha', 'Test Alpha', 'active', 'rls',
     NULL, 5432, 'adx_core', 'public', '{"seed": "test"}',
     '2025-01-01 00:00:00+00', '2025-01-01 00:00:00+00'),
    ('7e010000-0000-4000-8000-000000000002', 'test_beta', 'Test Beta', 'active', 'rls',
     NULL, 5432, 'adx_core', 'public', '{"seed": "test"}',
     '2025-01-01 00:00:00+00', '2025-01-01 00:00:00+00'),
    ('7e010000-0000-4000-8000-000000000003', 'test_gamma', 'Test Gamma', 'archived', 'rls',
     NULL, 5432, 'adx_core', 'public', '{"seed": "test"}',
     '2025-01-01 00:00:00+00', '2025-01-01 00:00:00+00');

INSERT INTO tenant_billing (id, tenant_id, plan, subscription_status, billing_email, currency,
                            trial_ends_at, current_period_start, current_period_end, created_at,
                            updated_at)
VALUES
    ('7e140000-0001-4000-8000-000000000001', '7e010000-0000-4000-8000-000000000001',
     'professional', 'active', 'billing@test-alpha.example', 'USD', NULL,
     '2025-01-01 00:00:00+00', '2025-02-01 00:00:00+00',
     '2025-01-01 00:00:00+00', '2025-01-01 00:00:00+00'),
    ('7e140000-0002-4000-8000-000000000001', '7e010000-0000-4000-8000-000000000002',
     'free', 'trialing', 'billing@test-beta.example', 'EUR', '2099-01-01 00:00:00+00',
     NULL, NULL, '2025-01-01 00:00:00+00', '2025-01-01 00:00:00+00'),
    ('7e140000-0003-4000-8000-000000000001', '7e010000-0000-4000-8000-000000000003',
     'free', 'cancelled', NULL, 'USD', NULL, NULL, NULL,
     '2025-01-01 00:00:00+00', '2025-01-01 00:00:00+00');

INSERT INTO users (id, tenant_id, email, email_verified_at, password_hash, display_name, status,
                   roles, last_login_at, created_at, updated_at)
VALUES
    ('7e020000-0001-4000-8000-000000000001', '7e010000-0000-4000-8000-000000000001',
     'owner@test-alpha.example', '2025-01-01 00:00:00+00',
     '$argon2id$v=19$m=65536,t=3,p=4$elxLi+dW6355wUAPwve4fA$Q9bEUuzoN2DGMwpqR2usjTfs6T1en9XdZJKQ07Mj/m4',
     'Alpha Owner', 'active', '{admin,member}', NULL,
     '2025-01-01 00:00:00+00', '2025-01-01 00:00:00+00'),
    ('7e020000-0001-4000-8000-000000000002', '7e010000-0000-4000-8000-000000000001',
     'member@test-alpha.example', '2025-01-01 00:00:00+00',
     '$argon2id$v=19$m=65536,t=3,p=4$elxLi+dW6355wUAPwve4fA$Q9bEUuzoN2DGMwpqR2usjTfs6T1en9XdZJKQ07Mj/m4',
     'Alpha Member', 'active', '{member}', NULL,
     '2025-01-01 00:01:00+00', '2025-01-01 00:01:00+00'),
    ('7e020000-0001-4000-8000-000000000003', '7e010000-0000-4000-8000-000000000001',
     'pending@test-alpha.example', NULL, NULL, 'Alpha Pending', 'pending', '{member}', NULL,
     '2025-01-01 00:02:00+00', '2025-01-01 00:02:00+00'),
    ('7e020000-0001-4000-8000-000000000004', '7e010000-0000-4000-8000-000000000001',
     'shared@example.test', '2025-01-01 00:00:00+00',
     '$argon2id$v=19$m=65536,t=3,p=4$elxLi+dW6355wUAPwve4fA$Q9bEUuzoN2DGMwpqR2usjTfs6T1en9XdZJKQ07Mj/m4',
     'Shared (Alpha)', 'active', '{member}', NULL,
     '2025-01-01 00:03:00+00', '2025-01-01 00:03:00+00'),
    ('7e020000-0002-4000-8000-000000000001', '7e010000-0000-4000-8000-000000000002',
     'owner@test-beta.example', '2025-01-01 00:00:00+00',
     '$argon2id$v=19$m=65536,t=3,p=4$elxLi+dW6355wUAPwve4fA$Q9bEUuzoN2DGMwpqR2usjTfs6T1en9XdZJKQ07Mj/m4',
     'Beta Owner', 'active', '{admin,member}', NULL,
     '2025-01-01 00:00:00+00', '2025-01-01 00:00:00+00'),
    ('7e020000-0002-4000-8000-000000000002', '7e010000-0000-4000-8000-000000000002',
     'shared@example.test', '2025-01-01 00:00:00+00',
     '$argon2id$v=19$m=65536,t=3,p=4$elxLi+dW6355wUAPwve4fA$Q9bEUuzoN2DGMwpqR2usjTfs6T1en9XdZJKQ07Mj/m4',
     'Shared (Beta)', 'active', '{member}', NULL,
     '2025-01-01 00:01:00+00', '2025-01-01 00:01:00+00'),
    ('7e020000-0003-4000-8000-000000000001', '7e010000-0000-4000-8000-000000000003',
     'owner@test-gamma.example', '2025-01-01 00:00:00+00',
     '$argon2id$v=19$m=65536,t=3,p=4$elxLi+dW6355wUAPwve4fA$Q9bEUuzoN2DGMwpqR2usjTfs6T1en9XdZJKQ07Mj/m4',
     'Gamma Owner', 'suspended', '{admin,member}', NULL,
     '2025-01-01 00:00:00+00', '2025-01-01 00:00:00+00');

INSERT INTO folders (id, tenant_id, parent_id, owner_id, name, created_at, updated_at)
VALUES
    ('7e050000-0001-4000-8000-000000000001', '7e010000-0000-4000-8000-000000000001', NULL,
     '7e020000-0001-4000-8000-000000000001', 'Specs',
     '2025-01-01 01:00:00+00', '2025-01-01 01:00:00+00');

INSERT INTO files (id, tenant_id, owner_id, folder_id, name, mime_type, size_bytes,
                   checksum_sha256, storage_backend, storage_key, status, metadata, created_at,
                   updated_at)
VALUES
    ('7e030000-0001-4000-8000-000000000001', '7e010000-0000-4000-8000-000000000001',
     '7e020000-0001-4000-8000-000000000001', '7e050000-0001-4000-8000-000000000001',
     'spec.pdf', 'application/pdf', 2048,
     '4f768e1b5de4ef488538c5658bacfc4b6dc5ee2941378745eef7169eae1f7f4f', 'local',
     'test_alpha/files/7e030000-0001-4000-8000-000000000001/v2', 'ready', '{"kind": "spec"}',
     '2025-01-01 02:00:00+00', '2025-01-01 03:00:00+00'),
    -- Upload in progress: no checksum yet.
    ('7e030000-0001-4000-8000-000000000002', '7e010000-0000-4000-8000-000000000001',
     '7e020000-0001-4000-8000-000000000002', NULL,
     'notes.txt', 'text/plain', 0, NULL, 'local',
     'test_alpha/files/7e030000-0001-4000-8000-000000000002/v1', 'uploading', '{}',
     '2025-01-01 04:00:00+00', '2025-01-01 04:00:00+00'),
    ('7e030000-0002-4000-8000-000000000001', '7e010000-0000-4000-8000-000000000002',
     '7e020000-0002-4000-8000-000000000001', NULL,
     'data.csv', 'text/csv', 512,
     'ab1f0a29c14ddc8ee4740e4e4f88426c7e9fd6ae617c5c0428d8d37eab45e4be', 'local',
     'test_beta/files/7e030000-0002-4000-8000-000000000001/v1', 'ready', '{}',
     '2025-01-01 02:00:00+00', '2025-01-01 02:00:00+00');

INSERT INTO file_versions (id, tenant_id, file_id, version_number, size_bytes, checksum_sha256,
                           storage_backend, storage_key, created_by, change_note, created_at)
VALUES
    ('7e060000-0001-4000-8000-000000000001', '7e010000-0000-4000-8000-000000000001',
     '7e030000-0001-4000-8000-000000000001', 1, 1024,
     '00ba5a1cd63697126ba6fc3dc62778bc8fe35c60bfdb516ea7a707d37a87fb30', 'local',
     'test_alpha/files/7e030000-0001-4000-8000-000000000001/v1',
     '7e020000-0001-4000-8000-000000000001', NULL, '2025-01-01 02:00:00+00'),
    ('7e060000-0001-4000-8000-000000000002', '7e010000-0000-4000-8000-000000000001',
     '7e030000-0001-4000-8000-000000000001', 2, 2048,
     '4f768e1b5de4ef488538c5658bacfc4b6dc5ee2941378745eef7169eae1f7f4f', 'local',
     'test_alpha/files/7e030000-0001-4000-8000-000000000001/v2',
     '7e020000-0001-4000-8000-000000000002', 'second version', '2025-01-01 03:00:00+00');

INSERT INTO sessions (id, tenant_id, user_id, token_hash, ip_address, user_agent, created_at,
                      last_seen_at, expires_at, revoked_at)
VALUES
    ('7e040000-0001-4000-8000-000000000001', '7e010000-0000-4000-8000-000000000001',
     '7e020000-0001-4000-8000-000000000001', sha256('test-session-alpha-owner'::bytea),
     '127.0.0.1', 'adx-tests', '2025-01-01 05:00:00+00', '2025-01-01 05:00:00+00',
     '2099-01-01 00:00:00+00', NULL),
    ('7e040000-0001-4000-8000-000000000002', '7e010000-0000-4000-8000-000000000001',
     '7e020000-0001-4000-8000-000000000002', sha256('test-session-alpha-member-expired'::bytea),
     '127.0.0.1', 'adx-tests', '2025-01-01 05:00:00+00', '2025-01-01 05:30:00+00',
     '2025-01-02 05:00:00+00', NULL),
    ('7e040000-0001-4000-8000-000000000003', '7e010000-0000-4000-8000-000000000001',
     '7e020000-0001-4000-8000-000000000004', sha256('test-session-alpha-shared-revoked'::bytea),
     '127.0.0.1', 'adx-tests', '2025-01-01 05:00:00+00', '2025-01-01 05:10:00+00',
     '2099-01-01 00:00:00+00', '2025-01-01 05:10:00+00'),
    ('7e040000-0002-4000-8000-000000000001', '7e010000-0000-4000-8000-000000000002',
     '7e020000-0002-4000-8000-000000000001', sha256('test-session-beta-owner'::bytea),
     '127.0.0.1', 'adx-tests', '2025-01-01 05:00:00+00', '2025-01-01 05:00:00+00',
     '2099-01-01 00:00:00+00', NULL),
    ('7e040000-0002-4000-8000-000000000002', '7e010000-0000-4000-8000-000000000002',
     '7e020000-0002-4000-8000-000000000002', sha256('test-session-beta-shared'::bytea),
     '127.0.0.1', 'adx-tests', '2025-01-01 05:00:00+00', '2025-01-01 05:00:00+00',
     '2099-01-01 00:00:00+00', NULL);
