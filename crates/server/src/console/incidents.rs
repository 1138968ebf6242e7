//! The incident pages: the queue (open incidents, most urgent first, with both SLA clocks),
//! opening an incident, and an incident's page — its clocks as bars with their deadlines,
//! the moves its state allows, and the journal as a timeline.

use super::{Chrome, When, app_error_page, ctx_chrome, field, form_pairs, not_found_page, render, when};
use crate::extract::{Ctx, QueryPairs};
use crate::state::AppState;
use app::AppError;
use app::incidents::{CATEGORIES, Clock, IncidentView, OpenIncident, QUEUE_VIEW_KEYS, Queue, QueueName};
use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use model::incident::{HoldReason, Move, State as IncidentState, TRANSITIONS};
use model::{FieldError, Perm};

/// A clock as the pages show it.
pub struct ClockLine {
    pub name: String,
    pub stage: &'static str,
    pub percent: u32,
    /// The percentage as a bar shows it (full at the target).
    pub bar: u32,
    /// ok, warn (75 % or more), breach
    pub class: &'static str,
    pub deadline: Option<When>,
    pub calendar: String,
    pub policy: String,
}

fn clock_line(c: &Clock, now: i64) -> ClockLine {
    use model::sla::Stage::*;
    let s = &c.state;
    let stage = match s.stage {
        NotStarted => "not started",
        Running => "running",
        Paused => "paused",
        Achieved => "met",
        Breached => "breached",
        Cancelled => "cancelled",
    };
    let class = match (s.stage, s.percent) {
        (Breached, _) => "breach",
        (_, p) if p >= 100.0 => "breach",
        (_, p) if p >= 75.0 => "warn",
        _ => "ok",
    };
    ClockLine {
        name: c.name.clone(),
        stage,
        percent: s.percent.round().clamp(0.0, 999.0) as u32,
        bar: s.percent.round().clamp(0.0, 100.0) as u32,
        class,
        deadline: s.deadline.map(|d| when(d, now)),
        calendar: c.calendar.clone(),
        policy: c.policy.clone(),
    }
}

pub struct IncidentLine {
    pub number: String,
    pub priority: i64,
    pub short_description: String,
    pub item: String,
    pub state: String,
    pub assignee: String,
    pub opened: When,
    pub clocks: Vec<ClockLine>,
}

fn line(v: &IncidentView, now: i64) -> IncidentLine {
    IncidentLine {
        number: v.row.number.clone(),
        priority: v.row.priority,
        short_description: v.row.short_description.clone(),
        item: v.row.item.clone().unwrap_or_default(),
        state: v.row.state.clone(),
        assignee: v.row.assignee.clone().unwrap_or_default(),
        opened: when(v.row.opened_at_ms, now),
        clocks: v.clocks.iter().map(|c| clock_line(c, now)).collect(),
    }
}

/// The open form as typed, with its errors.
#[derive(Default)]
pub struct OpenForm {
    pub short_description: String,
    pub caller: String,
    pub category: String,
    pub item: String,
    pub impact: String,
    pub urgency: String,
    pub priority: String,
    pub priority_reason: String,
    pub errors: Vec<FieldError>,
}

