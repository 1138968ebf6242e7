-- Problems (PRB0000001…): the root cause behind incidents, its analysis, and the workaround
-- that makes it a known error; and which incidents it explains.
-- Kept in step with ../postgres/0010_problems.sql.

CREATE TABLE problems (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL UNIQUE,
    short_description TEXT NOT NULL,
    -- new, assess, root-cause-analysis, fix-in-progress, resolved, closed
    state TEXT NOT NULL,
    symptom TEXT NOT NULL DEFAULT '',
    root_cause TEXT NOT NULL DEFAULT '',
    contributing_factors TEXT NOT NULL DEFAULT '',
    -- JSON array of the whys, first to last.
    five_whys TEXT NOT NULL DEFAULT '[]',
    workaround TEXT NOT NULL DEFAULT '',
    fix TEXT NOT NULL DEFAULT '',
    close_code TEXT NOT NULL DEFAULT '',
    opened_by TEXT NOT NULL,
    opened_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE problem_incidents (
    problem_id INTEGER NOT NULL REFERENCES problems(id) ON DELETE CASCADE,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    PRIMARY KEY (problem_id, incident_id)
);
CREATE INDEX problem_incidents_incident ON problem_incidents (incident_id);
