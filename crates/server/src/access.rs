//! The access guard: every route declares who may call it (in `routes`), and this middleware
//! enforces it before the handler runs — authentication (session cookie or bearer token),
//! the permission, and CSRF for state-changing requests made with a session cookie.

use crate::console;
use crate::extract::{BODY_LIMIT, Ctx, Source};
use crate::problem::ApiError;
use crate::state::AppState;
use app::Principal;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use model::Perm;
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

pub const SESSION_COOKIE: &str = "wk_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf_token";

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (health checks, login page, assets, the API description).
    Public,
    /// A signed-in user or a token holder with this permission.
    Needs(Perm),
}

/// Reads one cookie's value.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The caller's address. Forwarded headers are not trusted: any client can forge them.
fn source_of(req: &Request) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |ConnectInfo(a)| a.ip().to_string())
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path == "/metrics"
}

enum Denied {
    NoCredentials,
    BadCredentials,
    Forbidden(Principal, Perm),
    Csrf,
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, Denied> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or(Denied::BadCredentials)?;
        return state.app.token_principal(token).await.map_err(|e| {
            tracing::info!(error = %e, "Bearer token refused.");
            Denied::BadCredentials
        });
    }
    let Some(sid) = cookie(headers, SESSION_COOKIE) else { return Err(Denied::NoCredentials) };
    match state.app.session(sid).await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(Denied::NoCredentials),
        Err(e) => {
            tracing::error!(error = %e, "Session lookup failed.");
            Err(Denied::BadCredentials)
        }
    }
}

fn tokens_match(expected: &str, given: &str) -> bool {
    !given.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// Checks the CSRF token of a state-changing request made with a session cookie, from the
/// `X-CSRF-Token` header or, for HTML forms, the `csrf_token` field. Returns the request,
/// rebuilt when its body had to be read.
async fn check_csrf(expected: &str, req: Request) -> Result<Request, Denied> {
    if let Some(h) = req.headers().get(CSRF_HEADER) {
        return if tokens_match(expected, h.to_str().unwrap_or("")) { Ok(req) } else { Err(Denied::Csrf) };
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    // A file upload form cannot have its body read here (it may be megabytes): its token
    // comes in the form's action URL.
    if content_type.starts_with("multipart/form-data") {
        let given = req.uri().query().and_then(|q| form_urlencoded_field(q.as_bytes(), CSRF_FIELD)).unwrap_or_default();
        return if tokens_match(expected, &given) { Ok(req) } else { Err(Denied::Csrf) };
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(Denied::Csrf);
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| Denied::Csrf)?;
    let given = form_urlencoded_field(&bytes, CSRF_FIELD).unwrap_or_default();
    if tokens_match(expected, &given) { Ok(Request::from_parts(parts, Body::from(bytes))) } else { Err(Denied::Csrf) }
}

pub fn form_urlencoded_field(bytes: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The guard for one route.
pub async fn guard(State((state, access)): State<(AppState, Access)>, mut req: Request, next: Next) -> Response {
    let source = source_of(&req);
    req.extensions_mut().insert(Source(source.clone()));
    let Access::Needs(perm) = access else { return next.run(req).await };
    let api = is_api(req.uri().path());
    // Alertmanager's API also answers senders on trusted networks that bring no token (a
    // Prometheus configured with no credentials), as Alertmanager itself does.
    let authenticated = match authenticate(&state, req.headers()).await {
        Err(Denied::NoCredentials) if req.uri().path().starts_with("/api/v2/") => {
            state.app.trusted_intake(&source).ok_or(Denied::NoCredentials)
        }
        other => other,
    };
    let principal = match authenticated {
        Ok(p) if p.actor(&source).can(perm) => Ok(p),
        Ok(p) => Err(Denied::Forbidden(p, perm)),
        Err(d) => Err(d),
    };
    let principal = match principal {
        Ok(p) => p,
        Err(d) => return denied(&state, d, api, &req),
    };
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && let Some(expected) = principal.csrf_token.clone() {
        req = match check_csrf(&expected, req).await {
            Ok(r) => r,
            Err(d) => {
                tracing::warn!(user = %principal.user.username, %source, "CSRF check failed.");
                return denied_response(&state, d, api, "");
            }
        };
    }
    req.extensions_mut().insert(Ctx { principal, source });
    next.run(req).await
}

fn denied(state: &AppState, d: Denied, api: bool, req: &Request) -> Response {
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    denied_response(state, d, api, &target)
}

fn denied_response(state: &AppState, d: Denied, api: bool, target: &str) -> Response {
    match (d, api) {
        (Denied::Forbidden(_, perm), true) => ApiError::Forbidden(format!(
            "your role or token lacks the `{}` permission",
            crate::problem::perm_name(perm)
        ))
        .into_response(),
        (Denied::Forbidden(p, perm), false) => console::forbidden(state, &p, perm),
        (Denied::Csrf, true) => ApiError::CsrfFailed.into_response(),
        (Denied::Csrf, false) => console::csrf_failed(),
        // A bad bearer token comes from a program, never from a browser: answer it as one.
        (Denied::BadCredentials, _) | (Denied::NoCredentials, true) => ApiError::Unauthenticated.into_response(),
        (Denied::NoCredentials, false) => {
            let next = serde_urlencoded::to_string([("next", target)]).unwrap_or_default();
            Redirect::to(&format!("/login?{next}")).into_response()
        }
    }
}
