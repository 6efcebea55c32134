-- Integration fixture: realistic rows for ONE tenant in every table of the tenant stream
-- (sql/migrations/tenant/*.sql, 36 tables).
--
--   psql -X -v ON_ERROR_STOP=1 -v tenant_id=<uuid> -v schema=<schema> -f tenant_rows.sql -d <db>
--
-- Runs as a superuser (adx_app works too: the tenant context satisfies RLS), in one
-- transaction. Names are unqualified and resolve through search_path: tables, enum types and
-- functions of the tenant stream live in the target schema. Every referenced id is derived
-- from the tenant id (md5(tenant_id || ':<name>')::uuid) and every unique key of the stream
-- starts with tenant_id, so the script runs once per tenant id, for any number of tenants in
-- the same schema (a second run for the same tenant id fails on a duplicate key and rolls
-- back). No shared-stream table is written: no tenant table references one.

SET search_path = :"schema", public;

BEGIN;

-- The tenant context, so that the RLS WITH CHECK policies pass for a non-superuser too.
SELECT set_config('app.current_tenant', :'tenant_id', true);

-- Deterministic ids of the rows that other rows reference (psql variables :'id_*').
SELECT md5(:'tenant_id' || ':user:owner')::uuid        AS id_user_owner,
       md5(:'tenant_id' || ':user:analyst')::uuid      AS id_user_analyst,
       md5(:'tenant_id' || ':user:contractor')::uuid   AS id_user_contractor,
       md5(:'tenant_id' || ':folder:finance')::uuid    AS id_folder_finance,
       md5(:'tenant_id' || ':folder:reports')::uuid    AS id_folder_reports,
       md5(:'tenant_id' || ':folder:media')::uuid      AS id_folder_media,
       md5(:'tenant_id' || ':file:report')::uuid       AS id_file_report,
       md5(:'tenant_id' || ':file:photo')::uuid        AS id_file_photo,
       md5(:'tenant_id' || ':file:video')::uuid        AS id_file_video,
       md5(:'tenant_id' || ':tag:finance')::uuid       AS id_tag_finance,
       md5(:'tenant_id' || ':tag:draft')::uuid         AS id_tag_draft,
       md5(:'tenant_id' || ':sso:saml')::uuid          AS id_sso_saml,
       md5(:'tenant_id' || ':sso:oidc')::uuid          AS id_sso_oidc,
       md5(:'tenant_id' || ':api_key:ci')::uuid        AS id_key_ci,
       md5(:'tenant_id' || ':api_key:reporting')::uuid AS id_key_reporting,
       md5(:'tenant_id' || ':template:ingest')::uuid   AS id_tpl_ingest,
       md5(:'tenant_id' || ':template:summary')::uuid  AS id_tpl_summary,
       md5(:'tenant_id' || ':exec:ingest')::uuid       AS id_exec_ingest,
       md5(:'tenant_id' || ':exec:thumbnail')::uuid    AS id_exec_thumbnail,
       md5(:'tenant_id' || ':exec:summary')::uuid      AS id_exec_summary,
       md5(:'tenant_id' || ':team:engineering')::uuid  AS id_team_eng,
       md5(:'tenant_id' || ':team:platform')::uuid     AS id_team_platform,
       md5(:'tenant_id' || ':skill:postgres')::uuid    AS id_skill_pg,
       md5(:'tenant_id' || ':skill:python')::uuid      AS id_skill_py,
       -- API key prefixes are tenant-scoped and must match ^[A-Za-z0-9_]{6,32}$.
       'adx_' || left(md5(:'tenant_id' || ':prefix:ci'), 10)        AS key_prefix_ci,
       'adx_' || left(md5(:'tenant_id' || ':prefix:reporting'), 10) AS key_prefix_reporting
\gset

-- 001: users, folders (004, files.folder_id needs them), files, sessions ---------------------

INSERT INTO users (id, tenant_id, email, email_verified_at, password_hash, display_name, status,
                   roles, last_login_at, created_at, updated_at, deleted_at)
VALUES
    (:'id_user_owner', :'tenant_id', 'Owner@Example.test', '2025-01-02 09:15:00+00',
     '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$ZmFrZWhhc2hmYWtlaGFzaGZha2VoYXNo',
     'Olivia Owner', 'active', '{admin,member}', now() - interval '2 hours',
     '2025-01-02 09:00:00+00', '2025-01-02 09:15:00+00', NULL),
    -- SSO-only user: no password hash.
    (:'id_user_analyst', :'tenant_id', 'analyst@example.test', '2025-01-05 14:00:00+00',
     NULL, 'Ana Lyst', 'active', '{member,reports.viewer}', now() - interval '1 day',
     '2025-01-05 13:58:00+00', '2025-01-05 14:00:00+00', NULL),
    -- Invited contractor who never verified; soft-deleted since.
    (:'id_user_contractor', :'tenant_id', 'contractor+temp@partner.example', NULL,
     NULL, NULL, 'deactivated', '{}', NULL,
     '2025-02-10 08:00:00+00', '2025-03-01 00:00:00+00', '2025-03-01 00:00:00+00');

INSERT INTO folders (id, tenant_id, parent_id, owner_id, name, created_at, deleted_at)
VALUES
    (:'id_folder_finance', :'tenant_id', NULL, :'id_user_owner', 'Finance',
     '2025-01-03 10:00:00+00', NULL),
    (:'id_folder_reports', :'tenant_id', :'id_folder_finance', :'id_user_analyst', 'Q1 Reports',
     '2025-01-06 10:00:00+00', NULL),
    -- Root folder without an owner (the owner was removed: ON DELETE SET NULL).
    (:'id_folder_media', :'tenant_id', NULL, NULL, 'Media & Assets',
     '2025-01-04 10:00:00+00', NULL);

INSERT INTO files (id, tenant_id, owner_id, folder_id, name, mime_type, size_bytes,
                   checksum_sha256, storage_backend, storage_key, status, metadata,
                   created_at, deleted_at)
VALUES
    (:'id_file_report', :'tenant_id', :'id_user_analyst', :'id_folder_reports',
     'q1-revenue-report.pdf', 'application/pdf', 482113,
     encode(sha256((:'tenant_id' || ':bytes:report')::bytea), 'hex'), 's3',
     'tenants/' || :'tenant_id' || '/files/q1-revenue-report.pdf', 'ready',
     '{"project": "q1-close", "pages": 14, "author": {"name": "Ana Lyst", "dept": "finance"},
       "labels": ["confidential", "finance"], "ocr": {"done": true, "languages": ["en", "de"]}}',
     '2025-03-31 17:45:00+00', NULL),
    (:'id_file_photo', :'tenant_id', :'id_user_owner', :'id_folder_media',
     'team-offsite.png', 'image/png', 2097152,
     encode(sha256((:'tenant_id' || ':bytes:photo')::bytea), 'hex'), 'gcs',
     'tenants/' || :'tenant_id' || '/files/team-offsite.png', 'ready',
     '{"exif": {"width": 4032, "height": 3024, "camera": {"make": "Pixel", "iso": 100}}}',
     '2025-02-14 12:00:00+00', NULL),
    -- Upload in progress: no owner, no folder, no checksum yet, empty metadata.
    (:'id_file_video', :'tenant_id', NULL, NULL,
     'all-hands-recording.mp4', 'video/mp4', 0,
     NULL, 'local', 'uploads/' || :'tenant_id' || '/all-hands-recording.mp4.part', 'uploading',
     '{}', now() - interval '5 minutes', NULL);

INSERT INTO sessions (tenant_id, user_id, token_hash, ip_address, user_agent, created_at,
                      last_seen_at, expires_at, revoked_at)
VALUES
    (:'tenant_id', :'id_user_owner', sha256((:'tenant_id' || ':session:owner-laptop')::bytea),
     '203.0.113.24', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Firefox/125.0',
     now() - interval '3 hours', now() - interval '2 minutes', now() + interval '27 days', NULL),
    (:'tenant_id', :'id_user_analyst', sha256((:'tenant_id' || ':session:analyst-phone')::bytea),
     '2001:db8:85a3::8a2e:370:7334', 'AdxMobile/3.2 (iOS 17.4)',
     now() - interval '1 day', now() - interval '20 hours', now() + interval '6 days', NULL),
    -- Expired and revoked session, client address unknown.
    (:'tenant_id', :'id_user_owner', sha256((:'tenant_id' || ':session:owner-old')::bytea),
     NULL, NULL,
     '2025-01-02 09:15:00+00', '2025-01-03 18:00:00+00', '2025-02-01 09:15:00+00',
     '2025-01-03 18:05:00+00');

-- 003: authentication service -----------------------------------------------------------

INSERT INTO password_reset_tokens (tenant_id, user_id, token_hash, requested_ip, created_at,
                                   expires_at, used_at)
VALUES
    (:'tenant_id', :'id_user_owner', sha256((:'tenant_id' || ':reset:1')::bytea),
     '198.51.100.7', '2025-02-01 08:00:00+00', '2025-02-01 09:00:00+00', '2025-02-01 08:04:31+00'),
    (:'tenant_id', :'id_user_contractor', sha256((:'tenant_id' || ':reset:2')::bytea),
     NULL, now() - interval '10 minutes', now() + interval '50 minutes', NULL);

INSERT INTO email_verification_tokens (tenant_id, user_id, email, token_hash, created_at,
                                       expires_at, used_at)
VALUES
    (:'tenant_id', :'id_user_owner', 'owner@example.test',
     sha256((:'tenant_id' || ':verify:1')::bytea),
     '2025-01-02 09:00:00+00', '2025-01-03 09:00:00+00', '2025-01-02 09:15:00+00'),
    -- Pending email change: a different address than users.email.
    (:'tenant_id', :'id_user_analyst', 'ana.lyst@new-domain.example',
     sha256((:'tenant_id' || ':verify:2')::bytea),
     now() - interval '1 hour', now() + interval '23 hours', NULL);

INSERT INTO user_mfa_factors (tenant_id, user_id, factor_type, label, secret_ciphertext,
                              webauthn_credential_id, webauthn_public_key, webauthn_sign_count,
                              confirmed_at, last_used_at)
VALUES
    (:'tenant_id', :'id_user_owner', 'totp', 'Authenticator app',
     decode('a1b2c3d4e5f60718293a4b5c6d7e8f90', 'hex'), NULL, NULL, 0,
     '2025-01-02 09:20:00+00', now() - interval '2 hours'),
    (:'tenant_id', :'id_user_owner', 'webauthn', 'YubiKey 5C', NULL,
     sha256((:'tenant_id' || ':webauthn:yubikey')::bytea),
     decode('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex'), 42,
     '2025-01-10 11:00:00+00', now() - interval '3 hours'),
    -- Unconfirmed SMS factor.
    (:'tenant_id', :'id_user_analyst', 'sms', NULL,
     decode('00ff10ee20dd30cc', 'hex'), NULL, NULL, 0, NULL, NULL);

INSERT INTO mfa_recovery_codes (tenant_id, user_id, code_hash, created_at, used_at)
VALUES
    (:'tenant_id', :'id_user_owner', sha256((:'tenant_id' || ':recovery:1')::bytea),
     '2025-01-02 09:20:00+00', NULL),
    (:'tenant_id', :'id_user_owner', sha256((:'tenant_id' || ':recovery:2')::bytea),
     '2025-01-02 09:20:00+00', '2025-02-20 07:30:00+00');

INSERT INTO sso_providers (id, tenant_id, name, protocol, issuer, metadata_url, client_id,
                           client_secret_ciphertext, config, email_domains, enabled,
                           jit_provisioning)
VALUES
    (:'id_sso_saml', :'tenant_id', 'Corporate Okta', 'saml',
     'http://okta.example.test/exk1a2b3c4d5e6f7g8h9', 'https://okta.example.test/app/metadata',
     NULL, NULL,
     '{"attribute_mapping": {"email": "NameID", "display_name": "displayName"},
       "signing": {"algorithm": "rsa-sha256", "want_assertions_signed": true}}',
     '{example.test,corp.example.test}', true, true),
    (:'id_sso_oidc', :'tenant_id', 'Partner Entra ID', 'oidc',
     'https://entra.example.test/' || :'tenant_id' || '/v2.0', NULL,
     '6f1d2c3b-client', decode('c0ffee00deadbeef', 'hex'),
     '{"scopes": ["openid", "email", "profile"], "pkce": true}',
     '{}', false, false);

INSERT INTO sso_user_mappings (tenant_id, provider_id, user_id, external_subject, external_email,
                               last_login_at)
VALUES
    (:'tenant_id', :'id_sso_saml', :'id_user_analyst', 'analyst@example.test',
     'analyst@example.test', now() - interval '1 day'),
    (:'tenant_id', :'id_sso_oidc', :'id_user_contractor', 'AAAAAAAAAAAAAAAAAAAAAJ3x-Wq9k',
     NULL, NULL);

INSERT INTO api_keys (id, tenant_id, user_id, name, key_prefix, key_hash, scopes, expires_at,
                      last_used_at, revoked_at)
VALUES
    (:'id_key_ci', :'tenant_id', :'id_user_owner', 'CI pipeline', :'key_prefix_ci',
     sha256((:'tenant_id' || ':api_key:ci:secret')::bytea), '{files:read,files:write}',
     now() + interval '90 days', now() - interval '15 minutes', NULL),
    (:'id_key_reporting', :'tenant_id', :'id_user_analyst', 'Reporting export (old)',
     :'key_prefix_reporting', sha256((:'tenant_id' || ':api_key:reporting:secret')::bytea),
     '{}', NULL, NULL, '2025-03-01 12:00:00+00');

INSERT INTO rate_limit_policies (tenant_id, subject_type, api_key_id, scope,
                                 requests_per_window, window_seconds, burst)
VALUES
    (:'tenant_id', 'user', NULL, '*', 600, 60, 100),
    (:'tenant_id', 'api_key', :'id_key_ci', '/v1/files/*', 120, 60, 0),
    (:'tenant_id', 'ip_address', NULL, '/v1/auth/login', 10, 300, 5);

INSERT INTO rate_limit_counters (tenant_id, subject_type, subject_key, scope, window_start,
                                 window_seconds, request_count)
VALUES
    (:'tenant_id', 'user', :'id_user_owner', '*', date_trunc('minute', now()), 60, 37),
    (:'tenant_id', 'ip_address', '203.0.113.24', '/v1/auth/login',
     '2025-03-01 12:00:00+00', 300, 0);

-- 004: file service ---------------------------------------------------------------------

INSERT INTO file_versions (tenant_id, file_id, version_number, size_bytes, checksum_sha256,
                           storage_backend, storage_key, created_by, change_note, created_at)
VALUES
    (:'tenant_id', :'id_file_report', 1, 470001,
     encode(sha256((:'tenant_id' || ':bytes:report:v1')::bytea), 'hex'), 's3',
     'tenants/' || :'tenant_id' || '/versions/q1-revenue-report.v1.pdf', :'id_user_analyst',
     'First draft', '2025-03-28 09:00:00+00'),
    (:'tenant_id', :'id_file_report', 2, 482113,
     encode(sha256((:'tenant_id' || ':bytes:report')::bytea), 'hex'), 's3',
     'tenants/' || :'tenant_id' || '/files/q1-revenue-report.pdf', :'id_user_analyst',
     NULL, '2025-03-31 17:45:00+00'),
    (:'tenant_id', :'id_file_photo', 1, 2097152, NULL, 'gcs',
     'tenants/' || :'tenant_id' || '/files/team-offsite.png', NULL,
     'Imported from legacy drive', '2025-02-14 12:00:00+00');

INSERT INTO file_shares (tenant_id, file_id, shared_with_user_id, share_token_hash, permission,
                         created_by, expires_at, revoked_at)
VALUES
    -- Share to a user.
    (:'tenant_id', :'id_file_report', :'id_user_owner', NULL, 'comment',
     :'id_user_analyst', NULL, NULL),
    -- Public link, expiring.
    (:'tenant_id', :'id_file_photo', NULL, sha256((:'tenant_id' || ':share:photo-link')::bytea),
     'view', :'id_user_owner', now() + interval '7 days', NULL),
    -- Revoked edit share.
    (:'tenant_id', :'id_file_photo', :'id_user_contractor', NULL, 'edit',
     NULL, NULL, '2025-03-01 00:00:00+00');

INSERT INTO file_processing_jobs (tenant_id, file_id, job_type, status, attempts, max_attempts,
                                  workflow_id, payload, result, error, scheduled_at, started_at,
                                  finished_at)
VALUES
    (:'tenant_id', :'id_file_report', 'text_extraction', 'succeeded', 1, 3,
     'file-text-' || :'id_file_report',
     '{"languages": ["en", "de"], "options": {"keep_layout": true}}',
     '{"characters": 48211, "pages": [{"n": 1, "words": 512}, {"n": 2, "words": 498}]}', NULL,
     '2025-03-31 17:45:05+00', '2025-03-31 17:45:06+00', '2025-03-31 17:45:41+00'),
    (:'tenant_id', :'id_file_photo', 'virus_scan', 'failed', 3, 3, NULL,
     '{"engine": "clamav"}', NULL, 'scanner timeout after 30s',
     '2025-02-14 12:00:01+00', '2025-02-14 12:05:00+00', '2025-02-14 12:05:30+00'),
    (:'tenant_id', :'id_file_video', 'transcode', 'queued', 0, 5, NULL,
     '{"targets": [{"codec": "h264", "height": 720}, {"codec": "av1", "height": 1080}]}',
     NULL, NULL, now() + interval '1 minute', NULL, NULL);

INSERT INTO file_thumbnails (tenant_id, file_id, width, height, mime_type, size_bytes,
                             storage_key)
VALUES
    (:'tenant_id', :'id_file_photo', 256, 192, 'image/webp', 10240,
     'tenants/' || :'tenant_id' || '/thumbs/team-offsite-256.webp'),
    (:'tenant_id', :'id_file_photo', 1024, 768, 'image/jpeg', 98304,
     'tenants/' || :'tenant_id' || '/thumbs/team-offsite-1024.jpg'),
    (:'tenant_id', :'id_file_report', 256, 362, 'image/webp', 8192,
     'tenants/' || :'tenant_id' || '/thumbs/q1-revenue-report-p1.webp');

INSERT INTO file_tags (id, tenant_id, name, color)
VALUES
    (:'id_tag_finance', :'tenant_id', 'Finance', '#1E90FF'),
    (:'id_tag_draft', :'tenant_id', 'draft', NULL);

INSERT INTO file_tag_assignments (tenant_id, file_id, tag_id, assigned_by)
VALUES
    (:'tenant_id', :'id_file_report', :'id_tag_finance', :'id_user_analyst'),
    (:'tenant_id', :'id_file_report', :'id_tag_draft', NULL),
    (:'tenant_id', :'id_file_video', :'id_tag_draft', :'id_user_owner');

-- 005: workflow service -----------------------------------------------------------------

INSERT INTO workflow_templates (id, tenant_id, name, description, workflow_type, version,
                                definition, is_active, created_by)
VALUES
    (:'id_tpl_ingest', :'tenant_id', 'File ingest', 'Scan, extract text and thumbnail new files',
     'FileIngestWorkflow', 2,
     '{"steps": [{"activity": "virus_scan", "timeout": "30s"},
                 {"activity": "text_extraction", "retry": {"max_attempts": 3}},
                 {"activity": "thumbnail", "sizes": [256, 1024]}]}',
     true, :'id_user_owner'),
    (:'id_tpl_summary', :'tenant_id', 'Weekly AI summary', NULL,
     'DocumentSummaryWorkflow', 1, '{}', false, NULL);

INSERT INTO workflow_executions (id, tenant_id, temporal_workflow_id, temporal_run_id,
                                 workflow_type, task_queue, service_name, template_id,
                                 parent_execution_id, correlation_id, status, input, result,
                                 error, initiated_by, started_at, closed_at)
VALUES
    (:'id_exec_ingest', :'tenant_id', 'file-ingest-' || :'id_file_report',
     md5(:'tenant_id' || ':run:ingest')::uuid::text, 'FileIngestWorkflow', 'file-service',
     'file-service', :'id_tpl_ingest', NULL, md5(:'tenant_id' || ':correlation:q1')::uuid,
     'completed', jsonb_build_object('file_id', :'id_file_report'::text),
     '{"ok": true, "steps": 3}', NULL, :'id_user_analyst',
     '2025-03-31 17:45:02+00', '2025-03-31 17:46:10+00'),
    -- Child workflow, still running.
    (:'id_exec_thumbnail', :'tenant_id', 'thumbnail-' || :'id_file_report',
     md5(:'tenant_id' || ':run:thumbnail')::uuid::text, 'ThumbnailWorkflow', 'media-workers',
     'media-service', NULL, :'id_exec_ingest', md5(:'tenant_id' || ':correlation:q1')::uuid,
     'running', '{"sizes": [256]}', NULL, NULL, NULL, now() - interval '30 seconds', NULL),
    (:'id_exec_summary', :'tenant_id', 'summary-weekly-2025-w10',
     md5(:'tenant_id' || ':run:summary')::uuid::text, 'DocumentSummaryWorkflow', 'ai-workers',
     'workflow-service', :'id_tpl_summary', NULL, NULL, 'failed', NULL, NULL,
     '{"type": "ModelQuotaExceeded", "details": {"limit": 100000, "used": 100417}}',
     :'id_user_owner', '2025-03-09 06:00:00+00', '2025-03-09 06:02:13+00');

INSERT INTO workflow_activities (tenant_id, execution_id, activity_id, activity_type,
                                 service_name, attempt, status, input, result, error,
                                 scheduled_at, started_at, completed_at)
VALUES
    (:'tenant_id', :'id_exec_ingest', '1', 'VirusScan', 'file-service', 1, 'completed',
     '{"engine": "clamav"}', '{"clean": true}', NULL,
     '2025-03-31 17:45:02+00', '2025-03-31 17:45:03+00', '2025-03-31 17:45:04+00'),
    (:'tenant_id', :'id_exec_summary', '1', 'Summarize', 'ai-service', 1, 'failed',
     '{"model": "gpt-4o-mini"}', NULL, '{"message": "rate limited", "retryable": true}',
     '2025-03-09 06:00:01+00', '2025-03-09 06:00:02+00', '2025-03-09 06:01:00+00'),
    (:'tenant_id', :'id_exec_summary', '1', 'Summarize', 'ai-service', 2, 'timed_out',
     NULL, NULL, NULL, '2025-03-09 06:01:05+00', '2025-03-09 06:01:06+00', NULL),
    (:'tenant_id', :'id_exec_thumbnail', '1', 'RenderThumbnail', 'media-service', 1, 'scheduled',
     '{"width": 256}', NULL, NULL, now(), NULL, NULL);

INSERT INTO workflow_schedules (tenant_id, temporal_schedule_id, name, template_id,
                                cron_expression, timezone, input, paused, next_run_at,
                                last_run_at, created_by)
VALUES
    (:'tenant_id', 'weekly-summary-' || :'tenant_id', 'Weekly summary', :'id_tpl_summary',
     '0 6 * * MON', 'Europe/Berlin', '{"folders": ["Finance"], "depth": 2}', true, NULL,
     '2025-03-09 06:00:00+00', :'id_user_owner'),
    (:'tenant_id', 'nightly-reingest-' || :'tenant_id', 'Nightly re-ingest', :'id_tpl_ingest',
     '0 30 2 * * *', 'UTC', NULL, false,
     date_trunc('day', now()) + interval '1 day 2 hours 30 seconds', NULL, NULL);

INSERT INTO ai_workflow_configs (tenant_id, name, template_id, model_provider, model_name,
                                 system_prompt, temperature, max_output_tokens,
                                 monthly_token_budget, parameters, enabled)
VALUES
    (:'tenant_id', 'Document summarizer', :'id_tpl_summary', 'openai', 'gpt-4o-mini',
     'Summarize the documents in at most five bullet points.', 0.20, 800, 100000,
     '{"top_p": 0.9, "stop": ["\n\n"], "safety": {"pii_redaction": true}}', true),
    (:'tenant_id', 'Ad-hoc assistant', NULL, 'anthropic', 'claude-3-5-haiku', NULL, 1.25, 4096,
     NULL, '{}', false);

INSERT INTO workflow_events (tenant_id, execution_id, event_type, service_name, payload,
                             occurred_at)
VALUES
    (:'tenant_id', :'id_exec_ingest', 'signal.file_uploaded', 'file-service',
     jsonb_build_object('file_id', :'id_file_report'::text, 'size', 482113),
     '2025-03-31 17:45:02+00'),
    (:'tenant_id', :'id_exec_ingest', 'child.started', 'workflow-service',
     '{"child": {"workflow_type": "ThumbnailWorkflow", "task_queue": "media-workers"}}',
     now() - interval '30 seconds'),
    (:'tenant_id', :'id_exec_summary', 'query.status', 'ai-service', '{}',
     '2025-03-09 06:01:30+00');

-- 007: user service ---------------------------------------------------------------------

INSERT INTO user_profiles (tenant_id, user_id, first_name, last_name, job_title, department,
                           phone, avatar_url, bio, location)
VALUES
    (:'tenant_id', :'id_user_owner', 'Olivia', 'Owner', 'Head of Operations', 'Operations',
     '+49 (30) 1234-5678', 'https://cdn.example.test/avatars/olivia.png',
     'Runs the workspace. Ask me about access.', 'Berlin, DE'),
    (:'tenant_id', :'id_user_analyst', 'Ana', 'Lyst', 'Financial Analyst', 'Finance',
     NULL, NULL, NULL, NULL);

INSERT INTO user_preferences (tenant_id, user_id, locale, timezone, theme, preferences)
VALUES
    (:'tenant_id', :'id_user_owner', 'de-DE', 'Europe/Berlin', 'dark',
     '{"dashboard": {"widgets": ["recent_files", "workflows"], "compact": true},
       "editor": {"spellcheck": false}}'),
    (:'tenant_id', :'id_user_analyst', 'en', 'America/New_York', 'system', '{}');

INSERT INTO notification_settings (tenant_id, user_id, channel, event_type, enabled, digest)
VALUES
    (:'tenant_id', :'id_user_owner', 'email', '*', true, 'daily'),
    (:'tenant_id', :'id_user_owner', 'push', 'workflow.failed', true, 'immediate'),
    (:'tenant_id', :'id_user_analyst', 'sms', '*', false, 'never');

INSERT INTO notifications (tenant_id, user_id, channel, event_type, title, body, data,
                           created_at, sent_at, read_at)
VALUES
    (:'tenant_id', :'id_user_owner', 'in_app', 'file.shared',
     'Ana shared "q1-revenue-report.pdf" with you', NULL,
     jsonb_build_object('file_id', :'id_file_report'::text, 'by', '{"name": "Ana Lyst"}'::jsonb),
     '2025-03-31 17:50:00+00', '2025-03-31 17:50:00+00', '2025-04-01 08:00:00+00'),
    (:'tenant_id', :'id_user_owner', 'email', 'workflow.failed', 'Weekly AI summary failed',
     'The model quota was exceeded.', jsonb_build_object('execution_id', :'id_exec_summary'::text),
     '2025-03-09 06:02:14+00', NULL, NULL);

INSERT INTO user_activity_logs (tenant_id, user_id, action, resource_type, resource_id,
                                ip_address, user_agent, metadata, occurred_at)
VALUES
    (:'tenant_id', :'id_user_analyst', 'file.upload', 'file', :'id_file_report',
     '2001:db8:85a3::8a2e:370:7334', 'AdxMobile/3.2 (iOS 17.4)',
     '{"size": 482113, "via": {"client": "mobile", "version": "3.2"}}',
     '2025-03-31 17:45:00+00'),
    (:'tenant_id', :'id_user_owner', 'auth.login', NULL, NULL, '203.0.113.24', NULL,
     '{"mfa": "totp"}', now() - interval '2 hours'),
    -- System action, no user.
    (:'tenant_id', NULL, 'retention.purge', 'session', NULL, NULL, NULL, '{}',
     '2025-03-02 03:00:00+00');

INSERT INTO teams (id, tenant_id, name, description, parent_team_id, created_by, deleted_at)
VALUES
    (:'id_team_eng', :'tenant_id', 'Engineering', 'Everyone who ships code', NULL,
     :'id_user_owner', NULL),
    (:'id_team_platform', :'tenant_id', 'Platform', NULL, :'id_team_eng', NULL, NULL);

INSERT INTO team_members (tenant_id, team_id, user_id, role)
VALUES
    (:'tenant_id', :'id_team_eng', :'id_user_owner', 'owner'),
    (:'tenant_id', :'id_team_eng', :'id_user_analyst', 'member'),
    (:'tenant_id', :'id_team_platform', :'id_user_analyst', 'admin');

INSERT INTO skills (id, tenant_id, name, category)
VALUES
    (:'id_skill_pg', :'tenant_id', 'PostgreSQL', 'databases'),
    (:'id_skill_py', :'tenant_id', 'Python', NULL);

INSERT INTO user_skills (tenant_id, user_id, skill_id, proficiency, years_experience,
                         endorsement_count)
VALUES
    (:'tenant_id', :'id_user_owner', :'id_skill_pg', 5, 12.5, 7),
    (:'tenant_id', :'id_user_analyst', :'id_skill_py', 3, NULL, 0),
    (:'tenant_id', :'id_user_analyst', :'id_skill_pg', 2, 0.5, 1);

INSERT INTO user_connections (tenant_id, requester_id, addressee_id, status)
VALUES
    (:'tenant_id', :'id_user_analyst', :'id_user_owner', 'accepted'),
    (:'tenant_id', :'id_user_owner', :'id_user_contractor', 'pending');

INSERT INTO user_bookmarks (tenant_id, user_id, resource_type, resource_id, url, title)
VALUES
    (:'tenant_id', :'id_user_owner', 'file', :'id_file_report', NULL, 'Q1 revenue'),
    (:'tenant_id', :'id_user_owner', 'url', NULL, 'https://status.example.test/', NULL),
    (:'tenant_id', :'id_user_analyst', 'folder', :'id_folder_reports', NULL, 'My reports');

COMMIT;
