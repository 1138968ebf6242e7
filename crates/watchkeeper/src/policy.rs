//! `watchkeeper policy …`: firewall and ACL analysis on configuration files, no database
//! needed. Exit codes are made for CI: 0 clean, 1 findings at or above `--fail-on` (or, for
//! `diff`, decisions that change), 2 the input could not be analysed.

use anyhow::{Context, Result};
use app::policy::{self as use_case, Config, FilterChoice, FlowQuery, Pack, Severity, Vendor};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_FINDINGS: u8 = 1;
const EXIT_ERROR: u8 = 2;

#[derive(Debug, Subcommand)]
pub enum PolicyCmd {
    /// Find shadowed, redundant, unreachable and overlapping rules in every filter.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        opts: Opts,
        /// Exit 1 when a finding is at least this severe (info, low, medium, high).
        #[arg(long, default_value = "medium", value_parser = parse_severity)]
        fail_on: Severity,
        /// More risky-rule and hardening checks (TOML, or YAML by extension), added to the
        /// standard pack; a check with the same id replaces the standard one.
        #[arg(long = "rules", value_name = "FILE")]
        rules: Vec<PathBuf>,
        /// Traffic logs to replay (ASA syslog 106100/106023, PAN-OS traffic CSV, or a CSV
        /// with src,dst,proto,sport,dport), or `show access-list` output with hit counts:
        /// rules no logged flow used, or with no hits, are reported `unused`.
        #[arg(long = "log", value_name = "FILE")]
        logs: Vec<PathBuf>,
    },
    /// Which rule decides a flow (like ASA packet-tracer or PAN-OS test security-policy-match).
    Match {
        file: PathBuf,
        #[command(flatten)]
        opts: Opts,
        #[command(flatten)]
        flow: FlowArgs,
        /// Only this filter (by default every filter of the flow's address family).
        #[arg(long, conflicts_with = "in_interface")]
        filter: Option<String>,
        /// The filter applied inbound on this interface.
        #[arg(long, value_name = "INTERFACE")]
        in_interface: Option<String>,
        /// Zone policies (PAN-OS, Panorama): the zone the flow comes from…
        #[arg(long, value_name = "ZONE", requires = "to_zone")]
        from_zone: Option<String>,
        /// …and the zone it goes to.
        #[arg(long, value_name = "ZONE", requires = "from_zone")]
        to_zone: Option<String>,
        /// The application (App-ID name); without it, rules limited to applications may match.
        #[arg(long = "app", value_name = "APPLICATION")]
        application: Option<String>,
        /// The user (User-ID name); without it, rules limited to users may match.
        #[arg(long, value_name = "USER")]
        user: Option<String>,
    },
    /// The exact flows whose decision changes between two versions; exit 1 if there are any.
    Diff {
        old: PathBuf,
        new: PathBuf,
        #[command(flatten)]
        opts: Opts,
    },
    /// Rules that can be removed, with the proof that no decision changes.
    Cleanup {
        file: PathBuf,
        #[command(flatten)]
        opts: Opts,
    },
    /// A flow through a network of devices, hop by hop, and its reply; exit 1 unless every
    /// path reaches the destination.
    Trace {
        /// A directory of configurations (any dialect above; Batfish host models as JSON with
        /// their iptables files).
        #[arg(long, value_name = "DIR", required = true)]
        topology: Vec<PathBuf>,
        #[command(flatten)]
        flow: FlowArgs,
        /// The device the flow starts at (by default the one owning --src, or with --src on a
        /// connected subnet).
        #[arg(long, value_name = "DEVICE")]
        from: Option<String>,
        /// The interface of --from it enters on (without one, the device sends it).
        #[arg(long, value_name = "INTERFACE", requires = "from")]
        in_interface: Option<String>,
        /// Routing tables to use instead of the configurations' connected and static routes:
        /// Batfish's `routes` answer (JSON), or a device's `show ip route` output (named by
        /// its prompt, else by the file name). May be given once per device.
        #[arg(long, value_name = "FILE")]
        routes: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct Opts {
    /// The configuration dialect, when auto-detection cannot tell (ios, nxos, iosxr, eos, asa, junos, iptables, panos).
    #[arg(long, value_parser = parse_vendor)]
    vendor: Option<Vendor>,
}

#[derive(Debug, Args)]
pub struct FlowArgs {
    #[arg(long)]
    src: String,
    #[arg(long)]
    dst: String,
    /// tcp, udp, icmp, icmpv6, gre, esp… or a protocol number.
    #[arg(long, default_value = "tcp")]
    proto: String,
    #[arg(long)]
    sport: Option<u16>,
    #[arg(long)]
    dport: Option<u16>,
    #[arg(long)]
    icmp_type: Option<u8>,
    #[arg(long)]
    icmp_code: Option<u8>,
    /// A segment of an established TCP connection (ACK or RST set).
    #[arg(long)]
    established: bool,
    /// A non-initial fragment.
    #[arg(long)]
    fragment: bool,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s).ok_or_else(|| format!("`{s}` is not a severity; use info, low, medium or high"))
}

