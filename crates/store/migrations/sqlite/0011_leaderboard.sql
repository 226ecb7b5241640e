-- Programs can show participants their rank among the referrers.
ALTER TABLE programs ADD COLUMN show_leaderboard INTEGER NOT NULL DEFAULT 0;
