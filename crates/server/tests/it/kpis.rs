//! The desk's KPIs from the roll-ups, with exact figures for a known day's work; full-text
//! search over incidents (nothing a user types is query syntax) and the queues.

use crate::common::{Auth, Backend, Harness};
use axum::http::{Method, StatusCode};
use model::Scope;
use serde_json::{Value, json};

const MIN: i64 = 60_000;

async fn open(h: &Harness, auth: &Auth, what: &str, item: &str, impact: &str) -> String {
    let r = h
        .json(
            Method::POST,
            "/api/v1/incidents",
            auth,
            json!({"short_description": what, "caller": "Control room",
            "category": "network", "item": item, "impact": impact, "urgency": "medium"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["number"].as_str().unwrap().to_owned()
}

async fn kpis_read_a_days_work_exactly(backend: Backend) {
    let h = Harness::new(backend).await;
    let op = Auth::Bearer(h.token("operator", &[Scope::Write, Scope::Read]).await);
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write, Scope::Read]).await);
    let h = &h;
    let go = |n: String, auth: Auth, body: Value| async move {
        h.post(format!("/api/v1/incidents/{n}/state"), &auth, body).await
    };
    let fixed = json!({"state": "resolved", "resolution_code": "fixed", "resolution_notes": "done"});
    // 08:00 — three incidents. The operator fixes the first on the spot in 10 minutes.
    let a = open(h, &op, "HMI 3 password locked", "pn-vtc-control", "low").await;
    let b = open(h, &op, "pn-core-sw1 uplink flapping", "pn-core-sw1", "medium").await;
    let c = open(h, &op, "pn-core-sw1 fan tray alarm", "pn-core-sw1", "low").await;
    h.advance(10 * MIN);
    assert_eq!(go(a.clone(), op.clone(), fixed.clone()).await.status, StatusCode::OK);
    // 08:30 — the engineer takes the second; resolves it at 10:00.
    h.advance(20 * MIN);
    go(b.clone(), eng.clone(), json!({"state": "in-progress"})).await;
    h.advance(90 * MIN);
    go(b.clone(), eng.clone(), fixed.clone()).await;
    // The requester of the first is very satisfied.
    let r =
        h.post(format!("/api/v1/incidents/{a}/verification"), &op, json!({"accepted": true, "satisfaction": 5})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Read]).await);
    let k = h.get("/api/v1/kpis?days=7", &admin).await.json();
    let t = &k["totals"];
    assert_eq!((t["opened"].as_i64(), t["resolved"].as_i64()), (Some(3), Some(2)));
    // Acknowledged at 10 and 30 minutes: 20 on average; resolved at 10 and 120 minutes: 65.
    assert_eq!((t["mtta_minutes"].as_f64(), t["mttr_minutes"].as_f64()), (Some(20.0), Some(65.0)));
    assert_eq!(t["first_contact_resolution"].as_f64(), Some(50.0), "the operator's own, not the engineer's");
    assert_eq!(t["sla_compliance"].as_f64(), Some(100.0));
    assert_eq!(t["satisfaction"].as_f64(), Some(5.0));
    assert_eq!(k["days"].as_array().unwrap().len(), 7);
    assert_eq!(k["days"][6], json!({"day": "2027-01-15", "opened": 3, "resolved": 2, "breached": 0}));
    assert_eq!(k["backlog"][0]["open"], 1, "the fan tray alarm, open under a day: {}", k["backlog"]);
    assert_eq!(k["top_items"][0], json!({"name": "pn-core-sw1", "incidents": 2}));
    assert!(
        k["top_services"].as_array().unwrap().iter().any(|s| s["name"] == "svc-northfield-treatment"),
        "{}",
        k["top_services"]
    );
    assert_eq!(h.get("/api/v1/kpis?days=0", &admin).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let vendor = Auth::Bearer(h.token("vendor-siemens", &[Scope::Read]).await);
    assert_eq!(h.get("/api/v1/kpis", &vendor).await.status, StatusCode::FORBIDDEN, "not the estate's figures");
    let _ = c;

    // The dashboard shows them; the site-scoped vendor's dashboard does not.
    let session = Auth::Session(h.login("ops-lead", app::DEMO_PASSWORD).await);
    let dash = h.get("/", &session).await.text();
    assert!(
        dash.contains("kpi-mtta\">20 min") && dash.contains("kpi-mttr\">65 min") && dash.contains("kpi-fcr\">50 %"),
        "{dash}"
    );
    assert!(dash.contains("Incidents opened and resolved per day"), "the trend chart");
    let vendor_session = Auth::Session(h.login("vendor-siemens", app::DEMO_PASSWORD).await);
    assert!(!h.get("/", &vendor_session).await.text().contains("The desk, last 30 days"));
}

