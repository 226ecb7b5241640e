-- Rewards: the rules of a program, the rewards they earn, coupon pools, and clawbacks of
-- delivered rewards that were lost again. Amounts are integer minor units of `currency`.

CREATE TABLE reward_rules (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    name TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    threshold BIGINT NOT NULL,
    sides TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount BIGINT,
    description TEXT,
    friend_amount BIGINT,
    friend_description TEXT,
    max_per_participant BIGINT,
    delivery TEXT NOT NULL,
    active BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX reward_rules_program ON reward_rules (program_id, id);

-- One live reward per rule, recipient and step: a step can never pay twice, and a revoked
-- step can be earned again.
CREATE TABLE rewards (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    rule_id TEXT NOT NULL REFERENCES reward_rules (id),
    participant_id TEXT NOT NULL REFERENCES participants (id),
    recipient TEXT NOT NULL,
    step BIGINT NOT NULL,
    referral_id TEXT REFERENCES referrals (id),
    kind TEXT NOT NULL,
    amount BIGINT,
    currency TEXT NOT NULL,
    description TEXT,
    coupon_code TEXT,
    status TEXT NOT NULL,
    hold_until TEXT,
    earned_at TEXT,
    delivered_at TEXT,
    revoked_at TEXT,
    revoke_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX rewards_step_unique ON rewards (rule_id, participant_id, recipient, step)
    WHERE status <> 'revoked';
CREATE INDEX rewards_participant ON rewards (participant_id, id);
CREATE INDEX rewards_program_status ON rewards (program_id, status, id);
CREATE INDEX rewards_hold ON rewards (status, hold_until);

CREATE TABLE coupon_codes (
    id TEXT PRIMARY KEY,
    rule_id TEXT NOT NULL REFERENCES reward_rules (id),
    code TEXT NOT NULL,
    reward_id TEXT REFERENCES rewards (id),
    created_at TEXT NOT NULL,
    CONSTRAINT coupon_codes_code_unique UNIQUE (rule_id, code)
);
CREATE INDEX coupon_codes_free ON coupon_codes (rule_id, reward_id, id);

-- A delivered reward whose basis went away (a refund): staff decide to recover it or waive it.
CREATE TABLE clawbacks (
    id TEXT PRIMARY KEY,
    reward_id TEXT NOT NULL REFERENCES rewards (id),
    program_id TEXT NOT NULL REFERENCES programs (id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    created_at TEXT NOT NULL,
    CONSTRAINT clawbacks_reward_unique UNIQUE (reward_id)
);
CREATE INDEX clawbacks_program ON clawbacks (program_id, status, id);
