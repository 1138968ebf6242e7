//! Commands and their flags. Data goes to stdout (as JSON with `--json`), progress and
//! diagnostics to stderr.

use crate::config::{self, FileConfig};
use anyhow::{Context, Result, bail};
use app::{Actor, App, AuditFilter, NewUser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use model::{Role, Scope};
use serde_json::json;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use store::{Location, Store};

/// Exit status when `audit verify` finds the chain broken.
const EXIT_CHAIN_BROKEN: u8 = 3;

#[derive(Debug, Parser)]
#[command(name = "watchkeeper", version, about = "Network operations and security centre in one binary", long_about = None)]
#[command(after_help = "Settings come from flags, then WATCHKEEPER_* environment variables, then the config file \
    (--config, or ./watchkeeper.toml if present), then defaults.")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// TOML config file.
    #[arg(long, global = true, env = "WATCHKEEPER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory of the embedded SQLite database (default ./data).
    #[arg(long, global = true, env = "WATCHKEEPER_DATA_DIR", value_name = "DIR", conflicts_with = "database_url")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL, e.g. postgres://watchkeeper@db/watchkeeper.
    #[arg(long, global = true, env = "WATCHKEEPER_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log format.
    #[arg(long, global = true, env = "WATCHKEEPER_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: web console, API and metrics.
    Serve(ServeArgs),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Verify or export the audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Query the CMDB: impact analysis and dependency trees.
    #[command(subcommand)]
    Cmdb(CmdbCmd),
    /// Write a consistent copy of the embedded database while the server runs.
    Backup {
        /// The backup file to create (must not exist).
        file: PathBuf,
    },
    /// Replace the embedded database's contents with a backup's.
    Restore {
        /// A file written by `watchkeeper backup`.
        file: PathBuf,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Check the configuration and the database without starting the server.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// The configuration archive: store, list, show and diff devices' configurations.
    #[command(subcommand)]
    Archive(crate::archive::ArchiveCmd),
    /// Analyse firewall and ACL configurations: check, match, diff, cleanup.
    #[command(subcommand)]
    Policy(crate::policy::PolicyCmd),
    /// On-call as code: apply and export schedules and escalation chains; who is on call.
    #[command(subcommand)]
    Oncall(crate::oncall::OncallCmd),
    /// Migrate in from another desk: incidents from ServiceNow or Jira Service Management CSV.
    #[command(subcommand)]
    Desk(crate::desk::DeskCmd),
    /// Search and list the events received (syslog, traps, polls, checks, alerts), newest first.
    Events(crate::events::EventsArgs),
    /// List alarms (open ones by default) with the incident each fed.
    Alarms(crate::events::AlarmsArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "WATCHKEEPER_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// On first start, the `admin` password is read from this file instead of generated.
    #[arg(long, env = "WATCHKEEPER_ADMIN_PASSWORD_FILE", value_name = "FILE")]
    pub admin_password_file: Option<PathBuf>,
    /// Seed the demo estate on first start.
    #[arg(long, env = "WATCHKEEPER_DEMO")]
    pub demo: bool,
    /// PEM certificate chain; serves HTTPS.
    #[arg(long, env = "WATCHKEEPER_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key.
    #[arg(long, env = "WATCHKEEPER_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A directory a collector writes device configurations into, one file per device named
    /// after the item or its management address; each change becomes a stored version.
    #[arg(long, env = "WATCHKEEPER_CONFIG_WATCH_DIR", value_name = "DIR")]
    pub config_watch_dir: Option<PathBuf>,
    /// Seconds between reads of that directory (default 60).
    #[arg(long, env = "WATCHKEEPER_CONFIG_WATCH_INTERVAL", value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..))]
    pub config_watch_interval: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum CmdbCmd {
    /// Which services go down or lose redundancy when the given items fail together, and why.
    Impact {
        /// Items that fail: `name`, `site/name` or `#id`.
        #[arg(required = true, value_name = "ITEM")]
        items: Vec<String>,
    },
    /// Everything an item or service needs, transitively, as a tree.
    Tree {
        /// `name`, `site/name` or `#id`.
        item: String,
    },
    /// Import NetBox API JSON, Watchkeeper YAML or CSV, all files as one all-or-nothing change.
    /// Records are matched by natural key, so importing the same files again changes nothing.
    Import {
        /// Files to import; NetBox list responses are read together (devices.json, interfaces.json…).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The files' format; by default `.json` is NetBox, `.csv` CSV, anything else YAML.
        #[arg(long, value_enum)]
        format: Option<ImportFormat>,
        /// Whose data this is; a later import from the same source removes what it no longer
        /// contains. Defaults to the format's name.
        #[arg(long)]
        source: Option<String>,
        /// Show what would be added, changed and removed, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Ageing assets, single points of failure under critical services, items without an owner.
    Risk {
        /// Lifecycle dates due within this many months count as ageing.
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=120))]
        within_months: u32,
    },
    /// Write the whole CMDB as YAML that `cmdb import` reads back.
    Export {
        /// Write here instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ImportFormat {
    Netbox,
    Yaml,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create an account. The password is read from --password-file or the first line of stdin.
    Add {
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long, default_value = "")]
        display_name: String,
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// Access ends at this date (YYYY-MM-DD) or instant (RFC 3339).
        #[arg(long, value_name = "WHEN")]
        expires: Option<String>,
        /// Limit the account to a site (repeatable).
        #[arg(long = "site", value_name = "SLUG")]
        sites: Vec<String>,
    },
    /// List accounts.
    List,
    /// Disable an account and end its sessions.
    Disable { username: String },
    /// Re-enable a disabled account.
    Enable { username: String },
    /// Set a password, read from --password-file or the first line of stdin.
    Passwd {
        username: String,
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create a token; the secret is printed alone on the last line of stdout.
    Create {
        #[arg(long)]
        user: String,
        /// A label, unique per user, e.g. `prometheus`.
        #[arg(long)]
        name: String,
        /// Repeatable: read, write, admin, audit, metrics, intake (default read).
        #[arg(long = "scope", value_parser = parse_scope)]
        scopes: Vec<Scope>,
        /// Expiry date (YYYY-MM-DD) or instant (RFC 3339).
        #[arg(long, value_name = "WHEN")]
        expires: Option<String>,
    },
    /// List every token (never the secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check the hash chain; exits 3 naming the first bad record if it is broken.
    Verify,
    /// Write records (oldest first) as CSV or JSON Lines to stdout.
    Export {
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
        /// Filters, as in the API: actor=NAME, action=user.create, from=2026-11-01…
        #[arg(value_name = "KEY=VALUE")]
        filters: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Validate the config file, environment and flags, and reach the database.
    Check,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    s.parse()
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("WATCHKEEPER_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// `YYYY-MM-DD` (end of that day, UTC) or an RFC 3339 instant.
fn parse_when(raw: &str) -> Result<i64> {
    if let Ok(t) = raw.parse::<jiff::Timestamp>() {
        return Ok(t.as_millisecond());
    }
    let d: jiff::civil::Date =
        raw.parse().with_context(|| format!("`{raw}` is not a date (2026-12-31) or an RFC 3339 instant"))?;
    Ok(d.tomorrow()?.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp().as_millisecond())
}

pub(crate) fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default()
}

fn read_secret(file: Option<&PathBuf>, what: &str) -> Result<String> {
    let raw = match file {
        Some(f) => std::fs::read_to_string(f).with_context(|| format!("cannot read {what} file {}", f.display()))?,
        None => {
            if std::io::stdin().is_terminal() {
                eprint!("{what}: ");
                let _ = std::io::stderr().flush();
            }
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .with_context(|| format!("cannot read the {what} from stdin"))?;
            line
        }
    };
    let secret = raw.lines().next().unwrap_or("").to_owned();
    if secret.is_empty() {
        bail!("the {what} is empty");
    }
    Ok(secret)
}

pub(crate) fn print_json(v: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

/// A progress bar on stderr, hidden when stderr is not a terminal or output is JSON.
pub(crate) fn progress(json: bool, len: u64, msg: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if json || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(msg);
    bar
}

/// A spinner on stderr for work of unknown length, hidden like [`progress`].
pub(crate) fn spinner(json: bool, msg: String) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if json || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else {
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
    }
    bar.set_message(msg);
    bar
}

pub(crate) struct Ctx {
    file: FileConfig,
    location: Location,
    pub(crate) json: bool,
}

impl Ctx {
    pub(crate) async fn app(&self) -> Result<App> {
        let store = Store::open(&self.location).await?;
        Ok(App::new(store, config::settings(&self.file)?))
    }
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    // Policy analysis reads files only: no configuration or database is needed or touched.
    let command = match cli.command {
        Command::Policy(cmd) => return Ok(crate::policy::run(cmd, cli.global.json)),
        other => other,
    };
    let (file, _) = config::load_file(cli.global.config.as_deref())?;
    let log_format = cli.global.log_format.unwrap_or(match file.log_format.as_deref() {
        Some("json") => LogFormat::Json,
        _ => LogFormat::Text,
    });
    let json = cli.global.json;
    if matches!(command, Command::Serve(_)) {
        init_logging(log_format);
    }
    let location = config::location(cli.global.data_dir.clone(), cli.global.database_url.clone(), &file)?;
    let ctx = Ctx { file, location, json };
    match command {
        Command::Serve(args) => serve(ctx, args).await,
        Command::User(cmd) => user(ctx, cmd).await,
        Command::Token(cmd) => token(ctx, cmd).await,
        Command::Audit(cmd) => audit(ctx, cmd).await,
        Command::Cmdb(cmd) => cmdb(ctx, cmd).await,
        Command::Archive(cmd) => crate::archive::run(ctx, cmd).await,
        Command::Oncall(cmd) => crate::oncall::run(ctx, cmd).await,
        Command::Desk(cmd) => crate::desk::run(ctx, cmd).await,
        Command::Events(args) => crate::events::run(ctx, args).await,
        Command::Alarms(args) => crate::events::alarms(ctx, args).await,
        Command::Backup { file } => backup(ctx, file).await,
        Command::Restore { file, yes } => restore(ctx, file, yes).await,
        Command::Config(ConfigCmd::Check) => config_check(ctx).await,
        Command::Policy(cmd) => Ok(crate::policy::run(cmd, json)),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("Shutdown requested; finishing in-flight requests.");
}

async fn serve(mut ctx: Ctx, args: ServeArgs) -> Result<ExitCode> {
    if let Some(dir) = args.config_watch_dir {
        ctx.file.configs.watch_dir = Some(dir);
    }
    if let Some(every) = args.config_watch_interval {
        ctx.file.configs.watch_interval_seconds = Some(every);
    }
    if let Some(dir) = &ctx.file.configs.watch_dir
        && !dir.is_dir()
    {
        bail!("the configuration directory {} does not exist or is not a directory", dir.display());
    }
    let f = &ctx.file;
    let listen = config::listen(args.listen, f)?;
    let admin_file = args.admin_password_file.or_else(|| f.admin_password_file.clone());
    let demo = args.demo || f.demo.unwrap_or(false);
    let tls = match (args.tls_cert.or_else(|| f.tls_cert.clone()), args.tls_key.or_else(|| f.tls_key.clone())) {
        (Some(cert), Some(key)) => Some(server::Tls { cert, key }),
        (None, None) => None,
        _ => bail!("TLS needs both a certificate (--tls-cert) and a key (--tls-key)"),
    };
    tracing::info!(database = %ctx.location.redacted(), "Opening the database.");
    let app = ctx.app().await?;
    // One server per database: a second one stops here, before it writes anything, and the
    // claim lasts as long as this function (the server's life).
    let _claim = app.store().claim_server(&ctx.location).await?;
    let admin_password = admin_file.as_ref().map(|p| read_secret(Some(p), "admin password")).transpose()?;
    if let Some(generated) = app.bootstrap_admin(admin_password).await? {
        // To the terminal only, never to the log: logs are often shipped elsewhere.
        eprintln!(
            "\n  ┌──────────────────────────────────────────────────────────┐\n  \
               │ First start: created the `admin` account.                │\n  \
               │ Password (shown once, stored only as a hash):            │\n  \
               │   {generated:<55}│\n  \
               └──────────────────────────────────────────────────────────┘\n"
        );
    }
    if demo && app.seed_demo().await? {
        app.seed_demo_desk().await?;
        tracing::info!(
            password = app::DEMO_PASSWORD,
            "Seeded the demo estate; demo accounts are listed on the login page."
        );
    }
    let state = server::state(app, demo, tls.is_some());
    let scheme = if tls.is_some() { "https" } else { "http" };
    server::serve(state, listen, tls, shutdown_signal(), |addr| {
        tracing::info!(%addr, "Watchkeeper is ready at {scheme}://{addr}/");
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}

async fn cmdb(ctx: Ctx, cmd: CmdbCmd) -> Result<ExitCode> {
    let app = ctx.app().await?;
    let actor = Actor::cli();
    match cmd {
        CmdbCmd::Impact { items } => {
            let report = app.impact(&actor, &items).await?;
            if ctx.json {
                print_json(&serde_json::to_value(&report)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("If {} fail:\n", report.failed.join(" and "));
            let width = report.services.iter().map(|s| s.name.len()).max().unwrap_or(7).max(7);
            println!("{:<width$}  {:<10}  {:<11}  WHY", "SERVICE", "STATUS", "CRITICALITY");
            for s in &report.services {
                let why = if s.explanation.is_empty() { "-" } else { &s.explanation };
                println!("{:<width$}  {:<10}  {:<11}  {why}", s.name, s.status.to_uppercase(), s.criticality);
            }
            println!(
                "\nItems: {} down, {} degraded{}",
                report.items_down,
                report.items_degraded,
                if report.items_truncated { " (list truncated; see --json)" } else { "" }
            );
            for i in &report.items {
                println!("  {:<10} {} ({}, {})", i.status, i.name, i.class, i.site.as_deref().unwrap_or("no site"));
            }
        }
        CmdbCmd::Import { files, format, source, dry_run } => {
            let mut inputs = Vec::new();
            for f in &files {
                let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
                inputs.push(app::ImportFile { name: f.display().to_string(), bytes });
            }
            let format = format.map(|f| match f {
                ImportFormat::Netbox => exchange::Format::NetBox,
                ImportFormat::Yaml => exchange::Format::Yaml,
                ImportFormat::Csv => exchange::Format::Csv,
            });
            let bar = progress(ctx.json, 0, "Importing");
            let tick = {
                let bar = bar.clone();
                move |done: usize, total: usize| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                }
            };
            let report = app.import_cmdb(&actor, &inputs, format, source.as_deref(), dry_run, &tick).await;
            bar.finish_and_clear();
            let report = report?;
            if ctx.json {
                print_json(&serde_json::to_value(&report)?);
                return Ok(ExitCode::SUCCESS);
            }
            for line in &report.changes {
                println!("{line}");
            }
            let verb = if report.dry_run { "Would add" } else { "Added" };
            println!(
                "{verb} {}, change {}, remove {}; {} unchanged (source `{}`).{}",
                report.added,
                report.changed,
                report.removed,
                report.unchanged,
                report.source,
                if report.dry_run { " Nothing was written." } else { "" }
            );
        }
        CmdbCmd::Risk { within_months } => {
            let r = app.risk(&actor, within_months).await?;
            if ctx.json {
                print_json(&serde_json::to_value(&r)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("Ageing (today {}, horizon {}):", r.today, r.horizon);
            for a in &r.ageing {
                let when = if a.passed { "PASSED" } else { "due" };
                let site = a.item.site.as_deref().unwrap_or("-");
                println!(
                    "  {:<6} {} {:<15} {} ({}, {site}, {})",
                    when, a.date, a.milestone, a.item.name, a.item.class, a.criticality
                );
            }
            println!("\nSingle points of failure:");
            for s in &r.single_points_of_failure {
                let names: Vec<&str> = s.items.iter().map(|i| i.name.as_str()).collect();
                println!("  {} ({}): {}", s.service.name, s.criticality, names.join(", "));
            }
            println!("\nWithout an owner:");
            for i in &r.without_owner {
                println!("  {} ({}, {})", i.name, i.class, i.site.as_deref().unwrap_or("-"));
            }
            println!("\nWithout support cover:");
            for u in &r.without_contract {
                let contract = u.contract.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
                println!("  {} ({}, {}): {}{contract}", u.item.name, u.item.class, u.criticality, u.reason);
            }
            println!("\nContracts ending:");
            for c in &r.contracts_due {
                let when = if c.passed { "ENDED" } else { "ends" };
                println!(
                    "  {when} {} {}/{} ({}, {} items)",
                    c.ends_on, c.vendor, c.reference, c.support_level, c.items
                );
            }
            println!("\nFirmware behind baseline:");
            for f in &r.firmware {
                println!(
                    "  {:<11} {} runs {:?}, recommended {:?}",
                    f.currency.as_str(),
                    f.item.name,
                    f.version,
                    f.recommended
                );
            }
        }
        CmdbCmd::Export { output } => {
            let yaml = app.export_cmdb(&actor).await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, yaml).with_context(|| format!("cannot write {}", path.display()))?;
                    if ctx.json {
                        print_json(&json!({ "file": path.display().to_string() }));
                    }
                }
                None => print!("{yaml}"),
            }
        }
        CmdbCmd::Tree { item } => {
            let root = app.resolve_item(&actor, &item).await?;
            let lines = app.dependency_tree(&actor, root.id).await?;
            if ctx.json {
                print_json(&serde_json::to_value(&lines)?);
                return Ok(ExitCode::SUCCESS);
            }
            for l in &lines {
                let indent = "  ".repeat(l.depth);
                let via = l.via.map(|v| format!("{v} ")).unwrap_or_default();
                let name = if l.is_group { format!("[{}] (redundancy group)", l.name) } else { l.name.clone() };
                let class = l.class.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
                let again = if l.repeated { "  (see above)" } else { "" };
                println!("{indent}{via}{name}{class}{again}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn user(ctx: Ctx, cmd: UserCmd) -> Result<ExitCode> {
    let app = ctx.app().await?;
    let actor = Actor::cli();
    let user_json = |u: &model::user::User| {
        json!({
            "id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role.as_str(),
            "disabled": u.disabled, "expires_at": u.expires_at_ms.map(rfc3339), "sites": u.sites,
            "created_at": rfc3339(u.created_at_ms),
        })
    };
    match cmd {
        UserCmd::Add { username, role, display_name, password_file, expires, sites } => {
            let password = read_secret(password_file.as_ref(), "password")?;
            let expires_at_ms = expires.as_deref().map(parse_when).transpose()?;
            let u = app
                .create_user(&actor, NewUser { username, display_name, role, password, expires_at_ms, sites })
                .await?;
            if ctx.json {
                print_json(&user_json(&u));
            } else {
                println!("created {} ({})", u.username, u.role);
            }
        }
        UserCmd::List => {
            let q = app::parse_user_query(&[("limit".into(), "500".into())])?;
            let (users, _) = app.list_users(&actor, &q).await?;
            if ctx.json {
                print_json(&serde_json::Value::Array(users.iter().map(user_json).collect()));
            } else {
                println!("{:<20} {:<16} {:<9} {:<22} SITES", "USERNAME", "ROLE", "STATE", "EXPIRES");
                for u in &users {
                    let state = if u.disabled { "disabled" } else { "active" };
                    let exp = u.expires_at_ms.map(rfc3339).unwrap_or_else(|| "-".into());
                    let sites = if u.sites.is_empty() { "all".to_owned() } else { u.sites.join(",") };
                    println!("{:<20} {:<16} {:<9} {:<22} {}", u.username, u.role.as_str(), state, exp, sites);
                }
            }
        }
        UserCmd::Disable { username } => {
            let u = app.set_disabled(&actor, &username, true).await?;
            if ctx.json { print_json(&user_json(&u)) } else { println!("disabled {username}; its sessions ended") }
        }
        UserCmd::Enable { username } => {
            let u = app.set_disabled(&actor, &username, false).await?;
            if ctx.json { print_json(&user_json(&u)) } else { println!("enabled {username}") }
        }
        UserCmd::Passwd { username, password_file } => {
            let password = read_secret(password_file.as_ref(), "new password")?;
            app.set_password(&actor, &username, &password).await?;
            if ctx.json {
                print_json(&json!({ "username": username, "password": "changed" }));
            } else {
                println!("password changed for {username}; its sessions ended");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn token(ctx: Ctx, cmd: TokenCmd) -> Result<ExitCode> {
    let app = ctx.app().await?;
    let actor = Actor::cli();
    let token_json = |t: &app::TokenInfo| {
        json!({
            "id": t.id, "user": t.username, "name": t.name, "prefix": t.prefix,
            "scopes": t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "created_at": rfc3339(t.created_at_ms), "expires_at": t.expires_at_ms.map(rfc3339),
            "last_used_at": t.last_used_ms.map(rfc3339), "revoked_at": t.revoked_at_ms.map(rfc3339),
        })
    };
    match cmd {
        TokenCmd::Create { user, name, scopes, expires } => {
            let scopes = if scopes.is_empty() { vec![Scope::Read] } else { scopes };
            let expires = expires.as_deref().map(parse_when).transpose()?;
            let t = app.create_token(&actor, &user, &name, &scopes, expires).await?;
            if ctx.json {
                let mut v = token_json(&t.info);
                v["secret"] = json!(t.secret);
                println!("{}", serde_json::to_string(&v).unwrap_or_default());
            } else {
                eprintln!(
                    "Created token {} `{}` for {} with scopes {}. The secret (shown once) follows:",
                    t.info.id,
                    t.info.name,
                    t.info.username,
                    t.info.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
                );
            }
            // The secret alone on the last line, so scripts can take `tail -n1`.
            println!("{}", t.secret);
        }
        TokenCmd::List => {
            let tokens = app.list_tokens(&actor, true).await?;
            if ctx.json {
                print_json(&serde_json::Value::Array(tokens.iter().map(token_json).collect()));
            } else {
                println!("{:<5} {:<16} {:<20} {:<12} {:<22} STATE", "ID", "USER", "NAME", "PREFIX", "SCOPES");
                for t in &tokens {
                    let state = if t.revoked_at_ms.is_some() { "revoked" } else { "active" };
                    let scopes = t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
                    println!("{:<5} {:<16} {:<20} {:<12} {:<22} {state}", t.id, t.username, t.name, t.prefix, scopes);
                }
            }
        }
        TokenCmd::Revoke { id } => {
            let t = app.revoke_token(&actor, id).await?;
            if ctx.json { print_json(&token_json(&t)) } else { println!("revoked token {id} ({})", t.name) }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn audit(ctx: Ctx, cmd: AuditCmd) -> Result<ExitCode> {
    let app = ctx.app().await?;
    match cmd {
        AuditCmd::Verify => {
            let (head, _) = app.store().audit_head().await?;
            let bar = progress(ctx.json, u64::try_from(head).unwrap_or(0), "Verifying");
            let outcome = app.audit_verify(|n, _| bar.set_position(n)).await?;
            bar.finish_and_clear();
            match outcome {
                Ok(r) => {
                    if ctx.json {
                        print_json(
                            &json!({ "intact": true, "records": r.records, "head_seq": r.head_seq, "head_hash": r.head_hash }),
                        );
                    } else {
                        println!("audit chain intact: {} records, head #{} {}", r.records, r.head_seq, r.head_hash);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(b) => {
                    if ctx.json {
                        print_json(&json!({ "intact": false, "first_bad_seq": b.seq(), "problem": b.to_string() }));
                    } else {
                        println!("audit chain BROKEN at record {}: {b}", b.seq());
                    }
                    Ok(ExitCode::from(EXIT_CHAIN_BROKEN))
                }
            }
        }
        AuditCmd::Export { format, filters } => {
            let mut pairs = Vec::new();
            for f in filters {
                let Some((k, v)) = f.split_once('=') else { bail!("filter `{f}` is not KEY=VALUE") };
                pairs.push((k.to_owned(), v.to_owned()));
            }
            let filter = AuditFilter::parse(&pairs)?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let mut failed = None;
            if matches!(format, ExportFormat::Csv) {
                write!(out, "{}", server::api::AUDIT_CSV_HEADER)?;
            }
            app.audit_export(&Actor::cli(), &filter, |page| {
                for r in page {
                    let line = match format {
                        ExportFormat::Csv => {
                            let mut s = String::new();
                            server::api::audit_csv_row(r, &mut s);
                            s
                        }
                        ExportFormat::Jsonl => {
                            format!("{}\n", serde_json::to_string(&server::api::AuditDto::from(r)).unwrap_or_default())
                        }
                    };
                    if let Err(e) = out.write_all(line.as_bytes()) {
                        failed.get_or_insert(e);
                    }
                }
            })
            .await?;
            if let Some(e) = failed {
                return Err(e.into());
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn backup(ctx: Ctx, file: PathBuf) -> Result<ExitCode> {
    let store = Store::open(&ctx.location).await?;
    let spinner = progress(ctx.json, 1, "Backing up");
    store.backup_to(&file).await?;
    spinner.finish_and_clear();
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    if ctx.json {
        print_json(&json!({ "file": file, "bytes": size }));
    } else {
        println!("backup written to {} ({size} bytes)", file.display());
    }
    Ok(ExitCode::SUCCESS)
}

async fn restore(ctx: Ctx, file: PathBuf, yes: bool) -> Result<ExitCode> {
    let app = ctx.app().await?;
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!("restore replaces every record; pass --yes to confirm when not running interactively");
        }
        eprint!("Replace all data in {} with {}? Type `restore` to confirm: ", ctx.location.redacted(), file.display());
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if line.trim() != "restore" {
            bail!("not confirmed; nothing changed");
        }
    }
    let rows = app.store().restore_from(&file).await?;
    let verify = app.audit_verify(|_, _| {}).await?;
    if ctx.json {
        print_json(&json!({ "file": file, "rows": rows, "audit_intact": verify.is_ok() }));
    } else {
        println!("restored {rows} rows from {}", file.display());
        match verify {
            Ok(r) => println!("audit chain intact: {} records", r.records),
            Err(b) => println!("warning: the restored audit chain is broken at record {}: {b}", b.seq()),
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn config_check(ctx: Ctx) -> Result<ExitCode> {
    let store = Store::connect(&ctx.location).await?;
    let found = store.schema_version().await?;
    let known = store.known_schema_version();
    let users = if found > 0 { store.count_users().await.unwrap_or(0) } else { 0 };
    let state = match found.cmp(&known) {
        std::cmp::Ordering::Equal => "current",
        std::cmp::Ordering::Less => "will be migrated at start",
        std::cmp::Ordering::Greater => "NEWER than this build: the server will refuse to start",
    };
    if ctx.json {
        print_json(&json!({
            "database": ctx.location.redacted(), "backend": store.backend(),
            "schema_version": found, "known_schema_version": known, "schema_state": state, "users": users,
        }));
    } else {
        println!("database: {} ({})", ctx.location.redacted(), store.backend());
        println!("schema:   version {found}, this build knows {known}: {state}");
        println!("users:    {users}");
        println!("config:   ok");
    }
    Ok(if found > known { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
