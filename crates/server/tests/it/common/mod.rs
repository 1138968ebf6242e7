//! The integration harness: a whole Watchkeeper (store, app, router) per test, on SQLite in
//! a temporary directory or on a fresh database in the PostgreSQL server named by
//! `WATCHKEEPER_TEST_DATABASE_URL`. Requests go through the real router in process.
#![allow(dead_code)]

use app::{Actor, App, Settings};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use model::Scope;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use store::{Location, Store};
use tower::ServiceExt;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `check` once per backend, as two `#[tokio::test]`s in modules `sqlite` and `postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(crate::common::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(crate::common::Backend::Postgres).await } )*
        }
    };
}

pub struct Harness {
    pub app: App,
    pub router: Router,
    pub location: Location,
    clock: Arc<AtomicI64>,
    _dir: Option<tempfile::TempDir>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// A server-sent events stream being read.
pub struct EventStream {
    pub headers: HeaderMap,
    body: Body,
    buf: String,
}

/// One event: its id, type and JSON data.
#[derive(Debug)]
pub struct Sent {
    pub id: String,
    pub event: String,
    pub data: serde_json::Value,
}

impl EventStream {
    /// The next event, or `None` when none comes within `wait` (comments skipped).
    pub async fn next_within(&mut self, wait: std::time::Duration) -> Option<Sent> {
        let until = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
                for line in block.lines() {
                    match line.split_once(':') {
                        Some(("id", v)) => id = v.trim_start().to_owned(),
                        Some(("event", v)) => event = v.trim_start().to_owned(),
                        Some(("data", v)) => data.push_str(v.trim_start()),
                        _ => {}
                    }
                }
                if data.is_empty() {
                    continue;
                }
                return Some(Sent { id, event, data: serde_json::from_str(&data).expect("event data is JSON") });
            }
            let frame = tokio::time::timeout_at(until, self.body.frame()).await.ok()??.expect("stream");
            if let Ok(bytes) = frame.into_data() {
                self.buf.push_str(std::str::from_utf8(&bytes).expect("utf-8"));
            }
        }
    }

    /// The next event, which must come within five seconds.
    pub async fn next(&mut self) -> Sent {
        self.next_within(std::time::Duration::from_secs(5)).await.expect("an event within five seconds")
    }
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn content_type(&self) -> &str {
        self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    /// The problem type's last segment, e.g. `invalid-input`.
    pub fn problem(&self) -> String {
        assert_eq!(self.content_type(), "application/problem+json", "{} {}", self.status, self.text());
        let v = self.json();
        assert_eq!(v["status"].as_u64(), Some(u64::from(self.status.as_u16())));
        v["type"].as_str().unwrap_or("").rsplit(':').next().unwrap_or("").to_owned()
    }
    /// A header's value, or empty.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }
    pub fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    }
}

/// A signed-in browser: its session cookie and the CSRF token its pages carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub async fn location(backend: Backend) -> (Location, Option<tempfile::TempDir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            (Location::DataDir(dir.path().to_path_buf()), Some(dir))
        }
        Backend::Postgres => {
            let Ok(admin_url) = std::env::var("WATCHKEEPER_TEST_DATABASE_URL") else {
                panic!(
                    "WATCHKEEPER_TEST_DATABASE_URL is not set: the PostgreSQL half of the suite needs a server. \
                     Run ./scripts/test, which starts one on loopback."
                )
            };
            let name = format!("wk_test_{}", app::random_token(9).to_lowercase().replace(['-', '_'], "x"));
            let admin = sqlx::PgPool::connect(&admin_url).await.expect("connect to the test PostgreSQL server");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&admin)
                .await
                .expect("create db");
            admin.close().await;
            let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
            (Location::Postgres(format!("{base}/{name}")), None)
        }
    }
}

impl Harness {
    pub async fn new(backend: Backend) -> Harness {
        Self::with_settings(backend, Settings::default()).await
    }

    /// A Watchkeeper with the admin account and no demo estate: an empty CMDB.
    pub async fn empty(backend: Backend) -> Harness {
        Self::build(backend, Settings::default(), false).await
    }

    pub async fn with_settings(backend: Backend, settings: Settings) -> Harness {
        Self::build(backend, settings, true).await
    }

    async fn build(backend: Backend, settings: Settings, demo: bool) -> Harness {
        let (location, dir) = location(backend).await;
        let store = Store::open(&location).await.expect("open store");
        let clock = Arc::new(AtomicI64::new(1_800_000_000_000));
        let c = clock.clone();
        let app = App::new(store, settings).with_clock(Arc::new(move || c.load(Ordering::SeqCst)));
        app.bootstrap_admin(Some(ADMIN_PASSWORD.into())).await.expect("bootstrap");
        if demo {
            app.seed_demo().await.expect("demo");
        }
        let router = server::router(server::state(app.clone(), true, false));
        Harness { app, router, location, clock, _dir: dir }
    }

    pub fn advance(&self, ms: i64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        self.send_from(req, "192.0.2.10:40000").await
    }

    pub async fn send_from(&self, mut req: Request<Body>, addr: &str) -> Resp {
        let addr: SocketAddr = addr.parse().expect("addr");
        req.extensions_mut().insert(ConnectInfo(addr));
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.expect("body").to_bytes().to_vec();
        Resp { status: parts.status, headers: parts.headers, body }
    }

    /// Opens a server-sent events stream; a refusal comes back as the whole response.
    pub async fn events(&self, path: &str, auth: &Auth, last_event_id: Option<&str>) -> Result<EventStream, Resp> {
        let mut b = auth.apply(Request::builder().method(Method::GET).uri(path));
        if let Some(id) = last_event_id {
            b = b.header("last-event-id", id);
        }
        let mut req = b.body(Body::empty()).expect("req");
        req.extensions_mut().insert(ConnectInfo("192.0.2.10:40000".parse::<SocketAddr>().expect("addr")));
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        if resp.status() != StatusCode::OK {
            let (parts, body) = resp.into_parts();
            let body = body.collect().await.expect("body").to_bytes().to_vec();
            return Err(Resp { status: parts.status, headers: parts.headers, body });
        }
        let headers = resp.headers().clone();
        Ok(EventStream { headers, body: resp.into_body(), buf: String::new() })
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> Resp {
        self.send(auth.apply(Request::builder().method(Method::GET).uri(path)).body(Body::empty()).expect("req")).await
    }

    pub async fn json(&self, method: Method, path: &str, auth: &Auth, body: serde_json::Value) -> Resp {
        let req = auth
            .apply(Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, "application/json"))
            .body(Body::from(body.to_string()))
            .expect("req");
        self.send(req).await
    }

    /// A JSON POST to a path built on the spot (closures over it can return the future).
    pub async fn post(&self, path: String, auth: &Auth, body: serde_json::Value) -> Resp {
        self.json(Method::POST, &path, auth, body).await
    }

    pub async fn form(&self, path: &str, auth: &Auth, fields: &[(&str, &str)]) -> Resp {
        let mut fields: Vec<(&str, &str)> = fields.to_vec();
        if let Auth::Session(s) = auth {
            fields.push(("csrf_token", &s.csrf));
        }
        let body = serde_urlencoded::to_string(&fields).expect("form");
        let req = auth
            .apply(
                Request::builder()
                    .method(Method::POST)
                    .uri(path)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            )
            .body(Body::from(body))
            .expect("req");
        self.send(req).await
    }

    /// Signs in through the real login form; panics unless it succeeds.
    pub async fn login(&self, username: &str, password: &str) -> Session {
        self.try_login(username, password, "192.0.2.10:40000")
            .await
            .unwrap_or_else(|r| panic!("login of {username} failed: {} {}", r.status, r.text()))
    }

    pub async fn try_login(&self, username: &str, password: &str, from: &str) -> Result<Session, Resp> {
        let page = self.send_from(Request::get("/login").body(Body::empty()).expect("req"), from).await;
        let form_token = hidden_csrf(&page.text());
        let cookie = page
            .set_cookies()
            .iter()
            .find_map(|c| c.strip_prefix("wk_login_csrf=").map(|v| v.split(';').next().unwrap_or("").to_owned()))
            .expect("login CSRF cookie");
        let body = serde_urlencoded::to_string([
            ("username", username),
            ("password", password),
            ("csrf_token", form_token.as_str()),
            ("next", "/"),
        ])
        .expect("form");
        let req = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("wk_login_csrf={cookie}"))
            .body(Body::from(body))
            .expect("req");
        let resp = self.send_from(req, from).await;
        if resp.status != StatusCode::SEE_OTHER {
            return Err(resp);
        }
        let session = resp
            .set_cookies()
            .iter()
            .find_map(|c| c.strip_prefix("wk_session=").map(|v| v.split(';').next().unwrap_or("").to_owned()))
            .expect("session cookie");
        let dash = self.get("/", &Auth::Session(Session { cookie: session.clone(), csrf: String::new() })).await;
        assert_eq!(dash.status, StatusCode::OK, "dashboard after login: {}", dash.text());
        Ok(Session { cookie: session, csrf: hidden_csrf(&dash.text()) })
    }

    /// A token for `username` with `scopes`, created as the CLI would.
    pub async fn token(&self, username: &str, scopes: &[Scope]) -> String {
        self.app
            .create_token(&Actor::cli(), username, &format!("t-{}", app::random_token(6)), scopes, None)
            .await
            .expect("token")
            .secret
    }

    /// Creates a viewer account as the CLI would: one audited state change.
    pub async fn add_viewer(&self, username: &str) {
        let user = app::NewUser {
            username: username.into(),
            display_name: String::new(),
            role: model::Role::Viewer,
            password: "a long test password".into(),
            expires_at_ms: None,
            sites: Vec::new(),
        };
        self.app.create_user(&Actor::cli(), user).await.expect("create user");
    }

    /// Raw SQL against the database, for tests that play an attacker with database access.
    pub async fn raw_sql(&self, sql: &str) {
        match &self.location {
            Location::DataDir(dir) => {
                let url = format!("sqlite://{}", dir.join(store::SQLITE_FILE).display());
                let pool = sqlx::SqlitePool::connect(&url).await.expect("sqlite");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&pool).await.expect("raw sql");
                pool.close().await;
            }
            Location::Postgres(url) => {
                let pool = sqlx::PgPool::connect(url).await.expect("pg");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&pool).await.expect("raw sql");
                pool.close().await;
            }
        }
    }
}

pub fn hidden_csrf(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).unwrap_or_else(|| panic!("no csrf_token in page"));
    html[start..].split('"').next().unwrap_or("").to_owned()
}

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Session(Session),
    Bearer(String),
}

impl Auth {
    pub fn apply(&self, b: axum::http::request::Builder) -> axum::http::request::Builder {
        match self {
            Auth::None => b,
            Auth::Session(s) => {
                let b = b.header(header::COOKIE, format!("wk_session={}", s.cookie));
                if s.csrf.is_empty() { b } else { b.header("x-csrf-token", s.csrf.clone()) }
            }
            Auth::Bearer(t) => b.header(header::AUTHORIZATION, format!("Bearer {t}")),
        }
    }
}
