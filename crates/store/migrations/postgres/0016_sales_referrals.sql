-- The referrals module (seed 002): a referred contact linked to whoever referred them, and
-- optionally the employee who generated the referral from a contact; scheduled for a meeting
-- and tracked through the sales process to won (with its sale) or lost.
CREATE TABLE sales_referrals (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    referred_id TEXT NOT NULL REFERENCES people (id),
    referrer_id TEXT NOT NULL REFERENCES people (id),
    generated_by TEXT REFERENCES people (id),
    stage TEXT NOT NULL,
    meeting_at TEXT,
    notes TEXT,
    lost_reason TEXT,
    sale_id TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX sales_referrals_stage ON sales_referrals (stage, id);
CREATE INDEX sales_referrals_referrer ON sales_referrals (referrer_id, id);
CREATE INDEX sales_referrals_referred ON sales_referrals (referred_id, id);

-- What happened to a referral, oldest first: stage changes with their dates, and notes.
CREATE TABLE sales_referral_events (
    id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES sales_referrals (id),
    kind TEXT NOT NULL,
    from_stage TEXT,
    to_stage TEXT,
    note TEXT,
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX sales_referral_events_referral ON sales_referral_events (referral_id, id);

-- A sale made from a referral.
ALTER TABLE sales ADD COLUMN referral_id TEXT REFERENCES sales_referrals (id);
