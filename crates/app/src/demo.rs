//! The demo estate: a water-treatment plant and a datacentre with the devices such teams run,
//! and one account per role, so a newcomer sees a living system on first start.

use crate::audit::event;
use crate::secret::hash_password;
use crate::{Actor, App, Result};
use model::Role;
use serde_json::json;
use store::{NewItem, NewSite};

/// The password of every demo account (never of `admin`). Printed on the login page in demo mode.
pub const DEMO_PASSWORD: &str = "watchkeeper-demo";

const DAY_MS: i64 = 86_400_000;

/// (username, display name, role, site scope, expires in days)
type DemoUser = (&'static str, &'static str, Role, &'static [&'static str], Option<i64>);

const DEMO_USERS: &[DemoUser] = &[
    ("viewer", "Vera Viewer (management)", Role::Viewer, &[], None),
    ("operator", "Omar Operator (L1 shift)", Role::Operator, &[], None),
    ("engineer", "Erin Engineer (L3 network)", Role::Engineer, &[], None),
    ("change-manager", "Chris Change (CAB chair)", Role::ChangeManager, &[], None),
    ("auditor", "Ada Auditor (compliance)", Role::Auditor, &[], None),
    ("ops-lead", "Lee Lead (operations lead)", Role::Admin, &[], None),
    ("vendor-siemens", "Siemens field service (plant only)", Role::Engineer, &["plant-north"], Some(30)),
];

const SITES: &[NewSite<'static>] = &[
    NewSite {
        slug: "plant-north",
        name: "Northfield Water Treatment Plant",
        kind: "plant",
        zone: "OT",
        purdue_level: Some(2),
        criticality: "critical",
        time_zone: "Europe/London",
    },
    NewSite {
        slug: "dc-east",
        name: "Eastgate Datacentre",
        kind: "datacentre",
        zone: "IT",
        purdue_level: None,
        criticality: "high",
        time_zone: "Europe/London",
    },
];

