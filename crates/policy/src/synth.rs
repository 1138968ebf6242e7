//! Seeded synthetic rule sets in the shape of ClassBench's three families (access lists,
//! firewalls, IP chains): the licence-clean scale corpus for benchmarks. ClassBench's own
//! files are academic-only, so the generator imitates their structure instead: addresses
//! drawn from a pool of networks (so rules overlap as real ones do), prefix-length mixes per
//! family, port classes (any, well-known, high ports, exact, arbitrary range), a protocol mix,
//! and a final catch-all rule. Output: the model, ClassBench's text format, or an IOS ACL.

use crate::acl::{Acl, Action, AddrMatch, Family, PortMatch, Rule};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fmt::Write;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Router ACLs: specific destinations, mostly exact service ports.
    Acl,
    /// Firewalls: many wildcards and port ranges.
    Fw,
    /// IP chains: a mix of both.
    Ipc,
}

impl Shape {
    pub fn parse(s: &str) -> Option<Shape> {
        match s {
            "acl" => Some(Shape::Acl),
            "fw" => Some(Shape::Fw),
            "ipc" => Some(Shape::Ipc),
            _ => None,
        }
    }
}

/// `n` rules (the last one `permit ip any any`… or deny, by the seed) named `name`.
pub fn rules(shape: Shape, n: usize, seed: u64) -> Acl {
    let mut rng = StdRng::seed_from_u64(seed);
    let networks: Vec<u32> = (0..(n / 20).clamp(8, 4096)).map(|_| rng.random::<u32>() & 0xffff_0000).collect();
    let mut out = Vec::with_capacity(n);
    for i in 0..n.saturating_sub(1) {
        let (src_len, dst_len) = match shape {
            Shape::Acl => (
                pick(&mut rng, &[(0, 15), (16, 10), (24, 40), (32, 35)]),
                pick(&mut rng, &[(0, 5), (24, 30), (32, 65)]),
            ),
            Shape::Fw => (
                pick(&mut rng, &[(0, 30), (8, 5), (16, 20), (24, 25), (32, 20)]),
                pick(&mut rng, &[(0, 10), (16, 15), (24, 40), (32, 35)]),
            ),
            Shape::Ipc => (
                pick(&mut rng, &[(0, 25), (16, 15), (24, 30), (32, 30)]),
                pick(&mut rng, &[(0, 15), (24, 35), (32, 50)]),
            ),
        };
        // As in real sets, only the final rule leaves both addresses open.
        let dst_len = if src_len == 0 && dst_len == 0 { 24 } else { dst_len };
        let proto = match pick(&mut rng, &[(6, 70), (17, 20), (1, 5), (0, 5)]) {
            0 => None,
            p => Some(p as u8),
        };
        let ported = matches!(proto, Some(6 | 17));
        let sport = if ported && shape != Shape::Acl && rng.random_bool(0.15) {
            PortMatch(vec![(1024, 65535)])
        } else {
            PortMatch::any()
        };
        let dport = if ported { dport(&mut rng, shape) } else { PortMatch::any() };
        out.push(Rule {
            line: i + 2,
            text: String::new(),
            action: if rng.random_bool(0.7) { Action::Permit } else { Action::Deny },
            proto,
            src: prefix(&mut rng, &networks, src_len),
            sport,
            dst: prefix(&mut rng, &networks, dst_len),
            dport,
            icmp: None,
            established: false,
            fragments: false,
            log: false,
        });
    }
    out.push(Rule::any(Action::Deny, n + 1));
    let mut acl = Acl { name: "CLASSBENCH".into(), line: 1, family: Family::V4, rules: out };
    for r in &mut acl.rules {
        r.text = ios_rule(r);
    }
    acl
}

fn pick(rng: &mut StdRng, weighted: &[(u32, u32)]) -> u32 {
    let total: u32 = weighted.iter().map(|w| w.1).sum();
    let mut x = rng.random_range(0..total);
    for &(v, w) in weighted {
        if x < w {
            return v;
        }
        x -= w;
    }
    weighted[0].0
}

