-- The CMDB proper: items of every class (services included), their lifecycle and support,
-- typed relationships, redundancy groups, and each item's version history.
-- Kept in step with ../postgres/0002_cmdb.sql.

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- vendor (OEM), carrier, integrator, supplier
    kind TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    portal TEXT NOT NULL DEFAULT '',
    escalation TEXT NOT NULL DEFAULT '',
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE contracts (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    reference TEXT NOT NULL,
    -- e.g. 24x7x4, NBD, 8x5
    support_level TEXT NOT NULL DEFAULT '',
    starts_on TEXT,
    ends_on TEXT,
    contact TEXT NOT NULL DEFAULT '',
    escalation TEXT NOT NULL DEFAULT '',
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    UNIQUE (organisation_id, reference)
);

-- Items gain a parent (an interface's device), may live outside any site (services,
-- applications, cloud resources), and carry lifecycle dates, support and custom attributes.
CREATE TABLE config_items_v2 (
    -- AUTOINCREMENT: an id is never reused, so item_versions of a deleted item stay its own.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    class TEXT NOT NULL,
    site_id INTEGER REFERENCES sites(id),
    parent_id INTEGER REFERENCES config_items_v2(id) ON DELETE CASCADE,
    vendor TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    os_version TEXT NOT NULL DEFAULT '',
    serial TEXT NOT NULL DEFAULT '',
    asset_tag TEXT NOT NULL DEFAULT '',
    mgmt_address TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'operational',
    criticality TEXT NOT NULL DEFAULT 'medium',
    support_group TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    sla_policy TEXT NOT NULL DEFAULT '',
    contract_id INTEGER REFERENCES contracts(id) ON DELETE SET NULL,
    purchased_on TEXT,
    warranty_ends_on TEXT,
    end_of_sale_on TEXT,
    end_of_support_on TEXT,
    end_of_life_on TEXT,
    attrs TEXT NOT NULL DEFAULT '{}',
    -- Which import wrote it (netbox, yaml…); empty for items entered by hand.
    source TEXT NOT NULL DEFAULT '',
    -- Lower-case name, addresses, model and serial, for one-column substring search.
    search TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
INSERT INTO config_items_v2 (id, name, class, site_id, vendor, model, os_version, serial, mgmt_address, status,
    criticality, support_group, search, created_at_ms, updated_at_ms)
SELECT id, name, class, site_id, vendor, model, os_version, serial, mgmt_address, status, criticality,
    support_group, LOWER(name || char(10) || mgmt_address || char(10) || model || char(10) || serial),
    created_at_ms, updated_at_ms FROM config_items;
DROP TABLE config_items;
ALTER TABLE config_items_v2 RENAME TO config_items;

-- The natural key: a name is unique among its siblings (same site and parent).
CREATE UNIQUE INDEX config_items_key ON config_items (COALESCE(site_id, 0), COALESCE(parent_id, 0), name);
CREATE INDEX config_items_class ON config_items (class);
CREATE INDEX config_items_parent ON config_items (parent_id);

CREATE TABLE redundancy_groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- hsrp, vrrp, glbp, cluster, virtual-chassis, dual-link, other
    kind TEXT NOT NULL,
    site_id INTEGER REFERENCES sites(id),
    description TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE redundancy_members (
    group_id INTEGER NOT NULL REFERENCES redundancy_groups(id) ON DELETE CASCADE,
    item_id INTEGER NOT NULL REFERENCES config_items(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, item_id)
);
CREATE INDEX redundancy_members_item ON redundancy_members (item_id);

-- from_id --kind--> one item or one redundancy group.
CREATE TABLE relationships (
    id INTEGER PRIMARY KEY,
    from_id INTEGER NOT NULL REFERENCES config_items(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    to_id INTEGER REFERENCES config_items(id) ON DELETE CASCADE,
    to_group_id INTEGER REFERENCES redundancy_groups(id) ON DELETE CASCADE,
    attrs TEXT NOT NULL DEFAULT '{}',
    source TEXT NOT NULL DEFAULT '',
    created_at_ms INTEGER NOT NULL,
    CHECK ((to_id IS NULL) <> (to_group_id IS NULL))
);
CREATE UNIQUE INDEX relationships_key ON relationships (from_id, kind, COALESCE(to_id, 0), COALESCE(to_group_id, 0));
CREATE INDEX relationships_to ON relationships (to_id);
CREATE INDEX relationships_to_group ON relationships (to_group_id);

-- Every version of every item, kept after the item is deleted, for "as of" views.
CREATE TABLE item_versions (
    item_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    -- create, update, delete
    change TEXT NOT NULL,
    -- The item as JSON after the change (before it, for a delete).
    snapshot TEXT NOT NULL,
    PRIMARY KEY (item_id, version)
);
CREATE INDEX item_versions_at ON item_versions (at_ms);

-- Bumped by every CMDB write in the same transaction, so a server holding the impact graph
-- in memory notices changes made by another process (a CLI import) and reloads it.
CREATE TABLE cmdb_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO cmdb_state (id, generation) VALUES (1, 1);
