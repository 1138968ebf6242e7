//! Firewall and ACL policy use-cases on device configurations: check (findings), match (which
//! rule decides a flow), diff (what a change does) and cleanup (what can go, proven). The CLI
//! calls these on files; the server and change review call the same functions on stored
//! configurations, so every surface gives the same answer.

use policy::acl::{Acl, Flow};
pub use policy::analysis::Severity;
use policy::analysis::{self, Finding, Kind};
use policy::logs::LogFlow;
use policy::matcher::Matcher;
use policy::pack;
pub use policy::pack::Pack;
use policy::space::{HeaderSpace, Summary, TooLarge};
use policy::zone::{self, ZonePolicy};
use serde::Serialize;
use std::net::IpAddr;

/// Configuration dialects the analyses read. IOS, NX-OS, IOS-XR and Arista EOS filters share
/// one parser (their ACL syntaxes are IOS's with prefixes, sequence numbers and a few
/// keywords of their own); ASA has its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Vendor {
    CiscoIos,
    CiscoNxos,
    CiscoIosXr,
    AristaEos,
    CiscoAsa,
    Junos,
    Iptables,
    PanOs,
    F5,
}

impl Vendor {
    /// The dialect's name in rule packs (`vendors = [...]`).
    pub fn key(self) -> &'static str {
        match self {
            Vendor::CiscoIos => "ios",
            Vendor::CiscoNxos => "nxos",
            Vendor::CiscoIosXr => "iosxr",
            Vendor::AristaEos => "eos",
            Vendor::CiscoAsa => "asa",
            Vendor::Junos => "junos",
            Vendor::Iptables => "iptables",
            Vendor::PanOs => "panos",
            Vendor::F5 => "f5",
        }
    }

    /// The names `--vendor` takes.
    pub const NAMES: &'static str = "ios, nxos, iosxr, eos, asa, junos, iptables, panos, f5";

    pub fn parse(s: &str) -> Option<Vendor> {
        match s {
            "ios" | "ios-xe" | "iosxe" | "cisco-ios" | "cisco_ios" => Some(Vendor::CiscoIos),
            "nxos" | "nx-os" | "cisco_nxos" => Some(Vendor::CiscoNxos),
            "iosxr" | "ios-xr" | "xr" | "cisco_iosxr" => Some(Vendor::CiscoIosXr),
            "eos" | "arista" | "arista_eos" => Some(Vendor::AristaEos),
            "asa" | "cisco-asa" | "cisco_asa" => Some(Vendor::CiscoAsa),
            "junos" | "juniper" => Some(Vendor::Junos),
            "iptables" | "ip6tables" | "netfilter" => Some(Vendor::Iptables),
            "panos" | "pan-os" | "paloalto" | "palo-alto" | "panorama" => Some(Vendor::PanOs),
            "f5" | "bigip" | "big-ip" | "tmsh" => Some(Vendor::F5),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{file}: {reason}")]
    Unreadable { file: String, reason: String },
    #[error(
        "{file}: this is {what}, which Watchkeeper cannot analyse yet; supported: Cisco IOS/IOS-XE, NX-OS, IOS-XR, ASA, Arista EOS, Junos firewall filters and SRX policies, iptables, PAN-OS/Panorama (XML or set) and F5 BIG-IP tmsh"
    )]
    Unsupported { file: String, what: &'static str },
    #[error(
        "{file}: cannot tell which vendor wrote this configuration; name it with --vendor (ios, nxos, iosxr, eos, asa, junos, iptables, panos, f5)"
    )]
    UnknownVendor { file: String },
    #[error("{file}: no filter named `{name}`; filters here: {known}")]
    NoFilter { file: String, name: String, known: String },
    #[error("{file}: no filter is applied inbound on interface `{interface}`")]
    NoBinding { file: String, interface: String },
    #[error("{field}: {reason}")]
    BadFlow { field: &'static str, reason: String },
    #[error("{file}: {reason}")]
    BadPack { file: String, reason: String },
    #[error("{file}: {source}; analyse fewer or smaller filters at a time")]
    TooLarge { file: String, source: TooLarge },
}

/// One configuration file read into the vendor-neutral model.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: String,
    pub vendor: Vendor,
    pub device: policy::device::Device,
    /// The configuration's lines as words (Junos: its statements), for hardening checks.
    pub lines: Vec<(usize, Vec<String>)>,
}

/// Reads a configuration, detecting its vendor unless one is given. Binary files and
/// dialects not supported yet are refused with a reason; a supported file never fails to
/// parse, its unreadable lines become warnings.
pub fn load(file: &str, bytes: &[u8], vendor: Option<Vendor>) -> Result<Config, PolicyError> {
    if bytes.iter().take(64 * 1024).any(|&b| b == 0) {
        return Err(PolicyError::Unreadable { file: file.into(), reason: "binary data, not a configuration".into() });
    }
    let text = String::from_utf8_lossy(bytes);
    let vendor = match vendor {
        Some(v) => v,
        None => detect(&text).map_err(|what| match what {
            Some(what) => PolicyError::Unsupported { file: file.into(), what },
            None => PolicyError::UnknownVendor { file: file.into() },
        })?,
    };
    let device = match vendor {
        Vendor::CiscoIos | Vendor::CiscoNxos | Vendor::CiscoIosXr | Vendor::AristaEos => policy::ios::parse(&text),
        Vendor::CiscoAsa => policy::asa::parse(&text),
        Vendor::Junos => policy::junos::parse(&text),
        Vendor::Iptables => policy::iptables::parse(&text),
        Vendor::PanOs => policy::panos::parse(&text),
        Vendor::F5 => policy::f5::parse(&text),
    };
    let lines = match vendor {
        Vendor::Junos => policy::junos::lines(&text),
        Vendor::PanOs => policy::panos::lines(&text),
        Vendor::F5 => policy::f5::lines(&text),
        _ => policy::pack::lines(&text),
    };
    Ok(Config { file: file.into(), vendor, device, lines })
}

