//! Resources and conventions: site scoping, the list convention, the OpenAPI document,
//! metrics and health, schema versions, backup and restore, console pages.

use crate::common::{Auth, Backend, Harness};
use axum::http::StatusCode;
use model::Scope;
use server::access::Access;
use server::routes::table;

async fn site_scoped_users_see_only_their_sites(backend: Backend) {
    let h = Harness::new(backend).await;
    let vendor = Auth::Session(h.login("vendor-siemens", app::DEMO_PASSWORD).await);
    let items = h.get("/api/v1/items?limit=500", &vendor).await.json();
    let sites: std::collections::BTreeSet<&str> =
        items["items"].as_array().unwrap().iter().map(|i| i["site"].as_str().unwrap()).collect();
    assert_eq!(sites.into_iter().collect::<Vec<_>>(), ["plant-north"]);
    let asked = h.get("/api/v1/items?site=dc-east", &vendor).await.json();
    assert_eq!(asked["total"], 0, "filtering cannot widen the scope");
    let all_sites = h.get("/api/v1/sites", &vendor).await.json();
    assert_eq!(all_sites["total"], 1);
    let dash = h.get("/", &vendor).await.text();
    assert!(dash.contains("Northfield") && !dash.contains("Eastgate"), "dashboard is scoped");
    let engineer = Auth::Bearer(h.token("engineer", &[Scope::Read]).await);
    assert_eq!(h.get("/api/v1/sites", &engineer).await.json()["total"], 3);
}

async fn lists_filter_sort_and_page_one_way(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("engineer", &[Scope::Read]).await);
    let page1 = h.get("/api/v1/items?limit=5&sort=-name", &t).await.json();
    let page2 = h.get("/api/v1/items?limit=5&offset=5&sort=-name", &t).await.json();
    assert_eq!(page1["limit"], 5);
    assert_eq!(page1["total"], page2["total"]);
    let names: Vec<String> = page1["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(page2["items"].as_array().unwrap())
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(names, sorted, "descending by name across pages");
    assert_eq!(names.len(), 10);
    let fw = h.get("/api/v1/items?class=firewall&vendor=Palo%20Alto%20Networks", &t).await.json();
    assert_eq!(fw["total"], 2);
    let search = h.get("/api/v1/items?q=SCADA-0", &t).await.json();
    assert_eq!(search["total"], 3, "case-insensitive search");
    let family = h.get("/api/v1/items?class=network-device&site=plant-south&limit=500", &t).await.json();
    let classes: std::collections::BTreeSet<&str> =
        family["items"].as_array().unwrap().iter().map(|i| i["class"].as_str().unwrap()).collect();
    assert_eq!(
        classes.into_iter().collect::<Vec<_>>(),
        ["firewall", "router", "switch"],
        "a family filters by its members"
    );
    let pct = h.get("/api/v1/items?q=%25", &t).await.json();
    assert_eq!(pct["total"], 0, "LIKE wildcards in the search text are literal");
}

async fn openapi_describes_every_api_route(backend: Backend) {
    let h = Harness::new(backend).await;
    let doc = h.get("/api/openapi.json", &Auth::None).await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for route in table().iter().filter(|r| r.path.starts_with("/api/v1/") || r.path == "/healthz") {
        let method = route.verb.method().as_str().to_lowercase();
        assert!(
            doc["paths"][route.path][&method].is_object(),
            "{method} {} is routed but missing from openapi.json",
            route.path
        );
        if let Access::Needs(_) = route.access {
            let responses = &doc["paths"][route.path][&method]["responses"];
            assert!(responses.is_object());
        }
    }
    let page = h.get("/api", &Auth::None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("/api/v1/users") && page.text().contains("the `user-admin` permission"));
}

