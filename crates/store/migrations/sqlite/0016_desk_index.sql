-- What keeps the desk fast at a million incidents: the open queue's own index, full-text
-- search over incidents (FTS5 here, tsvector on PostgreSQL), and the daily roll-ups the
-- dashboard's KPIs read instead of scanning incidents (by priority, and openings by service,
-- item and category). Roll-ups for incidents from before this version are rebuilt from them
-- (openings and resolutions).
-- Kept in step with ../postgres/0016_desk_index.sql.

CREATE INDEX incidents_queue ON incidents (priority, opened_at_ms) WHERE state IN ('new', 'in-progress', 'on-hold');
CREATE INDEX incidents_assignee ON incidents (assignee, state);
CREATE INDEX incidents_group ON incidents (assignment_group, state);

CREATE VIRTUAL TABLE incidents_fts USING fts5(
    number, short_description, description, resolution_notes,
    content = 'incidents', content_rowid = 'id', tokenize = 'unicode61'
);
CREATE TRIGGER incidents_fts_insert AFTER INSERT ON incidents BEGIN
    INSERT INTO incidents_fts (rowid, number, short_description, description, resolution_notes)
    VALUES (new.id, new.number, new.short_description, new.description, new.resolution_notes);
END;
CREATE TRIGGER incidents_fts_delete AFTER DELETE ON incidents BEGIN
    INSERT INTO incidents_fts (incidents_fts, rowid, number, short_description, description, resolution_notes)
    VALUES ('delete', old.id, old.number, old.short_description, old.description, old.resolution_notes);
END;
CREATE TRIGGER incidents_fts_update AFTER UPDATE OF number, short_description, description, resolution_notes ON incidents BEGIN
    INSERT INTO incidents_fts (incidents_fts, rowid, number, short_description, description, resolution_notes)
    VALUES ('delete', old.id, old.number, old.short_description, old.description, old.resolution_notes);
    INSERT INTO incidents_fts (rowid, number, short_description, description, resolution_notes)
    VALUES (new.id, new.number, new.short_description, new.description, new.resolution_notes);
END;
INSERT INTO incidents_fts (incidents_fts) VALUES ('rebuild');

CREATE TABLE incident_rollups (
    -- UTC, YYYY-MM-DD: the day of the event counted.
    day TEXT NOT NULL,
    priority INTEGER NOT NULL,
    opened INTEGER NOT NULL DEFAULT 0,
    responded INTEGER NOT NULL DEFAULT 0,
    response_ms INTEGER NOT NULL DEFAULT 0,
    resolved INTEGER NOT NULL DEFAULT 0,
    resolution_ms INTEGER NOT NULL DEFAULT 0,
    first_contact INTEGER NOT NULL DEFAULT 0,
    reopened INTEGER NOT NULL DEFAULT 0,
    sla_met INTEGER NOT NULL DEFAULT 0,
    sla_breached INTEGER NOT NULL DEFAULT 0,
    satisfaction_sum INTEGER NOT NULL DEFAULT 0,
    satisfaction_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, priority)
);

CREATE TABLE incident_counts (
    day TEXT NOT NULL,
    -- service, item or category
    dimension TEXT NOT NULL,
    key TEXT NOT NULL,
    opened INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, dimension, key)
);

INSERT INTO incident_rollups (day, priority, opened)
SELECT strftime('%Y-%m-%d', opened_at_ms / 1000, 'unixepoch'), priority, COUNT(*) FROM incidents GROUP BY 1, 2;
INSERT INTO incident_rollups (day, priority, resolved, resolution_ms)
SELECT strftime('%Y-%m-%d', resolved_at_ms / 1000, 'unixepoch'), priority, COUNT(*), SUM(resolved_at_ms - opened_at_ms)
FROM incidents WHERE resolved_at_ms IS NOT NULL GROUP BY 1, 2
ON CONFLICT (day, priority) DO UPDATE SET resolved = excluded.resolved, resolution_ms = excluded.resolution_ms;
INSERT INTO incident_counts (day, dimension, key, opened)
SELECT strftime('%Y-%m-%d', opened_at_ms / 1000, 'unixepoch'), 'category', category, COUNT(*) FROM incidents GROUP BY 1, 3;
