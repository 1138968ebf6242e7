//! The SLA clock: a target of working time on a calendar, driven by what happened to the
//! record — started, paused (On Hold for the caller or a vendor), resumed, stopped
//! (responded, resolved), cancelled, or reset (started again, as ServiceNow's reset
//! condition reattaches an SLA). From those events and an instant, [`evaluate`] says how
//! much working time has run, the percentage, when each warning threshold and the breach
//! were (or will be) crossed, and where the clock stands.
//!
//! Pure: the calendar, the events and "now" come in, the state goes out; recomputing after
//! a priority change is calling it again with the new definition, which the caller records.

use crate::calendar::Calendar;

/// What happened to the clock, and when (epoch ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SlaEvent {
    Start,
    Pause,
    Resume,
    /// The target was met or missed for good: responded to, resolved.
    Stop,
    Cancel,
    /// Start again from zero (the record re-entered the start condition).
    Reset,
}

/// A clock's events, each with its instant.
pub type Timeline = Vec<(i64, SlaEvent)>;

/// A response or resolution target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaDefinition {
    pub name: String,
    /// Working time allowed, in milliseconds.
    pub target_ms: i64,
    /// Percentages at which warnings fire (50, 75, 90 by default); 100 is the breach.
    pub warnings: Vec<u8>,
}

impl SlaDefinition {
    pub fn new(name: &str, target_ms: i64) -> SlaDefinition {
        SlaDefinition { name: name.into(), target_ms, warnings: vec![50, 75, 90] }
    }
}

/// Where the clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    NotStarted,
    Running,
    Paused,
    /// Stopped within the target.
    Achieved,
    /// Stopped after the target, or still running past it.
    Breached,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlaState {
    pub stage: Stage,
    /// When the current attachment started (after the last reset).
    pub started_at: Option<i64>,
    /// Working time run, pauses excluded.
    pub elapsed_ms: i64,
    /// `elapsed / target`, in percent.
    pub percent: f64,
    /// While running: when the breach will come. Paused or stopped: none.
    pub deadline: Option<i64>,
    /// When the target was crossed, if it was.
    pub breached_at: Option<i64>,
    /// The warning thresholds crossed so far, with the instant of each.
    pub warnings: Vec<(u8, i64)>,
    /// When the clock stopped (achieved or breached) or was cancelled.
    pub ended_at: Option<i64>,
}

/// The clock at `now`, from its events (in any order; events after `now` are not yet).
pub fn evaluate(def: &SlaDefinition, cal: &Calendar, events: &[(i64, SlaEvent)], now: i64) -> SlaState {
    let mut events: Vec<(i64, SlaEvent)> = events.iter().copied().filter(|e| e.0 <= now).collect();
    events.sort();
    let mut s = empty();
    // The running segment's start, while the clock runs.
    let mut since: Option<i64> = None;
    let target = def.target_ms.max(1);
    let mut thresholds: Vec<u8> = def.warnings.iter().copied().filter(|&p| p < 100).collect();
    thresholds.sort();
    // Runs the clock from `since` to `until`, noting the thresholds crossed on the way.
    let run = |s: &mut SlaState, from: i64, until: i64| {
        let worked = cal.working_ms(from, until);
        let (before, after) = (s.elapsed_ms, s.elapsed_ms + worked);
        let crossing =
            |mark: i64| (before < mark && mark <= after).then(|| cal.add_working(from, mark - before)).flatten();
        for &p in &thresholds {
            let mark = target * i64::from(p) / 100;
            if let Some(at) = crossing(mark) {
                s.warnings.push((p, at));
            }
        }
        if s.breached_at.is_none() {
            s.breached_at = crossing(target);
        }
        s.elapsed_ms = after;
    };
    for (at, e) in events {
        match (e, s.stage) {
            (SlaEvent::Start, Stage::NotStarted) | (SlaEvent::Reset, _) => {
                s = SlaState { stage: Stage::Running, started_at: Some(at), ..empty() };
                since = Some(at);
            }
            (SlaEvent::Pause, Stage::Running) => {
                if let Some(from) = since.take() {
                    run(&mut s, from, at);
                }
                s.stage = Stage::Paused;
            }
            (SlaEvent::Resume, Stage::Paused) => {
                s.stage = Stage::Running;
                since = Some(at);
            }
            (SlaEvent::Stop, Stage::Running | Stage::Paused) => {
                if let Some(from) = since.take() {
                    run(&mut s, from, at);
                }
                s.stage = if s.elapsed_ms > def.target_ms { Stage::Breached } else { Stage::Achieved };
                s.ended_at = Some(at);
            }
            (SlaEvent::Cancel, Stage::Running | Stage::Paused | Stage::NotStarted) => {
                if let Some(from) = since.take() {
                    run(&mut s, from, at);
                }
                s.stage = Stage::Cancelled;
                s.ended_at = Some(at);
            }
            // Anything else (a pause while paused, a stop before the start…) changes nothing.
            _ => {}
        }
    }
    if let Some(from) = since {
        run(&mut s, from, now);
        let left = def.target_ms - s.elapsed_ms;
        s.deadline = if left > 0 { cal.add_working(now, left) } else { s.breached_at };
        if left < 0 {
            s.stage = Stage::Breached;
        }
    }
    s.percent = s.elapsed_ms as f64 * 100.0 / target as f64;
    s
}

