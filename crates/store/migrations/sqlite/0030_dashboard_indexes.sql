-- The dashboard's top referrers rank the referrers with wins in a range: this index holds only
-- the rows that have wins (most rows count clicks alone), so the ranking reads those and not
-- every referrer's every day. Rewards by status read a program's rewards created in a range.
CREATE INDEX daily_counts_wins ON daily_counts (program_id, day, participant_id, won) WHERE won > 0;
CREATE INDEX rewards_program_created ON rewards (program_id, created_at);
