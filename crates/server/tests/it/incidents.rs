//! Incidents through the API: a P1 on a core switch opened, taken, held for a vendor and
//! resolved, with both SLA clocks right at each step; a P3 on office hours in the site's
//! time zone; priority overrides that need a reason; the ITIL moves refused with what they
//! need; and who may read and work them.

use crate::common::{Auth, Backend, Harness};
use axum::http::{Method, StatusCode};
use model::Scope;
use serde_json::{Value, json};

const MIN: i64 = 60_000;

fn clock<'a>(incident: &'a Value, kind: &str) -> &'a Value {
    incident["sla"].as_array().unwrap().iter().find(|c| c["name"].as_str().unwrap().ends_with(kind)).unwrap()
}

/// The demo services name SLA policies of their own (see `slas.rs`); these tests walk the
/// standard policy's targets, so they remove those first.
async fn standard_policy_only(h: &Harness) {
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Admin]).await);
    for name in ["24x7-critical", "business-hours"] {
        let req = admin.apply(axum::http::Request::delete(format!("/api/v1/sla-policies/{name}")));
        let gone = h.send(req.body(axum::body::Body::empty()).unwrap()).await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text());
    }
}

async fn a_p1_is_taken_held_for_a_vendor_and_resolved_with_its_clocks_right(backend: Backend) {
    let h = Harness::new(backend).await;
    standard_policy_only(&h).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let opened = h
        .json(
            Method::POST,
            "/api/v1/incidents",
            &eng,
            json!({"short_description": "pn-core-sw1 down, plant north cell network dark", "caller": "Omar (night shift)",
                   "category": "network", "item": "pn-core-sw1", "impact": "high", "urgency": "high"}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text());
    let i = opened.json();
    assert_eq!(
        (i["number"].as_str(), i["priority"].as_i64(), i["state"].as_str()),
        (Some("INC0000001"), Some(1), Some("new"))
    );
    assert_eq!(
        (i["item"].as_str(), i["site"].as_str(), i["matrix"].as_str()),
        (Some("pn-core-sw1"), Some("plant-north"), Some("itil v1"))
    );
    // The CMDB says what the core switch's failure does: its pair keeps the plant up, degraded.
    let impacted = i["impacted_services"].as_array().unwrap();
    assert!(!impacted.is_empty() && impacted.iter().all(|s| s["status"] == "degraded"), "{impacted:?}");
    // The test clock stands at 2027-01-15 08:00 UTC: 15 minutes to respond, 4 hours to resolve, round the clock.
    assert_eq!(clock(&i, "response")["deadline"], "2027-01-15T08:15:00Z");
    assert_eq!(clock(&i, "resolution")["deadline"], "2027-01-15T12:00:00Z");
    assert_eq!(clock(&i, "resolution")["calendar"], "24x7");
    let path = "/api/v1/incidents/INC0000001";
    let go = |body: Value| h.json(Method::POST, "/api/v1/incidents/INC0000001/state", &eng, body);

    h.advance(10 * MIN);
    let taken = go(json!({"state": "in-progress"})).await.json();
    assert_eq!(taken["assignee"], "engineer");
    let response = clock(&taken, "response");
    assert_eq!((response["stage"].as_str(), response["percent"].as_f64()), (Some("achieved"), Some(66.7)));
    assert_eq!(response["warnings"][0]["at"], "2027-01-15T08:07:30Z", "the 50 % warning came at 7½ minutes");

    h.advance(20 * MIN);
    let no_reason = go(json!({"state": "on-hold"})).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.text().contains("hold_reason"), "{}", no_reason.text());
    let held =
        go(json!({"state": "on-hold", "hold_reason": "awaiting-vendor", "comment": "Cisco TAC case 698412"})).await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.text());
    h.advance(60 * MIN);
    let waiting = h.get(path, &eng).await.json();
    let r = clock(&waiting, "resolution");
    assert_eq!(
        (r["stage"].as_str(), r["elapsed_ms"].as_i64(), &r["deadline"]),
        (Some("paused"), Some(30 * MIN), &Value::Null)
    );

    go(json!({"state": "in-progress"})).await;
    let resumed = h.get(path, &eng).await.json();
    assert_eq!(clock(&resumed, "resolution")["deadline"], "2027-01-15T13:00:00Z", "an hour held moves it an hour");
    h.advance(60 * MIN);
    let bare = go(json!({"state": "resolved"})).await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bare.text().contains("resolution_code") && bare.text().contains("resolution_notes"), "{}", bare.text());
    let stale =
        go(json!({"state": "resolved", "resolution_code": "fixed", "resolution_notes": "x", "version": 1})).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text());
    let resolved = go(json!({"state": "resolved", "resolution_code": "hardware-replaced",
        "resolution_notes": "Supervisor module swapped under TAC RMA; uplinks up"}))
    .await
    .json();
    let r = clock(&resolved, "resolution");
    assert_eq!((r["stage"].as_str(), r["elapsed_ms"].as_i64()), (Some("achieved"), Some(90 * MIN)));
    assert_eq!(r["warnings"], json!([]), "90 minutes of 4 hours: no warning");
    assert_eq!(go(json!({"state": "closed"})).await.status, StatusCode::OK);
    let final_move = go(json!({"state": "in-progress"})).await;
    assert_eq!(final_move.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(final_move.text().contains("final"), "{}", final_move.text());

    // The journal is the timeline; every change is audited.
    let done = h.get(path, &eng).await.json();
    let states: Vec<&str> = done["journal"].as_array().unwrap().iter().filter_map(|j| j["state"].as_str()).collect();
    assert_eq!(states, ["new", "in-progress", "on-hold", "in-progress", "resolved", "closed"]);
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Audit]).await);
    let audit = h.get("/api/v1/audit?target_id=INC0000001", &admin).await.json();
    assert_eq!(audit["total"], 6, "{audit}");
}

