//! The CMDB's vocabulary: the typed relationships between configuration items and which of
//! them carry failure from one item to another.

use std::fmt;
use std::str::FromStr;

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
    fn relation_names_round_trip_and_unknown_ones_say_what_is_allowed() {
        for k in RelationKind::ALL {
            assert_eq!(k.as_str().parse::<RelationKind>(), Ok(k));
        }
        let e = "uses".parse::<RelationKind>().unwrap_err();
        assert!(e.to_string().contains("`uses`") && e.to_string().contains("protected-by"));
    }
}
