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
    referral_value BIGINT NOT NULL,
    referral_currency TEXT NOT NULL,
    amount BIGINT NOT NULL,
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

-- A payment pays a bonus, a participant's reward, or a partner's commission: one of the three.
ALTER TABLE payments ADD COLUMN commission_id TEXT REFERENCES commissions (id);
ALTER TABLE payments DROP CONSTRAINT payments_pays_one_thing;
ALTER TABLE payments ADD CONSTRAINT payments_pays_one_thing CHECK (
    (CASE WHEN bonus_id IS NULL THEN 0 ELSE 1 END)
    + (CASE WHEN reward_id IS NULL THEN 0 ELSE 1 END)
    + (CASE WHEN commission_id IS NULL THEN 0 ELSE 1 END) = 1
);
-- A commission is paid by one live payment at most.
CREATE UNIQUE INDEX payments_commission ON payments (commission_id) WHERE status <> 'voided';
