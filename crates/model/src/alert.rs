//! Alerts as Prometheus and Alertmanager know them, so that Watchkeeper can stand in for an
//! Alertmanager: a label set identified by its fingerprint (FNV-1a over the sorted pairs,
//! bit for bit Alertmanager's), an interval of activity, what a repeated alert does to the one
//! stored (Alertmanager's merge), label matchers (`=`, `!=`, `=~`, `!~`) as filters and
//! silences write them, and silences with their state at an instant.

use crate::FieldError;
use std::collections::BTreeMap;

/// Label names to values, sorted by name (the order the fingerprint folds them in).
pub type LabelSet = BTreeMap<String, String>;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;
/// Prometheus' separator byte, never valid inside UTF-8 text.
const SEPARATOR: u8 = 0xff;

/// The fingerprint of a label set: FNV-1a-64 over `name 0xFF value 0xFF` for each pair in
/// name order — Prometheus' `labelSetToFingerprint`, which Alertmanager identifies alerts by.
pub fn fingerprint(labels: &LabelSet) -> u64 {
    let mut h = FNV_OFFSET;
    for (name, value) in labels {
        for b in name.bytes().chain([SEPARATOR]).chain(value.bytes()).chain([SEPARATOR]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
    }
    h
}

/// A fingerprint as Alertmanager prints it: 16 lower-case hex digits.
pub fn fingerprint_hex(fp: u64) -> String {
    format!("{fp:016x}")
}

/// Reads a printed fingerprint back.
pub fn parse_fingerprint(s: &str) -> Option<u64> {
    (s.len() == 16).then(|| u64::from_str_radix(s, 16).ok()).flatten()
}

/// A label name as Prometheus allows it: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One alert: what fires, since when, until when.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alert {
    pub labels: LabelSet,
    pub annotations: LabelSet,
    pub generator_url: String,
    /// Epoch milliseconds, as every instant here.
    pub starts_at: i64,
    pub ends_at: i64,
    pub updated_at: i64,
    /// The sender gave no end: it was set to the resolve timeout, and a later explicit end
    /// overrides it.
    pub timeout: bool,
}

/// What an alert sender may leave out, and how long an alert without an end stays firing.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub now: i64,
    /// Alertmanager's `global.resolve_timeout` (5 minutes by default).
    pub resolve_timeout_ms: i64,
}

/// A `severity` label as syslog's number (0 emergency … 7 debug); what nobody set is a warning.
pub fn severity_number(label: &str) -> u8 {
    match label.to_ascii_lowercase().as_str() {
        "emergency" | "page" | "disaster" => 0,
        "alert" => 1,
        "critical" | "crit" | "high" => 2,
        "error" | "major" | "err" => 3,
        "notice" => 5,
        "info" | "informational" | "low" | "none" => 6,
        "debug" => 7,
        _ => 4,
    }
}

/// The item an alert's labels name: `item`, `ci`, `device`, `hostname`, `host`, `nodename`
/// or the `instance` without its port; empty if none.
fn host_of<'a>(label: &impl Fn(&str) -> Option<&'a str>) -> &'a str {
    ["item", "ci", "device", "hostname", "host", "nodename"]
        .iter()
        .find_map(|n| label(n))
        .or_else(|| label("instance").map(without_port))
        .unwrap_or_default()
}

/// The alarm an alert is part of: one per alert name and item (`host/alertname`), as
/// Alertmanager groups notifications by `alertname` and target. A storm of label sets about
/// one condition on one device is then one alarm that fires while any of them does, not one
/// alarm per label set; the alerts themselves stay in the alert book, each with its own
/// fingerprint. An alert about no item is grouped by where it comes from instead (`job`,
/// `namespace`, `service` or `cluster`), so one job's targets down are not another's.
pub fn alarm_group<'a>(label: impl Fn(&str) -> Option<&'a str>) -> String {
    let name = label("alertname").unwrap_or("alert");
    let scope = match host_of(&label) {
        "" => ["job", "namespace", "service", "cluster"].iter().find_map(|n| label(n)).unwrap_or_default(),
        host => host,
    };
    if scope.is_empty() { name.to_owned() } else { format!("{scope}/{name}") }
}

/// `host:9100`, `10.0.0.1:9100` or `[2001:db8::1]:9100` without the port.
fn without_port(instance: &str) -> &str {
    if let Some(rest) = instance.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match instance.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => instance,
    }
}

/// The 5 minutes Alertmanager gives an alert that says no end.
pub const RESOLVE_TIMEOUT_MS: i64 = 5 * 60_000;

impl Alert {
    /// An alert as a sender posted it (missing instants as `None`) made whole as Alertmanager
    /// does: received now; no start → its end, or now; no end → now plus the resolve timeout,
    /// marked as such. Labels with an empty value are dropped, then the alert is checked.
    pub fn received(
        mut labels: LabelSet,
        annotations: LabelSet,
        generator_url: String,
        starts_at: Option<i64>,
        ends_at: Option<i64>,
        r: Received,
    ) -> Result<Alert, String> {
        labels.retain(|_, v| !v.is_empty());
        let starts_at = starts_at.or(ends_at).unwrap_or(r.now);
        let (ends_at, timeout) = match ends_at {
            Some(e) => (e, false),
            None => (r.now.saturating_add(r.resolve_timeout_ms), true),
        };
        let alert = Alert { labels, annotations, generator_url, starts_at, ends_at, updated_at: r.now, timeout };
        alert.validate()?;
        Ok(alert)
    }

