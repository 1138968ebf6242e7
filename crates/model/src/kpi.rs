//! Desk KPIs, pure: what each incident event adds to the daily roll-ups the dashboard reads
//! (so KPIs never need a scan of every incident), and the figures read back from them —
//! MTTA, MTTR, SLA compliance, first-contact resolution, satisfaction — and backlog ageing.
//!
//! Definitions (ServiceNow's): time to acknowledge runs from opening to the first move to In
//! Progress; time to resolve from opening to the resolution (a reopened incident counts again
//! when resolved again, and its reopening is counted); an incident is resolved at first
//! contact when the person who opened it resolved it without handing it on or escalating it;
//! SLA compliance is the share of resolution clocks that ended within their target.

/// A roll-up counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Counter {
    Opened,
    Responded,
    ResponseMs,
    Resolved,
    ResolutionMs,
    FirstContact,
    Reopened,
    /// Resolution clocks that ended: met, and breached.
    SlaMet,
    SlaBreached,
    SatisfactionSum,
    SatisfactionCount,
}

impl Counter {
    pub const ALL: [Counter; 11] = [
        Counter::Opened,
        Counter::Responded,
        Counter::ResponseMs,
        Counter::Resolved,
        Counter::ResolutionMs,
        Counter::FirstContact,
        Counter::Reopened,
        Counter::SlaMet,
        Counter::SlaBreached,
        Counter::SatisfactionSum,
        Counter::SatisfactionCount,
    ];

    /// The column that holds it.
    pub fn column(self) -> &'static str {
        match self {
            Counter::Opened => "opened",
            Counter::Responded => "responded",
            Counter::ResponseMs => "response_ms",
            Counter::Resolved => "resolved",
            Counter::ResolutionMs => "resolution_ms",
            Counter::FirstContact => "first_contact",
            Counter::Reopened => "reopened",
            Counter::SlaMet => "sla_met",
            Counter::SlaBreached => "sla_breached",
            Counter::SatisfactionSum => "satisfaction_sum",
            Counter::SatisfactionCount => "satisfaction_count",
        }
    }
}

