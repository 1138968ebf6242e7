-- Major incidents: who commands and holds the other roles, the cadence stakeholders were
-- promised and when the next update is due (and whether the commander was reminded of it),
-- the channels each update goes to; the stakeholder updates themselves; and the
-- post-incident review's written part (the rest is assembled from the record).
-- Kept in step with ../postgres/0015_major.sql.

CREATE TABLE major_incidents (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
    declared_at_ms INTEGER NOT NULL,
    declared_by TEXT NOT NULL,
    commander TEXT NOT NULL,
    -- JSON: [["communications", "operator"], …]
    roles TEXT NOT NULL,
    update_every_minutes INTEGER NOT NULL,
    -- JSON: notification channels told of each update.
    channels TEXT NOT NULL,
    next_update_due_ms INTEGER NOT NULL,
    -- The due instant the commander was last reminded of (once per due update).
    reminded_for_ms INTEGER,
    ended_at_ms INTEGER
);
CREATE INDEX major_incidents_due ON major_incidents (ended_at_ms, next_update_due_ms);

CREATE TABLE stakeholder_updates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    at_ms INTEGER NOT NULL,
    author TEXT NOT NULL,
    -- investigating, identified, monitoring, resolved
    status TEXT NOT NULL,
    impact TEXT NOT NULL,
    actions TEXT NOT NULL
);
CREATE INDEX stakeholder_updates_incident ON stakeholder_updates (incident_id, at_ms);

CREATE TABLE incident_reviews (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
    summary TEXT NOT NULL DEFAULT '',
    root_cause TEXT NOT NULL DEFAULT '',
    went_well TEXT NOT NULL DEFAULT '',
    to_improve TEXT NOT NULL DEFAULT '',
    follow_ups TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
