-- Shared stream 006: tenant service (control plane).
--
-- Billing and usage, feature flags, invitations, custom domains, branding, compliance and
-- backup configurations. Each table with tenant_id references the registry and carries the
-- tenant isolation policy (enabled and forced). A tenant row is never deleted while any of
-- these exist (ON DELETE RESTRICT): removing a tenant archives it and keeps its data.
--
-- invited_by and similar user references carry no foreign key: users are tenant-stream
-- data, which for a schema tenant lives in another schema.

CREATE TYPE billing_plan AS ENUM ('free', 'starter', 'professional', 'enterprise');
CREATE TYPE subscription_status AS ENUM ('trialing', 'active', 'past_due', 'cancelled');
CREATE TYPE invoice_status AS ENUM ('draft', 'open', 'paid', 'void', 'uncollectible');
CREATE TYPE invitation_status AS ENUM ('pending', 'accepted', 'revoked', 'expired');
CREATE TYPE domain_status AS ENUM ('pending', 'verified', 'failed');

CREATE TABLE tenant_billing (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id                uuid NOT NULL,
    plan                     billing_plan NOT NULL DEFAULT 'free',
    subscription_status      subscription_status NOT NULL DEFAULT 'trialing',
    billing_email            text,
    -- Identifiers at the payment provider.
    external_customer_id     text,
    external_subscription_id text,
    currency                 char(3) NOT NULL DEFAULT 'USD',
    trial_ends_at            timestamptz,
    current_period_start     timestamptz,
    current_period_end       timestamptz,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_billing_tenant_key UNIQUE (tenant_id),
    CONSTRAINT tenant_billing_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE RESTRICT,
    CONSTRAINT tenant_billing_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT tenant_billing_period_check CHECK (current_period_end > current_period_start)
);

CREATE TABLE tenant_invoices (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL,
    invoice_number text NOT NULL,
    status         invoice_status NOT NULL DEFAULT 'draft',
    currency       char(3) NOT NULL,
    subtotal_cents bigint NOT NULL,
    tax_cents      bigint NOT NULL DEFAULT 0,
    total_cents    bigint GENERATED ALWAYS AS (subtotal_cents + tax_cents) STORED,
    period_start   date NOT NULL,
    period_end     date NOT NULL,
    issued_at      timestamptz,
    due_at         timestamptz,
    paid_at        timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_invoices_number_key UNIQUE (tenant_id, invoice_number),
    CONSTRAINT tenant_invoices_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE RESTRICT,
    CONSTRAINT tenant_invoices_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT tenant_invoices_amounts_check CHECK (subtotal_cents >= 0 AND tax_cents >= 0),
    CONSTRAINT tenant_invoices_period_check CHECK (period_end >= period_start),
    CONSTRAINT tenant_invoices_paid_check CHECK ((status = 'paid') = (paid_at IS NOT NULL))
);
CREATE INDEX tenant_invoices_tenant_period_idx ON tenant_invoices (tenant_id, period_start DESC);

-- Metered usage, one row per tenant, metric and period (upserted by the application).
CREATE TABLE tenant_usage (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL,
    metric       text NOT NULL,
    period_start date NOT NULL,
    period_end   date NOT NULL,
    quantity     numeric(20, 4) NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_usage_period_key UNIQUE (tenant_id, metric, period_start),
    CONSTRAINT tenant_usage_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE RESTRICT,
    CONSTRAINT tenant_usage_metric_check CHECK (metric ~ '^[a-z][a-z0-9_.]{0,62}$'),
    CONSTRAINT tenant_usage_period_check CHECK (period_end >= period_start),
    CONSTRAINT tenant_usage_quantity_check CHECK (quantity >= 0)
);

CREATE TABLE tenant_quotas (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL,
    metric      text NOT NULL,
    -- NULL: unlimited.
    hard_limit  numeric(20, 4),
    soft_limit  numeric(20, 4),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_quotas_metric_key UNIQUE (tenant_id, metric),
    CONSTRAINT tenant_quotas_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE RESTRICT,
    CONSTRAINT tenant_quotas_metric_check CHECK (metric ~ '^[a-z][a-z0-9_.]{0,62}$'),
    CONSTRAINT tenant_quotas_limits_check CHECK (
        (hard_limit IS NULL OR hard_limit >= 0)
        AND (soft_limit IS NULL OR soft_limit >= 0)
        AND (soft_limit IS NULL OR hard_limit IS NULL OR soft_limit <= hard_limit)
    )
);

-- Flag definitions are platform-wide (no tenant_id): the application reads them; the
-- platform (adx_owner, i.e. migrations or the deploy) defines them.
CREATE TABLE feature_flags (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    key             text NOT NULL,
    description     text NOT NULL DEFAULT '',
    default_enabled boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT feature_flags_key_key UNIQUE (key),
    CONSTRAINT feature_flags_key_check CHECK (key ~ '^[a-z][a-z0-9_.-]{1,99}$')
);
REVOKE INSERT, UPDATE, DELETE ON feature_flags FROM adx_app;

