-- Activity days (党员固定活动日), card readers, check-ins, and the attendance rollups kept beside them.
CREATE TABLE devices (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    name            TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);

CREATE TABLE activity_days (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    day             TEXT NOT NULL,
    starts_at       BIGINT NOT NULL,
    ends_at         BIGINT NOT NULL,
    topic           TEXT NOT NULL,
    place           TEXT NOT NULL,
    qr_secret       TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX activity_days_org ON activity_days(org_code, day);

-- Append-only; the two unique keys are the rules (one attendance per member and event; a
-- client's retry is the same check-in), and nothing else is indexed on this hot table.
CREATE TABLE checkins (
    id              INTEGER PRIMARY KEY,
    client_id       TEXT NOT NULL UNIQUE,
    event_id        BIGINT NOT NULL REFERENCES activity_days(id),
    member_id       BIGINT NOT NULL REFERENCES members(id),
    home_org        TEXT NOT NULL,
    host_org        TEXT NOT NULL,
    at              BIGINT NOT NULL,
    method          TEXT NOT NULL,
    device_id       BIGINT,
    actor_login     TEXT,
    reason          TEXT,
    created_at      BIGINT NOT NULL,
    UNIQUE (event_id, member_id)
);

-- The first attendance of a member in a month.
CREATE TABLE member_months (
    member_id       BIGINT NOT NULL,
    month           TEXT NOT NULL,
    PRIMARY KEY (member_id, month)
);

-- Per node and month, for the node's whole subtree: members who attended (anywhere), guest
-- attendances at hosts inside from members outside, attendances of members inside at hosts outside.
CREATE TABLE attendance_rollup (
    org_code        TEXT NOT NULL,
    month           TEXT NOT NULL,
    attended        BIGINT NOT NULL DEFAULT 0,
    guests          BIGINT NOT NULL DEFAULT 0,
    away            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_code, month)
);

-- A member's own account (role member) points at their roster row, for check-in by phone.
ALTER TABLE users ADD COLUMN member_id BIGINT REFERENCES members(id);
