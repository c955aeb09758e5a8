-- Per township and standard item group (问题类别): its problems by status and how many are
-- overdue, kept in the transaction of each change as problem_tallies are. A board's figures by
-- group sum these rows (a province's townships × a few groups), not millions of problems.
-- township_path is the village's path without its last segment.
CREATE TABLE problem_group_tallies (
    township_path   TEXT NOT NULL,
    item_group      TEXT NOT NULL,
    open            BIGINT NOT NULL DEFAULT 0,
    in_progress     BIGINT NOT NULL DEFAULT 0,
    rectified       BIGINT NOT NULL DEFAULT 0,
    verified        BIGINT NOT NULL DEFAULT 0,
    reopened        BIGINT NOT NULL DEFAULT 0,
    overdue         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (township_path, item_group)
);

-- The problems already kept, counted once.
INSERT INTO problem_group_tallies (township_path, item_group, open, in_progress, rectified,
    verified, reopened, overdue)
SELECT substr(village_path, 1, length(village_path) - length(village_code) - 1), item_group,
    SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END),
    SUM(CASE WHEN status = 'in_progress' THEN 1 ELSE 0 END),
    SUM(CASE WHEN status = 'rectified' THEN 1 ELSE 0 END),
    SUM(CASE WHEN status = 'verified' THEN 1 ELSE 0 END),
    SUM(CASE WHEN status = 'reopened' THEN 1 ELSE 0 END),
    SUM(CASE WHEN status IN ('open', 'in_progress', 'reopened')
        AND deadline < (SELECT marked_day FROM ledger_state) THEN 1 ELSE 0 END)
FROM problems
GROUP BY substr(village_path, 1, length(village_path) - length(village_code) - 1), item_group;
