//! SLA policies and the clocks they put on incidents.
//!
//! A policy is targets per priority on a calendar; services name theirs. When an incident is
//! opened (or its priority changes, explicitly and audited) each of its two clocks attaches
//! the tightest target among the policies of the services it affects — the `standard` one
//! when none names a policy. The clocks are computed from the journal by `model::sla` and the
//! result is kept in `incident_slas`: the queues ask it who is breaching soon, and the sweep
//! asks it which clock has a warning or a breach to record.

use crate::audit::event;
use crate::incidents::Clock;
use crate::{Actor, App, AppError, Result};
use jiff::tz::TimeZone;
use model::calendar::Calendar;
use model::incident::{self, Entered, HoldReason, State};
use model::sla::{self, ClockKind, SlaDefinition, SlaPolicy, Stage};
use model::{Invalid, Perm};
use serde_json::json;
use std::collections::HashMap;
use store::{IncidentRow, IncidentSlaRow, JournalEntry, JournalRow};

/// The share of a target past which a running clock counts as breaching soon.
pub const AT_RISK_PERCENT: f64 = 75.0;

/// The stored working-time calendars, read once per request, resolved per incident.
pub(crate) struct Calendars(HashMap<String, Calendar>);

impl Calendars {
    /// A policy's calendar for an incident: `24x7`, or the stored calendar of that name with
    /// its windows read in the site's time zone (a plant's office hours are its own).
    /// `office` without a stored one is Monday to Friday 09:00–17:00; any other unknown name
    /// (a calendar deleted after a policy named it) falls back to that too.
    pub(crate) fn resolve(&self, name: &str, site_tz: Option<&str>) -> Calendar {
        let site = site_tz.and_then(|z| TimeZone::get(z).ok());
        let zone_name = |tz: &TimeZone| tz.iana_name().unwrap_or("UTC").to_owned();
        if name == sla::ROUND_THE_CLOCK {
            return Calendar::always(sla::ROUND_THE_CLOCK, site.unwrap_or(TimeZone::UTC));
        }
        match self.0.get(name).or_else(|| self.0.get("office")) {
            Some(c) => {
                let tz = site.unwrap_or_else(|| c.tz.clone());
                Calendar { name: format!("{name} ({})", zone_name(&tz)), tz, ..c.clone() }
            }
            None => {
                use jiff::civil::Weekday::*;
                let tz = site.unwrap_or(TimeZone::UTC);
                let label = format!("{name} ({})", zone_name(&tz));
                Calendar::business(&label, tz, (9, 0), (17, 0), &[Monday, Tuesday, Wednesday, Thursday, Friday])
            }
        }
    }
}

/// A stored calendar as the SLA engine reads it (`None` when the stored form no longer reads).
pub fn stored_calendar(r: &store::CalendarRow) -> Option<Calendar> {
    let tz = TimeZone::get(&r.time_zone).ok()?;
    let days: Vec<(String, Vec<String>)> = serde_json::from_str(&r.week).ok()?;
    let holidays: Vec<String> = serde_json::from_str(&r.holidays).ok()?;
    Calendar::from_spec(&r.name, tz, &days, &holidays).ok()
}

/// The state history of a journal, as the clocks read it.
fn history(journal: &[JournalRow]) -> Vec<Entered> {
    journal
        .iter()
        .filter_map(|j| {
            let state = State::parse(j.state.as_deref()?)?;
            Some(Entered { at: j.at_ms, state, hold: j.hold_reason.as_deref().and_then(HoldReason::parse) })
        })
        .collect()
}

fn stage_name(s: Stage) -> &'static str {
    match s {
        Stage::NotStarted => "not-started",
        Stage::Running => "running",
        Stage::Paused => "paused",
        Stage::Achieved => "achieved",
        Stage::Breached => "breached",
        Stage::Cancelled => "cancelled",
    }
}

/// The definitions an incident's clocks run on: the stored ones, else (an incident from
/// before policies were kept) the standard policy's.
pub(crate) fn definitions(row: &IncidentRow, stored: &[IncidentSlaRow], cals: &Calendars) -> Vec<IncidentSlaRow> {
    if !stored.is_empty() {
        return stored.to_vec();
    }
    attach(row, &[SlaPolicy::standard()], cals, &[])
}

