-- What a check's next run is judged against (an SNMP poll's counters and sysUpTime, as JSON),
-- kept with its state so that a restart of Watchkeeper loses neither the first poll's rates
-- nor a device's reboot while it was down. NULL for checks that compare nothing.
-- Kept in step with ../sqlite/0031_check_baselines.sql.

ALTER TABLE check_states ADD COLUMN baseline TEXT;
