//! Alarms: the standing conditions that events raise and clear on a monitored thing (an
//! interface down, a BGP session lost, an alert firing), one per condition however often it is
//! repeated. The rules here decide what an event does to its alarm, when an alarm flaps
//! (Nagios' weighted state-change percentage), which alarms mean their whole item has failed
//! (and so explain the alarms of everything behind it), which incident an alarm joins, and the
//! impact and urgency an incident opened from alarms gets.

/// What an event does to the alarm of its condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The condition holds (a link went down, an alert fires).
    Raise,
    /// The condition is over (the link came back, the alert resolved).
    Clear,
    /// Nothing to raise or clear: kept as an event only.
    Info,
}

/// Events without an up or down whose severity is this or worse (critical, alert, emergency)
/// raise an alarm of their own, which clears after [`STATELESS_CLEAR_MS`] without a repeat.
pub const STATELESS_SEVERITY: u8 = 2;

/// How long an alarm raised by events that never say "recovered" stays open without a repeat.
pub const STATELESS_CLEAR_MS: i64 = 60 * 60_000;

/// Kinds of event that say the whole item is unreachable or down, whatever their severity.
pub const ITEM_DOWN_KINDS: &[&str] = &["host.down", "device.down", "snmp.unreachable"];

pub fn signal(up: Option<bool>, severity: u8) -> Signal {
    match up {
        Some(false) => Signal::Raise,
        Some(true) => Signal::Clear,
        None if severity <= STATELESS_SEVERITY => Signal::Raise,
        None => Signal::Info,
    }
}

/// The condition an event is about: the same key is the same alarm. An alert is its own
/// condition, named by its fingerprint (its `object`); anything else is a kind of thing on an
/// object of an item (an item known by two addresses is one item), or of the sender when the
/// CMDB does not know it. An interface is one object by whichever of its names it is reported
/// (see [`interface_name`]).
pub fn key(source: &str, item_id: Option<i64>, sender: &str, kind: &str, object: &str) -> String {
    if source == "alertmanager" {
        return format!("alert:{object}");
    }
    let who = item_id.map_or_else(|| format!("sender:{sender}"), |i| format!("item:{i}"));
    if kind == "interface" {
        return format!("{who}|{kind}|{}", interface_name(object));
    }
    format!("{who}|{kind}|{object}")
}

/// Cisco's interface type names and the abbreviations devices report them by, lower case.
/// IOS syslog says `GigabitEthernet0/1`, IF-MIB's ifName `Gi0/1`, NX-OS `Ethernet1/1` and
/// `Eth1/1`, IOS XR `TenGigE0/0/0/0`.
const INTERFACE_TYPES: &[(&str, &[&str])] = &[
    ("FastEthernet", &["fa", "fastethernet"]),
    ("GigabitEthernet", &["gi", "gig", "gige", "gigabitethernet"]),
    ("TwoGigabitEthernet", &["tw", "twogigabitethernet"]),
    ("FiveGigabitEthernet", &["fi", "fivegigabitethernet"]),
    ("TenGigabitEthernet", &["te", "ten", "tengige", "tengigabitethernet"]),
    ("TwentyFiveGigE", &["twe", "twentyfivegige", "twentyfivegigabitethernet"]),
    ("FortyGigabitEthernet", &["fo", "fortygige", "fortygigabitethernet"]),
    ("HundredGigE", &["hu", "hundredgige", "hundredgigabitethernet"]),
    ("Ethernet", &["et", "eth", "ethernet"]),
    ("Port-channel", &["po", "port-channel", "portchannel"]),
    ("Vlan", &["vl", "vlan"]),
    ("Loopback", &["lo", "loopback"]),
    ("Tunnel", &["tu", "tunnel"]),
    ("Serial", &["se", "serial"]),
];

/// A name's interface type (its entry in [`INTERFACE_TYPES`]) and number, when it is a known
/// type name or abbreviation followed by a number (`Gi0/1` → GigabitEthernet, `0/1`).
fn interface_type(name: &str) -> Option<(&'static (&'static str, &'static [&'static str]), &str)> {
    let (kind, number) = name.split_at(name.find(|c: char| c.is_ascii_digit())?);
    let kind = kind.trim_end().to_ascii_lowercase();
    INTERFACE_TYPES.iter().find(|(_, aliases)| aliases.contains(&kind.as_str())).map(|t| (t, number))
}

