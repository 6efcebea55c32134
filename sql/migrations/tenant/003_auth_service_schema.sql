-- Tenant stream 003: authentication service.
--
-- Password reset and email verification tokens, MFA factors and recovery codes, SSO
-- providers and user mappings, API keys and rate limiting. Everything is tenant data: an
-- SSO provider is the tenant's own identity provider, and the application knows the tenant
-- (from tenant_route() or the request's domain) before it reads it. Secrets are stored as
-- digests (tokens, codes, keys) or as ciphertext encrypted by the application (MFA seeds,
-- SSO client secrets), never in clear.
--
-- No shared-stream object is referenced: this stream applies to tenant schemas too.

CREATE TYPE mfa_factor_type AS ENUM ('totp', 'webauthn', 'sms');
CREATE TYPE sso_protocol AS ENUM ('saml', 'oidc');
CREATE TYPE rate_limit_subject AS ENUM ('user', 'api_key', 'ip_address');

CREATE TABLE password_reset_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL,
    user_id      uuid NOT NULL,
    token_hash   bytea NOT NULL,
    requested_ip inet,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    CONSTRAINT password_reset_tokens_token_hash_key UNIQUE (tenant_id, token_hash),
    CONSTRAINT password_reset_tokens_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT password_reset_tokens_expiry_check CHECK (expires_at > created_at)
);
CREATE INDEX password_reset_tokens_tenant_user_idx ON password_reset_tokens (tenant_id, user_id);

CREATE TABLE email_verification_tokens (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    -- The address being verified: it may differ from users.email during an email change.
    email      text NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CONSTRAINT email_verification_tokens_token_hash_key UNIQUE (tenant_id, token_hash),
    CONSTRAINT email_verification_tokens_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT email_verification_tokens_email_check CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    CONSTRAINT email_verification_tokens_expiry_check CHECK (expires_at > created_at)
);
CREATE INDEX email_verification_tokens_tenant_user_idx ON email_verification_tokens (tenant_id, user_id);

CREATE TABLE user_mfa_factors (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id              uuid NOT NULL,
    user_id                uuid NOT NULL,
    factor_type            mfa_factor_type NOT NULL,
    label                  text,
    -- TOTP seed or SMS number, encrypted by the application (envelope encryption).
    secret_ciphertext      bytea,
    webauthn_credential_id bytea,
    webauthn_public_key    bytea,
    webauthn_sign_count    bigint NOT NULL DEFAULT 0,
    confirmed_at           timestamptz,
    last_used_at           timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_mfa_factors_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT user_mfa_factors_material_check CHECK (
        CASE factor_type
            WHEN 'webauthn' THEN webauthn_credential_id IS NOT NULL AND webauthn_public_key IS NOT NULL
            ELSE secret_ciphertext IS NOT NULL
        END
    ),
    CONSTRAINT user_mfa_factors_sign_count_check CHECK (webauthn_sign_count >= 0)
);
CREATE INDEX user_mfa_factors_tenant_user_idx ON user_mfa_factors (tenant_id, user_id);
CREATE UNIQUE INDEX user_mfa_factors_webauthn_credential_key
    ON user_mfa_factors (tenant_id, webauthn_credential_id)
    WHERE webauthn_credential_id IS NOT NULL;

