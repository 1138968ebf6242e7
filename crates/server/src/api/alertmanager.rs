//! Alertmanager's HTTP API v2 under `/api/v2`, enough to stand in for an Alertmanager:
//! Prometheus posts its alerts here, `amtool alert query` and `amtool silence add|query|expire`
//! work against it, and an existing Alertmanager can forward to `/api/v2/webhook` (its
//! webhook, version 4). Shapes follow Alertmanager's `openapi.yaml`; the behaviour (defaults,
//! partial acceptance, fingerprints, silence rules) lives in `model::alert`, decoding in
//! `intake`. Refusals carry Alertmanager's status codes, and are said as it says them: a JSON
//! string ([`errors_as_alertmanager`]).

use crate::extract::{ApiPath, Ctx, QueryPairs};
use crate::problem::ApiError;
use crate::state::AppState;
use app::alerts::{AlertQuery, AlertView, RECEIVER, SilenceInput};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use model::FieldError;
use model::alert::{LabelSet, MatchOp, Matcher, Received, Silence, fingerprint_hex};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::rfc3339;

type Result<T> = std::result::Result<T, ApiError>;

/// An instant as Alertmanager writes it; Watchkeeper's "until it is resolved" as Go's zero.
fn when(ms: i64) -> String {
    if ms == i64::MAX { "0001-01-01T00:00:00Z".into() } else { rfc3339(ms) }
}

fn received(s: &AppState) -> Received {
    Received { now: s.app.now_ms(), resolve_timeout_ms: s.app.settings().resolve_timeout_ms }
}

/// Stores what decoded and answers 200, or — when some alerts of the batch were refused —
/// 400 naming each (the others are stored all the same: Alertmanager's partial acceptance).
async fn store_batch(
    s: &AppState,
    ctx: &Ctx,
    batch: std::result::Result<intake::alertmanager::Batch, String>,
) -> Result<Response> {
    let batch = batch.map_err(|e| {
        s.metrics.intake("alertmanager", "unreadable", 1);
        tracing::info!(error = %e, source = %ctx.source, "An alert body did not decode.");
        ApiError::BadRequest(e)
    })?;
    let (stored, refused) = (batch.alerts.len(), batch.errors.len());
    s.app.receive_alerts(&ctx.actor(), batch.alerts).await?;
    s.metrics.intake("alertmanager", "stored", stored);
    if refused > 0 {
        s.metrics.intake("alertmanager", "refused", refused);
        tracing::info!(stored, refused, source = %ctx.source, "Alerts refused in part.");
        let fields = batch.errors.into_iter().map(|e| FieldError::new("alerts", e)).collect();
        return Err(ApiError::InvalidRequest(fields));
    }
    Ok(StatusCode::OK.into_response())
}

/// Alertmanager's clients (amtool, its Go client) read only the media types its API declares,
/// and an error there is a JSON string as `application/json`; a problem document would reach
/// the user as "no consumer: application/problem+json". So under `/api/v2` every refusal,
/// the access guard's included, is said again in Alertmanager's shape with the same words.
pub async fn errors_as_alertmanager(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use axum::http::{HeaderValue, header};
    let ours = req.uri().path().starts_with("/api/v2/");
    let resp = next.run(req).await;
    if !ours || resp.headers().get(header::CONTENT_TYPE).is_none_or(|v| v != "application/problem+json") {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    // Problem documents are a few hundred bytes; one that is not is said by its status.
    let problem: Value = axum::body::to_bytes(body, 1 << 20)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let fields: Vec<String> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| format!("{}: {}", e["field"].as_str().unwrap_or(""), e["message"].as_str().unwrap_or("")))
        .collect();
    let said = if fields.is_empty() {
        [problem["title"].as_str(), problem["detail"].as_str()].into_iter().flatten().collect::<Vec<_>>().join(": ")
    } else {
        fields.join("; ")
    };
    let said = if said.is_empty() { parts.status.to_string() } else { said };
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(serde_json::to_vec(&said).unwrap_or_default()))
}

/// `POST /api/v2/alerts`: what Prometheus and `amtool alert add` send.
pub async fn post_alerts(State(s): State<AppState>, ctx: Ctx, body: Bytes) -> Result<Response> {
    let batch = intake::alertmanager::decode_alerts(&body, received(&s));
    store_batch(&s, &ctx, batch).await
}

