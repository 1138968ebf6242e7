-- Notification channels (e-mail addresses or a chat webhook), the notifications queued for
-- them with every delivery attempt and its result, escalation rules, and which rule fired
-- for which incident on which occasion (so each fires once).
-- Kept in step with ../postgres/0012_notifications.sql.

CREATE TABLE notification_channels (
    name TEXT PRIMARY KEY,
    -- email, teams, mattermost, slack
    kind TEXT NOT NULL,
    -- Addresses, or the webhook's URL (its path is a secret: shown as scheme and host only).
    target TEXT NOT NULL,
    -- Deliveries per hour at most; more wait for the next hour, none is dropped.
    rate_per_hour INTEGER NOT NULL,
    enabled BOOLEAN NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    -- What it is about (INC0000042) and why it was sent (the rule, or what happened).
    subject TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- The same key within the dedupe window is recorded as suppressed, not sent again.
    dedupe_key TEXT NOT NULL,
    -- JSON: the notice as every channel renders it.
    notice TEXT NOT NULL,
    -- pending, sent, failed, suppressed
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER,
    last_result TEXT NOT NULL DEFAULT '',
    created_at_ms INTEGER NOT NULL,
    sent_at_ms INTEGER
);
CREATE INDEX notifications_due ON notifications (state, next_attempt_at_ms);
CREATE INDEX notifications_dedupe ON notifications (dedupe_key, created_at_ms);
CREATE INDEX notifications_subject ON notifications (subject, id);
CREATE INDEX notifications_sent ON notifications (channel, sent_at_ms);

CREATE TABLE notification_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    at_ms INTEGER NOT NULL,
    ok BOOLEAN NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX notification_attempts_notification ON notification_attempts (notification_id);

CREATE TABLE escalation_rules (
    name TEXT PRIMARY KEY,
    -- JSON: model::escalation::EscalationRule
    rule TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE incident_escalations (
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    -- The occasion: `opened`, `response:75@<started>`, `idle@<last update>`…
    occasion TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (incident_id, rule, occasion)
);
