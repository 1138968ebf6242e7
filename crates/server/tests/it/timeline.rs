//! An incident's live timeline: `GET /api/v1/incidents/{number}/events` sends each journal
//! entry as a server-sent event as it is written — by the API, the console or any other path
//! into the desk — and a reconnecting reader resumes after the last entry it saw.

use crate::common::{Auth, Backend, Harness};
use app::Actor;
use axum::http::StatusCode;
use model::Scope;
use serde_json::json;
use std::time::Duration;

async fn entries_arrive_as_they_are_written_and_a_reader_resumes(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let lead = Auth::Bearer(h.token("ops-lead", &[Scope::Write]).await);
    let opened = h
        .post(
            "/api/v1/incidents".into(),
            &eng,
            json!({"short_description": "pn-fw1 dropping OPC UA sessions", "caller": "Control room",
                   "category": "security", "item": "pn-fw1", "impact": "medium", "urgency": "high"}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text());
    let cursor = opened.json()["timeline_cursor"].as_i64().unwrap();
    assert!(cursor > 0, "the opening is the journal's first entry");

    // The lead watches; by default only what is written from now on comes.
    let mut watch = h.events("/api/v1/incidents/INC0000001/events", &lead, None).await.map_err(|r| r.text()).unwrap();
    assert!(watch.headers["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    assert!(watch.next_within(Duration::from_millis(1500)).await.is_none(), "nothing new, nothing sent");

    let note = h
        .post(
            "/api/v1/incidents/INC0000001/notes".into(),
            &eng,
            json!({"text": "Sessions reset every 30 s since 07:40"}),
        )
        .await;
    assert_eq!(note.status, StatusCode::OK, "{}", note.text());
    let taken = h
        .post(
            "/api/v1/incidents/INC0000001/assignment".into(),
            &eng,
            json!({"group": "L3 security", "assignee": "engineer"}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.text());
    // A change that does not come through the HTTP API (here the use-case the CLI calls).
    let actor = Actor::cli();
    h.app.add_note(&actor, "INC0000001", "Vendor TAC case 4711 opened", true).await.unwrap();

    let first = watch.next().await;
    assert_eq!(first.event, "entry");
    assert_eq!((first.data["kind"].as_str(), first.data["actor"].as_str()), (Some("work-note"), Some("engineer")));
    assert_eq!(first.data["text"], "Sessions reset every 30 s since 07:40");
    assert_eq!(first.id, first.data["id"].as_i64().unwrap().to_string());
    assert!(first.data["id"].as_i64().unwrap() > cursor);
    let second = watch.next().await;
    assert_eq!(second.data["kind"], "assigned");
    let third = watch.next().await;
    assert_eq!(
        (third.data["kind"].as_str(), third.data["text"].as_str()),
        (Some("comment"), Some("Vendor TAC case 4711 opened"))
    );

    // A browser reconnecting says the last entry it saw; what followed comes again, in order.
    let mut again =
        h.events("/api/v1/incidents/INC0000001/events", &lead, Some(&first.id)).await.map_err(|r| r.text()).unwrap();
    assert_eq!(again.next().await.id, second.id);
    assert_eq!(again.next().await.id, third.id);
    // From the beginning: the opening first.
    let mut all =
        h.events("/api/v1/incidents/INC0000001/events?after=0", &lead, None).await.map_err(|r| r.text()).unwrap();
    let opening = all.next().await;
    assert_eq!((opening.data["kind"].as_str(), opening.data["id"].as_i64()), (Some("opened"), Some(cursor)));

    // Refusals are problems before any stream starts.
    let missing = h.events("/api/v1/incidents/INC0000099/events", &lead, None).await.err().expect("refused");
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text());
    let bad = h.events("/api/v1/incidents/INC0000001/events?after=latest", &lead, None).await.err().expect("refused");
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("`latest` is not an id"), "{}", bad.text());
    let nobody = h.events("/api/v1/incidents/INC0000001/events", &Auth::None, None).await.err().expect("refused");
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
}

/// The console's incident page follows its own timeline from the entry it was drawn with.
async fn the_incident_page_follows_from_where_it_was_drawn(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let opened = h
        .post(
            "/api/v1/incidents".into(),
            &eng,
            json!({"short_description": "Historian backup failed", "caller": "Ana", "category": "server",
                   "impact": "low", "urgency": "medium"}),
        )
        .await;
    let cursor = opened.json()["timeline_cursor"].as_i64().unwrap();
    let session = Auth::Session(h.login("engineer", app::DEMO_PASSWORD).await);
    let page = h.get("/incidents/INC0000001", &session).await;
    assert_eq!(page.status, StatusCode::OK);
    let follow = format!("data-follow=\"/api/v1/incidents/INC0000001/events?after={cursor}\"");
    assert!(page.text().contains(&follow), "{}", page.text());
    // The session the page was drawn for may follow it.
    let mut watch = h
        .events(&format!("/api/v1/incidents/INC0000001/events?after={cursor}"), &session, None)
        .await
        .map_err(|r| r.text())
        .unwrap();
    h.post("/api/v1/incidents/INC0000001/notes".into(), &eng, json!({"text": "Tape library offline"})).await;
    assert_eq!(watch.next().await.data["text"], "Tape library offline");
}

crate::both_backends!(
    entries_arrive_as_they_are_written_and_a_reader_resumes,
    the_incident_page_follows_from_where_it_was_drawn
);
