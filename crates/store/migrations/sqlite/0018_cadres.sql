-- Village secretaries (村党组织书记), one row per term: the current one has no `until`. A term
-- ended as unfit (不胜任调整) keeps its reason and its successor; fitness is graded per year.
CREATE TABLE secretaries (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    name            TEXT NOT NULL,
    phone_sealed    TEXT,
    phone_masked    TEXT,
    origin          TEXT NOT NULL,
    origin_note     TEXT NOT NULL,
    since           TEXT NOT NULL,
    until           TEXT,
    end_kind        TEXT,
    end_reason      TEXT,
    successor_id    BIGINT REFERENCES secretaries(id),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX secretaries_current ON secretaries(org_code) WHERE until IS NULL;
CREATE INDEX secretaries_path ON secretaries(org_path);
CREATE INDEX secretaries_org ON secretaries(org_code);

CREATE TABLE secretary_fitness (
    secretary_id    BIGINT NOT NULL REFERENCES secretaries(id),
    year            BIGINT NOT NULL,
    grade           TEXT NOT NULL,
    note            TEXT NOT NULL,
    graded_by       TEXT NOT NULL,
    graded_at       BIGINT NOT NULL,
    PRIMARY KEY (secretary_id, year)
);

-- First secretaries (第一书记) sent by a city or county body to a village; one in post per
-- village (no `ended`); a report per quarter.
CREATE TABLE first_secretaries (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    name            TEXT NOT NULL,
    phone_sealed    TEXT,
    phone_masked    TEXT,
    sent_from       TEXT NOT NULL,
    sent_by         TEXT NOT NULL,
    start_on        TEXT NOT NULL,
    term_end        TEXT NOT NULL,
    ended_on        TEXT,
    stationed       BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX first_secretaries_current ON first_secretaries(org_code) WHERE ended_on IS NULL;
CREATE INDEX first_secretaries_path ON first_secretaries(org_path);

CREATE TABLE first_secretary_reports (
    id              INTEGER PRIMARY KEY,
    first_secretary_id BIGINT NOT NULL REFERENCES first_secretaries(id),
    quarter         TEXT NOT NULL,
    body            TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    recorded_at     BIGINT NOT NULL,
    UNIQUE (first_secretary_id, quarter)
);
