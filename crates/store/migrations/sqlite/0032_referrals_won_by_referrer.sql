-- A win counts the referrer's won referrals that are not waiting for review
-- (`referrals::count_by_referrer`), and the count grows with the referrer's history. With
-- `review` in the index the count reads the index alone, not one table row per referral.
-- The old index is a prefix of the new one, which serves its queries.
DROP INDEX referrals_referrer;
CREATE INDEX referrals_referrer ON referrals (referrer_id, stage, review);
