-- adx:transaction=off
--
-- Tenant stream 008: advanced indexes on tenant tables, built without blocking writes.
--
-- Non-transactional: the engine runs each statement on its own, outside a transaction block
-- (CREATE INDEX CONCURRENTLY refuses to run inside one). Every statement is re-runnable
-- (IF NOT EXISTS) and is one line ending in a semicolon. The health functions of the same
-- migration are in shared/008.
--
-- A concurrent build that fails (lock_timeout, cancel, duplicate values) leaves an INVALID
-- index with the same name, which IF NOT EXISTS then skips: before re-running this file
-- after a failure, drop invalid indexes (adx_health_check() reports them under
-- invalid_indexes) with DROP INDEX CONCURRENTLY.
--
-- Every btree index leads with tenant_id (RLS adds tenant_id = <context> to every query).
-- Partial indexes cover the hot subsets (live rows, queues, unread). GIN indexes serve
-- JSONB containment (@>) and array membership.

-- Files: folder listings of live files, sorted by name.
CREATE INDEX CONCURRENTLY IF NOT EXISTS files_tenant_folder_name_idx ON files (tenant_id, folder_id, lower(name)) WHERE deleted_at IS NULL;

-- Files still in the upload or processing pipeline.
CREATE INDEX CONCURRENTLY IF NOT EXISTS files_tenant_pipeline_idx ON files (tenant_id, status, updated_at) WHERE status IN ('uploading', 'processing');

-- Files by metadata (metadata @> '{"project": "x"}').
CREATE INDEX CONCURRENTLY IF NOT EXISTS files_metadata_gin_idx ON files USING gin (metadata jsonb_path_ops);

-- Live users by role (roles @> ARRAY['admin']).
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_roles_gin_idx ON users USING gin (roles) WHERE deleted_at IS NULL;

-- A user's live sessions (session list, revoke all).
CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_tenant_user_live_idx ON sessions (tenant_id, user_id, expires_at) WHERE revoked_at IS NULL;

-- A user's usable API keys.
CREATE INDEX CONCURRENTLY IF NOT EXISTS api_keys_tenant_user_live_idx ON api_keys (tenant_id, user_id) WHERE revoked_at IS NULL;

-- Unused reset tokens, for expiry sweeps.
CREATE INDEX CONCURRENTLY IF NOT EXISTS password_reset_tokens_tenant_open_idx ON password_reset_tokens (tenant_id, expires_at) WHERE used_at IS NULL;

-- "Shared with me": active shares to a user.
CREATE INDEX CONCURRENTLY IF NOT EXISTS file_shares_tenant_recipient_live_idx ON file_shares (tenant_id, shared_with_user_id, created_at DESC) WHERE revoked_at IS NULL AND shared_with_user_id IS NOT NULL;

-- The processing queue: jobs to pick up or watch.
CREATE INDEX CONCURRENTLY IF NOT EXISTS file_processing_jobs_tenant_queue_idx ON file_processing_jobs (tenant_id, status, scheduled_at) WHERE status IN ('queued', 'running');

-- Workflow history per status, newest first.
CREATE INDEX CONCURRENTLY IF NOT EXISTS workflow_executions_tenant_status_started_idx ON workflow_executions (tenant_id, status, started_at DESC);

-- Running workflows (dashboards, stuck-workflow detection).
CREATE INDEX CONCURRENTLY IF NOT EXISTS workflow_executions_tenant_running_idx ON workflow_executions (tenant_id, started_at) WHERE status = 'running';

-- All executions of one business operation across services.
CREATE INDEX CONCURRENTLY IF NOT EXISTS workflow_executions_tenant_correlation_idx ON workflow_executions (tenant_id, correlation_id) WHERE correlation_id IS NOT NULL;

-- Activities in flight, per service.
CREATE INDEX CONCURRENTLY IF NOT EXISTS workflow_activities_tenant_service_open_idx ON workflow_activities (tenant_id, service_name, status) WHERE status IN ('scheduled', 'started');

-- Schedules due next.
CREATE INDEX CONCURRENTLY IF NOT EXISTS workflow_schedules_tenant_due_idx ON workflow_schedules (tenant_id, next_run_at) WHERE NOT paused;

-- Workflow events by payload.
CREATE INDEX CONCURRENTLY IF NOT EXISTS workflow_events_payload_gin_idx ON workflow_events USING gin (payload jsonb_path_ops);

-- Unread notifications of a user, newest first.
CREATE INDEX CONCURRENTLY IF NOT EXISTS notifications_tenant_user_unread_idx ON notifications (tenant_id, user_id, created_at DESC) WHERE read_at IS NULL;

-- Audit trail of one resource.
CREATE INDEX CONCURRENTLY IF NOT EXISTS user_activity_logs_tenant_resource_idx ON user_activity_logs (tenant_id, resource_type, resource_id, occurred_at DESC) WHERE resource_id IS NOT NULL;

-- Audit trail by metadata.
CREATE INDEX CONCURRENTLY IF NOT EXISTS user_activity_logs_metadata_gin_idx ON user_activity_logs USING gin (metadata jsonb_path_ops);

-- Pending connection requests to a user.
CREATE INDEX CONCURRENTLY IF NOT EXISTS user_connections_tenant_addressee_pending_idx ON user_connections (tenant_id, addressee_id, created_at) WHERE status = 'pending';