fn prefix(rng: &mut StdRng, networks: &[u32], len: u32) -> AddrMatch {
    if len == 0 {
        return AddrMatch::Any;
    }
    let net = networks[rng.random_range(0..networks.len())] | (rng.random::<u32>() & 0xffff);
    let wildcard = if len == 32 { 0 } else { u32::MAX >> len };
    AddrMatch::Wildcard { addr: net & !wildcard, wildcard }
}

fn dport(rng: &mut StdRng, shape: Shape) -> PortMatch {
    const WELL_KNOWN: [u16; 12] = [22, 23, 25, 53, 80, 110, 123, 143, 161, 443, 1521, 3389];
    let class = match shape {
        Shape::Acl => pick(rng, &[(0, 10), (1, 65), (2, 10), (3, 10), (4, 5)]),
        Shape::Fw => pick(rng, &[(0, 35), (1, 30), (2, 15), (3, 5), (4, 15)]),
        Shape::Ipc => pick(rng, &[(0, 25), (1, 45), (2, 10), (3, 10), (4, 10)]),
    };
    let range = match class {
        0 => (0, u16::MAX),
        1 => {
            let p = WELL_KNOWN[rng.random_range(0..WELL_KNOWN.len())];
            (p, p)
        }
        2 => (1024, u16::MAX),
        3 => {
            let p = rng.random_range(1024..u16::MAX);
            (p, p)
        }
        _ => {
            let lo = rng.random_range(1..60000);
            (lo, lo + rng.random_range(1..5000))
        }
    };
    PortMatch(vec![range])
}

fn ios_addr(m: &AddrMatch) -> String {
    match m {
        AddrMatch::Wildcard { addr, wildcard: 0 } => format!("host {}", Ipv4Addr::from(*addr)),
        AddrMatch::Wildcard { addr, wildcard } => format!("{} {}", Ipv4Addr::from(*addr), Ipv4Addr::from(*wildcard)),
        _ => "any".into(),
    }
}

fn ios_ports(p: &PortMatch) -> String {
    match p.0.first() {
        Some(&(0, u16::MAX)) | None => String::new(),
        Some(&(lo, hi)) if lo == hi => format!(" eq {lo}"),
        Some(&(lo, u16::MAX)) => format!(" gt {}", lo - 1),
        Some(&(lo, hi)) => format!(" range {lo} {hi}"),
    }
}

fn ios_rule(r: &Rule) -> String {
    let proto = match r.proto {
        None => "ip".to_owned(),
        Some(6) => "tcp".to_owned(),
        Some(17) => "udp".to_owned(),
        Some(1) => "icmp".to_owned(),
        Some(p) => p.to_string(),
    };
    format!(
        "{} {proto} {}{} {}{}",
        r.action.as_str(),
        ios_addr(&r.src),
        ios_ports(&r.sport),
        ios_addr(&r.dst),
        ios_ports(&r.dport)
    )
}

/// The rules as an IOS named extended ACL, one rule per line after the header.
pub fn to_ios(acl: &Acl) -> String {
    let mut s = format!("ip access-list extended {}\n", acl.name);
    for r in &acl.rules {
        let _ = writeln!(s, " {}", r.text);
    }
    s
}

/// The rules in ClassBench's text format (`@src/len dst/len sport dport proto/mask`); the
/// action, which ClassBench has not, is left out.
pub fn to_classbench(acl: &Acl) -> String {
    let mut s = String::new();
    let cb = |m: &AddrMatch| match m {
        AddrMatch::Wildcard { addr, wildcard } => format!("{}/{}", Ipv4Addr::from(*addr), wildcard.leading_zeros()),
        _ => "0.0.0.0/0".into(),
    };
    for r in &acl.rules {
        let (sp, dp) = (r.sport.0[0], r.dport.0[0]);
        let (proto, mask) = r.proto.map_or((0, 0), |p| (p, 0xff));
        let _ = writeln!(
            s,
            "@{}\t{}\t{} : {}\t{} : {}\t0x{proto:02X}/0x{mask:02X}",
            cb(&r.src),
            cb(&r.dst),
            sp.0,
            sp.1,
            dp.0,
            dp.1
        );
    }
    s
}