impl OpenForm {
    fn fresh() -> OpenForm {
        OpenForm { impact: "medium".into(), urgency: "medium".into(), ..OpenForm::default() }
    }
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct QueuePage {
    chrome: Chrome,
    incidents: Vec<IncidentLine>,
    all: bool,
    /// (key, label, whether it is the one shown)
    queues: Vec<(&'static str, &'static str, bool)>,
    empty_note: &'static str,
    /// The words searched, the queue searched in, and links to the pages around this one.
    search: String,
    queue_key: &'static str,
    previous: Option<String>,
    next: Option<String>,
    can_open: bool,
    form: OpenForm,
    categories: &'static [&'static str],
    levels: [&'static str; 3],
    bulk: Option<BulkNotice>,
    /// This queue's query string with its page, for the bulk form to come back to.
    here: String,
    /// The view's own parameters (no page): what "save this view" keeps.
    here_view: String,
    filter_errors: Vec<FieldError>,
    priority: String,
    category: String,
    group: String,
    saved: Vec<SavedLine>,
    can_save: bool,
    /// States and hold reasons the bulk move offers.
    states: Vec<&'static str>,
    holds: Vec<&'static str>,
}

/// The queues people work from.
pub const QUEUES: [(&str, &str); 6] = [
    ("open", "Open"),
    ("mine", "Mine"),
    ("my-groups", "My groups"),
    ("unassigned", "Unassigned"),
    ("breaching", "Breaching soon"),
    ("major", "Major"),
];

/// Rows a queue page shows.
const PAGE: i64 = 50;

async fn queue(
    s: &AppState,
    ctx: &Ctx,
    pairs: &[(String, String)],
    form: OpenForm,
    bulk: Option<BulkNotice>,
    status: StatusCode,
) -> Response {
    let actor = ctx.actor();
    let now = s.app.now_ms();
    let page_no: i64 = pairs.iter().find(|(k, _)| k == "page").and_then(|(_, v)| v.parse().ok()).unwrap_or(1).max(1);
    let view: Vec<(String, String)> =
        pairs.iter().filter(|(k, _)| QUEUE_VIEW_KEYS.contains(&k.as_str())).cloned().collect();
    let (mut q, mut filter_errors) = match Queue::from_query(&view) {
        Ok(q) => (q, Vec::new()),
        Err(i) => (Queue::default(), i.0),
    };
    (q.limit, q.offset) = (PAGE + 1, (page_no - 1) * PAGE);
    let (name, all, search) = (q.name, q.name == QueueName::All, q.search.clone());
    let (incidents, more): (Vec<IncidentLine>, bool) = match s.app.incident_queue(&actor, &q).await {
        Ok(v) => (v.iter().take(PAGE as usize).map(|v| line(v, now)).collect(), v.len() as i64 > PAGE),
        Err(AppError::Invalid(i)) => {
            filter_errors.extend(i.0);
            (Vec::new(), false)
        }
        Err(e) => return app_error_page(s, ctx, e),
    };
    let here_view = serde_urlencoded::to_string(q.view_query()).unwrap_or_default();
    let keep = |page: i64| format!("{here_view}&page={page}");
    let saved = match s.app.saved_filters(&actor).await {
        Ok(f) => f,
        Err(e) => return app_error_page(s, ctx, e),
    };
    let page = QueuePage {
        chrome: ctx_chrome(s, ctx, "Incidents", "incidents"),
        incidents,
        all,
        queues: QUEUES.iter().map(|&(k, l)| (k, l, !all && k == name.as_str())).collect(),
        filter_errors,
        priority: q.priority.map(|p| p.to_string()).unwrap_or_default(),
        category: q.category.clone().unwrap_or_default(),
        group: q.group.clone().unwrap_or_default(),
        saved: saved
            .into_iter()
            .map(|f| SavedLine {
                on: f.query == here_view,
                mine: f.owner == actor.name,
                id: f.id,
                name: f.name,
                query: f.query,
                owner: f.owner,
                shared: f.shared,
            })
            .collect(),
        here_view: here_view.clone(),
        can_save: actor.can(Perm::OwnViews),
        empty_note: match (&search, name) {
            (Some(_), _) => "Nothing matches those words.",
            (None, QueueName::Open) => "No open incidents.",
            _ => "Nothing in this queue.",
        },
        search: search.clone().unwrap_or_default(),
        queue_key: name.as_str(),
        previous: (page_no > 1).then(|| keep(page_no - 1)),
        next: more.then(|| keep(page_no + 1)),
        can_open: actor.can(Perm::IncidentWork),
        form,
        categories: CATEGORIES,
        levels: ["high", "medium", "low"],
        bulk,
        here: keep(page_no),
        states: IncidentState::ALL.iter().filter(|st| **st != IncidentState::New).map(|st| st.as_str()).collect(),
        holds: HoldReason::ALL.iter().map(|h| h.as_str()).collect(),
    };
    render(status, &page)
}

pub async fn incidents_page(State(s): State<AppState>, ctx: Ctx, QueryPairs(pairs): QueryPairs) -> Response {
    queue(&s, &ctx, &pairs, OpenForm::fresh(), None, StatusCode::OK).await
}

/// A saved filter as the queue page lists it.
pub struct SavedLine {
    pub id: i64,
    pub name: String,
    pub query: String,
    pub owner: String,
    pub shared: bool,
    pub mine: bool,
    /// It is the view shown.
    pub on: bool,
}

/// "Save this view": the view's parameters under a name, perhaps shared.
pub async fn filter_save(State(s): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let p = form_pairs(&body);
    let view: Vec<(String, String)> = serde_urlencoded::from_str(field(&p, "query")).unwrap_or_default();
    match s.app.save_filter(&ctx.actor(), field(&p, "name"), &view, field(&p, "shared") == "1").await {
        Ok(f) => Redirect::to(&format!("/incidents?{}", f.query)).into_response(),
        Err(AppError::Invalid(i)) => {
            let notice = BulkNotice { errors: i.0, ..BulkNotice::default() };
            queue(&s, &ctx, &view, OpenForm::fresh(), Some(notice), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => app_error_page(&s, &ctx, e),
    }
}

pub async fn filter_delete(State(s): State<AppState>, ctx: Ctx, id: Result<Path<i64>, PathRejection>) -> Response {
    let Ok(Path(id)) = id else { return not_found_page() };
    match s.app.delete_filter(&ctx.actor(), id).await {
        Ok(()) => Redirect::to("/incidents").into_response(),
        Err(e) => app_error_page(&s, &ctx, e),
    }
}

/// What a bulk action did, shown above the queue it was chosen from.
#[derive(Default)]
pub struct BulkNotice {
    pub updated: Vec<String>,
    /// (number, why)
    pub refused: Vec<(String, String)>,
    /// The action itself was wrong: nothing changed.
    pub errors: Vec<FieldError>,
}

fn why(e: &AppError) -> String {
    match e {
        AppError::Invalid(i) => {
            i.0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
        }
        e => e.to_string(),
    }
}

/// A queue's bulk action: the chosen rows (`n`), and the button pressed (`action`: assign,
/// move or note) with its fields. The queue is drawn again with what happened to each.
pub async fn incidents_bulk(State(s): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    use app::incidents::BulkAction;
    let p = form_pairs(&body);
    let back: Vec<(String, String)> = serde_urlencoded::from_str(field(&p, "back")).unwrap_or_default();
    let numbers = super::fields(&p, "n");
    let action = match field(&p, "action") {
        "assign" => Ok(BulkAction::Assign {
            group: field(&p, "group").to_owned(),
            assignee: Some(field(&p, "assignee").trim().to_owned()).filter(|a| !a.is_empty()),
        }),
        "move" => match IncidentState::parse(field(&p, "state")) {
            Some(to) => Ok(BulkAction::Move {
                to,
                how: Move {
                    hold_reason: HoldReason::parse(field(&p, "hold_reason")),
                    comment: field(&p, "comment").to_owned(),
                    resolution_code: field(&p, "resolution_code").to_owned(),
                    resolution_notes: field(&p, "resolution_notes").to_owned(),
                    cancel_reason: field(&p, "cancel_reason").to_owned(),
                },
            }),
            None => Err(FieldError::new("state", "choose where they go")),
        },
        "note" => Ok(BulkAction::Note { text: field(&p, "text").to_owned(), visible: field(&p, "visible") == "1" }),
        _ => Err(FieldError::new("action", "press Assign, Move or Add note")),
    };
    let notice = match action {
        Err(e) => BulkNotice { errors: vec![e], ..BulkNotice::default() },
        Ok(action) => match s.app.bulk_update(&ctx.actor(), &numbers, &action).await {
            Ok(out) => BulkNotice {
                updated: out.updated,
                refused: out.refused.iter().map(|(n, e)| (n.clone(), why(e))).collect(),
                errors: Vec::new(),
            },
            Err(AppError::Invalid(i)) => BulkNotice { errors: i.0, ..BulkNotice::default() },
            Err(e) => return app_error_page(&s, &ctx, e),
        },
    };
    let status = if notice.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    queue(&s, &ctx, &back, OpenForm::fresh(), Some(notice), status).await
}

/// A priority typed over the matrix's: empty for none, `P2` or `2`.
fn override_priority(raw: &str) -> Result<Option<u8>, FieldError> {
    match raw.trim() {
        "" => Ok(None),
        p => p
            .trim_start_matches(['P', 'p'])
            .parse::<u8>()
            .map(Some)
            .map_err(|_| FieldError::new("priority", "P1 to P5, or leave it to the matrix")),
    }
}

pub async fn incidents_open(State(s): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let p = form_pairs(&body);
    let mut form = OpenForm {
        short_description: field(&p, "short_description").to_owned(),
        caller: field(&p, "caller").to_owned(),
        category: field(&p, "category").to_owned(),
        item: field(&p, "item").to_owned(),
        impact: field(&p, "impact").to_owned(),
        urgency: field(&p, "urgency").to_owned(),
        priority: field(&p, "priority").to_owned(),
        priority_reason: field(&p, "priority_reason").to_owned(),
        errors: Vec::new(),
    };
    let priority = override_priority(&form.priority).unwrap_or_else(|e| {
        form.errors.push(e);
        None
    });
    if form.errors.is_empty() {
        let input = OpenIncident {
            short_description: form.short_description.clone(),
            caller: form.caller.clone(),
            category: form.category.clone(),
            item: Some(form.item.clone()),
            impact: form.impact.clone(),
            urgency: form.urgency.clone(),
            priority,
            priority_reason: form.priority_reason.clone(),
            ..OpenIncident::default()
        };
        match s.app.open_incident(&ctx.actor(), input).await {
            Ok(v) => return Redirect::to(&format!("/incidents/{}", v.row.number)).into_response(),
            Err(AppError::Invalid(i)) => form.errors = i.0,
            Err(e) => return app_error_page(&s, &ctx, e),
        }
    }
    queue(&s, &ctx, &[], form, None, StatusCode::UNPROCESSABLE_ENTITY).await
}

pub struct JournalLine {
    pub at: When,
    pub actor: String,
    pub what: String,
    pub text: String,
}

/// How many of the events that fed an incident its page lists (the event console has all).
const FED_SHOWN: i64 = 50;

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage {
    chrome: Chrome,
    i: IncidentLine,
    caller: String,
    /// What the caller or correlation wrote when it was opened.
    description: String,
    category: String,
    impact: String,
    urgency: String,
    group: String,
    levels: [&'static str; 3],
    priority_note: String,
    hold_reason: String,
    resolution: String,
    version: i64,
    moves: Vec<&'static str>,
    holds: Vec<&'static str>,
    can_work: bool,
    errors: Vec<FieldError>,
    journal: Vec<JournalLine>,
    /// The latest journal entry's id: the live timeline sends what comes after it.
    cursor: i64,
    /// (service, down or degraded, why)
    impacted: Vec<(String, &'static str, String)>,
    /// Escalation chains paging for it: (chain, what became of it).
    pages: Vec<(String, String)>,
    paging: bool,
    /// (channel, what, state, last result)
    notifications: Vec<(String, String, String, String)>,
    parent: String,
    children: Vec<String>,
    /// (id, name, kind, size)
    attachments: Vec<(i64, String, String, String)>,
    satisfaction: String,
    resolved: bool,
    major: Option<super::major::MajorLine>,
    can_declare: bool,
    people: Vec<String>,
    statuses: Vec<&'static str>,
    /// Known errors that may match: (problem, short description, workaround).
    known_errors: Vec<(String, String, String)>,
    /// The newest events that fed it.
    fed: Vec<FedEvent>,
}

/// An event that fed an incident, as its page lists it.
struct FedEvent {
    at: When,
    severity: String,
    severity_class: &'static str,
    source: String,
    from: String,
    kind: String,
    object: String,
    text: String,
}

async fn incident_response(s: &AppState, ctx: &Ctx, number: &str, errors: Vec<FieldError>) -> Response {
    let actor = ctx.actor();
    let now = s.app.now_ms();
    let v = match s.app.incident(&actor, number).await {
        Ok(v) => v,
        Err(e) => return app_error_page(s, ctx, e),
    };
    let r = &v.row;
    let pages = s.app.pages(&actor, number).await.unwrap_or_default();
    let paging = pages.iter().any(|p| p.acknowledged_at_ms.is_none());
    let pages = pages
        .into_iter()
        .map(|p| {
            let status = match (p.acknowledged_at_ms, p.acknowledged_by) {
                (Some(at), by) => format!("acknowledged by {} {}", by.unwrap_or_default(), when(at, now).rel),
                (None, _) => format!("paging since {}: {} step(s) sent", when(p.raised_at_ms, now).rel, p.steps_sent),
            };
            (p.chain, status)
        })
        .collect();
    let notifications = s
        .app
        .notifications(&actor, Some(number))
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|d| {
            let title = serde_json::from_str::<notify::Notice>(&d.row.notice).map(|n| n.title).unwrap_or_default();
            (d.row.channel, title, d.row.state, d.row.last_result)
        })
        .collect();
    let attachments = s
        .app
        .attachments(&actor, number)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|a| {
            let size = if a.size >= 1_048_576 {
                format!("{:.1} MiB", a.size as f64 / 1_048_576.0)
            } else {
                format!("{} KiB", (a.size + 1023) / 1024)
            };
            (a.id, a.file_name, a.label, size)
        })
        .collect();
    let major = s.app.major(&actor, number).await.ok().flatten().map(|m| super::major::major_line(&m, now));
    let open = !v.state.is_terminal() && v.state != IncidentState::Resolved;
    let known_errors = s
        .app
        .known_errors(&actor, number)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.row.number, p.row.short_description, p.row.workaround))
        .collect();
    let fed = s
        .app
        .events(
            &actor,
            &store::EventFilter { incident_id: Some(r.id), limit: FED_SHOWN, ..store::EventFilter::default() },
        )
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|e| FedEvent {
            at: when(e.received_at_ms, now),
            severity: crate::api::events::severity_name(e.severity),
            severity_class: super::monitoring::severity_class(e.severity),
            source: e.source,
            from: if e.host.is_empty() { e.sender } else { e.host },
            kind: e.kind,
            object: e.object,
            text: e.text,
        })
        .collect();
    let page = IncidentPage {
        fed,
        known_errors,
        can_declare: major.is_none() && open && r.priority == 1 && actor.can(Perm::IncidentWork),
        major,
        people: s.app.on_call_people().await.unwrap_or_default(),
        statuses: model::major::UpdateStatus::ALL.iter().map(|u| u.as_str()).collect(),
        pages,
        paging,
        notifications,
        parent: r.parent.clone().unwrap_or_default(),
        children: v.children.clone(),
        attachments,
        satisfaction: r
            .satisfaction
            .map(|x| format!("{x}/5, recorded by {}", r.verified_by.clone().unwrap_or_default()))
            .unwrap_or_default(),
        resolved: v.state == IncidentState::Resolved,
        chrome: ctx_chrome(s, ctx, &format!("{} {}", r.number, r.short_description), "incidents"),
        caller: r.caller.clone(),
        description: r.description.clone(),
        category: if r.subcategory.is_empty() {
            r.category.clone()
        } else {
            format!("{} / {}", r.category, r.subcategory)
        },
        impact: r.impact.clone(),
        urgency: r.urgency.clone(),
        group: r.assignment_group.clone(),
        levels: ["high", "medium", "low"],
        priority_note: if r.priority_reason.is_empty() {
            format!("from the {} v{} matrix", r.matrix, r.matrix_version)
        } else {
            format!("set by hand: {}", r.priority_reason)
        },
        hold_reason: r.hold_reason.clone().unwrap_or_default(),
        resolution: if r.resolution_code.is_empty() {
            String::new()
        } else {
            format!("{}: {}", r.resolution_code, r.resolution_notes)
        },
        version: r.version,
        moves: TRANSITIONS.iter().filter(|t| t.0 == v.state).map(|t| t.1.as_str()).collect(),
        holds: HoldReason::ALL.iter().map(|h| h.as_str()).collect(),
        can_work: actor.can(Perm::IncidentWork),
        errors,
        impacted: v.impacted.iter().map(|i| (i.name.clone(), i.status, i.explanation.clone())).collect(),
        cursor: v.journal_cursor,
        journal: v
            .journal
            .iter()
            .rev()
            .map(|j| JournalLine {
                at: when(j.at_ms, now),
                actor: j.actor.clone(),
                what: match (&j.state, &j.hold_reason) {
                    (Some(st), Some(h)) => format!("{st} ({h})"),
                    (Some(st), None) => st.clone(),
                    _ => j.kind.clone(),
                },
                text: j.text.clone(),
            })
            .collect(),
        i: line(&v, now),
    };
    render(if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY }, &page)
}

