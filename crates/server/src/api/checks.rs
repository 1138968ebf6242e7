//! Active checks under `/api/v1`: definitions (a probe, its timing, what it applies to), the
//! status board (every check on every item, with its soft/hard state and last output), and
//! a check's samples for graphs.

use super::{ApiResult, rfc3339};
use crate::extract::{ApiJson, ApiPath, Ctx, QueryPairs};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckDto {
    pub id: i64,
    pub name: String,
    /// The definition as written: probe (`icmp`, `tcp`, `http`, `plugin`, `snmp`, `dns`),
    /// interval_s, retry_interval_s, timeout_s, max_attempts, jitter_s.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    pub items: Vec<i64>,
    pub class: String,
    pub site: String,
    pub tag: String,
    pub enabled: bool,
}

impl From<app::checks::CheckView> for CheckDto {
    fn from(v: app::checks::CheckView) -> Self {
        CheckDto {
            id: v.row.id,
            name: v.row.name,
            spec: serde_json::to_value(&v.spec).unwrap_or_default(),
            items: v.item_ids,
            class: v.row.class,
            site: v.row.site,
            tag: v.row.tag,
            enabled: v.row.enabled,
        }
    }
}

/// A check to define: the spec's fields, and what it applies to. (Unknown fields land in
/// the spec, which refuses them.)
#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckBody {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    /// Items by name, `site/name` or `#id`.
    #[serde(default)]
    pub items: Vec<String>,
    /// Every item of this class or below.
    #[serde(default)]
    pub class: String,
    #[serde(default)]
    pub site: String,
    /// Every item whose custom attribute `tags` holds it.
    #[serde(default)]
    pub tag: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoardDto {
    pub check: String,
    /// icmp, tcp, http, dns, snmp or plugin.
    pub kind: String,
    pub item_id: i64,
    pub item: String,
    pub site: Option<String>,
    /// ok, warning, critical, unknown; `pending` before the first run.
    pub status: String,
    /// Confirmed (hard) or still being retried (soft).
    pub state_type: String,
    pub attempt: i64,
    pub output: String,
    #[schema(value_type = Vec<Object>)]
    pub perfdata: serde_json::Value,
    pub duration_ms: f64,
    pub last_run: Option<String>,
    pub last_change: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/checks", tag = "events", responses((status = 200, body = Vec<CheckDto>)))]
pub async fn list(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<CheckDto>>> {
    Ok(Json(s.app.checks(&ctx.actor()).await?.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/checks", tag = "events", request_body = CheckBody,
    responses((status = 201, body = CheckDto), (status = 422, description = "What is wrong, by field")))]
pub async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CheckBody>,
) -> ApiResult<(StatusCode, Json<CheckDto>)> {
    let spec: model::check::CheckSpec = serde_json::from_value(body.spec)
        .map_err(|e| ApiError::Invalid(vec![FieldError::new("probe", e.to_string())]))?;
    let input = app::checks::CheckInput {
        spec,
        items: body.items,
        class: body.class,
        site: body.site,
        tag: body.tag,
        enabled: body.enabled,
    };
    Ok((StatusCode::CREATED, Json(s.app.create_check(&ctx.actor(), input).await?.into())))
}

#[utoipa::path(delete, path = "/api/v1/checks/{id}", tag = "events",
    responses((status = 204), (status = 404, description = "No such check")))]
pub async fn delete(State(s): State<AppState>, ctx: Ctx, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    s.app.delete_check(&ctx.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/checks/board", tag = "events",
    params(("site" = Option<String>, Query, description = "One site's checks")),
    responses((status = 200, body = Vec<BoardDto>, description = "Worst first")))]
pub async fn board(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Vec<BoardDto>>> {
    let mut site = None;
    for (k, v) in pairs {
        match k.as_str() {
            "site" => site = Some(v),
            _ => return Err(ApiError::Invalid(vec![FieldError::new(&k, "parameters: site")])),
        }
    }
    let rows = s.app.check_board(&ctx.actor(), site.as_deref()).await?;
    let mut out: Vec<BoardDto> = rows
        .into_iter()
        .map(|r| {
            let st = r.state.as_ref();
            BoardDto {
                check: r.check,
                kind: r.kind.into(),
                item_id: r.item_id,
                item: r.item,
                site: r.site,
                status: st.map_or_else(|| "pending".into(), |s| s.status.clone()),
                state_type: st.map_or("hard", |s| if s.hard { "hard" } else { "soft" }).into(),
                attempt: st.map_or(0, |s| s.attempt),
                output: st.map(|s| s.output.clone()).unwrap_or_default(),
                perfdata: st.and_then(|s| serde_json::from_str(&s.perfdata).ok()).unwrap_or_default(),
                duration_ms: st.map_or(0.0, |s| s.duration_us as f64 / 1000.0),
                last_run: st.map(|s| rfc3339(s.last_run_ms)),
                last_change: st.map(|s| rfc3339(s.last_change_ms)),
            }
        })
        .collect();
    let rank = |s: &str| match s {
        "critical" => 0,
        "warning" => 1,
        "unknown" => 2,
        "pending" => 3,
        _ => 4,
    };
    out.sort_by(|a, b| (rank(&a.status), &a.item, &a.check).cmp(&(rank(&b.status), &b.item, &b.check)));
    Ok(Json(out))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SampleDto {
    pub at: String,
    /// The sample; for spans over 48 hours, the mean of an hour (`at` its middle).
    pub value: f64,
    /// The hour's lowest sample, for spans over 48 hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

#[utoipa::path(get, path = "/api/v1/checks/{id}/samples", tag = "events",
    params(("item" = i64, Query), ("label" = String, Query, description = "A performance-data label: rta, pl, time…"),
        ("hours" = Option<i64>, Query, description = "How far back, 1–9600 (default 24); over 48, hourly means with their minimum and maximum")),
    responses((status = 200, body = Vec<SampleDto>, description = "Oldest first")))]
pub async fn samples(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<i64>,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Vec<SampleDto>>> {
    let bad = |k: &str, why: &str| ApiError::Invalid(vec![FieldError::new(k, why)]);
    let (mut item, mut label, mut hours) = (None, None, 24);
    for (k, v) in pairs {
        match k.as_str() {
            "item" => item = Some(v.parse::<i64>().map_err(|_| bad("item", "an item's id"))?),
            "label" => label = Some(v),
            "hours" => {
                hours = v.parse().ok().filter(|h| (1..=9600).contains(h)).ok_or_else(|| bad("hours", "1 to 9600"))?
            }
            _ => return Err(bad(&k, "parameters: item, label, hours")),
        }
    }
    let (Some(item), Some(label)) = (item, label) else { return Err(bad("item", "item and label are required")) };
    let to = s.app.now_ms();
    let rows = s.app.check_samples(&ctx.actor(), id, item, &label, to - hours * 3_600_000, to).await?;
    Ok(Json(
        rows.into_iter()
            .map(|p| SampleDto {
                at: rfc3339(p.at),
                value: p.value,
                min: p.range.map(|r| r.0),
                max: p.range.map(|r| r.1),
            })
            .collect(),
    ))
}