/// The vendor from the text itself: `Err(Some(name))` for a dialect recognised but not yet
/// analysed, `Err(None)` when nothing is recognised.
fn detect(text: &str) -> Result<Vendor, Option<&'static str>> {
    let head: String = text.chars().take(200_000).collect();
    let trimmed = head.trim_start();
    if trimmed.starts_with('<') {
        let panos = ["<devices>", "<vsys>", "<rulebase>", "<device-group>", "<shared>"];
        return if panos.iter().any(|t| head.contains(t)) { Ok(Vendor::PanOs) } else { Err(Some("XML")) };
    }
    let lines = || head.lines().map(str::trim);
    if head.contains("ASA Version")
        || lines().any(|l| {
            l.starts_with("nameif ")
                || l.starts_with("access-group ") && l.contains(" interface ")
                || l.starts_with("access-list ") && l.split_whitespace().nth(2) == Some("extended")
        })
    {
        return Ok(Vendor::CiscoAsa);
    }
    let panos_set = ["deviceconfig", "rulebase", "shared", "device-group", "zone", "address", "mgt-config", "vsys"];
    let panos_nested = ["config {", "deviceconfig {", "policy {"];
    if lines().any(|l| {
        l.strip_prefix("set ").and_then(|r| r.split_whitespace().next()).is_some_and(|w| panos_set.contains(&w))
    }) || lines().find(|l| !l.is_empty() && !l.starts_with('#')).is_some_and(|l| panos_nested.contains(&l))
    {
        return Ok(Vendor::PanOs);
    }
    if lines().any(|l| l == "*filter" || l.starts_with(":INPUT ") || l.starts_with("-A INPUT ")) {
        return Ok(Vendor::Iptables);
    }
    let junos_top = ["system", "firewall", "security", "interfaces", "policy-options", "routing-options"];
    let junos = |l: &str| {
        let l = l.strip_prefix("replace: ").unwrap_or(l);
        junos_top.iter().any(|t| {
            l.strip_prefix("set ").is_some_and(|rest| rest.starts_with(&format!("{t} ")))
                || l.strip_prefix(t).is_some_and(|rest| rest.trim() == "{")
        })
    };
    if lines().any(junos) {
        return Ok(Vendor::Junos);
    }
    if lines().any(|l| l == "config firewall policy" || l == "config system global") {
        return Err(Some("Fortinet FortiOS"));
    }
    if head.starts_with("#TMSH-VERSION") || lines().any(|l| l.starts_with("ltm ") || l.starts_with("net self ")) {
        return Ok(Vendor::F5);
    }
    if lines().any(|l| l.starts_with("feature ") || l.starts_with("object-group ip ")) || head.contains("cisco-nx") {
        return Ok(Vendor::CiscoNxos);
    }
    if lines().any(|l| l.starts_with("ipv4 access-list ")) {
        return Ok(Vendor::CiscoIosXr);
    }
    if lines().any(|l| l.starts_with("! device:") && l.contains("EOS")) || head.contains("daemon TerminAttr") {
        return Ok(Vendor::AristaEos);
    }
    let ios = lines().any(|l| {
        l.starts_with("access-list ")
            || l.starts_with("ip access-list ")
            || l.starts_with("ipv6 access-list ")
            || l.starts_with("object-group ")
            || l.starts_with("interface ")
            || l.starts_with("hostname ")
            || l.starts_with("version ")
    });
    if ios { Ok(Vendor::CiscoIos) } else { Err(None) }
}

/// A flow as every answer shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FlowView {
    pub src: String,
    pub dst: String,
    pub proto: String,
    pub sport: u16,
    pub dport: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_code: Option<u8>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub established: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fragment: bool,
}

impl From<&Flow> for FlowView {
    fn from(f: &Flow) -> Self {
        FlowView {
            src: f.src.to_string(),
            dst: f.dst.to_string(),
            proto: proto_name(f.proto),
            sport: f.sport,
            dport: f.dport,
            icmp_type: f.icmp.map(|i| i.0),
            icmp_code: f.icmp.map(|i| i.1),
            established: f.established,
            fragment: f.fragment,
        }
    }
}

impl std::fmt::Display for FlowView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.proto.as_str(), self.icmp_type) {
            ("tcp" | "udp", _) => write!(f, "{} {}:{} → {}:{}", self.proto, self.src, self.sport, self.dst, self.dport),
            (_, Some(t)) => write!(f, "{} {} → {} type {t}", self.proto, self.src, self.dst),
            _ => write!(f, "{} {} → {}", self.proto, self.src, self.dst),
        }
    }
}

fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        47 => "gre".into(),
        50 => "esp".into(),
        51 => "ah".into(),
        58 => "icmpv6".into(),
        89 => "ospf".into(),
        n => n.to_string(),
    }
}

/// A rule as answers cite it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RuleRef {
    pub line: usize,
    pub rule: String,
}

fn rule_ref(acl: &Acl, i: usize) -> RuleRef {
    RuleRef { line: acl.rules[i].line, rule: acl.rules[i].text.clone() }
}

/// Related rules listed per finding: on a wide real ACL one rule can overlap hundreds.
pub const MAX_RELATED: usize = 50;

#[derive(Debug, Clone, Serialize)]
pub struct FindingView {
    pub kind: &'static str,
    pub severity: &'static str,
    pub file: String,
    pub line: usize,
    pub filter: String,
    pub rule: String,
    /// The related rules, in filter order, at most [`MAX_RELATED`] of them.
    pub related_rules: Vec<RuleRef>,
    /// How many related rules there are in all.
    pub related_total: usize,
    pub witness: Option<FlowView>,
    /// For zone policies: the traffic the witness belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeView>,
    pub message: String,
    #[serde(skip)]
    pub level: Severity,
}

/// Which zones (and application, user) a zone-policy answer is about.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ScopeView {
    pub from_zone: String,
    pub to_zone: String,
    /// `None`: any application no rule names.
    pub application: Option<String>,
}

impl ScopeView {
    fn of(s: &zone::Scope) -> ScopeView {
        ScopeView {
            from_zone: s.from.clone(),
            to_zone: s.to.clone(),
            application: s.apps.iter().flatten().next().cloned(),
        }
    }
}

impl std::fmt::Display for ScopeView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "from {} to {}", self.from_zone, self.to_zone)?;
        match &self.application {
            Some(a) => write!(f, ", application {a}"),
            None => Ok(()),
        }
    }
}

