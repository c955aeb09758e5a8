-- Long imports and exports run as jobs (后台任务): the user leaves the page and comes back to
-- the progress; a job a restart interrupted says so, and nothing of it was written.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    user_id         BIGINT NOT NULL REFERENCES users(id),
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    status          TEXT NOT NULL,
    rows_found      BIGINT NOT NULL DEFAULT 0,
    rows_done       BIGINT NOT NULL DEFAULT 0,
    created         BIGINT NOT NULL DEFAULT 0,
    error_count     BIGINT NOT NULL DEFAULT 0,
    -- The first bad rows (JSON), or why the file was refused.
    result_json     TEXT,
    file_name       TEXT,
    created_at      BIGINT NOT NULL,
    finished_at     BIGINT
);
CREATE INDEX jobs_user ON jobs(user_id, id);
