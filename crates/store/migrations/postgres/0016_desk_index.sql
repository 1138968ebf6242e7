-- What keeps the desk fast at a million incidents: the open queue's own index, full-text
-- search over incidents (a tsvector here, FTS5 on SQLite), and the daily roll-ups the
-- dashboard's KPIs read instead of scanning incidents (by priority, and openings by service,
-- item and category). Roll-ups for incidents from before this version are rebuilt from them
-- (openings and resolutions).
-- Kept in step with ../sqlite/0016_desk_index.sql.

CREATE INDEX incidents_queue ON incidents (priority, opened_at_ms) WHERE state IN ('new', 'in-progress', 'on-hold');
CREATE INDEX incidents_assignee ON incidents (assignee, state);
CREATE INDEX incidents_group ON incidents (assignment_group, state);

-- 'simple': no stemming, as FTS5's unicode61 — host and interface names stay whole.
ALTER TABLE incidents ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', number || ' ' || short_description || ' ' || description || ' ' || resolution_notes)
) STORED;
CREATE INDEX incidents_search ON incidents USING GIN (search);

CREATE TABLE incident_rollups (
    -- UTC, YYYY-MM-DD: the day of the event counted.
    day TEXT NOT NULL,
    priority BIGINT NOT NULL,
    opened BIGINT NOT NULL DEFAULT 0,
    responded BIGINT NOT NULL DEFAULT 0,
    response_ms BIGINT NOT NULL DEFAULT 0,
    resolved BIGINT NOT NULL DEFAULT 0,
    resolution_ms BIGINT NOT NULL DEFAULT 0,
    first_contact BIGINT NOT NULL DEFAULT 0,
    reopened BIGINT NOT NULL DEFAULT 0,
    sla_met BIGINT NOT NULL DEFAULT 0,
    sla_breached BIGINT NOT NULL DEFAULT 0,
    satisfaction_sum BIGINT NOT NULL DEFAULT 0,
    satisfaction_count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, priority)
);

CREATE TABLE incident_counts (
    day TEXT NOT NULL,
    -- service, item or category
    dimension TEXT NOT NULL,
    key TEXT NOT NULL,
    opened BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, dimension, key)
);

INSERT INTO incident_rollups (day, priority, opened)
SELECT to_char(to_timestamp(opened_at_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), priority, COUNT(*)
FROM incidents GROUP BY 1, 2;
INSERT INTO incident_rollups (day, priority, resolved, resolution_ms)
SELECT to_char(to_timestamp(resolved_at_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), priority, COUNT(*),
       SUM(resolved_at_ms - opened_at_ms)
FROM incidents WHERE resolved_at_ms IS NOT NULL GROUP BY 1, 2
ON CONFLICT (day, priority) DO UPDATE SET resolved = excluded.resolved, resolution_ms = excluded.resolution_ms;
INSERT INTO incident_counts (day, dimension, key, opened)
SELECT to_char(to_timestamp(opened_at_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'category', category, COUNT(*)
FROM incidents GROUP BY 1, 3;
