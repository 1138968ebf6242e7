-- On-call schedules and escalation chains (as written: JSON specs), where to reach each
-- person, and the pages an incident has raised: which chain, when, how many of its steps
-- have gone out and whether someone acknowledged. A page to a person is a notification
-- with an address instead of a channel.
-- Kept in step with ../postgres/0013_oncall.sql.

CREATE TABLE oncall_schedules (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE escalation_chains (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE user_contacts (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    email TEXT NOT NULL DEFAULT '',
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE incident_pages (
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    chain TEXT NOT NULL,
    raised_at_ms INTEGER NOT NULL,
    steps_sent INTEGER NOT NULL DEFAULT 0,
    acknowledged_at_ms INTEGER,
    acknowledged_by TEXT,
    PRIMARY KEY (incident_id, chain)
);
CREATE INDEX incident_pages_open ON incident_pages (acknowledged_at_ms);

ALTER TABLE notifications ADD COLUMN address TEXT;
