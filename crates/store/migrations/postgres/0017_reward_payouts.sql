-- Cash rewards of participant programs paid through the payables ledger: a payment pays either
-- a bonus (of a sale, on a milestone term) or a reward (no sale, no term), and a participant
-- paid this way is a contact in People, linked to their participant record.

ALTER TABLE payments ALTER COLUMN bonus_id DROP NOT NULL;
ALTER TABLE payments ALTER COLUMN sale_id DROP NOT NULL;
ALTER TABLE payments ALTER COLUMN term DROP NOT NULL;
ALTER TABLE payments ADD COLUMN reward_id TEXT REFERENCES rewards (id);
ALTER TABLE payments ADD CONSTRAINT payments_pays_one_thing
    CHECK ((bonus_id IS NULL) <> (reward_id IS NULL));
-- A reward is paid by one live payment at most.
CREATE UNIQUE INDEX payments_reward ON payments (reward_id) WHERE status <> 'voided';

-- The participant a contact was created for when their first reward went to the ledger.
ALTER TABLE people ADD COLUMN participant_id TEXT REFERENCES participants (id);
CREATE UNIQUE INDEX people_participant ON people (participant_id) WHERE participant_id IS NOT NULL;
