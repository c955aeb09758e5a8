-- Red-butler service stations (红管家服务驿站): a station at a place in the tree, its Party
-- volunteer teams, the services a county's catalogue holds and which of them each station
-- offers; requests from the public (no sign-in) with a follow-up code, assigned to a
-- volunteer, marked done, and given feedback with the code.
CREATE TABLE stations (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    name            TEXT NOT NULL UNIQUE,
    address         TEXT NOT NULL,
    -- The volunteer teams (党员义工队), one per line: 讲解引导, 交通疏导, 义务调解 …
    teams           TEXT NOT NULL,
    open            BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX stations_path ON stations(org_path);

-- A county's catalogue of services: the domain it serves, the kinds of client it is for
-- (comma-separated codes), and where it is given (at the station, at the door, or both).
CREATE TABLE station_services (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    name            TEXT NOT NULL,
    domain          TEXT NOT NULL,
    clients         TEXT NOT NULL,
    mode            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (org_code, name),
    CHECK (domain IN ('tourism', 'public_affairs', 'industry', 'governance')),
    CHECK (mode IN ('station', 'door', 'both'))
);
CREATE INDEX station_services_path ON station_services(org_path);

-- Which services a station offers.
CREATE TABLE station_offers (
    station_id      BIGINT NOT NULL REFERENCES stations(id),
    service_id      BIGINT NOT NULL REFERENCES station_services(id),
    PRIMARY KEY (station_id, service_id)
);

-- A request from the public. The phone is sealed; `code` is the requester's follow-up code,
-- random and unguessable. The row itself records what came in and when (no audit row: nobody
-- signed in made it); every step a volunteer or keeper takes is audited.
CREATE TABLE service_requests (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    station_id      BIGINT NOT NULL REFERENCES stations(id),
    service_id      BIGINT NOT NULL REFERENCES station_services(id),
    org_path        TEXT NOT NULL,
    requester       TEXT NOT NULL,
    phone_sealed    TEXT NOT NULL,
    phone_masked    TEXT NOT NULL,
    place           TEXT NOT NULL,
    wanted          TEXT NOT NULL,
    note            TEXT NOT NULL,
    status          TEXT NOT NULL,
    received_at     BIGINT NOT NULL,
    assigned_to     TEXT,
    assigned_by     TEXT,
    assigned_at     BIGINT,
    done_at         BIGINT,
    done_note       TEXT,
    closed_reason   TEXT,
    feedback_score  INTEGER,
    feedback_note   TEXT,
    feedback_at     BIGINT,
    CHECK (status IN ('received', 'assigned', 'done', 'withdrawn')),
    CHECK ((status = 'received') = (assigned_to IS NULL) OR status = 'withdrawn'),
    CHECK (feedback_score IS NULL OR (feedback_score BETWEEN 1 AND 5 AND status = 'done'))
);
CREATE INDEX service_requests_station ON service_requests(station_id, status, received_at);
CREATE INDEX service_requests_assigned ON service_requests(assigned_to, status);

-- Each (station, service)'s figures, kept in the transaction of every change, so a province's
-- board (2,000 stations, 1,000,000 requests) sums tallies, not requests. Times in ms.
CREATE TABLE station_tallies (
    station_id      BIGINT NOT NULL REFERENCES stations(id),
    service_id      BIGINT NOT NULL REFERENCES station_services(id),
    org_path        TEXT NOT NULL,
    received        BIGINT NOT NULL,
    waiting         BIGINT NOT NULL,
    in_hand         BIGINT NOT NULL,
    done            BIGINT NOT NULL,
    withdrawn       BIGINT NOT NULL,
    response_ms     BIGINT NOT NULL,
    responded       BIGINT NOT NULL,
    completion_ms   BIGINT NOT NULL,
    score_sum       BIGINT NOT NULL,
    scored          BIGINT NOT NULL,
    PRIMARY KEY (station_id, service_id)
);
CREATE INDEX station_tallies_path ON station_tallies(org_path);
