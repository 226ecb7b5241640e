-- Staff notes on a participant ("called about the missing reward"), newest last; erased with
-- the participant's personal fields. A participant's status may now be `blocked`: their link
-- no longer credits them and they earn no new reward until unblocked.
CREATE TABLE participant_notes (
    id TEXT PRIMARY KEY,
    participant_id TEXT NOT NULL REFERENCES participants (id),
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX participant_notes_participant ON participant_notes (participant_id, id);
