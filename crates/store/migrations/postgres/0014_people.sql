-- People who refer sales (seed 002): contacts, employees and vendors.
CREATE TABLE people (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    company TEXT,
    employee_number TEXT,
    notes TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX people_kind ON people (kind, id);

-- Agreed referral-bonus terms of an employee or vendor, numbered 1, 2, … per person. Terms
-- are never edited: a change adds a version, so the history stays and bonuses copy the terms
-- in force.
CREATE TABLE bonus_terms (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people (id),
    version INTEGER NOT NULL,
    basis TEXT NOT NULL,
    percentage_bps INTEGER,
    fixed_amount INTEGER,
    currency TEXT,
    front_term TEXT NOT NULL,
    back_term TEXT,
    front_share_bps INTEGER NOT NULL,
    set_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT bonus_terms_version_unique UNIQUE (person_id, version)
);
