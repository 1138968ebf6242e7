//! The real configurations in the shared corpus (`../shared/corpus`, or
//! `WATCHKEEPER_CORPUS`) — IOS/IOS-XE, NX-OS, IOS-XR, ASA, Junos, iptables, PAN-OS: every file parses without a
//! panic, the filters, rules, interfaces and bindings of known files are counted, and
//! Batfish's and pybatfish's stored answers are reproduced.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    std::env::var_os("WATCHKEEPER_CORPUS")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"), PathBuf::from)
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}; set WATCHKEEPER_CORPUS", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() { files(&p, out) } else { out.push(p) }
    }
}

/// A new TCP connection from port 40000.
fn tcp(src: impl Into<std::net::IpAddr>, dst: impl Into<std::net::IpAddr>, dport: u16) -> policy::acl::Flow {
    policy::acl::Flow {
        src: src.into(),
        dst: dst.into(),
        proto: 6,
        sport: 40000,
        dport,
        icmp: None,
        established: false,
        fragment: false,
    }
}

/// Every file under the corpus's `configs/<dir>` for each dir, read by `parse`, named by its
/// path below `configs`.
fn parse_all(dirs: &[&str], parse: fn(&str) -> policy::device::Device) -> Vec<(String, policy::device::Device)> {
    let mut all = Vec::new();
    for dir in dirs {
        files(&corpus().join("configs").join(dir), &mut all);
    }
    all.iter()
        .map(|p| {
            let text = String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
            let name = p.strip_prefix(corpus().join("configs")).unwrap().display().to_string();
            (name, parse(&text))
        })
        .collect()
}

fn summary(p: &Path) -> (usize, usize, usize, usize) {
    let text = String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    let d = policy::ios::parse(&text);
    (d.acls.len(), d.acls.iter().map(|a| a.rules.len()).sum(), d.interfaces.len(), d.bindings.len())
}

#[test]
fn every_ios_file_parses_and_known_files_count_right() {
    let mut all = Vec::new();
    for vendor in ["cisco_ios", "cisco_iosxe"] {
        files(&corpus().join("configs").join(vendor), &mut all);
    }
    all.sort();
    assert!(all.len() >= 20, "expected the corpus's IOS files, found {}", all.len());
    for p in &all {
        summary(p);
    }
    // (file, filters, rules, interfaces, bindings), rules counted by hand from the files;
    // a service object-group rule counts once per service it lists.
    let known = [
        ("cisco_ios/aerleon-generated/sample_cisco_lab.acl", 1, 15, 0, 0),
        ("cisco_ios/aerleon-generated/sample_multitarget.acl", 4, 107, 0, 0),
        ("cisco_ios/batfish-example-live/as2dept1.cfg", 4, 12, 6, 2),
        ("cisco_ios/batfish-example-candidate/as2dept1.cfg", 4, 12, 6, 4),
        ("cisco_ios/batfish-example-live/as2border1.cfg", 4, 10, 5, 2),
        ("cisco_ios/batfish-testconfigs/ios-object-group-service", 2, 7, 0, 0),
        // `670 permit ip 166.146.58.184 any` has no wildcard (IOS refuses it): a warning.
        ("cisco_iosxe/pybatfish-example-filters/current/rtr-with-acl.cfg", 1, 104, 2, 1),
        ("cisco_iosxe/pybatfish-example-filters/candidate1/rtr-with-acl.cfg", 1, 106, 2, 1),
        ("cisco_iosxe/pybatfish-example-filters/current/firewall.cfg", 81, 122, 3, 0),
    ];
    for (file, acls, rules, interfaces, bindings) in known {
        assert_eq!(summary(&corpus().join("configs").join(file)), (acls, rules, interfaces, bindings), "{file}");
    }
}

#[test]
fn the_batfish_example_filters_decide_as_written() {
    let text = std::fs::read_to_string(corpus().join("configs/cisco_ios/batfish-example-live/as2dept1.cfg")).unwrap();
    let d = policy::ios::parse(&text);
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    let acl = d.acl("RESTRICT_HOST_TRAFFIC_IN").unwrap();
    assert!(!acl.rules.is_empty());
    let bound: Vec<&str> = d.bindings.iter().map(|b| b.acl.as_str()).collect();
    assert!(bound.contains(&"RESTRICT_HOST_TRAFFIC_IN"), "{bound:?}");
}

/// The fuzz target's seeds (fuzz/seeds/ios_parse), replayed on every `cargo test`.
#[test]
fn fuzz_seeds_replay() {
    type Target = fn(&[u8]);
    let targets: [(&str, Target); 8] = [
        ("ios_parse", policy::fuzz_one),
        ("asa_parse", policy::fuzz_asa),
        ("junos_parse", policy::fuzz_junos),
        ("iptables_parse", policy::fuzz_iptables),
        ("panos_parse", policy::fuzz_panos),
        ("f5_parse", policy::fuzz_f5),
        ("archive_redact", policy::fuzz_archive),
        ("traffic_logs", policy::fuzz_logs),
    ];
    for (target, run) in targets {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds").join(target);
        let mut seeds = Vec::new();
        files(&dir, &mut seeds);
        assert!(seeds.len() >= 2, "{target}");
        for s in seeds {
            run(&std::fs::read(s).unwrap());
        }
    }
}

proptest::proptest! {
    /// Lines built from IOS words in any order never panic the parser.
    #[test]
    fn any_arrangement_of_ios_words_parses(lines in proptest::collection::vec(
        proptest::collection::vec(proptest::sample::select(vec![
            "ip", "access-list", "extended", "standard", "permit", "deny", "tcp", "udp", "icmp", "any", "host",
            "10.0.0.1", "0.0.0.255", "eq", "range", "lt", "gt", "neq", "80", "65535", "www", "object-group",
            "network", "service", "G", "group-object", "established", "log", "fragments", " ", "interface",
            "ip access-group", "in", "out", "ipv6", "2001:db8::/32", "10", "150", "remark", "!", "tcp-udp", "echo",
        ]), 0..10), 0..30)) {
        let text: String = lines.iter().map(|l| l.join(" ")).collect::<Vec<_>>().join("\n");
        policy::fuzz_one(text.as_bytes());
    }
}

fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Batfish's filterLineReachability answer on its example network
/// (`reference/batfish/tests-basic/filterLineReachability.ref`), reproduced row by row from
/// the IOS devices of the same snapshot: the same unreachable lines, the same blocking lines,
/// the same "different action". (The snapshot's two iptables hosts have no unreachable
/// lines in Batfish's answer either; their parser comes with the host models.)
#[test]
fn batfish_filter_line_reachability_is_reproduced() {
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(corpus().join("reference/batfish/tests-basic/filterLineReachability.ref")).unwrap(),
    )
    .unwrap();
    let mut expected: Vec<(String, String, String, Vec<String>, bool)> = reference[0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["Sources"][0].as_str().unwrap().to_owned(),
                words(row["Unreachable_Line"].as_str().unwrap()),
                row["Unreachable_Line_Action"].as_str().unwrap().to_lowercase(),
                row["Blocking_Lines"].as_array().unwrap().iter().map(|l| words(l.as_str().unwrap())).collect(),
                row["Different_Action"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(expected.len(), 2);
    let mut configs = Vec::new();
    files(&corpus().join("configs/cisco_ios/batfish-example-live"), &mut configs);
    assert_eq!(configs.len(), 13);
    let mut found = Vec::new();
    for p in &configs {
        let d = policy::ios::parse(&std::fs::read_to_string(p).unwrap());
        let host = d.hostname.clone().unwrap();
        for acl in &d.acls {
            let space = policy::space::HeaderSpace::with_capacity(1 << 20);
            let c = policy::analysis::compile(&space, acl).unwrap();
            for f in policy::analysis::findings(&space, acl, &c).unwrap() {
                if !f.unreachable {
                    continue;
                }
                let rule = &acl.rules[f.rule];
                found.push((
                    format!("{host}: {}", acl.name),
                    words(&rule.text),
                    rule.action.as_str().to_owned(),
                    f.related.iter().map(|&j| words(&acl.rules[j].text)).collect(),
                    f.different_action,
                ));
            }
        }
    }
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
}

fn acl_in(snapshot: &str) -> policy::acl::Acl {
    let p = corpus().join("configs/cisco_iosxe/pybatfish-example-filters").join(snapshot).join("rtr-with-acl.cfg");
    let d = policy::ios::parse(&std::fs::read_to_string(p).unwrap());
    d.acl("acl_in").unwrap().clone()
}

/// pybatfish's "Provably safe ACL and firewall changes" notebook
/// (`reference/pybatfish-notebooks/provably-safe-acl-and-firewall-changes.md`): the intended
/// change is HTTP (80, 8080) from 10.10.10.0/24 to 18.18.18.0/27. Batfish finds that
/// candidate1 also opens 18.18.18.32 (its example flow 10.10.10.0:49152 → 18.18.18.32:80,
/// permitted by line 462, denied before by line 2020) and that candidate2 does exactly the
/// change. The diff answers the same, with the whole set rather than one example.
#[test]
fn pybatfish_safe_change_notebook_is_reproduced() {
    use policy::acl::{Action, AddrMatch, PortMatch, Rule};
    let (current, candidate1, candidate2) = (acl_in("current"), acl_in("candidate1"), acl_in("candidate2"));
    let space = policy::space::HeaderSpace::new();
    let intended = space
        .rule(&Rule {
            line: 0,
            text: String::new(),
            action: Action::Permit,
            proto: Some(6),
            src: AddrMatch::Wildcard { addr: 0x0a0a_0a00, wildcard: 0xff },
            dst: AddrMatch::Wildcard { addr: 0x1212_1200, wildcard: 0x1f },
            sport: PortMatch::any(),
            dport: PortMatch(vec![(80, 80), (8080, 8080)]),
            icmp: None,
            established: false,
            fragments: false,
            log: false,
        })
        .unwrap();
    let c0 = policy::analysis::compile(&space, &current).unwrap();
    let c1 = policy::analysis::compile(&space, &candidate1).unwrap();
    let c2 = policy::analysis::compile(&space, &candidate2).unwrap();
    let intended = intended.and(&c0.universe).unwrap();
    // Step 1: none of the intended traffic is permitted today.
    assert!(!intended.intersects(&c0.permitted(&space, &current).unwrap()).unwrap());
    // Step 2: both candidates permit all of it.
    assert!(intended.within(&c1.permitted(&space, &candidate1).unwrap()).unwrap());
    assert!(intended.within(&c2.permitted(&space, &candidate2).unwrap()).unwrap());
    // Step 3: candidate1 changes flows outside the intended space, candidate2 does not.
    let text =
        |acl: &policy::acl::Acl, i: Option<usize>| i.map_or("implicit deny".to_owned(), |i| words(&acl.rules[i].text));
    let blocks = policy::diff::diff(&space, &current, &candidate1).unwrap();
    let collateral: Vec<_> = blocks.iter().filter(|b| !b.flows(&space).unwrap().within(&intended).unwrap()).collect();
    assert!(!collateral.is_empty());
    for b in &collateral {
        assert_eq!((b.old_action, b.new_action), (Action::Deny, Action::Permit));
        assert_eq!(text(&current, b.old_rule), "2020 deny tcp any any");
        assert_eq!(current.decide(&b.witness).action, Action::Deny);
        assert_eq!(candidate1.decide(&b.witness).action, Action::Permit);
    }
    let lines: Vec<String> = collateral.iter().map(|b| text(&candidate1, b.new_rule)).collect();
    assert_eq!(
        lines,
        ["462 permit tcp 10.10.10.0/24 18.18.18.0/26 eq 80", "463 permit tcp 10.10.10.0/24 18.18.18.0/26 eq 8080"]
    );
    // Each block is what line 2020 decided and line 462 (463) decides: the whole /26. Batfish's
    // one example is one flow of what lies outside the intended change: 18.18.18.32–63.
    let ip = |a: &str| a.parse::<std::net::IpAddr>().unwrap();
    let s = &collateral[0].summary;
    assert_eq!((s.dst.as_slice(), s.exact), ([(ip("18.18.18.0"), ip("18.18.18.63"))].as_slice(), true));
    let outside = collateral[0].flows(&space).unwrap().minus(&intended).unwrap();
    let s = space.summarise(&outside, &c0.universe).unwrap();
    assert_eq!(s.dst, [(ip("18.18.18.32"), ip("18.18.18.63"))]);
    assert_eq!(s.src, [(ip("10.10.10.0"), ip("10.10.10.255"))]);
    assert_eq!((s.proto.as_slice(), s.dport.as_slice(), s.exact), ([(6, 6)].as_slice(), [(80, 80)].as_slice(), true));
    let w = space.witness(&outside).unwrap().unwrap();
    assert_eq!((w.dst, w.dport, w.sport), (ip("18.18.18.33"), 80, 49152));
    let blocks = policy::diff::diff(&space, &current, &candidate2).unwrap();
    assert!(!blocks.is_empty());
    assert!(blocks.iter().all(|b| b.flows(&space).unwrap().within(&intended).unwrap()));
}

/// The NX-OS, IOS-XR and ASA configurations: every file parses without a panic, and the
/// filters, rules, interfaces and bindings of each are counted.
#[test]
fn every_nxos_iosxr_and_asa_file_parses_and_counts_right() {
    let count = |d: &policy::device::Device| {
        (d.acls.len(), d.acls.iter().map(|a| a.rules.len()).sum::<usize>(), d.interfaces.len(), d.bindings.len())
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    let mut seen = Vec::new();
    for vendor in ["cisco_nxos", "cisco_iosxr", "cisco_asa"] {
        let mut all = Vec::new();
        files(&corpus().join("configs").join(vendor), &mut all);
        all.sort();
        for p in &all {
            let text = read(p);
            let d = if vendor == "cisco_asa" { policy::asa::parse(&text) } else { policy::ios::parse(&text) };
            let lines = text.lines().count();
            assert!(d.warnings.iter().all(|w| w.line >= 1 && w.line <= lines), "{}", p.display());
            let name = p.strip_prefix(corpus().join("configs")).unwrap().display().to_string();
            seen.push((name, count(&d), d.warnings.len()));
        }
    }
    assert!(seen.len() >= 20, "expected the corpus's NX-OS, IOS-XR and ASA files, found {}", seen.len());
    // (file, (filters, rules, interfaces, bindings), warnings), counted from the files: an
    // entry a group expands counts once per member; NX-OS entries matching on fields the
    // header space does not hold (DSCP, precedence, TTL, packet length, TCP flags and
    // options, HTTP methods, VXLAN) are warnings and left out; the duplicate sequence
    // number 300 in `smaller_acls.txt` keeps its first entry, as the switch would.
    let known = [
        ("cisco_nxos/aerleon-generated/sample_multitarget.nxacl", (1, 43, 0, 0), 0),
        ("cisco_nxos/batfish-testconfigs/nxos_ip_access_list", (25, 144, 0, 0), 78),
        ("cisco_nxos/batfish-testconfigs/nxos_ipv6_access_list", (1, 6, 0, 0), 2),
        ("cisco_nxos/pybatfish-refactoring/compressed_acl.txt", (1, 42, 0, 0), 0),
        ("cisco_nxos/pybatfish-refactoring/original_acl.txt", (1, 88, 0, 0), 0),
        ("cisco_nxos/pybatfish-refactoring/smaller_acls.txt", (10, 41, 0, 0), 1),
        ("cisco_iosxr/aerleon-generated/sample_multitarget.xacl", (1, 43, 0, 0), 0),
        ("cisco_asa/aerleon-generated/sample_multitarget.asa", (2, 64, 0, 0), 0),
        ("cisco_asa/batfish-testconfigs/aclAsa", (1, 1, 0, 0), 0),
        // acl2 names an undefined service object: one rule that matches nothing, reported.
        ("cisco_asa/batfish-testconfigs/asa-acl-object", (2, 2, 0, 0), 1),
        ("cisco_asa/batfish-testconfigs/asa-filters", (4, 4, 5, 5), 1),
        ("cisco_asa/batfish-testconfigs/asa-filters-global", (1, 1, 2, 1), 0),
        ("cisco_asa/batfish-testconfigs/asa-security-level-permit-tracing", (2, 3, 4, 2), 0),
        ("cisco_asa/batfish-testconfigs/asa-service-object", (0, 0, 0, 0), 2),
        ("cisco_asa/batfish-unit-tests/asa_acl", (4, 23, 0, 0), 2),
        ("cisco_asa/batfish-unit-tests/asa_object_groups", (1, 1, 0, 0), 0),
    ];
    for (file, counts, warnings) in known {
        let got = seen.iter().find(|s| s.0 == file).unwrap_or_else(|| panic!("{file} is not in the corpus"));
        assert_eq!((got.1, got.2), (counts, warnings), "{file}");
    }
}

/// NX-OS applies entries by sequence number, whatever the order in the file: an entry
/// without one takes 10 more than the highest so far; `addrgroup`/`portgroup` expand.
#[test]
fn nxos_sequence_numbers_and_groups_decide_as_the_switch_does() {
    let p = corpus().join("configs/cisco_nxos/batfish-testconfigs/nxos_ip_access_list");
    let d = policy::ios::parse(&std::fs::read_to_string(p).unwrap());
    let acl = d.acl("acl_indices").unwrap();
    // `deny 1` (10), `15 deny 2`, `deny 3` (25), `13 deny 4`: applied 1, 4, 2, 3.
    assert_eq!(acl.rules.iter().map(|r| r.proto).collect::<Vec<_>>(), vec![Some(1), Some(4), Some(2), Some(3)]);
    let p = corpus().join("configs/cisco_nxos/batfish-testconfigs/nxos_object_group_ip_port");
    let text = std::fs::read_to_string(p).unwrap()
        + "ip access-list uses_ports\n  permit tcp any portgroup og_syntax any\n  permit udp any any portgroup og_indices\n";
    let d = policy::ios::parse(&text);
    let rules = &d.acl("uses_ports").unwrap().rules;
    let listed: Vec<u16> =
        (0..=65535).filter(|&p| rules[1].dport.0.iter().any(|&(lo, hi)| lo <= p && p <= hi)).collect();
    assert_eq!(listed, vec![10, 13, 15, 25]);
    let rule = &rules[0];
    // eq 10, lt 50, gt 50, neq 7, range 5-7, range 6-8 (swapped); `lt 0` and `gt 65535` add nothing.
    let inside = |p: u16| rule.sport.0.iter().any(|&(lo, hi)| lo <= p && p <= hi);
    assert!((0..=65535).all(inside), "neq 7 and lt 50 with gt 50 cover every port");
    let p = corpus().join("configs/cisco_nxos/batfish-testconfigs/nxos_object_group_ip_address");
    let text = std::fs::read_to_string(p).unwrap() + "ip access-list uses_addrs\n  permit ip addrgroup og_syntax any\n";
    let d = policy::ios::parse(&text);
    let acl = d.acl("uses_addrs").unwrap();
    let flow = |src: &str| policy::acl::Flow {
        src: src.parse().unwrap(),
        dst: "192.0.2.1".parse().unwrap(),
        proto: 6,
        sport: 1,
        dport: 2,
        icmp: None,
        established: false,
        fragment: false,
    };
    // `10.0.0.0 0.255.0.255` is a wildcard here (any 10.x.0.y), unlike IOS's network groups.
    for (src, permitted) in [("10.0.0.1", true), ("10.7.0.9", true), ("10.0.1.0", false), ("10.0.0.200", true)] {
        let got = acl.decide(&flow(src)).action == policy::acl::Action::Permit;
        assert_eq!(got, permitted, "{src}");
    }
}

/// pybatfish's "Safely refactoring ACLs" notebook: `compareFilters` of the compressed NX-OS
/// ACL against the original finds exactly three pairs of lines that decide some flows
/// differently. Our diff finds the same three pairs (original line, compressed line).
#[test]
fn pybatfish_refactoring_notebook_is_reproduced() {
    let read = |f: &str| {
        let p = corpus().join("configs/cisco_nxos/pybatfish-refactoring").join(f);
        let d = policy::ios::parse(&std::fs::read_to_string(p).unwrap());
        assert!(d.warnings.is_empty(), "{f}: {:?}", d.warnings);
        d.acl("acl").unwrap().clone()
    };
    let (original, compressed) = (read("original_acl.txt"), read("compressed_acl.txt"));
    assert_eq!((original.rules.len(), compressed.rules.len()), (88, 42));
    let space = policy::space::HeaderSpace::new();
    let blocks = policy::diff::diff(&space, &original, &compressed).unwrap();
    let text =
        |acl: &policy::acl::Acl, r: Option<usize>| r.map_or("(implicit deny)".into(), |i| acl.rules[i].text.clone());
    let mut pairs: Vec<(String, String)> =
        blocks.iter().map(|b| (text(&original, b.old_rule), text(&compressed, b.new_rule))).collect();
    pairs.sort();
    pairs.dedup();
    assert_eq!(
        pairs,
        vec![
            ("220 deny ip 218.67.72.0/24 any".into(), "510 permit icmp any any echo-reply".into()),
            ("510 permit icmp any any echo-reply".into(), "210 deny ip 218.67.71.0/23 any".into()),
            ("80 permit tcp 205.248.58.190/32 205.248.58.188/32 eq bgp".into(), "880 deny ip any any".into()),
        ]
    );
    for b in &blocks {
        assert_eq!((original.decide(&b.witness).rule, compressed.decide(&b.witness).rule), (b.old_rule, b.new_rule));
    }
}

/// The Junos configurations (both forms; the example network mixes in IOS files, which read
/// as nothing): every file parses without a panic; filters, rules, interfaces and bindings
/// are counted. Terms matching on what the header space does not hold are warnings.
#[test]
fn every_junos_file_parses_and_counts_right() {
    let parsed = parse_all(&["juniper"], policy::junos::parse);
    assert!(parsed.len() >= 30, "expected the corpus's Junos files, found {}", parsed.len());
    let count = |d: &policy::device::Device| {
        (d.acls.len(), d.acls.iter().map(|a| a.rules.len()).sum::<usize>(), d.interfaces.len(), d.bindings.len())
    };
    // (file, (filters, rules, interfaces, bindings), warnings). A rule per term, or per
    // protocol or ICMP type a term lists; `juniper_firewall` leaves out a `packet-length`
    // term and an `ip-options` one; `firewall-filters` leaves out its five PARSING terms on
    // fragment offsets, ICMP type/code exceptions, interfaces and packet length, and binds
    // an undefined filter.
    let known = [
        ("juniper/aerleon-generated/sample_multitarget.jcl", (2, 10, 0, 0), 0),
        ("juniper/batfish-testconfigs/firewall-combined-policies", (1, 2, 2, 1), 0),
        ("juniper/batfish-testconfigs/firewall-filters", (7, 7, 9, 19), 6),
        ("juniper/batfish-unit-tests/juniper_firewall", (3, 8, 1, 1), 2),
        ("juniper/batfish-srx-testbed/junos-srx-1.cfg", (0, 0, 6, 0), 0),
    ];
    for (file, counts, warnings) in known {
        let (_, d) = parsed.iter().find(|(n, _)| n == file).unwrap_or_else(|| panic!("{file} is not in the corpus"));
        assert_eq!((count(d), d.warnings.len()), (counts, warnings), "{file}: {:#?}", d.warnings);
    }
}

/// The iptables dump: chains inlined, policies as final rules; connection-state-only and
/// interface rules are warnings.
#[test]
fn iptables_file_parses_and_counts_right() {
    let p = corpus().join("configs/linux_iptables/aerleon-generated/sample_speedway.ipt");
    let d = policy::iptables::parse(&String::from_utf8_lossy(&std::fs::read(p).unwrap()));
    let counts = (d.acls.len(), d.acls.iter().map(|a| a.rules.len()).sum::<usize>(), d.warnings.len());
    // INPUT, OUTPUT, FORWARD; 12 rules after inlining; two ESTABLISHED,RELATED accepts and
    // an `-o lo` accept left out.
    assert_eq!(counts, (3, 12, 3), "{:#?}", d.warnings);
}

/// Batfish's `testFilters` on the example network's hosts (`testfilters.ref`): a TCP flow
/// from each host to 1.1.1.1:80 is denied by INPUT's policy and permitted by the policies of
/// OUTPUT and FORWARD, none of the rules taking it ("default" in Batfish's answer).
#[test]
fn batfish_test_filters_on_the_hosts_is_reproduced() {
    let reference = corpus().join("reference/batfish/tests-basic/testfilters.ref");
    let answer: serde_json::Value = serde_json::from_slice(&std::fs::read(reference).unwrap()).unwrap();
    let rows = answer[0]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    for row in rows {
        let host = row["Node"]["name"].as_str().unwrap();
        let chain = row["Filter_Name"].as_str().unwrap().strip_prefix("filter::").unwrap();
        let p = corpus().join("configs/hosts/batfish-example-live").join(format!("{host}.iptables"));
        let d = policy::iptables::parse(&std::fs::read_to_string(p).unwrap());
        assert!(d.warnings.is_empty(), "{host}: {:?}", d.warnings);
        let acl = d.acl(chain).unwrap();
        let f = &row["Flow"];
        let flow = policy::acl::Flow {
            src: f["srcIp"].as_str().unwrap().parse().unwrap(),
            dst: f["dstIp"].as_str().unwrap().parse().unwrap(),
            proto: 6,
            sport: f["srcPort"].as_u64().unwrap() as u16,
            dport: f["dstPort"].as_u64().unwrap() as u16,
            icmp: None,
            established: false,
            fragment: false,
        };
        assert_eq!(f["ipProtocol"], "TCP");
        let decision = acl.decide(&flow);
        let expected = if row["Action"] == "PERMIT" { policy::acl::Action::Permit } else { policy::acl::Action::Deny };
        assert_eq!(decision.action, expected, "{host} {chain}");
        // "default": the chain's policy decided, not one of its rules.
        assert_eq!(row["Line_Content"], "default");
        let by_policy = decision.rule.is_none_or(|i| acl.rules[i].text.contains("the chain's policy"));
        assert!(by_policy, "{host} {chain}: decided by {:?}", decision.rule.map(|i| &acl.rules[i].text));
    }
}

/// A PAN-OS rule's first entry by name, in a policy.
fn decide_zone(
    p: &policy::zone::ZonePolicy,
    dst: [u8; 4],
    dport: u16,
    from: &str,
    to: &str,
) -> (policy::acl::Action, String) {
    let flow = tcp([1, 1, 1, 5], dst, dport);
    let c = p.decide(&flow, from, to, Some("any-app"), None).pop().unwrap();
    let by = c.rule.map_or_else(|| p.default_for(from, to).name.clone(), |i| p.rules[i].name.clone());
    (c.action, by)
}

#[test]
fn every_panos_file_parses_and_counts_right() {
    let parsed = parse_all(&["paloalto_set", "paloalto_xml"], policy::panos::parse);
    assert!(parsed.len() >= 20, "expected the corpus's PAN-OS files, found {}", parsed.len());
    // Rules as written (one PAN-OS rule stands once however many applications it names).
    let count = |d: &policy::device::Device| {
        let rules: usize = d
            .zone_policies
            .iter()
            .map(|p| {
                let mut names: Vec<&str> = p.rules.iter().map(|r| r.name.as_str()).collect();
                names.dedup();
                names.len()
            })
            .sum();
        (d.zone_policies.len(), rules, d.object_groups.len())
    };
    // (file, (policies, rules, objects), warnings). The Iron-Skillet `set` files start with a
    // `delete` command; the Iron-Skillet Panorama XML defines its device group twice.
    let known = [
        ("paloalto_set/batfish-testconfigs/panorama-rulebase", (1, 3, 2), 0),
        ("paloalto_set/batfish-testconfigs/device-group-inheritance", (2, 6, 5), 0),
        ("paloalto_set/batfish-testconfigs/rulebase", (1, 4, 1), 0),
        ("paloalto_set/batfish-testconfigs/security-rules-original-flow", (1, 2, 2), 0),
        ("paloalto_set/iron-skillet/panos/iron_skillet_panos_full.conf", (1, 2, 0), 1),
        ("paloalto_xml/iron-skillet/panorama/iron_skillet_panorama_full.xml", (1, 0, 0), 1),
        ("paloalto_xml/aerleon-generated/sample_paloalto.xml", (1, 7, 12), 0),
        ("paloalto_xml/aerleon-generated/sample_stateful_multitarget_simple.xml", (1, 17, 66), 0),
    ];
    for (file, counts, warnings) in known {
        let (_, d) = parsed.iter().find(|(n, _)| n == file).unwrap_or_else(|| panic!("{file} is not in the corpus"));
        assert_eq!((count(d), d.warnings.len()), (counts, warnings), "{file}: {:#?}", d.warnings);
    }
}

/// The behaviour Batfish's PAN-OS test configurations state in their comments.
#[test]
fn batfish_panos_test_configs_decide_as_their_comments_say() {
    let read = |f: &str| {
        let p = corpus().join("configs/paloalto_set/batfish-testconfigs").join(f);
        policy::panos::parse(&String::from_utf8_lossy(&std::fs::read(p).unwrap()))
    };
    use policy::acl::Action::{Deny, Permit};
    // "pre-rules allow service 1, rules deny 1 and 2, post-rules allow 2 and 3, default
    // cross-zone denies, default intra-zone accepts: the ACL should allow 1 and 3, not 2."
    let d = read("panorama-rulebase");
    let p = &d.zone_policies[0];
    let dst = [1, 1, 2, 5];
    assert_eq!(decide_zone(p, dst, 1001, "z1", "z2"), (Permit, "ALLOW-SERVICE1".into()));
    assert_eq!(decide_zone(p, dst, 1002, "z1", "z2"), (Deny, "DENY-SERVICE12".into()));
    assert_eq!(decide_zone(p, dst, 1003, "z1", "z2"), (Permit, "ALLOW-SERVICE23".into()));
    assert_eq!(decide_zone(p, dst, 1004, "z1", "z2"), (Deny, "interzone-default".into()));
    assert_eq!(decide_zone(p, dst, 1004, "z1", "z1"), (Permit, "intrazone-default".into()));

    // "Block all rule is disabled, so should have no impact"; the last rule "comes before
    // the others alphabetically but should be processed last"; RULE2 negates its source.
    let d = read("rulebase");
    let p = &d.zone_policies[0];
    assert_eq!(decide_zone(p, [1, 1, 1, 2], 999, "z2", "z1"), (Deny, "RULE1".into()));
    assert_eq!(decide_zone(p, [1, 1, 1, 2], 80, "z2", "z1"), (Permit, "RULE2".into()));
    assert_eq!(decide_zone(p, [1, 1, 1, 3], 80, "z2", "z1"), (Deny, "3rd_RULE".into()));

    // A child device group sees its parent's pre-rules before its own, and its own
    // post-rules before its parent's.
    let d = read("device-group-inheritance");
    let child = d.zone_policies.iter().find(|p| p.name == "DG_CHILD").unwrap();
    let parent = d.zone_policies.iter().find(|p| p.name == "DG_PARENT").unwrap();
    let order: Vec<&str> = child.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(order, ["PRE_RULE_1_PARENT", "PRE_RULE_1_CHILD", "POST_RULE_1_CHILD", "POST_RULE_1_PARENT"]);
    assert_eq!(decide_zone(child, [10, 10, 2, 21], 80, "Z1", "Z2"), (Permit, "PRE_RULE_1_PARENT".into()));
    assert_eq!(decide_zone(child, [10, 10, 2, 22], 80, "Z1", "Z2"), (Permit, "POST_RULE_1_CHILD".into()));
    assert_eq!(decide_zone(parent, [10, 10, 2, 22], 80, "Z1", "Z2"), (Deny, "POST_RULE_1_PARENT".into()));
    // And the analyses see it: the child's pre-rule and the parent's post-rule never match.
    let found = child.findings().unwrap();
    let shadowed: Vec<&str> = found
        .iter()
        .filter(|f| f.kind == policy::analysis::Kind::Shadowed)
        .map(|f| child.rules[f.rule].name.as_str())
        .collect();
    assert_eq!(shadowed, ["PRE_RULE_1_CHILD", "POST_RULE_1_PARENT"]);
}

/// Aerleon rendered one zone policy (`sample_stateful_multitarget_simple.pol`) for PAN-OS XML
/// and for Junos SRX: read back, both decide every sampled flow alike between the zones it
/// names. PAN-OS is asked with the application App-ID would give the flow (the policy's
/// custom ICMP applications are identified by type).
#[test]
fn aerleon_panos_and_srx_renderings_decide_alike() {
    use policy::acl::Flow;
    use std::net::IpAddr;
    let read =
        |rel: &str| String::from_utf8_lossy(&std::fs::read(corpus().join("configs").join(rel)).unwrap()).into_owned();
    let pan = policy::panos::parse(&read("paloalto_xml/aerleon-generated/sample_stateful_multitarget_simple.xml"));
    let srx = policy::junos::parse(&read("juniper/aerleon-generated/sample_stateful_multitarget_simple.srx"));
    assert!(pan.warnings.is_empty() && srx.warnings.is_empty(), "{:?} {:?}", pan.warnings, srx.warnings);
    let (pan, srx) = (&pan.zone_policies[0], &srx.zone_policies[0]);
    let v4: Vec<IpAddr> = [
        "10.1.2.3",
        "172.16.5.4",
        "192.168.1.1",
        "8.8.8.8",
        "8.8.4.4",
        "200.1.1.1",
        "200.1.1.2",
        "192.0.2.7",
        "224.0.0.5",
        "1.1.1.1",
        "100.64.0.1",
    ]
    .iter()
    .map(|a| a.parse().unwrap())
    .collect();
    let v6: Vec<IpAddr> = [
        "2001:4860:4860::8888",
        "2001:db8::1",
        "2620:15c:2c4:202:b0e7:158f:6a7a:3188",
        "fd00::1",
        "2400::1",
        "ff02::1",
    ]
    .iter()
    .map(|a| a.parse().unwrap())
    .collect();
    let (mut compared, mut permitted, mut skipped) = (0, 0, 0);
    for family in [&v4, &v6] {
        for &src in family.iter() {
            for &dst in family.iter() {
                for (proto, icmps) in [
                    (6, vec![None]),
                    (17, vec![None]),
                    (1, vec![Some(0), Some(8), Some(3)]),
                    (58, vec![Some(128), Some(129), Some(1)]),
                    (2, vec![None]),
                    (47, vec![None]),
                ] {
                    // ICMP is IPv4's, ICMPv6 IPv6's.
                    if proto == 1 && src.is_ipv6() || proto == 58 && src.is_ipv4() {
                        continue;
                    }
                    for icmp in icmps {
                        for (sport, dport) in
                            [(40000, 53), (40000, 80), (40000, 443), (33434, 33434), (33500, 999), (1024, 22)]
                        {
                            let ported = matches!(proto, 6 | 17);
                            let f = Flow {
                                src,
                                dst,
                                proto,
                                sport: if ported { sport } else { 0 },
                                dport: if ported { dport } else { 0 },
                                icmp: icmp.map(|t| (t, 0)),
                                established: false,
                                fragment: false,
                            };
                            let app = match (proto, icmp) {
                                (1, Some(0)) => "icmp-echo-reply",
                                (1, Some(8)) => "icmp-echo-request",
                                (58, Some(128)) => "icmp6-echo-request",
                                (58, Some(129)) => "icmp6-echo-reply",
                                (1, _) => "icmp",
                                (58, _) => "ipv6-icmp",
                                (2, _) => "igmp",
                                _ => "unknown-tcp",
                            };
                            for (from, to) in [("internal", "external"), ("external", "internal")] {
                                let p = pan.decide(&f, from, to, Some(app), None).pop().unwrap();
                                let s = srx.decide(&f, from, to, None, None).pop().unwrap();
                                let name =
                                    |z: &policy::zone::ZonePolicy, r: Option<usize>| r.map(|i| z.rules[i].name.clone());
                                // Aerleon renders the policy's IPv4 terms with `any-ipv4` for
                                // PAN-OS but `any` (both families) for SRX: IPv6 flows those
                                // SRX policies take are the renderings' own difference.
                                let v4_only_on_pan = name(srx, s.rule).is_some_and(|n| {
                                    pan.rules
                                        .iter()
                                        .filter(|r| r.name == n)
                                        .all(|r| r.matches.iter().all(|m| !m.src.matches("::1".parse().unwrap())))
                                });
                                if f.src.is_ipv6() && v4_only_on_pan {
                                    skipped += 1;
                                    continue;
                                }
                                assert_eq!(
                                    p.action,
                                    s.action,
                                    "{f:?} {from}→{to}: PAN-OS {:?}, SRX {:?}",
                                    name(pan, p.rule),
                                    name(srx, s.rule)
                                );
                                compared += 1;
                                permitted += usize::from(p.action == policy::acl::Action::Permit);
                            }
                        }
                    }
                }
            }
        }
    }
    // Both decisions occur in numbers: the comparison is not all one way.
    assert!(compared > 5000 && permitted > 500 && compared - permitted > 500, "{compared} {permitted}");
    assert!(skipped < compared / 4, "{skipped} of {compared} skipped");
}

/// SRX security policies as Batfish's test configurations set them up: zone-pair policies,
/// then global ones, then the default policy; nested application sets.
#[test]
fn srx_policies_decide_in_junos_order() {
    use policy::acl::Action::{Deny, Permit};
    let read = |f: &str| {
        let p = corpus().join("configs/juniper/batfish-testconfigs").join(f);
        policy::junos::parse(&String::from_utf8_lossy(&std::fs::read(p).unwrap()))
    };
    let d = read("firewall-combined-policies");
    let p = &d.zone_policies[0];
    assert_eq!(decide_zone(p, [1, 1, 1, 1], 80, "trust", "untrust").0, Permit, "default-policy permit-all");
    let from = |src: [u8; 4]| {
        let flow = tcp(src, [9, 9, 9, 9], 80);
        let c = p.decide(&flow, "trust", "untrust", None, None).pop().unwrap();
        (
            c.action,
            c.rule.map_or_else(|| "default".to_owned(), |i| p.rules[i].name.clone()),
            c.rule.is_some_and(|i| p.rules[i].from == policy::zone::Labels::Any),
        )
    };
    assert_eq!(from([1, 2, 3, 1]), (Permit, "P0".into(), false));
    assert_eq!(from([1, 2, 3, 2]), (Deny, "P1".into(), false));
    // The global P1, after the zone pair's policies.
    assert_eq!(from([1, 2, 3, 5]), (Deny, "P1".into(), true));
    assert_eq!(from([1, 2, 3, 9]), (Permit, "default".into(), false));

    // `appset3` holds `appset2` holds `appset1` holds `a1`: TCP from source port 1.
    let d = read("application-set-nested");
    let p = &d.zone_policies[0];
    for to in ["z2", "z3", "z4"] {
        let rule = p.rules.iter().find(|r| r.to == policy::zone::Labels::Only(vec![to.to_owned()])).unwrap();
        assert_eq!(rule.matches.len(), 1, "{to}");
        assert_eq!((rule.matches[0].proto, &rule.matches[0].sport.0), (Some(6), &vec![(1, 1)]), "{to}");
    }
}

/// F5 BIG-IP: virtual servers in precedence order with their pools, for Batfish's test
/// configurations and the pybatfish documentation's example.
#[test]
fn f5_virtual_servers_parse_and_take_their_flows() {
    let read = |rel: &str| {
        policy::f5::parse(&String::from_utf8_lossy(
            &std::fs::read(corpus().join("configs/f5_bigip").join(rel)).unwrap(),
        ))
    };
    // (file, virtuals, interfaces, warnings): `missing_dest` has no destination;
    // `SOME_VIRTUAL` and the SNAT test's `virtual1` name pools the files do not define.
    let known = [
        ("batfish-testconfigs/f5_bigip_structured_ltm_virtual_cases", 5, 4, 1),
        ("batfish-testconfigs/f5_bigip_structured_ltm", 1, 1, 1),
        ("batfish-testconfigs/f5_bigip_structured_snat", 1, 2, 1),
        ("pybatfish-docs/f5bigip", 3, 3, 0),
    ];
    for (file, virtuals, interfaces, warnings) in known {
        let d = read(file);
        let vs = d.acl("virtual-servers").map_or(0, |a| a.rules.len());
        assert_eq!(
            (vs, d.interfaces.len(), d.warnings.len()),
            (virtuals, interfaces, warnings),
            "{file}: {:#?}",
            d.warnings
        );
    }
    let d = read("pybatfish-docs/f5bigip");
    let vs = d.acl("virtual-servers").unwrap();
    let flow = |dst: &str, dport| tcp([198, 51, 100, 1], dst.parse::<std::net::IpAddr>().unwrap(), dport);
    let by = |f| vs.decide(&f).rule.map(|i| vs.rules[i].text.clone());
    assert_eq!(
        by(flow("192.0.2.3", 80)).as_deref(),
        Some("virtual /Common/virtual3 → pool /Common/pool3 [10.0.0.3:80, 10.0.0.4:80]")
    );
    assert_eq!(by(flow("192.0.2.3", 81)), None);
    let d = read("batfish-testconfigs/f5_bigip_structured_ltm_virtual_cases");
    let vs = d.acl("virtual-servers").unwrap();
    assert!(
        vs.decide(&flow("dead:beef::1", 80))
            .rule
            .is_some_and(|i| vs.rules[i].text.starts_with("virtual /Common/ipv6_dest"))
    );
}

/// Deeply nested and huge single-line inputs: warnings with lines, no panic, bounded work.
#[test]
fn deeply_nested_inputs_are_warned_about_not_fatal() {
    let depth = 20_000;
    let braces = format!("{}x;\n{}", "a {\n".repeat(depth), "}\n".repeat(depth));
    let d = policy::junos::parse(&braces);
    assert!(d.warnings.iter().any(|w| w.message.contains("nested more than") && w.line == 65), "{:?}", d.warnings);
    let d = policy::panos::parse(&format!("config {{\n{braces}}}\n"));
    assert!(d.warnings.iter().any(|w| w.message.contains("nested more than")), "{:?}", d.warnings);
    let long = format!("set {}value\n", "deep ".repeat(depth));
    let d = policy::panos::parse(&long);
    assert_eq!(d.warnings.len(), 1);
    assert_eq!(d.warnings[0].line, 1);
    let xml = format!("<config>{}{}</config>", "<a>".repeat(5_000), "</a>".repeat(5_000));
    let d = policy::panos::parse(&xml);
    assert!(d.zone_policies.is_empty());
    let tmsh = format!("{}x y\n{}", "ltm a {\n".repeat(depth), "}\n".repeat(depth));
    let d = policy::f5::parse(&tmsh);
    assert!(d.acls.is_empty());
    // A file of one huge line in each IOS-style parser.
    let huge = format!("access-list 101 permit ip {}\n", "host 10.0.0.1 ".repeat(100_000));
    assert_eq!(policy::ios::parse(&huge).acls.len(), 1);
    assert_eq!(policy::asa::parse(&huge).acls.len(), 1);
}

/// What an archive stores must analyse as the device's own configuration does: removing
/// the secrets of every corpus file changes no filter, zone policy, interface, route or
/// NAT rule, and hides every secret the hardening checks care about.
#[test]
fn archived_configurations_lose_their_secrets_and_nothing_else() {
    type Parse = fn(&str) -> policy::device::Device;
    let vendors: [(&[&str], Parse); 6] = [
        (&["cisco_ios", "cisco_iosxe", "cisco_nxos", "cisco_iosxr"], policy::ios::parse),
        (&["cisco_asa"], policy::asa::parse),
        (&["juniper"], policy::junos::parse),
        (&["paloalto_xml", "paloalto_set"], policy::panos::parse),
        (&["f5_bigip"], policy::f5::parse),
        (&["linux_iptables"], policy::iptables::parse),
    ];
    let analysed = |d: &policy::device::Device| {
        format!("{:?} {:?} {:?} {:?} {:?}", d.acls, d.zone_policies, d.interfaces, d.routes, d.nat)
    };
    let (mut read, mut secrets) = (0, 0);
    for (dirs, parse) in vendors {
        let mut paths = Vec::new();
        for dir in dirs {
            files(&corpus().join("configs").join(dir), &mut paths);
        }
        for p in paths {
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
            let redacted = policy::archive::redact(&text);
            assert_eq!(analysed(&parse(&text)), analysed(&parse(&redacted.text)), "{}", p.display());
            assert_eq!(redacted.text.lines().count(), text.lines().count(), "{}", p.display());
            for line in redacted.text.lines().map(str::trim) {
                let leak = ["enable secret 5 $", "enable password 7 ", "encrypted-password \"$", "<phash>$"];
                assert!(!leak.iter().any(|l| line.starts_with(l)), "{}: {line}", p.display());
            }
            read += 1;
            secrets += redacted.secrets;
        }
    }
    assert!(read >= 60, "the corpus's configurations: {read}");
    assert!(secrets >= 25, "the corpus holds passwords, hashes and communities; {secrets} removed");
}

/// OSPF computed from the configurations of Batfish's example network is the OSPF that
/// Batfish computed (its `routes` answer in the corpus): for every router, the same
/// intra-area and external (E2) routes with the same metrics and the same equal-cost next
/// hops; and where Batfish installed another protocol's route instead, that route has the
/// lower administrative distance.
#[test]
fn ospf_routes_of_the_batfish_example_network_are_batfishs() {
    use policy::route::NextHop;
    use std::collections::{BTreeMap, BTreeSet};
    let mut paths = Vec::new();
    files(&corpus().join("configs/cisco_ios/batfish-example-live"), &mut paths);
    paths.sort();
    let devices: Vec<(String, policy::device::Device)> = paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            (p.file_stem().unwrap().to_string_lossy().into_owned(), policy::ios::parse(&text))
        })
        .collect();
    let refs: Vec<&policy::device::Device> = devices.iter().map(|(_, d)| d).collect();
    let computed = policy::ospf::routes(&refs);

    let answer: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(corpus().join("reference/batfish/tests-basic/routes.ref")).unwrap(),
    )
    .unwrap();
    type Key = (String, String); // (node, network)
    let mut batfish: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
    let mut best_admin: BTreeMap<Key, u64> = BTreeMap::new();
    for row in answer[0]["rows"].as_array().unwrap() {
        let key = (row["Node"]["name"].as_str().unwrap().to_owned(), row["Network"].as_str().unwrap().to_owned());
        let admin = row["Admin_Distance"].as_u64().unwrap();
        best_admin.entry(key.clone()).and_modify(|a| *a = (*a).min(admin)).or_insert(admin);
        let protocol = row["Protocol"].as_str().unwrap();
        if protocol.starts_with("ospf") {
            let hop = &row["Next_Hop"];
            batfish.entry(key).or_default().insert(format!(
                "{protocol} {} via {} {}",
                row["Metric"],
                hop["interface"].as_str().unwrap_or(""),
                hop["ip"].as_str().unwrap_or("")
            ));
        }
    }
    assert!(batfish.len() > 60, "the answer's OSPF routes: {}", batfish.len());
    let mut ours: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
    for ((node, _), routes) in devices.iter().zip(&computed) {
        for r in routes {
            let NextHop::Interface { name, ip } = &r.next_hop else { panic!("{r:?}") };
            let via =
                format!("{} {} via {name} {}", r.protocol, r.metric, ip.map(|i| i.to_string()).unwrap_or_default());
            ours.entry((node.clone(), format!("{}/{}", r.network, r.len))).or_default().insert(via);
        }
    }
    for (key, theirs) in &batfish {
        assert_eq!(ours.get(key), Some(theirs), "{key:?}");
    }
    for (key, mine) in &ours {
        if !batfish.contains_key(key) {
            let admin = best_admin.get(key).copied();
            assert!(
                admin.is_some_and(|a| a < 110),
                "{key:?}: we route {mine:?}; Batfish installed none better ({admin:?})"
            );
        }
    }
}

