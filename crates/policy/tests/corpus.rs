//! The real IOS and IOS-XE configurations in the shared corpus (`../shared/corpus`, or
//! `WATCHKEEPER_CORPUS`): every file parses without a panic, and the filters, rules,
//! interfaces and bindings of known files are counted.
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
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/ios_parse");
    let mut seeds = Vec::new();
    files(&dir, &mut seeds);
    assert!(seeds.len() >= 2);
    for s in seeds {
        policy::fuzz_one(&std::fs::read(s).unwrap());
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
