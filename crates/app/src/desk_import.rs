//! Migration in: incidents and problems from a ServiceNow or Jira Service Management CSV export, read
//! through a field mapping (`exchange::desk`), checked against the CMDB and the accounts, and
//! written all or nothing — or, as a dry run, only reported: every mistake by row and field,
//! what would be imported, what was imported before (re-importing an export adds nothing
//! twice), and what is imported with less than the export said (an unknown item or assignee,
//! a link to a record that is not here). Problems link to the incidents they explain either
//! way round: a problem export naming incidents already here, or an incident export naming
//! problems imported before (ServiceNow keeps the link on the incident: import problems first).

use crate::audit::event;
use crate::{Actor, App, Result};
use exchange::ImportError;
use exchange::desk::{self, IncidentRecord, Mapping, ProblemRecord, Source};
use model::Perm;
use serde_json::json;
use std::collections::HashMap;
use store::{ImportedIncident, ImportedProblem, RefTable};

/// What an import did (or, dry, would do).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DeskImportReport {
    pub rows: usize,
    /// Imported (or, dry, to import).
    pub imported: usize,
    /// Imported before, by their source reference.
    pub already: usize,
    /// Rows that do not read or break a rule: nothing is written while there is one.
    pub errors: Vec<String>,
    /// Imported with less than the export said.
    pub warnings: Vec<String>,
    /// The incidents written, by their new number and where they came from.
    pub numbers: Vec<(String, String)>,
    pub dry_run: bool,
}

impl DeskImportReport {
    /// What reading the export found: its rows, and every mistake.
    fn read(records: usize, errors: &[ImportError], dry_run: bool) -> DeskImportReport {
        DeskImportReport {
            rows: records + errors.iter().filter(|e| e.at.starts_with("row")).count(),
            errors: errors.iter().map(ImportError::to_string).collect(),
            dry_run,
            ..DeskImportReport::default()
        }
    }

    /// Whether nothing is written: a dry run, or an export with mistakes (of which nothing
    /// is imported).
    fn stops_here(&mut self) -> bool {
        if !self.errors.is_empty() {
            self.imported = 0;
        }
        self.dry_run || !self.errors.is_empty()
    }
}

impl App {
    /// Imports incidents from an export; `overrides` map fields to other columns, `tz` is
    /// the zone the export's times are written in.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_incidents(
        &self,
        actor: &Actor,
        file: &str,
        bytes: &[u8],
        source: Source,
        overrides: &[(String, String)],
        tz: &jiff::tz::TimeZone,
        dry_run: bool,
    ) -> Result<DeskImportReport> {
        actor.require(Perm::SystemAdmin)?;
        let mapping = Mapping::preset(source).with_overrides(overrides).map_err(|e| model::Invalid::one("map", e))?;
        let (records, errors) = desk::read_incidents(file, bytes, source, &mapping, tz);
        let mut report = DeskImportReport::read(records.len(), &errors, dry_run);
        let refs: Vec<String> = records.iter().map(|r| r.source_ref.clone()).collect();
        let before = self.store.imported_refs(&refs).await?;
        let fresh: Vec<&IncidentRecord> = records.iter().filter(|r| !before.contains(&r.source_ref)).collect();
        report.already = records.len() - fresh.len();
        // Items by name, accounts by name: what the export names and Watchkeeper does not know
        // is imported without it, and said.
        let items: HashMap<String, i64> =
            self.store.all_items().await?.into_iter().map(|i| (i.name.to_lowercase(), i.id)).collect();
        let accounts = self.on_call_people().await?;
        let problem_refs: Vec<String> = fresh.iter().filter_map(|r| r.problem.clone()).collect();
        let problems: HashMap<String, i64> =
            self.store.ids_by_ref(RefTable::Problems, &problem_refs).await?.into_iter().collect();
        let mut rows = Vec::with_capacity(fresh.len());
        let mut links = Vec::with_capacity(fresh.len());
        for r in &fresh {
            links.push(r.problem.as_ref().and_then(|p| {
                let id = problems.get(p).copied();
                if id.is_none() {
                    report.warnings.push(format!(
                        "{file}: row {}: problem `{p}` is not here; imported without the link (import problems first)",
                        r.row
                    ));
                }
                id
            }));
            let item_id = match &r.item {
                Some(name) => {
                    let id = items.get(&name.to_lowercase()).copied();
                    if id.is_none() {
                        report.warnings.push(format!(
                            "{file}: row {}: item `{name}` is not in the CMDB; imported without it",
                            r.row
                        ));
                    }
                    id
                }
                None => None,
            };
            let assignee = r.assignee.clone().filter(|a| {
                let known = accounts.contains(a);
                if !known {
                    report
                        .warnings
                        .push(format!("{file}: row {}: assignee `{a}` has no account; imported unassigned", r.row));
                }
                known
            });
            rows.push(record(r, item_id, assignee, &actor.name));
        }
        report.imported = rows.len();
        if report.stops_here() {
            return Ok(report);
        }
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let ids = tx.insert_imported_incidents(&rows, "itil").await?;
        for (incident, problem) in ids.iter().zip(&links) {
            if let Some(problem) = problem {
                tx.link_problem_incident(*problem, *incident).await?;
            }
        }
        // The dashboard's roll-ups count them on the days they happened.
        for r in &rows {
            tx.bump_rollups(&model::kpi::day(r.opened_at_ms), r.priority, &[("opened", 1)]).await?;
            if let Some(at) = r.resolved_at_ms {
                let took = at - r.opened_at_ms;
                tx.bump_rollups(&model::kpi::day(at), r.priority, &[("resolved", 1), ("resolution_ms", took)]).await?;
            }
        }
        let after =
            json!({"file": file, "source": format!("{source:?}"), "imported": rows.len(), "already": report.already,
                           "warnings": report.warnings.len()})
            .to_string();
        tx.append_audit(event(actor, now, "incident.import", "incidents", file, None, Some(after))).await?;
        tx.commit().await?;
        report.numbers = ids
            .iter()
            .zip(&rows)
            .map(|(id, r)| (format!("INC{id:07}"), r.source_ref.clone().unwrap_or_default()))
            .collect();
        // Their clocks, kept like every other open incident's.
        self.recompute_open_slas().await?;
        Ok(report)
    }
}