impl FindingView {
    /// A finding without related rules or witness (set `witness` afterwards where there is one).
    fn plain(
        kind: &'static str,
        level: Severity,
        file: &str,
        line: usize,
        filter: &str,
        rule: &str,
        message: String,
    ) -> FindingView {
        FindingView {
            kind,
            severity: level.as_str(),
            file: file.to_owned(),
            line,
            filter: filter.to_owned(),
            rule: rule.to_owned(),
            related_rules: Vec::new(),
            related_total: 0,
            witness: None,
            scope: None,
            message,
            level,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct WarningView {
    pub file: String,
    pub line: usize,
    pub text: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub file: String,
    pub vendor: Vendor,
    pub hostname: Option<String>,
    pub filters: usize,
    pub rules: usize,
    pub interfaces: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub files: Vec<FileSummary>,
    pub findings: Vec<FindingView>,
    pub warnings: Vec<WarningView>,
}

impl CheckReport {
    /// The most severe finding, for `--fail-on`.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.level).max()
    }
}

/// Every finding on every filter of the configurations.
/// A rule pack from a file's text: YAML when the name says so, TOML otherwise.
pub fn load_pack(file: &str, text: &str) -> Result<Pack, PolicyError> {
    let yaml = file.ends_with(".yaml") || file.ends_with(".yml");
    let pack = if yaml { Pack::from_yaml(text) } else { Pack::from_toml(text) };
    pack.map_err(|e| PolicyError::BadPack { file: file.into(), reason: e.to_string() })
}

/// Flows read from traffic logs, to replay through the filters.
#[derive(Debug, Clone, Default)]
pub struct Logs {
    pub files: Vec<String>,
    pub flows: Vec<LogFlow>,
    /// Rule hit counters from `show access-list` output, with the file they came from.
    pub hits: Vec<(String, policy::logs::HitCount)>,
    /// Lines that were not flows, by file.
    pub warnings: Vec<WarningView>,
}

impl Logs {
    /// Adds one log file's flows (see [`policy::logs`] for the formats read).
    pub fn add(&mut self, file: &str, text: &str) {
        self.files.push(file.to_owned());
        if let Some(hits) = policy::logs::hit_counts(text) {
            self.hits.extend(hits.into_iter().map(|h| (file.to_owned(), h)));
            return;
        }
        let (flows, warnings) = policy::logs::read(text);
        self.flows.extend(flows);
        self.warnings.extend(warnings.into_iter().map(|w| WarningView {
            file: file.to_owned(),
            line: w.line,
            text: w.text,
            message: w.message,
        }));
    }
}

/// A zone rule as its vendor names it: `rule NAME` (PAN-OS), `policy NAME` (SRX).
fn called(r: &zone::ZoneRule) -> String {
    r.matches.first().map_or_else(|| format!("rule {}", r.name), |m| m.text.clone())
}

/// How many rules a zone policy has as written (one PAN-OS rule may stand as several).
fn zone_rules(p: &ZonePolicy) -> usize {
    let mut lines: Vec<(usize, &str)> = p.rules.iter().map(|r| (r.line, r.name.as_str())).collect();
    lines.dedup();
    lines.len()
}

/// Every finding on the configurations: the analyses of each filter, the pack's risky rules
/// (among those that can match), its hardening checks for the file's dialect and, given
/// traffic logs, the rules no logged flow used.
pub fn check(configs: &[Config], pack: &Pack, logs: &Logs) -> Result<CheckReport, PolicyError> {
    let mut report = CheckReport { files: Vec::new(), findings: Vec::new(), warnings: logs.warnings.clone() };
    for c in configs {
        let d = &c.device;
        report.files.push(FileSummary {
            file: c.file.clone(),
            vendor: c.vendor,
            hostname: d.hostname.clone(),
            filters: d.acls.len() + d.zone_policies.len(),
            rules: d.acls.iter().map(|a| a.rules.len()).sum::<usize>()
                + d.zone_policies.iter().map(zone_rules).sum::<usize>(),
            interfaces: d.interfaces.len(),
        });
        report.warnings.extend(d.warnings.iter().map(|w| WarningView {
            file: c.file.clone(),
            line: w.line,
            text: w.text.clone(),
            message: w.message.clone(),
        }));
        for acl in &d.acls {
            let too_large = |source| PolicyError::TooLarge { file: c.file.clone(), source };
            let space = HeaderSpace::new();
            let compiled = analysis::compile(&space, acl).map_err(too_large)?;
            for f in analysis::findings(&space, acl, &compiled).map_err(too_large)? {
                report.findings.push(finding_view(&c.file, acl, &f));
            }
            unused(&c.file, acl, &compiled, logs, &mut report.findings);
            unhit(c, acl, &compiled, logs, &mut report.findings, &mut report.warnings);
            for hit in pack::risky(pack, acl).into_iter().filter(|h| compiled.reachable(h.rule)) {
                let check = &pack.risky[hit.check];
                let r = &acl.rules[hit.rule];
                let message = format!("{} ({})", check.title, check.id);
                let mut f = FindingView::plain("risky", check.severity, &c.file, r.line, &acl.name, &r.text, message);
                f.witness = hit.witness.as_ref().map(FlowView::from);
                report.findings.push(f);
            }
        }
        nat_findings(&c.file, &d.nat, &mut report.findings)?;
        for p in &d.zone_policies {
            let never = zone_findings(&c.file, p, pack, &mut report.findings)?;
            zone_unused(&c.file, p, logs, &never, &mut report.findings);
        }
        // PAN-OS objects know their own use (member lists anywhere); their settings lines
        // repeat a name (descriptions), so words on lines do not tell.
        let unused: Vec<&policy::device::Object> = match c.vendor {
            Vendor::PanOs => d.object_groups.iter().filter(|o| !o.in_use).collect(),
            _ => d.unused_objects(&c.lines),
        };
        for o in unused {
            let message = "no rule or group refers to it; a candidate for removal".to_owned();
            report.findings.push(FindingView::plain(
                "unused-object",
                Severity::Info,
                &c.file,
                o.line,
                "",
                &o.name,
                message,
            ));
        }
        // A whole device configuration (a hostname and interfaces), not a filter on its own.
        // (PAN-OS and Panorama: a device's settings, with or without interfaces.)
        let full = d.hostname.is_some() && (!d.interfaces.is_empty() || c.vendor == Vendor::PanOs);
        for hit in pack::hardening(pack, c.vendor.key(), &c.lines, full) {
            let check = &pack.hardening[hit.check];
            // Line 0: the file as a whole (a setting that is missing).
            let (line, rule) = match hit.line {
                Some(n) => (n, hit.text.as_str()),
                None => (0, "(missing)"),
            };
            let message = format!("{} ({})", check.title, check.id);
            report.findings.push(FindingView::plain("hardening", check.severity, &c.file, line, "", rule, message));
        }
    }
    Ok(report)
}

/// Replays the logged flows through a filter and reports the rules that can match but that
/// no flow used. Flows a log ties to another filter (ASA names it) are left out; a filter
/// that no flow reached says nothing (no evidence either way).
fn unused(file: &str, acl: &Acl, compiled: &analysis::Compiled, logs: &Logs, out: &mut Vec<FindingView>) {
    let family = |f: &Flow| if f.src.is_ipv4() { policy::acl::Family::V4 } else { policy::acl::Family::V6 };
    let relevant: Vec<&LogFlow> = logs
        .flows
        .iter()
        .filter(|l| l.filter.as_ref().is_none_or(|f| f == &acl.name))
        .filter(|l| acl.family == policy::acl::Family::Any || acl.family == family(&l.flow))
        .collect();
    if relevant.is_empty() {
        return;
    }
    let m = Matcher::new(acl);
    let mut hits = vec![0u64; acl.rules.len()];
    let mut seen = 0u64;
    for l in &relevant {
        seen += l.count;
        if let Some(r) = m.decide(&l.flow).rule {
            hits[r] += l.count;
        }
    }
    for (i, r) in acl.rules.iter().enumerate() {
        if hits[i] > 0 || !compiled.reachable(i) {
            continue;
        }
        let message = format!(
            "no logged flow used it ({seen} flows replayed from {}); a candidate for removal",
            logs.files.join(", ")
        );
        out.push(FindingView::plain("unused", Severity::Low, file, r.line, &acl.name, &r.text, message));
    }
}

/// The rules `show access-list` counted no hit for (and that can match). IOS entries are
/// counted in list order; ASA's `line N` counts remarks too, so it is matched against the
/// configuration's own `access-list NAME` lines.
fn unhit(
    c: &Config,
    acl: &Acl,
    compiled: &analysis::Compiled,
    logs: &Logs,
    out: &mut Vec<FindingView>,
    warnings: &mut Vec<WarningView>,
) {
    let counters: Vec<&(String, policy::logs::HitCount)> =
        logs.hits.iter().filter(|(_, h)| h.acl == acl.name).collect();
    if counters.is_empty() {
        return;
    }
    // The configuration line of each entry, in order.
    let mut entry_lines: Vec<usize> = Vec::new();
    if counters.iter().any(|(_, h)| h.asa) {
        entry_lines = c
            .lines
            .iter()
            .filter(|(_, w)| w.first().is_some_and(|x| x == "access-list") && w.get(1) == Some(&acl.name))
            .map(|(n, _)| *n)
            .collect();
    } else {
        for r in &acl.rules {
            if entry_lines.last() != Some(&r.line) {
                entry_lines.push(r.line);
            }
        }
    }
    for (file, h) in counters {
        let Some(&line) = entry_lines.get(h.entry.wrapping_sub(1)) else {
            warnings.push(WarningView {
                file: file.clone(),
                line: h.line,
                text: format!("{} entry {}", h.acl, h.entry),
                message: format!(
                    "`{}` has no entry {} in {}: the counters are from another version",
                    h.acl, h.entry, c.file
                ),
            });
            continue;
        };
        let Some(k) = acl.rules.iter().position(|r| r.line == line) else { continue };
        let reachable = acl.rules.iter().enumerate().any(|(i, r)| r.line == line && compiled.reachable(i));
        if h.count > 0 || !reachable {
            continue;
        }
        let r = &acl.rules[k];
        let message = format!("no hits in `show access-list` ({file}, line {}); a candidate for removal", h.line);
        out.push(FindingView::plain("unused", Severity::Low, &c.file, r.line, &acl.name, &r.text, message));
    }
}

/// NAT rules that never apply: earlier rules take every packet they name (first match),
/// over every pair of zones; or they match no packet at all.
fn nat_findings(file: &str, rules: &[policy::nat::NatRule], out: &mut Vec<FindingView>) -> Result<(), PolicyError> {
    if rules.is_empty() {
        return Ok(());
    }
    let too_large = |source| PolicyError::TooLarge { file: file.to_owned(), source };
    // As a zone policy whose every rule "permits": which rule takes a packet is all that counts.
    let deny = || zone::DefaultRule { name: "no translation".into(), action: policy::acl::Action::Deny, line: 0 };
    let as_policy = ZonePolicy {
        name: "nat".into(),
        line: rules[0].line,
        zones: Vec::new(),
        rules: rules
            .iter()
            .map(|r| zone::ZoneRule {
                name: r.name.clone(),
                line: r.line,
                from: r.from.clone(),
                to: r.to.clone(),
                kind: zone::RuleType::Universal,
                apps: zone::Labels::Any,
                users: zone::Labels::Any,
                action: policy::acl::Action::Permit,
                // A list read first-match (IOS) takes its permit entries' packets less what
                // earlier deny entries exempt: stated as its permits with a condition, it
                // can be found never to apply but never hides a later rule.
                matches: r
                    .matches
                    .iter()
                    .filter(|m| !r.first_match || m.action == policy::acl::Action::Permit)
                    .cloned()
                    .collect(),
                may: if r.first_match && r.matches.iter().any(|m| m.action != policy::acl::Action::Permit) {
                    vec!["unless a deny entry of its list exempts the packet".into()]
                } else {
                    Vec::new()
                },
                disabled: r.disabled,
                log: true,
            })
            .collect(),
        intrazone: deny(),
        interzone: deny(),
    };
    for f in as_policy.findings().map_err(too_large)?.into_iter().filter(|f| f.unreachable) {
        let r = &rules[f.rule];
        let related: Vec<RuleRef> = f
            .related
            .iter()
            .map(|&j| RuleRef { line: rules[j].line, rule: format!("nat rule {}", rules[j].name) })
            .collect();
        let message = match (f.kind, related.as_slice()) {
            (Kind::UndefinedReference, _) => "names an object that is not defined, so it never applies".to_owned(),
            (_, []) => "matches no packet, so it never applies".to_owned(),
            (_, [one]) => format!("never applies: {} takes every packet it names first", one.rule),
            (_, many) => {
                format!("never applies: {} and {} more take every packet it names first", many[0].rule, many.len() - 1)
            }
        };
        let mut v = FindingView::plain(
            "unreachable",
            Severity::Medium,
            file,
            r.line,
            "nat",
            &format!("nat rule {}", r.name),
            message,
        );
        v.related_total = related.len();
        v.related_rules = related;
        v.witness = f.witness.as_ref().map(|(w, _)| FlowView::from(w));
        v.scope = f.witness.as_ref().map(|(_, s)| ScopeView::of(s));
        out.push(v);
    }
    Ok(())
}

/// The rules of a zone policy no logged flow used: a log line that names its rule (PAN-OS)
/// counts for that rule; one that gives zones is replayed with them (its application, if
/// any, too). A policy no line reached says nothing.
fn zone_unused(file: &str, p: &ZonePolicy, logs: &Logs, never: &[usize], out: &mut Vec<FindingView>) {
    let mut hit: std::collections::HashSet<usize> = std::collections::HashSet::new();
    let mut seen = 0u64;
    for l in &logs.flows {
        let Some(z) = &l.zoned else { continue };
        let named = p.rules.iter().position(|r| r.name == z.rule);
        let decided = named.or_else(|| {
            let app = Some(z.application.as_str()).filter(|a| !a.is_empty());
            p.decide(&l.flow, &z.from_zone, &z.to_zone, app, None).pop().and_then(|c| c.rule)
        });
        if let Some(i) = decided {
            seen += l.count;
            hit.insert(p.rules[i].line);
        }
    }
    if seen == 0 {
        return;
    }
    let mut reported = std::collections::HashSet::new();
    for r in p.rules.iter().filter(|r| !r.disabled && !hit.contains(&r.line) && !never.contains(&r.line)) {
        if !reported.insert(r.line) {
            continue;
        }
        let message =
            format!("no logged flow used it ({seen} flows from {}); a candidate for removal", logs.files.join(", "));
        out.push(FindingView::plain("unused", Severity::Low, file, r.line, &p.name, &called(r), message));
    }
}

fn finding_view(file: &str, acl: &Acl, f: &Finding) -> FindingView {
    // "line 7 decides" / "lines 7, 9 decide": the related rules as a sentence subject.
    // At most eight lines in the sentence; all of them (up to a cap) in `related_rules`.
    let (who, decide) = match f.related.as_slice() {
        [one] => (format!("line {}", acl.rules[*one].line), "decides"),
        many => {
            let shown: Vec<String> = many.iter().take(8).map(|&j| acl.rules[j].line.to_string()).collect();
            let more = if many.len() > 8 { format!(" and {} more", many.len() - 8) } else { String::new() };
            (format!("lines {}{more}", shown.join(", ")), "decide")
        }
    };
    let message = explain(f.kind, f.unreachable, f.related.len(), &who, decide, "the implicit deny");
    FindingView {
        kind: f.kind.as_str(),
        severity: f.severity.as_str(),
        file: file.to_owned(),
        line: acl.rules[f.rule].line,
        filter: acl.name.clone(),
        rule: acl.rules[f.rule].text.clone(),
        related_rules: f.related.iter().take(MAX_RELATED).map(|&j| rule_ref(acl, j)).collect(),
        related_total: f.related.len(),
        witness: f.witness.as_ref().map(FlowView::from),
        scope: None,
        message,
        level: f.severity,
    }
}

/// Why a finding holds, in words: `who` are the related rules as a sentence subject.
fn explain(kind: Kind, unreachable: bool, related: usize, who: &str, decide: &str, default: &str) -> String {
    match kind {
        Kind::Shadowed => format!("never matches: {who} {decide} all its flows, with another action"),
        Kind::Redundant if unreachable => format!("never matches: {who} already {decide} all its flows the same way"),
        Kind::Redundant if related == 0 => format!("can be removed: {default} decides its flows the same way"),
        Kind::Redundant => format!("can be removed: {who} {decide} its flows the same way"),
        Kind::Generalization => format!("contains {who} with the opposite action (an exception that depends on order)"),
        Kind::Correlation => format!("overlaps {who} with the opposite action; rule order decides the overlap"),
        Kind::Unreachable => "matches no packet at all".to_owned(),
        Kind::UndefinedReference => "names an object that is not defined, so it matches nothing".to_owned(),
    }
}

/// Applications whose default ports the risky-rule checks judge: clear-text and management
/// protocols.
const RISKY_APPS: &[&str] =
    &["telnet", "ftp", "tftp", "rsh", "rlogin", "rexec", "pop3", "imap", "snmp", "ssh", "ms-rdp", "vnc"];

/// The findings on one zone policy: the analyses over every class of traffic, disabled
/// rules, and the pack's risky-rule checks. Returns the lines of the rules that never match.
fn zone_findings(
    file: &str,
    p: &ZonePolicy,
    pack: &Pack,
    out: &mut Vec<FindingView>,
) -> Result<Vec<usize>, PolicyError> {
    let too_large = |source| PolicyError::TooLarge { file: file.to_owned(), source };
    let cite = |i: usize| RuleRef { line: p.rules[i].line, rule: called(&p.rules[i]) };
    let found = p.findings().map_err(too_large)?;
    for f in &found {
        let mut related: Vec<RuleRef> = f.related.iter().map(|&j| cite(j)).collect();
        let default = match &f.witness {
            Some((_, s)) => p.default_for(&s.from, &s.to),
            None => &p.interzone,
        };
        if f.by_default {
            related.push(RuleRef { line: default.line, rule: default.name.clone() });
        }
        let names: Vec<String> = related.iter().take(8).map(|r| r.rule.clone()).collect();
        let more = if related.len() > 8 { format!(" and {} more", related.len() - 8) } else { String::new() };
        let (who, decide) = match related.len() {
            1 => (names[0].clone(), "decides"),
            _ => (format!("{}{more}", names.join(", ")), "decide"),
        };
        let mut message = explain(f.kind, f.unreachable, related.len(), &who, decide, &default.name);
        let r = &p.rules[f.rule];
        if !r.may.is_empty() {
            message.push_str(&format!(" (even if {})", r.may.join(" and ")));
        }
        let mut v = FindingView::plain(f.kind.as_str(), f.severity, file, r.line, &p.name, &called(r), message);
        v.related_total = related.len();
        related.truncate(MAX_RELATED);
        v.related_rules = related;
        v.witness = f.witness.as_ref().map(|(w, _)| FlowView::from(w));
        v.scope = f.witness.as_ref().map(|(_, s)| ScopeView::of(s));
        out.push(v);
    }
    let unreachable: Vec<usize> = found.iter().filter(|f| f.unreachable).map(|f| f.rule).collect();
    let mut seen = std::collections::HashSet::new();
    for r in &p.rules {
        if r.disabled && seen.insert(r.line) {
            let message = "disabled: it decides nothing; remove it or enable it".to_owned();
            out.push(FindingView::plain("risky", Severity::Low, file, r.line, &p.name, &called(r), message));
        }
        if r.disabled || unreachable.iter().any(|&u| p.rules[u].line == r.line) {
            continue;
        }
        // App-ID names the protocol: `web-browsing` on any TCP port is not Telnet. Rules
        // limited to applications are checked only when one of them is risky in itself.
        if let zone::Labels::Only(apps) = &r.apps
            && !apps.iter().any(|a| RISKY_APPS.contains(&a.as_str()))
        {
            continue;
        }
        let flat =
            Acl { name: p.name.clone(), line: p.line, family: policy::acl::Family::Any, rules: r.matches.clone() };
        for hit in pack::risky(pack, &flat) {
            let check = &pack.risky[hit.check];
            if !seen.insert((hit.check + 1) * 1_000_000_000 + r.line) {
                continue;
            }
            let message = format!("{} ({})", check.title, check.id);
            let mut f = FindingView::plain("risky", check.severity, file, r.line, &p.name, &called(r), message);
            f.witness = hit.witness.as_ref().map(FlowView::from);
            out.push(f);
        }
    }
    Ok(unreachable.iter().map(|&u| p.rules[u].line).collect())
}

/// A flow as the user gives it on the command line or in a form.
#[derive(Debug, Clone, Default)]
pub struct FlowQuery {
    pub src: String,
    pub dst: String,
    pub proto: String,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    pub icmp_type: Option<u8>,
    pub icmp_code: Option<u8>,
    pub established: bool,
    pub fragment: bool,
}

impl FlowQuery {
    pub fn flow(&self) -> Result<Flow, PolicyError> {
        let addr = |field: &'static str, v: &str| {
            v.parse::<IpAddr>()
                .map_err(|_| PolicyError::BadFlow { field, reason: format!("`{v}` is not an IP address") })
        };
        let (src, dst) = (addr("--src", &self.src)?, addr("--dst", &self.dst)?);
        if src.is_ipv4() != dst.is_ipv4() {
            return Err(PolicyError::BadFlow {
                field: "--dst",
                reason: "source and destination must be of the same address family".into(),
            });
        }
        let proto = match self.proto.to_ascii_lowercase().as_str() {
            "tcp" => 6,
            "udp" => 17,
            "icmp" if src.is_ipv6() => 58,
            "icmp" => 1,
            "icmpv6" | "ipv6-icmp" => 58,
            "gre" => 47,
            "esp" => 50,
            "ah" => 51,
            "ospf" => 89,
            p => p.parse::<u8>().map_err(|_| PolicyError::BadFlow {
                field: "--proto",
                reason: format!("`{p}` is not a protocol name (tcp, udp, icmp, gre, esp…) or number 0–255"),
            })?,
        };
        let ported = matches!(proto, 6 | 17);
        if !ported && (self.sport.is_some() || self.dport.is_some()) {
            return Err(PolicyError::BadFlow {
                field: "--dport",
                reason: format!("{} has no ports", proto_name(proto)),
            });
        }
        if ported && self.fragment && (self.sport.is_some() || self.dport.is_some()) {
            return Err(PolicyError::BadFlow {
                field: "--fragment",
                reason: "a non-initial fragment carries no ports".into(),
            });
        }
        let icmp = matches!(proto, 1 | 58).then(|| (self.icmp_type.unwrap_or(8), self.icmp_code.unwrap_or(0)));
        Ok(Flow {
            src,
            dst,
            proto,
            sport: if ported && !self.fragment { self.sport.unwrap_or(49152) } else { 0 },
            dport: if ported && !self.fragment { self.dport.unwrap_or(0) } else { 0 },
            icmp,
            established: proto == 6 && self.established,
            fragment: self.fragment,
        })
    }
}

/// Which rule of one filter decides a flow.
#[derive(Debug, Clone, Serialize)]
pub struct MatchView {
    pub file: String,
    pub filter: String,
    pub action: &'static str,
    /// The deciding rule as written; `implicit deny` when no rule matches.
    pub rule: String,
    /// The deciding rule's line; the filter's own line for the implicit deny.
    pub line: usize,
    /// True when a condition the configuration cannot decide (an application, a user, an
    /// FQDN) took part; IOS filters have none.
    pub may_match: bool,
    /// Every rule that would match, in order: the first decides, the rest never see it.
    pub also_matching: Vec<RuleRef>,
    pub flow: FlowView,
    /// For zone policies: the zones (and application) asked about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeView>,
    /// What the deciding rule depends on that the question left open (`may_match`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// When those conditions do not hold: the next candidates, the last one certain.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub otherwise: Vec<Otherwise>,
    /// The translation rule that takes the flow between these zones, and the flow after it
    /// (PAN-OS `test nat-policy-match`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat: Option<NatMatch>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NatMatch {
    pub rule: String,
    pub line: usize,
    pub translated: FlowView,
}

/// A later candidate of a may-match answer.
#[derive(Debug, Clone, Serialize)]
pub struct Otherwise {
    pub action: &'static str,
    pub rule: String,
    pub line: usize,
    pub conditions: Vec<String>,
}

/// Which filters a match runs on: a named one, the one bound inbound on an interface, or
/// every filter of the file.
#[derive(Debug, Clone, Default)]
pub struct FilterChoice {
    pub filter: Option<String>,
    pub in_interface: Option<String>,
    /// For zone policies (PAN-OS, SRX): the zones, and the application and user if known.
    pub from_zone: Option<String>,
    pub to_zone: Option<String>,
    pub application: Option<String>,
    pub user: Option<String>,
}

pub fn match_flow(config: &Config, choice: &FilterChoice, query: &FlowQuery) -> Result<Vec<MatchView>, PolicyError> {
    let flow = query.flow()?;
    let d = &config.device;
    if !d.zone_policies.is_empty() && (d.acls.is_empty() || choice.from_zone.is_some()) {
        return match_zones(config, choice, &flow);
    }
    let names: Vec<&str> = if let Some(name) = &choice.filter {
        vec![name.as_str()]
    } else if let Some(iface) = &choice.in_interface {
        let bound: Vec<&str> = d
            .bindings
            .iter()
            // ASA's `access-group NAME global` applies inbound on every interface too.
            .filter(|b| b.direction == "in" && b.interface.eq_ignore_ascii_case(iface) || b.direction == "global")
            .map(|b| b.acl.as_str())
            .collect();
        if bound.is_empty() {
            return Err(PolicyError::NoBinding { file: config.file.clone(), interface: iface.clone() });
        }
        bound
    } else {
        d.acls.iter().map(|a| a.name.as_str()).collect()
    };
    // ASA packet-tracer order: a packet arriving on an interface for a static NAT's mapped
    // address is un-NATed before the access list, which names real addresses.
    let mut unnat = None;
    if let Some(iface) = &choice.in_interface {
        let nameif = d
            .interfaces
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(iface) || i.nameif.as_deref() == Some(iface.as_str()))
            .and_then(|i| i.nameif.clone())
            .unwrap_or_else(|| iface.clone());
        unnat = d
            .nat
            .iter()
            .filter_map(|r| r.reverse())
            .find(|r| r.from.admits(Some(&nameif)) && r.takes(&flow))
            .map(|r| (r.name.clone(), r.line, r.translate(&flow, |_| None)));
    }
    let flow = unnat.as_ref().map_or(flow, |u| u.2);
    let family = if flow.src.is_ipv4() { policy::acl::Family::V4 } else { policy::acl::Family::V6 };
    let mut out = Vec::new();
    for name in names {
        let Some(acl) = d.acl(name) else {
            return Err(PolicyError::NoFilter {
                file: config.file.clone(),
                name: name.to_owned(),
                known: d.acls.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "),
            });
        };
        if choice.filter.is_none() && acl.family != family && acl.family != policy::acl::Family::Any {
            continue;
        }
        let decision = acl.decide(&flow);
        let also = acl.rules.iter().enumerate().filter(|(i, r)| Some(*i) != decision.rule && r.matches(&flow));
        out.push(MatchView {
            file: config.file.clone(),
            filter: acl.name.clone(),
            action: decision.action.as_str(),
            rule: decision.rule.map_or_else(|| "implicit deny".to_owned(), |i| acl.rules[i].text.clone()),
            line: decision.rule.map_or(acl.line, |i| acl.rules[i].line),
            may_match: false,
            also_matching: also.map(|(i, _)| rule_ref(acl, i)).collect(),
            flow: FlowView::from(&flow),
            scope: None,
            conditions: Vec::new(),
            otherwise: Vec::new(),
            nat: unnat.as_ref().map(|(rule, line, f)| NatMatch {
                rule: format!("un-NAT {rule}"),
                line: *line,
                translated: FlowView::from(f),
            }),
        });
    }
    Ok(out)
}

