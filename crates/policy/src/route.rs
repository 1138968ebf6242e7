//! Routing tables: routes a device's configuration gives (connected subnets of its
//! interfaces, static routes) or that a routing table names (a RIB exported from the device
//! or from Batfish), and longest-prefix lookups over them with equal-cost paths kept.

use crate::device::Device;
use std::net::IpAddr;

/// Where a route sends packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextHop {
    /// Out of an interface, to `ip` when given (else to the destination itself: the subnet
    /// is connected).
    Interface { name: String, ip: Option<IpAddr> },
    /// To an address that is itself looked up (recursive: BGP, a static route by address).
    Ip(IpAddr),
    /// Dropped (`Null0`, `discard`, an aggregate's own route).
    Discard,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub network: IpAddr,
    pub len: u8,
    pub next_hop: NextHop,
    /// `connected`, `local`, `static`, `ospf`, `bgp`…
    pub protocol: String,
    pub admin: u32,
    pub metric: u64,
}

impl Route {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len.min(32))).unwrap_or(0);
                (u32::from(n) ^ u32::from(a)) & mask == 0
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.len.min(128))).unwrap_or(0);
                (u128::from(n) ^ u128::from(a)) & mask == 0
            }
            _ => false,
        }
    }
}

/// `10.0.0.1/24` as the network it is in and its length.
pub fn parse_prefix(p: &str) -> Option<(IpAddr, IpAddr, u8)> {
    let (a, len) = p.split_once('/')?;
    let a: IpAddr = a.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    let network = match a {
        IpAddr::V4(v4) if len <= 32 => {
            IpAddr::V4((u32::from(v4) & u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)).into())
        }
        IpAddr::V6(v6) if len <= 128 => {
            IpAddr::V6((u128::from(v6) & u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)).into())
        }
        _ => return None,
    };
    Some((a, network, len))
}

/// The routes a configuration gives by itself: its interfaces' subnets (connected) and
/// addresses (local), and its static routes.
pub fn from_device(d: &Device) -> Vec<Route> {
    let mut out = Vec::new();
    for i in d.interfaces.iter().filter(|i| !i.shutdown) {
        for a in &i.addresses {
            let Some((ip, network, len)) = parse_prefix(a) else { continue };
            let interface = NextHop::Interface { name: i.name.clone(), ip: None };
            out.push(Route {
                network,
                len,
                next_hop: interface.clone(),
                protocol: "connected".into(),
                admin: 0,
                metric: 0,
            });
            let host = if ip.is_ipv4() { 32 } else { 128 };
            out.push(Route {
                network: ip,
                len: host,
                next_hop: interface,
                protocol: "local".into(),
                admin: 0,
                metric: 0,
            });
        }
    }
    out.extend(d.routes.iter().cloned());
    out
}

/// The best routes to `dst`: the longest prefix, then the lowest administrative distance,
/// then the lowest metric; equal ones are all kept (equal-cost paths).
pub fn lookup(rib: &[Route], dst: IpAddr) -> Vec<&Route> {
    let matching = rib.iter().filter(|r| r.contains(dst));
    let Some(best) = matching.clone().map(|r| (std::cmp::Reverse(r.len), r.admin, r.metric)).min() else {
        return Vec::new();
    };
    let mut out: Vec<&Route> = matching.filter(|r| (std::cmp::Reverse(r.len), r.admin, r.metric) == best).collect();
    out.dedup();
    out
}

