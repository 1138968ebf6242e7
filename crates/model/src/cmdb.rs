//! The CMDB's vocabulary and rules: the class hierarchy of configuration items, what a valid
//! item is, the typed relationships between items and which of them carry failure.

use crate::validation::{FieldError, Invalid};
use std::fmt;
use std::str::FromStr;

/// A class of configuration item, placed in the hierarchy by its parent. Abstract classes
/// group others for queries ("every network device") and are not given to items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    pub slug: &'static str,
    pub parent: Option<&'static str>,
    pub label: &'static str,
    pub is_abstract: bool,
}

const fn class(slug: &'static str, parent: Option<&'static str>, label: &'static str) -> Class {
    Class { slug, parent, label, is_abstract: false }
}

const fn family(slug: &'static str, parent: Option<&'static str>, label: &'static str) -> Class {
    Class { slug, parent, label, is_abstract: true }
}

/// Every class, parents before children.
pub const CLASSES: &[Class] = &[
    family("location", None, "Location"),
    class("room", Some("location"), "Room"),
    class("rack", Some("location"), "Rack"),
    family("network-device", None, "Network device"),
    class("router", Some("network-device"), "Router"),
    class("switch", Some("network-device"), "Switch"),
    class("firewall", Some("network-device"), "Firewall"),
    class("load-balancer", Some("network-device"), "Load balancer"),
    class("wireless-controller", Some("network-device"), "Wireless controller"),
    class("access-point", Some("network-device"), "Wireless access point"),
    class("vpn-concentrator", Some("network-device"), "VPN concentrator"),
    family("network", None, "Network"),
    class("interface", Some("network"), "Interface"),
    class("vlan", Some("network"), "VLAN"),
    class("subnet", Some("network"), "Subnet"),
    class("ip-address", Some("network"), "IP address"),
    family("link", Some("network"), "Link"),
    class("cable", Some("link"), "Cable"),
    class("wan-circuit", Some("link"), "WAN circuit"),
    class("server", None, "Server"),
    class("physical-server", Some("server"), "Physical server"),
    class("virtual-machine", Some("server"), "Virtual machine"),
    class("industrial-pc", Some("server"), "Industrial PC"),
    class("hypervisor", Some("server"), "Hypervisor"),
    class("cluster", Some("server"), "Cluster"),
    class("storage", None, "Storage"),
    class("backup-system", None, "Backup system"),
    family("ot-device", None, "OT device"),
    class("plc", Some("ot-device"), "PLC"),
    class("rtu", Some("ot-device"), "RTU"),
    class("hmi", Some("ot-device"), "HMI"),
    class("historian", Some("ot-device"), "Historian"),
    class("crypto-device", None, "Crypto / COMSEC equipment"),
    family("endpoint", None, "Endpoint"),
    class("vtc-endpoint", Some("endpoint"), "Secure VTC endpoint"),
    class("voice-endpoint", Some("endpoint"), "Secure voice endpoint"),
    class("power", None, "Power (UPS, PDU)"),
    class("cloud-resource", None, "Cloud resource"),
    class("device", None, "Other device"),
    class("application", None, "Application"),
    class("database", Some("application"), "Database"),
    family("service", None, "Service"),
    class("business-service", Some("service"), "Business service"),
    class("technical-service", Some("service"), "Technical service"),
];

/// The class named `slug`.
pub fn class_of(slug: &str) -> Option<&'static Class> {
    CLASSES.iter().find(|c| c.slug == slug)
}

/// Whether `slug` is `ancestor` or below it in the hierarchy.
pub fn is_a(slug: &str, ancestor: &str) -> bool {
    let mut at = class_of(slug);
    while let Some(c) = at {
        if c.slug == ancestor {
            return true;
        }
        at = c.parent.and_then(class_of);
    }
    false
}

/// `ancestor` and every class below it, for "class=network-device" filters.
pub fn descendants(ancestor: &str) -> Vec<&'static str> {
    CLASSES.iter().filter(|c| is_a(c.slug, ancestor)).map(|c| c.slug).collect()
}

/// An item's lifecycle status, NetBox's and ITIL's vocabulary merged.
pub const STATUSES: &[&str] =
    &["planned", "staged", "operational", "maintenance", "offline", "failed", "decommissioning", "retired"];

/// How the members of a redundancy group share the load; all mean "down only when every
/// member is down".
pub const GROUP_KINDS: &[&str] = &["hsrp", "vrrp", "glbp", "cluster", "virtual-chassis", "dual-link", "other"];

