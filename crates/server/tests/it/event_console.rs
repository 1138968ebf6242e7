//! The live event console: `GET /api/v1/events/stream` sends each stored event that passes
//! the filter as a server-sent event, and a selection of events is acknowledged, silenced or
//! made into an incident — through the API and through the console page's form.

use crate::common::{Auth, Backend, Harness};
use app::Actor;
use axum::http::StatusCode;
use jiff::tz::TimeZone;
use model::Scope;
use serde_json::{Value, json};
use std::time::Duration;

fn syslog(line: &str, sender: &str) -> model::event::Event {
    let m = intake::syslog::parse(line.as_bytes(), 1_800_000_000_000, &TimeZone::UTC).unwrap();
    intake::classify::event(&m, sender, 1_800_000_000_000)
}

fn link_down(port: &str, sender: &str) -> model::event::Event {
    syslog(&format!("<187>Jan 15 07:59:00 sw IOS: %LINK-3-UPDOWN: Interface {port}, changed state to down"), sender)
}

async fn record(h: &Harness, events: Vec<model::event::Event>) {
    h.app.record_events(&Actor::system(), events).await.unwrap();
}

/// The newest event of the list that passes `query`.
async fn newest(h: &Harness, auth: &Auth, query: &str) -> Value {
    h.get(&format!("/api/v1/events?limit=1&{query}"), auth).await.json()[0].clone()
}

