//! End-to-end tests of the `watchkeeper` binary as an operator runs it: the server process,
//! the CLI beside it, a crash in the middle of writes, and a real browser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod checks;
mod cli;
mod crash;
mod intake;
mod policy;
mod poll;
mod server;
mod snmp;
mod storm;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const ADMIN_PASSWORD: &str = "e2e-admin-password";
pub const BIN: &str = env!("CARGO_BIN_EXE_watchkeeper");

/// Where the database of a test lives.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Db {
    pub fn args(&self) -> Vec<String> {
        match self {
            Db::Sqlite(dir) => vec!["--data-dir".into(), dir.display().to_string()],
            Db::Postgres(url) => vec!["--database-url".into(), url.clone()],
        }
    }

    /// A fresh database: a directory under `tmp`, or a new database on the test server.
    pub async fn fresh(postgres: bool, tmp: &Path) -> Db {
        if !postgres {
            return Db::Sqlite(tmp.join("data"));
        }
        let admin_url = std::env::var("WATCHKEEPER_TEST_DATABASE_URL")
            .expect("WATCHKEEPER_TEST_DATABASE_URL must name a PostgreSQL server; ./scripts/test starts one");
        let name = format!("wk_e2e_{}", std::process::id()) + &format!("_{}", rand_suffix());
        let pool = sqlx::PgPool::connect(&admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await.unwrap();
        pool.close().await;
        let base = admin_url.rsplit_once('/').unwrap().0;
        Db::Postgres(format!("{base}/{name}"))
    }

    /// Raw SQL, playing someone with direct database access.
    pub async fn raw_sql(&self, sql: &str) {
        match self {
            Db::Sqlite(dir) => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.join("watchkeeper.db").display()))
                    .await
                    .unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&pool).await.unwrap();
                pool.close().await;
            }
            Db::Postgres(url) => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&pool).await.unwrap();
                pool.close().await;
            }
        }
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}", n & 0xffff_ffff)
}

/// Runs a CLI command to completion.
pub fn cli(db: &Db, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).args(db.args()).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn watchkeeper");
    if let Some(input) = stdin {
        use std::io::Write;
        // A command that fails before reading its input closes the pipe; its exit status and
        // stderr, checked by the caller, say why.
        if let Err(e) = child.stdin.take().unwrap().write_all(input.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "writing to watchkeeper's stdin: {e}");
        }
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A running `watchkeeper serve`.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// Everything the server wrote to stderr until it was ready.
    pub startup: String,
    pub db: Db,
    /// Holds the admin password file for the server's lifetime.
    _secrets: Option<tempfile::TempDir>,
}

impl Server {
    pub fn start(db: &Db, extra: &[&str]) -> Result<Server, String> {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("admin-password");
        std::fs::write(&pw, format!("{ADMIN_PASSWORD}\n")).unwrap();
        let pw_arg = pw.display().to_string();
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--admin-password-file", pw_arg.as_str()];
        args.extend_from_slice(extra);
        let mut server = Self::start_raw(db, &args)?;
        server._secrets = Some(dir);
        Ok(server)
    }

    /// Starts with exactly these arguments (plus the database), waiting for readiness.
    pub fn start_raw(db: &Db, args: &[&str]) -> Result<Server, String> {
        let mut child = Command::new(BIN)
            .args(args)
            .args(db.args())
            .env("WATCHKEEPER_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn server");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut startup = String::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    startup.push_str(&line);
                    startup.push('\n');
                    if let Some(at) = line.find("ready at ") {
                        let url: String =
                            line[at + 9..].chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
                        let url = url.trim_end_matches('/').to_owned();
                        // Keep draining stderr so the server never blocks on a full pipe.
                        std::thread::spawn(move || for _ in rx {});
                        return Ok(Server { child, base: url, startup, db: db.clone(), _secrets: None });
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    return Err(format!("server did not become ready ({status:?}):\n{startup}"));
                }
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: no chance to flush or shut down.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Creates a token through the CLI and returns the secret (the last line of stdout).
pub fn cli_token(db: &Db, user: &str, scopes: &[&str]) -> String {
    let mut args = vec!["token", "create", "--user", user, "--name"];
    let name = format!("e2e-{}", rand_suffix());
    args.push(&name);
    for s in scopes {
        args.push("--scope");
        args.push(s);
    }
    let out = cli(db, &args, None);
    assert!(out.status.success(), "token create failed: {}", text(&out.stderr));
    text(&out.stdout).lines().last().unwrap().to_owned()
}

/// reqwest's TLS (on through the notifier's features) needs a crypto provider chosen first.
pub fn tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// `GET` a JSON answer from the server with a token.
pub async fn get_json(server: &Server, path: &str, token: &str) -> serde_json::Value {
    client().get(server.url(path)).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

/// Polls `check` until it answers (then returns what it found) or `secs` pass (then fails,
/// naming `what`).
pub async fn wait_for(
    what: &str,
    secs: u64,
    mut check: impl AsyncFnMut() -> Option<serde_json::Value>,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "waited {secs} s for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

pub fn client() -> reqwest::Client {
    tls_provider();
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}
