//! Active checks' rules, as Nagios defines them so that any Nagios-compatible plugin works:
//! exit codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), plugin output (a status line, long
//! text, and performance data after `|`), threshold ranges (`10`, `10:`, `~:10`, `10:20`,
//! `@10:20`), and soft and hard states: a problem is confirmed (hard) only after
//! `max_attempts` consecutive non-OK results, checked again meanwhile at the retry interval.

use crate::{FieldError, Invalid};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Status {
    /// A plugin's exit code; anything but 0–2 is UNKNOWN (as Nagios reads a crash or a
    /// signal).
    pub fn from_exit(code: Option<i32>) -> Status {
        match code {
            Some(0) => Status::Ok,
            Some(1) => Status::Warning,
            Some(2) => Status::Critical,
            _ => Status::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Critical => "critical",
            Status::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Ok, Status::Warning, Status::Critical, Status::Unknown].into_iter().find(|x| x.as_str() == s)
    }

    /// Syslog's severity for an event saying a check is in this state.
    pub fn severity(self) -> u8 {
        match self {
            Status::Ok => 6,
            Status::Warning => 4,
            Status::Critical => 2,
            Status::Unknown => 3,
        }
    }

    /// The worse of two.
    pub fn worst(self, other: Status) -> Status {
        let rank = |s: Status| match s {
            Status::Ok => 0,
            Status::Unknown => 1,
            Status::Warning => 2,
            Status::Critical => 3,
        };
        if rank(other) > rank(self) { other } else { self }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().to_uppercase())
    }
}

/// A Nagios threshold range: a value alerts when it falls outside `start..=end`, or inside it
/// with `@`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub start: f64,
    pub end: f64,
    pub inside: bool,
}

impl Range {
    /// `10` (0–10), `10:` (10 or more), `~:10` (up to 10), `10:20`, `@10:20` (alert inside).
    pub fn parse(s: &str) -> Option<Range> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        let (inside, s) = match s.strip_prefix('@') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let num = |t: &str| t.parse::<f64>().ok().filter(|v| v.is_finite());
        let (start, end) = match s.split_once(':') {
            Some((a, b)) => {
                let start = if a == "~" {
                    f64::NEG_INFINITY
                } else if a.is_empty() {
                    0.0
                } else {
                    num(a)?
                };
                let end = if b.is_empty() { f64::INFINITY } else { num(b)? };
                (start, end)
            }
            None => (0.0, num(s)?),
        };
        (start <= end).then_some(Range { start, end, inside })
    }

    /// Nagios' plain `N`: alert above `end` (or below 0).
    pub fn upto(end: f64) -> Range {
        Range { start: 0.0, end, inside: false }
    }

    pub fn alerts(&self, v: f64) -> bool {
        let within = v >= self.start && v <= self.end;
        if self.inside { within } else { !within }
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inside {
            f.write_str("@")?;
        }
        match (self.start, self.end) {
            (s, e) if s == 0.0 && e.is_finite() => write!(f, "{e}"),
            (s, e) if e.is_infinite() => write!(f, "{}:", if s.is_infinite() { "~".to_owned() } else { s.to_string() }),
            (s, e) if s.is_infinite() => write!(f, "~:{e}"),
            (s, e) => write!(f, "{s}:{e}"),
        }
    }
}

/// The status a value earns against warning and critical thresholds.
pub fn judge(v: f64, warn: Option<&Range>, crit: Option<&Range>) -> Status {
    if crit.is_some_and(|r| r.alerts(v)) {
        Status::Critical
    } else if warn.is_some_and(|r| r.alerts(v)) {
        Status::Warning
    } else {
        Status::Ok
    }
}

/// One performance-data item: `'label'=value[UOM];[warn];[crit];[min];[max]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PerfDatum {
    pub label: String,
    pub value: f64,
    /// s, ms, us, %, B, KB, MB, TB, c (a counter), or empty.
    pub unit: String,
    pub warn: Option<Range>,
    pub crit: Option<Range>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// A plugin's output, read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PluginOutput {
    /// The first line, before any `|`.
    pub text: String,
    /// The lines after the first, before any `|`.
    pub long_text: String,
    pub perfdata: Vec<PerfDatum>,
    /// Performance data items that did not read, as written.
    pub bad_perfdata: Vec<String>,
}

