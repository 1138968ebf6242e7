//! Escalation: the stored rules (`model::escalation`), and the desk's round that applies
//! them — SLA marks as the sweep records them, incidents left without an update, incidents
//! opened at a priority a rule names. Each rule fires once per incident and occasion; firing
//! is journaled, audited and its notifications queued in one transaction, then a functional
//! rule hands the incident to its group.

use crate::audit::event;
use crate::notifications::DeliveryRun;
use crate::slas::Crossing;
use crate::{Actor, App, AppError, Result};
use model::escalation::{EscalationKind, EscalationRule, Occasion};
use model::{Invalid, Perm};
use notify::{Courier, Notice, Severity};
use serde_json::json;
use store::JournalEntry;

/// What one round of the desk did.
#[derive(Debug, Clone, Default)]
pub struct DeskRound {
    pub crossings: Vec<Crossing>,
    /// `(incident, rule)` for each rule that fired.
    pub escalations: Vec<(String, String)>,
    /// `(incident, whom)` for each page sent.
    pub pages: Vec<(String, String)>,
    /// Resolved incidents closed for want of the requester's answer.
    pub closed: Vec<String>,
    /// Major incidents whose commander was reminded that an update is due.
    pub reminded: Vec<String>,
    pub delivery: DeliveryRun,
}

impl App {
    async fn rules(&self) -> Result<Vec<EscalationRule>> {
        self.store
            .escalation_rules()
            .await?
            .into_iter()
            .map(|(name, json)| {
                serde_json::from_str(&json)
                    .map_err(|e| AppError::Internal(format!("escalation rule `{name}` does not read: {e}")))
            })
            .collect()
    }

    pub async fn escalation_rules(&self, actor: &Actor) -> Result<Vec<EscalationRule>> {
        actor.require(Perm::IncidentRead)?;
        self.rules().await
    }

    /// Creates or replaces a rule. Audited with the rule before and after.
    pub async fn put_escalation_rule(&self, actor: &Actor, mut rule: EscalationRule) -> Result<EscalationRule> {
        actor.require(Perm::SystemAdmin)?;
        rule.name = rule.name.trim().to_owned();
        rule.reassign_group = rule.reassign_group.trim().to_owned();
        let channels: Vec<String> = self.store.channels().await?.into_iter().map(|c| c.name).collect();
        let names: Vec<&str> = channels.iter().map(String::as_str).collect();
        let chains: Vec<String> = self.store.specs(store::Specs::Chains).await?.into_iter().map(|c| c.0).collect();
        let chain_names: Vec<&str> = chains.iter().map(String::as_str).collect();
        rule.validate(&names, &chain_names, &[50, 75, 90, 100])?;
        let before = self.rules().await?.into_iter().find(|r| r.name == rule.name);
        let doc = |r: &EscalationRule| serde_json::to_string(r).unwrap_or_default();
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.put_escalation_rule(&rule.name, &doc(&rule), now).await?;
        let audit = event(
            actor,
            now,
            "escalation-rule.put",
            "escalation-rule",
            &rule.name,
            before.as_ref().map(doc),
            Some(doc(&rule)),
        );
        tx.append_audit(audit).await?;
        tx.commit().await?;
        Ok(rule)
    }

