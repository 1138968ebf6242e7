//! Incident use-cases: open (priority from the impact × urgency matrix, or overridden with a
//! reason), read with both SLA clocks computed from the journal, list the open ones, and
//! move between states as `model::incident` allows — each change journaled and audited in
//! one transaction.
//!
//! Clocks: each incident's response and resolution clocks run on the tightest SLA policy of
//! the services it affects (`crate::slas`), recomputed and kept with every change.

use crate::audit::event;
use crate::slas::{self, AT_RISK_PERCENT};
use crate::{Actor, App, AppError, Result};
use model::calendar::Calendar;
use model::incident::{self, HoldReason, Move, PriorityMatrix, State};
use model::kpi;
use model::sla::{self, SlaState};
use model::{FieldError, Invalid, Perm};
use serde_json::json;
use std::collections::HashMap;
use store::{
    IncidentRow, IncidentServiceRow, IncidentSlaRow, JournalEntry, JournalRow, NewIncident, PriorityWrite, StateWrite,
    TimelineRow,
};

/// Which incidents a queue holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueName {
    #[default]
    Open,
    Mine,
    /// Assigned to one of the actor's groups.
    MyGroups,
    Unassigned,
    /// A running clock at 75 % of its target or past it.
    Breaching,
    /// Major incidents under way.
    Major,
    /// Every incident, newest first.
    All,
}

impl QueueName {
    pub const ALL: [QueueName; 7] = [
        QueueName::Open,
        QueueName::Mine,
        QueueName::MyGroups,
        QueueName::Unassigned,
        QueueName::Breaching,
        QueueName::Major,
        QueueName::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Open => "open",
            QueueName::Mine => "mine",
            QueueName::MyGroups => "my-groups",
            QueueName::Unassigned => "unassigned",
            QueueName::Breaching => "breaching",
            QueueName::Major => "major",
            QueueName::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<QueueName> {
        QueueName::ALL.into_iter().find(|q| q.as_str() == s)
    }
}

/// A queue as asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queue {
    pub name: QueueName,
    pub priority: Option<i64>,
    pub search: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Only incidents assigned to this group.
    pub group: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// The query parameters that say which incidents a queue shows (a saved filter keeps these).
pub const QUEUE_VIEW_KEYS: [&str; 6] = ["queue", "all", "q", "priority", "category", "group"];

impl Queue {
    /// Reads a queue from query parameters — the view's (`QUEUE_VIEW_KEYS`) and `limit`
    /// (1–500) and `offset` — every wrong or unknown one named. Empty values mean "any".
    pub fn from_query(pairs: &[(String, String)]) -> Result<Queue, Invalid> {
        let mut q = Queue { limit: 100, ..Queue::default() };
        let mut bad = Vec::new();
        for (k, v) in pairs {
            let v = v.trim();
            match (k.as_str(), v) {
                (_, "") => {}
                ("all", "true" | "1") => q.name = QueueName::All,
                ("all", "false" | "0") => {}
                ("all", _) => bad.push(FieldError::new("all", "true or false")),
                ("queue", name) => match QueueName::parse(name) {
                    Some(n) => q.name = n,
                    None => {
                        bad.push(FieldError::new("queue", "open, mine, my-groups, unassigned, breaching, major or all"))
                    }
                },
                ("q", words) => q.search = Some(words.to_owned()),
                ("priority", p) => {
                    match p.trim_start_matches(['P', 'p']).parse().ok().filter(|p| (1..=5).contains(p)) {
                        Some(p) => q.priority = Some(p),
                        None => bad.push(FieldError::new("priority", "1 to 5")),
                    }
                }
                ("category", c) if CATEGORIES.contains(&c) => q.category = Some(c.to_owned()),
                ("category", _) => bad.push(FieldError::new("category", format!("one of {}", CATEGORIES.join(", ")))),
                ("group", g) if g.chars().count() <= 80 => q.group = Some(g.to_owned()),
                ("group", _) => bad.push(FieldError::new("group", "an assignment group's name, up to 80 characters")),
                ("limit", n) => match n.parse().ok().filter(|n| (1..=500).contains(n)) {
                    Some(n) => q.limit = n,
                    None => bad.push(FieldError::new("limit", "1 to 500")),
                },
                ("offset", n) => match n.parse().ok().filter(|n: &i64| *n >= 0) {
                    Some(n) => q.offset = n,
                    None => bad.push(FieldError::new("offset", "0 or more")),
                },
                (k, _) => bad.push(FieldError::new(
                    k,
                    "not a queue parameter; use queue, q, priority, category, group, limit, offset (and all=true)",
                )),
            }
        }
        if bad.is_empty() { Ok(q) } else { Err(Invalid(bad)) }
    }

