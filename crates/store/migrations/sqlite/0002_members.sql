-- Party members: personal data sealed (see store/src/vault.rs), transfers kept as history, cards.
CREATE TABLE members (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    gender          TEXT NOT NULL,
    birth_date      TEXT NOT NULL,
    id_hash         TEXT NOT NULL UNIQUE,
    id_sealed       TEXT NOT NULL,
    id_masked       TEXT NOT NULL,
    phone_sealed    TEXT,
    phone_masked    TEXT,
    home_org        TEXT NOT NULL REFERENCES orgs(code),
    workplace       TEXT,
    joined          TEXT NOT NULL,
    mobile          BIGINT NOT NULL DEFAULT 0,
    mobile_where    TEXT,
    status          TEXT NOT NULL DEFAULT 'active',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX members_home ON members(home_org);

CREATE TABLE member_transfers (
    id              INTEGER PRIMARY KEY,
    member_id       BIGINT NOT NULL REFERENCES members(id),
    from_org        TEXT NOT NULL REFERENCES orgs(code),
    to_org          TEXT NOT NULL REFERENCES orgs(code),
    reason          TEXT NOT NULL,
    at              BIGINT NOT NULL,
    actor_login     TEXT NOT NULL
);
CREATE INDEX member_transfers_member ON member_transfers(member_id);

CREATE TABLE member_cards (
    card_no         TEXT PRIMARY KEY,
    member_id       BIGINT NOT NULL REFERENCES members(id),
    status          TEXT NOT NULL,
    issued_at       BIGINT NOT NULL,
    ended_at        BIGINT
);
CREATE INDEX member_cards_member ON member_cards(member_id);
