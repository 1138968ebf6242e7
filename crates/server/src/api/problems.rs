//! Problems under `/api/v1`: raise one for incidents, record its analysis and move it on,
//! and the known errors an incident may match.

use super::{ApiResult, rfc3339};
use crate::extract::{ApiJson, ApiPath, Ctx};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use app::problems::{AnalysisInput, ProblemView};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDto {
    pub number: String,
    pub short_description: String,
    /// new, assess, root-cause-analysis, fix-in-progress, resolved, closed.
    pub state: String,
    pub symptom: String,
    pub root_cause: String,
    pub contributing_factors: String,
    pub five_whys: Vec<String>,
    /// A workaround makes the problem a known error, suggested on matching incidents.
    pub workaround: String,
    pub known_error: bool,
    pub fix: String,
    pub close_code: String,
    pub incidents: Vec<String>,
    /// Corrective and preventive actions; corrective ones must be done before it is resolved.
    pub actions: Vec<ActionDto>,
    pub opened_by: String,
    pub opened_at: String,
    pub version: i64,
}

impl From<ProblemView> for ProblemDto {
    fn from(v: ProblemView) -> Self {
        let r = v.row;
        ProblemDto {
            number: r.number,
            short_description: r.short_description,
            state: r.state,
            symptom: r.symptom,
            root_cause: r.root_cause,
            contributing_factors: r.contributing_factors,
            five_whys: v.five_whys,
            known_error: !r.workaround.is_empty(),
            workaround: r.workaround,
            fix: r.fix,
            close_code: r.close_code,
            incidents: v.incidents,
            actions: v
                .actions
                .into_iter()
                .map(|a| ActionDto {
                    id: a.id,
                    kind: a.kind,
                    description: a.description,
                    owner: a.owner,
                    due_on: a.due_on,
                    state: a.state,
                    done_at: a.done_at_ms.map(rfc3339),
                    done_note: a.done_note,
                })
                .collect(),
            opened_by: r.opened_by,
            opened_at: rfc3339(r.opened_at_ms),
            version: r.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionDto {
    pub id: i64,
    /// corrective or preventive.
    pub kind: String,
    pub description: String,
    pub owner: String,
    /// YYYY-MM-DD.
    pub due_on: String,
    /// open or done.
    pub state: String,
    pub done_at: Option<String>,
    pub done_note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewActionDto {
    /// corrective (removes the cause) or preventive (stops it coming back).
    pub kind: String,
    pub description: String,
    /// The account that owns it.
    pub owner: String,
    /// YYYY-MM-DD, today or later.
    pub due_on: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoneDto {
    /// What was done.
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseDto {
    pub short_description: String,
    /// The incidents it explains (INC numbers), e.g. a recurrence.
    pub incidents: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkDto {
    /// Move to this state (what it needs is checked against the analysis as it will stand).
    pub state: Option<String>,
    pub symptom: Option<String>,
    pub root_cause: Option<String>,
    pub contributing_factors: Option<String>,
    pub five_whys: Option<Vec<String>>,
    pub workaround: Option<String>,
    pub fix: Option<String>,
    /// For closing: fix-applied, risk-accepted, duplicate, not-a-problem.
    pub close_code: Option<String>,
    pub version: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/problems", tag = "incidents", responses((status = 200, body = Vec<ProblemDto>)))]
pub async fn list(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<ProblemDto>>> {
    Ok(Json(s.app.problems(&ctx.actor()).await?.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/problems", tag = "incidents", request_body = RaiseDto,
    responses((status = 201, body = ProblemDto), (status = 422, body = Problem)))]
pub async fn raise(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<RaiseDto>,
) -> ApiResult<(StatusCode, Json<ProblemDto>)> {
    Ok((StatusCode::CREATED, Json(s.app.raise_problem(&ctx.actor(), &b.short_description, &b.incidents).await?.into())))
}

#[utoipa::path(get, path = "/api/v1/problems/{number}", tag = "incidents", params(("number" = String, Path)),
    responses((status = 200, body = ProblemDto), (status = 404, body = Problem)))]
pub async fn get(State(s): State<AppState>, ctx: Ctx, ApiPath(number): ApiPath<String>) -> ApiResult<Json<ProblemDto>> {
    Ok(Json(s.app.problem(&ctx.actor(), &number).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/problems/{number}", tag = "incidents", params(("number" = String, Path)),
    request_body = WorkDto,
    responses((status = 200, body = ProblemDto), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn work(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
    ApiJson(b): ApiJson<WorkDto>,
) -> ApiResult<Json<ProblemDto>> {
    let to = match b.state.as_deref() {
        None => None,
        Some(st) => Some(model::problem::State::parse(st).ok_or_else(|| {
            ApiError::Invalid(vec![FieldError::new(
                "state",
                "new, assess, root-cause-analysis, fix-in-progress, resolved or closed",
            )])
        })?),
    };
    let input = AnalysisInput {
        symptom: b.symptom,
        root_cause: b.root_cause,
        contributing_factors: b.contributing_factors,
        five_whys: b.five_whys,
        workaround: b.workaround,
        fix: b.fix,
        close_code: b.close_code,
    };
    Ok(Json(s.app.work_problem(&ctx.actor(), &number, input, to, b.version).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/incidents/{number}/known-errors", tag = "incidents", params(("number" = String, Path)),
    responses((status = 200, body = Vec<ProblemDto>, description = "Open problems with a workaround whose incidents \
        were on the same item (or in the same category)"), (status = 404, body = Problem)))]
pub async fn known_errors(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Json<Vec<ProblemDto>>> {
    Ok(Json(s.app.known_errors(&ctx.actor(), &number).await?.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/problems/{number}/actions", tag = "incidents", params(("number" = String, Path)),
    request_body = NewActionDto, responses((status = 201, body = ProblemDto), (status = 422, body = Problem)))]
pub async fn add_action(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
    ApiJson(b): ApiJson<NewActionDto>,
) -> ApiResult<(StatusCode, Json<ProblemDto>)> {
    let p = s.app.add_problem_action(&ctx.actor(), &number, &b.kind, &b.description, &b.owner, &b.due_on).await?;
    Ok((StatusCode::CREATED, Json(p.into())))
}

#[utoipa::path(post, path = "/api/v1/problems/{number}/actions/{id}/done", tag = "incidents",
    params(("number" = String, Path), ("id" = i64, Path)), request_body = DoneDto,
    responses((status = 200, body = ProblemDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn complete_action(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath((number, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<DoneDto>,
) -> ApiResult<Json<ProblemDto>> {
    let id: i64 = id.parse().map_err(|_| ApiError::Invalid(vec![FieldError::new("id", "an action number")]))?;
    Ok(Json(s.app.complete_problem_action(&ctx.actor(), &number, id, &b.note).await?.into()))
}
