-- Events are listed newest first by id, filtered by item or kind; nothing reads them by the
-- time received. The received-time index went (every syslog message paid for it), and the item
-- and kind indexes are ordered by id (SQLite appends the rowid to every index key).
-- Kept in step with ../postgres/0027_event_indexes.sql.
DROP INDEX events_received;
DROP INDEX events_item;
DROP INDEX events_kind;
CREATE INDEX events_item ON events (item_id);
CREATE INDEX events_kind ON events (kind);
