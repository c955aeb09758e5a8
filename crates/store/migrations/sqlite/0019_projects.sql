-- Projects (攻坚项目) a county or township runs against a weakness many of its villages share
-- (党群创业互助会, 乡贤参事会, 五年强村计划), the villages they cover, each one's result, and the
-- project's own when it is done.
CREATE TABLE projects (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    weakness        TEXT NOT NULL,
    start_on        TEXT NOT NULL,
    finished_on     TEXT,
    result          TEXT,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX projects_path ON projects(org_path);

CREATE TABLE project_villages (
    project_id      BIGINT NOT NULL REFERENCES projects(id),
    village_code    TEXT NOT NULL REFERENCES orgs(code),
    village_path    TEXT NOT NULL,
    result          TEXT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (project_id, village_code)
);
CREATE INDEX project_villages_path ON project_villages(village_path);