/// `match` on zone policies, like PAN-OS `test security-policy-match`: the first rule that
/// matches what the question settles, and, when it depends on something left open (an
/// application not given, an FQDN), what decides otherwise.
fn match_zones(config: &Config, choice: &FilterChoice, flow: &Flow) -> Result<Vec<MatchView>, PolicyError> {
    let d = &config.device;
    let zones: Vec<&str> = {
        let mut z: Vec<&str> = d.zone_policies.iter().flat_map(|p| p.zones.iter().map(String::as_str)).collect();
        z.dedup();
        z
    };
    let (Some(from), Some(to)) = (&choice.from_zone, &choice.to_zone) else {
        return Err(PolicyError::BadFlow {
            field: "--from-zone",
            reason: format!(
                "{} holds zone policies: give --from-zone and --to-zone (zones: {})",
                config.file,
                if zones.is_empty() { "none defined".to_owned() } else { zones.join(", ") }
            ),
        });
    };
    let mut out = Vec::new();
    for p in &d.zone_policies {
        if choice.filter.as_ref().is_some_and(|f| f != &p.name) {
            continue;
        }
        let cands = p.decide(flow, from, to, choice.application.as_deref(), choice.user.as_deref());
        let view = |c: &zone::Candidate| match c.rule {
            Some(i) => (c.action.as_str(), called(&p.rules[i]), p.rules[i].line),
            None => {
                let dr = p.default_for(from, to);
                (c.action.as_str(), dr.name.clone(), dr.line)
            }
        };
        let (action, rule, line) = view(&cands[0]);
        let decided = cands.last().and_then(|c| c.rule);
        // The rules after the deciding one that match too (they never see the flow).
        let mut also: Vec<RuleRef> = match decided {
            Some(k) => p.rules[k + 1..]
                .iter()
                .filter(|r| r.line != p.rules[k].line && !r.disabled)
                .filter(|r| r.from.admits(Some(from)) && r.to.admits(Some(to)))
                .filter(|r| r.matches.iter().any(|m| m.matches(flow)))
                .map(|r| RuleRef { line: r.line, rule: called(r) })
                .collect(),
            None => Vec::new(),
        };
        also.dedup();
        out.push(MatchView {
            file: config.file.clone(),
            filter: p.name.clone(),
            action,
            rule,
            line,
            may_match: cands.len() > 1,
            also_matching: also,
            flow: FlowView::from(flow),
            scope: Some(ScopeView {
                from_zone: from.clone(),
                to_zone: to.clone(),
                application: choice.application.clone(),
            }),
            conditions: cands[0].undecided.clone(),
            otherwise: cands[1..]
                .iter()
                .map(|c| {
                    let (action, rule, line) = view(c);
                    Otherwise { action, rule, line, conditions: c.undecided.clone() }
                })
                .collect(),
            nat: policy::nat::first(&d.nat, flow, from, to).map(|r| NatMatch {
                rule: format!("nat rule {}", r.name),
                line: r.line,
                translated: FlowView::from(&r.translate(flow, |iface| {
                    let i = d.interfaces.iter().find(|i| i.name == iface)?;
                    i.addresses.iter().find_map(|a| policy::route::parse_prefix(a)).map(|p| p.0)
                })),
            }),
        });
    }
    if out.is_empty() {
        let known: Vec<&str> = d.zone_policies.iter().map(|p| p.name.as_str()).collect();
        return Err(PolicyError::NoFilter {
            file: config.file.clone(),
            name: choice.filter.clone().unwrap_or_default(),
            known: known.join(", "),
        });
    }
    Ok(out)
}

