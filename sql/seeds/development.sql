-- Seed: development data for adx_core (public).
--
-- Runs after every migration of both streams, as the postgres superuser (RLS does not
-- filter it), with search_path = public, inside one transaction that the deploy opens and
-- commits. Re-runnable: every row has a fixed id and every INSERT ends in ON CONFLICT, so
-- any number of runs leaves the same rows. Nothing random, nothing keyed on now().
--
-- Conflict handling:
--   tenants and users: ON CONFLICT (id) DO UPDATE of the display name only, and only when
--     it differs (no updated_at churn on a converged run). A clash on another unique key
--     (a non-seed tenant already holding a seed slug, an app-created user with a seed
--     email) is NOT swallowed: it aborts the seed with the constraint's name, so seed data
--     is never attached to someone else's row.
--   everything else: ON CONFLICT DO NOTHING (the row exists, in whatever state a developer
--     left it).
--
-- Tenants (slugs start with dev_, settings.seed = 'development'):
--   rls       dev_acme (active), dev_initech (active, trial), dev_umbrella (suspended)
--   schema    dev_globex, dev_soylent       -> schema tenant_<slug> in adx_core
--   database  dev_wayne, dev_stark          -> database adx_tenant_<slug> on host tenant1
-- Schema and database tenants are registered as 'provisioning' (registered, storage not
-- ready yet): this seed does not create their schema or database, which is the tenant
-- provisioning's job, so adx_health_check() reports their schemas as missing until then.
-- Their control-plane rows (billing, feature flags) live here; their tenant data (users,
-- files, ...) lives in their own schema or database, so none is seeded.
--
-- Ids: deTT0000-000N-4000-8000-0000000000SS (TT = table, N = tenant number, SS = row).
--
-- Credentials for local use only (never valid anywhere else):
--   every user with a password: password 'dev-password' (argon2id)
--   session tokens: the text passed to sha256() below, e.g. 'dev-session-acme-alice-1'
--   API key: 'adxdev_acme_ci.dev-secret-acme-ci'

-- Tenants registry ----------------------------------------------------------------------

INSERT INTO tenants (id, slug, name, status, isolation_level, db_host, db_port, db_name, db_schema,
                     settings, created_at)
VALUES
    ('de010000-0000-4000-8000-000000000001', 'dev_acme', 'Acme Corporation (dev)', 'active', 'rls',
     NULL, 5432, 'adx_core', 'public',
     '{"seed": "development", "locale": "en-US", "timezone": "America/New_York"}',
     '2025-01-02 09:00:00+00'),
    ('de010000-0000-4000-8000-000000000002', 'dev_initech', 'Initech (dev)', 'active', 'rls',
     NULL, 5432, 'adx_core', 'public',
     '{"seed": "development", "locale": "en-US", "timezone": "America/Chicago"}',
     '2025-01-03 09:00:00+00'),
    ('de010000-0000-4000-8000-000000000003', 'dev_umbrella', 'Umbrella Corporation (dev)', 'suspended',
     'rls', NULL, 5432, 'adx_core', 'public',
     '{"seed": "development", "locale": "en-GB", "timezone": "Europe/London"}',
     '2025-01-03 10:00:00+00'),
    ('de010000-0000-4000-8000-000000000004', 'dev_globex', 'Globex (dev)', 'provisioning', 'schema',
     NULL, 5432, 'adx_core', 'tenant_dev_globex',
     '{"seed": "development", "locale": "en-US", "timezone": "UTC"}',
     '2025-01-04 09:00:00+00'),
    ('de010000-0000-4000-8000-000000000005', 'dev_soylent', 'Soylent (dev)', 'provisioning', 'schema',
     NULL, 5432, 'adx_core', 'tenant_dev_soylent',
     '{"seed": "development", "locale": "en-US", "timezone": "UTC"}',
     '2025-01-04 10:00:00+00'),
    ('de010000-0000-4000-8000-000000000006', 'dev_wayne', 'Wayne Enterprises (dev)', 'provisioning',
     'database', 'tenant1', 5432, 'adx_tenant_dev_wayne', 'public',
     '{"seed": "development", "locale": "en-US", "timezone": "America/New_York", "sso_required": true}',
     '2025-01-05 09:00:00+00'),
    ('de010000-0000-4000-8000-000000000007', 'dev_stark', 'Stark Industries (dev)', 'provisioning',
     'database', 'tenant1', 5432, 'adx_tenant_dev_stark', 'public',
     '{"seed": "development", "locale": "en-US", "timezone": "America/Los_Angeles"}',
     '2025-01-05 10:00:00+00')
ON CONFLICT (id) DO UPDATE
    SET name = EXCLUDED.name
    WHERE tenants.name IS DISTINCT FROM EXCLUDED.name;

-- Feature flags (platform-wide definitions) and per-tenant overrides ------------------------

INSERT INTO feature_flags (id, key, description, default_enabled)
VALUES
    ('de120000-0000-4000-8000-000000000001', 'files.versioning',
     'Keep every uploaded version of a file', true),
    ('de120000-0000-4000-8000-000000000002', 'files.share_links',
     'Share files through links usable without an account', true),
    ('de120000-0000-4000-8000-000000000003', 'workflows.ai',
     'AI workflows (summaries, classification)', false),
    ('de120000-0000-4000-8000-000000000004', 'workflows.scheduler',
     'Scheduled workflows', true),
    ('de120000-0000-4000-8000-000000000005', 'ui.new_dashboard',
     'The redesigned dashboard', false),
    ('de120000-0000-4000-8000-000000000006', 'auth.sso',
     'Single sign-on with the tenant''s identity provider', false)
ON CONFLICT DO NOTHING;

-- Resolved by key: a flag defined before this seed (with another id) is used as it is.
INSERT INTO tenant_feature_flags (id, tenant_id, flag_id, enabled, rollout)
SELECT v.id::uuid, v.tenant_id::uuid, f.id, v.enabled, v.rollout::jsonb
  FROM (VALUES
        ('de130000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
         'workflows.ai', true, '{}'),
        ('de130000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
         'ui.new_dashboard', true, '{"percentage": 50}'),
        ('de130000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
         'files.share_links', false, '{}'),
        ('de130000-0004-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000004',
         'auth.sso', true, '{}'),
        ('de130000-0006-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000006',
         'auth.sso', true, '{}'),
        ('de130000-0006-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000006',
         'workflows.ai', true, '{}'),
        ('de130000-0007-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000007',
         'ui.new_dashboard', true, '{"user_ids": []}')
       ) AS v (id, tenant_id, flag_key, enabled, rollout)
  JOIN feature_flags AS f ON f.key = v.flag_key
