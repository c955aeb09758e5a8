-- Indexes the boards need at province scale (measured by baiqian-rating-bench).
-- Whether a standard set is in use (read-only) is asked on every city admin board; without this
-- it scanned every assessment once per set.
CREATE INDEX assessments_set ON assessments(set_id);
-- Villages under a node that are not retired: the denominator of every board.
CREATE INDEX orgs_level_path ON orgs(level, path);
-- A year's collective incomes under a node (re-rating reads them): without this, every year's
-- incomes were scanned.
CREATE INDEX collective_incomes_year_path ON collective_incomes(year, org_path);
-- The promoted practices under a node up to a year (re-rating reads them), answered from the
-- index alone; it replaces the index on the path only, of which it is an extension.
CREATE INDEX featured_practices_cover ON featured_practices(org_path, year, promoted_level, org_code);
DROP INDEX featured_practices_path;