/// Reads plugin output as Nagios does: `TEXT | PERFDATA` on the first line, then long text,
/// then more performance data after a `|` on a later line.
pub fn parse_output(out: &str) -> PluginOutput {
    let mut lines = out.lines();
    let first = lines.next().unwrap_or("");
    let (text, mut perf) = match first.split_once('|') {
        Some((t, p)) => (t.trim().to_owned(), p.trim().to_owned()),
        None => (first.trim().to_owned(), String::new()),
    };
    let mut long = Vec::new();
    let mut in_perf = false;
    for line in lines {
        if in_perf {
            perf.push(' ');
            perf.push_str(line.trim());
            continue;
        }
        match line.split_once('|') {
            Some((t, p)) => {
                long.push(t.trim_end());
                perf.push(' ');
                perf.push_str(p.trim());
                in_perf = true;
            }
            None => long.push(line.trim_end()),
        }
    }
    let (perfdata, bad_perfdata) = parse_perfdata(&perf);
    PluginOutput { text, long_text: long.join("\n").trim().to_owned(), perfdata, bad_perfdata }
}

/// What the `plugin_output` fuzz target runs (and `cargo test` replays its seeds through):
/// any bytes read as a plugin's output, every value judged against its thresholds. A datum is
/// never both read and refused, and nothing read is lost from the text.
pub fn fuzz_one(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let out = parse_output(&text);
    for d in &out.perfdata {
        let _ = judge(d.value, d.warn.as_ref(), d.crit.as_ref());
        assert!(!d.label.is_empty(), "a datum without a label is refused, not read");
    }
    assert!(!out.text.contains('\n'), "the text is one line");
}

/// Splits performance data into items (labels may be quoted and hold spaces; `''` is a quote
/// inside a quoted label) and reads each.
pub fn parse_perfdata(s: &str) -> (Vec<PerfDatum>, Vec<String>) {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if quoted && chars.peek() == Some(&'\'') => {
                cur.push('\'');
                cur.push('\'');
                chars.next();
            }
            '\'' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    items.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        items.push(cur);
    }
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for item in items {
        match perf_datum(&item) {
            Some(d) => good.push(d),
            None => bad.push(item),
        }
    }
    (good, bad)
}

fn perf_datum(item: &str) -> Option<PerfDatum> {
    let (label, rest) = item.rsplit_once('=')?;
    let label = match label.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')) {
        Some(q) => q.replace("''", "'"),
        None => label.to_owned(),
    };
    if label.is_empty() {
        return None;
    }
    let mut fields = rest.split(';');
    let value_unit = fields.next()?;
    let split = value_unit
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(value_unit.len());
    let (num, unit) = value_unit.split_at(split);
    let value: f64 = num.parse().ok().filter(|v: &f64| v.is_finite())?;
    let unit = unit.to_owned();
    if !unit.is_empty() && !unit.chars().all(|c| c.is_ascii_alphabetic() || c == '%') {
        return None;
    }
    fn opt(f: Option<&str>) -> Option<&str> {
        f.map(str::trim).filter(|t| !t.is_empty())
    }
    let warn = opt(fields.next()).and_then(Range::parse);
    let crit = opt(fields.next()).and_then(Range::parse);
    let min = opt(fields.next()).and_then(|t| t.parse().ok());
    let max = opt(fields.next()).and_then(|t| t.parse().ok());
    Some(PerfDatum { label, value, unit, warn, crit, min, max })
}

