//! The CMDB through the API: impact analysis on the demo estate, item writes with versions
//! and history, relationships and groups, and the site scope.

use crate::common::{Auth, Backend, Harness};
use axum::http::{Method, StatusCode};
use model::Scope;
use serde_json::{Value, json};

fn service<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["services"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("no {name}"))
}

fn path(v: &Value) -> Vec<&str> {
    v["path"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect()
}

async fn impact_follows_the_estate_and_its_redundancy(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("operator", &[Scope::Read]).await);

    // One core switch of an HSRP pair: the plant loses redundancy, not service.
    let one = h.get("/api/v1/impact?item=pn-core-sw1", &t).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text());
    let one = one.json();
    let plant = service(&one, "svc-northfield-treatment");
    assert_eq!(plant["status"], "degraded");
    assert!(path(plant).contains(&"[pn-core-pair]") && path(plant).last() == Some(&"pn-core-sw1"), "{plant}");
    assert_eq!(service(&one, "svc-southmere-treatment")["status"], "unaffected");
    assert_eq!(service(&one, "svc-southmere-treatment")["path"], json!([]));

    // Both: down, and so is everything that needs the plant's core.
    let both = h.get("/api/v1/impact?item=pn-core-sw1&item=plant-north/pn-core-sw2", &t).await.json();
    assert_eq!(service(&both, "svc-northfield-treatment")["status"], "down");
    assert_eq!(both["services"][0]["status"], "down", "down services come first");
    let items: Vec<&str> = both["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert!(items.contains(&"pn-plc-filtration") && items.contains(&"pn-historian"), "{items:?}");

    // The SAN under the ESX cluster is a single point of failure for the directory.
    let san = h.get("/api/v1/impact?item=dc-san-a", &t).await.json();
    let dir = service(&san, "svc-directory");
    assert_eq!(dir["status"], "down");
    assert_eq!(path(dir)[0], "svc-directory");
    assert_eq!(path(dir).last(), Some(&"dc-san-a"));
    assert!(dir["explanation"].as_str().unwrap().contains("runs-on [dc-esx-cluster] member dc-esx-0"), "{dir}");
    assert_eq!(service(&san, "svc-backup")["status"], "down");

    // A backup system failing is a risk to what it backs up, not an outage of it.
    let backup = h.get("/api/v1/impact?item=dc-backup-01", &t).await.json();
    assert_eq!(service(&backup, "svc-operations-reporting")["status"], "unaffected");

    let unknown = h.get("/api/v1/impact?item=no-such-box", &t).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.problem(), "not-found");
    let none = h.get("/api/v1/impact", &t).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    let tree = h.get("/api/v1/items/999999/dependencies", &t).await;
    assert_eq!(tree.status, StatusCode::NOT_FOUND);
}

