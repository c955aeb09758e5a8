-- The audit log proves itself (哈希链): each row carries its place in the chain (seq, from 1,
-- without gaps), the hash of the row before it and its own hash, SHA-256 over a canonical
-- encoding of its fields (store::audit::chain::row_hash). audit_chain holds the head, and every
-- audited transaction takes it (its row lock on PostgreSQL) to append the next link.
-- The rows already kept are sealed into the chain by the migration's own step
-- (store::audit::chain::seal_unchained), and then the guards return (store::audit::chain::guards).
DROP TRIGGER audit_log_no_update;
DROP TRIGGER audit_log_no_delete;
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN row_hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log(seq);
CREATE TABLE audit_chain (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    seq             BIGINT NOT NULL,
    head            TEXT NOT NULL
);
INSERT INTO audit_chain (id, seq, head) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
