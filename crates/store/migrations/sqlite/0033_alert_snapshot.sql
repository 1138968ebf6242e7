-- The alert store is its log: each group of accepted alerts is a row of `alert_entries` (a
-- binary record, `model::alert::record`) until a compaction writes the whole alert book as a
-- few chunks of `alert_snapshot` and deletes the entries it covers. A start reads the
-- snapshot, then the entries after it. A chunk is `packed` (a binary record), or `body` (JSON:
-- an array of `[fingerprint (signed 64-bit), labels, annotations, generator URL, start ms,
-- end ms, last update ms, ended by timeout]`) as this migration writes the former per-alert
-- `alerts` table. `alert_folds` says up to which entry the changes between firing and
-- resolved were made into events. Rows left in `alert_log` (JSON entries of the former
-- intake) are read after the snapshot and go at the first compaction.
-- Kept in step with ../postgres/0033_alert_snapshot.sql.

CREATE TABLE alert_snapshot (
    id BIGINT PRIMARY KEY,
    body TEXT,
    packed BLOB
);

-- AUTOINCREMENT: a compaction empties the table, and an id used again would read as folded.
CREATE TABLE alert_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry BLOB NOT NULL
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
