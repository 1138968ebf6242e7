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
