-- Public-welfare supervision posts (党建+公益岗), like 林城镇's along road 318: a post at a
-- township or village, the members on its rota by day, the patrols they log, and the issues
-- they find, each of which the township may file as a problem (source 'patrol') in the
-- situation file of the village where it was found, where the problem's own workflow (owner,
-- deadline, fix, four-eyes check) takes it to the end.
CREATE TABLE welfare_posts (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    name            TEXT NOT NULL UNIQUE,
    duty            TEXT NOT NULL,
    route           TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX welfare_posts_path ON welfare_posts(org_path);

-- The rota: who is on duty at the post on a day.
CREATE TABLE post_duties (
    id              INTEGER PRIMARY KEY,
    post_id         BIGINT NOT NULL REFERENCES welfare_posts(id),
    duty_date       TEXT NOT NULL,
    supervisor      TEXT NOT NULL,
    supervisor_name TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (post_id, duty_date, supervisor)
);

-- A patrol a supervisor logged: the day, when, along where, what they saw.
CREATE TABLE patrols (
    id              INTEGER PRIMARY KEY,
    post_id         BIGINT NOT NULL REFERENCES welfare_posts(id),
    org_path        TEXT NOT NULL,
    supervisor      TEXT NOT NULL,
    supervisor_name TEXT NOT NULL,
    patrol_date     TEXT NOT NULL,
    started         TEXT NOT NULL,
    ended           TEXT NOT NULL,
    route           TEXT NOT NULL,
    note            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX patrols_post ON patrols(post_id, patrol_date);
CREATE INDEX patrols_path ON patrols(org_path, patrol_date);

-- An issue found on a patrol: the village where, the spot, what; the problem it became.
CREATE TABLE patrol_issues (
    id              INTEGER PRIMARY KEY,
    patrol_id       BIGINT NOT NULL REFERENCES patrols(id),
    post_id         BIGINT NOT NULL REFERENCES welfare_posts(id),
    org_path        TEXT NOT NULL,
    village_code    TEXT NOT NULL REFERENCES orgs(code),
    spot            TEXT NOT NULL,
    description     TEXT NOT NULL,
    found_on        TEXT NOT NULL,
    problem_id      BIGINT REFERENCES problems(id),
    created_at      BIGINT NOT NULL
);
CREATE INDEX patrol_issues_post ON patrol_issues(post_id, problem_id);
