//! Events under `/api/v1`: what devices and Prometheus said (syslog, alerts firing and
//! resolving), typed and tied to their item and alarm, newest first.

use super::{ApiResult, rfc3339};
use crate::extract::{ApiJson, Ctx, QueryPairs};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use model::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::EventFilter;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct EventDto {
    pub id: i64,
    pub received_at: String,
    /// When the sender says it happened.
    pub occurred_at: Option<String>,
    /// syslog, alertmanager, watchkeeper (clears it made itself).
    pub source: String,
    /// The address it came from.
    pub sender: String,
    /// The name it gave itself.
    pub host: String,
    /// The configuration item it is about, when the CMDB knows the sender (by management
    /// address, then by name).
    pub item_id: Option<i64>,
    /// interface, line-protocol, ospf.adjacency, bgp.session, stp.block, stp.topology-change,
    /// hsrp.state, vrrp.state, firewall.deny, or raw.
    pub kind: String,
    pub object: String,
    pub up: Option<bool>,
    /// emergency, alert, critical, error, warning, notice, info, debug.
    pub severity: String,
    pub mnemonic: String,
    pub text: String,
    pub fields: BTreeMap<String, String>,
    /// The alarm it raised, repeated or cleared, once correlated.
    pub alarm_id: Option<i64>,
    /// The incident it fed, once its alarm was routed to one (or someone opened one from it).
    pub incident: Option<String>,
}

/// Syslog's name for a severity number.
pub fn severity_name(n: i64) -> String {
    usize::try_from(n)
        .ok()
        .and_then(|s| model::event::SEVERITIES.get(s))
        .map_or_else(|| n.to_string(), |s| (*s).to_owned())
}

impl From<store::EventRow> for EventDto {
    fn from(r: store::EventRow) -> Self {
        EventDto {
            id: r.id,
            received_at: rfc3339(r.received_at_ms),
            occurred_at: r.occurred_at_ms.map(rfc3339),
            source: r.source,
            sender: r.sender,
            host: r.host,
            item_id: r.item_id,
            kind: r.kind,
            object: r.object,
            up: r.up,
            severity: severity_name(r.severity),
            mnemonic: r.mnemonic,
            text: r.text,
            fields: serde_json::from_str(&r.fields).unwrap_or_default(),
            alarm_id: r.alarm_id,
            incident: r.incident_number,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(("kind" = Option<String>, Query), ("item" = Option<String>, Query, description = "An item's name or #id"),
        ("sender" = Option<String>, Query, description = "The address it came from"),
        ("incident" = Option<String>, Query, description = "Only the events that fed this incident (its number)"),
        ("q" = Option<String>, Query, description = "Whole words the text contains, any case; a word ending in * matches the start of a word; an interface name matches every spelling (Gi0/1, GigabitEthernet0/1)"),
        ("severity" = Option<String>, Query, description = "This severity and worse: error, warning…"),
        ("limit" = Option<i64>, Query, description = "1–1000, default 100")),
    responses((status = 200, body = Vec<EventDto>, description = "Newest first")))]
pub async fn list(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Vec<EventDto>>> {
    let f = filter(&s, &pairs, &[]).await?;
    Ok(Json(s.app.events(&ctx.actor(), &f).await?.into_iter().map(Into::into).collect()))
}

fn bad(k: &str, why: &str) -> ApiError {
    ApiError::Invalid(vec![FieldError::new(k, why)])
}

/// An event list's filter from its query parameters; `also` names parameters the caller
/// reads itself.
pub(crate) async fn filter(s: &AppState, pairs: &[(String, String)], also: &[&str]) -> ApiResult<EventFilter> {
    let mut f = EventFilter { limit: 100, ..EventFilter::default() };
    for (k, v) in pairs {
        let v = v.trim();
        if v.is_empty() && k != "limit" {
            continue;
        }
        match k.as_str() {
            "kind" => f.kind = Some(v.to_owned()),
            "source" => f.source = Some(v.to_owned()),
            "item" => match s.app.item_id_of(v).await? {
                Some(id) => f.item_id = Some(id),
                None => return Err(bad("item", &format!("no item `{v}`: give its name or #id"))),
            },
            "sender" => f.sender = Some(v.to_owned()),
            "incident" => match s.app.incident_id_of(v).await? {
                Some(id) => f.incident_id = Some(id),
                None => return Err(bad("incident", &format!("no incident `{v}`: give its number, as INC0000001"))),
            },
            "q" => f.words = v.split_whitespace().map(str::to_owned).collect(),
            "severity" => {
                let level = model::event::SEVERITIES.iter().position(|n| *n == v).ok_or_else(|| {
                    bad("severity", "emergency, alert, critical, error, warning, notice, info or debug")
                })?;
                f.max_severity = i64::try_from(level).ok();
            }
            "limit" => {
                f.limit = v.parse().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| bad("limit", "1 to 1000"))?
            }
            k if also.contains(&k) => {}
            _ => return Err(bad(k, "parameters: kind, source, item, sender, incident, q, severity, limit")),
        }
    }
    Ok(f)
}

#[utoipa::path(get, path = "/api/v1/events/stream", tag = "events",
    params(("kind" = Option<String>, Query), ("source" = Option<String>, Query, description = "syslog, snmp, alertmanager, check, watchkeeper"),
        ("item" = Option<String>, Query, description = "An item's name or #id"),
        ("sender" = Option<String>, Query), ("q" = Option<String>, Query, description = "Whole words the text contains, any case; a word ending in * matches the start of a word; an interface name matches every spelling (Gi0/1, GigabitEthernet0/1)"),
        ("severity" = Option<String>, Query, description = "This severity and worse"),
        ("after" = Option<i64>, Query, description = "Send the events stored after this one; by default only new ones")),
    responses((status = 200, content_type = "text/event-stream", body = EventDto,
        description = "Server-sent events: one `event` per stored event that passes the filter, oldest first, its id the event's; a `Last-Event-ID` header resumes after it.")))]
