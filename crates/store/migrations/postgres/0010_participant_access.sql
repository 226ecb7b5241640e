-- How participants reach their referral page: single-use magic links sent by email, and the
-- sessions those links open. Only SHA-256 hashes of the tokens are stored.

CREATE TABLE participant_login_tokens (
    token_hash TEXT PRIMARY KEY,
    participant_id TEXT NOT NULL REFERENCES participants (id),
    expires_at TEXT NOT NULL,
    used_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX participant_login_tokens_participant ON participant_login_tokens (participant_id);

CREATE TABLE participant_sessions (
    token_hash TEXT PRIMARY KEY,
    participant_id TEXT NOT NULL REFERENCES participants (id),
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
