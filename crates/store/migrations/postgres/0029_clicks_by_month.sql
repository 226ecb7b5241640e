-- Clicks partitioned by month: a month of old clicks goes with one DROP TABLE instead of
-- millions of deletes, and a range scan reads only the months it names. The partition key
-- compares bytes (`COLLATE "C"`): times are fixed-width UTC text, so byte order is time order
-- whatever the database's locale. This migration leaves every row in `clicks_default`;
-- `vouch_store::click_partitions::prepare` (run after every migration and by the worker's
-- housekeeping) creates the months' partitions and moves their rows out of the default one.
-- The primary key includes `at` because a partitioned table's unique keys must hold the key.

ALTER TABLE clicks RENAME TO clicks_unpartitioned;
ALTER TABLE clicks_unpartitioned DROP CONSTRAINT clicks_pkey;
DROP INDEX clicks_participant;
DROP INDEX clicks_program;

CREATE TABLE clicks (
    id TEXT NOT NULL,
    at TEXT COLLATE "C" NOT NULL,
    program_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    code TEXT NOT NULL,
    visitor_hash TEXT NOT NULL,
    referrer TEXT,
    utm TEXT,
    device_class TEXT NOT NULL,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE clicks_default PARTITION OF clicks DEFAULT;
CREATE INDEX clicks_participant ON clicks (participant_id, at);
CREATE INDEX clicks_program ON clicks (program_id, at);

INSERT INTO clicks (id, at, program_id, participant_id, code, visitor_hash, referrer, utm, device_class)
    SELECT id, at, program_id, participant_id, code, visitor_hash, referrer, utm, device_class
    FROM clicks_unpartitioned;
DROP TABLE clicks_unpartitioned;