/// Business criticality, highest first.
pub const CRITICALITIES: &[&str] = &["critical", "high", "medium", "low"];

/// What an item is, as entered; ids of its site, parent and contract are resolved by the
/// caller. Dates are calendar dates, `YYYY-MM-DD`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemFields {
    pub name: String,
    pub class: String,
    pub vendor: String,
    pub model: String,
    pub os_version: String,
    pub serial: String,
    pub asset_tag: String,
    pub mgmt_address: String,
    pub status: String,
    pub criticality: String,
    pub support_group: String,
    pub owner: String,
    pub description: String,
    pub sla_policy: String,
    pub purchased_on: Option<String>,
    pub warranty_ends_on: Option<String>,
    pub end_of_sale_on: Option<String>,
    pub end_of_support_on: Option<String>,
    pub end_of_life_on: Option<String>,
    /// Custom attributes: any JSON object, so a class can grow fields without a migration.
    pub attrs: serde_json::Map<String, serde_json::Value>,
}

impl ItemFields {
    /// Checks every field and names each one that is wrong.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.len() > 200 || name != self.name || name.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "name",
                "give a name of 1 to 200 characters without leading or trailing spaces or control characters",
            ));
        }
        match class_of(&self.class) {
            None => errors.push(FieldError::new(
                "class",
                format!("unknown class `{}`; see the class list at /api/v1/classes", self.class),
            )),
            Some(c) if c.is_abstract => errors.push(FieldError::new(
                "class",
                format!("`{}` groups other classes; choose one of: {}", c.slug, descendants(c.slug)[1..].join(", ")),
            )),
            Some(_) => {}
        }
        if !STATUSES.contains(&self.status.as_str()) {
            errors.push(FieldError::new("status", format!("use one of {}", STATUSES.join(", "))));
        }
        if !CRITICALITIES.contains(&self.criticality.as_str()) {
            errors.push(FieldError::new("criticality", format!("use one of {}", CRITICALITIES.join(", "))));
        }
        let dates = [
            ("purchased_on", &self.purchased_on),
            ("warranty_ends_on", &self.warranty_ends_on),
            ("end_of_sale_on", &self.end_of_sale_on),
            ("end_of_support_on", &self.end_of_support_on),
            ("end_of_life_on", &self.end_of_life_on),
        ];
        for (field, value) in dates {
            if let Some(v) = value
                && !is_calendar_date(v)
            {
                errors.push(FieldError::new(field, format!("`{v}` is not a date; write YYYY-MM-DD")));
            }
        }
        Invalid::check(errors)
    }
}

/// Where a lifecycle date stands: already passed, or due on or before `horizon`.
/// Dates are `YYYY-MM-DD`, which compare correctly as text.
pub fn lifecycle_due(date: &str, today: &str, horizon: &str) -> Option<LifecycleDue> {
    if !is_calendar_date(date) {
        return None;
    }
    if date < today {
        Some(LifecycleDue::Passed)
    } else if date <= horizon {
        Some(LifecycleDue::Soon)
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleDue {
    Passed,
    Soon,
}

/// Classes whose items need an owner to be accountable for them: not the parts of other
/// items (interfaces, addresses) nor the network fabric's logical objects.
pub fn needs_owner(class: &str) -> bool {
    !(is_a(class, "network") || is_a(class, "location"))
}

/// `YYYY-MM-DD` naming a real day of the Gregorian calendar.
pub fn is_calendar_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num =
        |r: std::ops::Range<usize>| s.get(r).filter(|t| t.bytes().all(|c| c.is_ascii_digit()))?.parse::<u32>().ok();
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else { return false };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// A typed, directed relationship `from → to` between two configuration items, read as a
/// sentence: "app-01 *runs-on* esx-03", "plant-scada *depends-on* pn-core".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelationKind {
    /// Software on its host: an application on a server, a VM on a hypervisor.
    RunsOn,
    /// Anything `from` needs to work: a service on its application, a site on its WAN link.
    DependsOn,
    /// Physical or logical adjacency (a cable, a circuit end). Symmetric and not a need: a
    /// switch is not down because a neighbour is. What needs a path says so with depends-on.
    ConnectedTo,
    /// Traffic to `from` passes through `to` (a firewall, an IPS): `to` failing cuts `from` off.
    ProtectedBy,
    /// `to` holds `from`'s backups. A backup system failing is a risk, not an outage.
    BackedUpBy,
    /// `to` manages `from` (a controller, an element manager). Losing it loses management only.
    ManagedBy,
}

impl RelationKind {
    pub const ALL: [RelationKind; 6] = [
        RelationKind::RunsOn,
        RelationKind::DependsOn,
        RelationKind::ConnectedTo,
        RelationKind::ProtectedBy,
        RelationKind::BackedUpBy,
        RelationKind::ManagedBy,
    ];

    /// Whether `to` failing takes `from` down with it.
    pub fn carries_failure(self) -> bool {
        matches!(self, RelationKind::RunsOn | RelationKind::DependsOn | RelationKind::ProtectedBy)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::RunsOn => "runs-on",
            RelationKind::DependsOn => "depends-on",
            RelationKind::ConnectedTo => "connected-to",
            RelationKind::ProtectedBy => "protected-by",
            RelationKind::BackedUpBy => "backed-up-by",
            RelationKind::ManagedBy => "managed-by",
        }
    }
}