/// `POST /api/v2/webhook`: an Alertmanager's webhook receiver (version 4) pointed here.
pub async fn post_webhook(State(s): State<AppState>, ctx: Ctx, body: Bytes) -> Result<Response> {
    let batch = intake::alertmanager::decode_webhook(&body, received(&s));
    store_batch(&s, &ctx, batch).await
}

fn flag(pairs: &[(String, String)], name: &str) -> Result<bool> {
    match pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str()) {
        None => Ok(true),
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(v) => Err(ApiError::BadRequest(format!("{name}={v}: true or false"))),
    }
}

fn filters(pairs: &[(String, String)]) -> Result<Vec<Matcher>> {
    let mut out = Vec::new();
    for (_, f) in pairs.iter().filter(|(k, _)| k == "filter") {
        out.extend(Matcher::parse_set(f).map_err(|e| ApiError::BadRequest(format!("filter {f:?}: {e}")))?);
    }
    Ok(out)
}

fn query(pairs: &[(String, String)]) -> Result<AlertQuery> {
    for (k, _) in pairs {
        if !["active", "silenced", "inhibited", "unprocessed", "filter", "receiver", "muted"].contains(&k.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "`{k}` is not a parameter; use active, silenced, inhibited, unprocessed, filter, receiver"
            )));
        }
    }
    Ok(AlertQuery {
        active: flag(pairs, "active")?,
        silenced: flag(pairs, "silenced")?,
        inhibited: flag(pairs, "inhibited")?,
        unprocessed: flag(pairs, "unprocessed")?,
        filter: filters(pairs)?,
        receiver: pairs.iter().find(|(k, _)| k == "receiver").map(|(_, v)| v.clone()),
    })
}

#[derive(Serialize)]
pub struct GettableAlert {
    labels: LabelSet,
    annotations: LabelSet,
    #[serde(rename = "generatorURL")]
    generator_url: String,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "endsAt")]
    ends_at: String,
    #[serde(rename = "updatedAt")]
    updated_at: String,
    fingerprint: String,
    receivers: Vec<Value>,
    status: Value,
}

fn gettable(v: AlertView) -> GettableAlert {
    let state = if v.silenced_by.is_empty() { "active" } else { "suppressed" };
    GettableAlert {
        starts_at: when(v.alert.starts_at),
        ends_at: when(v.alert.ends_at),
        updated_at: when(v.alert.updated_at),
        fingerprint: fingerprint_hex(v.fingerprint),
        receivers: vec![json!({ "name": RECEIVER })],
        status: json!({ "state": state, "silencedBy": v.silenced_by, "inhibitedBy": [], "mutedBy": [] }),
        labels: v.alert.labels,
        annotations: v.alert.annotations,
        generator_url: v.alert.generator_url,
    }
}

