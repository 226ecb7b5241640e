-- Leads and customers sold to partners that buy them (seed 004). A sale keeps what was sold
-- (the lead's details; for a customer also its recurring revenue, activation fee and contract
-- term), the price the buyer owes us, the delivery method at the time of sale and where its
-- delivery stands. The attempts themselves are the jobs' (jobs.subject = the sale's id). What
-- buyers owe is money owed to us: it never joins the payables tables.
CREATE TABLE lead_sales (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    kind TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    company TEXT,
    email TEXT,
    phones TEXT NOT NULL,
    street TEXT,
    city TEXT,
    region TEXT,
    postal_code TEXT,
    country TEXT,
    promo_code TEXT,
    custom_fields TEXT NOT NULL,
    sale_price INTEGER NOT NULL,
    currency TEXT NOT NULL,
    monthly_recurring_revenue INTEGER,
    activation_fee INTEGER,
    contract_term_months INTEGER,
    notes TEXT,
    delivery_method TEXT NOT NULL,
    delivery_status TEXT NOT NULL,
    delivered_at TEXT,
    delivery_error TEXT,
    sold_by TEXT NOT NULL,
    sold_on TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX lead_sales_partner_month ON lead_sales (partner_id, sold_on);
CREATE INDEX lead_sales_status ON lead_sales (delivery_status, id);

-- A sale's delivery log finds the email each of its jobs sent.
CREATE INDEX email_messages_job ON email_messages (job_id);
