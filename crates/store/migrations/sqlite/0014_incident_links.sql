-- Parent and child incidents (one level: a major incident gathers the reports of one
-- outage), the requester's verification of a resolution with a satisfaction score, when an
-- incident closed, and files attached to incidents (kind checked from the bytes).
-- Kept in step with ../postgres/0014_incident_links.sql.

ALTER TABLE incidents ADD COLUMN parent_id INTEGER REFERENCES incidents(id);
ALTER TABLE incidents ADD COLUMN satisfaction INTEGER;
ALTER TABLE incidents ADD COLUMN verified_by TEXT;
ALTER TABLE incidents ADD COLUMN closed_at_ms INTEGER;
CREATE INDEX incidents_parent ON incidents (parent_id);
CREATE INDEX incidents_resolved ON incidents (state, resolved_at_ms);

CREATE TABLE incident_attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    -- As read from the bytes (model::attachment), never as the uploader claimed.
    media_type TEXT NOT NULL,
    label TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at_ms INTEGER NOT NULL
);
CREATE INDEX incident_attachments_incident ON incident_attachments (incident_id);
