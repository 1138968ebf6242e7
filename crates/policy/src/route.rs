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