    pub async fn delete_escalation_rule(&self, actor: &Actor, name: &str) -> Result<()> {
        actor.require(Perm::SystemAdmin)?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        if !tx.delete_escalation_rule(name).await? {
            return Err(AppError::NotFound(format!("escalation rule `{name}`")));
        }
        tx.append_audit(event(actor, now, "escalation-rule.delete", "escalation-rule", name, None, None)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applies the rules to one occasion of an incident; `key` names the occasion so that a
    /// rule fires once for it. Returns the rules that fired.
    pub(crate) async fn escalate(
        &self,
        all: &[EscalationRule],
        number: &str,
        occasion: Occasion<'_>,
        key: &str,
    ) -> Result<Vec<String>> {
        let rules: Vec<&EscalationRule> = all.iter().filter(|r| r.fires(occasion)).collect();
        if rules.is_empty() {
            return Ok(Vec::new());
        }
        let system = Actor::system();
        let Some(row) = self.store.incident(number).await? else { return Ok(Vec::new()) };
        let (what, severity) = match occasion {
            Occasion::Opened { priority } => (format!("opened at P{priority}"), Severity::Warning),
            Occasion::Sla { clock, percent: 100, .. } => {
                (format!("P{} {clock} breached", row.priority), Severity::Critical)
            }
            Occasion::Sla { clock, percent, .. } => {
                (format!("P{} {clock} at {percent} % of its target", row.priority), Severity::Warning)
            }
            Occasion::Idle { idle_ms, .. } => {
                (format!("no update for {} minutes", idle_ms / 60_000), Severity::Warning)
            }
        };
        let mut fired = Vec::new();
        for rule in rules {
            let now = self.now_ms();
            let mut tx = self.store.begin().await?;
            if !tx.mark_escalated(row.id, &rule.name, key, now).await? {
                continue;
            }
            let mut how = match rule.kind {
                EscalationKind::Functional => format!("handed to {}", rule.reassign_group),
                EscalationKind::Hierarchical if rule.channels.is_empty() => String::new(),
                EscalationKind::Hierarchical => format!("told {}", rule.channels.join(", ")),
            };
            if let Some(chain) = &rule.page {
                how = [how, format!("paging chain {chain}")]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ");
            }
            let text = format!("Escalated by rule {}: {what}; {how}", rule.name);
            let entry = JournalEntry {
                incident_id: row.id,
                at_ms: now,
                actor: "system",
                kind: "escalation",
                state: None,
                hold_reason: None,
                text: &text,
            };
            tx.append_journal(&entry).await?;
            let assigned = match (&row.assignment_group, &row.assignee) {
                (g, Some(a)) => format!("{g} / {a}"),
                (g, None) if g.is_empty() => "nobody".into(),
                (g, None) => g.clone(),
            };
            let notice = Notice {
                title: format!("{number} {what}: {}", row.short_description),
                text: format!("Escalation rule {} ({}).", rule.name, how),
                severity,
                link: self
                    .settings
                    .public_url
                    .as_ref()
                    .map(|u| format!("{}/incidents/{number}", u.trim_end_matches('/'))),
                facts: vec![
                    ("Priority".into(), format!("P{}", row.priority)),
                    ("State".into(), row.state.clone()),
                    ("Assigned".into(), assigned),
                    ("Item".into(), row.item.clone().unwrap_or_else(|| "—".into())),
                ],
            };
            for channel in &rule.channels {
                self.queue(&mut tx, channel, number, &rule.name, &notice, now).await?;
            }
            if let Some(chain) = &rule.page {
                tx.raise_page(row.id, chain, now).await?;
            }
            let after = json!({"rule": rule.name, "kind": rule.kind, "occasion": key, "channels": rule.channels,
                               "reassign_group": rule.reassign_group});
            tx.append_audit(event(
                &system,
                now,
                "incident.escalate",
                "incident",
                number,
                None,
                Some(after.to_string()),
            ))
            .await?;
            tx.commit().await?;
            if rule.kind == EscalationKind::Functional && rule.reassign_group != row.assignment_group {
                match self.assign_incident(&system, number, &rule.reassign_group, None, None).await {
                    Ok(_) => {}
                    // Closed in the meantime: nothing to hand over.
                    Err(AppError::Invalid(Invalid(_))) => {}
                    Err(e) => return Err(e),
                }
            }
            fired.push(rule.name.clone());
        }
        Ok(fired)
    }

    /// One round of the desk: record SLA marks, escalate on them and on quiet incidents, and
    /// deliver the notifications due. The server runs it every few seconds.
    pub async fn desk_round(&self, courier: &Courier) -> Result<DeskRound> {
        let mut round = DeskRound { crossings: self.sweep_slas(500).await?, ..DeskRound::default() };
        // Read once a round: every occasion below is judged against the same rules.
        let rules = self.rules().await?;
        for c in &round.crossings {
            let occasion =
                Occasion::Sla { priority: u8::try_from(c.priority).unwrap_or(5), clock: &c.kind, percent: c.percent };
            let key = format!("{}:{}@{}", c.kind, c.percent, c.at);
            for rule in self.escalate(&rules, &c.number, occasion, &key).await? {
                round.escalations.push((c.number.clone(), rule));
            }
        }
        let quiet_for = rules
            .iter()
            .filter(|r| r.enabled)
            .filter_map(|r| match r.trigger {
                model::escalation::Trigger::Idle { minutes } => Some(i64::from(minutes) * 60_000),
                _ => None,
            })
            .min();
        if let Some(quiet) = quiet_for {
            let now = self.now_ms();
            for (number, priority, updated) in self.store.quiet_incidents(now - quiet, 500).await? {
                let occasion = Occasion::Idle { priority: u8::try_from(priority).unwrap_or(5), idle_ms: now - updated };
                for rule in self.escalate(&rules, &number, occasion, &format!("idle@{updated}")).await? {
                    round.escalations.push((number.clone(), rule));
                }
            }
        }
        round.pages = self.page_round().await?;
        round.closed = self.auto_close(200).await?;
        round.reminded = self.remind_updates().await?;
        round.delivery = self.deliver_notifications(courier, 200).await?;
        Ok(round)
    }

    /// Rules for a newly opened incident; a failure here is logged, not the opener's problem
    /// (the incident is already stored).
    pub(crate) async fn escalate_opened(&self, number: &str, priority: i64) {
        let occasion = Occasion::Opened { priority: u8::try_from(priority).unwrap_or(5) };
        let fired = match self.rules().await {
            Ok(rules) => self.escalate(&rules, number, occasion, "opened").await,
            Err(e) => Err(e),
        };
        if let Err(e) = fired {
            tracing::warn!(incident = %number, error = %e, "Cannot apply the escalation rules to a new incident.");
        }
    }
}
