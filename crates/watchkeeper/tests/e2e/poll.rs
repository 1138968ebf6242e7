//! SNMP polling of a device this test makes: net-snmp's `snmpd` in a network namespace (never
//! an outside address), reached over one veth pair and owning a second, "data" pair whose far
//! end the test pulls. Polled over SNMPv3 (SHA/AES) by a check defined in bulk for its class:
//! the interface's traffic is kept as samples and exposed on /metrics; the data link going
//! down is an `interface` alarm and an incident on the device, its return clears the alarm;
//! restarting the agent is a `device.restart` event.

use crate::{Db, Server, get_json, wait_for};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap_or_else(|e| panic!("ip (Debian package iproute2): {e}"));
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The namespace, its two veth pairs, and snmpd in it; all removed when dropped.
struct Device {
    ns: String,
    mgmt_if: String,
    data_if: String,
    /// The data interface's name inside the namespace: what the agent calls it.
    port: String,
    address: String,
    dir: tempfile::TempDir,
    snmpd: Option<Child>,
}

impl Device {
    fn new() -> Device {
        let n = std::process::id() % 200 + 20;
        let ns = format!("wk-poll-{n}");
        let (mgmt_if, mgmt_peer, data_if, port) =
            (format!("wkm{n}"), format!("wkn{n}"), format!("wkd{n}"), format!("wkq{n}"));
        let _ = Command::new("ip").args(["netns", "del", &ns]).output();
        for i in [&mgmt_if, &data_if] {
            let _ = Command::new("ip").args(["link", "del", i]).output();
        }
        ip(&["netns", "add", &ns]);
        ip(&["link", "add", &mgmt_if, "type", "veth", "peer", "name", &mgmt_peer]);
        ip(&["link", "add", &data_if, "type", "veth", "peer", "name", &port]);
        ip(&["link", "set", &mgmt_peer, "netns", &ns]);
        ip(&["link", "set", &port, "netns", &ns]);
        ip(&["addr", "add", &format!("10.232.{n}.1/30"), "dev", &mgmt_if]);
        ip(&["link", "set", &mgmt_if, "up"]);
        ip(&["link", "set", &data_if, "up"]);
        ip(&["-n", &ns, "addr", "add", &format!("10.232.{n}.2/30"), "dev", &mgmt_peer]);
        for i in [mgmt_peer.as_str(), port.as_str(), "lo"] {
            ip(&["-n", &ns, "link", "set", i, "up"]);
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("snmpd.conf"),
            "createUser poller SHA \"authpass123\" AES \"privpass123\"\nrouser poller authpriv\n",
        )
        .unwrap();
        let mut d = Device { ns, mgmt_if, data_if, port, address: format!("10.232.{n}.2"), dir, snmpd: None };
        d.start_agent();
        d
    }

