-- SLA policies (targets per priority on a calendar; services name theirs), the services an
-- incident affects (computed from the CMDB when it is opened), and each incident's SLA
-- clocks as last computed: the definition attached, where the clock stands, the next mark
-- it will cross and the warnings and breach already recorded. The clocks are a maintained
-- record for queues, sweeps and reports; the journal stays what they are computed from.
-- Kept in step with ../sqlite/0011_slas.sql.

CREATE TABLE sla_policies (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    -- [{"priority": 1, "response_ms": …, "resolution_ms": …, "calendar": "24x7"}, …]
    targets TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE incident_services (
    incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL,
    service TEXT NOT NULL,
    -- down or degraded, when the incident was opened
    status TEXT NOT NULL,
    PRIMARY KEY (incident_id, service_id)
);
CREATE INDEX incident_services_service ON incident_services (service_id);

CREATE TABLE incident_slas (
    incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    -- response or resolution
    kind TEXT NOT NULL,
    policy TEXT NOT NULL,
    target_ms BIGINT NOT NULL,
    calendar TEXT NOT NULL,
    -- running, paused, achieved, breached, cancelled, not-started
    stage TEXT NOT NULL,
    started_at_ms BIGINT,
    elapsed_ms BIGINT NOT NULL,
    deadline_ms BIGINT,
    -- When the clock reaches the share of its target that counts as breaching soon.
    at_risk_at_ms BIGINT,
    -- The next warning percentage (or 100, the breach) and when it comes, while running.
    next_mark BIGINT,
    next_due_ms BIGINT,
    -- The highest mark already recorded on the journal for this attachment.
    recorded BIGINT NOT NULL DEFAULT 0,
    breached_at_ms BIGINT,
    ended_at_ms BIGINT,
    computed_at_ms BIGINT NOT NULL,
    PRIMARY KEY (incident_id, kind)
);
CREATE INDEX incident_slas_due ON incident_slas (next_due_ms);
CREATE INDEX incident_slas_risk ON incident_slas (stage, at_risk_at_ms);
