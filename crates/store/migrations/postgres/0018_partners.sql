-- Partner companies (seeds 003 and 004): agencies that refer clients to us, receive referrals
-- from us, or buy customers from us, in any combination, each with an optional partner manager
-- (a staff user); and their commission terms per program for the referrals they bring.
CREATE TABLE partners (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    website TEXT,
    contact_name TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    notes TEXT,
    status TEXT NOT NULL,
    manager_id TEXT REFERENCES staff_users (id),
    refers_clients INTEGER NOT NULL,
    receives_referrals INTEGER NOT NULL,
    buys_customers INTEGER NOT NULL,
    listed_in_directory INTEGER NOT NULL,
    -- A buyer's delivery: api_post (post_url + source_id) or email; the sale notification
    -- addresses, one per line.
    delivery_method TEXT,
    post_url TEXT,
    source_id TEXT,
    notification_emails TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- One partner per name, whatever its case: what an import re-run finds already there.
CREATE UNIQUE INDEX partners_name_unique ON partners (LOWER(name));
CREATE INDEX partners_status ON partners (status, id);
CREATE INDEX partners_manager ON partners (manager_id, id);

-- What a partner earns per won referral in one program: basis points of its value, or a fixed
-- amount (minor units of currency). Exactly one of the two.
CREATE TABLE partner_commission_terms (
    partner_id TEXT NOT NULL REFERENCES partners (id),
    program_id TEXT NOT NULL REFERENCES programs (id),
    percentage_bps INTEGER,
    fixed_amount BIGINT,
    currency TEXT,
    set_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, program_id),
    CONSTRAINT partner_commission_basis CHECK ((percentage_bps IS NULL) <> (fixed_amount IS NULL))
);
