//! The CLI beside a running server on the same data directory.

use crate::{ADMIN_PASSWORD, Db, Server, cli, cli_token, client, get_json, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_works_beside_a_running_server() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let server = Server::start(&db, &["--demo"]).unwrap();
    assert!(!server.startup.contains(ADMIN_PASSWORD), "a password from a file is never echoed");

    // A token made by the CLI works against the running server at once.
    let token = cli_token(&db, "admin", &["admin", "audit", "read"]);
    assert!(token.starts_with("wk_"), "{token}");
    let me: serde_json::Value = get_json(&server, "/api/v1/me", &token).await;
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
    let audit: serde_json::Value = get_json(&server, "/api/v1/audit?target_id=nightshift", &token).await;
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

/// The configuration archive from the shell, and a server reading a collector's directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_archive_stores_diffs_and_collects_from_the_shell_and_a_watched_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let watched = tmp.path().join("oxidized");
    std::fs::create_dir(&watched).unwrap();
    let config = |extra: &str| {
        format!(
            "hostname pn-core-sw1\nenable secret 5 $1$abcd$efgh\ninterface Vlan20\n ip access-group 110 in\n\
             access-list 110 permit tcp any any eq 22\n{extra}access-list 110 deny ip any any\n"
        )
    };
    std::fs::write(watched.join("pn-core-sw1.cfg"), config("")).unwrap();
    let dir = watched.to_str().unwrap();
    let server = Server::start(&db, &["--demo", "--config-watch-dir", dir, "--config-watch-interval", "1"]).unwrap();
    let token = cli_token(&db, "admin", &["read"]);

    // The server stored the collector's file at start-up as the item's first version.
    let id = {
        let out = cli(&db, &["archive", "versions", "pn-core-sw1", "--json"], None);
        let mut versions: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for _ in 0..100 {
            if !versions.as_array().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let out = cli(&db, &["archive", "versions", "pn-core-sw1", "--json"], None);
            versions = serde_json::from_slice(&out.stdout).unwrap();
        }
        assert_eq!(versions[0]["source"], "watch", "{versions}");
        versions[0]["item_id"].as_i64().unwrap()
    };

    // The collector writes a change; the server takes it as version 2 within a pass or two.
    std::fs::write(watched.join("pn-core-sw1.cfg"), config("access-list 110 permit tcp any any eq 23\n")).unwrap();
    let mut latest = serde_json::Value::Null;
    for _ in 0..100 {
        latest = client()
            .get(server.url(&format!("/api/v1/items/{id}/configs/latest")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if latest["version"] == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(latest["version"], 2, "{latest}");
    assert!(latest["content"].as_str().unwrap().contains("enable secret 5 <removed>"), "{latest}");

    // The shell diffs them: telnet opened.
    let diff = cli(&db, &["archive", "diff", "pn-core-sw1"], None);
    assert!(diff.status.success(), "{}", text(&diff.stderr));
    let shown = text(&diff.stdout);
    assert!(shown.contains("+access-list 110 permit tcp any any eq 23") && shown.contains("deny → permit"), "{shown}");

    // Storing from the shell: a new version, then the same file again changes nothing.
    let file = tmp.path().join("sw2.cfg");
    std::fs::write(&file, config("")).unwrap();
    let f = file.to_str().unwrap();
    let out = cli(&db, &["archive", "store", "pn-core-sw2", f, "--note", "CHG0000007", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["created"].as_bool(), v["version"].as_i64(), v["secrets_removed"].as_i64()),
        (Some(true), Some(1), Some(1))
    );
    let again = cli(&db, &["archive", "store", "pn-core-sw2", f], None);
    assert!(text(&again.stdout).contains("Unchanged"), "{}", text(&again.stdout));
    let shown = cli(&db, &["archive", "show", "pn-core-sw2"], None);
    assert_eq!(text(&shown.stdout), config("").replace("$1$abcd$efgh", "<removed>"));
    let bad = cli(&db, &["archive", "store", "pn-core-sw2", "/etc/hostname-does-not-exist"], None);
    assert!(!bad.status.success() && text(&bad.stderr).contains("cannot read"), "{}", text(&bad.stderr));

    // `collect` reads a directory once and says what it could not place.
    let batch = tmp.path().join("batch");
    std::fs::create_dir(&batch).unwrap();
    std::fs::write(batch.join("10.20.1.2"), config("")).unwrap(); // pn-cell-sw1's management address
    std::fs::write(batch.join("mystery.cfg"), config("")).unwrap();
    let out = cli(&db, &["archive", "collect", batch.to_str().unwrap(), "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["stored"], serde_json::json!([["10.20.1.2", "pn-cell-sw1", 1]]));
    assert_eq!(r["unmatched"], serde_json::json!(["mystery.cfg"]));
}

/// On-call as code: a team's YAML applies (dry run first), re-applies as unchanged, exports
/// back to the same document, and a mistake names the schedule and the field and writes
/// nothing; a running server answers who is on call from what the CLI stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_call_applies_from_a_file_and_reads_back() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let server = Server::start(&db, &["--demo"]).unwrap();
    let file = tmp.path().join("oncall.yaml");
    std::fs::write(
        &file,
        "schedules:\n\
         - name: L3 security\n\
         \x20 time_zone: Europe/London\n\
         \x20 layers:\n\
         \x20 - name: nights\n\
         \x20   members: [engineer, ops-lead]\n\
         \x20   start: 2026-01-05T09:00\n\
         \x20   shift: 1w\n\
         chains:\n\
         - name: security\n\
         \x20 steps:\n\
         \x20 - after_minutes: 0\n\
         \x20   targets: ['oncall:L3 security']\n\
         \x20 - after_minutes: 10\n\
         \x20   targets: ['user:ops-lead']\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let dry = cli(&db, &["oncall", "apply", path, "--dry-run", "--json"], None);
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(plan["plan"][0], serde_json::json!({"kind": "schedule", "name": "L3 security", "action": "create"}));
    assert_eq!(
        text(&cli(&db, &["oncall", "export", "--json"], None).stdout).matches("L3 security").count(),
        0,
        "a dry run writes nothing"
    );
    let applied = cli(&db, &["oncall", "apply", path], None);
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    assert!(text(&applied.stdout).contains("schedule L3 security: created"), "{}", text(&applied.stdout));
    let again = cli(&db, &["oncall", "apply", path], None);
    assert!(text(&again.stdout).contains("chain security: unchanged"), "{}", text(&again.stdout));

    // Export reads back as the same document.
    let exported = cli(&db, &["oncall", "export"], None);
    let back = tmp.path().join("back.yaml");
    std::fs::write(&back, &exported.stdout).unwrap();
    let reapplied = cli(&db, &["oncall", "apply", back.to_str().unwrap(), "--json"], None);
    let plan: serde_json::Value = serde_json::from_slice(&reapplied.stdout).unwrap();
    assert!(plan["plan"].as_array().unwrap().iter().all(|p| p["action"] == "same"), "{plan}");

    // A mistake names where, and nothing of the document is written.
    std::fs::write(
        &file,
        std::fs::read_to_string(&file)
            .unwrap()
            .replace("[engineer, ops-lead]", "[engineer, nobody]")
            .replace("name: security", "name: security-2"),
    )
    .unwrap();
    let bad = cli(&db, &["oncall", "apply", path], None);
    assert!(!bad.status.success());
    let err = text(&bad.stderr);
    assert!(err.contains("schedules[0] (L3 security).layers[0].members: no account `nobody`"), "{err}");
    assert!(!text(&cli(&db, &["oncall", "export"], None).stdout).contains("security-2"), "nothing half-written");
    std::fs::write(&file, "schedules: [").unwrap();
    let broken = cli(&db, &["oncall", "apply", path], None);
    assert!(!broken.status.success() && text(&broken.stderr).contains("oncall.yaml"), "{}", text(&broken.stderr));

    // The running server reads what the CLI stored.
    let token = cli_token(&db, "admin", &["read"]);
    let now: serde_json::Value = get_json(&server, "/api/v1/oncall-schedules", &token).await;
    let names: Vec<&str> = now.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"L3 security"), "{now}");
    let who = cli(&db, &["oncall", "now"], None);
    assert!(text(&who.stdout).contains("L3 security: "), "{}", text(&who.stdout));
}

/// Migration in: a ServiceNow export is dry-run (every mistake and what would be imported,
/// nothing written), imported all or nothing, and imported again without doubling; a JSM
/// export with a column mapped; a running server shows the imported incidents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_migrate_in_from_servicenow_and_jsm_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let server = Server::start(&db, &["--demo"]).unwrap();
    let snow = tmp.path().join("incident.csv");
    std::fs::write(
        &snow,
        "number,short_description,caller_id,category,cmdb_ci,priority,state,assignment_group,assigned_to,close_code,close_notes,opened_at,resolved_at,closed_at\n\
         INC0010001,Core switch down,Omar,Network,pn-core-sw1,1 - Critical,Closed,L3 Network,engineer,Solved (Permanently),Supervisor replaced,2026-03-01 08:15:00,2026-03-01 11:00:00,2026-03-03 09:00:00\n\
         INC0010002,VPN drops nightly,Siemens,Security,pn-fw1,3 - Moderate,In Progress,L2,j.smith,,,2026-03-02 02:00:00,,\n\
         INC0010003,Badge reader offline,Guard,Facilities,gate-7-reader,4 - Low,New,Facilities,,,,2026-03-03 07:30:00,,\n",
    )
    .unwrap();
    let path = snow.to_str().unwrap();
    let dry = cli(
        &db,
        &["desk", "import", path, "--from", "servicenow", "--time-zone", "Europe/London", "--dry-run", "--json"],
        None,
    );
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let report: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!((report["imported"].as_i64(), report["errors"].as_array().unwrap().len()), (Some(3), 0), "{report}");
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("gate-7-reader") && warnings.contains("j.smith"), "{warnings}");
    let token = cli_token(&db, "admin", &["read"]);
    let count = || async {
        let v: serde_json::Value = get_json(&server, "/api/v1/incidents?queue=all&limit=500", &token).await;
        v.as_array().unwrap().len()
    };
    let before = count().await;

    let done = cli(&db, &["desk", "import", path, "--from", "servicenow", "--time-zone", "Europe/London"], None);
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(text(&done.stdout).contains("3 rows: imported 3, 0 imported before"), "{}", text(&done.stdout));
    assert_eq!(count().await, before + 3);
    let found: serde_json::Value = get_json(&server, "/api/v1/incidents?queue=all&q=supervisor", &token).await;
    let closed = &found[0];
    assert_eq!(
        (closed["state"].as_str(), closed["priority"].as_i64(), closed["item"].as_str()),
        (Some("closed"), Some(1), Some("pn-core-sw1")),
        "{found}"
    );
    assert_eq!(closed["resolved_at"], "2026-03-01T11:00:00Z");
    let again = cli(&db, &["desk", "import", path, "--from", "servicenow"], None);
    assert!(text(&again.stdout).contains("imported 0, 3 imported before"), "{}", text(&again.stdout));

    // A JSM export with its key in another column; and one with mistakes writes nothing.
    let jsm = tmp.path().join("jsm.csv");
    std::fs::write(&jsm, "Key,Summary,Reporter,Priority,Status,Created\nIT-7,Printer jam in the control room,Ana,Highest,Waiting for support,01/Mar/26 8:15 AM\n").unwrap();
    let j = cli(
        &db,
        &["desk", "import", jsm.to_str().unwrap(), "--from", "jsm", "--map", "source_ref=Key", "--json"],
        None,
    );
    assert!(j.status.success(), "{}", text(&j.stderr));
    let bad = tmp.path().join("bad.csv");
    std::fs::write(&bad, "Issue key,Summary,Reporter,Priority,Status,Created\nIT-8,Fine,Bo,Low,Open,02/Mar/26 9:00 AM\nIT-9,,Cy,Urgent-ish,Sleeping,yesterday\n").unwrap();
    let b = cli(&db, &["desk", "import", bad.to_str().unwrap(), "--from", "jsm"], None);
    assert_eq!(b.status.code(), Some(1));
    let err = text(&b.stderr);
    assert!(err.contains("bad.csv: row 2") && err.contains("priority") && err.contains("state"), "{err}");
    assert_eq!(count().await, before + 4, "the good row of a file with mistakes is not written either");
}

/// Problems come in too, linked to the incidents they explain whichever export names the
/// link: ServiceNow's incidents name their problem (`problem_id`), JSM's problems name their
/// incidents (one link column per incident).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_migrate_in_linked_to_their_incidents() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let server = Server::start(&db, &["--demo"]).unwrap();
    let token = cli_token(&db, "admin", &["read"]);
    let write = |name: &str, body: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let problems = write(
        "problem.csv",
        "number,short_description,description,cause_notes,workaround,fix_notes,state,resolution_code,opened_by,opened_at\n\
         PRB0040001,Core pair flaps under load,Uplinks flap at shift change,Supervisor firmware bug,Pin the uplink to sup A,,Fix in Progress,,Ana,2026-02-01 09:00:00\n\
         PRB0040002,Old VPN concentrator drops,,,,Replaced,Closed,,Bo,2026-01-05 10:00:00\n",
    );
    let p = cli(&db, &["desk", "import", &problems, "--from", "servicenow", "--kind", "problems", "--json"], None);
    assert!(p.status.success(), "{}", text(&p.stderr));
    let report: serde_json::Value = serde_json::from_slice(&p.stdout).unwrap();
    assert_eq!(report["imported"], 2, "{report}");
    assert!(report["warnings"].to_string().contains("closed without a close code"), "{report}");
    let first = report["numbers"][0][0].as_str().unwrap().to_owned();
    let incidents = write(
        "incident.csv",
        "number,short_description,priority,state,opened_at,problem_id\n\
         INC0020001,Core switch flapping again,2 - High,In Progress,2026-02-03 07:00:00,PRB0040001\n\
         INC0020002,Printer offline,4 - Low,New,2026-02-03 08:00:00,PRB0049999\n",
    );
    let i = cli(&db, &["desk", "import", &incidents, "--from", "servicenow", "--json"], None);
    assert!(i.status.success(), "{}", text(&i.stderr));
    let report: serde_json::Value = serde_json::from_slice(&i.stdout).unwrap();
    assert!(report["warnings"].to_string().contains("problem `PRB0049999` is not here"), "{report}");
    let linked_inc = report["numbers"][0][0].as_str().unwrap().to_owned();
    let known: serde_json::Value = get_json(&server, &format!("/api/v1/problems/{first}"), &token).await;
    assert_eq!(
        (known["state"].as_str(), known["known_error"].as_bool(), known["root_cause"].as_str()),
        (Some("fix-in-progress"), Some(true), Some("Supervisor firmware bug")),
        "{known}"
    );
    assert_eq!(known["incidents"], serde_json::json!([linked_inc]));

    // JSM: the problem names its incidents, imported before, by their keys there.
    let jsm_incidents = write(
        "jsm-inc.csv",
        "Issue key,Summary,Priority,Status,Created\nIT-7,Badge reader reboots,Low,Open,01/Mar/26 8:15 AM\nIT-9,Badge reader reboots again,Low,Open,02/Mar/26 8:15 AM\n",
    );
    assert!(cli(&db, &["desk", "import", &jsm_incidents, "--from", "jsm"], None).status.success());
    let jsm = write(
        "jsm-prb.csv",
        "Issue key,Summary,Status,Resolution,Created,Outward issue link (Problem/Incident),Outward issue link (Problem/Incident)\n\
         PRB-3,Badge readers reboot at midnight,Under investigation,,03/Mar/26 9:00 AM,IT-7,IT-9\n",
    );
    let j = cli(&db, &["desk", "import", &jsm, "--from", "jsm", "--kind", "problems", "--json"], None);
    assert!(j.status.success(), "{}", text(&j.stderr));
    let report: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    let prb = report["numbers"][0][0].as_str().unwrap().to_owned();
    let badge: serde_json::Value = get_json(&server, &format!("/api/v1/problems/{prb}"), &token).await;
    assert_eq!(badge["incidents"].as_array().unwrap().len(), 2, "{badge}");
    assert_eq!(badge["state"], "root-cause-analysis");
    // Again: nothing twice. With a mistake: nothing at all, exit 1, the row and field named.
    let again = cli(&db, &["desk", "import", &jsm, "--from", "jsm", "--kind", "problems"], None);
    assert!(text(&again.stdout).contains("imported 0, 1 imported before"), "{}", text(&again.stdout));
    let bad = write(
        "bad-prb.csv",
        "Issue key,Summary,Status,Created\nPRB-5,Fine,Open,04/Mar/26 9:00 AM\nPRB-6,Broken,Pondering,04/Mar/26 9:00 AM\n",
    );
    let b = cli(&db, &["desk", "import", &bad, "--from", "jsm", "--kind", "problems"], None);
    assert_eq!(b.status.code(), Some(1));
    assert!(text(&b.stderr).contains("bad-prb.csv: row 2") && text(&b.stderr).contains("state"), "{}", text(&b.stderr));
    let all: serde_json::Value = get_json(&server, "/api/v1/problems", &token).await;
    assert!(!all.to_string().contains("Fine"), "the good row of a file with mistakes is not written either");
    let kind = cli(&db, &["desk", "import", &bad, "--from", "jsm", "--kind", "changes"], None);
    assert!(!kind.status.success() && text(&kind.stderr).contains("--kind `changes`: incidents or problems"));
}
