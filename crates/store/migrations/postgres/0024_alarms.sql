-- Alarms: one row per condition that events raise and clear (an interface down, an alert
-- firing), with its flap history, what explains it (a failed item it sits behind), the
-- silence muting it and the incident it fed. Events remember the alarm they touched; those
-- still to be correlated are `pending`.
-- Kept in step with ../sqlite/0024_alarms.sql.

CREATE TABLE alarms (
    id BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    item_id BIGINT REFERENCES config_items(id) ON DELETE SET NULL,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    object TEXT NOT NULL,
    summary TEXT NOT NULL,
    severity BIGINT NOT NULL,
    -- JSON object: what silences match (item, site, kind, object, severity, alert labels).
    labels TEXT NOT NULL,
    open BOOLEAN NOT NULL,
    -- Raised by events that never say "recovered": cleared by time.
    stateless BOOLEAN NOT NULL,
    -- Says the item as a whole has failed.
    fails_item BOOLEAN NOT NULL,
    opened_at_ms BIGINT NOT NULL,
    last_at_ms BIGINT NOT NULL,
    cleared_at_ms BIGINT,
    -- Events in this episode.
    count BIGINT NOT NULL,
    -- Last 21 states, oldest first, 1 = problem (Nagios flap detection).
    history TEXT NOT NULL,
    flapping BOOLEAN NOT NULL,
    -- The failed item this one sits behind (a symptom, not a cause).
    suppressed_by BIGINT,
    -- The silence muting it when last raised, if any.
    silenced_by TEXT NOT NULL,
    incident_id BIGINT REFERENCES incidents(id) ON DELETE SET NULL,
    -- Sent to an incident this episode (joined or opened one). An open alarm not yet routed is
    -- silenced, suppressed, flapping or new: it is looked at again on every pass.
    routed BOOLEAN NOT NULL,
    acked_by TEXT,
    acked_at_ms BIGINT
);
CREATE INDEX alarms_open ON alarms (open, last_at_ms);
CREATE INDEX alarms_incident ON alarms (incident_id);
CREATE INDEX alarms_item ON alarms (item_id);
-- The items that have failed as a whole: what suppression asks for on every batch.
CREATE INDEX alarms_unrouted ON alarms (id) WHERE open AND NOT routed;
CREATE INDEX alarms_failing ON alarms (item_id) WHERE open AND fails_item;

ALTER TABLE events ADD COLUMN alarm_id BIGINT;
ALTER TABLE events ADD COLUMN pending BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX events_pending ON events (id) WHERE pending;
CREATE INDEX events_alarm ON events (alarm_id);