/// Flows one change decides differently, for one block of them.
#[derive(Debug, Clone, Serialize)]
pub struct DiffBlockView {
    pub filter: String,
    pub old_action: &'static str,
    pub new_action: &'static str,
    /// The rule that decided these flows before; `None` for the implicit deny.
    pub old_rule: Option<RuleRef>,
    pub new_rule: Option<RuleRef>,
    pub src: Vec<String>,
    pub dst: Vec<String>,
    pub proto: Vec<String>,
    pub sport: Vec<String>,
    pub dport: Vec<String>,
    /// The block is exactly these ranges (otherwise they bound it).
    pub exact: bool,
    /// How many distinct packet headers the block holds.
    pub flows: f64,
    pub witness: FlowView,
    /// For zone policies: the zone pairs (`from→to`) where these flows change, and the
    /// applications (`any other` for those no rule names); empty when all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    pub old: String,
    pub new: String,
    pub blocks: Vec<DiffBlockView>,
    /// Filters in only one of the two versions.
    pub only_old: Vec<String>,
    pub only_new: Vec<String>,
}

/// What changes between two versions of a configuration, filter by filter (filters are
/// paired by name).
pub fn diff(old: &Config, new: &Config) -> Result<DiffReport, PolicyError> {
    let mut report = DiffReport {
        old: old.file.clone(),
        new: new.file.clone(),
        blocks: Vec::new(),
        only_old: Vec::new(),
        only_new: new
            .device
            .acls
            .iter()
            .filter(|a| old.device.acl(&a.name).is_none())
            .map(|a| a.name.clone())
            .collect(),
    };
    for a in &old.device.acls {
        let Some(b) = new.device.acl(&a.name) else {
            report.only_old.push(a.name.clone());
            continue;
        };
        report.blocks.extend(diff_filters(&new.file, a, b)?);
    }
    let (olds, news) = (&old.device.zone_policies, &new.device.zone_policies);
    report.only_new.extend(news.iter().filter(|p| !olds.iter().any(|o| o.name == p.name)).map(|p| p.name.clone()));
    for a in olds {
        let Some(b) = news.iter().find(|p| p.name == a.name) else {
            report.only_old.push(a.name.clone());
            continue;
        };
        report.blocks.extend(diff_zone_policies(&new.file, a, b)?);
    }
    Ok(report)
}

