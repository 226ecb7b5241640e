-- How far back retention has deleted raw rows, written in the transaction that deletes them.
-- `vouch rollups rebuild` reads the click horizon here rather than from the running process's
-- settings: a rebuild run with other settings than the workers' would otherwise recount days
-- whose clicks are gone and lose their counts. The clicks' row exists from the start, so a
-- rebuild can lock it and a purge waits for the rebuild to finish. An installation whose
-- retention already deleted clicks recorded nothing: its horizon starts at the oldest click
-- kept (every day before it keeps its counts), or past the last counted day when no click is
-- left; empty when nothing was ever counted.
CREATE TABLE retention_horizons (
    subject TEXT PRIMARY KEY,
    purged_before TEXT NOT NULL
);
INSERT INTO retention_horizons (subject, purged_before) VALUES ('clicks', COALESCE(
    (SELECT MIN(at) FROM clicks),
    (SELECT MAX(day) FROM daily_counts WHERE clicks > 0) || 'T23:59:59.999Z',
    ''
));