async fn items_are_versioned_and_keep_their_history(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("engineer", &[Scope::Read, Scope::Write]).await);
    let body = json!({
        "name": "pn-cell-sw9", "class": "switch", "site": "plant-north", "vendor": "Cisco", "model": "IE-3400",
        "criticality": "high", "end_of_support_on": "2029-07-31", "attrs": {"rack": "R2", "u": 12}
    });
    let created = h.json(Method::POST, "/api/v1/items", &t, body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let item = created.json();
    let id = item["id"].as_i64().unwrap();
    assert_eq!((item["version"].as_i64(), item["attrs"]["u"].as_i64()), (Some(1), Some(12)));
    let dup = h.json(Method::POST, "/api/v1/items", &t, body.clone()).await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY, "the name is taken at that site");

    h.advance(60_000);
    let mut change = body.clone();
    change["os_version"] = json!("IOS-XE 17.12.4");
    change["version"] = json!(1);
    let updated = h.json(Method::PUT, &format!("/api/v1/items/{id}"), &t, change.clone()).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text());
    assert_eq!(updated.json()["version"], 2);
    let stale = h.json(Method::PUT, &format!("/api/v1/items/{id}"), &t, change).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "a change against version 1 would overwrite version 2");

    let history = h.get(&format!("/api/v1/items/{id}/history"), &t).await.json();
    let changes: Vec<&str> = history.as_array().unwrap().iter().map(|v| v["change"].as_str().unwrap()).collect();
    assert_eq!(changes, ["create", "update"]);
    let current = h.get(&format!("/api/v1/items/{id}"), &t).await.json();
    assert_eq!(history[1]["item"], current, "the newest version is the item as the API shows it");

    let before_update = server::api::rfc3339(1_800_000_030_000);
    let then = h.get(&format!("/api/v1/items/{id}?as_of={before_update}"), &t).await.json();
    assert_eq!((then["version"].as_i64(), then["os_version"].as_str()), (Some(1), Some("")));
    let before_creation = h.get(&format!("/api/v1/items/{id}?as_of=2020-01-01T00:00:00Z"), &t).await;
    assert_eq!(before_creation.status, StatusCode::NOT_FOUND);

    let deleted = h.json(Method::DELETE, &format!("/api/v1/items/{id}"), &t, json!({})).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(h.get(&format!("/api/v1/items/{id}"), &t).await.status, StatusCode::NOT_FOUND);
    let history = h.get(&format!("/api/v1/items/{id}/history"), &t).await.json();
    assert_eq!(history.as_array().unwrap().len(), 3, "history outlives the item");

    let audit = Auth::Bearer(h.token("auditor", &[Scope::Audit]).await);
    let log = h.get(&format!("/api/v1/audit?target_id={id}&sort=seq"), &audit).await.json();
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["item.create", "item.update", "item.delete"]);

    let bad = h
        .json(
            Method::POST,
            "/api/v1/items",
            &t,
            json!({"name": "x", "class": "network-device", "warranty_ends_on": "soon"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = bad.json()["errors"].clone();
    let fields: Vec<&str> = errors.as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["class", "warranty_ends_on"]);
}

async fn new_relationships_change_the_answer_at_once(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("engineer", &[Scope::Read, Scope::Write]).await);
    let svc = h
        .json(
            Method::POST,
            "/api/v1/items",
            &t,
            json!({"name": "svc-lab", "class": "technical-service", "criticality": "low"}),
        )
        .await
        .json();
    let syslog = h.get("/api/v1/items?q=dc-syslog-01", &t).await.json()["items"][0]["id"].as_i64().unwrap();
    let before = h.get("/api/v1/impact?item=dc-syslog-01", &t).await.json();
    assert_eq!(service(&before, "svc-lab")["status"], "unaffected");

    let rel = h
        .json(Method::POST, "/api/v1/relationships", &t, json!({"from": svc["id"], "kind": "depends-on", "to": syslog}))
        .await;
    assert_eq!(rel.status, StatusCode::CREATED, "{}", rel.text());
    let after = h.get("/api/v1/impact?item=dc-syslog-01", &t).await.json();
    assert_eq!(path(service(&after, "svc-lab")), ["svc-lab", "dc-syslog-01"]);

    // A change made by another process (a CLI on the same database) is seen too.
    let other = app::App::new(h.app.store().clone(), app::Settings::default());
    other.unrelate(&app::Actor::cli(), rel.json()["id"].as_i64().unwrap()).await.unwrap();
    let again = h.get("/api/v1/impact?item=dc-syslog-01", &t).await.json();
    assert_eq!(service(&again, "svc-lab")["status"], "unaffected");

    let both = h
        .json(
            Method::POST,
            "/api/v1/relationships",
            &t,
            json!({"from": svc["id"], "kind": "uses", "to": 1, "to_group": 1}),
        )
        .await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY);
    let one_member =
        h.json(Method::POST, "/api/v1/groups", &t, json!({"name": "g", "kind": "hsrp", "members": [syslog]})).await;
    assert_eq!(one_member.status, StatusCode::UNPROCESSABLE_ENTITY);
    let tree = h.get(&format!("/api/v1/items/{}/dependencies", svc["id"]), &t).await.json();
    assert_eq!(tree.as_array().unwrap().len(), 1, "no dependencies left: {tree}");
}