/// The diff of two versions of a zone policy, class of traffic by class.
pub fn diff_zone_policies(file: &str, old: &ZonePolicy, new: &ZonePolicy) -> Result<Vec<DiffBlockView>, PolicyError> {
    let too_large = |source| PolicyError::TooLarge { file: file.to_owned(), source };
    let cite = |p: &ZonePolicy, origin: &[Option<usize>], k: Option<usize>, from: &str, to: &str| {
        k.map(|k| match origin[k] {
            Some(i) => RuleRef { line: p.rules[i].line, rule: called(&p.rules[i]) },
            None => {
                let d = p.default_for(from, to);
                RuleRef { line: d.line, rule: d.name.clone() }
            }
        })
    };
    let mut out = Vec::new();
    let space = HeaderSpace::new();
    for (scopes, acls) in zone::slices(&[old, new], true) {
        let [(a, oa), (b, ob)] = [&acls[0], &acls[1]];
        if a.rules == b.rules {
            continue;
        }
        let blocks = policy::diff::diff(&space, a, b).map_err(too_large)?;
        if blocks.is_empty() {
            continue;
        }
        let (from, to) = (&scopes[0].from, &scopes[0].to);
        let mut zones: Vec<String> = scopes.iter().map(|s| format!("{}→{}", s.from, s.to)).collect();
        zones.dedup();
        let mut applications: Vec<String> = scopes
            .iter()
            .flat_map(|s| s.apps.iter().map(|a| a.clone().unwrap_or_else(|| "any other".into())))
            .collect();
        applications.sort();
        applications.dedup();
        if applications == ["any other"] {
            applications.clear();
        }
        for b in blocks {
            let mut v =
                block_view(&old.name, &b, cite(old, oa, b.old_rule, from, to), cite(new, ob, b.new_rule, from, to));
            v.zones = zones.clone();
            v.applications = applications.clone();
            out.push(v);
        }
    }
    Ok(out)
}

