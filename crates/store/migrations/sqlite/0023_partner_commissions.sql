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
    referral_currency TEXT NOT NULL,
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

-- A payment pays a bonus, a participant's reward, or a partner's commission: one of the three.
-- SQLite cannot change a CHECK in place, so `payments` is rebuilt as in 0017 (its two child
-- tables set aside and rebuilt too, so that no row ever refers to a missing payment).
CREATE TEMPORARY TABLE expenditures_kept AS SELECT * FROM expenditures;
CREATE TEMPORARY TABLE payment_clawbacks_kept AS SELECT * FROM payment_clawbacks;
DROP TABLE expenditures;
DROP TABLE payment_clawbacks;

CREATE TABLE payments_next (
    id TEXT PRIMARY KEY,
    bonus_id TEXT REFERENCES bonuses (id),
    sale_id TEXT REFERENCES sales (id),
    reward_id TEXT REFERENCES rewards (id),
    commission_id TEXT REFERENCES commissions (id),
    program_id TEXT NOT NULL REFERENCES programs (id),
    payee_id TEXT NOT NULL REFERENCES people (id),
    payee_kind TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    term TEXT,
    due_on TEXT,
    status TEXT NOT NULL,
    payment_method TEXT NOT NULL,
    batch_id TEXT REFERENCES payout_batches (id),
    paid_reference TEXT,
    paid_on TEXT,
    paid_at TEXT,
    void_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT payments_pays_one_thing CHECK ((CASE WHEN bonus_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN reward_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN commission_id IS NULL THEN 0 ELSE 1 END) = 1)
);
INSERT INTO payments_next (id, bonus_id, sale_id, reward_id, commission_id, program_id, payee_id, payee_kind,
        sequence, amount, currency, term, due_on, status, payment_method, batch_id,
        paid_reference, paid_on, paid_at, void_reason, created_at, updated_at)
    SELECT id, bonus_id, sale_id, reward_id, NULL, program_id, payee_id, payee_kind, sequence, amount,
        currency, term, due_on, status, payment_method, batch_id, paid_reference, paid_on,
        paid_at, void_reason, created_at, updated_at
    FROM payments;
DROP TABLE payments;
ALTER TABLE payments_next RENAME TO payments;
CREATE INDEX payments_status ON payments (status, due_on, id);
CREATE UNIQUE INDEX payments_bonus_sequence ON payments (bonus_id, sequence);
CREATE INDEX payments_payee ON payments (payee_id, id);
CREATE INDEX payments_batch ON payments (batch_id, id);
-- A reward, or a commission, is paid by one live payment at most.
CREATE UNIQUE INDEX payments_reward ON payments (reward_id) WHERE status <> 'voided';
CREATE UNIQUE INDEX payments_commission ON payments (commission_id) WHERE status <> 'voided';

CREATE TABLE expenditures (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    vendor_id TEXT NOT NULL REFERENCES people (id),
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    spent_on TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT expenditures_payment_unique UNIQUE (payment_id)
);
INSERT INTO expenditures SELECT * FROM expenditures_kept;
DROP TABLE expenditures_kept;

CREATE TABLE payment_clawbacks (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    created_at TEXT NOT NULL,
    CONSTRAINT payment_clawbacks_payment_unique UNIQUE (payment_id)
);
CREATE INDEX payment_clawbacks_status ON payment_clawbacks (status, id);
INSERT INTO payment_clawbacks SELECT * FROM payment_clawbacks_kept;
DROP TABLE payment_clawbacks_kept;

