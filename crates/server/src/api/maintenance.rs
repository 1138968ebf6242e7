//! Maintenance windows under `/api/v1`: planned work during which alarms on the items covered
//! open no incident.

use super::{ApiResult, rfc3339};
use crate::extract::{ApiJson, ApiPath, Ctx};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::FieldError;
use model::maintenance::{Coverage, Schedule};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct WindowDto {
    pub id: i64,
    pub name: String,
    pub reason: String,
    /// items (ids), site, class.
    #[schema(value_type = Object)]
    pub coverage: serde_json::Value,
    /// `{"type": "once", "starts_at", "ends_at"}` (epoch ms) or `{"type": "weekly", "days",
    /// "start", "minutes", "time_zone"}`.
    #[schema(value_type = Object)]
    pub schedule: serde_json::Value,
    /// Open now.
    pub active: bool,
    pub created_by: String,
    pub created_at: String,
}

fn dto(w: app::maintenance::Window, now: i64) -> WindowDto {
    WindowDto {
        id: w.row.id,
        active: w.active(now),
        name: w.row.name,
        reason: w.row.reason,
        coverage: serde_json::to_value(&w.coverage).unwrap_or_default(),
        schedule: serde_json::to_value(&w.schedule).unwrap_or_default(),
        created_by: w.row.created_by,
        created_at: rfc3339(w.row.created_at_ms),
    }
}

/// A window to schedule; items by name or `#id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowBody {
    pub name: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default)]
    pub site: String,
    #[serde(default)]
    pub class: String,
    #[schema(value_type = Object)]
    pub schedule: Schedule,
}

#[utoipa::path(get, path = "/api/v1/maintenance", tag = "events", responses((status = 200, body = Vec<WindowDto>)))]
pub async fn list(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<WindowDto>>> {
    let now = s.app.now_ms();
    Ok(Json(s.app.maintenance_windows(&ctx.actor()).await?.into_iter().map(|w| dto(w, now)).collect()))
}

#[utoipa::path(post, path = "/api/v1/maintenance", tag = "events", request_body = WindowBody,
    responses((status = 201, body = WindowDto), (status = 422, description = "What is wrong, by field")))]
pub async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<WindowBody>,
) -> ApiResult<(StatusCode, Json<WindowDto>)> {
    let mut items = Vec::new();
    for r in &body.items {
        match s.app.item_id_of(r).await? {
            Some(id) => items.push(id),
            None => return Err(ApiError::Invalid(vec![FieldError::new("items", format!("no item `{r}`"))])),
        }
    }
    let coverage = Coverage { items, site: body.site, class: body.class };
    let w = s.app.create_window(&ctx.actor(), &body.name, &body.reason, coverage, body.schedule).await?;
    Ok((StatusCode::CREATED, Json(dto(w, s.app.now_ms()))))
}

#[utoipa::path(delete, path = "/api/v1/maintenance/{id}", tag = "events",
    responses((status = 204), (status = 404, description = "No such window")))]
pub async fn delete(State(s): State<AppState>, ctx: Ctx, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    s.app.delete_window(&ctx.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
