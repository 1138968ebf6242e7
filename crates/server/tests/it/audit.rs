//! The audit log: every state change lands in it with who, when, where, what, before and
//! after; any direct edit of the table is caught by verification; auditors read and export.

use crate::common::{Auth, Backend, Harness};
use axum::http::{Method, StatusCode};
use model::Scope;

async fn every_change_is_recorded_with_before_and_after(backend: Backend) {
    let h = Harness::new(backend).await;
    let admin = Auth::Session(h.login("ops-lead", app::DEMO_PASSWORD).await);
    let body = serde_json::json!({"username": "contractor", "role": "engineer", "password": "contractor password",
        "sites": ["dc-east"], "expires_at": "2030-01-01T00:00:00Z"});
    assert_eq!(h.json(Method::POST, "/api/v1/users", &admin, body).await.status, StatusCode::CREATED);
    assert_eq!(
        h.json(Method::PATCH, "/api/v1/users/contractor", &admin, serde_json::json!({"disabled": true})).await.status,
        StatusCode::OK
    );
    let auditor = Auth::Session(h.login("auditor", app::DEMO_PASSWORD).await);
    let log = h.get("/api/v1/audit?target_id=contractor&sort=seq", &auditor).await.json();
    let items = log["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["user.create", "user.disable"]);
    let create = &items[0];
    assert_eq!(create["actor"], "ops-lead");
    assert_eq!(create["source"], "192.0.2.10");
    assert_eq!(create["before"], serde_json::Value::Null);
    assert_eq!(create["after"]["sites"], serde_json::json!(["dc-east"]));
    assert!(create.to_string().find("contractor password").is_none(), "no secret in the audit log");
    let disable = &items[1];
    assert_eq!(disable["before"]["disabled"], false);
    assert_eq!(disable["after"]["disabled"], true);
    assert_eq!(disable["prev_hash"], create["hash"], "consecutive records chain");
    // Logins and token creation are recorded too.
    let logins = h.get("/api/v1/audit?action=session.login&actor=auditor", &auditor).await.json();
    assert!(logins["total"].as_i64().unwrap() >= 1);
    h.token("viewer", &[Scope::Read]).await;
    let tokens = h.get("/api/v1/audit?action=token.create", &auditor).await.json();
    assert!(tokens["items"][0]["actor"].as_str().unwrap().starts_with("cli:"));
    // Auditors read but cannot change anything.
    let r = h.json(Method::PATCH, "/api/v1/users/viewer", &auditor, serde_json::json!({"disabled": true})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// Seals a few records, then lets `tamper` edit the table directly, and checks that
/// verification names `expected_first_bad`.
async fn tampering(backend: Backend, tamper: &str, expected_first_bad: i64) {
    let h = Harness::new(backend).await;
    for name in ["t1", "t2", "t3", "t4"] {
        h.add_viewer(name).await;
    }
    let intact = h.app.audit_verify(|_, _| {}).await.unwrap().expect("intact before tampering");
    assert_eq!(intact.records, 9, "bootstrap, demo seed, its three device configurations and four users");
    let auditor = Auth::Bearer(h.token("auditor", &[Scope::Audit]).await);
    h.raw_sql(tamper).await;
    let broken = h.app.audit_verify(|_, _| {}).await.unwrap().expect_err("tampering detected");
    assert_eq!(broken.seq(), expected_first_bad, "{tamper}: {broken}");
    let v = h.get("/api/v1/audit/verify", &auditor).await.json();
    assert_eq!(v["intact"], false);
    assert_eq!(v["first_bad_seq"], expected_first_bad);
}

async fn editing_a_record_is_detected(backend: Backend) {
    tampering(backend, "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 4", 4).await;
}

async fn deleting_a_record_is_detected(backend: Backend) {
    tampering(backend, "DELETE FROM audit_log WHERE seq = 3", 3).await;
}

async fn deleting_the_newest_record_is_detected(backend: Backend) {
    tampering(backend, "DELETE FROM audit_log WHERE seq = 10", 10).await;
}

async fn inserting_a_record_is_detected(backend: Backend) {
    // A forged record slotted in with a free number at the end, pointing at the real head.
    tampering(
        backend,
        "INSERT INTO audit_log (seq, at_ms, actor, source, action, target_type, target_id, before_json, after_json, prev_hash, hash) \
         SELECT 11, at_ms, 'ghost', source, 'user.create', 'user', 'ghost', NULL, NULL, hash, hash FROM audit_log WHERE seq = 10",
        11,
    )
    .await;
}

async fn reordering_records_is_detected(backend: Backend) {
    tampering(
        backend,
        "UPDATE audit_log SET seq = CASE seq WHEN 3 THEN 1003 WHEN 5 THEN 1005 ELSE seq END WHERE seq IN (3, 5); \
         UPDATE audit_log SET seq = 5 WHERE seq = 1003; UPDATE audit_log SET seq = 3 WHERE seq = 1005",
        3,
    )
    .await;
}

async fn export_as_csv_and_json_lines(backend: Backend) {
    let h = Harness::new(backend).await;
    let auditor = Auth::Session(h.login("auditor", app::DEMO_PASSWORD).await);
    let csv = h.get("/api/v1/audit/export?format=csv", &auditor).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type().starts_with("text/csv"));
    let text = csv.text();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(server::api::AUDIT_CSV_HEADER.trim_end()));
    let first = lines.next().unwrap();
    assert!(first.starts_with("1,"), "oldest first: {first}");
    assert!(first.contains("user.create"));
    let jsonl = h.get("/api/v1/audit/export?format=jsonl&action=session.login", &auditor).await;
    assert_eq!(jsonl.content_type(), "application/jsonl");
    let rows: Vec<serde_json::Value> = jsonl.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!rows.is_empty() && rows.iter().all(|r| r["action"] == "session.login"));
    let bad = h.get("/api/v1/audit/export?format=xml", &auditor).await;
    assert_eq!((bad.status, bad.problem().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid-input"));
    // The console page filters, pages and links the exports.
    let page = h.get("/audit?actor=auditor", &auditor).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    let at = html.find("/audit/export?format=csv").expect("export link");
    assert!(
        html[at..at + 60].contains("actor&#61;auditor") || html[at..at + 60].contains("actor=auditor"),
        "{}",
        &html[at..at + 60]
    );
    let verify = h.get("/audit?verify=1", &auditor).await.text();
    assert!(verify.contains("Chain intact"), "verify banner");
}

crate::both_backends!(
    every_change_is_recorded_with_before_and_after,
    editing_a_record_is_detected,
    deleting_a_record_is_detected,
    deleting_the_newest_record_is_detected,
    inserting_a_record_is_detected,
    reordering_records_is_detected,
    export_as_csv_and_json_lines,
);