fn parse_vendor(s: &str) -> Result<Vendor, String> {
    Vendor::parse(s).ok_or_else(|| format!("`{s}` is not a supported vendor; use one of {}", Vendor::NAMES))
}

pub fn run(cmd: PolicyCmd, json: bool) -> ExitCode {
    match execute(cmd, json) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn load(path: &PathBuf, opts: &Opts) -> Result<Config> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
    Ok(use_case::load(&name, &bytes, opts.vendor)?)
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn execute(cmd: PolicyCmd, json: bool) -> Result<ExitCode> {
    match cmd {
        PolicyCmd::Check { files, opts, fail_on, rules, logs: log_files } => {
            let mut logs = use_case::Logs::default();
            for l in &log_files {
                let name = l.display().to_string();
                let bytes = std::fs::read(l).with_context(|| format!("cannot read {name}"))?;
                logs.add(&name, &String::from_utf8_lossy(&bytes));
            }
            let mut pack = Pack::standard();
            for r in &rules {
                let name = r.display().to_string();
                let text = std::fs::read_to_string(r).with_context(|| format!("cannot read {name}"))?;
                pack.extend(use_case::load_pack(&name, &text)?);
            }
            let bar = crate::cli::progress(json, files.len() as u64, "Reading");
            let mut configs = Vec::new();
            for f in &files {
                configs.push(load(f, &opts)?);
                bar.inc(1);
            }
            bar.finish_and_clear();
            let rules: usize = configs.iter().flat_map(|c| &c.device.acls).map(|a| a.rules.len()).sum();
            let spinner = crate::cli::spinner(json, format!("Analysing {rules} rules"));
            let report = use_case::check(&configs, &pack, &logs);
            spinner.finish_and_clear();
            let report = report?;
            if json {
                print_json(&report)?;
            } else {
                print_check(&report);
            }
            Ok(if report.worst().is_some_and(|w| w >= fail_on) {
                ExitCode::from(EXIT_FINDINGS)
            } else {
                ExitCode::SUCCESS
            })
        }
        PolicyCmd::Match { file, opts, flow, filter, in_interface, from_zone, to_zone, application, user } => {
            let config = load(&file, &opts)?;
            let query = query(flow);
            let choice = FilterChoice { filter, in_interface, from_zone, to_zone, application, user };
            let answers = use_case::match_flow(&config, &choice, &query)?;
            if json {
                match answers.as_slice() {
                    [one] => print_json(one)?,
                    all => print_json(&all)?,
                }
            } else {
                if answers.is_empty() {
                    println!("No filter of the flow's address family in {}.", config.file);
                }
                for a in &answers {
                    match &a.scope {
                        Some(scope) => println!("{}  {}  ({scope})", a.filter, a.flow),
                        None => println!("{}  {}", a.filter, a.flow),
                    }
                    if a.may_match {
                        println!("  MAY {}  {}", a.action.to_uppercase(), at(a.line, &a.rule));
                        println!("      if {}", a.conditions.join(" and "));
                        for o in &a.otherwise {
                            let cond = if o.conditions.is_empty() {
                                String::new()
                            } else {
                                format!("  if {}", o.conditions.join(" and "))
                            };
                            println!("  otherwise {}  {}{cond}", o.action.to_uppercase(), at(o.line, &o.rule));
                        }
                        continue;
                    }
                    println!("  {}  {}", a.action.to_uppercase(), at(a.line, &a.rule));
                    if let Some(n) = &a.nat {
                        println!("  NAT  line {}: {} → {}", n.line, n.rule, n.translated);
                    }
                    for r in &a.also_matching {
                        println!("  (also matches line {}: {})", r.line, r.rule);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCmd::Diff { old, new, opts } => {
            let (a, b) = (load(&old, &opts)?, load(&new, &opts)?);
            let spinner = crate::cli::spinner(json, "Comparing decisions".to_owned());
            let report = use_case::diff(&a, &b);
            spinner.finish_and_clear();
            let report = report?;
            if json {
                print_json(&report)?;
            } else {
                print_diff(&report);
            }
            let changed = !report.blocks.is_empty() || !report.only_old.is_empty() || !report.only_new.is_empty();
            Ok(if changed { ExitCode::from(EXIT_FINDINGS) } else { ExitCode::SUCCESS })
        }
        PolicyCmd::Trace { topology, flow, from, in_interface, routes } => {
            let mut files = Vec::new();
            for dir in &topology {
                read_dir(dir, &mut files)?;
            }
            files.sort_by(|a, b| a.name.cmp(&b.name));
            let mut tables = Vec::new();
            for p in &routes {
                let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
                tables.push(app::trace::TopologyFile { name: p.display().to_string(), bytes });
            }
            let topo = app::trace::load(&files, &tables)?;
            let report = app::trace::trace(&topo, &query(flow), from.as_deref(), in_interface.as_deref())?;
            if json {
                print_json(&report)?;
            } else {
                for (file, why) in &topo.skipped {
                    eprintln!("left out {file}: {why}");
                }
                print_trace(&report);
            }
            Ok(if report.delivered { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FINDINGS) })
        }
        PolicyCmd::Cleanup { file, opts } => {
            let config = load(&file, &opts)?;
            let spinner = crate::cli::spinner(json, "Looking for rules that can go".to_owned());
            let plans = use_case::cleanup(&config);
            spinner.finish_and_clear();
            let plans = plans?;
            if json {
                print_json(&plans)?;
            } else if plans.is_empty() {
                println!("Nothing to remove: every rule of {} decides some flow.", config.file);
            } else {
                for p in &plans {
                    println!("{} ({} of {} rules can go):", p.filter, p.remove.len(), p.rules);
                    for r in &p.remove {
                        println!("  line {:<6} {:<50}  {}", r.line, r.rule, r.reason);
                    }
                    let proof =
                        if p.decisions_unchanged { "proven unchanged" } else { "NOT unchanged — report this" };
                    println!("  decisions without them: {proof}\n");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_check(r: &use_case::CheckReport) {
    for f in &r.files {
        println!(
            "{}: {}, {} filters, {} rules, {} interfaces",
            f.file,
            f.hostname.as_deref().unwrap_or("(no hostname)"),
            f.filters,
            f.rules,
            f.interfaces
        );
    }
    if r.findings.is_empty() {
        println!("\nNo findings.");
    } else {
        println!("\n{:<8}  {:<19}  {:<28}  {:<24}  WHY", "SEVERITY", "KIND", "WHERE", "FILTER");
        for f in &r.findings {
            // Line 0: a file-level finding (a required setting is missing).
            let at = if f.line == 0 { short(&f.file).to_string() } else { format!("{}:{}", short(&f.file), f.line) };
            println!("{:<8}  {:<19}  {:<28}  {:<24}  {}", f.severity.to_uppercase(), f.kind, at, f.filter, f.message);
            println!("{:<8}  {}", "", f.rule);
            match (&f.witness, &f.scope) {
                (Some(w), Some(scope)) => println!("{:<8}  e.g. {w}  ({scope})", ""),
                (Some(w), None) => println!("{:<8}  e.g. {w}", ""),
                _ => {}
            }
        }
    }
    if !r.warnings.is_empty() {
        println!("\nLines not analysed:");
        for w in &r.warnings {
            println!("  {}:{}: {} ({})", short(&w.file), w.line, w.message, w.text);
        }
    }
}

fn print_diff(r: &use_case::DiffReport) {
    if r.blocks.is_empty() && r.only_old.is_empty() && r.only_new.is_empty() {
        println!("No flow is decided differently.");
        return;
    }
    for name in &r.only_old {
        println!("filter {name}: only in {}", r.old);
    }
    for name in &r.only_new {
        println!("filter {name}: only in {}", r.new);
    }
    for b in &r.blocks {
        let rule = |x: &Option<use_case::RuleRef>| {
            x.as_ref().map_or_else(|| "implicit deny".to_owned(), |r| at(r.line, &r.rule))
        };
        println!("{}: {} → {}", b.filter, b.old_action.to_uppercase(), b.new_action.to_uppercase());
        if !b.zones.is_empty() {
            let apps = if b.applications.is_empty() {
                String::new()
            } else {
                format!("  applications {}", b.applications.join(","))
            };
            println!("  zones {}{apps}", b.zones.join(","));
        }
        println!(
            "  {} {} → {}  proto {}  sport {}  dport {}",
            if b.exact { "exactly" } else { "within" },
            b.src.join(","),
            b.dst.join(","),
            b.proto.join(","),
            b.sport.join(","),
            b.dport.join(","),
        );
        println!("  before: {}", rule(&b.old_rule));
        println!("  after:  {}", rule(&b.new_rule));
        println!("  e.g. {}\n", b.witness);
    }
}

fn query(flow: FlowArgs) -> FlowQuery {
    FlowQuery {
        src: flow.src,
        dst: flow.dst,
        proto: flow.proto,
        sport: flow.sport,
        dport: flow.dport,
        icmp_type: flow.icmp_type,
        icmp_code: flow.icmp_code,
        established: flow.established,
        fragment: flow.fragment,
    }
}

/// Every file under `dir`, for a topology.
fn read_dir(dir: &std::path::Path, out: &mut Vec<app::trace::TopologyFile>) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read directory {}", dir.display()))?;
    for e in entries {
        let p = e?.path();
        if p.is_dir() {
            read_dir(&p, out)?;
        } else {
            let bytes = std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
            out.push(app::trace::TopologyFile { name: p.display().to_string(), bytes });
        }
    }
    Ok(())
}

fn print_trace(r: &app::trace::TraceReport) {
    let from = match &r.ingress {
        Some(i) => format!("entering {} on {i}", r.start),
        None => format!("sent by {}", r.start),
    };
    println!("{}  ({from})", r.flow);
    let show = |title: &str, traces: &[app::trace::TraceView]| {
        for (k, t) in traces.iter().enumerate() {
            println!("\n{title} {} of {}: {}", k + 1, traces.len(), t.disposition);
            for h in &t.hops {
                let ingress = h.ingress.as_deref().map(|i| format!(" in {i}")).unwrap_or_default();
                let filter = |f: &Option<app::trace::FilterView>, dir: &str| match f {
                    Some(f) => format!(
                        "  [{dir} {} {}{}]",
                        f.filter,
                        f.action.to_uppercase(),
                        f.line.map(|l| format!(" line {l}")).unwrap_or_else(|| " implicit deny".into())
                    ),
                    None => String::new(),
                };
                let out = match (&h.egress, &h.next_hop) {
                    (Some(e), Some(n)) => format!(" → out {e} to {n}"),
                    _ => String::new(),
                };
                println!("  {}{ingress}{}{out}{}", h.node, filter(&h.filter_in, "in"), filter(&h.filter_out, "out"));
                if let Some(n) = &h.nat {
                    println!("      NAT rule {} (line {}) → {}", n.rule, n.line, n.flow);
                }
                if let Some(route) = h.routes.first() {
                    println!("      route {route}");
                }
            }
        }
    };
    show("Path", &r.traces);
    if !r.return_traces.is_empty() {
        show("Reply path", &r.return_traces);
    }
    if !r.return_traces.is_empty() && !r.reply_delivered {
        println!("\nThe reply does not get back on every path (a stateless filter, or no route back).");
    }
    if r.asymmetric {
        println!("\nThe reply crosses other devices than the flow: asymmetric routing.");
    }
}

/// A rule as the answers cite it; line 0 is a vendor default no line of the file sets.
fn at(line: usize, rule: &str) -> String {
    if line == 0 { format!("{rule} (built-in default)") } else { format!("line {line}: {rule}") }
}

/// The file name without its directories, for narrow tables.
fn short(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