/// Attaches each clock to the tightest target of `policies` for the incident's priority, as
/// of when it was opened; the computed part is filled by [`compute`]. Keeps what was already
/// recorded for an attachment that stays.
pub(crate) fn attach(
    row: &IncidentRow,
    policies: &[SlaPolicy],
    cals: &Calendars,
    previous: &[IncidentSlaRow],
) -> Vec<IncidentSlaRow> {
    let priority = u8::try_from(row.priority).unwrap_or(5);
    ClockKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let tz = row.time_zone.as_deref();
            let c = sla::tightest(policies, priority, kind, row.opened_at_ms, |n| cals.resolve(n, tz))?;
            let kept = previous.iter().find(|p| p.kind == kind.as_str());
            Some(IncidentSlaRow {
                incident_id: row.id,
                kind: kind.as_str().into(),
                policy: c.policy,
                target_ms: c.target_ms,
                calendar: c.calendar_name,
                stage: "not-started".into(),
                started_at_ms: kept.and_then(|k| k.started_at_ms),
                elapsed_ms: 0,
                deadline_ms: None,
                at_risk_at_ms: None,
                next_mark: None,
                next_due_ms: None,
                recorded: kept.map_or(0, |k| k.recorded),
                breached_at_ms: None,
                ended_at_ms: None,
                computed_at_ms: 0,
            })
        })
        .collect()
}

/// The incident's clocks at `now` from its journal, and the rows to keep for them.
pub(crate) fn compute(
    row: &IncidentRow,
    defs: &[IncidentSlaRow],
    journal: &[JournalRow],
    now: i64,
    cals: &Calendars,
) -> Vec<(Clock, IncidentSlaRow)> {
    let (response, resolution) = incident::sla_events(&history(journal));
    defs.iter()
        .filter_map(|d| {
            let kind = ClockKind::parse(&d.kind)?;
            let events = if kind == ClockKind::Response { &response } else { &resolution };
            let cal = cals.resolve(&d.calendar, row.time_zone.as_deref());
            let def = SlaDefinition::new(&format!("P{} {}", row.priority, kind.as_str()), d.target_ms);
            let state = sla::evaluate(&def, &cal, events, now);
            // A new attachment (a reopen resets the clock) has recorded nothing yet.
            let recorded = if state.started_at == d.started_at_ms { d.recorded } else { 0 };
            // Due next: a mark already crossed but not yet recorded (a stopped clock only
            // owes its breach), else the next one ahead.
            let ended = state.ended_at.is_some();
            let pending = state
                .warnings
                .iter()
                .copied()
                .filter(|_| !ended)
                .chain(state.breached_at.map(|b| (100, b)))
                .filter(|(p, _)| i64::from(*p) > recorded)
                .min_by_key(|w| w.1);
            let next = pending.or_else(|| sla::next_threshold(&def, &cal, &state, now));
            let risk_mark = (d.target_ms as f64 * AT_RISK_PERCENT / 100.0) as i64;
            let at_risk_at = match state.stage {
                Stage::Running if state.elapsed_ms >= risk_mark => {
                    Some(state.warnings.iter().find(|w| f64::from(w.0) >= AT_RISK_PERCENT).map_or(now, |w| w.1))
                }
                Stage::Running => cal.add_working(now, risk_mark - state.elapsed_ms),
                // Still running past the target.
                Stage::Breached if state.ended_at.is_none() => state.breached_at,
                _ => None,
            };
            let kept = IncidentSlaRow {
                stage: stage_name(state.stage).into(),
                started_at_ms: state.started_at,
                elapsed_ms: state.elapsed_ms,
                deadline_ms: state.deadline,
                at_risk_at_ms: at_risk_at,
                next_mark: next.map(|n| i64::from(n.0)),
                next_due_ms: next.map(|n| n.1),
                recorded,
                breached_at_ms: state.breached_at,
                ended_at_ms: state.ended_at,
                computed_at_ms: now,
                ..d.clone()
            };
            let clock = Clock {
                name: def.name,
                policy: d.policy.clone(),
                target_ms: d.target_ms,
                calendar: cal.name.clone(),
                state,
            };
            Some((clock, kept))
        })
        .collect()
}

/// Whether two computations of one clock agree on everything but the time they were made and
/// the working time run since.
fn same_standing(a: &IncidentSlaRow, b: &IncidentSlaRow) -> bool {
    let strip = |r: &IncidentSlaRow| IncidentSlaRow { elapsed_ms: 0, computed_at_ms: 0, ..r.clone() };
    strip(a) == strip(b)
}

/// A warning or a breach the sweep recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossing {
    pub number: String,
    pub priority: i64,
    /// `P1 resolution`.
    pub clock: String,
    /// `response` or `resolution`.
    pub kind: String,
    /// 50, 75, 90, or 100 for the breach.
    pub percent: u8,
    pub at: i64,
}

