-- The incident each event fed, kept on the event: an alarm feeds one incident per episode, and
-- its incident_id moves on to the next episode's, so the alarm alone cannot say which events
-- an earlier incident was made of. Set when the alarm is routed (and for every later event of
-- the episode as it is correlated). Events already stored take the incident of their alarm's current episode, once routed.
-- Kept in step with ../sqlite/0032_event_incidents.sql.

ALTER TABLE events ADD COLUMN incident_id BIGINT;

UPDATE events SET incident_id = (SELECT a.incident_id FROM alarms a WHERE a.id = events.alarm_id)
WHERE alarm_id IS NOT NULL AND EXISTS (SELECT 1 FROM alarms a WHERE a.id = events.alarm_id AND a.routed
    AND a.incident_id IS NOT NULL AND events.received_at_ms >= a.opened_at_ms);

CREATE INDEX events_incident ON events (incident_id, id) WHERE incident_id IS NOT NULL;
