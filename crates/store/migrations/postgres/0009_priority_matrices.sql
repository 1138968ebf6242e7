-- Every version of the impact × urgency → priority matrix; the highest version is the one in
-- force. Incidents record the name and version their priority came from.
-- Kept in step with ../sqlite/0009_priority_matrices.sql.

CREATE TABLE priority_matrices (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    -- JSON arrays: impact levels, urgency levels, and rows of priorities.
    impacts TEXT NOT NULL,
    urgencies TEXT NOT NULL,
    cells TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
