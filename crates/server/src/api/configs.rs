//! The configuration archive under `/api/v1`: each item's device configurations version by
//! version, storing a new one (JSON, or the file itself as `text/plain` as a collector
//! sends it), the line and decision diff of two versions, the review of a proposed
//! configuration, and the findings and flow match of a stored version. Analyses answer in
//! the shapes `watchkeeper policy … --json` prints.

use super::{ApiResult, rfc3339};
use crate::extract::{ApiPath, Ctx, QueryPairs, decode_json};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use app::configs::{Comparison, Stored, Upload};
use app::policy::{CheckReport, FilterChoice, FlowQuery, MatchView, Vendor};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use model::{FieldError, Invalid};
use serde::{Deserialize, Serialize};
use store::{ConfigMeta, ConfigRow};
use utoipa::ToSchema;

/// One stored version of a device's configuration.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigVersionDto {
    pub item_id: i64,
    pub item: String,
    pub version: i64,
    /// The dialect it is analysed as: ios, nxos, iosxr, eos, asa, junos, iptables, panos, f5.
    pub vendor: String,
    pub file_name: String,
    /// SHA-256 of the configuration's significant lines as received.
    pub fingerprint: String,
    pub lines: i64,
    /// Secrets (passwords, keys, communities) removed before it was stored.
    pub secrets_removed: i64,
    /// upload, api, watch or cli.
    pub source: String,
    pub actor: String,
    pub note: String,
    pub collected_at: String,
}