/// A filter as an Aerleon policy: the `.pol` file (one term per rule, `t<index>`, rendered
/// for `target`, e.g. `cisco NAME extended`) and the naming definitions it uses (networks and
/// services). `None` when a rule cannot be written in Aerleon's terms (a non-contiguous
/// wildcard, a port list, ICMP types, TCP flags, fragments).
pub struct Aerleon {
    pub policy: String,
    pub networks: String,
    pub services: String,
}

pub fn to_aerleon(acl: &Acl, target: &str) -> Option<Aerleon> {
    use std::collections::BTreeSet;
    let (mut nets, mut svcs) = (BTreeSet::new(), BTreeSet::new());
    let mut policy = format!("header {{\n  target:: {target}\n}}\n");
    let net = |m: &AddrMatch, nets: &mut BTreeSet<(String, String)>| -> Option<Option<String>> {
        match m {
            AddrMatch::Any => Some(None),
            AddrMatch::Wildcard { addr, wildcard } if wildcard.wrapping_add(1) & wildcard == 0 => {
                let len = wildcard.leading_zeros();
                let name = format!("N_{}_{len}", Ipv4Addr::from(*addr).to_string().replace('.', "_"));
                nets.insert((name.clone(), format!("{}/{len}", Ipv4Addr::from(*addr))));
                Some(Some(name))
            }
            _ => None,
        }
    };
    for (i, r) in acl.rules.iter().enumerate() {
        if r.icmp.is_some() || r.established || r.fragments || r.sport.0.len() != 1 || r.dport.0.len() != 1 {
            return None;
        }
        let _ = writeln!(policy, "term t{i} {{");
        if let Some(n) = net(&r.src, &mut nets)? {
            let _ = writeln!(policy, "  source-address:: {n}");
        }
        if let Some(n) = net(&r.dst, &mut nets)? {
            let _ = writeln!(policy, "  destination-address:: {n}");
        }
        let proto = match r.proto {
            None => None,
            Some(6) => Some("tcp"),
            Some(17) => Some("udp"),
            Some(1) => Some("icmp"),
            Some(_) => return None,
        };
        if let Some(p) = proto {
            let _ = writeln!(policy, "  protocol:: {p}");
        }
        for (field, ports) in [("source-port", &r.sport), ("destination-port", &r.dport)] {
            let (lo, hi) = ports.0[0];
            if (lo, hi) == (0, u16::MAX) {
                continue;
            }
            let p = proto.filter(|p| *p != "icmp")?;
            let name = format!("{}_{lo}_{hi}", p.to_uppercase());
            let range = if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") };
            svcs.insert((name.clone(), format!("{range}/{p}")));
            let _ = writeln!(policy, "  {field}:: {name}");
        }
        let action = if r.action == Action::Permit { "accept" } else { "deny" };
        let _ = writeln!(policy, "  action:: {action}\n}}");
    }
    let defs = |set: BTreeSet<(String, String)>| set.into_iter().map(|(n, v)| format!("{n} = {v}\n")).collect();
    Some(Aerleon { policy, networks: defs(nets), services: defs(svcs) })
}

