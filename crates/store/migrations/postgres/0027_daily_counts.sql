-- Clicks, referred signups and wins per program and UTC day, for the whole program
-- (participant_id '') and per referrer, kept up to date in the transaction that writes each
-- click or referral, so dashboards never scan raw clicks. `won` counts referrals that are won
-- now, on the day they were won (a revoked win is taken back). Filled here from what exists;
-- `vouch rollups rebuild` recomputes it the same way.
CREATE TABLE daily_counts (
    program_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    day TEXT NOT NULL,
    clicks BIGINT NOT NULL DEFAULT 0,
    signups BIGINT NOT NULL DEFAULT 0,
    won BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (program_id, participant_id, day)
);

INSERT INTO daily_counts (program_id, participant_id, day, clicks)
    SELECT program_id, participant_id, SUBSTR(at, 1, 10), COUNT(*) FROM clicks WHERE 1 = 1
    GROUP BY program_id, participant_id, SUBSTR(at, 1, 10);
INSERT INTO daily_counts (program_id, participant_id, day, clicks)
    SELECT program_id, '', SUBSTR(at, 1, 10), COUNT(*) FROM clicks WHERE 1 = 1
    GROUP BY program_id, SUBSTR(at, 1, 10);
INSERT INTO daily_counts (program_id, participant_id, day, signups)
    SELECT program_id, referrer_id, SUBSTR(created_at, 1, 10), COUNT(*) FROM referrals WHERE 1 = 1
    GROUP BY program_id, referrer_id, SUBSTR(created_at, 1, 10)
    ON CONFLICT (program_id, participant_id, day) DO UPDATE SET signups = daily_counts.signups + excluded.signups;
INSERT INTO daily_counts (program_id, participant_id, day, signups)
    SELECT program_id, '', SUBSTR(created_at, 1, 10), COUNT(*) FROM referrals WHERE 1 = 1
    GROUP BY program_id, SUBSTR(created_at, 1, 10)
    ON CONFLICT (program_id, participant_id, day) DO UPDATE SET signups = daily_counts.signups + excluded.signups;
INSERT INTO daily_counts (program_id, participant_id, day, won)
    SELECT program_id, referrer_id, SUBSTR(won_at, 1, 10), COUNT(*) FROM referrals
    WHERE stage = 'won' AND won_at IS NOT NULL
    GROUP BY program_id, referrer_id, SUBSTR(won_at, 1, 10)
    ON CONFLICT (program_id, participant_id, day) DO UPDATE SET won = daily_counts.won + excluded.won;
INSERT INTO daily_counts (program_id, participant_id, day, won)
    SELECT program_id, '', SUBSTR(won_at, 1, 10), COUNT(*) FROM referrals
    WHERE stage = 'won' AND won_at IS NOT NULL
    GROUP BY program_id, SUBSTR(won_at, 1, 10)
    ON CONFLICT (program_id, participant_id, day) DO UPDATE SET won = daily_counts.won + excluded.won;
