//! Incidents' rules as data: the ITIL states and which moves between them are allowed
//! (with what each move needs), the hold reasons and which of them stop the SLA clock,
//! the impact × urgency priority matrix (ITIL's 3×3 and an OT preset with a safety,
//! quality, reliability, operations axis), parent/child linking, and the requester's
//! verification of a resolution.

use crate::{FieldError, Invalid};
use std::fmt;

/// ServiceNow's incident states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    New,
    InProgress,
    OnHold,
    Resolved,
    Closed,
    Cancelled,
}

impl State {
    pub const ALL: [State; 6] =
        [State::New, State::InProgress, State::OnHold, State::Resolved, State::Closed, State::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::InProgress => "in-progress",
            State::OnHold => "on-hold",
            State::Resolved => "resolved",
            State::Closed => "closed",
            State::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether work on the incident is over.
    pub fn is_terminal(self) -> bool {
        matches!(self, State::Closed | State::Cancelled)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an incident waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldReason {
    AwaitingCaller,
    AwaitingVendor,
    AwaitingChange,
    AwaitingProblem,
}

impl HoldReason {
    pub const ALL: [HoldReason; 4] = [
        HoldReason::AwaitingCaller,
        HoldReason::AwaitingVendor,
        HoldReason::AwaitingChange,
        HoldReason::AwaitingProblem,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::AwaitingCaller => "awaiting-caller",
            HoldReason::AwaitingVendor => "awaiting-vendor",
            HoldReason::AwaitingChange => "awaiting-change",
            HoldReason::AwaitingProblem => "awaiting-problem",
        }
    }

    pub fn parse(s: &str) -> Option<HoldReason> {
        HoldReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The SLA clock stops while the requester or a vendor is awaited; waiting for our own
    /// change or problem work does not stop it.
    pub fn pauses_sla(self) -> bool {
        matches!(self, HoldReason::AwaitingCaller | HoldReason::AwaitingVendor)
    }
}

/// What a move asks for besides the new state.
#[derive(Debug, Clone, Default)]
pub struct Move {
    pub hold_reason: Option<HoldReason>,
    /// A requester-visible comment with the move.
    pub comment: String,
    pub resolution_code: String,
    pub resolution_notes: String,
    pub cancel_reason: String,
}

/// The allowed moves: (from, to).
pub const TRANSITIONS: &[(State, State)] = &[
    (State::New, State::InProgress),
    (State::New, State::OnHold),
    (State::New, State::Resolved),
    (State::New, State::Cancelled),
    (State::InProgress, State::OnHold),
    (State::InProgress, State::Resolved),
    (State::InProgress, State::Cancelled),
    (State::OnHold, State::InProgress),
    (State::OnHold, State::Resolved),
    (State::OnHold, State::Cancelled),
    (State::Resolved, State::Closed),
    // Reopen, within the reopen period.
    (State::Resolved, State::InProgress),
];

/// Checks a move from `from` to `to` at `now`, naming every missing field. `resolved_at`
/// and `reopen_ms` decide whether a resolved incident may still be reopened.
pub fn check_move(
    from: State,
    to: State,
    m: &Move,
    now: i64,
    resolved_at: Option<i64>,
    reopen_ms: i64,
) -> Result<(), Invalid> {
    if !TRANSITIONS.contains(&(from, to)) {
        let allowed: Vec<&str> = TRANSITIONS.iter().filter(|t| t.0 == from).map(|t| t.1.as_str()).collect();
        let hint =
            if allowed.is_empty() { "it is final".to_owned() } else { format!("from {from}: {}", allowed.join(", ")) };
        return Err(Invalid::one("state", format!("cannot move from {from} to {to}; {hint}")));
    }
    let mut errors = Vec::new();
    match to {
        State::OnHold => match m.hold_reason {
            None => errors.push(FieldError::new(
                "hold_reason",
                "say why it waits: awaiting-caller, awaiting-vendor, awaiting-change or awaiting-problem",
            )),
            Some(HoldReason::AwaitingCaller) if m.comment.trim().is_empty() => {
                errors.push(FieldError::new("comment", "tell the caller what is needed from them"))
            }
            _ => {}
        },
        State::Resolved => {
            if m.resolution_code.trim().is_empty() {
                errors.push(FieldError::new("resolution_code", "required to resolve"));
            }
            if m.resolution_notes.trim().is_empty() {
                errors.push(FieldError::new("resolution_notes", "say what was done"));
            }
        }
        State::Cancelled if m.cancel_reason.trim().is_empty() => {
            errors.push(FieldError::new("cancel_reason", "duplicate, not an incident, or no longer needed?"))
        }
        State::InProgress if from == State::Resolved && resolved_at.is_none_or(|at| now - at > reopen_ms) => {
            errors.push(FieldError::new(
                "state",
                format!("the reopen period ({} days) has passed; open a new incident", reopen_ms / 86_400_000),
            ));
        }
        _ => {}
    }
    Invalid::check(errors)
}

/// Priorities P1 (critical) to P5 (planning).
pub type Priority = u8;

/// An impact × urgency lookup, versioned: changing it makes a new version, and each
/// incident records the version its priority came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityMatrix {
    pub name: String,
    pub version: u32,
    /// Impact levels, most severe first (rows).
    pub impacts: Vec<String>,
    /// Urgency levels, most urgent first (columns).
    pub urgencies: Vec<String>,
    /// `cells[impact][urgency]`.
    pub cells: Vec<Vec<Priority>>,
}

impl PriorityMatrix {
    /// ITIL's 3×3 grid, as ServiceNow ships it.
    pub fn itil() -> PriorityMatrix {
        PriorityMatrix {
            name: "itil".into(),
            version: 1,
            impacts: vec!["high".into(), "medium".into(), "low".into()],
            urgencies: vec!["high".into(), "medium".into(), "low".into()],
            cells: vec![vec![1, 2, 3], vec![2, 3, 4], vec![3, 4, 5]],
        }
    }

    /// For plants: impact is what is at stake — safety first, then product quality,
    /// reliability of the process, day-to-day operations, anything else.
    pub fn ot() -> PriorityMatrix {
        PriorityMatrix {
            name: "ot".into(),
            version: 1,
            impacts: ["safety", "quality", "reliability", "operations", "other"].map(String::from).to_vec(),
            urgencies: vec!["high".into(), "medium".into(), "low".into()],
            cells: vec![vec![1, 1, 2], vec![1, 2, 3], vec![2, 3, 4], vec![2, 3, 4], vec![3, 4, 5]],
        }
    }

    pub fn priority(&self, impact: &str, urgency: &str) -> Result<Priority, Invalid> {
        let i = self.impacts.iter().position(|x| x == impact);
        let u = self.urgencies.iter().position(|x| x == urgency);
        let mut errors = Vec::new();
        if i.is_none() {
            errors.push(FieldError::new("impact", format!("one of {}", self.impacts.join(", "))));
        }
        if u.is_none() {
            errors.push(FieldError::new("urgency", format!("one of {}", self.urgencies.join(", "))));
        }
        match (i, u) {
            (Some(i), Some(u)) if errors.is_empty() => Ok(self.cells[i][u]),
            _ => Err(Invalid(errors)),
        }
    }

    /// A matrix an administrator wrote: every cell filled with P1–P5, levels named once.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut errors = Vec::new();
        for (field, levels) in [("impacts", &self.impacts), ("urgencies", &self.urgencies)] {
            if levels.is_empty() {
                errors.push(FieldError::new(field, "at least one level"));
            }
            let mut seen = std::collections::HashSet::new();
            for l in levels {
                if l.trim().is_empty() || !seen.insert(l) {
                    errors.push(FieldError::new(field, format!("`{l}` is empty or named twice")));
                }
            }
        }
        if self.cells.len() != self.impacts.len() || self.cells.iter().any(|r| r.len() != self.urgencies.len()) {
            errors.push(FieldError::new("cells", "one row per impact, one column per urgency"));
        }
        if self.cells.iter().flatten().any(|p| !(1..=5).contains(p)) {
            errors.push(FieldError::new("cells", "priorities are 1 (P1) to 5 (P5)"));
        }
        Invalid::check(errors)
    }
}

/// A priority someone set by hand over the matrix's: allowed only with a reason.
pub fn check_override(computed: Priority, chosen: Priority, reason: &str) -> Result<(), Invalid> {
    if !(1..=5).contains(&chosen) {
        return Err(Invalid::one("priority", "1 (P1) to 5 (P5)"));
    }
    if chosen != computed && reason.trim().is_empty() {
        return Err(Invalid::one(
            "priority_reason",
            format!("the matrix gives P{computed}; say why this incident is P{chosen}"),
        ));
    }
    Ok(())
}

/// An incident as parent/child linking sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked<'a> {
    pub number: &'a str,
    pub state: State,
    pub parent: Option<&'a str>,
    pub children: usize,
}