/// `GET /api/v2/alerts`.
pub async fn get_alerts(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<Vec<GettableAlert>>> {
    let q = query(&pairs)?;
    Ok(Json(s.app.alerts(&ctx.actor(), &q).await?.into_iter().map(gettable).collect()))
}

/// `GET /api/v2/alerts/groups`: one group per `alertname` (the route Watchkeeper is: one
/// receiver, grouped by alert name).
pub async fn get_groups(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<Vec<Value>>> {
    let q = query(&pairs)?;
    let mut groups: BTreeMap<String, Vec<GettableAlert>> = BTreeMap::new();
    for v in s.app.alerts(&ctx.actor(), &q).await? {
        let name = v.alert.labels.get("alertname").cloned().unwrap_or_default();
        groups.entry(name).or_default().push(gettable(v));
    }
    Ok(Json(
        groups
            .into_iter()
            .map(|(name, alerts)| json!({ "labels": { "alertname": name }, "receiver": { "name": RECEIVER }, "alerts": alerts }))
            .collect(),
    ))
}

/// What Watchkeeper's "configuration" as an Alertmanager is: one receiver, grouped by name.
const CONFIG: &str = "route:\n  receiver: watchkeeper\n  group_by: [alertname]\nreceivers:\n- name: watchkeeper\n";

/// `GET /api/v2/status`: amtool asks it before every command.
pub async fn status(State(s): State<AppState>) -> Json<Value> {
    let up = s.app.now_ms() - i64::try_from(s.started.elapsed().as_millis()).unwrap_or(0);
    Json(json!({
        "cluster": { "status": "disabled", "peers": [] },
        "versionInfo": { "version": env!("CARGO_PKG_VERSION"), "revision": "watchkeeper", "branch": "",
                         "buildUser": "", "buildDate": "", "goVersion": "none (Watchkeeper is Rust)" },
        "config": { "original": CONFIG },
        "uptime": rfc3339(up),
    }))
}

/// `GET /api/v2/receivers`.
pub async fn receivers() -> Json<Value> {
    Json(json!([{ "name": RECEIVER }]))
}

#[derive(Deserialize)]
struct PostableMatcher {
    name: String,
    value: String,
    #[serde(rename = "isRegex")]
    is_regex: bool,
    #[serde(rename = "isEqual", default = "yes")]
    is_equal: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct PostableSilence {
    #[serde(default)]
    id: Option<String>,
    matchers: Vec<PostableMatcher>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "endsAt")]
    ends_at: String,
    #[serde(rename = "createdBy")]
    created_by: String,
    comment: String,
}

fn gettable_silence(s: &Silence, now: i64) -> Value {
    json!({
        "id": s.id,
        "status": { "state": s.state(now).as_str() },
        "updatedAt": rfc3339(s.updated_at),
        "matchers": s.matchers.iter().map(|m| json!({
            "name": m.name, "value": m.value, "isRegex": m.op.is_regex(), "isEqual": m.op.is_equal()
        })).collect::<Vec<_>>(),
        "startsAt": rfc3339(s.starts_at),
        "endsAt": rfc3339(s.ends_at),
        "createdBy": s.created_by,
        "comment": s.comment,
    })
}

/// `GET /api/v2/silences`.
pub async fn get_silences(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<Vec<Value>>> {
    let filter = filters(&pairs)?;
    let now = s.app.now_ms();
    Ok(Json(s.app.silences(&ctx.actor(), &filter).await?.iter().map(|x| gettable_silence(x, now)).collect()))
}

/// `POST /api/v2/silences`: create, or change the one `id` names.
pub async fn post_silence(State(s): State<AppState>, ctx: Ctx, body: Bytes) -> Result<Json<Value>> {
    let p: PostableSilence =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("parsing silence body failed: {e}")))?;
    let mut bad = Vec::new();
    let mut matchers = Vec::new();
    for (i, m) in p.matchers.iter().enumerate() {
        match Matcher::new(&m.name, MatchOp::from_flags(m.is_regex, m.is_equal), &m.value) {
            Ok(m) => matchers.push(m),
            Err(e) => bad.push(FieldError::new(format!("matchers[{i}]"), e)),
        }
    }
    let mut instant = |field: &str, raw: &str| match super::parse_rfc3339(field, raw) {
        Ok(t) => t,
        Err(e) => {
            bad.push(e);
            0
        }
    };
    let (starts_at, ends_at) = (instant("startsAt", &p.starts_at), instant("endsAt", &p.ends_at));
    if !bad.is_empty() {
        return Err(ApiError::InvalidRequest(bad));
    }
    let input = SilenceInput {
        id: p.id.filter(|i| !i.is_empty()),
        matchers,
        starts_at,
        ends_at,
        created_by: p.created_by,
        comment: p.comment,
    };
    let id = s.app.put_silence(&ctx.actor(), input).await.map_err(|e| match ApiError::from(e) {
        // Alertmanager answers a silence it cannot take with 400.
        ApiError::Invalid(f) => ApiError::InvalidRequest(f),
        other => other,
    })?;
    Ok(Json(json!({ "silenceID": id })))
}

/// `GET /api/v2/silence/{id}`.
pub async fn get_silence(State(s): State<AppState>, ctx: Ctx, ApiPath(id): ApiPath<String>) -> Result<Json<Value>> {
    let now = s.app.now_ms();
    Ok(Json(gettable_silence(&s.app.silence(&ctx.actor(), &id).await?, now)))
}

/// `DELETE /api/v2/silence/{id}`: the silence is expired, and kept.
pub async fn delete_silence(State(s): State<AppState>, ctx: Ctx, ApiPath(id): ApiPath<String>) -> Result<StatusCode> {
    s.app.expire_silence(&ctx.actor(), &id).await?;
    Ok(StatusCode::OK)
}