/// What a check does, as people write it (JSON), for an item whose address and name fill
/// `$HOSTADDRESS$` and `$HOSTNAME$`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Probe {
    /// Echo requests: loss, round trip and jitter.
    Icmp {
        #[serde(default = "five")]
        count: u32,
        #[serde(default = "rtt_warn")]
        rtt_warn_ms: f64,
        #[serde(default = "rtt_crit")]
        rtt_crit_ms: f64,
        #[serde(default = "loss_warn")]
        loss_warn_pct: f64,
        #[serde(default = "loss_crit")]
        loss_crit_pct: f64,
    },
    /// A TCP connection to `port`.
    Tcp { port: u16, warn_ms: Option<f64>, crit_ms: Option<f64> },
    /// An HTTP(S) request: status, a regular expression the body must match, latency, and for
    /// HTTPS the days left on the server's certificate.
    Http {
        url: String,
        /// Statuses that are OK (default: 200–399).
        #[serde(default)]
        expect_status: Vec<u16>,
        body_match: Option<String>,
        warn_ms: Option<f64>,
        crit_ms: Option<f64>,
        cert_warn_days: Option<i64>,
        cert_crit_days: Option<i64>,
    },
    /// A DNS lookup, as Nagios' check_dns: `name`'s `record` asked of `server` (by default
    /// the item itself, a DNS server under watch), CRITICAL without an answer, on an error
    /// code, or when an `expect`ed value is missing; latency thresholds in milliseconds.
    Dns {
        name: String,
        #[serde(default = "record_a")]
        record: String,
        /// The server asked: an address or `$HOSTADDRESS$` (the default).
        server: Option<String>,
        #[serde(default = "dns_port")]
        port: u16,
        /// Values the answer must hold (addresses, names; `10 mx.example.org` for MX).
        #[serde(default)]
        expect: Vec<String>,
        warn_ms: Option<f64>,
        crit_ms: Option<f64>,
    },
    /// Any Nagios-compatible plugin: the program and its arguments (no shell).
    Plugin { command: Vec<String> },
    /// SNMP polling (v2c or v3) of IF-MIB and sysUpTime: traffic, utilisation, errors and
    /// discards per interface, links going down and up, and agent restarts. The credential
    /// is named here and defined in the server's configuration, so no community or
    /// passphrase is ever part of a check anyone can read.
    Snmp {
        credential: String,
        #[serde(default = "snmp_port")]
        port: u16,
        #[serde(default = "util_warn")]
        util_warn_pct: f64,
        #[serde(default = "util_crit")]
        util_crit_pct: f64,
        /// Errors per second (in and out) on an interface past which the check warns.
        errors_warn_per_s: Option<f64>,
        /// Only interfaces whose name matches this regular expression (default: all).
        interfaces: Option<String>,
    },
}

fn snmp_port() -> u16 {
    161
}
fn dns_port() -> u16 {
    53
}
fn record_a() -> String {
    "A".into()
}

/// The record types a DNS check may ask for (`intake::dns` reads each).
pub const DNS_RECORD_TYPES: [&str; 8] = ["A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA"];
fn util_warn() -> f64 {
    80.0
}
fn util_crit() -> f64 {
    95.0
}

fn five() -> u32 {
    5
}
fn rtt_warn() -> f64 {
    200.0
}
fn rtt_crit() -> f64 {
    500.0
}
fn loss_warn() -> f64 {
    20.0
}
fn loss_crit() -> f64 {
    60.0
}

impl Probe {
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Icmp { .. } => "icmp",
            Probe::Tcp { .. } => "tcp",
            Probe::Http { .. } => "http",
            Probe::Plugin { .. } => "plugin",
            Probe::Snmp { .. } => "snmp",
            Probe::Dns { .. } => "dns",
        }
    }
}

/// A check as defined: what to run, how often, and how patiently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    pub name: String,
    pub probe: Probe,
    /// Seconds between checks while OK or confirmed (default 60).
    #[serde(default = "sixty")]
    pub interval_s: u32,
    /// Seconds between checks while a problem is being confirmed (default 10).
    #[serde(default = "ten")]
    pub retry_interval_s: u32,
    /// Seconds a check may take (default 10); past it the result is CRITICAL, as Nagios'
    /// `service_check_timeout_state`.
    #[serde(default = "ten")]
    pub timeout_s: u32,
    /// Consecutive non-OK results that confirm a problem (default 3).
    #[serde(default = "three")]
    pub max_attempts: u32,
    /// Each run starts up to this many seconds after its slot, at random (default 0), so that
    /// checks on a shared path or a target's own periodic work do not keep meeting.
    #[serde(default)]
    pub jitter_s: u32,
}

fn sixty() -> u32 {
    60
}
fn ten() -> u32 {
    10
}
fn three() -> u32 {
    3
}

