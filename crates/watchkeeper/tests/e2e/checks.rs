//! Active checks against a host in a network namespace this test makes (never an outside
//! address): ICMP and a real Nagios plugin (`check_ping`, Debian's monitoring-plugins-basic)
//! see it up, its performance data is kept; when its link goes down the ICMP check goes
//! CRITICAL after its retries, correlation opens an incident on the host, the application
//! behind it is suppressed rather than paged, and when the link comes back the incident
//! resolves itself.

use crate::{Db, Server, get_json, wait_for};
use serde_json::{Value, json};
use std::process::Command;

/// A host at `10.231.N.2` behind a veth pair, in its own namespace; removed when dropped.
struct Netns {
    name: String,
    host_if: String,
    address: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap_or_else(|e| panic!("ip (Debian package iproute2): {e}"));
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

impl Netns {
    fn new() -> Netns {
        let n = std::process::id() % 200 + 20;
        let name = format!("wk-chk-{n}");
        let (host_if, peer_if) = (format!("wkh{n}"), format!("wkp{n}"));
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let _ = Command::new("ip").args(["link", "del", &host_if]).output();
        ip(&["netns", "add", &name]);
        ip(&["link", "add", &host_if, "type", "veth", "peer", "name", &peer_if]);
        ip(&["link", "set", &peer_if, "netns", &name]);
        ip(&["addr", "add", &format!("10.231.{n}.1/30"), "dev", &host_if]);
        ip(&["link", "set", &host_if, "up"]);
        ip(&["-n", &name, "addr", "add", &format!("10.231.{n}.2/30"), "dev", &peer_if]);
        ip(&["-n", &name, "link", "set", &peer_if, "up"]);
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        Netns { name, host_if, address: format!("10.231.{n}.2") }
    }

    fn link(&self, up: bool) {
        ip(&["link", "set", &self.host_if, if up { "up" } else { "down" }]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.host_if]).output();
        let _ = Command::new("ip").args(["netns", "del", &self.name]).output();
    }
}

