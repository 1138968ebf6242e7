//! SNMP notifications from net-snmp's own tools (Debian package `snmp`): v1 and v2c traps by
//! community, v2c and v3 informs that `snmpinform` sees acknowledged, and v3 traps with SHA/AES and
//! MD5/DES authPriv — each an event on the right item; a wrong community and a wrong
//! passphrase are refused and counted, and the listener carries on.

use crate::{Db, Server, free_port, get_json, text};
use std::process::{Command, Output};
use std::time::Duration;

/// Runs a net-snmp command without MIBs (Debian ships none), its state in `dir`.
fn net_snmp(dir: &std::path::Path, tool: &str, args: &[&str]) -> Output {
    Command::new(tool)
        .args(args)
        .env("SNMP_PERSISTENT_DIR", dir)
        .env("MIBS", "")
        .env("MIBDIRS", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("{tool} (Debian package snmp) is needed: {e}"))
}

async fn events_of_kind(server: &Server, token: &str, n: usize) -> serde_json::Value {
    for _ in 0..100 {
        let events = get_json(server, "/api/v1/events?limit=50", token).await;
        if events.as_array().is_some_and(|a| a.iter().filter(|e| e["source"] == "snmp-trap").count() >= n) {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} trap events arrived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_snmp_traps_and_informs_become_events_on_their_item() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let port = free_port();
    let secret = |name: &str, value: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, format!("{value}\n")).unwrap();
        p.display().to_string()
    };
    let communities = secret("communities", "public\nplant-ro");
    let (auth, privacy) = (secret("auth", "authpass123"), secret("priv", "privpass123"));
    let config = tmp.path().join("watchkeeper.toml");
    std::fs::write(
        &config,
        format!(
            "[intake]\nsnmp_traps = \"127.0.0.1:{port}\"\nsnmp_community_file = \"{communities}\"\n\
             [[intake.snmp_users]]\nname = \"trapuser\"\nauth = \"SHA\"\nauth_password_file = \"{auth}\"\n\
             privacy = \"AES\"\nprivacy_password_file = \"{privacy}\"\n\
             [[intake.snmp_users]]\nname = \"desuser\"\nauth = \"MD5\"\nauth_password_file = \"{auth}\"\n\
             privacy = \"DES\"\nprivacy_password_file = \"{privacy}\"\n"
        ),
    )
    .unwrap();
    let server = Server::start(&db, &["--config", config.to_str().unwrap(), "--demo"]).unwrap();
    assert!(server.startup.contains("SNMP notifications received on UDP"), "{}", server.startup);
    assert!(!server.startup.contains("authpass123"), "passphrases stay out of the log");
    crate::tls_provider();
    let admin = crate::cli_token(&db, "admin", &["read", "write"]);
    let lab = reqwest::Client::new()
        .post(server.url("/api/v1/items"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"name": "lab-sw1", "class": "switch", "site": "plant-north", "mgmt_address": "127.0.0.1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(lab.status(), 201);
    let lab_id = lab.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();
    let to = format!("127.0.0.1:{port}");
    let dir = tmp.path().join("net-snmp");
    let if4 = ["1.3.6.1.2.1.2.2.1.1.4", "i", "4", "1.3.6.1.2.1.31.1.1.1.1.4", "s", "Gi1/0/4"];
    let sent = |tool: &str, args: &[&str]| {
        let out = net_snmp(&dir, tool, args);
        assert!(out.status.success(), "{tool} {args:?}: {}{}", text(&out.stdout), text(&out.stderr));
    };

    // Refused first: an unknown community and a wrong passphrase.
    sent("snmptrap", &["-v", "2c", "-c", "wrong", &to, "", "1.3.6.1.6.3.1.1.5.3"]);
    sent(
        "snmptrap",
        &[
            "-v",
            "3",
            "-e",
            "0x8000000001020304",
            "-u",
            "trapuser",
            "-l",
            "authPriv",
            "-a",
            "SHA",
            "-A",
            "not-the-pass",
            "-x",
            "AES",
            "-X",
            "privpass123",
            &to,
            "",
            "1.3.6.1.6.3.1.1.5.3",
        ],
    );
    // v2c linkDown from the lab switch, v1 linkUp naming pn-cell-sw2 as its agent, a v2c inform.
    let mut v2c = vec!["-v", "2c", "-c", "public", &to, "", "1.3.6.1.6.3.1.1.5.3"];
    v2c.extend(if4);
    sent("snmptrap", &v2c);
    sent(
        "snmptrap",
        &[
            "-v",
            "1",
            "-c",
            "plant-ro",
            &to,
            "1.3.6.1.4.1.9.1.1",
            "10.20.1.3",
            "3",
            "0",
            "",
            "1.3.6.1.2.1.2.2.1.1.7",
            "i",
            "7",
        ],
    );
    sent("snmpinform", &["-v", "2c", "-c", "public", "-r", "0", "-t", "3", &to, "", "1.3.6.1.6.3.1.1.5.1"]);
    // The SHA/AES user both v3 senders below speak as.
    let sha_aes =
        ["-u", "trapuser", "-l", "authPriv", "-a", "SHA", "-A", "authpass123", "-x", "AES", "-X", "privpass123"];
    // A v3 inform: snmpinform discovers Watchkeeper's engine, sends at it, and succeeds only
    // once its inform is acknowledged.
    let mut v3_inform = vec!["-v", "3"];
    v3_inform.extend(sha_aes);
    v3_inform.extend(["-r", "0", "-t", "3", &to, "", "1.3.6.1.6.3.1.1.5.2"]);
    sent("snmpinform", &v3_inform);
    // v3 authPriv, SHA/AES and MD5/DES, with an engine ID of the sender's.
    let mut v3 = vec!["-v", "3", "-e", "0x8000000001020304"];
    v3.extend(sha_aes);
    v3.extend([&to, "", "1.3.6.1.6.3.1.1.5.4"]);
    v3.extend(if4);
    sent("snmptrap", &v3);
    sent(
        "snmptrap",
        &[
            "-v",
            "3",
            "-e",
            "0x8000000001020305",
            "-u",
            "desuser",
            "-l",
            "authPriv",
            "-a",
            "MD5",
            "-A",
            "authpass123",
            "-x",
            "DES",
            "-X",
            "privpass123",
            &to,
            "",
            "1.3.6.1.6.3.1.1.5.5",
        ],
    );

    let events = events_of_kind(&server, &admin, 6).await;
    let traps: Vec<&serde_json::Value> =
        events.as_array().unwrap().iter().filter(|e| e["source"] == "snmp-trap").collect();
    assert_eq!(traps.len(), 6, "the refused two are not stored: {events}");
    let find = |mnemonic: &str, version: &str| {
        traps
            .iter()
            .find(|e| e["mnemonic"] == mnemonic && e["fields"]["snmp_version"] == version)
            .unwrap_or_else(|| panic!("no {mnemonic} {version}: {traps:?}"))
    };
    let down = find("linkDown", "v2c");
    assert_eq!(
        (down["kind"].as_str(), down["object"].as_str(), down["up"].as_bool()),
        (Some("interface"), Some("Gi1/0/4"), Some(false))
    );
    assert_eq!(down["item_id"], lab_id);
    let v1 = find("linkUp", "v1");
    assert_eq!((v1["sender"].as_str(), v1["object"].as_str()), (Some("10.20.1.3"), Some("ifIndex 7")));
    let cell2 = get_json(&server, "/api/v1/items?q=pn-cell-sw2", &admin).await["items"][0]["id"].clone();
    assert_eq!(v1["item_id"], cell2, "the v1 agent address names the item");
    assert_eq!(find("coldStart", "v2c")["kind"], "device.restart", "the inform was stored (and answered)");
    let warm = find("warmStart", "v3");
    assert_eq!((warm["kind"].as_str(), warm["fields"]["user"].as_str()), (Some("device.restart"), Some("trapuser")));
    let up = find("linkUp", "v3");
    assert_eq!((up["fields"]["user"].as_str(), up["object"].as_str()), (Some("trapuser"), Some("Gi1/0/4")));
    assert_eq!(find("authenticationFailure", "v3")["fields"]["user"], "desuser");

    let metrics_token = crate::cli_token(&db, "admin", &["metrics"]);
    let metrics = reqwest::Client::new().get(server.url("/metrics")).bearer_auth(&metrics_token).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("watchkeeper_intake_records_total{decoder=\"snmp\",outcome=\"refused\"} 2"),
        "{}",
        metrics.lines().filter(|l| l.contains("intake")).collect::<Vec<_>>().join("\n")
    );
}
