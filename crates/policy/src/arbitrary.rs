//! Small random filters and one flow from every class they can tell apart: the brute-force
//! side of the property tests of every analysis.

use crate::acl::{Acl, Action, AddrMatch, Family, Flow, PortMatch, Rule};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};

const BASE: u32 = 0x0a00_0000;

fn addr() -> impl Strategy<Value = AddrMatch> {
    let one = (0u32..4, 0u32..4).prop_map(|(a, w)| AddrMatch::Wildcard { addr: BASE | a, wildcard: w });
    prop_oneof![
        3 => Just(AddrMatch::Any),
        6 => one.clone(),
        1 => proptest::collection::vec(one, 1..3).prop_map(AddrMatch::AnyOf),
        1 => Just(AddrMatch::Undefined("MISSING".into())),
    ]
}

fn ports() -> impl Strategy<Value = PortMatch> {
    prop_oneof![2 => Just(PortMatch::any()), 1 => (0u16..4, 0u16..4).prop_map(|(a, b)| PortMatch(vec![(a.min(b), a.max(b))]))]
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        any::<bool>(),
        prop_oneof![Just(None), Just(Some(1u8)), Just(Some(6u8)), Just(Some(17u8))],
        addr(),
        addr(),
        ports(),
        ports(),
        (proptest::option::of((0u8..3, proptest::option::of(0u8..3))), any::<bool>(), proptest::bool::weighted(0.1)),
    )
        .prop_map(|(permit, proto, src, dst, sport, dport, (icmp, established, fragments))| {
            let ported = matches!(proto, Some(6 | 17));
            Rule {
                line: 0,
                text: String::new(),
                action: if permit { Action::Permit } else { Action::Deny },
                proto,
                src,
                dst,
                sport: if ported { sport } else { PortMatch::any() },
                dport: if ported { dport } else { PortMatch::any() },
                icmp: if proto == Some(1) { icmp } else { None },
                established: proto == Some(6) && established,
                fragments: !ported && fragments,
                log: false,
            }
        })
}

pub fn acl() -> impl Strategy<Value = Acl> {
    proptest::collection::vec(rule(), 1..8).prop_map(|rules| {
        let rules = rules.into_iter().enumerate().map(|(i, r)| Rule { line: i + 1, ..r }).collect();
        Acl { name: "T".into(), line: 1, family: Family::V4, rules }
    })
}

/// One flow from every class the generated rules can tell apart: the four addresses the
/// rules name and one they cannot, ports 0–3 and one above, ICMP types and codes 0–2 and
/// one more, a protocol without ports; each with the flags that protocol can carry.
pub fn flows() -> Vec<Flow> {
    let addrs: Vec<IpAddr> =
        (0..4).map(|a| IpAddr::V4(Ipv4Addr::from(BASE | a))).chain([IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))]).collect();
    let mut headers = Vec::new();
    for proto in [1u8, 6, 17, 47] {
        for fragment in [false, true] {
            let ports: Vec<(u16, u16)> = if matches!(proto, 6 | 17) && !fragment {
                (0..5).flat_map(|s| (0..5).map(move |d| (s, d))).collect()
            } else {
                vec![(0, 0)]
            };
            let icmps: Vec<Option<(u8, u8)>> =
                if proto == 1 { (0..4).flat_map(|t| (0..4).map(move |c| Some((t, c)))).collect() } else { vec![None] };
            for &(sport, dport) in &ports {
                for &icmp in &icmps {
                    for established in if proto == 6 { vec![false, true] } else { vec![false] } {
                        headers.push((proto, sport, dport, icmp, established, fragment));
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for &src in &addrs {
        for &dst in &addrs {
            for &(proto, sport, dport, icmp, established, fragment) in &headers {
                out.push(Flow { src, dst, proto, sport, dport, icmp, established, fragment });
            }
        }
    }
    out
}

/// A flow for the parsers' tests: a new connection from port 40000 (an ICMP flow is an echo
/// request).
pub fn flow(src: &str, dst: &str, proto: u8, dport: u16) -> Flow {
    Flow {
        src: src.parse().expect("a test address"),
        dst: dst.parse().expect("a test address"),
        proto,
        sport: 40000,
        dport,
        icmp: (proto == 1).then_some((8, 0)),
        established: false,
        fragment: false,
    }
}