/// The next mark a running clock will cross after `now` — a warning percentage, or 100 for
/// the breach — with the instant it will be crossed. `None` when the clock is not running or
/// has crossed them all. This is when a sweeper next has something to record.
pub fn next_threshold(def: &SlaDefinition, cal: &Calendar, s: &SlaState, now: i64) -> Option<(u8, i64)> {
    if s.stage != Stage::Running {
        return None;
    }
    let mut marks: Vec<u8> = def.warnings.iter().copied().filter(|&p| p < 100).collect();
    marks.sort();
    marks.push(100);
    marks.into_iter().find_map(|p| {
        let mark = def.target_ms.max(1) * i64::from(p) / 100;
        (mark > s.elapsed_ms).then(|| cal.add_working(now, mark - s.elapsed_ms).map(|at| (p, at))).flatten()
    })
}

/// What an SLA policy promises for one priority: working time to respond and to resolve, on
/// a calendar (`24x7`, or the name of a stored working-time calendar such as `office`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlaTarget {
    pub priority: u8,
    pub response_ms: i64,
    pub resolution_ms: i64,
    pub calendar: String,
}

/// A named set of targets per priority. Services name their policy (`sla_policy`); an
/// incident runs on the policies of the services it affects, the tightest one winning.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlaPolicy {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub targets: Vec<SlaTarget>,
}

/// The calendar that runs round the clock.
pub const ROUND_THE_CLOCK: &str = "24x7";

/// Which clock of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClockKind {
    Response,
    Resolution,
}

impl ClockKind {
    pub const ALL: [ClockKind; 2] = [ClockKind::Response, ClockKind::Resolution];

    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::Response => "response",
            ClockKind::Resolution => "resolution",
        }
    }

    pub fn parse(s: &str) -> Option<ClockKind> {
        ClockKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl SlaPolicy {
    /// The policy every incident runs on when none of its services names another: the
    /// targets of a 24×7 NOC. P1 and P2 run round the clock, P3 and P4 on office hours
    /// (a working day is 8 hours); P5 has none.
    pub fn standard() -> SlaPolicy {
        const M: i64 = 60_000;
        const H: i64 = 60 * M;
        const DAY: i64 = 8 * H;
        let t = |priority, response_ms, resolution_ms, calendar: &str| SlaTarget {
            priority,
            response_ms,
            resolution_ms,
            calendar: calendar.into(),
        };
        SlaPolicy {
            name: "standard".into(),
            description: "The default: P1/P2 round the clock, P3/P4 on office hours".into(),
            targets: vec![
                t(1, 15 * M, 4 * H, ROUND_THE_CLOCK),
                t(2, 30 * M, 8 * H, ROUND_THE_CLOCK),
                t(3, 4 * H, 3 * DAY, "office"),
                t(4, DAY, 5 * DAY, "office"),
            ],
        }
    }

    pub fn target(&self, priority: u8) -> Option<&SlaTarget> {
        self.targets.iter().find(|t| t.priority == priority)
    }

    /// Checks names, priorities (1–5, once each), targets (positive, response no longer than
    /// resolution, at most a year) and that each calendar is one of `calendars`.
    pub fn validate(&self, calendars: &[&str]) -> Result<(), crate::Invalid> {
        use crate::FieldError;
        let mut errors = Vec::new();
        errors.extend(crate::validation::check_name(self.name.trim()));
        let mut seen = Vec::new();
        const YEAR: i64 = 366 * 24 * 3_600_000;
        for (i, t) in self.targets.iter().enumerate() {
            let field = |f: &str| format!("targets[{i}].{f}");
            if !(1..=5).contains(&t.priority) || seen.contains(&t.priority) {
                errors.push(FieldError::new(field("priority"), "1 to 5, each priority once"));
            }
            seen.push(t.priority);
            if !(60_000..=YEAR).contains(&t.response_ms) {
                errors.push(FieldError::new(field("response_ms"), "from one minute to a year"));
            }
            if !(60_000..=YEAR).contains(&t.resolution_ms) || t.resolution_ms < t.response_ms {
                errors
                    .push(FieldError::new(field("resolution_ms"), "from one minute to a year, not under the response"));
            }
            if t.calendar != ROUND_THE_CLOCK && !calendars.contains(&t.calendar.as_str()) {
                errors.push(FieldError::new(
                    field("calendar"),
                    format!("`24x7` or a stored calendar ({}); `{}` is neither", calendars.join(", "), t.calendar),
                ));
            }
        }
        crate::Invalid::check(errors)
    }
}

/// One clock's definition as an incident runs it: where it came from, the target and the
/// calendar.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub policy: String,
    pub target_ms: i64,
    /// The policy's name for the calendar (`24x7`, `office`…) and the calendar it resolved to.
    pub calendar_name: String,
    pub calendar: Calendar,
}

