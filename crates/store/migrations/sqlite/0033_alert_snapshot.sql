-- The alert store is its log: each group of accepted alerts stays a row of `alert_log` until
-- a compaction writes the whole alert book as a few chunks of `alert_snapshot` and deletes
-- the log it covers. A start reads the snapshot, then the log after it. Each chunk is a JSON
-- array of alerts, each `[fingerprint (signed 64-bit), labels, annotations, generator URL,
-- start ms, end ms, last update ms, ended by timeout]`. `alert_folds` says up to which log
-- entry the changes between firing and resolved were made into events, so that a start
-- makes the others' events once. The per-alert `alerts` table becomes the first snapshot.
-- Kept in step with ../postgres/0033_alert_snapshot.sql.

CREATE TABLE alert_snapshot (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL
);

CREATE TABLE alert_folds (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    events_through BIGINT NOT NULL
);

INSERT INTO alert_folds (id, events_through) VALUES (1, 0);

INSERT INTO alert_snapshot (id, body)
SELECT 1, json_group_array(json_array(fingerprint, json(labels), json(annotations), generator_url,
    starts_at_ms, ends_at_ms, updated_at_ms, json(CASE WHEN timeout THEN 'true' ELSE 'false' END)))
FROM alerts HAVING COUNT(*) > 0;

DROP TABLE alerts;
