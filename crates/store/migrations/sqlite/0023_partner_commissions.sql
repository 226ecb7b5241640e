-- Commissions for partner → us referrals won with a value (seed 003): the partner's terms in
-- force (a percentage of the value, or a fixed amount) give the amount, owed to the contact in
-- People who stands for the partner. A referral has one live commission at most; one that
-- leaves Won before review is cancelled.
CREATE TABLE commissions (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    referral_id TEXT NOT NULL REFERENCES partner_referrals (id),
    program_id TEXT NOT NULL REFERENCES programs (id),
    payee_id TEXT NOT NULL REFERENCES people (id),
    percentage_bps INTEGER,
    referral_value INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX commissions_referral_live ON commissions (referral_id) WHERE status <> 'cancelled';
CREATE INDEX commissions_status ON commissions (status, id);
CREATE INDEX commissions_partner ON commissions (partner_id, id);

-- The partner a contact was created for when its first commission was owed.
ALTER TABLE people ADD COLUMN partner_id TEXT REFERENCES partners (id);
CREATE UNIQUE INDEX people_partner ON people (partner_id) WHERE partner_id IS NOT NULL;
