-- Hourly roll-ups of samples (Zabbix's trends): count, minimum, maximum and sum per series
-- and hour, kept far longer than the raw samples they are computed from, so week-, month-
-- and year-long graphs read a few thousand rows. Kept in step with ../postgres/0029_sample_rollups.sql.
CREATE TABLE sample_rollups (
    series TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    count BIGINT NOT NULL,
    min DOUBLE PRECISION NOT NULL,
    max DOUBLE PRECISION NOT NULL,
    sum DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (series, at_ms)
);
CREATE INDEX sample_rollups_at ON sample_rollups (at_ms);
