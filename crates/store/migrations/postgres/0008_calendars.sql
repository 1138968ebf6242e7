-- Working-time calendars the SLA clocks use: each weekday's windows in local time and the
-- holidays, as JSON. The one named "office" is what P3 and P4 run on (in the time zone of
-- the incident's site; its own when there is none). Every version is kept in the audit log.
-- Kept in step with ../sqlite/0008_calendars.sql.

CREATE TABLE business_calendars (
    name TEXT PRIMARY KEY,
    time_zone TEXT NOT NULL,
    -- Monday first: [[start_minute, end_minute], …] per day.
    week TEXT NOT NULL,
    -- ["2027-03-26", …]
    holidays TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
