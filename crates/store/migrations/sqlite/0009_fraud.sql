-- Fraud review: what a signup looked like (hashes only, never raw addresses) and the flags a
-- referral raised, with the staff decision on them.

-- The normalised email (see vouch_domain::fraud::normalise_email); rows from before this
-- migration keep their lower-case address, the closest they can get in SQL.
ALTER TABLE participants ADD COLUMN email_key TEXT;
UPDATE participants SET email_key = LOWER(email);
-- SHA-256 of the signup's network address, and of its browser cookie, each with a secret.
ALTER TABLE participants ADD COLUMN ip_hash TEXT;
ALTER TABLE participants ADD COLUMN device_hash TEXT;
CREATE INDEX participants_email_key ON participants (program_id, email_key);
CREATE INDEX participants_ip_hash ON participants (program_id, ip_hash, created_at);

-- JSON array of {flag, detail}; `review` is none, pending, cleared or junk.
ALTER TABLE referrals ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE referrals ADD COLUMN review TEXT NOT NULL DEFAULT 'none';
ALTER TABLE referrals ADD COLUMN review_reason TEXT;
ALTER TABLE referrals ADD COLUMN reviewed_by TEXT;
ALTER TABLE referrals ADD COLUMN reviewed_at TEXT;
CREATE INDEX referrals_review ON referrals (program_id, review, id);
