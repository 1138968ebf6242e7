-- The alert intake's log: each group of accepted alerts is one row (their states after the
-- group, and which of them started or stopped firing), committed before any sender is
-- answered; correlation folds rows into `alerts` and `events` in large transactions and
-- deletes them. Kept in step with ../sqlite/0028_alert_log.sql.
CREATE TABLE alert_log (
    id BIGSERIAL PRIMARY KEY,
    body TEXT NOT NULL
);