/// The incident page again, with what was wrong with a form on it.
pub(super) async fn incident_with_errors(s: &AppState, ctx: &Ctx, number: &str, errors: Vec<FieldError>) -> Response {
    incident_response(s, ctx, number, errors).await
}

pub async fn incident_page(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    incident_response(&s, &ctx, &number, Vec::new()).await
}

pub async fn incident_move(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    let p = form_pairs(&body);
    let Some(to) = IncidentState::parse(field(&p, "state")) else {
        return incident_response(&s, &ctx, &number, vec![FieldError::new("state", "choose where it goes")]).await;
    };
    let m = Move {
        hold_reason: HoldReason::parse(field(&p, "hold_reason")),
        comment: field(&p, "comment").to_owned(),
        resolution_code: field(&p, "resolution_code").to_owned(),
        resolution_notes: field(&p, "resolution_notes").to_owned(),
        cancel_reason: field(&p, "cancel_reason").to_owned(),
    };
    let version = field(&p, "version").parse().ok();
    let r = s.app.move_incident(&ctx.actor(), &number, to, m, version).await;
    after_change(&s, &ctx, &number, r).await
}

/// What a form on the incident page did: back to the page, or the page again with the errors.
async fn after_change(s: &AppState, ctx: &Ctx, number: &str, r: app::Result<IncidentView>) -> Response {
    match r {
        Ok(_) => Redirect::to(&format!("/incidents/{number}")).into_response(),
        Err(AppError::Invalid(i)) => incident_response(s, ctx, number, i.0).await,
        Err(AppError::Conflict(why)) => incident_response(s, ctx, number, vec![FieldError::new("version", why)]).await,
        Err(e) => app_error_page(s, ctx, e),
    }
}

