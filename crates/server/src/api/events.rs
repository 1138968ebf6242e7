//! Events under `/api/v1`: what devices and Prometheus said (syslog, alerts firing and
//! resolving), typed and tied to their item and alarm, newest first.

use super::{ApiResult, rfc3339};
use crate::extract::{Ctx, QueryPairs};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use model::FieldError;
use serde::Serialize;
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
        }
    }
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(("kind" = Option<String>, Query), ("item" = Option<String>, Query, description = "An item's name or #id"),
        ("sender" = Option<String>, Query, description = "The address it came from"),
        ("q" = Option<String>, Query, description = "Words the text contains"),
        ("severity" = Option<String>, Query, description = "This severity and worse: error, warning…"),
        ("limit" = Option<i64>, Query, description = "1–1000, default 100")),
    responses((status = 200, body = Vec<EventDto>, description = "Newest first")))]
pub async fn list(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Vec<EventDto>>> {
    let bad = |k: &str, why: &str| ApiError::Invalid(vec![FieldError::new(k, why)]);
    let mut f = EventFilter { limit: 100, ..EventFilter::default() };
    for (k, v) in pairs {
        match k.as_str() {
            "kind" => f.kind = Some(v),
            "item" => match s.app.item_id_of(&v).await? {
                Some(id) => f.item_id = Some(id),
                None => return Err(bad("item", "no such item")),
            },
            "sender" => f.sender = Some(v),
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
            _ => return Err(bad(&k, "parameters: kind, item, sender, q, severity, limit")),
        }
    }
    Ok(Json(s.app.events(&ctx.actor(), &f).await?.into_iter().map(Into::into).collect()))
}