/// Whether `child` may be put under `parent`. One level, as a major incident gathers the
/// reports of one outage: a parent is no one's child, a child has no children, and a
/// finished incident neither takes nor gives children.
pub fn check_parent(child: &Linked<'_>, parent: &Linked<'_>) -> Result<(), Invalid> {
    let why = if child.number == parent.number {
        Some("an incident cannot be its own parent".to_owned())
    } else if parent.parent.is_some() {
        Some(format!("{} is itself a child of {}; link to that one", parent.number, parent.parent.unwrap_or_default()))
    } else if child.children > 0 {
        Some(format!("{} has children of its own; a parent cannot become a child", child.number))
    } else if parent.state.is_terminal() || parent.state == State::Resolved {
        Some(format!("{} is {}; link to an open incident", parent.number, parent.state))
    } else if child.state.is_terminal() {
        Some(format!("{} is {}", child.number, child.state))
    } else {
        None
    };
    match why {
        Some(w) => Err(Invalid::one("parent", w)),
        None => Ok(()),
    }
}

/// The requester's verdict on a resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Fixed as far as they are concerned: the incident closes. Otherwise it reopens.
    pub accepted: bool,
    /// 1 (very dissatisfied) to 5 (very satisfied); asked when accepting.
    pub satisfaction: Option<u8>,
    pub comment: String,
}

