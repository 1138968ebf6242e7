//! The web console: server-rendered pages (askama templates in `templates/`), plain HTML forms
//! with CSRF tokens, and a little JavaScript that only enhances (theme, shortcuts).
//!
//! Pages read through the same use-cases as the API. Forms that fail validation are shown
//! again with what the user typed and the error next to each field.

mod cmdb;
mod configs;
mod desk;
mod incidents;
mod major;
mod monitoring;
mod problems;
pub use cmdb::{item_page, risk_page, service_map_page, services_page, vendor_page, vendors_page};
pub use configs::{config_diff_page, configs_page, item_config_page, item_config_store};
pub use desk::{oncall_apply, oncall_override, oncall_page};
pub use incidents::{
    filter_delete, filter_save, incident_acknowledge, incident_assign, incident_attach, incident_download,
    incident_move, incident_note, incident_page, incident_parent, incident_priority, incident_verify, incidents_bulk,
    incidents_open, incidents_page,
};
pub use major::{major_declare, major_update, review_page, review_save, status_page};
pub use monitoring::{events_action, events_page, monitoring_ack, monitoring_page};
pub use problems::{problem_action, problem_action_done, problem_page, problem_work, problems_page, problems_raise};

use crate::access::{SESSION_COOKIE, cookie, form_urlencoded_field};
use crate::api::rfc3339;
use crate::extract::{Ctx, QueryPairs, Source};
use crate::problem::ApiError;
use crate::state::AppState;
use app::{AppError, AuditFilter, LoginOutcome, NewUser, Principal};
use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use model::list::{self, ListQuery};
use model::{FieldError, Perm, Role, Scope};
use std::fmt::Write as _;

const LOGIN_CSRF_COOKIE: &str = "wk_login_csrf";

// ---------------------------------------------------------------------------------------
// Shared page parts

/// An instant, both ways people read it.
#[derive(Debug, Clone)]
pub struct When {
    pub iso: String,
    pub rel: String,
}

pub(super) fn when(ms: i64, now_ms: i64) -> When {
    let d = (now_ms - ms) / 1000;
    let (n, unit) = match d.abs() {
        s if s < 45 => (0, ""),
        s if s < 90 * 60 => ((s + 30) / 60, "min"),
        s if s < 36 * 3600 => ((s + 1800) / 3600, "h"),
        s => ((s + 43_200) / 86_400, "d"),
    };
    let rel = match (n, d >= 0) {
        (0, _) => "just now".to_owned(),
        (n, true) => format!("{n} {unit} ago"),
        (n, false) => format!("in {n} {unit}"),
    };
    When { iso: rfc3339(ms), rel }
}

pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub key: &'static str,
    pub shortcut: &'static str,
    pub section: bool,
    pub planned: bool,
}

/// The frame around every console page.
pub struct Chrome {
    pub title: String,
    pub active: &'static str,
    pub username: String,
    pub display_name: String,
    pub role_label: &'static str,
    pub sites: String,
    pub expires: Option<When>,
    pub csrf: String,
    pub session: bool,
    pub demo: bool,
    pub backend: &'static str,
    pub nav: Vec<NavItem>,
}

fn nav_for(p: &Principal, source: &str) -> Vec<NavItem> {
    let actor = p.actor(source);
    let link = |label, href, key, shortcut| NavItem { label, href, key, shortcut, section: false, planned: false };
    let planned = |label| NavItem { label, href: "", key: "", shortcut: "", section: false, planned: true };
    let section = |label| NavItem { label, href: "", key: "", shortcut: "", section: true, planned: false };
    let mut nav = vec![section("Operate"), link("Dashboard", "/", "dashboard", "d")];
    if actor.can(Perm::IncidentRead) {
        nav.push(link("Incidents", "/incidents", "incidents", "i"));
        nav.push(link("On call", "/oncall", "oncall", "o"));
        nav.push(link("Service status", "/status", "status", "t"));
    }
    if actor.can(Perm::IncidentRead) && actor.sites.is_empty() {
        nav.push(link("Problems", "/problems", "problems", "b"));
    }
    if actor.can(Perm::EventRead) {
        nav.push(link("Monitoring", "/monitoring", "monitoring", "m"));
        nav.push(link("Events", "/events", "events", "e"));
    }
    nav.extend([planned("Changes"), section("Know")]);
    if actor.can(Perm::CmdbRead) {
        nav.push(link("CMDB", "/cmdb", "cmdb", "c"));
        nav.push(link("Services", "/cmdb/services", "services", "s"));
        nav.push(link("Risk", "/cmdb/risk", "risk", "r"));
        // The vendor register is closed to site-scoped (vendor) accounts.
        if actor.sites.is_empty() {
            nav.push(link("Vendors", "/cmdb/vendors", "vendors", "v"));
        }
    }
    if actor.can(Perm::ConfigRead) {
        nav.push(link("Configurations", "/configs", "configs", "p"));
    }
    nav.extend([planned("Knowledge"), planned("Reports"), section("Admin")]);
    if actor.can(Perm::UserAdmin) {
        nav.push(link("Users", "/admin/users", "users", "u"));
    }
    if actor.can(Perm::TokenAdmin) {
        nav.push(link("All tokens", "/admin/tokens", "all-tokens", ""));
    }
    if actor.can(Perm::OwnTokens) {
        nav.push(link("My API tokens", "/tokens", "tokens", ""));
    }
    if actor.can(Perm::AuditRead) {
        nav.push(link("Audit log", "/audit", "audit", "a"));
    }
    nav.push(link("API reference", "/api", "api", ""));
    nav
}

fn chrome(s: &AppState, p: &Principal, source: &str, title: &str, active: &'static str) -> Chrome {
    let now = s.app.now_ms();
    Chrome {
        title: title.to_owned(),
        active,
        username: p.user.username.clone(),
        display_name: if p.user.display_name.is_empty() {
            p.user.username.clone()
        } else {
            p.user.display_name.clone()
        },
        role_label: p.user.role.label(),
        sites: p.user.sites.join(", "),
        expires: p.user.expires_at_ms.map(|e| when(e, now)),
        csrf: p.csrf_token.clone().unwrap_or_default(),
        session: p.session_hash.is_some(),
        demo: s.demo,
        backend: s.app.store().backend(),
        nav: nav_for(p, source),
    }
}

pub(super) fn ctx_chrome(s: &AppState, ctx: &Ctx, title: &str, active: &'static str) -> Chrome {
    chrome(s, &ctx.principal, &ctx.source, title, active)
}

pub(super) fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "Template rendering failed.");
            (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed").into_response()
        }
    }
}

