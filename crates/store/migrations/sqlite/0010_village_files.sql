-- A village's situation file (村情档案), one per year: what officials write in it. The rest of
-- the file (members by age, secretary, collective income, beautiful-village status, problems) is
-- read from the records each time, never typed here.
CREATE TABLE village_files (
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    year            BIGINT NOT NULL,
    population      BIGINT,
    households      BIGINT,
    income_sources  TEXT NOT NULL DEFAULT '',
    land_tenth_mu   BIGINT,
    land            TEXT NOT NULL DEFAULT '',
    notes           TEXT NOT NULL DEFAULT '',
    updated_at      BIGINT NOT NULL,
    updated_by      TEXT NOT NULL,
    PRIMARY KEY (org_code, year)
);
