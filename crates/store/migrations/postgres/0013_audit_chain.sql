-- The audit log proves itself (哈希链): each row carries its place in the chain (seq, from 1,
-- without gaps), the hash of the row before it and its own hash, SHA-256 over a canonical
-- encoding of its fields (store::audit::chain::row_hash). audit_chain holds the head, and every
-- audited transaction takes its row lock to append the next link, so the chain is one line
-- across every app node. The rows already kept are sealed into the chain by the migration's
-- own step (store::audit::chain::seal_unchained), and then the guards return (store::audit::chain::guards), with
-- TRUNCATE refused as well.
DROP TRIGGER audit_log_no_change ON audit_log;
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN row_hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log(seq);
CREATE TABLE audit_chain (
    id              BIGINT PRIMARY KEY CHECK (id = 1),
    seq             BIGINT NOT NULL,
    head            TEXT NOT NULL
);
INSERT INTO audit_chain (id, seq, head) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
