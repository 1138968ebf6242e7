-- Active checks: definitions (a probe, its timing, and which items it applies to: by name, by
-- class, by site, by tag), the state of each check on each item (Nagios' soft/hard state with
-- its last output), and the samples its performance data gives (time series).
-- Kept in step with ../sqlite/0025_checks.sql.

CREATE TABLE checks (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- JSON: model::check::CheckSpec.
    spec TEXT NOT NULL,
    -- JSON array of item ids it applies to, besides the selectors below.
    item_ids TEXT NOT NULL,
    -- The class (and every class below it) it applies to, the site, the tag.
    class TEXT NOT NULL,
    site TEXT NOT NULL,
    tag TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE check_states (
    check_id BIGINT NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    item_id BIGINT NOT NULL REFERENCES config_items(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    hard BOOLEAN NOT NULL,
    attempt BIGINT NOT NULL,
    hard_status TEXT NOT NULL,
    output TEXT NOT NULL,
    -- JSON array of {label, value, unit, warn, crit, min, max}.
    perfdata TEXT NOT NULL,
    duration_us BIGINT NOT NULL,
    last_run_ms BIGINT NOT NULL,
    last_change_ms BIGINT NOT NULL,
    PRIMARY KEY (check_id, item_id)
);

-- A series is `check/item/label`; one value per instant.
CREATE TABLE samples (
    series TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (series, at_ms)
);
CREATE INDEX samples_at ON samples (at_ms);
