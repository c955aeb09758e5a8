-- The second factor (双因素认证): an authenticator app's secret, sealed with the data key like ID
-- numbers and phones; when it was confirmed (NULL while being set up); the last code's step, so a
-- code is taken once. Recovery codes are stored as SHA-256 hashes, each used at most once.
ALTER TABLE users ADD COLUMN totp_secret_sealed TEXT;
ALTER TABLE users ADD COLUMN totp_confirmed_at BIGINT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

CREATE TABLE recovery_codes (
    user_id         BIGINT NOT NULL REFERENCES users(id),
    code_hash       TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    used_at         BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- How a session was authenticated: 'password', 'password+totp' or 'password+recovery'. A
-- password-only session of an account with a second factor is waiting for it.
ALTER TABLE sessions ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'password';
