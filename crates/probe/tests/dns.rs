//! DNS checks against dnsmasq (Debian package `dnsmasq-base`) on loopback: records of each
//! common type, an expected value missing, NXDOMAIN, an answer too long for a datagram asked
//! again over TCP, and a server that never answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use model::check::{Probe, Status};
use probe::{Probes, Target};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Dnsmasq(Child);

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port free for both UDP and TCP on loopback.
fn free_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn start() -> (Dnsmasq, u16) {
    let port = free_port();
    let big: Vec<String> = (0..3).map(|i| format!("\"{}\"", i.to_string().repeat(250))).collect();
    let child = Command::new("/usr/sbin/dnsmasq")
        .args(["--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--pid-file="])
        .args(["--bind-interfaces", "--listen-address=127.0.0.1", &format!("--port={port}"), "--local=/lab/"])
        .args(["--host-record=historian.plant.lab,10.1.2.3,2001:db8::3", "--mx-host=plant.lab,mail.plant.lab,10"])
        .args(["--cname=scada.plant.lab,historian.plant.lab", "--txt-record=plant.lab,v=spf1 -all"])
        .arg(format!("--txt-record=big.plant.lab,{}", big.join(",")))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("dnsmasq (Debian package dnsmasq-base): {e}"));
    let server = Dnsmasq(child);
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (server, port);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("dnsmasq did not start on port {port}");
}

fn dns(name: &str, record: &str, port: u16, expect: &[&str]) -> Probe {
    Probe::Dns {
        name: name.into(),
        record: record.into(),
        server: None,
        port,
        expect: expect.iter().map(|s| (*s).to_owned()).collect(),
        warn_ms: Some(1000.0),
        crit_ms: Some(2000.0),
    }
}

#[tokio::test]
async fn dns_checks_judge_what_dnsmasq_answers() {
    let (_server, port) = start();
    let p = Probes::new();
    // The server asked is the item itself unless the check names one.
    let item = Target { address: "127.0.0.1".into(), name: "ns1".into() };
    let run = |probe: Probe| {
        let (p, item) = (&p, &item);
        async move { p.run(&probe, item, Duration::from_secs(10)).await }
    };

    let a = run(dns("historian.plant.lab", "A", port, &["10.1.2.3"])).await;
    assert_eq!(a.status, Status::Ok, "{a:?}");
    assert!(a.output.text.contains("historian.plant.lab returns 10.1.2.3"), "{}", a.output.text);
    assert_eq!((a.output.perfdata[0].label.as_str(), a.output.perfdata[0].unit.as_str()), ("time", "s"));
    let v6 = run(dns("historian.plant.lab", "aaaa", port, &["2001:DB8::3"])).await;
    assert_eq!(v6.status, Status::Ok, "{v6:?}");
    let mx = run(dns("plant.lab", "MX", port, &["10 mail.plant.lab."])).await;
    assert_eq!(mx.status, Status::Ok, "{mx:?}");
    let cname = run(dns("scada.plant.lab", "CNAME", port, &[])).await;
    assert!(cname.output.text.ends_with("returns historian.plant.lab"), "{}", cname.output.text);
    let txt = run(dns("plant.lab", "TXT", port, &["v=spf1 -all"])).await;
    assert_eq!(txt.status, Status::Ok, "{txt:?}");

    // Wrong, missing, and too long for a datagram.
    let moved = run(dns("historian.plant.lab", "A", port, &["10.9.9.9"])).await;
    assert_eq!(moved.status, Status::Critical);
    assert!(moved.output.text.contains("expected 10.9.9.9") && moved.output.text.contains("returns 10.1.2.3"));
    let gone = run(dns("nosuch.plant.lab", "A", port, &[])).await;
    assert_eq!(gone.status, Status::Critical);
    assert!(gone.output.text.contains("NXDOMAIN"), "{}", gone.output.text);
    let no_v6 = run(dns("plant.lab", "AAAA", port, &[])).await;
    assert_eq!(no_v6.status, Status::Critical, "{no_v6:?}");
    let big = run(dns("big.plant.lab", "TXT", port, &[])).await;
    assert_eq!(big.status, Status::Ok, "asked again over TCP: {big:?}");
    assert!(big.output.text.contains(&"2".repeat(250)), "{}", big.output.text);

    // A server that takes the datagram and never answers.
    let mute = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent = dns("historian.plant.lab", "A", mute.local_addr().unwrap().port(), &[]);
    let started = std::time::Instant::now();
    let quiet = run(silent).await;
    assert_eq!(quiet.status, Status::Critical);
    assert!(quiet.output.text.contains("no answer"), "{}", quiet.output.text);
    assert!(started.elapsed() < Duration::from_secs(6), "two attempts of two seconds");
}
