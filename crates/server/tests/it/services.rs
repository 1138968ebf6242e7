//! Services and the service map: where each service stands given items recorded as failed,
//! and what-if failures on the map, through the API and the console (no JavaScript needed).

use crate::common::{Auth, Backend, Harness};
use axum::http::{Method, StatusCode};
use model::Scope;
use serde_json::{Value, json};

async fn id_of(h: &Harness, t: &Auth, name: &str) -> i64 {
    let page = h.get(&format!("/api/v1/items?q={name}"), t).await.json();
    page["items"].as_array().unwrap().iter().find(|i| i["name"] == name).unwrap()["id"].as_i64().unwrap()
}

fn node<'a>(map: &'a Value, name: &str) -> &'a Value {
    map["nodes"].as_array().unwrap().iter().find(|n| n["name"] == name).unwrap_or_else(|| panic!("no {name}"))
}

async fn services_stand_on_recorded_failures_and_the_map_answers_what_if(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("engineer", &Scope::ALL).await);
    let list = h.get("/api/v1/services", &t).await.json();
    let services = list.as_array().unwrap();
    assert_eq!(services.len(), 8);
    assert!(services.iter().all(|s| s["status"] == "unaffected"), "{list}");
    let plant = services.iter().find(|s| s["name"] == "svc-northfield-treatment").unwrap();
    assert_eq!(
        (plant["owner"].as_str(), plant["sla_policy"].as_str()),
        (Some("OT Engineering"), Some("24x7-critical"))
    );
    assert!(plant["dependencies"].as_u64().unwrap() > 10, "{plant}");
    let plant_id = plant["id"].as_i64().unwrap();

    // Record one core switch as failed: the plant's service loses redundancy.
    let sw1 = id_of(&h, &t, "pn-core-sw1").await;
    let mut item = h.get(&format!("/api/v1/items/{sw1}"), &t).await.json();
    for k in ["id", "parent", "created_at_ms", "updated_at_ms"] {
        item.as_object_mut().unwrap().remove(k);
    }
    item["status"] = json!("failed");
    assert_eq!(h.json(Method::PUT, &format!("/api/v1/items/{sw1}"), &t, item).await.status, StatusCode::OK);
    let list = h.get("/api/v1/services", &t).await.json();
    let now = &list[0];
    assert_eq!(
        (now["id"].as_i64(), now["status"].as_str()),
        (Some(plant_id), Some("degraded")),
        "the broken come first"
    );
    let recorded = h.get(&format!("/api/v1/services/{plant_id}/map"), &t).await.json();
    assert_eq!((recorded["status"].as_str(), recorded["failed"].clone()), (Some("degraded"), json!([sw1])));

    // What if its partner fails too: down, through the pair, and the map shows where.
    let sw2 = id_of(&h, &t, "pn-core-sw2").await;
    let map = h.get(&format!("/api/v1/services/{plant_id}/map?fail={sw1}&fail={sw2}"), &t).await;
    assert_eq!(map.status, StatusCode::OK, "{}", map.text());
    let map = map.json();
    assert_eq!(map["status"], "down");
    let path: Vec<&str> = map["path"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(path.first(), Some(&"svc-northfield-treatment"));
    assert!(path.contains(&"[pn-core-pair]"), "{path:?}");
    assert_eq!(
        (node(&map, "pn-core-sw2")["health"].as_str(), node(&map, "pn-core-sw2")["failed"].as_bool()),
        (Some("down"), Some(true))
    );
    assert_eq!(node(&map, "pn-core-pair")["health"], "down");
    assert_eq!(node(&map, "pn-scada-01")["health"], "down", "it needs the core");
    assert_eq!(node(&map, "pn-ups-1")["health"], "unaffected");
    let spofs: Vec<&str> =
        map["single_points_of_failure"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(spofs.contains(&"pn-ups-1") && !spofs.contains(&"pn-core-sw1"), "{spofs:?}");

    // Bad requests are named; a non-service has no map.
    assert_eq!(
        h.get(&format!("/api/v1/services/{plant_id}/map?fail=x"), &t).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(h.get(&format!("/api/v1/services/{sw1}/map"), &t).await.status, StatusCode::NOT_FOUND);
    let siemens = Auth::Bearer(h.token("vendor-siemens", &[Scope::Read]).await);
    assert_eq!(h.get("/api/v1/services", &siemens).await.json(), json!([]), "services span sites");
}

async fn the_console_service_map_toggles_failures_with_links(backend: Backend) {
    let h = Harness::new(backend).await;
    let op = Auth::Session(h.login("operator", app::DEMO_PASSWORD).await);
    let list = h.get("/cmdb/services", &op).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text().contains("svc-plant-wan") && list.text().contains("24x7-critical"));
    let plant = id_of(&h, &op, "svc-northfield-treatment").await;
    let ups = id_of(&h, &op, "pn-ups-1").await;

    let page = h.get(&format!("/cmdb/services/{plant}"), &op).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("<svg class=\"depmap\"") && html.contains("health-unaffected"));
    let fail_ups = format!("href=\"/cmdb/services/{plant}?what_if=1&amp;fail={ups}\"");
    assert!(html.contains(&fail_ups), "each item node fails it: {html}");

    // Follow the link: the UPS under both core switches takes the plant down.
    let failed = h.get(&format!("/cmdb/services/{plant}?what_if=1&fail={ups}"), &op).await.text();
    assert!(failed.contains("Verdict: <span class=\"health health-down\">down</span>"), "{failed}");
    assert!(failed.contains("health-down failed"), "the chosen failure is marked");
    assert!(failed.contains(&format!("href=\"/cmdb/services/{plant}?what_if=1\"")), "and can be restored");
    let bad = h.get(&format!("/cmdb/services/{plant}?fail=ups"), &op).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// A service page charts what its items' checks measured, each chart named after its item.
async fn a_service_page_charts_its_items_measurements(backend: Backend) {
    let h = Harness::new(backend).await;
    let admin = Auth::Bearer(h.token("admin", &[Scope::Read, Scope::Write]).await);
    let check = h
        .json(
            Method::POST,
            "/api/v1/checks",
            &admin,
            json!({"name": "latency", "items": ["pn-core-sw1"],
                   "probe": {"type": "plugin", "command": ["/usr/bin/printf", "OK - answering|rta=%sms;100;200", "3.5"]}}),
        )
        .await;
    assert_eq!(check.status, StatusCode::CREATED, "{}", check.text());
    h.app.run_checks_once(&probe::Probes::new()).await.unwrap();
    let op = Auth::Session(h.login("operator", app::DEMO_PASSWORD).await);
    let plant = id_of(&h, &op, "svc-northfield-treatment").await;
    let page = h.get(&format!("/cmdb/services/{plant}?span=7d"), &op).await.text();
    assert!(page.contains("<h2>Measurements</h2>"), "{page}");
    assert!(page.contains(r#"aria-label="pn-core-sw1 · latency: rta""#), "{page}");
    assert!(page.contains("over the last 7 days (UTC; hourly means)"), "{page}");
    // A service none of whose items is checked draws no empty panel.
    let south = id_of(&h, &op, "svc-southmere-treatment").await;
    assert!(!h.get(&format!("/cmdb/services/{south}"), &op).await.text().contains("Measurements"));
}

crate::both_backends!(
    services_stand_on_recorded_failures_and_the_map_answers_what_if,
    the_console_service_map_toggles_failures_with_links,
    a_service_page_charts_its_items_measurements,
);