async fn search_finds_words_and_ignores_query_syntax(backend: Backend) {
    let h = Harness::new(backend).await;
    let op = Auth::Bearer(h.token("operator", &[Scope::Write, Scope::Read]).await);
    let a = open(&h, &op, "pn-core-sw1 uplink Te1/1 flapping", "pn-core-sw1", "medium").await;
    let b = open(&h, &op, "Historian replication lagging", "pn-historian", "low").await;
    let numbers = |v: Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|i| i["number"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(numbers(h.get("/api/v1/incidents?q=flapping", &op).await.json()), std::slice::from_ref(&a));
    assert_eq!(
        numbers(h.get("/api/v1/incidents?q=replic", &op).await.json()),
        std::slice::from_ref(&b),
        "the last word is a prefix"
    );
    assert_eq!(
        numbers(h.get("/api/v1/incidents?q=core%20sw1", &op).await.json()),
        std::slice::from_ref(&a),
        "host names split as they were indexed"
    );
    assert_eq!(
        numbers(h.get(&format!("/api/v1/incidents?q={b}"), &op).await.json()),
        std::slice::from_ref(&b),
        "by number"
    );
    assert!(
        numbers(h.get("/api/v1/incidents?q=flapping%20historian", &op).await.json()).is_empty(),
        "every word is required"
    );
    // Query syntax is just text.
    for nasty in ["%22core*%20OR%20(", "NEAR(a%20b)", "a%26b%7C!c", "x%27%3B--", "col:value"] {
        let r = h.get(&format!("/api/v1/incidents?q={nasty}"), &op).await;
        assert_eq!(r.status, StatusCode::OK, "{nasty}: {}", r.text());
    }
    assert_eq!(h.get("/api/v1/incidents?q=%20%2B%2B", &op).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Resolution notes are searched too, and closed incidents are found in the `all` queue.
    let done =
        json!({"state": "resolved", "resolution_code": "fixed", "resolution_notes": "SFP optic replaced on Te1/1"});
    assert_eq!(h.post(format!("/api/v1/incidents/{a}/state"), &op, done).await.status, StatusCode::OK);
    assert!(numbers(h.get("/api/v1/incidents?q=optic", &op).await.json()).is_empty(), "not open any more");
    assert_eq!(numbers(h.get("/api/v1/incidents?queue=all&q=optic", &op).await.json()), std::slice::from_ref(&a));
    // Queues.
    assert_eq!(numbers(h.get("/api/v1/incidents?queue=unassigned", &op).await.json()), std::slice::from_ref(&b));
    assert!(numbers(h.get("/api/v1/incidents?queue=mine", &op).await.json()).is_empty());
    assert_eq!(h.get("/api/v1/incidents?queue=everything", &op).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The vendor finds only what is at their site.
    let vendor = Auth::Bearer(h.token("vendor-siemens", &[Scope::Read]).await);
    let dc = open(&h, &op, "dc-fw1 historian rule hit", "dc-fw1", "low").await;
    let all = numbers(h.get("/api/v1/incidents?q=historian", &op).await.json());
    assert!(all.contains(&dc) && all.contains(&b), "{all:?}");
    assert_eq!(numbers(h.get("/api/v1/incidents?q=historian", &vendor).await.json()), std::slice::from_ref(&b));
    // The console's search box.
    let session = Auth::Session(h.login("operator", app::DEMO_PASSWORD).await);
    let page = h.get("/incidents?q=historian", &session).await.text();
    assert!(page.contains(&b) && page.contains(&dc) && !page.contains(&format!(">{a}<")), "{page}");
}

/// "My groups": incidents assigned to any of the account's groups, which a user
/// administrator sets (the demo puts the engineer in L2 and L3 network).
async fn my_groups_holds_what_my_groups_were_given(backend: Backend) {
    let h = Harness::new(backend).await;
    let op = Auth::Bearer(h.token("operator", &[Scope::Write, Scope::Read]).await);
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write, Scope::Read]).await);
    let mut numbers = Vec::new();
    for group in ["L3 network", "L3 security", "Service desk"] {
        let r = h
            .json(
                Method::POST,
                "/api/v1/incidents",
                &op,
                json!({"short_description": format!("for {group}"), "caller": "NOC",
                "category": "network", "impact": "low", "urgency": "low", "assignment_group": group}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        numbers.push(r.json()["number"].as_str().unwrap().to_owned());
    }
    let queue = |auth: &Auth| {
        let auth = auth.clone();
        let h = &h;
        async move {
            let v = h.get("/api/v1/incidents?queue=my-groups", &auth).await.json();
            v.as_array()
                .unwrap_or_else(|| panic!("{v}"))
                .iter()
                .map(|i| i["number"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(queue(&eng).await, [numbers[0].clone()]);
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Admin, Scope::Read]).await);
    assert_eq!(h.get("/api/v1/users/engineer/groups", &admin).await.json()["groups"], json!(["L2", "L3 network"]));
    let r = h
        .json(
            Method::PUT,
            "/api/v1/users/engineer/groups",
            &admin,
            json!({"groups": ["L3 security", " L3 network ", "L3 security"]}),
        )
        .await;
    assert_eq!(r.json()["groups"], json!(["L3 network", "L3 security"]), "{}", r.text());
    assert_eq!(queue(&eng).await, [numbers[0].clone(), numbers[1].clone()]);
    assert_eq!(
        h.json(Method::PUT, "/api/v1/users/engineer/groups", &eng, json!({"groups": []})).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        h.get("/api/v1/users/ops-lead/groups", &eng).await.status,
        StatusCode::FORBIDDEN,
        "others' groups are the admins'"
    );
    let session = Auth::Session(h.login("engineer", app::DEMO_PASSWORD).await);
    let page = h.get("/incidents?queue=my-groups", &session).await.text();
    assert!(page.contains(&numbers[1]) && !page.contains(&numbers[2]), "{page}");
}

crate::both_backends!(
    kpis_read_a_days_work_exactly,
    search_finds_words_and_ignores_query_syntax,
    my_groups_holds_what_my_groups_were_given,
);
