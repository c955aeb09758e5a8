-- A member's standing over time: each change (转出、停止党籍、去世, and back onto the roster) with
-- the day it took effect as written (`YYYY-MM-DD` or `YYYY-MM`), its reason and who recorded it.
CREATE TABLE member_status_changes (
    id              INTEGER PRIMARY KEY,
    member_id       BIGINT NOT NULL REFERENCES members(id),
    from_status     TEXT NOT NULL,
    to_status       TEXT NOT NULL,
    on_date         TEXT NOT NULL,
    reason          TEXT NOT NULL,
    at              BIGINT NOT NULL,
    actor_login     TEXT NOT NULL
);
CREATE INDEX member_status_changes_member ON member_status_changes(member_id);
