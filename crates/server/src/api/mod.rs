//! The JSON API under `/api/v1`. Handlers are thin: decode, call one use-case, encode. The
//! JSON shapes are defined here (and documented through utoipa), apart from the domain types,
//! so the wire format changes only on purpose.

use crate::extract::{ApiJson, ApiPath, Ctx, QueryPairs};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use app::{AuditFilter, NewUser, TokenInfo};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use model::audit::AuditRecord;
use model::list::ListQuery;
use model::user::User;
use model::{FieldError, Invalid, Perm, Role, Scope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub mod alarms;
pub mod alertmanager;
pub mod checks;
pub mod cmdb;
pub mod configs;
pub mod desk;
pub mod events;
pub mod incidents;
pub mod maintenance;
pub mod major;
pub mod problems;
pub mod suppliers;

pub type ApiResult<T> = Result<T, ApiError>;

/// How often a live stream looks for new records: a poll of one indexed range, so changes
/// made by any process on the database (the CLI, a second server) arrive as well.
const FOLLOW_POLL: std::time::Duration = std::time::Duration::from_secs(1);
/// How long one stream lasts. EventSource reconnects by itself with `Last-Event-ID`, and the
/// reconnection checks the caller's session or token again, so a revoked one stops following.
const FOLLOW_LIFETIME: std::time::Duration = std::time::Duration::from_secs(300);

/// Where a live stream resumes: the `Last-Event-ID` a reconnecting EventSource sends, else
/// the `after` parameter, else nowhere (the caller's own start).
pub(crate) fn resume_after(headers: &axum::http::HeaderMap, pairs: &[(String, String)]) -> ApiResult<Option<i64>> {
    let raw = match headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        Some(v) => Some(v.trim().to_owned()),
        None => pairs.iter().rev().find(|(k, _)| k == "after").map(|(_, v)| v.clone()),
    };
    raw.map(|v| {
        v.parse::<i64>().map_err(|_| {
            ApiError::Invalid(vec![FieldError::new(
                "after",
                format!("`{v}` is not an id: give the id of the last entry or event received"),
            )])
        })
    })
    .transpose()
}

/// Server-sent events of records as they are written: `poll(cursor)` returns what came after
/// `cursor` as `(id, data)` pairs, oldest first; each becomes an event named `name` with that
/// id. Polled every second for five minutes, then the browser reconnects.
pub(crate) fn follow<F, Fut>(name: &'static str, cursor: i64, poll: F) -> axum::response::Response
where
    F: Fn(i64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Vec<(i64, String)>, String>> + Send,
{
    use axum::response::IntoResponse;
    use axum::response::sse::{Event, KeepAlive, Sse};
    struct Follow<F> {
        poll: F,
        cursor: i64,
        pending: std::collections::VecDeque<Event>,
        until: tokio::time::Instant,
        first: bool,
    }
    let state = Follow {
        poll,
        cursor,
        pending: Default::default(),
        until: tokio::time::Instant::now() + FOLLOW_LIFETIME,
        first: true,
    };
    let stream = futures_util::stream::unfold(state, move |mut f| async move {
        loop {
            if let Some(e) = f.pending.pop_front() {
                return Some((Ok::<_, std::convert::Infallible>(e), f));
            }
            if !f.first {
                if tokio::time::Instant::now() >= f.until {
                    return None;
                }
                tokio::time::sleep_until((tokio::time::Instant::now() + FOLLOW_POLL).min(f.until)).await;
            }
            f.first = false;
            match (f.poll)(f.cursor).await {
                Ok(rows) => {
                    for (id, data) in rows {
                        f.cursor = f.cursor.max(id);
                        f.pending.push_back(Event::default().event(name).id(id.to_string()).data(data));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, stream = name, "A live stream stopped: its records could not be read.");
                    return None;
                }
            }
        }
    });
    let mut resp = Sse::new(stream).keep_alive(KeepAlive::default()).into_response();
    // Reverse proxies (nginx) buffer responses unless told not to; a buffered stream is not live.
    resp.headers_mut().insert("x-accel-buffering", axum::http::HeaderValue::from_static("no"));
    resp
}

/// An instant as RFC 3339 (UTC).
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default()
}

pub(crate) fn parse_rfc3339(field: &str, raw: &str) -> Result<i64, FieldError> {
    raw.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| FieldError::new(field, format!("`{raw}` is not an RFC 3339 instant such as 2026-12-31T23:59:59Z")))
}

