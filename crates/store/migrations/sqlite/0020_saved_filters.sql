-- Saved views of the incident queue: a name for a queue's parameters, an account's own or
-- shared with everyone who may read incidents.
-- Kept in step with ../postgres/0020_saved_filters.sql.

CREATE TABLE saved_filters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    shared BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (user_id, name)
);
CREATE INDEX saved_filters_shared ON saved_filters (shared);