/// Escapes text for HTML built in code (charts, pagers).
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Previous/next links that keep every other query parameter.
fn pager(base: &str, pairs: &[(String, String)], q: &ListQuery, total: i64) -> String {
    let keep: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "offset").cloned().collect();
    let href = |offset: u64| {
        let mut p = keep.clone();
        p.push(("offset".into(), offset.to_string()));
        format!("{base}?{}", serde_urlencoded::to_string(&p).unwrap_or_default())
    };
    let total = u64::try_from(total).unwrap_or(0);
    let first = if total == 0 { 0 } else { q.offset + 1 };
    let last = (q.offset + u64::from(q.limit)).min(total);
    let mut out =
        format!("<nav class=\"pager\" aria-label=\"Pages\"><span class=\"muted\">{first}–{last} of {total}</span>");
    if q.offset > 0 {
        let _ = write!(
            out,
            " <a class=\"btn small\" rel=\"prev\" href=\"{}\">← Previous</a>",
            esc(&href(q.offset.saturating_sub(u64::from(q.limit))))
        );
    }
    if last < total {
        let _ = write!(
            out,
            " <a class=\"btn small\" rel=\"next\" href=\"{}\">Next →</a>",
            esc(&href(q.offset + u64::from(q.limit)))
        );
    }
    out.push_str("</nav>");
    out
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn errors_pairs(e: &[FieldError]) -> Vec<(String, String)> {
    e.iter().map(|e| (e.field.clone(), e.message.clone())).collect()
}

/// A stored file as a download: the checked type, never sniffed, never rendered in the
/// console's origin (sandboxed), saved under its name.
pub(crate) fn download(name: &str, media_type: &str, bytes: Vec<u8>) -> Response {
    use axum::http::{HeaderValue, header};
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "._- ".contains(c) { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect();
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    resp
}

fn form_pairs(body: &Bytes) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

fn fields(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
}

/// A `YYYY-MM-DD` form date as the end of that day, UTC.
fn date_end_ms(field: &str, raw: &str) -> Result<Option<i64>, FieldError> {
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.tomorrow().ok())
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| Some(z.timestamp().as_millisecond()))
        .ok_or_else(|| FieldError::new(field, format!("`{raw}` is not a date (YYYY-MM-DD)")))
}

// ---------------------------------------------------------------------------------------
// Error pages

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    heading: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "bare_error.html")]
struct BareError {
    heading: String,
    detail: String,
}

pub fn forbidden(s: &AppState, p: &Principal, perm: Perm) -> Response {
    let page = ErrorPage {
        chrome: chrome(s, p, "", "Not permitted", ""),
        heading: "Not permitted".into(),
        detail: format!(
            "This page needs the `{}` permission, which your role ({}) does not have. Ask an administrator if you need it.",
            crate::problem::perm_name(perm),
            p.user.role.label()
        ),
    };
    render(StatusCode::FORBIDDEN, &page)
}

pub fn csrf_failed() -> Response {
    let page = BareError {
        heading: "Form expired".into(),
        detail: "The form's security token is missing or out of date (perhaps you signed in again in another tab). Go back, reload the page and submit again.".into(),
    };
    render(StatusCode::FORBIDDEN, &page)
}

pub fn not_found_page() -> Response {
    let page = BareError { heading: "Page not found".into(), detail: "There is no page at this address.".into() };
    render(StatusCode::NOT_FOUND, &page)
}

/// Renders a use-case error on a console page.
pub(super) fn app_error_page(s: &AppState, ctx: &Ctx, e: AppError) -> Response {
    let api = ApiError::from(e);
    let p = api.problem();
    let page = ErrorPage {
        chrome: ctx_chrome(s, ctx, &p.title, ""),
        heading: p.title.clone(),
        detail: p.detail.unwrap_or_default(),
    };
    render(api.status(), &page)
}

// ---------------------------------------------------------------------------------------
// Login and logout

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    username: String,
    message: String,
    message_kind: &'static str,
    demo: bool,
    demo_password: &'static str,
    demo_accounts: Vec<(&'static str, &'static str)>,
}

/// Only same-site paths are followed after login (no open redirect).
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

fn cookie_header(name: &str, value: &str, path: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
    if let Some(a) = max_age {
        let _ = write!(c, "; Max-Age={a}");
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn login_response(
    s: &AppState,
    status: StatusCode,
    next: &str,
    username: &str,
    message: &str,
    kind: &'static str,
) -> Response {
    let csrf = app::random_token(24);
    let page = LoginPage {
        csrf: csrf.clone(),
        next: safe_next(next),
        username: username.to_owned(),
        message: message.to_owned(),
        message_kind: kind,
        demo: s.demo,
        demo_password: app::DEMO_PASSWORD,
        demo_accounts: app::demo_accounts().map(|(u, r)| (u, r.label())).collect(),
    };
    let mut resp = render(status, &page);
    resp.headers_mut().append(header::SET_COOKIE, cookie_header(LOGIN_CSRF_COOKIE, &csrf, "/login", Some(3600), s.tls));
    resp
}

pub async fn login_page(State(s): State<AppState>, headers: HeaderMap, QueryPairs(pairs): QueryPairs) -> Response {
    let next = field(&pairs, "next");
    if let Some(sid) = cookie(&headers, SESSION_COOKIE)
        && let Ok(Some(_)) = s.app.session(sid).await
    {
        return Redirect::to(&safe_next(next)).into_response();
    }
    login_response(&s, StatusCode::OK, next, "", "", "")
}

pub async fn login_submit(
    State(s): State<AppState>,
    Source(source): Source,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let (username, password, next) = (field(&pairs, "username"), field(&pairs, "password"), field(&pairs, "next"));
    let sent = form_urlencoded_field(&body, "csrf_token").unwrap_or_default();
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), sent.as_bytes())) {
        return login_response(
            &s,
            StatusCode::FORBIDDEN,
            next,
            username,
            "The sign-in form expired. Please sign in again.",
            "error",
        );
    }
    match s.app.login(username, password, &source, cookie(&headers, SESSION_COOKIE)).await {
        Ok(LoginOutcome::Ok(session)) => {
            let mut resp = Redirect::to(&safe_next(next)).into_response();
            let h = resp.headers_mut();
            h.append(header::SET_COOKIE, cookie_header(SESSION_COOKIE, &session.cookie, "/", None, s.tls));
            h.append(header::SET_COOKIE, cookie_header(LOGIN_CSRF_COOKIE, "", "/login", Some(0), s.tls));
            resp
        }
        Ok(LoginOutcome::Refused) => login_response(
            &s,
            StatusCode::UNAUTHORIZED,
            next,
            username,
            "Wrong username or password, or the account is disabled or expired.",
            "error",
        ),
        Ok(LoginOutcome::Throttled { retry_after_s }) => {
            let msg = format!("Too many failed sign-ins. Wait {} minutes and try again.", (retry_after_s + 59) / 60);
            let mut resp = login_response(&s, StatusCode::TOO_MANY_REQUESTS, next, username, &msg, "error");
            if let Ok(v) = HeaderValue::from_str(&retry_after_s.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "Login failed with an internal error.");
            login_response(
                &s,
                StatusCode::SERVICE_UNAVAILABLE,
                next,
                username,
                "Sign-in is unavailable right now; try again shortly.",
                "error",
            )
        }
    }
}