CREATE TABLE tenant_feature_flags (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL,
    flag_id    uuid NOT NULL,
    enabled    boolean NOT NULL,
    -- Optional targeting inside the tenant (percentage, user ids, ...).
    rollout    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_feature_flags_flag_key UNIQUE (tenant_id, flag_id),
    CONSTRAINT tenant_feature_flags_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE RESTRICT,
    CONSTRAINT tenant_feature_flags_flag_fkey FOREIGN KEY (flag_id)
        REFERENCES feature_flags (id) ON DELETE CASCADE,
    CONSTRAINT tenant_feature_flags_rollout_check CHECK (jsonb_typeof(rollout) = 'object')
);
CREATE INDEX tenant_feature_flags_flag_idx ON tenant_feature_flags (flag_id);

CREATE TABLE tenant_invitations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL,
    email       text NOT NULL,
    role        text NOT NULL DEFAULT 'member',
    token_hash  bytea NOT NULL,
    status      invitation_status NOT NULL DEFAULT 'pending',
    invited_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    CONSTRAINT tenant_invitations_token_hash_key UNIQUE (tenant_id, token_hash),
    CONSTRAINT tenant_invitations_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE RESTRICT,
    CONSTRAINT tenant_invitations_email_check CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    CONSTRAINT tenant_invitations_expiry_check CHECK (expires_at > created_at),
    CONSTRAINT tenant_invitations_accepted_check CHECK ((status = 'accepted') = (accepted_at IS NOT NULL))
);
-- One open invitation per address and tenant.
CREATE UNIQUE INDEX tenant_invitations_pending_email_key
    ON tenant_invitations (tenant_id, lower(email))
    WHERE status = 'pending';

CREATE TABLE tenant_custom_domains (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL,
    domain             text NOT NULL,
    status             domain_status NOT NULL DEFAULT 'pending',
    -- Value the tenant publishes in a DNS TXT record to prove ownership.
    verification_token text NOT NULL,
    verified_at        timestamptz,
    last_checked_at    timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_custom_domains_domain_key UNIQUE (tenant_id, domain),
    CONSTRAINT tenant_custom_domains_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE RESTRICT,
    -- Lowercase DNS name, at least two labels.
    CONSTRAINT tenant_custom_domains_domain_check CHECK (
        length(domain) <= 253
        AND domain ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$'
    ),
    CONSTRAINT tenant_custom_domains_verified_check CHECK ((status = 'verified') = (verified_at IS NOT NULL))
);
-- Routing needs a verified domain to belong to one tenant. This is the one uniqueness rule
-- across tenants, limited to verified domains, which point at the platform in public DNS
-- anyway: a pending claim reveals nothing about other tenants.
CREATE UNIQUE INDEX tenant_custom_domains_verified_key
    ON tenant_custom_domains (domain)
    WHERE status = 'verified';

CREATE TABLE tenant_branding (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL,
    display_name    text,
    logo_url        text,
    favicon_url     text,
    primary_color   text,
    secondary_color text,
    email_from_name text,
    support_email   text,
    custom_css      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_branding_tenant_key UNIQUE (tenant_id),
    CONSTRAINT tenant_branding_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE RESTRICT,
    CONSTRAINT tenant_branding_colors_check CHECK (
        (primary_color IS NULL OR primary_color ~ '^#[0-9a-fA-F]{6}$')
        AND (secondary_color IS NULL OR secondary_color ~ '^#[0-9a-fA-F]{6}$')
    ),
    CONSTRAINT tenant_branding_urls_check CHECK (
        (logo_url IS NULL OR logo_url ~ '^https://')
        AND (favicon_url IS NULL OR favicon_url ~ '^https://')
    ),
    CONSTRAINT tenant_branding_custom_css_check CHECK (length(custom_css) <= 65536)
);

CREATE TABLE tenant_compliance_settings (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id                uuid NOT NULL,
    -- Region the tenant's data must stay in (e.g. 'eu-west'); NULL: no constraint.
    data_residency_region    text,
    data_retention_days      integer,
    audit_log_retention_days integer NOT NULL DEFAULT 365,
    gdpr_enabled             boolean NOT NULL DEFAULT true,
    hipaa_enabled            boolean NOT NULL DEFAULT false,
    soc2_enabled             boolean NOT NULL DEFAULT false,
    require_mfa              boolean NOT NULL DEFAULT false,
    allowed_ip_ranges        cidr[] NOT NULL DEFAULT '{}',
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_compliance_settings_tenant_key UNIQUE (tenant_id),
    CONSTRAINT tenant_compliance_settings_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE RESTRICT,
    CONSTRAINT tenant_compliance_settings_retention_check CHECK (
        (data_retention_days IS NULL OR data_retention_days > 0) AND audit_log_retention_days > 0
    )
);

