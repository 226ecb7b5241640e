-- Participants of referral programs, each with a referral code unique across the installation.

CREATE TABLE participants (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    email TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    code TEXT NOT NULL,
    referred_by TEXT REFERENCES participants (id),
    status TEXT NOT NULL,
    signed_up_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT participants_email_unique UNIQUE (program_id, email),
    CONSTRAINT participants_code_unique UNIQUE (code)
);
CREATE INDEX participants_program ON participants (program_id, id);
