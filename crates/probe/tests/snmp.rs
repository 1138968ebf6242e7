//! SNMP polling against net-snmp's `snmpd` (Debian package `snmpd`) on loopback: v2c and v3
//! (SHA-256/AES and MD5/DES users) read sysUpTime and IF-MIB, the second poll gives rates for
//! the loopback interface (this test's own requests are traffic on it), a restart of the agent
//! is seen as one, and a wrong community or passphrase says so rather than reading nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use model::check::{Probe, Status};
use probe::{Credential, Probes, Target};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

struct Snmpd {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Snmpd {
    fn start() -> Snmpd {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("snmpd.conf"),
            "rocommunity public 127.0.0.1\n\
             createUser poller SHA-256 \"authpass123\" AES \"privpass123\"\nrouser poller authpriv\n\
             createUser oldpoller MD5 \"authpass123\" DES \"privpass123\"\nrouser oldpoller authpriv\n",
        )
        .unwrap();
        let port = free_udp_port();
        Snmpd { child: Snmpd::spawn(dir.path(), port), dir, port }
    }

    fn spawn(dir: &std::path::Path, port: u16) -> Child {
        let mut child = Command::new("/usr/sbin/snmpd")
            .env("SNMP_PERSISTENT_DIR", dir.join("persist"))
            .args(["-f", "-Lo", "-C", "-c"])
            .arg(dir.join("snmpd.conf"))
            .args(["-m", "", "-M", "/dev/null", "-I", "-smux", &format!("udp:127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("snmpd (Debian package snmpd): {e}"));
        // Ready when it answers.
        for _ in 0..50 {
            let out = Command::new("snmpget")
                .args(["-v2c", "-c", "public", "-r0", "-t1", "-On", &format!("127.0.0.1:{port}"), "1.3.6.1.2.1.1.3.0"])
                .output()
                .unwrap_or_else(|e| panic!("snmpget (Debian package snmp): {e}"));
            if out.status.success() {
                return child;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("snmpd did not answer on 127.0.0.1:{port}");
    }

    fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = Snmpd::spawn(self.dir.path(), self.port);
    }
}

impl Drop for Snmpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn v3(name: &str, auth: &str, auth_pass: &str, privacy: &str) -> Credential {
    use intake::snmp::usm::{AuthProtocol, PrivProtocol, User, UserKeys};
    Credential::V3(Arc::new(UserKeys::new(User {
        name: name.into(),
        auth: Some((AuthProtocol::parse(auth).unwrap(), auth_pass.into())),
        privacy: Some((PrivProtocol::parse(privacy).unwrap(), "privpass123".into())),
    })))
}

fn probes() -> Probes {
    Probes::new().with_snmp_credentials(HashMap::from([
        ("public".to_owned(), Credential::V2c { community: "public".into() }),
        ("wrong-community".to_owned(), Credential::V2c { community: "guess".into() }),
        ("sha-aes".to_owned(), v3("poller", "SHA-256", "authpass123", "AES")),
        ("md5-des".to_owned(), v3("oldpoller", "MD5", "authpass123", "DES")),
        ("wrong-pass".to_owned(), v3("poller", "SHA-256", "not-the-pass", "AES")),
    ]))
}

fn spec(credential: &str, port: u16) -> Probe {
    serde_json::from_value(serde_json::json!({"type": "snmp", "credential": credential, "port": port})).unwrap()
}

fn target() -> Target {
    Target { address: "127.0.0.1".into(), name: "lab-agent".into() }
}

#[tokio::test]
async fn polls_if_mib_over_v2c_and_v3_and_sees_the_agent_restart() {
    let mut agent = Snmpd::start();
    let probes = probes();
    let t = target();
    let timeout = Duration::from_secs(10);
    let mut public = None;
    for credential in ["public", "sha-aes", "md5-des"] {
        let first = probes.run(&spec(credential, agent.port), &t, timeout).await;
        assert_eq!(first.status, Status::Ok, "{credential}: {}", first.output.text);
        assert!(first.output.text.contains("rates from the next poll"), "{}", first.output.text);
        assert!(first.output.text.contains(" up"), "{}", first.output.text);
        // snmpd caches interface counters for a few seconds; the first credential waits
        // that out to see traffic, the others only that rates are there.
        let wait = if credential == "public" { 5_500 } else { 1_000 };
        tokio::time::sleep(Duration::from_millis(wait)).await;
        // Judged against the first poll's baseline, as the scheduler hands it over.
        let second = probes.run_after(&spec(credential, agent.port), &t, timeout, first.baseline.as_ref()).await;
        assert_eq!(second.status, Status::Ok, "{credential}: {}", second.output.text);
        let lo_in = second.output.perfdata.iter().find(|p| p.label == "lo:in_bps").map(|p| p.value);
        let lo_util = second.output.perfdata.iter().find(|p| p.label == "lo:in_util").map(|p| p.value);
        assert!(lo_in.is_some() && lo_util.is_some(), "{credential}: {:?}", second.output.perfdata);
        if credential == "public" {
            assert!(lo_in > Some(0.0), "the polls' own traffic crosses lo: {lo_in:?}");
            assert!(second.output.text.contains("peak utilisation"), "{}", second.output.text);
        }
        assert!(second.signals.is_empty(), "{:?}", second.signals);
        if credential == "public" {
            public = second.baseline;
        }
    }
    // Without a baseline there is nothing to compare: no rates, no restart.
    assert!(
        probes.run(&spec("public", agent.port), &t, timeout).await.output.text.contains("rates from the next poll")
    );

    agent.restart();
    let after = probes.run_after(&spec("public", agent.port), &t, timeout, public.as_ref()).await;
    assert_eq!(after.signals.len(), 1, "{:?}", after.signals);
    assert_eq!(after.signals[0].kind, "device.restart");
    assert!(after.output.text.contains("restarted"), "{}", after.output.text);
    // v3 after the restart: the engine's boots moved on; the poller resynchronises.
    let v3 = probes.run(&spec("sha-aes", agent.port), &t, timeout).await;
    assert_eq!(v3.status, Status::Ok, "{}", v3.output.text);

    let silent = probes.run(&spec("wrong-community", agent.port), &t, timeout).await;
    assert_eq!(silent.status, Status::Critical);
    assert!(silent.output.text.contains("no answer"), "{}", silent.output.text);
    assert!(!silent.output.text.contains("guess"), "a community is a secret: {}", silent.output.text);
    let refused = probes.run(&spec("wrong-pass", agent.port), &t, timeout).await;
    assert_eq!(refused.status, Status::Unknown, "{}", refused.output.text);
    assert!(refused.output.text.contains("authentication"), "{}", refused.output.text);
    let unknown = probes.run(&spec("nobody", agent.port), &t, timeout).await;
    assert!(unknown.output.text.contains("[[intake.snmp_credentials]]"), "{}", unknown.output.text);
}
