//! Problem use-cases: raise a problem for incidents (typically a recurrence), record its
//! analysis (symptom, root cause, contributing factors, five whys, workaround, fix), move
//! it through its states, and find the known errors that match a new incident.

use crate::audit::event;
use crate::{Actor, App, AppError, Result};
use model::problem::{self, Analysis, State};
use model::{Invalid, Perm};
use serde_json::json;
use store::{ActionRow, AnalysisWrite, ProblemRow};

#[derive(Debug, Clone)]
pub struct ProblemView {
    pub row: ProblemRow,
    pub five_whys: Vec<String>,
    pub incidents: Vec<String>,
    /// Corrective and preventive actions, oldest first.
    pub actions: Vec<ActionRow>,
}

/// The analysis as someone writes it; fields left `None` keep their value.
#[derive(Debug, Clone, Default)]
pub struct AnalysisInput {
    pub symptom: Option<String>,
    pub root_cause: Option<String>,
    pub contributing_factors: Option<String>,
    pub five_whys: Option<Vec<String>>,
    pub workaround: Option<String>,
    pub fix: Option<String>,
    pub close_code: Option<String>,
}

impl App {
    async fn problem_view(&self, row: ProblemRow) -> Result<ProblemView> {
        let incidents = self.store.problem_incidents(row.id).await?;
        let actions = self.store.problem_actions(row.id).await?;
        Ok(ProblemView { five_whys: serde_json::from_str(&row.five_whys).unwrap_or_default(), incidents, actions, row })
    }

    pub async fn problem(&self, actor: &Actor, number: &str) -> Result<ProblemView> {
        actor.require(Perm::IncidentRead)?;
        // Problems span sites: site-scoped accounts do not see them.
        if !actor.sites.is_empty() {
            return Err(AppError::NotFound(format!("problem `{number}`")));
        }
        let row = self.store.problem(number).await?.ok_or_else(|| AppError::NotFound(format!("problem `{number}`")))?;
        self.problem_view(row).await
    }

    pub async fn problems(&self, actor: &Actor) -> Result<Vec<ProblemView>> {
        actor.require(Perm::IncidentRead)?;
        if !actor.sites.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for row in self.store.problems().await? {
            out.push(self.problem_view(row).await?);
        }
        Ok(out)
    }

    /// Raises a problem for the incidents named (at least one).
    pub async fn raise_problem(
        &self,
        actor: &Actor,
        short_description: &str,
        incidents: &[String],
    ) -> Result<ProblemView> {
        actor.require(Perm::IncidentWork)?;
        let text = short_description.trim();
        if text.is_empty() || text.chars().count() > 160 {
            return Err(Invalid::one("short_description", "required, up to 160 characters").into());
        }
        if incidents.is_empty() {
            return Err(Invalid::one("incidents", "name the incidents it explains").into());
        }
        let mut ids = Vec::new();
        for n in incidents {
            match self.incident(actor, n).await {
                Ok(v) => ids.push(v.row.id),
                Err(AppError::NotFound(_)) => {
                    return Err(Invalid::one("incidents", format!("no incident `{n}`")).into());
                }
                Err(e) => return Err(e),
            }
        }
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let (id, number) = tx.insert_problem(text, &actor.name, now).await?;
        for incident in ids {
            tx.link_problem_incident(id, incident).await?;
        }
        let after = json!({"number": number, "short_description": text, "incidents": incidents});
        tx.append_audit(event(actor, now, "problem.raise", "problem", &number, None, Some(after.to_string()))).await?;
        tx.commit().await?;
        self.problem(actor, &number).await
    }