/// Every spelling of an interface a device may use, lower case: as given, in full and by each
/// abbreviation (`gi0/1`, `gigabitethernet0/1`, `gig0/1`…), so a search for one finds the
/// others. Just the name itself when it is not an interface name this knows.
pub fn interface_spellings(name: &str) -> Vec<String> {
    let lower = name.to_ascii_lowercase();
    let Some(((full, aliases), number)) = interface_type(&lower) else { return vec![lower] };
    let full = full.to_ascii_lowercase();
    let mut all: Vec<String> =
        aliases.iter().copied().chain([full.as_str()]).map(|a| format!("{a}{number}")).chain([lower.clone()]).collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// An interface's name in one spelling, whichever a device reported: a known type name or
/// abbreviation followed by its number (`Gi0/1.100`, `gigabitethernet0/1.100`) becomes the full
/// name (`GigabitEthernet0/1.100`). Anything else (`ge-0/0/1`, `ifIndex 4`) is kept as it is.
pub fn interface_name(name: &str) -> std::borrow::Cow<'_, str> {
    match interface_type(name) {
        Some(((full, _), number)) if name.strip_suffix(number) != Some(*full) => format!("{full}{number}").into(),
        _ => name.into(),
    }
}

/// How long after a port is shut by configuration a line-protocol "down" on it is still taken
/// as the same planned work.
pub const SHUTDOWN_ECHO_MS: i64 = 60_000;

/// An event about a port, as [`follows_shutdown`] weighs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortEvent<'a> {
    pub id: i64,
    /// The port, in any spelling.
    pub object: &'a str,
    pub at: i64,
    /// It says the port was shut by configuration.
    pub shut: bool,
}

/// Whether line-protocol "down" event `id` on `object` at `at` follows its port's shutdown by
/// configuration: IOS logs `%LINK-5-CHANGED … administratively down` and, a moment later,
/// `%LINEPROTO-5-UPDOWN … down` for the same port; the second is the same planned work, not a
/// fault of the line. Only the port's latest event before it counts: once the port was
/// brought up again (`no shutdown`), a line protocol going down is a fault.
pub fn follows_shutdown(object: &str, id: i64, at: i64, ports: &[PortEvent<'_>]) -> bool {
    let port = interface_name(object);
    ports
        .iter()
        .filter(|p| p.id < id && interface_name(p.object) == port)
        .max_by_key(|p| p.id)
        .is_some_and(|p| p.shut && (0..=SHUTDOWN_ECHO_MS).contains(&(at - p.at)))
}

/// The key an HSRP or VRRP alarm stored by interface alone (as earlier versions keyed them)
/// has now that two groups on one interface are two conditions: its interface and `group`
/// (from its last event). `None` when it is keyed by group already, or is of another kind.
pub fn regrouped(key: &str, group: &str) -> Option<String> {
    let mut parts = key.splitn(3, '|');
    let (who, kind, object) = (parts.next()?, parts.next()?, parts.next()?);
    let redundancy = matches!(kind, "hsrp.state" | "vrrp.state");
    (redundancy && !object.contains(" group ") && !group.is_empty())
        .then(|| format!("{who}|{kind}|{object} group {group}"))
}

/// The key an alarm stored under `key` by an earlier version has now (see [`key`]), when it
/// differs: interface alarms keyed by an abbreviated name.
pub fn rekeyed(key: &str) -> Option<String> {
    let mut parts = key.splitn(3, '|');
    let (who, kind, object) = (parts.next()?, parts.next()?, parts.next()?);
    let now = format!("{who}|{kind}|{}", interface_name(object));
    (kind == "interface" && now != key).then_some(now)
}

/// The kind of event an alert is: one named like `InstanceDown`, `TargetDown` or
/// `HostUnreachable` says its whole item is down; any other is an `alert`.
pub fn alert_kind(alertname: &str) -> &'static str {
    let n = alertname.to_ascii_lowercase();
    let whole = ["instance", "target", "host", "node", "device"].iter().any(|w| n.starts_with(w));
    if whole && (n.ends_with("down") || n.ends_with("unreachable")) { "host.down" } else { "alert" }
}