pub async fn logout(State(s): State<AppState>, ctx: Ctx) -> Response {
    if let Err(e) = s.app.logout(&ctx.principal, &ctx.source).await {
        tracing::warn!(error = %e, "Logout failed.");
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(header::SET_COOKIE, cookie_header(SESSION_COOKIE, "", "/", Some(0), s.tls));
    resp
}

// ---------------------------------------------------------------------------------------
// Dashboard

pub struct RecentRow {
    pub at: When,
    pub actor: String,
    pub action: String,
    pub target: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    now: When,
    sites: Vec<store::SiteRow>,
    items_total: i64,
    critical_items: i64,
    by_class: Vec<(String, i64)>,
    chart: String,
    recent: Vec<RecentRow>,
    /// Open incidents, by priority P1–P5, and those whose clocks are at 75 % or past
    /// (`None` when the reader may not see incidents).
    incidents: Option<([usize; 5], usize)>,
    /// The desk's last 30 days (estate-wide readers only).
    kpis: Option<DeskKpis>,
}

/// A horizontal bar chart as inline SVG: readable without JavaScript, prints cleanly. Each
/// bar links to `href(label)`.
pub(super) fn bar_chart(rows: &[(String, i64)], aria: &str, href: impl Fn(&str) -> String) -> String {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let row_h = 22;
    let label_w = 150;
    let bar_w = 300;
    let h = row_h * i64::try_from(rows.len()).unwrap_or(0) + 4;
    let mut svg = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {} {h}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">",
        esc(aria),
        label_w + bar_w + 50
    );
    for (i, (label, n)) in rows.iter().enumerate() {
        let y = i64::try_from(i).unwrap_or(0) * row_h + 2;
        let w = (n * bar_w / max).max(2);
        let _ = write!(
            svg,
            "<a href=\"{}\"><text x=\"{}\" y=\"{}\" class=\"chart-label\" text-anchor=\"end\">{}</text>\
             <rect x=\"{}\" y=\"{}\" width=\"{w}\" height=\"{}\" rx=\"2\" class=\"chart-bar\"><title>{}: {n}</title></rect>\
             <text x=\"{}\" y=\"{}\" class=\"chart-value\">{n}</text></a>",
            esc(&href(label)),
            label_w - 8,
            y + 15,
            esc(label),
            label_w,
            y + 3,
            row_h - 6,
            esc(label),
            label_w + w + 6,
            y + 15,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One line of a measurement chart: a name for the legend and its samples (a roll-up's
/// range is drawn as its peak).
pub(super) struct Series {
    pub name: String,
    pub points: Vec<app::checks::Sample>,
}

/// A value with an SI prefix (1.5k, 20M), as monitoring graphs label their axes.
fn si(v: f64) -> String {
    let a = v.abs();
    let (d, p) = match a {
        a if a >= 1e9 => (1e9, "G"),
        a if a >= 1e6 => (1e6, "M"),
        a if a >= 1e3 => (1e3, "k"),
        _ => (1.0, ""),
    };
    let x = v / d;
    if x.fract().abs() < 1e-9 || x.abs() >= 100.0 { format!("{x:.0}{p}") } else { format!("{x:.1}{p}") }
}

/// A time on a chart's axis, in UTC, as precise as the span needs: the hour within a day, the
/// day and hour within a week, the day beyond, the month beyond a quarter.
fn axis_time(t: i64, span: i64) -> String {
    let format = match span {
        s if s <= 86_400_000 => "%H:%M",
        s if s <= 7 * 86_400_000 => "%d %b %H:%M",
        s if s <= 92 * 86_400_000 => "%d %b",
        _ => "%b %Y",
    };
    jiff::Timestamp::from_millisecond(t)
        .map(|ts| ts.to_zoned(jiff::tz::TimeZone::UTC).strftime(format).to_string())
        .unwrap_or_default()
}

/// A point as drawn: its time, the mean of the samples it stands for, and their peak.
type Point = (i64, f64, f64);

/// Points far enough apart to be a gap in the measurements (the check did not run, the device
/// did not answer) rather than its cadence: the line is broken there instead of drawn across.
fn segments(pts: &[Point], bucket: i64) -> Vec<&[Point]> {
    let mut steps: Vec<i64> = pts.windows(2).map(|w| w[1].0 - w[0].0).collect();
    steps.sort_unstable();
    let cadence = steps.get(steps.len() / 2).copied().unwrap_or(0);
    let gap = (3 * cadence).max(2 * bucket);
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..pts.len() {
        if pts[i].0 - pts[i - 1].0 > gap {
            out.push(&pts[start..i]);
            start = i;
        }
    }
    if start < pts.len() {
        out.push(&pts[start..]);
    }
    out
}

/// Lines over `[from, to]`, reduced to at most 240 points each so a year of samples draws as
/// fast as an hour: each point the mean of its samples, and — where hourly roll-ups or many
/// samples met in a point — a thin line of their peak, so a saturated ten minutes is not
/// averaged away. Gaps in the measurements break the line. The axis runs from zero to the
/// highest value; times are UTC.
pub(super) fn line_chart(title: &str, unit: &str, series: &[Series], from: i64, to: i64) -> String {
    const BUCKETS: i64 = 240;
    let (w, h, left, top, right, bottom) = (600.0, 150.0, 48.0, 18.0, 592.0, 124.0);
    let span = (to - from).max(1);
    // Per series: (time, mean, peak) per bucket, and whether any peak differs from its mean.
    let reduced: Vec<(&str, Vec<Point>, bool)> = series
        .iter()
        .map(|s| {
            let mut sums: std::collections::BTreeMap<i64, (f64, u32, f64)> = std::collections::BTreeMap::new();
            for p in s.points.iter().filter(|p| (from..=to).contains(&p.at) && p.value.is_finite()) {
                let b = ((p.at - from) * BUCKETS / span).min(BUCKETS - 1);
                let peak = p.range.map_or(p.value, |r| r.1).max(p.value);
                let e = sums.entry(b).or_insert((0.0, 0, f64::MIN));
                e.0 += p.value;
                e.1 += 1;
                e.2 = e.2.max(peak);
            }
            let pts: Vec<Point> = sums
                .into_iter()
                .map(|(b, (sum, n, peak))| (from + b * span / BUCKETS, sum / f64::from(n), peak))
                .collect();
            let peaked = pts.iter().any(|p| p.2 > p.1 * 1.001 + 1e-9);
            (s.name.as_str(), pts, peaked)
        })
        .collect();
    let max = reduced.iter().flat_map(|(_, p, _)| p.iter().map(|x| x.2)).fold(0.0_f64, f64::max);
    let top_value = if max > 0.0 { max * 1.1 } else { 1.0 };
    let x = |t: i64| left + (t - from) as f64 / span as f64 * (right - left);
    let y = |v: f64| bottom - v.max(0.0) / top_value * (bottom - top);
    let mut svg = format!(
        "<svg class=\"metric-chart\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {w} {h}\" preserveAspectRatio=\"xMinYMin meet\">\
         <text class=\"metric-title\" x=\"{left}\" y=\"12\">{}</text>",
        esc(title),
        esc(title)
    );
    for k in 0..=2 {
        let v = top_value * f64::from(k) / 2.0;
        let gy = y(v);
        let _ = write!(
            svg,
            "<line class=\"metric-grid\" x1=\"{left}\" y1=\"{gy:.1}\" x2=\"{right}\" y2=\"{gy:.1}\"/>\
             <text class=\"metric-axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}{}</text>",
            left - 4.0,
            gy + 4.0,
            si(v),
            esc(unit)
        );
    }
    for (k, t) in [from, from + span / 2, to].into_iter().enumerate() {
        let anchor = ["start", "middle", "end"][k];
        let _ = write!(
            svg,
            "<text class=\"metric-axis\" x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}{}</text>",
            x(t),
            bottom + 16.0,
            axis_time(t, span),
            if k == 2 { " UTC" } else { "" }
        );
    }
    let bucket = span / BUCKETS;
    for (i, (name, pts, peaked)) in reduced.iter().enumerate() {
        let mut mean = String::new();
        let mut peak = String::new();
        for seg in segments(pts, bucket) {
            // A lone point has no line to be on: it is a dot.
            if let [(t, v, _)] = seg {
                let _ = write!(
                    svg,
                    "<circle class=\"metric-dot s{i}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\"/>",
                    x(*t),
                    y(*v)
                );
            }
            for (k, (t, v, p)) in seg.iter().enumerate() {
                let m = if k == 0 { 'M' } else { 'L' };
                let _ = write!(mean, "{m}{:.1},{:.1} ", x(*t), y(*v));
                let _ = write!(peak, "{m}{:.1},{:.1} ", x(*t), y(*p));
            }
        }
        let top_seen = pts.iter().map(|p| p.2).fold(f64::MIN, f64::max);
        let last = match pts.last() {
            Some(p) if *peaked => format!(" (last {}{unit}, peak {}{unit})", si(p.1), si(top_seen)),
            Some(p) => format!(" (last {}{unit})", si(p.1)),
            None => " (no samples)".into(),
        };
        if *peaked {
            let _ = write!(
                svg,
                "<path class=\"metric-peak s{i}\" d=\"{}\"><title>{} peak</title></path>",
                peak.trim_end(),
                esc(name)
            );
        }
        let _ = write!(
            svg,
            "<path class=\"metric-line s{i}\" d=\"{}\"><title>{}</title></path>\
             <text class=\"metric-legend s{i}\" x=\"{right}\" y=\"{}\" text-anchor=\"end\">{}{}</text>",
            mean.trim_end(),
            esc(name),
            12 + 12 * i,
            esc(name),
            esc(&last)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Opened and resolved incidents per day as paired columns, the days along the bottom.
fn trend_chart(days: &[app::kpis::DayLine]) -> String {
    let max = days.iter().map(|d| d.opened.max(d.resolved)).max().unwrap_or(1).max(1);
    let (col, gap, h, base) = (8_i64, 6_i64, 120_i64, 130_i64);
    let w = i64::try_from(days.len()).unwrap_or(0) * (2 * col + gap) + 10;
    let mut svg = format!(
        "<svg class=\"kpi-chart\" role=\"img\" aria-label=\"Incidents opened and resolved per day\" viewBox=\"0 0 {w} {}\" \
         preserveAspectRatio=\"xMinYMin meet\">",
        base + 16
    );
    for (i, d) in days.iter().enumerate() {
        let x = i64::try_from(i).unwrap_or(0) * (2 * col + gap) + 5;
        for (k, (n, class)) in [(d.opened, "opened"), (d.resolved, "resolved")].into_iter().enumerate() {
            let bar = n * h / max;
            let _ = write!(
                svg,
                "<rect x=\"{}\" y=\"{}\" width=\"{col}\" height=\"{bar}\" class=\"{class}\"><title>{}: {n} {class}</title></rect>",
                x + i64::try_from(k).unwrap_or(0) * col,
                base - bar,
                esc(&d.day)
            );
        }
        if i % 7 == 0 || i + 1 == days.len() {
            let _ = write!(svg, "<text x=\"{x}\" y=\"{}\">{}</text>", base + 12, esc(d.day.get(5..).unwrap_or(&d.day)));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The dashboard's desk section: 30 days of KPIs from the roll-ups.
pub struct DeskKpis {
    pub mtta: String,
    pub mttr: String,
    pub sla: String,
    pub fcr: String,
    pub satisfaction: String,
    pub opened: i64,
    pub resolved: i64,
    pub chart: String,
    /// (age, open, per priority)
    pub backlog: Vec<(&'static str, usize, [usize; 5])>,
    pub top_items: Vec<(String, i64)>,
    pub top_services: Vec<(String, i64)>,
}

fn desk_kpis(r: app::kpis::KpiReport) -> DeskKpis {
    use model::kpi::Counter;
    let minutes = |m: Option<f64>| match m {
        None => "—".to_owned(),
        Some(m) if m >= 120.0 => format!("{:.1} h", m / 60.0),
        Some(m) => format!("{m:.0} min"),
    };
    let pct = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.0} %"));
    DeskKpis {
        mtta: minutes(r.totals.mtta_minutes()),
        mttr: minutes(r.totals.mttr_minutes()),
        sla: pct(r.totals.sla_compliance()),
        fcr: pct(r.totals.fcr()),
        satisfaction: r.totals.satisfaction().map_or("—".to_owned(), |v| format!("{v:.1} / 5")),
        opened: r.totals.get(Counter::Opened),
        resolved: r.totals.get(Counter::Resolved),
        chart: trend_chart(&r.days),
        backlog: r.backlog,
        top_items: r.top_items,
        top_services: r.top_services,
    }
}

pub async fn dashboard(State(s): State<AppState>, ctx: Ctx) -> Response {
    let actor = ctx.actor();
    let now = s.app.now_ms();
    let overview = match s.app.overview(&actor).await {
        Ok(o) => o,
        Err(e) => return app_error_page(&s, &ctx, e),
    };
    let critical_q =
        list::parse(&store::ITEM_LIST, &[("criticality".into(), "critical".into()), ("limit".into(), "1".into())]);
    let critical_items = match critical_q {
        Ok(q) => s.app.list_items(&actor, &q).await.map(|(_, n)| n).unwrap_or(0),
        Err(_) => 0,
    };
    let mut recent = Vec::new();
    if actor.can(Perm::AuditRead)
        && let Ok(f) = AuditFilter::parse(&[("limit".into(), "8".into())])
        && let Ok((records, _)) = s.app.audit_list(&actor, &f).await
    {
        recent = records
            .into_iter()
            .map(|r| RecentRow {
                at: when(r.event.at_ms, now),
                actor: r.event.actor,
                action: r.event.action,
                target: format!("{} {}", r.event.target_type, r.event.target_id),
            })
            .collect();
    }
    // Estate-wide figures come from the roll-ups and the open queue's index; a site-scoped
    // account counts the incidents it sees.
    let kpis = if actor.can(Perm::IncidentRead) && actor.sites.is_empty() {
        s.app.kpis(&actor, 30).await.ok().map(desk_kpis)
    } else {
        None
    };
    let incidents = match (&kpis, actor.can(Perm::IncidentRead)) {
        (Some(k), _) => {
            let mut by_priority = [0usize; 5];
            for (_, _, per) in &k.backlog {
                for (i, n) in per.iter().enumerate() {
                    by_priority[i] += n;
                }
            }
            Some((by_priority, s.app.at_risk_count(&actor).await.unwrap_or(0)))
        }
        (None, true) => {
            let open = s.app.incidents(&actor, false).await.unwrap_or_default();
            let mut by_priority = [0usize; 5];
            for v in &open {
                if let Some(n) = by_priority.get_mut((v.row.priority as usize).saturating_sub(1)) {
                    *n += 1;
                }
            }
            Some((by_priority, open.iter().filter(|v| v.at_risk()).count()))
        }
        (None, false) => None,
    };
    let chart = bar_chart(&overview.items_by_class, "Bar chart of configuration items by class", |class| {
        format!("/cmdb?{}", serde_urlencoded::to_string([("class", class)]).unwrap_or_default())
    });
    let page = Dashboard {
        chrome: ctx_chrome(&s, &ctx, "Dashboard", "dashboard"),
        now: when(now, now),
        sites: overview.sites,
        items_total: overview.items_total,
        critical_items,
        by_class: overview.items_by_class,
        chart,
        recent,
        incidents,
        kpis,
    };
    render(StatusCode::OK, &page)
}

// ---------------------------------------------------------------------------------------
// CMDB items

pub struct Header {
    pub label: &'static str,
    pub href: String,
    pub arrow: &'static str,
}

#[derive(Template)]
#[template(path = "items.html")]
struct ItemsPage {
    chrome: Chrome,
    items: Vec<store::ItemRow>,
    total: i64,
    q: String,
    facets: Vec<Facet>,
    /// Filters in force, each with the link that drops it.
    active: Vec<(String, String)>,
    headers: Vec<Header>,
    errors: Vec<(String, String)>,
    pager: String,
}

/// One facet of the item list: its values with counts, each a link that adds or drops it.
pub struct Facet {
    pub label: &'static str,
    pub entries: Vec<FacetEntry>,
}

pub struct FacetEntry {
    pub label: String,
    pub count: i64,
    pub href: String,
    pub selected: bool,
}

/// `/cmdb?…` with `key` set to `value` (or removed when `None`), from the first page.
fn items_href(pairs: &[(String, String)], key: &str, value: Option<&str>) -> String {
    let mut p: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != key && k != "offset").cloned().collect();
    if let Some(v) = value {
        p.push((key.to_owned(), v.to_owned()));
    }
    if p.is_empty() {
        "/cmdb".to_owned()
    } else {
        format!("/cmdb?{}", serde_urlencoded::to_string(&p).unwrap_or_default())
    }
}

pub async fn items_page(State(s): State<AppState>, ctx: Ctx, QueryPairs(pairs): QueryPairs) -> Response {
    let actor = ctx.actor();
    let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    let (q, errors) = match list::parse(&store::ITEM_LIST, &pairs) {
        Ok(q) => (q, Vec::new()),
        Err(e) => (list::parse(&store::ITEM_LIST, &[]).unwrap_or_else(|_| unreachable_query()), errors_pairs(&e.0)),
    };
    let (items, total) = match s.app.list_items(&actor, &q).await {
        Ok(r) => r,
        Err(e) => return app_error_page(&s, &ctx, e),
    };
    let facets = match s.app.item_facets(&actor, &q).await {
        Ok(f) => f,
        Err(e) => return app_error_page(&s, &ctx, e),
    };
    let facets = facets
        .into_iter()
        .map(|(name, counts)| Facet {
            label: match name {
                "class" => "Class",
                "site" => "Site",
                "status" => "Status",
                "criticality" => "Criticality",
                _ => "Vendor",
            },
            entries: counts
                .into_iter()
                .filter(|(v, _)| !v.is_empty())
                .map(|(value, count)| {
                    let selected = q.filter(name) == Some(value.as_str());
                    FacetEntry {
                        href: items_href(&pairs, name, (!selected).then_some(value.as_str())),
                        label: value,
                        count,
                        selected,
                    }
                })
                .collect(),
        })
        .filter(|f| !f.entries.is_empty())
        .collect();
    let active = q.filters.iter().map(|(k, v)| (format!("{k}: {v}"), items_href(&pairs, k, None))).collect();
    let headers = [("Name", "name"), ("Class", "class"), ("Site", "site"), ("Vendor", "vendor"), ("Status", "status")]
        .into_iter()
        .map(|(label, f)| {
            let current = q.sort.field == f;
            let next = if current && !q.sort.descending { format!("-{f}") } else { f.to_owned() };
            let mut p: Vec<(String, String)> =
                pairs.iter().filter(|(k, _)| k != "sort" && k != "offset").cloned().collect();
            p.push(("sort".into(), next));
            Header {
                label,
                href: format!("/cmdb?{}", serde_urlencoded::to_string(&p).unwrap_or_default()),
                arrow: if !current {
                    ""
                } else if q.sort.descending {
                    " ▼"
                } else {
                    " ▲"
                },
            }
        })
        .collect();
    let page = ItemsPage {
        chrome: ctx_chrome(&s, &ctx, "CMDB", "cmdb"),
        pager: pager("/cmdb", &pairs, &q, total),
        items,
        total,
        q: q.q.clone().unwrap_or_default(),
        facets,
        active,
        headers,
        errors,
    };
    render(if page.errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST }, &page)
}

/// The default query of a spec always parses; this is only the type-level fallback.
fn unreachable_query() -> ListQuery {
    ListQuery {
        limit: list::DEFAULT_LIMIT,
        offset: 0,
        sort: list::Sort { field: "name", descending: false },
        q: None,
        filters: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------
// Users

pub struct UserRow {
    pub username: String,
    pub display_name: String,
    pub role: &'static str,
    pub sites: String,
    pub disabled: bool,
    pub expired: bool,
    pub expires: Option<When>,
    pub created: When,
}

#[derive(Default)]
pub struct UserForm {
    pub username: String,
    pub display_name: String,
    pub expires: String,
    pub roles: Vec<Opt>,
    pub sites: Vec<Opt>,
    pub err_username: Option<String>,
    pub err_display_name: Option<String>,
    pub err_role: Option<String>,
    pub err_password: Option<String>,
    pub err_expires: Option<String>,
    pub err_sites: Option<String>,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    total: i64,
    q: String,
    role_filter: Vec<Opt>,
    notice: String,
    errors: Vec<(String, String)>,
    form: UserForm,
    pager: String,
}

async fn users_response(
    s: &AppState,
    ctx: &Ctx,
    pairs: Vec<(String, String)>,
    mut form: UserForm,
    form_pairs: &[(String, String)],
    errors: Vec<FieldError>,
    notice: String,
) -> Response {
    let now = s.app.now_ms();
    let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(k, v)| !v.is_empty() && k != "created").collect();
    let q = match app::parse_user_query(&pairs) {
        Ok(q) => q,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (users, total) = match s.app.list_users(&ctx.actor(), &q).await {
        Ok(r) => r,
        Err(e) => return app_error_page(s, ctx, e),
    };
    let chosen_role = field(form_pairs, "role");
    let chosen_sites = fields(form_pairs, "sites");
    form.roles = Role::ALL
        .iter()
        .map(|r| Opt {
            value: r.as_str().into(),
            label: r.label().into(),
            selected: if chosen_role.is_empty() { *r == Role::Operator } else { r.as_str() == chosen_role },
        })
        .collect();
    form.sites = s
        .app
        .store()
        .site_slugs()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|slug| Opt { selected: chosen_sites.contains(&slug), label: slug.clone(), value: slug })
        .collect();
    for e in &errors {
        let slot = match e.field.as_str() {
            "username" => &mut form.err_username,
            "display_name" => &mut form.err_display_name,
            "role" => &mut form.err_role,
            "password" => &mut form.err_password,
            "expires" | "expires_at" => &mut form.err_expires,
            "sites" => &mut form.err_sites,
            _ => &mut form.err_username,
        };
        *slot = Some(e.message.clone());
    }
    let role_filter = Role::ALL
        .iter()
        .map(|r| Opt {
            value: r.as_str().into(),
            label: r.label().into(),
            selected: q.filter("role") == Some(r.as_str()),
        })
        .collect();
    let rows = users
        .into_iter()
        .map(|u| UserRow {
            expired: u.expires_at_ms.is_some_and(|e| e <= now),
            expires: u.expires_at_ms.map(|e| when(e, now)),
            created: when(u.created_at_ms, now),
            sites: u.sites.join(", "),
            role: u.role.as_str(),
            username: u.username,
            display_name: u.display_name,
            disabled: u.disabled,
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = UsersPage {
        chrome: ctx_chrome(s, ctx, "Users", "users"),
        pager: pager("/admin/users", &pairs, &q, total),
        users: rows,
        total,
        q: q.q.clone().unwrap_or_default(),
        role_filter,
        notice,
        errors: errors_pairs(&errors),
        form,
    };
    render(status, &page)
}

pub async fn users_page(State(s): State<AppState>, ctx: Ctx, QueryPairs(pairs): QueryPairs) -> Response {
    let notice = match field(&pairs, "created") {
        "" => String::new(),
        name => format!("Account `{name}` created."),
    };
    users_response(&s, &ctx, pairs, UserForm::default(), &[], Vec::new(), notice).await
}

pub async fn users_create(State(s): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let p = form_pairs(&body);
    let mut errors = Vec::new();
    let role = field(&p, "role").parse::<Role>().map_err(|m| errors.push(FieldError::new("role", m))).ok();
    let expires = date_end_ms("expires", field(&p, "expires")).map_err(|e| errors.push(e)).ok().flatten();
    let form = UserForm {
        username: field(&p, "username").to_owned(),
        display_name: field(&p, "display_name").to_owned(),
        expires: field(&p, "expires").to_owned(),
        ..UserForm::default()
    };
    if errors.is_empty()
        && let Some(role) = role
    {
        let new = NewUser {
            username: form.username.clone(),
            display_name: form.display_name.clone(),
            role,
            password: field(&p, "password").to_owned(),
            expires_at_ms: expires,
            sites: fields(&p, "sites"),
        };
        match s.app.create_user(&ctx.actor(), new).await {
            Ok(u) => {
                let q = serde_urlencoded::to_string([("created", u.username)]).unwrap_or_default();
                return Redirect::to(&format!("/admin/users?{q}")).into_response();
            }
            Err(AppError::Invalid(i)) => errors = i.0,
            Err(e) => return app_error_page(&s, &ctx, e),
        }
    }
    users_response(&s, &ctx, Vec::new(), form, &p, errors, String::new()).await
}

async fn users_toggle(s: AppState, ctx: Ctx, username: String, disabled: bool) -> Response {
    match s.app.set_disabled(&ctx.actor(), &username, disabled).await {
        Ok(_) => Redirect::to("/admin/users").into_response(),
        Err(AppError::Invalid(i)) => {
            users_response(&s, &ctx, Vec::new(), UserForm::default(), &[], i.0, String::new()).await
        }
        Err(e) => app_error_page(&s, &ctx, e),
    }
}

// A path segment that is not UTF-8 names no account or token: the answer is the not-found
// page rather than axum's plain-text rejection.
type Segment = Result<Path<String>, PathRejection>;

pub async fn users_disable(State(s): State<AppState>, ctx: Ctx, username: Segment) -> Response {
    let Ok(Path(username)) = username else { return not_found_page() };
    users_toggle(s, ctx, username, true).await
}

pub async fn users_enable(State(s): State<AppState>, ctx: Ctx, username: Segment) -> Response {
    let Ok(Path(username)) = username else { return not_found_page() };
    users_toggle(s, ctx, username, false).await
}

// ---------------------------------------------------------------------------------------
// Tokens

pub struct TokenRow {
    pub id: i64,
    pub user: String,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created: When,
    pub expires: Option<When>,
    pub last_used: Option<When>,
    pub active: bool,
    pub state: &'static str,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    chrome: Chrome,
    all: bool,
    tokens: Vec<TokenRow>,
    new_secret: Option<String>,
    notice: String,
    errors: Vec<(String, String)>,
    scopes: Vec<Opt>,
    form_name: String,
    form_expires: String,
}

fn scope_label(s: Scope) -> &'static str {
    match s {
        Scope::Read => "read the console, CMDB and tickets",
        Scope::Write => "make changes your role allows",
        Scope::Admin => "user and token administration",
        Scope::Audit => "read and export the audit log",
        Scope::Metrics => "scrape /metrics",
        Scope::Intake => "push alerts and events",
    }
}

#[allow(clippy::too_many_arguments)]
async fn tokens_response(
    s: &AppState,
    ctx: &Ctx,
    all: bool,
    new_secret: Option<String>,
    notice: String,
    errors: Vec<FieldError>,
    form: &[(String, String)],
) -> Response {
    let now = s.app.now_ms();
    let tokens = match s.app.list_tokens(&ctx.actor(), all).await {
        Ok(t) => t,
        Err(e) => return app_error_page(s, ctx, e),
    };
    let chosen = fields(form, "scopes");
    let rows = tokens
        .into_iter()
        .map(|t| {
            let expired = t.expires_at_ms.is_some_and(|e| e <= now);
            let state = if t.revoked_at_ms.is_some() {
                "revoked"
            } else if expired {
                "expired"
            } else {
                "active"
            };
            TokenRow {
                id: t.id,
                user: t.username,
                name: t.name,
                prefix: t.prefix,
                scopes: t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                created: when(t.created_at_ms, now),
                expires: t.expires_at_ms.map(|e| when(e, now)),
                last_used: t.last_used_ms.map(|e| when(e, now)),
                active: state == "active",
                state,
            }
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = TokensPage {
        chrome: ctx_chrome(
            s,
            ctx,
            if all { "All API tokens" } else { "My API tokens" },
            if all { "all-tokens" } else { "tokens" },
        ),
        all,
        tokens: rows,
        new_secret,
        notice,
        errors: errors_pairs(&errors),
        scopes: Scope::ALL
            .iter()
            .map(|sc| Opt {
                value: sc.as_str().into(),
                label: scope_label(*sc).into(),
                selected: if form.is_empty() { *sc == Scope::Read } else { chosen.iter().any(|c| c == sc.as_str()) },
            })
            .collect(),
        form_name: field(form, "name").to_owned(),
        form_expires: field(form, "expires").to_owned(),
    };
    let mut resp = render(status, &page);
    // The page may carry a secret: never cache it.
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub async fn tokens_page(State(s): State<AppState>, ctx: Ctx) -> Response {
    tokens_response(&s, &ctx, false, None, String::new(), Vec::new(), &[]).await
}

pub async fn all_tokens_page(State(s): State<AppState>, ctx: Ctx) -> Response {
    tokens_response(&s, &ctx, true, None, String::new(), Vec::new(), &[]).await
}

pub async fn tokens_create(State(s): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let p = form_pairs(&body);
    let mut errors = Vec::new();
    let scopes: Vec<Scope> = fields(&p, "scopes")
        .iter()
        .filter_map(|x| x.parse().map_err(|m| errors.push(FieldError::new("scopes", m))).ok())
        .collect();
    let expires = date_end_ms("expires", field(&p, "expires")).map_err(|e| errors.push(e)).ok().flatten();
    if errors.is_empty() {
        let user = ctx.principal.user.username.clone();
        match s.app.create_token(&ctx.actor(), &user, field(&p, "name"), &scopes, expires).await {
            Ok(t) => {
                let notice = format!("Token `{}` created.", t.info.name);
                return tokens_response(&s, &ctx, false, Some(t.secret), notice, Vec::new(), &[]).await;
            }
            Err(AppError::Invalid(i)) => errors = i.0,
            Err(e) => return app_error_page(&s, &ctx, e),
        }
    }
    tokens_response(&s, &ctx, false, None, String::new(), errors, &p).await
}

pub async fn tokens_revoke(State(s): State<AppState>, ctx: Ctx, id: Segment) -> Response {
    let Some(id) = id.ok().and_then(|Path(id)| id.parse::<i64>().ok()) else { return not_found_page() };
    match s.app.revoke_token(&ctx.actor(), id).await {
        Ok(t) => tokens_response(&s, &ctx, false, None, format!("Token `{}` revoked.", t.name), Vec::new(), &[]).await,
        Err(e) => app_error_page(&s, &ctx, e),
    }
}

// ---------------------------------------------------------------------------------------
// Audit log

pub struct AuditRow {
    pub seq: i64,
    pub at: When,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub target: String,
    pub before: String,
    pub after: String,
    pub hash: String,
}

#[derive(Default)]
pub struct AuditForm {
    pub q: String,
    pub actor: String,
    pub action: String,
    pub from: String,
    pub to: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    records: Vec<AuditRow>,
    total: i64,
    f: AuditForm,
    export_query: String,
    errors: Vec<(String, String)>,
    verify: Option<(bool, String)>,
    pager: String,
}

fn pretty(json: &Option<String>) -> String {
    json.as_deref()
        .map(|t| {
            serde_json::from_str::<serde_json::Value>(t)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or_else(|_| t.to_owned())
        })
        .unwrap_or_default()
}

pub async fn audit_page(State(s): State<AppState>, ctx: Ctx, QueryPairs(pairs): QueryPairs) -> Response {
    let now = s.app.now_ms();
    let want_verify = field(&pairs, "verify") == "1";
    let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(k, v)| !v.is_empty() && k != "verify").collect();
    let mut errors = Vec::new();
    let filter = match AuditFilter::parse(&pairs) {
        Ok(f) => f,
        Err(e) => {
            errors = errors_pairs(&e.0);
            match AuditFilter::parse(&[]) {
                Ok(f) => f,
                Err(e) => return ApiError::from(e).into_response(),
            }
        }
    };
    let (records, total) = match s.app.audit_list(&ctx.actor(), &filter).await {
        Ok(r) => r,
        Err(e) => return app_error_page(&s, &ctx, e),
    };
    let verify = if want_verify {
        Some(match s.app.audit_verify(|_, _| {}).await {
            Ok(Ok(r)) => (
                true,
                format!(
                    "Chain intact: {} records verified, head #{} {}.",
                    r.records,
                    r.head_seq,
                    &r.head_hash[..r.head_hash.len().min(16)]
                ),
            ),
            Ok(Err(b)) => (false, format!("Chain broken at record {}: {b}.", b.seq())),
            Err(e) => (false, format!("Verification could not run: {e}")),
        })
    } else {
        None
    };
    let export: Vec<(String, String)> =
        pairs.iter().filter(|(k, _)| !["limit", "offset", "sort"].contains(&k.as_str())).cloned().collect();
    let export_query = if export.is_empty() {
        String::new()
    } else {
        format!("&{}", serde_urlencoded::to_string(&export).unwrap_or_default())
    };
    let rows = records
        .into_iter()
        .map(|r| AuditRow {
            seq: r.seq,
            at: when(r.event.at_ms, now),
            before: pretty(&r.event.before),
            after: pretty(&r.event.after),
            target: format!("{} {}", r.event.target_type, r.event.target_id),
            actor: r.event.actor,
            source: r.event.source,
            action: r.event.action,
            hash: r.hash,
        })
        .collect();
    let page = AuditPage {
        chrome: ctx_chrome(&s, &ctx, "Audit log", "audit"),
        pager: pager("/audit", &pairs, &filter.list, total),
        records: rows,
        total,
        f: AuditForm {
            q: field(&pairs, "q").into(),
            actor: field(&pairs, "actor").into(),
            action: field(&pairs, "action").into(),
            from: field(&pairs, "from").into(),
            to: field(&pairs, "to").into(),
        },
        export_query,
        errors,
        verify,
    };
    render(if page.errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST }, &page)
}

pub async fn audit_export(State(s): State<AppState>, ctx: Ctx, QueryPairs(pairs): QueryPairs) -> Response {
    match crate::api::export_audit_response(&s, &ctx, pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect()).await
    {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

// ---------------------------------------------------------------------------------------
// API reference

pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}

pub struct OpView {
    pub method: String,
    pub path: String,
    pub anchor: String,
    pub summary: String,
    pub access: String,
    pub params: Vec<(String, String, &'static str, String)>,
    pub body: String,
    pub responses: Vec<String>,
}

#[derive(Template)]
#[template(path = "api.html")]
struct ApiPage {
    title: String,
    version: String,
    description: String,
    ops: Vec<OpView>,
    schemas: Vec<(String, String)>,
}

pub async fn api_page() -> Response {
    let doc = crate::openapi::document();
    let value = serde_json::to_value(&doc).unwrap_or_default();
    let table = crate::routes::table();
    let mut ops = Vec::new();
    if let Some(paths) = value.get("paths").and_then(|p| p.as_object()) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else { continue };
            for (method, op) in item {
                let m = method.to_uppercase();
                let access = table
                    .iter()
                    .find(|r| r.path == path && r.verb.method().as_str() == m)
                    .map(|r| match r.access {
                        crate::access::Access::Public => "nothing (public)".to_owned(),
                        crate::access::Access::Needs(p) => format!("the `{}` permission", crate::problem::perm_name(p)),
                    })
                    .unwrap_or_default();
                let params = op
                    .get("parameters")
                    .and_then(|p| p.as_array())
                    .map(|ps| {
                        ps.iter()
                            .map(|p| {
                                let s = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
                                let req = if p.get("required").and_then(serde_json::Value::as_bool).unwrap_or(false) {
                                    "yes"
                                } else {
                                    "no"
                                };
                                (s("name"), s("in"), req, s("description"))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let body = op
                    .pointer("/requestBody/content/application~1json/schema/$ref")
                    .and_then(|v| v.as_str())
                    .map(|r| r.rsplit('/').next().unwrap_or(r).to_owned())
                    .unwrap_or_default();
                let responses = op
                    .get("responses")
                    .and_then(|r| r.as_object())
                    .map(|r| r.keys().cloned().collect())
                    .unwrap_or_default();
                let summary = op
                    .get("summary")
                    .or_else(|| op.get("description"))
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned();
                ops.push(OpView {
                    anchor: format!("{m}-{path}").replace(['/', '{', '}'], "-"),
                    method: m,
                    path: path.clone(),
                    summary,
                    access,
                    params,
                    body,
                    responses,
                });
            }
        }
    }
    let schemas = value
        .pointer("/components/schemas")
        .and_then(|v| v.as_object())
        .map(|m| m.iter().map(|(k, v)| (k.clone(), serde_json::to_string_pretty(v).unwrap_or_default())).collect())
        .unwrap_or_default();
    let page = ApiPage {
        title: doc.info.title.clone(),
        version: doc.info.version.clone(),
        description: doc.info.description.clone().unwrap_or_default(),
        ops,
        schemas,
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_read_like_a_monitoring_graph() {
        assert_eq!(si(0.0), "0");
        assert_eq!(si(12.5), "12.5");
        assert_eq!(si(1_500.0), "1.5k");
        assert_eq!(si(940_000_000.0), "940M");
        assert_eq!(si(2e9), "2G");
    }

    fn sample(at: i64, value: f64) -> app::checks::Sample {
        app::checks::Sample { at, value, range: None }
    }

    /// The points of a chart's first line: `(x, y)` pairs of its path.
    fn line_points(svg: &str) -> Vec<(f64, f64)> {
        let d = svg.split("class=\"metric-line s0\" d=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
        d.split(' ')
            .filter_map(|p| p.get(1..)?.split_once(','))
            .map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap()))
            .collect()
    }

    #[test]
    fn a_day_of_samples_draws_as_at_most_240_points() {
        let points: Vec<_> = (0..8_640i64).map(|i| sample(i * 10_000, (i % 7) as f64)).collect();
        let svg = line_chart("x", "", &[Series { name: "in".into(), points }], 0, 86_400_000);
        let n = line_points(&svg).len();
        assert!((200..=240).contains(&n), "{n} points");
        assert!(!svg.contains("NaN"));
        assert_eq!(svg.matches(" M").count() + usize::from(svg.contains("d=\"M")), 1, "one unbroken line");
        let empty = line_chart("x", "", &[Series { name: "in".into(), points: vec![] }], 0, 1);
        assert!(empty.contains("(no samples)"));
    }

    #[test]
    fn long_spans_keep_their_peaks_and_gaps_and_say_the_date() {
        let week = 7 * 86_400_000;
        let hour = 3_600_000;
        // Hourly roll-ups of a link at 20 % but saturated ten minutes an hour, with a six-hour
        // outage in the middle of the week.
        let points: Vec<_> = (0..168i64)
            .filter(|h| !(80..86).contains(h))
            .map(|h| app::checks::Sample { at: h * hour + hour / 2, value: 20.0, range: Some((5.0, 98.0)) })
            .collect();
        let svg = line_chart("util", "%", &[Series { name: "in".into(), points }], 0, week);
        assert!(svg.contains("class=\"metric-peak s0\""), "the peak is drawn");
        assert!(svg.contains("peak 98%"), "{svg}");
        let moves =
            svg.split("class=\"metric-line s0\" d=\"").nth(1).unwrap().split('"').next().unwrap().matches('M').count();
        assert_eq!(moves, 2, "the outage breaks the line");
        assert!(svg.contains("04 Jan 00:00 UTC") || svg.contains("08 Jan 00:00 UTC"), "{svg}");
        assert_eq!(axis_time(0, 86_400_000), "00:00");
        assert_eq!(axis_time(0, 30 * 86_400_000), "01 Jan");
        assert_eq!(axis_time(0, 365 * 86_400_000), "Jan 1970");
    }
}
