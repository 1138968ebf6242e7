//! Problems: raised for a recurrence, analysed (symptom, root cause, five whys), the
//! workaround suggested on the next matching incident as a known error, fixed and closed.

use crate::common::{Auth, Backend, Harness};
use axum::http::{Method, StatusCode};
use model::Scope;
use serde_json::{Value, json};

async fn a_recurrence_becomes_a_known_error_that_new_incidents_are_shown(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let open = |item: &'static str| {
        let body = json!({"short_description": "Vendor VPN tunnel flaps", "caller": "Siemens field service",
            "category": "security", "item": item, "impact": "low", "urgency": "medium"});
        h.json(Method::POST, "/api/v1/incidents", &eng, body)
    };
    for _ in 0..3 {
        assert_eq!(open("pn-fw1").await.status, StatusCode::CREATED);
    }
    let recurring = h.get("/api/v1/incidents/recurring", &eng).await.json();
    let numbers = recurring[0]["incidents"].clone();
    assert_eq!(numbers, json!(["INC0000001", "INC0000002", "INC0000003"]));

    let raised = h
        .json(
            Method::POST,
            "/api/v1/problems",
            &eng,
            json!({"short_description": "Vendor VPN to pn-fw1 drops every night", "incidents": numbers}),
        )
        .await;
    assert_eq!(raised.status, StatusCode::CREATED, "{}", raised.text());
    let p = raised.json();
    assert_eq!(
        (p["number"].as_str(), p["state"].as_str(), p["known_error"].as_bool()),
        (Some("PRB0000001"), Some("new"), Some(false))
    );
    let path = "/api/v1/problems/PRB0000001";
    let (h, eng) = (&h, &eng);
    let work = |body: Value| async move { h.json(Method::POST, path, eng, body).await };

    assert_eq!(work(json!({"state": "assess"})).await.status, StatusCode::OK);
    let no_symptom = work(json!({"state": "root-cause-analysis"})).await;
    assert!(
        no_symptom.status == StatusCode::UNPROCESSABLE_ENTITY && no_symptom.text().contains("symptom"),
        "{}",
        no_symptom.text()
    );
    let analysed = work(json!({"state": "root-cause-analysis", "symptom": "Tunnel down 02:00-02:05 nightly",
        "root_cause": "IKE lifetime mismatch: 8 h on pn-fw1, 24 h at the vendor",
        "five_whys": ["the tunnel drops", "rekey fails", "lifetimes differ", "the vendor changed their template", "no change notice reached us"],
        "workaround": "Clear the IKE SA on pn-fw1 (test vpn ike-sa gateway SIEMENS)"}))
    .await
    .json();
    assert_eq!(
        (analysed["state"].as_str(), analysed["known_error"].as_bool()),
        (Some("root-cause-analysis"), Some(true))
    );
    assert_eq!(analysed["five_whys"].as_array().unwrap().len(), 5);

    // The next incident on the firewall is shown the known error; one elsewhere is not.
    let next = open("pn-fw1").await.json();
    let known =
        h.get(&format!("/api/v1/incidents/{}/known-errors", next["number"].as_str().unwrap()), eng).await.json();
    assert_eq!(known[0]["number"], "PRB0000001");
    assert!(known[0]["workaround"].as_str().unwrap().starts_with("Clear the IKE SA"));
    let elsewhere = open("dc-san-a").await.json();
    let none =
        h.get(&format!("/api/v1/incidents/{}/known-errors", elsewhere["number"].as_str().unwrap()), eng).await.json();
    assert_eq!(none, json!([]));

    assert_eq!(work(json!({"state": "fix-in-progress"})).await.status, StatusCode::OK);
    let no_fix = work(json!({"state": "resolved"})).await;
    assert!(no_fix.text().contains("\"fix\""), "{}", no_fix.text());
    assert_eq!(
        work(json!({"state": "resolved", "fix": "Lifetimes aligned at 8 h (CHG0000031)"})).await.status,
        StatusCode::OK
    );
    let unclosed = work(json!({"state": "closed"})).await;
    assert!(unclosed.text().contains("close_code"), "{}", unclosed.text());
    let stale = work(json!({"state": "closed", "close_code": "fix-applied", "version": 1})).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let closed = work(json!({"state": "closed", "close_code": "fix-applied"})).await.json();
    assert_eq!(closed["state"], "closed");
    assert_eq!(work(json!({"symptom": "x"})).await.status, StatusCode::UNPROCESSABLE_ENTITY, "closed is final");
    let after =
        h.get(&format!("/api/v1/incidents/{}/known-errors", next["number"].as_str().unwrap()), eng).await.json();
    assert_eq!(after, json!([]), "a closed problem is no longer suggested");

    // Bad input and who may see problems.
    let bad = h
        .json(Method::POST, "/api/v1/problems", eng, json!({"short_description": "x", "incidents": ["INC0009999"]}))
        .await;
    assert!(bad.status == StatusCode::UNPROCESSABLE_ENTITY && bad.text().contains("INC0009999"), "{}", bad.text());
    let vendor = Auth::Bearer(h.token("vendor-siemens", &[Scope::Read]).await);
    assert_eq!(h.get(path, &vendor).await.status, StatusCode::NOT_FOUND);
    let viewer = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    assert_eq!(h.get(path, &viewer).await.status, StatusCode::OK);
    assert_eq!(h.json(Method::POST, path, &viewer, json!({"symptom": "x"})).await.status, StatusCode::FORBIDDEN);
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Audit]).await);
    let audit = h.get("/api/v1/audit?target_id=PRB0000001", &admin).await.json();
    assert_eq!(audit["total"], 6, "raised, then five moves (refused ones leave no record): {audit}");
}

crate::both_backends!(a_recurrence_becomes_a_known_error_that_new_incidents_are_shown);
