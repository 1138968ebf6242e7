-- Events as received (syslog messages so far; traps and check results to come), typed by the
-- intake's classifiers and tied to the configuration item that sent them.
-- Kept in step with ../sqlite/0023_events.sql.

CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    received_at_ms BIGINT NOT NULL,
    occurred_at_ms BIGINT,
    source TEXT NOT NULL,
    sender TEXT NOT NULL,
    host TEXT NOT NULL,
    item_id BIGINT REFERENCES config_items(id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    object TEXT NOT NULL,
    up BOOLEAN,
    severity BIGINT NOT NULL,
    mnemonic TEXT NOT NULL,
    text TEXT NOT NULL,
    -- JSON object of what the classifier read, by name.
    fields TEXT NOT NULL
);
CREATE INDEX events_received ON events (received_at_ms);
CREATE INDEX events_item ON events (item_id, received_at_ms);
CREATE INDEX events_kind ON events (kind, received_at_ms);
