-- On-call schedules and escalation chains (as written: JSON specs), where to reach each
-- person, and the pages an incident has raised: which chain, when, how many of its steps
-- have gone out and whether someone acknowledged. A page to a person is a notification
-- with an address instead of a channel.
-- Kept in step with ../sqlite/0013_oncall.sql.

CREATE TABLE oncall_schedules (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE escalation_chains (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE user_contacts (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    email TEXT NOT NULL DEFAULT '',
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE incident_pages (
    incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    chain TEXT NOT NULL,
    raised_at_ms BIGINT NOT NULL,
    steps_sent BIGINT NOT NULL DEFAULT 0,
    acknowledged_at_ms BIGINT,
    acknowledged_by TEXT,
    PRIMARY KEY (incident_id, chain)
);
CREATE INDEX incident_pages_open ON incident_pages (acknowledged_at_ms);

ALTER TABLE notifications ADD COLUMN address TEXT;
