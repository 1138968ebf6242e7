//! `/metrics` in the Prometheus text format: HTTP requests and latency by route, the database
//! pool, sessions, build information, intake counts — and what Watchkeeper measured (each
//! check's status, duration and performance data, alarms open), so an existing Prometheus can
//! scrape it. Labels are route templates, never raw paths, so the series count stays bounded
//! whatever clients send.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    /// accepted; refused (all allowed connections open); closed_idle (silent too long).
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IntakeLabels {
    /// alertmanager (API v2 and webhook), syslog, snmp, plugin (check output).
    decoder: String,
    /// stored; refused (a record that broke the rules); unreadable (a body or frame that did
    /// not decode at all; for `plugin`, each performance data item that did not read); dropped (a UDP message that found the hand-over queue full); lost
    /// (decoded, but the database refused the batch).
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckLabels {
    check: String,
    item: String,
    /// Names are unique within a site and parent only: two VMs `app01` on two hosts are two
    /// series.
    item_id: String,
    site: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PerfLabels {
    check: String,
    item: String,
    item_id: String,
    site: String,
    /// The plugin's performance-data label: rta, pl, time…
    label: String,
    unit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    backend: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    pool_size: Gauge,
    pool_idle: Gauge,
    sessions: Gauge,
    audit_records: Gauge,
    uptime: Gauge<f64, AtomicU64>,
    intake: Family<IntakeLabels, Counter>,
    syslog_connections: Family<OutcomeLabels, Counter>,
    check_status: Family<CheckLabels, Gauge>,
    check_duration: Family<CheckLabels, Gauge<f64, AtomicU64>>,
    check_perf: Family<PerfLabels, Gauge<f64, AtomicU64>>,
    alarms_open: Gauge,
    alarms_unrouted: Gauge,
    /// The check schedule's count of unread performance data at the last scrape.
    perfdata_unread: AtomicU64,
}

impl Metrics {
    pub fn new(backend: &str) -> Metrics {
        let mut registry = Registry::with_prefix("watchkeeper");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route template and status", requests.clone());
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request",
            prometheus_client::registry::Unit::Seconds,
            latency.clone(),
        );
        let pool_size = Gauge::default();
        registry.register("db_pool_connections", "Database connections open", pool_size.clone());
        let pool_idle = Gauge::default();
        registry.register("db_pool_idle_connections", "Database connections open and idle", pool_idle.clone());
        let sessions = Gauge::default();
        registry.register("sessions", "Console sessions stored", sessions.clone());
        let audit_records = Gauge::default();
        registry.register("audit_records", "Records in the audit log", audit_records.clone());
        let uptime = Gauge::<f64, AtomicU64>::default();
        registry.register_with_unit(
            "uptime",
            "Time since the server started",
            prometheus_client::registry::Unit::Seconds,
            uptime.clone(),
        );
        let intake = Family::<IntakeLabels, Counter>::default();
        registry.register("intake_records", "Alerts and events received, by decoder and outcome", intake.clone());
        let syslog_connections = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "syslog_connections",
            "Syslog TCP and TLS connections: accepted, refused (all allowed ones open) or closed after a silence",
            syslog_connections.clone(),
        );
        let check_status = Family::<CheckLabels, Gauge>::default();
        registry.register(
            "check_status",
            "What Watchkeeper's active checks measured: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (Nagios' codes)",
            check_status.clone(),
        );
        let check_duration = Family::<CheckLabels, Gauge<f64, AtomicU64>>::default();
        registry.register_with_unit(
            "check_duration",
            "How long each check's last run took",
            prometheus_client::registry::Unit::Seconds,
            check_duration.clone(),
        );
        let check_perf = Family::<PerfLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "check_perfdata",
            "Each check's last performance data, by label, in the plugin's unit",
            check_perf.clone(),
        );
        let alarms_open = Gauge::default();
        registry.register("alarms_open", "Alarms open now (one per condition)", alarms_open.clone());
        let alarms_unrouted = Gauge::default();
        registry.register(
            "alarms_unrouted",
            "Open alarms waiting to be sent to an incident (new, or settling)",
            alarms_unrouted.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION").into(), backend: backend.into() }).set(1);
        registry.register("build_info", "Build and database backend; always 1", build);
        Metrics {
            registry,
            requests,
            latency,
            pool_size,
            pool_idle,
            sessions,
            audit_records,
            uptime,
            intake,
            check_status,
            check_duration,
            check_perf,
            alarms_open,
            alarms_unrouted,
            syslog_connections,
            perfdata_unread: AtomicU64::new(0),
        }
    }

    /// Counts a syslog connection's `outcome`.
    pub fn syslog_connection(&self, outcome: &str) {
        self.syslog_connections.get_or_create(&OutcomeLabels { outcome: outcome.into() }).inc();
    }

    /// Counts what a decoder let through and what it refused.
    pub fn intake(&self, decoder: &str, outcome: &str, n: usize) {
        let labels = IntakeLabels { decoder: decoder.into(), outcome: outcome.into() };
        self.intake.get_or_create(&labels).inc_by(u64::try_from(n).unwrap_or(u64::MAX));
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels { method: method.into(), route: route.into(), status: status.to_string() })
            .inc();
        self.latency.get_or_create(&RouteLabels { method: method.into(), route: route.into() }).observe(seconds);
    }
}