-- Per-tenant export schedule (DESIGN.md decision 7: a dump of the tenant's schema or
-- database, or a filtered copy for an rls tenant), on top of the cluster-wide pgBackRest
-- backups.
CREATE TABLE tenant_backup_configs (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL,
    enabled            boolean NOT NULL DEFAULT false,
    schedule_cron      text NOT NULL DEFAULT '0 3 * * *',
    retention_days     integer NOT NULL DEFAULT 30,
    -- Where exports go: a repository name or URL the backup host understands; credentials
    -- are referenced, not stored.
    destination        text,
    credentials_ref    text,
    encrypt            boolean NOT NULL DEFAULT true,
    last_export_at     timestamptz,
    last_export_status text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_backup_configs_tenant_key UNIQUE (tenant_id),
    CONSTRAINT tenant_backup_configs_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE RESTRICT,
    CONSTRAINT tenant_backup_configs_retention_check CHECK (retention_days > 0),
    CONSTRAINT tenant_backup_configs_cron_check CHECK (schedule_cron ~ '^\S+(\s+\S+){4}$'),
    CONSTRAINT tenant_backup_configs_status_check
        CHECK (last_export_status IN ('succeeded', 'failed', 'running')),
    CONSTRAINT tenant_backup_configs_destination_check CHECK (NOT enabled OR destination IS NOT NULL)
);

CREATE TRIGGER tenant_billing_set_updated_at
    BEFORE UPDATE ON tenant_billing
    FOR EACH ROW EXECUTE FUNCTION shared_set_updated_at();
CREATE TRIGGER tenant_invoices_set_updated_at
    BEFORE UPDATE ON tenant_invoices
    FOR EACH ROW EXECUTE FUNCTION shared_set_updated_at();
CREATE TRIGGER tenant_usage_set_updated_at
    BEFORE UPDATE ON tenant_usage
    FOR EACH ROW EXECUTE FUNCTION shared_set_updated_at();
CREATE TRIGGER tenant_quotas_set_updated_at
    BEFORE UPDATE ON tenant_quotas
    FOR EACH ROW EXECUTE FUNCTION shared_set_updated_at();
CREATE TRIGGER feature_flags_set_updated_at
    BEFORE UPDATE ON feature_flags
    FOR EACH ROW EXECUTE FUNCTION shared_set_updated_at();
CREATE TRIGGER tenant_feature_flags_set_updated_at
    BEFORE UPDATE ON tenant_feature_flags
    FOR EACH ROW EXECUTE FUNCTION shared_set_updated_at();
CREATE TRIGGER tenant_custom_domains_set_updated_at
    BEFORE UPDATE ON tenant_custom_domains
    FOR EACH ROW EXECUTE FUNCTION shared_set_updated_at();
CREATE TRIGGER tenant_branding_set_updated_at
    BEFORE UPDATE ON tenant_branding
    FOR EACH ROW EXECUTE FUNCTION shared_set_updated_at();
CREATE TRIGGER tenant_compliance_settings_set_updated_at
    BEFORE UPDATE ON tenant_compliance_settings
    FOR EACH ROW EXECUTE FUNCTION shared_set_updated_at();
CREATE TRIGGER tenant_backup_configs_set_updated_at
    BEFORE UPDATE ON tenant_backup_configs
    FOR EACH ROW EXECUTE FUNCTION shared_set_updated_at();

-- Row level security: the tenant policy of shared/002, on every table with tenant_id.
ALTER TABLE tenant_billing ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_billing FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_billing
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE tenant_invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_invoices
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE tenant_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_usage
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE tenant_quotas ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_quotas FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_quotas
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE tenant_feature_flags ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_feature_flags FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_feature_flags
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE tenant_invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_invitations
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE tenant_custom_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_custom_domains FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_custom_domains
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);
-- For tenant_route_by_domain() below, which runs as adx_owner: read-only, all rows.
CREATE POLICY control_plane_read ON tenant_custom_domains
    FOR SELECT
    TO adx_owner
    USING (true);

ALTER TABLE tenant_branding ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_branding FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_branding
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE tenant_compliance_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_compliance_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_compliance_settings
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE tenant_backup_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_backup_configs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_backup_configs
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

-- Routing by a verified custom domain (the counterpart of tenant_route(slug) in 002).
CREATE FUNCTION tenant_route_by_domain(p_domain text)
    RETURNS TABLE (
        tenant_id       uuid,
        slug            text,
        status          public.tenant_status,
        isolation_level public.tenant_isolation_level,
        db_host         text,
        db_port         integer,
        db_name         text,
        db_schema       text
    )
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.id, t.slug, t.status, t.isolation_level, t.db_host, t.db_port, t.db_name, t.db_schema
      FROM public.tenant_custom_domains AS d
      JOIN public.tenants AS t ON t.id = d.tenant_id
     WHERE d.domain = lower(rtrim(p_domain, '.'))
       AND d.status = 'verified'::public.domain_status
       AND t.status <> 'archived'::public.tenant_status
$$;

COMMENT ON FUNCTION tenant_route_by_domain(text) IS
    'Location of the non-archived tenant owning a verified custom domain.';

REVOKE EXECUTE ON FUNCTION tenant_route_by_domain(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_route_by_domain(text) TO adx_app, adx_readonly;
