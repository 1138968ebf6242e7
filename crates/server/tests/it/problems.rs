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

/// Corrective and preventive actions with owners and due dates; a problem is not resolved
/// while a corrective one is open. The console raises a problem from a recurrence, shows its
/// actions (overdue ones flagged) and the known error on the next matching incident.
async fn actions_gate_the_resolution_and_the_console_works_problems(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write, Scope::Read]).await);
    let session = Auth::Session(h.login("engineer", app::DEMO_PASSWORD).await);
    for _ in 0..3 {
        let body = json!({"short_description": "Vendor VPN tunnel flaps", "caller": "Siemens field service",
            "category": "security", "item": "pn-fw1", "impact": "low", "urgency": "medium"});
        assert_eq!(h.json(Method::POST, "/api/v1/incidents", &eng, body).await.status, StatusCode::CREATED);
    }
    // The problems page proposes the recurrence and raises it in one click.
    let list = h.get("/problems", &session).await.text();
    assert!(list.contains("Keeps coming back") && list.contains("INC0000001,INC0000002,INC0000003"), "{list}");
    let raised = h
        .form(
            "/problems",
            &session,
            &[
                ("incidents", "INC0000001,INC0000002,INC0000003"),
                ("short_description", "Recurring incidents on item:pn-fw1"),
            ],
        )
        .await;
    assert_eq!(
        (raised.status, raised.location()),
        (StatusCode::SEE_OTHER, "/problems/PRB0000001"),
        "{}",
        raised.text()
    );
    assert!(!h.get("/problems", &session).await.text().contains("Keeps coming back"), "explained now");

    let action = |body: Value| h.post("/api/v1/problems/PRB0000001/actions".into(), &eng, body);
    let bad = action(json!({"kind": "fix", "description": "", "owner": "nobody", "due_on": "2027-01-01"})).await;
    let text = bad.text();
    assert!(
        bad.status == StatusCode::UNPROCESSABLE_ENTITY
            && text.contains("kind")
            && text.contains("owner")
            && text.contains("not in the past"),
        "{text}"
    );
    let r = action(json!({"kind": "corrective", "description": "Align IKE lifetimes with Siemens", "owner": "engineer", "due_on": "2027-01-20"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    action(json!({"kind": "preventive", "description": "Add IKE lifetime to the vendor onboarding checklist", "owner": "ops-lead", "due_on": "2027-02-15"})).await;
    let p = r.json();
    assert_eq!(p["actions"][0]["state"], "open");

    // Analysed and fixed, but the corrective action is open: not resolved yet.
    let work = |body: Value| h.post("/api/v1/problems/PRB0000001".into(), &eng, body);
    for (state, extra) in [
        ("assess", json!({})),
        ("root-cause-analysis", json!({"symptom": "Tunnel drops at 02:00"})),
        ("fix-in-progress", json!({"root_cause": "IKE lifetime mismatch", "workaround": "Clear the SA from the ASA"})),
    ] {
        let mut body = extra;
        body["state"] = json!(state);
        assert_eq!(work(body).await.status, StatusCode::OK, "{state}");
    }
    let r = work(json!({"state": "resolved", "fix": "Lifetimes aligned"})).await;
    assert!(
        r.status == StatusCode::UNPROCESSABLE_ENTITY && r.text().contains("corrective action(s) still open"),
        "{}",
        r.text()
    );
    // Overdue actions are flagged on the page.
    h.advance(6 * 86_400_000);
    let session = Auth::Session(h.login("engineer", app::DEMO_PASSWORD).await);
    let page = h.get("/problems/PRB0000001", &session).await.text();
    assert!(page.contains("Align IKE lifetimes with Siemens") && page.contains("overdue"), "{page}");
    let id = p["actions"][0]["id"].as_i64().unwrap();
    let done = h
        .form(&format!("/problems/PRB0000001/actions/{id}/done"), &session, &[("note", "Both sides on 28800 s")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write, Scope::Read]).await);
    let r = h
        .post("/api/v1/problems/PRB0000001".into(), &eng, json!({"state": "resolved", "fix": "Lifetimes aligned"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["actions"][1]["state"], "open", "preventive actions may outlive the fix");

    // The next incident on the firewall shows the known error.
    let body = json!({"short_description": "VPN down again", "caller": "Siemens", "category": "security",
                      "item": "pn-fw1", "impact": "low", "urgency": "medium"});
    assert_eq!(h.json(Method::POST, "/api/v1/incidents", &eng, body).await.status, StatusCode::CREATED);
    let incident = h.get("/incidents/INC0000004", &session).await.text();
    assert!(
        incident.contains("Known errors that may match") && incident.contains("Clear the SA from the ASA"),
        "{incident}"
    );
}

crate::both_backends!(
    a_recurrence_becomes_a_known_error_that_new_incidents_are_shown,
    actions_gate_the_resolution_and_the_console_works_problems,
);
