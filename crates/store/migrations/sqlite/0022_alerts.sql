-- Alerts as Alertmanager's API v2 receives them, one row per label set (its fingerprint,
-- FNV-1a-64 stored as the signed 64-bit integer with the same bits), and silences.
-- Kept in step with ../postgres/0022_alerts.sql.

CREATE TABLE alerts (
    fingerprint INTEGER PRIMARY KEY,
    -- JSON objects, name to value.
    labels TEXT NOT NULL,
    annotations TEXT NOT NULL,
    generator_url TEXT NOT NULL,
    starts_at_ms BIGINT NOT NULL,
    ends_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    -- The sender gave no end: it is the resolve timeout.
    timeout BOOLEAN NOT NULL
);
CREATE INDEX alerts_ends ON alerts (ends_at_ms);

CREATE TABLE silences (
    id TEXT PRIMARY KEY,
    -- JSON array of {name, value, isRegex, isEqual}, as Alertmanager writes matchers.
    matchers TEXT NOT NULL,
    starts_at_ms BIGINT NOT NULL,
    ends_at_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    comment TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX silences_ends ON silences (ends_at_ms);
