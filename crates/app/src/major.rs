//! Major incidents: a P1 declared major with an incident commander and the other roles,
//! stakeholder updates on a promised cadence (the commander reminded when one is due, each
//! update sent to the channels named), the internal status page (services' health and the
//! majors under way), and the post-incident review, assembled from the record with a
//! written part the team adds.

use crate::audit::event;
use crate::incidents::IncidentView;
use crate::{Actor, App, AppError, Result};
use model::incident::State;
use model::major::{self, Declaration, Milestones, Update, UpdateStatus};
use model::{FieldError, Invalid, Perm};
use notify::{Notice, Severity};
use serde_json::json;
use store::{JournalEntry, MajorRow, NewMajor, ReviewRow, UpdateRow};

#[derive(Debug, Clone)]
pub struct MajorView {
    pub row: MajorRow,
    pub roles: Vec<(String, String)>,
    pub channels: Vec<String>,
    pub updates: Vec<UpdateRow>,
    /// The next stakeholder update is late.
    pub overdue: bool,
}

/// One service on the status page.
#[derive(Debug, Clone)]
pub struct ServiceHealth {
    pub name: String,
    pub class: String,
    pub criticality: String,
    /// down, degraded or operational: the worse of what the CMDB's recorded failures and the
    /// open incidents' affected services say.
    pub health: &'static str,
    pub incidents: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct StatusBoard {
    pub services: Vec<ServiceHealth>,
    pub majors: Vec<MajorView>,
}

/// The written part of a review, as submitted.
#[derive(Debug, Clone, Default)]
pub struct ReviewInput {
    pub summary: String,
    pub root_cause: String,
    pub went_well: String,
    pub to_improve: String,
    pub follow_ups: String,
}

/// A post-incident review: the record's facts and the team's words.
#[derive(Debug, Clone)]
pub struct Review {
    pub incident: IncidentView,
    pub milestones: Milestones,
    pub major: Option<MajorView>,
    pub written: Option<ReviewRow>,
}

fn rank(h: &str) -> u8 {
    match h {
        "down" => 2,
        "degraded" => 1,
        _ => 0,
    }
}

impl App {
    async fn major_view(&self, row: MajorRow) -> Result<MajorView> {
        let updates = self.store.stakeholder_updates(row.incident_id).await?;
        Ok(MajorView {
            roles: serde_json::from_str(&row.roles).unwrap_or_default(),
            channels: serde_json::from_str(&row.channels).unwrap_or_default(),
            overdue: row.ended_at_ms.is_none() && row.next_update_due_ms <= self.now_ms(),
            updates,
            row,
        })
    }

    /// The major record of an incident, if it was declared one.
    pub async fn major(&self, actor: &Actor, number: &str) -> Result<Option<MajorView>> {
        let v = self.incident(actor, number).await?;
        match self.store.major(v.row.id).await? {
            Some(row) => Ok(Some(self.major_view(row).await?)),
            None => Ok(None),
        }
    }

    fn link(&self, number: &str) -> Option<String> {
        self.settings.public_url.as_ref().map(|u| format!("{}/incidents/{number}", u.trim_end_matches('/')))
    }

    /// Declares a P1 major: its commander and roles, the cadence of stakeholder updates and
    /// the channels they go to. Journaled, audited, and announced on those channels.
    pub async fn declare_major(
        &self,
        actor: &Actor,
        number: &str,
        d: Declaration,
        channels: Vec<String>,
    ) -> Result<MajorView> {
        actor.require(Perm::IncidentWork)?;
        let v = self.incident(actor, number).await?;
        let accounts = self.on_call_people().await?;
        let names: Vec<&str> = accounts.iter().map(String::as_str).collect();
        let open = !v.state.is_terminal() && v.state != State::Resolved;
        let mut check = major::check_declaration(u8::try_from(v.row.priority).unwrap_or(5), open, &d, &names);
        let known: Vec<String> = self.store.channels().await?.into_iter().map(|c| c.name).collect();
        for c in &channels {
            if !known.contains(c) {
                let e = FieldError::new("channels", format!("no notification channel `{c}`"));
                check = Err(match check {
                    Ok(()) => Invalid(vec![e]),
                    Err(Invalid(mut all)) => {
                        all.push(e);
                        Invalid(all)
                    }
                });
            }
        }
        check?;
        let now = self.now_ms();
        let roles = serde_json::to_string(&d.roles).unwrap_or_default();
        let channel_doc = serde_json::to_string(&channels).unwrap_or_default();
        let m = NewMajor {
            incident_id: v.row.id,
            declared_by: &actor.name,
            commander: &d.commander,
            roles: &roles,
            update_every_minutes: i64::from(d.update_every_minutes),
            channels: &channel_doc,
            next_update_due_ms: major::next_due(now, d.update_every_minutes),
        };
        let mut tx = self.store.begin().await?;
        if !tx.insert_major(&m, now).await? {
            return Err(Invalid::one("major", format!("{number} is a major incident already")).into());
        }
        let roles_text: Vec<String> = d.roles.iter().map(|(r, w)| format!("{r}: {w}")).collect();
        let text = format!(
            "Declared major. Commander: {}{}; stakeholder updates every {} minutes",
            d.commander,
            if roles_text.is_empty() { String::new() } else { format!("; {}", roles_text.join(", ")) },
            d.update_every_minutes
        );
        let entry = JournalEntry {
            incident_id: v.row.id,
            at_ms: now,
            actor: &actor.name,
            kind: "major",
            state: None,
            hold_reason: None,
            text: &text,
        };
        tx.append_journal(&entry).await?;
        let notice = Notice {
            title: format!("MAJOR INCIDENT {number}: {}", v.row.short_description),
            text: text.clone(),
            severity: Severity::Critical,
            link: self.link(number),
            facts: vec![("Commander".into(), d.commander.clone()), ("Priority".into(), "P1".into())],
        };
        for c in &channels {
            self.queue(&mut tx, c, number, "major", &notice, now).await?;
        }
        let after = json!({"commander": d.commander, "roles": d.roles, "update_every_minutes": d.update_every_minutes,
                           "channels": channels});
        tx.append_audit(event(actor, now, "incident.major", "incident", number, None, Some(after.to_string()))).await?;
        tx.commit().await?;
        self.major(actor, number).await?.ok_or_else(|| AppError::NotFound(format!("major incident {number}")))
    }