/// Checks a verification of an incident in `state`: only a resolved one is verified; an
/// acceptance carries a satisfaction from 1 to 5, a rejection says what is still wrong.
pub fn check_verification(state: State, v: &Verification) -> Result<(), Invalid> {
    if state != State::Resolved {
        return Err(Invalid::one("state", format!("only a resolved incident is verified; this one is {state}")));
    }
    let mut errors = Vec::new();
    match (v.accepted, v.satisfaction) {
        (true, None) => errors.push(FieldError::new("satisfaction", "how satisfied the requester is: 1 to 5")),
        (true, Some(s)) if !(1..=5).contains(&s) => errors.push(FieldError::new("satisfaction", "1 to 5")),
        (false, _) if v.comment.trim().is_empty() => {
            errors.push(FieldError::new("comment", "what is still wrong, in the requester's words"))
        }
        _ => {}
    }
    Invalid::check(errors)
}

/// One entry of an incident's state history: when it entered a state, and why it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entered {
    pub at: i64,
    pub state: State,
    pub hold: Option<HoldReason>,
}

/// The events of an incident's two SLA clocks from its state history (oldest first):
/// response starts when it is opened and stops when someone takes it (In Progress) or
/// resolves it; resolution starts when it is opened, pauses while it waits for the caller
/// or a vendor, stops when it is resolved (a reopen starts a new attachment, as
/// ServiceNow's reset does), and is cancelled with the incident.
pub fn sla_events(history: &[Entered]) -> (crate::sla::Timeline, crate::sla::Timeline) {
    use crate::sla::SlaEvent::*;
    let (mut response, mut resolution) = (Vec::new(), Vec::new());
    let mut previous: Option<Entered> = None;
    for e in history {
        match previous {
            None => {
                response.push((e.at, Start));
                resolution.push((e.at, Start));
            }
            Some(p) => {
                let was_paused = p.state == State::OnHold && p.hold.is_some_and(HoldReason::pauses_sla);
                let pauses = e.state == State::OnHold && e.hold.is_some_and(HoldReason::pauses_sla);
                if was_paused && !pauses {
                    resolution.push((e.at, Resume));
                }
                match e.state {
                    State::OnHold if pauses && !was_paused => resolution.push((e.at, Pause)),
                    State::Resolved => resolution.push((e.at, Stop)),
                    State::InProgress if p.state == State::Resolved => resolution.push((e.at, Reset)),
                    State::Cancelled => resolution.push((e.at, Cancel)),
                    _ => {}
                }
            }
        }
        // The response clock ends once: when the incident is first taken, resolved or cancelled.
        if previous.is_some() && response.len() == 1 {
            match e.state {
                State::InProgress | State::Resolved => response.push((e.at, Stop)),
                State::Cancelled => response.push((e.at, Cancel)),
                _ => {}
            }
        }
        previous = Some(*e);
    }
    (response, resolution)
}