impl CheckSpec {
    /// Names every field out of bounds.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut e = Vec::new();
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            e.push(FieldError::new("name", "1 to 100 characters"));
        }
        if !(1..=86_400).contains(&self.interval_s) {
            e.push(FieldError::new("interval_s", "1 to 86400 seconds"));
        }
        if !(1..=86_400).contains(&self.retry_interval_s) {
            e.push(FieldError::new("retry_interval_s", "1 to 86400 seconds"));
        }
        if !(1..=300).contains(&self.timeout_s) {
            e.push(FieldError::new("timeout_s", "1 to 300 seconds"));
        }
        if !(1..=10).contains(&self.max_attempts) {
            e.push(FieldError::new("max_attempts", "1 to 10"));
        }
        if self.jitter_s > self.interval_s / 2 {
            e.push(FieldError::new("jitter_s", format!("0 to half of interval_s ({} seconds)", self.interval_s / 2)));
        }
        match &self.probe {
            Probe::Icmp { count, .. } if !(1..=20).contains(count) => {
                e.push(FieldError::new("probe.count", "1 to 20 echo requests"))
            }
            Probe::Tcp { port: 0, .. } => e.push(FieldError::new("probe.port", "1 to 65535")),
            Probe::Http { url, body_match, .. } => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    e.push(FieldError::new("probe.url", "an http:// or https:// URL ($HOSTADDRESS$ allowed)"));
                }
                if let Some(re) = body_match
                    && regex::Regex::new(re).is_err()
                {
                    e.push(FieldError::new("probe.body_match", format!("`{re}` is not a regular expression")));
                }
            }
            Probe::Dns { name, record, port, .. } => {
                let bad_label = |l: &str| l.is_empty() || l.len() > 63;
                let n = name.trim().trim_end_matches('.');
                if n.is_empty() || n.len() > 253 || n.split('.').any(bad_label) {
                    e.push(FieldError::new("probe.name", "a DNS name: labels of 1 to 63 bytes, 253 in all"));
                }
                if !DNS_RECORD_TYPES.iter().any(|t| t.eq_ignore_ascii_case(record)) {
                    e.push(FieldError::new("probe.record", format!("one of {}", DNS_RECORD_TYPES.join(", "))));
                }
                if *port == 0 {
                    e.push(FieldError::new("probe.port", "1 to 65535"));
                }
            }
            Probe::Plugin { command } if command.first().is_none_or(|c| !c.starts_with('/')) => {
                e.push(FieldError::new("probe.command", "the plugin's absolute path first, then its arguments"))
            }
            Probe::Snmp { credential, port, util_warn_pct, util_crit_pct, interfaces, .. } => {
                if credential.trim().is_empty() {
                    e.push(FieldError::new("probe.credential", "the name of an [[intake.snmp_credentials]] entry"));
                }
                if *port == 0 {
                    e.push(FieldError::new("probe.port", "1 to 65535"));
                }
                if !(0.0..=100.0).contains(util_warn_pct) || !(0.0..=100.0).contains(util_crit_pct) {
                    e.push(FieldError::new("probe.util_warn_pct", "utilisation thresholds are percentages, 0 to 100"));
                }
                if let Some(re) = interfaces
                    && regex::Regex::new(re).is_err()
                {
                    e.push(FieldError::new("probe.interfaces", format!("`{re}` is not a regular expression")));
                }
            }
            _ => {}
        }
        Invalid::check(e)
    }
}

/// Fills Nagios' host macros in a probe's text.
pub fn expand(text: &str, address: &str, name: &str) -> String {
    text.replace("$HOSTADDRESS$", address).replace("$HOSTNAME$", name)
}

/// What one run of a check found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub output: PluginOutput,
    /// How long it took.
    pub duration_ms: f64,
    /// Things the probe saw change on the item besides its status (an interface going down,
    /// the agent restarting), each an event of its own.
    pub signals: Vec<Signal>,
    /// What the next run is judged against (an SNMP poll's counters and uptime), when the
    /// probe compares runs.
    pub baseline: Option<crate::ifmib::Snapshot>,
}

/// Something a probe saw happen, as an event would say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    /// `interface`, `device.restart`…
    pub kind: String,
    pub object: String,
    pub up: Option<bool>,
    /// 0 emergency … 7 debug.
    pub severity: u8,
    pub mnemonic: String,
    pub text: String,
}

impl Outcome {
    /// A result in plugin shape: `TEXT` and its performance data.
    pub fn new(status: Status, text: String, perfdata: Vec<PerfDatum>, duration_ms: f64) -> Outcome {
        Outcome {
            status,
            output: PluginOutput { text, perfdata, ..PluginOutput::default() },
            duration_ms,
            signals: Vec::new(),
            baseline: None,
        }
    }
}

impl PerfDatum {
    pub fn new(label: &str, value: f64, unit: &str) -> PerfDatum {
        PerfDatum { label: label.into(), value, unit: unit.into(), warn: None, crit: None, min: None, max: None }
    }

