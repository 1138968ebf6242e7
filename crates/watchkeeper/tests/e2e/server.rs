//! Starting the server: first-run admin, demo estate, schema guard, one server per database, TLS,
//! JSON logs.

use crate::{Db, Server, client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_prints_a_random_admin_password_once_and_not_to_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let server = Server::start_raw(&db, &["serve", "--listen", "127.0.0.1:0", "--log-format", "json"]).unwrap();
    let startup = server.startup.clone();
    let line = startup.lines().find(|l| l.contains("│   ")).expect("password box");
    let password = line.trim().trim_matches('│').trim().to_owned();
    assert_eq!(password.len(), 20, "{line}");
    // Every log line is JSON; the password is in none of them.
    for l in startup.lines().filter(|l| l.starts_with('{')) {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert!(v["level"].is_string());
        assert!(!l.contains(&password));
    }
    let c = client();
    let page = c.get(server.url("/login")).send().await.unwrap();
    let cookie =
        page.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
    let html = page.text().await.unwrap();
    assert!(!html.contains("Demo estate"), "no demo hint without --demo");
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap_or_else(|| panic!("{html}"))
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(cookie.iter().any(|c| c.starts_with("wk_login_csrf=")));
    let r = c
        .post(server.url("/login"))
        .form(&[("username", "admin"), ("password", password.as_str()), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    drop(server);
    // Second start: no new password.
    let again = Server::start_raw(&db, &["serve", "--listen", "127.0.0.1:0"]).unwrap();
    assert!(!again.startup.contains("created the `admin` account"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_login_page_says_how_to_sign_in() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let server = Server::start(&db, &["--demo"]).unwrap();
    let html = client().get(server.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Demo estate") && html.contains(app::DEMO_PASSWORD) && html.contains("vendor-siemens"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_a_newer_release_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    drop(Server::start(&db, &[]).unwrap());
    db.raw_sql(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         VALUES (20990101000000, 'future', CURRENT_TIMESTAMP, TRUE, X'00', 0)",
    )
    .await;
    let err = Server::start(&db, &[]).err().expect("refused");
    assert!(err.contains("newer than this Watchkeeper knows") && err.contains("20990101000000"), "{err}");
    let check = crate::cli(&db, &["config", "check"], None);
    assert!(!check.status.success());
    assert!(crate::text(&check.stdout).contains("NEWER than this build"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_https_with_secure_cookies() {
    let tmp = tempfile::tempdir().unwrap();
    let (cert, key) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    let ok = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (Debian package openssl) is needed for the TLS test");
    assert!(ok.status.success());
    let db = Db::fresh(false, tmp.path()).await;
    let server =
        Server::start(&db, &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]).unwrap();
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let out = std::process::Command::new("curl")
        .args(["-sk", "-D", "-", "-o", "/dev/null", &server.url("/login")])
        .output()
        .expect("curl (Debian package curl) is needed for the TLS test");
    let headers = crate::text(&out.stdout).to_lowercase();
    assert!(headers.starts_with("http/"), "{headers}");
    assert!(headers.contains("strict-transport-security"), "{headers}");
    let cookie = headers.lines().find(|l| l.starts_with("set-cookie: wk_login_csrf")).expect("cookie");
    assert!(cookie.contains("; secure"), "{cookie}");
}

/// One server per database: a second `serve` on the same database refuses to start and says
/// who holds it, the CLI still works beside the first, and once the first is killed (SIGKILL:
/// no chance to let go) a new server starts.
async fn one_server_per_database(postgres: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(postgres, tmp.path()).await;
    let first = Server::start(&db, &[]).unwrap();
    let refused = Server::start(&db, &[]).err().expect("a second server refused");
    assert!(refused.contains("another Watchkeeper server") && refused.contains("already serving"), "{refused}");
    if !postgres {
        let pid = first.child.id().to_string();
        assert!(refused.contains(&format!("pid {pid}")), "names the holder: {refused}");
    }
    let list = crate::cli(&db, &["user", "list", "--json"], None);
    assert!(list.status.success(), "the CLI works beside a server: {}", crate::text(&list.stderr));
    let answer = client().get(first.url("/readyz")).send().await.unwrap();
    assert_eq!(answer.status(), 200, "the first server is unharmed");
    first.kill();
    drop(Server::start(&db, &[]).expect("the claim goes with the killed server"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_one_sqlite_database_refuses_to_start() {
    one_server_per_database(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_one_postgres_database_refuses_to_start() {
    one_server_per_database(true).await;
}
