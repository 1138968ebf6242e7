-- Maintenance windows: planned work during which alarms on the items covered open no
-- incident. Coverage and schedule are JSON, read whole (model::maintenance).
-- Kept in step with ../postgres/0026_maintenance.sql.

CREATE TABLE maintenance_windows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    coverage TEXT NOT NULL,
    schedule TEXT NOT NULL,
    -- Why: the change it is for (CHG…), the vendor visit.
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