pub async fn incident_note(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    let p = form_pairs(&body);
    let visible = field(&p, "visible") == "on";
    let r = s.app.add_note(&ctx.actor(), &number, field(&p, "text"), visible).await;
    after_change(&s, &ctx, &number, r).await
}

pub async fn incident_assign(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    let p = form_pairs(&body);
    let assignee = Some(field(&p, "assignee")).filter(|a| !a.trim().is_empty());
    let version = field(&p, "version").parse().ok();
    let r = s.app.assign_incident(&ctx.actor(), &number, field(&p, "group"), assignee, version).await;
    after_change(&s, &ctx, &number, r).await
}

pub async fn incident_priority(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    let p = form_pairs(&body);
    let priority = match override_priority(field(&p, "priority")) {
        Ok(priority) => priority,
        Err(e) => return incident_response(&s, &ctx, &number, vec![e]).await,
    };
    let version = field(&p, "version").parse().ok();
    let (impact, urgency, reason) = (field(&p, "impact"), field(&p, "urgency"), field(&p, "reason"));
    let r = s.app.reprioritise(&ctx.actor(), &number, impact, urgency, priority, reason, version).await;
    after_change(&s, &ctx, &number, r).await
}

/// Someone answers the pages: the chains stop.
pub async fn incident_acknowledge(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    match s.app.acknowledge(&ctx.actor(), &number).await {
        Ok(_) => Redirect::to(&format!("/incidents/{number}")).into_response(),
        Err(AppError::Invalid(i)) => incident_response(&s, &ctx, &number, i.0).await,
        Err(e) => app_error_page(&s, &ctx, e),
    }
}

