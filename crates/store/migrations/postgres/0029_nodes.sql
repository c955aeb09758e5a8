-- Several app nodes on one database (issue 34). A job records the node that runs it and that
-- node's last heartbeat: a node starting marks only its own old jobs interrupted, and any node
-- marks a job interrupted once its heartbeat has stopped.
ALTER TABLE jobs ADD COLUMN node TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN heartbeat_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX jobs_running ON jobs(status, node) WHERE status = 'running';

-- Periodic work (the daily overdue mark) is claimed per day by one node; a claim whose node
-- stopped before finishing is taken over after its lease.
CREATE TABLE periodic_runs (
    task            TEXT NOT NULL,
    day             TEXT NOT NULL,
    node            TEXT NOT NULL,
    claimed_at      BIGINT NOT NULL,
    finished_at     BIGINT,
    PRIMARY KEY (task, day)
);

-- Failed logins counted for every node: by address (login '') and by (account, address).
CREATE TABLE login_strikes (
    kind            TEXT NOT NULL,
    login           TEXT NOT NULL,
    address         TEXT NOT NULL,
    count           BIGINT NOT NULL,
    since           BIGINT NOT NULL,
    blocked_until   BIGINT NOT NULL,
    PRIMARY KEY (kind, login, address)
);
CREATE INDEX login_strikes_blocked ON login_strikes(blocked_until);

-- The fingerprint of the key that seals personal data in this database: a node holding another
-- key refuses to start rather than seal with a key no other node has.
CREATE TABLE data_key (
    id              SMALLINT PRIMARY KEY CHECK (id = 1),
    fingerprint     TEXT NOT NULL,
    recorded_at     BIGINT NOT NULL
);
