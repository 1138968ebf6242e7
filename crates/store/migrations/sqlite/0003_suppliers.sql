-- Vendors carry an escalation ladder (JSON array of contacts, ordered by level), and the
-- team's firmware baselines per vendor and model family.
-- Kept in step with ../postgres/0003_suppliers.sql.

ALTER TABLE organisations ADD COLUMN contacts TEXT NOT NULL DEFAULT '[]';

CREATE TABLE firmware_baselines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Matched against config_items.vendor and the start of config_items.model, ignoring case.
    vendor TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    recommended TEXT NOT NULL,
    minimum TEXT,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX firmware_baselines_key ON firmware_baselines (lower(vendor), lower(model));
CREATE INDEX config_items_contract ON config_items (contract_id);