    /// The event an alert's change of state is: firing (down) or resolved (up), about the item
    /// its labels name — `item`, `ci`, `device`, `hostname`, `host`, `nodename` or the
    /// `instance` without its port — with the severity its `severity` label gives.
    pub fn event(&self, fingerprint: u64, firing: bool, now: i64) -> crate::event::Event {
        let label = |n: &str| self.labels.get(n).map(String::as_str).filter(|v| !v.is_empty());
        let name = label("alertname").unwrap_or("alert");
        let instance = label("instance").map(without_port).unwrap_or_default();
        let host = host_of(&label);
        let text = ["summary", "description", "message"]
            .iter()
            .find_map(|n| self.annotations.get(*n).filter(|v| !v.is_empty()))
            .map_or_else(|| name.to_owned(), Clone::clone);
        let mut fields: BTreeMap<String, String> = self.labels.clone();
        fields.insert("fingerprint".into(), format!("{fingerprint:016x}"));
        crate::event::Event {
            received_at: now,
            occurred_at: Some(if firing { self.starts_at } else { self.ends_at }),
            source: "alertmanager",
            sender: instance.to_owned(),
            host: host.to_owned(),
            item_id: None,
            kind: crate::alarm::alert_kind(name).to_owned(),
            object: alarm_group(label),
            up: Some(!firing),
            severity: self.severity(),
            mnemonic: name.to_owned(),
            text,
            fields,
        }
    }

    /// Alertmanager's checks, with its words.
    pub fn validate(&self) -> Result<(), String> {
        if self.ends_at < self.starts_at {
            return Err("start time must be before end time".into());
        }
        if let Some(bad) = self.labels.keys().find(|n| !valid_label_name(n)) {
            return Err(format!("invalid label set: invalid name {bad:?}"));
        }
        if self.labels.is_empty() {
            return Err("at least one label pair required".into());
        }
        if let Some(bad) = self.annotations.keys().find(|n| !valid_label_name(n)) {
            return Err(format!("invalid annotations: invalid name {bad:?}"));
        }
        Ok(())
    }

    pub fn fingerprint(&self) -> u64 {
        fingerprint(&self.labels)
    }

    /// Its `severity` label as a syslog severity number (`warning` when it has none).
    pub fn severity(&self) -> u8 {
        severity_number(self.labels.get("severity").map_or("warning", String::as_str))
    }

    /// The alarm this alert is part of ([`alarm_group`]).
    pub fn alarm_group(&self) -> String {
        alarm_group(|n| self.labels.get(n).map(String::as_str).filter(|v| !v.is_empty()))
    }

    /// Whether it has ended by `now`.
    pub fn resolved(&self, now: i64) -> bool {
        self.ends_at <= now
    }

    /// What storing `new` (same fingerprint) over this alert leaves: the two merged when
    /// their intervals overlap (the same episode), otherwise the new one alone (a new
    /// episode) — Alertmanager's provider and `types.Alert.Merge`.
    pub fn put(&self, new: Alert, now: i64) -> Alert {
        put(self.times(), || self.clone(), new, now)
    }

    /// When it fired and until when, as the merge of a repeat reads them.
    pub fn times(&self) -> AlertTimes {
        AlertTimes {
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            updated_at: self.updated_at,
            timeout: self.timeout,
        }
    }

    /// Whether `other`, an alert with the same fingerprint, says the same as this one but
    /// for its times: a repeat that changes only when it started, ends or was last sent. The
    /// labels are not compared: the fingerprint is an alert's identity, as in Alertmanager.
    pub fn same_but_times(&self, other: &Alert) -> bool {
        self.generator_url == other.generator_url && self.annotations == other.annotations
    }
}

/// An alert's instants: start, end, last update, and whether the end is the resolve timeout's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertTimes {
    pub starts_at: i64,
    pub ends_at: i64,
    pub updated_at: i64,
    pub timeout: bool,
}

/// [`Alert::put`] over a stored alert known by its times, made whole by `stored` only when the
/// stored one is the younger: the common case (a repeat, younger than what is stored) moves
/// the new alert and reads nothing else of the stored one.
fn put(stored: AlertTimes, whole: impl FnOnce() -> Alert, new: Alert, now: i64) -> Alert {
    let overlaps = (new.ends_at > stored.starts_at && new.ends_at < stored.ends_at)
        || (new.starts_at > stored.starts_at && new.starts_at < stored.ends_at);
    if !overlaps {
        return new;
    }
    // The younger update wins, with the earliest start and the latest explicit end.
    let (mut res, older) = if new.updated_at < stored.updated_at {
        let older = new.times();
        (whole(), older)
    } else {
        (new, stored)
    };
    res.starts_at = res.starts_at.min(older.starts_at);
    if res.resolved(now) {
        if older.ends_at <= now && older.ends_at > res.ends_at {
            res.ends_at = older.ends_at;
        }
    } else if older.ends_at > res.ends_at && !older.timeout {
        res.ends_at = older.ends_at;
    }
    res
}

/// An alert packed into one allocation, for keeping every current alert in memory as
/// Alertmanager does: two maps and a dozen strings cost ~1.6 KB an alert, this ~0.35 KB, and
/// on a storm of new alerts the difference is memory the kernel must first hand over.
/// `texts` holds the label count, the annotation count, each label's name and value, each
/// annotation's, then the generator URL — counts and lengths as 4-byte little-endian numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedAlert {
    texts: Box<[u8]>,
    pub times: AlertTimes,
}