ON CONFLICT DO NOTHING;

-- Billing and usage (control plane) --------------------------------------------------------

INSERT INTO tenant_billing (id, tenant_id, plan, subscription_status, billing_email,
                            external_customer_id, external_subscription_id, currency,
                            trial_ends_at, current_period_start, current_period_end, created_at)
VALUES
    ('de140000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'professional', 'active', 'billing@acme.example', 'cus_dev_acme', 'sub_dev_acme', 'USD',
     NULL, '2025-01-01 00:00:00+00', '2025-02-01 00:00:00+00', '2025-01-02 09:00:00+00'),
    ('de140000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'starter', 'trialing', 'accounts@initech.example', 'cus_dev_initech', NULL, 'USD',
     '2025-02-03 09:00:00+00', '2025-01-03 00:00:00+00', '2025-02-03 00:00:00+00',
     '2025-01-03 09:00:00+00'),
    ('de140000-0003-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000003',
     'starter', 'past_due', 'finance@umbrella.example', 'cus_dev_umbrella', 'sub_dev_umbrella', 'GBP',
     NULL, '2025-01-01 00:00:00+00', '2025-02-01 00:00:00+00', '2025-01-03 10:00:00+00'),
    ('de140000-0004-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000004',
     'enterprise', 'active', 'billing@globex.example', 'cus_dev_globex', 'sub_dev_globex', 'USD',
     NULL, '2025-01-01 00:00:00+00', '2026-01-01 00:00:00+00', '2025-01-04 09:00:00+00'),
    ('de140000-0005-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000005',
     'professional', 'active', 'billing@soylent.example', 'cus_dev_soylent', 'sub_dev_soylent', 'USD',
     NULL, '2025-01-01 00:00:00+00', '2025-02-01 00:00:00+00', '2025-01-04 10:00:00+00'),
    ('de140000-0006-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000006',
     'enterprise', 'active', 'billing@wayne.example', 'cus_dev_wayne', 'sub_dev_wayne', 'USD',
     NULL, '2025-01-01 00:00:00+00', '2026-01-01 00:00:00+00', '2025-01-05 09:00:00+00'),
    ('de140000-0007-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000007',
     'enterprise', 'trialing', 'billing@stark.example', 'cus_dev_stark', NULL, 'USD',
     '2025-02-04 10:00:00+00', '2025-01-05 00:00:00+00', '2025-02-05 00:00:00+00',
     '2025-01-05 10:00:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO tenant_invoices (id, tenant_id, invoice_number, status, currency, subtotal_cents,
                             tax_cents, period_start, period_end, issued_at, due_at, paid_at,
                             created_at)
