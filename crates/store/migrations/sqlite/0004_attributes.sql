-- Custom attribute definitions per class (NetBox's custom fields): items keep their
-- attributes in config_items.attrs; a definition types and may require one of them.
-- Kept in step with ../postgres/0004_attributes.sql.

CREATE TABLE attribute_definitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- A class or family; the attribute applies below it too.
    class TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    required INTEGER NOT NULL DEFAULT 0,
    -- JSON array of allowed values, for kind = 'choice'.
    choices TEXT NOT NULL DEFAULT '[]',
    description TEXT NOT NULL DEFAULT '',
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    UNIQUE (class, name)
);