impl PackedAlert {
    pub fn pack(a: &Alert) -> PackedAlert {
        let strings = a.labels.iter().chain(&a.annotations).flat_map(|(n, v)| [n, v]).chain([&a.generator_url]);
        let len: usize = 8 + strings.clone().map(|t| 4 + t.len()).sum::<usize>();
        let mut texts = Vec::with_capacity(len);
        for n in [a.labels.len(), a.annotations.len()] {
            texts.extend_from_slice(&len_bytes(n));
        }
        for t in strings {
            texts.extend_from_slice(&len_bytes(t.len()));
            texts.extend_from_slice(t.as_bytes());
        }
        PackedAlert { texts: texts.into_boxed_slice(), times: a.times() }
    }

    pub fn unpack(&self) -> Alert {
        let own = |(n, v): (&str, &str)| (n.to_owned(), v.to_owned());
        Alert {
            labels: self.labels().map(own).collect(),
            annotations: self.annotations().map(own).collect(),
            generator_url: self.generator_url().to_owned(),
            starts_at: self.times.starts_at,
            ends_at: self.times.ends_at,
            updated_at: self.times.updated_at,
            timeout: self.times.timeout,
        }
    }

    /// The labels, sorted by name.
    pub fn labels(&self) -> Pairs<'_> {
        let (labels, _) = self.counts();
        Pairs { texts: self.strings(), left: labels }
    }

    /// The annotations, sorted by name.
    pub fn annotations(&self) -> Pairs<'_> {
        let (labels, annotations) = self.counts();
        Pairs { texts: self.strings_after(2 * labels), left: annotations }
    }

    pub fn generator_url(&self) -> &str {
        let (labels, annotations) = self.counts();
        self.strings().nth(2 * (labels + annotations)).unwrap_or_default()
    }

    /// Whether the alert has ended by `now`.
    pub fn resolved(&self, now: i64) -> bool {
        self.times.ends_at <= now
    }

    /// A label's value, read in place; `None` if absent or empty.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels().find(|(n, _)| *n == name).map(|(_, v)| v).filter(|v| !v.is_empty())
    }

    /// [`Alert::severity`], read in place.
    pub fn severity(&self) -> u8 {
        severity_number(self.label("severity").unwrap_or("warning"))
    }

    /// [`Alert::alarm_group`], read in place.
    pub fn alarm_group(&self) -> String {
        alarm_group(|n| self.label(n))
    }

    /// [`Alert::put`] over this one.
    pub fn put(&self, new: Alert, now: i64) -> Alert {
        put(self.times, || self.unpack(), new, now)
    }

    /// [`Alert::same_but_times`] against this one, read in place.
    pub fn same_but_times(&self, other: &Alert) -> bool {
        self.generator_url() == other.generator_url
            && self.annotations().eq(other.annotations.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }

    fn counts(&self) -> (usize, usize) {
        (read_len(&self.texts, 0), read_len(&self.texts, 4))
    }

    fn strings(&self) -> Strings<'_> {
        Strings { rest: self.texts.get(8..).unwrap_or_default() }
    }

    /// The texts after the first `n`.
    fn strings_after(&self, n: usize) -> Strings<'_> {
        let mut s = self.strings();
        for _ in 0..n {
            s.next();
        }
        s
    }
}

/// The alert store's records, written and read without parsing: an entry of the alert log
/// and a chunk of the snapshot are each a version byte and sequences of fixed-layout
/// records (little-endian), an alert being its fingerprint, its times and its packed texts.
/// A reader checks every length and every text, so a damaged record is an error, never a
/// panic or an alert that is not one.
pub mod record {
    use super::{AlertTimes, PackedAlert};

    const VERSION: u8 = 1;

    /// An alert's bytes before its texts: fingerprint, three times, the timeout flag, the
    /// texts' length.
    const ALERT_HEAD: usize = 8 + 3 * 8 + 1 + 4;

