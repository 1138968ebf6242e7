//! Major incidents under `/api/v1`: declare one, post stakeholder updates, the internal
//! status page, and the post-incident review.

use super::incidents::IncidentDto;
use super::{ApiResult, rfc3339};
use crate::extract::{ApiJson, ApiPath, Ctx};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use app::major::{MajorView, ReviewInput, StatusBoard};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::FieldError;
use model::major::{Declaration, Update, UpdateStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareDto {
    /// The incident commander (an account).
    pub commander: String,
    /// Other roles: `{"communications": "operator", "scribe": "viewer"}`.
    #[serde(default)]
    pub roles: std::collections::BTreeMap<String, String>,
    /// Stakeholder updates are promised every so many minutes (10–240).
    pub update_every_minutes: u32,
    /// Notification channels every update goes to.
    #[serde(default)]
    pub channels: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateDto {
    pub at: String,
    pub author: String,
    /// investigating, identified, monitoring or resolved.
    pub status: String,
    pub impact: String,
    pub actions: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MajorDto {
    pub number: String,
    pub short_description: String,
    pub declared_at: String,
    pub declared_by: String,
    pub commander: String,
    pub roles: std::collections::BTreeMap<String, String>,
    pub update_every_minutes: i64,
    pub channels: Vec<String>,
    pub next_update_due: Option<String>,
    /// The promised update is late.
    pub overdue: bool,
    pub ended_at: Option<String>,
    pub updates: Vec<UpdateDto>,
}

impl From<MajorView> for MajorDto {
    fn from(m: MajorView) -> Self {
        let r = m.row;
        MajorDto {
            number: r.number,
            short_description: r.short_description,
            declared_at: rfc3339(r.declared_at_ms),
            declared_by: r.declared_by,
            commander: r.commander,
            roles: m.roles.into_iter().collect(),
            update_every_minutes: r.update_every_minutes,
            channels: m.channels,
            next_update_due: r.ended_at_ms.is_none().then(|| rfc3339(r.next_update_due_ms)),
            overdue: m.overdue,
            ended_at: r.ended_at_ms.map(rfc3339),
            updates: m
                .updates
                .into_iter()
                .map(|u| UpdateDto {
                    at: rfc3339(u.at_ms),
                    author: u.author,
                    status: u.status,
                    impact: u.impact,
                    actions: u.actions,
                })
                .collect(),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/incidents/{number}/major", tag = "incidents", params(("number" = String, Path)),
    request_body = DeclareDto,
    responses((status = 201, body = MajorDto, description = "Declared, journaled, announced on the channels"),
        (status = 422, body = Problem, description = "Not a P1, not open, unknown people or channels, or already major")))]
pub async fn declare(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
    ApiJson(b): ApiJson<DeclareDto>,
) -> ApiResult<(StatusCode, Json<MajorDto>)> {
    let d = Declaration {
        commander: b.commander,
        roles: b.roles.into_iter().collect(),
        update_every_minutes: b.update_every_minutes,
    };
    let m = s.app.declare_major(&ctx.actor(), &number, d, b.channels).await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

#[utoipa::path(get, path = "/api/v1/incidents/{number}/major", tag = "incidents", params(("number" = String, Path)),
    responses((status = 200, body = MajorDto), (status = 404, body = Problem, description = "Not a major incident")))]
pub async fn get(State(s): State<AppState>, ctx: Ctx, ApiPath(number): ApiPath<String>) -> ApiResult<Json<MajorDto>> {
    match s.app.major(&ctx.actor(), &number).await? {
        Some(m) => Ok(Json(m.into())),
        None => Err(app::AppError::NotFound(format!("major incident {number}")).into()),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInput {
    /// investigating, identified, monitoring or resolved (which ends the major).
    pub status: String,
    /// Who and what is affected, for the stakeholders.
    pub impact: String,
    /// What is being done.
    pub actions: String,
}

#[utoipa::path(post, path = "/api/v1/incidents/{number}/updates", tag = "incidents", params(("number" = String, Path)),
    request_body = UpdateInput,
    responses((status = 201, body = MajorDto, description = "Posted; the next is due a cadence later"),
        (status = 422, body = Problem)))]
pub async fn post_update(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
    ApiJson(b): ApiJson<UpdateInput>,
) -> ApiResult<(StatusCode, Json<MajorDto>)> {
    let Some(status) = UpdateStatus::parse(&b.status) else {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "status",
            "investigating, identified, monitoring or resolved",
        )]));
    };
    let m = s.app.post_update(&ctx.actor(), &number, Update { status, impact: b.impact, actions: b.actions }).await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceHealthDto {
    pub name: String,
    pub class: String,
    pub criticality: String,
    /// down, degraded or operational.
    pub health: String,
    /// Open incidents affecting it.
    pub incidents: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusDto {
    /// Worst first.
    pub services: Vec<ServiceHealthDto>,
    pub majors: Vec<MajorDto>,
}

impl From<StatusBoard> for StatusDto {
    fn from(b: StatusBoard) -> Self {
        StatusDto {
            services: b
                .services
                .into_iter()
                .map(|s| ServiceHealthDto {
                    name: s.name,
                    class: s.class,
                    criticality: s.criticality,
                    health: s.health.into(),
                    incidents: s.incidents,
                })
                .collect(),
            majors: b.majors.into_iter().map(Into::into).collect(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/status", tag = "incidents",
    responses((status = 200, body = StatusDto, description = "The internal status page: services' health and the majors under way")))]
pub async fn status(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<StatusDto>> {
    Ok(Json(s.app.status_board(&ctx.actor()).await?.into()))
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct WrittenDto {
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub root_cause: String,
    #[serde(default)]
    pub went_well: String,
    #[serde(default)]
    pub to_improve: String,
    /// Follow-up actions, with owners and dates as the team writes them (problems carry the
    /// corrective actions that need tracking).
    #[serde(default)]
    pub follow_ups: String,
    /// 0 for a first version; then the version read.
    #[serde(default)]
    pub version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewDto {
    pub incident: IncidentDto,
    /// opened, responded, declared_major, mitigated, resolved, closed.
    pub milestones: std::collections::BTreeMap<String, Option<String>>,
    /// respond, mitigate, resolve: minutes from the opening.
    pub minutes_to: std::collections::BTreeMap<String, Option<i64>>,
    pub stakeholder_updates: usize,
    pub escalations: usize,
    pub pages: usize,
    pub major: Option<MajorDto>,
    pub written: Option<WrittenDto>,
    pub written_by: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/incidents/{number}/review", tag = "incidents", params(("number" = String, Path)),
    responses((status = 200, body = ReviewDto, description = "Assembled from the record, with the team's written part")))]
pub async fn review(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Json<ReviewDto>> {
    let r = s.app.review(&ctx.actor(), &number).await?;
    let m = &r.milestones;
    let milestones = [
        ("opened", m.opened),
        ("responded", m.responded),
        ("declared_major", m.declared_major),
        ("mitigated", m.mitigated),
        ("resolved", m.resolved),
        ("closed", m.closed),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.map(rfc3339)))
    .collect();
    let minutes_to = m.durations().into_iter().map(|(k, v)| (k.to_owned(), v.map(|ms| ms / 60_000))).collect();
    let (written, written_by) = match r.written {
        Some(w) => (
            Some(WrittenDto {
                summary: w.summary,
                root_cause: w.root_cause,
                went_well: w.went_well,
                to_improve: w.to_improve,
                follow_ups: w.follow_ups,
                version: w.version,
            }),
            Some(w.author),
        ),
        None => (None, None),
    };
    Ok(Json(ReviewDto {
        stakeholder_updates: m.updates,
        escalations: m.escalations,
        pages: m.pages,
        milestones,
        minutes_to,
        major: r.major.map(Into::into),
        incident: r.incident.into(),
        written,
        written_by,
    }))
}

#[utoipa::path(put, path = "/api/v1/incidents/{number}/review", tag = "incidents", params(("number" = String, Path)),
    request_body = WrittenDto,
    responses((status = 200, body = WrittenDto), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_review(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
    ApiJson(b): ApiJson<WrittenDto>,
) -> ApiResult<Json<WrittenDto>> {
    let input = ReviewInput {
        summary: b.summary,
        root_cause: b.root_cause,
        went_well: b.went_well,
        to_improve: b.to_improve,
        follow_ups: b.follow_ups,
    };
    let w = s.app.put_review(&ctx.actor(), &number, input, b.version).await?;
    Ok(Json(WrittenDto {
        summary: w.summary,
        root_cause: w.root_cause,
        went_well: w.went_well,
        to_improve: w.to_improve,
        follow_ups: w.follow_ups,
        version: w.version,
    }))
}
