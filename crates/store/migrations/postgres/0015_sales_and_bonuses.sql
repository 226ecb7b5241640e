-- Sales referrals' money half (seed 002): what each program pays by default, the sales that
-- earn bonuses, the bonuses, the payments they are paid in, payout batches, and clawbacks of
-- payments already made when a sale is cancelled.

-- A program's bonus policy: the default terms for contacts (and for the optional New Customer
-- and Add-On Sale bonuses), and whether the person who completed a bonus may approve it.
-- Terms are kept as the JSON of their input fields: they are read whole, never queried.
CREATE TABLE bonus_policies (
    program_id TEXT PRIMARY KEY REFERENCES programs (id),
    contact_terms TEXT,
    new_customer_bonus INTEGER NOT NULL,
    new_customer_terms TEXT,
    add_on_bonus INTEGER NOT NULL,
    add_on_terms TEXT,
    allow_self_approval INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

-- A sale. Milestone dates are ISO dates (YYYY-MM-DD), recorded whenever they become known.
CREATE TABLE sales (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id),
    customer_id TEXT NOT NULL REFERENCES people (id),
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    lead_source TEXT NOT NULL,
    referred_by TEXT REFERENCES people (id),
    generated_by TEXT REFERENCES people (id),
    add_on INTEGER NOT NULL,
    description TEXT,
    signed_on TEXT,
    job_approved_on TEXT,
    installed_on TEXT,
    revenue_recognized_on TEXT,
    permit_closed_on TEXT,
    paid_in_full_on TEXT,
    status TEXT NOT NULL,
    approved_by TEXT,
    approved_at TEXT,
    cancelled_by TEXT,
    cancelled_at TEXT,
    cancel_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX sales_status ON sales (status, id);
CREATE INDEX sales_customer ON sales (customer_id, id);
CREATE INDEX sales_referred_by ON sales (referred_by, id);

-- A bonus a sale earned. Its terms are copied in when it is created and completed, so a
-- later change of anyone's terms never rewrites it. `automatic` bonuses come from approving
-- the sale; one of each kind per sale at most, so a second approval can never add a set.
CREATE TABLE bonuses (
    id TEXT PRIMARY KEY,
    sale_id TEXT NOT NULL REFERENCES sales (id),
    program_id TEXT NOT NULL REFERENCES programs (id),
    kind TEXT NOT NULL,
    automatic INTEGER NOT NULL,
    payee_id TEXT REFERENCES people (id),
    basis TEXT,
    percentage_bps INTEGER,
    amount BIGINT,
    currency TEXT NOT NULL,
    front_term TEXT,
    back_term TEXT,
    front_share_bps INTEGER,
    payment_method TEXT,
    status TEXT NOT NULL,
    completed_by_id TEXT,
    completed_by TEXT,
    completed_at TEXT,
    decided_by TEXT,
    decided_at TEXT,
    reject_reason TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX bonuses_automatic_unique ON bonuses (sale_id, kind) WHERE automatic = 1;
CREATE INDEX bonuses_status ON bonuses (status, id);
CREATE INDEX bonuses_sale ON bonuses (sale_id, id);
CREATE INDEX bonuses_payee ON bonuses (payee_id, id);

-- A payout batch: due payments picked together, approved by a manager, exported, paid.
CREATE TABLE payout_batches (
    id TEXT PRIMARY KEY,
    payee_group TEXT NOT NULL,
    program_id TEXT REFERENCES programs (id),
    due_from TEXT,
    due_to TEXT,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    approved_by TEXT,
    approved_at TEXT,
    paid_reference TEXT,
    paid_on TEXT,
    paid_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX payout_batches_status ON payout_batches (status, id);

-- One instalment owed to a payee: the payables ledger. `sequence` orders a bonus's payments.
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    bonus_id TEXT NOT NULL REFERENCES bonuses (id),
    sale_id TEXT NOT NULL REFERENCES sales (id),
    program_id TEXT NOT NULL REFERENCES programs (id),
    payee_id TEXT NOT NULL REFERENCES people (id),
    payee_kind TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    term TEXT NOT NULL,
    due_on TEXT,
    status TEXT NOT NULL,
    payment_method TEXT NOT NULL,
    batch_id TEXT REFERENCES payout_batches (id),
    paid_reference TEXT,
    paid_on TEXT,
    paid_at TEXT,
    void_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX payments_status ON payments (status, due_on, id);
CREATE UNIQUE INDEX payments_bonus_sequence ON payments (bonus_id, sequence);
CREATE INDEX payments_payee ON payments (payee_id, id);
CREATE INDEX payments_batch ON payments (batch_id, id);

-- What a paid vendor payment cost the company (seed 002: vendor payments are expenditures).
CREATE TABLE expenditures (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    vendor_id TEXT NOT NULL REFERENCES people (id),
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    spent_on TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT expenditures_payment_unique UNIQUE (payment_id)
);

-- A payment already made whose sale was cancelled: staff decide to recover it or waive it.
CREATE TABLE payment_clawbacks (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    created_at TEXT NOT NULL,
    CONSTRAINT payment_clawbacks_payment_unique UNIQUE (payment_id)
);
CREATE INDEX payment_clawbacks_status ON payment_clawbacks (status, id);