async fn a_p3_runs_on_office_hours_and_priorities_are_overridden_only_with_a_reason(backend: Backend) {
    let h = Harness::new(backend).await;
    standard_policy_only(&h).await;
    let op = Auth::Bearer(h.token("operator", &[Scope::Write]).await);
    let open = |body: Value| h.json(Method::POST, "/api/v1/incidents", &op, body);
    let base = json!({"short_description": "Historian slow to answer", "caller": "Process engineer",
                      "category": "server", "item": "pn-historian", "impact": "medium", "urgency": "medium"});
    let p3 = open(base.clone()).await.json();
    assert_eq!(p3["priority"], 3);
    // Friday 08:00 UTC (08:00 in London in January): the clock starts at 09:00; 4 working
    // hours to respond, three working days to resolve, the weekend not counted.
    assert_eq!(clock(&p3, "response")["deadline"], "2027-01-15T13:00:00Z");
    assert_eq!(clock(&p3, "resolution")["deadline"], "2027-01-19T17:00:00Z");
    assert_eq!(clock(&p3, "resolution")["calendar"], "office (Europe/London)");

    let mut raised = base.clone();
    raised["priority"] = json!(2);
    let refused = open(raised.clone()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text().contains("priority_reason") && refused.text().contains("matrix gives P3"),
        "{}",
        refused.text()
    );
    raised["priority_reason"] = json!("the filtration line's batch records depend on it");
    let p2 = open(raised).await.json();
    assert_eq!(
        (p2["priority"].as_i64(), p2["priority_reason"].as_str()),
        (Some(2), Some("the filtration line's batch records depend on it"))
    );
    assert_eq!(clock(&p2, "resolution")["calendar"], "24x7");

    // Bad input is named field by field; nothing is stored.
    let bad = open(json!({"short_description": "", "caller": "x", "category": "plumbing", "item": "no-such-box",
                          "impact": "huge", "urgency": "high"}))
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["short_description", "category", "impact", "item"] {
        assert!(bad.text().contains(field), "{field}: {}", bad.text());
    }
    let unknown = open(json!({"short_description": "x", "caller": "x", "category": "server", "impact": "low",
                              "urgency": "low", "colour": "red"}))
    .await;
    assert!(unknown.text().contains("colour"), "{}", unknown.text());
    let listed = h.get("/api/v1/incidents", &op).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 2, "P2 first, then P3");
    assert_eq!(listed[0]["priority"], 2);

    // Viewers read incidents but do not open them; a plant vendor sees the plant's only.
    let viewer = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    assert_eq!(h.get("/api/v1/incidents/INC0000001", &viewer).await.status, StatusCode::OK);
    assert_eq!(h.json(Method::POST, "/api/v1/incidents", &viewer, base.clone()).await.status, StatusCode::FORBIDDEN);
    let mut dc = base;
    dc["item"] = json!("dc-san-a");
    let dc = open(dc).await.json();
    let vendor = Auth::Bearer(h.token("vendor-siemens", &[Scope::Read]).await);
    assert_eq!(h.get("/api/v1/incidents/INC0000001", &vendor).await.status, StatusCode::OK);
    let path = format!("/api/v1/incidents/{}", dc["number"].as_str().unwrap());
    assert_eq!(h.get(&path, &vendor).await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.get("/api/v1/incidents/INC9999999", &op).await.status, StatusCode::NOT_FOUND);
}

