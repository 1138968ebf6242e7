-- Word search over events' text, so that finding a message among months of syslog is an index
-- lookup, not a scan. Whole words, case-insensitive (a 'simple' tsvector here, FTS5's
-- unicode61 on SQLite). Punctuation is made a space before parsing, so words split where
-- FTS5 splits them: PostgreSQL's parser would otherwise keep `10.1.1.1` or `Gi0/1` whole
-- while a search for them is a phrase of their parts.
-- Kept in step with ../sqlite/0030_event_search.sql.

ALTER TABLE events ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', regexp_replace(text, '[^[:alnum:]]+', ' ', 'g'))
) STORED;
CREATE INDEX events_search ON events USING GIN (search);