/// The Junos version of Batfish's example network: AS 1's borders run Junos (`protocols
/// ospf area … interface …`, an export policy of direct routes), the rest IOS. OSPF between
/// them takes the same paths as in the all-IOS network, with Junos' own defaults: a
/// loopback costs 0, exported routes are type 2 with metric 0, and Junos ranks OSPF 10
/// internal and 150 external.
#[test]
fn ospf_between_junos_and_ios_follows_each_vendors_defaults() {
    use policy::route::NextHop;
    let dir = corpus().join("configs/juniper/batfish-example-juniper");
    let names = ["as1border1", "as1border2", "as1core1"];
    let devices: Vec<policy::device::Device> = names
        .iter()
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(format!("{n}.cfg"))).unwrap();
            if text.contains("set system") { policy::junos::parse(&text) } else { policy::ios::parse(&text) }
        })
        .collect();
    let refs: Vec<&policy::device::Device> = devices.iter().collect();
    let routes = policy::ospf::routes(&refs);
    let show = |r: &policy::route::Route| {
        let NextHop::Interface { name, ip } = &r.next_hop else { panic!("{r:?}") };
        format!("{}/{} {} {} {} via {name} {}", r.network, r.len, r.protocol, r.metric, r.admin, ip.unwrap())
    };
    let core: Vec<String> = routes[2].iter().map(show).collect();
    // The IOS core reaches the Junos border's loopback at the link's cost alone.
    assert!(core.contains(&"1.1.1.1/32 ospf 1 110 via FastEthernet0/0 1.0.1.1".to_owned()), "{core:#?}");
    // The border's eBGP link is exported as type 2 with Junos' metric 0.
    assert!(core.contains(&"10.12.11.0/24 ospfE2 0 110 via FastEthernet0/0 1.0.1.1".to_owned()), "{core:#?}");
    let border: Vec<String> = routes[0].iter().map(show).collect();
    // The Junos border ranks what it learns with Junos preferences: 10 inside, 150 outside.
    assert!(border.contains(&"1.10.1.1/32 ospf 2 10 via fe-0/0/0.0 1.0.1.2".to_owned()), "{border:#?}");
    assert!(
        border.iter().any(|r| r.starts_with("1.2.2.2/32 ospf ") && r.contains(" 10 via fe-0/0/0.0")),
        "{border:#?}"
    );
    assert!(border.iter().all(|r| !r.contains("ospfE2") || r.contains(" 150 via ")), "{border:#?}");
}