VALUES
    ('de150000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'DEV-ACME-2024-12', 'paid', 'USD', 49900, 4117, '2024-12-01', '2024-12-31',
     '2025-01-01 00:00:00+00', '2025-01-15 00:00:00+00', '2025-01-05 12:00:00+00',
     '2025-01-01 00:00:00+00'),
    ('de150000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'DEV-ACME-2025-01', 'open', 'USD', 49900, 4117, '2025-01-01', '2025-01-31',
     '2025-02-01 00:00:00+00', '2025-02-15 00:00:00+00', NULL, '2025-02-01 00:00:00+00'),
    ('de150000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'DEV-ACME-2025-02', 'draft', 'USD', 12500, 0, '2025-02-01', '2025-02-28',
     NULL, NULL, NULL, '2025-02-01 00:00:00+00'),
    ('de150000-0003-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000003',
     'DEV-UMBRELLA-2024-12', 'open', 'GBP', 1900, 380, '2024-12-01', '2024-12-31',
     '2025-01-01 00:00:00+00', '2025-01-15 00:00:00+00', NULL, '2025-01-01 00:00:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO tenant_usage (id, tenant_id, metric, period_start, period_end, quantity)
VALUES
    ('de160000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'storage.bytes', '2025-01-01', '2025-01-31', 7340032),
    ('de160000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'api.requests', '2025-01-01', '2025-01-31', 18250),
    ('de160000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'workflow.executions', '2025-01-01', '2025-01-31', 3),
    ('de160000-0001-4000-8000-000000000004', 'de010000-0000-4000-8000-000000000001',
     'users.active', '2025-01-01', '2025-01-31', 3),
    ('de160000-0001-4000-8000-000000000005', 'de010000-0000-4000-8000-000000000001',
     'storage.bytes', '2024-12-01', '2024-12-31', 5242880),
    ('de160000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'storage.bytes', '2025-01-01', '2025-01-31', 393216),
    ('de160000-0002-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000002',
     'api.requests', '2025-01-01', '2025-01-31', 1200),
    ('de160000-0002-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000002',
     'workflow.executions', '2025-01-01', '2025-01-31', 1),
    ('de160000-0003-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000003',
     'storage.bytes', '2025-01-01', '2025-01-31', 2048)
ON CONFLICT DO NOTHING;

-- NULL hard_limit: unlimited.
INSERT INTO tenant_quotas (id, tenant_id, metric, hard_limit, soft_limit)
VALUES
    ('de170000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'storage.bytes', 107374182400, 85899345920),
    ('de170000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'users.active', 50, 45),
    ('de170000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'api.requests', NULL, 1000000),
    ('de170000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'storage.bytes', 10737418240, 8589934592),
    ('de170000-0002-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000002',
     'users.active', 10, NULL),
    ('de170000-0003-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000003',
     'storage.bytes', 1073741824, NULL)
ON CONFLICT DO NOTHING;

-- Tenant configuration (control plane; rls tenants) -------------------------------------

INSERT INTO tenant_storage_configs (id, tenant_id, name, backend, bucket, region, path_prefix,
                                    credentials_ref, is_default, quota_bytes, options)
VALUES
    ('de180000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'default', 'local', NULL, NULL, 'dev_acme/', NULL, true, NULL, '{}'),
    ('de180000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'archive', 's3', 'adx-dev-acme-archive', 'us-east-1', 'archive/',
     'secret/dev/dev_acme/s3-archive', false, 53687091200, '{"storage_class": "GLACIER_IR"}'),
    ('de180000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'default', 'local', NULL, NULL, 'dev_initech/', NULL, true, NULL, '{}'),
    ('de180000-0003-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000003',
     'default', 'local', NULL, NULL, 'dev_umbrella/', NULL, true, NULL, '{}')
ON CONFLICT DO NOTHING;

INSERT INTO tenant_branding (id, tenant_id, display_name, logo_url, favicon_url, primary_color,
                             secondary_color, email_from_name, support_email)
VALUES
    ('de190000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'Acme', 'https://cdn.acme.example/logo.svg', 'https://cdn.acme.example/favicon.ico',
     '#D62828', '#003049', 'Acme Files', 'support@acme.example'),
    ('de190000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'Initech', NULL, NULL, '#1D3557', NULL, 'Initech', 'helpdesk@initech.example')
ON CONFLICT DO NOTHING;

INSERT INTO tenant_compliance_settings (id, tenant_id, data_residency_region, data_retention_days,
                                        audit_log_retention_days, gdpr_enabled, hipaa_enabled,
                                        soc2_enabled, require_mfa, allowed_ip_ranges)
VALUES
    ('de1a0000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'us-east', 2555, 730, true, false, true, false, '{}'),
    ('de1a0000-0003-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000003',
     'eu-west', NULL, 365, true, false, false, true, '{10.0.0.0/8,192.168.0.0/16}')
ON CONFLICT DO NOTHING;

INSERT INTO tenant_backup_configs (id, tenant_id, enabled, schedule_cron, retention_days,
                                   destination, credentials_ref, encrypt, last_export_at,
                                   last_export_status)
VALUES
    ('de1b0000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     true, '0 3 * * *', 30, 'repo-dev/tenants/dev_acme', 'secret/dev/dev_acme/backup', true,
     '2025-01-06 03:00:00+00', 'succeeded'),
    ('de1b0000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     false, '0 4 * * 0', 14, NULL, NULL, true, NULL, NULL)
ON CONFLICT DO NOTHING;

-- Tokens are digests of 'dev-invite-<tenant>-<name>'.
INSERT INTO tenant_invitations (id, tenant_id, email, role, token_hash, status, invited_by,
                                created_at, expires_at, accepted_at)
VALUES
    ('de1c0000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'erin@acme.example', 'member', sha256('dev-invite-acme-erin'::bytea), 'pending',
     'de020000-0001-4000-8000-000000000001', '2025-01-06 10:00:00+00', '2035-01-06 10:00:00+00',
     NULL),
    ('de1c0000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'carol@acme.example', 'member', sha256('dev-invite-acme-carol'::bytea), 'accepted',
     'de020000-0001-4000-8000-000000000001', '2025-01-02 10:00:00+00', '2025-01-09 10:00:00+00',
     '2025-01-02 11:00:00+00'),
    ('de1c0000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'michael@initech.example', 'member', sha256('dev-invite-initech-michael'::bytea), 'pending',
     'de020000-0002-4000-8000-000000000001', '2025-01-06 10:00:00+00', '2035-01-06 10:00:00+00',
     NULL)
ON CONFLICT DO NOTHING;

INSERT INTO tenant_custom_domains (id, tenant_id, domain, status, verification_token, verified_at,
                                   last_checked_at)
VALUES
    ('de1d0000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'files.acme.example', 'verified', 'adx-verify-dev-acme-files', '2025-01-04 12:00:00+00',
     '2025-01-06 12:00:00+00'),
    ('de1d0000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'portal.initech.example', 'pending', 'adx-verify-dev-initech-portal', NULL, NULL)
ON CONFLICT DO NOTHING;

-- Users (tenant stream; rls tenants) -----------------------------------------------------

INSERT INTO users (id, tenant_id, email, email_verified_at, password_hash, display_name, status,
                   roles, last_login_at, created_at)
VALUES
    ('de020000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'alice@acme.example', '2025-01-02 09:05:00+00',
     '$argon2id$v=19$m=65536,t=3,p=4$UXH8MX9n3ESoKL/yFCunsg$e3CABOGchB1POsYScDnXez5ca6MNCV0xUia94vkPQLs',
     'Alice Admin', 'active', '{admin,member}', '2025-01-06 08:55:00+00', '2025-01-02 09:00:00+00'),
    ('de020000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'bob@acme.example', '2025-01-02 10:05:00+00',
     '$argon2id$v=19$m=65536,t=3,p=4$UXH8MX9n3ESoKL/yFCunsg$e3CABOGchB1POsYScDnXez5ca6MNCV0xUia94vkPQLs',
     'Bob Builder', 'active', '{member}', '2025-01-05 14:20:00+00', '2025-01-02 10:00:00+00'),
    ('de020000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'carol@acme.example', '2025-01-02 11:05:00+00',
     '$argon2id$v=19$m=65536,t=3,p=4$UXH8MX9n3ESoKL/yFCunsg$e3CABOGchB1POsYScDnXez5ca6MNCV0xUia94vkPQLs',
     'Carol Designer', 'active', '{member}', '2025-01-06 07:40:00+00', '2025-01-02 11:00:00+00'),
    -- Signed up, email not verified yet, no password set.
    ('de020000-0001-4000-8000-000000000004', 'de010000-0000-4000-8000-000000000001',
     'dave@acme.example', NULL, NULL, 'Dave Newhire', 'pending', '{member}', NULL,
     '2025-01-06 09:30:00+00'),
    ('de020000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'peter@initech.example', '2025-01-03 09:05:00+00',
     '$argon2id$v=19$m=65536,t=3,p=4$UXH8MX9n3ESoKL/yFCunsg$e3CABOGchB1POsYScDnXez5ca6MNCV0xUia94vkPQLs',
     'Peter Gibbons', 'active', '{admin,member}', '2025-01-06 09:10:00+00', '2025-01-03 09:00:00+00'),
    ('de020000-0002-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000002',
     'samir@initech.example', '2025-01-03 09:35:00+00',
     '$argon2id$v=19$m=65536,t=3,p=4$UXH8MX9n3ESoKL/yFCunsg$e3CABOGchB1POsYScDnXez5ca6MNCV0xUia94vkPQLs',
     'Samir Nagheenanajar', 'active', '{member}', NULL, '2025-01-03 09:30:00+00'),
    ('de020000-0002-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000002',
     'milton@initech.example', '2025-01-03 09:45:00+00',
     '$argon2id$v=19$m=65536,t=3,p=4$UXH8MX9n3ESoKL/yFCunsg$e3CABOGchB1POsYScDnXez5ca6MNCV0xUia94vkPQLs',
     'Milton Waddams', 'deactivated', '{member}', NULL, '2025-01-03 09:40:00+00'),
    ('de020000-0003-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000003',
     'albert@umbrella.example', '2025-01-03 10:05:00+00',
     '$argon2id$v=19$m=65536,t=3,p=4$UXH8MX9n3ESoKL/yFCunsg$e3CABOGchB1POsYScDnXez5ca6MNCV0xUia94vkPQLs',
     'Albert Wesker', 'active', '{admin,member}', '2025-01-04 18:00:00+00', '2025-01-03 10:00:00+00')
ON CONFLICT (id) DO UPDATE
    SET display_name = EXCLUDED.display_name
    WHERE users.display_name IS DISTINCT FROM EXCLUDED.display_name;

INSERT INTO user_profiles (id, tenant_id, user_id, first_name, last_name, job_title, department,
                           phone, location)
VALUES
    ('de1e0000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', 'Alice', 'Admin', 'IT Director', 'IT',
     '+1 555 0100', 'New York'),
    ('de1e0000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000002', 'Bob', 'Builder', 'Engineer', 'Engineering',
     NULL, 'Boston'),
    ('de1e0000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000003', 'Carol', 'Designer', 'Product Designer', 'Design',
     NULL, 'Remote'),
    ('de1e0000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'de020000-0002-4000-8000-000000000001', 'Peter', 'Gibbons', 'Software Engineer', 'Engineering',
     '+1 555 0199', 'Austin'),
    ('de1e0000-0003-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000003',
     'de020000-0003-4000-8000-000000000001', 'Albert', 'Wesker', 'Research Lead', 'Research',
     NULL, 'Raccoon City')
ON CONFLICT DO NOTHING;

INSERT INTO user_preferences (id, tenant_id, user_id, locale, timezone, theme, preferences)
VALUES
    ('de1f0000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', 'en-US', 'America/New_York', 'dark',
     '{"dashboard": {"pinned": ["files", "workflows"]}}'),
    ('de1f0000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000002', 'en-US', 'America/New_York', 'system', '{}'),
    ('de1f0000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000003', 'fr', 'Europe/Paris', 'light', '{}'),
    ('de1f0000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'de020000-0002-4000-8000-000000000001', 'en-US', 'America/Chicago', 'system', '{}'),
    ('de1f0000-0003-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000003',
     'de020000-0003-4000-8000-000000000001', 'en-GB', 'Europe/London', 'dark', '{}')
ON CONFLICT DO NOTHING;

INSERT INTO notification_settings (id, tenant_id, user_id, channel, event_type, enabled, digest)
VALUES
    ('de200000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', 'email', '*', true, 'daily'),
    ('de200000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', 'in_app', '*', true, 'immediate'),
    ('de200000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', 'email', 'workflow.failed', true, 'immediate'),
    ('de200000-0001-4000-8000-000000000004', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000002', 'email', '*', false, 'never')
ON CONFLICT DO NOTHING;

INSERT INTO email_verification_tokens (id, tenant_id, user_id, email, token_hash, created_at,
                                       expires_at)
VALUES
    ('de2f0000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000004', 'dave@acme.example',
     sha256('dev-verify-acme-dave'::bytea), '2025-01-06 09:30:00+00', '2035-01-06 09:30:00+00')
ON CONFLICT DO NOTHING;

-- Teams ----------------------------------------------------------------------------------

INSERT INTO teams (id, tenant_id, name, description, parent_team_id, created_by, created_at)
VALUES
    ('de230000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'Engineering', 'Everyone who builds things', NULL, 'de020000-0001-4000-8000-000000000001',
     '2025-01-02 12:00:00+00'),
    ('de230000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'Platform', 'Infrastructure and developer tooling', 'de230000-0001-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', '2025-01-02 12:05:00+00'),
    ('de230000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'Design', NULL, NULL, 'de020000-0001-4000-8000-000000000003', '2025-01-02 12:10:00+00'),
    ('de230000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'Software', NULL, NULL, 'de020000-0002-4000-8000-000000000001', '2025-01-03 12:00:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO team_members (id, tenant_id, team_id, user_id, role, joined_at)
VALUES
    ('de240000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de230000-0001-4000-8000-000000000001', 'de020000-0001-4000-8000-000000000001', 'owner',
     '2025-01-02 12:00:00+00'),
    ('de240000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de230000-0001-4000-8000-000000000001', 'de020000-0001-4000-8000-000000000002', 'member',
     '2025-01-02 12:01:00+00'),
    ('de240000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'de230000-0001-4000-8000-000000000002', 'de020000-0001-4000-8000-000000000002', 'admin',
     '2025-01-02 12:06:00+00'),
    ('de240000-0001-4000-8000-000000000004', 'de010000-0000-4000-8000-000000000001',
     'de230000-0001-4000-8000-000000000003', 'de020000-0001-4000-8000-000000000003', 'owner',
     '2025-01-02 12:10:00+00'),
    ('de240000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'de230000-0002-4000-8000-000000000001', 'de020000-0002-4000-8000-000000000001', 'owner',
     '2025-01-03 12:00:00+00'),
    ('de240000-0002-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000002',
     'de230000-0002-4000-8000-000000000001', 'de020000-0002-4000-8000-000000000002', 'member',
     '2025-01-03 12:01:00+00')
ON CONFLICT DO NOTHING;

-- Sessions and API keys ------------------------------------------------------------------

INSERT INTO sessions (id, tenant_id, user_id, token_hash, ip_address, user_agent, created_at,
                      last_seen_at, expires_at, revoked_at)
VALUES
    ('de040000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', sha256('dev-session-acme-alice-1'::bytea),
     '127.0.0.1', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', '2025-01-06 08:55:00+00',
     '2025-01-06 09:40:00+00', '2035-01-06 08:55:00+00', NULL),
    -- Signed out.
    ('de040000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', sha256('dev-session-acme-alice-2'::bytea),
     '127.0.0.1', 'adx-cli/0.1', '2025-01-04 16:00:00+00', '2025-01-04 16:30:00+00',
     '2025-01-05 16:00:00+00', '2025-01-04 16:31:00+00'),
    ('de040000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000002', sha256('dev-session-acme-bob-1'::bytea),
     '127.0.0.1', 'Mozilla/5.0 (Macintosh) Safari/17.0', '2025-01-05 14:20:00+00',
     '2025-01-05 15:00:00+00', '2035-01-05 14:20:00+00', NULL),
    ('de040000-0001-4000-8000-000000000004', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000003', sha256('dev-session-acme-carol-1'::bytea),
     '127.0.0.1', 'Mozilla/5.0 (Windows NT 10.0) Chrome/126.0', '2025-01-06 07:40:00+00',
     '2025-01-06 07:45:00+00', '2035-01-06 07:40:00+00', NULL),
    ('de040000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'de020000-0002-4000-8000-000000000001', sha256('dev-session-initech-peter-1'::bytea),
     '127.0.0.1', 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0', '2025-01-06 09:10:00+00',
     '2025-01-06 09:15:00+00', '2035-01-06 09:10:00+00', NULL),
    ('de040000-0003-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000003',
     'de020000-0003-4000-8000-000000000001', sha256('dev-session-umbrella-albert-1'::bytea),
     '127.0.0.1', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', '2025-01-04 18:00:00+00',
     '2025-01-04 18:10:00+00', '2035-01-04 18:00:00+00', NULL)
ON CONFLICT DO NOTHING;

INSERT INTO api_keys (id, tenant_id, user_id, name, key_prefix, key_hash, scopes, created_at,
                      expires_at, last_used_at)
VALUES
    ('de290000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', 'CI pipeline', 'adxdev_acme_ci',
     sha256('adxdev_acme_ci.dev-secret-acme-ci'::bytea), '{files:read,files:write,workflows:run}',
     '2025-01-02 13:00:00+00', NULL, '2025-01-06 06:00:00+00')
ON CONFLICT DO NOTHING;

-- api_key_id NULL: the tenant's default for the subject type.
INSERT INTO rate_limit_policies (id, tenant_id, subject_type, api_key_id, scope,
                                 requests_per_window, window_seconds, burst)
VALUES
    ('de2a0000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'user', NULL, '*', 1000, 60, 100),
    ('de2a0000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'api_key', 'de290000-0001-4000-8000-000000000001', '*', 300, 60, 50),
    ('de2a0000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'user', NULL, '*', 200, 60, 20)
ON CONFLICT DO NOTHING;

-- Files ----------------------------------------------------------------------------------

INSERT INTO folders (id, tenant_id, parent_id, owner_id, name, created_at)
VALUES
    ('de050000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     NULL, 'de020000-0001-4000-8000-000000000001', 'Projects', '2025-01-02 14:00:00+00'),
    ('de050000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de050000-0001-4000-8000-000000000001', 'de020000-0001-4000-8000-000000000001', 'Roadmaps',
     '2025-01-02 14:01:00+00'),
    ('de050000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     NULL, 'de020000-0001-4000-8000-000000000003', 'Design', '2025-01-02 14:02:00+00'),
    ('de050000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     NULL, 'de020000-0002-4000-8000-000000000001', 'Reports', '2025-01-03 14:00:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO files (id, tenant_id, owner_id, folder_id, name, mime_type, size_bytes,
                   checksum_sha256, storage_backend, storage_key, status, metadata, created_at)
VALUES
    ('de030000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', 'de050000-0001-4000-8000-000000000002',
     'roadmap-2025.pdf', 'application/pdf', 2621440,
     '37ea171506c685c3f2d41ea22c9ec876ac5e759e9ce22e7f9ac6f6f9a65a1721', 'local',
     'dev_acme/files/de030000-0001-4000-8000-000000000001/v2', 'ready',
     '{"project": "roadmap", "pages": 18}', '2025-01-02 15:00:00+00'),
    ('de030000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000003', 'de050000-0001-4000-8000-000000000003',
     'logo.png', 'image/png', 184320,
     '08f363213f2a4d7c8f6f002f0108f4e5cfba80d775c31176d10abe852d9f3853', 'local',
     'dev_acme/files/de030000-0001-4000-8000-000000000002/v1', 'ready',
     '{"width": 1024, "height": 1024}', '2025-01-03 10:00:00+00'),
    ('de030000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000002', NULL,
     'quarterly-report.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
     4194304, '3f91d164e85e2b4bd39ddfdff0ed90576dc04b619f39f253933d5f52bed13bd2', 'local',
     'dev_acme/files/de030000-0001-4000-8000-000000000003/v1', 'ready',
     '{"project": "finance", "quarter": "2024-Q4"}', '2025-01-04 11:00:00+00'),
    -- Still in the processing pipeline (text extraction queued, workflow running).
    ('de030000-0001-4000-8000-000000000004', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000003', 'de050000-0001-4000-8000-000000000001',
     'meeting-notes.md', 'text/markdown', 12288,
     '7e59b893a25dbad86ab374d42331ded20966db4824ad3d0033a1511589686c76', 'local',
     'dev_acme/files/de030000-0001-4000-8000-000000000004/v1', 'processing',
     '{"project": "roadmap"}', '2025-01-06 09:00:00+00'),
    ('de030000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'de020000-0002-4000-8000-000000000001', 'de050000-0002-4000-8000-000000000001',
     'tps-report.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
     262144, '4883821c17846bdfa4ed2a0237c3477857ade04acdb727a1170698706018a245', 'local',
     'dev_initech/files/de030000-0002-4000-8000-000000000001/v1', 'ready',
     '{"cover_sheet": true}', '2025-01-03 15:00:00+00'),
    ('de030000-0002-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000002',
     'de020000-0002-4000-8000-000000000002', NULL,
     'budget.csv', 'text/csv', 131072,
     '9a050b4a47b5a4fb114cd05290e54014818eb71a8b5188e2835bd0869c2b8873', 'local',
     'dev_initech/files/de030000-0002-4000-8000-000000000002/v1', 'ready',
     '{}', '2025-01-04 15:00:00+00'),
    ('de030000-0003-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000003',
     'de020000-0003-4000-8000-000000000001', NULL,
     'readme.txt', 'text/plain', 2048,
     'c187bdceeee58d3f4535371a49a35090133d192e3d3b18757e5607349edef750', 'local',
     'dev_umbrella/files/de030000-0003-4000-8000-000000000001/v1', 'ready',
     '{}', '2025-01-03 16:00:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO file_versions (id, tenant_id, file_id, version_number, size_bytes, checksum_sha256,
                           storage_backend, storage_key, created_by, change_note, created_at)
VALUES
    ('de060000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de030000-0001-4000-8000-000000000001', 1, 2097152,
     'bd6134e2ce697d866ee6cf401f19ef18095e141fab7a3fcfd824208e9d94ca2f', 'local',
     'dev_acme/files/de030000-0001-4000-8000-000000000001/v1',
     'de020000-0001-4000-8000-000000000001', 'First draft', '2025-01-02 15:00:00+00'),
    ('de060000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de030000-0001-4000-8000-000000000001', 2, 2621440,
     '37ea171506c685c3f2d41ea22c9ec876ac5e759e9ce22e7f9ac6f6f9a65a1721', 'local',
     'dev_acme/files/de030000-0001-4000-8000-000000000001/v2',
     'de020000-0001-4000-8000-000000000002', 'Q3 milestones added', '2025-01-05 10:00:00+00'),
    ('de060000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'de030000-0001-4000-8000-000000000002', 1, 184320,
     '08f363213f2a4d7c8f6f002f0108f4e5cfba80d775c31176d10abe852d9f3853', 'local',
     'dev_acme/files/de030000-0001-4000-8000-000000000002/v1',
     'de020000-0001-4000-8000-000000000003', NULL, '2025-01-03 10:00:00+00'),
    ('de060000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'de030000-0002-4000-8000-000000000001', 1, 262144,
     '4883821c17846bdfa4ed2a0237c3477857ade04acdb727a1170698706018a245', 'local',
     'dev_initech/files/de030000-0002-4000-8000-000000000001/v1',
     'de020000-0002-4000-8000-000000000001', NULL, '2025-01-03 15:00:00+00')
ON CONFLICT DO NOTHING;

-- One share to a user, one link share (link token: 'dev-share-acme-logo').
INSERT INTO file_shares (id, tenant_id, file_id, shared_with_user_id, share_token_hash,
                         permission, created_by, created_at, expires_at)
VALUES
    ('de070000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de030000-0001-4000-8000-000000000001', 'de020000-0001-4000-8000-000000000003', NULL,
     'comment', 'de020000-0001-4000-8000-000000000001', '2025-01-05 11:00:00+00', NULL),
    ('de070000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de030000-0001-4000-8000-000000000002', NULL, sha256('dev-share-acme-logo'::bytea),
     'view', 'de020000-0001-4000-8000-000000000003', '2025-01-03 11:00:00+00',
     '2035-01-03 11:00:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO file_processing_jobs (id, tenant_id, file_id, job_type, status, attempts, max_attempts,
                                  workflow_id, payload, result, error, scheduled_at, started_at,
                                  finished_at, created_at)
VALUES
    ('de080000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de030000-0001-4000-8000-000000000002', 'virus_scan', 'succeeded', 1, 3,
     'file-processing-de030000-0001-4000-8000-000000000002', '{}', '{"clean": true}', NULL,
     '2025-01-03 10:00:05+00', '2025-01-03 10:00:06+00', '2025-01-03 10:00:09+00',
     '2025-01-03 10:00:05+00'),
    ('de080000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de030000-0001-4000-8000-000000000002', 'thumbnail', 'succeeded', 1, 3,
     'file-processing-de030000-0001-4000-8000-000000000002', '{"sizes": [256]}',
     '{"thumbnails": 1}', NULL,
     '2025-01-03 10:00:10+00', '2025-01-03 10:00:11+00', '2025-01-03 10:00:14+00',
     '2025-01-03 10:00:10+00'),
    ('de080000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'de030000-0001-4000-8000-000000000004', 'text_extraction', 'queued', 0, 3,
     'file-processing-de030000-0001-4000-8000-000000000004', '{}', NULL, NULL,
     '2025-01-06 09:00:05+00', NULL, NULL, '2025-01-06 09:00:05+00'),
    ('de080000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'de030000-0002-4000-8000-000000000001', 'text_extraction', 'failed', 3, 3,
     'file-processing-de030000-0002-4000-8000-000000000001', '{}', NULL,
     'unsupported embedded object in document',
     '2025-01-03 15:00:05+00', '2025-01-03 15:00:06+00', '2025-01-03 15:02:00+00',
     '2025-01-03 15:00:05+00')
ON CONFLICT DO NOTHING;

INSERT INTO file_thumbnails (id, tenant_id, file_id, width, height, mime_type, size_bytes,
                             storage_key, created_at)
VALUES
    ('de090000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de030000-0001-4000-8000-000000000002', 256, 256, 'image/webp', 9216,
     'dev_acme/thumbnails/de030000-0001-4000-8000-000000000002/256x256.webp',
     '2025-01-03 10:00:14+00')
ON CONFLICT DO NOTHING;

INSERT INTO file_tags (id, tenant_id, name, color, created_at)
VALUES
    ('de0a0000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'important', '#E63946', '2025-01-02 14:30:00+00'),
    ('de0a0000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'brand', '#457B9D', '2025-01-02 14:31:00+00'),
    ('de0a0000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'tps', '#F4A261', '2025-01-03 14:30:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO file_tag_assignments (id, tenant_id, file_id, tag_id, assigned_by, created_at)
VALUES
    ('de0b0000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de030000-0001-4000-8000-000000000001', 'de0a0000-0001-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', '2025-01-05 10:05:00+00'),
    ('de0b0000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de030000-0001-4000-8000-000000000002', 'de0a0000-0001-4000-8000-000000000002',
     'de020000-0001-4000-8000-000000000003', '2025-01-03 10:05:00+00'),
    ('de0b0000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'de030000-0002-4000-8000-000000000001', 'de0a0000-0002-4000-8000-000000000001',
     'de020000-0002-4000-8000-000000000001', '2025-01-03 15:05:00+00')
ON CONFLICT DO NOTHING;

-- Workflows ------------------------------------------------------------------------------

INSERT INTO workflow_templates (id, tenant_id, name, description, workflow_type, version,
                                definition, is_active, created_by, created_at)
VALUES
    ('de0c0000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'file-processing', 'Scan, thumbnail and index every uploaded file',
     'FileProcessingWorkflow', 1,
     '{"steps": ["virus_scan", "thumbnail", "text_extraction"], "task_queue": "file-service"}',
     true, 'de020000-0001-4000-8000-000000000001', '2025-01-02 13:00:00+00'),
    ('de0c0000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'weekly-report', 'Usage report mailed to admins every Monday',
     'WeeklyReportWorkflow', 2,
     '{"recipients": "admins", "format": "pdf", "task_queue": "workflow-service"}',
     true, 'de020000-0001-4000-8000-000000000001', '2025-01-02 13:05:00+00'),
    ('de0c0000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'document-summary', 'AI summary of a document',
     'AiSummaryWorkflow', 1,
     '{"max_words": 200, "task_queue": "ai-service"}',
     true, 'de020000-0001-4000-8000-000000000002', '2025-01-02 13:10:00+00'),
    ('de0c0000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'file-processing', 'Scan and index every uploaded file',
     'FileProcessingWorkflow', 1,
     '{"steps": ["virus_scan", "text_extraction"], "task_queue": "file-service"}',
     true, 'de020000-0002-4000-8000-000000000001', '2025-01-03 13:00:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO workflow_executions (id, tenant_id, temporal_workflow_id, temporal_run_id,
                                 workflow_type, task_queue, service_name, template_id,
                                 parent_execution_id, correlation_id, status, input, result, error,
                                 initiated_by, started_at, closed_at, created_at)
VALUES
    -- logo.png processed: completed.
    ('de0d0000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'file-processing-de030000-0001-4000-8000-000000000002', 'de0d0000-0001-4000-8000-0000000000a1',
     'FileProcessingWorkflow', 'file-service', 'file-service',
     'de0c0000-0001-4000-8000-000000000001', NULL, 'de0d0000-0001-4000-8000-0000000000c1',
     'completed', '{"file_id": "de030000-0001-4000-8000-000000000002"}',
     '{"thumbnails": 1, "clean": true}', NULL, 'de020000-0001-4000-8000-000000000003',
     '2025-01-03 10:00:05+00', '2025-01-03 10:00:15+00', '2025-01-03 10:00:05+00'),
    -- Child of the above (cross-service hand-off to the search indexer).
    ('de0d0000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'search-index-de030000-0001-4000-8000-000000000002', 'de0d0000-0001-4000-8000-0000000000a2',
     'SearchIndexWorkflow', 'search-service', 'search-service',
     NULL, 'de0d0000-0001-4000-8000-000000000001', 'de0d0000-0001-4000-8000-0000000000c1',
     'completed', '{"file_id": "de030000-0001-4000-8000-000000000002"}', '{"indexed": true}', NULL,
     NULL, '2025-01-03 10:00:12+00', '2025-01-03 10:00:14+00', '2025-01-03 10:00:12+00'),
    -- meeting-notes.md: still running.
    ('de0d0000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'file-processing-de030000-0001-4000-8000-000000000004', 'de0d0000-0001-4000-8000-0000000000a3',
     'FileProcessingWorkflow', 'file-service', 'file-service',
     'de0c0000-0001-4000-8000-000000000001', NULL, 'de0d0000-0001-4000-8000-0000000000c3',
     'running', '{"file_id": "de030000-0001-4000-8000-000000000004"}', NULL, NULL,
     'de020000-0001-4000-8000-000000000003', '2025-01-06 09:00:05+00', NULL,
     '2025-01-06 09:00:05+00'),
    -- Weekly report: failed after retries.
    ('de0d0000-0001-4000-8000-000000000004', 'de010000-0000-4000-8000-000000000001',
     'weekly-report-2025-01-06', 'de0d0000-0001-4000-8000-0000000000a4',
     'WeeklyReportWorkflow', 'workflow-service', 'workflow-service',
     'de0c0000-0001-4000-8000-000000000002', NULL, NULL,
     'failed', '{"week": "2025-W02"}', NULL,
     '{"type": "ActivityError", "message": "SMTP connection refused"}', NULL,
     '2025-01-06 08:00:00+00', '2025-01-06 08:03:10+00', '2025-01-06 08:00:00+00'),
    ('de0d0000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'file-processing-de030000-0002-4000-8000-000000000001', 'de0d0000-0002-4000-8000-0000000000a1',
     'FileProcessingWorkflow', 'file-service', 'file-service',
     'de0c0000-0002-4000-8000-000000000001', NULL, NULL,
     'completed', '{"file_id": "de030000-0002-4000-8000-000000000001"}',
     '{"text_extraction": "failed"}', NULL, 'de020000-0002-4000-8000-000000000001',
     '2025-01-03 15:00:05+00', '2025-01-03 15:02:05+00', '2025-01-03 15:00:05+00')
ON CONFLICT DO NOTHING;

INSERT INTO workflow_activities (id, tenant_id, execution_id, activity_id, activity_type,
                                 service_name, attempt, status, input, result, error,
                                 scheduled_at, started_at, completed_at)
VALUES
    ('de0e0000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de0d0000-0001-4000-8000-000000000001', '1', 'VirusScan', 'file-service', 1, 'completed',
     NULL, '{"clean": true}', NULL,
     '2025-01-03 10:00:05+00', '2025-01-03 10:00:06+00', '2025-01-03 10:00:09+00'),
    ('de0e0000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de0d0000-0001-4000-8000-000000000001', '2', 'GenerateThumbnail', 'file-service', 1,
     'completed', '{"sizes": [256]}', '{"thumbnails": 1}', NULL,
     '2025-01-03 10:00:10+00', '2025-01-03 10:00:11+00', '2025-01-03 10:00:14+00'),
    ('de0e0000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'de0d0000-0001-4000-8000-000000000002', '1', 'IndexDocument', 'search-service', 1,
     'completed', NULL, '{"indexed": true}', NULL,
     '2025-01-03 10:00:12+00', '2025-01-03 10:00:12+00', '2025-01-03 10:00:14+00'),
    ('de0e0000-0001-4000-8000-000000000004', 'de010000-0000-4000-8000-000000000001',
     'de0d0000-0001-4000-8000-000000000003', '1', 'VirusScan', 'file-service', 1, 'completed',
     NULL, '{"clean": true}', NULL,
     '2025-01-06 09:00:05+00', '2025-01-06 09:00:06+00', '2025-01-06 09:00:08+00'),
    ('de0e0000-0001-4000-8000-000000000005', 'de010000-0000-4000-8000-000000000001',
     'de0d0000-0001-4000-8000-000000000003', '2', 'ExtractText', 'file-service', 1, 'scheduled',
     NULL, NULL, NULL, '2025-01-06 09:00:09+00', NULL, NULL),
    ('de0e0000-0001-4000-8000-000000000006', 'de010000-0000-4000-8000-000000000001',
     'de0d0000-0001-4000-8000-000000000004', '1', 'CollectUsage', 'workflow-service', 1,
     'completed', NULL, '{"rows": 42}', NULL,
     '2025-01-06 08:00:00+00', '2025-01-06 08:00:01+00', '2025-01-06 08:00:03+00'),
    ('de0e0000-0001-4000-8000-000000000007', 'de010000-0000-4000-8000-000000000001',
     'de0d0000-0001-4000-8000-000000000004', '2', 'SendEmail', 'notification-service', 1,
     'failed', NULL, NULL, '{"message": "SMTP connection refused"}',
     '2025-01-06 08:00:04+00', '2025-01-06 08:00:04+00', '2025-01-06 08:00:34+00'),
    ('de0e0000-0001-4000-8000-000000000008', 'de010000-0000-4000-8000-000000000001',
     'de0d0000-0001-4000-8000-000000000004', '2', 'SendEmail', 'notification-service', 2,
     'failed', NULL, NULL, '{"message": "SMTP connection refused"}',
     '2025-01-06 08:01:34+00', '2025-01-06 08:01:34+00', '2025-01-06 08:02:04+00'),
    ('de0e0000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'de0d0000-0002-4000-8000-000000000001', '1', 'ExtractText', 'file-service', 3, 'failed',
     NULL, NULL, '{"message": "unsupported embedded object in document"}',
     '2025-01-03 15:01:00+00', '2025-01-03 15:01:01+00', '2025-01-03 15:02:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO workflow_schedules (id, tenant_id, temporal_schedule_id, name, template_id,
                                cron_expression, timezone, input, paused, next_run_at, last_run_at,
                                created_by, created_at)
VALUES
    ('de0f0000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'dev_acme-weekly-report', 'Weekly report', 'de0c0000-0001-4000-8000-000000000002',
     '0 8 * * 1', 'America/New_York', '{"recipients": "admins"}', false,
     '2025-01-13 13:00:00+00', '2025-01-06 13:00:00+00', 'de020000-0001-4000-8000-000000000001',
     '2025-01-02 13:06:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO ai_workflow_configs (id, tenant_id, name, template_id, model_provider, model_name,
                                 system_prompt, temperature, max_output_tokens,
                                 monthly_token_budget, parameters, enabled)
VALUES
    ('de100000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'document-summary', 'de0c0000-0001-4000-8000-000000000003', 'local', 'dev-echo',
     'Summarize the document in plain language.', 0.20, 512, 1000000, '{"language": "auto"}', true)
ON CONFLICT DO NOTHING;

INSERT INTO workflow_events (id, tenant_id, execution_id, event_type, service_name, payload,
                             occurred_at)
VALUES
    ('de110000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de0d0000-0001-4000-8000-000000000001', 'child_workflow.started', 'file-service',
     '{"child": "search-index-de030000-0001-4000-8000-000000000002"}', '2025-01-03 10:00:12+00'),
    ('de110000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de0d0000-0001-4000-8000-000000000002', 'signal.indexed', 'search-service',
     '{"file_id": "de030000-0001-4000-8000-000000000002"}', '2025-01-03 10:00:14+00'),
    ('de110000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'de0d0000-0001-4000-8000-000000000004', 'workflow.failed', 'workflow-service',
     '{"reason": "SMTP connection refused"}', '2025-01-06 08:03:10+00')
ON CONFLICT DO NOTHING;

-- Notifications and the audit trail ------------------------------------------------------

INSERT INTO notifications (id, tenant_id, user_id, channel, event_type, title, body, data,
                           created_at, sent_at, read_at)
VALUES
    ('de210000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000003', 'in_app', 'file.shared',
     'Alice shared roadmap-2025.pdf with you', NULL,
     '{"file_id": "de030000-0001-4000-8000-000000000001"}',
     '2025-01-05 11:00:00+00', '2025-01-05 11:00:01+00', NULL),
    ('de210000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', 'email', 'workflow.failed',
     'Weekly report failed', 'SMTP connection refused',
     '{"execution_id": "de0d0000-0001-4000-8000-000000000004"}',
     '2025-01-06 08:03:10+00', '2025-01-06 08:03:11+00', NULL),
    ('de210000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', 'in_app', 'invitation.accepted',
     'Carol joined Acme', NULL, '{"user_id": "de020000-0001-4000-8000-000000000003"}',
     '2025-01-02 11:00:00+00', '2025-01-02 11:00:01+00', '2025-01-02 12:00:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO user_activity_logs (id, tenant_id, user_id, action, resource_type, resource_id,
                                ip_address, user_agent, metadata, occurred_at)
VALUES
    ('de220000-0001-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', 'auth.login', NULL, NULL, '127.0.0.1',
     'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', '{"method": "password"}',
     '2025-01-06 08:55:00+00'),
    ('de220000-0001-4000-8000-000000000002', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', 'file.upload', 'file',
     'de030000-0001-4000-8000-000000000001', '127.0.0.1', NULL, '{"version": 1}',
     '2025-01-02 15:00:00+00'),
    ('de220000-0001-4000-8000-000000000003', 'de010000-0000-4000-8000-000000000001',
     'de020000-0001-4000-8000-000000000001', 'file.share', 'file',
     'de030000-0001-4000-8000-000000000001', '127.0.0.1', NULL,
     '{"with_user_id": "de020000-0001-4000-8000-000000000003", "permission": "comment"}',
     '2025-01-05 11:00:00+00'),
    ('de220000-0002-4000-8000-000000000001', 'de010000-0000-4000-8000-000000000002',
     'de020000-0002-4000-8000-000000000001', 'auth.login', NULL, NULL, '127.0.0.1', NULL,
     '{"method": "password"}', '2025-01-06 09:10:00+00')
ON CONFLICT DO NOTHING;
