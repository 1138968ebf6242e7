//! Watchkeeper's use-cases, shared by the web server and the CLI.
//!
//! Every state change goes through here: a use-case checks permission and input (rules from
//! `model`), opens one store transaction, writes the change together with its audit record,
//! and commits. Callers never touch a transaction, so no caller can forget the audit record.

pub mod alerts;
pub mod attachments;
pub mod attributes;
mod audit;
mod auth;
mod batch;
pub use batch::Committed;
pub mod checks;
pub mod cmdb;
pub mod configs;
pub mod correlation;
mod demo;
pub mod desk_import;
mod error;
pub mod escalation;
pub mod event_actions;
pub mod events;
pub mod filters;
mod import;
pub mod incidents;
pub mod kpis;
pub mod maintenance;
pub mod major;
pub mod notifications;
pub mod oncall;
pub mod policy;
pub mod problems;
pub mod resolution;
mod risk;
mod secret;
pub mod services;
pub mod slas;
pub mod suppliers;
mod tokens;
pub mod trace;
mod users;

pub use audit::{AuditFilter, VerifyReport};
pub use auth::{LoginOutcome, NewSession, Principal};
pub use demo::{DEMO_PASSWORD, demo_accounts};
pub use error::AppError;
pub use import::{CountsReport, ImportFile, ImportReport};
pub use risk::RiskReport;
pub use secret::{hash_password, random_token, verify_password};
pub use tokens::{CreatedToken, TokenInfo};
pub use users::{NewUser, UserInfo, parse_user_query};

use model::Role;
use std::sync::Arc;
use store::Store;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Timeouts and limits an operator may tune.
#[derive(Debug, Clone)]
pub struct Settings {
    /// A session ends after this long without a request.
    pub session_idle_ms: i64,
    /// A session ends this long after login, however active.
    pub session_absolute_ms: i64,
    /// The window over which failed logins are counted.
    pub throttle_window_ms: i64,
    /// Failed logins per account within the window before the account is throttled.
    pub max_failures_per_account: i64,
    /// Failed logins per source address within the window before the source is throttled.
    pub max_failures_per_source: i64,
    /// A directory a collector writes device configurations into (`configs::ConfigWatch`).
    pub config_watch_dir: Option<std::path::PathBuf>,
    /// How often the directory is read.
    pub config_watch_interval_s: u64,
    /// The console's address as people reach it (`https://wk.plant.example`), for links in
    /// notifications.
    pub public_url: Option<String>,
    /// The SMTP relay e-mail notifications go through.
    pub smtp: Option<notify::Smtp>,
    /// Networks whose alert senders need no token (`/api/v2` only).
    pub intake_trusted: Vec<ipnet::IpNet>,
    /// How long an alert that says no end stays firing (Alertmanager's resolve_timeout).
    pub resolve_timeout_ms: i64,
    /// Where syslog is received, if anywhere.
    pub syslog_udp: Option<std::net::SocketAddr>,
    pub syslog_tcp: Option<std::net::SocketAddr>,
    /// RFC 5425, with the server's certificate.
    pub syslog_tls: Option<std::net::SocketAddr>,
    /// TCP and TLS syslog connections open at once; more are closed as they come.
    pub syslog_max_connections: usize,
    /// How long a TCP or TLS syslog connection may say nothing before it is closed; zero (the
    /// default) keeps it open. Off by default because a plain-TCP sender may write its next
    /// message into the closed connection and lose it; keepalive probes reap dead peers.
    pub syslog_idle_timeout_ms: i64,
    /// Where SNMP notifications (traps and v2c informs) are received, if anywhere.
    pub snmp_traps: Option<std::net::SocketAddr>,
    /// Communities accepted from v1 and v2c senders (none: v1 and v2c are refused).
    pub snmp_communities: Vec<String>,
    /// SNMPv3 users accepted.
    pub snmp_users: Vec<intake::snmp::usm::User>,
    /// What trap OIDs mean: the operator's rules, then the standard ones.
    pub snmp_rules: Vec<intake::snmp::trap::TrapRule>,
    /// The credentials SNMP checks poll with, by the name a check gives.
    pub snmp_credentials: std::collections::HashMap<String, probe::Credential>,
    /// How long after an alarm last joined an incident a new alarm on a shared service still
    /// joins it instead of opening another.
    pub correlation_window_ms: i64,
    /// How long an alarm saying its item is down waits for a failure upstream to explain it
    /// before it opens an incident of its own (a child's check may fail before its parent's).
    pub settle_ms: i64,
    /// Whether an incident that alarms opened, and nobody has touched, resolves itself when
    /// every one of its alarms has cleared (otherwise it is annotated).
    pub auto_resolve: bool,
    /// How long events are kept (those not yet correlated stay until they are).
    pub event_retention_ms: i64,
    /// When an alarm starts and stops flapping (percent state change, Nagios' 20 and 5).
    pub flap: model::alarm::FlapThresholds,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_idle_ms: 30 * 60_000,
            session_absolute_ms: 12 * 3_600_000,
            throttle_window_ms: 15 * 60_000,
            max_failures_per_account: 5,
            max_failures_per_source: 20,
            config_watch_dir: None,
            config_watch_interval_s: 60,
            public_url: None,
            smtp: None,
            intake_trusted: Vec::new(),
            resolve_timeout_ms: model::alert::RESOLVE_TIMEOUT_MS,
            syslog_udp: None,
            syslog_tcp: None,
            syslog_tls: None,
            syslog_max_connections: 1_000,
            syslog_idle_timeout_ms: 0,
            snmp_traps: None,
            snmp_communities: Vec::new(),
            snmp_users: Vec::new(),
            snmp_rules: intake::snmp::trap::standard_rules(),
            snmp_credentials: std::collections::HashMap::new(),
            correlation_window_ms: 15 * 60_000,
            settle_ms: 15_000,
            auto_resolve: true,
            event_retention_ms: 90 * 86_400_000,
            flap: model::alarm::FlapThresholds::default(),
        }
    }
}

