-- Referrals and what qualifies them; participant emails (per-program templates, unsubscribe
-- links); secrets that must outlive a restart.

-- Random secrets generated on first use (the visitor hash of clicks, unsubscribe tokens).
CREATE TABLE installation_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- A program's own versions of the participant-facing templates; they win over the
-- installation's override, which wins over the shipped default.
CREATE TABLE program_email_templates (
    program_id TEXT NOT NULL REFERENCES programs (id),
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (program_id, kind)
);

ALTER TABLE email_messages ADD COLUMN program_id TEXT;
-- Sent as the List-Unsubscribe header (with List-Unsubscribe-Post, RFC 8058).
ALTER TABLE email_messages ADD COLUMN unsubscribe_url TEXT;

-- One referral per referred participant: who brought them, how, and how far it got.
CREATE TABLE referrals (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    referrer_id TEXT NOT NULL REFERENCES participants (id),
    referred_id TEXT NOT NULL REFERENCES participants (id),
    source TEXT NOT NULL,
    stage TEXT NOT NULL,
    won_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT referrals_referred_unique UNIQUE (referred_id)
);
CREATE INDEX referrals_referrer ON referrals (referrer_id, stage);
CREATE INDEX referrals_program ON referrals (program_id, id);

-- Every stage change of a referral, with who made it and why.
CREATE TABLE referral_stage_changes (
    id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    from_stage TEXT,
    to_stage TEXT NOT NULL,
    reason TEXT,
    actor TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX referral_stage_changes_referral ON referral_stage_changes (referral_id, id);

-- Events the operator's systems report about participants (`purchase`, `email_verified`, …);
-- the key makes reporting the same event twice harmless.
CREATE TABLE program_events (
    program_id TEXT NOT NULL REFERENCES programs (id),
    event_id TEXT NOT NULL,
    name TEXT NOT NULL,
    participant_id TEXT NOT NULL REFERENCES participants (id),
    outcome TEXT NOT NULL,
    referral_id TEXT,
    received_at TEXT NOT NULL,
    PRIMARY KEY (program_id, event_id)
);
