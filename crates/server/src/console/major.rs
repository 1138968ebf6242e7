//! The status page (services' health and the majors under way), a major incident's panel
//! on its incident page (declare, post an update), and the post-incident review page.

use super::{Chrome, When, app_error_page, ctx_chrome, field, form_pairs, not_found_page, render, when};
use crate::extract::Ctx;
use crate::state::AppState;
use app::AppError;
use app::major::{MajorView, ReviewInput};
use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use model::major::{Declaration, Update, UpdateStatus};
use model::{FieldError, Perm};

/// A major as the pages show it.
pub struct MajorLine {
    pub number: String,
    pub short_description: String,
    pub commander: String,
    pub roles: String,
    pub every: i64,
    pub due: Option<When>,
    pub overdue: bool,
    pub ended: bool,
    /// (when, who, status, impact, actions), newest first.
    pub updates: Vec<(When, String, String, String, String)>,
}

pub fn major_line(m: &MajorView, now: i64) -> MajorLine {
    MajorLine {
        number: m.row.number.clone(),
        short_description: m.row.short_description.clone(),
        commander: m.row.commander.clone(),
        roles: m.roles.iter().map(|(r, w)| format!("{r}: {w}")).collect::<Vec<_>>().join(" · "),
        every: m.row.update_every_minutes,
        due: m.row.ended_at_ms.is_none().then(|| when(m.row.next_update_due_ms, now)),
        overdue: m.overdue,
        ended: m.row.ended_at_ms.is_some(),
        updates: m
            .updates
            .iter()
            .rev()
            .map(|u| (when(u.at_ms, now), u.author.clone(), u.status.clone(), u.impact.clone(), u.actions.clone()))
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    chrome: Chrome,
    /// (name, class, criticality, health, incidents)
    services: Vec<(String, String, String, &'static str, Vec<String>)>,
    majors: Vec<MajorLine>,
    down: usize,
    degraded: usize,
}

pub async fn status_page(State(s): State<AppState>, ctx: Ctx) -> Response {
    let now = s.app.now_ms();
    let board = match s.app.status_board(&ctx.actor()).await {
        Ok(b) => b,
        Err(e) => return app_error_page(&s, &ctx, e),
    };
    let count = |h: &str| board.services.iter().filter(|s| s.health == h).count();
    let (down, degraded) = (count("down"), count("degraded"));
    render(
        StatusCode::OK,
        &StatusPage {
            chrome: ctx_chrome(&s, &ctx, "Service status", "status"),
            majors: board.majors.iter().map(|m| major_line(m, now)).collect(),
            services: board
                .services
                .into_iter()
                .map(|x| (x.name, x.class, x.criticality, x.health, x.incidents))
                .collect(),
            down,
            degraded,
        },
    )
}

async fn back(s: &AppState, ctx: &Ctx, number: &str, r: app::Result<MajorView>) -> Response {
    match r {
        Ok(_) => Redirect::to(&format!("/incidents/{number}")).into_response(),
        Err(AppError::Invalid(i)) => super::incidents::incident_with_errors(s, ctx, number, i.0).await,
        Err(e) => app_error_page(s, ctx, e),
    }
}

pub async fn major_declare(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    let p = form_pairs(&body);
    let roles = [("communications", "communications"), ("scribe", "scribe"), ("technical lead", "technical_lead")]
        .into_iter()
        .filter(|(_, f)| !field(&p, f).trim().is_empty())
        .map(|(r, f)| (r.to_owned(), field(&p, f).trim().to_owned()))
        .collect();
    let d = Declaration {
        commander: field(&p, "commander").trim().to_owned(),
        roles,
        update_every_minutes: field(&p, "every").parse().unwrap_or(0),
    };
    let channels =
        field(&p, "channels").split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect();
    let r = s.app.declare_major(&ctx.actor(), &number, d, channels).await;
    back(&s, &ctx, &number, r).await
}

pub async fn major_update(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    let p = form_pairs(&body);
    let Some(status) = UpdateStatus::parse(field(&p, "status")) else {
        let e = vec![FieldError::new("status", "investigating, identified, monitoring or resolved")];
        return super::incidents::incident_with_errors(&s, &ctx, &number, e).await;
    };
    let u = Update { status, impact: field(&p, "impact").to_owned(), actions: field(&p, "actions").to_owned() };
    let r = s.app.post_update(&ctx.actor(), &number, u).await;
    back(&s, &ctx, &number, r).await
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    chrome: Chrome,
    number: String,
    short_description: String,
    priority: i64,
    /// (milestone, when)
    milestones: Vec<(&'static str, String)>,
    /// (to what, how long)
    durations: Vec<(&'static str, String)>,
    /// (clock, stage, percent, policy)
    clocks: Vec<(String, String, u32, String)>,
    services: Vec<(String, String)>,
    counts: String,
    major: Option<MajorLine>,
    /// (when, who, what, text), oldest first
    timeline: Vec<(String, String, String, String)>,
    written: ReviewInput,
    written_by: String,
    version: i64,
    can_write: bool,
    errors: Vec<FieldError>,
}

fn stamp(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

fn span(ms: i64) -> String {
    let m = ms / 60_000;
    if m >= 60 { format!("{} h {:02} min", m / 60, m % 60) } else { format!("{m} min") }
}

async fn review_response(
    s: &AppState,
    ctx: &Ctx,
    number: &str,
    errors: Vec<FieldError>,
    form: Option<ReviewInput>,
) -> Response {
    let now = s.app.now_ms();
    let actor = ctx.actor();
    let r = match s.app.review(&actor, number).await {
        Ok(r) => r,
        Err(e) => return app_error_page(s, ctx, e),
    };
    let m = &r.milestones;
    let milestones = [
        ("Opened", m.opened),
        ("Responded (taken)", m.responded),
        ("Declared major", m.declared_major),
        ("Mitigated", m.mitigated),
        ("Resolved", m.resolved),
        ("Closed", m.closed),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k, stamp(v?))))
    .collect();
    let durations = m.durations().into_iter().filter_map(|(k, v)| Some((k, span(v?)))).collect();
    let i = &r.incident;
    let written_row = r.written.clone();
    let written = form.unwrap_or_else(|| match &written_row {
        Some(w) => ReviewInput {
            summary: w.summary.clone(),
            root_cause: w.root_cause.clone(),
            went_well: w.went_well.clone(),
            to_improve: w.to_improve.clone(),
            follow_ups: w.follow_ups.clone(),
        },
        None => ReviewInput::default(),
    });
    let page = ReviewPage {
        chrome: ctx_chrome(s, ctx, &format!("Review of {number}"), "incidents"),
        number: i.row.number.clone(),
        short_description: i.row.short_description.clone(),
        priority: i.row.priority,
        milestones,
        durations,
        clocks: i
            .clocks
            .iter()
            .map(|c| {
                let stage = format!("{:?}", c.state.stage).to_lowercase();
                (c.name.clone(), stage, c.state.percent.round().clamp(0.0, 999.0) as u32, c.policy.clone())
            })
            .collect(),
        services: i.services.iter().map(|x| (x.service.clone(), x.status.clone())).collect(),
        counts: format!("{} stakeholder updates · {} escalations · {} pages", m.updates, m.escalations, m.pages),
        major: r.major.as_ref().map(|x| major_line(x, now)),
        timeline: i
            .journal
            .iter()
            .map(|j| {
                (stamp(j.at_ms), j.actor.clone(), j.state.clone().unwrap_or_else(|| j.kind.clone()), j.text.clone())
            })
            .collect(),
        written,
        written_by: written_row
            .as_ref()
            .map(|w| format!("{}, {}", w.author, stamp(w.updated_at_ms)))
            .unwrap_or_default(),
        version: written_row.as_ref().map_or(0, |w| w.version),
        can_write: actor.can(Perm::IncidentWork) && matches!(i.row.state.as_str(), "resolved" | "closed"),
        errors,
    };
    render(if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY }, &page)
}

pub async fn review_page(State(s): State<AppState>, ctx: Ctx, number: Result<Path<String>, PathRejection>) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    review_response(&s, &ctx, &number, Vec::new(), None).await
}

pub async fn review_save(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    let p = form_pairs(&body);
    let input = ReviewInput {
        summary: field(&p, "summary").to_owned(),
        root_cause: field(&p, "root_cause").to_owned(),
        went_well: field(&p, "went_well").to_owned(),
        to_improve: field(&p, "to_improve").to_owned(),
        follow_ups: field(&p, "follow_ups").to_owned(),
    };
    let version = field(&p, "version").parse().unwrap_or(0);
    match s.app.put_review(&ctx.actor(), &number, input.clone(), version).await {
        Ok(_) => Redirect::to(&format!("/incidents/{number}/review")).into_response(),
        Err(AppError::Invalid(i)) => review_response(&s, &ctx, &number, i.0, Some(input)).await,
        Err(AppError::Conflict(why)) => {
            review_response(&s, &ctx, &number, vec![FieldError::new("version", why)], Some(input)).await
        }
        Err(e) => app_error_page(&s, &ctx, e),
    }
}
