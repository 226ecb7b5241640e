-- Foundation: staff users, sessions, API keys, accounts, referral-program setups, audit log,
-- idempotency keys, login attempts. Times are UTC RFC 3339 text with milliseconds
-- (fixed width, so they sort and compare as text); flags are 0/1 integers on both stores.

CREATE TABLE staff_users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT staff_users_email_unique UNIQUE (email)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES staff_users (id),
    csrf_token TEXT NOT NULL,
    flash TEXT,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    hint TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT,
    CONSTRAINT api_keys_secret_hash_unique UNIQUE (secret_hash)
);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    code TEXT NOT NULL,
    email TEXT NOT NULL,
    owner_first_name TEXT NOT NULL,
    owner_last_name TEXT NOT NULL,
    owner_phone TEXT,
    vendor_matrix INTEGER NOT NULL DEFAULT 0,
    corporate_catalog INTEGER NOT NULL DEFAULT 0,
    whitelabeling INTEGER NOT NULL DEFAULT 0,
    exempt_from_membership_fees INTEGER NOT NULL DEFAULT 0,
    is_super_customer INTEGER NOT NULL DEFAULT 0,
    parent_id INTEGER REFERENCES accounts (id),
    registration_policy TEXT NOT NULL DEFAULT 'open',
    partner_site_url TEXT,
    registration_approved INTEGER NOT NULL DEFAULT 0,
    notes TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT accounts_code_unique UNIQUE (code),
    CONSTRAINT accounts_email_unique UNIQUE (email)
);
CREATE INDEX accounts_parent_id ON accounts (parent_id);

CREATE TABLE referral_setups (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    plan TEXT NOT NULL,
    beneficiary_id INTEGER REFERENCES accounts (id),
    super_customer_id INTEGER REFERENCES accounts (id),
    requested_by TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    decision_note TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    before_json TEXT,
    after_json TEXT,
    request_id TEXT,
    client_ip TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    status_code INTEGER,
    response_body TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (caller, idem_key)
);

CREATE TABLE login_attempts (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    succeeded INTEGER NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts (email, at);
CREATE INDEX login_attempts_ip ON login_attempts (client_ip, at);