/// One page of a collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many match in all.
    pub total: i64,
    pub limit: u32,
    pub offset: u64,
}

impl<T> Page<T> {
    pub(crate) fn new(items: Vec<T>, total: i64, q: &ListQuery) -> Self {
        Page { items, total, limit: q.limit, offset: q.offset }
    }
}

/// The list convention's query parameters, for the API description.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Page size, 1–500 (default 50).
    limit: Option<u32>,
    /// Records to skip (default 0).
    offset: Option<u64>,
    /// A sortable field; prefix `-` for descending.
    sort: Option<String>,
    /// Free-text search.
    q: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Me

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// Permissions in effect for this request (the role's, narrowed by token scopes).
    pub permissions: Vec<String>,
    /// Sites the user is limited to; empty means all.
    pub sites: Vec<String>,
    /// `session` or `token`.
    pub authenticated_by: String,
    pub scopes: Option<Vec<String>>,
    pub expires_at: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "access", responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(ctx: Ctx) -> Json<Me> {
    let actor = ctx.actor();
    let u = &ctx.principal.user;
    Json(Me {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role.as_str().into(),
        permissions: Perm::ALL.into_iter().filter(|p| actor.can(*p)).map(crate::problem::perm_name).collect(),
        sites: u.sites.clone(),
        authenticated_by: if ctx.principal.scopes.is_some() { "token" } else { "session" }.into(),
        scopes: ctx.principal.scopes.as_ref().map(|s| s.iter().map(|s| s.as_str().to_owned()).collect()),
        expires_at: u.expires_at_ms.map(rfc3339),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// At least 12 characters.
    pub password: String,
}

#[utoipa::path(put, path = "/api/v1/me/password", tag = "access", request_body = PasswordChange,
    responses((status = 204), (status = 422, body = Problem)))]