async fn metrics_and_health(backend: Backend) {
    let h = Harness::new(backend).await;
    assert_eq!(h.get("/healthz", &Auth::None).await.json()["status"], "ok");
    assert_eq!(h.get("/readyz", &Auth::None).await.status, StatusCode::OK);
    let t = Auth::Bearer(h.token("auditor", &[Scope::Metrics]).await);
    h.get("/api/v1/me", &Auth::None).await;
    let m = h.get("/metrics", &t).await;
    assert_eq!(m.status, StatusCode::OK);
    let text = m.text();
    for series in [
        "watchkeeper_http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"401\"} 1",
        "watchkeeper_http_request_duration_seconds_bucket{",
        "watchkeeper_db_pool_connections ",
        "watchkeeper_build_info{",
        "watchkeeper_audit_records ",
    ] {
        assert!(text.contains(series), "missing {series} in\n{text}");
    }
}

async fn a_newer_schema_is_refused(backend: Backend) {
    let h = Harness::new(backend).await;
    h.raw_sql(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         VALUES (999999, 'from the future', CURRENT_TIMESTAMP, TRUE, X'00', 0)"
            .replace("X'00'", if matches!(backend, Backend::Postgres) { "'\\x00'::bytea" } else { "X'00'" })
            .as_str(),
    )
    .await;
    let err = store::Store::open(&h.location).await.expect_err("refuses");
    let msg = err.to_string();
    assert!(msg.contains("999999") && msg.contains("newer than this Watchkeeper knows"), "{msg}");
}

async fn creating_users_in_the_console_keeps_what_was_typed(backend: Backend) {
    let h = Harness::new(backend).await;
    let s = Auth::Session(h.login("ops-lead", app::DEMO_PASSWORD).await);
    let r = h
        .form(
            "/admin/users",
            &s,
            &[("username", "Bad Name"), ("display_name", "Pat Vendor"), ("role", "viewer"), ("password", "short")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("value=\"Pat Vendor\""), "the form keeps what was typed");
    assert!(html.contains("use at least 12 characters") && html.contains("lower-case letters"));
    let r = h
        .form(
            "/admin/users",
            &s,
            &[
                ("username", "pat"),
                ("role", "engineer"),
                ("password", "a long enough one"),
                ("sites", "plant-north"),
                ("expires", "2031-05-01"),
            ],
        )
        .await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/users?created=pat"));
    let u = h.app.store().user_by_name("pat").await.unwrap().unwrap().user;
    assert_eq!(u.sites, ["plant-north"]);
    assert!(u.expires_at_ms.is_some());
    let list = h.get("/admin/users?created=pat&q=pat", &s).await.text();
    assert!(list.contains("Account `pat` created."));
}

async fn console_pages_render_for_their_roles(backend: Backend) {
    let h = Harness::new(backend).await;
    let op = Auth::Session(h.login("operator", app::DEMO_PASSWORD).await);
    let dash = h.get("/", &op).await;
    assert_eq!(dash.status, StatusCode::OK);
    let html = dash.text();
    assert!(html.contains("Configuration items by class") && html.contains("<svg"));
    assert!(!html.contains("href=\"/admin/users\""), "no admin link for an operator");
    let cmdb = h.get("/cmdb?class=firewall&sort=-name", &op).await.text();
    assert!(cmdb.contains("pn-fw2") && !cmdb.contains("dc-esx-01"));
    let denied = h.get("/admin/users", &op).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let tokens = h.form("/tokens", &op, &[("name", "my-script"), ("scopes", "read")]).await;
    assert_eq!(tokens.status, StatusCode::OK);
    assert!(tokens.text().contains("Copy this token now"));
    assert_eq!(tokens.headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(h.get("/assets/app.css", &Auth::None).await.status, StatusCode::OK);
    assert_eq!(h.get("/nowhere", &op).await.status, StatusCode::NOT_FOUND);
    let fw = h.get("/api/v1/items?q=pn-fw1", &op).await.json()["items"][0]["id"].as_i64().unwrap();
    let page = h.get(&format!("/cmdb/items/{fw}"), &op).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("PA-3410") && html.contains("If it fails") && html.contains("svc-vendor-remote-access"),
        "{html}"
    );
    assert!(html.contains("<svg class=\"depmap\"") && html.contains("href=\"/cmdb/items/"), "the map links to items");
    let old = h.get(&format!("/cmdb/items/{fw}?as_of=2020-01-01"), &op).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND, "the item did not exist yet");
    let then = h.get(&format!("/cmdb/items/{fw}?as_of=2030-01-01"), &op).await.text();
    assert!(then.contains("as it was at the end of 2030-01-01 (version 1)"));
    let risk = h.get("/cmdb/risk", &op).await.text();
    assert!(risk.contains("Single points of failure") && risk.contains("pn-ups-1"), "{risk}");
    assert!(risk.contains("aria-label=\"Items reaching end of support, by year\""), "the lifecycle chart");
    assert!(risk.contains("href=\"/cmdb/risk?within_months=12#ageing\""), "2027's bar opens the year: {risk}");
    let admin = Auth::Session(h.login("ops-lead", app::DEMO_PASSWORD).await);
    for path in ["/admin/users/%FF%FE/disable", "/tokens/%C3%28/revoke", "/tokens/twelve/revoke"] {
        let r = h.form(path, &admin, &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.content_type().starts_with("text/html"), "{path}: {}", r.content_type());
    }
}