    /// Records analysis and, with `to`, moves the problem on (checked against what the new
    /// state needs, with the analysis as it will stand).
    pub async fn work_problem(
        &self,
        actor: &Actor,
        number: &str,
        input: AnalysisInput,
        to: Option<State>,
        version: Option<i64>,
    ) -> Result<ProblemView> {
        actor.require(Perm::IncidentWork)?;
        let current = self.problem(actor, number).await?;
        let r = &current.row;
        if version.is_some_and(|v| v != r.version) {
            return Err(AppError::Conflict(format!(
                "{number} changed since it was read (version {} now); reload it",
                r.version
            )));
        }
        let from = State::parse(&r.state).unwrap_or(State::New);
        let pick = |new: &Option<String>, old: &str| new.as_deref().map(str::trim).unwrap_or(old).to_owned();
        let analysis = Analysis {
            symptom: pick(&input.symptom, &r.symptom),
            root_cause: pick(&input.root_cause, &r.root_cause),
            workaround: pick(&input.workaround, &r.workaround),
            fix: pick(&input.fix, &r.fix),
            close_code: pick(&input.close_code, &r.close_code),
            open_corrective: current.actions.iter().filter(|a| a.kind == "corrective" && a.state == "open").count(),
        };
        let state = match to {
            Some(to) => {
                problem::check_move(from, to, &analysis)?;
                to
            }
            None if from == State::Closed => {
                return Err(Invalid::one("state", format!("{number} is closed; raise a new problem")).into());
            }
            None => from,
        };
        let whys = match &input.five_whys {
            Some(w) if w.len() > 10 => return Err(Invalid::one("five_whys", "at most ten whys").into()),
            Some(w) => serde_json::to_string(&w.iter().map(|s| s.trim()).collect::<Vec<_>>()).unwrap_or_default(),
            None => r.five_whys.clone(),
        };
        let factors = pick(&input.contributing_factors, &r.contributing_factors);
        let write = AnalysisWrite {
            symptom: &analysis.symptom,
            root_cause: &analysis.root_cause,
            contributing_factors: &factors,
            five_whys: &whys,
            workaround: &analysis.workaround,
            fix: &analysis.fix,
            close_code: &analysis.close_code,
            state: state.as_str(),
        };
        let now = self.now_ms();
        let doc = |state: &str, root: &str, workaround: &str| {
            json!({"state": state, "root_cause": root, "workaround": workaround}).to_string()
        };
        let mut tx = self.store.begin().await?;
        tx.update_problem(r.id, r.version, &write, now).await?;
        tx.append_audit(event(
            actor,
            now,
            "problem.update",
            "problem",
            number,
            Some(doc(&r.state, &r.root_cause, &r.workaround)),
            Some(doc(state.as_str(), &analysis.root_cause, &analysis.workaround)),
        ))
        .await?;
        tx.commit().await?;
        self.problem(actor, number).await
    }

    /// Adds a corrective or preventive action to a problem that is not closed. Audited.
    pub async fn add_problem_action(
        &self,
        actor: &Actor,
        number: &str,
        kind: &str,
        description: &str,
        owner: &str,
        due_on: &str,
    ) -> Result<ProblemView> {
        actor.require(Perm::IncidentWork)?;
        let p = self.problem(actor, number).await?;
        if p.row.state == State::Closed.as_str() {
            return Err(Invalid::one("state", format!("{number} is closed")).into());
        }
        let accounts = self.on_call_people().await?;
        let names: Vec<&str> = accounts.iter().map(String::as_str).collect();
        let now = self.now_ms();
        let today = model::kpi::day(now);
        let (owner, due_on) = (owner.trim(), due_on.trim());
        problem::check_action(kind, description, owner, due_on, &today, &names)?;
        let mut tx = self.store.begin().await?;
        let id = tx.insert_problem_action(p.row.id, kind, description.trim(), owner, due_on, &actor.name, now).await?;
        let after = json!({"id": id, "kind": kind, "owner": owner, "due_on": due_on}).to_string();
        tx.append_audit(event(actor, now, "problem.action", "problem", number, None, Some(after))).await?;
        tx.commit().await?;
        self.problem(actor, number).await
    }

    /// Marks an action done, with what came of it. Audited.
    pub async fn complete_problem_action(
        &self,
        actor: &Actor,
        number: &str,
        id: i64,
        note: &str,
    ) -> Result<ProblemView> {
        actor.require(Perm::IncidentWork)?;
        let p = self.problem(actor, number).await?;
        if note.trim().is_empty() || note.chars().count() > 2000 {
            return Err(Invalid::one("note", "what was done, up to 2000 characters").into());
        }
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        if !tx.complete_problem_action(p.row.id, id, note.trim(), now).await? {
            return Err(AppError::NotFound(format!("open action {id} of {number}")));
        }
        let after = json!({"id": id, "state": "done"}).to_string();
        tx.append_audit(event(actor, now, "problem.action-done", "problem", number, None, Some(after))).await?;
        tx.commit().await?;
        self.problem(actor, number).await
    }

    /// Known errors a new incident may match: open problems with a workaround whose
    /// incidents were on the same item (or, without an item, in the same category).
    pub async fn known_errors(&self, actor: &Actor, incident: &str) -> Result<Vec<ProblemView>> {
        let v = self.incident(actor, incident).await?;
        if !actor.sites.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for row in self.store.known_errors_for(v.row.item_id, &v.row.category).await? {
            out.push(self.problem_view(row).await?);
        }
        Ok(out)
    }
}
