//! The monitoring page: what is wrong now, for the people on watch — open alarms (with the
//! incident each fed, and why one was held back: suppressed behind a failure, silenced,
//! flapping), acknowledgement, the check status board per site, and the latest events.

use super::{Chrome, When, app_error_page, ctx_chrome, not_found_page, render, when};
use crate::extract::Ctx;
use crate::state::AppState;
use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

pub struct AlarmLine {
    pub id: i64,
    pub severity: String,
    pub severity_class: &'static str,
    pub item_id: Option<i64>,
    pub item: String,
    pub summary: String,
    pub since: When,
    pub count: i64,
    /// Why it opened no incident of its own, if it did not.
    pub held: String,
    pub incident: Option<String>,
    pub acked_by: Option<String>,
}

pub struct BoardLine {
    pub item_id: i64,
    pub item: String,
    pub check: String,
    pub kind: String,
    pub status: String,
    pub status_class: &'static str,
    pub attempt: String,
    pub output: String,
    pub last_run: Option<When>,
}

pub struct SiteBoard {
    pub site: String,
    pub ok: usize,
    pub problems: usize,
    pub lines: Vec<BoardLine>,
}

pub struct EventLine {
    pub at: When,
    pub severity: String,
    pub source: String,
    pub sender: String,
    pub kind: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "monitoring.html")]
struct MonitoringPage {
    chrome: Chrome,
    alarms: Vec<AlarmLine>,
    sites: Vec<SiteBoard>,
    events: Vec<EventLine>,
    can_ack: bool,
}

pub(super) fn severity_class(n: i64) -> &'static str {
    match n {
        0..=2 => "bad",
        3 | 4 => "warn",
        _ => "ok",
    }
}

pub async fn monitoring_page(State(s): State<AppState>, ctx: Ctx) -> Response {
    let actor = ctx.actor();
    let filter = store::AlarmFilter { open: true, limit: 500, ..store::AlarmFilter::default() };
    let events_filter = store::EventFilter { limit: 50, ..store::EventFilter::default() };
    let (alarms, board, events, items) = match (
        s.app.alarms(&actor, &filter).await,
        s.app.check_board(&actor, None).await,
        s.app.events(&actor, &events_filter).await,
        s.app.impact_graph().await,
    ) {
        (Ok(a), Ok(b), Ok(e), Ok(g)) => (a, b, e, g),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => return app_error_page(&s, &ctx, e),
    };
    let now = s.app.now_ms();
    let name = |id: Option<i64>| id.and_then(|i| items.name_of(i)).unwrap_or_default();
    let mut alarms: Vec<AlarmLine> = alarms
        .into_iter()
        .map(|a| {
            let held = if let Some(cause) = a.suppressed_by {
                format!("symptom of {}", items.name_of(cause).unwrap_or_else(|| format!("#{cause}")))
            } else if a.silenced_by.starts_with("maintenance:") {
                "in maintenance".to_owned()
            } else if !a.silenced_by.is_empty() {
                "silenced".to_owned()
            } else if a.flapping {
                "flapping".to_owned()
            } else if !a.routed {
                "settling".to_owned()
            } else {
                String::new()
            };
            AlarmLine {
                id: a.id,
                severity: crate::api::events::severity_name(a.severity),
                severity_class: severity_class(a.severity),
                item_id: a.item_id,
                item: if a.item_id.is_some() { name(a.item_id) } else { a.key.clone() },
                summary: a.summary,
                since: when(a.opened_at_ms, now),
                count: a.count,
                held,
                incident: a.incident_number,
                acked_by: a.acked_by,
            }
        })
        .collect();
    alarms.sort_by_key(|a| (a.severity_class != "bad", !a.held.is_empty(), a.item.clone()));
    let mut sites: Vec<SiteBoard> = Vec::new();
    for r in board {
        let site = r.site.clone().unwrap_or_else(|| "(no site)".into());
        let st = r.state.as_ref();
        let status = st.map_or_else(|| "pending".to_owned(), |s| s.status.clone());
        let line = BoardLine {
            item_id: r.item_id,
            item: r.item,
            check: r.check,
            kind: r.kind.into(),
            status_class: match status.as_str() {
                "ok" => "ok",
                "critical" => "bad",
                "pending" => "",
                _ => "warn",
            },
            attempt: st.map_or_else(String::new, |s| {
                if s.hard { "hard".into() } else { format!("soft, attempt {}", s.attempt) }
            }),
            output: st.map(|s| s.output.lines().next().unwrap_or("").to_owned()).unwrap_or_default(),
            last_run: st.map(|s| when(s.last_run_ms, now)),
            status,
        };
        match sites.iter_mut().find(|b| b.site == site) {
            Some(b) => b.lines.push(line),
            None => sites.push(SiteBoard { site, ok: 0, problems: 0, lines: vec![line] }),
        }
    }
    for b in &mut sites {
        b.ok = b.lines.iter().filter(|l| l.status == "ok").count();
        b.problems = b.lines.iter().filter(|l| l.status_class == "bad" || l.status_class == "warn").count();
        b.lines.sort_by_key(|l| (l.status_class != "bad", l.status_class != "warn", l.item.clone(), l.check.clone()));
    }
    sites.sort_by(|a, b| (b.problems, &a.site).cmp(&(a.problems, &b.site)));
    let events = events
        .into_iter()
        .map(|e| EventLine {
            at: when(e.received_at_ms, now),
            severity: crate::api::events::severity_name(e.severity),
            source: e.source,
            sender: if e.item_id.is_some() { name(e.item_id) } else { e.sender },
            kind: e.kind,
            text: e.text,
        })
        .collect();
    let page = MonitoringPage {
        chrome: ctx_chrome(&s, &ctx, "Monitoring", "monitoring"),
        alarms,
        sites,
        events,
        can_ack: actor.can(model::Perm::EventWork),
    };
    render(StatusCode::OK, &page)
}

