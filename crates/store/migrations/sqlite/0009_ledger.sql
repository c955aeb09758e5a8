-- Leaders (领导) who guide parts of the tree (联系指导): the city secretary, the organization
-- head, county secretaries, township leaders. An account may speak for one (user_id).
CREATE TABLE leaders (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    name            TEXT NOT NULL,
    title           TEXT NOT NULL,
    user_id         BIGINT REFERENCES users(id),
    created_at      BIGINT NOT NULL,
    UNIQUE (org_code, name)
);
CREATE INDEX leaders_path ON leaders(org_path);
CREATE INDEX leaders_user ON leaders(user_id);

-- The townships and villages a leader guides.
CREATE TABLE leader_areas (
    leader_id       BIGINT NOT NULL REFERENCES leaders(id),
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    since           TEXT NOT NULL,
    PRIMARY KEY (leader_id, org_code)
);
CREATE INDEX leader_areas_path ON leader_areas(org_path);

-- A leader's visit (走访调研) to a township or a village.
CREATE TABLE visits (
    id              INTEGER PRIMARY KEY,
    leader_id       BIGINT NOT NULL REFERENCES leaders(id),
    visited_on      TEXT NOT NULL,
    place_code      TEXT NOT NULL REFERENCES orgs(code),
    place_path      TEXT NOT NULL,
    place_level     TEXT NOT NULL,
    kind            TEXT NOT NULL,
    findings        TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    recorded_at     BIGINT NOT NULL
);
-- Covers a pledge's coverage: the leader's places of a level under a node since a day.
CREATE INDEX visits_leader ON visits(leader_id, place_level, place_path, visited_on, place_code);
CREATE INDEX visits_path ON visits(place_path);

-- A leader's public pledge (公开承诺) to visit every place of a level under a node.
CREATE TABLE pledges (
    id              INTEGER PRIMARY KEY,
    leader_id       BIGINT NOT NULL REFERENCES leaders(id),
    scope_code      TEXT NOT NULL REFERENCES orgs(code),
    scope_path      TEXT NOT NULL,
    place_level     TEXT NOT NULL,
    title           TEXT NOT NULL,
    since           TEXT NOT NULL,
    due             TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX pledges_path ON pledges(scope_path);

-- A township's survey (排摸) of its villages; each village guided by one of its leaders.
CREATE TABLE surveys (
    id              INTEGER PRIMARY KEY,
    township_code   TEXT NOT NULL REFERENCES orgs(code),
    township_path   TEXT NOT NULL,
    title           TEXT NOT NULL,
    basis           TEXT NOT NULL,
    started_on      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (township_code, title)
);
CREATE INDEX surveys_path ON surveys(township_path);

CREATE TABLE survey_villages (
    survey_id       BIGINT NOT NULL REFERENCES surveys(id),
    village_code    TEXT NOT NULL REFERENCES orgs(code),
    village_path    TEXT NOT NULL,
    leader_id       BIGINT REFERENCES leaders(id),
    done_on         TEXT,
    PRIMARY KEY (survey_id, village_code)
);

-- A problem (问题) of a village, driven to closure. It is overdue when unresolved and its deadline
-- is before the day of the last daily mark (ledger_state.marked_day): computed, never stored.
CREATE TABLE problems (
    id              INTEGER PRIMARY KEY,
    village_code    TEXT NOT NULL REFERENCES orgs(code),
    village_path    TEXT NOT NULL,
    source          TEXT NOT NULL,
    survey_id       BIGINT REFERENCES surveys(id),
    visit_id        BIGINT REFERENCES visits(id),
    item_code       TEXT,
    item_group      TEXT NOT NULL,
    description     TEXT NOT NULL,
    owner_name      TEXT NOT NULL,
    owner_user_id   BIGINT REFERENCES users(id),
    measures        TEXT NOT NULL,
    deadline        TEXT NOT NULL,
    status          TEXT NOT NULL,
    found_on        TEXT NOT NULL,
    found_by        TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX problems_path ON problems(village_path, status);
CREATE INDEX problems_owner ON problems(owner_user_id) WHERE owner_user_id IS NOT NULL;
-- A large node's lists page through this instead of sorting every problem under it.
CREATE INDEX problems_status ON problems(status, id);
-- The unresolved by deadline: the daily mark reads one day of them, the overdue lists page them.
CREATE INDEX problems_late ON problems(deadline, id)
    WHERE status IN ('open', 'in_progress', 'reopened');

-- Every step of a problem, newest last.
CREATE TABLE problem_updates (
    id              INTEGER PRIMARY KEY,
    problem_id      BIGINT NOT NULL REFERENCES problems(id),
    at              BIGINT NOT NULL,
    login           TEXT NOT NULL,
    step            TEXT NOT NULL,
    from_status     TEXT NOT NULL,
    to_status       TEXT NOT NULL,
    note            TEXT NOT NULL
);
CREATE INDEX problem_updates_of ON problem_updates(problem_id);

CREATE TABLE problem_evidence (
    id              INTEGER PRIMARY KEY,
    problem_id      BIGINT NOT NULL REFERENCES problems(id),
    sha256          TEXT NOT NULL,
    mime            TEXT NOT NULL,
    size            BIGINT NOT NULL,
    file_name       TEXT NOT NULL,
    uploaded_by     TEXT NOT NULL,
    uploaded_at     BIGINT NOT NULL
);
CREATE INDEX problem_evidence_of ON problem_evidence(problem_id);

-- The day the daily mark last ran: problems due before it count as overdue.
CREATE TABLE ledger_state (
    id              BIGINT PRIMARY KEY CHECK (id = 1),
    marked_day      TEXT NOT NULL
);
INSERT INTO ledger_state (id, marked_day) VALUES (1, '');

-- Per village: its problems by status and how many are overdue, kept in the same transaction
-- as the problems (a board sums these rows, not millions of problems).
CREATE TABLE problem_tallies (
    village_code    TEXT PRIMARY KEY REFERENCES orgs(code),
    village_path    TEXT NOT NULL,
    open            BIGINT NOT NULL DEFAULT 0,
    in_progress     BIGINT NOT NULL DEFAULT 0,
    rectified       BIGINT NOT NULL DEFAULT 0,
    verified        BIGINT NOT NULL DEFAULT 0,
    reopened        BIGINT NOT NULL DEFAULT 0,
    overdue         BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX problem_tallies_path ON problem_tallies(village_path);
