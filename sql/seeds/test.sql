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

-- The deploy runs sql/seeds/clean_test.sql first, in the same transaction.

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