pub async fn monitoring_ack(State(s): State<AppState>, ctx: Ctx, id: Result<Path<i64>, PathRejection>) -> Response {
    let Ok(Path(id)) = id else { return not_found_page() };
    match s.app.acknowledge_alarm(&ctx.actor(), id).await {
        Ok(_) => Redirect::to("/monitoring").into_response(),
        Err(e) => app_error_page(&s, &ctx, e),
    }
}

/// A row of the event console.
pub struct ConsoleEvent {
    pub id: i64,
    pub at: When,
    pub severity: String,
    pub severity_class: &'static str,
    pub source: String,
    pub item_id: Option<i64>,
    pub from: String,
    pub kind: String,
    pub object: String,
    pub text: String,
    pub alarm_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    chrome: Chrome,
    events: Vec<ConsoleEvent>,
    /// The filter as the form shows it: (name, value).
    filter: Vec<(String, String)>,
    /// The filter as a query string, for the live stream and for coming back after an action.
    query: String,
    /// The newest event shown: the live stream follows from it.
    newest: i64,
    notice: String,
    errors: Vec<model::FieldError>,
    can_work: bool,
    can_open: bool,
}

impl EventsPage {
    fn value(&self, name: &str) -> &str {
        self.filter.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }
}

/// The filter parameters the console keeps (the rest of its query is its own).
const FILTER: [&str; 7] = ["source", "severity", "kind", "item", "sender", "incident", "q"];