pub async fn my_password(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    s.app.set_password(&ctx.actor(), &ctx.principal.user.username, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------
// Users

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// viewer, operator, engineer, change-manager, admin or auditor.
    pub role: String,
    pub disabled: bool,
    pub expires_at: Option<String>,
    pub sites: Vec<String>,
    pub created_at: String,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        UserDto {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role.as_str().into(),
            disabled: u.disabled,
            expires_at: u.expires_at_ms.map(rfc3339),
            sites: u.sites,
            created_at: rfc3339(u.created_at_ms),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    pub role: String,
    pub password: String,
    /// RFC 3339; the account stops working then (vendor access).
    pub expires_at: Option<String>,
    /// Limit the account to these sites.
    #[serde(default)]
    pub sites: Vec<String>,
}

impl CreateUser {
    pub fn into_new_user(self) -> Result<NewUser, Invalid> {
        let mut errors = Vec::new();
        let role = self.role.parse::<Role>().map_err(|m| errors.push(FieldError::new("role", m))).ok();
        let expires =
            self.expires_at.as_deref().and_then(|e| parse_rfc3339("expires_at", e).map_err(|e| errors.push(e)).ok());
        Invalid::check(errors)?;
        Ok(NewUser {
            username: self.username,
            display_name: self.display_name,
            role: role.unwrap_or(Role::Viewer),
            password: self.password,
            expires_at_ms: expires,
            sites: self.sites,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    params(ListParams, ("role" = Option<String>, Query, description = "Exact role"), ("disabled" = Option<bool>, Query)),
    responses((status = 200, body = Page<UserDto>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list_users(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Page<UserDto>>> {
    let q = app::parse_user_query(&pairs)?;
    let (users, total) = s.app.list_users(&ctx.actor(), &q).await?;
    Ok(Json(Page::new(users.into_iter().map(UserDto::from).collect(), total, &q)))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserDto), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create_user(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserDto>)> {
    let user = s.app.create_user(&ctx.actor(), body.into_new_user()?).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

#[utoipa::path(get, path = "/api/v1/users/{username}", tag = "users", params(("username" = String, Path)),
    responses((status = 200, body = UserDto), (status = 404, body = Problem)))]
pub async fn get_user(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<Json<UserDto>> {
    Ok(Json(s.app.user(&ctx.actor(), &username).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub disabled: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "users", params(("username" = String, Path)),
    request_body = UpdateUser, responses((status = 200, body = UserDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_user(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(username): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> ApiResult<Json<UserDto>> {
    let actor = ctx.actor();
    let user = match body.disabled {
        Some(d) => s.app.set_disabled(&actor, &username, d).await?,
        None => s.app.user(&actor, &username).await?,
    };
    Ok(Json(user.into()))
}

#[utoipa::path(put, path = "/api/v1/users/{username}/password", tag = "users", params(("username" = String, Path)),
    request_body = PasswordChange, responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_user_password(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(username): ApiPath<String>,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    s.app.set_password(&ctx.actor(), &username, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    pub id: i64,
    pub user: String,
    pub name: String,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<TokenInfo> for TokenDto {
    fn from(t: TokenInfo) -> Self {
        TokenDto {
            id: t.id,
            user: t.username,
            name: t.name,
            prefix: t.prefix,
            scopes: t.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            created_at: rfc3339(t.created_at_ms),
            expires_at: t.expires_at_ms.map(rfc3339),
            last_used_at: t.last_used_ms.map(rfc3339),
            revoked_at: t.revoked_at_ms.map(rfc3339),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// A label, unique per user, e.g. `prometheus`.
    pub name: String,
    /// read, write, admin, audit, metrics, intake.
    pub scopes: Vec<String>,
    /// RFC 3339; none means the token does not expire.
    pub expires_at: Option<String>,
    /// Create for another user (needs token administration).
    pub user: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTokenDto {
    pub token: TokenDto,
    /// Shown once; only a hash is stored.
    pub secret: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TokenListParams {
    /// Every user's tokens (needs token administration).
    #[serde(default)]
    pub all: bool,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "access", params(TokenListParams),
    responses((status = 200, body = Vec<TokenDto>), (status = 403, body = Problem)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Vec<TokenDto>>> {
    let mut all = false;
    for (k, v) in pairs {
        match (k.as_str(), v.as_str()) {
            ("all", "true") => all = true,
            ("all", "false") => all = false,
            (k, _) => {
                return Err(Invalid::one(k, "this list accepts only `all=true|false`").into());
            }
        }
    }
    let tokens = s.app.list_tokens(&ctx.actor(), all).await?;
    Ok(Json(tokens.into_iter().map(TokenDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "access", request_body = CreateToken,
    responses((status = 201, body = CreatedTokenDto), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create_token(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<CreatedTokenDto>)> {
    let mut errors = Vec::new();
    let scopes: Vec<Scope> = body
        .scopes
        .iter()
        .filter_map(|s| s.parse().map_err(|m| errors.push(FieldError::new("scopes", m))).ok())
        .collect();
    let expires =
        body.expires_at.as_deref().and_then(|e| parse_rfc3339("expires_at", e).map_err(|e| errors.push(e)).ok());
    Invalid::check(errors)?;
    let user = body.user.unwrap_or_else(|| ctx.principal.user.username.clone());
    let created = s.app.create_token(&ctx.actor(), &user, &body.name, &scopes, expires).await?;
    Ok((StatusCode::CREATED, Json(CreatedTokenDto { token: created.info.into(), secret: created.secret })))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "access", params(("id" = i64, Path)),
    responses((status = 200, body = TokenDto), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TokenDto>> {
    let id: i64 = id.parse().map_err(|_| Invalid::one("id", format!("`{id}` is not a token id (a whole number)")))?;
    Ok(Json(s.app.revoke_token(&ctx.actor(), id).await?.into()))
}

// ---------------------------------------------------------------------------------------
// Audit

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditDto {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub prev_hash: String,
    pub hash: String,
}

fn json_or_text(s: &Option<String>) -> Option<serde_json::Value> {
    s.as_ref().map(|t| serde_json::from_str(t).unwrap_or_else(|_| serde_json::Value::String(t.clone())))
}

impl From<&AuditRecord> for AuditDto {
    fn from(r: &AuditRecord) -> Self {
        let e = &r.event;
        AuditDto {
            seq: r.seq,
            at: rfc3339(e.at_ms),
            actor: e.actor.clone(),
            source: e.source.clone(),
            action: e.action.clone(),
            target_type: e.target_type.clone(),
            target_id: e.target_id.clone(),
            before: json_or_text(&e.before),
            after: json_or_text(&e.after),
            prev_hash: r.prev_hash.clone(),
            hash: r.hash.clone(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AuditParams {
    actor: Option<String>,
    /// e.g. `user.create`, `session.login_failed`.
    action: Option<String>,
    target_type: Option<String>,
    target_id: Option<String>,
    /// Inclusive start: a date, an RFC 3339 instant or epoch ms.
    from: Option<String>,
    /// Exclusive end.
    to: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(ListParams, AuditParams),
    responses((status = 200, body = Page<AuditDto>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list_audit(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Page<AuditDto>>> {
    let f = AuditFilter::parse(&pairs)?;
    let (records, total) = s.app.audit_list(&ctx.actor(), &f).await?;
    Ok(Json(Page::new(records.iter().map(AuditDto::from).collect(), total, &f.list)))
}

/// The CSV header and one row per record; fields quoted per RFC 4180.
pub fn audit_csv_row(r: &AuditRecord, out: &mut String) {
    fn field(out: &mut String, v: &str) {
        if v.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&v.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(v);
        }
    }
    let e = &r.event;
    let cols = [
        r.seq.to_string(),
        rfc3339(e.at_ms),
        e.actor.clone(),
        e.source.clone(),
        e.action.clone(),
        e.target_type.clone(),
        e.target_id.clone(),
        e.before.clone().unwrap_or_default(),
        e.after.clone().unwrap_or_default(),
        r.prev_hash.clone(),
        r.hash.clone(),
    ];
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, c);
    }
    out.push_str("\r\n");
}

pub const AUDIT_CSV_HEADER: &str = "seq,at,actor,source,action,target_type,target_id,before,after,prev_hash,hash\r\n";

/// Exports as CSV (`format=csv`) or JSON Lines (`format=jsonl`), oldest first.
pub async fn export_audit_response(s: &AppState, ctx: &Ctx, pairs: Vec<(String, String)>) -> ApiResult<Response> {
    let mut format = "jsonl".to_owned();
    let pairs: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, v)| {
            if k == "format" {
                format.clone_from(v);
                false
            } else {
                true
            }
        })
        .collect();
    if format != "csv" && format != "jsonl" {
        return Err(Invalid::one("format", format!("`{format}` is not an export format; use csv or jsonl")).into());
    }
    let f = AuditFilter::parse(&pairs)?;
    let mut body = String::new();
    if format == "csv" {
        body.push_str(AUDIT_CSV_HEADER);
    }
    s.app
        .audit_export(&ctx.actor(), &f, |page| {
            for r in page {
                if format == "csv" {
                    audit_csv_row(r, &mut body);
                } else {
                    body.push_str(&serde_json::to_string(&AuditDto::from(r)).unwrap_or_default());
                    body.push('\n');
                }
            }
        })
        .await?;
    let (ctype, ext) =
        if format == "csv" { ("text/csv; charset=utf-8", "csv") } else { ("application/jsonl", "jsonl") };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"watchkeeper-audit.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit",
    params(("format" = Option<String>, Query, description = "csv or jsonl (default)"), AuditParams),
    responses((status = 200, description = "CSV or JSON Lines, oldest record first"), (status = 400, body = Problem)))]
pub async fn export_audit(State(s): State<AppState>, ctx: Ctx, QueryPairs(pairs): QueryPairs) -> ApiResult<Response> {
    export_audit_response(&s, &ctx, pairs).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyDto {
    /// Whether every record is intact and linked.
    pub intact: bool,
    pub records: u64,
    pub head_seq: i64,
    /// The first bad record, when the chain is broken.
    pub first_bad_seq: Option<i64>,
    pub problem: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = VerifyDto)))]
pub async fn verify_audit(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<VerifyDto>> {
    ctx.actor().require(Perm::AuditRead)?;
    let (head_seq, _) = s.app.store().audit_head().await.map_err(app::AppError::from)?;
    Ok(Json(match s.app.audit_verify(|_, _| {}).await? {
        Ok(r) => VerifyDto { intact: true, records: r.records, head_seq, first_bad_seq: None, problem: None },
        Err(b) => VerifyDto {
            intact: false,
            records: 0,
            head_seq,
            first_bad_seq: Some(b.seq()),
            problem: Some(b.to_string()),
        },
    }))
}