    /// An entry of the alert log: written at `at`, the alerts it holds whole, the alerts it
    /// holds by their times alone (a repeat with nothing else new), and which alerts started
    /// (`true`) or stopped firing.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Entry {
        pub at: i64,
        pub alerts: Vec<(u64, PackedAlert)>,
        pub times: Vec<(u64, AlertTimes)>,
        pub changes: Vec<(u64, bool)>,
    }

    /// Writes an [`Entry`] from borrowed parts.
    pub fn write_entry<'a>(
        at: i64,
        alerts: impl ExactSizeIterator<Item = (u64, &'a PackedAlert)>,
        times: &[(u64, AlertTimes)],
        changes: &[(u64, bool)],
    ) -> Vec<u8> {
        let mut out = vec![VERSION];
        out.extend_from_slice(&at.to_le_bytes());
        put_count(&mut out, alerts.len());
        for (fp, a) in alerts {
            put_alert(&mut out, fp, a);
        }
        put_count(&mut out, times.len());
        for (fp, t) in times {
            out.extend_from_slice(&fp.to_le_bytes());
            put_times(&mut out, t);
        }
        put_count(&mut out, changes.len());
        for (fp, firing) in changes {
            out.extend_from_slice(&fp.to_le_bytes());
            out.push(u8::from(*firing));
        }
        out
    }

    pub fn read_entry(b: &[u8]) -> Result<Entry, String> {
        let mut r = Reader::new(b)?;
        let at = r.i64()?;
        let alerts = (0..r.count()?).map(|_| r.alert()).collect::<Result<_, _>>()?;
        let times = (0..r.count()?).map(|_| Ok((r.u64()?, r.times()?))).collect::<Result<_, String>>()?;
        let changes = (0..r.count()?).map(|_| Ok((r.u64()?, r.flag()?))).collect::<Result<_, String>>()?;
        r.end()?;
        Ok(Entry { at, alerts, times, changes })
    }

    /// Writes a chunk of the snapshot.
    pub fn write_chunk<'a>(alerts: impl ExactSizeIterator<Item = (u64, &'a PackedAlert)> + Clone) -> Vec<u8> {
        // Sized first: a chunk is megabytes, and growing it by doubling copies it again and
        // again.
        let size = 5 + alerts.clone().map(|(_, a)| ALERT_HEAD + a.texts.len()).sum::<usize>();
        let mut out = Vec::with_capacity(size);
        out.push(VERSION);
        put_count(&mut out, alerts.len());
        for (fp, a) in alerts {
            put_alert(&mut out, fp, a);
        }
        out
    }

    pub fn read_chunk(b: &[u8]) -> Result<Vec<(u64, PackedAlert)>, String> {
        let mut r = Reader::new(b)?;
        let alerts = (0..r.count()?).map(|_| r.alert()).collect::<Result<_, _>>()?;
        r.end()?;
        Ok(alerts)
    }

    fn put_count(out: &mut Vec<u8>, n: usize) {
        out.extend_from_slice(&super::len_bytes(n));
    }

    fn put_times(out: &mut Vec<u8>, t: &AlertTimes) {
        for v in [t.starts_at, t.ends_at, t.updated_at] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.push(u8::from(t.timeout));
    }

    fn put_alert(out: &mut Vec<u8>, fp: u64, a: &PackedAlert) {
        out.extend_from_slice(&fp.to_le_bytes());
        put_times(out, &a.times);
        put_count(out, a.texts.len());
        out.extend_from_slice(&a.texts);
    }

    struct Reader<'a> {
        rest: &'a [u8],
    }

    impl<'a> Reader<'a> {
        fn new(b: &'a [u8]) -> Result<Self, String> {
            match b.split_first() {
                Some((&VERSION, rest)) => Ok(Reader { rest }),
                Some((v, _)) => Err(format!("record version {v}, this build reads {VERSION}")),
                None => Err("empty record".into()),
            }
        }

        fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
            if self.rest.len() < n {
                return Err(format!("record cut short: {n} bytes wanted, {} left", self.rest.len()));
            }
            let (head, rest) = self.rest.split_at(n);
            self.rest = rest;
            Ok(head)
        }

        fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
            self.take(N).map(|b| <[u8; N]>::try_from(b).unwrap_or([0; N]))
        }

        fn u64(&mut self) -> Result<u64, String> {
            self.array().map(u64::from_le_bytes)
        }

        fn i64(&mut self) -> Result<i64, String> {
            self.array().map(i64::from_le_bytes)
        }

        fn count(&mut self) -> Result<usize, String> {
            // A count is bounded by the bytes left, so a damaged one cannot reserve memory.
            let n = self.array().map(u32::from_le_bytes)? as usize;
            if n > self.rest.len() {
                return Err(format!("record count {n} exceeds the {} bytes left", self.rest.len()));
            }
            Ok(n)
        }

        fn flag(&mut self) -> Result<bool, String> {
            match self.array::<1>()? {
                [0] => Ok(false),
                [1] => Ok(true),
                [b] => Err(format!("record flag {b}")),
            }
        }

        fn times(&mut self) -> Result<AlertTimes, String> {
            Ok(AlertTimes {
                starts_at: self.i64()?,
                ends_at: self.i64()?,
                updated_at: self.i64()?,
                timeout: self.flag()?,
            })
        }

        fn alert(&mut self) -> Result<(u64, PackedAlert), String> {
            let fp = self.u64()?;
            let times = self.times()?;
            let len = self.count()?;
            let texts = self.take(len)?;
            check_texts(texts)?;
            Ok((fp, PackedAlert { texts: texts.into(), times }))
        }

        fn end(&self) -> Result<(), String> {
            if self.rest.is_empty() { Ok(()) } else { Err(format!("{} bytes after the record", self.rest.len())) }
        }
    }

    /// Packed texts are two counts and then exactly as many length-prefixed UTF-8 texts as
    /// they say (each label's name and value, each annotation's, the generator URL).
    fn check_texts(texts: &[u8]) -> Result<(), String> {
        let mut r = Reader { rest: texts };
        let labels = r.array().map(u32::from_le_bytes)? as usize;
        let annotations = r.array().map(u32::from_le_bytes)? as usize;
        let strings = labels.checked_add(annotations).and_then(|n| n.checked_mul(2)).and_then(|n| n.checked_add(1));
        let strings = strings.filter(|n| *n <= texts.len()).ok_or("packed alert counts exceed its texts")?;
        for _ in 0..strings {
            let len = r.array().map(u32::from_le_bytes)? as usize;
            std::str::from_utf8(r.take(len)?).map_err(|e| format!("packed alert text: {e}"))?;
        }
        r.end()
    }

    /// Runs both readers over arbitrary bytes: the fuzz target's body.
    pub fn fuzz_one(data: &[u8]) {
        if let Ok(e) = read_entry(data) {
            for (_, a) in &e.alerts {
                let _ = a.unpack();
            }
            let again = write_entry(e.at, e.alerts.iter().map(|(f, a)| (*f, a)), &e.times, &e.changes);
            assert_eq!(read_entry(&again).as_ref(), Ok(&e), "an entry read back as written");
        }
        if let Ok(c) = read_chunk(data) {
            assert_eq!(read_chunk(&write_chunk(c.iter().map(|(f, a)| (*f, a)))), Ok(c.clone()));
        }
    }
}