/// Where a packet to `dst` leaves: each (interface, address of the next device or the
/// destination on a connected subnet) the best routes lead to, following recursive next
/// hops. `None` in place of an interface: the route discards.
pub fn resolve(rib: &[Route], dst: IpAddr) -> Vec<Option<(String, IpAddr)>> {
    let mut all = Vec::new();
    resolve_into(rib, dst, dst, 0, &mut all);
    // Two routes (BGP next hops, say) that resolve to the same exit are one path.
    let mut out: Vec<Option<(String, IpAddr)>> = Vec::new();
    for a in all {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

fn resolve_into(rib: &[Route], target: IpAddr, dst: IpAddr, depth: usize, out: &mut Vec<Option<(String, IpAddr)>>) {
    if depth > 8 {
        return;
    }
    for r in lookup(rib, target) {
        match &r.next_hop {
            NextHop::Discard => out.push(None),
            NextHop::Interface { name, ip } => out.push(Some((name.clone(), ip.unwrap_or(dst)))),
            NextHop::Ip(ip) => {
                // The next hop's own route: if it is connected, the next hop is the address.
                let before = out.len();
                resolve_into(rib, *ip, *ip, depth + 1, out);
                for o in out[before..].iter_mut().flatten() {
                    if o.1 == dst {
                        o.1 = *ip;
                    }
                }
            }
        }
    }
}

/// A routing table read from a device's output.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    /// The device, when its prompt is in the output.
    pub host: Option<String>,
    pub routes: Vec<Route>,
    /// Lines that look like routes but could not be read.
    pub unread: Vec<crate::device::Warning>,
}

/// A routing table as Cisco IOS and IOS-XE print it (`show ip route`, `show ipv6 route`
/// in the same style): the device name when the prompt is in the file, the routes, and the
/// lines that could not be read (line, text, why). Equal-cost continuations (`[110/2] via …`
/// on the next line) belong to the route above; old-style lines without a prefix length take
/// the one their `is subnetted` header gives.
pub fn show_ip_route(text: &str) -> RouteTable {
    let mut host = None;
    let mut routes: Vec<Route> = Vec::new();
    let mut bad = Vec::new();
    let mut last: Option<(IpAddr, u8, String)> = None;
    let mut subnetted: Option<u8> = None;
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        if let Some((prompt, _)) = t.split_once("#show ")
            && !prompt.contains(' ')
        {
            host = Some(prompt.to_owned());
            continue;
        }
        if t.contains("is subnetted") || t.contains("is variably subnetted") {
            subnetted = t.split_whitespace().next().and_then(|p| p.split_once('/')).and_then(|(_, l)| l.parse().ok());
            continue;
        }
        // The legend (`Codes: L - local, …` and its continuation lines) and the header.
        let legend = t.starts_with("Codes:") || t.starts_with("Gateway of last resort") || t.contains(" - ");
        if t.is_empty() || legend {
            continue;
        }
        let w: Vec<&str> = t.split(|c: char| c.is_whitespace() || c == ',').filter(|x| !x.is_empty()).collect();
        // A continuation: `[AD/METRIC] via NEXT-HOP …` for the route above.
        let (prefix, rest, protocol) = if t.starts_with('[') {
            match &last {
                Some((net, len, proto)) => ((*net, *len), &w[..], proto.clone()),
                None => continue,
            }
        } else {
            // Codes first (`O E2`, `S*`, `B`), then the prefix.
            let Some(at) = w.iter().position(|x| x.parse::<IpAddr>().is_ok() || parse_prefix(x).is_some()) else {
                if t.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && t.len() > 3 && !t.contains(':') {
                    bad.push(crate::device::Warning {
                        line: i + 1,
                        text: t.to_owned(),
                        message: "not a route line".into(),
                    });
                }
                continue;
            };
            let code = w[..at].concat();
            let protocol = match code.trim_end_matches(['*', '+', '%', 'p']).chars().next() {
                Some('C') => "connected",
                Some('L') => "local",
                Some('S') => "static",
                Some('O') => "ospf",
                Some('B') => "bgp",
                Some('D') => "eigrp",
                Some('R') => "rip",
                Some('i') => "isis",
                _ => "other",
            }
            .to_owned();
            let prefix = match parse_prefix(w[at]) {
                Some((_, net, len)) => (net, len),
                None => {
                    let ip: IpAddr = match w[at].parse() {
                        Ok(ip) => ip,
                        Err(_) => continue,
                    };
                    (ip, subnetted.unwrap_or(if ip.is_ipv4() { 32 } else { 128 }))
                }
            };
            (prefix, &w[at + 1..], protocol)
        };
        let (admin, metric) = rest
            .iter()
            .find(|x| x.starts_with('['))
            .and_then(|x| x.trim_matches(['[', ']']).split_once('/'))
            .map(|(a, m)| (a.parse().unwrap_or(0), m.parse().unwrap_or(0)))
            .unwrap_or((0, 0));
        let via =
            rest.iter().position(|x| *x == "via").and_then(|k| rest.get(k + 1)).and_then(|x| x.parse::<IpAddr>().ok());
        // The interface is the last word that is neither an address, a time nor a bracket.
        // The interface: the last word that starts with a letter and is no address or
        // keyword (uptimes like `00:00:10` and `1d02h` start with a digit).
        let iface = rest
            .iter()
            .rev()
            .find(|x| {
                x.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && x.parse::<IpAddr>().is_err()
                    && !matches!(**x, "via" | "is" | "directly" | "connected" | "a" | "summary")
            })
            .map(|x| x.to_string());
        let next_hop = if t.contains("Null0") {
            NextHop::Discard
        } else {
            match (via, iface) {
                (Some(ip), Some(name)) => NextHop::Interface { name, ip: Some(ip) },
                (Some(ip), None) => NextHop::Ip(ip),
                (None, Some(name)) => NextHop::Interface { name, ip: None },
                (None, None) => {
                    bad.push(crate::device::Warning {
                        line: i + 1,
                        text: t.to_owned(),
                        message: "neither a next hop nor an interface".into(),
                    });
                    continue;
                }
            }
        };
        last = Some((prefix.0, prefix.1, protocol.clone()));
        routes.push(Route { network: prefix.0, len: prefix.1, next_hop, protocol, admin, metric });
    }
    RouteTable { host, routes, unread: bad }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(p: &str, next_hop: NextHop, admin: u32) -> Route {
        let (_, network, len) = parse_prefix(p).unwrap();
        Route { network, len, next_hop, protocol: "static".into(), admin, metric: 0 }
    }

    #[test]
    fn longest_prefix_then_distance_with_equal_cost_paths_and_recursion() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let ifc = |n: &str, ip: Option<&str>| NextHop::Interface { name: n.into(), ip: ip.map(|i| i.parse().unwrap()) };
        let rib = vec![
            route("10.0.0.0/24", ifc("ge0", None), 0),
            route("10.0.1.0/24", ifc("ge1", None), 0),
            route("0.0.0.0/0", NextHop::Ip(ip("10.0.0.254")), 1),
            route("192.0.2.0/24", NextHop::Ip(ip("10.0.0.1")), 200),
            route("192.0.2.0/24", NextHop::Ip(ip("10.0.1.1")), 200),
            route("192.0.2.0/24", NextHop::Ip(ip("10.0.1.9")), 250),
            route("198.51.100.0/24", NextHop::Discard, 1),
        ];
        let mut paths = resolve(&rib, ip("192.0.2.7"));
        paths.sort();
        assert_eq!(paths, vec![Some(("ge0".into(), ip("10.0.0.1"))), Some(("ge1".into(), ip("10.0.1.1")))]);
        assert_eq!(resolve(&rib, ip("10.0.1.5")), vec![Some(("ge1".into(), ip("10.0.1.5")))]);
        assert_eq!(resolve(&rib, ip("203.0.113.1")), vec![Some(("ge0".into(), ip("10.0.0.254")))]);
        assert_eq!(resolve(&rib, ip("198.51.100.1")), vec![None]);
        assert!(resolve(&rib, ip("2001:db8::1")).is_empty());
    }

    proptest::proptest! {
        /// Routes printed the way IOS prints them read back as the same routes.
        #[test]
        fn show_ip_route_round_trips(
            routes in proptest::collection::vec((proptest::prelude::any::<u32>(), 8u8..=32, 0u8..3, proptest::prelude::any::<u32>(), 0u32..255, 0u64..100_000), 1..20)
        ) {
            let mut text = String::from("r9#show ip route\nCodes: L - local, C - connected, S - static, O - OSPF\n\n");
            let mut expected = Vec::new();
            for (addr, len, kind, hop, admin, metric) in routes {
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                let network = IpAddr::V4((addr & mask).into());
                let hop = IpAddr::V4(hop.into());
                let (line, next_hop, protocol, admin, metric) = match kind {
                    0 => (format!("C        {network}/{len} is directly connected, GigabitEthernet0/1"), NextHop::Interface { name: "GigabitEthernet0/1".into(), ip: None }, "connected", 0, 0),
                    1 => (format!("S        {network}/{len} [{admin}/0] via {hop}"), NextHop::Ip(hop), "static", admin, 0),
                    _ => (format!("O        {network}/{len} [{admin}/{metric}] via {hop}, 00:01:02, Vlan10"), NextHop::Interface { name: "Vlan10".into(), ip: Some(hop) }, "ospf", admin, metric),
                };
                text.push_str(&line);
                text.push('\n');
                expected.push(Route { network, len, next_hop, protocol: protocol.into(), admin, metric });
            }
            let t = show_ip_route(&text);
            proptest::prop_assert_eq!(t.host.as_deref(), Some("r9"));
            proptest::prop_assert!(t.unread.is_empty(), "{:?}", t.unread);
            proptest::prop_assert_eq!(t.routes, expected);
        }
    }

    #[test]
    fn show_ip_route_reads_into_routes() {
        let text = "\
r1#show ip route
Codes: L - local, C - connected, S - static, O - OSPF, B - BGP
Gateway of last resort is 10.0.0.254 to network 0.0.0.0

S*    0.0.0.0/0 [1/0] via 10.0.0.254
      10.0.0.0/8 is variably subnetted, 3 subnets, 2 masks
C        10.0.0.0/24 is directly connected, GigabitEthernet0/0
L        10.0.0.1/32 is directly connected, GigabitEthernet0/0
O E2     172.16.0.0/16 [110/20] via 10.0.0.2, 00:00:10, GigabitEthernet0/0
                       [110/20] via 10.0.0.3, 00:00:10, GigabitEthernet0/0
B        192.0.2.0/24 [200/0] via 10.0.0.9, 1d02h
S        198.51.100.0/24 is directly connected, Null0
";
        let t = show_ip_route(text);
        let (host, rib) = (t.host, t.routes);
        assert_eq!(host.as_deref(), Some("r1"));
        assert!(t.unread.is_empty(), "{:?}", t.unread);
        assert_eq!(rib.len(), 7);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let mut ecmp = resolve(&rib, ip("172.16.1.1"));
        ecmp.sort();
        assert_eq!(
            ecmp,
            vec![
                Some(("GigabitEthernet0/0".into(), ip("10.0.0.2"))),
                Some(("GigabitEthernet0/0".into(), ip("10.0.0.3")))
            ]
        );
        assert_eq!(resolve(&rib, ip("192.0.2.1")), vec![Some(("GigabitEthernet0/0".into(), ip("10.0.0.9")))]);
        assert_eq!(resolve(&rib, ip("198.51.100.1")), vec![None]);
        assert_eq!(resolve(&rib, ip("8.8.8.8")), vec![Some(("GigabitEthernet0/0".into(), ip("10.0.0.254")))]);
        assert_eq!(lookup(&rib, ip("172.16.1.1"))[0].protocol, "ospf");
    }

    /// Static routes as ASA (by `nameif`), Junos and IOS write them.
    #[test]
    fn static_routes_from_each_dialect() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let asa = crate::asa::parse(
            "ASA Version 9.8\ninterface GigabitEthernet0/0\n nameif outside\n security-level 0\n ip address 198.51.100.2 255.255.255.0\nroute outside 0.0.0.0 0.0.0.0 198.51.100.1 1\n",
        );
        assert_eq!(
            resolve(&from_device(&asa), ip("8.8.8.8")),
            vec![Some(("GigabitEthernet0/0".into(), ip("198.51.100.1")))]
        );
        let junos = crate::junos::parse(
            "set interfaces ge-0/0/0 unit 0 family inet address 192.0.2.2/30\nset routing-options static route 0.0.0.0/0 next-hop 192.0.2.1\nset routing-options static route 10.9.0.0/16 discard\n",
        );
        let rib = from_device(&junos);
        assert_eq!(resolve(&rib, ip("8.8.8.8")), vec![Some(("ge-0/0/0.0".into(), ip("192.0.2.1")))]);
        assert_eq!(resolve(&rib, ip("10.9.1.1")), vec![None]);
        let ios = crate::ios::parse(
            "interface Gi0/0\n ip address 10.0.0.1 255.255.255.0\nip route 172.16.0.0 255.240.0.0 Gi0/0 10.0.0.9 250\nip route 0.0.0.0 0.0.0.0 10.0.0.254\n",
        );
        let rib = from_device(&ios);
        assert_eq!(resolve(&rib, ip("172.20.0.1")), vec![Some(("Gi0/0".into(), ip("10.0.0.9")))]);
        assert_eq!(lookup(&rib, ip("172.20.0.1"))[0].admin, 250);
    }
}
