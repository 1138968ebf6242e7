//! Where settings come from, in order of precedence: command-line flags, then
//! `WATCHKEEPER_*` environment variables, then the TOML config file, then defaults.
//!
//! clap resolves flags and environment into one value; the file fills only what both left
//! unset. Unknown keys in the file are errors with line and column, so a typo never silently
//! leaves a default in place.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use store::Location;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "data";
pub const DEFAULT_CONFIG: &str = "watchkeeper.toml";

/// The config file's shape.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub admin_password_file: Option<PathBuf>,
    pub demo: Option<bool>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub log_format: Option<String>,
    #[serde(default)]
    pub session: SessionConfig,
    #[serde(default)]
    pub login: LoginConfig,
    #[serde(default)]
    pub configs: ConfigsConfig,
    /// The console's address as people reach it, for links in notifications.
    pub public_url: Option<String>,
    /// The SMTP relay e-mail notifications go through.
    pub smtp: Option<SmtpConfig>,
    #[serde(default)]
    pub intake: IntakeConfig,
}

/// Event intake (Alertmanager's API v2 at `/api/v2`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeConfig {
    /// Networks whose senders need no token (a Prometheus beside Watchkeeper):
    /// `["127.0.0.1/32", "10.20.0.0/24"]`. Everyone else sends a token with the intake scope.
    #[serde(default)]
    pub trusted_networks: Vec<String>,
    /// Seconds an alert that says no end stays firing (Alertmanager's resolve_timeout; default 300).
    pub resolve_timeout_seconds: Option<u32>,
    /// Where to receive syslog: `"0.0.0.0:514"` (UDP) and `"0.0.0.0:601"` (TCP, RFC 6587 framing).
    pub syslog_udp: Option<String>,
    pub syslog_tcp: Option<String>,
    /// Syslog over TLS (RFC 5425, `"0.0.0.0:6514"`), with the server's tls_cert and tls_key.
    pub syslog_tls: Option<String>,
    /// TCP and TLS syslog connections open at once (default 1000); more are closed as they come.
    pub syslog_max_connections: Option<u32>,
    /// Seconds a TCP or TLS syslog connection may stay silent before it is closed (default 0:
    /// never; a sender that vanished is noticed by keepalive probes anyway).
    pub syslog_idle_timeout_seconds: Option<u32>,
    /// Where to receive SNMP traps and informs: `"0.0.0.0:162"`.
    pub snmp_traps: Option<String>,
    /// A file of the communities accepted from SNMPv1 and v2c senders, one per line (a
    /// community is a password; without this file v1 and v2c notifications are refused).
    pub snmp_community_file: Option<PathBuf>,
    /// SNMPv3 users allowed to send notifications.
    #[serde(default)]
    pub snmp_users: Vec<SnmpUserConfig>,
    /// What trap OIDs mean, beyond the standard ones (linkDown/linkUp, coldStart/warmStart,
    /// authenticationFailure, BGP, OSPF, VRRP, Cisco configuration).
    #[serde(default)]
    pub snmp_traps_map: Vec<TrapRuleConfig>,
    /// Credentials SNMP checks poll with (`"credential": "name"` in a check): a v2c community
    /// from a file, or an SNMPv3 user.
    #[serde(default)]
    pub snmp_credentials: Vec<SnmpCredentialConfig>,
    /// Minutes after an alarm last joined an incident during which alarms on a shared service
    /// join it too (default 15).
    pub correlation_window_minutes: Option<u32>,
    /// Seconds an alarm saying its item is down waits for a failure upstream to explain it
    /// before opening an incident of its own (default 15).
    pub settle_seconds: Option<u32>,
    /// Whether an untouched incident opened by alarms resolves itself when they all clear
    /// (default true; false only annotates it).
    pub auto_resolve: Option<bool>,
    /// Days events are kept (default 90): syslog at thousands a second fills a disk otherwise.
    pub event_retention_days: Option<u32>,
    /// Percent state change at which an alarm starts flapping (Nagios' high_flap_threshold,
    /// default 20) and below which it stops (low_flap_threshold, default 5).
    pub flap_high_percent: Option<f64>,
    pub flap_low_percent: Option<f64>,
}

