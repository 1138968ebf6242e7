//! What two polls of a device's IF-MIB and sysUpTime mean (RFC 2863, RFC 3418): traffic,
//! utilisation, errors and discards as rates between the polls (counter wrap and reset told
//! apart, so a reboot is never a spike of petabits), links that went down or came back, and
//! whether the device restarted in between. Pure: the poller (`probe`) reads the tables, this
//! decides what they say.

use crate::check::{PerfDatum, Status};
use serde::{Deserialize, Serialize};

/// An interface's operational status (ifOperStatus).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Oper {
    Up,
    Down,
    Testing,
    Unknown,
    Dormant,
    NotPresent,
    LowerLayerDown,
}

impl Oper {
    pub fn from_code(code: i64) -> Oper {
        match code {
            1 => Oper::Up,
            2 => Oper::Down,
            3 => Oper::Testing,
            5 => Oper::Dormant,
            6 => Oper::NotPresent,
            7 => Oper::LowerLayerDown,
            _ => Oper::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Oper::Up => "up",
            Oper::Down => "down",
            Oper::Testing => "testing",
            Oper::Unknown => "unknown",
            Oper::Dormant => "dormant",
            Oper::NotPresent => "notPresent",
            Oper::LowerLayerDown => "lowerLayerDown",
        }
    }

    /// Down in the sense a NOC pages on: not passing traffic for want of a link. Dormant
    /// (waiting for an external event, like a dial-on-demand line) and testing are not.
    pub fn is_down(self) -> bool {
        matches!(self, Oper::Down | Oper::LowerLayerDown | Oper::NotPresent)
    }
}

/// A counter as read, and how wide it is: a 32-bit counter wraps often enough to be expected,
/// a 64-bit one never does, so a 64-bit counter that went back was reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    pub value: u64,
    pub bits: u8,
}

impl Counter {
    pub fn c32(value: u32) -> Counter {
        Counter { value: u64::from(value), bits: 32 }
    }
    pub fn c64(value: u64) -> Counter {
        Counter { value, bits: 64 }
    }
}

/// How much a counter grew from `before` to `after`: one wrap of a 32-bit counter allowed, a
/// change of width or a 64-bit counter going back is a discontinuity (no answer).
pub fn growth(before: Counter, after: Counter) -> Option<u64> {
    if before.bits != after.bits {
        return None;
    }
    if after.value >= before.value {
        return Some(after.value - before.value);
    }
    (after.bits == 32).then(|| after.value + (1u64 << 32) - before.value)
}

/// One row of the interface tables, as polled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interface {
    pub index: u32,
    /// ifName, else ifDescr.
    pub name: String,
    /// ifAlias: what the operator wrote on the port.
    pub alias: String,
    pub admin_up: bool,
    pub oper: Oper,
    /// ifHighSpeed × 10⁶, else ifSpeed; 0 when the agent does not know.
    pub speed_bps: u64,
    /// ifHCInOctets, else ifInOctets.
    pub in_octets: Option<Counter>,
    pub out_octets: Option<Counter>,
    pub in_errors: Option<Counter>,
    pub out_errors: Option<Counter>,
    pub in_discards: Option<Counter>,
    pub out_discards: Option<Counter>,
}

/// A device's state at one poll: what the next poll is judged against, kept with the check's
/// state so that a restart of Watchkeeper loses neither a rate nor a reboot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When it was read (epoch ms).
    pub at_ms: i64,
    /// sysUpTime, in hundredths of a second.
    pub uptime_cs: u32,
    pub interfaces: Vec<Interface>,
}

/// What an interface did between two polls, per second.
#[derive(Debug, Clone, PartialEq)]
pub struct Rates {
    pub name: String,
    pub in_bps: Option<f64>,
    pub out_bps: Option<f64>,
    /// Percent of the interface's speed (none when the speed is unknown).
    pub in_util_pct: Option<f64>,
    pub out_util_pct: Option<f64>,
    /// Errors and discards, in and out together.
    pub errors_ps: Option<f64>,
    pub discards_ps: Option<f64>,
}

/// A link that changed between two polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkChange {
    pub index: u32,
    pub name: String,
    pub alias: String,
    /// Whether it is up now.
    pub up: bool,
    pub oper: Oper,
    /// The operator shut it (admin down): intended, so a clear rather than a page.
    pub admin_down: bool,
}

/// What the second of two polls says, against the first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Comparison {
    /// The agent restarted in between (its uptime went back, not by a 497-day wrap).
    pub restarted: bool,
    /// Rates per interface, none across a restart (the counters started again).
    pub rates: Vec<Rates>,
    pub changes: Vec<LinkChange>,
}

