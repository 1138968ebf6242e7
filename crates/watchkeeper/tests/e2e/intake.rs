//! Watchkeeper as an Alertmanager, against the real peers from Debian's packages: Prometheus
//! (an always-firing rule, alerting to Watchkeeper) and amtool (alert add and query, silence
//! add, query and expire). Everything on loopback, from a trusted network without a token.

use crate::{Db, Server, get_json, text};
use std::process::Command;
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs amtool against the server; panics with its output when it fails.
fn amtool(server: &Server, args: &[&str]) -> String {
    let url = format!("--alertmanager.url={}", server.base);
    let out = Command::new("amtool")
        .arg(&url)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("amtool (Debian package prometheus-alertmanager) is needed: {e}"));
    assert!(out.status.success(), "amtool {args:?} failed: {}{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

struct Prometheus(std::process::Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_alerts_to_watchkeeper_and_amtool_queries_and_silences_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let config = tmp.path().join("watchkeeper.toml");
    std::fs::write(&config, "[intake]\ntrusted_networks = [\"127.0.0.1/32\"]\n").unwrap();
    let server = Server::start(&db, &["--config", config.to_str().unwrap()]).unwrap();
    let token = crate::cli_token(&db, "admin", &["read"]);

    // amtool: an alert added by hand, read back with Alertmanager's fingerprint.
    amtool(
        &server,
        &[
            "alert",
            "add",
            "alertname=LinkDown",
            "instance=sw1:ge0/1",
            "severity=critical",
            "--annotation=summary=ge0/1 down",
        ],
    );
    let listed: serde_json::Value = serde_json::from_str(&amtool(&server, &["-o", "json", "alert", "query"])).unwrap();
    let link = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["alertname"] == "LinkDown")
        .expect("LinkDown listed")
        .clone();
    assert_eq!(link["fingerprint"], "3df259f48d980152");
    assert_eq!(link["annotations"]["summary"], "ge0/1 down");
    assert_eq!(link["status"]["state"], "active");

    // A silence mutes it: gone from the default query, there with --silenced.
    let id = amtool(
        &server,
        &[
            "silence",
            "add",
            "instance=sw1:ge0/1",
            "--comment=RMA swap of the uplink module",
            "--author=engineer",
            "--duration=1h",
        ],
    );
    let id = id.trim().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let quiet = amtool(&server, &["alert", "query", "alertname=LinkDown"]);
    assert!(!quiet.contains("LinkDown"), "{quiet}");
    let muted: serde_json::Value =
        serde_json::from_str(&amtool(&server, &["-o", "json", "alert", "query", "--silenced", "alertname=LinkDown"]))
            .unwrap();
    assert_eq!(muted[0]["status"]["state"], "suppressed");
    assert_eq!(muted[0]["status"]["silencedBy"][0], id.as_str());
    let silences = amtool(&server, &["silence", "query"]);
    assert!(silences.contains(&id) && silences.contains("RMA swap"), "{silences}");
    amtool(&server, &["silence", "expire", &id]);
    assert!(!amtool(&server, &["silence", "query", "-q"]).contains(&id));
    assert!(amtool(&server, &["silence", "query", "--expired", "-q"]).contains(&id));
    assert!(
        amtool(&server, &["alert", "query", "alertname=LinkDown"]).contains("LinkDown"),
        "firing again once the silence ended"
    );
    // Who silenced is in the audit log: the trusted source, with the author amtool gave.
    let audit: serde_json::Value = get_json(
        &server,
        &format!("/api/v1/audit?target_id={id}&sort=seq"),
        &crate::cli_token(&db, "admin", &["audit"]),
    )
    .await;
    let actions: Vec<(&str, &str)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(actions, [("silence.create", "intake@127.0.0.1"), ("silence.expire", "intake@127.0.0.1")]);

    // Prometheus with an always-firing rule, its alertmanager set to Watchkeeper.
    let port = free_port();
    let target = server.base.trim_start_matches("http://").to_owned();
    std::fs::write(tmp.path().join("rules.yml"), "groups:\n- name: lab\n  rules:\n  - alert: AlwaysFiring\n    expr: vector(1)\n    labels: {severity: warning}\n    annotations: {summary: the lab rule fires}\n").unwrap();
    std::fs::write(
        tmp.path().join("prometheus.yml"),
        format!(
            "global: {{evaluation_interval: 1s, scrape_interval: 1h, external_labels: {{site: lab}}}}\n\
             rule_files: [rules.yml]\n\
             alerting: {{alertmanagers: [{{static_configs: [{{targets: ['{target}']}}]}}]}}\n"
        ),
    )
    .unwrap();
    let _prometheus = Prometheus(
        Command::new("prometheus")
            .current_dir(tmp.path())
            .args([
                "--config.file=prometheus.yml",
                "--storage.tsdb.path=prom-data",
                &format!("--web.listen-address=127.0.0.1:{port}"),
                "--rules.alert.resend-delay=1s",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("prometheus (Debian package prometheus) is needed: {e}")),
    );
    let mut seen = None;
    for _ in 0..60 {
        let alerts: serde_json::Value =
            get_json(&server, "/api/v2/alerts?filter=alertname%3D%22AlwaysFiring%22", &token).await;
        if let Some(a) = alerts.as_array().and_then(|a| a.first()) {
            seen = Some(a.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let fired = seen.expect("Prometheus delivered AlwaysFiring within 30 s");
    assert_eq!(fired["labels"]["site"], "lab", "external labels come merged in: {fired}");
    assert_eq!(fired["annotations"]["summary"], "the lab rule fires");
    assert!(fired["generatorURL"].as_str().unwrap().contains("vector"), "{fired}");
    // And amtool sees what Prometheus sent.
    assert!(amtool(&server, &["alert", "query", "alertname=AlwaysFiring"]).contains("AlwaysFiring"));
}