/// (name, class, site, vendor, model, os, mgmt address, criticality, support group)
type ItemSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const ITEMS: &[ItemSpec] = &[
    (
        "pn-core-sw1",
        "switch",
        "plant-north",
        "Cisco",
        "IE-9320",
        "IOS-XE 17.12.4",
        "10.20.0.2",
        "critical",
        "L3 Network",
    ),
    (
        "pn-core-sw2",
        "switch",
        "plant-north",
        "Cisco",
        "IE-9320",
        "IOS-XE 17.12.4",
        "10.20.0.3",
        "critical",
        "L3 Network",
    ),
    ("pn-cell-sw1", "switch", "plant-north", "Cisco", "IE-3400", "IOS-XE 17.9.5", "10.20.1.2", "high", "L3 Network"),
    ("pn-cell-sw2", "switch", "plant-north", "Cisco", "IE-3400", "IOS-XE 17.9.5", "10.20.1.3", "high", "L3 Network"),
    (
        "pn-cell-sw3",
        "switch",
        "plant-north",
        "Siemens",
        "SCALANCE XC216",
        "V4.5",
        "10.20.1.4",
        "high",
        "OT Engineering",
    ),
    (
        "pn-fw1",
        "firewall",
        "plant-north",
        "Palo Alto Networks",
        "PA-3410",
        "PAN-OS 11.1.4",
        "10.20.0.10",
        "critical",
        "L3 Security",
    ),
    (
        "pn-fw2",
        "firewall",
        "plant-north",
        "Palo Alto Networks",
        "PA-3410",
        "PAN-OS 11.1.4",
        "10.20.0.11",
        "critical",
        "L3 Security",
    ),
    (
        "pn-wan-rtr1",
        "router",
        "plant-north",
        "Cisco",
        "ISR 4331",
        "IOS-XE 17.9.5",
        "10.20.0.1",
        "critical",
        "L3 Network",
    ),
    (
        "pn-wlc1",
        "wireless-controller",
        "plant-north",
        "Cisco",
        "C9800-L",
        "IOS-XE 17.12.3",
        "10.20.0.20",
        "medium",
        "L2 Network",
    ),
    (
        "pn-plc-filtration",
        "plc",
        "plant-north",
        "Siemens",
        "S7-1500",
        "V3.1",
        "10.20.10.11",
        "critical",
        "OT Engineering",
    ),
    ("pn-plc-dosing", "plc", "plant-north", "Siemens", "S7-1500", "V3.1", "10.20.10.12", "critical", "OT Engineering"),
    (
        "pn-plc-pumps",
        "plc",
        "plant-north",
        "Rockwell",
        "ControlLogix 5580",
        "v35",
        "10.20.10.13",
        "critical",
        "OT Engineering",
    ),
    (
        "pn-scada-01",
        "industrial-pc",
        "plant-north",
        "Siemens",
        "SIMATIC IPC847E",
        "WinCC 8.0",
        "10.20.2.21",
        "critical",
        "OT Engineering",
    ),
    (
        "pn-scada-02",
        "industrial-pc",
        "plant-north",
        "Siemens",
        "SIMATIC IPC847E",
        "WinCC 8.0",
        "10.20.2.22",
        "critical",
        "OT Engineering",
    ),
    (
        "pn-historian",
        "server",
        "plant-north",
        "Dell",
        "PowerEdge R660",
        "Windows Server 2022",
        "10.20.2.30",
        "high",
        "Server Team",
    ),
    (
        "pn-hmi-ops1",
        "industrial-pc",
        "plant-north",
        "Siemens",
        "IPC477E",
        "WinCC RT 8.0",
        "10.20.3.41",
        "high",
        "OT Engineering",
    ),
    ("pn-ups-1", "power", "plant-north", "Eaton", "93PM 50kW", "FW 3.2", "10.20.0.50", "high", "Facilities"),
    (
        "pn-vtc-control",
        "vtc-endpoint",
        "plant-north",
        "Cisco",
        "Room Kit Pro",
        "RoomOS 11.14",
        "10.20.4.10",
        "low",
        "Voice & VTC",
    ),
    (
        "dc-core-sw1",
        "switch",
        "dc-east",
        "Cisco",
        "Nexus 93180YC-FX3",
        "NX-OS 10.4(3)",
        "10.10.0.2",
        "critical",
        "L3 Network",
    ),
    (
        "dc-core-sw2",
        "switch",
        "dc-east",
        "Cisco",
        "Nexus 93180YC-FX3",
        "NX-OS 10.4(3)",
        "10.10.0.3",
        "critical",
        "L3 Network",
    ),
    ("dc-edge-rtr1", "router", "dc-east", "Juniper", "MX204", "Junos 23.4R2", "10.10.0.1", "critical", "L3 Network"),
    ("dc-edge-rtr2", "router", "dc-east", "Juniper", "MX204", "Junos 23.4R2", "10.10.0.4", "critical", "L3 Network"),
    (
        "dc-fw1",
        "firewall",
        "dc-east",
        "Cisco",
        "Firepower 2130 (ASA)",
        "ASA 9.20(2)",
        "10.10.0.10",
        "critical",
        "L3 Security",
    ),
    (
        "dc-fw2",
        "firewall",
        "dc-east",
        "Cisco",
        "Firepower 2130 (ASA)",
        "ASA 9.20(2)",
        "10.10.0.11",
        "critical",
        "L3 Security",
    ),
    ("dc-srx-dmz", "firewall", "dc-east", "Juniper", "SRX4200", "Junos 23.4R2", "10.10.0.12", "high", "L3 Security"),
    ("dc-lb1", "load-balancer", "dc-east", "F5", "BIG-IP i5800", "TMOS 17.1.1", "10.10.0.20", "high", "L3 Network"),
    (
        "dc-vpn1",
        "vpn-concentrator",
        "dc-east",
        "Palo Alto Networks",
        "PA-1410",
        "PAN-OS 11.1.4",
        "10.10.0.30",
        "high",
        "L3 Security",
    ),
    ("dc-esx-01", "hypervisor", "dc-east", "Dell", "PowerEdge R760", "ESXi 8.0U3", "10.10.5.11", "high", "Server Team"),
    ("dc-esx-02", "hypervisor", "dc-east", "Dell", "PowerEdge R760", "ESXi 8.0U3", "10.10.5.12", "high", "Server Team"),
    ("dc-esx-03", "hypervisor", "dc-east", "Dell", "PowerEdge R760", "ESXi 8.0U3", "10.10.5.13", "high", "Server Team"),
    (
        "dc-vcenter",
        "server",
        "dc-east",
        "VMware",
        "vCenter Server Appliance",
        "8.0U3",
        "10.10.5.10",
        "high",
        "Server Team",
    ),
    ("dc-san-a", "storage", "dc-east", "NetApp", "AFF A250", "ONTAP 9.14.1", "10.10.6.10", "critical", "Storage Team"),
    (
        "dc-backup-01",
        "backup-system",
        "dc-east",
        "Veeam",
        "Backup & Replication",
        "12.2",
        "10.10.6.20",
        "high",
        "Storage Team",
    ),
    ("dc-syslog-01", "server", "dc-east", "Dell", "PowerEdge R660", "Debian 12", "10.10.7.10", "medium", "Server Team"),
    (
        "dc-ad-01",
        "server",
        "dc-east",
        "Microsoft",
        "Virtual machine",
        "Windows Server 2022",
        "10.10.7.20",
        "critical",
        "Server Team",
    ),
    (
        "dc-crypto-01",
        "crypto-device",
        "dc-east",
        "Thales",
        "Luna Network HSM 7",
        "7.8.4",
        "10.10.8.10",
        "critical",
        "L3 Security",
    ),
];

impl App {
    /// Seeds the demo estate once, on a database without sites. Returns whether it seeded.
    pub async fn seed_demo(&self) -> Result<bool> {
        if !self.store.site_slugs().await?.is_empty() {
            return Ok(false);
        }
        let actor = Actor::system();
        let now = self.now_ms();
        let hash = hash_password(DEMO_PASSWORD).await?;
        let mut tx = self.store.begin().await?;
        for s in SITES {
            tx.insert_site(s, now).await?;
        }
        for &(name, class, site, vendor, model, os_version, mgmt_address, criticality, support_group) in ITEMS {
            let serial =
                format!("DEMO{:08X}", name.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))));
            let item = NewItem {
                name,
                class,
                site,
                vendor,
                model,
                os_version,
                serial: &serial,
                mgmt_address,
                criticality,
                support_group,
            };
            tx.insert_item(&item, now).await?;
        }
        for &(username, display, role, sites, expires_days) in DEMO_USERS {
            if self.store.user_by_name(username).await?.is_some() {
                continue;
            }
            let expires = expires_days.map(|d| now + d * DAY_MS);
            let id = tx.insert_user(username, display, role, &hash, expires, now).await?;
            let sites: Vec<String> = sites.iter().map(|s| (*s).to_owned()).collect();
            tx.set_user_sites(id, &sites).await?;
        }
        let after = json!({
            "sites": SITES.len(),
            "items": ITEMS.len(),
            "users": DEMO_USERS.iter().map(|u| u.0).collect::<Vec<_>>(),
        });
        tx.append_audit(event(&actor, now, "demo.seed", "estate", "demo", None, Some(after.to_string()))).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// The demo accounts, for the login page.
pub fn demo_accounts() -> impl Iterator<Item = (&'static str, Role)> {
    DEMO_USERS.iter().map(|u| (u.0, u.2))
}
