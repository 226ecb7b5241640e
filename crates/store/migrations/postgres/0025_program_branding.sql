-- A program's branding on its public pages (and available to its emails): the signup page's
-- headline, the offer in the operator's words, a logo address and an accent colour (#RRGGBB).
ALTER TABLE programs ADD COLUMN headline TEXT;
ALTER TABLE programs ADD COLUMN offer TEXT;
ALTER TABLE programs ADD COLUMN logo_url TEXT;
ALTER TABLE programs ADD COLUMN brand_color TEXT;