    /// The view's parameters in one canonical order, without paging: what a link to this
    /// queue, or a saved filter, carries.
    pub fn view_query(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![("queue", self.name.as_str().to_owned())];
        if let Some(s) = &self.search {
            p.push(("q", s.clone()));
        }
        if let Some(pr) = self.priority {
            p.push(("priority", pr.to_string()));
        }
        if let Some(c) = &self.category {
            p.push(("category", c.clone()));
        }
        if let Some(g) = &self.group {
            p.push(("group", g.clone()));
        }
        p
    }
}

/// What an incident may be about.
pub const CATEGORIES: &[&str] =
    &["network", "security", "server", "ot", "voice-vtc", "crypto", "application", "facilities", "other"];

/// What a queue's bulk action does to each incident chosen.
#[derive(Debug, Clone)]
pub enum BulkAction {
    /// Hand them to a group (and a person in it).
    Assign { group: String, assignee: Option<String> },
    /// Move them to a state, with what the move needs.
    Move { to: State, how: Move },
    /// The same work note or comment on each.
    Note { text: String, visible: bool },
}

/// What a bulk action did: the incidents changed, and those refused with why.
#[derive(Debug, Default)]
pub struct BulkOutcome {
    pub updated: Vec<String>,
    pub refused: Vec<(String, AppError)>,
}

/// Incidents one bulk action may change.
pub const BULK_MAX: usize = 200;

/// Days within which a resolved incident may be reopened.
pub const REOPEN_DAYS: i64 = 7;

/// An incident as someone opens it.
#[derive(Debug, Clone, Default)]
pub struct OpenIncident {
    pub short_description: String,
    pub description: String,
    pub caller: String,
    pub category: String,
    pub subcategory: String,
    /// The configuration item: `name`, `site/name` or `#id`.
    pub item: Option<String>,
    pub impact: String,
    pub urgency: String,
    /// A priority over the matrix's, with the reason.
    pub priority: Option<u8>,
    pub priority_reason: String,
    pub assignment_group: String,
}

/// One SLA clock of an incident.
#[derive(Debug, Clone)]
pub struct Clock {
    /// `P1 resolution`.
    pub name: String,
    /// The SLA policy the target came from.
    pub policy: String,
    pub target_ms: i64,
    /// `24x7`, or `office (ZONE)`.
    pub calendar: String,
    pub state: SlaState,
}

#[derive(Debug, Clone)]
pub struct IncidentView {
    pub row: IncidentRow,
    pub state: State,
    /// Services the item's failure takes down or degrades, from the CMDB's impact analysis
    /// (computed, not typed; read for one incident, empty in lists).
    pub impacted: Vec<crate::cmdb::ServiceVerdict>,
    /// The services it affected when it was opened, as kept (their policies set its SLA).
    pub services: Vec<IncidentServiceRow>,
    /// Response and resolution; none for P5.
    pub clocks: Vec<Clock>,
    /// The clocks' definitions as attached (policy, target, calendar).
    pub slas: Vec<IncidentSlaRow>,
    /// Its children's numbers (read for one incident, empty in lists).
    pub children: Vec<String>,
    pub journal: Vec<JournalRow>,
    /// The id of the journal's latest entry (read for one incident): where its live
    /// timeline resumes.
    pub journal_cursor: i64,
}

impl IncidentView {
    /// Whether a clock still counts against the incident at [`AT_RISK_PERCENT`] of its
    /// target or past it: the "breaching soon" queue and the dashboard's SLA tile.
    pub fn at_risk(&self) -> bool {
        self.clocks.iter().any(|c| {
            c.state.ended_at.is_none()
                && matches!(c.state.stage, sla::Stage::Running | sla::Stage::Breached)
                && c.state.percent >= AT_RISK_PERCENT
        })
    }
}

/// What a change writes besides its own row: the journal entry, the audit record, and the
/// clocks recomputed with the entry (`row` as it stands after the change, its clocks'
/// definitions and its journal before the entry).
struct Record<'a> {
    entry: JournalEntry<'a>,
    action: &'a str,
    number: &'a str,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
    row: IncidentRow,
    slas: Vec<IncidentSlaRow>,
    journal: Vec<JournalRow>,
}

impl<'a> Record<'a> {
    /// A change to an incident as read in `current`, its clocks staying on their definitions.
    fn on(current: &IncidentView, entry: JournalEntry<'a>, action: &'a str, number: &'a str) -> Record<'a> {
        Record {
            entry,
            action,
            number,
            before: None,
            after: serde_json::Value::Null,
            row: current.row.clone(),
            slas: current.slas.clone(),
            journal: current.journal.clone(),
        }
    }
}

impl App {
    /// Writes a change's journal entry, audit record and recomputed clocks in its transaction,
    /// commits, and reads the incident back as the actor sees it.
    async fn finish(&self, mut tx: store::Tx, actor: &Actor, mut r: Record<'_>) -> Result<IncidentView> {
        tx.append_journal(&r.entry).await?;
        let (before, after) = (r.before.map(|b| b.to_string()), Some(r.after.to_string()));
        tx.append_audit(event(actor, r.entry.at_ms, r.action, "incident", r.number, before, after)).await?;
        let e = &r.entry;
        r.journal.push(JournalRow {
            at_ms: e.at_ms,
            actor: e.actor.into(),
            kind: e.kind.into(),
            state: e.state.map(Into::into),
            hold_reason: e.hold_reason.map(Into::into),
            text: e.text.into(),
        });
        let cals = self.load_calendars().await?;
        let mut resolution_met = None;
        for (clock, kept) in slas::compute(&r.row, &r.slas, &r.journal, e.at_ms, &cals) {
            if kept.kind == "resolution" {
                resolution_met = match clock.state.stage {
                    sla::Stage::Achieved => Some(true),
                    sla::Stage::Breached => Some(false),
                    _ => None,
                };
            }
            tx.put_incident_sla(&kept).await?;
        }
        let event = match (e.kind, e.state) {
            ("opened", _) => Some(kpi::Event::Opened),
            ("state", Some(state)) => Some(kpi::Event::Entered { state, resolution_met }),
            _ => None,
        };
        if let Some(event) = event {
            let prior = &r.journal[..r.journal.len() - 1];
            self.count(&mut tx, &r.row, prior, event, e.actor, e.at_ms).await?;
        }
        tx.commit().await?;
        self.incident(actor, r.number).await
    }

