//! Watchkeeper's HTTP side: the JSON API under `/api/v1`, the server-rendered console,
//! authentication and the access guard, `/metrics` and health checks.
//!
//! This is the only crate that knows HTTP and JSON shapes. Routes are declared once, with
//! their access rule, in [`routes::table`]; handlers decode, call one `app` use-case and
//! encode. Every error leaves as problem+json (API) or an HTML page (console), never a bare
//! 500.

pub mod access;
pub mod api;
mod assets;
mod console;
pub mod extract;
mod health;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod routes;
pub mod state;
mod syslog;
mod traps;

pub use state::AppState;

use crate::problem::ApiError;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// How long any request may take before it is answered with 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the state shared by every handler.
pub fn state(app: app::App, demo: bool, tls: bool) -> AppState {
    let backend = app.store().backend();
    AppState { app, metrics: Arc::new(metrics::Metrics::new(backend)), demo, tls, started: Instant::now() }
}

async fn timeout(req: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

async fn not_found(req: Request) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") || path == "/api" {
        ApiError::NotFound(format!("no route `{path}`; see /api/openapi.json")).into_response()
    } else {
        console::not_found_page()
    }
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("A request handler panicked.");
    ApiError::Internal.into_response()
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for route in routes::table() {
        let guard = middleware::from_fn_with_state((state.clone(), route.access), access::guard);
        router = router.route(route.path, route.handler.route_layer(guard));
    }
    let csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
               frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
    let mut router = router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(middleware::from_fn(timeout))
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        // A file served as a download carries a stricter policy of its own (a sandbox).
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp)))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    if state.tls {
        router = router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    router
        .layer(TraceLayer::new_for_http().make_span_with(
            |req: &Request| tracing::info_span!("http", method = %req.method(), path = %req.uri().path()),
        ))
        .layer(tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            HeaderName::from_static(access::CSRF_HEADER),
        ]))
        .layer(CatchPanicLayer::custom(panic_response))
        // Outermost, so that a timeout or a caught panic under /api/v2 is said in words amtool
        // reads too.
        .layer(middleware::from_fn(api::alertmanager::errors_as_alertmanager))
        .with_state(state)
}

/// TLS material for `serve`.
#[derive(Debug, Clone)]
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot load the TLS certificate or key ({cert} / {key}): {source}")]
    Tls { cert: String, key: String, source: std::io::Error },
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves until `shutdown` resolves, then finishes in-flight requests. `ready` is called with
/// the bound address once the socket listens.
pub async fn serve(
    state: AppState,
    addr: SocketAddr,
    tls: Option<Tls>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let app = router(state.clone());
    let settings = state.app.settings();
    let syslog_tls = match (settings.syslog_tls, &tls) {
        (Some(at), Some(material)) => Some((at, material.clone())),
        (Some(at), None) => {
            return Err(ServeError::Bind {
                addr: at,
                source: std::io::Error::other("syslog over TLS needs the server's tls_cert and tls_key"),
            });
        }
        (None, _) => None,
    };
    let at = syslog::Listeners {
        udp: settings.syslog_udp,
        tcp: settings.syslog_tcp,
        tls: syslog_tls,
        limits: syslog::TcpLimits {
            max_connections: settings.syslog_max_connections,
            idle: u64::try_from(settings.syslog_idle_timeout_ms).ok().filter(|&ms| ms > 0).map(Duration::from_millis),
        },
    };
    let first = at.udp.or(at.tcp).or(at.tls.as_ref().map(|t| t.0)).unwrap_or(addr);
    let listeners =
        syslog::start(state.clone(), at).await.map_err(|source| ServeError::Bind { addr: first, source })?;
    let mut listeners = listeners;
    if let Some(at) = settings.snmp_traps {
        listeners
            .extend(traps::start(state.clone(), at).await.map_err(|source| ServeError::Bind { addr: at, source })?);
    }
    let housekeeping = tokio::spawn(housekeeping(state.app.clone()));
    let correlation = tokio::spawn(state.app.clone().run_correlation());
    let probes = probe::Probes::new().with_snmp_credentials(settings.snmp_credentials.clone());
    let checks = tokio::spawn(state.app.clone().run_check_schedule(probes));
    let desk = tokio::spawn(desk(state.app.clone()));
    let watch =
        state.app.settings().config_watch_dir.clone().map(|dir| tokio::spawn(watch_configs(state.app.clone(), dir)));
    let result = match tls {
        None => {
            let listener =
                tokio::net::TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
            ready(listener.local_addr()?);
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(shutdown)
                .await
                .map_err(ServeError::Io)
        }
        Some(tls) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key).await.map_err(|source| {
                    ServeError::Tls { cert: tls.cert.display().to_string(), key: tls.key.display().to_string(), source }
                })?;
            let std_listener = std::net::TcpListener::bind(addr).map_err(|source| ServeError::Bind { addr, source })?;
            std_listener.set_nonblocking(true)?;
            ready(std_listener.local_addr()?);
            let handle = axum_server::Handle::new();
            let h2 = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                h2.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            axum_server::from_tcp_rustls(std_listener, config)?
                .handle(handle)
                .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                .await
                .map_err(ServeError::Io)
        }
    };
    housekeeping.abort();
    correlation.abort();
    checks.abort();
    desk.abort();
    for l in listeners {
        l.abort();
    }
    if let Some(w) = watch {
        w.abort();
    }
    result
}

async fn housekeeping(app: app::App) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    loop {
        tick.tick().await;
        if let Err(e) = app.housekeeping().await {
            tracing::warn!(error = %e, "Housekeeping failed.");
        }
    }
}

/// The desk's clockwork: records SLA warnings and breaches as they come due, applies the
/// escalation rules and delivers the notifications queued.
async fn desk(app: app::App) {
    let courier = match notify::Courier::new(app.settings().smtp.clone(), Duration::from_secs(10)) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "Cannot start notification delivery; SLA sweeps and escalations stop too.");
            return;
        }
    };
    let mut tick = tokio::time::interval(Duration::from_secs(15));
    loop {
        tick.tick().await;
        match app.desk_round(&courier).await {
            Ok(round) => {
                for c in &round.crossings {
                    tracing::info!(incident = %c.number, clock = %c.clock, percent = c.percent, "SLA mark crossed.");
                }
                for (incident, rule) in &round.escalations {
                    tracing::info!(%incident, %rule, "Escalated.");
                }
                let d = &round.delivery;
                if d.sent + d.retrying + d.failed + d.deferred > 0 {
                    tracing::info!(
                        sent = d.sent,
                        retrying = d.retrying,
                        failed = d.failed,
                        deferred = d.deferred,
                        "Notifications delivered."
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "The desk round failed; trying again at the next tick."),
        }
    }
}

/// Stores what a collector writes into the watched directory, as the `system` actor.
async fn watch_configs(app: app::App, dir: PathBuf) {
    let every = Duration::from_secs(app.settings().config_watch_interval_s.max(1));
    let mut watch = app::configs::ConfigWatch::new(dir);
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match watch.scan(&app, &app::Actor::system()).await {
            Ok(r) => {
                if !r.stored.is_empty() || !r.unmatched.is_empty() {
                    tracing::info!(
                        dir = %watch.dir.display(), stored = r.stored.len(), unchanged = r.unchanged,
                        unmatched = ?r.unmatched, failed = r.failed.len(), "Read the configuration directory."
                    );
                }
            }
            Err(e) => {
                tracing::warn!(dir = %watch.dir.display(), error = %e, "Cannot read the configuration directory.")
            }
        }
    }
}