fn len_bytes(n: usize) -> [u8; 4] {
    // A text longer than 4 GiB cannot come through a request body of bounded size.
    u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes()
}

fn read_len(b: &[u8], at: usize) -> usize {
    b.get(at..at + 4).and_then(|l| <[u8; 4]>::try_from(l).ok()).map_or(0, |l| u32::from_le_bytes(l) as usize)
}

/// The texts of a [`PackedAlert`], in order.
#[derive(Clone)]
struct Strings<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Strings<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let len = read_len(self.rest, 0);
        let text = self.rest.get(4..4 + len)?;
        self.rest = self.rest.get(4 + len..).unwrap_or_default();
        // Packed from `String`s, so always UTF-8; checking costs little and keeps this safe.
        Some(std::str::from_utf8(text).unwrap_or_default())
    }
}

/// Name–value pairs read from a [`PackedAlert`].
#[derive(Clone)]
pub struct Pairs<'a> {
    texts: Strings<'a>,
    left: usize,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some((self.texts.next()?, self.texts.next()?))
    }
}

/// How a matcher compares a label's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }

    /// From Alertmanager's wire form: `isRegex`, `isEqual`.
    pub fn from_flags(is_regex: bool, is_equal: bool) -> MatchOp {
        match (is_regex, is_equal) {
            (false, true) => MatchOp::Equal,
            (false, false) => MatchOp::NotEqual,
            (true, true) => MatchOp::Regex,
            (true, false) => MatchOp::NotRegex,
        }
    }

    pub fn is_regex(self) -> bool {
        matches!(self, MatchOp::Regex | MatchOp::NotRegex)
    }

    pub fn is_equal(self) -> bool {
        matches!(self, MatchOp::Equal | MatchOp::Regex)
    }
}

/// One label matcher; a missing label compares as the empty string.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    /// The value anchored (`^(?:value)$`) when the matcher is a regex.
    re: Option<regex::Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, o: &Matcher) -> bool {
        (&self.name, self.op, &self.value) == (&o.name, o.op, &o.value)
    }
}

impl Eq for Matcher {}

impl Matcher {
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Matcher, String> {
        if !valid_label_name(name) {
            return Err(format!("invalid label name {name:?}"));
        }
        let re = if op.is_regex() {
            let anchored = format!("^(?:{value})$");
            Some(regex::RegexBuilder::new(&anchored).size_limit(1 << 20).build().map_err(|e| {
                format!(
                    "{name}{}{value:?}: not a regular expression: {}",
                    op.as_str(),
                    e.to_string().lines().last().unwrap_or("")
                )
            })?)
        } else {
            None
        };
        Ok(Matcher { name: name.to_owned(), op, value: value.to_owned(), re })
    }

    pub fn matches_value(&self, v: &str) -> bool {
        match (self.op, &self.re) {
            (MatchOp::Equal, _) => v == self.value,
            (MatchOp::NotEqual, _) => v != self.value,
            (MatchOp::Regex, Some(re)) => re.is_match(v),
            (MatchOp::NotRegex, Some(re)) => !re.is_match(v),
            (_, None) => false,
        }
    }

    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.matches_value(labels.get(&self.name).map_or("", String::as_str))
    }

    /// Reads one matcher as amtool and Alertmanager's `filter` parameter write it:
    /// `name="value"`, `name=~"re"`, `name!=value` (quotes optional, `\"`, `\\` and `\n`
    /// escaped inside them).
    pub fn parse(s: &str) -> Result<Matcher, String> {
        let s = s.trim();
        let name_end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
        let (name, rest) = s.split_at(name_end);
        let rest = rest.trim_start();
        let (op, value) = if let Some(v) = rest.strip_prefix("=~") {
            (MatchOp::Regex, v)
        } else if let Some(v) = rest.strip_prefix("!~") {
            (MatchOp::NotRegex, v)
        } else if let Some(v) = rest.strip_prefix("!=") {
            (MatchOp::NotEqual, v)
        } else if let Some(v) = rest.strip_prefix('=') {
            (MatchOp::Equal, v)
        } else {
            return Err(format!("bad matcher format: {s}"));
        };
        let value = value.trim();
        let value = match value.strip_prefix('"') {
            Some(q) => unquote(q).ok_or_else(|| format!("bad matcher format: {s}: the quoted value does not end"))?,
            None => value.to_owned(),
        };
        Matcher::new(name, op, &value)
    }

    /// Reads a set of matchers: `{a="b", c=~"d"}` or the same without braces.
    pub fn parse_set(s: &str) -> Result<Vec<Matcher>, String> {
        let s = s.trim();
        let inner = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')).unwrap_or(s);
        let mut out = Vec::new();
        let (mut start, mut quoted, mut escaped) = (0, false, false);
        for (i, c) in inner.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    if !inner[start..i].trim().is_empty() {
                        out.push(Matcher::parse(&inner[start..i])?);
                    }
                    start = i + 1;
                }
                _ => {}
            }
        }
        if !inner[start..].trim().is_empty() {
            out.push(Matcher::parse(&inner[start..])?);
        }
        Ok(out)
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let quoted = self.value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        write!(f, "{}{}\"{quoted}\"", self.name, self.op.as_str())
    }
}

/// The text of a quoted value up to its closing quote (which must end the input).
fn unquote(q: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = q.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                other => out.push(other),
            },
            '"' => return chars.as_str().trim().is_empty().then_some(out),
            c => out.push(c),
        }
    }
    None
}

/// Whether every matcher matches.
pub fn all_match(matchers: &[Matcher], labels: &LabelSet) -> bool {
    matchers.iter().all(|m| m.matches(labels))
}

