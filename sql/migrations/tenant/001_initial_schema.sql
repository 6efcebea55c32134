-- Tenant stream 001: users, files and sessions.
--
-- Targets: adx_core (public), each schema tenant's schema tenant_<slug>, each dedicated
-- tenant database (public). Runs as adx_owner inside one transaction with
-- search_path = <target schema>, public. Every name below is unqualified on purpose: objects
-- land in the target schema. The stream is self-contained: no foreign key leaves it
-- (tenant_id is not a foreign key to the registry, which a tenant schema does not have).
--
-- Design rules for every table of this stream:
--   tenant_id uuid NOT NULL; a surrogate uuid primary key; on every table that others
--   reference, UNIQUE (tenant_id, id), the target of composite foreign keys
--   (tenant_id, x_id) that cannot point into another tenant; every other unique key starts
--   with tenant_id (a duplicate-key error never reveals another tenant's data); RLS
--   enabled and forced (from 002 on).

-- Privileges for everything this stream creates in the target schema, now and later.
DO $grants$
DECLARE
    target_schema text := pg_catalog.current_schema();
BEGIN
    IF target_schema IS NULL THEN
        RAISE EXCEPTION 'no target schema: search_path names no existing schema';
    END IF;
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA %I TO adx_app, adx_readonly', target_schema);
    EXECUTE pg_catalog.format(
        'ALTER DEFAULT PRIVILEGES FOR ROLE adx_owner IN SCHEMA %I '
        'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO adx_app', target_schema);
    EXECUTE pg_catalog.format(
        'ALTER DEFAULT PRIVILEGES FOR ROLE adx_owner IN SCHEMA %I '
        'GRANT SELECT ON TABLES TO adx_readonly', target_schema);
    EXECUTE pg_catalog.format(
        'ALTER DEFAULT PRIVILEGES FOR ROLE adx_owner IN SCHEMA %I '
        'GRANT USAGE ON SEQUENCES TO adx_app', target_schema);
END
$grants$;

CREATE TYPE user_status AS ENUM ('pending', 'active', 'suspended', 'deactivated');
CREATE TYPE file_status AS ENUM ('uploading', 'processing', 'ready', 'failed', 'deleted');
CREATE TYPE storage_backend AS ENUM ('local', 's3', 'gcs', 'azure_blob');

CREATE FUNCTION set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END
$$;

CREATE TABLE users (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid NOT NULL,
    email             text NOT NULL,
    email_verified_at timestamptz,
    -- NULL for users who only sign in through SSO. Never a plain password.
    password_hash     text,
    display_name      text,
    status            user_status NOT NULL DEFAULT 'pending',
    roles             text[] NOT NULL DEFAULT '{}',
    last_login_at     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz,
    CONSTRAINT users_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT users_email_check CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 320),
    CONSTRAINT users_display_name_check CHECK (length(display_name) <= 200)
);

-- Case-insensitive email, unique within a tenant only.
CREATE UNIQUE INDEX users_tenant_email_key ON users (tenant_id, lower(email));
CREATE INDEX users_tenant_status_idx ON users (tenant_id, status);

CREATE TABLE files (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL,
    owner_id         uuid,
    name             text NOT NULL,
    mime_type        text NOT NULL DEFAULT 'application/octet-stream',
    size_bytes       bigint NOT NULL DEFAULT 0,
    checksum_sha256  text,
    storage_backend  storage_backend NOT NULL DEFAULT 'local',
    storage_key      text NOT NULL,
    status           file_status NOT NULL DEFAULT 'uploading',
    metadata         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    CONSTRAINT files_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT files_storage_key_key UNIQUE (tenant_id, storage_backend, storage_key),
    CONSTRAINT files_owner_fkey FOREIGN KEY (tenant_id, owner_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (owner_id),
    CONSTRAINT files_name_check CHECK (length(name) BETWEEN 1 AND 1024),
    CONSTRAINT files_size_bytes_check CHECK (size_bytes >= 0),
    CONSTRAINT files_checksum_sha256_check CHECK (checksum_sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT files_metadata_check CHECK (jsonb_typeof(metadata) = 'object')
);

CREATE INDEX files_tenant_owner_idx ON files (tenant_id, owner_id);
CREATE INDEX files_tenant_created_at_idx ON files (tenant_id, created_at DESC);

CREATE TABLE sessions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL,
    user_id      uuid NOT NULL,
    -- Digest of the session token (e.g. SHA-256); the token itself is never stored.
    token_hash   bytea NOT NULL,
    ip_address   inet,
    user_agent   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    CONSTRAINT sessions_token_hash_key UNIQUE (tenant_id, token_hash),
    CONSTRAINT sessions_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT sessions_expiry_check CHECK (expires_at > created_at)
);

CREATE INDEX sessions_tenant_user_idx ON sessions (tenant_id, user_id);
CREATE INDEX sessions_tenant_expires_at_idx ON sessions (tenant_id, expires_at);

CREATE TRIGGER users_set_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER files_set_updated_at
    BEFORE UPDATE ON files
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