/// The example network's configurations (IOS, or Junos where the file is in `set` form)
/// with OSPF and BGP computed between them: the BGP routes per (node, prefix) as
/// `protocol metric via next-hop`, their administrative distances, and the sessions.
/// Routes per (node, prefix) as `protocol metric via next-hop`.
type RouteTable = std::collections::BTreeMap<(String, String), std::collections::BTreeSet<String>>;

/// What BGP computed over a directory of configurations.
struct Computed {
    routes: RouteTable,
    admins: std::collections::BTreeMap<(String, String), u32>,
    /// Sessions that stay down, as `node → peer: reason`.
    down: Vec<String>,
    /// Session ends that come up.
    up: usize,
}

fn example_network_bgp(dir: &str) -> Computed {
    use policy::route::NextHop;
    let mut paths = Vec::new();
    files(&corpus().join("configs").join(dir), &mut paths);
    paths.sort();
    let devices: Vec<(String, policy::device::Device)> = paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let d = if text.contains("set system") { policy::junos::parse(&text) } else { policy::ios::parse(&text) };
            (p.file_stem().unwrap().to_string_lossy().into_owned(), d)
        })
        .collect();
    let refs: Vec<&policy::device::Device> = devices.iter().map(|(_, d)| d).collect();
    let ospf = policy::ospf::routes(&refs);
    let igp: Vec<Vec<policy::route::Route>> = refs
        .iter()
        .zip(ospf)
        .map(|(d, o)| {
            let mut rib = policy::route::from_device(d);
            rib.extend(o);
            rib
        })
        .collect();
    let (computed, sessions) = policy::bgp::routes(&refs, &igp);
    let down = sessions
        .iter()
        .filter(|s| !s.established)
        .map(|s| format!("{} → {}: {}", devices[s.node].0, s.peer_ip, s.reason))
        .collect();
    let up = sessions.iter().filter(|s| s.established).count();
    let mut ours = std::collections::BTreeMap::new();
    let mut admins = std::collections::BTreeMap::new();
    for ((node, _), routes) in devices.iter().zip(&computed) {
        for r in routes {
            let hop = match &r.next_hop {
                NextHop::Ip(ip) => ip.to_string(),
                NextHop::Discard => "discard".into(),
                other => panic!("{other:?}"),
            };
            let key = (node.clone(), format!("{}/{}", r.network, r.len));
            admins.insert(key.clone(), r.admin);
            ours.entry(key)
                .or_insert_with(std::collections::BTreeSet::new)
                .insert(format!("{} {} via {hop}", r.protocol, r.metric));
        }
    }
    Computed { routes: ours, admins, down, up }
}

