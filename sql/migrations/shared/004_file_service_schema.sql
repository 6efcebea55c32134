-- Shared stream 004: storage provider configurations (control plane).
--
-- Where a tenant's file bytes live: the platform default or the tenant's own bucket
-- (bring-your-own storage for enterprise tenants). The file records themselves are tenant
-- data (tenant/004). Credentials are never stored here: credentials_ref names a secret in
-- the secret store.

CREATE TABLE tenant_storage_configs (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL,
    name            text NOT NULL,
    -- Same values as the tenant stream's storage_backend type (files.storage_backend); a
    -- CHECK rather than a shared enum type keeps the two streams independent.
    backend         text NOT NULL,
    bucket          text,
    region          text,
    endpoint_url    text,
    path_prefix     text NOT NULL DEFAULT '',
    credentials_ref text,
    is_default      boolean NOT NULL DEFAULT false,
    quota_bytes     bigint,
    options         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_storage_configs_name_key UNIQUE (tenant_id, name),
    CONSTRAINT tenant_storage_configs_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE RESTRICT,
    CONSTRAINT tenant_storage_configs_backend_check
        CHECK (backend IN ('local', 's3', 'gcs', 'azure_blob')),
    CONSTRAINT tenant_storage_configs_bucket_check CHECK (backend = 'local' OR bucket IS NOT NULL),
    CONSTRAINT tenant_storage_configs_quota_check CHECK (quota_bytes IS NULL OR quota_bytes > 0),
    CONSTRAINT tenant_storage_configs_options_check CHECK (jsonb_typeof(options) = 'object')
);

-- At most one default configuration per tenant.
CREATE UNIQUE INDEX tenant_storage_configs_default_key
    ON tenant_storage_configs (tenant_id)
    WHERE is_default;

CREATE TRIGGER tenant_storage_configs_set_updated_at
    BEFORE UPDATE ON tenant_storage_configs
    FOR EACH ROW EXECUTE FUNCTION shared_set_updated_at();

ALTER TABLE tenant_storage_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_storage_configs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_storage_configs
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);
