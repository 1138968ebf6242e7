//! Escalation rules, pure: when an incident is escalated and how. Functional escalation hands
//! it to the next tier (another assignment group); hierarchical escalation tells people above
//! (the operations lead, the duty manager) through notification channels. A rule fires on a
//! trigger — an incident opened at a priority, an SLA clock crossing a share of its target,
//! or an incident left without an update — for the priorities it names, once per occasion.

use crate::{FieldError, Invalid};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EscalationKind {
    /// To the next tier: the incident is handed to `reassign_group`.
    Functional,
    /// Up the line: people are told; the assignment stays.
    Hierarchical,
}

/// What sets a rule off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "kebab-case")]
pub enum Trigger {
    /// An incident is opened (at one of the rule's priorities).
    Opened,
    /// An SLA clock (`response`, `resolution`, or `any`) reaches `percent` of its target
    /// (100: the breach).
    Sla { clock: String, percent: u8 },
    /// Nobody has updated a New or In Progress incident for `minutes`.
    Idle { minutes: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationRule {
    pub name: String,
    pub kind: EscalationKind,
    pub trigger: Trigger,
    /// Priorities it applies to; empty: all.
    #[serde(default)]
    pub priorities: Vec<u8>,
    /// Functional: the group the incident is handed to.
    #[serde(default)]
    pub reassign_group: String,
    /// Notification channels told when it fires.
    #[serde(default)]
    pub channels: Vec<String>,
    /// An escalation chain to start paging (the on-call engineer first, then up), until
    /// someone acknowledges or takes the incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// Something that happened to an incident that a rule may answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion<'a> {
    Opened {
        priority: u8,
    },
    /// `clock` is `response` or `resolution`.
    Sla {
        priority: u8,
        clock: &'a str,
        percent: u8,
    },
    Idle {
        priority: u8,
        idle_ms: i64,
    },
}

impl EscalationRule {
    /// Whether the rule answers `occasion`.
    pub fn fires(&self, occasion: Occasion<'_>) -> bool {
        let for_priority = |p: u8| self.enabled && (self.priorities.is_empty() || self.priorities.contains(&p));
        match (&self.trigger, occasion) {
            (Trigger::Opened, Occasion::Opened { priority }) => for_priority(priority),
            (Trigger::Sla { clock, percent }, Occasion::Sla { priority, clock: c, percent: crossed }) => {
                for_priority(priority) && (clock == "any" || clock == c) && *percent == crossed
            }
            (Trigger::Idle { minutes }, Occasion::Idle { priority, idle_ms }) => {
                for_priority(priority) && idle_ms >= i64::from(*minutes) * 60_000
            }
            _ => false,
        }
    }

    /// Checks the rule; `channels` and `chains` are the notification channels and escalation
    /// chains that exist, `percents` the marks the SLA clocks record (warnings and 100).
    pub fn validate(&self, channels: &[&str], chains: &[&str], percents: &[u8]) -> Result<(), Invalid> {
        let mut errors = Vec::new();
        errors.extend(crate::validation::check_name(self.name.trim()));
        match &self.trigger {
            Trigger::Sla { clock, percent } => {
                if !matches!(clock.as_str(), "response" | "resolution" | "any") {
                    errors.push(FieldError::new("trigger.clock", "response, resolution or any"));
                }
                if !percents.contains(percent) {
                    let marks: Vec<String> = percents.iter().map(u8::to_string).collect();
                    errors.push(FieldError::new(
                        "trigger.percent",
                        format!("a mark the clocks record: {} (100 is the breach)", marks.join(", ")),
                    ));
                }
            }
            Trigger::Idle { minutes } if !(5..=10_080).contains(minutes) => {
                errors.push(FieldError::new("trigger.minutes", "5 minutes to a week (10080)"));
            }
            _ => {}
        }
        if self.priorities.iter().any(|p| !(1..=5).contains(p)) {
            errors.push(FieldError::new("priorities", "1 to 5"));
        }
        let group = self.reassign_group.trim();
        match self.kind {
            EscalationKind::Functional if group.is_empty() => {
                errors.push(FieldError::new("reassign_group", "the group a functional escalation hands it to"))
            }
            EscalationKind::Hierarchical if !group.is_empty() => errors.push(FieldError::new(
                "reassign_group",
                "a hierarchical escalation tells people and keeps the assignment; make it functional to reassign",
            )),
            _ => {}
        }
        if self.kind == EscalationKind::Hierarchical && self.channels.is_empty() && self.page.is_none() {
            errors.push(FieldError::new("channels", "whom to tell: notification channels, or a chain to page"));
        }
        if let Some(chain) = &self.page
            && !chains.contains(&chain.as_str())
        {
            errors.push(FieldError::new("page", format!("no escalation chain `{chain}`")));
        }
        for c in &self.channels {
            if !channels.contains(&c.as_str()) {
                errors.push(FieldError::new("channels", format!("no notification channel `{c}`")));
            }
        }
        Invalid::check(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(trigger: Trigger, priorities: &[u8]) -> EscalationRule {
        EscalationRule {
            name: "r".into(),
            kind: EscalationKind::Hierarchical,
            trigger,
            priorities: priorities.to_vec(),
            reassign_group: String::new(),
            channels: vec!["ops-lead".into()],
            page: None,
            enabled: true,
        }
    }

    #[test]
    fn rules_fire_on_their_occasion_and_priorities_only() {
        let breach = rule(Trigger::Sla { clock: "resolution".into(), percent: 100 }, &[1, 2]);
        assert!(breach.fires(Occasion::Sla { priority: 1, clock: "resolution", percent: 100 }));
        assert!(!breach.fires(Occasion::Sla { priority: 3, clock: "resolution", percent: 100 }), "P3 not named");
        assert!(!breach.fires(Occasion::Sla { priority: 1, clock: "response", percent: 100 }), "other clock");
        assert!(!breach.fires(Occasion::Sla { priority: 1, clock: "resolution", percent: 75 }), "other mark");
        let any = rule(Trigger::Sla { clock: "any".into(), percent: 75 }, &[]);
        assert!(any.fires(Occasion::Sla { priority: 4, clock: "response", percent: 75 }));
        let idle = rule(Trigger::Idle { minutes: 30 }, &[1]);
        assert!(!idle.fires(Occasion::Idle { priority: 1, idle_ms: 29 * 60_000 }));
        assert!(idle.fires(Occasion::Idle { priority: 1, idle_ms: 30 * 60_000 }));
        let opened = rule(Trigger::Opened, &[1]);
        assert!(opened.fires(Occasion::Opened { priority: 1 }));
        assert!(!opened.fires(Occasion::Idle { priority: 1, idle_ms: i64::MAX }));
        let off = EscalationRule { enabled: false, ..opened };
        assert!(!off.fires(Occasion::Opened { priority: 1 }));
    }

    #[test]
    fn bad_rules_say_which_field() {
        let marks = [50, 75, 90, 100];
        let mut r = rule(Trigger::Sla { clock: "fix".into(), percent: 80 }, &[0]);
        r.channels.push("pager".into());
        r.reassign_group = "L3 network".into();
        let e = r.validate(&["ops-lead"], &[], &marks).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["trigger.clock", "trigger.percent", "priorities", "reassign_group", "channels"]);
        let functional = EscalationRule {
            kind: EscalationKind::Functional,
            channels: Vec::new(),
            ..rule(Trigger::Idle { minutes: 60 }, &[2])
        };
        assert_eq!(functional.validate(&[], &[], &marks).unwrap_err().0[0].field, "reassign_group");
        let ok = EscalationRule { reassign_group: "L3 network".into(), ..functional };
        assert!(ok.validate(&[], &[], &marks).is_ok());
    }
}
