-- Tenant stream 007: user service.
--
-- Profiles and preferences, notification settings and notifications, activity logs, teams,
-- skills, connections between users, bookmarks.

CREATE TYPE notification_channel AS ENUM ('email', 'in_app', 'push', 'sms');
CREATE TYPE notification_digest AS ENUM ('immediate', 'hourly', 'daily', 'weekly', 'never');
CREATE TYPE team_role AS ENUM ('owner', 'admin', 'member');
CREATE TYPE connection_status AS ENUM ('pending', 'accepted', 'declined', 'blocked');

CREATE TABLE user_profiles (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    first_name text,
    last_name  text,
    job_title  text,
    department text,
    phone      text,
    avatar_url text,
    bio        text,
    location   text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_profiles_user_key UNIQUE (tenant_id, user_id),
    CONSTRAINT user_profiles_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT user_profiles_phone_check CHECK (phone ~ '^\+?[0-9 ()-]{4,32}$'),
    CONSTRAINT user_profiles_bio_check CHECK (length(bio) <= 4000)
);

CREATE TABLE user_preferences (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL,
    user_id     uuid NOT NULL,
    locale      text NOT NULL DEFAULT 'en',
    timezone    text NOT NULL DEFAULT 'UTC',
    theme       text NOT NULL DEFAULT 'system',
    -- Everything else the front ends store per user.
    preferences jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_preferences_user_key UNIQUE (tenant_id, user_id),
    CONSTRAINT user_preferences_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT user_preferences_locale_check CHECK (locale ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
    CONSTRAINT user_preferences_theme_check CHECK (theme IN ('system', 'light', 'dark')),
    CONSTRAINT user_preferences_preferences_check CHECK (jsonb_typeof(preferences) = 'object')
);

CREATE TABLE notification_settings (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    channel    notification_channel NOT NULL,
    -- Event family, e.g. 'file.shared', 'workflow.failed'; '*' for the channel default.
    event_type text NOT NULL DEFAULT '*',
    enabled    boolean NOT NULL DEFAULT true,
    digest     notification_digest NOT NULL DEFAULT 'immediate',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notification_settings_key UNIQUE (tenant_id, user_id, channel, event_type),
    CONSTRAINT notification_settings_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE notifications (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    channel    notification_channel NOT NULL DEFAULT 'in_app',
    event_type text NOT NULL,
    title      text NOT NULL,
    body       text,
    data       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    read_at    timestamptz,
    CONSTRAINT notifications_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT notifications_data_check CHECK (jsonb_typeof(data) = 'object')
);
CREATE INDEX notifications_tenant_user_created_at_idx ON notifications (tenant_id, user_id, created_at DESC);

-- Append-only audit trail of user actions. user_id survives the user as NULL.
CREATE TABLE user_activity_logs (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL,
    user_id       uuid,
    action        text NOT NULL,
    resource_type text,
    resource_id   uuid,
    ip_address    inet,
    user_agent    text,
    metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_activity_logs_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (user_id),
    CONSTRAINT user_activity_logs_metadata_check CHECK (jsonb_typeof(metadata) = 'object')
);
CREATE INDEX user_activity_logs_tenant_user_occurred_at_idx
    ON user_activity_logs (tenant_id, user_id, occurred_at DESC);
CREATE INDEX user_activity_logs_tenant_occurred_at_idx ON user_activity_logs (tenant_id, occurred_at DESC);

-- History is not rewritten; retention deletes stay possible.
REVOKE UPDATE ON user_activity_logs FROM adx_app;

CREATE TABLE teams (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL,
    name           text NOT NULL,
    description    text,
    parent_team_id uuid,
    created_by     uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz,
    CONSTRAINT teams_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT teams_parent_fkey FOREIGN KEY (tenant_id, parent_team_id)
        REFERENCES teams (tenant_id, id) ON DELETE SET NULL (parent_team_id),
    CONSTRAINT teams_created_by_fkey FOREIGN KEY (tenant_id, created_by)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by),
    CONSTRAINT teams_parent_check CHECK (parent_team_id <> id),
    CONSTRAINT teams_name_check CHECK (length(name) BETWEEN 1 AND 200)
);
CREATE UNIQUE INDEX teams_name_key ON teams (tenant_id, lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX teams_tenant_parent_idx ON teams (tenant_id, parent_team_id);
CREATE INDEX teams_tenant_created_by_idx ON teams (tenant_id, created_by);

CREATE TABLE team_members (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    team_id   uuid NOT NULL,
    user_id   uuid NOT NULL,
    role      team_role NOT NULL DEFAULT 'member',
    joined_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT team_members_key UNIQUE (tenant_id, team_id, user_id),
    CONSTRAINT team_members_team_fkey FOREIGN KEY (tenant_id, team_id)
        REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT team_members_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX team_members_tenant_user_idx ON team_members (tenant_id, user_id);

CREATE TABLE skills (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL,
    name       text NOT NULL,
    category   text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT skills_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT skills_name_check CHECK (length(name) BETWEEN 1 AND 100)
);
CREATE UNIQUE INDEX skills_name_key ON skills (tenant_id, lower(name));

CREATE TABLE user_skills (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL,
    user_id          uuid NOT NULL,
    skill_id         uuid NOT NULL,
    -- 1 (beginner) to 5 (expert).
    proficiency      smallint NOT NULL,
    years_experience numeric(4, 1),
    endorsement_count integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_skills_key UNIQUE (tenant_id, user_id, skill_id),
    CONSTRAINT user_skills_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT user_skills_skill_fkey FOREIGN KEY (tenant_id, skill_id)
        REFERENCES skills (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT user_skills_proficiency_check CHECK (proficiency BETWEEN 1 AND 5),
    CONSTRAINT user_skills_years_check CHECK (years_experience >= 0),
    CONSTRAINT user_skills_endorsement_count_check CHECK (endorsement_count >= 0)
);
CREATE INDEX user_skills_tenant_skill_idx ON user_skills (tenant_id, skill_id);

CREATE TABLE user_connections (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL,
    requester_id uuid NOT NULL,
    addressee_id uuid NOT NULL,
    status       connection_status NOT NULL DEFAULT 'pending',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_connections_requester_fkey FOREIGN KEY (tenant_id, requester_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT user_connections_addressee_fkey FOREIGN KEY (tenant_id, addressee_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT user_connections_self_check CHECK (requester_id <> addressee_id)
);
-- One connection per pair of users, whoever asked.
CREATE UNIQUE INDEX user_connections_pair_key
    ON user_connections (tenant_id, least(requester_id, addressee_id), greatest(requester_id, addressee_id));
CREATE INDEX user_connections_tenant_requester_idx ON user_connections (tenant_id, requester_id);
CREATE INDEX user_connections_tenant_addressee_idx ON user_connections (tenant_id, addressee_id);

CREATE TABLE user_bookmarks (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL,
    user_id       uuid NOT NULL,
    -- What is bookmarked: a file, folder, workflow, ... by id, or an external URL.
    resource_type text NOT NULL,
    resource_id   uuid,
    url           text,
    title         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_bookmarks_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT user_bookmarks_target_check CHECK ((resource_id IS NULL) <> (url IS NULL))
);
CREATE UNIQUE INDEX user_bookmarks_key
    ON user_bookmarks (tenant_id, user_id, resource_type, resource_id, url) NULLS NOT DISTINCT;

CREATE TRIGGER user_profiles_set_updated_at
    BEFORE UPDATE ON user_profiles
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER user_preferences_set_updated_at
    BEFORE UPDATE ON user_preferences
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER notification_settings_set_updated_at
    BEFORE UPDATE ON notification_settings
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER teams_set_updated_at
    BEFORE UPDATE ON teams
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER user_skills_set_updated_at
    BEFORE UPDATE ON user_skills
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER user_connections_set_updated_at
    BEFORE UPDATE ON user_connections
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Row level security: see 002.
ALTER TABLE user_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_profiles
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE user_preferences ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_preferences FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_preferences
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE notification_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notification_settings
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE notifications FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notifications
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE user_activity_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_activity_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_activity_logs
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE teams ENABLE ROW LEVEL SECURITY;
ALTER TABLE teams FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON teams
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE team_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_members FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON team_members
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE skills ENABLE ROW LEVEL SECURITY;
ALTER TABLE skills FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON skills
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE user_skills ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_skills FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_skills
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE user_connections ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_connections FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_connections
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);

ALTER TABLE user_bookmarks ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_bookmarks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_bookmarks
    USING (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant', true), '')::uuid);
