-- Referral programs: settings and lifecycle (draft → live ⇄ paused → ended).

CREATE TABLE programs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    landing_url TEXT NOT NULL,
    fallback_url TEXT,
    status TEXT NOT NULL,
    attribution_window_days INTEGER NOT NULL,
    attribution_model TEXT NOT NULL,
    qualifying_event TEXT NOT NULL,
    reward_hold_days INTEGER NOT NULL,
    currency TEXT NOT NULL,
    sender_name TEXT,
    reply_to TEXT,
    super_customer_id INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT programs_slug_unique UNIQUE (slug)
);
