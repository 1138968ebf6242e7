-- Incidents (numbered INC0000001…) and their journal: every state change, assignment,
-- work note and comment with who and when. The journal is what the SLA clocks and the
-- timeline are computed from.
-- Kept in step with ../postgres/0007_incidents.sql.

CREATE TABLE incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL UNIQUE,
    short_description TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    caller TEXT NOT NULL,
    -- network, security, server, ot, voice-vtc, crypto, …
    category TEXT NOT NULL,
    subcategory TEXT NOT NULL DEFAULT '',
    item_id INTEGER,
    impact TEXT NOT NULL,
    urgency TEXT NOT NULL,
    priority INTEGER NOT NULL,
    -- The matrix and version the priority came from, and why it was overridden if it was.
    matrix TEXT NOT NULL,
    matrix_version INTEGER NOT NULL,
    priority_reason TEXT NOT NULL DEFAULT '',
    -- new, in-progress, on-hold, resolved, closed, cancelled
    state TEXT NOT NULL,
    hold_reason TEXT,
    assignment_group TEXT NOT NULL DEFAULT '',
    assignee TEXT,
    resolution_code TEXT NOT NULL DEFAULT '',
    resolution_notes TEXT NOT NULL DEFAULT '',
    opened_at_ms INTEGER NOT NULL,
    resolved_at_ms INTEGER,
    updated_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX incidents_open ON incidents (state, priority);

CREATE TABLE incident_journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    -- opened, state, assigned, work-note, comment
    kind TEXT NOT NULL,
    -- For opened and state entries: the state entered and why it waits.
    state TEXT,
    hold_reason TEXT,
    text TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incident_journal_incident ON incident_journal (incident_id, at_ms);
