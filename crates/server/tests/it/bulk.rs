//! A queue's bulk actions: one assignment, move or note applied to many incidents, each
//! changed on its own (journal and audit record as if changed alone), the ones that cannot be
//! changed reported with why while the others go ahead, and a wrong action changing nothing.

use crate::common::{Auth, Backend, Harness};
use axum::http::StatusCode;
use model::Scope;
use serde_json::{Value, json};

async fn open(h: &Harness, auth: &Auth, what: &str) -> String {
    let r = h
        .post(
            "/api/v1/incidents".into(),
            auth,
            json!({"short_description": what, "caller": "Control room", "category": "network",
                   "impact": "low", "urgency": "medium"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["number"].as_str().unwrap().to_owned()
}

async fn incident(h: &Harness, auth: &Auth, number: &str) -> Value {
    h.get(&format!("/api/v1/incidents/{number}"), auth).await.json()
}

async fn many_incidents_change_at_once_and_refusals_are_per_incident(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let mut numbers = Vec::new();
    for what in ["Printer VLAN unreachable", "Badge reader offline gate 2", "Wi-Fi drops in hall B"] {
        numbers.push(open(&h, &eng, what).await);
    }

    let assigned = h
        .post(
            "/api/v1/incidents/bulk".into(),
            &eng,
            json!({"numbers": numbers, "assign": {"group": "L2", "assignee": "engineer"}}),
        )
        .await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.text());
    assert_eq!(assigned.json(), json!({"updated": numbers, "refused": []}));
    for n in &numbers {
        let i = incident(&h, &eng, n).await;
        assert_eq!((i["assignment_group"].as_str(), i["assignee"].as_str()), (Some("L2"), Some("engineer")), "{n}");
        assert_eq!(i["journal"].as_array().unwrap().last().unwrap()["kind"], "assigned");
    }
    // Each is in the audit log on its own.
    let auditor = Auth::Session(h.login("auditor", app::DEMO_PASSWORD).await);
    for n in &numbers {
        let log = h.get(&format!("/api/v1/audit?target_id={n}&action=incident.assign"), &auditor).await.json();
        assert_eq!(log["total"], 1, "{n}: {log}");
        assert_eq!(log["items"][0]["actor"], "engineer");
    }

    // One of them is cancelled first; resolving all three then refuses it and resolves the rest.
    let cancel = h
        .post(
            format!("/api/v1/incidents/{}/state", numbers[1]),
            &eng,
            json!({"state": "cancelled", "cancel_reason": "duplicate of INC0000001"}),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.text());
    let resolved = h
        .post(
            "/api/v1/incidents/bulk".into(),
            &eng,
            json!({"numbers": numbers, "state": {"state": "resolved", "resolution_code": "config-corrected",
                   "resolution_notes": "Trunk allowed VLAN list restored on pn-access-sw3"}}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text());
    let r = resolved.json();
    assert_eq!(r["updated"], json!([numbers[0], numbers[2]]));
    assert_eq!(r["refused"][0]["number"], numbers[1].as_str());
    assert!(r["refused"][0]["problem"]["status"].as_u64().unwrap() >= 400, "{r}");
    assert_eq!(incident(&h, &eng, &numbers[1]).await["state"], "cancelled");
    assert_eq!(incident(&h, &eng, &numbers[2]).await["state"], "resolved");

    // A move missing what it needs is refused for each, with the field named.
    let reopened = open(&h, &eng, "Historian disk 90 % full").await;
    let held = h
        .post("/api/v1/incidents/bulk".into(), &eng, json!({"numbers": [reopened], "state": {"state": "on-hold"}}))
        .await;
    let held = held.json();
    assert_eq!(held["updated"], json!([]));
    assert_eq!(held["refused"][0]["problem"]["status"], 422);
    assert!(held["refused"][0]["problem"]["errors"].to_string().contains("hold_reason"), "{held}");

    // A wrong action changes nothing at all.
    for (body, field) in [
        (json!({"numbers": [reopened]}), "action"),
        (json!({"numbers": [reopened], "note": {"text": "a"}, "assign": {"group": "L2"}}), "action"),
        (json!({"numbers": [reopened], "assign": {"group": "L2", "version": 1}}), "version"),
        (json!({"numbers": [], "note": {"text": "a"}}), "numbers"),
        (json!({"numbers": [reopened], "note": {"text": "   "}}), "text"),
        (json!({"numbers": [reopened], "assign": {"group": ""}}), "group"),
        (json!({"numbers": [reopened], "state": {"state": "sideways"}}), "state"),
        (
            json!({"numbers": (0..201).map(|i| format!("INC{i:07}")).collect::<Vec<_>>(), "note": {"text": "a"}}),
            "numbers",
        ),
    ] {
        let r = h.post("/api/v1/incidents/bulk".into(), &eng, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text());
        assert_eq!(r.json()["errors"][0]["field"], field, "{body}: {}", r.text());
    }
    assert_eq!(incident(&h, &eng, &reopened).await["journal"].as_array().unwrap().len(), 1, "nothing was written");
    // Unknown numbers are refused by name; reading is not enough to act.
    let unknown =
        h.post("/api/v1/incidents/bulk".into(), &eng, json!({"numbers": ["INC0999999"], "note": {"text": "x"}})).await;
    assert_eq!(unknown.json()["refused"][0]["problem"]["status"], 404);
    let viewer = Auth::Bearer(h.token("engineer", &[Scope::Read]).await);
    let denied =
        h.post("/api/v1/incidents/bulk".into(), &viewer, json!({"numbers": [reopened], "note": {"text": "x"}})).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

/// The queue page: rows chosen with boxes, the button pressed says what to do, and the queue
/// comes back with what happened to each.
async fn the_queue_page_applies_a_note_to_the_chosen_rows(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    for what in ["Printer VLAN unreachable", "Badge reader offline gate 2"] {
        open(&h, &eng, what).await;
    }
    let session = Auth::Session(h.login("engineer", app::DEMO_PASSWORD).await);
    let queue = h.get("/incidents?queue=open", &session).await;
    assert!(queue.text().contains(r#"name="n" value="INC0000001" form="bulk""#), "{}", queue.text());
    let back = "queue=open&page=1";
    let done = h
        .form(
            "/incidents/bulk",
            &session,
            &[
                ("n", "INC0000001"),
                ("n", "INC0000002"),
                ("action", "note"),
                ("text", "Shift hand-over: checked at 08:00"),
                ("back", back),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert!(done.text().contains("2 updated"), "{}", done.text());
    let token = Auth::Bearer(h.token("engineer", &[Scope::Read]).await);
    for n in ["INC0000001", "INC0000002"] {
        let j = incident(&h, &token, n).await["journal"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            (j["kind"].as_str(), j["text"].as_str()),
            (Some("work-note"), Some("Shift hand-over: checked at 08:00")),
            "{n}"
        );
    }
    let none = h.form("/incidents/bulk", &session, &[("action", "note"), ("text", "x"), ("back", back)]).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.text().contains("Nothing changed. numbers: choose at least one incident"), "{}", none.text());
    // An operator who may only read sees no boxes.
    let viewer = Auth::Session(h.login("auditor", app::DEMO_PASSWORD).await);
    let read_only = h.get("/incidents", &viewer).await;
    assert_eq!(read_only.status, StatusCode::OK);
    assert!(!read_only.text().contains(r#"form="bulk""#));
}

crate::both_backends!(
    many_incidents_change_at_once_and_refusals_are_per_incident,
    the_queue_page_applies_a_note_to_the_chosen_rows
);