async fn the_console_follows_its_filter_and_acts_on_a_selection(backend: Backend) {
    let h = Harness::new(backend).await;
    let viewer = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    // pn-core-sw1 is 10.20.0.2 in the demo estate; 192.0.2.100 is nobody the CMDB knows.
    record(&h, vec![link_down("Te1/1/1", "10.20.0.2")]).await;
    let first = newest(&h, &viewer, "").await;

    // Following interface events: by default only what comes next, and only what passes.
    let mut watch =
        h.events("/api/v1/events/stream?kind=interface", &viewer, None).await.map_err(|r| r.text()).unwrap();
    assert!(watch.headers["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    assert!(watch.next_within(Duration::from_millis(1500)).await.is_none(), "nothing new, nothing sent");
    record(
        &h,
        vec![
            syslog("<30>Jan 15 07:59:02 stranger app: backup finished", "192.0.2.100"),
            link_down("Gi0/5", "192.0.2.100"),
        ],
    )
    .await;
    let sent = watch.next().await;
    assert_eq!(sent.event, "event");
    assert_eq!((sent.data["kind"].as_str(), sent.data["object"].as_str()), (Some("interface"), Some("Gi0/5")));
    assert_eq!(sent.id, sent.data["id"].as_i64().unwrap().to_string());
    assert!(watch.next_within(Duration::from_millis(1500)).await.is_none(), "the raw message is filtered out");
    // From an id on (a reconnecting browser): what followed it, oldest first.
    let mut again = h
        .events("/api/v1/events/stream?kind=interface", &viewer, Some(&first["id"].to_string()))
        .await
        .map_err(|r| r.text())
        .unwrap();
    assert_eq!(again.next().await.id, sent.id);
    let refused = h.events("/api/v1/events/stream?severity=loud", &viewer, None).await.err().expect("refused");
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);

    h.app.correlate().await.unwrap();
    let core = newest(&h, &viewer, "sender=10.20.0.2").await;
    let stray = newest(&h, &viewer, "sender=192.0.2.100&kind=interface").await;
    let raw = newest(&h, &viewer, "sender=192.0.2.100&kind=raw").await;
    let (core_id, stray_id, raw_id) =
        (core["id"].as_i64().unwrap(), stray["id"].as_i64().unwrap(), raw["id"].as_i64().unwrap());

    // Acknowledge: the alarm the event raised; a raw message raised none.
    let sel = |events: Vec<i64>| json!({"events": events});
    let ack = h.post("/api/v1/events/acknowledge".into(), &eng, sel(vec![core_id])).await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text());
    assert_eq!(ack.json()["acknowledged"], 1);
    let alarm = h.get(&format!("/api/v1/alarms/{}", core["alarm_id"]), &viewer).await.json();
    assert_eq!(alarm["acknowledged_by"], "engineer");
    let none = h.post("/api/v1/events/acknowledge".into(), &eng, sel(vec![raw_id])).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", none.text());
    assert_eq!(
        h.post("/api/v1/events/acknowledge".into(), &viewer, sel(vec![core_id])).await.status,
        StatusCode::FORBIDDEN
    );
    let missing = h.post("/api/v1/events/acknowledge".into(), &eng, sel(vec![core_id, 999_999])).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text());

    // Silence: one per item (or sender) and kind, with the object; a reason is required.
    let silence = |events: Vec<i64>, comment: &str| json!({"events": events, "hours": 4, "comment": comment});
    let unexplained = h.post("/api/v1/events/silence".into(), &eng, silence(vec![core_id], " ")).await;
    assert_eq!(unexplained.status, StatusCode::UNPROCESSABLE_ENTITY);
    let set = h.post("/api/v1/events/silence".into(), &eng, silence(vec![core_id, stray_id], "RMA swap")).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    assert_eq!(set.json()["silences"].as_array().map(Vec::len), Some(2));
    let silences = h.get("/api/v2/silences", &viewer).await.json();
    let matchers: Vec<String> = silences
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let ms = s["matchers"].as_array().unwrap().iter();
            ms.map(|m| format!("{}={}", m["name"].as_str().unwrap(), m["value"].as_str().unwrap()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    assert!(
        matchers.contains(&"item=pn-core-sw1,site=plant-north,kind=interface,object=Te1/1/1".to_owned()),
        "{matchers:?}"
    );
    assert!(matchers.contains(&"sender=192.0.2.100,kind=interface,object=Gi0/5".to_owned()), "{matchers:?}");

    // An incident from the stray switch's events, which correlation could not place: the
    // worst event names it, and its alarm now feeds it.
    let opened = h.post("/api/v1/events/incident".into(), &eng, sel(vec![raw_id, stray_id])).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text());
    let incident = opened.json();
    let number = incident["number"].as_str().unwrap().to_owned();
    assert!(incident["short_description"].as_str().unwrap().starts_with("192.0.2.100: "), "{incident}");
    assert!(incident["description"].as_str().unwrap().contains(&format!("event {stray_id} ")), "{incident}");
    let alarm = h.get(&format!("/api/v1/alarms/{}", stray["alarm_id"]), &viewer).await.json();
    assert_eq!(alarm["incident"].as_str(), Some(number.as_str()), "{alarm}");
    let operator = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    assert_eq!(
        h.post("/api/v1/events/incident".into(), &operator, sel(vec![raw_id])).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn the_console_page_lists_follows_and_opens_an_incident(backend: Backend) {
    let h = Harness::new(backend).await;
    record(&h, vec![link_down("Gi0/7", "192.0.2.100"), link_down("Te1/1/1", "10.20.0.2")]).await;
    let lead = Auth::Session(h.login("ops-lead", app::DEMO_PASSWORD).await);
    let page = h.get("/events?item=pn-core-sw1", &lead).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Te1/1/1") && !html.contains("Gi0/7"), "the filter holds: {html}");
    assert!(html.contains("data-live=\"/api/v1/events/stream?item=pn-core-sw1&amp;after="), "{html}");
    assert_eq!(h.get("/events?severity=loud", &lead).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let viewer = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    let id = newest(&h, &viewer, "sender=192.0.2.100").await["id"].as_i64().unwrap().to_string();
    let made = h
        .form(
            "/events/action",
            &lead,
            &[("event", &id), ("action", "incident"), ("short_description", "Unknown switch flapping"), ("back", "")],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text());
    assert!(made.location().starts_with("/incidents/INC"), "{}", made.location());
    let nothing = h.form("/events/action", &lead, &[("action", "ack"), ("back", "item=pn-core-sw1")]).await;
    assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nothing.text().contains("select at least one event"));
}

/// PostgreSQL gives an event its id at insert, not at commit: transactions writing events take
/// turns, so one that started later waits for the earlier one's commit, and the console (which
/// follows ids) sends both, in order, each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_become_visible_in_the_order_of_their_ids() {
    let h = Harness::new(Backend::Postgres).await;
    let viewer = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    record(&h, vec![link_down("Te1/1/1", "192.0.2.100")]).await;
    let mut watch =
        h.events("/api/v1/events/stream?kind=interface", &viewer, None).await.map_err(|r| r.text()).unwrap();
    // A long transaction (an alert fold, say) has written its event and not committed yet.
    let mut slow = h.app.store().begin().await.unwrap();
    let early = store::EventRow {
        id: 0,
        received_at_ms: h.app.now_ms(),
        occurred_at_ms: None,
        source: "syslog".into(),
        sender: "192.0.2.100".into(),
        host: String::new(),
        item_id: None,
        kind: "interface".into(),
        object: "Gi0/5".into(),
        up: Some(false),
        severity: 3,
        mnemonic: "LINK-3-UPDOWN".into(),
        text: "Interface Gi0/5, changed state to down".into(),
        fields: "{}".into(),
        alarm_id: None,
        pending: false,
        incident_number: None,
    };
    slow.insert_events(&[early]).await.unwrap();
    // Another writer's event waits for it rather than becoming visible first.
    let app = h.app.clone();
    let later = tokio::spawn(async move {
        app.record_events(&app::Actor::system(), vec![link_down("Gi0/6", "192.0.2.100")]).await.unwrap();
    });
    assert!(watch.next_within(Duration::from_millis(1500)).await.is_none(), "nothing visible yet");
    assert!(!later.is_finished(), "the later writer waits for the earlier commit");
    slow.commit().await.unwrap();
    later.await.unwrap();
    let first = watch.next().await;
    let second = watch.next().await;
    assert_eq!((first.data["object"].as_str(), second.data["object"].as_str()), (Some("Gi0/5"), Some("Gi0/6")));
    assert!(first.data["id"].as_i64() < second.data["id"].as_i64());
    assert!(watch.next_within(Duration::from_millis(1500)).await.is_none(), "each event once");
}

crate::both_backends!(
    the_console_follows_its_filter_and_acts_on_a_selection,
    the_console_page_lists_follows_and_opens_an_incident
);