/// TimeTicks wrap after 2³² hundredths of a second, 497 days.
const TICKS_WRAP: i64 = 1 << 32;
/// How far the agent's clock may drift from ours between polls before a jump is a restart.
const RESTART_SLACK_CS: i64 = 60 * 100;

/// Whether the agent restarted between two polls: its uptime went back, or its boot time
/// (worked out from each poll's uptime) moved later by more than a minute, the slack a busy
/// agent's clock needs — either other than by sysUpTime's wrap after 497 days.
pub fn restarted(before: &Snapshot, after: &Snapshot) -> bool {
    let elapsed_cs = (after.at_ms - before.at_ms) / 10;
    let wrapped = i64::from(before.uptime_cs) + elapsed_cs >= TICKS_WRAP - RESTART_SLACK_CS;
    let went_back = after.uptime_cs < before.uptime_cs && !wrapped;
    let jump = elapsed_cs - (i64::from(after.uptime_cs) - i64::from(before.uptime_cs));
    went_back || (jump > RESTART_SLACK_CS && (jump - TICKS_WRAP).abs() > RESTART_SLACK_CS)
}

/// Compares two polls of one device.
pub fn compare(before: &Snapshot, after: &Snapshot) -> Comparison {
    let restarted = restarted(before, after);
    let secs = (after.at_ms - before.at_ms) as f64 / 1000.0;
    let mut out = Comparison { restarted, ..Comparison::default() };
    for now in &after.interfaces {
        let Some(was) = before.interfaces.iter().find(|i| i.index == now.index) else { continue };
        let admin_down = !now.admin_up;
        if now.oper.is_down() != was.oper.is_down() || (admin_down && was.admin_up && was.oper.is_down()) {
            out.changes.push(LinkChange {
                index: now.index,
                name: now.name.clone(),
                alias: now.alias.clone(),
                up: !now.oper.is_down(),
                oper: now.oper,
                admin_down,
            });
        }
        if restarted || secs <= 0.0 {
            continue;
        }
        let rate = |a: Option<Counter>, b: Option<Counter>| growth(a?, b?).map(|d| d as f64 / secs);
        let sum = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (None, None) => None,
            (x, y) => Some(x.unwrap_or(0.0) + y.unwrap_or(0.0)),
        };
        let in_bps = rate(was.in_octets, now.in_octets).map(|r| r * 8.0);
        let out_bps = rate(was.out_octets, now.out_octets).map(|r| r * 8.0);
        let util = |bps: Option<f64>| bps.filter(|_| now.speed_bps > 0).map(|b| b * 100.0 / now.speed_bps as f64);
        out.rates.push(Rates {
            name: now.name.clone(),
            in_bps,
            out_bps,
            in_util_pct: util(in_bps),
            out_util_pct: util(out_bps),
            errors_ps: sum(rate(was.in_errors, now.in_errors), rate(was.out_errors, now.out_errors)),
            discards_ps: sum(rate(was.in_discards, now.in_discards), rate(was.out_discards, now.out_discards)),
        });
    }
    out
}

/// Thresholds a poll is judged by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub util_warn_pct: f64,
    pub util_crit_pct: f64,
    /// Errors per second (in and out) past which an interface is WARNING.
    pub errors_warn_ps: Option<f64>,
}