/// Batfish's BGP rows of its routes answer, and the best administrative distance per
/// (node, prefix) of every row.
fn batfish_bgp_rows() -> (RouteTable, std::collections::BTreeMap<(String, String), u64>) {
    let answer: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(corpus().join("reference/batfish/tests-basic/routes.ref")).unwrap(),
    )
    .unwrap();
    let mut batfish = std::collections::BTreeMap::new();
    let mut best_admin = std::collections::BTreeMap::new();
    for row in answer[0]["rows"].as_array().unwrap() {
        let key = (row["Node"]["name"].as_str().unwrap().to_owned(), row["Network"].as_str().unwrap().to_owned());
        let admin = row["Admin_Distance"].as_u64().unwrap();
        best_admin.entry(key.clone()).and_modify(|a: &mut u64| *a = (*a).min(admin)).or_insert(admin);
        let protocol = row["Protocol"].as_str().unwrap();
        if ["bgp", "ibgp", "aggregate"].contains(&protocol) {
            let hop = row["Next_Hop"]["ip"].as_str().unwrap_or("discard");
            batfish
                .entry(key)
                .or_insert_with(std::collections::BTreeSet::new)
                .insert(format!("{protocol} {} via {hop}", row["Metric"]));
        }
    }
    (batfish, best_admin)
}