/// An SNMPv3 user, as net-snmp's `createUser` names it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpUserConfig {
    pub name: String,
    /// MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512; with `auth_password_file`.
    pub auth: Option<String>,
    pub auth_password_file: Option<PathBuf>,
    /// DES or AES; with `privacy_password_file` (needs `auth`).
    pub privacy: Option<String>,
    pub privacy_password_file: Option<PathBuf>,
}

/// A credential for polling: `community_file` (v2c), or `user` with `auth`/`privacy` (v3).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpCredentialConfig {
    pub name: String,
    pub community_file: Option<PathBuf>,
    pub user: Option<String>,
    pub auth: Option<String>,
    pub auth_password_file: Option<PathBuf>,
    pub privacy: Option<String>,
    pub privacy_password_file: Option<PathBuf>,
}

/// One entry of the trap OID map.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapRuleConfig {
    /// The trap's OID, or a prefix of it: `1.3.6.1.4.1.9.9.187.0.1`.
    pub oid: String,
    /// A name for people: `cbgpFsmStateChange`.
    pub name: String,
    /// The event kind: `interface`, `bgp.session`, `power`…
    pub kind: String,
    /// emergency … debug (default notice).
    pub severity: Option<String>,
    /// Whether it says something went down (false) or came back (true).
    pub up: Option<bool>,
    /// Variables whose value names the object (an interface, a neighbour), first found wins.
    #[serde(default)]
    pub object_from: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// Default 25 (587 with starttls, 465 with tls).
    pub port: Option<u16>,
    /// none, starttls or tls.
    #[serde(default)]
    pub security: notify::SmtpSecurity,
    /// The sender: `Watchkeeper <watchkeeper@plant.example>`.
    pub from: String,
    pub username: Option<String>,
    /// A file holding the password (kept out of the configuration file).
    pub password_file: Option<PathBuf>,
}

/// The configuration archive.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigsConfig {
    /// A directory a collector (Oxidized, RANCID, a backup job) writes one file per device
    /// into, named after the item or its management address.
    pub watch_dir: Option<PathBuf>,
    /// Seconds between reads of the directory (default 60).
    pub watch_interval_seconds: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// Minutes without a request before a console session ends (default 30).
    pub idle_minutes: Option<u32>,
    /// Hours after sign-in before a session ends however active (default 12).
    pub absolute_hours: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginConfig {
    pub window_minutes: Option<u32>,
    pub max_failures_per_account: Option<u32>,
    pub max_failures_per_source: Option<u32>,
}

/// Reads the config file: the one named (which must exist), or `watchkeeper.toml` in the
/// working directory if there is one.
pub fn load_file(explicit: Option<&Path>) -> Result<(FileConfig, Option<PathBuf>)> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None if Path::new(DEFAULT_CONFIG).is_file() => PathBuf::from(DEFAULT_CONFIG),
        None => return Ok((FileConfig::default(), None)),
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read config file {}", path.display()))?;
    let cfg = parse_file(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((cfg, Some(path)))
}

pub fn parse_file(text: &str) -> Result<FileConfig, String> {
    toml::from_str(text).map_err(|e| {
        let line_col = e.span().map(|s| {
            let before = &text[..s.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {col}: ")
        });
        format!("{}{}", line_col.unwrap_or_default(), e.message())
    })
}

/// Chooses the database from flag/env values and the file.
pub fn location(data_dir: Option<PathBuf>, database_url: Option<String>, file: &FileConfig) -> Result<Location> {
    let url = database_url.or_else(|| file.database_url.clone());
    let dir = data_dir.or_else(|| file.data_dir.clone());
    match (url, dir) {
        (Some(_), Some(_)) => bail!("give either a data directory or a database URL, not both"),
        (Some(url), None) => {
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                Ok(Location::Postgres(url))
            } else if let Some(path) = url.strip_prefix("sqlite://") {
                Ok(Location::DataDir(PathBuf::from(path)))
            } else {
                bail!(
                    "the database URL `{}` is neither postgres:// nor sqlite://DIR; for the embedded database use --data-dir",
                    store::redact_url(&url)
                )
            }
        }
        (None, dir) => Ok(Location::DataDir(dir.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)))),
    }
}

pub fn listen(flag: Option<String>, file: &FileConfig) -> Result<SocketAddr> {
    let raw = flag.or_else(|| file.listen.clone()).unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    raw.parse().with_context(|| format!("`{raw}` is not a listen address such as 127.0.0.1:8080 or [::]:8443"))
}