/// The incident category for an item's class.
pub fn category(class: &str) -> &'static str {
    use crate::cmdb::is_a;
    if is_a(class, "firewall") || is_a(class, "vpn-concentrator") {
        "security"
    } else if is_a(class, "server") {
        "server"
    } else if is_a(class, "ot-device") {
        "ot"
    } else if is_a(class, "endpoint") {
        "voice-vtc"
    } else if is_a(class, "application") || is_a(class, "service") {
        "application"
    } else {
        "network"
    }
}

/// An alarm's state, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlarmState {
    pub open: bool,
    pub opened_at: i64,
    pub last_at: i64,
    pub cleared_at: Option<i64>,
    /// Events in this episode.
    pub count: i64,
    pub history: String,
    pub flapping: bool,
}

/// What an event did to its alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new episode: it was clear (or never seen).
    Raised,
    /// The condition repeated while open.
    Repeated,
    Cleared,
    /// A clear for an alarm already clear, or information.
    Nothing,
}

/// Applies one event's signal at `at` to an alarm. The state the alarm held since its last
/// event is sampled first (see [`FLAP_SAMPLE_MS`]); then a raise or clear is a state change
/// for flap detection, and a repeat is the same state.
pub fn apply(a: &mut AlarmState, signal: Signal, at: i64, t: FlapThresholds) -> Change {
    if matches!((signal, a.open), (Signal::Raise, _) | (Signal::Clear, true)) {
        // Steady samples only lower the percentage, so judging once after them all is judging
        // after each, as Nagios does at every check.
        a.history = held(&a.history, a.open, a.last_at, at);
        a.flapping = flapping(a.flapping, &a.history, t);
    }
    let change = match (signal, a.open) {
        (Signal::Raise, false) => {
            *a = AlarmState {
                open: true,
                opened_at: at,
                last_at: at,
                cleared_at: None,
                count: 1,
                history: push_state(&a.history, true),
                flapping: a.flapping,
            };
            Change::Raised
        }
        (Signal::Raise, true) => {
            a.count += 1;
            a.last_at = a.last_at.max(at);
            return Change::Repeated;
        }
        (Signal::Clear, true) => {
            a.history = push_state(&a.history, false);
            a.open = false;
            a.cleared_at = Some(at);
            a.last_at = a.last_at.max(at);
            Change::Cleared
        }
        _ => return Change::Nothing,
    };
    a.flapping = flapping(a.flapping, &a.history, t);
    change
}

/// Whether a flapping alarm has settled by `now`: its flap state as its history would read
/// had the state it holds been sampled until now. Only the flag changes (the history is
/// sampled for good when the next event comes), so a quiet alarm stops flapping in time
/// rather than waiting for an event that may never come.
pub fn settled(a: &mut AlarmState, now: i64, t: FlapThresholds) -> bool {
    if !a.flapping {
        return false;
    }
    a.flapping = flapping(true, &held(&a.history, a.open, a.last_at, now), t);
    !a.flapping
}

/// How often an alarm's held state counts as observed for flap detection. Nagios samples a
/// state at every check; events come only when something happens, so each minute boundary
/// an alarm holds its state across is one more sample of it. A condition that bounced three
/// times last month is not flapping now, and one that bounced three times in five minutes is.
pub const FLAP_SAMPLE_MS: i64 = 60_000;

/// `history` with the state held (`problem`) sampled once for each minute boundary from
/// `since` to `at`, at most a whole history's worth.
pub fn held(history: &str, problem: bool, since: i64, at: i64) -> String {
    if history.is_empty() {
        return String::new();
    }
    let samples = (at.div_euclid(FLAP_SAMPLE_MS) - since.div_euclid(FLAP_SAMPLE_MS)).clamp(0, FLAP_HISTORY as i64);
    (0..samples).fold(history.to_owned(), |h, _| push_state(&h, problem))
}

/// Whether an alarm says its item as a whole is down or unreachable (not one interface, one
/// neighbour or one resource): only such alarms explain, or are explained by, a failure
/// along the topology.
pub fn fails_item(kind: &str) -> bool {
    ITEM_DOWN_KINDS.contains(&kind)
}

/// States kept for flap detection, as Nagios keeps them.
pub const FLAP_HISTORY: usize = 21;

