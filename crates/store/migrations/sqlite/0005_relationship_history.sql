-- Every relationship added or removed, with who and when and both ends by name (kept after
-- the items are gone), so an item's history shows what it stood on, and "as of" views can
-- rebuild its relationships at a past date.
-- Kept in step with ../postgres/0005_relationship_history.sql.

CREATE TABLE relationship_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    relationship_id INTEGER NOT NULL,
    from_id INTEGER NOT NULL,
    from_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    to_id INTEGER,
    to_name TEXT,
    to_group_id INTEGER,
    to_group_name TEXT,
    -- add or remove
    change TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL
);
CREATE INDEX relationship_history_from ON relationship_history (from_id, at_ms);
CREATE INDEX relationship_history_to ON relationship_history (to_id, at_ms);
CREATE INDEX relationship_history_rel ON relationship_history (relationship_id);