impl From<ConfigMeta> for ConfigVersionDto {
    fn from(m: ConfigMeta) -> Self {
        ConfigVersionDto {
            item_id: m.item_id,
            item: m.item,
            version: m.version,
            vendor: m.vendor,
            file_name: m.file_name,
            fingerprint: m.fingerprint,
            lines: m.lines,
            secrets_removed: m.secrets_removed,
            source: m.source,
            actor: m.actor,
            note: m.note,
            collected_at: rfc3339(m.at_ms),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigDto {
    #[serde(flatten)]
    pub version: ConfigVersionDto,
    /// The configuration, secrets removed.
    pub content: String,
}

impl From<ConfigRow> for ConfigDto {
    fn from(r: ConfigRow) -> Self {
        ConfigDto { version: r.meta.into(), content: r.content }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoredDto {
    /// false when the configuration was the latest version again and nothing was stored.
    pub created: bool,
    /// Lines the analyses cannot read (kept in the stored text).
    pub warnings: usize,
    #[serde(flatten)]
    pub version: ConfigVersionDto,
}

/// A configuration to store or review, as JSON.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigBody {
    /// The configuration text.
    pub content: String,
    pub file_name: Option<String>,
    /// Force the dialect instead of detecting it.
    pub vendor: Option<String>,
    pub note: Option<String>,
    /// For a review: the stored version to compare with (default: the latest).
    pub base: Option<i64>,
}

fn item_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound(format!("no item `{raw}`")))
}

/// `latest` or a version number.
fn version(raw: &str) -> Result<Option<i64>, ApiError> {
    if raw == "latest" {
        return Ok(None);
    }
    raw.parse().map(Some).map_err(|_| ApiError::NotFound(format!("no version `{raw}`; name a number or `latest`")))
}

fn vendor(raw: Option<&str>) -> Result<Option<Vendor>, ApiError> {
    raw.filter(|v| !v.is_empty())
        .map(|v| {
            Vendor::parse(v).ok_or_else(|| {
                ApiError::Invalid(vec![FieldError::new("vendor", format!("unknown `{v}`; one of {}", Vendor::NAMES))])
            })
        })
        .transpose()
}

/// The body as an upload: JSON `{content, …}`, or the configuration itself with the
/// details in the query string (`curl --data-binary @r1.cfg`).
fn upload(headers: &HeaderMap, pairs: &[(String, String)], body: &[u8]) -> Result<(Upload, Option<i64>), ApiError> {
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let param = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    one_param(pairs, &["file_name", "vendor", "note", "base"])?;
    let base = |raw: Option<&str>| {
        raw.map(|b| b.parse::<i64>().map_err(|_| ApiError::Invalid(vec![FieldError::new("base", "a version number")])))
            .transpose()
    };
    match media.as_str() {
        "application/json" => {
            let b: ConfigBody = decode_json(body)?;
            let upload = Upload {
                file_name: b.file_name.unwrap_or_default(),
                bytes: b.content.into_bytes(),
                vendor: vendor(b.vendor.as_deref())?,
                source: "api",
                note: b.note.unwrap_or_default(),
            };
            Ok((upload, b.base))
        }
        "text/plain" | "application/octet-stream" => Ok((
            Upload {
                file_name: param("file_name").unwrap_or_default().to_owned(),
                bytes: body.to_vec(),
                vendor: vendor(param("vendor"))?,
                source: "api",
                note: param("note").unwrap_or_default().to_owned(),
            },
            base(param("base"))?,
        )),
        _ => Err(ApiError::UnsupportedMediaType(
            "send the configuration as `text/plain` or as JSON `{\"content\": …}` with `application/json`".into(),
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/configs", tag = "configs",
    responses((status = 200, body = Vec<ConfigVersionDto>, description = "The latest configuration of each item")))]
pub async fn overview(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<ConfigVersionDto>>> {
    Ok(Json(s.app.config_overview(&ctx.actor()).await?.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/api/v1/items/{id}/configs", tag = "configs", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ConfigVersionDto>, description = "Newest first"), (status = 404, body = Problem)))]
pub async fn versions(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<ConfigVersionDto>>> {
    Ok(Json(s.app.config_versions(&ctx.actor(), item_id(&id)?).await?.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/items/{id}/configs", tag = "configs", params(("id" = i64, Path),
        ("file_name" = Option<String>, Query), ("vendor" = Option<String>, Query), ("note" = Option<String>, Query)),
    request_body(content = ConfigBody, description = "JSON, or the configuration itself as text/plain with the \
        details in the query string. Secrets are removed before it is stored."),
    responses((status = 201, body = StoredDto, description = "Stored as the next version"),
        (status = 200, body = StoredDto, description = "The latest version again: nothing stored"),
        (status = 404, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn store(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    QueryPairs(pairs): QueryPairs,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<StoredDto>)> {
    let id = item_id(&id)?;
    let (upload, base) = upload(&headers, &pairs, &body)?;
    if base.is_some() {
        return Err(ApiError::Invalid(vec![FieldError::new("base", "only a review takes a base version")]));
    }
    let Stored { meta, created, warnings } = s.app.store_config(&ctx.actor(), id, upload).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(StoredDto { created, warnings, version: meta.into() })))
}

#[utoipa::path(get, path = "/api/v1/items/{id}/configs/{version}", tag = "configs",
    params(("id" = i64, Path), ("version" = String, Path, description = "A version number or `latest`")),
    responses((status = 200, body = ConfigDto, description = "JSON; with `Accept: text/plain` the configuration itself"),
        (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath((id, v)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let row = s.app.config(&ctx.actor(), item_id(&id)?, version(&v)?).await?;
    let wants_text =
        headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.starts_with("text/plain"));
    if wants_text {
        let mut resp = row.content.into_response();
        resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        return Ok(resp);
    }
    Ok(Json(ConfigDto::from(row)).into_response())
}

fn one_param(pairs: &[(String, String)], allowed: &[&str]) -> Result<(), ApiError> {
    match pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        Some((k, _)) => Err(ApiError::Invalid(vec![FieldError::new(
            k.clone(),
            format!("unknown parameter; this takes {}", allowed.join(", ")),
        )])),
        None => Ok(()),
    }
}

#[utoipa::path(get, path = "/api/v1/items/{id}/configs/{version}/diff", tag = "configs",
    params(("id" = i64, Path), ("version" = String, Path, description = "The newer version, or `latest`"),
        ("from" = Option<i64>, Query, description = "The older version (default: the one before)"),
        ("format" = Option<String>, Query, description = "`unified` for `diff -u` text")),
    responses((status = 200, description = "`lines` (hunks of the line diff), `decisions` (the flows whose decision \
        changes, as `watchkeeper policy diff --json` prints them) and `secrets_only`"), (status = 404, body = Problem)))]
pub async fn diff(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath((id, v)): ApiPath<(String, String)>,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Response> {
    one_param(&pairs, &["from", "format"])?;
    let (id, new) = (item_id(&id)?, version(&v)?);
    let actor = ctx.actor();
    let from = match pairs.iter().find(|(k, _)| k == "from") {
        Some((_, f)) => {
            f.parse::<i64>().map_err(|_| Invalid::one("from", "a version number")).map_err(app::AppError::from)?
        }
        None => {
            let newer = s.app.config(&actor, id, new).await?.meta.version;
            if newer <= 1 {
                return Err(
                    Invalid::one("from", "version 1 is the first; there is nothing before it to compare").into()
                );
            }
            newer - 1
        }
    };
    let c: Comparison = s.app.config_diff(&actor, id, from, new).await?;
    match pairs.iter().find(|(k, _)| k == "format").map(|(_, f)| f.as_str()) {
        Some("unified") => {
            let mut resp = c.lines.unified(&c.old, &c.new).into_response();
            resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/x-diff; charset=utf-8"));
            Ok(resp)
        }
        None | Some("json") => Ok(Json(c).into_response()),
        Some(other) => Err(Invalid::one("format", format!("`{other}`: json or unified")).into()),
    }
}

#[utoipa::path(post, path = "/api/v1/items/{id}/configs/review", tag = "configs", params(("id" = i64, Path),
        ("base" = Option<i64>, Query, description = "The stored version to compare with (default: the latest)")),
    request_body(content = ConfigBody, description = "The proposed configuration: JSON, or text/plain"),
    responses((status = 200, description = "As the diff of two versions: what the proposal would change. Nothing \
        is stored."), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn review(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    QueryPairs(pairs): QueryPairs,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Comparison>> {
    let id = item_id(&id)?;
    let (upload, base) = upload(&headers, &pairs, &body)?;
    Ok(Json(s.app.review_config(&ctx.actor(), id, base, &upload).await?))
}

#[utoipa::path(get, path = "/api/v1/items/{id}/configs/{version}/findings", tag = "configs",
    params(("id" = i64, Path), ("version" = String, Path, description = "A version number or `latest`")),
    responses((status = 200, description = "As `watchkeeper policy check --json` prints them: files, findings \
        (kind, severity, rule, related_rules, witness, line) and warnings"), (status = 404, body = Problem)))]
pub async fn findings(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath((id, v)): ApiPath<(String, String)>,
) -> ApiResult<Json<CheckReport>> {
    Ok(Json(s.app.config_findings(&ctx.actor(), item_id(&id)?, version(&v)?).await?))
}

/// The flow-match query, from a query string (API) or a form (console).
pub fn flow_query(pairs: &[(String, String)]) -> Result<(FilterChoice, FlowQuery), ApiError> {
    const ALLOWED: [&str; 15] = [
        "src",
        "dst",
        "proto",
        "sport",
        "dport",
        "icmp_type",
        "icmp_code",
        "established",
        "fragment",
        "filter",
        "in_interface",
        "from_zone",
        "to_zone",
        "application",
        "user",
    ];
    one_param(pairs, &ALLOWED)?;
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let mut bad = Vec::new();
    let mut num = |k: &'static str| -> Option<u16> {
        let v = get(k)?;
        v.parse().map_err(|_| bad.push(FieldError::new(k, format!("`{v}` is not a number")))).ok()
    };
    let (sport, dport, icmp_type, icmp_code) = (num("sport"), num("dport"), num("icmp_type"), num("icmp_code"));
    let byte = |v: Option<u16>, k: &'static str, bad: &mut Vec<FieldError>| {
        v.and_then(|n| u8::try_from(n).map_err(|_| bad.push(FieldError::new(k, "0 to 255"))).ok())
    };
    let (icmp_type, icmp_code) = (byte(icmp_type, "icmp_type", &mut bad), byte(icmp_code, "icmp_code", &mut bad));
    let flag = |k: &str| get(k).is_some_and(|v| matches!(v, "true" | "1" | "on" | "yes"));
    for k in ["src", "dst"] {
        if get(k).is_none() {
            bad.push(FieldError::new(k, "required: an address"));
        }
    }
    if !bad.is_empty() {
        return Err(ApiError::Invalid(bad));
    }
    let owned = |k: &str| get(k).map(str::to_owned);
    let choice = FilterChoice {
        filter: owned("filter"),
        in_interface: owned("in_interface"),
        from_zone: owned("from_zone"),
        to_zone: owned("to_zone"),
        application: owned("application"),
        user: owned("user"),
    };
    let query = FlowQuery {
        src: owned("src").unwrap_or_default(),
        dst: owned("dst").unwrap_or_default(),
        proto: owned("proto").unwrap_or_else(|| "tcp".into()),
        sport,
        dport,
        icmp_type,
        icmp_code,
        established: flag("established"),
        fragment: flag("fragment"),
    };
    Ok((choice, query))
}

#[utoipa::path(get, path = "/api/v1/items/{id}/configs/{version}/match", tag = "configs",
    params(("id" = i64, Path), ("version" = String, Path, description = "A version number or `latest`"),
        ("src" = String, Query), ("dst" = String, Query), ("proto" = Option<String>, Query, description = "tcp (default), udp, icmp, a number"),
        ("sport" = Option<u16>, Query), ("dport" = Option<u16>, Query), ("icmp_type" = Option<u8>, Query),
        ("filter" = Option<String>, Query), ("in_interface" = Option<String>, Query),
        ("from_zone" = Option<String>, Query), ("to_zone" = Option<String>, Query),
        ("application" = Option<String>, Query), ("user" = Option<String>, Query)),
    responses((status = 200, description = "One answer per filter, as `watchkeeper policy match --json` prints \
        them: action, rule, line, may_match, nat"), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn flow_match(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath((id, v)): ApiPath<(String, String)>,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Vec<MatchView>>> {
    let (choice, query) = flow_query(&pairs)?;
    Ok(Json(s.app.config_match(&ctx.actor(), item_id(&id)?, version(&v)?, &choice, &query).await?))
}
