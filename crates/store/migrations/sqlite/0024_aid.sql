-- Mutual-aid associations (党群创业互助会) under a village or a township, by trade; their
-- members (Party members and villagers, households in difficulty flagged, a mentor named),
-- projects, grants with the association's fund, and credit loans with their schedules and an
-- append-only ledger of entries.
CREATE TABLE aid_associations (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    name            TEXT NOT NULL,
    trade           TEXT NOT NULL,
    founded_on      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (org_code, name)
);
CREATE INDEX aid_associations_path ON aid_associations(org_path);

CREATE TABLE aid_members (
    id              INTEGER PRIMARY KEY,
    association_id  BIGINT NOT NULL REFERENCES aid_associations(id),
    org_path        TEXT NOT NULL,
    name            TEXT NOT NULL,
    party_member    BIGINT NOT NULL,
    id_sealed       TEXT,
    id_masked       TEXT,
    id_hash         TEXT,
    phone_sealed    TEXT,
    phone_masked    TEXT,
    in_difficulty   BIGINT NOT NULL,
    helped_on       TEXT,
    change_note     TEXT NOT NULL,
    mentor_id       BIGINT REFERENCES aid_members(id),
    households_led  BIGINT NOT NULL,
    joined_on       TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX aid_members_path ON aid_members(org_path);
CREATE INDEX aid_members_association ON aid_members(association_id);
CREATE UNIQUE INDEX aid_members_person ON aid_members(association_id, id_hash) WHERE id_hash IS NOT NULL;

-- What an association founded or built: cooperatives, leading firms, start-up bases, other
-- bases (a nursery).
CREATE TABLE aid_projects (
    id              INTEGER PRIMARY KEY,
    association_id  BIGINT NOT NULL REFERENCES aid_associations(id),
    org_path        TEXT NOT NULL,
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    founded_on      TEXT NOT NULL,
    note            TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (association_id, name)
);
CREATE INDEX aid_projects_path ON aid_projects(org_path);

-- Grants (帮扶资金): applied → approved → paid (or refused), then an outcome.
CREATE TABLE aid_grants (
    id              INTEGER PRIMARY KEY,
    association_id  BIGINT NOT NULL REFERENCES aid_associations(id),
    org_path        TEXT NOT NULL,
    beneficiary_id  BIGINT NOT NULL REFERENCES aid_members(id),
    purpose         TEXT NOT NULL,
    amount_fen      BIGINT NOT NULL CHECK (amount_fen > 0),
    stage           TEXT NOT NULL,
    applied_by      TEXT NOT NULL,
    applied_at      BIGINT NOT NULL,
    approved_by     TEXT,
    approved_at     BIGINT,
    paid_by         TEXT,
    paid_on         TEXT,
    refused_reason  TEXT,
    outcome         TEXT,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX aid_grants_path ON aid_grants(org_path);
CREATE INDEX aid_grants_association ON aid_grants(association_id);

-- An association's fund: money received from above (+) and paid out for grants (−); a
-- correction is a reversing entry with a reason.
CREATE TABLE aid_fund_entries (
    id              INTEGER PRIMARY KEY,
    association_id  BIGINT NOT NULL REFERENCES aid_associations(id),
    org_path        TEXT NOT NULL,
    kind            TEXT NOT NULL,
    amount_fen      BIGINT NOT NULL,
    grant_id        BIGINT REFERENCES aid_grants(id),
    source          TEXT NOT NULL,
    on_day          TEXT NOT NULL,
    reverses        BIGINT UNIQUE REFERENCES aid_fund_entries(id),
    reason          TEXT,
    recorded_by     TEXT NOT NULL,
    recorded_at     BIGINT NOT NULL
);
CREATE INDEX aid_fund_entries_association ON aid_fund_entries(association_id);

-- A credit-loan programme (创业信用贷款): its limit, rate, term and method are data.
CREATE TABLE aid_programmes (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    name            TEXT NOT NULL,
    limit_fen       BIGINT NOT NULL CHECK (limit_fen > 0),
    annual_rate_bp  BIGINT NOT NULL,
    months          BIGINT NOT NULL,
    method          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (org_code, name)
);

-- A loan. The paid and owed figures are kept with it, written in the transaction of each
-- ledger entry and always equal to the entries' sums; `next_due` is the first instalment not
-- yet covered, which the daily job compares with the day.
CREATE TABLE aid_loans (
    id              INTEGER PRIMARY KEY,
    programme_id    BIGINT NOT NULL REFERENCES aid_programmes(id),
    association_id  BIGINT NOT NULL REFERENCES aid_associations(id),
    org_path        TEXT NOT NULL,
    borrower_id     BIGINT NOT NULL REFERENCES aid_members(id),
    purpose         TEXT NOT NULL,
    principal_fen   BIGINT NOT NULL CHECK (principal_fen > 0),
    annual_rate_bp  BIGINT NOT NULL,
    months          BIGINT NOT NULL,
    method          TEXT NOT NULL,
    stage           TEXT NOT NULL,
    applied_by      TEXT NOT NULL,
    applied_at      BIGINT NOT NULL,
    reviewed_by     TEXT,
    approved_by     TEXT,
    disbursed_by    TEXT,
    disbursed_on    TEXT,
    refused_reason  TEXT,
    scheduled_fen   BIGINT NOT NULL DEFAULT 0,
    paid_fen        BIGINT NOT NULL DEFAULT 0,
    principal_paid_fen BIGINT NOT NULL DEFAULT 0,
    penalty_owed_fen BIGINT NOT NULL DEFAULT 0,
    next_due        TEXT,
    overdue_since   TEXT,
    repaid_on       TEXT,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX aid_loans_path ON aid_loans(org_path);
CREATE INDEX aid_loans_next_due ON aid_loans(next_due) WHERE stage = 'disbursed' AND overdue_since IS NULL;
CREATE INDEX aid_loans_officer ON aid_loans(disbursed_by) WHERE overdue_since IS NOT NULL;

CREATE TABLE aid_instalments (
    loan_id         BIGINT NOT NULL REFERENCES aid_loans(id),
    n               BIGINT NOT NULL,
    due             TEXT NOT NULL,
    principal_fen   BIGINT NOT NULL,
    interest_fen    BIGINT NOT NULL,
    PRIMARY KEY (loan_id, n)
);

-- A loan's ledger: the disbursement, each repayment split penalty → interest → principal, a
-- penalty charged, and reversals of any of them. Append-only, as the audit log is.
CREATE TABLE aid_loan_entries (
    id              INTEGER PRIMARY KEY,
    loan_id         BIGINT NOT NULL REFERENCES aid_loans(id),
    kind            TEXT NOT NULL,
    on_day          TEXT NOT NULL,
    amount_fen      BIGINT NOT NULL,
    penalty_fen     BIGINT NOT NULL,
    interest_fen    BIGINT NOT NULL,
    principal_fen   BIGINT NOT NULL,
    reverses        BIGINT UNIQUE REFERENCES aid_loan_entries(id),
    reason          TEXT,
    recorded_by     TEXT NOT NULL,
    recorded_at     BIGINT NOT NULL
);
CREATE INDEX aid_loan_entries_loan ON aid_loan_entries(loan_id);
CREATE TRIGGER aid_loan_entries_no_update BEFORE UPDATE ON aid_loan_entries
BEGIN SELECT RAISE(ABORT, 'aid_loan_entries is append-only'); END;
CREATE TRIGGER aid_loan_entries_no_delete BEFORE DELETE ON aid_loan_entries
BEGIN SELECT RAISE(ABORT, 'aid_loan_entries is append-only'); END;
CREATE TRIGGER aid_fund_entries_no_update BEFORE UPDATE ON aid_fund_entries
BEGIN SELECT RAISE(ABORT, 'aid_fund_entries is append-only'); END;
CREATE TRIGGER aid_fund_entries_no_delete BEFORE DELETE ON aid_fund_entries
BEGIN SELECT RAISE(ABORT, 'aid_fund_entries is append-only'); END;
