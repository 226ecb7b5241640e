-- Every referred signup adds to its program's row of the day, and on PostgreSQL that row stayed
-- locked from the addition to the commit's flush: concurrent transactions waited for each other
-- there. Each row is now split into shards that readers sum (see the PostgreSQL migration).
-- SQLite has one writer at a time and writes shard 0 only; the column is here so that both
-- engines run the same statements. SQLite cannot change a primary key in place: the table is
-- made again.
CREATE TABLE daily_counts_sharded (
    program_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    day TEXT NOT NULL,
    clicks INTEGER NOT NULL DEFAULT 0,
    signups INTEGER NOT NULL DEFAULT 0,
    won INTEGER NOT NULL DEFAULT 0,
    shard INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (program_id, participant_id, day, shard)
);
INSERT INTO daily_counts_sharded (program_id, participant_id, day, clicks, signups, won, shard)
    SELECT program_id, participant_id, day, clicks, signups, won, 0 FROM daily_counts;
DROP TABLE daily_counts;
ALTER TABLE daily_counts_sharded RENAME TO daily_counts;
CREATE INDEX daily_counts_by_day ON daily_counts (participant_id, day);
-- A win taken back may sit in another shard than the win: the ranking reads every row with a
-- change in wins and keeps the referrers whose sum is positive.
CREATE INDEX daily_counts_wins ON daily_counts (program_id, day, participant_id, won) WHERE won <> 0;