    /// Adds what an event contributes to the dashboard's roll-ups, in its transaction.
    pub(crate) async fn count(
        &self,
        tx: &mut store::Tx,
        row: &IncidentRow,
        prior: &[JournalRow],
        event: kpi::Event<'_>,
        actor: &str,
        at: i64,
    ) -> Result<()> {
        let past: Vec<kpi::Past<'_>> = prior
            .iter()
            .map(|j| kpi::Past { at: j.at_ms, actor: &j.actor, kind: &j.kind, state: j.state.as_deref() })
            .collect();
        let adds: Vec<(&str, i64)> = kpi::contribution(row.opened_at_ms, &past, event, actor, at)
            .into_iter()
            .map(|(c, n)| (c.column(), n))
            .collect();
        if !adds.is_empty() {
            tx.bump_rollups(&kpi::day(at), row.priority, &adds).await?;
        }
        Ok(())
    }

    /// Whether `actor` may see an incident: site-scoped actors see those on their sites' items.
    fn incident_visible(actor: &Actor, row: &IncidentRow) -> bool {
        actor.sites.is_empty() || row.site.as_ref().is_some_and(|s| actor.sites.contains(s))
    }

    /// Incidents as read with their clocks at now: three queries for the page, whatever its
    /// length (stored definitions, state histories, services).
    async fn views(&self, rows: Vec<IncidentRow>) -> Result<Vec<IncidentView>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let cals = self.load_calendars().await?;
        let mut slas: HashMap<i64, Vec<IncidentSlaRow>> = HashMap::new();
        for s in self.store.incident_slas(&ids).await? {
            slas.entry(s.incident_id).or_default().push(s);
        }
        let mut histories: HashMap<i64, Vec<JournalRow>> = HashMap::new();
        for (id, j) in self.store.incident_state_histories(&ids).await? {
            histories.entry(id).or_default().push(j);
        }
        let mut services: HashMap<i64, Vec<IncidentServiceRow>> = HashMap::new();
        for s in self.store.incident_services(&ids).await? {
            services.entry(s.incident_id).or_default().push(s);
        }
        let now = self.now_ms();
        Ok(rows
            .into_iter()
            .map(|row| {
                let stored = slas.remove(&row.id).unwrap_or_default();
                let defs = slas::definitions(&row, &stored, &cals);
                let journal = histories.remove(&row.id).unwrap_or_default();
                let (clocks, slas) = slas::compute(&row, &defs, &journal, now, &cals).into_iter().unzip();
                IncidentView {
                    state: State::parse(&row.state).unwrap_or(State::New),
                    services: services.remove(&row.id).unwrap_or_default(),
                    impacted: Vec::new(),
                    clocks,
                    slas,
                    journal,
                    row,
                    children: Vec::new(),
                    journal_cursor: 0,
                }
            })
            .collect())
    }

    pub async fn incident(&self, actor: &Actor, number: &str) -> Result<IncidentView> {
        actor.require(Perm::IncidentRead)?;
        match self.store.incident(number).await? {
            Some(row) if Self::incident_visible(actor, &row) => {
                let id = row.id;
                let mut v = self.views(vec![row]).await?.pop().expect("one row, one view");
                // The whole journal, not only the state entries the clocks need.
                let timeline = self.store.incident_journal(id).await?;
                v.journal_cursor = timeline.iter().map(|t| t.id).max().unwrap_or(0);
                v.journal = timeline.into_iter().map(|t| t.entry).collect();
                v.children = self.store.incident_children(id).await?.into_iter().map(|c| c.number).collect();
                if let Some(item_id) = v.row.item_id {
                    let report = self.impact(actor, &[format!("#{item_id}")]).await?;
                    v.impacted = report.services.into_iter().filter(|s| s.status != "unaffected").collect();
                }
                Ok(v)
            }
            _ => Err(AppError::NotFound(format!("incident `{number}`"))),
        }
    }

    /// Opens an incident's live timeline: checks the actor may see the incident and returns
    /// its id with the latest journal entry's id, where following starts when the reader
    /// names no entry of its own.
    pub async fn follow_incident(&self, actor: &Actor, number: &str) -> Result<(i64, i64)> {
        actor.require(Perm::IncidentRead)?;
        match self.store.incident(number).await? {
            Some(row) if Self::incident_visible(actor, &row) => {
                Ok((row.id, self.store.incident_journal_cursor(row.id).await?))
            }
            _ => Err(AppError::NotFound(format!("incident `{number}`"))),
        }
    }

    /// The journal entries of an incident (opened with [`App::follow_incident`]) written
    /// after the entry `after`, as written, at most 100: what a live timeline sends next.
    pub async fn incident_timeline(&self, actor: &Actor, incident_id: i64, after: i64) -> Result<Vec<TimelineRow>> {
        actor.require(Perm::IncidentRead)?;
        Ok(self.store.incident_journal_after(incident_id, after, 100).await?)
    }