/// Nagios' default flap thresholds (percent state change): flapping starts at or above
/// `high` and stops below `low`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlapThresholds {
    pub low: f64,
    pub high: f64,
}

impl Default for FlapThresholds {
    fn default() -> Self {
        FlapThresholds { low: 5.0, high: 20.0 }
    }
}

/// Appends a state (`true`: the problem holds) to a history written as `0`/`1`, oldest first,
/// keeping the last [`FLAP_HISTORY`].
pub fn push_state(history: &str, problem: bool) -> String {
    let mut h: Vec<u8> = history.bytes().filter(|b| matches!(b, b'0' | b'1')).collect();
    h.push(if problem { b'1' } else { b'0' });
    let cut = h.len().saturating_sub(FLAP_HISTORY);
    String::from_utf8_lossy(&h[cut..]).into_owned()
}

/// Nagios' weighted percent state change over a history: each change between consecutive
/// states counts from 0.8 (oldest) rising by 0.02 per step, so recent changes weigh more;
/// the sum is a percentage of the changes the full history could hold.
pub fn state_change_percent(history: &str) -> f64 {
    let b = history.as_bytes();
    let mut weighted = 0.0;
    for i in 1..b.len() {
        if b[i] != b[i - 1] {
            weighted += 0.8 + 0.02 * (i - 1) as f64;
        }
    }
    weighted * 100.0 / (FLAP_HISTORY - 1) as f64
}

/// Whether a condition is flapping after its latest state, given whether it was: hysteresis
/// between the two thresholds, so it does not flap in and out of flapping.
pub fn flapping(was: bool, history: &str, t: FlapThresholds) -> bool {
    let p = state_change_percent(history);
    if was { p >= t.low } else { p >= t.high }
}

/// An open incident that alarms may join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub incident_id: i64,
    pub item_id: Option<i64>,
    /// The services it affects, as recorded.
    pub services: Vec<i64>,
    /// When an alarm last joined it.
    pub last_alarm_at: i64,
}

/// The incident an alarm on `item` touching `services` joins: the open one that an alarm
/// joined within `window_ms` and that shares a service with it (or is about the same item),
/// the most recently fed first. None: it opens its own.
pub fn correlate(item: Option<i64>, services: &[i64], now: i64, window_ms: i64, open: &[Candidate]) -> Option<i64> {
    open.iter()
        .filter(|c| now - c.last_alarm_at <= window_ms)
        .filter(|c| c.services.iter().any(|s| services.contains(s)) || (item.is_some() && c.item_id == item))
        .max_by_key(|c| (c.last_alarm_at, c.incident_id))
        .map(|c| c.incident_id)
}

/// A rank on a priority matrix axis: 0 the most severe, 2 the least.
pub type Rank = usize;

/// Impact from the worst service the alarm's item touches: a critical or high service down is
/// high; a lesser one down, or a critical one degraded, is medium; anything else is low.
/// `worst` is `(down, criticality)`; None when no service is touched.
pub fn impact_rank(worst: Option<(bool, &str)>) -> Rank {
    match worst {
        Some((true, "critical" | "high")) => 0,
        Some((true, _)) | Some((false, "critical")) => 1,
        _ => 2,
    }
}

/// Urgency from the event's severity: critical or worse is high, error is medium, anything
/// milder low — but a condition that says something is down is at least medium.
pub fn urgency_rank(severity: u8, down: bool) -> Rank {
    match severity {
        0..=2 => 0,
        3 => 1,
        _ if down => 1,
        _ => 2,
    }
}

