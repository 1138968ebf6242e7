//! Watchkeeper as an Alertmanager, against the real peers from Debian's packages: Prometheus
//! (an always-firing rule, alerting to Watchkeeper) and amtool (alert add and query, silence
//! add, query and expire). Everything on loopback, from a trusted network without a token.

use crate::{Db, Server, free_port, get_json, text};
use std::process::Command;
use std::time::Duration;

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

/// Runs amtool expecting the server to refuse; returns all it said.
fn amtool_refused(server: &Server, args: &[&str]) -> String {
    let out = Command::new("amtool").arg(format!("--alertmanager.url={}", server.base)).args(args).output().unwrap();
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "amtool {args:?} succeeded: {said}");
    said
}

/// What `/metrics` shows a scraper's token.
async fn scrape(server: &Server, db: &Db) -> String {
    let r = reqwest::Client::new()
        .get(server.url("/metrics"))
        .bearer_auth(crate::cli_token(db, "admin", &["metrics"]))
        .send()
        .await
        .unwrap();
    r.text().await.unwrap()
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
    // Refusals reach the user in words amtool can read, not as a media type it cannot.
    let said = amtool_refused(&server, &["silence", "add", "--comment=x", "--author=e2e", "instance=~.*"]);
    assert!(said.contains("empty string") && !said.contains("no consumer"), "{said}");
    let said = amtool_refused(&server, &["silence", "expire", "00000000-0000-0000-0000-000000000000"]);
    assert!(!said.contains("no consumer"), "{said}");
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

/// util-linux `logger` sends Cisco messages over UDP and TCP, RFC 3164 and RFC 5424; each
/// becomes a typed event on the item whose management address sent it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logger_messages_over_udp_and_tcp_become_typed_events_on_their_item() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let (udp, tcp) = (free_port(), free_port());
    let config = tmp.path().join("watchkeeper.toml");
    std::fs::write(&config, format!("[intake]\nsyslog_udp = \"127.0.0.1:{udp}\"\nsyslog_tcp = \"127.0.0.1:{tcp}\"\n"))
        .unwrap();
    let server = Server::start(&db, &["--config", config.to_str().unwrap(), "--demo"]).unwrap();
    assert!(
        server.startup.contains("Syslog listening on UDP") && server.startup.contains("Syslog listening on TCP"),
        "{}",
        server.startup
    );
    // The lab switch is the one at 127.0.0.1.
    crate::tls_provider();
    let admin = crate::cli_token(&db, "admin", &["read", "write"]);
    let made = reqwest::Client::new()
        .post(server.url("/api/v1/items"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"name": "lab-sw1", "class": "switch", "site": "plant-north", "vendor": "Cisco", "mgmt_address": "127.0.0.1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let item: serde_json::Value = made.json().await.unwrap();

    // util-linux logger to Watchkeeper on `port` over `transport` (`--udp` or `--tcp`).
    let logger = |port: u16, transport: &str, args: &[&str]| {
        let port = port.to_string();
        let out = Command::new("logger")
            .args(["--server", "127.0.0.1", "--port", &port, transport])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("logger (util-linux/bsdutils) is needed: {e}"));
        assert!(out.status.success(), "logger {args:?}: {}", text(&out.stderr));
    };
    logger(
        udp,
        "--udp",
        &[
            "--rfc3164",
            "-p",
            "local7.err",
            "-t",
            "IOS",
            "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down",
        ],
    );
    logger(
        udp,
        "--udp",
        &[
            "--rfc5424",
            "-p",
            "local7.notice",
            "-t",
            "IOS",
            "%BGP-5-ADJCHANGE: neighbor 10.100.1.2 vpn vrf CUST-A Down BGP Notification sent",
        ],
    );
    logger(
        tcp,
        "--tcp",
        &[
            "--rfc5424",
            "--octet-count",
            "-p",
            "local7.notice",
            "-t",
            "IOS",
            "--msgid",
            "LINEPROTO-5-UPDOWN",
            "%LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/1, changed state to down",
        ],
    );
    logger(
        tcp,
        "--tcp",
        &[
            "--rfc3164",
            "-p",
            "local7.warning",
            "-t",
            "asa1",
            "%ASA-4-106023: Deny tcp src outside:198.51.100.7/51515 dst inside:10.0.0.5/22 by access-group \"outside_in\" [0x0, 0x0]",
        ],
    );
    logger(tcp, "--tcp", &["--rfc3164", "-p", "user.info", "-t", "cron", "backup job finished in 42 s"]);

    let token = crate::cli_token(&db, "admin", &["read"]);
    let mut events = serde_json::Value::Null;
    for _ in 0..50 {
        events = get_json(&server, "/api/v1/events?limit=50", &token).await;
        if events.as_array().is_some_and(|e| e.len() >= 5) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = events.as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 5, "{events:?}");
    let by_kind =
        |k: &str| events.iter().find(|e| e["kind"] == k).unwrap_or_else(|| panic!("no {k} event: {events:?}")).clone();
    let link = by_kind("interface");
    assert_eq!(
        (link["object"].as_str(), link["up"].as_bool(), link["severity"].as_str()),
        (Some("GigabitEthernet0/1"), Some(false), Some("error"))
    );
    assert_eq!(
        (link["item_id"].as_i64(), link["sender"].as_str(), link["source"].as_str()),
        (item["id"].as_i64(), Some("127.0.0.1"), Some("syslog"))
    );
    assert_eq!(link["mnemonic"], "LINK-3-UPDOWN");
    let bgp = by_kind("bgp.session");
    assert_eq!((bgp["object"].as_str(), bgp["fields"]["vrf"].as_str()), (Some("10.100.1.2"), Some("CUST-A")));
    assert_eq!(by_kind("line-protocol")["up"], false);
    let deny = by_kind("firewall.deny");
    assert_eq!(
        (deny["fields"]["source"].as_str(), deny["object"].as_str()),
        (Some("outside:198.51.100.7/51515"), Some("outside_in"))
    );
    let raw = by_kind("raw");
    assert_eq!(raw["text"], "backup job finished in 42 s");
    // Filters: by kind, by item, by words, by severity.
    let only: serde_json::Value = get_json(&server, "/api/v1/events?kind=interface&item=lab-sw1", &token).await;
    assert_eq!(only.as_array().unwrap().len(), 1);
    let words: serde_json::Value = get_json(&server, "/api/v1/events?q=backup%20finished", &token).await;
    assert_eq!(words.as_array().unwrap().len(), 1);
    let errors: serde_json::Value = get_json(&server, "/api/v1/events?severity=error", &token).await;
    assert_eq!(errors.as_array().unwrap().len(), 1, "only the link went down at error: {errors}");
    // The same store from a shell, beside the running server.
    let out = crate::cli(&db, &["events", "backup", "finished", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        found.as_array().map(|a| a.iter().map(|e| e["text"].clone()).collect::<Vec<_>>()),
        Some(vec![raw["text"].clone()])
    );
    let out = crate::cli(&db, &["events", "--item", "lab-sw1", "--severity", "error"], None);
    let table = text(&out.stdout);
    assert!(out.status.success() && table.starts_with("RECEIVED") && table.lines().count() == 2, "{table}");
    assert!(table.contains("interface") && table.contains("error"), "{table}");
    let bad = crate::cli(&db, &["events", "--severity", "loud"], None);
    assert!(!bad.status.success() && text(&bad.stderr).contains("not a severity"), "{}", text(&bad.stderr));
    // The link down is an open alarm on the switch, for `watchkeeper alarms` too.
    let mut alarms = serde_json::Value::Null;
    for _ in 0..100 {
        let out = crate::cli(&db, &["alarms", "--item", "lab-sw1", "--json"], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        alarms = serde_json::from_slice(&out.stdout).unwrap();
        if alarms.as_array().is_some_and(|a| a.iter().any(|a| a["kind"] == "interface")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let link =
        alarms.as_array().unwrap().iter().find(|a| a["kind"] == "interface").unwrap_or_else(|| panic!("{alarms}"));
    assert_eq!(link["state"], "open", "{link}");
    let table = text(&crate::cli(&db, &["alarms", "--item", "lab-sw1"], None).stdout);
    assert!(table.starts_with("OPENED") && table.contains("open") && table.contains("interface"), "{table}");
    // What did not read is counted, and the rest of the traffic carries on.
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.send_to(b"\x00\x01not syslog at all", ("127.0.0.1", udp)).unwrap();
    logger(udp, "--udp", &["--rfc3164", "-t", "IOS", "%SYS-5-CONFIG_I: Configured from console"]);
    for _ in 0..50 {
        let n = get_json(&server, "/api/v1/events?kind=raw", &token).await.as_array().map_or(0, Vec::len);
        if n == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let metrics = scrape(&server, &db).await;
    assert!(
        metrics.contains("watchkeeper_intake_records_total{decoder=\"syslog\",outcome=\"unreadable\"} 1"),
        "{metrics}"
    );
    assert_eq!(get_json(&server, "/api/v1/events?kind=raw", &token).await.as_array().map_or(0, Vec::len), 2);
}

/// Syslog over TLS (RFC 5425) with the server's certificate: an octet-counted Cisco message
/// sent through `openssl s_client` becomes a typed event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syslog_over_tls_is_received_with_the_servers_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let (cert, key) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (Debian package openssl) is needed");
    assert!(made.status.success());
    let db = Db::fresh(false, tmp.path()).await;
    let port = free_port();
    let config = tmp.path().join("watchkeeper.toml");
    std::fs::write(&config, format!("[intake]\nsyslog_tls = \"127.0.0.1:{port}\"\n")).unwrap();
    let server = Server::start(
        &db,
        &[
            "--config",
            config.to_str().unwrap(),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    )
    .unwrap();
    assert!(server.startup.contains("Syslog listening on TLS"), "{}", server.startup);
    let msg = "<187>1 2026-11-22T07:17:26Z core1 IOS - - - %LINK-3-UPDOWN: Interface GigabitEthernet0/2, changed state to down";
    let frame = format!("{} {msg}", msg.len());
    let mut sent = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}"), "-quiet", "-no_ign_eof"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        sent.stdin.take().unwrap().write_all(frame.as_bytes()).unwrap();
    }
    let _ = sent.wait();
    let token = crate::cli_token(&db, "admin", &["read"]);
    let mut listed = String::new();
    for _ in 0..50 {
        let out = Command::new("curl")
            .args([
                "-sk",
                "-H",
                &format!("Authorization: Bearer {token}"),
                &server.url("/api/v1/events?kind=interface"),
            ])
            .output()
            .expect("curl (Debian package curl) is needed");
        listed = text(&out.stdout);
        if listed.contains("GigabitEthernet0/2") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(events[0]["object"], "GigabitEthernet0/2", "{listed}");
    assert_eq!(events[0]["up"], false);
    // Without the server's certificate there is no TLS listener: the server says so and stops.
    drop(server);
    let refused = Server::start(&db, &["--config", config.to_str().unwrap()]).err().expect("refused to start");
    assert!(refused.contains("syslog over TLS needs the server's tls_cert and tls_key"), "{refused}");
}

/// TCP syslog connections are bounded: one more than allowed is closed at once (and counted),
/// a silent one is closed after the idle timeout, and the slot it frees takes a new sender.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syslog_tcp_connections_are_bounded_and_silent_ones_closed() {
    use std::io::{Read, Write};
    use std::time::Instant;
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let tcp = free_port();
    let config = tmp.path().join("watchkeeper.toml");
    std::fs::write(
        &config,
        format!(
            "[intake]\nsyslog_tcp = \"127.0.0.1:{tcp}\"\nsyslog_max_connections = 2\nsyslog_idle_timeout_seconds = 3\n"
        ),
    )
    .unwrap();
    let server = Server::start(&db, &["--config", config.to_str().unwrap()]).unwrap();
    let connect = || std::net::TcpStream::connect(("127.0.0.1", tcp)).unwrap();
    // How long until the server closes `s` (None: still open after `secs`).
    let closed_after = |s: &mut std::net::TcpStream, secs: u64| -> Option<Duration> {
        let start = Instant::now();
        s.set_read_timeout(Some(Duration::from_secs(secs))).unwrap();
        let mut b = [0u8; 16];
        match s.read(&mut b) {
            Ok(0) => Some(start.elapsed()),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Some(start.elapsed()),
            _ => None,
        }
    };
    let message = |host: &str| format!("<189>Dec  7 10:00:00 {host} %SYS-5-CONFIG_I: Configured from console\n");

    let (mut talking, mut silent) = (connect(), connect());
    let mut third = connect();
    let refused = closed_after(&mut third, 2).expect("a third connection is closed");
    assert!(refused < Duration::from_secs(2), "closed at once, not after the idle timeout: {refused:?}");
    talking.write_all(message("sw1").as_bytes()).unwrap();
    let idle = closed_after(&mut silent, 10).expect("a silent connection is closed after the idle timeout");
    assert!(idle >= Duration::from_millis(500), "not before its silence: {idle:?}");
    // Its slot takes a new sender, whose message is stored like the first one's.
    let mut next = connect();
    next.write_all(message("sw2").as_bytes()).unwrap();
    let token = crate::cli_token(&db, "admin", &["read"]);
    let mut hosts = Vec::new();
    for _ in 0..50 {
        let events = get_json(&server, "/api/v1/events", &token).await;
        hosts = events.as_array().unwrap().iter().map(|e| e["host"].as_str().unwrap_or("").to_owned()).collect();
        if hosts.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    hosts.sort();
    assert_eq!(hosts, ["sw1", "sw2"]);
    let metrics = scrape(&server, &db).await;
    assert!(metrics.contains("watchkeeper_syslog_connections_total{outcome=\"refused\"} 1"), "{metrics}");
    assert!(metrics.contains("watchkeeper_syslog_connections_total{outcome=\"closed_idle\"}"), "{metrics}");
}
