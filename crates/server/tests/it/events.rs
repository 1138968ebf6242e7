//! Events through the real router on both backends: recorded as the syslog listener records
//! them (tied to the item by management address, else by name), listed newest first, filtered,
//! and hidden from accounts scoped to other sites.

use crate::common::{Auth, Backend, Harness};
use app::Actor;
use axum::http::{Method, StatusCode};
use jiff::tz::TimeZone;
use model::Scope;

fn syslog(line: &str, sender: &str) -> model::event::Event {
    let m = intake::syslog::parse(line.as_bytes(), 1_800_000_000_000, &TimeZone::UTC).unwrap();
    intake::classify::event(&m, sender, 1_800_000_000_000)
}

async fn events_are_tied_to_items_listed_and_scoped(backend: Backend) {
    let h = Harness::new(backend).await;
    let recorded = h
        .app
        .record_events(
            &Actor::system(),
            vec![
                // pn-core-sw1's management address in the demo estate.
                syslog(
                    "<187>Jan 15 07:59:00 core1 IOS: %LINK-3-UPDOWN: Interface Te1/1/1, changed state to down",
                    "10.20.0.2",
                ),
                // An unknown address that names a known item.
                syslog(
                    "<189>Jan 15 07:59:01 pn-core-sw2 IOS: %HSRP-5-STATECHANGE: Vlan20 Grp 1 state Standby -> Active",
                    "192.0.2.99",
                ),
                // Nobody the CMDB knows.
                syslog("<30>Jan 15 07:59:02 stranger app: hello \"quoted\" % 100_percent", "192.0.2.100"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(recorded, 3);
    let reader = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    let all = h.get("/api/v1/events", &reader).await.json();
    assert!(all.is_array(), "{all}");
    let kinds: Vec<&str> = all.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["raw", "hsrp.state", "interface"], "newest first");
    let items = |v: &serde_json::Value| v.as_array().unwrap().iter().map(|e| e["item_id"].as_i64()).collect::<Vec<_>>();
    let sw1 = h.get("/api/v1/items?q=pn-core-sw1", &reader).await.json()["items"][0]["id"].as_i64();
    let sw2 = h.get("/api/v1/items?q=pn-core-sw2", &reader).await.json()["items"][0]["id"].as_i64();
    assert_eq!(items(&all), [None, sw2, sw1]);
    assert_eq!(all[2]["occurred_at"], "2027-01-15T07:59:00Z");
    assert_eq!(all[1]["fields"]["to"], "Active");
    assert_eq!(all[0]["text"], "hello \"quoted\" % 100_percent");

    let by_item = h.get("/api/v1/events?item=pn-core-sw1", &reader).await.json();
    assert_eq!(by_item.as_array().unwrap().len(), 1);
    let words = h.get("/api/v1/events?q=100_percent", &reader).await.json();
    assert_eq!(words.as_array().unwrap().len(), 1, "LIKE wildcards in the words are literal");
    assert_eq!(h.get("/api/v1/events?q=%25%20100", &reader).await.json().as_array().unwrap().len(), 1, "every word");
    // Words are whole words in any case, or starts of words with `*`; punctuation inside a
    // word is kept as typed.
    let found = |q: &str| {
        let h = &h;
        let reader = &reader;
        let q = q.to_owned();
        async move {
            let r =
                h.get(&format!("/api/v1/events?{}", serde_urlencoded::to_string([("q", &q)]).unwrap()), reader).await;
            assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text());
            r.json().as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    assert_eq!(found("te1/1/1").await, ["interface"], "an interface name is a phrase of its parts");
    assert_eq!(found("TenGigabitEthernet1/1/1").await, ["interface"], "and is found by any of its spellings");
    assert_eq!(found("TenGigE1/1/1 down").await, ["interface"]);
    assert!(found("TenGigabitEthernet1/1/2").await.is_empty());
    assert_eq!(found("TE1").await, ["interface"]);
    assert_eq!(found("changed state").await, ["interface"]);
    assert_eq!(found("state").await, ["hsrp.state", "interface"]);
    assert!(found("Te").await.is_empty(), "part of a word is not the word");
    assert!(found("1/1/2").await.is_empty());
    assert!(found("te1.1.1").await.is_empty(), "punctuation as typed");
    assert_eq!(found("Te*").await, ["interface"], "a word that ends in * is a start");
    assert_eq!(found("stand*").await, ["hsrp.state"]);
    assert_eq!(found("Grp 1").await, ["hsrp.state"]);
    assert_eq!(found("quoted").await, ["raw"]);
    // Nothing typed is query syntax on either backend.
    for hostile in ["\"", "\"quoted\"", "NEAR(", "AND", "hello OR", "a:b", "^-", "*", "'", "(x", "x)", "é*", "\\"] {
        found(hostile).await;
    }
    assert_eq!(found("*").await.len(), 3, "a lone star is every event");
    let errors = h.get("/api/v1/events?severity=error", &reader).await.json();
    assert_eq!(errors.as_array().unwrap().len(), 1);
    for bad in [
        "/api/v1/events?severity=loud",
        "/api/v1/events?limit=0",
        "/api/v1/events?item=nothing-here",
        "/api/v1/events?colour=red",
    ] {
        assert_eq!(h.get(bad, &reader).await.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    // An account scoped to another site sees none of plant north's events (nor unknown senders').
    let admin = Auth::Session(h.login("ops-lead", app::DEMO_PASSWORD).await);
    let body = serde_json::json!({"username": "dc-tech", "role": "engineer", "password": "dc tech password 1", "sites": ["dc-east"]});
    assert_eq!(h.json(Method::POST, "/api/v1/users", &admin, body).await.status, StatusCode::CREATED);
    let dc = Auth::Bearer(h.token("dc-tech", &[Scope::Read]).await);
    assert_eq!(h.get("/api/v1/events", &dc).await.json(), serde_json::json!([]));

    // One scoped to plant north gets a full page of its events, however many newer ones it
    // may not read come after them (the scope narrows the query, not the page it returned).
    let body = serde_json::json!({"username": "pn-tech", "role": "engineer", "password": "pn tech password 1", "sites": ["plant-north"]});
    assert_eq!(h.json(Method::POST, "/api/v1/users", &admin, body).await.status, StatusCode::CREATED);
    let pn = Auth::Bearer(h.token("pn-tech", &[Scope::Read]).await);
    let strangers: Vec<_> =
        (0..3).map(|i| syslog(&format!("<30>Jan 15 08:00:0{i} stranger app: noise {i}"), "192.0.2.100")).collect();
    h.app.record_events(&Actor::system(), strangers).await.unwrap();
    let page = h.get("/api/v1/events?limit=2", &pn).await.json();
    assert_eq!(items(&page), [sw2, sw1], "{page}");
}

async fn texts(h: &Harness, reader: &Auth) -> Vec<String> {
    let all = h.get("/api/v1/events", reader).await.json();
    all.as_array().unwrap().iter().map(|e| e["text"].as_str().unwrap().to_owned()).collect()
}

/// Events are kept for the retention (90 days by default), then housekeeping deletes them —
/// except one not yet correlated, which stays until it has been.
async fn events_past_their_retention_are_deleted_once_correlated(backend: Backend) {
    let h = Harness::new(backend).await;
    let reader = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    let at = h.app.now_ms();
    let raw = |text: &str| {
        let m =
            intake::syslog::parse(format!("<30>Jan 15 07:59:02 stranger app: {text}").as_bytes(), at, &TimeZone::UTC)
                .unwrap();
        intake::classify::event(&m, "192.0.2.100", h.app.now_ms())
    };
    let link =
        syslog("<187>Jan 15 07:59:00 core1 IOS: %LINK-3-UPDOWN: Interface Te1/1/1, changed state to down", "10.20.0.2");
    h.app.record_events(&Actor::system(), vec![raw("old news"), link]).await.unwrap();
    h.advance(91 * 86_400_000);
    h.app.record_events(&Actor::system(), vec![raw("fresh news")]).await.unwrap();
    h.app.housekeeping().await.unwrap();
    let kept = texts(&h, &reader).await;
    assert!(kept.iter().any(|t| t.contains("fresh news")) && !kept.iter().any(|t| t.contains("old news")), "{kept:?}");
    assert!(kept.iter().any(|t| t.contains("Te1/1/1")), "not yet correlated, so kept: {kept:?}");
    h.app.correlate().await.unwrap();
    h.app.housekeeping().await.unwrap();
    let kept = texts(&h, &reader).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    // The deleted ones are gone from the word search too.
    let news = h.get("/api/v1/events?q=news", &reader).await.json();
    let news: Vec<&str> = news.as_array().unwrap().iter().map(|e| e["text"].as_str().unwrap()).collect();
    assert_eq!(news, ["fresh news"]);
    assert_eq!(h.get("/api/v1/events?q=Te1/1/1", &reader).await.json(), serde_json::json!([]));
}

/// RFC 3164 times name no zone: a device logging in local time is read in its site's zone
/// (the demo's plant north keeps Europe/London, an hour ahead of UTC in July); a sender the
/// CMDB does not know keeps the receiver's reading, UTC.
async fn zoneless_syslog_times_are_read_in_the_sites_zone(backend: Backend) {
    let h = Harness::new(backend).await;
    let line = |host: &str| format!("<189>Jul 15 09:00:00 {host} IOS: %SYS-5-CONFIG_I: Configured from console by ops");
    let events = vec![syslog(&line("core1"), "10.20.0.2"), syslog(&line("stranger"), "192.0.2.100")];
    h.app.record_events(&Actor::system(), events).await.unwrap();
    let reader = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    let all = h.get("/api/v1/events", &reader).await.json();
    let at: Vec<(&str, &str)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["host"].as_str().unwrap(), e["occurred_at"].as_str().unwrap()))
        .collect();
    assert_eq!(at, [("stranger", "2026-07-15T09:00:00Z"), ("core1", "2026-07-15T08:00:00Z")], "{all}");
    assert_eq!(all[1]["fields"]["timestamp"], "no zone; read in Europe/London");
}

crate::both_backends!(
    events_past_their_retention_are_deleted_once_correlated,
    events_are_tied_to_items_listed_and_scoped,
    zoneless_syslog_times_are_read_in_the_sites_zone
);
