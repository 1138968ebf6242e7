//! Major incidents, pure: who may be declared major and with what (a P1, an incident
//! commander, the other roles, the cadence stakeholders are updated on), the structured
//! stakeholder update, when the next one is due, and the post-incident review's milestones
//! and durations read from the incident's timeline.

use crate::{FieldError, Invalid};

/// Where a major incident stands in its stakeholder updates (Statuspage's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl UpdateStatus {
    pub const ALL: [UpdateStatus; 4] =
        [UpdateStatus::Investigating, UpdateStatus::Identified, UpdateStatus::Monitoring, UpdateStatus::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            UpdateStatus::Investigating => "investigating",
            UpdateStatus::Identified => "identified",
            UpdateStatus::Monitoring => "monitoring",
            UpdateStatus::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<UpdateStatus> {
        UpdateStatus::ALL.into_iter().find(|u| u.as_str() == s)
    }
}

/// Cadences stakeholders may be promised, in minutes.
pub const CADENCE_MINUTES: std::ops::RangeInclusive<u32> = 10..=240;

/// A declaration as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    pub commander: String,
    /// Other roles: communications lead, scribe, technical lead… (role, person).
    pub roles: Vec<(String, String)>,
    pub update_every_minutes: u32,
}

/// Checks a declaration for an incident at `priority` in a state that is still open;
/// `accounts` are the people who may hold a role.
pub fn check_declaration(priority: u8, open: bool, d: &Declaration, accounts: &[&str]) -> Result<(), Invalid> {
    let mut errors = Vec::new();
    if priority != 1 {
        errors.push(FieldError::new("priority", format!("only a P1 is declared major; this one is P{priority}")));
    }
    if !open {
        errors.push(FieldError::new("state", "declare an open incident"));
    }
    if !accounts.contains(&d.commander.as_str()) {
        errors.push(FieldError::new("commander", format!("no account `{}`: name the incident commander", d.commander)));
    }
    for (role, who) in &d.roles {
        if role.trim().is_empty() || role.chars().count() > 40 {
            errors.push(FieldError::new("roles", "each role a name, up to 40 characters"));
        }
        if !accounts.contains(&who.as_str()) {
            errors.push(FieldError::new("roles", format!("{role}: no account `{who}`")));
        }
    }
    if !CADENCE_MINUTES.contains(&d.update_every_minutes) {
        errors.push(FieldError::new("update_every_minutes", "every 10 to 240 minutes"));
    }
    Invalid::check(errors)
}

/// A stakeholder update as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub status: UpdateStatus,
    /// Who and what is affected, in the stakeholders' words.
    pub impact: String,
    /// What is being done.
    pub actions: String,
}

pub fn check_update(u: &Update) -> Result<(), Invalid> {
    let mut errors = Vec::new();
    for (field, text) in [("impact", &u.impact), ("actions", &u.actions)] {
        let n = text.trim().chars().count();
        if n == 0 || n > 4000 {
            errors.push(FieldError::new(field, "write it for the stakeholders, up to 4000 characters"));
        }
    }
    Invalid::check(errors)
}

/// When the next update is due after one at `last`.
pub fn next_due(last: i64, every_minutes: u32) -> i64 {
    last + i64::from(every_minutes) * 60_000
}

/// One entry of a timeline as the review reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    pub at: i64,
    pub kind: &'a str,
    pub state: Option<&'a str>,
}

/// The milestones of an incident and the times between them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Milestones {
    pub opened: Option<i64>,
    /// First taken (In Progress).
    pub responded: Option<i64>,
    pub declared_major: Option<i64>,
    /// First stakeholder update saying it is mitigated (monitoring) — or resolved.
    pub mitigated: Option<i64>,
    pub resolved: Option<i64>,
    pub closed: Option<i64>,
    pub updates: usize,
    pub escalations: usize,
    pub pages: usize,
}

impl Milestones {
    /// Time to respond, to mitigate and to resolve, from the opening.
    pub fn durations(&self) -> [(&'static str, Option<i64>); 3] {
        let since = |t: Option<i64>| Some(t? - self.opened?);
        [("respond", since(self.responded)), ("mitigate", since(self.mitigated)), ("resolve", since(self.resolved))]
    }
}

/// Reads the milestones from a timeline, oldest first; `mitigated_at` is when an update first
/// said monitoring or resolved.
pub fn milestones(entries: &[Entry<'_>], mitigated_at: Option<i64>) -> Milestones {
    let mut m = Milestones { mitigated: mitigated_at, ..Milestones::default() };
    for e in entries {
        match (e.kind, e.state) {
            ("opened", _) => m.opened = m.opened.or(Some(e.at)),
            ("state", Some("in-progress")) => m.responded = m.responded.or(Some(e.at)),
            // The last resolution counts: a reopened incident was not resolved the first time.
            ("state", Some("resolved")) => m.resolved = Some(e.at),
            ("state", Some("closed")) => m.closed = Some(e.at),
            ("major", _) => m.declared_major = m.declared_major.or(Some(e.at)),
            ("stakeholder-update", _) => m.updates += 1,
            ("escalation", _) => m.escalations += 1,
            ("page", _) => m.pages += 1,
            _ => {}
        }
    }
    if m.mitigated.is_none() {
        m.mitigated = m.resolved;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = 60_000;

    #[test]
    fn only_a_p1_with_a_commander_is_declared() {
        let d = Declaration {
            commander: "ops-lead".into(),
            roles: vec![("scribe".into(), "operator".into())],
            update_every_minutes: 30,
        };
        let people = ["ops-lead", "operator"];
        assert!(check_declaration(1, true, &d, &people).is_ok());
        let e = check_declaration(
            2,
            false,
            &Declaration { commander: "nobody".into(), update_every_minutes: 5, ..d.clone() },
            &people,
        )
        .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["priority", "state", "commander", "update_every_minutes"]);
        assert_eq!(next_due(1_000, 30), 1_000 + 30 * M);
        assert!(
            check_update(&Update { status: UpdateStatus::Identified, impact: " ".into(), actions: "x".into() })
                .is_err()
        );
    }

    #[test]
    fn the_review_reads_its_milestones_from_the_timeline() {
        let e = |at: i64, kind, state| Entry { at: at * M, kind, state };
        let timeline = [
            e(0, "opened", Some("new")),
            e(3, "page", None),
            e(12, "escalation", None),
            e(14, "state", Some("in-progress")),
            e(20, "major", None),
            e(25, "stakeholder-update", None),
            e(55, "stakeholder-update", None),
            e(80, "state", Some("resolved")),
            e(85, "state", Some("in-progress")),
            e(95, "state", Some("resolved")),
        ];
        let m = milestones(&timeline, Some(55 * M));
        assert_eq!((m.responded, m.declared_major, m.resolved), (Some(14 * M), Some(20 * M), Some(95 * M)));
        assert_eq!((m.updates, m.escalations, m.pages), (2, 1, 1));
        assert_eq!(m.durations(), [("respond", Some(14 * M)), ("mitigate", Some(55 * M)), ("resolve", Some(95 * M))]);
        let unmitigated = milestones(&timeline, None);
        assert_eq!(unmitigated.mitigated, Some(95 * M), "resolution mitigates at the latest");
    }
}