/// The clock, injectable so tests can step over timeouts.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    })
}

/// The application: a store, settings and a clock. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Store,
    /// Shared, not copied: an App is cloned for every request, and the settings hold the
    /// trap OID map and other lists.
    settings: Arc<Settings>,
    clock: Clock,
    graph: Arc<cmdb::GraphCache>,
    /// The alert and event intake's writers, started by their first batch.
    alert_writer: batch::GroupCommit<model::alert::Alert>,
    alert_book: Arc<alerts::AlertBook>,
    event_writer: batch::GroupCommit<store::EventBatch>,
    /// Which configuration item an event's sender is, by address and by name.
    senders: Arc<events::SenderCache>,
    /// Wakes the correlation task when events arrive.
    correlation: Arc<tokio::sync::Notify>,
    /// Up to when correlation has looked for alerts that ended unannounced (0: not yet).
    expired_to: Arc<std::sync::atomic::AtomicI64>,
    /// Bumped when checks are defined or deleted, so the schedule re-plans.
    checks_changed: Arc<std::sync::atomic::AtomicU64>,
    /// Performance data items plugins wrote that did not read (for `/metrics`).
    perfdata_unread: Arc<std::sync::atomic::AtomicU64>,
}

impl App {
    pub fn new(store: Store, settings: Settings) -> App {
        App {
            store,
            settings: Arc::new(settings),
            clock: system_clock(),
            graph: Arc::default(),
            alert_writer: batch::GroupCommit::default(),
            alert_book: Arc::default(),
            event_writer: batch::GroupCommit::default(),
            senders: Arc::default(),
            correlation: Arc::default(),
            expired_to: Arc::default(),
            checks_changed: Arc::default(),
            perfdata_unread: Arc::default(),
        }
    }

    pub fn with_clock(mut self, clock: Clock) -> App {
        self.clock = clock;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn now_ms(&self) -> i64 {
        (self.clock)()
    }
}

/// Who is acting and from where, for permission checks and the audit record.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The name recorded in the audit log.
    pub name: String,
    /// Source address, or `local` for the CLI.
    pub source: String,
    pub role: Role,
    /// Token scopes narrowing the role; `None` for a console session or the CLI.
    pub scopes: Option<Vec<model::Scope>>,
    /// Sites the actor is limited to; empty means all.
    pub sites: Vec<String>,
    pub user_id: Option<i64>,
}

impl Actor {
    /// The operating-system user running a CLI command on the server's host; such a person
    /// can read the database file anyway, so the CLI acts with administrator rights.
    pub fn cli() -> Actor {
        let os_user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
        Actor {
            name: format!("cli:{os_user}"),
            source: "local".into(),
            role: Role::Admin,
            scopes: None,
            sites: Vec::new(),
            user_id: None,
        }
    }

    /// The server itself (bootstrap, demo seeding, housekeeping).
    pub fn system() -> Actor {
        Actor { name: "system".into(), ..Actor::cli() }
    }

    pub fn can(&self, perm: model::Perm) -> bool {
        model::access::allowed(self.role, self.scopes.as_deref(), perm)
    }

    pub fn require(&self, perm: model::Perm) -> Result<()> {
        if self.can(perm) { Ok(()) } else { Err(AppError::Forbidden(perm)) }
    }

    /// Whether what is at `site` is the actor's to see: everything for an account limited to
    /// no site; for one limited to sites, what is at one of them (not what is at none).
    pub fn sees_site(&self, site: Option<&str>) -> bool {
        self.sites.is_empty() || site.is_some_and(|s| self.sites.iter().any(|x| x == s))
    }
}