async fn events_view(
    s: &AppState,
    ctx: &Ctx,
    pairs: Vec<(String, String)>,
    notice: String,
    errors: Vec<model::FieldError>,
    status: StatusCode,
) -> Response {
    let actor = ctx.actor();
    let filter: Vec<(String, String)> =
        pairs.into_iter().filter(|(k, v)| FILTER.contains(&k.as_str()) && !v.trim().is_empty()).collect();
    let (rows, errors, status) = match crate::api::events::filter(s, &filter, &[]).await {
        Ok(mut f) => {
            f.limit = 200;
            match s.app.events(&actor, &f).await {
                Ok(r) => (r, errors, status),
                Err(e) => return app_error_page(s, ctx, e),
            }
        }
        Err(crate::problem::ApiError::Invalid(more)) => {
            (Vec::new(), errors.into_iter().chain(more).collect(), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(_) => (Vec::new(), errors, status),
    };
    let items = match s.app.impact_graph().await {
        Ok(g) => g,
        Err(e) => return app_error_page(s, ctx, e),
    };
    let now = s.app.now_ms();
    let newest = rows.first().map_or(0, |r| r.id);
    let events = rows
        .into_iter()
        .map(|e| ConsoleEvent {
            id: e.id,
            at: when(e.received_at_ms, now),
            severity: crate::api::events::severity_name(e.severity),
            severity_class: severity_class(e.severity),
            source: e.source,
            item_id: e.item_id,
            from: e.item_id.and_then(|i| items.name_of(i)).unwrap_or(e.sender),
            kind: e.kind,
            object: e.object,
            text: e.text,
            alarm_id: e.alarm_id,
        })
        .collect();
    let query = serde_urlencoded::to_string(&filter).unwrap_or_default();
    let page = EventsPage {
        chrome: ctx_chrome(s, ctx, "Events", "events"),
        events,
        filter,
        query,
        newest,
        notice,
        errors,
        can_work: actor.can(model::Perm::EventWork),
        can_open: actor.can(model::Perm::IncidentWork),
    };
    render(status, &page)
}

/// The live event console: events as they arrive, filtered, to select and act on.
pub async fn events_page(
    State(s): State<AppState>,
    ctx: Ctx,
    crate::extract::QueryPairs(pairs): crate::extract::QueryPairs,
) -> Response {
    let notice = pairs.iter().find(|(k, _)| k == "done").map(|(_, v)| v.clone()).unwrap_or_default();
    events_view(&s, &ctx, pairs, notice, Vec::new(), StatusCode::OK).await
}

/// The console's actions on the selected events (`event`, repeated): `ack`, `silence`
/// (`hours`, `comment`) or `incident` (`short_description`). The view it came from (`back`)
/// is shown again with what happened, or the new incident.
pub async fn events_action(State(s): State<AppState>, ctx: Ctx, body: axum::body::Bytes) -> Response {
    let p = super::form_pairs(&body);
    let back: Vec<(String, String)> = serde_urlencoded::from_str(super::field(&p, "back")).unwrap_or_default();
    let ids: Vec<i64> = super::fields(&p, "event").iter().filter_map(|v| v.parse().ok()).collect();
    let actor = ctx.actor();
    let done = match super::field(&p, "action") {
        "ack" => s.app.acknowledge_events(&actor, &ids).await.map(|n| format!("{n} alarms acknowledged.")),
        "silence" => match super::field(&p, "hours").parse::<i64>() {
            Ok(h) => s
                .app
                .silence_events(&actor, &ids, h, super::field(&p, "comment"))
                .await
                .map(|made| format!("{} silences set for {h} h: {}.", made.len(), made.join(", "))),
            Err(_) => Err(app::AppError::Invalid(model::Invalid::one("hours", "how many hours"))),
        },
        "incident" => {
            match s.app.open_incident_from_events(&actor, &ids, super::field(&p, "short_description")).await {
                Ok(opened) => return Redirect::to(&format!("/incidents/{}", opened.row.number)).into_response(),
                Err(e) => Err(e),
            }
        }
        _ => Err(app::AppError::Invalid(model::Invalid::one("action", "acknowledge, silence or open an incident"))),
    };
    match done {
        Ok(notice) => {
            let mut to = back.clone();
            to.push(("done".into(), notice));
            Redirect::to(&format!("/events?{}", serde_urlencoded::to_string(&to).unwrap_or_default())).into_response()
        }
        Err(app::AppError::Invalid(i)) => {
            events_view(&s, &ctx, back, String::new(), i.0, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => app_error_page(&s, &ctx, e),
    }
}
