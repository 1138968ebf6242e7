//! Saved filters: a named view of the incident queue, kept per account or shared, applied by
//! following its link; checked like the queue's own parameters, audited, and deletable only
//! by its owner (or, when shared, by a user administrator).

use crate::common::{Auth, Backend, Harness};
use axum::http::{Method, StatusCode};
use model::Scope;
use serde_json::json;

async fn open(h: &Harness, auth: &Auth, what: &str, category: &str, impact: &str) {
    let r = h
        .post(
            "/api/v1/incidents".into(),
            auth,
            json!({"short_description": what, "caller": "Control room", "category": category,
                   "impact": impact, "urgency": "high"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

async fn filters_are_saved_shared_applied_and_deleted(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    open(&h, &eng, "Core switch down", "network", "high").await; // P1
    open(&h, &eng, "Firewall cluster split-brain", "security", "high").await; // P1
    open(&h, &eng, "Access switch port errors", "network", "low").await; // P3

    let saved = h
        .post(
            "/api/v1/saved-filters".into(),
            &eng,
            json!({"name": "P1 network", "query": "category=network&priority=P1", "shared": true}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let f = saved.json();
    // Kept in one canonical order, the queue named.
    assert_eq!(f["query"], "queue=open&priority=1&category=network");
    assert_eq!((f["owner"].as_str(), f["shared"].as_bool()), (Some("engineer"), Some(true)));
    let id = f["id"].as_i64().unwrap();
    // Following it lists what it says.
    let listed = h.get(&format!("/api/v1/incidents?{}", f["query"].as_str().unwrap()), &eng).await.json();
    let shown: Vec<&str> =
        listed.as_array().unwrap().iter().map(|i| i["short_description"].as_str().unwrap()).collect();
    assert_eq!(shown, ["Core switch down"]);

    // A private one beside it; saving under the same name replaces it.
    let mine = json!({"name": "my security", "query": "queue=mine&category=security"});
    assert_eq!(h.post("/api/v1/saved-filters".into(), &eng, mine).await.status, StatusCode::OK);
    let again = h
        .post("/api/v1/saved-filters".into(), &eng, json!({"name": "my security", "query": "category=security"}))
        .await;
    assert_eq!(again.json()["query"], "queue=open&category=security");
    let own = h.get("/api/v1/saved-filters", &eng).await.json();
    let names: Vec<&str> = own.as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["my security", "P1 network"]);

    // Others see the shared one only.
    let op = Auth::Bearer(h.token("operator", &[Scope::Write]).await);
    let theirs = h.get("/api/v1/saved-filters", &op).await.json();
    let names: Vec<&str> = theirs.as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["P1 network"]);

    // Mistakes are named by field; a viewer keeps views but cannot share them; a read-only token changes nothing.
    for (body, field) in [
        (json!({"name": "x", "query": "priority=7"}), "query.priority"),
        (json!({"name": "x", "query": "queue=everything"}), "query.queue"),
        (json!({"name": "x", "query": "limit=5"}), "query.limit"),
        (json!({"name": "x", "query": "category=plumbing"}), "query.category"),
        (json!({"name": "  ", "query": "queue=open"}), "name"),
    ] {
        let r = h.post("/api/v1/saved-filters".into(), &eng, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text());
        assert!(r.json()["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{body}: {}", r.text());
    }
    let viewer = Auth::Bearer(h.token("viewer", &[Scope::Write]).await);
    let private =
        h.post("/api/v1/saved-filters".into(), &viewer, json!({"name": "majors", "query": "queue=major"})).await;
    assert_eq!(private.status, StatusCode::OK, "{}", private.text());
    let share = h
        .post("/api/v1/saved-filters".into(), &viewer, json!({"name": "all", "query": "queue=all", "shared": true}))
        .await;
    assert_eq!(share.status, StatusCode::FORBIDDEN);
    let read_only = Auth::Bearer(h.token("engineer", &[Scope::Read]).await);
    let r = h.post("/api/v1/saved-filters".into(), &read_only, json!({"name": "y", "query": "queue=open"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Deleting: not someone else's private one (not even seen), not their shared one unless a user administrator.
    let viewer_own = private.json()["id"].as_i64().unwrap();
    let delete = |id: i64, auth: &Auth| {
        let req = auth
            .apply(axum::http::Request::builder().method(Method::DELETE).uri(format!("/api/v1/saved-filters/{id}")));
        h.send(req.body(axum::body::Body::empty()).unwrap())
    };
    assert_eq!(delete(viewer_own, &op).await.status, StatusCode::NOT_FOUND);
    assert_eq!(delete(id, &op).await.status, StatusCode::FORBIDDEN);
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Admin, Scope::Write]).await);
    assert_eq!(delete(id, &admin).await.status, StatusCode::NO_CONTENT);
    assert_eq!(delete(viewer_own, &viewer).await.status, StatusCode::NO_CONTENT);
    assert_eq!(delete(viewer_own, &viewer).await.status, StatusCode::NOT_FOUND);

    // Every save and delete is in the audit log, with what it was.
    let auditor = Auth::Session(h.login("auditor", app::DEMO_PASSWORD).await);
    let log = h
        .get("/api/v1/audit?target_id=engineer/P1 network&sort=seq".replace(' ', "%20").as_str(), &auditor)
        .await
        .json();
    let actions: Vec<(&str, &str)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(actions, [("filter.save", "engineer"), ("filter.delete", "ops-lead")]);
}

/// On the queue page: the filter controls narrow the queue, "save view" keeps it, and the
/// saved view shows as a chip that is marked while it is the view shown.
async fn the_queue_page_filters_and_saves_views(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    open(&h, &eng, "Core switch down", "network", "high").await;
    open(&h, &eng, "Access switch port errors", "network", "low").await;
    let session = Auth::Session(h.login("engineer", app::DEMO_PASSWORD).await);
    let page = h.get("/incidents?queue=open&priority=1&category=network&group=", &session).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(text.contains("Core switch down") && !text.contains("Access switch port errors"), "{text}");
    assert!(text.contains(r#"name="query" value="queue=open&#38;priority=1&#38;category=network""#), "{text}");
    let saved = h
        .form(
            "/incidents/filters",
            &session,
            &[("name", "P1 network"), ("query", "queue=open&priority=1&category=network")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    assert_eq!(saved.location(), "/incidents?queue=open&priority=1&category=network");
    let page = h.get(saved.location(), &session).await.text();
    assert!(page.contains(r#"<span class="chip on"><a href="/incidents?queue=open&#38;priority=1&#38;category=network" aria-current="page">P1 network</a>"#), "{page}");
    // A bad parameter is said on the page, not a blank queue.
    let bad = h.get("/incidents?priority=9", &session).await;
    assert!(bad.text().contains("priority: 1 to 5"), "{}", bad.text());
    let unnamed = h.form("/incidents/filters", &session, &[("name", ""), ("query", "queue=open")]).await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unnamed.text().contains("name: required"), "{}", unnamed.text());
}

crate::both_backends!(filters_are_saved_shared_applied_and_deleted, the_queue_page_filters_and_saves_views);
