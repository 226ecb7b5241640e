-- Users of partner companies (the partner portal): invited by staff (or a partner admin) with
-- a one-time link to set a password; admins invite and remove colleagues, members work on the
-- referrals. A removed user keeps its row (the history names it) and loses its sessions.
CREATE TABLE partner_users (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    -- SHA-256 of the one-time link's token (invitation or password reset), until used.
    token_hash TEXT,
    token_expires_at TEXT,
    invited_by TEXT NOT NULL,
    removed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- One live user per address across the installation: the login form takes an email only.
CREATE UNIQUE INDEX partner_users_email_unique ON partner_users (LOWER(email)) WHERE removed_at IS NULL;
CREATE INDEX partner_users_partner ON partner_users (partner_id, id);
CREATE UNIQUE INDEX partner_users_token ON partner_users (token_hash) WHERE token_hash IS NOT NULL;

-- Their sessions, apart from staff sessions (same columns).
CREATE TABLE partner_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES partner_users (id),
    csrf_token TEXT NOT NULL,
    flash TEXT,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX partner_sessions_user_id ON partner_sessions (user_id);