/// BGP computed from the configurations of Batfish's example network — sessions over
/// loopbacks and OSPF, route reflectors with additional paths, route maps matching access
/// lists, prefix lists and community regular expressions, an aggregate with `summary-only`,
/// multipath — gives every router the BGP routes of Batfish's routes answer: the same
/// prefixes, protocols (`bgp`, `ibgp`, `aggregate`), MEDs and equal-cost next hops; and where
/// Batfish installed another protocol's route instead, that route ranks before ours.
#[test]
fn bgp_routes_of_the_batfish_example_network_are_batfishs() {
    let Computed { routes: ours, admins, down, up } = example_network_bgp("cisco_ios/batfish-example-live");
    // as1border1's `bad-ebgp` peer is another AS's loopback and `xanadu` is nobody: no
    // route leads to either; as1border2's AS 4 peer is not in the snapshot.
    assert_eq!(
        down,
        [
            "as1border1 → 3.2.2.2: no route to the peer's address",
            "as1border1 → 5.6.7.8: no route to the peer's address",
            "as1border2 → 10.14.22.4: no router has the peer's address",
        ]
    );
    assert_eq!(up, 34, "both ends of 17 sessions");
    let (batfish, best_admin) = batfish_bgp_rows();
    assert!(batfish.len() > 40, "the answer's BGP routes: {}", batfish.len());
    let mut wrong = Vec::new();
    for (key, theirs) in &batfish {
        if ours.get(key) != Some(theirs) {
            wrong.push(format!("{key:?}: Batfish {theirs:?}, ours {:?}", ours.get(key)));
        }
    }
    for (key, mine) in &ours {
        if !batfish.contains_key(key) && best_admin.get(key).is_none_or(|&a| a >= u64::from(admins[key])) {
            wrong.push(format!("{key:?}: ours {mine:?}, Batfish installed nothing better"));
        }
    }
    assert!(wrong.is_empty(), "{} differences:\n{}", wrong.len(), wrong.join("\n"));
}