/// The definition a clock runs on: among `policies` (those of the incident's services, or the
/// standard one), the target for `priority` whose deadline, counted from `start`, comes
/// first — on its own calendar, so 4 hours round the clock beats 4 working hours. Ties go to
/// the first policy given. `calendar` resolves a policy's calendar name.
pub fn tightest(
    policies: &[SlaPolicy],
    priority: u8,
    kind: ClockKind,
    start: i64,
    calendar: impl Fn(&str) -> Calendar,
) -> Option<Chosen> {
    let mut best: Option<(i64, Chosen)> = None;
    for p in policies {
        let Some(t) = p.target(priority) else { continue };
        let target_ms = match kind {
            ClockKind::Response => t.response_ms,
            ClockKind::Resolution => t.resolution_ms,
        };
        let cal = calendar(&t.calendar);
        let due = cal.add_working(start, target_ms).unwrap_or(i64::MAX);
        if best.as_ref().is_none_or(|(b, _)| due < *b) {
            best = Some((
                due,
                Chosen { policy: p.name.clone(), target_ms, calendar_name: t.calendar.clone(), calendar: cal },
            ));
        }
    }
    best.map(|(_, c)| c)
}

/// A clock that has not started.
fn empty() -> SlaState {
    SlaState {
        stage: Stage::NotStarted,
        started_at: None,
        elapsed_ms: 0,
        percent: 0.0,
        deadline: None,
        breached_at: None,
        warnings: Vec::new(),
        ended_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::SlaEvent::*;
    use super::*;
    use crate::calendar::Calendar;
    use crate::calendar::tests::{london_office, ms};
    use jiff::tz::TimeZone;
    use proptest::prelude::*;

    const H: i64 = 3_600_000;
    const M: i64 = 60_000;

    #[test]
    fn the_tightest_policy_wins_on_its_own_calendar() {
        let office = london_office();
        let cal =
            |name: &str| if name == ROUND_THE_CLOCK { Calendar::always("24x7", TimeZone::UTC) } else { office.clone() };
        let mut critical = SlaPolicy::standard();
        critical.name = "24x7-critical".into();
        for t in &mut critical.targets {
            t.calendar = ROUND_THE_CLOCK.into();
        }
        // Friday 16:00 in London: 4 working hours of the office calendar end on Monday,
        // 4 hours round the clock end at 20:00 — the critical policy's P3 response wins.
        let friday = ms("2027-01-15T16:00:00Z");
        let policies = [SlaPolicy::standard(), critical];
        let c = tightest(&policies, 3, ClockKind::Response, friday, cal).unwrap();
        assert_eq!((c.policy.as_str(), c.target_ms), ("24x7-critical", 4 * H));
        // The same targets on the same calendar: the first policy given keeps it.
        let c = tightest(&policies, 1, ClockKind::Resolution, friday, cal).unwrap();
        assert_eq!(c.policy, "standard");
        assert!(tightest(&policies, 5, ClockKind::Resolution, friday, cal).is_none(), "P5 has no target");
    }

    #[test]
    fn the_next_mark_is_the_next_warning_then_the_breach() {
        let cal = Calendar::always("24x7", TimeZone::UTC);
        let def = SlaDefinition::new("P1 resolution", 4 * H);
        let t0 = ms("2027-01-15T08:00:00Z");
        let s = evaluate(&def, &cal, &[(t0, Start)], t0 + H);
        assert_eq!(next_threshold(&def, &cal, &s, t0 + H), Some((50, t0 + 2 * H)));
        let s = evaluate(&def, &cal, &[(t0, Start)], t0 + 3 * H + 40 * M);
        assert_eq!(next_threshold(&def, &cal, &s, t0 + 3 * H + 40 * M), Some((100, t0 + 4 * H)));
        let s = evaluate(&def, &cal, &[(t0, Start), (t0 + H, Pause)], t0 + 2 * H);
        assert_eq!(next_threshold(&def, &cal, &s, t0 + 2 * H), None, "a paused clock crosses nothing");
    }

    #[test]
    fn policies_name_known_calendars_and_sane_targets() {
        assert!(SlaPolicy::standard().validate(&["office"]).is_ok());
        let e = SlaPolicy::standard().validate(&[]).unwrap_err();
        assert!(e.0.iter().any(|f| f.field == "targets[2].calendar" && f.message.contains("`office`")), "{e:?}");
        let mut p = SlaPolicy::standard();
        p.targets[0].resolution_ms = p.targets[0].response_ms - 1;
        p.targets[1].priority = 1;
        let e = p.validate(&["office"]).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["targets[0].resolution_ms", "targets[1].priority"]);
    }

    /// A P1 on the 24×7 calendar across the night the clocks go forward: response in 15
    /// minutes, resolution in 4 hours, on hold for a vendor for 45 minutes.
    #[test]
    fn a_p1_round_the_clock_across_the_dst_change() {
        let cal = Calendar::always("24x7", TimeZone::get("Europe/London").unwrap());
        let (response, resolution) =
            (SlaDefinition::new("P1 response", 15 * M), SlaDefinition::new("P1 resolution", 4 * H));
        let opened = ms("2027-03-27T23:30:00Z");
        let r = evaluate(
            &response,
            &cal,
            &[(opened, Start), (ms("2027-03-27T23:40:00Z"), Stop)],
            ms("2027-03-28T06:00:00Z"),
        );
        assert_eq!((r.stage, r.elapsed_ms, r.warnings.len()), (Stage::Achieved, 10 * M, 1), "{r:?}");
        assert_eq!(r.warnings[0], (50, ms("2027-03-27T23:37:30Z")));

        let life = [
            (opened, Start),
            (ms("2027-03-28T01:00:00Z"), Pause),
            (ms("2027-03-28T01:45:00Z"), Resume),
            (ms("2027-03-28T03:50:00Z"), Stop),
        ];
        // Before the hold: the deadline is 4 real hours on — 04:30 BST.
        let early = evaluate(&resolution, &cal, &life, ms("2027-03-28T00:30:00Z"));
        assert_eq!((early.stage, early.deadline), (Stage::Running, Some(ms("2027-03-28T03:30:00Z"))));
        // On hold: no deadline, the clock stands at 1 h 30.
        let held = evaluate(&resolution, &cal, &life, ms("2027-03-28T01:30:00Z"));
        assert_eq!((held.stage, held.elapsed_ms, held.deadline), (Stage::Paused, 90 * M, None));
        // Resumed: the deadline moved by the 45 minutes held.
        let resumed = evaluate(&resolution, &cal, &life, ms("2027-03-28T02:00:00Z"));
        assert_eq!(resumed.deadline, Some(ms("2027-03-28T04:15:00Z")));
        let done = evaluate(&resolution, &cal, &life, ms("2027-03-28T06:00:00Z"));
        assert_eq!((done.stage, done.elapsed_ms), (Stage::Achieved, 3 * H + 35 * M));
        assert_eq!(done.warnings, [(50, ms("2027-03-28T02:15:00Z")), (75, ms("2027-03-28T03:15:00Z"))]);
        assert_eq!(done.breached_at, None);
    }

    /// A P3 on office hours opened on the Thursday before Easter: Good Friday, the weekend
    /// (with the clocks going forward) and Easter Monday pass without counting; a hold
    /// awaiting the caller pauses it; it is resolved within its three working days.
    #[test]
    fn a_p3_on_office_hours_across_a_weekend_holidays_and_the_dst_change() {
        let cal = london_office();
        let response = SlaDefinition::new("P3 response", 4 * H);
        let resolution = SlaDefinition::new("P3 resolution", 24 * H);
        let opened = ms("2027-03-25T15:00:00Z"); // Thursday 15:00 GMT
        let r = evaluate(&response, &cal, &[(opened, Start)], opened);
        assert_eq!(r.deadline, Some(ms("2027-03-30T10:00:00Z")), "Tuesday 11:00 BST");
        // Taken on Tuesday at 09:30 BST: 2 h 30 of 4 h.
        let taken = [(opened, Start), (ms("2027-03-30T08:30:00Z"), Stop)];
        let r = evaluate(&response, &cal, &taken, ms("2027-04-05T00:00:00Z"));
        assert_eq!((r.stage, r.elapsed_ms), (Stage::Achieved, 150 * M));
        assert_eq!(r.warnings, [(50, ms("2027-03-25T17:00:00Z"))], "at Thursday's close");

        let fresh = evaluate(&resolution, &cal, &[(opened, Start)], opened);
        assert_eq!(fresh.deadline, Some(ms("2027-04-01T14:00:00Z")), "Thursday 1 April 15:00 BST");
        let life = [
            (opened, Start),
            (ms("2027-03-30T11:00:00Z"), Pause), // Tuesday 12:00 BST, awaiting caller
            (ms("2027-03-31T09:00:00Z"), Resume), // Wednesday 10:00 BST
            (ms("2027-04-02T10:00:00Z"), Stop),  // Friday 11:00 BST
        ];
        let resumed = evaluate(&resolution, &cal, &life, ms("2027-03-31T09:00:00Z"));
        assert_eq!(
            resumed.deadline,
            Some(ms("2027-04-02T12:00:00Z")),
            "six held working hours later: Friday 13:00 BST"
        );
        let done = evaluate(&resolution, &cal, &life, ms("2027-04-05T00:00:00Z"));
        assert_eq!((done.stage, done.elapsed_ms), (Stage::Achieved, 22 * H));
        assert_eq!(
            done.warnings,
            [(50, ms("2027-03-31T16:00:00Z")), (75, ms("2027-04-01T14:00:00Z")), (90, ms("2027-04-02T09:36:00Z"))]
        );
        // Not resolved: breached at Friday 13:00 BST, and stays breached.
        let late = evaluate(&resolution, &cal, &life[..3], ms("2027-04-05T12:00:00Z"));
        assert_eq!((late.stage, late.breached_at), (Stage::Breached, Some(ms("2027-04-02T12:00:00Z"))));
        assert!(late.percent > 100.0);
    }

    #[test]
    fn reset_starts_again_and_cancel_ends_without_a_verdict() {
        let cal = Calendar::always("24x7", TimeZone::UTC);
        let def = SlaDefinition::new("r", 4 * H);
        let r = evaluate(&def, &cal, &[(0, Start), (3 * H, Reset)], 5 * H);
        assert_eq!((r.started_at, r.elapsed_ms, r.deadline), (Some(3 * H), 2 * H, Some(7 * H)));
        let c = evaluate(&def, &cal, &[(0, Start), (H, Cancel), (2 * H, Resume)], 9 * H);
        assert_eq!((c.stage, c.elapsed_ms, c.deadline), (Stage::Cancelled, H, None));
    }

    fn event() -> impl Strategy<Value = (i64, SlaEvent)> {
        (0i64..30 * 24 * 60, prop_oneof![Just(Start), Just(Pause), Just(Resume), Just(Stop), Just(Cancel), Just(Reset)])
            .prop_map(|(minute, e)| (ms("2027-03-20T00:00:00Z") + minute * M, e))
    }

    proptest! {
        /// Working time never runs backwards as time passes; it never exceeds the calendar's
        /// working time since the start; and a warning or breach instant is never after now.
        #[test]
        fn the_clock_only_moves_forward(events in proptest::collection::vec(event(), 0..12), a in 0i64..40 * 24 * 60, b in 0i64..40 * 24 * 60) {
            let cal = london_office();
            let def = SlaDefinition::new("p", 16 * H);
            let base = ms("2027-03-20T00:00:00Z");
            let (t1, t2) = (base + a.min(b) * M, base + a.max(b) * M);
            let (s1, s2) = (evaluate(&def, &cal, &events, t1), evaluate(&def, &cal, &events, t2));
            if s1.started_at == s2.started_at {
                prop_assert!(s1.elapsed_ms <= s2.elapsed_ms, "{s1:?} {s2:?}");
            }
            if let Some(start) = s2.started_at {
                prop_assert!(s2.elapsed_ms <= cal.working_ms(start, t2));
            }
            for (_, at) in &s2.warnings {
                prop_assert!(*at <= t2);
            }
            prop_assert!(s2.breached_at.is_none_or(|at| at <= t2));
            if s2.stage == Stage::Running {
                // The deadline is when the remaining working time runs out.
                let d = s2.deadline.unwrap();
                prop_assert_eq!(s2.elapsed_ms + cal.working_ms(t2, d), def.target_ms.max(s2.elapsed_ms));
            }
        }
    }
}