impl App {
    /// Imports problems from an export, linked to the incidents they name that are here.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_problems(
        &self,
        actor: &Actor,
        file: &str,
        bytes: &[u8],
        source: Source,
        overrides: &[(String, String)],
        tz: &jiff::tz::TimeZone,
        dry_run: bool,
    ) -> Result<DeskImportReport> {
        actor.require(Perm::SystemAdmin)?;
        let mapping =
            Mapping::problem_preset(source).with_overrides(overrides).map_err(|e| model::Invalid::one("map", e))?;
        let (records, errors) = desk::read_problems(file, bytes, &mapping, tz);
        let mut report = DeskImportReport::read(records.len(), &errors, dry_run);
        let refs: Vec<String> = records.iter().map(|r| r.source_ref.clone()).collect();
        let before = self.store.imported_problem_refs(&refs).await?;
        let fresh: Vec<&ProblemRecord> = records.iter().filter(|r| !before.contains(&r.source_ref)).collect();
        report.already = records.len() - fresh.len();
        let named: Vec<String> = fresh.iter().flat_map(|r| r.incidents.iter().cloned()).collect();
        let incidents: HashMap<String, i64> =
            self.store.ids_by_ref(RefTable::Incidents, &named).await?.into_iter().collect();
        let mut rows = Vec::with_capacity(fresh.len());
        for r in &fresh {
            if r.close_code_assumed {
                report
                    .warnings
                    .push(format!("{file}: row {}: closed without a close code; imported as fix-applied", r.row));
            }
            let mut linked = Vec::new();
            for i in &r.incidents {
                match incidents.get(i) {
                    Some(id) => linked.push(*id),
                    None => report.warnings.push(format!(
                        "{file}: row {}: incident `{i}` is not here; imported without the link (its incident import links it)",
                        r.row
                    )),
                }
            }
            rows.push((problem(r), linked));
        }
        report.imported = rows.len();
        if report.stops_here() {
            return Ok(report);
        }
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        for (p, linked) in &rows {
            let (id, number) = tx.insert_imported_problem(p).await?;
            for incident in linked {
                tx.link_problem_incident(id, *incident).await?;
            }
            report.numbers.push((number, p.source_ref.clone()));
        }
        let after =
            json!({"file": file, "source": format!("{source:?}"), "imported": rows.len(), "already": report.already,
                           "warnings": report.warnings.len()})
            .to_string();
        tx.append_audit(event(actor, now, "problem.import", "problems", file, None, Some(after))).await?;
        tx.commit().await?;
        Ok(report)
    }
}

fn problem(r: &ProblemRecord) -> ImportedProblem {
    ImportedProblem {
        source_ref: r.source_ref.clone(),
        short_description: r.short_description.clone(),
        state: r.state.clone(),
        symptom: r.symptom.clone(),
        root_cause: r.root_cause.clone(),
        workaround: r.workaround.clone(),
        fix: r.fix.clone(),
        close_code: r.close_code.clone(),
        opened_by: r.opened_by.clone(),
        opened_at_ms: r.opened_at,
    }
}

/// An export's record as Watchkeeper writes it: its own state and times, and a journal that
/// gives its clocks — opened, taken when it was opened (the export does not say when), then
/// resolved and closed when the export says.
fn record(r: &IncidentRecord, item_id: Option<i64>, assignee: Option<String>, actor: &str) -> ImportedIncident {
    let who = format!("import:{actor}");
    let mut journal = vec![(r.opened_at, who.clone(), "opened".to_owned(), Some("new".to_owned()))];
    let mut enter = |at: i64, state: &str| journal.push((at, who.clone(), "state".to_owned(), Some(state.to_owned())));
    match r.state.as_str() {
        "in-progress" => enter(r.opened_at, "in-progress"),
        "on-hold" => {
            enter(r.opened_at, "in-progress");
            enter(r.opened_at, "on-hold");
        }
        "resolved" | "closed" => {
            let resolved = r.resolved_at.unwrap_or(r.opened_at);
            enter(resolved, "resolved");
            if let Some(c) = r.closed_at {
                enter(c, "closed");
            }
        }
        "cancelled" => enter(r.closed_at.unwrap_or(r.opened_at), "cancelled"),
        _ => {}
    }
    ImportedIncident {
        number: String::new(),
        source_ref: Some(r.source_ref.clone()),
        short_description: r.short_description.clone(),
        description: r.description.clone(),
        caller: r.caller.clone(),
        category: if crate::incidents::CATEGORIES.contains(&r.category.as_str()) {
            r.category.clone()
        } else {
            "other".into()
        },
        item_id,
        impact: "medium".into(),
        urgency: "medium".into(),
        priority: i64::from(r.priority),
        state: r.state.clone(),
        assignment_group: r.assignment_group.clone(),
        assignee,
        resolution_code: r.resolution_code.clone(),
        resolution_notes: r.resolution_notes.clone(),
        opened_at_ms: r.opened_at,
        resolved_at_ms: r.resolved_at.filter(|_| matches!(r.state.as_str(), "resolved" | "closed")),
        closed_at_ms: r.closed_at,
        journal,
    }
}
