-- Tenant stream 005: workflow service (Temporal execution tracking).
--
-- Temporal is the system of record for running workflows; these tables are the tenant's
-- queryable view of them: executions and their activities, schedules, templates, AI
-- workflow configurations, and the events that tie workflows of several services together
-- (parent_execution_id, correlation_id, workflow_events).

CREATE TYPE workflow_status AS ENUM (
    'running', 'completed', 'failed', 'cancelled', 'terminated', 'continued_as_new', 'timed_out'
);
CREATE TYPE activity_status AS ENUM (
    'scheduled', 'started', 'completed', 'failed', 'cancelled', 'timed_out'
);

CREATE TABLE workflow_templates (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL,
    name          text NOT NULL,
    description   text,
    -- Temporal workflow type the template starts.
    workflow_type text NOT NULL,
    version       integer NOT NULL DEFAULT 1,
    definition    jsonb NOT NULL DEFAULT '{}'::jsonb,
    is_active     boolean NOT NULL DEFAULT true,
    created_by    uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workflow_templates_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT workflow_templates_version_key UNIQUE (tenant_id, name, version),
    CONSTRAINT workflow_templates_created_by_fkey FOREIGN KEY (tenant_id, created_by)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by),
    CONSTRAINT workflow_templates_version_check CHECK (version > 0),
    CONSTRAINT workflow_templates_definition_check CHECK (jsonb_typeof(definition) = 'object')
);
CREATE INDEX workflow_templates_tenant_created_by_idx ON workflow_templates (tenant_id, created_by);

CREATE TABLE workflow_executions (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id            uuid NOT NULL,
    temporal_workflow_id text NOT NULL,
    temporal_run_id      text NOT NULL,
    workflow_type        text NOT NULL,
    task_queue           text NOT NULL,
    -- The service that started the workflow (cross-service orchestration).
    service_name         text NOT NULL,
    template_id          uuid,
    parent_execution_id  uuid,
    -- Shared by every execution of one business operation, across services.
    correlation_id       uuid,
    status               workflow_status NOT NULL DEFAULT 'running',
    input                jsonb,
    result               jsonb,
    error                jsonb,
    initiated_by         uuid,
    started_at           timestamptz NOT NULL DEFAULT now(),
    closed_at            timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workflow_executions_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT workflow_executions_run_key UNIQUE (tenant_id, temporal_workflow_id, temporal_run_id),
    CONSTRAINT workflow_executions_template_fkey FOREIGN KEY (tenant_id, template_id)
        REFERENCES workflow_templates (tenant_id, id) ON DELETE SET NULL (template_id),
    CONSTRAINT workflow_executions_parent_fkey FOREIGN KEY (tenant_id, parent_execution_id)
        REFERENCES workflow_executions (tenant_id, id) ON DELETE SET NULL (parent_execution_id),
    CONSTRAINT workflow_executions_initiated_by_fkey FOREIGN KEY (tenant_id, initiated_by)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (initiated_by),
    CONSTRAINT workflow_executions_closed_check CHECK ((status = 'running') = (closed_at IS NULL)),
    CONSTRAINT workflow_executions_parent_check CHECK (parent_execution_id <> id)
);
CREATE INDEX workflow_executions_tenant_template_idx ON workflow_executions (tenant_id, template_id);
CREATE INDEX workflow_executions_tenant_parent_idx ON workflow_executions (tenant_id, parent_execution_id);
CREATE INDEX workflow_executions_tenant_initiated_by_idx ON workflow_executions (tenant_id, initiated_by);

