//! Problems' rules as data: ServiceNow's problem states (New → Assess → Root Cause Analysis
//! → Fix in Progress → Resolved → Closed) with what each move needs, and the root cause
//! record a problem carries (symptom, root cause, contributing factors, five whys, a
//! workaround that makes it a known error).

use crate::{FieldError, Invalid};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    New,
    Assess,
    RootCauseAnalysis,
    FixInProgress,
    Resolved,
    Closed,
}

impl State {
    pub const ALL: [State; 6] =
        [State::New, State::Assess, State::RootCauseAnalysis, State::FixInProgress, State::Resolved, State::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Assess => "assess",
            State::RootCauseAnalysis => "root-cause-analysis",
            State::FixInProgress => "fix-in-progress",
            State::Resolved => "resolved",
            State::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// The allowed moves: forward one step, back to analysis from a fix that did not hold, and
/// closing straight from assessment (not a problem after all, or risk accepted).
pub const TRANSITIONS: &[(State, State)] = &[
    (State::New, State::Assess),
    (State::Assess, State::RootCauseAnalysis),
    (State::Assess, State::Closed),
    (State::RootCauseAnalysis, State::FixInProgress),
    (State::FixInProgress, State::Resolved),
    (State::FixInProgress, State::RootCauseAnalysis),
    (State::Resolved, State::Closed),
    (State::Resolved, State::RootCauseAnalysis),
];

/// The root cause record as it stands when a move is asked for.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub symptom: String,
    pub root_cause: String,
    pub workaround: String,
    pub fix: String,
    /// For closing: fix-applied, risk-accepted, duplicate, not-a-problem.
    pub close_code: String,
    /// Corrective actions not yet done: a problem is not resolved while one is open.
    pub open_corrective: usize,
}

/// How a problem ends.
pub const CLOSE_CODES: [&str; 4] = ["fix-applied", "risk-accepted", "duplicate", "not-a-problem"];

/// Checks a move, naming what the target state needs that the record lacks.
pub fn check_move(from: State, to: State, a: &Analysis) -> Result<(), Invalid> {
    if !TRANSITIONS.contains(&(from, to)) {
        let allowed: Vec<&str> = TRANSITIONS.iter().filter(|t| t.0 == from).map(|t| t.1.as_str()).collect();
        let hint = if allowed.is_empty() {
            "it is final".to_owned()
        } else {
            format!("from {}: {}", from.as_str(), allowed.join(", "))
        };
        return Err(Invalid::one("state", format!("cannot move from {} to {}; {hint}", from.as_str(), to.as_str())));
    }
    let mut errors = Vec::new();
    let need = |errors: &mut Vec<FieldError>, value: &str, field: &str, why: &str| {
        if value.trim().is_empty() {
            errors.push(FieldError::new(field, why));
        }
    };
    match to {
        State::RootCauseAnalysis => need(&mut errors, &a.symptom, "symptom", "what is seen, before analysing why"),
        State::FixInProgress => need(&mut errors, &a.root_cause, "root_cause", "the cause the fix addresses"),
        State::Resolved => {
            need(&mut errors, &a.fix, "fix", "what was changed");
            if a.open_corrective > 0 {
                errors.push(FieldError::new(
                    "actions",
                    format!("{} corrective action(s) still open; finish them first", a.open_corrective),
                ));
            }
        }
        State::Closed if !CLOSE_CODES.contains(&a.close_code.as_str()) => {
            errors.push(FieldError::new("close_code", CLOSE_CODES.join(", ")))
        }
        _ => {}
    }
    Invalid::check(errors)
}

/// What an action does about a problem (ITIL's CAPA).
pub const ACTION_KINDS: [&str; 2] = ["corrective", "preventive"];

/// Checks a new corrective or preventive action: a kind, something to do, an owner who
/// exists, and a due date that reads and is not in the past (`today`, `YYYY-MM-DD`).
pub fn check_action(
    kind: &str,
    description: &str,
    owner: &str,
    due_on: &str,
    today: &str,
    accounts: &[&str],
) -> Result<(), Invalid> {
    let mut errors = Vec::new();
    if !ACTION_KINDS.contains(&kind) {
        errors.push(FieldError::new("kind", "corrective (removes the cause) or preventive (stops it coming back)"));
    }
    let n = description.trim().chars().count();
    if n == 0 || n > 2000 {
        errors.push(FieldError::new("description", "what is to be done, up to 2000 characters"));
    }
    if !accounts.contains(&owner) {
        errors.push(FieldError::new("owner", format!("no account `{owner}`")));
    }
    match due_on.parse::<jiff::civil::Date>() {
        Err(_) => errors.push(FieldError::new("due_on", "a date: 2027-02-01")),
        Ok(d) if today.parse::<jiff::civil::Date>().is_ok_and(|t| d < t) => {
            errors.push(FieldError::new("due_on", "not in the past"))
        }
        Ok(_) => {}
    }
    Invalid::check(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_move_forward_with_their_analysis() {
        let a = Analysis::default();
        assert!(check_move(State::New, State::Assess, &a).is_ok());
        let e = check_move(State::Assess, State::RootCauseAnalysis, &a).unwrap_err();
        assert_eq!(e.0[0].field, "symptom");
        let with = Analysis { symptom: "VPN flaps nightly".into(), ..a.clone() };
        assert!(check_move(State::Assess, State::RootCauseAnalysis, &with).is_ok());
        assert_eq!(
            check_move(State::RootCauseAnalysis, State::FixInProgress, &with).unwrap_err().0[0].field,
            "root_cause"
        );
        assert!(check_move(State::New, State::Resolved, &with).unwrap_err().0[0].message.contains("from new: assess"));
        assert_eq!(check_move(State::Resolved, State::Closed, &with).unwrap_err().0[0].field, "close_code");
        let closing = Analysis { close_code: "risk-accepted".into(), ..with };
        assert!(check_move(State::Assess, State::Closed, &closing).is_ok());
        assert!(check_move(State::Closed, State::Assess, &closing).unwrap_err().0[0].message.contains("final"));
        let unfinished = Analysis { fix: "IKE lifetime aligned".into(), open_corrective: 1, ..closing };
        assert_eq!(check_move(State::FixInProgress, State::Resolved, &unfinished).unwrap_err().0[0].field, "actions");
    }

    #[test]
    fn actions_have_an_owner_and_a_date_ahead() {
        let people = ["engineer"];
        assert!(
            check_action("corrective", "Align IKE lifetimes", "engineer", "2027-02-01", "2027-01-15", &people).is_ok()
        );
        let e = check_action("fix", " ", "nobody", "2027-01-14", "2027-01-15", &people).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["kind", "description", "owner", "due_on"]);
        assert!(check_action("preventive", "x", "engineer", "soon", "2027-01-15", &people).is_err());
    }
}
