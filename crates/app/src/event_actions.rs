//! What people on watch do with a selection of events from the live event console:
//! acknowledge the alarms they raised, silence what they came from, or open an incident from
//! them when correlation opened none (a sender the CMDB does not know, a raw message someone
//! recognises). Each goes through the same audited use-case as the action taken elsewhere.

use crate::alerts::SilenceInput;
use crate::correlation::reach_of;
use crate::incidents::{IncidentView, OpenIncident};
use crate::{Actor, App, AppError, Result};
use model::alarm;
use model::alert::{MatchOp, Matcher};
use model::{Invalid, Perm};
use store::{EventFilter, EventRow};

/// Events one action takes at most.
pub const SELECTION_MAX: usize = 500;
/// The longest silence the console sets: a month; longer is a maintenance window.
pub const SILENCE_MAX_HOURS: i64 = 24 * 31;

fn matcher(name: &str, value: &str) -> Result<Matcher> {
    Matcher::new(name, MatchOp::Equal, value).map_err(|e| Invalid::one("events", e).into())
}

impl App {
    /// The selected events, oldest first: every one must exist and be visible to the actor.
    async fn selection(&self, actor: &Actor, ids: &[i64]) -> Result<Vec<EventRow>> {
        let mut wanted = ids.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            return Err(Invalid::one("events", "select at least one event").into());
        }
        if wanted.len() > SELECTION_MAX {
            return Err(Invalid::one("events", format!("at most {SELECTION_MAX} events at once")).into());
        }
        let f = EventFilter { ids: wanted.clone(), limit: 1000, ..EventFilter::default() };
        let mut rows = self.events(actor, &f).await?;
        rows.sort_by_key(|r| r.id);
        if let Some(missing) = wanted.iter().find(|id| rows.binary_search_by_key(id, |r| &r.id).is_err()) {
            return Err(AppError::NotFound(format!("event {missing}")));
        }
        Ok(rows)
    }

    /// Acknowledges the open alarms the selected events raised, repeated or cleared and that
    /// nobody acknowledged yet. Returns how many it acknowledged.
    pub async fn acknowledge_events(&self, actor: &Actor, ids: &[i64]) -> Result<usize> {
        actor.require(Perm::EventWork)?;
        let rows = self.selection(actor, ids).await?;
        let mut alarms: Vec<i64> = rows.iter().filter_map(|r| r.alarm_id).collect();
        alarms.sort_unstable();
        alarms.dedup();
        if alarms.is_empty() {
            return Err(Invalid::one(
                "events",
                "none of these events raised an alarm: raw messages raise none, and a new event is correlated within seconds",
            )
            .into());
        }
        let mut acked = 0;
        for id in alarms {
            let (a, _) = self.alarm(actor, id).await?;
            if a.open && a.acked_by.is_none() {
                self.acknowledge_alarm(actor, id).await?;
                acked += 1;
            }
        }
        Ok(acked)
    }

    /// Silences what the selected events came from for `hours`: one silence per item (with its
    /// site; or sender, when the CMDB does not know it) and kind of event, with the object (an
    /// interface, a peer) when the event names one. Returns the silences' ids.
    pub async fn silence_events(&self, actor: &Actor, ids: &[i64], hours: i64, comment: &str) -> Result<Vec<String>> {
        actor.require(Perm::EventWork)?;
        if !(1..=SILENCE_MAX_HOURS).contains(&hours) {
            return Err(Invalid::one(
                "hours",
                format!("1 to {SILENCE_MAX_HOURS} hours; longer is a maintenance window"),
            )
            .into());
        }
        if comment.trim().is_empty() {
            return Err(Invalid::one("comment", "say why: the next shift reads it").into());
        }
        let rows = self.selection(actor, ids).await?;
        let g = self.impact_graph().await?;
        let mut sets: Vec<Vec<Matcher>> = Vec::new();
        for r in &rows {
            let mut ms = match r.item_id.and_then(|i| g.nodes.get(&i)) {
                // A name is unique within its site only: `rtr01` at one branch is not another's.
                Some(n) => match n.site.as_deref().filter(|s| !s.is_empty()) {
                    Some(site) => vec![matcher("item", &n.name)?, matcher("site", site)?],
                    None => vec![matcher("item", &n.name)?],
                },
                None => vec![matcher("sender", &r.sender)?],
            };
            ms.push(matcher("kind", &r.kind)?);
            // Alarms from alerts are matched on the alert's labels, which name no object.
            if r.source != "alertmanager" && !r.object.is_empty() {
                ms.push(matcher("object", &r.object)?);
            }
            if !sets.contains(&ms) {
                sets.push(ms);
            }
        }
        let now = self.now_ms();
        let mut made = Vec::new();
        for matchers in sets {
            let input = SilenceInput {
                id: None,
                matchers,
                starts_at: now,
                ends_at: now + hours * 3_600_000,
                created_by: actor.name.clone(),
                comment: comment.trim().to_owned(),
            };
            made.push(self.put_silence(actor, input).await?);
        }
        Ok(made)
    }

    /// Opens an incident from the selected events: on the item of the worst of them, its
    /// priority from the services that item's failure reaches and the worst severity (as
    /// correlation sets it), the events listed in its description, and their open alarms that
    /// feed no incident yet sent to it.
    pub async fn open_incident_from_events(
        &self,
        actor: &Actor,
        ids: &[i64],
        short_description: &str,
    ) -> Result<IncidentView> {
        actor.require(Perm::IncidentWork)?;
        let rows = self.selection(actor, ids).await?;
        let g = self.impact_graph().await?;
        let matrix = self.current_matrix().await?;
        let Some(worst) = rows.iter().min_by_key(|r| (r.severity, std::cmp::Reverse(r.id))) else {
            return Err(Invalid::one("events", "select at least one event").into());
        };
        let item = worst.item_id.or_else(|| rows.iter().find_map(|r| r.item_id));
        let node = item.and_then(|i| g.nodes.get(&i));
        let reach = item.map(|i| reach_of(&g, i)).unwrap_or_default();
        let hit = reach.iter().map(|(_, d, c)| (*d, c.as_str())).min_by_key(|w| alarm::impact_rank(Some(*w)));
        let down = rows.iter().any(|r| r.up == Some(false));
        let sev = u8::try_from(worst.severity.clamp(0, 7)).unwrap_or(7);
        let level = |axis: &[String], r| alarm::level(axis, r).unwrap_or_default().to_owned();
        let from = node.map_or_else(|| worst.sender.clone(), |n| n.name.clone());
        let short = match short_description.trim() {
            "" => format!("{from}: {}", worst.text.trim()).chars().take(160).collect(),
            s => s.to_owned(),
        };
        let mut description = format!("Opened from the event console by {} from {} events:\n", actor.name, rows.len());
        for r in rows.iter().take(50) {
            description.push_str(&format!(
                "- event {} at {} from {} ({}, {}): {}\n",
                r.id,
                jiff::Timestamp::from_millisecond(r.received_at_ms).map(|t| t.to_string()).unwrap_or_default(),
                r.sender,
                r.kind,
                model::event::SEVERITIES[usize::from(u8::try_from(r.severity.clamp(0, 7)).unwrap_or(7))],
                r.text.trim().chars().take(200).collect::<String>()
            ));
        }
        if rows.len() > 50 {
            description.push_str(&format!("- and {} more\n", rows.len() - 50));
        }
        let opened = self
            .open_incident(
                actor,
                OpenIncident {
                    short_description: short,
                    description,
                    caller: actor.name.clone(),
                    category: alarm::category(node.map_or("", |n| n.class.as_str())).into(),
                    item: item.map(|i| format!("#{i}")),
                    impact: level(&matrix.impacts, alarm::impact_rank(hit)),
                    urgency: level(&matrix.urgencies, alarm::urgency_rank(sev, down)),
                    ..OpenIncident::default()
                },
            )
            .await?;
        let mut alarms: Vec<i64> = rows.iter().filter_map(|r| r.alarm_id).collect();
        alarms.sort_unstable();
        alarms.dedup();
        let mut tx = self.store.begin().await?;
        tx.tie_events(&rows.iter().map(|r| r.id).collect::<Vec<_>>(), opened.row.id).await?;
        if !alarms.is_empty() {
            let now = self.now_ms();
            let attached = tx.attach_alarms(&alarms, opened.row.id).await?;
            tx.tie_events_to_incidents(&alarms).await?;
            let doc =
                serde_json::json!({"incident": opened.row.number, "alarms": alarms, "attached": attached}).to_string();
            tx.append_audit(crate::audit::event(
                actor,
                now,
                "alarm.attach",
                "incident",
                &opened.row.number,
                None,
                Some(doc),
            ))
            .await?;
        }
        tx.commit().await?;
        Ok(opened)
    }
}
