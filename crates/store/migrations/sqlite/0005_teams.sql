-- Volunteer teams (党员义工队) of an organization's members, e.g. 龙山村's car fleet.
CREATE TABLE volunteer_teams (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    name            TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (org_code, name)
);
CREATE INDEX volunteer_teams_path ON volunteer_teams(org_path);

CREATE TABLE volunteer_team_members (
    team_id         BIGINT NOT NULL REFERENCES volunteer_teams(id),
    member_id       BIGINT NOT NULL REFERENCES members(id),
    note            TEXT NOT NULL,
    joined_at       BIGINT NOT NULL,
    PRIMARY KEY (team_id, member_id)
);
