-- The foundation: organization tree, accounts, sessions, tokens, audit log.
CREATE TABLE orgs (
    code            TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    level           TEXT NOT NULL,
    parent_code     TEXT REFERENCES orgs(code),
    path            TEXT NOT NULL UNIQUE,
    pinyin          TEXT NOT NULL,
    party_org_kind  TEXT NOT NULL,
    party_org_name  TEXT NOT NULL,
    secretary_name  TEXT,
    member_count    BIGINT NOT NULL DEFAULT 0,
    code_invented   BIGINT NOT NULL DEFAULT 0,
    retired_at      BIGINT,
    retired_reason  TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX orgs_parent ON orgs(parent_code);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    login           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    password_hash   TEXT NOT NULL,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    disabled        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX users_org ON users(org_code);

CREATE TABLE sessions (
    id_hash         TEXT PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users(id),
    csrf            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    token_hash      TEXT PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users(id),
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    at              BIGINT NOT NULL,
    actor_id        BIGINT,
    actor_login     TEXT NOT NULL,
    actor_role      TEXT NOT NULL,
    action          TEXT NOT NULL,
    entity          TEXT NOT NULL,
    entity_key      TEXT NOT NULL,
    org_path        TEXT NOT NULL,
    before_json     TEXT,
    after_json      TEXT,
    reason          TEXT
);
CREATE INDEX audit_log_path ON audit_log(org_path);

-- The audit log is append-only: not even the application's own connection may change it.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
