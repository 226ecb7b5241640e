-- Programs can show participants their rank among the referrers.
ALTER TABLE programs ADD COLUMN show_leaderboard BIGINT NOT NULL DEFAULT 0;