async fn scoped_vendors_see_impact_only_within_their_sites(backend: Backend) {
    let h = Harness::new(backend).await;
    let vendor = Auth::Session(h.login("vendor-siemens", app::DEMO_PASSWORD).await);
    let hidden = h.get("/api/v1/impact?item=dc-san-a", &vendor).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let own = h.get("/api/v1/impact?item=pn-core-sw1&item=pn-core-sw2", &vendor).await.json();
    assert_eq!(own["services"], json!([]), "services span sites");
    let sites: Vec<&str> = own["items"].as_array().unwrap().iter().map(|i| i["site"].as_str().unwrap()).collect();
    assert!(!sites.is_empty() && sites.iter().all(|s| *s == "plant-north"));
    let write = h
        .json(Method::POST, "/api/v1/items", &vendor, json!({"name": "x1", "class": "switch", "site": "dc-east"}))
        .await;
    assert_eq!(write.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", write.text());
}

async fn the_risk_view_finds_ageing_assets_single_points_and_orphans(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    // The test clock stands at 2027-01-15.
    let r = h.get("/api/v1/risk?within_months=12", &t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = r.json();
    assert_eq!(r["today"], "2027-01-15");
    let ageing: Vec<(&str, bool)> = r["ageing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap(), a["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(ageing, [("pn-hmi-ops1", true), ("pn-cell-sw3", true), ("dc-lb1", false)], "passed first, then due");
    let spofs = r["single_points_of_failure"].as_array().unwrap();
    let of = |svc: &str| -> Vec<&str> {
        spofs
            .iter()
            .find(|s| s["service"]["name"] == svc)
            .map(|s| s["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect())
            .unwrap_or_default()
    };
    let directory = of("svc-directory");
    assert!(directory.contains(&"dc-san-a") && directory.contains(&"dc-ad-01"), "{directory:?}");
    assert!(
        !directory.iter().any(|n| n.starts_with("dc-esx") || n.starts_with("dc-core")),
        "redundant members are not single points: {directory:?}"
    );
    assert!(of("svc-plant-wan").contains(&"ps-fw1"), "{:?}", of("svc-plant-wan"));
    assert!(of("svc-secure-vtc").is_empty(), "medium services are not listed");
    let orphans: Vec<&str> =
        r["without_owner"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(orphans, ["dc-syslog-01", "pn-vtc-control"]);
    assert_eq!(
        r["end_of_support_by_year"],
        json!([
            ["passed", 2],
            ["2027", 1],
            ["2028", 2],
            ["2029", 1],
            ["2030", 1],
            ["2031", 1],
            ["2032", 0],
            ["later", 0]
        ])
    );
    let longer = h.get("/api/v1/risk?within_months=24", &t).await.json();
    assert_eq!(longer["ageing"].as_array().unwrap().len(), 5, "the WAN routers' end of support falls within two years");
    assert_eq!(h.get("/api/v1/risk?within_months=0", &t).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

crate::both_backends!(
    relationship_changes_are_history_and_as_of_views_rebuild_them,
    custom_attributes_are_defined_per_class_and_checked_on_every_write,
    the_risk_view_finds_ageing_assets_single_points_and_orphans,
    impact_follows_the_estate_and_its_redundancy,
    items_are_versioned_and_keep_their_history,
    new_relationships_change_the_answer_at_once,
    scoped_vendors_see_impact_only_within_their_sites,
    an_items_page_charts_what_its_checks_measured,
    samples_roll_up_by_the_hour_and_long_spans_read_the_roll_ups,
    an_snmp_polled_switch_charts_traffic_utilisation_and_errors_per_interface,
    a_check_that_no_longer_runs_clears_what_it_raised,
    performance_data_that_does_not_read_is_shown_counted_and_the_rest_kept,
);

/// A new item's id.
async fn new_item(h: &Harness, t: &Auth, name: &str, class: &str) -> i64 {
    let made = h.json(Method::POST, "/api/v1/items", t, json!({"name": name, "class": class})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    made.json()["id"].as_i64().unwrap()
}

/// A lab server with a latency check (a real program in plugin shape: status OK,
/// performance data with thresholds): `(item id, check id)`.
async fn checked_historian(h: &Harness, t: &Auth) -> (i64, i64) {
    let item = new_item(h, t, "lab-historian", "physical-server").await;
    let check = h
        .json(
            Method::POST,
            "/api/v1/checks",
            t,
            json!({"name": "latency", "items": ["lab-historian"],
                   "probe": {"type": "plugin", "command": ["/usr/bin/printf", "OK - answering|rta=%sms;100;200", "12.5"]}}),
        )
        .await;
    assert_eq!(check.status, StatusCode::CREATED, "{}", check.text());
    (item, check.json()["id"].as_i64().unwrap())
}

async fn an_items_page_charts_what_its_checks_measured(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("admin", &[Scope::Read, Scope::Write]).await);
    let (item, _) = checked_historian(&h, &t).await;
    let probes = probe::Probes::new();
    for _ in 0..2 {
        h.app.run_checks_once(&probes).await.unwrap();
        h.advance(60_000);
    }
    let op = Auth::Session(h.login("operator", app::DEMO_PASSWORD).await);
    let page = h.get(&format!("/cmdb/items/{item}"), &op).await.text();
    assert!(page.contains("<h2>Measurements</h2>"), "{page}");
    assert!(page.contains(r#"class="metric-chart" role="img" aria-label="latency: rta""#), "{page}");
    assert!(page.contains("rta (last 12.5ms)"), "the legend gives the latest value: {page}");
    // Measurements are of now, not of the item as it was.
    let past = h.get(&format!("/cmdb/items/{item}?as_of=2027-01-15"), &op).await.text();
    assert!(!past.contains("Measurements"), "{past}");
}

/// A failing check raises an alarm; deleting the check, or retiring the item it ran on, clears
/// it, rather than leaving an alarm open that nothing will ever clear.
async fn a_check_that_no_longer_runs_clears_what_it_raised(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("admin", &[Scope::Read, Scope::Write]).await);
    new_item(&h, &t, "lab-plc1", "physical-server").await;
    let plc2 = new_item(&h, &t, "lab-plc2", "physical-server").await;
    let failing = |name: &str, item: &str| {
        json!({"name": name, "items": [item], "max_attempts": 1,
               "probe": {"type": "plugin", "command": ["/bin/sh", "-c", "echo 'CRITICAL - no answer'; exit 2"]}})
    };
    let made = h.json(Method::POST, "/api/v1/checks", &t, failing("modbus", "lab-plc1")).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let doomed = made.json()["id"].as_i64().unwrap();
    let made = h.json(Method::POST, "/api/v1/checks", &t, failing("opc", "lab-plc2")).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let probes = probe::Probes::new();
    h.app.run_checks_once(&probes).await.unwrap();
    h.app.correlate().await.unwrap();
    let state = |item: &'static str| {
        let (h, t) = (&h, &t);
        async move {
            let alarms = h.get(&format!("/api/v1/alarms?state=all&item={item}"), t).await.json();
            assert_eq!(alarms.as_array().map(Vec::len), Some(1), "{alarms}");
            alarms[0]["state"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!((state("lab-plc1").await, state("lab-plc2").await), ("open".into(), "open".into()));

    let gone = h.json(Method::DELETE, &format!("/api/v1/checks/{doomed}"), &t, json!({})).await;
    assert!(gone.status.is_success(), "{}", gone.text());
    h.app.correlate().await.unwrap();
    assert_eq!((state("lab-plc1").await, state("lab-plc2").await), ("cleared".into(), "open".into()));

    let change = json!({"name": "lab-plc2", "class": "physical-server", "status": "retired", "version": 1});
    let retired = h.json(Method::PUT, &format!("/api/v1/items/{plc2}"), &t, change).await;
    assert_eq!(retired.status, StatusCode::OK, "{}", retired.text());
    h.app.run_checks_once(&probes).await.unwrap();
    h.app.correlate().await.unwrap();
    assert_eq!(state("lab-plc2").await, "cleared", "a retired item's check alarm is cleared");
}

/// A plugin that writes some performance data Nagios would not read: what reads is stored,
/// what does not is shown with the check's output and counted on `/metrics`.
async fn performance_data_that_does_not_read_is_shown_counted_and_the_rest_kept(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("admin", &[Scope::Read, Scope::Write, Scope::Metrics]).await);
    new_item(&h, &t, "lab-rtu1", "physical-server").await;
    let made = h
        .json(
            Method::POST,
            "/api/v1/checks",
            &t,
            json!({"name": "rtu", "items": ["lab-rtu1"],
                   "probe": {"type": "plugin", "command": ["/usr/bin/printf", "OK - polled | time=0.5s;1;2 temp=hot"]}}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    h.app.run_checks_once(&probe::Probes::new()).await.unwrap();
    let board = h.get("/api/v1/checks/board", &t).await.json();
    let row = board.as_array().unwrap().iter().find(|r| r["check"] == "rtu").unwrap().clone();
    let state = &row;
    assert_eq!(state["status"], "ok", "{row}");
    assert!(
        state["output"].as_str().unwrap().contains("Performance data not read (not in Nagios' format): temp=hot"),
        "{row}"
    );
    assert_eq!(
        state["perfdata"].as_array().map(|p| p.iter().map(|d| d["label"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("time")]),
        "{row}"
    );
    let metrics = h.get("/metrics", &t).await.text();
    assert!(
        metrics.contains("watchkeeper_intake_records_total{decoder=\"plugin\",outcome=\"unreadable\"} 1"),
        "{metrics}"
    );
}

/// What an SNMP poll keeps (as `probe::snmp` reports it: per-interface traffic, utilisation
/// when the agent gives a speed, errors and discards) is charted per interface; an interface
/// without a speed gets no utilisation chart, and one without errors no error chart.
async fn an_snmp_polled_switch_charts_traffic_utilisation_and_errors_per_interface(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("admin", &[Scope::Read, Scope::Write]).await);
    let item = new_item(&h, &t, "lab-sw9", "switch").await;
    let check = h
        .json(
            Method::POST,
            "/api/v1/checks",
            &t,
            json!({"name": "if-mib", "items": ["lab-sw9"], "probe": {"type": "snmp", "credential": "lab"}}),
        )
        .await;
    assert_eq!(check.status, StatusCode::CREATED, "{}", check.text());
    let check = check.json()["id"].as_i64().unwrap();
    let now = h.app.now_ms();
    let labels = [
        "Gi0/1:in_bps",
        "Gi0/1:out_bps",
        "Gi0/1:in_util",
        "Gi0/1:out_util",
        "Gi0/1:errors",
        "Gi0/1:discards",
        "Gi0/2:in_bps",
        "Gi0/2:out_bps",
        "Gi0/2:errors",
        "Gi0/2:discards",
    ];
    // At the last poll neither errs and Gi0/2 is far busier: it is charted first.
    let last = |l: &str| match l {
        "Gi0/2:in_bps" => 5e8,
        l if l.ends_with(":errors") || l.ends_with(":discards") => 0.0,
        _ => 1.0,
    };
    let perf: Vec<Value> = labels.iter().map(|l| json!({"label": l, "value": last(l), "unit": ""})).collect();
    let mut rows = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        let value = if l.starts_with("Gi0/2:err") || l.ends_with("discards") {
            0.0
        } else {
            10.0 + f64::from(u8::try_from(i).unwrap())
        };
        rows.extend((0..5).map(|k| (format!("check/{check}/{item}/{l}"), now - 3_600_000 + k * 600_000, value)));
    }
    let mut tx = h.app.store().begin().await.unwrap();
    tx.put_check_states(&[store::CheckStateRow {
        check_id: check,
        item_id: item,
        status: "ok".into(),
        hard: true,
        attempt: 1,
        hard_status: "ok".into(),
        output: "SNMP OK - 2 interfaces, 2 up".into(),
        perfdata: Value::Array(perf).to_string(),
        duration_us: 1000,
        last_run_ms: now,
        last_change_ms: now,
        baseline: None,
    }])
    .await
    .unwrap();
    tx.insert_samples(&rows).await.unwrap();
    tx.commit().await.unwrap();

    let op = Auth::Session(h.login("operator", app::DEMO_PASSWORD).await);
    let page = h.get(&format!("/cmdb/items/{item}"), &op).await.text();
    for chart in ["Gi0/1 traffic", "Gi0/1 utilisation", "Gi0/1 errors and discards", "Gi0/2 traffic"] {
        assert!(page.contains(&format!(r#"aria-label="{chart}""#)), "{chart}: {page}");
    }
    assert!(!page.contains(r#"aria-label="Gi0/2 utilisation""#), "no speed, no utilisation");
    assert!(!page.contains(r#"aria-label="Gi0/2 errors and discards""#), "no errors, no error chart");
    let at = |chart: &str| page.find(&format!(r#"aria-label="{chart}""#)).unwrap();
    assert!(at("Gi0/2 traffic") < at("Gi0/1 traffic"), "the busiest interface first, not the first name");
    // Someone chooses what to chart: every polled interface is offered, the chosen alone drawn,
    // and the choice kept when the span changes.
    assert!(page.contains("<option>Gi0/1</option>") && page.contains("<option>Gi0/2</option>"), "{page}");
    let chosen = h.get(&format!("/cmdb/items/{item}?span=7d&interface=Gi0%2F1"), &op).await.text();
    assert!(chosen.contains(r#"aria-label="Gi0/1 traffic""#), "{chosen}");
    assert!(!chosen.contains(r#"aria-label="Gi0/2 traffic""#), "{chosen}");
    assert!(chosen.contains("<option selected>Gi0/1</option>"), "{chosen}");
    assert!(chosen.contains("?span=24h&#38;interface=Gi0%2F1"), "{chosen}");
}

/// Raw samples are kept for eight days; housekeeping rolls them up by the hour first (count,
/// minimum, maximum, sum), and spans over two days read the hourly means with their range.
async fn samples_roll_up_by_the_hour_and_long_spans_read_the_roll_ups(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("admin", &[Scope::Read, Scope::Write]).await);
    let (item, check) = checked_historian(&h, &t).await;
    h.app.run_checks_once(&probe::Probes::new()).await.unwrap();
    // Ten days of history, six samples an hour: 10, 20 … 60 ms (mean 35) in every hour.
    let now = h.app.now_ms();
    let hour = 3_600_000;
    let start = now - now % hour - 240 * hour;
    let series = format!("check/{check}/{item}/rta");
    let rows: Vec<(String, i64, f64)> = (0..240 * 6)
        .map(|i| (series.clone(), start + i * 600_000, f64::from(i32::try_from(i % 6).unwrap() + 1) * 10.0))
        .collect();
    let mut tx = h.app.store().begin().await.unwrap();
    tx.insert_samples(&rows).await.unwrap();
    tx.commit().await.unwrap();
    h.app.housekeeping().await.unwrap();
    h.app.housekeeping().await.unwrap();

    let url = |hours: i64| format!("/api/v1/checks/{check}/samples?item={item}&label=rta&hours={hours}");
    let day = h.get(&url(24), &t).await.json();
    let day = day.as_array().unwrap();
    assert!(day.len() >= 144, "raw samples for the last day: {}", day.len());
    assert!(day.iter().all(|p| p.get("min").is_none()), "raw samples have no range");
    let ten_days = h.get(&url(241), &t).await.json();
    let hours = ten_days.as_array().unwrap();
    assert_eq!(hours.len(), 240, "one point an hour, the first two days' raw samples long deleted");
    assert!(
        hours.iter().all(
            |p| (p["value"].as_f64(), p["min"].as_f64(), p["max"].as_f64()) == (Some(35.0), Some(10.0), Some(60.0))
        ),
        "{ten_days}"
    );
    let oldest_raw = h.app.store().samples(&series, 0, now - 8 * 24 * hour - 1).await.unwrap();
    assert!(oldest_raw.is_empty(), "raw samples past eight days are deleted");
    assert_eq!(h.get(&url(9601), &t).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let op = Auth::Session(h.login("operator", app::DEMO_PASSWORD).await);
    let page = h.get(&format!("/cmdb/items/{item}?span=30d"), &op).await.text();
    assert!(page.contains("over the last 30 days (UTC; hourly means)"), "{page}");
    assert!(page.contains(r#"aria-label="latency: rta""#), "{page}");
}

async fn custom_attributes_are_defined_per_class_and_checked_on_every_write(backend: Backend) {
    let h = Harness::new(backend).await;
    let admin = Auth::Bearer(h.token("ops-lead", &Scope::ALL).await);
    let eng = Auth::Bearer(h.token("engineer", &Scope::ALL).await);
    let defs = h.get("/api/v1/attribute-definitions", &eng).await.json();
    let circuit = defs.as_array().unwrap().iter().find(|d| d["name"] == "circuit_id").unwrap();
    assert_eq!((circuit["class"].as_str(), circuit["required"].as_bool()), (Some("wan-circuit"), Some(true)));

    // Defining the schema is for administrators, and a required attribute must already be met.
    let rated = json!({"class": "plc", "name": "sil_level", "kind": "choice", "choices": ["SIL1", "SIL2", "SIL3"]});
    assert_eq!(
        h.json(Method::POST, "/api/v1/attribute-definitions", &eng, rated.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    let mut required = rated.clone();
    required["required"] = json!(true);
    let r = h.json(Method::POST, "/api/v1/attribute-definitions", &admin, required).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["errors"][0]["field"], "required");
    assert!(r.text().contains("pn-plc-dosing"), "names the items that lack it: {}", r.text());
    let made = h.json(Method::POST, "/api/v1/attribute-definitions", &admin, rated).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let bad_def = json!({"class": "plc", "name": "Sil Level", "kind": "colour"});
    let r = h.json(Method::POST, "/api/v1/attribute-definitions", &admin, bad_def).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Item writes meet the definitions for the item's class and the families above it.
    let plc = h.get("/api/v1/items?q=pn-plc-dosing", &eng).await.json()["items"][0].clone();
    let mut body = plc.clone();
    for k in ["id", "parent", "created_at_ms", "updated_at_ms"] {
        body.as_object_mut().unwrap().remove(k);
    }
    body["attrs"] = json!({"sil_level": "SIL4", "safety_instrumented": "yes", "panel": "MCC-2"});
    let r = h.json(Method::PUT, &format!("/api/v1/items/{}", plc["id"]), &eng, body.clone()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let fields: Vec<String> =
        r.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    assert_eq!(fields, ["attrs.safety_instrumented", "attrs.sil_level"]);
    body["attrs"] = json!({"sil_level": "SIL2", "safety_instrumented": true, "panel": "MCC-2"});
    let r = h.json(Method::PUT, &format!("/api/v1/items/{}", plc["id"]), &eng, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["attrs"]["panel"], "MCC-2", "undefined attributes are kept");

    let circuit =
        json!({"name": "wan-ps-lte", "class": "wan-circuit", "site": "plant-south", "attrs": {"carrier": "EE"}});
    let r = h.json(Method::POST, "/api/v1/items", &eng, circuit).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "attrs.circuit_id");

    // Imports are held to the same definitions, and the error says where.
    let yaml = "version: 1\nitems:\n  - {name: wan-x, class: wan-circuit, site: plant-south, attrs: {carrier: EE, circuit_id: X1, bandwidth_mbps: fast}}\n";
    let e = h
        .app
        .import_cmdb(
            &app::Actor::cli(),
            &[app::ImportFile { name: "c.yaml".into(), bytes: yaml.into() }],
            None,
            None,
            true,
            &|_, _| {},
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("c.yaml: items[0] (wan-x): field `attrs.bandwidth_mbps`"), "{e}");

    let auditor = Auth::Bearer(h.token("auditor", &[Scope::Audit]).await);
    let log = h.get("/api/v1/audit?action=attribute.create", &auditor).await.json();
    assert_eq!(log["total"], 1);
}

async fn relationship_changes_are_history_and_as_of_views_rebuild_them(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("engineer", &[Scope::Read, Scope::Write]).await);
    let id = |name: &'static str| {
        let h = &h;
        let t = &t;
        async move {
            h.get(&format!("/api/v1/items?q={name}"), t).await.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["name"] == name)
                .unwrap()["id"]
                .as_i64()
                .unwrap()
        }
    };
    let historian = id("pn-historian").await;
    let syslog = id("dc-syslog-01").await;
    const DAY: i64 = 86_400_000;
    // The clock starts at 2027-01-15T08:00Z with the demo seeded.
    h.advance(DAY);
    let rel = h
        .json(Method::POST, "/api/v1/relationships", &t, json!({"from": historian, "kind": "depends-on", "to": syslog}))
        .await
        .json();
    h.advance(2 * DAY);
    let gone = h.json(Method::DELETE, &format!("/api/v1/relationships/{}", rel["id"]), &t, json!(null)).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);

    let history = h.get(&format!("/api/v1/items/{historian}/relationship-history"), &t).await.json();
    let history = history.as_array().unwrap();
    assert!(history.len() >= 5, "the demo's relationships are history too: {history:?}");
    let last: Vec<(&str, &str, &str)> = history[history.len() - 2..]
        .iter()
        .map(|c| (c["change"].as_str().unwrap(), c["to"].as_str().unwrap(), c["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(last, [("add", "dc-syslog-01", "engineer"), ("remove", "dc-syslog-01", "engineer")]);
    assert_eq!(history[history.len() - 1]["at"], "2027-01-18T08:00:00Z");

    let names = |v: Value| -> Vec<String> {
        v.as_array().unwrap().iter().filter_map(|r| r["to"].as_str().map(str::to_owned)).collect()
    };
    let then =
        names(h.get(&format!("/api/v1/items/{historian}/relationships?as_of=2027-01-17T00:00:00Z"), &t).await.json());
    assert!(then.contains(&"dc-syslog-01".to_owned()) && then.contains(&"dc-backup-01".to_owned()), "{then:?}");
    let now = names(h.get(&format!("/api/v1/items/{historian}/relationships"), &t).await.json());
    assert!(!now.contains(&"dc-syslog-01".to_owned()), "{now:?}");
    let before_seed = h.get(&format!("/api/v1/items/{historian}/relationships?as_of=2020-01-01T00:00:00Z"), &t).await;
    assert_eq!(before_seed.json(), json!([]));
    assert_eq!(
        h.get(&format!("/api/v1/items/{historian}/relationships?when=now"), &t).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Deleting an item records its relationships' end on the items at the other end.
    let rel = h
        .json(Method::POST, "/api/v1/relationships", &t, json!({"from": historian, "kind": "depends-on", "to": syslog}))
        .await;
    assert_eq!(rel.status, StatusCode::CREATED);
    h.advance(DAY);
    assert_eq!(
        h.json(Method::DELETE, &format!("/api/v1/items/{syslog}"), &t, json!(null)).await.status,
        StatusCode::NO_CONTENT
    );
    let history = h.get(&format!("/api/v1/items/{historian}/relationship-history"), &t).await.json();
    assert_eq!(history.as_array().unwrap().last().unwrap()["change"], "remove");
    let deleted = h.get(&format!("/api/v1/items/{syslog}/relationships?as_of=2027-01-18T12:00:00Z"), &t).await;
    assert_eq!(deleted.status, StatusCode::OK, "a deleted item's past is still readable: {}", deleted.text());

    // The console shows both kinds of change in one history, and relationships as of a day.
    let op = Auth::Session(h.login("operator", app::DEMO_PASSWORD).await);
    let page = h.get(&format!("/cmdb/items/{historian}"), &op).await.text();
    assert!(
        page.contains("now depends-on dc-syslog-01") && page.contains("no longer depends-on dc-syslog-01"),
        "{page}"
    );
    let past = h.get(&format!("/cmdb/items/{historian}?as_of=2027-01-17"), &op).await.text();
    assert!(past.contains(&format!("href=\"/cmdb/items/{syslog}\">dc-syslog-01")), "{past}");
}
