-- The partner referral list's search box reads one column: every searchable field, lowercased
-- and kept up to date on each write (see store::partner_referrals::search_text). Rows written
-- before this migration get the same fields here; their closed sets as they read (e.g. "in
-- progress") are found through the stage comparison the search also makes.
ALTER TABLE partner_referrals ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE partner_referrals SET search_text = LOWER(
    'r-' || CAST(number AS TEXT) || chr(31) || CAST(number AS TEXT)
    || chr(31) || client_name
    || chr(31) || COALESCE(company, '')
    || chr(31) || COALESCE(email, '')
    || chr(31) || COALESCE(phone, '')
    || chr(31) || COALESCE(website, '')
    || chr(31) || COALESCE(notes, '')
    || chr(31) || needs
    || chr(31) || stage
    || chr(31) || direction
    || chr(31) || COALESCE(CAST(value AS TEXT), '')
);