impl fmt::Display for RelationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not one of the relationship kinds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown relationship `{0}`; use one of runs-on, depends-on, connected-to, protected-by, backed-up-by, managed-by"
)]
pub struct UnknownRelation(pub String);

impl FromStr for RelationKind {
    type Err = UnknownRelation;

    fn from_str(s: &str) -> Result<Self, UnknownRelation> {
        RelationKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownRelation(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hierarchy_is_well_formed() {
        for (i, c) in CLASSES.iter().enumerate() {
            assert_eq!(CLASSES.iter().filter(|d| d.slug == c.slug).count(), 1, "{} is listed once", c.slug);
            if let Some(p) = c.parent {
                let pi = CLASSES.iter().position(|d| d.slug == p).expect("parent exists");
                assert!(pi < i, "{} comes after its parent", c.slug);
            }
        }
        assert!(is_a("firewall", "network-device") && is_a("wan-circuit", "network") && !is_a("server", "network"));
        assert_eq!(descendants("service"), ["service", "business-service", "technical-service"]);
    }

    fn valid() -> ItemFields {
        ItemFields {
            name: "pn-fw1".into(),
            class: "firewall".into(),
            status: "operational".into(),
            criticality: "critical".into(),
            ..ItemFields::default()
        }
    }

    #[test]
    fn items_are_checked_field_by_field() {
        assert_eq!(valid().validate(), Ok(()));
        let bad = ItemFields {
            name: " pn-fw1".into(),
            class: "network-device".into(),
            status: "up".into(),
            criticality: "urgent".into(),
            end_of_support_on: Some("2027-02-30".into()),
            ..valid()
        };
        let fields: Vec<String> = bad.validate().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "class", "status", "criticality", "end_of_support_on"]);
        let unknown = ItemFields { class: "toaster".into(), ..valid() }.validate().unwrap_err();
        assert!(unknown.0[0].message.contains("`toaster`"));
    }

    #[test]
    fn lifecycle_dates_are_passed_soon_or_later() {
        assert_eq!(lifecycle_due("2026-01-14", "2026-11-23", "2027-11-23"), Some(LifecycleDue::Passed));
        assert_eq!(lifecycle_due("2026-11-23", "2026-11-23", "2027-11-23"), Some(LifecycleDue::Soon));
        assert_eq!(lifecycle_due("2027-11-23", "2026-11-23", "2027-11-23"), Some(LifecycleDue::Soon));
        assert_eq!(lifecycle_due("2027-11-24", "2026-11-23", "2027-11-23"), None);
        assert_eq!(lifecycle_due("soon", "2026-11-23", "2027-11-23"), None);
        assert!(needs_owner("firewall") && needs_owner("business-service") && !needs_owner("interface"));
    }

    #[test]
    fn calendar_dates() {
        for good in ["2024-02-29", "2027-12-31", "2000-02-29"] {
            assert!(is_calendar_date(good), "{good}");
        }
        for bad in
            ["2023-02-29", "1900-02-29", "2027-13-01", "2027-1-01", "27-01-01", "2027-01-00", "２０２７-01-01", ""]
        {
            assert!(!is_calendar_date(bad), "{bad}");
        }
    }

    #[test]
    fn relation_names_round_trip_and_unknown_ones_say_what_is_allowed() {
        for k in RelationKind::ALL {
            assert_eq!(k.as_str().parse::<RelationKind>(), Ok(k));
        }
        let e = "uses".parse::<RelationKind>().unwrap_err();
        assert!(e.to_string().contains("`uses`") && e.to_string().contains("protected-by"));
    }
}