/// The level of a matrix axis (most severe first) at a rank, spread over however many levels
/// the axis has: ITIL's three map one to one, a five-level axis takes its first, middle and
/// last.
pub fn level(axis: &[String], rank: Rank) -> Option<&str> {
    let n = axis.len();
    if n == 0 {
        return None;
    }
    let i = (rank.min(2) * (n - 1)).div_ceil(2);
    axis.get(i).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_interface_is_one_alarm_whatever_it_is_called() {
        for (reported, canonical) in [
            ("Gi0/1", "GigabitEthernet0/1"),
            ("GigabitEthernet0/1", "GigabitEthernet0/1"),
            ("gigabitethernet0/1.100", "GigabitEthernet0/1.100"),
            ("Te1/1/1", "TenGigabitEthernet1/1/1"),
            ("TenGigE0/0/0/0", "TenGigabitEthernet0/0/0/0"),
            ("Eth1/1", "Ethernet1/1"),
            ("Po10", "Port-channel10"),
            ("Vlan20", "Vlan20"),
            ("Gi 0/1", "GigabitEthernet0/1"),
            ("ge-0/0/1", "ge-0/0/1"),
            ("ethernet1/1", "Ethernet1/1"),
            ("ifIndex 4", "ifIndex 4"),
            ("Gi", "Gi"),
            ("0/1", "0/1"),
            ("Mystery0/1", "Mystery0/1"),
        ] {
            assert_eq!(interface_name(reported), canonical, "{reported}");
        }
        assert_eq!(rekeyed("item:7|interface|Gi0/1").as_deref(), Some("item:7|interface|GigabitEthernet0/1"));
        assert_eq!(rekeyed("item:7|interface|GigabitEthernet0/1"), None);
        assert_eq!(rekeyed("item:7|bgp.session|Gi0/1"), None);
        assert_eq!(rekeyed("alert:00ff"), None);
        let by_syslog = key("syslog", Some(7), "10.0.0.1", "interface", "GigabitEthernet0/1");
        assert_eq!(key("snmp", Some(7), "10.0.0.1", "interface", "Gi0/1"), by_syslog);
        assert_ne!(key("snmp", Some(7), "10.0.0.1", "interface", "Gi0/2"), by_syslog);
        assert_ne!(
            key("syslog", Some(7), "10.0.0.1", "bgp.session", "Gi0/1"),
            key("syslog", Some(7), "", "bgp.session", "GigabitEthernet0/1")
        );
    }

    #[test]
    fn a_search_for_an_interface_finds_every_spelling() {
        let gi = interface_spellings("Gi0/1");
        assert!(gi.contains(&"gi0/1".to_owned()) && gi.contains(&"gigabitethernet0/1".to_owned()), "{gi:?}");
        assert_eq!(interface_spellings("GigabitEthernet0/1"), gi);
        assert_eq!(interface_spellings("ge-0/0/1"), ["ge-0/0/1"]);
        assert_eq!(interface_spellings("deny"), ["deny"]);
        assert_eq!(interface_spellings("Vlan"), ["vlan"]);
    }

    proptest! {
        #[test]
        fn interface_names_settle_in_one_step(name in "[A-Za-z -]{0,12}[0-9/.:]{0,8}") {
            let once = interface_name(&name).into_owned();
            prop_assert_eq!(interface_name(&once).into_owned(), once.clone());
            // The number is never touched.
            let digits = |s: &str| s.chars().skip_while(|c| !c.is_ascii_digit()).collect::<String>();
            prop_assert_eq!(digits(&once), digits(&name));
        }
    }

    #[test]
    fn events_raise_clear_or_inform() {
        assert_eq!(signal(Some(false), 5), Signal::Raise);
        assert_eq!(signal(Some(true), 5), Signal::Clear);
        assert_eq!(signal(None, 2), Signal::Raise);
        assert_eq!(signal(None, 4), Signal::Info);
    }

    #[test]
    fn raises_repeats_and_clears_make_episodes() {
        let t = FlapThresholds::default();
        let mut a = AlarmState::default();
        assert_eq!(apply(&mut a, Signal::Clear, 5, t), Change::Nothing);
        assert_eq!(apply(&mut a, Signal::Raise, 10, t), Change::Raised);
        assert_eq!(apply(&mut a, Signal::Raise, 20, t), Change::Repeated);
        assert_eq!((a.open, a.opened_at, a.last_at, a.count, a.history.as_str()), (true, 10, 20, 2, "1"));
        assert_eq!(apply(&mut a, Signal::Clear, 30, t), Change::Cleared);
        assert_eq!((a.open, a.cleared_at, a.history.as_str()), (false, Some(30), "10"));
        assert_eq!(apply(&mut a, Signal::Raise, 40, t), Change::Raised);
        assert_eq!((a.count, a.opened_at, a.cleared_at), (1, 40, None));
        let mut b = AlarmState::default();
        for i in 0..12 {
            apply(&mut b, if i % 2 == 0 { Signal::Raise } else { Signal::Clear }, i, t);
        }
        assert!(b.flapping, "a link bouncing twelve times flaps");
    }

    #[test]
    fn keys_name_conditions_and_alerts_by_fingerprint() {
        assert_eq!(key("syslog", Some(7), "10.0.0.1", "interface", "Gi0/1"), "item:7|interface|GigabitEthernet0/1");
        assert_eq!(key("syslog", None, "10.0.0.1", "bgp.session", "Gi0/1"), "sender:10.0.0.1|bgp.session|Gi0/1");
        assert_eq!(key("alertmanager", Some(7), "", "alert", "00ff"), "alert:00ff");
        assert_eq!(alert_kind("InstanceDown"), "host.down");
        assert_eq!(alert_kind("HostUnreachable"), "host.down");
        assert_eq!(alert_kind("HighCPU"), "alert");
        assert_eq!(alert_kind("InterfaceDown"), "alert");
        assert!(fails_item("host.down") && !fails_item("interface"));
        assert_eq!(category("firewall"), "security");
        assert_eq!(category("switch"), "network");
        assert_eq!(category("plc"), "ot");
    }

    #[test]
    fn redundancy_alarms_keyed_by_interface_take_their_group() {
        assert_eq!(regrouped("item:7|hsrp.state|Vlan10", "1").as_deref(), Some("item:7|hsrp.state|Vlan10 group 1"));
        assert_eq!(regrouped("item:7|hsrp.state|Vlan10 group 1", "1"), None, "once");
        assert_eq!(regrouped("item:7|interface|Vlan10", "1"), None);
        assert_eq!(regrouped("item:7|vrrp.state|Gi0/1", ""), None, "no group known");
        // The key an event classified now makes is the one it moves to.
        assert_eq!(
            regrouped("item:7|vrrp.state|Gi0/1", "10").unwrap(),
            key("syslog", Some(7), "", "vrrp.state", "Gi0/1 group 10")
        );
    }

    #[test]
    fn a_line_protocol_down_after_a_shutdown_is_the_same_planned_work() {
        let shut = PortEvent { id: 10, object: "GigabitEthernet0/1", at: 10_000, shut: true };
        assert!(follows_shutdown("Gi0/1", 11, 11_000, &[shut]), "any spelling of the port");
        assert!(!follows_shutdown("GigabitEthernet0/2", 11, 11_000, &[shut]), "another port");
        assert!(!follows_shutdown("Gi0/1", 11, 10_000 + SHUTDOWN_ECHO_MS + 1, &[shut]), "long after");
        assert!(!follows_shutdown("Gi0/1", 9, 11_000, &[shut]), "before the shutdown");
        assert!(!follows_shutdown("Gi0/1", 11, 11_000, &[]));
        // Brought up again (no shutdown) before the line protocol failed: a fault.
        let up = PortEvent { id: 11, object: "Gi0/1", at: 10_500, shut: false };
        assert!(!follows_shutdown("Gi0/1", 12, 11_000, &[shut, up]));
        // Another port's events in between change nothing.
        let other = PortEvent { id: 11, object: "Gi0/2", at: 10_500, shut: false };
        assert!(follows_shutdown("Gi0/1", 12, 11_000, &[shut, other]));
    }

    #[test]
    fn a_steady_condition_does_not_flap_and_a_bouncing_one_does() {
        let mut h = String::new();
        let mut was = false;
        for _ in 0..30 {
            h = push_state(&h, true);
            was = flapping(was, &h, FlapThresholds::default());
        }
        assert_eq!(h.len(), FLAP_HISTORY);
        assert!(!was);
        assert_eq!(state_change_percent(&h), 0.0);
        for i in 0..10 {
            h = push_state(&h, i % 2 == 0);
            was = flapping(was, &h, FlapThresholds::default());
        }
        assert!(was, "ten changes in 21 states is flapping: {}%", state_change_percent(&h));
        // Steady again: flapping stops only once the changes have aged below the low mark.
        let mut steps = 0;
        while was {
            h = push_state(&h, true);
            was = flapping(was, &h, FlapThresholds::default());
            steps += 1;
        }
        assert!(steps > 10, "hysteresis holds it for a while ({steps} steps)");
    }

    #[test]
    fn a_condition_that_bounced_long_ago_is_not_flapping_now() {
        let t = FlapThresholds::default();
        let min = FLAP_SAMPLE_MS;
        let mut a = AlarmState::default();
        // Three bounces within three minutes: flapping.
        for i in 0..3 {
            apply(&mut a, Signal::Raise, i * min, t);
            apply(&mut a, Signal::Clear, i * min + 10_000, t);
        }
        assert!(a.flapping, "{} ({}%)", a.history, state_change_percent(&a.history));
        // Quiet, clear, for half an hour: the next raise is a fault, not a flap.
        assert_eq!(apply(&mut a, Signal::Raise, 33 * min, t), Change::Raised);
        assert!(!a.flapping, "{} ({}%)", a.history, state_change_percent(&a.history));
        // Three bounces spread over a month never flap.
        let mut b = AlarmState::default();
        for day in 0..3 {
            apply(&mut b, Signal::Raise, day * 10 * 86_400_000, t);
            apply(&mut b, Signal::Clear, day * 10 * 86_400_000 + 600_000, t);
        }
        assert!(!b.flapping, "{}", b.history);
    }

    #[test]
    fn a_flapping_alarm_left_quiet_settles_without_another_event() {
        let t = FlapThresholds::default();
        let mut a = AlarmState::default();
        for i in 0..4 {
            apply(&mut a, Signal::Raise, i * 1_000, t);
            apply(&mut a, Signal::Clear, i * 1_000 + 500, t);
        }
        apply(&mut a, Signal::Raise, 5_000, t);
        assert!(a.flapping);
        let history = a.history.clone();
        assert!(!settled(&mut a, 60_000, t), "a minute later it still flaps");
        assert!(settled(&mut a, 30 * FLAP_SAMPLE_MS, t), "half an hour down and steady: it has settled");
        assert!(!a.flapping && a.open);
        assert_eq!(a.history, history, "the history is sampled by the next event, not twice");
    }

    #[test]
    fn recent_changes_weigh_more_than_old_ones() {
        let old = "011111111111111111111";
        let new = "000000000000000000001";
        assert!(state_change_percent(new) > state_change_percent(old));
        assert!((state_change_percent(old) - 4.0).abs() < 1e-9);
        assert!((state_change_percent(new) - 5.9).abs() < 1e-9);
    }

    #[test]
    fn alarms_join_an_open_incident_on_a_shared_service_within_the_window() {
        let open = vec![
            Candidate { incident_id: 1, item_id: Some(10), services: vec![100], last_alarm_at: 1_000 },
            Candidate { incident_id: 2, item_id: Some(20), services: vec![200], last_alarm_at: 5_000 },
        ];
        assert_eq!(correlate(Some(11), &[100], 2_000, 10_000, &open), Some(1));
        assert_eq!(correlate(Some(20), &[], 6_000, 10_000, &open), Some(2), "same item, no service");
        assert_eq!(correlate(Some(11), &[100], 20_000, 10_000, &open), None, "outside the window");
        assert_eq!(correlate(Some(30), &[300], 2_000, 10_000, &open), None);
        assert_eq!(correlate(None, &[], 2_000, 10_000, &open), None);
    }

    #[test]
    fn priority_follows_service_criticality_and_severity() {
        let itil: Vec<String> = ["high", "medium", "low"].map(String::from).to_vec();
        assert_eq!(level(&itil, impact_rank(Some((true, "critical")))), Some("high"));
        assert_eq!(level(&itil, impact_rank(Some((false, "critical")))), Some("medium"));
        assert_eq!(level(&itil, impact_rank(None)), Some("low"));
        assert_eq!(level(&itil, urgency_rank(5, true)), Some("medium"));
        assert_eq!(level(&itil, urgency_rank(5, false)), Some("low"));
        let five: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        assert_eq!([0, 1, 2].map(|r| level(&five, r)), [Some("a"), Some("c"), Some("e")]);
        assert_eq!(level(&[], 0), None);
    }

    proptest! {
        #[test]
        fn flap_percent_is_between_0_and_100(states in proptest::collection::vec(any::<bool>(), 0..60)) {
            let mut h = String::new();
            for s in states {
                h = push_state(&h, s);
                let p = state_change_percent(&h);
                prop_assert!((0.0..=100.0 + 1e-9).contains(&p));
                prop_assert!(h.len() <= FLAP_HISTORY);
            }
        }
    }
}