async fn post(server: &Server, token: &str, path: &str, body: Value) -> Value {
    let r = crate::client().post(server.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_in_a_namespace_goes_down_and_comes_back() {
    let ns = Netns::new();
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let server = Server::start(&db, &[]).unwrap();
    let token = crate::cli_token(&db, "admin", &["read", "write"]);
    let item = |name: &str, class: &str, address: &str| json!({"name": name, "class": class, "criticality": "high", "mgmt_address": address});
    let host =
        post(&server, &token, "/api/v1/items", item("ns-host", "physical-server", &ns.address)).await["id"].clone();
    // The VM answers on the host's address: it goes dark with it.
    let app =
        post(&server, &token, "/api/v1/items", item("ns-app", "virtual-machine", &ns.address)).await["id"].clone();
    post(&server, &token, "/api/v1/relationships", json!({"from": app, "kind": "runs-on", "to": host})).await;
    let fast = json!({"interval_s": 1, "retry_interval_s": 1, "timeout_s": 3, "max_attempts": 2});
    let with = |mut spec: Value, extra: Value| {
        for (k, v) in extra.as_object().unwrap() {
            spec[k] = v.clone();
        }
        spec
    };
    post(
        &server,
        &token,
        "/api/v1/checks",
        with(fast.clone(), json!({"name": "ping", "probe": {"type": "icmp", "count": 2}, "class": "server"})),
    )
    .await;
    post(
        &server,
        &token,
        "/api/v1/checks",
        with(fast.clone(), json!({"name": "nagios-ping", "items": ["ns-host"], "max_attempts": 5, "probe": {"type": "plugin",
            "command": ["/usr/lib/nagios/plugins/check_ping", "-H", "$HOSTADDRESS$", "-w", "100,20%", "-c", "200,60%", "-p", "1"]}})),
    )
    .await;
    let bad = crate::client()
        .post(server.url("/api/v1/checks"))
        .bearer_auth(&token)
        .json(&json!({"name": "x", "probe": {"type": "plugin", "command": ["check_ping"]}, "class": "server"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422, "a plugin needs its absolute path");
    let jumpy = crate::client()
        .post(server.url("/api/v1/checks"))
        .bearer_auth(&token)
        .json(&json!({"name": "x", "probe": {"type": "icmp"}, "class": "server", "interval_s": 10, "jitter_s": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(jumpy.status(), 422, "jitter beyond half the interval would swap runs");
    assert!(jumpy.text().await.unwrap().contains("jitter_s"));

    // Up: both checks OK on the host, and the plugin's performance data kept.
    let board = wait_for("the host's checks to pass", 30, async || {
        let b = get_json(&server, "/api/v1/checks/board", &token).await;
        let ours: Vec<&Value> = b.as_array()?.iter().filter(|r| r["item"] == "ns-host").collect();
        (ours.len() == 2 && ours.iter().all(|r| r["status"] == "ok")).then(|| b.clone())
    })
    .await;
    let plugin = board.as_array().unwrap().iter().find(|r| r["check"] == "nagios-ping").unwrap();
    assert!(plugin["output"].as_str().unwrap().starts_with("PING OK"), "{plugin}");
    let checks = get_json(&server, "/api/v1/checks", &token).await;
    let plugin_id = checks.as_array().unwrap().iter().find(|c| c["name"] == "nagios-ping").unwrap()["id"].clone();
    let rta = get_json(&server, &format!("/api/v1/checks/{plugin_id}/samples?item={host}&label=rta"), &token).await;
    assert!(!rta.as_array().unwrap().is_empty(), "check_ping's rta is kept: {rta}");
    // And an existing Prometheus can scrape what was measured.
    let scraper = crate::cli_token(&db, "admin", &["metrics"]);
    let metrics =
        crate::client().get(server.url("/metrics")).bearer_auth(&scraper).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(&format!(
            r#"watchkeeper_check_status{{check="nagios-ping",item="ns-host",item_id="{host}",site=""}} 0"#
        )),
        "{}",
        metrics.lines().filter(|l| l.contains("check_")).collect::<Vec<_>>().join("\n")
    );
    assert!(
        metrics.contains(&format!(
            r#"watchkeeper_check_perfdata{{check="nagios-ping",item="ns-host",item_id="{host}",site="",label="rta",unit="ms"}}"#
        ))
    );

    // Down: the link drops. ICMP goes soft, then hard CRITICAL; an incident opens on the host.
    ns.link(false);
    let incident = wait_for("an incident on the host", 60, async || {
        let list = get_json(&server, "/api/v1/incidents", &token).await;
        list.as_array()?.iter().find(|i| i["item"] == "ns-host").cloned()
    })
    .await;
    let number = incident["number"].as_str().unwrap().to_owned();
    wait_for("the ICMP check to be hard CRITICAL", 30, async || {
        let b = get_json(&server, "/api/v1/checks/board", &token).await;
        let ping = b.as_array()?.iter().find(|r| r["check"] == "ping" && r["item"] == "ns-host")?.clone();
        (ping["status"] == "critical" && ping["state_type"] == "hard").then_some(ping)
    })
    .await;
    // check_ping retries five times before its state is hard, so its alarm joins later than host.down.
    wait_for("the host.down and check_ping alarms on the incident", 60, async || {
        let a = get_json(&server, &format!("/api/v1/alarms?incident={number}"), &token).await;
        let kinds: Vec<&Value> = a.as_array()?.iter().map(|a| &a["kind"]).collect();
        (kinds.contains(&&json!("host.down")) && kinds.contains(&&json!("check"))).then_some(a)
    })
    .await;
    let list = get_json(&server, "/api/v1/incidents", &token).await;
    assert!(!list.as_array().unwrap().iter().any(|i| i["item"] == "ns-app"), "the VM is behind the host: {list}");
    let vm = wait_for("the VM's alarm to be suppressed", 30, async || {
        let a = get_json(&server, "/api/v1/alarms?item=ns-app", &token).await;
        a.as_array()?.iter().find(|a| a["kind"] == "host.down" && a["suppressed_by"] == host).cloned()
    })
    .await;
    assert_eq!(vm["incident"].as_str(), Some(number.as_str()), "shown under the host's incident");

    // Back: the link comes up, the checks recover, and the untouched incident resolves.
    ns.link(true);
    wait_for("the incident to resolve", 60, async || {
        let inc = get_json(&server, &format!("/api/v1/incidents/{number}"), &token).await;
        (inc["state"] == "resolved").then_some(inc)
    })
    .await;
}
