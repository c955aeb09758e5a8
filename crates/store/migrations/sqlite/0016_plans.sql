-- Cascaded plans (县县有规划、乡乡有方案、村村有计划): a county's plan, a township's scheme, a
-- village's plan per year, written by the node's own administration and approved (or sent back
-- with a reason) by the level above; items with owner, measures, deadline and the target they
-- serve; every step kept.
CREATE TABLE plans (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    year            BIGINT NOT NULL,
    title           TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (org_code, year)
);
CREATE INDEX plans_path ON plans(year, org_path);

CREATE TABLE plan_items (
    id              INTEGER PRIMARY KEY,
    plan_id         BIGINT NOT NULL REFERENCES plans(id),
    position        BIGINT NOT NULL,
    content         TEXT NOT NULL,
    measures        TEXT NOT NULL,
    owner           TEXT NOT NULL,
    deadline        TEXT NOT NULL,
    measure         TEXT,
    done_at         BIGINT,
    done_by         TEXT
);
CREATE INDEX plan_items_of ON plan_items(plan_id);

CREATE TABLE plan_steps (
    id              INTEGER PRIMARY KEY,
    plan_id         BIGINT NOT NULL REFERENCES plans(id),
    at              BIGINT NOT NULL,
    actor_login     TEXT NOT NULL,
    actor_role      TEXT NOT NULL,
    action          TEXT NOT NULL,
    from_status     TEXT NOT NULL,
    to_status       TEXT NOT NULL,
    reason          TEXT
);
CREATE INDEX plan_steps_of ON plan_steps(plan_id);