CREATE TABLE workflow_activities (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL,
    execution_id  uuid NOT NULL,
    -- Temporal's activity id within the execution; one row per attempt.
    activity_id   text NOT NULL,
    activity_type text NOT NULL,
    -- The service whose worker ran the activity.
    service_name  text NOT NULL,
    attempt       integer NOT NULL DEFAULT 1,
    status        activity_status NOT NULL DEFAULT 'scheduled',
    input         jsonb,
    result        jsonb,
    error         jsonb,
    scheduled_at  timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    completed_at  timestamptz,
    CONSTRAINT workflow_activities_attempt_key UNIQUE (tenant_id, execution_id, activity_id, attempt),
    CONSTRAINT workflow_activities_execution_fkey FOREIGN KEY (tenant_id, execution_id)
        REFERENCES workflow_executions (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT workflow_activities_attempt_check CHECK (attempt > 0)
);

CREATE TABLE workflow_schedules (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id            uuid NOT NULL,
    temporal_schedule_id text NOT NULL,
    name                 text NOT NULL,
    template_id          uuid NOT NULL,
    cron_expression      text NOT NULL,
    timezone             text NOT NULL DEFAULT 'UTC',
    input                jsonb,
    paused               boolean NOT NULL DEFAULT false,
    next_run_at          timestamptz,
    last_run_at          timestamptz,
    created_by           uuid,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workflow_schedules_temporal_key UNIQUE (tenant_id, temporal_schedule_id),
    CONSTRAINT workflow_schedules_name_key UNIQUE (tenant_id, name),
    CONSTRAINT workflow_schedules_template_fkey FOREIGN KEY (tenant_id, template_id)
        REFERENCES workflow_templates (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT workflow_schedules_created_by_fkey FOREIGN KEY (tenant_id, created_by)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by),
    -- Five or six whitespace-separated fields; Temporal validates the expression itself.
    CONSTRAINT workflow_schedules_cron_check
        CHECK (cron_expression ~ '^\S+(\s+\S+){4,5}$')
);
CREATE INDEX workflow_schedules_tenant_template_idx ON workflow_schedules (tenant_id, template_id);
CREATE INDEX workflow_schedules_tenant_created_by_idx ON workflow_schedules (tenant_id, created_by);

CREATE TABLE ai_workflow_configs (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id            uuid NOT NULL,
    name                 text NOT NULL,
    template_id          uuid,
    model_provider       text NOT NULL,
    model_name           text NOT NULL,
    system_prompt        text,
    temperature          numeric(3, 2) NOT NULL DEFAULT 0.20,
    max_output_tokens    integer NOT NULL DEFAULT 1024,
    monthly_token_budget bigint,
    parameters           jsonb NOT NULL DEFAULT '{}'::jsonb,
    enabled              boolean NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ai_workflow_configs_name_key UNIQUE (tenant_id, name),
    CONSTRAINT ai_workflow_configs_template_fkey FOREIGN KEY (tenant_id, template_id)
        REFERENCES workflow_templates (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT ai_workflow_configs_temperature_check CHECK (temperature BETWEEN 0 AND 2),
    CONSTRAINT ai_workflow_configs_tokens_check
        CHECK (max_output_tokens > 0 AND (monthly_token_budget IS NULL OR monthly_token_budget >= 0)),
    CONSTRAINT ai_workflow_configs_parameters_check CHECK (jsonb_typeof(parameters) = 'object')
);
CREATE INDEX ai_workflow_configs_tenant_template_idx ON ai_workflow_configs (tenant_id, template_id);

-- Append-only trail of signals, queries and hand-offs between services' workflows.
CREATE TABLE workflow_events (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL,
    execution_id uuid NOT NULL,
    event_type   text NOT NULL,
    service_name text NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workflow_events_execution_fkey FOREIGN KEY (tenant_id, execution_id)
        REFERENCES workflow_executions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX workflow_events_tenant_execution_idx ON workflow_events (tenant_id, execution_id, occurred_at);

-- Events are history: the application may add and read them, not rewrite them.
REVOKE UPDATE ON workflow_events FROM adx_app;

CREATE TRIGGER workflow_templates_set_updated_at
    BEFORE UPDATE ON workflow_templates
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER workflow_executions_set_updated_at
    BEFORE UPDATE ON workflow_executions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER workflow_schedules_set_updated_at
    BEFORE UPDATE ON workflow_schedules
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER ai_workflow_configs_set_updated_at
    BEFORE UPDATE ON ai_workflow_configs
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Row level security: see 002.
ALTER TABLE workflow_templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_templates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workflow_templates
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE workflow_executions ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_executions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workflow_executions
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE workflow_activities ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_activities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workflow_activities
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE workflow_schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_schedules FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workflow_schedules
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE ai_workflow_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai_workflow_configs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ai_workflow_configs
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE workflow_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workflow_events
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);
