//! Device configuration parsers and firewall policy analysis. Pure: text in, models and
//! answers out; no IO, no async.
//!
//! [`acl`] is the vendor-neutral filter model with first-match evaluation of a concrete flow
//! (the brute-force oracle every analysis is checked against). The parsers read a
//! configuration into a [`device::Device`]: [`ios`] (IOS/IOS-XE, NX-OS, IOS-XR, Arista),
//! [`asa`], [`junos`], [`iptables`], [`f5`], and zone policies ([`zone`]) from [`panos`]. The analyses: [`matcher`] (first-match lookups),
//! [`space`] (exact header-space sets), [`analysis`] (anomalies, cleanup), [`diff`] (what a
//! change does); [`pack`] holds the risky-rule and hardening checks as data, [`logs`] reads
//! traffic logs into flows to replay, [`synth`] generates benchmark rule sets.

pub mod acl;
pub mod analysis;
#[cfg(test)]
mod arbitrary;
pub mod archive;
pub mod asa;
pub mod bgp;
mod boxes;
pub mod device;
pub mod diff;
pub mod f5;
mod geometry;
pub mod ios;
pub mod iptables;
pub mod junos;
pub mod logs;
pub mod matcher;
pub mod nat;
pub mod ospf;
pub mod pack;
pub mod panos;
pub mod route;
pub mod space;
mod srx;
pub mod synth;
pub mod trace;
pub mod zone;

/// What the fuzz targets and their seed replays run on arbitrary bytes: parse (as IOS here), check that
/// every warning names a line of the input, decide a flow with every filter (linear scan and
/// matcher agree), and run the analyses and a proven cleanup on the small filters.
#[doc(hidden)]
pub fn fuzz_one(data: &[u8]) {
    fuzz_device(data, ios::parse);
}

/// The same for the ASA parser.
#[doc(hidden)]
pub fn fuzz_asa(data: &[u8]) {
    fuzz_device(data, asa::parse);
}

/// The same for the Junos parser.
#[doc(hidden)]
pub fn fuzz_junos(data: &[u8]) {
    fuzz_device(data, junos::parse);
}

/// What the traffic-log fuzz target runs: any bytes give flows and warnings, never a panic,
/// each naming a line of the input.
#[doc(hidden)]
pub fn fuzz_logs(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count();
    let (flows, warnings) = logs::read(&text);
    for h in logs::hit_counts(&text).unwrap_or_default() {
        assert!(h.line >= 1 && h.line <= lines);
    }
    assert!(flows.iter().all(|f| f.line >= 1 && f.line <= lines));
    assert!(warnings.iter().all(|w| w.line >= 1 && w.line <= lines));
}

/// The same for the PAN-OS parser (XML and `set`), with the zone analyses: findings on
/// small policies never panic and name rules that exist.
#[doc(hidden)]
pub fn fuzz_panos(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count().max(1);
    let d = panos::parse(&text);
    for w in &d.warnings {
        assert!(w.line >= 1 && w.line <= lines, "warning at line {} of {lines}", w.line);
    }
    let flow = sample_flow();
    for p in &d.zone_policies {
        let zone = p.zones.first().map_or("any", String::as_str);
        let cands = p.decide(&flow, zone, zone, None, None);
        assert!(cands.last().is_some_and(|c| c.undecided.is_empty()));
        if p.rules.len() <= 12 && p.zones.len() <= 4 {
            let found = p.findings().unwrap_or_default();
            assert!(found.iter().all(|f| f.rule < p.rules.len() && f.related.iter().all(|&j| j < p.rules.len())));
        }
    }
}

/// The same for the F5 tmsh parser.
#[doc(hidden)]
pub fn fuzz_f5(data: &[u8]) {
    fuzz_device(data, f5::parse);
}

/// The same for the iptables parser.
#[doc(hidden)]
pub fn fuzz_iptables(data: &[u8]) {
    fuzz_device(data, iptables::parse);
}

/// The archive's redaction: idempotent, line-preserving, and the IOS reading of a redacted
/// text has the same filters as the original's.
#[doc(hidden)]
pub fn fuzz_archive(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let once = archive::redact(&text);
    assert_eq!(once.text.lines().count(), text.lines().count());
    assert_eq!(archive::redact(&once.text).text, once.text);
    assert_eq!(format!("{:?}", ios::parse(&text).acls), format!("{:?}", ios::parse(&once.text).acls));
    let stored = archive::without_volatile(&once.text);
    let diff = archive::line_diff(&text, &stored, 3);
    assert!(diff.removed >= text.lines().count().saturating_sub(stored.lines().count()));
}

fn fuzz_device(data: &[u8], parse: fn(&str) -> device::Device) {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count();
    let d = parse(&text);
    for w in &d.warnings {
        assert!(w.line >= 1 && w.line <= lines, "warning at line {} of {lines}", w.line);
    }
    // Two copies of the device are OSPF neighbours on every subnet: the computation runs
    // over whatever the parser read, and routes only through interfaces the device has.
    let ospf = ospf::routes(&[&d, &d]);
    for routes in &ospf {
        for r in routes {
            let route::NextHop::Interface { name, .. } = &r.next_hop else { panic!("{r:?}") };
            assert!(d.interfaces.iter().any(|i| &i.name == name));
        }
    }
    // And BGP over it: every installed route is a BGP one with an address or discard.
    let igp: Vec<Vec<route::Route>> =
        ospf.into_iter().map(|o| route::from_device(&d).into_iter().chain(o).collect()).collect();
    for routes in bgp::routes(&[&d, &d], &igp).0 {
        for r in routes {
            assert!(["bgp", "ibgp", "aggregate"].contains(&r.protocol.as_str()), "{r:?}");
        }
    }
    let flow = sample_flow();
    for p in &d.zone_policies {
        let zone = p.zones.first().map_or("any", String::as_str);
        assert!(p.decide(&flow, zone, zone, None, None).last().is_some_and(|c| c.undecided.is_empty()));
    }
    for a in &d.acls {
        let decision = a.decide(&flow);
        assert!(decision.rule.is_none_or(|i| i < a.rules.len()));
        assert_eq!(matcher::Matcher::new(a).decide(&flow), decision);
        // The symbolic analyses too, on filters small enough to keep the fuzzer fast.
        if a.rules.len() <= 24 {
            let space = space::HeaderSpace::with_capacity(1 << 20);
            let Ok(c) = analysis::compile(&space, a) else { continue };
            let findings = analysis::findings(&space, a, &c).unwrap_or_default();
            assert!(findings.iter().all(|f| f.rule < a.rules.len() && f.related.iter().all(|&j| j < a.rules.len())));
            if let Ok((gone, proven)) = analysis::cleanup(&space, a, &c) {
                assert!(proven, "cleanup of {} not proven", a.name);
                let mut cleaned = a.clone();
                cleaned.rules =
                    a.rules.iter().enumerate().filter(|(i, _)| !gone.contains(i)).map(|(_, r)| r.clone()).collect();
                assert_eq!(cleaned.decide(&flow).action, decision.action);
            }
        }
    }
}

/// The flow the fuzz targets decide with every filter and policy.
fn sample_flow() -> acl::Flow {
    acl::Flow {
        src: std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)),
        dst: std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)),
        proto: 6,
        sport: 40000,
        dport: 443,
        icmp: None,
        established: false,
        fragment: false,
    }
}
