//! `watchkeeper policy …` on the shared corpus's real configurations, as a CI job runs it:
//! exit codes, JSON shapes, and a cleanup plan proven by feeding it back to `diff`.

use crate::{BIN, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn corpus() -> PathBuf {
    std::env::var_os("WATCHKEEPER_CORPUS")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"), PathBuf::from)
        .join("configs")
}

fn policy(args: &[&str]) -> Output {
    Command::new(BIN).arg("policy").args(args).output().expect("run watchkeeper")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)))
}

fn path(rel: &str) -> String {
    corpus().join(rel).display().to_string()
}

/// A directory of configuration files: a topology to trace through.
fn topology(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(tmp.path().join(name), text).unwrap();
    }
    tmp
}

fn assert_flow(w: &serde_json::Value) {
    for key in ["src", "dst", "proto", "sport", "dport"] {
        assert!(!w[key].is_null(), "witness without {key}: {w}");
    }
}

#[test]
fn check_reports_shadowed_rules_with_witness_and_fails_ci() {
    let dept = path("cisco_ios/batfish-example-live/as2dept1.cfg");
    let out = policy(&["check", &dept, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    let shadowed: Vec<_> = findings.iter().filter(|f| f["kind"] == "shadowed").collect();
    assert_eq!(shadowed.len(), 2, "{findings:#?}");
    let f = shadowed.iter().find(|f| f["filter"] == "RESTRICT_HOST_TRAFFIC_IN").unwrap();
    assert_eq!((f["line"].as_u64(), f["severity"].as_str()), (Some(113), Some("high")));
    assert_eq!(f["rule"], "permit icmp any any");
    assert_eq!(f["related_rules"][0]["line"], 112);
    assert_eq!(f["file"], dept.as_str());
    assert_eq!(f["witness"]["proto"], "icmp");
    assert_flow(&f["witness"]);
    // With `--fail-on high` the shadowed rules (high) still fail the run.
    assert_eq!(policy(&["check", &dept, "--fail-on", "high"]).status.code(), Some(1));

    // A filter with nothing wrong passes; the human table says so.
    let tmp = tempfile::tempdir().unwrap();
    let clean = tmp.path().join("clean.cfg");
    std::fs::write(&clean, "hostname edge\nip access-list extended IN\n permit tcp any host 192.0.2.10 eq 443 log\n")
        .unwrap();
    let out = policy(&["check", clean.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("No findings."), "{}", text(&out.stdout));
}

#[test]
fn match_names_the_deciding_rule() {
    let current = path("cisco_iosxe/pybatfish-example-filters/current/rtr-with-acl.cfg");
    let args = ["match", &current, "--src", "10.10.10.5", "--dst", "18.18.18.40", "--dport", "80", "--json"];
    let out = policy(&[&args[..], &["--in-interface", "Ethernet1/1/1"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let m = json(&out);
    assert_eq!((m["action"].as_str(), m["line"].as_u64()), (Some("deny"), Some(118)));
    assert_eq!((m["rule"].as_str(), m["may_match"].as_bool()), (Some("2020 deny tcp any any"), Some(false)));
    let candidate = path("cisco_iosxe/pybatfish-example-filters/candidate1/rtr-with-acl.cfg");
    let out = policy(&["match", &candidate, "--src", "10.10.10.5", "--dst", "18.18.18.40", "--dport", "80", "--json"]);
    let m = json(&out);
    assert_eq!((m["action"].as_str(), m["line"].as_u64()), (Some("permit"), Some(40)));

    let out = policy(&["match", &current, "--src", "10.10.10.5", "--dst", "18.18.18.400", "--dport", "80"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--dst: `18.18.18.400` is not an IP address"), "{}", text(&out.stderr));
}

#[test]
fn diff_lists_the_changed_blocks_and_exits_one() {
    let dir = "cisco_iosxe/pybatfish-example-filters";
    let (current, candidate) =
        (path(&format!("{dir}/current/rtr-with-acl.cfg")), path(&format!("{dir}/candidate1/rtr-with-acl.cfg")));
    let out = policy(&["diff", &current, &candidate, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let blocks = json(&out)["blocks"].as_array().unwrap().clone();
    assert_eq!(blocks.len(), 2);
    for (b, port) in blocks.iter().zip(["80", "8080"]) {
        assert_eq!((b["old_action"].as_str(), b["new_action"].as_str()), (Some("deny"), Some("permit")));
        assert_eq!(b["old_rule"]["line"], 118);
        assert_eq!((b["src"][0].as_str(), b["dst"][0].as_str()), (Some("10.10.10.0/24"), Some("18.18.18.0/26")));
        assert_eq!(b["dport"][0], port);
        assert_flow(&b["witness"]);
    }
    let out = policy(&["diff", &current, &current]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("No flow is decided differently."));
}

#[test]
fn cleanup_plan_changes_no_decision_when_applied() {
    let file = path("cisco_iosxe/pybatfish-example-filters/current/rtr-with-acl.cfg");
    let out = policy(&["cleanup", &file, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let plans = json(&out);
    let plan = &plans[0];
    assert_eq!(plan["decisions_unchanged"], true);
    let remove: Vec<u64> = plan["remove"].as_array().unwrap().iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert!(remove.len() > 10, "{remove:?}");
    // Apply the plan by deleting those lines, then let `diff` judge it independently.
    let original = std::fs::read_to_string(&file).unwrap();
    let cleaned: String = original
        .lines()
        .enumerate()
        .filter(|(i, _)| !remove.contains(&(*i as u64 + 1)))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let after = tmp.path().join("cleaned.cfg");
    std::fs::write(&after, cleaned).unwrap();
    let out = policy(&["diff", &file, after.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(json(&out)["blocks"], serde_json::json!([]));
}

#[test]
fn unreadable_inputs_exit_two_and_say_why() {
    let tmp = tempfile::tempdir().unwrap();
    let binary = tmp.path().join("image.bin");
    std::fs::write(&binary, [0u8, 159, 146, 150, 0, 1]).unwrap();
    let out = policy(&["check", binary.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("image.bin: binary data"), "{}", text(&out.stderr));
    let forti = path("fortios/batfish-testconfigs/firewall_policy");
    let out = policy(&["check", &forti]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Fortinet FortiOS"), "{}", text(&out.stderr));
    let out = policy(&["check", "/nonexistent/router.cfg"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read /nonexistent/router.cfg"), "{}", text(&out.stderr));
}

#[test]
fn nxos_asa_and_junos_configurations_are_read_and_answered() {
    // NX-OS: the refactored ACL of pybatfish's notebook differs from the original in exactly
    // the three line pairs Batfish reports.
    let dir = "cisco_nxos/pybatfish-refactoring";
    let (original, compressed) = (path(&format!("{dir}/original_acl.txt")), path(&format!("{dir}/compressed_acl.txt")));
    let out = policy(&["diff", &original, &compressed, "--vendor", "nxos", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let blocks = json(&out)["blocks"].as_array().unwrap().clone();
    let mut lines: Vec<(u64, u64)> = blocks
        .iter()
        .map(|b| (b["old_rule"]["line"].as_u64().unwrap_or(0), b["new_rule"]["line"].as_u64().unwrap_or(0)))
        .collect();
    lines.sort_unstable();
    lines.dedup();
    assert_eq!(lines.len(), 3, "{blocks:#?}");

    // ASA, detected by itself: the security-level example's filters, and a flow through one.
    let asa = path("cisco_asa/batfish-testconfigs/asa-security-level-permit-tracing");
    let out = policy(&["check", &asa, "--json"]);
    assert!(out.status.code() == Some(0) || out.status.code() == Some(1), "{}", text(&out.stderr));
    assert_eq!(json(&out)["files"][0]["vendor"], "cisco-asa");
    let args = ["match", &asa, "--src", "10.0.0.1", "--dst", "10.0.0.2", "--dport", "22", "--json"];
    let out = policy(&[&args[..], &["--filter", "FILTER_OUT"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let m = json(&out);
    assert_eq!(
        (m["action"].as_str(), m["rule"].as_str()),
        (Some("deny"), Some("access-list FILTER_OUT extended deny tcp any any eq 22"))
    );

    // Junos `set` form, detected by itself; a flow through the filter bound on an interface.
    let junos = path("juniper/batfish-testconfigs/firewall-filters");
    let out = policy(&["check", &junos, "--json"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out.stderr));
    assert_eq!(json(&out)["files"][0]["vendor"], "junos");
    let args = ["match", &junos, "--src", "1.2.3.6", "--dst", "10.0.0.1", "--proto", "udp", "--dport", "53", "--json"];
    let out = policy(&[&args[..], &["--in-interface", "xe-0/0/0.0"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let m = json(&out);
    assert_eq!(
        (m["filter"].as_str(), m["action"].as_str(), m["rule"].as_str()),
        (Some("FILTER1"), Some("permit"), Some("term TERM"))
    );
}

#[test]
fn risky_rules_and_hardening_come_from_an_extensible_pack() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("edge.cfg");
    std::fs::write(
        &cfg,
        "hostname edge\n\
         ip ssh version 2\n\
         interface GigabitEthernet0/0\n \
         ip address 192.0.2.1 255.255.255.0\n\
         ip access-list extended IN\n \
         permit tcp any host 192.0.2.10 eq 3389\n \
         permit tcp 10.0.0.0 0.255.255.255 any eq 8443\n\
         line vty 0 4\n \
         transport input telnet ssh\n\
         object-group network SPARE\n \
         host 10.1.1.1\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let out = policy(&["check", cfg, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    let of = |kind: &str, id: &str| -> Vec<&serde_json::Value> {
        findings.iter().filter(|f| f["kind"] == kind && f["message"].as_str().unwrap().contains(id)).collect()
    };
    // RDP from anywhere: a risky rule, with a flow it lets through.
    let rdp = of("risky", "management-from-anywhere");
    assert_eq!(rdp.len(), 1, "{findings:#?}");
    assert_eq!((rdp[0]["line"].as_u64(), rdp[0]["severity"].as_str()), (Some(6), Some("high")));
    assert_eq!((rdp[0]["witness"]["proto"].as_str(), rdp[0]["witness"]["dport"].as_u64()), (Some("tcp"), Some(3389)));
    // Telnet on the vty lines (line 9), and settings that are missing (line 0).
    assert_eq!(of("hardening", "no-telnet")[0]["line"], 9);
    assert_eq!(of("hardening", "ntp")[0]["line"], 0);
    assert!(of("hardening", "ssh-version-2").is_empty(), "SSH v2 is configured");
    // A group nothing refers to.
    let spare: Vec<_> = findings
        .iter()
        .filter(|f| f["kind"] == "unused-object")
        .map(|f| (f["rule"].as_str(), f["line"].as_u64()))
        .collect();
    assert_eq!(spare, vec![(Some("SPARE"), Some(10))]);

    // A team's own check, in YAML, adds to the standard pack.
    let mine = tmp.path().join("mine.yaml");
    std::fs::write(
        &mine,
        "risky:\n  - id: admin-https-from-10\n    title: HTTPS admin port open to a /8\n    severity: high\n    \
         src_prefix_at_most: 8\n    services: [\"tcp/8443\"]\n",
    )
    .unwrap();
    let out = policy(&["check", cfg, "--rules", mine.to_str().unwrap(), "--json"]);
    let report = json(&out);
    let mine_hits: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["message"].as_str().unwrap().contains("admin-https-from-10"))
        .map(|f| f["line"].as_u64())
        .collect();
    assert_eq!(mine_hits, vec![Some(7)]);

    // A pack with a mistake is refused with its file and line.
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "[[risky]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"urgent\"\n").unwrap();
    let out = policy(&["check", cfg, "--rules", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("bad.toml") && err.contains("urgent") && err.contains("line 4"), "{err}");
}

#[test]
fn rules_no_logged_flow_used_are_reported_unused() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("fw.cfg");
    std::fs::write(
        &cfg,
        "ASA Version 9.9\n\
         hostname fw1\n\
         access-list outside_in extended permit tcp any host 10.0.0.10 eq https\n\
         access-list outside_in extended permit tcp any host 10.0.0.11 eq ssh log\n\
         access-list outside_in extended deny ip any any log\n",
    )
    .unwrap();
    let log = tmp.path().join("fw.log");
    std::fs::write(
        &log,
        "Nov 23 10:00:01 fw1 %ASA-6-106100: access-list outside_in permitted tcp outside/198.51.100.7(40001) -> inside/10.0.0.10(443) hit-cnt 12 first hit [0x1, 0x0]\n\
         Nov 23 10:00:02 fw1 %ASA-4-106023: Deny udp src outside:198.51.100.8/5353 dst inside:10.0.0.12/53 by access-group \"outside_in\" [0x0, 0x0]\n\
         this line is not a flow\n",
    )
    .unwrap();
    let out = policy(&["check", cfg.to_str().unwrap(), "--log", log.to_str().unwrap(), "--json"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out.stderr));
    let report = json(&out);
    let unused: Vec<u64> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "unused")
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(unused, vec![4], "the SSH rule saw no traffic: {report:#}");
    let warned: Vec<u64> = report["warnings"].as_array().unwrap().iter().map(|w| w["line"].as_u64().unwrap()).collect();
    assert_eq!(warned, vec![3]);
}

#[test]
fn panos_zone_policies_answer_with_zones_applications_and_may_match() {
    // Aerleon's PAN-OS rendering: allow-pan-app-01 (web-browsing on its default port) can go,
    // allow-pan-app-02 allows web-browsing on any TCP port right after it.
    let pan = path("paloalto_xml/aerleon-generated/sample_paloalto.xml");
    let out = policy(&["check", &pan, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(report["files"][0]["vendor"], "pan-os");
    let findings = report["findings"].as_array().unwrap();
    let f = findings.iter().find(|f| f["kind"] == "redundant").unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!((f["rule"].as_str(), f["line"].as_u64()), (Some("rule allow-pan-app-01"), Some(132)));
    assert_eq!(f["related_rules"][0]["rule"], "rule allow-pan-app-02");
    assert_eq!(f["scope"]["from_zone"], "external");
    assert_eq!(f["scope"]["application"], "web-browsing");
    assert_flow(&f["witness"]);
    assert_eq!(f["witness"]["dport"], 80);

    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let base = "\
set zone trust network layer3 ethernet1/1
set zone untrust network layer3 ethernet1/2
set address web ip-netmask 192.0.2.10
set rulebase security rules tls from trust
set rulebase security rules tls to untrust
set rulebase security rules tls destination web
set rulebase security rules tls application ssl
set rulebase security rules tls service application-default
set rulebase security rules tls action allow
set rulebase security rules block from any
set rulebase security rules block to any
set rulebase security rules block application any
set rulebase security rules block service any
set rulebase security rules block action deny
";
    let old = write("old.set", base);
    let ask = |app: Option<&str>| {
        let mut args = vec!["match", &old, "--src", "10.0.0.5", "--dst", "192.0.2.10", "--dport", "443", "--json"];
        args.extend(["--from-zone", "trust", "--to-zone", "untrust"]);
        if let Some(a) = app {
            args.extend(["--app", a]);
        }
        let out = policy(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        json(&out)
    };
    // Without the application the first rule only may match: App-ID decides.
    let m = ask(None);
    assert_eq!(
        (m["action"].as_str(), m["rule"].as_str(), m["may_match"].as_bool()),
        (Some("permit"), Some("rule tls"), Some(true))
    );
    assert_eq!(m["conditions"][0], "application is ssl");
    assert_eq!(
        (m["otherwise"][0]["action"].as_str(), m["otherwise"][0]["rule"].as_str()),
        (Some("deny"), Some("rule block"))
    );
    let m = ask(Some("ssl"));
    assert_eq!((m["action"].as_str(), m["may_match"].as_bool()), (Some("permit"), Some(false)));
    let m = ask(Some("dns"));
    assert_eq!((m["action"].as_str(), m["rule"].as_str()), (Some("deny"), Some("rule block")));
    // A PAN-OS traffic log names the rule each flow hit: `block` took none.
    let log = write(
        "traffic.csv",
        "1,2026/11/23 10:00:05,0011,TRAFFIC,end,2305,2026/11/23 10:00:05,10.0.0.5,192.0.2.10,0.0.0.0,0.0.0.0,tls,,,ssl,vsys1,trust,untrust,ethernet1/1,ethernet1/2,fwd,,1,1,51000,443,0,0,0x0,tcp,allow\n",
    );
    let out = policy(&["check", &old, "--log", &log, "--json"]);
    let report = json(&out);
    let unused: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "unused")
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(unused, ["rule block"], "{report:#}");
    // Zones are required, and the error names them.
    let out = policy(&["match", &old, "--src", "10.0.0.5", "--dst", "192.0.2.10", "--dport", "443"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("trust, untrust"), "{}", text(&out.stderr));

    // A change that moves the server: the diff names the zones and the application.
    let new = write("new.set", &base.replace("192.0.2.10", "192.0.2.11"));
    let out = policy(&["diff", &old, &new, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let blocks = json(&out)["blocks"].as_array().unwrap().clone();
    assert_eq!(blocks.len(), 2, "{blocks:#?}");
    for b in &blocks {
        assert_eq!(b["zones"], serde_json::json!(["trust→untrust"]));
        assert_eq!(b["applications"], serde_json::json!(["ssl"]));
        assert_eq!(b["dport"], serde_json::json!(["443"]));
        assert_flow(&b["witness"]);
    }
    let lost = blocks.iter().find(|b| b["old_action"] == "permit").unwrap();
    assert_eq!(lost["dst"], serde_json::json!(["192.0.2.10"]));
    assert_eq!(lost["new_rule"]["rule"], "rule block");
}

#[test]
fn srx_security_policies_are_matched_by_zone() {
    // Batfish's test: zone-pair policies, then the global one, then `default-policy permit-all`.
    let srx = path("juniper/batfish-testconfigs/firewall-combined-policies");
    let ask = |src: &str| {
        let args = [
            "match",
            &srx,
            "--src",
            src,
            "--dst",
            "9.9.9.9",
            "--dport",
            "80",
            "--from-zone",
            "trust",
            "--to-zone",
            "untrust",
            "--json",
        ];
        let out = policy(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let m = json(&out);
        (m["action"].as_str().unwrap().to_owned(), m["rule"].as_str().unwrap().to_owned())
    };
    assert_eq!(ask("1.2.3.1"), ("permit".into(), "policy P0".into()));
    assert_eq!(ask("1.2.3.2"), ("deny".into(), "policy P1".into()));
    assert_eq!(ask("1.2.3.5"), ("deny".into(), "policy P1".into()));
    assert_eq!(ask("1.2.3.9"), ("permit".into(), "default-policy".into()));
    // Without zones the interface filter answers, as before.
    let out = policy(&["match", &srx, "--src", "2.2.2.2", "--dst", "9.9.9.9", "--dport", "80", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(json(&out)["filter"], "FILTER1");
}

#[test]
fn f5_virtual_servers_answer_match() {
    let f5 = path("f5_bigip/pybatfish-docs/f5bigip");
    let out = policy(&["match", &f5, "--src", "198.51.100.1", "--dst", "192.0.2.3", "--dport", "80", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let m = json(&out);
    assert_eq!(m["filter"], "virtual-servers");
    assert_eq!(m["action"], "permit");
    assert_eq!(m["rule"], "virtual /Common/virtual3 → pool /Common/pool3 [10.0.0.3:80, 10.0.0.4:80]");
    // No virtual listens there: the BIG-IP does not forward it.
    let out = policy(&["match", &f5, "--src", "198.51.100.1", "--dst", "192.0.2.3", "--dport", "443"]);
    assert!(text(&out.stdout).contains("DENY"), "{}", text(&out.stdout));
}

#[test]
fn panos_cleanup_is_proven_and_hardening_reads_panos_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("fw.set");
    std::fs::write(
        &file,
        "\
set deviceconfig system hostname fw1
set deviceconfig system service disable-telnet no
set zone trust network layer3 ethernet1/1
set zone untrust network layer3 ethernet1/2
set rulebase security rules web from trust
set rulebase security rules web to untrust
set rulebase security rules web service service-https
set rulebase security rules web action allow
set rulebase security rules web-again from trust
set rulebase security rules web-again to untrust
set rulebase security rules web-again service service-https
set rulebase security rules web-again action allow
set rulebase security rules old disabled yes
set rulebase security rules old action allow
",
    )
    .unwrap();
    let file = file.display().to_string();
    let out = policy(&["cleanup", &file, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plans = json(&out);
    assert_eq!(plans[0]["filter"], "vsys1");
    assert_eq!(plans[0]["decisions_unchanged"], true);
    let removed: Vec<&str> =
        plans[0]["remove"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect();
    assert_eq!(removed, ["rule web-again"]);

    let out = policy(&["check", &file, "--json"]);
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    let has = |kind: &str, needle: &str| {
        findings.iter().any(|f| f["kind"] == kind && f["message"].as_str().unwrap().contains(needle))
    };
    assert!(has("hardening", "(no-telnet)"), "{findings:#?}");
    assert!(has("hardening", "(ntp)"), "{findings:#?}");
    assert!(has("risky", "disabled"), "{findings:#?}");
    let telnet = findings.iter().find(|f| f["message"].as_str().unwrap().contains("(no-telnet)")).unwrap();
    assert_eq!(telnet["line"], 2);
}

/// Batfish's `traceroute` answers on its example network (`traceroute-1-2.ref`,
/// `traceroute-2-1.ref`), reproduced from the configurations, the two hosts' models and the
/// routing tables Batfish computed (`routes.ref`): the same equal-cost paths, node by node,
/// and the same dispositions.
#[test]
fn trace_reproduces_batfish_traceroute_on_the_example_network() {
    let reference = corpus().parent().unwrap().join("reference/batfish/tests-basic");
    let routes = reference.join("routes.ref").display().to_string();
    let routers = path("cisco_ios/batfish-example-live");
    let hosts = path("hosts/batfish-example-live");
    let batfish = |file: &str| -> Vec<(String, Vec<String>)> {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(reference.join(file)).unwrap()).unwrap();
        let mut out: Vec<(String, Vec<String>)> = v[0]["rows"][0]["Traces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let hops = t["hops"].as_array().unwrap().iter().map(|h| h["node"]["name"].as_str().unwrap().to_owned());
                (t["disposition"].as_str().unwrap().to_owned(), hops.collect())
            })
            .collect();
        out.sort();
        out
    };
    let traces = |exported: bool, extra: &[&str]| -> Vec<(String, Vec<String>)> {
        let mut args = vec!["trace", "--topology", &routers, "--topology", &hosts, "--json"];
        if exported {
            args.extend(["--routes", routes.as_str()]);
        }
        args.extend(extra);
        let out = policy(&args);
        let report = json(&out);
        let mut traces: Vec<(String, Vec<String>)> = report["traces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let hops = t["hops"].as_array().unwrap().iter().map(|h| h["node"].as_str().unwrap().to_owned());
                (t["disposition"].as_str().unwrap().to_owned(), hops.collect())
            })
            .collect();
        traces.sort();
        traces
    };
    let ours = |extra: &[&str]| traces(true, extra);
    let from_core = [
        "--from",
        "as1core1",
        "--in-interface",
        "GigabitEthernet0/0",
        "--src",
        "1.0.2.3",
        "--dst",
        "2.128.0.101",
        "--proto",
        "udp",
        "--sport",
        "49152",
        "--dport",
        "33434",
    ];
    let one_two = ours(&from_core);
    assert_eq!(one_two, batfish("traceroute-1-2.ref"));
    assert_eq!(one_two.len(), 4);
    let two_one =
        ours(&["--src", "2.128.1.101", "--dst", "1.0.1.1", "--proto", "udp", "--sport", "49152", "--dport", "33434"]);
    assert_eq!(two_one, batfish("traceroute-2-1.ref"));
    // Without Batfish's tables: OSPF and BGP computed from the configurations route both
    // traceroutes exactly as Batfish did.
    let computed = |extra: &[&str]| traces(false, extra);
    assert_eq!(computed(&from_core), batfish("traceroute-1-2.ref"));
    assert_eq!(
        computed(&[
            "--src",
            "2.128.1.101",
            "--dst",
            "1.0.1.1",
            "--proto",
            "udp",
            "--sport",
            "49152",
            "--dport",
            "33434"
        ]),
        batfish("traceroute-2-1.ref")
    );

    // Inside one AS, without Batfish's tables: OSPF computed from the configurations takes
    // every flow where Batfish's tables take it, equal-cost paths included.
    for (src, dst) in
        [("2.1.3.1", "2.1.1.1"), ("2.1.3.2", "2.1.2.1"), ("2.1.1.1", "2.34.201.10"), ("2.12.11.1", "2.23.22.3")]
    {
        let flow = ["--src", src, "--dst", dst, "--proto", "udp", "--sport", "49152", "--dport", "33434"];
        let computed = traces(false, &flow);
        assert!(computed.len() > 1 || computed.iter().all(|t| t.0 != "NO_ROUTE"), "{src} → {dst}: {computed:?}");
        assert_eq!(computed, traces(true, &flow), "{src} → {dst}");
    }
}

#[test]
fn trace_reports_an_asymmetric_return_path() {
    // r1 sends towards 192.0.2.0/24 through r2; r4 answers through r3.
    let tmp = topology(&[
        (
            "r1.cfg",
            "hostname r1\ninterface Gi0/0\n ip address 10.0.0.1 255.255.255.0\ninterface Gi0/1\n ip address 10.0.12.1 255.255.255.252\ninterface Gi0/2\n ip address 10.0.13.1 255.255.255.252\nip route 192.0.2.0 255.255.255.0 10.0.12.2\n",
        ),
        (
            "r2.cfg",
            "hostname r2\ninterface Gi0/1\n ip address 10.0.12.2 255.255.255.252\ninterface Gi0/2\n ip address 10.0.24.1 255.255.255.252\nip route 192.0.2.0 255.255.255.0 10.0.24.2\n",
        ),
        (
            "r3.cfg",
            "hostname r3\ninterface Gi0/1\n ip address 10.0.13.2 255.255.255.252\ninterface Gi0/2\n ip address 10.0.34.1 255.255.255.252\nip route 10.0.0.0 255.255.255.0 10.0.13.1\n",
        ),
        (
            "r4.cfg",
            "hostname r4\ninterface Loopback0\n ip address 192.0.2.1 255.255.255.255\ninterface Gi0/1\n ip address 10.0.24.2 255.255.255.252\ninterface Gi0/2\n ip address 10.0.34.2 255.255.255.252\nip route 10.0.0.0 255.255.255.0 10.0.34.1\n",
        ),
    ]);
    let dir = tmp.path().display().to_string();
    let out =
        policy(&["trace", "--topology", &dir, "--src", "10.0.0.5", "--dst", "192.0.2.1", "--dport", "443", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    let r = json(&out);
    assert_eq!((r["start"].as_str(), r["ingress"].as_str()), (Some("r1"), Some("Gi0/0")));
    let nodes = |t: &serde_json::Value| {
        t["hops"].as_array().unwrap().iter().map(|h| h["node"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(nodes(&r["traces"][0]), ["r1", "r2", "r4"]);
    assert_eq!(r["traces"][0]["disposition"], "ACCEPTED");
    assert_eq!(nodes(&r["return_traces"][0]), ["r4", "r3", "r1"]);
    assert_eq!(r["return_traces"][0]["disposition"], "DELIVERED_TO_SUBNET");
    assert_eq!((r["asymmetric"].as_bool(), r["reply_delivered"].as_bool()), (Some(true), Some(true)));
    // Where r2 has no route, the trace says so and exits 1.
    std::fs::write(tmp.path().join("r2.cfg"), "hostname r2\ninterface Gi0/1\n ip address 10.0.12.2 255.255.255.252\n")
        .unwrap();
    let out = policy(&["trace", "--topology", &dir, "--src", "10.0.0.5", "--dst", "192.0.2.1", "--dport", "443"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("NO_ROUTE"), "{}", text(&out.stdout));
}

#[test]
fn trace_applies_a_zone_firewalls_policy_between_its_zones() {
    let tmp = topology(&[
        (
            "r1.cfg",
            "hostname r1\ninterface Gi0/0\n ip address 10.1.0.1 255.255.255.0\ninterface Gi0/1\n ip address 10.0.1.1 255.255.255.252\nip route 0.0.0.0 0.0.0.0 10.0.1.2\n",
        ),
        (
            "fw.set",
            "\
set deviceconfig system hostname fw
set network interface ethernet ethernet1/1 layer3 ip 10.0.1.2/30
set network interface ethernet ethernet1/2 layer3 ip 10.0.2.1/30
set zone trust network layer3 ethernet1/1
set zone untrust network layer3 ethernet1/2
set network virtual-router default routing-table ip static-route lan destination 10.1.0.0/16
set network virtual-router default routing-table ip static-route lan nexthop ip-address 10.0.1.1
set network virtual-router default routing-table ip static-route lan interface ethernet1/1
set network virtual-router default routing-table ip static-route out destination 0.0.0.0/0
set network virtual-router default routing-table ip static-route out nexthop ip-address 10.0.2.2
set rulebase security rules allow-web from trust
set rulebase security rules allow-web to untrust
set rulebase security rules allow-web service service-https
set rulebase security rules allow-web action allow
",
        ),
        (
            "r2.cfg",
            "hostname r2\ninterface Gi0/0\n ip address 10.0.2.2 255.255.255.252\ninterface Loopback0\n ip address 203.0.113.1 255.255.255.255\nip route 10.0.0.0 255.0.0.0 10.0.2.1\n",
        ),
    ]);
    let dir = tmp.path().display().to_string();
    let go = |dport: &str| {
        let out = policy(&[
            "trace",
            "--topology",
            &dir,
            "--src",
            "10.1.0.5",
            "--dst",
            "203.0.113.1",
            "--dport",
            dport,
            "--json",
        ]);
        json(&out)
    };
    let r = go("443");
    let t = &r["traces"][0];
    assert_eq!(t["disposition"], "ACCEPTED", "{r:#}");
    let fw = &t["hops"][1];
    assert_eq!(
        (fw["node"].as_str(), fw["ingress"].as_str(), fw["egress"].as_str()),
        (Some("fw"), Some("ethernet1/1"), Some("ethernet1/2"))
    );
    assert_eq!(fw["filter_out"]["filter"], "vsys1 trust→untrust");
    assert_eq!(fw["filter_out"]["rule"], "rule allow-web");
    let r = go("22");
    let t = &r["traces"][0];
    assert_eq!(t["disposition"], "DENIED_OUT", "{r:#}");
    assert_eq!(t["hops"][1]["filter_out"]["rule"], "interzone-default");
}

/// Batfish's PAN-OS `destination-nat` test configuration, as its comments say: the first
/// matching NAT rule translates (the rule after it with the same match never applies), the
/// second rewrites the port too, and the security policy sees the zones of the translated
/// route.
#[test]
fn panos_destination_nat_in_match_and_trace() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("destination-nat");
    std::fs::copy(path("paloalto_set/batfish-testconfigs/destination-nat"), &file).unwrap();
    let file = file.display().to_string();
    let dir = tmp.path().display().to_string();
    let trace = |src: &str| {
        let out = policy(&[
            "trace",
            "--topology",
            &dir,
            "--from",
            "destination-nat",
            "--in-interface",
            "ethernet1/2.1",
            "--src",
            src,
            "--dst",
            "1.1.1.50",
            "--dport",
            "80",
            "--json",
        ]);
        json(&out)
    };
    let r = trace("1.2.1.2");
    let hop = &r["traces"][0]["hops"][0];
    assert_eq!(r["traces"][0]["disposition"], "DELIVERED_TO_SUBNET", "{r:#}");
    assert_eq!(hop["nat"]["rule"], "DEST_NAT_NAME1");
    assert_eq!(
        (hop["nat"]["flow"]["dst"].as_str(), hop["nat"]["flow"]["dport"].as_u64()),
        (Some("1.1.1.99"), Some(80))
    );
    assert_eq!((hop["egress"].as_str(), hop["next_hop"].as_str()), (Some("ethernet1/1.1"), Some("1.1.1.99")));
    assert_eq!(hop["filter_out"]["filter"], "vsys1 OUTSIDE→INSIDE");
    let r = trace("1.2.1.22");
    let hop = &r["traces"][0]["hops"][0];
    assert_eq!(hop["nat"]["rule"], "DEST_NAT_NAME2");
    assert_eq!(hop["nat"]["flow"]["dport"], 1234);
    // No rule for this source: nothing is translated.
    assert!(trace("1.2.1.9")["traces"][0]["hops"][0]["nat"].is_null());

    let out = policy(&[
        "match",
        &file,
        "--src",
        "1.2.1.2",
        "--dst",
        "1.1.1.50",
        "--dport",
        "80",
        "--from-zone",
        "OUTSIDE",
        "--to-zone",
        "INSIDE",
        "--json",
    ]);
    let m = json(&out);
    assert_eq!((m["action"].as_str(), m["rule"].as_str()), (Some("permit"), Some("rule PERMIT_ALL")));
    assert_eq!(
        (m["nat"]["rule"].as_str(), m["nat"]["translated"]["dst"].as_str()),
        (Some("nat rule DEST_NAT_NAME1"), Some("1.1.1.99"))
    );

    // "Should never apply this NAT since previous rule will always be applied first."
    let report = json(&policy(&["check", &file, "--json"]));
    let never: Vec<_> = report["findings"].as_array().unwrap().iter().filter(|f| f["filter"] == "nat").collect();
    assert_eq!(never.len(), 1, "{never:#?}");
    assert_eq!(never[0]["rule"], "nat rule DEST_NAT_NEVER_REACHED");
    assert_eq!(never[0]["related_rules"][0]["rule"], "nat rule DEST_NAT_NAME1");
}

/// ASA: a static NAT's mapped address is answered on the outside (proxy ARP), un-NATed
/// before the access list (which names the real address), and inside hosts leave with the
/// interface's address.
#[test]
fn trace_un_nats_before_the_asa_access_list_and_nats_on_the_way_out() {
    let tmp = topology(&[
        (
            "fw.cfg",
            "ASA Version 9.8(1)
hostname fw
interface GigabitEthernet0/0
 nameif outside
 security-level 0
 ip address 198.51.100.2 255.255.255.0
interface GigabitEthernet0/1
 nameif inside
 security-level 100
 ip address 10.1.1.1 255.255.255.0
object network WEB
 host 10.1.1.10
 nat (inside,outside) static 198.51.100.10
object network LAN
 subnet 10.1.1.0 255.255.255.0
 nat (inside,outside) dynamic interface
access-list OUTSIDE_IN extended permit tcp any host 10.1.1.10 eq 443
access-group OUTSIDE_IN in interface outside
route outside 0.0.0.0 0.0.0.0 198.51.100.1
",
        ),
        (
            "edge.cfg",
            "hostname edge\ninterface Gi0/0\n ip address 198.51.100.1 255.255.255.0\ninterface Gi0/1\n ip address 203.0.113.1 255.255.255.0\n",
        ),
    ]);
    let dir = tmp.path().display().to_string();
    let go = |args: &[&str]| {
        let mut all = vec!["trace", "--topology", dir.as_str(), "--json"];
        all.extend(args);
        json(&policy(&all))
    };
    let inbound = |dport: &str| go(&["--src", "203.0.113.5", "--dst", "198.51.100.10", "--dport", dport]);
    let r = inbound("443");
    let t = &r["traces"][0];
    assert_eq!(t["disposition"], "DELIVERED_TO_SUBNET", "{r:#}");
    let fw = &t["hops"][1];
    assert_eq!(fw["node"], "fw");
    assert_eq!(fw["nat"]["rule"], "un-NAT object WEB");
    assert_eq!(fw["nat"]["flow"]["dst"], "10.1.1.10");
    assert_eq!(
        (fw["filter_in"]["filter"].as_str(), fw["filter_in"]["action"].as_str()),
        (Some("OUTSIDE_IN"), Some("permit"))
    );
    assert_eq!(fw["next_hop"], "10.1.1.10");
    // Not in the access list: denied on the outside, after un-NAT.
    let r = inbound("80");
    assert_eq!(r["traces"][0]["disposition"], "DENIED_IN", "{r:#}");
    // Out: the source becomes the outside interface's address.
    let r = go(&["--src", "10.1.1.20", "--dst", "203.0.113.5", "--dport", "443"]);
    let t = &r["traces"][0];
    assert_eq!(t["disposition"], "DELIVERED_TO_SUBNET", "{r:#}");
    assert_eq!(t["hops"][0]["nat"]["rule"], "object LAN");
    assert_eq!(t["hops"][0]["nat"]["flow"]["src"], "198.51.100.2");
    // The server itself leaves with its static address.
    let r = go(&["--src", "10.1.1.10", "--dst", "203.0.113.5", "--dport", "443"]);
    assert_eq!(r["traces"][0]["hops"][0]["nat"]["flow"]["src"], "198.51.100.10", "{r:#}");
    // `match` asks as packet-tracer does: the mapped address, on the outside interface.
    let fw = tmp.path().join("fw.cfg").display().to_string();
    let out = policy(&[
        "match",
        &fw,
        "--in-interface",
        "outside",
        "--src",
        "203.0.113.5",
        "--dst",
        "198.51.100.10",
        "--dport",
        "443",
        "--json",
    ]);
    let m = json(&out);
    assert_eq!((m["action"].as_str(), m["filter"].as_str()), (Some("permit"), Some("OUTSIDE_IN")), "{m:#}");
    assert_eq!(m["nat"]["rule"], "un-NAT object WEB");
    assert_eq!(m["flow"]["dst"], "10.1.1.10");
}

/// IOS NAT: inside hosts leave with the outside interface's address (a list, overload); a
/// static port forward takes traffic to the router's own address on the forwarded port.
#[test]
fn trace_applies_ios_inside_source_nat() {
    let tmp = topology(&[
        (
            "br.cfg",
            "hostname br
interface Gi0/0
 ip address 192.168.1.1 255.255.255.0
 ip nat inside
interface Gi0/1
 ip address 203.0.113.2 255.255.255.252
 ip nat outside
ip access-list standard LAN
 permit 192.168.1.0 0.0.0.255
ip nat inside source list LAN interface Gi0/1 overload
ip nat inside source static tcp 192.168.1.10 443 203.0.113.2 8443
ip route 0.0.0.0 0.0.0.0 203.0.113.1
",
        ),
        (
            "isp.cfg",
            "hostname isp\ninterface Gi0/0\n ip address 203.0.113.1 255.255.255.252\ninterface Gi0/1\n ip address 198.51.100.1 255.255.255.0\n",
        ),
    ]);
    let dir = tmp.path().display().to_string();
    let go = |src: &str, dst: &str, dport: &str| {
        json(&policy(&["trace", "--topology", &dir, "--src", src, "--dst", dst, "--dport", dport, "--json"]))
    };
    let r = go("192.168.1.20", "198.51.100.9", "80");
    let t = &r["traces"][0];
    assert_eq!(t["disposition"], "DELIVERED_TO_SUBNET", "{r:#}");
    assert_eq!(t["hops"][0]["nat"]["rule"], "ip nat inside source list LAN interface Gi0/1 overload");
    assert_eq!(t["hops"][0]["nat"]["flow"]["src"], "203.0.113.2");
    let r = go("198.51.100.9", "203.0.113.2", "8443");
    let t = &r["traces"][0];
    assert_eq!(t["disposition"], "DELIVERED_TO_SUBNET", "{r:#}");
    let br = &t["hops"][1];
    assert_eq!(br["nat"]["flow"]["dst"], "192.168.1.10");
    assert_eq!(br["nat"]["flow"]["dport"], 443);
    assert_eq!(br["egress"], "Gi0/0");
    // Another port to the router's address is the router's own.
    assert_eq!(go("198.51.100.9", "203.0.113.2", "22")["traces"][0]["disposition"], "ACCEPTED");
}

/// SRX: destination NAT before the route and the policy (which names the translated
/// address), source NAT to the egress interface's address after it.
#[test]
fn trace_applies_srx_nat_in_junos_order() {
    let tmp = topology(&[
        (
            "srx.conf",
            "\
set system host-name srx
set interfaces ge-0/0/0 unit 0 family inet address 198.51.100.2/24
set interfaces ge-0/0/1 unit 0 family inet address 10.1.1.1/24
set security zones security-zone untrust interfaces ge-0/0/0.0
set security zones security-zone trust interfaces ge-0/0/1.0
set security nat proxy-arp interface ge-0/0/0.0 address 198.51.100.10/32
set security nat destination pool WEB address 10.1.1.10/32
set security nat destination rule-set IN from zone untrust
set security nat destination rule-set IN rule web match destination-address 198.51.100.10/32
set security nat destination rule-set IN rule web match destination-port 443
set security nat destination rule-set IN rule web then destination-nat pool WEB
set security nat static rule-set ONE from zone untrust
set security nat static rule-set ONE rule mail match destination-address 198.51.100.25/32
set security nat static rule-set ONE rule mail then static-nat prefix 10.1.1.25/32
set security nat source rule-set OUT from zone trust
set security nat source rule-set OUT to zone untrust
set security nat source rule-set OUT rule all match source-address 10.1.1.0/24
set security nat source rule-set OUT rule all then source-nat interface
set security address-book global address web-real 10.1.1.10/32
set security policies from-zone untrust to-zone trust policy web match source-address any
set security policies from-zone untrust to-zone trust policy web match destination-address web-real
set security policies from-zone untrust to-zone trust policy web match application junos-https
set security policies from-zone untrust to-zone trust policy web then permit
set security policies from-zone trust to-zone untrust policy out match source-address any
set security policies from-zone trust to-zone untrust policy out match destination-address any
set security policies from-zone trust to-zone untrust policy out match application any
set security policies from-zone trust to-zone untrust policy out then permit
set routing-options static route 0.0.0.0/0 next-hop 198.51.100.1
",
        ),
        (
            "edge.cfg",
            "hostname edge\ninterface Gi0/0\n ip address 198.51.100.1 255.255.255.0\ninterface Gi0/1\n ip address 203.0.113.1 255.255.255.0\n",
        ),
    ]);
    let dir = tmp.path().display().to_string();
    let go = |src: &str, dst: &str, dport: &str| {
        json(&policy(&["trace", "--topology", &dir, "--src", src, "--dst", dst, "--dport", dport, "--json"]))
    };
    let r = go("203.0.113.5", "198.51.100.10", "443");
    let t = &r["traces"][0];
    assert_eq!(t["disposition"], "DELIVERED_TO_SUBNET", "{r:#}");
    let srx = &t["hops"][1];
    assert_eq!(srx["nat"]["flow"]["dst"], "10.1.1.10");
    assert_eq!(srx["filter_out"]["rule"], "policy web");
    // Port 80 is not translated: back out of the zone it came from, which no policy allows.
    let r = go("203.0.113.5", "198.51.100.10", "80");
    assert_eq!(r["traces"][0]["disposition"], "DENIED_OUT", "{r:#}");
    assert!(r["traces"][0]["hops"][1]["nat"].is_null(), "{r:#}");
    assert_eq!(r["traces"][0]["hops"][1]["filter_out"]["rule"], "default-policy");
    let r = go("10.1.1.20", "203.0.113.5", "443");
    let t = &r["traces"][0];
    assert_eq!(t["disposition"], "DELIVERED_TO_SUBNET", "{r:#}");
    assert_eq!(t["hops"][0]["nat"]["flow"]["src"], "198.51.100.2");
    // Static NAT works both ways: the mail server sends from its mapped address, before the
    // interface source NAT that takes the rest of the subnet.
    let r = go("10.1.1.25", "203.0.113.5", "25");
    let t = &r["traces"][0];
    assert_eq!(t["disposition"], "DELIVERED_TO_SUBNET", "{r:#}");
    assert_eq!(t["hops"][0]["nat"]["flow"]["src"], "198.51.100.25", "{r:#}");
    assert_eq!(t["hops"][0]["nat"]["rule"], "static nat rule ONE mail");
}

/// A host's gateway is an HSRP virtual address: the router with the higher priority takes
/// the flow; raise the other's priority and the path moves.
#[test]
fn trace_follows_the_active_hsrp_router() {
    let tmp = tempfile::tempdir().unwrap();
    let router = |name: &str, own: &str, uplink: &str, core: &str, priority: u32| {
        format!(
            "hostname {name}\ninterface Gi0/0\n ip address {own} 255.255.255.0\n standby 1 ip 10.0.0.1\n standby 1 priority {priority}\ninterface Gi0/1\n ip address {uplink} 255.255.255.252\nip route 0.0.0.0 0.0.0.0 {core}\n"
        )
    };
    let write = |r1: u32, r2: u32| {
        std::fs::write(tmp.path().join("r1.cfg"), router("r1", "10.0.0.2", "10.9.1.1", "10.9.1.2", r1)).unwrap();
        std::fs::write(tmp.path().join("r2.cfg"), router("r2", "10.0.0.3", "10.9.2.1", "10.9.2.2", r2)).unwrap();
    };
    std::fs::write(
        tmp.path().join("core.cfg"),
        "hostname core\ninterface Gi0/1\n ip address 10.9.1.2 255.255.255.252\ninterface Gi0/2\n ip address 10.9.2.2 255.255.255.252\ninterface Loopback0\n ip address 192.0.2.1 255.255.255.255\nip route 10.0.0.0 255.255.255.0 10.9.1.1\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("h.json"),
        r#"{"hostname": "h", "hostInterfaces": {"eth0": {"name": "eth0", "prefix": "10.0.0.50/24", "gateway": "10.0.0.1"}}}"#,
    )
    .unwrap();
    let dir = tmp.path().display().to_string();
    let path = || {
        let r = json(&policy(&[
            "trace",
            "--topology",
            &dir,
            "--src",
            "10.0.0.50",
            "--dst",
            "192.0.2.1",
            "--dport",
            "22",
            "--json",
        ]));
        assert_eq!(r["traces"][0]["disposition"], "ACCEPTED", "{r:#}");
        r["traces"][0]["hops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["node"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    write(110, 100);
    assert_eq!(path(), ["h", "r1", "core"]);
    write(90, 100);
    assert_eq!(path(), ["h", "r2", "core"]);
}

/// `show access-list` counters as the evidence for unused rules: IOS by entry order, ASA by
/// `line N` (which counts remarks).
#[test]
fn show_access_list_hit_counts_report_unused_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let unused = |config: &str, show: &str| -> Vec<u64> {
        let report = json(&policy(&["check", config, "--log", show, "--json"]));
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "unused")
            .map(|f| f["line"].as_u64().unwrap())
            .collect()
    };
    let asa = write(
        "fw.cfg",
        "ASA Version 9.8(1)\nhostname fw\naccess-list OUTSIDE_IN remark web servers\naccess-list OUTSIDE_IN extended permit tcp any host 10.1.1.10 eq 443\naccess-list OUTSIDE_IN extended permit tcp any host 10.1.1.11 eq 22\n",
    );
    let show = write(
        "show-asa.txt",
        "access-list OUTSIDE_IN; 2 elements; name hash: 0x1\naccess-list OUTSIDE_IN line 1 remark web servers\naccess-list OUTSIDE_IN line 2 extended permit tcp any host 10.1.1.10 eq https (hitcnt=7) 0x2\naccess-list OUTSIDE_IN line 3 extended permit tcp any host 10.1.1.11 eq ssh (hitcnt=0) 0x3\n",
    );
    assert_eq!(unused(&asa, &show), [5]);
    let ios = write(
        "r1.cfg",
        "hostname r1\nip access-list extended EDGE\n remark first\n permit tcp any host 10.1.1.10 eq 443\n permit udp any any eq 53\n deny ip any any log\n",
    );
    let show = write(
        "show-ios.txt",
        "Extended IP access list EDGE\n    10 permit tcp any host 10.1.1.10 eq 443 (1523 matches)\n    20 permit udp any any eq domain\n    30 deny ip any any log (12 matches)\n",
    );
    assert_eq!(unused(&ios, &show), [5]);
}

/// A file that mixes vendors: the lines of the other vendor are warnings with their lines,
/// whichever vendor is detected.
#[test]
fn mixed_vendor_files_warn_line_by_line() {
    let tmp = tempfile::tempdir().unwrap();
    let warned = |name: &str, text: &str| -> Vec<u64> {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        let out = policy(&["check", p.to_str().unwrap(), "--json"]);
        assert_ne!(out.status.code(), Some(2), "{}", text_of(&out));
        json(&out)["warnings"].as_array().unwrap().iter().map(|w| w["line"].as_u64().unwrap()).collect()
    };
    fn text_of(out: &Output) -> String {
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    }
    // Junos detected: the IOS lines are named.
    let lines = warned(
        "a.cfg",
        "hostname r1\nip access-list extended X\n permit ip any any\nset firewall filter F term t then accept\nset system host-name j1\n",
    );
    assert_eq!(lines, [1, 2, 3]);
    // IOS detected: a `set` line and a block are named.
    let lines = warned(
        "b.cfg",
        "hostname r1\nip access-list extended X\n permit ip any any\nset deviceprofile name x\nprofile {\n}\n",
    );
    assert_eq!(lines, [4, 5, 6]);
}

/// F5: a virtual server's address is answered on its self IP's subnet; the flow goes to the
/// pool member (address and port), from the egress self IP (automap); what no virtual
/// takes is dropped.
#[test]
fn trace_through_an_f5_virtual_server() {
    let tmp = topology(&[
        (
            "lb.conf",
            "#TMSH-VERSION: 15.1.0
sys global-settings {
    hostname lb
}
net self /Common/outside {
    address 198.51.100.5/24
}
net self /Common/inside {
    address 10.2.0.5/24
}
net route /Common/default {
    gw 198.51.100.1
    network default
}
ltm pool /Common/web {
    members {
        /Common/n1:8080 {
            address 10.2.0.10
        }
    }
}
ltm virtual /Common/vs {
    destination /Common/198.51.100.80:443
    ip-protocol tcp
    mask 255.255.255.255
    pool /Common/web
    source-address-translation {
        type automap
    }
}
",
        ),
        (
            "edge.cfg",
            "hostname edge\ninterface Gi0/0\n ip address 198.51.100.1 255.255.255.0\ninterface Gi0/1\n ip address 203.0.113.1 255.255.255.0\n",
        ),
    ]);
    let dir = tmp.path().display().to_string();
    let go = |dport: &str| {
        json(&policy(&[
            "trace",
            "--topology",
            &dir,
            "--src",
            "203.0.113.5",
            "--dst",
            "198.51.100.80",
            "--dport",
            dport,
            "--json",
        ]))
    };
    let r = go("443");
    let t = &r["traces"][0];
    assert_eq!(t["disposition"], "DELIVERED_TO_SUBNET", "{r:#}");
    let lb = &t["hops"][1];
    assert_eq!(lb["node"], "lb");
    assert_eq!(lb["filter_in"]["filter"], "virtual-servers");
    let sent = &lb["nat"]["flow"];
    assert_eq!(
        (sent["dst"].as_str(), sent["dport"].as_u64(), sent["src"].as_str()),
        (Some("10.2.0.10"), Some(8080), Some("10.2.0.5")),
        "{r:#}"
    );
    let r = go("80");
    assert_eq!(r["traces"][0]["disposition"], "DENIED_IN", "{r:#}");
}

/// Routes learnt by a routing protocol come from the device's `show ip route`: without it
/// the configuration alone has no route; with it the flow gets there.
#[test]
fn trace_takes_routes_from_show_ip_route() {
    let tmp = tempfile::tempdir().unwrap();
    let topo = tmp.path().join("configs");
    std::fs::create_dir(&topo).unwrap();
    std::fs::write(topo.join("r1.cfg"), "hostname r1\ninterface Gi0/0\n ip address 10.0.0.1 255.255.255.0\ninterface Gi0/1\n ip address 10.0.12.1 255.255.255.252\nrouter ospf 1\n").unwrap();
    std::fs::write(topo.join("r2.cfg"), "hostname r2\ninterface Gi0/1\n ip address 10.0.12.2 255.255.255.252\ninterface Loopback0\n ip address 192.0.2.2 255.255.255.255\n").unwrap();
    let show = tmp.path().join("r1-routes.txt");
    std::fs::write(
        &show,
        "r1#show ip route\nCodes: L - local, C - connected, O - OSPF\n\n      10.0.0.0/8 is variably subnetted, 4 subnets, 3 masks\nC        10.0.0.0/24 is directly connected, Gi0/0\nC        10.0.12.0/30 is directly connected, Gi0/1\n      192.0.2.0/32 is subnetted, 1 subnets\nO        192.0.2.2 [110/2] via 10.0.12.2, 00:01:02, Gi0/1\n",
    )
    .unwrap();
    let (dir, show) = (topo.display().to_string(), show.display().to_string());
    let base =
        ["trace", "--topology", dir.as_str(), "--src", "10.0.0.5", "--dst", "192.0.2.2", "--dport", "22", "--json"];
    let r = json(&policy(&base));
    assert_eq!(r["traces"][0]["disposition"], "NO_ROUTE", "{r:#}");
    let mut with = base.to_vec();
    with.extend(["--routes", show.as_str()]);
    let r = json(&policy(&with));
    assert_eq!(r["traces"][0]["disposition"], "ACCEPTED", "{r:#}");
    assert_eq!(r["traces"][0]["hops"][0]["routes"][0], "192.0.2.2/32 via 10.0.12.2 on Gi0/1 (ospf)");
}