pub fn settings(file: &FileConfig) -> Result<app::Settings> {
    let d = app::Settings::default();
    let smtp = match &file.smtp {
        None => None,
        Some(c) => {
            let password = match &c.password_file {
                Some(p) => Some(
                    std::fs::read_to_string(p)
                        .with_context(|| format!("cannot read the SMTP password file {}", p.display()))?
                        .trim_end()
                        .to_owned(),
                ),
                None => None,
            };
            let port = c.port.unwrap_or(match c.security {
                notify::SmtpSecurity::None => 25,
                notify::SmtpSecurity::StartTls => 587,
                notify::SmtpSecurity::Tls => 465,
            });
            Some(notify::Smtp {
                host: c.host.clone(),
                port,
                security: c.security,
                from: c.from.clone(),
                username: c.username.clone(),
                password,
            })
        }
    };
    if let Some(u) = &file.public_url
        && !(u.starts_with("http://") || u.starts_with("https://"))
    {
        bail!("public_url `{u}` must start with http:// or https://");
    }
    let flap = model::alarm::FlapThresholds {
        low: file.intake.flap_low_percent.unwrap_or(d.flap.low),
        high: file.intake.flap_high_percent.unwrap_or(d.flap.high),
    };
    if !(0.0 <= flap.low && flap.low < flap.high && flap.high <= 100.0) {
        bail!(
            "intake.flap_low_percent ({}) and intake.flap_high_percent ({}): need 0 <= low < high <= 100 (Nagios' defaults are 5 and 20)",
            flap.low,
            flap.high
        );
    }
    let mut intake_trusted = Vec::new();
    for (i, n) in file.intake.trusted_networks.iter().enumerate() {
        // A bare address is a network of one.
        let net = n.parse::<ipnet::IpNet>().or_else(|_| n.parse::<std::net::IpAddr>().map(ipnet::IpNet::from));
        intake_trusted.push(net.map_err(|_| {
            anyhow::anyhow!("intake.trusted_networks[{i}]: `{n}` is not an address or a network (10.20.0.0/24)")
        })?);
    }
    let address = |key: &str, v: &Option<String>| -> Result<Option<SocketAddr>> {
        v.as_deref()
            .map(|a| {
                a.parse::<SocketAddr>()
                    .map_err(|_| anyhow::anyhow!("intake.{key}: `{a}` is not an address and port (0.0.0.0:514)"))
            })
            .transpose()
    };
    let syslog_udp = address("syslog_udp", &file.intake.syslog_udp)?;
    let syslog_tcp = address("syslog_tcp", &file.intake.syslog_tcp)?;
    let syslog_tls = address("syslog_tls", &file.intake.syslog_tls)?;
    let snmp_traps = address("snmp_traps", &file.intake.snmp_traps)?;
    let secret = |what: &str, p: &PathBuf| -> Result<String> {
        Ok(std::fs::read_to_string(p)
            .with_context(|| format!("cannot read the {what} file {}", p.display()))?
            .trim_end()
            .to_owned())
    };
    let snmp_communities = match &file.intake.snmp_community_file {
        Some(p) => {
            secret("SNMP community", p)?.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
        }
        None => Vec::new(),
    };
    let mut snmp_users = Vec::new();
    for (i, u) in file.intake.snmp_users.iter().enumerate() {
        let at = format!("intake.snmp_users[{i}] ({})", u.name);
        let levels = (&u.auth, &u.auth_password_file, &u.privacy, &u.privacy_password_file);
        snmp_users.push(usm_user(&at, &u.name, levels, &secret)?);
    }
    let mut snmp_credentials = std::collections::HashMap::new();
    for (i, c) in file.intake.snmp_credentials.iter().enumerate() {
        let at = format!("intake.snmp_credentials[{i}] ({})", c.name);
        let credential = match (&c.community_file, &c.user) {
            (Some(f), None) => probe::Credential::V2c { community: secret("SNMP community", f)? },
            (None, Some(user)) => {
                let levels = (&c.auth, &c.auth_password_file, &c.privacy, &c.privacy_password_file);
                let user = usm_user(&at, user, levels, &secret)?;
                probe::Credential::V3(std::sync::Arc::new(intake::snmp::usm::UserKeys::new(user)))
            }
            _ => bail!("{at}: give either community_file (v2c) or user (v3)"),
        };
        if snmp_credentials.insert(c.name.clone(), credential).is_some() {
            bail!("{at}: a credential `{}` is defined twice", c.name);
        }
    }
    let mut snmp_rules = Vec::new();
    for (i, r) in file.intake.snmp_traps_map.iter().enumerate() {
        use intake::snmp::Oid;
        let at = format!("intake.snmp_traps_map[{i}]");
        let oid = Oid::parse(&r.oid).ok_or_else(|| anyhow::anyhow!("{at}: oid `{}` is not dotted numbers", r.oid))?;
        let severity = match &r.severity {
            Some(s) => model::event::SEVERITIES.iter().position(|n| n == s).ok_or_else(|| {
                anyhow::anyhow!(
                    "{at}: severity `{s}` is not emergency, alert, critical, error, warning, notice, info or debug"
                )
            })? as u8,
            None => 5,
        };
        let mut object_from = Vec::new();
        for o in &r.object_from {
            object_from
                .push(Oid::parse(o).ok_or_else(|| anyhow::anyhow!("{at}: object_from `{o}` is not dotted numbers"))?);
        }
        snmp_rules.push(intake::snmp::trap::TrapRule {
            oid,
            name: r.name.clone(),
            kind: r.kind.clone(),
            severity,
            up: r.up,
            object_from,
        });
    }
    snmp_rules.extend(intake::snmp::trap::standard_rules());
    let min = |m: Option<u32>, default: i64| m.map_or(default, |m| i64::from(m) * 60_000);
    Ok(app::Settings {
        session_idle_ms: min(file.session.idle_minutes, d.session_idle_ms),
        session_absolute_ms: file.session.absolute_hours.map_or(d.session_absolute_ms, |h| i64::from(h) * 3_600_000),
        throttle_window_ms: min(file.login.window_minutes, d.throttle_window_ms),
        max_failures_per_account: file.login.max_failures_per_account.map_or(d.max_failures_per_account, i64::from),
        max_failures_per_source: file.login.max_failures_per_source.map_or(d.max_failures_per_source, i64::from),
        config_watch_dir: file.configs.watch_dir.clone(),
        config_watch_interval_s: file.configs.watch_interval_seconds.map_or(d.config_watch_interval_s, u64::from),
        public_url: file.public_url.clone(),
        smtp,
        intake_trusted,
        resolve_timeout_ms: file.intake.resolve_timeout_seconds.map_or(d.resolve_timeout_ms, |s| i64::from(s) * 1000),
        syslog_udp,
        syslog_tcp,
        syslog_tls,
        syslog_max_connections: file
            .intake
            .syslog_max_connections
            .map_or(d.syslog_max_connections, |n| usize::try_from(n.max(1)).unwrap_or(usize::MAX)),
        syslog_idle_timeout_ms: file
            .intake
            .syslog_idle_timeout_seconds
            .map_or(d.syslog_idle_timeout_ms, |s| i64::from(s) * 1000),
        snmp_traps,
        snmp_communities,
        snmp_users,
        snmp_rules,
        snmp_credentials,
        correlation_window_ms: file
            .intake
            .correlation_window_minutes
            .map_or(d.correlation_window_ms, |m| i64::from(m) * 60_000),
        auto_resolve: file.intake.auto_resolve.unwrap_or(d.auto_resolve),
        event_retention_ms: file
            .intake
            .event_retention_days
            .map_or(d.event_retention_ms, |n| i64::from(n.max(1)) * 86_400_000),
        settle_ms: file.intake.settle_seconds.map_or(d.settle_ms, |s| i64::from(s) * 1000),
        flap,
    })
}

