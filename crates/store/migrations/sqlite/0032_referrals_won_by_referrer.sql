-- A win counts the referrer's won referrals that are not waiting for review
-- (`referrals::count_by_referrer`), and the count grows with the referrer's history. With
-- `review` in the index the count reads the index, not one table row per referral (on
-- PostgreSQL, once a vacuum has marked the rows visible to all). The old index is a prefix of
-- the new one, which serves its queries. The new one is built first: building it blocks
-- writes to `referrals` but not reads, and dropping the old one afterwards blocks both only
-- for a moment.
CREATE INDEX referrals_referrer_review ON referrals (referrer_id, stage, review);
DROP INDEX referrals_referrer;
