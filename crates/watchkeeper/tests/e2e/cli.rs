//! The CLI beside a running server on the same data directory.

use crate::{ADMIN_PASSWORD, Db, Server, cli, cli_token, client, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_works_beside_a_running_server() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let server = Server::start(&db, &["--demo"]).unwrap();
    assert!(!server.startup.contains(ADMIN_PASSWORD), "a password from a file is never echoed");

    // A token made by the CLI works against the running server at once.
    let token = cli_token(&db, "admin", &["admin", "audit", "read"]);
    assert!(token.starts_with("wk_"), "{token}");
    let me: serde_json::Value =
        client().get(server.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["username"], "admin");

    // Users made by the CLI can sign in; the password comes from stdin.
    let out = cli(
        &db,
        &["user", "add", "nightshift", "--role", "operator", "--site", "plant-north", "--json"],
        Some("night shift password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(made["sites"], serde_json::json!(["plant-north"]));
    let out = cli(&db, &["user", "add", "x", "--role", "root"], Some("whatever password\n"));
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unknown role `root`"), "{}", text(&out.stderr));

    let list = cli(&db, &["user", "list", "--json"], None);
    let users: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert!(users.iter().any(|u| u["username"] == "nightshift" && u["role"] == "operator"));

    // Online backup while the server runs, before the account is disabled.
    let backup = tmp.path().join("wk.backup");
    let out = cli(&db, &["backup", backup.to_str().unwrap(), "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::metadata(&backup).unwrap().len() > 10_000);
    let out = cli(&db, &["user", "disable", "nightshift"], None);
    assert!(out.status.success());
    let audit: serde_json::Value = client()
        .get(server.url("/api/v1/audit?target_id=nightshift"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["user.disable", "user.create"], "CLI changes are audited");
    assert!(audit["items"][0]["actor"].as_str().unwrap().starts_with("cli:"));

    let out = cli(&db, &["audit", "verify", "--json"], None);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["intact"], true);
    let out = cli(&db, &["config", "check", "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_state"], "current");

    // Restore the backup into the live database: the disabled user is enabled again.
    let out = cli(&db, &["restore", backup.to_str().unwrap(), "--yes"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = cli(&db, &["user", "list", "--json"], None);
    let users: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert!(users.iter().any(|u| u["username"] == "nightshift" && u["disabled"] == false));
    let me = client().get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(me.status(), 200, "the server carries on after a restore");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_the_first_bad_record() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let server = Server::start(&db, &["--demo"]).unwrap();
    for scope in ["read", "audit", "metrics"] {
        cli_token(&db, "admin", &[scope]);
    }
    drop(server);
    let ok = cli(&db, &["audit", "verify"], None);
    assert!(ok.status.success(), "{}", text(&ok.stdout));
    db.raw_sql("UPDATE audit_log SET after_json = '{\"scopes\":\"admin\"}' WHERE seq = 3").await;
    let bad = cli(&db, &["audit", "verify"], None);
    assert_eq!(bad.status.code(), Some(3));
    let out = text(&bad.stdout);
    assert!(out.contains("BROKEN at record 3") && out.contains("edited"), "{out}");
    let json = cli(&db, &["audit", "verify", "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!((v["intact"].clone(), v["first_bad_seq"].clone()), (serde_json::json!(false), serde_json::json!(3)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_errors_say_where() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("wk.toml");
    std::fs::write(&cfg, "listen = \"127.0.0.1:9999\"\n\n[session]\nidle_minutes = \"ten\"\n").unwrap();
    let db = Db::Sqlite(tmp.path().join("data"));
    let out = cli(&db, &["config", "check", "--config", cfg.to_str().unwrap()], None);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("wk.toml") && err.contains("line 4"), "{err}");
    let out = cli(&Db::Postgres("mysql://x".into()), &["config", "check"], None);
    assert!(text(&out.stderr).contains("neither postgres:// nor sqlite://"), "{}", text(&out.stderr));
    let help = std::process::Command::new(crate::BIN).args(["token", "create", "--help"]).output().unwrap();
    assert!(text(&help.stdout).contains("--scope"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmdb_impact_explains_each_service_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    drop(Server::start(&db, &["--demo"]).unwrap());

    let out = cli(&db, &["cmdb", "impact", "dc-san-a", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let services = v["services"].as_array().unwrap();
    let dir = services.iter().find(|s| s["name"] == "svc-directory").unwrap();
    assert_eq!(dir["status"], "down");
    assert_eq!(dir["path"].as_array().unwrap().last().unwrap(), "dc-san-a");
    let unaffected = services.iter().find(|s| s["name"] == "svc-southmere-treatment").unwrap();
    assert_eq!(
        (unaffected["status"].as_str(), unaffected["path"].as_array().map(Vec::len)),
        (Some("unaffected"), Some(0))
    );

    let one = cli(&db, &["cmdb", "impact", "pn-fw1"], None);
    let shown = text(&one.stdout);
    assert!(shown.contains("svc-vendor-remote-access") && shown.contains("DEGRADED"), "{shown}");
    assert!(shown.contains("[pn-fw-pair] member pn-fw1"), "{shown}");

    let missing = cli(&db, &["cmdb", "impact", "no-such-box"], None);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("no-such-box"), "{}", text(&missing.stderr));

    let risk = cli(&db, &["cmdb", "risk", "--within-months", "24", "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&risk.stdout).unwrap();
    assert!(v["single_points_of_failure"].as_array().unwrap().iter().any(|s| s["service"]["name"] == "svc-directory"));
    assert!(!v["ageing"].as_array().unwrap().is_empty());
    assert_eq!(cli(&db, &["cmdb", "risk", "--within-months", "0"], None).status.code(), Some(2), "bad flag value");

    let tree = cli(&db, &["cmdb", "tree", "svc-directory", "--json"], None);
    let lines: Vec<serde_json::Value> = serde_json::from_slice(&tree.stdout).unwrap();
    assert_eq!(lines[0]["name"], "svc-directory");
    assert!(lines.iter().any(|l| l["name"] == "dc-esx-cluster" && l["is_group"] == true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmdb_import_reports_counts_and_refuses_bad_files() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let items = tmp.path().join("items.csv");
    std::fs::write(&items, "name,class,site,vendor\nlab-sw1,switch,,Cisco\nlab-sw2,switch,,Cisco\n").unwrap();
    let path = items.to_str().unwrap();

    let dry = cli(&db, &["cmdb", "import", path, "--dry-run", "--json"], None);
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let v: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(
        (v["added"].as_u64(), v["changed"].as_u64(), v["removed"].as_u64(), v["unchanged"].as_u64()),
        (Some(2), Some(0), Some(0), Some(0))
    );
    let real = cli(&db, &["cmdb", "import", path, "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&real.stdout).unwrap();
    assert_eq!(v["added"], 2);
    let again = cli(&db, &["cmdb", "import", path, "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!((v["added"].as_u64(), v["unchanged"].as_u64()), (Some(0), Some(2)), "re-import changes nothing");

    let bad = tmp.path().join("bad.csv");
    std::fs::write(&bad, "name,class\nok,switch\nbroken,toaster\n").unwrap();
    let out = cli(&db, &["cmdb", "import", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bad.csv: line 3: field `class`"), "{err}");
    let empty = tmp.path().join("empty.yaml");
    std::fs::write(&empty, "").unwrap();
    let out = cli(&db, &["cmdb", "import", empty.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("empty"), "{}", text(&out.stderr));

    let export = cli(&db, &["cmdb", "export"], None);
    let yaml = text(&export.stdout);
    assert!(yaml.contains("lab-sw1") && !yaml.contains("broken"), "nothing of the bad file was stored");
}