/// What an incident is about, for recurrence: when it was opened and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub number: String,
    pub at: i64,
    pub item: Option<String>,
    pub category: String,
}

/// Incidents that keep coming back: `min` or more on the same item (or, for those without
/// one, in the same category) within `window_ms`. Each group is the largest such cluster,
/// by the key it shares, newest last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    /// `item:NAME` or `category:NAME`.
    pub key: String,
    pub numbers: Vec<String>,
    pub first: i64,
    pub last: i64,
}

/// Recurring incidents worth a problem record.
pub fn recurrences(incidents: &[Occurrence], window_ms: i64, min: usize) -> Vec<Recurrence> {
    let mut by_key: std::collections::BTreeMap<String, Vec<&Occurrence>> = std::collections::BTreeMap::new();
    for o in incidents {
        let key = match &o.item {
            Some(item) => format!("item:{item}"),
            None => format!("category:{}", o.category),
        };
        by_key.entry(key).or_default().push(o);
    }
    let mut out = Vec::new();
    for (key, mut list) in by_key {
        list.sort_by_key(|o| (o.at, o.number.clone()));
        // The widest run inside any window (two pointers over the times).
        let (mut best, mut start) = ((0usize, 0usize), 0usize);
        for end in 0..list.len() {
            while list[end].at - list[start].at > window_ms {
                start += 1;
            }
            if end + 1 - start > best.1 - best.0 {
                best = (start, end + 1);
            }
        }
        if best.1 - best.0 >= min.max(2) {
            let run = &list[best.0..best.1];
            out.push(Recurrence {
                key,
                numbers: run.iter().map(|o| o.number.clone()).collect(),
                first: run[0].at,
                last: run[run.len() - 1].at,
            });
        }
    }
    out.sort_by(|a, b| b.numbers.len().cmp(&a.numbers.len()).then(a.key.cmp(&b.key)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn fields(e: Invalid) -> Vec<String> {
        e.0.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn moves_follow_the_itil_model_and_name_what_they_need() {
        let ok = |from, to, m: &Move| check_move(from, to, m, 10 * DAY, Some(9 * DAY), 7 * DAY);
        assert!(ok(State::New, State::InProgress, &Move::default()).is_ok());
        let e = ok(State::Closed, State::InProgress, &Move::default()).unwrap_err();
        assert!(e.0[0].message.contains("final"), "{e:?}");
        let e = ok(State::New, State::Closed, &Move::default()).unwrap_err();
        assert!(e.0[0].message.contains("in-progress, on-hold, resolved, cancelled"), "{e:?}");
        assert_eq!(fields(ok(State::InProgress, State::OnHold, &Move::default()).unwrap_err()), ["hold_reason"]);
        let caller = Move { hold_reason: Some(HoldReason::AwaitingCaller), ..Move::default() };
        assert_eq!(fields(ok(State::InProgress, State::OnHold, &caller).unwrap_err()), ["comment"]);
        let vendor = Move { hold_reason: Some(HoldReason::AwaitingVendor), ..Move::default() };
        assert!(ok(State::InProgress, State::OnHold, &vendor).is_ok());
        assert_eq!(
            fields(ok(State::OnHold, State::Resolved, &Move::default()).unwrap_err()),
            ["resolution_code", "resolution_notes"]
        );
        assert_eq!(fields(ok(State::New, State::Cancelled, &Move::default()).unwrap_err()), ["cancel_reason"]);
        // Reopen: a day after resolution yes, eight days after no.
        assert!(ok(State::Resolved, State::InProgress, &Move::default()).is_ok());
        let late = check_move(State::Resolved, State::InProgress, &Move::default(), 17 * DAY, Some(9 * DAY), 7 * DAY);
        assert!(late.unwrap_err().0[0].message.contains("reopen period (7 days)"));
    }

    #[test]
    fn only_the_requesters_and_vendors_holds_stop_the_clock() {
        let pausing: Vec<&str> =
            HoldReason::ALL.into_iter().filter(|r| r.pauses_sla()).map(HoldReason::as_str).collect();
        assert_eq!(pausing, ["awaiting-caller", "awaiting-vendor"]);
    }

    #[test]
    fn matrices_look_up_priorities_and_refuse_unknown_levels() {
        let itil = PriorityMatrix::itil();
        assert_eq!(itil.priority("high", "high").unwrap(), 1);
        assert_eq!(itil.priority("medium", "low").unwrap(), 4);
        assert_eq!(itil.priority("low", "low").unwrap(), 5);
        assert_eq!(fields(itil.priority("severe", "urgent").unwrap_err()), ["impact", "urgency"]);
        let ot = PriorityMatrix::ot();
        assert_eq!(ot.priority("safety", "medium").unwrap(), 1, "a safety impact is P1 unless it can wait");
        assert_eq!(ot.priority("operations", "low").unwrap(), 4);
        assert!(itil.validate().is_ok() && ot.validate().is_ok());
        let mut broken = PriorityMatrix::itil();
        broken.cells[1].pop();
        broken.cells[0][0] = 0;
        broken.impacts[2] = "high".into();
        assert_eq!(fields(broken.validate().unwrap_err()), ["impacts", "cells", "cells"]);
    }

    /// A life with a hold for the caller (paused), one for a change (not paused), a
    /// resolution and a reopen, read into the two clocks and evaluated.
    #[test]
    fn the_state_history_drives_both_clocks() {
        use crate::sla::{SlaDefinition, SlaEvent::*, Stage, evaluate};
        let h = 3_600_000;
        let at = |state, hours: i64, hold| Entered { at: hours * h, state, hold };
        let history = [
            at(State::New, 0, None),
            at(State::InProgress, 1, None),
            at(State::OnHold, 2, Some(HoldReason::AwaitingCaller)),
            at(State::InProgress, 5, None),
            at(State::OnHold, 6, Some(HoldReason::AwaitingChange)),
            at(State::Resolved, 8, None),
            at(State::InProgress, 9, None),
        ];
        let (response, resolution) = sla_events(&history);
        assert_eq!(response, [(0, Start), (h, Stop)]);
        assert_eq!(resolution, [(0, Start), (2 * h, Pause), (5 * h, Resume), (8 * h, Stop), (9 * h, Reset)]);
        let cal = crate::calendar::Calendar::always("24x7", jiff::tz::TimeZone::UTC);
        let before_reopen = evaluate(&SlaDefinition::new("P2", 8 * h), &cal, &resolution, 8 * h + 1);
        assert_eq!(
            (before_reopen.stage, before_reopen.elapsed_ms),
            (Stage::Achieved, 5 * h),
            "3 h held for the caller"
        );
        let reopened = evaluate(&SlaDefinition::new("P2", 8 * h), &cal, &resolution, 10 * h);
        assert_eq!((reopened.stage, reopened.elapsed_ms), (Stage::Running, h));
        let response = evaluate(&SlaDefinition::new("P2", h / 2), &cal, &sla_events(&history).0, 10 * h);
        assert_eq!(response.stage, Stage::Breached, "taken after an hour against 30 minutes");
    }

    #[test]
    fn incidents_that_keep_coming_back_are_grouped_by_item_then_category() {
        let o = |n: &str, day: i64, item: Option<&str>, category: &str| Occurrence {
            number: n.into(),
            at: day * DAY,
            item: item.map(str::to_owned),
            category: category.into(),
        };
        let incidents = [
            o("INC1", 0, Some("pn-fw1"), "security"),
            o("INC2", 2, Some("pn-fw1"), "security"),
            o("INC3", 20, Some("pn-fw1"), "security"),
            o("INC4", 21, Some("pn-fw1"), "network"),
            o("INC5", 23, Some("pn-fw1"), "security"),
            o("INC6", 1, None, "voice-vtc"),
            o("INC7", 3, None, "voice-vtc"),
            o("INC8", 4, Some("dc-san-a"), "server"),
        ];
        let found = recurrences(&incidents, 7 * DAY, 3);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key, "item:pn-fw1");
        assert_eq!(found[0].numbers, ["INC3", "INC4", "INC5"], "the three within a week, not the older two");
        assert_eq!((found[0].first, found[0].last), (20 * DAY, 23 * DAY));
        let two = recurrences(&incidents, 7 * DAY, 2);
        assert_eq!(two.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["item:pn-fw1", "category:voice-vtc"]);
    }

    proptest::proptest! {
        /// A group's incidents share its key, lie within the window, and no window holds
        /// more incidents of that key than the group.
        #[test]
        fn recurrence_groups_are_the_densest_windows(times in proptest::collection::vec((0i64..60, 0usize..3), 0..30), window in 1i64..20, min in 2usize..5) {
            let items = ["a", "b", "c"];
            let incidents: Vec<Occurrence> = times.iter().enumerate().map(|(k, &(day, i))| Occurrence {
                number: format!("INC{k}"), at: day * DAY, item: Some(items[i].into()), category: "x".into(),
            }).collect();
            for r in recurrences(&incidents, window * DAY, min) {
                proptest::prop_assert!(r.numbers.len() >= min && r.last - r.first <= window * DAY);
                let key_times: Vec<i64> = incidents.iter().filter(|o| r.key == format!("item:{}", o.item.as_deref().unwrap())).map(|o| o.at).collect();
                let densest = key_times.iter().map(|&t| key_times.iter().filter(|&&u| u >= t && u - t <= window * DAY).count()).max().unwrap_or(0);
                proptest::prop_assert_eq!(r.numbers.len(), densest);
            }
        }
    }

    #[test]
    fn children_hang_one_level_under_an_open_parent() {
        let l = |number, state, parent, children| Linked { number, state, parent, children };
        let parent = l("INC1", State::InProgress, None, 0);
        assert!(check_parent(&l("INC2", State::New, None, 0), &parent).is_ok());
        let msg = |r: Result<(), Invalid>| r.unwrap_err().0[0].message.clone();
        assert!(msg(check_parent(&l("INC1", State::New, None, 0), &parent)).contains("own parent"));
        assert!(
            msg(check_parent(&l("INC2", State::New, None, 0), &l("INC3", State::New, Some("INC1"), 0)))
                .contains("link to that one")
        );
        assert!(msg(check_parent(&l("INC2", State::New, None, 1), &parent)).contains("children of its own"));
        assert!(
            msg(check_parent(&l("INC2", State::New, None, 0), &l("INC1", State::Resolved, None, 0)))
                .contains("open incident")
        );
        assert!(msg(check_parent(&l("INC2", State::Closed, None, 0), &parent)).contains("closed"));
    }

    #[test]
    fn verification_needs_a_resolution_and_a_verdict() {
        let ok = Verification { accepted: true, satisfaction: Some(4), comment: String::new() };
        assert!(check_verification(State::Resolved, &ok).is_ok());
        assert!(check_verification(State::InProgress, &ok).is_err());
        let no_score = Verification { satisfaction: None, ..ok.clone() };
        assert_eq!(check_verification(State::Resolved, &no_score).unwrap_err().0[0].field, "satisfaction");
        let six = Verification { satisfaction: Some(6), ..ok.clone() };
        assert!(check_verification(State::Resolved, &six).is_err());
        let rejected = Verification { accepted: false, satisfaction: None, comment: " ".into() };
        assert_eq!(check_verification(State::Resolved, &rejected).unwrap_err().0[0].field, "comment");
    }

    #[test]
    fn overrides_need_a_reason() {
        assert!(check_override(3, 3, "").is_ok());
        assert!(check_override(3, 1, "  ").unwrap_err().0[0].message.contains("matrix gives P3"));
        assert!(check_override(3, 1, "substation protection relay offline").is_ok());
        assert!(check_override(3, 6, "x").is_err());
    }
}