/// The poll's status, its line of text and its performance data: per interface traffic,
/// utilisation, errors and discards, and the device's uptime.
pub fn judge(after: &Snapshot, cmp: Option<&Comparison>, limits: &Limits) -> (Status, String, Vec<PerfDatum>) {
    let mut perf = vec![PerfDatum::new("uptime", f64::from(after.uptime_cs) / 100.0, "s")];
    let up = after.interfaces.iter().filter(|i| i.admin_up && !i.oper.is_down()).count();
    let down: Vec<&str> =
        after.interfaces.iter().filter(|i| i.admin_up && i.oper.is_down()).map(|i| i.name.as_str()).collect();
    let mut status = Status::Ok;
    let mut worst: Option<(f64, String)> = None;
    let mut noisy = Vec::new();
    for r in cmp.map(|c| c.rates.as_slice()).unwrap_or_default() {
        let util = [("in", r.in_util_pct), ("out", r.out_util_pct)];
        for (dir, u) in util {
            let Some(u) = u else { continue };
            if worst.as_ref().is_none_or(|w| u > w.0) {
                worst = Some((u, format!("{} {dir}", r.name)));
            }
            status = status.worst(crate::check::judge(
                u,
                Some(&crate::check::Range::upto(limits.util_warn_pct)),
                Some(&crate::check::Range::upto(limits.util_crit_pct)),
            ));
        }
        if let (Some(e), Some(w)) = (r.errors_ps, limits.errors_warn_ps)
            && e > w
        {
            status = status.worst(Status::Warning);
            noisy.push(r.name.clone());
        }
        let d = |label: &str, v: Option<f64>, unit: &str| {
            v.map(|v| PerfDatum::new(&format!("{}:{label}", r.name), v, unit))
        };
        perf.extend(d("in_bps", r.in_bps, ""));
        perf.extend(d("out_bps", r.out_bps, ""));
        perf.extend(
            d("in_util", r.in_util_pct, "%")
                .map(|p| p.thresholds(Some(limits.util_warn_pct), Some(limits.util_crit_pct))),
        );
        perf.extend(
            d("out_util", r.out_util_pct, "%")
                .map(|p| p.thresholds(Some(limits.util_warn_pct), Some(limits.util_crit_pct))),
        );
        perf.extend(d("errors", r.errors_ps, ""));
        perf.extend(d("discards", r.discards_ps, ""));
    }
    let mut text = format!("SNMP {} - {} interfaces, {up} up", status.as_str().to_uppercase(), after.interfaces.len());
    if !down.is_empty() {
        text.push_str(&format!(", down: {}", down.join(", ")));
    }
    match (&worst, cmp) {
        (Some((u, at)), _) => text.push_str(&format!(", peak utilisation {u:.1}% ({at})")),
        (None, Some(c)) if c.restarted => text.push_str(", the agent restarted: rates from the next poll"),
        (None, None) => text.push_str(", rates from the next poll"),
        _ => {}
    }
    if !noisy.is_empty() {
        text.push_str(&format!(", errors on {}", noisy.join(", ")));
    }
    text.push_str(&format!(", up {}", uptime_text(after.uptime_cs)));
    (status, text, perf)
}

