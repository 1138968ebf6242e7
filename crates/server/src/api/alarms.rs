//! Alarms under `/api/v1`: the standing conditions events raised, with what correlation did
//! with each (the incident it fed, the failure it is a symptom of, the silence muting it),
//! and acknowledgement.

use super::events::EventDto;
use super::{ApiResult, rfc3339};
use crate::extract::{ApiPath, Ctx, QueryPairs};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use model::FieldError;
use serde::Serialize;
use std::collections::BTreeMap;
use store::AlarmFilter;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AlarmDto {
    pub id: i64,
    /// What makes two events the same condition: `item:7|interface|Gi0/1`, `alert:sw1/IfDown` (an alert's item or job, and its name).
    pub key: String,
    pub item_id: Option<i64>,
    pub source: String,
    pub kind: String,
    pub object: String,
    pub summary: String,
    /// The worst severity seen this episode: emergency … debug.
    pub severity: String,
    /// What silences match it on.
    pub labels: BTreeMap<String, String>,
    /// open or cleared.
    pub state: String,
    /// Raised by events that never say "recovered": it clears after an hour without a repeat.
    pub stateless: bool,
    /// It says its whole item is down.
    pub fails_item: bool,
    pub opened_at: String,
    pub last_at: String,
    pub cleared_at: Option<String>,
    /// Events this episode.
    pub count: i64,
    /// Nagios flap detection: it changes state too often to act on each change.
    pub flapping: bool,
    /// The failed item it sits behind: a symptom, not a cause.
    pub suppressed_by: Option<i64>,
    /// The silence muting it.
    pub silenced_by: Option<String>,
    /// The number of the incident it fed (for a suppressed alarm, its cause's incident).
    pub incident: Option<String>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<String>,
}

impl From<store::AlarmRow> for AlarmDto {
    fn from(r: store::AlarmRow) -> Self {
        AlarmDto {
            id: r.id,
            key: r.key,
            item_id: r.item_id,
            source: r.source,
            kind: r.kind,
            object: r.object,
            summary: r.summary,
            severity: super::events::severity_name(r.severity),
            labels: serde_json::from_str(&r.labels).unwrap_or_default(),
            state: if r.open { "open" } else { "cleared" }.into(),
            stateless: r.stateless,
            fails_item: r.fails_item,
            opened_at: rfc3339(r.opened_at_ms),
            last_at: rfc3339(r.last_at_ms),
            cleared_at: r.cleared_at_ms.map(rfc3339),
            count: r.count,
            flapping: r.flapping,
            suppressed_by: r.suppressed_by,
            silenced_by: Some(r.silenced_by).filter(|s| !s.is_empty()),
            incident: r.incident_number,
            acknowledged_by: r.acked_by,
            acknowledged_at: r.acked_at_ms.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlarmDetail {
    #[serde(flatten)]
    pub alarm: AlarmDto,
    /// Its latest events, newest first.
    pub events: Vec<EventDto>,
}

#[utoipa::path(get, path = "/api/v1/alarms", tag = "events",
    params(("state" = Option<String>, Query, description = "open (default) or all"),
        ("item" = Option<String>, Query, description = "An item's name or #id"),
        ("incident" = Option<String>, Query, description = "The incident's number"),
        ("limit" = Option<i64>, Query, description = "1–10000, default 500")),
    responses((status = 200, body = Vec<AlarmDto>, description = "The latest raised first")))]
pub async fn list(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Vec<AlarmDto>>> {
    let bad = |k: &str, why: &str| ApiError::Invalid(vec![FieldError::new(k, why)]);
    let mut f = AlarmFilter { open: true, limit: 500, ..AlarmFilter::default() };
    for (k, v) in pairs {
        match k.as_str() {
            "state" => {
                f.open = match v.as_str() {
                    "open" => true,
                    "all" => false,
                    _ => return Err(bad("state", "open or all")),
                }
            }
            "item" => match s.app.item_id_of(&v).await? {
                Some(id) => f.item_id = Some(id),
                None => return Err(bad("item", "no such item")),
            },
            "incident" => match s.app.incident_id_of(&v).await? {
                Some(id) => f.incident_id = Some(id),
                None => return Err(bad("incident", "no such incident")),
            },
            "limit" => {
                f.limit =
                    v.parse().ok().filter(|n| (1..=10_000).contains(n)).ok_or_else(|| bad("limit", "1 to 10000"))?
            }
            _ => return Err(bad(&k, "parameters: state, item, incident, limit")),
        }
    }
    Ok(Json(s.app.alarms(&ctx.actor(), &f).await?.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/api/v1/alarms/{id}", tag = "events",
    responses((status = 200, body = AlarmDetail), (status = 404, description = "No such alarm")))]
pub async fn get(State(s): State<AppState>, ctx: Ctx, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<AlarmDetail>> {
    let (alarm, events) = s.app.alarm(&ctx.actor(), id).await?;
    Ok(Json(AlarmDetail { alarm: alarm.into(), events: events.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(post, path = "/api/v1/alarms/{id}/ack", tag = "events",
    responses((status = 200, body = AlarmDto), (status = 404, description = "No such alarm")))]
pub async fn acknowledge(State(s): State<AppState>, ctx: Ctx, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<AlarmDto>> {
    Ok(Json(s.app.acknowledge_alarm(&ctx.actor(), id).await?.into()))
}