/// A silence: alerts its matchers all match are muted between its start and its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub created_by: String,
    pub comment: String,
    pub updated_at: i64,
}

/// Where a silence stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SilenceState {
    Active,
    Pending,
    Expired,
}

impl SilenceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Active => "active",
            SilenceState::Pending => "pending",
            SilenceState::Expired => "expired",
        }
    }
}

impl Silence {
    pub fn state(&self, now: i64) -> SilenceState {
        if self.ends_at <= now {
            SilenceState::Expired
        } else if self.starts_at > now {
            SilenceState::Pending
        } else {
            SilenceState::Active
        }
    }

    /// Whether it mutes an alert with these labels at `now`.
    pub fn mutes(&self, labels: &LabelSet, now: i64) -> bool {
        self.state(now) == SilenceState::Active && all_match(&self.matchers, labels)
    }

    /// Alertmanager's checks on a silence being created or changed at `now`.
    pub fn validate(&self, now: i64) -> Result<(), Vec<FieldError>> {
        let mut bad = Vec::new();
        if self.matchers.is_empty() {
            bad.push(FieldError::new("matchers", "at least one matcher required"));
        } else if self.matchers.iter().all(|m| m.matches_value("")) {
            bad.push(FieldError::new(
                "matchers",
                "at least one matcher must not match the empty string, or the silence would mute every alert",
            ));
        }
        if self.ends_at <= self.starts_at {
            bad.push(FieldError::new("endsAt", "must be after startsAt"));
        }
        if self.ends_at <= now {
            bad.push(FieldError::new("endsAt", "is in the past"));
        }
        if self.created_by.trim().is_empty() {
            bad.push(FieldError::new("createdBy", "say who silences"));
        }
        if self.comment.trim().is_empty() {
            bad.push(FieldError::new("comment", "say why"));
        }
        if bad.is_empty() { Ok(()) } else { Err(bad) }
    }

    /// Whether a change can keep this silence's id (Alertmanager's rule): same matchers, and
    /// not expired; a pending one may move its start, an active one only its end.
    pub fn can_update_to(&self, new: &Silence, now: i64) -> bool {
        if self.matchers != new.matchers {
            return false;
        }
        match self.state(now) {
            SilenceState::Pending => new.starts_at >= now,
            SilenceState::Active => new.starts_at == self.starts_at && new.ends_at >= now,
            SilenceState::Expired => false,
        }
    }

