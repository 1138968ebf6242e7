//! SLA policies and the records the clocks leave: an incident's clocks attach to the tightest
//! policy of the services the CMDB says it affects; policies are validated and only an
//! administrator changes them; the sweep records each warning and breach once, on the
//! journal and in the audit log, and the breach stays on record after the incident is resolved.

use crate::common::{Auth, Harness};
use axum::http::{Method, StatusCode};
use model::Scope;
use serde_json::{Value, json};

const MIN: i64 = 60_000;

fn clock<'a>(incident: &'a Value, kind: &str) -> &'a Value {
    incident["sla"].as_array().unwrap().iter().find(|c| c["name"].as_str().unwrap().ends_with(kind)).unwrap()
}

async fn open(h: &Harness, auth: &Auth, item: Option<&str>, impact: &str, urgency: &str) -> Value {
    let mut body = json!({"short_description": "Something is wrong", "caller": "Control room", "category": "network",
                          "impact": impact, "urgency": urgency});
    if let Some(i) = item {
        body["item"] = json!(i);
    }
    let r = h.json(Method::POST, "/api/v1/incidents", auth, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

async fn clocks_attach_to_the_tightest_policy_of_the_services_affected(backend: crate::common::Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    // The demo's critical services name `24x7-critical`, the others `business-hours`.
    let policies = h.get("/api/v1/sla-policies", &eng).await.json();
    let names: Vec<&str> = policies.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["24x7-critical", "business-hours", "standard"]);

    // The plant's core switch carries the (critical) treatment service: a P2 runs on the
    // critical policy, 15 minutes and 4 hours round the clock from Friday 08:00 UTC.
    let core = open(&h, &eng, Some("pn-core-sw1"), "medium", "high").await;
    assert_eq!(core["priority"], 2);
    let services: Vec<&str> =
        core["services"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(services.contains(&"svc-northfield-treatment"), "{services:?}");
    let (resp, res) = (clock(&core, "response"), clock(&core, "resolution"));
    assert_eq!(
        (resp["policy"].as_str(), resp["deadline"].as_str()),
        (Some("24x7-critical"), Some("2027-01-15T08:15:00Z"))
    );
    assert_eq!((res["calendar"].as_str(), res["deadline"].as_str()), (Some("24x7"), Some("2027-01-15T12:00:00Z")));

    // The VTC controller carries only the secure VTC service (medium): business hours, in
    // the plant's time zone — the clock waits for 09:00 London and ends at Friday 17:00.
    let vtc = open(&h, &eng, Some("pn-vtc-control"), "medium", "high").await;
    let services: Vec<&str> = vtc["services"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(services, ["svc-secure-vtc"]);
    let (resp, res) = (clock(&vtc, "response"), clock(&vtc, "resolution"));
    assert_eq!(
        (resp["policy"].as_str(), resp["deadline"].as_str()),
        (Some("business-hours"), Some("2027-01-15T10:00:00Z"))
    );
    assert_eq!(
        (res["calendar"].as_str(), res["deadline"].as_str()),
        (Some("office (Europe/London)"), Some("2027-01-15T17:00:00Z"))
    );

    // No item, no service: the standard policy (P2: 30 minutes, 8 hours round the clock).
    let bare = open(&h, &eng, None, "medium", "high").await;
    assert_eq!(bare["services"], json!([]));
    assert_eq!(clock(&bare, "resolution")["policy"], "standard");
    assert_eq!(clock(&bare, "resolution")["deadline"], "2027-01-15T16:00:00Z");

    // An administrator tightens business hours' P2 onto the 24×7 calendar: new incidents attach
    // to it, the open one keeps what it attached to until its priority changes.
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Admin, Scope::Read, Scope::Audit]).await);
    let mut bh = policies.as_array().unwrap().iter().find(|p| p["name"] == "business-hours").unwrap().clone();
    bh["targets"][1]["calendar"] = json!("24x7");
    let put = h.json(Method::PUT, "/api/v1/sla-policies/business-hours", &admin, bh.clone()).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    let again = open(&h, &eng, Some("pn-vtc-control"), "medium", "high").await;
    assert_eq!(clock(&again, "response")["deadline"], "2027-01-15T09:00:00Z");
    let kept = h.get(&format!("/api/v1/incidents/{}", vtc["number"].as_str().unwrap()), &eng).await.json();
    assert_eq!(clock(&kept, "response")["deadline"], "2027-01-15T10:00:00Z");
    let audit = h.get("/api/v1/audit?action=sla-policy.put&target_id=business-hours", &admin).await.json();
    assert_eq!(audit["items"][0]["before"]["targets"][1]["calendar"], "office", "{audit}");
    assert_eq!(audit["items"][0]["after"]["targets"][1]["calendar"], "24x7", "{audit}");

    // Bad policies are refused with the field; engineers cannot change them at all.
    let mut bad = bh.clone();
    bad["targets"][0]["calendar"] = json!("night-shift");
    bad["targets"][2]["resolution_ms"] = json!(1000);
    let refused = h.json(Method::PUT, "/api/v1/sla-policies/business-hours", &admin, bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = refused.text();
    assert!(text.contains("targets[0].calendar") && text.contains("night-shift"), "{text}");
    assert!(text.contains("targets[2].resolution_ms"), "{text}");
    let engineer_admin = Auth::Bearer(h.token("engineer", &[Scope::Write, Scope::Admin]).await);
    let forbidden = h.json(Method::PUT, "/api/v1/sla-policies/business-hours", &engineer_admin, bh).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let unknown = h.json(Method::PUT, "/api/v1/sla-policies/x", &admin, json!({"targets": [], "colour": "red"})).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.text());
}