/// The UTC day of an instant, `YYYY-MM-DD`: the roll-ups' key.
pub fn day(at_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(at_ms).map(|t| t.strftime("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// One earlier entry of the incident's timeline, as the roll-ups need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Past<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub kind: &'a str,
    pub state: Option<&'a str>,
}

/// What happened now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    Opened,
    /// Entered a state; `resolution_met` says, for a resolution, whether its clock ended
    /// within the target (None: no clock, P5).
    Entered {
        state: &'a str,
        resolution_met: Option<bool>,
    },
    Verified {
        satisfaction: u8,
    },
}

/// What one event adds to the roll-ups, as `(counter, amount)`, on the event's day.
pub fn contribution(opened_at: i64, past: &[Past<'_>], event: Event<'_>, actor: &str, at: i64) -> Vec<(Counter, i64)> {
    let seen = |state: &str| past.iter().any(|p| p.state == Some(state));
    match event {
        Event::Opened => vec![(Counter::Opened, 1)],
        Event::Entered { state: "in-progress", .. } if seen("resolved") => vec![(Counter::Reopened, 1)],
        Event::Entered { state: "in-progress", .. } if !seen("in-progress") => {
            vec![(Counter::Responded, 1), (Counter::ResponseMs, at - opened_at)]
        }
        Event::Entered { state: "resolved", resolution_met } => {
            let mut out = vec![(Counter::Resolved, 1), (Counter::ResolutionMs, at - opened_at)];
            // Responding and resolving in one move is responding too.
            if !seen("in-progress") {
                out.extend([(Counter::Responded, 1), (Counter::ResponseMs, at - opened_at)]);
            }
            let opener = past.iter().find(|p| p.kind == "opened").map(|p| p.actor);
            let handed_on = past.iter().any(|p| matches!(p.kind, "assigned" | "escalation")) || seen("resolved");
            if opener == Some(actor) && !handed_on {
                out.push((Counter::FirstContact, 1));
            }
            match resolution_met {
                Some(true) => out.push((Counter::SlaMet, 1)),
                Some(false) => out.push((Counter::SlaBreached, 1)),
                None => {}
            }
            out
        }
        Event::Verified { satisfaction } => {
            vec![(Counter::SatisfactionSum, i64::from(satisfaction)), (Counter::SatisfactionCount, 1)]
        }
        Event::Entered { .. } => Vec::new(),
    }
}

/// The totals of some days' roll-ups, and the KPIs they give.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals(pub std::collections::BTreeMap<Counter, i64>);

impl Totals {
    pub fn add(&mut self, c: Counter, n: i64) {
        *self.0.entry(c).or_default() += n;
    }

    pub fn get(&self, c: Counter) -> i64 {
        self.0.get(&c).copied().unwrap_or(0)
    }

    fn ratio(&self, num: Counter, den: Counter) -> Option<f64> {
        let d = self.get(den);
        (d > 0).then(|| self.get(num) as f64 / d as f64)
    }

    /// Mean time to acknowledge, in minutes.
    pub fn mtta_minutes(&self) -> Option<f64> {
        self.ratio(Counter::ResponseMs, Counter::Responded).map(|v| v / 60_000.0)
    }

    /// Mean time to resolve, in minutes.
    pub fn mttr_minutes(&self) -> Option<f64> {
        self.ratio(Counter::ResolutionMs, Counter::Resolved).map(|v| v / 60_000.0)
    }

    /// Share of resolution clocks that ended within target, in percent.
    pub fn sla_compliance(&self) -> Option<f64> {
        let (met, breached) = (self.get(Counter::SlaMet), self.get(Counter::SlaBreached));
        (met + breached > 0).then(|| met as f64 * 100.0 / (met + breached) as f64)
    }

    /// First-contact resolution, percent of resolutions.
    pub fn fcr(&self) -> Option<f64> {
        self.ratio(Counter::FirstContact, Counter::Resolved).map(|v| v * 100.0)
    }

    pub fn satisfaction(&self) -> Option<f64> {
        self.ratio(Counter::SatisfactionSum, Counter::SatisfactionCount)
    }
}

/// Backlog ageing buckets, by how long an open incident has been open.
pub const AGE_BUCKETS: [(&str, i64); 5] = [
    ("under a day", 86_400_000),
    ("1–3 days", 3 * 86_400_000),
    ("3–7 days", 7 * 86_400_000),
    ("7–30 days", 30 * 86_400_000),
    ("over 30 days", i64::MAX),
];

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = 60_000;

    fn p<'a>(at: i64, actor: &'a str, kind: &'a str, state: Option<&'a str>) -> Past<'a> {
        Past { at, actor, kind, state }
    }

    #[test]
    fn each_event_adds_what_the_definitions_say() {
        let opened = [p(0, "operator", "opened", Some("new"))];
        assert_eq!(contribution(0, &[], Event::Opened, "operator", 0), [(Counter::Opened, 1)]);
        // Resolved at once by whoever opened it: responded, resolved, first contact, met.
        let c = contribution(
            0,
            &opened,
            Event::Entered { state: "resolved", resolution_met: Some(true) },
            "operator",
            20 * M,
        );
        assert!(
            c.contains(&(Counter::FirstContact, 1))
                && c.contains(&(Counter::Responded, 1))
                && c.contains(&(Counter::SlaMet, 1))
        );
        // Taken by an engineer, then resolved late: no first contact, breached.
        let c =
            contribution(0, &opened, Event::Entered { state: "in-progress", resolution_met: None }, "engineer", 12 * M);
        assert_eq!(c, [(Counter::Responded, 1), (Counter::ResponseMs, 12 * M)]);
        let worked = [opened[0], p(12 * M, "engineer", "state", Some("in-progress"))];
        let c = contribution(
            0,
            &worked,
            Event::Entered { state: "resolved", resolution_met: Some(false) },
            "engineer",
            5 * 60 * M,
        );
        assert_eq!(c, [(Counter::Resolved, 1), (Counter::ResolutionMs, 5 * 60 * M), (Counter::SlaBreached, 1)]);
        // Handed on before the opener resolved it: not first contact.
        let handed = [opened[0], p(M, "operator", "assigned", None)];
        let c = contribution(0, &handed, Event::Entered { state: "resolved", resolution_met: None }, "operator", 2 * M);
        assert!(!c.contains(&(Counter::FirstContact, 1)));
        // Reopened: counted as such, not as a second response.
        let resolved = [worked[0], worked[1], p(5 * 60 * M, "engineer", "state", Some("resolved"))];
        assert_eq!(
            contribution(
                0,
                &resolved,
                Event::Entered { state: "in-progress", resolution_met: None },
                "engineer",
                6 * 60 * M
            ),
            [(Counter::Reopened, 1)]
        );
    }

    #[test]
    fn totals_give_the_kpis() {
        let mut t = Totals::default();
        for (c, n) in [
            (Counter::Responded, 2),
            (Counter::ResponseMs, 30 * M),
            (Counter::Resolved, 2),
            (Counter::ResolutionMs, 300 * M),
            (Counter::FirstContact, 1),
            (Counter::SlaMet, 3),
            (Counter::SlaBreached, 1),
            (Counter::SatisfactionSum, 9),
            (Counter::SatisfactionCount, 2),
        ] {
            t.add(c, n);
        }
        assert_eq!((t.mtta_minutes(), t.mttr_minutes()), (Some(15.0), Some(150.0)));
        assert_eq!((t.sla_compliance(), t.fcr(), t.satisfaction()), (Some(75.0), Some(50.0), Some(4.5)));
        assert_eq!(Totals::default().mttr_minutes(), None, "no resolutions: no figure, not zero");
        assert_eq!(day(1_800_000_000_000), "2027-01-15");
    }
}
