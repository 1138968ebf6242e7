//! An alert storm: 100,000 alerts within a minute about one failing core switch and the
//! access switches behind it, with the server killed by SIGKILL half-way. Every alert it
//! acknowledged is there after the restart, and correlation makes one incident of it all,
//! with the access switches' own "down" alarms suppressed under it.

use crate::{Db, Server, cli_token, client, get_json};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const ALERTS: usize = 100_000;
const BATCH: usize = 1_000;
const ACCESS: usize = 10;

/// Batch `n` of the storm: the core switch's interfaces and sensors, one label set each; the
/// first batch also says the core and every access switch stopped answering.
fn batch(n: usize) -> Value {
    let mut alerts: Vec<Value> = (0..BATCH)
        .map(|i| {
            let k = n * BATCH + i;
            json!({"labels": {"alertname": if k.is_multiple_of(2) { "InterfaceOperDown" } else { "InterfaceErrors" },
                              "instance": "10.99.0.1:9116", "ifIndex": k.to_string(), "severity": "warning"},
                   "annotations": {"summary": format!("port {k} on core-sw")}})
        })
        .collect();
    if n == 0 {
        alerts.push(
            json!({"labels": {"alertname": "InstanceDown", "instance": "10.99.0.1:9116", "severity": "critical"}}),
        );
        for a in 0..ACCESS {
            alerts.push(json!({"labels": {"alertname": "InstanceDown", "instance": format!("acc-sw{a}:9116"), "severity": "critical"}}));
        }
    }
    Value::Array(alerts)
}

async fn post_json(base: &str, token: &str, path: &str, body: Value) -> Value {
    let r = client().post(format!("{base}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

/// Posts the batches `todo` with two senders, recording in `acked` each answered 200, until
/// they are all sent or the server goes away.
async fn storm(base: &str, todo: Vec<usize>, acked: Arc<std::sync::Mutex<Vec<usize>>>) {
    let todo = Arc::new(todo);
    let next = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    for _ in 0..2 {
        let (todo, next, acked, base) = (todo.clone(), next.clone(), acked.clone(), base.to_owned());
        senders.push(tokio::spawn(async move {
            let c = client();
            while let Some(&n) = todo.get(next.fetch_add(1, Ordering::SeqCst)) {
                match c.post(format!("{base}/api/v2/alerts")).json(&batch(n)).send().await {
                    Ok(r) if r.status() == 200 => acked.lock().unwrap().push(n),
                    Ok(r) => panic!("batch {n}: {}", r.status()),
                    Err(_) => return,
                }
            }
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_on_one_core_switch_is_one_incident_and_survives_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let config = tmp.path().join("watchkeeper.toml");
    std::fs::write(&config, "[intake]\ntrusted_networks = [\"127.0.0.1/32\"]\n").unwrap();
    let args = ["--config", config.to_str().unwrap()];
    let server = Server::start(&db, &args).unwrap();
    let token = cli_token(&db, "admin", &["read", "write"]);

    // A critical service over ten access switches, all behind one core switch.
    let base = server.base.clone();
    let item = |name: &str, class: &str, address: &str| json!({"name": name, "class": class, "criticality": "critical", "mgmt_address": address});
    let core = post_json(&base, &token, "/api/v1/items", item("core-sw", "switch", "10.99.0.1")).await["id"].clone();
    let service =
        post_json(&base, &token, "/api/v1/items", item("svc-storm", "business-service", "")).await["id"].clone();
    for a in 0..ACCESS {
        let acc =
            post_json(&base, &token, "/api/v1/items", item(&format!("acc-sw{a}"), "switch", "")).await["id"].clone();
        post_json(&base, &token, "/api/v1/relationships", json!({"from": acc, "kind": "depends-on", "to": core})).await;
        post_json(&base, &token, "/api/v1/relationships", json!({"from": service, "kind": "depends-on", "to": acc}))
            .await;
    }

    // The storm, killed half-way with batches in flight.
    let started = Instant::now();
    let acked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let first = tokio::spawn({
        let (base, acked) = (base.clone(), acked.clone());
        async move { storm(&base, (0..ALERTS / BATCH).collect(), acked).await }
    });
    while acked.lock().unwrap().len() < ALERTS / BATCH / 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    first.await.unwrap();
    let before_kill = acked.lock().unwrap().clone();
    assert!(before_kill.len() < ALERTS / BATCH, "killed before the end");
    let server = Server::start(&db, &args).unwrap();
    let alerts = get_json(&server, "/api/v2/alerts", &token).await;
    let have: std::collections::HashSet<String> =
        alerts.as_array().unwrap().iter().filter_map(|a| a["labels"]["ifIndex"].as_str().map(str::to_owned)).collect();
    let lost: Vec<usize> = before_kill
        .iter()
        .flat_map(|n| n * BATCH..(n + 1) * BATCH)
        .filter(|k| !have.contains(&k.to_string()))
        .collect();
    assert!(lost.is_empty(), "{} acknowledged alerts lost, first {:?}", lost.len(), &lost[..lost.len().min(5)]);

    // The rest of the storm: every batch not acknowledged, sent again.
    let rest: Vec<usize> = (0..ALERTS / BATCH).filter(|n| !before_kill.contains(n)).collect();
    let again = Arc::new(std::sync::Mutex::new(Vec::new()));
    storm(&server.base, rest.clone(), again.clone()).await;
    assert_eq!(again.lock().unwrap().len(), rest.len(), "every batch accepted after the restart");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(60), "the storm took {elapsed:?}");

    // Correlation catches up — every alert in its alarm (the core's three conditions: down,
    // interfaces down, interface errors; each access switch down), none waiting to be routed —
    // with one incident, the access switches suppressed under it.
    let scraper = cli_token(&db, "admin", &["metrics"]);
    let want_open = format!("watchkeeper_alarms_open {}", 3 + ACCESS);
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let metrics =
            client().get(server.url("/metrics")).bearer_auth(&scraper).send().await.unwrap().text().await.unwrap();
        if metrics.lines().any(|l| l == want_open) && metrics.lines().any(|l| l == "watchkeeper_alarms_unrouted 0") {
            break;
        }
        let gauges: Vec<&str> = metrics.lines().filter(|l| l.starts_with("watchkeeper_alarms")).collect();
        assert!(Instant::now() < deadline, "correlation did not settle: {gauges:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let incidents = get_json(&server, "/api/v1/incidents", &token).await;
    let acc = get_json(&server, "/api/v1/alarms?item=acc-sw9", &token).await;
    let list = incidents.as_array().unwrap();
    assert_eq!(list.len(), 1, "one incident: {incidents}");
    let number = list[0]["number"].as_str().unwrap();
    assert_eq!(list[0]["item"], "core-sw");
    assert_eq!(list[0]["priority"], 1, "a critical service down, a critical alert");
    assert_eq!((acc[0]["suppressed_by"].clone(), acc[0]["incident"].as_str()), (core, Some(number)));
    let one_port = get_json(&server, "/api/v1/alarms?item=core-sw&limit=1", &token).await;
    assert_eq!(one_port[0]["incident"].as_str(), Some(number));
}