/// Counts and times every routed request.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    state.metrics.observe(&method, &route, resp.status().as_u16(), start.elapsed().as_secs_f64());
    resp
}

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>) -> Response {
    let m = &state.metrics;
    let (size, idle) = state.app.store().pool_stats();
    m.pool_size.set(i64::from(size));
    m.pool_idle.set(i64::try_from(idle).unwrap_or(i64::MAX));
    if let Ok(n) = state.app.store().count_sessions().await {
        m.sessions.set(n);
    }
    if let Ok((seq, _)) = state.app.store().audit_head().await {
        m.audit_records.set(seq);
    }
    m.uptime.set(state.started.elapsed().as_secs_f64());
    // Counted by the check schedule in `app`; the counter takes what came since the last scrape.
    let unread = state.app.perfdata_unread();
    let before = m.perfdata_unread.swap(unread, std::sync::atomic::Ordering::Relaxed);
    m.intake("plugin", "unreadable", usize::try_from(unread.saturating_sub(before)).unwrap_or(usize::MAX));
    measured(&state).await;
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, &m.registry).is_err() {
        return crate::problem::ApiError::Internal.into_response();
    }
    let mut resp = out.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}

/// What the checks measured, as gauges an existing Prometheus can scrape: rebuilt on every
/// scrape from the stored states, so a deleted check's series go away.
async fn measured(state: &AppState) {
    let m = &state.metrics;
    let system = app::Actor::system();
    if let Ok(n) = state.app.store().open_alarm_total().await {
        m.alarms_open.set(n);
    }
    if let Ok(n) = state.app.store().awaiting_route_total().await {
        m.alarms_unrouted.set(n);
    }
    let Ok(board) = state.app.check_board(&system, None).await else { return };
    m.check_status.clear();
    m.check_duration.clear();
    m.check_perf.clear();
    for row in board {
        let Some(st) = row.state else { continue };
        let site = row.site.unwrap_or_default();
        let item_id = row.item_id.to_string();
        let labels = CheckLabels {
            check: row.check.clone(),
            item: row.item.clone(),
            item_id: item_id.clone(),
            site: site.clone(),
        };
        let code = match st.status.as_str() {
            "ok" => 0,
            "warning" => 1,
            "critical" => 2,
            _ => 3,
        };
        m.check_status.get_or_create(&labels).set(code);
        m.check_duration.get_or_create(&labels).set(st.duration_us as f64 / 1e6);
        let perf: Vec<serde_json::Value> = serde_json::from_str(&st.perfdata).unwrap_or_default();
        for p in perf {
            let (Some(label), Some(value)) = (p["label"].as_str(), p["value"].as_f64()) else { continue };
            let l = PerfLabels {
                check: row.check.clone(),
                item: row.item.clone(),
                item_id: item_id.clone(),
                site: site.clone(),
                label: label.to_owned(),
                unit: p["unit"].as_str().unwrap_or("").to_owned(),
            };
            m.check_perf.get_or_create(&l).set(value);
        }
    }
}