/// The same network with AS 1's borders on Junos (`protocols bgp` groups, policy-statement
/// chains with Junos defaults, communities with wildcards, prefix lists): sessions between
/// Junos and IOS come up, and AS 2 and AS 3 learn exactly what they learn from the IOS
/// borders — the routes of Batfish's answer for the IOS network.
#[test]
fn bgp_between_junos_and_ios_borders_routes_as_the_ios_network() {
    let Computed { routes: ours, admins, down, up } = example_network_bgp("juniper/batfish-example-juniper");
    assert_eq!(
        down,
        [
            "as1border1 → 3.2.2.2: no route to the peer's address",
            "as1border1 → 5.6.7.8: no route to the peer's address",
            "as1border2 → 10.14.22.4: no router has the peer's address",
        ]
    );
    assert_eq!(up, 34);
    // This snapshot's AS 2 aggregates differently (2.0.0.0/8); what AS 1 and AS 3 originate
    // travels as in the IOS network.
    let (batfish, _) = batfish_bgp_rows();
    // as2core2 names an inbound route map it does not define (`filter-bogons`), so it takes
    // no routes from its clients.
    assert!(ours.keys().all(|k| k.0 != "as2core2"), "{ours:#?}");
    let compared = |k: &(String, String)| {
        !k.0.starts_with("as1") && k.0 != "as2core2" && (k.1.starts_with("1.") || k.1.starts_with("3."))
    };
    let theirs: Vec<_> = batfish.iter().filter(|(k, _)| compared(k)).collect();
    let mine: Vec<_> = ours.iter().filter(|(k, _)| compared(k)).collect();
    assert_eq!(mine, theirs);
    // Inside AS 1 the Junos border ranks BGP 170; it prefers AS 3's routes from its iBGP
    // peer (one AS away) over AS 2's copies (two), as the IOS border does.
    let border: Vec<String> = ours
        .iter()
        .filter(|(k, _)| k.0 == "as1border1")
        .map(|(k, v)| format!("{} {}", k.1, v.iter().cloned().collect::<Vec<_>>().join(",")))
        .collect();
    assert_eq!(
        border,
        ["2.0.0.0/8 bgp 50 via 10.12.11.2", "3.0.1.0/24 ibgp 50 via 10.13.22.3", "3.0.2.0/24 ibgp 50 via 10.13.22.3"]
    );
    assert!(admins.iter().filter(|(k, _)| k.0 == "as1border1").all(|(_, &a)| a == 170), "{admins:?}");
}