/// `3 d 04:05` from hundredths of a second.
pub fn uptime_text(cs: u32) -> String {
    let s = cs / 100;
    format!("{} d {:02}:{:02}", s / 86_400, s % 86_400 / 3600, s % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn iface(index: u32, oper: Oper, octets: u64) -> Interface {
        Interface {
            index,
            name: format!("Gi0/{index}"),
            alias: String::new(),
            admin_up: true,
            oper,
            speed_bps: 1_000_000_000,
            in_octets: Some(Counter::c64(octets)),
            out_octets: Some(Counter::c64(octets / 2)),
            in_errors: Some(Counter::c32(0)),
            out_errors: Some(Counter::c32(0)),
            in_discards: None,
            out_discards: None,
        }
    }

    fn snap(at_ms: i64, uptime_cs: u32, interfaces: Vec<Interface>) -> Snapshot {
        Snapshot { at_ms, uptime_cs, interfaces }
    }

    #[test]
    fn a_32_bit_counter_wraps_a_64_bit_one_resets() {
        assert_eq!(growth(Counter::c32(u32::MAX - 9), Counter::c32(5)), Some(15));
        assert_eq!(growth(Counter::c64(100), Counter::c64(5)), None);
        assert_eq!(growth(Counter::c32(5), Counter::c64(10)), None);
        assert_eq!(growth(Counter::c64(5), Counter::c64(10)), Some(5));
    }

    #[test]
    fn traffic_becomes_bits_per_second_and_utilisation() {
        // 750 MB in 60 s on a gigabit port: 100 Mb/s in, 10 %.
        let a = snap(0, 100_000, vec![iface(1, Oper::Up, 1_000)]);
        let b = snap(60_000, 106_000, vec![iface(1, Oper::Up, 1_000 + 750_000_000)]);
        let c = compare(&a, &b);
        assert!(!c.restarted);
        let r = &c.rates[0];
        assert_eq!(r.in_bps, Some(100_000_000.0));
        assert_eq!(r.in_util_pct, Some(10.0));
        assert_eq!(r.out_util_pct, Some(5.0));
        assert_eq!(r.errors_ps, Some(0.0));
        assert_eq!(r.discards_ps, None);
        let limits = Limits { util_warn_pct: 8.0, util_crit_pct: 50.0, errors_warn_ps: None };
        let (status, text, perf) = judge(&b, Some(&c), &limits);
        assert_eq!(status, Status::Warning, "{text}");
        assert!(text.contains("peak utilisation 10.0% (Gi0/1 in)"), "{text}");
        assert!(perf.iter().any(|p| p.label == "Gi0/1:in_util" && p.value == 10.0 && p.unit == "%"));
    }

    #[test]
    fn a_restart_gives_no_rates_and_is_told() {
        // Up 1000 s, then 30 s later up 20 s: restarted; octets started again.
        let a = snap(0, 100_000, vec![iface(1, Oper::Up, 9_000_000)]);
        let b = snap(30_000, 2_000, vec![iface(1, Oper::Up, 500)]);
        let c = compare(&a, &b);
        assert!(c.restarted);
        assert!(c.rates.is_empty());
        // Restarted after a poll and up longer than the previous uptime by the next one.
        let a = snap(0, 3_000, vec![]);
        let b = snap(300_000, 24_000, vec![]);
        assert!(restarted(&a, &b));
        // Restarted a second after a poll of an agent up for seconds.
        let a = snap(0, 400, vec![]);
        let b = snap(2_000, 30, vec![]);
        assert!(restarted(&a, &b));
    }

    #[test]
    fn sys_up_time_wrapping_after_497_days_is_not_a_restart() {
        let a = snap(0, u32::MAX - 500, vec![]);
        let b = snap(60_000, 5_499, vec![]);
        assert!(!restarted(&a, &b));
        // A busy agent answering a few seconds late is not one either.
        let a = snap(0, 10_000, vec![]);
        let b = snap(60_000, 15_000, vec![]);
        assert!(!restarted(&a, &b));
    }

    #[test]
    fn links_going_down_and_up_and_shut_are_told_apart() {
        let a = snap(0, 100, vec![iface(1, Oper::Up, 0), iface(2, Oper::Down, 0), iface(3, Oper::Up, 0)]);
        let mut shut = iface(3, Oper::Down, 0);
        shut.admin_up = false;
        let b = snap(
            60_000,
            6_100,
            vec![iface(1, Oper::LowerLayerDown, 0), iface(2, Oper::Up, 0), shut, iface(4, Oper::Down, 0)],
        );
        let c = compare(&a, &b);
        let seen: Vec<(u32, bool, bool)> = c.changes.iter().map(|c| (c.index, c.up, c.admin_down)).collect();
        // A new interface (4) is not a change; dormant would not be down.
        assert_eq!(seen, vec![(1, false, false), (2, true, false), (3, false, true)]);
        assert!(!Oper::Dormant.is_down());
        let (_, text, _) =
            judge(&b, Some(&c), &Limits { util_warn_pct: 80.0, util_crit_pct: 95.0, errors_warn_ps: None });
        assert!(text.contains("down: Gi0/1, Gi0/4"), "{text}");
    }

    #[test]
    fn errors_past_their_limit_warn() {
        let mut a1 = iface(1, Oper::Up, 0);
        a1.in_errors = Some(Counter::c32(0));
        let mut b1 = iface(1, Oper::Up, 0);
        b1.in_errors = Some(Counter::c32(600));
        let c = compare(&snap(0, 0, vec![a1]), &snap(60_000, 6_000, vec![b1.clone()]));
        assert_eq!(c.rates[0].errors_ps, Some(10.0));
        let limits = Limits { util_warn_pct: 80.0, util_crit_pct: 95.0, errors_warn_ps: Some(1.0) };
        let (status, text, _) = judge(&snap(60_000, 6_000, vec![b1]), Some(&c), &limits);
        assert_eq!(status, Status::Warning);
        assert!(text.contains("errors on Gi0/1"), "{text}");
    }

    proptest! {
        /// Whatever two polls say, comparing them gives finite, non-negative rates.
        #[test]
        fn rates_are_never_negative(a in any::<u64>(), b in any::<u64>(), a32 in any::<u32>(), b32 in any::<u32>(),
                                    up_a in any::<u32>(), up_b in any::<u32>(), gap in 1i64..1_000_000) {
            let mut x = iface(1, Oper::Up, a);
            x.in_errors = Some(Counter::c32(a32));
            let mut y = iface(1, Oper::Up, b);
            y.in_errors = Some(Counter::c32(b32));
            let c = compare(&snap(0, up_a, vec![x]), &snap(gap, up_b, vec![y]));
            for r in &c.rates {
                for v in [r.in_bps, r.out_bps, r.in_util_pct, r.errors_ps].into_iter().flatten() {
                    prop_assert!(v.is_finite() && v >= 0.0);
                }
            }
        }
    }
}
