-- Every referred signup adds to its program's row of the day, and on PostgreSQL that row stayed
-- locked from the addition to the commit's flush: concurrent transactions (the group-commit
-- lanes, the click writer) waited for each other there, one flush after another. Each row is
-- now split into shards: a PostgreSQL transaction adds to one shard (`rollups::shard_for`, in
-- turn over 16), so concurrent transactions add to different rows, and readers sum the
-- shards. SQLite has one writer at a time and keeps writing shard 0.
ALTER TABLE daily_counts ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_counts DROP CONSTRAINT daily_counts_pkey,
    ADD PRIMARY KEY (program_id, participant_id, day, shard);
-- A win taken back may land in another shard than the win (a shard holding -1): the ranking
-- reads every shard with a change in wins and keeps the referrers whose sum is positive.
DROP INDEX daily_counts_wins;
CREATE INDEX daily_counts_wins ON daily_counts (program_id, day, participant_id, won) WHERE won <> 0;