/// The diff of two versions of one filter: what change review calls for a proposed edit.
pub fn diff_filters(file: &str, old: &Acl, new: &Acl) -> Result<Vec<DiffBlockView>, PolicyError> {
    let too_large = |source| PolicyError::TooLarge { file: file.to_owned(), source };
    let space = HeaderSpace::new();
    let blocks = policy::diff::diff(&space, old, new).map_err(too_large)?;
    Ok(blocks
        .into_iter()
        .map(|b| {
            let (o, n) = (b.old_rule.map(|i| rule_ref(old, i)), b.new_rule.map(|i| rule_ref(new, i)));
            block_view(&old.name, &b, o, n)
        })
        .collect())
}

fn block_view(
    filter: &str,
    b: &policy::diff::Block,
    old_rule: Option<RuleRef>,
    new_rule: Option<RuleRef>,
) -> DiffBlockView {
    let Summary { src, dst, proto, sport, dport, exact } = &b.summary;
    DiffBlockView {
        filter: filter.to_owned(),
        old_action: b.old_action.as_str(),
        new_action: b.new_action.as_str(),
        old_rule,
        new_rule,
        src: src.iter().map(|&(lo, hi)| ip_range(lo, hi)).collect(),
        dst: dst.iter().map(|&(lo, hi)| ip_range(lo, hi)).collect(),
        proto: proto_ranges(proto),
        sport: sport.iter().map(|&r| port_range(r)).collect(),
        dport: dport.iter().map(|&r| port_range(r)).collect(),
        exact: *exact,
        flows: b.size,
        witness: FlowView::from(&b.witness),
        zones: Vec::new(),
        applications: Vec::new(),
    }
}