impl App {
    pub(crate) async fn load_calendars(&self) -> Result<Calendars> {
        let rows = self.store.calendars().await?;
        Ok(Calendars(rows.iter().filter_map(|r| Some((r.name.clone(), stored_calendar(r)?))).collect()))
    }

    /// The policies in force: the stored ones, and the built-in `standard` unless one of that
    /// name is stored.
    async fn policies(&self) -> Result<Vec<SlaPolicy>> {
        let mut out = Vec::new();
        for r in self.store.sla_policies().await? {
            let targets = serde_json::from_str(&r.targets)
                .map_err(|e| AppError::Internal(format!("SLA policy `{}` does not read: {e}", r.name)))?;
            out.push(SlaPolicy { name: r.name, description: r.description, targets });
        }
        if !out.iter().any(|p| p.name == "standard") {
            out.push(SlaPolicy::standard());
        }
        Ok(out)
    }

    /// The policies an incident on these services runs on: theirs, or the standard one when
    /// none names a policy that exists.
    pub(crate) async fn policies_for(&self, service_ids: &[i64]) -> Result<Vec<SlaPolicy>> {
        let all = self.policies().await?;
        let named = self.store.service_sla_policies(service_ids).await?;
        let mut chosen: Vec<SlaPolicy> = Vec::new();
        for (_, _, policy) in &named {
            if let Some(p) = all.iter().find(|p| &p.name == policy)
                && !chosen.contains(p)
            {
                chosen.push(p.clone());
            }
        }
        if chosen.is_empty() {
            chosen.extend(all.into_iter().filter(|p| p.name == "standard"));
        }
        Ok(chosen)
    }

    pub async fn sla_policies(&self, actor: &Actor) -> Result<Vec<SlaPolicy>> {
        actor.require(Perm::IncidentRead)?;
        self.policies().await
    }

    /// Creates or replaces a policy. Incidents opened from now on attach to it; running
    /// clocks keep the target they attached to (as ServiceNow's task SLAs do) until their
    /// priority changes. Audited with the policy before and after.
    pub async fn put_sla_policy(&self, actor: &Actor, p: SlaPolicy) -> Result<SlaPolicy> {
        actor.require(Perm::SystemAdmin)?;
        let calendars: Vec<String> = self.store.calendars().await?.into_iter().map(|c| c.name).collect();
        let mut names: Vec<&str> = calendars.iter().map(String::as_str).collect();
        // The office calendar exists built in even before one is stored.
        if !names.contains(&"office") {
            names.push("office");
        }
        let mut p = SlaPolicy { name: p.name.trim().to_owned(), description: p.description.trim().to_owned(), ..p };
        p.targets.sort_by_key(|t| t.priority);
        p.validate(&names)?;
        let before = self.policies().await?.into_iter().find(|b| b.name == p.name);
        let now = self.now_ms();
        let targets = serde_json::to_string(&p.targets).unwrap_or_default();
        let doc = |p: &SlaPolicy| json!({"description": p.description, "targets": p.targets}).to_string();
        let mut tx = self.store.begin().await?;
        tx.put_sla_policy(&p.name, &p.description, &targets, now).await?;
        let audit = event(actor, now, "sla-policy.put", "sla-policy", &p.name, before.as_ref().map(doc), Some(doc(&p)));
        tx.append_audit(audit).await?;
        tx.commit().await?;
        Ok(p)
    }

