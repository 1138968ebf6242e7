//! The problem pages: the list with the recurrences that deserve a problem (raised in one
//! click), and a problem's page — its analysis and state, the incidents it explains, and its
//! corrective and preventive actions.

use super::{Chrome, app_error_page, ctx_chrome, field, form_pairs, not_found_page, render, when};
use crate::extract::Ctx;
use crate::state::AppState;
use app::AppError;
use app::problems::{AnalysisInput, ProblemView};
use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use model::{FieldError, Perm};

pub struct ProblemLine {
    pub number: String,
    pub short_description: String,
    pub state: String,
    pub known_error: bool,
    pub incidents: usize,
    pub open_actions: usize,
}

#[derive(Template)]
#[template(path = "problems.html")]
struct ProblemsPage {
    chrome: Chrome,
    problems: Vec<ProblemLine>,
    /// (what keeps coming back, incidents, numbers joined by commas)
    proposals: Vec<(String, usize, String)>,
    can_work: bool,
    errors: Vec<FieldError>,
}

async fn list(s: &AppState, ctx: &Ctx, errors: Vec<FieldError>) -> Response {
    let actor = ctx.actor();
    let problems = match s.app.problems(&actor).await {
        Ok(p) => p,
        Err(e) => return app_error_page(s, ctx, e),
    };
    let explained: Vec<String> = problems.iter().flat_map(|p| p.incidents.clone()).collect();
    let proposals = s
        .app
        .recurring(&actor, 7, 3)
        .await
        .unwrap_or_default()
        .into_iter()
        // A recurrence already explained by a problem is not proposed again.
        .filter(|r| !r.numbers.iter().all(|n| explained.contains(n)))
        .map(|r| (r.key.clone(), r.numbers.len(), r.numbers.join(",")))
        .collect();
    let page = ProblemsPage {
        chrome: ctx_chrome(s, ctx, "Problems", "problems"),
        problems: problems
            .iter()
            .map(|p| ProblemLine {
                number: p.row.number.clone(),
                short_description: p.row.short_description.clone(),
                state: p.row.state.clone(),
                known_error: !p.row.workaround.is_empty(),
                incidents: p.incidents.len(),
                open_actions: p.actions.iter().filter(|a| a.state == "open").count(),
            })
            .collect(),
        proposals,
        can_work: actor.can(Perm::IncidentWork),
        errors,
    };
    render(if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY }, &page)
}

pub async fn problems_page(State(s): State<AppState>, ctx: Ctx) -> Response {
    list(&s, &ctx, Vec::new()).await
}

pub async fn problems_raise(State(s): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let p = form_pairs(&body);
    let incidents: Vec<String> =
        field(&p, "incidents").split(',').map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned).collect();
    match s.app.raise_problem(&ctx.actor(), field(&p, "short_description"), &incidents).await {
        Ok(v) => Redirect::to(&format!("/problems/{}", v.row.number)).into_response(),
        Err(AppError::Invalid(i)) => list(&s, &ctx, i.0).await,
        Err(e) => app_error_page(&s, &ctx, e),
    }
}

pub struct ActionLine {
    pub id: i64,
    pub kind: String,
    pub description: String,
    pub owner: String,
    pub due_on: String,
    pub open: bool,
    pub overdue: bool,
    pub done: String,
}

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage {
    chrome: Chrome,
    p: ProblemView,
    whys: String,
    moves: Vec<&'static str>,
    close_codes: [&'static str; 4],
    actions: Vec<ActionLine>,
    people: Vec<String>,
    can_work: bool,
    errors: Vec<FieldError>,
}

async fn page(s: &AppState, ctx: &Ctx, number: &str, errors: Vec<FieldError>) -> Response {
    let actor = ctx.actor();
    let now = s.app.now_ms();
    let p = match s.app.problem(&actor, number).await {
        Ok(p) => p,
        Err(e) => return app_error_page(s, ctx, e),
    };
    let today = model::kpi::day(now);
    let from = model::problem::State::parse(&p.row.state).unwrap_or(model::problem::State::New);
    let page = ProblemPage {
        chrome: ctx_chrome(s, ctx, &format!("{} {}", p.row.number, p.row.short_description), "problems"),
        whys: p.five_whys.join("\n"),
        moves: model::problem::TRANSITIONS.iter().filter(|t| t.0 == from).map(|t| t.1.as_str()).collect(),
        close_codes: model::problem::CLOSE_CODES,
        actions: p
            .actions
            .iter()
            .map(|a| ActionLine {
                id: a.id,
                kind: a.kind.clone(),
                description: a.description.clone(),
                owner: a.owner.clone(),
                due_on: a.due_on.clone(),
                open: a.state == "open",
                overdue: a.state == "open" && a.due_on < today,
                done: a.done_at_ms.map(|d| format!("{} — {}", when(d, now).rel, a.done_note)).unwrap_or_default(),
            })
            .collect(),
        people: s.app.on_call_people().await.unwrap_or_default(),
        can_work: actor.can(Perm::IncidentWork),
        errors,
        p,
    };
    render(if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY }, &page)
}

pub async fn problem_page(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    page(&s, &ctx, &number, Vec::new()).await
}

async fn back(s: &AppState, ctx: &Ctx, number: &str, r: app::Result<ProblemView>) -> Response {
    match r {
        Ok(_) => Redirect::to(&format!("/problems/{number}")).into_response(),
        Err(AppError::Invalid(i)) => page(s, ctx, number, i.0).await,
        Err(AppError::Conflict(why)) => page(s, ctx, number, vec![FieldError::new("version", why)]).await,
        Err(e) => app_error_page(s, ctx, e),
    }
}

pub async fn problem_work(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    let p = form_pairs(&body);
    let text = |k: &str| Some(field(&p, k).to_owned());
    let input = AnalysisInput {
        symptom: text("symptom"),
        root_cause: text("root_cause"),
        contributing_factors: text("contributing_factors"),
        five_whys: Some(
            field(&p, "five_whys").lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect(),
        ),
        workaround: text("workaround"),
        fix: text("fix"),
        close_code: text("close_code"),
    };
    let to = match field(&p, "state") {
        "" => None,
        st => match model::problem::State::parse(st) {
            Some(st) => Some(st),
            None => return page(&s, &ctx, &number, vec![FieldError::new("state", "choose a state")]).await,
        },
    };
    let r = s.app.work_problem(&ctx.actor(), &number, input, to, field(&p, "version").parse().ok()).await;
    back(&s, &ctx, &number, r).await
}

pub async fn problem_action(
    State(s): State<AppState>,
    ctx: Ctx,
    number: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(number)) = number else { return not_found_page() };
    let p = form_pairs(&body);
    let r = s
        .app
        .add_problem_action(
            &ctx.actor(),
            &number,
            field(&p, "kind"),
            field(&p, "description"),
            field(&p, "owner"),
            field(&p, "due_on"),
        )
        .await;
    back(&s, &ctx, &number, r).await
}

pub async fn problem_action_done(
    State(s): State<AppState>,
    ctx: Ctx,
    path: Result<Path<(String, i64)>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path((number, id))) = path else { return not_found_page() };
    let p = form_pairs(&body);
    let r = s.app.complete_problem_action(&ctx.actor(), &number, id, field(&p, "note")).await;
    back(&s, &ctx, &number, r).await
}