/// The console: an operator opens an incident from the queue page, an engineer takes it,
/// puts it on hold for the caller and resolves it; the SLA panel reads right at each step.
async fn the_console_opens_works_and_resolves_an_incident_with_the_sla_shown(backend: Backend) {
    let h = Harness::new(backend).await;
    standard_policy_only(&h).await;
    let op = Auth::Session(h.login("operator", app::DEMO_PASSWORD).await);
    let queue = h.get("/incidents", &op).await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(queue.text().contains("No open incidents") && queue.text().contains("Open an incident"));
    let opened = h
        .form(
            "/incidents",
            &op,
            &[
                ("short_description", "Firewall pn-fw1 dropping SCADA polls"),
                ("caller", "Control room"),
                ("category", "ot"),
                ("item", "pn-fw1"),
                ("impact", "high"),
                ("urgency", "medium"),
                ("priority", ""),
                ("priority_reason", ""),
            ],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.text());
    assert_eq!(opened.location(), "/incidents/INC0000001");
    let page = h.get("/incidents/INC0000001", &op).await.text();
    // High × medium is P2: 30 minutes to respond, 8 hours to resolve, round the clock.
    assert!(page.contains("prio-2") && page.contains("P2 response"), "{page}");
    assert!(page.contains("class=\"clock-deadline\">2027-01-15T08:30:00Z"), "{page}");
    let listed = h.get("/incidents", &op).await.text();
    assert!(listed.contains("INC0000001") && listed.contains("Firewall pn-fw1"), "{listed}");
    // Queues: unassigned holds it; nobody has it yet; it is not breaching.
    assert!(h.get("/incidents?queue=unassigned", &op).await.text().contains("INC0000001"));
    assert!(h.get("/incidents?queue=mine", &op).await.text().contains("Nothing in this queue"));
    assert!(h.get("/incidents?queue=breaching", &op).await.text().contains("Nothing in this queue"));
    assert!(page.contains("Services affected") && page.contains("health-degraded"), "pn-fw1 has a pair: {page}");

    let mut eng = Auth::Session(h.login("engineer", app::DEMO_PASSWORD).await);
    h.advance(20 * MIN);
    let take = h.form("/incidents/INC0000001/state", &eng, &[("state", "in-progress"), ("version", "1")]).await;
    assert_eq!(take.status, StatusCode::SEE_OTHER, "{}", take.text());
    let mine = h.get("/incidents?queue=mine", &eng).await.text();
    assert!(
        mine.contains("INC0000001") && mine.contains("aria-current=\"page\">Mine"),
        "taken, it is the engineer's: {mine}"
    );
    let page = h.get("/incidents/INC0000001", &eng).await.text();
    assert!(
        page.contains("data-clock=\"P2 response\"") && page.contains("<span class=\"clock-stage\">met</span>"),
        "{page}"
    );
    assert!(page.contains("<span class=\"clock-percent\">67 %</span>"), "20 of 30 minutes: {page}");

    // On hold for the caller needs a comment: the page says so and nothing moves.
    h.advance(10 * MIN);
    let refused = h
        .form(
            "/incidents/INC0000001/state",
            &eng,
            &[("state", "on-hold"), ("hold_reason", "awaiting-caller"), ("version", "2")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().contains("comment: tell the caller"), "{}", refused.text());
    let held = h
        .form(
            "/incidents/INC0000001/state",
            &eng,
            &[
                ("state", "on-hold"),
                ("hold_reason", "awaiting-caller"),
                ("comment", "Which PLC stopped answering?"),
                ("version", "2"),
            ],
        )
        .await;
    assert_eq!(held.status, StatusCode::SEE_OTHER, "{}", held.text());
    h.advance(60 * MIN);
    // An hour idle ends a console session: sign in again.
    eng = Auth::Session(h.login("engineer", app::DEMO_PASSWORD).await);
    let page = h.get("/incidents/INC0000001", &eng).await.text();
    assert!(
        page.contains("on-hold</strong> (awaiting-caller)")
            && page.contains("<span class=\"clock-stage\">paused</span>"),
        "{page}"
    );
    // 30 minutes of 8 hours ran before the hold: 6 %.
    assert!(page.contains("<span class=\"clock-percent\">6 %</span>"), "{page}");

    h.form("/incidents/INC0000001/state", &eng, &[("state", "in-progress"), ("version", "3")]).await;
    h.advance(25 * MIN);
    let resolved = h
        .form(
            "/incidents/INC0000001/state",
            &eng,
            &[
                ("state", "resolved"),
                ("resolution_code", "config-fixed"),
                ("resolution_notes", "Restored rule 14 from the archive"),
                ("version", "4"),
            ],
        )
        .await;
    assert_eq!(resolved.status, StatusCode::SEE_OTHER, "{}", resolved.text());
    let page = h.get("/incidents/INC0000001", &eng).await.text();
    assert!(page.contains("resolved</strong>") && page.contains("config-fixed: Restored rule 14"), "{page}");
    assert!(
        page.contains("<span class=\"clock-percent\">11 %</span>") && !page.contains("clock-deadline"),
        "55 min of 8 h, stopped: {page}"
    );
    let noted = h
        .form(
            "/incidents/INC0000001/notes",
            &eng,
            &[("text", "RMA 88412 raised for the faulty module"), ("visible", "on")],
        )
        .await;
    assert_eq!(noted.status, StatusCode::SEE_OTHER, "{}", noted.text());
    let empty = h.form("/incidents/INC0000001/notes", &eng, &[("text", " ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = h.get("/incidents/INC0000001", &eng).await.text();
    assert!(page.contains("<td>comment</td><td>RMA 88412 raised"), "{page}");
    // A viewer reads the page but has no form.
    let viewer = Auth::Session(h.login("viewer", app::DEMO_PASSWORD).await);
    let page = h.get("/incidents/INC0000001", &viewer).await.text();
    assert!(page.contains("INC0000001") && !page.contains("Move it"));
    assert_eq!(h.form("/incidents", &viewer, &[("short_description", "x")]).await.status, StatusCode::FORBIDDEN);
}

async fn notes_assignments_and_priority_changes_are_journaled_and_the_clocks_follow(backend: Backend) {
    let h = Harness::new(backend).await;
    standard_policy_only(&h).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let opened = h
        .json(Method::POST, "/api/v1/incidents", &eng, json!({"short_description": "Backups failing on dc-backup-01",
            "caller": "Storage team", "category": "server", "item": "dc-backup-01", "impact": "medium", "urgency": "medium"}))
        .await
        .json();
    assert_eq!(
        (opened["priority"].as_i64(), clock(&opened, "resolution")["deadline"].as_str()),
        (Some(3), Some("2027-01-19T17:00:00Z"))
    );
    let path = "/api/v1/incidents/INC0000001";
    let (h, eng) = (&h, &eng);
    let post = |what: &str, body: Value| {
        let url = format!("{path}/{what}");
        async move { h.json(Method::POST, &url, eng, body).await }
    };

    let assigned = post("assignment", json!({"group": "L3 Network", "assignee": "engineer"})).await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.text());
    assert_eq!(
        (assigned.json()["assignment_group"].as_str(), assigned.json()["assignee"].as_str()),
        (Some("L3 Network"), Some("engineer"))
    );
    let nobody = post("assignment", json!({"group": "L3 Network", "assignee": "ghost"})).await;
    assert!(
        nobody.status == StatusCode::UNPROCESSABLE_ENTITY && nobody.text().contains("no account `ghost`"),
        "{}",
        nobody.text()
    );
    assert_eq!(post("assignment", json!({"group": " "})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(post("notes", json!({"text": "Veeam job 14 fails on the tape proxy"})).await.status, StatusCode::OK);
    assert_eq!(
        post("notes", json!({"text": "We are on it; next update at 10:00", "visible": true})).await.status,
        StatusCode::OK
    );
    assert_eq!(post("notes", json!({"text": "   "})).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Raised to P1: the clocks run round the clock from the opening, 4 hours to resolve.
    let raised = post("priority", json!({"impact": "high", "urgency": "high"})).await;
    assert_eq!(raised.status, StatusCode::OK, "{}", raised.text());
    let raised = raised.json();
    assert_eq!(raised["priority"], 1);
    assert_eq!(
        (clock(&raised, "resolution")["deadline"].as_str(), clock(&raised, "resolution")["calendar"].as_str()),
        (Some("2027-01-15T12:00:00Z"), Some("24x7"))
    );
    assert_eq!(
        post("priority", json!({"impact": "high", "urgency": "high"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no change"
    );
    let unexplained = post("priority", json!({"impact": "low", "urgency": "low", "priority": 2})).await;
    assert!(unexplained.text().contains("matrix gives P5"), "{}", unexplained.text());
    let kinds: Vec<&str> = raised["journal"].as_array().unwrap().iter().map(|j| j["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["opened", "assigned", "work-note", "comment", "priority"]);
    assert!(raised["journal"][4]["text"].as_str().unwrap().starts_with("P3 → P1"));

    // The recomputation is audited with the deadlines before and after.
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Audit]).await);
    let audit = h.get("/api/v1/audit?action=incident.priority", &admin).await.json();
    let record = &audit["items"][0];
    let deadline = |side: &str, clock: &str| record[side]["deadlines"][clock]["deadline"].as_i64();
    assert!(deadline("before", "P3 resolution").is_some(), "{record}");
    assert!(deadline("after", "P1 resolution") < deadline("before", "P3 resolution"), "{record}");
    assert_eq!(record["after"]["deadlines"]["P1 resolution"]["policy"], "standard", "{record}");
    // A closed incident takes no more changes.
    post("state", json!({"state": "resolved", "resolution_code": "fixed", "resolution_notes": "proxy restarted"}))
        .await;
    post("state", json!({"state": "closed"})).await;
    let closed = post("assignment", json!({"group": "L2"})).await;
    assert!(closed.status == StatusCode::UNPROCESSABLE_ENTITY && closed.text().contains("closed"), "{}", closed.text());
}

/// The office calendar is data: an administrator adds a holiday and the open P3's
/// deadline moves by a working day; bad calendars are refused entry by entry.
async fn editing_the_office_calendar_moves_the_office_hours_deadlines(backend: Backend) {
    let h = Harness::new(backend).await;
    standard_policy_only(&h).await;
    let op = Auth::Bearer(h.token("operator", &[Scope::Write]).await);
    let p3 = h
        .json(
            Method::POST,
            "/api/v1/incidents",
            &op,
            json!({"short_description": "Historian slow", "caller": "x",
            "category": "server", "item": "pn-historian", "impact": "medium", "urgency": "medium"}),
        )
        .await
        .json();
    assert_eq!(clock(&p3, "resolution")["deadline"], "2027-01-19T17:00:00Z");
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Admin, Scope::Read, Scope::Audit]).await);
    let office = json!({"time_zone": "Europe/London", "holidays": ["2027-01-18"],
        "days": {"monday": ["09:00-17:00"], "tuesday": ["09:00-17:00"], "wednesday": ["09:00-17:00"],
                 "thursday": ["09:00-17:00"], "friday": ["09:00-17:00"]}});
    let put = h.json(Method::PUT, "/api/v1/calendars/office", &admin, office.clone()).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    let moved = h.get("/api/v1/incidents/INC0000001", &op).await.json();
    assert_eq!(clock(&moved, "resolution")["deadline"], "2027-01-20T17:00:00Z", "Monday 18 is now a holiday");
    // What GET returns can be sent back; the change is audited.
    let listed = h.get("/api/v1/calendars", &op).await.json();
    assert_eq!(listed[0]["name"], "office");
    assert_eq!(h.json(Method::PUT, "/api/v1/calendars/office", &admin, listed[0].clone()).await.status, StatusCode::OK);
    let audit = h.get("/api/v1/audit?action=calendar.put", &admin).await.json();
    assert_eq!(audit["total"], 2);
    assert_eq!(audit["items"][0]["before"]["holidays"], json!(["2027-01-18"]));

    let bad = h
        .json(
            Method::PUT,
            "/api/v1/calendars/office",
            &admin,
            json!({"time_zone": "Mars/Olympus",
            "days": {"mondy": ["09:00-17:00"], "tuesday": ["17:00-09:00"]}, "holidays": ["18/01/2027"]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("time_zone"), "{}", bad.text());
    let bad = h
        .json(
            Method::PUT,
            "/api/v1/calendars/office",
            &admin,
            json!({"time_zone": "UTC",
            "days": {"mondy": ["09:00-17:00"], "tuesday": ["17:00-09:00"]}, "holidays": ["18/01/2027"]}),
        )
        .await;
    for field in ["days.mondy", "days.tuesday", "holidays"] {
        assert!(bad.text().contains(field), "{field}: {}", bad.text());
    }
    assert_eq!(h.json(Method::PUT, "/api/v1/calendars/office", &op, office).await.status, StatusCode::FORBIDDEN);
    let unchanged = h.get("/api/v1/incidents/INC0000001", &op).await.json();
    assert_eq!(clock(&unchanged, "resolution")["deadline"], "2027-01-20T17:00:00Z", "refused edits change nothing");
}

/// The matrix is versioned data: switching to the OT preset makes safety the top impact,
/// and each incident records the version its priority came from.
async fn the_priority_matrix_is_versioned_and_the_ot_preset_ranks_safety_first(backend: Backend) {
    let h = Harness::new(backend).await;
    standard_policy_only(&h).await;
    let op = Auth::Bearer(h.token("operator", &[Scope::Write]).await);
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Admin, Scope::Read, Scope::Audit]).await);
    let current = h.get("/api/v1/priority-matrix", &op).await.json();
    assert_eq!((current["name"].as_str(), current["version"].as_i64()), (Some("itil"), Some(1)));
    let open = |impact: &str| {
        let body = json!({"short_description": "Dosing pump PLC faulted", "caller": "Shift lead", "category": "ot",
            "item": "pn-plc-dosing", "impact": impact, "urgency": "medium"});
        h.json(Method::POST, "/api/v1/incidents", &op, body)
    };
    assert!(open("safety").await.text().contains("one of high, medium, low"), "the ITIL grid has no safety impact");
    let ot = h.json(Method::PUT, "/api/v1/priority-matrix", &admin, json!({"preset": "ot"})).await;
    assert_eq!(ot.status, StatusCode::OK, "{}", ot.text());
    assert_eq!((ot.json()["name"].as_str(), ot.json()["version"].as_i64()), (Some("ot"), Some(2)));
    let safety = open("safety").await.json();
    assert_eq!((safety["priority"].as_i64(), safety["matrix"].as_str()), (Some(1), Some("ot v2")));
    assert_eq!(open("operations").await.json()["priority"], 3);

    let bad = h
        .json(
            Method::PUT,
            "/api/v1/priority-matrix",
            &admin,
            json!({"impacts": ["a", "a"], "urgencies": ["u"], "cells": [[1], [9]]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("named twice") && bad.text().contains("1 (P1) to 5 (P5)"), "{}", bad.text());
    assert_eq!(
        h.json(Method::PUT, "/api/v1/priority-matrix", &op, json!({"preset": "itil"})).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(h.get("/api/v1/priority-matrix", &op).await.json()["version"], 2, "refused versions are not stored");
    let audit = h.get("/api/v1/audit?action=priority-matrix.put", &admin).await.json();
    assert_eq!((audit["total"].as_i64(), audit["items"][0]["before"]["name"].as_str()), (Some(1), Some("itil")));
}

/// Incidents that keep coming back on one item are proposed for a problem record.
async fn recurring_incidents_on_one_item_are_proposed_for_a_problem(backend: Backend) {
    let h = Harness::new(backend).await;
    standard_policy_only(&h).await;
    let op = Auth::Bearer(h.token("operator", &[Scope::Write]).await);
    for (item, category) in
        [("pn-fw1", "security"), ("pn-fw1", "security"), ("dc-san-a", "server"), ("pn-fw1", "network")]
    {
        let body = json!({"short_description": "VPN tunnel to the vendor flaps", "caller": "x", "category": category,
            "item": item, "impact": "low", "urgency": "low"});
        assert_eq!(h.json(Method::POST, "/api/v1/incidents", &op, body).await.status, StatusCode::CREATED);
        h.advance(24 * 60 * MIN);
    }
    let found = h.get("/api/v1/incidents/recurring", &op).await.json();
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["key"], "item:pn-fw1");
    assert_eq!(found[0]["incidents"], json!(["INC0000001", "INC0000002", "INC0000004"]));
    let narrow = h.get("/api/v1/incidents/recurring?days=1&min=2", &op).await.json();
    assert_eq!(narrow[0]["incidents"], json!(["INC0000001", "INC0000002"]), "{narrow}");
    assert_eq!(h.get("/api/v1/incidents/recurring?days=0", &op).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(h.get("/api/v1/incidents/recurring?weeks=1", &op).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

crate::both_backends!(
    recurring_incidents_on_one_item_are_proposed_for_a_problem,
    the_priority_matrix_is_versioned_and_the_ot_preset_ranks_safety_first,
    editing_the_office_calendar_moves_the_office_hours_deadlines,
    notes_assignments_and_priority_changes_are_journaled_and_the_clocks_follow,
    the_console_opens_works_and_resolves_an_incident_with_the_sla_shown,
    a_p1_is_taken_held_for_a_vendor_and_resolved_with_its_clocks_right,
    a_p3_runs_on_office_hours_and_priorities_are_overridden_only_with_a_reason,
);