    /// Removes a stored policy (the built-in `standard` comes back if it was replaced).
    pub async fn delete_sla_policy(&self, actor: &Actor, name: &str) -> Result<()> {
        actor.require(Perm::SystemAdmin)?;
        let Some(before) = self.policies().await?.into_iter().find(|b| b.name == name) else {
            return Err(AppError::NotFound(format!("SLA policy `{name}`")));
        };
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        if !tx.delete_sla_policy(name).await? {
            return Err(Invalid::one("name", "the built-in standard policy cannot be removed; replace it").into());
        }
        let doc = json!({"description": before.description, "targets": before.targets}).to_string();
        tx.append_audit(event(actor, now, "sla-policy.delete", "sla-policy", name, Some(doc), None)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Recomputes and keeps every open incident's clocks — what a calendar edit moves — in
    /// batches of 2,000 incidents, each batch one transaction. Returns how many incidents.
    pub async fn recompute_slas(&self, actor: &Actor) -> Result<usize> {
        actor.require(Perm::SystemAdmin)?;
        self.recompute_open_slas().await
    }

    pub(crate) async fn recompute_open_slas(&self) -> Result<usize> {
        let cals = self.load_calendars().await?;
        let now = self.now_ms();
        let (mut after, mut done) = (0, 0);
        loop {
            let rows = self.store.open_incidents_after(after, 2000).await?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let mut stored: HashMap<i64, Vec<IncidentSlaRow>> = HashMap::new();
            for s in self.store.incident_slas(&ids).await? {
                stored.entry(s.incident_id).or_default().push(s);
            }
            let mut histories: HashMap<i64, Vec<JournalRow>> = HashMap::new();
            for (id, j) in self.store.incident_state_histories(&ids).await? {
                histories.entry(id).or_default().push(j);
            }
            let mut kept = Vec::with_capacity(rows.len() * 2);
            for row in &rows {
                let before = stored.get(&row.id).map_or(&[][..], Vec::as_slice);
                let defs = definitions(row, before, &cals);
                let journal = histories.get(&row.id).map_or(&[][..], Vec::as_slice);
                // Only clocks whose standing moved are written: a running clock's elapsed time
                // grows by itself, its deadline and marks do not unless something changed.
                kept.extend(
                    compute(row, &defs, journal, now, &cals)
                        .into_iter()
                        .map(|(_, k)| k)
                        .filter(|k| !before.iter().any(|b| same_standing(b, k))),
                );
            }
            if !kept.is_empty() {
                let mut tx = self.store.begin().await?;
                tx.put_incident_slas(&kept).await?;
                tx.commit().await?;
            }
            done += rows.len();
        }
        Ok(done)
    }

    /// Records every warning and breach that has come due (up to `limit` incidents a run) on
    /// the incident's journal and in the audit log, and returns them for escalation. Run
    /// every few seconds by the server; idempotent, so a restart or a second runner records
    /// nothing twice (the `recorded` mark only rises, in the same transaction).
    pub async fn sweep_slas(&self, limit: i64) -> Result<Vec<Crossing>> {
        let now = self.now_ms();
        let system = Actor::system();
        let cals = self.load_calendars().await?;
        let mut out = Vec::new();
        for number in self.store.incidents_due(now, limit).await? {
            let Some(row) = self.store.incident(&number).await? else { continue };
            let journal: Vec<_> = self.store.incident_journal(row.id).await?.into_iter().map(|t| t.entry).collect();
            let stored = self.store.incident_slas(&[row.id]).await?;
            let defs = definitions(&row, &stored, &cals);
            let mut raised = defs.clone();
            let mut tx = self.store.begin().await?;
            for (clock, kept) in compute(&row, &defs, &journal, now, &cals) {
                let ended = clock.state.ended_at.is_some();
                let crossed: Vec<(u8, i64)> = clock
                    .state
                    .warnings
                    .iter()
                    .copied()
                    .filter(|_| !ended)
                    .chain(clock.state.breached_at.map(|b| (100, b)))
                    .filter(|(p, _)| i64::from(*p) > kept.recorded)
                    .collect();
                for &(percent, at) in &crossed {
                    let text = if percent >= 100 {
                        format!("{} breached", clock.name)
                    } else {
                        format!("{} at {percent} %", clock.name)
                    };
                    let entry = JournalEntry {
                        incident_id: row.id,
                        at_ms: now,
                        actor: "system",
                        kind: "sla",
                        state: None,
                        hold_reason: None,
                        text: &text,
                    };
                    tx.append_journal(&entry).await?;
                    let action = if percent >= 100 { "incident.sla-breach" } else { "incident.sla-warning" };
                    let after = json!({"clock": clock.name, "policy": clock.policy, "percent": percent, "at": at});
                    tx.append_audit(event(&system, now, action, "incident", &number, None, Some(after.to_string())))
                        .await?;
                    out.push(Crossing {
                        number: number.clone(),
                        priority: row.priority,
                        clock: clock.name.clone(),
                        kind: kept.kind.clone(),
                        percent,
                        at,
                    });
                }
                if let Some(d) = raised.iter_mut().find(|d| d.kind == kept.kind) {
                    d.started_at_ms = kept.started_at_ms;
                    d.recorded = crossed.iter().map(|c| i64::from(c.0)).max().unwrap_or(kept.recorded);
                }
            }
            // Computed again with what is now recorded: each clock is due at its next mark.
            for (_, kept) in compute(&row, &raised, &journal, now, &cals) {
                tx.put_incident_sla(&kept).await?;
            }
            tx.commit().await?;
        }
        Ok(out)
    }
}
