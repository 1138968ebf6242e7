-- SLA policies (targets per priority on a calendar; services name theirs), the services an
-- incident affects (computed from the CMDB when it is opened), and each incident's SLA
-- clocks as last computed: the definition attached, where the clock stands, the next mark
-- it will cross and the warnings and breach already recorded. The clocks are a maintained
-- record for queues, sweeps and reports; the journal stays what they are computed from.
-- Kept in step with ../postgres/0011_slas.sql.

CREATE TABLE sla_policies (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    -- [{"priority": 1, "response_ms": …, "resolution_ms": …, "calendar": "24x7"}, …]
    targets TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE incident_services (
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL,
    service TEXT NOT NULL,
    -- down or degraded, when the incident was opened
    status TEXT NOT NULL,
    PRIMARY KEY (incident_id, service_id)
);
CREATE INDEX incident_services_service ON incident_services (service_id);

CREATE TABLE incident_slas (
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    -- response or resolution
    kind TEXT NOT NULL,
    policy TEXT NOT NULL,
    target_ms INTEGER NOT NULL,
    calendar TEXT NOT NULL,
    -- running, paused, achieved, breached, cancelled, not-started
    stage TEXT NOT NULL,
    started_at_ms INTEGER,
    elapsed_ms INTEGER NOT NULL,
    deadline_ms INTEGER,
    -- When the clock reaches the share of its target that counts as breaching soon.
    at_risk_at_ms INTEGER,
    -- The next warning percentage (or 100, the breach) and when it comes, while running.
    next_mark INTEGER,
    next_due_ms INTEGER,
    -- The highest mark already recorded on the journal for this attachment.
    recorded INTEGER NOT NULL DEFAULT 0,
    breached_at_ms INTEGER,
    ended_at_ms INTEGER,
    computed_at_ms INTEGER NOT NULL,
    PRIMARY KEY (incident_id, kind)
);
CREATE INDEX incident_slas_due ON incident_slas (next_due_ms);
CREATE INDEX incident_slas_risk ON incident_slas (stage, at_risk_at_ms);