/// Follows the events as they are stored, filtered as the list is: the live event console.
pub async fn stream(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<axum::response::Response> {
    let after = super::resume_after(&headers, &pairs)?;
    let mut f = filter(&s, &pairs, &["after"]).await?;
    let actor = ctx.actor();
    let start = match after {
        Some(a) => a,
        // Only what comes next: the newest event the actor may read is the start.
        None => {
            s.app.events(&actor, &EventFilter { limit: 1, ..EventFilter::default() }).await?.first().map_or(0, |e| e.id)
        }
    };
    f.limit = 500;
    let app = s.app.clone();
    Ok(super::follow("event", start, move |cursor| {
        let (app, actor, mut f) = (app.clone(), actor.clone(), f.clone());
        f.after_id = Some(cursor);
        async move {
            let rows = app.events(&actor, &f).await.map_err(|e| e.to_string())?;
            Ok(rows
                .into_iter()
                .map(|r| {
                    let id = r.id;
                    (id, serde_json::to_string(&EventDto::from(r)).unwrap_or_default())
                })
                .collect())
        }
    }))
}

/// A selection of events and what to do with it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectionDto {
    /// Event ids, at most 500.
    pub events: Vec<i64>,
    /// For a silence: how long, 1 to 744 hours.
    #[serde(default)]
    pub hours: Option<i64>,
    /// For a silence: why.
    #[serde(default)]
    pub comment: String,
    /// For an incident: its short description; by default the worst event's item and text.
    #[serde(default)]
    pub short_description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActedDto {
    /// Alarms acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<usize>,
    /// Silences created.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub silences: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/events/acknowledge", tag = "events", request_body = SelectionDto,
    responses((status = 200, body = ActedDto, description = "The alarms the events raised, acknowledged"),
        (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn acknowledge(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<SelectionDto>,
) -> ApiResult<Json<ActedDto>> {
    let n = s.app.acknowledge_events(&ctx.actor(), &b.events).await?;
    Ok(Json(ActedDto { acknowledged: Some(n), silences: Vec::new() }))
}

#[utoipa::path(post, path = "/api/v1/events/silence", tag = "events", request_body = SelectionDto,
    responses((status = 200, body = ActedDto, description = "One silence per item (or sender) and kind of event"),
        (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn silence(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<SelectionDto>,
) -> ApiResult<Json<ActedDto>> {
    let hours = b.hours.ok_or_else(|| bad("hours", "how long the silence lasts, 1 to 744 hours"))?;
    let made = s.app.silence_events(&ctx.actor(), &b.events, hours, &b.comment).await?;
    Ok(Json(ActedDto { acknowledged: None, silences: made }))
}

#[utoipa::path(post, path = "/api/v1/events/incident", tag = "events", request_body = SelectionDto,
    responses((status = 201, body = super::incidents::IncidentDto, description = "The incident, its alarms attached"),
        (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn incident(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<SelectionDto>,
) -> ApiResult<(axum::http::StatusCode, Json<super::incidents::IncidentDto>)> {
    let opened = s.app.open_incident_from_events(&ctx.actor(), &b.events, &b.short_description).await?;
    Ok((axum::http::StatusCode::CREATED, Json(opened.into())))
}
