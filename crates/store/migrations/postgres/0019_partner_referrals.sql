-- Referrals between us and partner companies (seed 003): partner → us or us → partner, each
-- with a human number (shown and searched as "R-1001"), a stage both sides keep up to date, a
-- value, the partner manager it is allocated to, and a duplicate check against every other
-- referral (same email or company domain). Every change is kept in partner_referral_changes,
-- which both sides read as the referral's history.
CREATE TABLE partner_referrals (
    id TEXT PRIMARY KEY,
    number INTEGER NOT NULL,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    direction TEXT NOT NULL,
    client_name TEXT NOT NULL,
    company TEXT,
    email TEXT,
    phone TEXT,
    website TEXT,
    company_domain TEXT,
    needs TEXT NOT NULL,
    notes TEXT,
    value BIGINT,
    currency TEXT,
    stage TEXT NOT NULL,
    manager_id TEXT REFERENCES staff_users (id),
    submitted_by TEXT NOT NULL,
    duplicate_status TEXT NOT NULL,
    duplicate_of TEXT REFERENCES partner_referrals (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX partner_referrals_number_unique ON partner_referrals (number);
CREATE INDEX partner_referrals_partner ON partner_referrals (partner_id, id);
CREATE INDEX partner_referrals_email ON partner_referrals (LOWER(email));
CREATE INDEX partner_referrals_domain ON partner_referrals (company_domain);

CREATE TABLE partner_referral_changes (
    id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES partner_referrals (id),
    side TEXT NOT NULL,
    actor TEXT NOT NULL,
    field TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX partner_referral_changes_referral ON partner_referral_changes (referral_id, id);