crate::both_backends!(
    site_scoped_users_see_only_their_sites,
    lists_filter_sort_and_page_one_way,
    openapi_describes_every_api_route,
    metrics_and_health,
    a_newer_schema_is_refused,
    creating_users_in_the_console_keeps_what_was_typed,
    console_pages_render_for_their_roles,
);

#[tokio::test]
async fn backup_and_restore_round_trip_online() {
    let h = Harness::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wk.bak");
    h.app.store().backup_to(&file).await.unwrap();
    assert!(h.app.store().backup_to(&file).await.is_err(), "never overwrites a backup");
    h.token("viewer", &[Scope::Read]).await;
    let users_before = h.app.store().count_users().await.unwrap();
    h.add_viewer("after-backup").await;
    let rows = h.app.store().restore_from(&file).await.unwrap();
    assert!(rows > 30);
    assert_eq!(h.app.store().count_users().await.unwrap(), users_before, "the backup's users");
    assert!(h.app.store().user_by_name("after-backup").await.unwrap().is_none());
    assert!(h.app.audit_verify(|_, _| {}).await.unwrap().is_ok(), "restored chain verifies");
    let not_a_backup = dir.path().join("junk");
    std::fs::write(&not_a_backup, b"not sqlite").unwrap();
    assert!(h.app.store().restore_from(&not_a_backup).await.is_err());
    assert_eq!(h.app.store().count_users().await.unwrap(), users_before, "a failed restore changes nothing");
}

#[tokio::test]
async fn the_same_request_answers_alike_on_both_backends() {
    // The two backends run the same SQL; a sample of answers must match exactly.
    let a = Harness::new(Backend::Sqlite).await;
    let b = Harness::new(Backend::Postgres).await;
    let ta = Auth::Bearer(a.token("engineer", &[Scope::Read]).await);
    let tb = Auth::Bearer(b.token("engineer", &[Scope::Read]).await);
    for q in ["/api/v1/items?sort=-vendor&limit=7", "/api/v1/items?q=dc-&sort=site", "/api/v1/sites?sort=-name"] {
        let (ra, rb) = (a.get(q, &ta).await.json(), b.get(q, &tb).await.json());
        let strip = |v: &serde_json::Value| {
            v["items"].as_array().unwrap().iter().map(|i| i["name"].clone()).collect::<Vec<_>>()
        };
        assert_eq!(strip(&ra), strip(&rb), "{q}");
        assert_eq!(ra["total"], rb["total"], "{q}");
    }
}