    fn start_agent(&mut self) {
        let conf = self.dir.path().join("snmpd.conf");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns, "/usr/sbin/snmpd", "-f", "-Lo", "-C", "-c"])
            .arg(&conf)
            .args(["-m", "", "-M", "/dev/null", "-I", "-smux", &format!("udp:{}:161", self.address)])
            .env("SNMP_PERSISTENT_DIR", self.dir.path().join("persist"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("snmpd (Debian package snmpd): {e}"));
        self.snmpd = Some(child);
    }

    fn restart_agent(&mut self) {
        if let Some(mut c) = self.snmpd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.start_agent();
    }

    /// Pulls the data link's far end: the agent's port loses carrier while still admin up.
    fn data_link(&self, up: bool) {
        ip(&["link", "set", &self.data_if, if up { "up" } else { "down" }]);
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        if let Some(mut c) = self.snmpd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        for i in [&self.mgmt_if, &self.data_if] {
            let _ = Command::new("ip").args(["link", "del", i]).output();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polled_switch_reports_traffic_a_dead_link_and_a_restart() {
    let mut device = Device::new();
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let secret = |name: &str, value: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, format!("{value}\n")).unwrap();
        p.display().to_string()
    };
    let (auth, privacy) = (secret("auth", "authpass123"), secret("priv", "privpass123"));
    let config = tmp.path().join("watchkeeper.toml");
    std::fs::write(
        &config,
        format!(
            "[intake]\nsettle_seconds = 1\n[[intake.snmp_credentials]]\nname = \"lab-v3\"\nuser = \"poller\"\n\
             auth = \"SHA\"\nauth_password_file = \"{auth}\"\nprivacy = \"AES\"\nprivacy_password_file = \"{privacy}\"\n"
        ),
    )
    .unwrap();
    let server = Server::start(&db, &["--config", config.to_str().unwrap()]).unwrap();
    assert!(!server.startup.contains("authpass123"), "passphrases stay out of the log");
    let token = crate::cli_token(&db, "admin", &["read", "write"]);
    let post = async |path: &str, body: Value| {
        let r = crate::client().post(server.url(path)).bearer_auth(&token).json(&body).send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let item = post(
        "/api/v1/items",
        json!({"name": "ns-switch", "class": "switch", "criticality": "high", "mgmt_address": device.address}),
    )
    .await["id"]
        .clone();
    // Defined for the class, as a NOC defines polling for every switch at once.
    let check = post(
        "/api/v1/checks",
        json!({"name": "if-mib", "class": "network-device", "interval_s": 2, "retry_interval_s": 2, "timeout_s": 10,
               "probe": {"type": "snmp", "credential": "lab-v3", "interfaces": "^wk"}}),
    )
    .await["id"]
        .clone();

    // Up: polled, both interfaces up, and traffic rates from the second poll on.
    let board = wait_for("the switch's poll with rates", 60, async || {
        let b = get_json(&server, "/api/v1/checks/board", &token).await;
        let row = b.as_array()?.iter().find(|r| r["check"] == "if-mib" && r["item"] == "ns-switch")?.clone();
        (row["status"] == "ok" && row["output"].as_str()?.contains("peak utilisation")).then_some(row)
    })
    .await;
    assert!(board["output"].as_str().unwrap().contains("2 interfaces, 2 up"), "{board}");
    let label = format!("{}:in_bps", device.port);
    let samples = get_json(&server, &format!("/api/v1/checks/{check}/samples?item={item}&label={label}"), &token).await;
    assert!(!samples.as_array().unwrap().is_empty(), "the data port's traffic is kept: {samples}");
    let scraper = crate::cli_token(&db, "admin", &["metrics"]);
    let metrics =
        crate::client().get(server.url("/metrics")).bearer_auth(&scraper).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(&format!(
            r#"watchkeeper_check_perfdata{{check="if-mib",item="ns-switch",item_id="{item}",site="",label="{}:in_util",unit="%"}}"#,
            device.port
        )),
        "{}",
        metrics.lines().filter(|l| l.contains("if-mib")).collect::<Vec<_>>().join("\n")
    );

    // Down: the data link's far end is pulled; the agent's port loses carrier.
    device.data_link(false);
    let alarm = wait_for("an interface alarm on the switch", 60, async || {
        let a = get_json(&server, "/api/v1/alarms?item=ns-switch", &token).await;
        a.as_array()?.iter().find(|a| a["kind"] == "interface" && a["object"] == device.port.as_str()).cloned()
    })
    .await;
    assert_eq!(alarm["state"], "open", "{alarm}");
    wait_for("an incident on the switch", 30, async || {
        let list = get_json(&server, "/api/v1/incidents", &token).await;
        list.as_array()?.iter().find(|i| i["item"] == "ns-switch").cloned()
    })
    .await;

    // Back: the link returns and the alarm clears.
    device.data_link(true);
    wait_for("the interface alarm to clear", 60, async || {
        let a = get_json(&server, &format!("/api/v1/alarms/{}", alarm["id"]), &token).await;
        (a["state"] == "cleared").then_some(a)
    })
    .await;

    // The agent restarts: an event says so.
    device.restart_agent();
    let restarts = async |server: &Server| {
        let events = get_json(server, "/api/v1/events?kind=device.restart&limit=100", &token).await;
        events.as_array().map_or(0, |a| a.iter().filter(|e| e["item_id"] == item).count())
    };
    wait_for("a restart event", 60, async || (restarts(&server).await == 1).then_some(Value::Null)).await;

    // Watchkeeper is killed and the device reboots while it is down: the first poll after
    // Watchkeeper's start is judged against the last one before, so the reboot is not missed.
    drop(server);
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    device.restart_agent();
    let server = Server::start(&db, &["--config", config.to_str().unwrap()]).unwrap();
    wait_for("the reboot seen across Watchkeeper's restart", 60, async || {
        (restarts(&server).await == 2).then_some(Value::Null)
    })
    .await;
}
