-- Email: operator overrides of the shipped templates, the outbox of every rendered message
-- (what the console shows and the worker sends), and addresses that asked for no marketing email.

CREATE TABLE email_templates (
    kind TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE email_messages (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    marketing INTEGER NOT NULL,
    status TEXT NOT NULL,
    transport TEXT,
    job_id TEXT REFERENCES jobs (id),
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX email_messages_to ON email_messages (to_address, id);

CREATE TABLE email_suppressions (
    email TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL
);