/// A trace in ClassBench's manner: most headers drawn from inside a random rule's box (so
/// lookups land all over the rule set), the rest uniformly random. IPv4 rules only.
pub fn trace(acl: &Acl, n: usize, seed: u64) -> Vec<crate::acl::Flow> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let within = |m: &AddrMatch, r: u64| match m {
        AddrMatch::Wildcard { addr, wildcard } => addr | (r as u32 & wildcard),
        _ => r as u32,
    };
    (0..n)
        .map(|_| {
            let r = &acl.rules[(next() % acl.rules.len() as u64) as usize];
            let inside = !next().is_multiple_of(5);
            let proto = if inside { r.proto.unwrap_or(6) } else { [6, 17, 1][(next() % 3) as usize] };
            let ported = matches!(proto, 6 | 17);
            let port = |p: &PortMatch, v: u64| {
                let (lo, hi) = p.0.first().copied().unwrap_or((0, u16::MAX));
                if inside { lo + (v % (u64::from(hi - lo) + 1)) as u16 } else { v as u16 }
            };
            crate::acl::Flow {
                src: Ipv4Addr::from(if inside { within(&r.src, next()) } else { next() as u32 }).into(),
                dst: Ipv4Addr::from(if inside { within(&r.dst, next()) } else { next() as u32 }).into(),
                proto,
                sport: if ported { port(&r.sport, next()) } else { 0 },
                dport: if ported { port(&r.dport, next()) } else { 0 },
                icmp: (proto == 1).then_some((8, 0)),
                established: false,
                fragment: false,
            }
        })
        .collect()
}

/// A seeded PAN-OS policy in `set` form: `n` rules between `zones` zones, two thirds limited
/// to applications on their default ports (two of them custom, so undecidable), a quarter
/// denying. For the zone-policy benchmarks.
pub fn panos_set(n: usize, zones: usize, seed: u64) -> String {
    const APPS: [&str; 12] =
        ["ssl", "web-browsing", "dns", "ssh", "ntp", "snmp", "ldap", "smtp", "ms-rdp", "bgp", "custom-a", "custom-b"];
    let mut rng = StdRng::seed_from_u64(seed);
    let mut s = String::new();
    for z in 0..zones {
        let _ = writeln!(s, "set zone z{z} network layer3 ethernet1/{}", z + 1);
    }
    for i in 0..n {
        let r = format!("set rulebase security rules r{i}");
        let (from, to) = (rng.random_range(0..zones), rng.random_range(0..zones));
        let _ = writeln!(s, "{r} from z{from}\n{r} to z{to}");
        let _ = writeln!(s, "{r} source 10.{}.{}.0/24", rng.random_range(0..4), rng.random_range(0..256));
        let _ = writeln!(s, "{r} destination 192.168.{}.{}", rng.random_range(0..8), rng.random_range(0..256));
        if rng.random_range(0..3) == 0 {
            let _ = writeln!(s, "{r} application any\n{r} service any");
        } else {
            let (a, b) = (APPS[rng.random_range(0..APPS.len())], APPS[rng.random_range(0..APPS.len())]);
            let _ = writeln!(s, "{r} application [ {a} {b} ]\n{r} service application-default");
        }
        let _ = writeln!(s, "{r} action {}", if rng.random_range(0..4) == 0 { "deny" } else { "allow" });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ios_reads_back_as_the_same_rules() {
        for shape in [Shape::Acl, Shape::Fw, Shape::Ipc] {
            let acl = rules(shape, 500, 7);
            assert_eq!(acl.rules.len(), 500);
            let parsed = crate::ios::parse(&to_ios(&acl));
            assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings.first());
            let back = parsed.acl("CLASSBENCH").expect("the ACL");
            assert_eq!(back.rules.len(), acl.rules.len());
            for (a, b) in acl.rules.iter().zip(&back.rules) {
                assert_eq!(
                    (a.action, a.proto, &a.src, &a.dst, &a.sport, &a.dport),
                    (b.action, b.proto, &b.src, &b.dst, &b.sport, &b.dport),
                    "{}",
                    a.text
                );
            }
            assert_eq!(rules(shape, 500, 7).rules, acl.rules, "seeded: the same set every run");
            assert_eq!(to_classbench(&acl).lines().count(), 500);
        }
    }
}
