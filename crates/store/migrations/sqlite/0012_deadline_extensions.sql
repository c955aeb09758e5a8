-- A problem's deadline as first agreed (原定整改时限). The deadline in force moves earlier with a
-- reason, later only by an extension the level above approves; lateness against the original
-- stays visible. A problem is extended when unresolved and due after its original deadline.
ALTER TABLE problems ADD COLUMN original_deadline TEXT NOT NULL DEFAULT '';
UPDATE problems SET original_deadline = deadline;

-- Extended problems counted beside the overdue (no problem is extended yet).
ALTER TABLE problem_tallies ADD COLUMN extended BIGINT NOT NULL DEFAULT 0;
ALTER TABLE problem_group_tallies ADD COLUMN extended BIGINT NOT NULL DEFAULT 0;

-- A request to move a problem's deadline later (延期申请), and its decision by someone above
-- the village other than the requester.
CREATE TABLE deadline_extensions (
    id              INTEGER PRIMARY KEY,
    problem_id      BIGINT NOT NULL REFERENCES problems(id),
    village_path    TEXT NOT NULL,
    from_deadline   TEXT NOT NULL,
    to_deadline     TEXT NOT NULL,
    reason          TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    requested_at    BIGINT NOT NULL,
    status          TEXT NOT NULL,
    decided_by      TEXT,
    decided_at      BIGINT,
    decision_note   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deadline_extensions_of ON deadline_extensions(problem_id);
-- At most one request waits per problem; the waiting ones under a node are found by path.
CREATE UNIQUE INDEX deadline_extensions_waiting ON deadline_extensions(problem_id)
    WHERE status = 'pending';
CREATE INDEX deadline_extensions_pending ON deadline_extensions(village_path)
    WHERE status = 'pending';