    /// The silence ended now: a pending one never starts, an active one ends here.
    pub fn expired(&self, now: i64) -> Silence {
        let mut s = self.clone();
        if s.starts_at > now {
            s.starts_at = now;
        }
        s.ends_at = now;
        s.updated_at = now;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_is_an_event_about_the_item_its_labels_name() {
        let labels: LabelSet =
            [("alertname", "InstanceDown"), ("instance", "core-sw-1:9116"), ("severity", "critical")]
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .into_iter()
                .collect();
        let a = Alert { labels, starts_at: 5, ends_at: 50, ..Alert::default() };
        let e = a.event(0xab, true, 10);
        assert_eq!((e.sender.as_str(), e.host.as_str(), e.kind.as_str()), ("core-sw-1", "core-sw-1", "host.down"));
        assert_eq!(
            (e.up, e.severity, e.object.as_str(), e.occurred_at),
            (Some(false), 2, "core-sw-1/InstanceDown", Some(5))
        );
        assert_eq!(e.fields["fingerprint"], "00000000000000ab");
        assert_eq!(a.event(0xab, false, 60).occurred_at, Some(50));
        assert_eq!(without_port("[2001:db8::1]:9100"), "2001:db8::1");
        assert_eq!(without_port("2001:db8::1"), "2001:db8::1");
        assert_eq!(without_port("10.0.0.1:9100"), "10.0.0.1");
        assert_eq!(severity_number("Critical"), 2);
        assert_eq!(severity_number("whatever"), 4);
    }

    #[test]
    fn alerts_group_into_an_alarm_by_name_and_item() {
        let group = |pairs: &[(&str, &str)]| {
            let labels: LabelSet = pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
            let a = Alert { labels, ..Alert::default() };
            assert_eq!(PackedAlert::pack(&a).alarm_group(), a.alarm_group(), "packed or not");
            a.alarm_group()
        };
        // Label sets that differ only in what is not the name or the item are one alarm.
        let a = group(&[("alertname", "IfDown"), ("instance", "sw1:9116"), ("ifName", "Gi0/1")]);
        let b = group(&[("alertname", "IfDown"), ("instance", "sw1:9116"), ("ifName", "Gi0/2")]);
        assert_eq!((a.as_str(), b.as_str()), ("sw1/IfDown", "sw1/IfDown"));
        assert_eq!(group(&[("alertname", "IfDown"), ("instance", "sw2:9116")]), "sw2/IfDown");
        assert_eq!(group(&[("alertname", "IfErrors"), ("instance", "sw1:9116")]), "sw1/IfErrors");
        // A named item wins over the instance; no item at all groups by name alone.
        assert_eq!(group(&[("alertname", "IfDown"), ("instance", "10.0.0.1:9116"), ("device", "sw1")]), "sw1/IfDown");
        // No item: by the job (or namespace…) it comes from, else by name alone.
        assert_eq!(group(&[("alertname", "TargetDown"), ("job", "node")]), "node/TargetDown");
        assert_eq!(group(&[("alertname", "TargetDown"), ("job", "snmp")]), "snmp/TargetDown");
        assert_eq!(group(&[("alertname", "Watchdog")]), "Watchdog");
        assert_eq!(group(&[("severity", "none"), ("instance", "")]), "alert");
    }
    use proptest::prelude::*;

    fn set(pairs: &[(&str, &str)]) -> LabelSet {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn fingerprints_are_alertmanagers() {
        // Read off a live Alertmanager 0.25.
        let link = set(&[("alertname", "LinkDown"), ("instance", "sw1:ge0/1"), ("severity", "critical")]);
        assert_eq!(fingerprint_hex(fingerprint(&link)), "3df259f48d980152");
        let errors = set(&[("alertname", "HighErr"), ("instance", "sw1:ge0/1"), ("severity", "warning")]);
        assert_eq!(fingerprint_hex(fingerprint(&errors)), "b785c56ad58fe1f6");
        assert_eq!(parse_fingerprint("3df259f48d980152"), Some(fingerprint(&link)));
        assert_eq!(parse_fingerprint("3df259f48d98015"), None);
    }

    const R: Received = Received { now: 1_000_000, resolve_timeout_ms: RESOLVE_TIMEOUT_MS };

    #[test]
    fn missing_instants_and_empty_labels_as_alertmanager_fills_them() {
        let a =
            Alert::received(set(&[("alertname", "X"), ("empty", "")]), LabelSet::new(), String::new(), None, None, R)
                .unwrap();
        assert_eq!((a.starts_at, a.ends_at, a.timeout), (R.now, R.now + RESOLVE_TIMEOUT_MS, true));
        assert!(!a.labels.contains_key("empty"));
        let resolved =
            Alert::received(set(&[("alertname", "X")]), LabelSet::new(), String::new(), None, Some(500), R).unwrap();
        assert_eq!((resolved.starts_at, resolved.ends_at, resolved.timeout), (500, 500, false));
        assert!(resolved.resolved(R.now));
        let none = Alert::received(set(&[("only", "")]), LabelSet::new(), String::new(), None, None, R);
        assert_eq!(none.unwrap_err(), "at least one label pair required");
        let backwards = Alert::received(set(&[("a", "b")]), LabelSet::new(), String::new(), Some(9), Some(5), R);
        assert_eq!(backwards.unwrap_err(), "start time must be before end time");
        let badname = Alert::received(set(&[("1a", "b")]), LabelSet::new(), String::new(), None, None, R);
        assert!(badname.unwrap_err().starts_with("invalid label set"));
    }

    #[test]
    fn a_repeat_merges_into_its_episode_and_a_new_episode_replaces_it() {
        let labels = set(&[("alertname", "LinkDown")]);
        let first = Alert::received(labels.clone(), LabelSet::new(), String::new(), Some(100), None, R).unwrap();
        // Re-sent a minute later, still firing: same episode, earliest start kept, end pushed on.
        let later = Received { now: R.now + 60_000, ..R };
        let again =
            Alert::received(labels.clone(), set(&[("summary", "new words")]), String::new(), Some(200), None, later)
                .unwrap();
        let kept = first.put(again, later.now);
        assert_eq!(
            (kept.starts_at, kept.ends_at, &kept.annotations["summary"][..]),
            (100, later.now + RESOLVE_TIMEOUT_MS, "new words")
        );
        // Resolved explicitly.
        let end =
            Alert::received(labels.clone(), LabelSet::new(), String::new(), Some(100), Some(later.now), later).unwrap();
        let resolved = kept.put(end, later.now);
        assert!(resolved.resolved(later.now) && !resolved.timeout);
        // Firing again an hour later: a new episode with its own start.
        let hour = Received { now: R.now + 3_600_000, ..R };
        let back = Alert::received(labels, LabelSet::new(), String::new(), None, None, hour).unwrap();
        assert_eq!(resolved.put(back, hour.now).starts_at, hour.now);
    }

    #[test]
    fn matchers_read_as_amtool_writes_them() {
        let m = Matcher::parse(r#"alertname="LinkDown""#).unwrap();
        assert_eq!((m.name.as_str(), m.op, m.value.as_str()), ("alertname", MatchOp::Equal, "LinkDown"));
        let m = Matcher::parse(r#"instance=~"sw1:.*""#).unwrap();
        assert!(m.matches(&set(&[("instance", "sw1:ge0/1")])) && !m.matches(&set(&[("instance", "xsw1:ge0/1")])));
        let m = Matcher::parse("severity!=critical").unwrap();
        assert!(m.matches(&set(&[])) && !m.matches(&set(&[("severity", "critical")])));
        let m = Matcher::parse(r#"summary="say \"hi\", then \\ go""#).unwrap();
        assert_eq!(m.value, r#"say "hi", then \ go"#);
        let all = Matcher::parse_set(r#"{alertname="A", instance=~"sw[12]:.*",team!~"net"}"#).unwrap();
        assert_eq!(all.len(), 3);
        for bad in ["alertname", "=x", r#"a="unterminated"#, "a=~(", "1a=b"] {
            assert!(Matcher::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn silences_mute_while_active_and_are_checked() {
        let m = vec![Matcher::parse(r#"instance="sw1:ge0/1""#).unwrap()];
        let s = Silence {
            id: "s1".into(),
            matchers: m,
            starts_at: 100,
            ends_at: 200,
            created_by: "engineer".into(),
            comment: "RMA swap".into(),
            updated_at: 50,
        };
        let labels = set(&[("alertname", "LinkDown"), ("instance", "sw1:ge0/1")]);
        assert_eq!(
            (s.state(50), s.state(150), s.state(200)),
            (SilenceState::Pending, SilenceState::Active, SilenceState::Expired)
        );
        assert!(!s.mutes(&labels, 50) && s.mutes(&labels, 150) && !s.mutes(&labels, 250));
        assert!(s.validate(50).is_ok());
        let everything = Silence { matchers: vec![Matcher::parse(r#"a=~".*""#).unwrap()], ..s.clone() };
        assert_eq!(everything.validate(50).unwrap_err()[0].field, "matchers");
        assert_eq!(s.validate(300).unwrap_err()[0].field, "endsAt");
        let ended = s.expired(150);
        assert_eq!((ended.starts_at, ended.ends_at, ended.state(150)), (100, 150, SilenceState::Expired));
        assert_eq!(s.expired(60).starts_at, 60, "a pending silence expired never starts");
        assert!(s.can_update_to(&Silence { ends_at: 400, ..s.clone() }, 150));
        assert!(!s.can_update_to(&Silence { starts_at: 120, ..s.clone() }, 150));
    }

    proptest! {
        /// The fingerprint depends on the set, not the order pairs were given in.
        #[test]
        fn fingerprint_is_order_free(pairs in proptest::collection::vec(("[a-z_]{1,6}", "[ -~]{0,6}"), 0..6)) {
            let forward: LabelSet = pairs.iter().cloned().collect();
            let backward: LabelSet = pairs.iter().rev().cloned().collect::<Vec<_>>().into_iter().rev().collect();
            prop_assert_eq!(fingerprint(&forward), fingerprint(&backward));
        }

        /// A packed alert reads back as the alert it packed, and merges and compares as it does.
        #[test]
        fn packed_alerts_are_the_alert(
            labels in proptest::collection::btree_map("[a-z_]{1,6}", "\\PC{0,8}", 0..6),
            annotations in proptest::collection::btree_map("[a-z_]{1,6}", "\\PC{0,8}", 0..3),
            url in "\\PC{0,12}",
            t in proptest::array::uniform4(0..20i64),
            other_url in proptest::bool::ANY,
            timeouts in proptest::array::uniform2(proptest::bool::ANY),
        ) {
            let a = Alert { labels, annotations, generator_url: url, starts_at: t[0], ends_at: t[0] + t[1], updated_at: t[2], timeout: timeouts[0] };
            let p = PackedAlert::pack(&a);
            prop_assert_eq!(p.unpack(), a.clone());
            prop_assert_eq!(p.resolved(10), a.resolved(10));
            let mut new = Alert { starts_at: t[3], ends_at: t[3] + t[1], updated_at: t[3], timeout: timeouts[1], ..a.clone() };
            if other_url {
                new.generator_url.push('x');
            }
            prop_assert_eq!(p.same_but_times(&new), a.same_but_times(&new));
            prop_assert_eq!(p.put(new.clone(), 10), a.put(new, 10));
        }

        /// The alert store's records read back as written, and every cut short or damaged
        /// one is an error, never a panic.
        #[test]
        fn records_read_back_as_written(
            alerts in proptest::collection::vec((
                proptest::num::u64::ANY,
                proptest::collection::btree_map("[a-z_]{1,6}", "\\PC{0,8}", 1..5),
                proptest::collection::btree_map("[a-z_]{1,6}", "\\PC{0,8}", 0..3),
                "\\PC{0,12}",
                proptest::array::uniform3(proptest::num::i64::ANY),
                proptest::bool::ANY,
            ), 0..5),
            at in proptest::num::i64::ANY,
            changes in proptest::collection::vec((proptest::num::u64::ANY, proptest::bool::ANY), 0..4),
            flip in proptest::num::usize::ANY,
        ) {
            let alerts: Vec<(u64, PackedAlert)> = alerts
                .into_iter()
                .map(|(fp, labels, annotations, generator_url, t, timeout)| {
                    let a = Alert { labels, annotations, generator_url, starts_at: t[0], ends_at: t[1], updated_at: t[2], timeout };
                    (fp, PackedAlert::pack(&a))
                })
                .collect();
            let times: Vec<(u64, AlertTimes)> = alerts.iter().map(|(fp, a)| (fp.wrapping_add(1), a.times)).collect();
            let entry = record::Entry { at, alerts: alerts.clone(), times: times.clone(), changes: changes.clone() };
            let b = record::write_entry(at, alerts.iter().map(|(fp, a)| (*fp, a)), &times, &changes);
            prop_assert_eq!(record::read_entry(&b), Ok(entry));
            let c = record::write_chunk(alerts.iter().map(|(fp, a)| (*fp, a)));
            prop_assert_eq!(record::read_chunk(&c), Ok(alerts));
            for cut in 0..b.len() {
                prop_assert!(record::read_entry(&b[..cut]).is_err());
            }
            let mut damaged = b.clone();
            let at = flip % damaged.len();
            damaged[at] ^= 0x5a;
            record::fuzz_one(&damaged);
            record::fuzz_one(&c[..flip % c.len()]);
        }

        /// A matcher printed reads back as itself and matches the same values.
        #[test]
        fn matchers_round_trip(name in "[a-z_][a-z0-9_]{0,6}", op in 0..4u8, value in "[ -~]{0,10}", probe in "[ -~]{0,10}") {
            let op = [MatchOp::Equal, MatchOp::NotEqual, MatchOp::Regex, MatchOp::NotRegex][usize::from(op)];
            if let Ok(m) = Matcher::new(&name, op, &value) {
                let back = Matcher::parse(&m.to_string()).unwrap();
                prop_assert_eq!(&back, &m);
                prop_assert_eq!(back.matches_value(&probe), m.matches_value(&probe));
            }
        }
    }
}