pub async fn incident_parent(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    let p = form_pairs(&body);
    let parent = Some(field(&p, "parent")).filter(|x| !x.trim().is_empty());
    let r = s.app.set_parent(&ctx.actor(), &number, parent, field(&p, "version").parse().ok()).await;
    after_change(&s, &ctx, &number, r).await
}

pub async fn incident_verify(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    let p = form_pairs(&body);
    let v = model::incident::Verification {
        accepted: field(&p, "verdict") == "accept",
        satisfaction: field(&p, "satisfaction").parse().ok(),
        comment: field(&p, "comment").to_owned(),
    };
    let r = s.app.verify(&ctx.actor(), &number, v).await;
    after_change(&s, &ctx, &number, r).await
}

/// A file from the upload form (multipart; the CSRF token rides in the action URL).
pub async fn incident_attach(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    let bad = |why: String| vec![FieldError::new("file", why)];
    let Ok(mut form) = multipart else {
        return incident_response(&s, &ctx, &number, bad("send the file from the upload form".into())).await;
    };
    let mut file = None;
    loop {
        match form.next_field().await {
            Ok(Some(f)) if f.name() == Some("file") => {
                let name = f.file_name().unwrap_or_default().to_owned();
                match f.bytes().await {
                    Ok(b) => file = Some((name, b)),
                    Err(_) => {
                        let why =
                            format!("over {} MiB, the limit for one file", model::attachment::MAX_BYTES / 1_048_576);
                        return incident_response(&s, &ctx, &number, bad(why)).await;
                    }
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => {
                return incident_response(&s, &ctx, &number, bad("the upload was cut short; try again".into())).await;
            }
        }
    }
    let Some((name, bytes)) = file.filter(|f| !f.0.is_empty()) else {
        return incident_response(&s, &ctx, &number, bad("choose a file".into())).await;
    };
    match s.app.attach(&ctx.actor(), &number, &name, &bytes).await {
        Ok(_) => Redirect::to(&format!("/incidents/{number}")).into_response(),
        Err(AppError::Invalid(i)) => incident_response(&s, &ctx, &number, i.0).await,
        Err(e) => app_error_page(&s, &ctx, e),
    }
}

pub async fn incident_download(
    State(s): State<AppState>,
    ctx: Ctx,
    path: Result<Path<(String, i64)>, PathRejection>,
) -> Response {
    let Ok(Path((number, id))) = path else { return not_found_page() };
    match s.app.attachment(&ctx.actor(), &number, id).await {
        Ok((meta, bytes)) => super::download(&meta.file_name, &meta.media_type, bytes),
        Err(e) => app_error_page(&s, &ctx, e),
    }
}