    pub fn thresholds(mut self, warn: Option<f64>, crit: Option<f64>) -> PerfDatum {
        self.warn = warn.map(Range::upto);
        self.crit = crit.map(Range::upto);
        self
    }
}

/// Where a check stands: its current status, whether that is confirmed (hard), and which
/// attempt the current problem is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckState {
    pub status: Status,
    pub hard: bool,
    pub attempt: u32,
    /// The last confirmed status: what the event console and incidents know.
    pub hard_status: Status,
}

impl Default for CheckState {
    /// A new check is presumed OK until it says otherwise, as Nagios starts services.
    fn default() -> Self {
        CheckState { status: Status::Ok, hard: true, attempt: 1, hard_status: Status::Ok }
    }
}

/// What a result did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// No change of status.
    Same,
    /// A change not yet confirmed (or a recovery from one): retry soon, tell nobody.
    Soft,
    /// A confirmed change: from the last hard status to this one.
    Hard { from: Status, to: Status },
}

/// Nagios' state logic for one result, with `max_attempts` (at least 1).
pub fn next(s: CheckState, result: Status, max_attempts: u32) -> (CheckState, Transition) {
    let max = max_attempts.max(1);
    let hard_change = |to: Status| {
        (
            CheckState { status: to, hard: true, attempt: if to == Status::Ok { 1 } else { max }, hard_status: to },
            Transition::Hard { from: s.hard_status, to },
        )
    };
    match (s.status, result) {
        (Status::Ok, Status::Ok) => (CheckState { attempt: 1, hard: true, ..s }, Transition::Same),
        (_, Status::Ok) if s.hard => hard_change(Status::Ok),
        // Back to OK before the problem was confirmed: a soft recovery nobody is told of.
        (_, Status::Ok) => {
            (CheckState { status: Status::Ok, hard: true, attempt: 1, hard_status: s.hard_status }, Transition::Soft)
        }
        (Status::Ok, bad) if max == 1 => hard_change(bad),
        (Status::Ok, bad) => {
            (CheckState { status: bad, hard: false, attempt: 1, hard_status: s.hard_status }, Transition::Soft)
        }
        (_, bad) if s.hard => {
            if bad == s.status {
                (s, Transition::Same)
            } else {
                hard_change(bad)
            }
        }
        (_, bad) => {
            let attempt = s.attempt + 1;
            if attempt >= max {
                hard_change(bad)
            } else {
                (CheckState { status: bad, hard: false, attempt, hard_status: s.hard_status }, Transition::Soft)
            }
        }
    }
}

