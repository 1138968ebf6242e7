//! How incidents come to an end together and are confirmed: children gathered under a parent
//! (the reports of one outage under the incident that works it) are resolved with it; the
//! requester verifies a resolution — accepted, it closes with their satisfaction; rejected,
//! it reopens — and a resolution nobody answers closes by itself after [`AUTO_CLOSE_DAYS`].

use crate::audit::event;
use crate::incidents::{IncidentView, REOPEN_DAYS};
use crate::{Actor, App, AppError, Result};
use model::incident::{self, Linked, Move, State, Verification};
use model::{Invalid, Perm};
use serde_json::json;
use store::JournalEntry;

/// Days after which a resolved incident the requester has not answered is closed.
pub const AUTO_CLOSE_DAYS: i64 = REOPEN_DAYS;

fn linked(v: &IncidentView, children: usize) -> Linked<'_> {
    Linked { number: &v.row.number, state: v.state, parent: v.row.parent.as_deref(), children }
}

impl App {
    /// The children of an incident.
    pub async fn children(&self, actor: &Actor, number: &str) -> Result<Vec<store::IncidentRow>> {
        let v = self.incident(actor, number).await?;
        Ok(self.store.incident_children(v.row.id).await?)
    }

    /// Puts an incident under a parent, or (with `None`) takes it out. Journaled on both and
    /// audited.
    pub async fn set_parent(
        &self,
        actor: &Actor,
        number: &str,
        parent: Option<&str>,
        version: Option<i64>,
    ) -> Result<IncidentView> {
        actor.require(Perm::IncidentWork)?;
        let child = self.incident(actor, number).await?;
        if version.is_some_and(|v| v != child.row.version) {
            return Err(AppError::Conflict(format!("{number} changed since it was read; reload it")));
        }
        let own_children = self.store.incident_children(child.row.id).await?.len();
        let target = match parent.map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => {
                let pv = match self.incident(actor, p).await {
                    Ok(v) => v,
                    Err(AppError::NotFound(_)) => {
                        return Err(Invalid::one("parent", format!("no incident `{p}`")).into());
                    }
                    Err(e) => return Err(e),
                };
                let theirs = self.store.incident_children(pv.row.id).await?.len();
                incident::check_parent(&linked(&child, own_children), &linked(&pv, theirs))?;
                Some(pv)
            }
            None if child.row.parent.is_none() => {
                return Err(Invalid::one("parent", format!("{number} has no parent")).into());
            }
            None => None,
        };
        let before = child.row.parent.clone();
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.set_incident_parent(child.row.id, child.row.version, target.as_ref().map(|p| p.row.id), now).await?;
        let (text, other) = match (&target, &before) {
            (Some(p), _) => {
                (format!("Child of {}", p.row.number), Some((p.row.id, format!("{number} added as a child"))))
            }
            (None, Some(old)) => (format!("No longer a child of {old}"), None),
            (None, None) => (String::new(), None),
        };
        fn entry<'a>(incident_id: i64, at_ms: i64, actor: &'a str, text: &'a str) -> JournalEntry<'a> {
            JournalEntry { incident_id, at_ms, actor, kind: "link", state: None, hold_reason: None, text }
        }
        tx.append_journal(&entry(child.row.id, now, &actor.name, &text)).await?;
        if let Some((id, t)) = &other {
            tx.append_journal(&entry(*id, now, &actor.name, t)).await?;
        }
        let after = json!({"parent": target.as_ref().map(|p| &p.row.number)}).to_string();
        let before = json!({"parent": before}).to_string();
        tx.append_audit(event(actor, now, "incident.parent", "incident", number, Some(before), Some(after))).await?;
        tx.commit().await?;
        self.incident(actor, number).await
    }

    /// After a parent is resolved: its open children are resolved with its resolution code
    /// and notes, by the same person. Returns the children resolved.
    pub(crate) async fn resolve_children(&self, actor: &Actor, parent: &IncidentView) -> Result<Vec<String>> {
        let mut done = Vec::new();
        for c in self.store.incident_children(parent.row.id).await? {
            let state = State::parse(&c.state).unwrap_or(State::New);
            if state.is_terminal() || state == State::Resolved {
                continue;
            }
            let m = Move {
                resolution_code: parent.row.resolution_code.clone(),
                resolution_notes: format!("Resolved with {}: {}", parent.row.number, parent.row.resolution_notes),
                ..Move::default()
            };
            // The child may be at a site the actor does not see; the parent's resolver resolves it
            // as the system, in their name on the timeline.
            let system = Actor { name: actor.name.clone(), ..Actor::system() };
            // Boxed: resolving a child goes through the same move as its parent.
            Box::pin(self.move_incident(&system, &c.number, State::Resolved, m, None)).await?;
            done.push(c.number);
        }
        Ok(done)
    }

    /// The requester's verdict on a resolution, as they gave it (to the service desk, or
    /// themself when they have an account): accepted, the incident closes with their
    /// satisfaction; rejected, it reopens with what is still wrong.
    pub async fn verify(&self, actor: &Actor, number: &str, v: Verification) -> Result<IncidentView> {
        actor.require(Perm::IncidentWork)?;
        let current = self.incident(actor, number).await?;
        incident::check_verification(current.state, &v)?;
        let comment = v.comment.trim().to_owned();
        let (to, m) = if v.accepted {
            (State::Closed, Move { comment: comment.clone(), ..Move::default() })
        } else {
            (State::InProgress, Move { comment: comment.clone(), ..Move::default() })
        };
        // Reopening checks the reopen period; nothing is written when it has passed.
        incident::check_move(
            current.state,
            to,
            &m,
            self.now_ms(),
            current.row.resolved_at_ms,
            REOPEN_DAYS * 86_400_000,
        )?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.set_verification(current.row.id, v.satisfaction.map(i64::from), &actor.name).await?;
        if let (true, Some(score)) = (v.accepted, v.satisfaction) {
            let event = model::kpi::Event::Verified { satisfaction: score };
            self.count(&mut tx, &current.row, &current.journal, event, &actor.name, now).await?;
        }
        let text = match (v.accepted, v.satisfaction) {
            (true, Some(s)) => format!("The requester accepted the resolution (satisfaction {s}/5){}", tail(&comment)),
            _ => format!("The requester rejected the resolution: {comment}"),
        };
        let entry = JournalEntry {
            incident_id: current.row.id,
            at_ms: now,
            actor: &actor.name,
            kind: "verification",
            state: None,
            hold_reason: None,
            text: &text,
        };
        tx.append_journal(&entry).await?;
        let after = json!({"accepted": v.accepted, "satisfaction": v.satisfaction}).to_string();
        tx.append_audit(event(actor, now, "incident.verify", "incident", number, None, Some(after))).await?;
        tx.commit().await?;
        self.move_incident(actor, number, to, m, None).await
    }

    /// Closes resolved incidents nobody verified within [`AUTO_CLOSE_DAYS`]. Run by the desk.
    pub(crate) async fn auto_close(&self, limit: i64) -> Result<Vec<String>> {
        let before = self.now_ms() - AUTO_CLOSE_DAYS * 86_400_000;
        let system = Actor::system();
        let mut closed = Vec::new();
        for number in self.store.resolved_before(before, limit).await? {
            let m = Move {
                comment: format!("Closed: the requester did not answer within {AUTO_CLOSE_DAYS} days"),
                ..Move::default()
            };
            match self.move_incident(&system, &number, State::Closed, m, None).await {
                Ok(_) => closed.push(number),
                // Someone moved it meanwhile.
                Err(AppError::Conflict(_) | AppError::Invalid(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(closed)
    }
}

fn tail(comment: &str) -> String {
    if comment.is_empty() { String::new() } else { format!(": {comment}") }
}
