-- Clicks on referral links: append-only; partitionable by time on PostgreSQL later.

CREATE TABLE clicks (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    program_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    code TEXT NOT NULL,
    visitor_hash TEXT NOT NULL,
    referrer TEXT,
    utm TEXT,
    device_class TEXT NOT NULL
);
CREATE INDEX clicks_participant ON clicks (participant_id, at);
CREATE INDEX clicks_program ON clicks (program_id, at);