CREATE TABLE mfa_recovery_codes (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    code_hash  bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz,
    CONSTRAINT mfa_recovery_codes_code_hash_key UNIQUE (tenant_id, user_id, code_hash),
    CONSTRAINT mfa_recovery_codes_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE sso_providers (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id                uuid NOT NULL,
    name                     text NOT NULL,
    protocol                 sso_protocol NOT NULL,
    -- SAML entity id or OIDC issuer URL.
    issuer                   text NOT NULL,
    metadata_url             text,
    client_id                text,
    client_secret_ciphertext bytea,
    -- Protocol details: attribute mapping, scopes, signing certificates.
    config                   jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Users whose email ends with one of these domains are sent to this provider.
    email_domains            text[] NOT NULL DEFAULT '{}',
    enabled                  boolean NOT NULL DEFAULT false,
    jit_provisioning         boolean NOT NULL DEFAULT false,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sso_providers_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT sso_providers_name_key UNIQUE (tenant_id, name),
    CONSTRAINT sso_providers_issuer_key UNIQUE (tenant_id, issuer),
    CONSTRAINT sso_providers_oidc_check CHECK (protocol <> 'oidc' OR client_id IS NOT NULL),
    CONSTRAINT sso_providers_config_check CHECK (jsonb_typeof(config) = 'object')
);

CREATE TABLE sso_user_mappings (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL,
    provider_id      uuid NOT NULL,
    user_id          uuid NOT NULL,
    -- SAML NameID or OIDC sub: stable per provider, unlike the email address.
    external_subject text NOT NULL,
    external_email   text,
    last_login_at    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sso_user_mappings_subject_key UNIQUE (tenant_id, provider_id, external_subject),
    CONSTRAINT sso_user_mappings_user_key UNIQUE (tenant_id, provider_id, user_id),
    CONSTRAINT sso_user_mappings_provider_fkey FOREIGN KEY (tenant_id, provider_id)
        REFERENCES sso_providers (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT sso_user_mappings_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sso_user_mappings_tenant_user_idx ON sso_user_mappings (tenant_id, user_id);

-- An API key is presented as <prefix>.<secret>; the prefix identifies the row (and, by the
-- application's key format, the tenant, so that routing happens before the lookup) and the
-- digest of the whole key is compared.
CREATE TABLE api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL,
    user_id      uuid NOT NULL,
    name         text NOT NULL,
    key_prefix   text NOT NULL,
    key_hash     bytea NOT NULL,
    scopes       text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_keys_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT api_keys_key_prefix_key UNIQUE (tenant_id, key_prefix),
    CONSTRAINT api_keys_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT api_keys_name_check CHECK (length(name) BETWEEN 1 AND 200),
    CONSTRAINT api_keys_key_prefix_check CHECK (key_prefix ~ '^[A-Za-z0-9_]{6,32}$')
);
CREATE INDEX api_keys_tenant_user_idx ON api_keys (tenant_id, user_id);

-- Limits: a row with api_key_id NULL is the tenant's default for that subject type.
CREATE TABLE rate_limit_policies (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id           uuid NOT NULL,
    subject_type        rate_limit_subject NOT NULL,
    api_key_id          uuid,
    -- Route or operation group the limit applies to; '*' for all.
    scope               text NOT NULL DEFAULT '*',
    requests_per_window integer NOT NULL,
    window_seconds      integer NOT NULL,
    burst               integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rate_limit_policies_api_key_fkey FOREIGN KEY (tenant_id, api_key_id)
        REFERENCES api_keys (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT rate_limit_policies_api_key_check CHECK (api_key_id IS NULL OR subject_type = 'api_key'),
    CONSTRAINT rate_limit_policies_limits_check CHECK (
        requests_per_window > 0 AND window_seconds BETWEEN 1 AND 86400 AND burst >= 0
    )
);
CREATE UNIQUE INDEX rate_limit_policies_subject_key
    ON rate_limit_policies (tenant_id, subject_type, api_key_id, scope) NULLS NOT DISTINCT;

-- Fixed-window counters, upserted by the application
-- (INSERT ... ON CONFLICT ON CONSTRAINT rate_limit_counters_window_key DO UPDATE).
CREATE TABLE rate_limit_counters (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL,
    subject_type   rate_limit_subject NOT NULL,
    subject_key    text NOT NULL,
    scope          text NOT NULL DEFAULT '*',
    window_start   timestamptz NOT NULL,
    window_seconds integer NOT NULL,
    request_count  integer NOT NULL DEFAULT 0,
    CONSTRAINT rate_limit_counters_window_key
        UNIQUE (tenant_id, subject_type, subject_key, scope, window_start, window_seconds),
    CONSTRAINT rate_limit_counters_count_check CHECK (request_count >= 0 AND window_seconds > 0)
);
CREATE INDEX rate_limit_counters_tenant_window_start_idx ON rate_limit_counters (tenant_id, window_start);

CREATE TRIGGER user_mfa_factors_set_updated_at
    BEFORE UPDATE ON user_mfa_factors
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER sso_providers_set_updated_at
    BEFORE UPDATE ON sso_providers
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER api_keys_set_updated_at
    BEFORE UPDATE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER rate_limit_policies_set_updated_at
    BEFORE UPDATE ON rate_limit_policies
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Row level security: see 002.
ALTER TABLE password_reset_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE password_reset_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON password_reset_tokens
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE email_verification_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_verification_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON email_verification_tokens
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE user_mfa_factors ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_mfa_factors FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_mfa_factors
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE mfa_recovery_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE mfa_recovery_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON mfa_recovery_codes
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE sso_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_providers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sso_providers
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE sso_user_mappings ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_user_mappings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sso_user_mappings
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE rate_limit_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_limit_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rate_limit_policies
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE rate_limit_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_limit_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rate_limit_counters
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);