    /// A structured stakeholder update: on the timeline, to the major's channels, and the
    /// next one due a cadence later (a `resolved` update ends the major).
    pub async fn post_update(&self, actor: &Actor, number: &str, u: Update) -> Result<MajorView> {
        actor.require(Perm::IncidentWork)?;
        let Some(current) = self.major(actor, number).await? else {
            return Err(Invalid::one("major", format!("{number} is not a major incident; declare it first")).into());
        };
        if current.row.ended_at_ms.is_some() {
            return Err(Invalid::one("major", format!("{number}'s major incident has ended")).into());
        }
        major::check_update(&u)?;
        let now = self.now_ms();
        let every = u32::try_from(current.row.update_every_minutes).unwrap_or(30);
        let row = UpdateRow {
            id: 0,
            incident_id: current.row.incident_id,
            at_ms: now,
            author: actor.name.clone(),
            status: u.status.as_str().into(),
            impact: u.impact.trim().into(),
            actions: u.actions.trim().into(),
        };
        let ends = u.status == UpdateStatus::Resolved;
        let mut tx = self.store.begin().await?;
        tx.insert_update(&row, major::next_due(now, every), ends).await?;
        let text = format!("[{}] {} — {}", row.status, row.impact, row.actions);
        let entry = JournalEntry {
            incident_id: row.incident_id,
            at_ms: now,
            actor: &actor.name,
            kind: "stakeholder-update",
            state: None,
            hold_reason: None,
            text: &text,
        };
        tx.append_journal(&entry).await?;
        let notice = Notice {
            title: format!("{number} update: {}", row.status),
            text: format!("Impact: {}\nWhat we are doing: {}", row.impact, row.actions),
            severity: if ends { Severity::Info } else { Severity::Warning },
            link: self.link(number),
            facts: vec![
                ("Incident".into(), current.row.short_description.clone()),
                ("Commander".into(), current.row.commander.clone()),
                ("Next update".into(), if ends { "none: resolved".into() } else { format!("in {every} minutes") }),
            ],
        };
        for c in &current.channels {
            self.queue(&mut tx, c, number, "stakeholder-update", &notice, now).await?;
        }
        let after = json!({"status": row.status, "impact": row.impact, "actions": row.actions}).to_string();
        tx.append_audit(event(actor, now, "incident.update", "incident", number, None, Some(after))).await?;
        tx.commit().await?;
        self.major(actor, number).await?.ok_or_else(|| AppError::NotFound(format!("major incident {number}")))
    }

    /// Reminds each ongoing major's commander once when an update is due (journal and a mail
    /// to them), and ends majors whose incident was resolved or cancelled. Run by the desk.
    pub(crate) async fn remind_updates(&self) -> Result<Vec<String>> {
        let now = self.now_ms();
        let contacts = self.store.contacts().await?;
        let mut reminded = Vec::new();
        for m in self.store.ongoing_majors().await? {
            let state = State::parse(&m.state).unwrap_or(State::New);
            let mut tx = self.store.begin().await?;
            if state.is_terminal() || state == State::Resolved {
                tx.end_major(m.incident_id, now).await?;
                tx.commit().await?;
                continue;
            }
            if m.next_update_due_ms > now || !tx.mark_reminded(m.incident_id, m.next_update_due_ms).await? {
                continue;
            }
            let text = format!(
                "A stakeholder update is due (every {} minutes); reminded {}",
                m.update_every_minutes, m.commander
            );
            let entry = JournalEntry {
                incident_id: m.incident_id,
                at_ms: now,
                actor: "system",
                kind: "reminder",
                state: None,
                hold_reason: None,
                text: &text,
            };
            tx.append_journal(&entry).await?;
            if let Some((_, email)) = contacts.iter().find(|c| c.0 == m.commander) {
                let notice = Notice {
                    title: format!("{} stakeholder update due", m.number),
                    text: format!(
                        "You promised an update every {} minutes on {}.",
                        m.update_every_minutes, m.short_description
                    ),
                    severity: Severity::Warning,
                    link: self.link(&m.number),
                    facts: Vec::new(),
                };
                let to = format!("page:{}", m.commander);
                self.enqueue(&mut tx, &to, Some(email), &m.number, "update-due", &notice, now).await?;
            }
            tx.commit().await?;
            reminded.push(m.number);
        }
        Ok(reminded)
    }