/// Protocol ranges as people write them: `any` for all, a name for one (`tcp`), `lo-hi`
/// for a run of numbers.
fn proto_ranges(ranges: &[(u16, u16)]) -> Vec<String> {
    if ranges == [(0, 255)] {
        return vec!["any".into()];
    }
    ranges
        .iter()
        .map(|&(lo, hi)| {
            let name = |p: u16| proto_name(u8::try_from(p).unwrap_or(u8::MAX));
            if lo == hi { name(lo) } else { format!("{}-{}", name(lo), name(hi)) }
        })
        .collect()
}

/// `10.0.0.0/8` when the range is a prefix, `a–b` otherwise, `any` for everything.
fn ip_range(lo: IpAddr, hi: IpAddr) -> String {
    let (l, h, bits) = match (lo, hi) {
        (IpAddr::V4(l), IpAddr::V4(h)) => (u128::from(u32::from(l)), u128::from(u32::from(h)), 32),
        (IpAddr::V6(l), IpAddr::V6(h)) => (u128::from(l), u128::from(h), 128),
        _ => return format!("{lo}-{hi}"),
    };
    let span = h - l;
    if span.checked_add(1).is_none_or(|n| n.is_power_of_two() && l & span == 0) {
        let len = bits - (span.count_ones());
        if len == 0 {
            return if bits == 32 { "any4".into() } else { "any6".into() };
        }
        return if len == bits { lo.to_string() } else { format!("{lo}/{len}") };
    }
    format!("{lo}-{hi}")
}

fn port_range((lo, hi): (u16, u16)) -> String {
    match (lo, hi) {
        (0, u16::MAX) => "any".into(),
        (l, h) if l == h => l.to_string(),
        (l, h) => format!("{l}-{h}"),
    }
}

/// Rules that can go, and the proof that the filter decides every flow as before.
#[derive(Debug, Clone, Serialize)]
pub struct CleanupPlan {
    pub file: String,
    pub filter: String,
    pub rules: usize,
    pub remove: Vec<Removal>,
    /// The filter without those rules was compiled and its decision function compared with
    /// the original's, over every flow: true means identical.
    pub decisions_unchanged: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Removal {
    pub line: usize,
    pub rule: String,
    pub reason: String,
}

/// Which rules each filter can lose without changing a single decision (see
/// [`policy::analysis::cleanup`]). An explicit final deny is kept. Zone policies likewise,
/// over every class of traffic (see [`ZonePolicy::cleanup`]).
pub fn cleanup(config: &Config) -> Result<Vec<CleanupPlan>, PolicyError> {
    let mut plans = Vec::new();
    for p in &config.device.zone_policies {
        let too_large = |source| PolicyError::TooLarge { file: config.file.clone(), source };
        let found = p.findings().map_err(too_large)?;
        let (gone, proven) = p.cleanup().map_err(too_large)?;
        if gone.is_empty() {
            continue;
        }
        let remove = gone
            .iter()
            .map(|&h| {
                let f = found.iter().find(|f| f.rule == h && (f.unreachable || f.kind == Kind::Redundant));
                let reason = match f {
                    Some(f) if f.kind == Kind::Unreachable => "its zones or addresses never meet any traffic",
                    Some(f) if f.unreachable => "earlier rules decide every flow it names",
                    _ => "later rules or the default decide its flows the same way",
                };
                Removal { line: p.rules[h].line, rule: called(&p.rules[h]), reason: reason.to_owned() }
            })
            .collect();
        plans.push(CleanupPlan {
            file: config.file.clone(),
            filter: p.name.clone(),
            rules: zone_rules(p),
            remove,
            decisions_unchanged: proven,
        });
    }
    for acl in &config.device.acls {
        let too_large = |source| PolicyError::TooLarge { file: config.file.clone(), source };
        let space = HeaderSpace::new();
        let c = analysis::compile(&space, acl).map_err(too_large)?;
        let (gone, proven) = analysis::cleanup(&space, acl, &c).map_err(too_large)?;
        if gone.is_empty() {
            continue;
        }
        let mut remove = Vec::with_capacity(gone.len());
        for &i in &gone {
            let reason = if c.matches_nothing(&space, i).map_err(too_large)? {
                "matches no packet"
            } else if !c.reachable(i) {
                "earlier rules decide every flow it names"
            } else {
                "later rules decide its flows the same way"
            };
            remove.push(Removal {
                line: acl.rules[i].line,
                rule: acl.rules[i].text.clone(),
                reason: reason.to_owned(),
            });
        }
        plans.push(CleanupPlan {
            file: config.file.clone(),
            filter: acl.name.clone(),
            rules: acl.rules.len(),
            remove,
            decisions_unchanged: proven,
        });
    }
    Ok(plans)
}
