//! Who may do what: roles, permissions and API token scopes.
//!
//! The role × permission matrix is data, written once here. The server checks a route's
//! permission against it on every request; a token narrows its user's permissions to its
//! scopes, it never widens them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The roles of an operations centre, from read-only to administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Reads dashboards, the CMDB and tickets; changes nothing.
    Viewer,
    /// L1 operator on shift: works events and incidents.
    Operator,
    /// L2/L3 engineer: everything an operator does, plus the CMDB and policy analysis.
    Engineer,
    /// Runs the change advisory board: approves and schedules changes.
    ChangeManager,
    /// Administers users, tokens and the system.
    Admin,
    /// Reads everything, including the audit log, and changes nothing.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Viewer, Role::Operator, Role::Engineer, Role::ChangeManager, Role::Admin, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Engineer => "engineer",
            Role::ChangeManager => "change-manager",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    /// What people call this role on screen.
    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Operator => "Operator (L1)",
            Role::Engineer => "Engineer (L2/L3)",
            Role::ChangeManager => "Change manager",
            Role::Admin => "Administrator",
            Role::Auditor => "Auditor",
        }
    }

    /// The role's permissions. Exhaustive matches on both sides, so adding a role or a
    /// permission does not compile until someone decides who gets it.
    pub fn grants(self, perm: Perm) -> bool {
        use Perm::*;
        use Role::*;
        match perm {
            ConsoleView | CmdbRead | EventRead | IncidentRead | OwnTokens | OwnViews => true,
            EventWork | EventSend | IncidentWork => matches!(self, Operator | Engineer | ChangeManager | Admin),
            CmdbWrite | PolicyAnalyse => matches!(self, Engineer | Admin),
            // Configurations show how the estate is defended: those who engineer it, review
            // its changes or audit it read them, not every viewer.
            ConfigRead => matches!(self, Engineer | ChangeManager | Admin | Auditor),
            ChangeApprove => matches!(self, ChangeManager | Admin),
            UserAdmin | TokenAdmin | SystemAdmin => matches!(self, Admin),
            AuditRead | MetricsRead => matches!(self, Admin | Auditor),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}`; expected one of: {}", Role::ALL.map(Role::as_str).join(", ")))
    }
}

/// One thing a route or a use-case needs to be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Perm {
    /// See the console: dashboard, navigation, one's own profile.
    ConsoleView,
    /// Read configuration items, sites and services (within the user's sites).
    CmdbRead,
    /// Create and change configuration items.
    CmdbWrite,
    /// Read events and alerts, silences and checks.
    EventRead,
    /// Work events and alarms: acknowledge, silence, open incidents from them, maintenance.
    EventWork,
    /// Send alerts and events, set and expire Alertmanager silences: what Prometheus, amtool
    /// and a forwarding Alertmanager do, and no more.
    EventSend,
    /// Read incidents and problems (within the user's sites).
    IncidentRead,
    /// Create and work incidents and problems.
    IncidentWork,
    /// Read device configurations (secrets removed), their history and their analyses.
    ConfigRead,
    /// Run policy analyses.
    PolicyAnalyse,
    /// Approve changes.
    ChangeApprove,
    /// Create and revoke one's own API tokens.
    OwnTokens,
    /// Save and delete one's own views of the queues (saved filters).
    OwnViews,
    /// Manage user accounts.
    UserAdmin,
    /// Manage every user's API tokens.
    TokenAdmin,
    /// System settings.
    SystemAdmin,
    /// Read and export the audit log.
    AuditRead,
    /// Scrape `/metrics`.
    MetricsRead,
}

impl Perm {
    pub const ALL: [Perm; 18] = [
        Perm::ConsoleView,
        Perm::CmdbRead,
        Perm::CmdbWrite,
        Perm::ConfigRead,
        Perm::EventRead,
        Perm::EventWork,
        Perm::EventSend,
        Perm::IncidentRead,
        Perm::IncidentWork,
        Perm::PolicyAnalyse,
        Perm::ChangeApprove,
        Perm::OwnTokens,
        Perm::OwnViews,
        Perm::UserAdmin,
        Perm::TokenAdmin,
        Perm::SystemAdmin,
        Perm::AuditRead,
        Perm::MetricsRead,
    ];

    /// Whether exercising the permission changes state (a read-only token never grants it).
    pub fn writes(self) -> bool {
        !matches!(
            self,
            Perm::ConsoleView
                | Perm::CmdbRead
                | Perm::ConfigRead
                | Perm::IncidentRead
                | Perm::EventRead
                | Perm::AuditRead
                | Perm::MetricsRead
        )
    }
}

/// What an API token may be used for. A token carries one or more scopes; its effective
/// permissions are its user's permissions that at least one scope admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Read anything the user may read, except the audit log.
    Read,
    /// Change anything the user may change, except administration.
    Write,
    /// User, token and system administration.
    Admin,
    /// Read and export the audit log.
    Audit,
    /// Scrape `/metrics`.
    Metrics,
    /// Push events (Alertmanager, webhooks).
    Intake,
}

impl Scope {
    pub const ALL: [Scope; 6] = [Scope::Read, Scope::Write, Scope::Admin, Scope::Audit, Scope::Metrics, Scope::Intake];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
            Scope::Audit => "audit",
            Scope::Metrics => "metrics",
            Scope::Intake => "intake",
        }
    }

    pub fn admits(self, perm: Perm) -> bool {
        use Perm::*;
        match self {
            Scope::Read => matches!(perm, ConsoleView | CmdbRead | ConfigRead | IncidentRead | EventRead),
            Scope::Write => matches!(
                perm,
                ConsoleView
                    | CmdbRead
                    | CmdbWrite
                    | ConfigRead
                    | IncidentRead
                    | EventRead
                    | EventWork
                    | EventSend
                    | IncidentWork
                    | PolicyAnalyse
                    | ChangeApprove
                    | OwnTokens
                    | OwnViews
            ),
            Scope::Admin => matches!(perm, ConsoleView | UserAdmin | TokenAdmin | OwnTokens | SystemAdmin),
            Scope::Audit => matches!(perm, AuditRead),
            Scope::Metrics => matches!(perm, MetricsRead),
            // What Prometheus, amtool and forwarding Alertmanagers do: send, read, silence —
            // not acknowledge alarms or end maintenance windows.
            Scope::Intake => matches!(perm, EventRead | EventSend),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            format!("unknown scope `{s}`; expected one of: {}", Scope::ALL.map(Scope::as_str).join(", "))
        })
    }
}

/// The permission check, in one place: a role, optionally narrowed by token scopes.
pub fn allowed(role: Role, scopes: Option<&[Scope]>, perm: Perm) -> bool {
    role.grants(perm) && scopes.is_none_or(|s| s.iter().any(|s| s.admits(perm)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auditor_and_viewer_change_nothing_but_their_own_tokens_and_views() {
        for perm in Perm::ALL.into_iter().filter(|p| p.writes() && !matches!(p, Perm::OwnTokens | Perm::OwnViews)) {
            assert!(!Role::Viewer.grants(perm), "viewer granted {perm:?}");
            assert!(!Role::Auditor.grants(perm), "auditor granted {perm:?}");
        }
    }

    #[test]
    fn only_admin_and_auditor_read_the_audit_log() {
        let readers: Vec<Role> = Role::ALL.into_iter().filter(|r| r.grants(Perm::AuditRead)).collect();
        assert_eq!(readers, vec![Role::Admin, Role::Auditor]);
    }

    #[test]
    fn scopes_narrow_never_widen() {
        for role in Role::ALL {
            for perm in Perm::ALL {
                for scope in Scope::ALL {
                    if allowed(role, Some(&[scope]), perm) {
                        assert!(role.grants(perm));
                    }
                }
            }
        }
        assert!(!allowed(Role::Admin, Some(&[Scope::Read]), Perm::UserAdmin));
        assert!(allowed(Role::Admin, Some(&[Scope::Admin]), Perm::UserAdmin));
    }

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        for s in Scope::ALL {
            assert_eq!(s.as_str().parse::<Scope>(), Ok(s));
        }
        assert!("root".parse::<Role>().unwrap_err().contains("expected one of"));
    }
}
