-- Device configurations per configuration item, every distinct version kept (as RANCID and
-- Oxidized keep them), secrets removed before anything is stored. Versions stay after the
-- item is deleted, as item_versions do.
-- Kept in step with ../sqlite/0006_device_configs.sql.

CREATE TABLE device_configs (
    item_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    -- The dialect the analyses read it as: ios, nxos, asa, junos, panos, f5, iptables…
    vendor TEXT NOT NULL,
    -- The name of the file it came in as.
    file_name TEXT NOT NULL,
    -- SHA-256 of the significant lines as received (secrets included, timestamps not): the
    -- same configuration collected again makes no new version, a changed secret does.
    fingerprint TEXT NOT NULL,
    -- The configuration with its secrets removed.
    content TEXT NOT NULL,
    lines BIGINT NOT NULL,
    secrets_removed BIGINT NOT NULL,
    -- upload, api, watch, cli
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (item_id, version)
);
CREATE INDEX device_configs_at ON device_configs (at_ms);
