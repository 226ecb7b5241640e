-- PostgreSQL partitions clicks by month from this version; SQLite keeps one table (its
-- retention deletes old clicks row by row). Nothing changes here: the file keeps both
-- folders' histories the same.
SELECT 1;
