-- The campaign (专项行动): its years, its yearly targets and the rule a township is advanced
-- by, kept as data; the model townships (先进乡镇) designated with a reason. Actual figures are
-- never stored: they are counted from the ratings each time.
CREATE TABLE campaigns (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    name            TEXT NOT NULL,
    first_year      BIGINT NOT NULL,
    last_year       BIGINT NOT NULL,
    -- Whole-township advancement (整乡提升): every village at least this many stars, and none
    -- lagging when set.
    advance_min_stars   BIGINT NOT NULL,
    advance_none_lagging BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (org_code, first_year)
);

-- A target of a year: what it measures, the goal for the campaign's whole area, and its day.
CREATE TABLE campaign_targets (
    campaign_id     BIGINT NOT NULL REFERENCES campaigns(id),
    year            BIGINT NOT NULL,
    measure         TEXT NOT NULL,
    goal            BIGINT NOT NULL,
    due             TEXT NOT NULL,
    PRIMARY KEY (campaign_id, year, measure)
);

CREATE TABLE model_townships (
    campaign_id     BIGINT NOT NULL REFERENCES campaigns(id),
    year            BIGINT NOT NULL,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    reason          TEXT NOT NULL,
    decided_by      TEXT NOT NULL,
    decided_at      BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, year, org_code)
);
CREATE INDEX model_townships_path ON model_townships(campaign_id, year, org_path);