    /// Open incidents (all with `all`), most urgent and oldest first, at most 500. Journals
    /// hold only the state entries the clocks are computed from.
    pub async fn incidents(&self, actor: &Actor, all: bool) -> Result<Vec<IncidentView>> {
        let q = Queue { name: if all { QueueName::All } else { QueueName::Open }, limit: 500, ..Queue::default() };
        self.incident_queue(actor, &q).await
    }

    /// A queue of incidents as the actor may see them: the open ones (most urgent and oldest
    /// first), theirs, unassigned, breaching soon, majors, or all (newest first), narrowed by
    /// priority and by words searched in the full-text index.
    pub async fn incident_queue(&self, actor: &Actor, q: &Queue) -> Result<Vec<IncidentView>> {
        actor.require(Perm::IncidentRead)?;
        let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if search.is_some_and(|s| store::search_terms(s).is_none()) {
            return Err(Invalid::one("q", "search for words or numbers").into());
        }
        let groups = if q.name == QueueName::MyGroups { self.store.groups_of(&actor.name).await? } else { Vec::new() };
        if q.name == QueueName::MyGroups && groups.is_empty() {
            return Ok(Vec::new());
        }
        let f = store::QueueFilter {
            open_only: q.name != QueueName::All,
            groups: &groups,
            assignee: (q.name == QueueName::Mine).then_some(actor.name.as_str()),
            unassigned: q.name == QueueName::Unassigned,
            major: q.name == QueueName::Major,
            at_risk_by: (q.name == QueueName::Breaching).then(|| self.now_ms()),
            priority: q.priority,
            category: q.category.as_deref(),
            group: q.group.as_deref(),
            search,
            sites: &actor.sites,
            limit: q.limit.clamp(1, 500),
            offset: q.offset.max(0),
        };
        let rows = self.store.incident_queue(&f).await?;
        self.views(rows.into_iter().filter(|r| Self::incident_visible(actor, r)).collect()).await
    }

