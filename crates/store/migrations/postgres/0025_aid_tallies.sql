-- Each association's figures, kept with it (as the problem ledger keeps its tallies per
-- village), so a board sums one row per association instead of reading every member and loan
-- under it. They are recomputed from the association's own rows in the transaction of every
-- change to them (`aid::refresh_tallies`), never adjusted by a delta.
ALTER TABLE aid_associations ADD COLUMN t_members BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aid_associations ADD COLUMN t_helped BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aid_associations ADD COLUMN t_households_led BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aid_associations ADD COLUMN t_loans BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aid_associations ADD COLUMN t_lent_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aid_associations ADD COLUMN t_outstanding_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aid_associations ADD COLUMN t_overdue BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aid_associations ADD COLUMN t_cooperatives BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aid_associations ADD COLUMN t_leading_firms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aid_associations ADD COLUMN t_startup_bases BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aid_associations ADD COLUMN t_grants_paid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aid_associations ADD COLUMN t_grants_paid_fen BIGINT NOT NULL DEFAULT 0;
CREATE INDEX aid_loans_association ON aid_loans(association_id);
CREATE INDEX aid_projects_association ON aid_projects(association_id);
CREATE INDEX aid_loans_overdue ON aid_loans(org_path) WHERE stage = 'disbursed' AND overdue_since IS NOT NULL;