async fn warnings_and_breaches_are_recorded_once_and_kept(backend: crate::common::Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    // A P1 on the critical policy: respond in 10 minutes, resolve in 2 hours.
    let p1 = open(&h, &eng, Some("pn-core-sw1"), "high", "high").await;
    let number = p1["number"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/incidents/{number}");
    let sla_notes = |i: &Value| -> Vec<String> {
        i["journal"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["kind"] == "sla")
            .map(|j| j["text"].as_str().unwrap().to_owned())
            .collect()
    };

    h.advance(5 * MIN);
    let crossed = h.app.sweep_slas(100).await.unwrap();
    assert_eq!(crossed.iter().map(|c| (c.clock.as_str(), c.percent)).collect::<Vec<_>>(), [("P1 response", 50)]);
    h.advance(7 * MIN);
    let crossed = h.app.sweep_slas(100).await.unwrap();
    assert_eq!(crossed.iter().map(|c| c.percent).collect::<Vec<_>>(), [75, 90, 100]);
    assert_eq!(crossed[2].at, 1_800_000_000_000 + 10 * MIN, "the breach is dated when the target passed");
    assert!(h.app.sweep_slas(100).await.unwrap().is_empty(), "nothing is recorded twice");
    assert_eq!(
        sla_notes(&h.get(&path, &eng).await.json()),
        ["P1 response at 50 %", "P1 response at 75 %", "P1 response at 90 %", "P1 response breached"]
    );

    // Taken late; the resolution clock goes on and is breaching soon from 75 % (09:30).
    let state_path = format!("/api/v1/incidents/{number}/state");
    let go = |body: Value| h.json(Method::POST, &state_path, &eng, body);
    assert_eq!(go(json!({"state": "in-progress"})).await.status, StatusCode::OK);
    h.advance(78 * MIN); // 09:30
    let crossed = h.app.sweep_slas(100).await.unwrap();
    assert_eq!(
        crossed.iter().map(|c| (c.clock.as_str(), c.percent)).collect::<Vec<_>>(),
        [("P1 resolution", 50), ("P1 resolution", 75)]
    );
    let resolved = go(json!({"state": "resolved", "resolution_code": "fixed", "resolution_notes": "uplink reseated"}))
        .await
        .json();
    assert!(h.app.sweep_slas(100).await.unwrap().is_empty(), "a met clock owes nothing");
    let (resp, res) = (clock(&resolved, "response"), clock(&resolved, "resolution"));
    assert_eq!(
        (resp["stage"].as_str(), resp["breached_at"].as_str()),
        (Some("breached"), Some("2027-01-15T08:10:00Z"))
    );
    assert_eq!(res["stage"], "achieved");

    // The breach and the warnings are in the audit log, as the system recorded them.
    let auditor = Auth::Bearer(h.token("auditor", &[Scope::Audit]).await);
    let breaches = h.get("/api/v1/audit?action=incident.sla-breach", &auditor).await.json();
    assert_eq!(breaches["total"], 1, "{breaches}");
    assert_eq!(
        (breaches["items"][0]["actor"].as_str(), breaches["items"][0]["after"]["policy"].as_str()),
        (Some("system"), Some("24x7-critical"))
    );
    let warnings = h.get("/api/v1/audit?action=incident.sla-warning", &auditor).await.json();
    assert_eq!(warnings["total"], 5, "{warnings}");
}

crate::both_backends!(
    clocks_attach_to_the_tightest_policy_of_the_services_affected,
    warnings_and_breaches_are_recorded_once_and_kept,
);
