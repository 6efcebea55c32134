-- Tenant stream 004: file service.
--
-- Folders, file versions and sharing, processing jobs and thumbnails, tags. Storage
-- provider configurations are control-plane (shared/004); files record the backend and key
-- their bytes live under (files.storage_backend, files.storage_key).

CREATE TYPE file_permission AS ENUM ('view', 'comment', 'edit');
CREATE TYPE file_job_type AS ENUM ('thumbnail', 'virus_scan', 'text_extraction', 'transcode', 'ocr');
CREATE TYPE job_status AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');

CREATE TABLE folders (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL,
    parent_id  uuid,
    owner_id   uuid,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    CONSTRAINT folders_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT folders_parent_fkey FOREIGN KEY (tenant_id, parent_id)
        REFERENCES folders (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT folders_owner_fkey FOREIGN KEY (tenant_id, owner_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (owner_id),
    CONSTRAINT folders_parent_check CHECK (parent_id <> id),
    CONSTRAINT folders_name_check CHECK (length(name) BETWEEN 1 AND 255 AND strpos(name, '/') = 0)
);

-- Sibling names are unique, case-insensitively, among live folders; root folders
-- (parent_id NULL) are siblings too, hence NULLS NOT DISTINCT.
CREATE UNIQUE INDEX folders_sibling_name_key
    ON folders (tenant_id, parent_id, lower(name)) NULLS NOT DISTINCT
    WHERE deleted_at IS NULL;
CREATE INDEX folders_tenant_parent_idx ON folders (tenant_id, parent_id);
CREATE INDEX folders_tenant_owner_idx ON folders (tenant_id, owner_id);

ALTER TABLE files ADD COLUMN folder_id uuid;
ALTER TABLE files ADD CONSTRAINT files_folder_fkey FOREIGN KEY (tenant_id, folder_id)
    REFERENCES folders (tenant_id, id) ON DELETE SET NULL (folder_id);
CREATE INDEX files_tenant_folder_idx ON files (tenant_id, folder_id);

CREATE TABLE file_versions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL,
    file_id         uuid NOT NULL,
    version_number  integer NOT NULL,
    size_bytes      bigint NOT NULL,
    checksum_sha256 text,
    storage_backend storage_backend NOT NULL,
    storage_key     text NOT NULL,
    created_by      uuid,
    change_note     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT file_versions_number_key UNIQUE (tenant_id, file_id, version_number),
    CONSTRAINT file_versions_file_fkey FOREIGN KEY (tenant_id, file_id)
        REFERENCES files (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT file_versions_created_by_fkey FOREIGN KEY (tenant_id, created_by)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by),
    CONSTRAINT file_versions_number_check CHECK (version_number > 0),
    CONSTRAINT file_versions_size_bytes_check CHECK (size_bytes >= 0),
    CONSTRAINT file_versions_checksum_sha256_check CHECK (checksum_sha256 ~ '^[0-9a-f]{64}$')
);
CREATE INDEX file_versions_tenant_created_by_idx ON file_versions (tenant_id, created_by);

-- A share goes to one user, or is a link (share_token_hash) usable by whoever holds it.
CREATE TABLE file_shares (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id           uuid NOT NULL,
    file_id             uuid NOT NULL,
    shared_with_user_id uuid,
    share_token_hash    bytea,
    permission          file_permission NOT NULL DEFAULT 'view',
    created_by          uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz,
    revoked_at          timestamptz,
    CONSTRAINT file_shares_token_hash_key UNIQUE (tenant_id, share_token_hash),
    CONSTRAINT file_shares_file_fkey FOREIGN KEY (tenant_id, file_id)
        REFERENCES files (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT file_shares_user_fkey FOREIGN KEY (tenant_id, shared_with_user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT file_shares_created_by_fkey FOREIGN KEY (tenant_id, created_by)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by),
    CONSTRAINT file_shares_target_check
        CHECK ((shared_with_user_id IS NULL) <> (share_token_hash IS NULL))
);
CREATE UNIQUE INDEX file_shares_user_key
    ON file_shares (tenant_id, file_id, shared_with_user_id)
    WHERE shared_with_user_id IS NOT NULL AND revoked_at IS NULL;
CREATE INDEX file_shares_tenant_user_idx ON file_shares (tenant_id, shared_with_user_id);
CREATE INDEX file_shares_tenant_file_idx ON file_shares (tenant_id, file_id);
CREATE INDEX file_shares_tenant_created_by_idx ON file_shares (tenant_id, created_by);

CREATE TABLE file_processing_jobs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL,
    file_id      uuid NOT NULL,
    job_type     file_job_type NOT NULL,
    status       job_status NOT NULL DEFAULT 'queued',
    attempts     integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 3,
    -- Temporal workflow running the job, when there is one.
    workflow_id  text,
    payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
    result       jsonb,
    error        text,
    scheduled_at timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT file_processing_jobs_file_fkey FOREIGN KEY (tenant_id, file_id)
        REFERENCES files (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT file_processing_jobs_attempts_check
        CHECK (attempts >= 0 AND max_attempts > 0 AND attempts <= max_attempts),
    CONSTRAINT file_processing_jobs_payload_check CHECK (jsonb_typeof(payload) = 'object')
);
CREATE INDEX file_processing_jobs_tenant_file_idx ON file_processing_jobs (tenant_id, file_id);

CREATE TABLE file_thumbnails (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL,
    file_id     uuid NOT NULL,
    width       integer NOT NULL,
    height      integer NOT NULL,
    mime_type   text NOT NULL DEFAULT 'image/webp',
    size_bytes  bigint NOT NULL,
    storage_key text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT file_thumbnails_size_key UNIQUE (tenant_id, file_id, width, height),
    CONSTRAINT file_thumbnails_file_fkey FOREIGN KEY (tenant_id, file_id)
        REFERENCES files (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT file_thumbnails_dimensions_check CHECK (width > 0 AND height > 0 AND size_bytes >= 0)
);

CREATE TABLE file_tags (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL,
    name       text NOT NULL,
    color      text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT file_tags_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT file_tags_name_check CHECK (length(name) BETWEEN 1 AND 100),
    CONSTRAINT file_tags_color_check CHECK (color ~ '^#[0-9a-fA-F]{6}$')
);
CREATE UNIQUE INDEX file_tags_name_key ON file_tags (tenant_id, lower(name));

CREATE TABLE file_tag_assignments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL,
    file_id     uuid NOT NULL,
    tag_id      uuid NOT NULL,
    assigned_by uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT file_tag_assignments_key UNIQUE (tenant_id, file_id, tag_id),
    CONSTRAINT file_tag_assignments_file_fkey FOREIGN KEY (tenant_id, file_id)
        REFERENCES files (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT file_tag_assignments_tag_fkey FOREIGN KEY (tenant_id, tag_id)
        REFERENCES file_tags (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT file_tag_assignments_assigned_by_fkey FOREIGN KEY (tenant_id, assigned_by)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (assigned_by)
);
CREATE INDEX file_tag_assignments_tenant_tag_idx ON file_tag_assignments (tenant_id, tag_id);
CREATE INDEX file_tag_assignments_tenant_assigned_by_idx ON file_tag_assignments (tenant_id, assigned_by);

CREATE TRIGGER folders_set_updated_at
    BEFORE UPDATE ON folders
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER file_processing_jobs_set_updated_at
    BEFORE UPDATE ON file_processing_jobs
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Row level security: see 002.
ALTER TABLE folders ENABLE ROW LEVEL SECURITY;
ALTER TABLE folders FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON folders
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE file_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON file_versions
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE file_shares ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_shares FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON file_shares
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE file_processing_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_processing_jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON file_processing_jobs
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE file_thumbnails ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_thumbnails FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON file_thumbnails
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE file_tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_tags FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON file_tags
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE file_tag_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_tag_assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON file_tag_assignments
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);
