-- How far back retention has deleted raw rows, written in the transaction that deletes them.
-- `vouch rollups rebuild` reads the click horizon here rather than from the running process's
-- settings: a rebuild run with other settings than the workers' would otherwise recount days
-- whose clicks are gone and lose their counts. The clicks' row exists from the start (empty:
-- nothing purged), so a rebuild can lock it and a purge waits for the rebuild to finish.
CREATE TABLE retention_horizons (
    subject TEXT PRIMARY KEY,
    purged_before TEXT NOT NULL
);
INSERT INTO retention_horizons (subject, purged_before) VALUES ('clicks', '');