/// When a check runs next: `(slot, at)`. Slots keep the check's cadence from where it was
/// scheduled, not from when its probe finished, so a slow target does not stretch its own
/// interval (Nagios schedules from the check's start); a slot already missed — the probe
/// outran the wait — is taken now. `at` is the slot plus the jitter (`unit` in `[0, 1)`), at
/// most half the wait, so runs never swap order and the jitter never adds up.
pub fn next_run(slot: i64, wait_ms: i64, jitter_ms: i64, now: i64, unit: f64) -> (i64, i64) {
    let slot = (slot + wait_ms).max(now);
    let spread = jitter_ms.clamp(0, wait_ms / 2);
    // The product is below `spread`, which is an i64.
    (slot, slot + (spread as f64 * unit.clamp(0.0, 1.0)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzz_seeds_read_as_the_plugins_meant() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/plugin_output");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).expect("seed directory") {
            fuzz_one(&std::fs::read(entry.unwrap().path()).unwrap());
            n += 1;
        }
        assert!(n >= 5, "only {n} seeds");
        let ping = parse_output(&std::fs::read_to_string(dir.join("check_ping.txt")).unwrap());
        assert_eq!(ping.perfdata.iter().map(|d| d.label.as_str()).collect::<Vec<_>>(), ["rta", "pl"]);
        let bad = parse_output(&std::fs::read_to_string(dir.join("bad_perfdata.txt")).unwrap());
        assert!(bad.bad_perfdata.len() >= 3, "{:?}", bad.bad_perfdata);
    }
    use proptest::prelude::*;

    #[test]
    fn ranges_as_nagios_writes_them() {
        let r = |s: &str| Range::parse(s).unwrap();
        assert!(r("10").alerts(11.0) && r("10").alerts(-1.0) && !r("10").alerts(5.0));
        assert!(r("10:").alerts(9.0) && !r("10:").alerts(10.0));
        assert!(r("~:10").alerts(11.0) && !r("~:10").alerts(-50.0));
        assert!(r("10:20").alerts(21.0) && !r("10:20").alerts(15.0));
        assert!(r("@10:20").alerts(15.0) && !r("@10:20").alerts(25.0));
        assert_eq!(Range::parse("20:10"), None);
        assert_eq!(Range::parse("x"), None);
        for s in ["10", "10:", "~:10", "10:20", "@10:20"] {
            assert_eq!(r(s).to_string(), s);
        }
        assert_eq!(judge(95.0, Some(&r("80")), Some(&r("90"))), Status::Critical);
        assert_eq!(judge(85.0, Some(&r("80")), Some(&r("90"))), Status::Warning);
    }

    #[test]
    fn plugin_output_reads_as_nagios_reads_it() {
        // check_ping's and check_http's real shapes, and a long-text plugin.
        let p = parse_output(
            "PING OK - Packet loss = 0%, RTA = 0.05 ms|rta=0.050000ms;100.000000;500.000000;0.000000 pl=0%;20;60;0\n",
        );
        assert_eq!(p.text, "PING OK - Packet loss = 0%, RTA = 0.05 ms");
        assert_eq!(p.perfdata.len(), 2);
        assert_eq!(
            (p.perfdata[0].label.as_str(), p.perfdata[0].value, p.perfdata[0].unit.as_str()),
            ("rta", 0.05, "ms")
        );
        assert_eq!(p.perfdata[1].crit, Range::parse("60"));
        let p = parse_output("DISK OK\n/ 15% used\n/var 40% used | '/var used'=40%;80;90;0;100\n'/ used'=15%;80;90");
        assert_eq!(p.long_text, "/ 15% used\n/var 40% used");
        let labels: Vec<&str> = p.perfdata.iter().map(|d| d.label.as_str()).collect();
        assert_eq!(labels, ["/var used", "/ used"]);
        assert_eq!(p.perfdata[0].max, Some(100.0));
        let p = parse_output("SNMP OK - 1 | iso.3.6.1.2.1.2.2.1.8.1=1;1:1;1:1 bad= =3 x=1zz\u{1}");
        assert_eq!(p.perfdata.len(), 1);
        assert_eq!(p.bad_perfdata, ["bad=", "=3", "x=1zz\u{1}"]);
        assert_eq!(parse_output(""), PluginOutput::default());
    }

    #[test]
    fn problems_become_hard_after_max_attempts_and_recover_at_once() {
        let mut s = CheckState::default();
        let mut seen = Vec::new();
        for r in [Status::Critical, Status::Critical, Status::Critical, Status::Critical, Status::Warning, Status::Ok] {
            let (n, t) = next(s, r, 3);
            seen.push((n.hard, n.attempt, t));
            s = n;
        }
        assert_eq!(
            seen,
            [
                (false, 1, Transition::Soft),
                (false, 2, Transition::Soft),
                (true, 3, Transition::Hard { from: Status::Ok, to: Status::Critical }),
                (true, 3, Transition::Same),
                (true, 3, Transition::Hard { from: Status::Critical, to: Status::Warning }),
                (true, 1, Transition::Hard { from: Status::Warning, to: Status::Ok }),
            ]
        );
        // A blip shorter than the attempts is a soft recovery: nobody hears of it.
        let (s1, _) = next(CheckState::default(), Status::Critical, 3);
        let (s2, t) = next(s1, Status::Ok, 3);
        assert_eq!((t, s2.hard_status), (Transition::Soft, Status::Ok));
        // One attempt: confirmed at once.
        assert_eq!(
            next(CheckState::default(), Status::Warning, 1).1,
            Transition::Hard { from: Status::Ok, to: Status::Warning }
        );
        assert_eq!(Status::from_exit(Some(3)), Status::Unknown);
        assert_eq!(Status::from_exit(Some(127)), Status::Unknown);
        assert_eq!(Status::from_exit(None), Status::Unknown);
    }

    #[test]
    fn runs_keep_their_cadence_and_jitter_never_adds_up() {
        // A probe that took 4 s of a 30 s interval: the next slot is 30 s after the last one.
        assert_eq!(next_run(0, 30_000, 0, 4_000, 0.5), (30_000, 30_000));
        // One that outran its interval runs again at once, on a new cadence from now.
        assert_eq!(next_run(0, 30_000, 0, 95_000, 0.0), (95_000, 95_000));
        // Jitter delays the run, never the slot, so a hundred runs end where the cadence says.
        let (mut slot, mut late) = (0, 0);
        for i in 0..100 {
            let at;
            (slot, at) = next_run(slot, 30_000, 5_000, slot + 1_000, f64::from(i % 10) / 10.0);
            assert!((slot..=slot + 5_000).contains(&at));
            late = late.max(at - slot);
        }
        assert_eq!(slot, 3_000_000);
        assert!(late >= 4_000, "the jitter spreads runs over its range");
        // At most half the wait, however large the setting (a retry interval may be shorter).
        assert_eq!(next_run(0, 10_000, 60_000, 0, 0.99).1, 10_000 + 4_950);
    }

    #[test]
    fn specs_read_from_json_with_defaults_and_are_checked() {
        let spec: CheckSpec = serde_json::from_str(r#"{"name": "ping", "probe": {"type": "icmp"}}"#).unwrap();
        assert_eq!((spec.interval_s, spec.retry_interval_s, spec.max_attempts), (60, 10, 3));
        assert!(matches!(spec.probe, Probe::Icmp { count: 5, .. }));
        spec.validate().unwrap();
        let bad: CheckSpec = serde_json::from_str(
            r#"{"name": "", "interval_s": 0, "probe": {"type": "http", "url": "ftp://x", "body_match": "("}}"#,
        )
        .unwrap();
        let fields: Vec<String> = bad.validate().unwrap_err().0.into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["name", "interval_s", "probe.url", "probe.body_match"]);
        let jumpy: CheckSpec =
            serde_json::from_str(r#"{"name": "j", "interval_s": 30, "jitter_s": 16, "probe": {"type": "icmp"}}"#)
                .unwrap();
        let e = jumpy.validate().unwrap_err().0;
        assert_eq!((e[0].field.as_str(), e.len()), ("jitter_s", 1));
        assert!(e[0].message.contains("15 seconds"), "{}", e[0].message);
        let plugin: CheckSpec =
            serde_json::from_str(r#"{"name": "p", "probe": {"type": "plugin", "command": ["check_ping"]}}"#).unwrap();
        assert!(plugin.validate().is_err(), "an absolute path");
        assert!(serde_json::from_str::<CheckSpec>(r#"{"name": "x", "probe": {"type": "smoke"}}"#).is_err());
        assert_eq!(expand("http://$HOSTADDRESS$/$HOSTNAME$", "10.0.0.1", "sw1"), "http://10.0.0.1/sw1");
        let dns: CheckSpec =
            serde_json::from_str(r#"{"name": "dns", "probe": {"type": "dns", "name": "historian.plant.lab"}}"#)
                .unwrap();
        assert!(matches!(&dns.probe, Probe::Dns { record, port: 53, server: None, .. } if record == "A"));
        dns.validate().unwrap();
        let bad: CheckSpec = serde_json::from_str(
            r#"{"name": "dns", "probe": {"type": "dns", "name": "a..lab", "record": "SPF", "port": 0}}"#,
        )
        .unwrap();
        let fields: Vec<String> = bad.validate().unwrap_err().0.into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["probe.name", "probe.record", "probe.port"]);
    }

    proptest! {
        #[test]
        fn hard_changes_follow_confirmed_problems(results in proptest::collection::vec(0u8..4, 0..40), max in 1u32..5) {
            let mut s = CheckState::default();
            let mut run = 0u32;
            for r in results {
                let r = [Status::Ok, Status::Warning, Status::Critical, Status::Unknown][usize::from(r)];
                let (n, t) = next(s, r, max);
                run = if r == Status::Ok { 0 } else { run + 1 };
                if let Transition::Hard { to, .. } = t {
                    prop_assert_eq!(to, r);
                    prop_assert!(r == Status::Ok || run >= max || s.hard, "confirmed too soon");
                }
                prop_assert!(n.attempt >= 1 && n.attempt <= max);
                prop_assert_eq!(n.hard_status == n.status, n.hard);
                s = n;
            }
        }

        #[test]
        fn any_output_reads(s in "\\PC{0,200}") {
            let _ = parse_output(&s);
        }
    }
}