/// An SNMPv3 user from its configuration: protocols by net-snmp's names, passphrases from files.
fn usm_user(
    at: &str,
    name: &str,
    (auth, auth_file, privacy, privacy_file): (&Option<String>, &Option<PathBuf>, &Option<String>, &Option<PathBuf>),
    secret: &dyn Fn(&str, &PathBuf) -> Result<String>,
) -> Result<intake::snmp::usm::User> {
    use intake::snmp::usm::{AuthProtocol, PrivProtocol, User};
    let auth = match (auth, auth_file) {
        (Some(a), Some(f)) => Some((
            AuthProtocol::parse(a).ok_or_else(|| {
                anyhow::anyhow!("{at}: auth `{a}` is not MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512")
            })?,
            secret("SNMP authentication passphrase", f)?,
        )),
        (None, None) => None,
        _ => bail!("{at}: auth and auth_password_file go together"),
    };
    let privacy = match (privacy, privacy_file) {
        (Some(_), _) if auth.is_none() => bail!("{at}: privacy needs auth (authPriv)"),
        (Some(p), Some(f)) => Some((
            PrivProtocol::parse(p).ok_or_else(|| anyhow::anyhow!("{at}: privacy `{p}` is not DES or AES"))?,
            secret("SNMP privacy passphrase", f)?,
        )),
        (None, None) => None,
        _ => bail!("{at}: privacy and privacy_password_file go together"),
    };
    if auth.as_ref().is_some_and(|a| a.1.len() < 8) || privacy.as_ref().is_some_and(|p| p.1.len() < 8) {
        bail!("{at}: SNMPv3 passphrases are at least 8 characters (RFC 3414)");
    }
    Ok(User { name: name.to_owned(), auth, privacy })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_name_line_and_column() {
        let err = parse_file("listen = \"0.0.0.0:80\"\n[session]\nidle_minuts = 5\n").unwrap_err();
        assert!(err.starts_with("line 3, column 1:"), "{err}");
        assert!(err.contains("idle_minuts"), "{err}");
    }

    #[test]
    fn flags_beat_the_file() {
        let file = parse_file("data_dir = \"/srv/wk\"\nlisten = \"0.0.0.0:9000\"").unwrap();
        assert_eq!(location(Some("/tmp/x".into()), None, &file).unwrap(), Location::DataDir("/tmp/x".into()));
        assert_eq!(location(None, None, &file).unwrap(), Location::DataDir("/srv/wk".into()));
        assert_eq!(listen(None, &file).unwrap().port(), 9000);
        assert_eq!(listen(Some("127.0.0.1:1".into()), &file).unwrap().port(), 1);
        assert!(location(None, Some("mysql://x".into()), &file).is_err());
    }

    #[test]
    fn settings_from_file() {
        let file = parse_file("[session]\nidle_minutes = 5\n[login]\nmax_failures_per_account = 3").unwrap();
        let s = settings(&file).unwrap();
        assert_eq!(s.session_idle_ms, 300_000);
        assert_eq!(s.max_failures_per_account, 3);
    }

    #[test]
    fn flap_thresholds_are_checked() {
        let s = settings(&parse_file("[intake]\nflap_high_percent = 30\nflap_low_percent = 10").unwrap()).unwrap();
        assert_eq!((s.flap.low, s.flap.high), (10.0, 30.0));
        let bad = settings(&parse_file("[intake]\nflap_high_percent = 4").unwrap()).unwrap_err().to_string();
        assert!(bad.contains("intake.flap_low_percent (5) and intake.flap_high_percent (4)"), "{bad}");
    }

    #[test]
    fn snmp_credentials_read_their_secrets_from_files_and_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p.display().to_string()
        };
        let (community, pass) = (file("ro", "plant-ro\n"), file("pass", "authpass123\n"));
        let good = format!(
            "[[intake.snmp_credentials]]\nname = \"ro\"\ncommunity_file = \"{community}\"\n\
             [[intake.snmp_credentials]]\nname = \"v3\"\nuser = \"poller\"\nauth = \"SHA\"\nauth_password_file = \"{pass}\"\n"
        );
        let s = settings(&parse_file(&good).unwrap()).unwrap();
        assert!(matches!(&s.snmp_credentials["ro"], probe::Credential::V2c { community } if community == "plant-ro"));
        assert!(matches!(&s.snmp_credentials["v3"], probe::Credential::V3(_)));
        assert!(!format!("{:?}", s.snmp_credentials).contains("plant-ro"), "a community stays out of logs");
        let both =
            format!("[[intake.snmp_credentials]]\nname = \"x\"\ncommunity_file = \"{community}\"\nuser = \"poller\"\n");
        let err = settings(&parse_file(&both).unwrap()).unwrap_err().to_string();
        assert!(err.contains("intake.snmp_credentials[0] (x)") && err.contains("either"), "{err}");
        let twice = format!("{good}[[intake.snmp_credentials]]\nname = \"ro\"\ncommunity_file = \"{community}\"\n");
        let err = settings(&parse_file(&twice).unwrap()).unwrap_err().to_string();
        assert!(err.contains("defined twice"), "{err}");
    }
}
