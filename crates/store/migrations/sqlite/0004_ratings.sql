-- Standards, the yearly star-rating round, and the data the pioneer criteria are checked against.

-- A standard set (标准): versioned, owned by a level of the tree. A set becomes read-only once a
-- round uses it; a change is a new version.
CREATE TABLE standard_sets (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL,
    version         BIGINT NOT NULL,
    name            TEXT NOT NULL,
    owner_code      TEXT NOT NULL REFERENCES orgs(code),
    owner_path      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (code, version)
);

CREATE TABLE standard_items (
    id              INTEGER PRIMARY KEY,
    set_id          BIGINT NOT NULL REFERENCES standard_sets(id),
    position        BIGINT NOT NULL,
    group_name      TEXT NOT NULL,
    code            TEXT NOT NULL,
    body            TEXT NOT NULL,
    full_score      BIGINT NOT NULL,
    guidance        TEXT NOT NULL,
    evidence        TEXT NOT NULL,
    veto            BIGINT NOT NULL DEFAULT 0,
    UNIQUE (set_id, code)
);

-- A rating round (星级评定) of one year, opened by a city for the villages below it. Thresholds,
-- the veto cap and the lagging rule are data of the round.
CREATE TABLE rating_rounds (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    year            BIGINT NOT NULL,
    set_id          BIGINT NOT NULL REFERENCES standard_sets(id),
    self_due        TEXT NOT NULL,
    review_due      TEXT NOT NULL,
    approve_due     TEXT NOT NULL,
    t1              BIGINT NOT NULL,
    t2              BIGINT NOT NULL,
    t3              BIGINT NOT NULL,
    t4              BIGINT NOT NULL,
    t5              BIGINT NOT NULL,
    veto_cap        BIGINT NOT NULL,
    lagging_max_stars BIGINT NOT NULL,
    lagging_on_veto BIGINT NOT NULL,
    published_at    BIGINT,
    created_at      BIGINT NOT NULL,
    UNIQUE (org_code, year)
);

-- One village's assessment in a round. Totals, stars and the class are kept on the row (computed
-- from its items and the round's rules in the same transaction as every change to them).
CREATE TABLE assessments (
    id              INTEGER PRIMARY KEY,
    round_id        BIGINT NOT NULL REFERENCES rating_rounds(id),
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    set_id          BIGINT NOT NULL REFERENCES standard_sets(id),
    stage           TEXT NOT NULL,
    self_total      BIGINT,
    total           BIGINT,
    full_total      BIGINT NOT NULL,
    veto_failed     BIGINT NOT NULL DEFAULT 0,
    stars           BIGINT,
    class           TEXT,
    class_manual    TEXT,
    class_reason    TEXT,
    updated_at      BIGINT NOT NULL,
    UNIQUE (round_id, org_code)
);
CREATE INDEX assessments_path ON assessments(round_id, org_path);
CREATE INDEX assessments_org ON assessments(org_code);

CREATE TABLE assessment_items (
    assessment_id   BIGINT NOT NULL REFERENCES assessments(id),
    item_id         BIGINT NOT NULL REFERENCES standard_items(id),
    self_score      BIGINT,
    self_vetoed     BIGINT NOT NULL DEFAULT 0,
    note            TEXT NOT NULL DEFAULT '',
    score           BIGINT,
    vetoed          BIGINT NOT NULL DEFAULT 0,
    review_reason   TEXT,
    PRIMARY KEY (assessment_id, item_id)
);

-- Every step of an assessment, newest last: submit, review, approve, publish, send back.
CREATE TABLE assessment_steps (
    id              INTEGER PRIMARY KEY,
    assessment_id   BIGINT NOT NULL REFERENCES assessments(id),
    at              BIGINT NOT NULL,
    actor_login     TEXT NOT NULL,
    actor_role      TEXT NOT NULL,
    action          TEXT NOT NULL,
    from_stage      TEXT NOT NULL,
    to_stage        TEXT NOT NULL,
    reason          TEXT
);
CREATE INDEX assessment_steps_of ON assessment_steps(assessment_id);

-- Evidence files: the bytes live content-addressed (by SHA-256) in the evidence directory.
CREATE TABLE evidence (
    id              INTEGER PRIMARY KEY,
    assessment_id   BIGINT NOT NULL REFERENCES assessments(id),
    item_id         BIGINT NOT NULL REFERENCES standard_items(id),
    sha256          TEXT NOT NULL,
    mime            TEXT NOT NULL,
    size            BIGINT NOT NULL,
    file_name       TEXT NOT NULL,
    uploaded_by     TEXT NOT NULL,
    uploaded_at     BIGINT NOT NULL
);
CREATE INDEX evidence_of ON evidence(assessment_id);

-- The pioneer criteria's data: featured practices (党建特色工作) and the level that promoted
-- them, beautiful-village status (美丽乡村), yearly recurring collective income (in fen).
CREATE TABLE featured_practices (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    year            BIGINT NOT NULL,
    title           TEXT NOT NULL,
    promoted_level  TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (org_code, year, title)
);
CREATE INDEX featured_practices_path ON featured_practices(org_path);

CREATE TABLE beautiful_villages (
    org_code        TEXT PRIMARY KEY REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    level           TEXT NOT NULL,
    year            BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE collective_incomes (
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    year            BIGINT NOT NULL,
    income_fen      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (org_code, year)
);
