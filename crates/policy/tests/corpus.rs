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
            let mut space = policy::space::HeaderSpace::with_capacity(1 << 20);
            let c = policy::analysis::compile(&space, acl).unwrap();
            for f in policy::analysis::findings(&mut space, acl, &c).unwrap() {
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
