-- Cash rewards of participant programs paid through the payables ledger: a payment pays either
-- a bonus (of a sale, on a milestone term) or a reward (no sale, no term), and a participant
-- paid this way is a contact in People, linked to their participant record.
--
-- SQLite cannot relax NOT NULL in place, so `payments` is rebuilt. Its two child tables are
-- set aside and rebuilt too, so that no row ever refers to a missing payment, whatever the
-- connection's foreign-key setting.

CREATE TEMPORARY TABLE expenditures_kept AS SELECT * FROM expenditures;
CREATE TEMPORARY TABLE payment_clawbacks_kept AS SELECT * FROM payment_clawbacks;
DROP TABLE expenditures;
DROP TABLE payment_clawbacks;

CREATE TABLE payments_next (
    id TEXT PRIMARY KEY,
    bonus_id TEXT REFERENCES bonuses (id),
    sale_id TEXT REFERENCES sales (id),
    reward_id TEXT REFERENCES rewards (id),
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
    CONSTRAINT payments_pays_one_thing CHECK ((bonus_id IS NULL) <> (reward_id IS NULL))
);
INSERT INTO payments_next (id, bonus_id, sale_id, reward_id, program_id, payee_id, payee_kind,
        sequence, amount, currency, term, due_on, status, payment_method, batch_id,
        paid_reference, paid_on, paid_at, void_reason, created_at, updated_at)
    SELECT id, bonus_id, sale_id, NULL, program_id, payee_id, payee_kind, sequence, amount,
        currency, term, due_on, status, payment_method, batch_id, paid_reference, paid_on,
        paid_at, void_reason, created_at, updated_at
    FROM payments;
DROP TABLE payments;
ALTER TABLE payments_next RENAME TO payments;
CREATE INDEX payments_status ON payments (status, due_on, id);
CREATE UNIQUE INDEX payments_bonus_sequence ON payments (bonus_id, sequence);
CREATE INDEX payments_payee ON payments (payee_id, id);
CREATE INDEX payments_batch ON payments (batch_id, id);
-- A reward is paid by one live payment at most.
CREATE UNIQUE INDEX payments_reward ON payments (reward_id) WHERE status <> 'voided';

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

-- The participant a contact was created for when their first reward went to the ledger.
ALTER TABLE people ADD COLUMN participant_id TEXT REFERENCES participants (id);
CREATE UNIQUE INDEX people_participant ON people (participant_id) WHERE participant_id IS NOT NULL;
