-- A participant of a program tied to a super customer gets an account nested under it.
ALTER TABLE participants ADD COLUMN account_id INTEGER REFERENCES accounts (id);