    pub async fn open_incident(&self, actor: &Actor, input: OpenIncident) -> Result<IncidentView> {
        actor.require(Perm::IncidentWork)?;
        let matrix = self.current_matrix().await?;
        let mut errors = Vec::new();
        let text = |v: &str| v.trim().to_owned();
        if text(&input.short_description).is_empty() || input.short_description.chars().count() > 160 {
            errors.push(FieldError::new("short_description", "required, up to 160 characters"));
        }
        if text(&input.caller).is_empty() {
            errors.push(FieldError::new("caller", "who reported it"));
        }
        if !CATEGORIES.contains(&input.category.as_str()) {
            errors.push(FieldError::new("category", format!("one of {}", CATEGORIES.join(", "))));
        }
        let computed = match matrix.priority(&input.impact, &input.urgency) {
            Ok(p) => Some(p),
            Err(Invalid(e)) => {
                errors.extend(e);
                None
            }
        };
        let priority = match (computed, input.priority) {
            (Some(c), Some(chosen)) => match incident::check_override(c, chosen, &input.priority_reason) {
                Ok(()) => Some(chosen),
                Err(Invalid(e)) => {
                    errors.extend(e);
                    None
                }
            },
            (c, _) => c,
        };
        let item = match input.item.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(reference) => match self.resolve_item(actor, reference).await {
                Ok(i) => Some(i),
                Err(AppError::NotFound(_)) => {
                    errors.push(FieldError::new("item", format!("no configuration item `{reference}`")));
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        if !actor.sites.is_empty()
            && item.as_ref().and_then(|i| i.site.as_ref()).is_none_or(|s| !actor.sites.contains(s))
        {
            errors.push(FieldError::new("item", "name an item at one of your sites"));
        }
        let Some(priority) = priority.filter(|_| errors.is_empty()) else { return Err(Invalid(errors).into()) };
        let now = self.now_ms();
        let reason = if Some(priority) == computed { String::new() } else { text(&input.priority_reason) };
        let new = NewIncident {
            short_description: input.short_description.trim(),
            description: input.description.trim(),
            caller: input.caller.trim(),
            category: &input.category,
            subcategory: input.subcategory.trim(),
            item_id: item.as_ref().map(|i| i.id),
            impact: &input.impact,
            urgency: &input.urgency,
            priority: i64::from(priority),
            matrix: &matrix.name,
            matrix_version: i64::from(matrix.version),
            priority_reason: &reason,
            assignment_group: input.assignment_group.trim(),
        };
        let mut tx = self.store.begin().await?;
        let (id, number) = tx.insert_incident(&new, now).await?;
        let opened = JournalEntry {
            incident_id: id,
            at_ms: now,
            actor: &actor.name,
            kind: "opened",
            state: Some(State::New.as_str()),
            hold_reason: None,
            text: new.short_description,
        };
        let after = json!({
            "number": number, "short_description": new.short_description, "caller": new.caller,
            "category": new.category, "item": item.as_ref().map(|i| &i.name), "impact": new.impact,
            "urgency": new.urgency, "priority": priority, "computed_priority": computed,
            "priority_reason": reason, "matrix": format!("{} v{}", matrix.name, matrix.version),
        });
        let services = match &item {
            Some(i) => self.services_affected(i.id).await?,
            None => Vec::new(),
        };
        tx.insert_incident_services(id, &services).await?;
        let today = kpi::day(now);
        tx.bump_count(&today, "category", new.category).await?;
        if let Some(i) = &item {
            tx.bump_count(&today, "item", &i.name).await?;
        }
        for (_, name, _) in &services {
            tx.bump_count(&today, "service", name).await?;
        }
        let service_ids: Vec<i64> = services.iter().map(|s| s.0).collect();
        let policies = self.policies_for(&service_ids).await?;
        let site = item.as_ref().and_then(|i| i.site.clone());
        let time_zone = match &site {
            Some(slug) => self.store.all_sites().await?.into_iter().find(|s| &s.slug == slug).map(|s| s.time_zone),
            None => None,
        };
        let row =
            IncidentRow { id, priority: i64::from(priority), opened_at_ms: now, site, time_zone, ..Default::default() };
        let cals = self.load_calendars().await?;
        let slas = slas::attach(&row, &policies, &cals, &[]);
        let record = Record {
            entry: opened,
            action: "incident.open",
            number: &number,
            before: None,
            after,
            row,
            slas,
            journal: Vec::new(),
        };
        let opened = self.finish(tx, actor, record).await?;
        self.escalate_opened(&opened.row.number, opened.row.priority).await;
        // Read again: a functional rule may have handed it on.
        self.incident(actor, &opened.row.number).await
    }

    /// Moves an incident to another state. `version`, when given, must be the version read
    /// (someone else's change in between is a conflict, not an overwrite).
    pub async fn move_incident(
        &self,
        actor: &Actor,
        number: &str,
        to: State,
        m: Move,
        version: Option<i64>,
    ) -> Result<IncidentView> {
        actor.require(Perm::IncidentWork)?;
        let current = self.incident(actor, number).await?;
        let row = &current.row;
        if version.is_some_and(|v| v != row.version) {
            return Err(AppError::Conflict(format!(
                "{number} changed since it was read (version {} now); reload it",
                row.version
            )));
        }
        let now = self.now_ms();
        incident::check_move(current.state, to, &m, now, row.resolved_at_ms, REOPEN_DAYS * 86_400_000)?;
        let hold = (to == State::OnHold).then_some(m.hold_reason).flatten();
        let (code, notes, resolved_at) = match to {
            State::Resolved => (m.resolution_code.trim(), m.resolution_notes.trim(), Some(now)),
            State::Closed => (row.resolution_code.as_str(), row.resolution_notes.as_str(), row.resolved_at_ms),
            _ => ("", "", None),
        };
        // Taking it: whoever moves it to In Progress owns it unless someone already does.
        let assignee = (to == State::InProgress && row.assignee.is_none()).then_some(actor.name.as_str());
        let write = StateWrite {
            state: to.as_str(),
            hold_reason: hold.map(HoldReason::as_str),
            resolution_code: code,
            resolution_notes: notes,
            resolved_at_ms: resolved_at,
            assignee,
        };
        let note = [m.comment.trim(), m.resolution_notes.trim(), m.cancel_reason.trim()]
            .into_iter()
            .find(|t| !t.is_empty())
            .unwrap_or_default();
        let mut tx = self.store.begin().await?;
        tx.update_incident_state(row.id, row.version, &write, now).await?;
        let entry = JournalEntry {
            incident_id: row.id,
            at_ms: now,
            actor: &actor.name,
            kind: "state",
            state: Some(to.as_str()),
            hold_reason: write.hold_reason,
            text: note,
        };
        let before = json!({"state": current.state.as_str(), "hold_reason": row.hold_reason});
        let after = json!({"state": to.as_str(), "hold_reason": write.hold_reason, "resolution_code": code});
        let mut record = Record::on(&current, entry, "incident.state", number);
        (record.before, record.after) = (Some(before), after);
        let moved = self.finish(tx, actor, record).await?;
        if to == State::Resolved && !self.resolve_children(actor, &moved).await?.is_empty() {
            return self.incident(actor, number).await;
        }
        Ok(moved)
    }

    /// The incident for a change: visible, still at `version` when one is given, and not
    /// closed or cancelled.
    async fn for_change(&self, actor: &Actor, number: &str, version: Option<i64>) -> Result<IncidentView> {
        actor.require(Perm::IncidentWork)?;
        let current = self.incident(actor, number).await?;
        if version.is_some_and(|v| v != current.row.version) {
            return Err(AppError::Conflict(format!(
                "{number} changed since it was read (version {} now); reload it",
                current.row.version
            )));
        }
        if current.state.is_terminal() {
            return Err(Invalid::one("state", format!("{number} is {}; open a new incident", current.state)).into());
        }
        Ok(current)
    }

    /// The assignment groups `username` belongs to.
    pub async fn groups_of(&self, actor: &Actor, username: &str) -> Result<Vec<String>> {
        actor.require(Perm::UserAdmin)?;
        Ok(self.store.groups_of(username).await?)
    }

    /// Puts an account in these assignment groups (replacing its groups). Audited.
    pub async fn set_groups(&self, actor: &Actor, username: &str, groups: &[String]) -> Result<Vec<String>> {
        actor.require(Perm::UserAdmin)?;
        let mut clean: Vec<String> = groups.iter().map(|g| g.trim().to_owned()).filter(|g| !g.is_empty()).collect();
        clean.sort();
        clean.dedup();
        if clean.len() > 50 || clean.iter().any(|g| g.chars().count() > 64) {
            return Err(Invalid::one("groups", "up to 50 groups of up to 64 characters").into());
        }
        let Some(user) = self.store.user_by_name(username).await? else {
            return Err(AppError::NotFound(format!("account `{username}`")));
        };
        let before = self.store.groups_of(username).await?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.set_user_groups(user.user.id, &clean).await?;
        let doc = |g: &[String]| json!({ "groups": g }).to_string();
        tx.append_audit(event(actor, now, "user.groups", "user", username, Some(doc(&before)), Some(doc(&clean))))
            .await?;
        tx.commit().await?;
        Ok(clean)
    }

    /// Does one action to many incidents, as a queue's bulk action: each incident changes in
    /// its own transaction with its own journal entry and audit record — exactly as if it had
    /// been changed alone — and one that cannot (a move its state does not allow, someone
    /// else's site) is reported with why, without stopping the others. The action is checked
    /// before any incident is touched, so a mistake in it changes nothing.
    pub async fn bulk_update(&self, actor: &Actor, numbers: &[String], action: &BulkAction) -> Result<BulkOutcome> {
        actor.require(Perm::IncidentWork)?;
        let mut wanted: Vec<&str> = Vec::new();
        for n in numbers.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            if !wanted.contains(&n) {
                wanted.push(n);
            }
        }
        if wanted.is_empty() {
            return Err(Invalid::one("numbers", "choose at least one incident").into());
        }
        if wanted.len() > BULK_MAX {
            return Err(
                Invalid::one("numbers", format!("{} incidents; at most {BULK_MAX} at a time", wanted.len())).into()
            );
        }
        match action {
            BulkAction::Assign { group, .. } if group.trim().is_empty() => {
                return Err(Invalid::one("group", "name the assignment group").into());
            }
            BulkAction::Note { text, .. } if text.trim().is_empty() || text.chars().count() > 20_000 => {
                return Err(Invalid::one("text", "write something, up to 20,000 characters").into());
            }
            _ => {}
        }
        let mut out = BulkOutcome::default();
        for number in wanted {
            let done = match action {
                BulkAction::Assign { group, assignee } => {
                    self.assign_incident(actor, number, group, assignee.as_deref(), None).await
                }
                BulkAction::Move { to, how } => self.move_incident(actor, number, *to, how.clone(), None).await,
                BulkAction::Note { text, visible } => self.add_note(actor, number, text, *visible).await,
            };
            match done {
                Ok(v) => out.updated.push(v.row.number),
                // The database failing is not about this incident: stop, and say so.
                Err(e @ (AppError::Store(_) | AppError::Internal(_))) => return Err(e),
                Err(e) => out.refused.push((number.to_owned(), e)),
            }
        }
        Ok(out)
    }

    /// A work note (for the team) or a comment (the requester sees it) on the timeline.
    pub async fn add_note(&self, actor: &Actor, number: &str, text: &str, visible: bool) -> Result<IncidentView> {
        actor.require(Perm::IncidentWork)?;
        let current = self.incident(actor, number).await?;
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 20_000 {
            return Err(Invalid::one("text", "write something, up to 20,000 characters").into());
        }
        let now = self.now_ms();
        let kind = if visible { "comment" } else { "work-note" };
        let mut tx = self.store.begin().await?;
        tx.touch_incident(current.row.id, now).await?;
        let entry = JournalEntry {
            incident_id: current.row.id,
            at_ms: now,
            actor: &actor.name,
            kind,
            state: None,
            hold_reason: None,
            text,
        };
        let after = json!({ "kind": kind, "characters": text.chars().count() });
        let action = format!("incident.{kind}");
        let mut record = Record::on(&current, entry, &action, number);
        record.after = after;
        self.finish(tx, actor, record).await
    }

    /// Hands the incident to a group (and a person in it, or nobody yet).
    pub async fn assign_incident(
        &self,
        actor: &Actor,
        number: &str,
        group: &str,
        assignee: Option<&str>,
        version: Option<i64>,
    ) -> Result<IncidentView> {
        let current = self.for_change(actor, number, version).await?;
        let row = &current.row;
        let group = group.trim();
        let assignee = assignee.map(str::trim).filter(|a| !a.is_empty());
        if group.is_empty() {
            return Err(Invalid::one(
                "group",
                "the assignment group: service desk, L2, L3 network, L3 security, a vendor…",
            )
            .into());
        }
        if let Some(a) = assignee
            && self.store.user_by_name(a).await?.is_none()
        {
            return Err(Invalid::one("assignee", format!("no account `{a}`")).into());
        }
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.update_incident_assignment(row.id, row.version, group, assignee, now).await?;
        let text = format!("{group}{}", assignee.map(|a| format!(" / {a}")).unwrap_or_default());
        let entry = JournalEntry {
            incident_id: row.id,
            at_ms: now,
            actor: &actor.name,
            kind: "assigned",
            state: None,
            hold_reason: None,
            text: &text,
        };
        let before = json!({"group": row.assignment_group, "assignee": row.assignee});
        let after = json!({"group": group, "assignee": assignee});
        let mut record = Record::on(&current, entry, "incident.assign", number);
        (record.before, record.after) = (Some(before), after);
        self.finish(tx, actor, record).await
    }

    /// New impact and urgency (and an override with its reason): the priority and with it the
    /// SLA targets change, and the audit record keeps the deadlines before and after.
    #[allow(clippy::too_many_arguments)]
    pub async fn reprioritise(
        &self,
        actor: &Actor,
        number: &str,
        impact: &str,
        urgency: &str,
        priority: Option<u8>,
        reason: &str,
        version: Option<i64>,
    ) -> Result<IncidentView> {
        let current = self.for_change(actor, number, version).await?;
        let row = &current.row;
        let matrix = self.current_matrix().await?;
        let computed = matrix.priority(impact, urgency)?;
        let chosen = priority.unwrap_or(computed);
        incident::check_override(computed, chosen, reason)?;
        if chosen == row.priority as u8 && impact == row.impact && urgency == row.urgency {
            return Err(Invalid::one("priority", format!("{number} is P{chosen} already")).into());
        }
        let reason = if chosen == computed { "" } else { reason.trim() };
        let now = self.now_ms();
        let write = PriorityWrite {
            impact,
            urgency,
            priority: i64::from(chosen),
            matrix: &matrix.name,
            matrix_version: i64::from(matrix.version),
            reason,
        };
        let deadlines = |clocks: &[Clock]| -> serde_json::Value {
            clocks
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        json!({"policy": c.policy, "target_ms": c.target_ms, "deadline": c.state.deadline}),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        // The clocks attach again, to the new priority's targets of the same services' policies.
        let mut changed = row.clone();
        changed.priority = i64::from(chosen);
        let service_ids: Vec<i64> = current.services.iter().map(|s| s.service_id).collect();
        let policies = self.policies_for(&service_ids).await?;
        let cals = self.load_calendars().await?;
        let slas = slas::attach(&changed, &policies, &cals, &current.slas);
        let after_clocks: Vec<Clock> =
            slas::compute(&changed, &slas, &current.journal, now, &cals).into_iter().map(|c| c.0).collect();
        let mut tx = self.store.begin().await?;
        tx.update_incident_priority(row.id, row.version, &write, now).await?;
        let text = format!(
            "P{} → P{chosen}{}",
            row.priority,
            if reason.is_empty() { String::new() } else { format!(": {reason}") }
        );
        let entry = JournalEntry {
            incident_id: row.id,
            at_ms: now,
            actor: &actor.name,
            kind: "priority",
            state: None,
            hold_reason: None,
            text: &text,
        };
        let before = json!({"priority": row.priority, "impact": row.impact, "urgency": row.urgency,
                            "deadlines": deadlines(&current.clocks)});
        let after = json!({"priority": chosen, "impact": impact, "urgency": urgency, "reason": reason,
                           "deadlines": deadlines(&after_clocks)});
        let mut record = Record::on(&current, entry, "incident.priority", number);
        (record.before, record.after, record.row, record.slas) = (Some(before), after, changed, slas);
        self.finish(tx, actor, record).await
    }

    /// The stored calendars.
    pub async fn calendars(&self, actor: &Actor) -> Result<Vec<store::CalendarRow>> {
        actor.require(Perm::IncidentRead)?;
        Ok(self.store.calendars().await?)
    }

    /// Creates or replaces a calendar (`office` is what P3 and P4 run on); every clock
    /// computed after it uses the new one. Audited with the calendar before and after.
    pub async fn put_calendar(
        &self,
        actor: &Actor,
        name: &str,
        time_zone: &str,
        days: &[(String, Vec<String>)],
        holidays: &[String],
    ) -> Result<store::CalendarRow> {
        actor.require(Perm::SystemAdmin)?;
        let name = name.trim();
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(Invalid::one("name", "letters, digits and dashes, up to 64").into());
        }
        let tz = jiff::tz::TimeZone::get(time_zone).map_err(|_| {
            Invalid::one("time_zone", format!("`{time_zone}` is not an IANA time zone (Europe/London, UTC…)"))
        })?;
        Calendar::from_spec(name, tz, days, holidays)?;
        let week = serde_json::to_string(days).unwrap_or_default();
        let holidays = serde_json::to_string(holidays).unwrap_or_default();
        let before = self.store.calendar(name).await?;
        let now = self.now_ms();
        let doc = |tz: &str, w: &str, h: &str| {
            let read = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
            json!({"time_zone": tz, "days": read(w), "holidays": read(h)}).to_string()
        };
        let mut tx = self.store.begin().await?;
        tx.put_calendar(name, time_zone, &week, &holidays, now).await?;
        let before_doc = before.as_ref().map(|b| doc(&b.time_zone, &b.week, &b.holidays));
        let after_doc = Some(doc(time_zone, &week, &holidays));
        tx.append_audit(event(actor, now, "calendar.put", "calendar", name, before_doc, after_doc)).await?;
        tx.commit().await?;
        // Deadlines on this calendar move: the kept clocks (queues, sweeps) follow at once.
        self.recompute_open_slas().await?;
        self.store.calendar(name).await?.ok_or_else(|| AppError::NotFound(format!("calendar `{name}`")))
    }

    /// The matrix in force: the latest stored version, else the built-in ITIL grid (v1).
    pub(crate) async fn current_matrix(&self) -> Result<PriorityMatrix> {
        let Some(r) = self.store.priority_matrix().await? else { return Ok(PriorityMatrix::itil()) };
        let read = || -> Option<PriorityMatrix> {
            Some(PriorityMatrix {
                name: r.name.clone(),
                version: u32::try_from(r.version).ok()?,
                impacts: serde_json::from_str(&r.impacts).ok()?,
                urgencies: serde_json::from_str(&r.urgencies).ok()?,
                cells: serde_json::from_str(&r.cells).ok()?,
            })
        };
        read().ok_or_else(|| AppError::Internal(format!("priority matrix v{} does not read", r.version)))
    }

    pub async fn priority_matrix(&self, actor: &Actor) -> Result<PriorityMatrix> {
        actor.require(Perm::IncidentRead)?;
        self.current_matrix().await
    }

    /// Puts a new version of the matrix in force; incidents opened or re-prioritised from
    /// now on take their priority from it (and record its version). Audited.
    pub async fn put_priority_matrix(&self, actor: &Actor, mut m: PriorityMatrix) -> Result<PriorityMatrix> {
        actor.require(Perm::SystemAdmin)?;
        m.validate()?;
        let before = self.current_matrix().await?;
        let now = self.now_ms();
        let row = store::MatrixRow {
            version: 0,
            name: m.name.trim().to_owned(),
            impacts: serde_json::to_string(&m.impacts).unwrap_or_default(),
            urgencies: serde_json::to_string(&m.urgencies).unwrap_or_default(),
            cells: serde_json::to_string(&m.cells).unwrap_or_default(),
            actor: actor.name.clone(),
            created_at_ms: now,
        };
        let doc = |m: &PriorityMatrix| {
            json!({"name": m.name, "version": m.version, "impacts": m.impacts, "urgencies": m.urgencies, "cells": m.cells})
                .to_string()
        };
        let mut tx = self.store.begin().await?;
        let version = tx.insert_priority_matrix(&row).await?;
        m.version = u32::try_from(version).unwrap_or(u32::MAX);
        m.name = row.name;
        let target = format!("v{version}");
        tx.append_audit(event(
            actor,
            now,
            "priority-matrix.put",
            "priority-matrix",
            &target,
            Some(doc(&before)),
            Some(doc(&m)),
        ))
        .await?;
        tx.commit().await?;
        Ok(m)
    }

    /// Incidents that keep coming back within `window_days` (`min` or more on one item, or in
    /// one category for those without an item): candidates for a problem record.
    pub async fn recurring(&self, actor: &Actor, window_days: i64, min: usize) -> Result<Vec<incident::Recurrence>> {
        actor.require(Perm::IncidentRead)?;
        if !(1..=365).contains(&window_days) || !(2..=1000).contains(&min) {
            return Err(Invalid::one("days", "a window of 1 to 365 days and a minimum of 2 to 1000 incidents").into());
        }
        let rows = self.store.incidents(true, 5000).await?;
        let seen: Vec<incident::Occurrence> = rows
            .into_iter()
            .filter(|r| Self::incident_visible(actor, r))
            .map(|r| incident::Occurrence { number: r.number, at: r.opened_at_ms, item: r.item, category: r.category })
            .collect();
        Ok(incident::recurrences(&seen, window_days * 86_400_000, min))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn queues() -> impl Strategy<Value = Queue> {
        (
            prop::sample::select(QueueName::ALL.to_vec()),
            prop::option::of(1i64..=5),
            prop::option::of("[a-z0-9]{1,8}( [a-z0-9]{1,8}){0,2}"),
            prop::option::of(prop::sample::select(CATEGORIES.to_vec())),
            prop::option::of("[A-Za-z0-9][A-Za-z0-9 &]{0,20}[A-Za-z0-9]"),
        )
            .prop_map(|(name, priority, search, category, group)| Queue {
                name,
                priority,
                search,
                category: category.map(str::to_owned),
                group,
                limit: 100,
                offset: 0,
            })
    }

    proptest! {
        /// A link or a saved filter reads back as the queue it was written from.
        #[test]
        fn a_queue_view_reads_back_as_itself(q in queues()) {
            let pairs: Vec<(String, String)> = q.view_query().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            let text = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            let read: Vec<(String, String)> = serde_urlencoded::from_str(&text).unwrap_or_default();
            prop_assert_eq!(Queue::from_query(&read).map_err(|e| e.0), Ok(q));
        }
    }

    #[test]
    fn every_wrong_queue_parameter_is_named() {
        let pairs: Vec<(String, String)> =
            [("queue", "everything"), ("priority", "P9"), ("category", "plumbing"), ("limit", "0"), ("sort", "x")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        let named: Vec<String> = Queue::from_query(&pairs).unwrap_err().0.into_iter().map(|f| f.field).collect();
        assert_eq!(named, ["queue", "priority", "category", "limit", "sort"]);
        // Empty values mean "any", as an unfilled form sends them.
        let blank: Vec<(String, String)> =
            [("priority", ""), ("group", " ")].into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        assert_eq!(Queue::from_query(&blank).map_err(|e| e.0), Ok(Queue { limit: 100, ..Queue::default() }));
    }
}
