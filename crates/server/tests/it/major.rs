//! A major incident from declaration to review: a P1 declared with its commander and roles,
//! stakeholder updates on the promised cadence (the commander reminded once when one is
//! late), the internal status page, and the post-incident review assembled from the record
//! with exact milestones, plus the team's written part.

use crate::common::{Auth, Backend, Harness};
use axum::http::{Method, StatusCode};
use model::Scope;
use serde_json::{Value, json};

const MIN: i64 = 60_000;

async fn a_major_incident_runs_on_its_cadence_and_reviews_itself(backend: Backend) {
    let h = Harness::new(backend).await;
    let courier = notify::Courier::new(None, std::time::Duration::from_secs(1)).unwrap();
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Admin, Scope::Read, Scope::Write]).await);
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write, Scope::Read]).await);
    assert_eq!(
        h.json(Method::PUT, "/api/v1/users/ops-lead/contact", &admin, json!({"email": "ops-lead@plant.example"}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = h
        .json(
            Method::PUT,
            "/api/v1/notification-channels/noc",
            &admin,
            json!({"kind": "mattermost", "target": "http://127.0.0.1:9/hooks/x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let open = |what: &'static str, impact: &'static str| {
        h.json(
            Method::POST,
            "/api/v1/incidents",
            &eng,
            json!({"short_description": what, "caller": "Control room",
            "category": "network", "item": "pn-core-sw1", "impact": impact, "urgency": "high"}),
        )
    };
    assert_eq!(open("Plant north cell network down", "high").await.status, StatusCode::CREATED);
    assert_eq!(open("HMI 3 slow", "low").await.status, StatusCode::CREATED);
    let declare = |n: &'static str, body: Value| h.post(format!("/api/v1/incidents/{n}/major"), &eng, body);
    let good = json!({"commander": "ops-lead", "roles": {"communications": "operator", "scribe": "engineer"},
                      "update_every_minutes": 30, "channels": ["noc"]});
    let r = declare("INC0000002", good.clone()).await;
    assert!(r.status == StatusCode::UNPROCESSABLE_ENTITY && r.text().contains("only a P1"), "{}", r.text());
    let r =
        declare("INC0000001", json!({"commander": "nobody", "update_every_minutes": 5, "channels": ["pager"]})).await;
    let text = r.text();
    assert!(
        text.contains("commander")
            && text.contains("update_every_minutes")
            && text.contains("no notification channel `pager`"),
        "{text}"
    );

    // 08:05 — taken; 08:10 — declared major.
    h.advance(5 * MIN);
    h.post("/api/v1/incidents/INC0000001/state".into(), &eng, json!({"state": "in-progress"})).await;
    h.advance(5 * MIN);
    let r = declare("INC0000001", good.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let m = r.json();
    assert_eq!((m["commander"].as_str(), m["roles"]["communications"].as_str()), (Some("ops-lead"), Some("operator")));
    assert_eq!(m["next_update_due"], "2027-01-15T08:40:00Z");
    assert_eq!(declare("INC0000001", good).await.status, StatusCode::UNPROCESSABLE_ENTITY, "declared once");
    let queued = h.get("/api/v1/notifications?subject=INC0000001", &eng).await.json();
    assert_eq!(queued[0]["title"], "MAJOR INCIDENT INC0000001: Plant north cell network down");

    // 08:15 — the first update; the next is due at 08:45.
    h.advance(5 * MIN);
    let update = |status: &str, impact: &str| {
        h.post("/api/v1/incidents/INC0000001/updates".into(), &eng, json!({"status": status, "impact": impact, "actions": "Core switch supervisor being replaced under TAC case"}))
    };
    let r = update("identified", "Cell network north down; the plant runs on local control").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["next_update_due"], "2027-01-15T08:45:00Z");
    assert_eq!(update("fixed", "x").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let status = h.get("/api/v1/status", &eng).await.json();
    let treatment =
        status["services"].as_array().unwrap().iter().find(|s| s["name"] == "svc-northfield-treatment").unwrap();
    assert_eq!(
        (treatment["health"].as_str(), &treatment["incidents"]),
        (Some("degraded"), &json!(["INC0000001", "INC0000002"]))
    );
    assert_eq!(
        (status["majors"][0]["number"].as_str(), status["majors"][0]["overdue"].as_bool()),
        (Some("INC0000001"), Some(false))
    );

    // 08:46 — late: the commander is reminded, once.
    h.advance(31 * MIN);
    assert_eq!(h.app.desk_round(&courier).await.unwrap().reminded, ["INC0000001"]);
    assert!(h.app.desk_round(&courier).await.unwrap().reminded.is_empty());
    assert_eq!(h.get("/api/v1/status", &eng).await.json()["majors"][0]["overdue"], true);
    let pages = h.get("/api/v1/notifications?subject=INC0000001", &eng).await.json();
    assert!(
        pages
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["channel"] == "page:ops-lead" && n["title"] == "INC0000001 stakeholder update due"),
        "{pages}"
    );

    // 08:50 — mitigated; 09:20 — resolved, which ends the major at the next round.
    h.advance(4 * MIN);
    update("monitoring", "Cell network back; watching the historian catch up").await;
    let r = h.post("/api/v1/incidents/INC0000001/review".into(), &eng, json!({})).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let early = h.json(Method::PUT, "/api/v1/incidents/INC0000001/review", &eng, json!({"summary": "x"})).await;
    assert!(
        early.status == StatusCode::UNPROCESSABLE_ENTITY && early.text().contains("once it is resolved"),
        "{}",
        early.text()
    );
    h.advance(30 * MIN);
    let r = h.post("/api/v1/incidents/INC0000001/state".into(), &eng, json!({"state": "resolved", "resolution_code": "hardware-replaced", "resolution_notes": "Supervisor swapped"})).await;
    assert_eq!(r.status, StatusCode::OK);
    h.app.desk_round(&courier).await.unwrap();
    assert_eq!(h.get("/api/v1/status", &eng).await.json()["majors"], json!([]));
    assert_eq!(update("resolved", "x").await.status, StatusCode::UNPROCESSABLE_ENTITY, "ended");

    // The review: milestones and durations from the record.
    let review = h.get("/api/v1/incidents/INC0000001/review", &eng).await.json();
    assert_eq!(review["milestones"]["responded"], "2027-01-15T08:05:00Z");
    assert_eq!(review["milestones"]["declared_major"], "2027-01-15T08:10:00Z");
    assert_eq!(review["milestones"]["mitigated"], "2027-01-15T08:50:00Z");
    assert_eq!(review["minutes_to"], json!({"respond": 5, "mitigate": 50, "resolve": 80}));
    assert_eq!(review["stakeholder_updates"], 2);
    assert_eq!(review["major"]["updates"].as_array().unwrap().len(), 2);
    let w = json!({"summary": "The plant north core switch lost its supervisor.", "root_cause": "A failed supervisor module",
                   "went_well": "Local control held", "to_improve": "Spares on site", "follow_ups": "Stock a spare supervisor — ops-lead, 2027-02-01"});
    let r = h.json(Method::PUT, "/api/v1/incidents/INC0000001/review", &eng, w.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["version"], 1);
    let stale = h.json(Method::PUT, "/api/v1/incidents/INC0000001/review", &eng, w.clone()).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "version 0 again: someone wrote it first");
    let mut next = w;
    next["version"] = json!(1);
    assert_eq!(h.json(Method::PUT, "/api/v1/incidents/INC0000001/review", &eng, next).await.json()["version"], 2);

    // The console: status page, the major panel and the review page.
    let session = Auth::Session(h.login("engineer", app::DEMO_PASSWORD).await);
    let page = h.get("/status", &session).await.text();
    assert!(page.contains("svc-northfield-treatment") && page.contains("degraded"), "{page}");
    let review_page = h.get("/incidents/INC0000001/review", &session).await.text();
    assert!(review_page.contains("1 h 20 min") && review_page.contains("A failed supervisor module"), "{review_page}");
    let incident = h.get("/incidents/INC0000001", &session).await.text();
    assert!(
        incident.contains("Major incident") && incident.contains("Commander <strong>ops-lead</strong>"),
        "{incident}"
    );
    let viewer = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    assert_eq!(
        h.json(Method::PUT, "/api/v1/incidents/INC0000001/review", &viewer, json!({"summary": "x"})).await.status,
        StatusCode::FORBIDDEN
    );
}

/// The console declares a major and posts an update through its forms.
async fn the_console_declares_and_updates_a_major(backend: Backend) {
    let h = Harness::new(backend).await;
    let session = Auth::Session(h.login("engineer", app::DEMO_PASSWORD).await);
    let opened = h
        .form(
            "/incidents",
            &session,
            &[
                ("short_description", "Plant north cell network down"),
                ("caller", "Control room"),
                ("category", "network"),
                ("item", "pn-core-sw1"),
                ("impact", "high"),
                ("urgency", "high"),
            ],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER);
    assert!(h.get("/incidents/INC0000001", &session).await.text().contains("Declare a major incident"));
    let bad = h.form("/incidents/INC0000001/major", &session, &[("commander", "ops-lead"), ("every", "2")]).await;
    assert!(
        bad.status == StatusCode::UNPROCESSABLE_ENTITY && bad.text().contains("every 10 to 240 minutes"),
        "{}",
        bad.text()
    );
    let ok = h
        .form(
            "/incidents/INC0000001/major",
            &session,
            &[("commander", "ops-lead"), ("every", "15"), ("communications", "operator")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let posted = h
        .form(
            "/incidents/INC0000001/updates",
            &session,
            &[("status", "investigating"), ("impact", "Cell network north down"), ("actions", "TAC engaged")],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.text());
    let page = h.get("/incidents/INC0000001", &session).await.text();
    assert!(page.contains("communications: operator") && page.contains("TAC engaged"), "{page}");
}

crate::both_backends!(
    a_major_incident_runs_on_its_cadence_and_reviews_itself,
    the_console_declares_and_updates_a_major,
);
