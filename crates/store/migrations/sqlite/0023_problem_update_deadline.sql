-- The deadline in force after each step of a problem, so that a past year's village file shows
-- each problem as it stood then (its status and its deadline at the year's end). Steps taken
-- before this column existed leave it empty: the file then falls back to the deadline first
-- agreed.
ALTER TABLE problem_updates ADD COLUMN deadline TEXT NOT NULL DEFAULT '';
