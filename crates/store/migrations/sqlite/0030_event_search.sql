-- Word search over events' text, so that finding a message among months of syslog is an index
-- lookup, not a scan. Whole words, case-insensitive (FTS5's unicode61 here, a 'simple'
-- tsvector on PostgreSQL); punctuation splits words, so `10.1.1.1` and `Gi0/1` are phrases.
-- Contentless: the text stays in `events` only, and a deleted event's words go with it.
-- Kept in step with ../postgres/0030_event_search.sql.

CREATE VIRTUAL TABLE events_fts USING fts5(
    words, content = '', contentless_delete = 1, tokenize = 'unicode61'
);
CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_fts (rowid, words) VALUES (new.id, new.text);
END;
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
    DELETE FROM events_fts WHERE rowid = old.id;
END;
CREATE TRIGGER events_fts_update AFTER UPDATE OF text ON events BEGIN
    DELETE FROM events_fts WHERE rowid = old.id;
    INSERT INTO events_fts (rowid, words) VALUES (new.id, new.text);
END;
INSERT INTO events_fts (rowid, words) SELECT id, text FROM events;