    /// The internal status page: every service's health — the worse of the CMDB's recorded
    /// failures and what open incidents affect — and the majors under way.
    pub async fn status_board(&self, actor: &Actor) -> Result<StatusBoard> {
        actor.require(Perm::IncidentRead)?;
        let open = self.incidents(actor, false).await?;
        let mut services: Vec<ServiceHealth> = self
            .services(actor)
            .await?
            .into_iter()
            .map(|s| ServiceHealth {
                health: match s.status {
                    "down" => "down",
                    "degraded" => "degraded",
                    _ => "operational",
                },
                name: s.name,
                class: s.class,
                criticality: s.criticality,
                incidents: Vec::new(),
            })
            .collect();
        for v in &open {
            for affected in &v.services {
                if let Some(s) = services.iter_mut().find(|s| s.name == affected.service) {
                    s.incidents.push(v.row.number.clone());
                    let h = if affected.status == "down" { "down" } else { "degraded" };
                    if rank(h) > rank(s.health) {
                        s.health = h;
                    }
                }
            }
        }
        services.sort_by(|a, b| rank(b.health).cmp(&rank(a.health)).then(a.name.cmp(&b.name)));
        let mut majors = Vec::new();
        for m in self.store.ongoing_majors().await? {
            // Only those the actor may see.
            if self.incident(actor, &m.number).await.is_ok() {
                majors.push(self.major_view(m).await?);
            }
        }
        Ok(StatusBoard { services, majors })
    }

    /// The post-incident review: milestones and durations from the timeline, the SLA results,
    /// the services affected, the major's roles and updates, and the team's written part.
    pub async fn review(&self, actor: &Actor, number: &str) -> Result<Review> {
        let incident = self.incident(actor, number).await?;
        let major = match self.store.major(incident.row.id).await? {
            Some(m) => Some(self.major_view(m).await?),
            None => None,
        };
        let mitigated = major.as_ref().and_then(|m| {
            m.updates.iter().find(|u| matches!(u.status.as_str(), "monitoring" | "resolved")).map(|u| u.at_ms)
        });
        let entries: Vec<major::Entry<'_>> = incident
            .journal
            .iter()
            .map(|j| major::Entry { at: j.at_ms, kind: &j.kind, state: j.state.as_deref() })
            .collect();
        let milestones = major::milestones(&entries, mitigated);
        let written = self.store.review(incident.row.id).await?;
        Ok(Review { incident, milestones, major, written })
    }

    /// Writes the review's written part (once the incident is resolved), if it is still at
    /// `version` (0 for the first). Audited.
    pub async fn put_review(&self, actor: &Actor, number: &str, input: ReviewInput, version: i64) -> Result<ReviewRow> {
        actor.require(Perm::IncidentWork)?;
        let v = self.incident(actor, number).await?;
        if !matches!(v.state, State::Resolved | State::Closed) {
            return Err(Invalid::one("state", format!("{number} is {}; review it once it is resolved", v.state)).into());
        }
        let mut errors = Vec::new();
        for (field, text) in [
            ("summary", &input.summary),
            ("root_cause", &input.root_cause),
            ("went_well", &input.went_well),
            ("to_improve", &input.to_improve),
            ("follow_ups", &input.follow_ups),
        ] {
            if text.chars().count() > 20_000 {
                errors.push(FieldError::new(field, "up to 20,000 characters"));
            }
        }
        if input.summary.trim().is_empty() {
            errors.push(FieldError::new("summary", "what happened, in a few sentences"));
        }
        if !errors.is_empty() {
            return Err(Invalid(errors).into());
        }
        let now = self.now_ms();
        let row = ReviewRow {
            incident_id: v.row.id,
            summary: input.summary.trim().into(),
            root_cause: input.root_cause.trim().into(),
            went_well: input.went_well.trim().into(),
            to_improve: input.to_improve.trim().into(),
            follow_ups: input.follow_ups.trim().into(),
            author: actor.name.clone(),
            updated_at_ms: now,
            version: 0,
        };
        let mut tx = self.store.begin().await?;
        let written = tx.put_review(&row, version).await.map_err(|e| match e {
            store::StoreError::Stale => {
                AppError::Conflict(format!("{number}'s review changed since it was read; reload it"))
            }
            e => e.into(),
        })?;
        let after = json!({"version": written, "summary_characters": row.summary.chars().count()}).to_string();
        tx.append_audit(event(actor, now, "incident.review", "incident", number, None, Some(after))).await?;
        tx.commit().await?;
        self.store.review(v.row.id).await?.ok_or_else(|| AppError::NotFound(format!("review of {number}")))
    }
}
