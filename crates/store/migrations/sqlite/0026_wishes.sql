-- Micro-wishes (党员微心愿): a member posts a villager's wish at a village; another member
-- claims it (one claimer at a time: the claim is an UPDATE guarded by the status), fulfils it
-- with a note, and the poster confirms. The villager's name and address are shown only to the
-- poster, the claimer and the administrations in scope; the phone is sealed in the vault.
CREATE TABLE wishes (
    id              INTEGER PRIMARY KEY,
    org_code        TEXT NOT NULL REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    title           TEXT NOT NULL,
    detail          TEXT NOT NULL,
    villager_name   TEXT NOT NULL,
    villager_address TEXT NOT NULL,
    phone_sealed    TEXT,
    phone_masked    TEXT,
    status          TEXT NOT NULL,
    posted_by       TEXT NOT NULL,
    posted_at       BIGINT NOT NULL,
    claimed_by      TEXT,
    claimed_at      BIGINT,
    fulfilled_at    BIGINT,
    fulfil_note     TEXT,
    confirmed_at    BIGINT,
    updated_at      BIGINT NOT NULL,
    CHECK (status IN ('posted', 'claimed', 'fulfilled', 'confirmed', 'withdrawn')),
    CHECK ((status = 'posted' OR status = 'withdrawn') = (claimed_by IS NULL))
);
CREATE INDEX wishes_path ON wishes(org_path, status);
CREATE INDEX wishes_posted_by ON wishes(posted_by, status);
CREATE INDEX wishes_claimed_by ON wishes(claimed_by, status);
-- What a board waits on at province scale: the open and in-hand wishes by place and age.
CREATE INDEX wishes_open ON wishes(org_path, posted_at) WHERE status = 'posted';
CREATE INDEX wishes_in_hand ON wishes(org_path, claimed_at) WHERE status = 'claimed';

-- A village's figures, recomputed from its rows in the transaction of every change, so a
-- province's board sums 20,000 rows, not 500,000.
CREATE TABLE wish_tallies (
    org_code        TEXT PRIMARY KEY REFERENCES orgs(code),
    org_path        TEXT NOT NULL,
    posted          BIGINT NOT NULL,
    claimed         BIGINT NOT NULL,
    fulfilled       BIGINT NOT NULL,
    confirmed       BIGINT NOT NULL,
    open_now        BIGINT NOT NULL,
    in_hand         BIGINT NOT NULL
);
CREATE INDEX wish_tallies_path ON wish_tallies(org_path);
