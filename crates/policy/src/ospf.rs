//! OSPFv2 as a trace needs it: which interfaces run OSPF in which area (network statements,
//! interface commands, passive interfaces), what each costs, which routers become
//! neighbours (OSPF interfaces on a common subnet), and the routes each router computes —
//! intra-area by shortest path first, inter-area through area border routers, and external
//! routes (E1, E2) for what autonomous-system boundary routers redistribute (connected and
//! static routes, a default route) — with every equal-cost next hop, as `show ip route
//! ospf` and Batfish's routes answer list them.
//!
//! What is not modelled: LSA timers and adjacency states (a configured adjacency is up),
//! hello/MTU/network-type mismatches, stub and NSSA areas, virtual links, summarisation
//! (`area range`, `summary-address`), route maps on redistribution, and redistribution of
//! BGP or other OSPF processes.

use crate::device::Device;
use crate::route::{NextHop, Route, parse_prefix};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::net::{IpAddr, Ipv4Addr};

/// One OSPF process's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub line: usize,
    pub router_id: Option<Ipv4Addr>,
    /// `network ADDRESS WILDCARD area AREA`, as written.
    pub networks: Vec<NetworkStatement>,
    /// `passive-interface default`.
    pub passive_default: bool,
    pub passive: Vec<String>,
    /// `no passive-interface NAME` under `passive-interface default`.
    pub active: Vec<String>,
    pub redistribute: Vec<Redistribution>,
    /// `default-information originate [always] [metric N] [metric-type 1|2]`.
    pub default_originate: Option<Redistribution>,
    /// `auto-cost reference-bandwidth` in Mbit/s (100 by default).
    pub reference_mbps: u64,
    /// `distance N`: the administrative distance of OSPF routes (IOS 110; Junos calls it
    /// preference: 10 internal, 150 external).
    pub distance: u32,
    pub external_distance: u32,
}

impl Default for Process {
    fn default() -> Self {
        Process {
            line: 0,
            router_id: None,
            networks: Vec::new(),
            passive_default: false,
            passive: Vec::new(),
            active: Vec::new(),
            redistribute: Vec::new(),
            default_originate: None,
            reference_mbps: 100,
            distance: 110,
            external_distance: 110,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkStatement {
    pub address: u32,
    pub wildcard: u32,
    pub area: u32,
}

/// What a router injects as external routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redistribution {
    /// `connected`, `static`, or `default`.
    pub source: &'static str,
    /// `subnets`: without it IOS redistributes only classful networks.
    pub subnets: bool,
    pub metric: u64,
    /// 1 (E1: the metric grows along the path) or 2 (E2: it does not).
    pub metric_type: u8,
    /// `default-information originate always`: the default is sent without a default route.
    pub always: bool,
}

/// The metric IOS gives redistributed connected and static routes.
pub const DEFAULT_EXTERNAL_METRIC: u64 = 20;

/// An area written as a number or a dotted quad.
pub fn parse_area(s: &str) -> Option<u32> {
    s.parse::<u32>().ok().or_else(|| s.parse::<Ipv4Addr>().ok().map(u32::from))
}

/// The bandwidth IOS assumes for an interface by its name, in kbit/s.
fn default_bandwidth_kbps(name: &str) -> u64 {
    let n = name.to_ascii_lowercase();
    let table: [(&str, u64); 16] = [
        // Junos: 100G, 40G, 10G, 1G and Fast Ethernet ports.
        ("et-", 100_000_000),
        ("xe-", 10_000_000),
        ("ge-", 1_000_000),
        ("fe-", 100_000),
        ("hundredgig", 100_000_000),
        ("fortygig", 40_000_000),
        ("twentyfivegig", 25_000_000),
        ("tengig", 10_000_000),
        ("te", 10_000_000),
        ("gigabitethernet", 1_000_000),
        ("gi", 1_000_000),
        ("fastethernet", 100_000),
        ("fa", 100_000),
        ("ethernet", 10_000),
        ("serial", 1_544),
        ("tunnel", 100),
    ];
    if n.starts_with("loopback") || n.starts_with("vlan") || n.starts_with("port-channel") {
        return 1_000_000;
    }
    table.iter().find(|(p, _)| n.starts_with(p)).map_or(1_000_000, |(_, bw)| *bw)
}

/// An interface taking part in OSPF.
#[derive(Debug, Clone)]
struct OspfInterface {
    name: String,
    ip: Ipv4Addr,
    network: u32,
    len: u8,
    area: u32,
    cost: u64,
    passive: bool,
    loopback: bool,
}

fn mask(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0)
}

/// The interfaces of a router that run OSPF, with their area and cost.
fn interfaces(d: &Device, p: &Process) -> Vec<OspfInterface> {
    let mut out = Vec::new();
    for i in d.interfaces.iter().filter(|i| !i.shutdown) {
        let Some((IpAddr::V4(ip), IpAddr::V4(net), len)) = i.addresses.iter().find_map(|a| parse_prefix(a)) else {
            continue;
        };
        // The most specific network statement that covers the address decides its area.
        let statement = p
            .networks
            .iter()
            .filter(|s| (u32::from(ip) & !s.wildcard) == (s.address & !s.wildcard))
            .min_by_key(|s| s.wildcard.count_ones());
        let Some(area) = i.ospf_area.or(statement.map(|s| s.area)) else { continue };
        let lower = i.name.to_ascii_lowercase();
        let loopback = lower.starts_with("loopback") || lower.starts_with("lo0");
        let cost = match i.ospf_cost {
            Some(c) => u64::from(c),
            None if loopback => 1,
            None => {
                let bw = i.bandwidth_kbps.unwrap_or_else(|| default_bandwidth_kbps(&i.name)).max(1);
                (p.reference_mbps * 1000 / bw).max(1)
            }
        };
        let passive =
            loopback || if p.passive_default { !p.active.contains(&i.name) } else { p.passive.contains(&i.name) };
        // A loopback is advertised as a host route whatever its mask.
        let (network, len) = if loopback { (u32::from(ip), 32) } else { (u32::from(net), len) };
        out.push(OspfInterface { name: i.name.clone(), ip, network, len, area, cost, passive, loopback });
    }
    out
}

/// A vertex of an area's graph: a router, or a multi-access segment routers share.
/// Segments order first: a segment reaches its routers at no cost, so at equal distance
/// every segment must be settled before any router, or an equal-cost path through a segment
/// settled later would be lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Vertex {
    Segment(usize),
    Router(usize),
}

/// First hops from the computing router: (interface, neighbour's address).
type Hops = BTreeSet<(String, Option<Ipv4Addr>)>;

struct Area {
    /// Segment → its members: (router, interface index in that router's list).
    segments: Vec<Vec<(usize, usize)>>,
    /// Router → (segment, interface index) it is on.
    attached: HashMap<usize, Vec<(usize, usize)>>,
}

/// Distance and first hops to each router reached.
type Reach = HashMap<usize, (u64, Hops)>;

/// Shortest paths from `from` over an area: distance and first hops to every router.
fn spf(area: &Area, ifaces: &[Vec<OspfInterface>], from: usize) -> Reach {
    let mut best: HashMap<Vertex, (u64, Hops)> = HashMap::new();
    let mut heap = BinaryHeap::new();
    best.insert(Vertex::Router(from), (0, Hops::new()));
    heap.push(Reverse((0u64, Vertex::Router(from))));
    let mut done = BTreeSet::new();
    while let Some(Reverse((dist, v))) = heap.pop() {
        if !done.insert(v) {
            continue;
        }
        let hops = best.get(&v).map(|b| b.1.clone()).unwrap_or_default();
        let mut relax = |to: Vertex, d: u64, hops: Hops, heap: &mut BinaryHeap<Reverse<(u64, Vertex)>>| {
            let entry = best.entry(to).or_insert((u64::MAX, Hops::new()));
            if d < entry.0 {
                *entry = (d, hops);
                heap.push(Reverse((d, to)));
            } else if d == entry.0 && !done.contains(&to) {
                entry.1.extend(hops);
            }
        };
        match v {
            Vertex::Router(r) => {
                for &(s, k) in area.attached.get(&r).map(Vec::as_slice).unwrap_or_default() {
                    let cost = ifaces[r][k].cost;
                    // Leaving the computing router: the hop is this interface; the neighbour's
                    // address is filled in at the segment's far side.
                    let h = if r == from {
                        [(ifaces[r][k].name.clone(), None)].into_iter().collect()
                    } else {
                        hops.clone()
                    };
                    relax(Vertex::Segment(s), dist + cost, h, &mut heap);
                }
            }
            Vertex::Segment(s) => {
                for &(r, k) in &area.segments[s] {
                    // A hop that left the computing router onto this segment goes to the
                    // neighbour's address on it.
                    let h = hops.iter().map(|(name, ip)| (name.clone(), ip.or(Some(ifaces[r][k].ip)))).collect();
                    relax(Vertex::Router(r), dist, h, &mut heap);
                }
            }
        }
    }
    best.into_iter()
        .filter_map(|(v, b)| match v {
            Vertex::Router(r) => Some((r, b)),
            Vertex::Segment(_) => None,
        })
        .collect()
}

/// A route being chosen: (kind rank, metric, forwarding cost) orders candidates.
#[derive(Debug, Clone)]
struct Candidate {
    /// 0 intra-area, 1 inter-area, 2 E1, 3 E2.
    kind: u8,
    metric: u64,
    forward: u64,
    hops: Hops,
}

const KINDS: [&str; 4] = ["ospf", "ospfIA", "ospfE1", "ospfE2"];

fn offer(table: &mut BTreeMap<(u32, u8), Candidate>, key: (u32, u8), c: Candidate) {
    match table.get_mut(&key) {
        None => {
            table.insert(key, c);
        }
        Some(old) => match (c.kind, c.metric, c.forward).cmp(&(old.kind, old.metric, old.forward)) {
            std::cmp::Ordering::Less => *old = c,
            std::cmp::Ordering::Equal => old.hops.extend(c.hops),
            std::cmp::Ordering::Greater => {}
        },
    }
}

/// The IPv4 subnets of a router's interfaces that are up.
fn connected_subnets(d: &Device) -> impl Iterator<Item = (u32, u8)> + '_ {
    d.interfaces.iter().filter(|i| !i.shutdown).flat_map(|i| i.addresses.iter()).filter_map(|a| match parse_prefix(a) {
        Some((_, IpAddr::V4(n), len)) => Some((u32::from(n), len)),
        _ => None,
    })
}

/// The external routes a boundary router injects: (network, length, redistribution).
fn externals(d: &Device, p: &Process, own: &[OspfInterface]) -> Vec<(u32, u8, Redistribution)> {
    let mut out = Vec::new();
    for r in &p.redistribute {
        let prefixes: Vec<(u32, u8)> = match r.source {
            "connected" => connected_subnets(d).collect(),
            "static" => d
                .routes
                .iter()
                .filter(|r| r.protocol == "static" && r.len > 0)
                .filter_map(|r| match r.network {
                    IpAddr::V4(n) => Some((u32::from(n), r.len)),
                    IpAddr::V6(_) => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for (n, len) in prefixes {
            // Networks OSPF already carries as intra-area routes are not injected again.
            if own.iter().any(|o| o.network == n && o.len == len) {
                continue;
            }
            let classful = match n >> 24 {
                0..=127 => 8,
                128..=191 => 16,
                _ => 24,
            };
            if r.subnets || len == classful {
                out.push((n, len, r.clone()));
            }
        }
    }
    if let Some(o) = &p.default_originate {
        let has_default = d.routes.iter().any(|r| r.len == 0 && r.network.is_ipv4());
        if o.always || has_default {
            out.push((0, 0, o.clone()));
        }
    }
    out
}

/// The OSPF routes of each device (in the order given), as each would install them: for a
/// prefix, the best kind (intra-area, inter-area, E1, E2), then the lowest metric (E2: then
/// the lowest cost to the boundary router), every equal-cost first hop kept. Prefixes a
/// router has on its own interfaces are left to its connected routes.
pub fn routes(devices: &[&Device]) -> Vec<Vec<Route>> {
    let ifaces: Vec<Vec<OspfInterface>> =
        devices.iter().map(|d| d.ospf.as_ref().map(|p| interfaces(d, p)).unwrap_or_default()).collect();
    // Segments: a subnet in an area with two or more routers on it, none passive there.
    let mut by_subnet: BTreeMap<(u32, u32, u8), Vec<(usize, usize)>> = BTreeMap::new();
    for (r, list) in ifaces.iter().enumerate() {
        for (k, i) in list.iter().enumerate().filter(|(_, i)| !i.passive && !i.loopback) {
            by_subnet.entry((i.area, i.network, i.len)).or_default().push((r, k));
        }
    }
    let mut areas: BTreeMap<u32, Area> = BTreeMap::new();
    for ((area, _, _), members) in by_subnet {
        if members.iter().map(|m| m.0).collect::<BTreeSet<_>>().len() < 2 {
            continue;
        }
        let a = areas.entry(area).or_insert_with(|| Area { segments: Vec::new(), attached: HashMap::new() });
        let s = a.segments.len();
        for &(r, k) in &members {
            a.attached.entry(r).or_default().push((s, k));
        }
        a.segments.push(members);
    }
    let areas_of = |r: usize| ifaces[r].iter().map(|i| i.area).collect::<BTreeSet<u32>>();
    let empty = Area { segments: Vec::new(), attached: HashMap::new() };
    // Per router and area: distances and first hops to the area's routers.
    let paths: Vec<BTreeMap<u32, Reach>> = (0..devices.len())
        .map(|r| areas_of(r).into_iter().map(|a| (a, spf(areas.get(&a).unwrap_or(&empty), &ifaces, r))).collect())
        .collect();
    // What each router has intra-area in each area: prefix → metric to it from the router.
    let intra_cost = |x: usize, area: u32| -> BTreeMap<(u32, u8), u64> {
        let mut out = BTreeMap::new();
        let Some(reach) = paths[x].get(&area) else { return out };
        for (&y, (d, _)) in reach {
            for i in ifaces[y].iter().filter(|i| i.area == area) {
                let e = out.entry((i.network, i.len)).or_insert(u64::MAX);
                *e = (*e).min(d + i.cost);
            }
        }
        out
    };
    let abrs: Vec<usize> = (0..devices.len()).filter(|&r| areas_of(r).len() > 1 && areas_of(r).contains(&0)).collect();
    let mut out = Vec::with_capacity(devices.len());
    for (r, d) in devices.iter().enumerate() {
        let Some(p) = &d.ospf else {
            out.push(Vec::new());
            continue;
        };
        let mut table: BTreeMap<(u32, u8), Candidate> = BTreeMap::new();
        for (&area, reach) in &paths[r] {
            // Intra-area: every OSPF interface of every reachable router in the area.
            for (&y, (dist, hops)) in reach.iter().filter(|(y, _)| **y != r) {
                for i in ifaces[y].iter().filter(|i| i.area == area) {
                    let c = Candidate { kind: 0, metric: dist + i.cost, forward: 0, hops: hops.clone() };
                    offer(&mut table, (i.network, i.len), c);
                }
            }
            // Inter-area: what an area border router reachable here has intra-area in its
            // other areas, and — from a non-backbone area — what the backbone's other border
            // routers summarise into it.
            for &x in abrs.iter().filter(|&&x| x != r) {
                let Some((to_abr, hops)) = reach.get(&x) else { continue };
                let via = |metric: u64| Candidate { kind: 1, metric, forward: 0, hops: hops.clone() };
                for other in areas_of(x).into_iter().filter(|&b| b != area) {
                    for (key, cost) in intra_cost(x, other) {
                        offer(&mut table, key, via(to_abr + cost));
                    }
                }
                if area == 0 {
                    continue;
                }
                let backbone = paths[x].get(&0).cloned().unwrap_or_default();
                for &y in abrs.iter().filter(|&&y| y != x && y != r) {
                    let Some((x_to_y, _)) = backbone.get(&y) else { continue };
                    for other in areas_of(y).into_iter().filter(|&c| c != 0 && c != area) {
                        for (key, cost) in intra_cost(y, other) {
                            offer(&mut table, key, via(to_abr + x_to_y + cost));
                        }
                    }
                }
            }
            // External: what boundary routers reachable here inject.
            for (&x, (to_asbr, hops)) in reach.iter().filter(|(x, _)| **x != r) {
                let Some(px) = &devices[x].ospf else { continue };
                for (n, len, how) in externals(devices[x], px, &ifaces[x]) {
                    let (kind, metric) = if how.metric_type == 1 { (2, how.metric + to_asbr) } else { (3, how.metric) };
                    offer(&mut table, (n, len), Candidate { kind, metric, forward: *to_asbr, hops: hops.clone() });
                }
            }
        }
        let connected: BTreeSet<(u32, u8)> =
            connected_subnets(d).chain(ifaces[r].iter().map(|i| (i.network, i.len))).collect();
        let mut routes = Vec::new();
        for ((n, len), c) in table {
            if connected.contains(&(n & mask(len), len)) || c.hops.is_empty() {
                continue;
            }
            for (name, ip) in c.hops {
                routes.push(Route {
                    network: IpAddr::V4(Ipv4Addr::from(n & mask(len))),
                    len,
                    next_hop: NextHop::Interface { name, ip: ip.map(IpAddr::V4) },
                    protocol: KINDS[usize::from(c.kind)].to_owned(),
                    admin: if c.kind >= 2 { p.external_distance } else { p.distance },
                    metric: c.metric,
                });
            }
        }
        out.push(routes);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(text: &str) -> Device {
        crate::ios::parse(text)
    }

    fn summary(routes: &[Route]) -> Vec<String> {
        let mut v: Vec<String> = routes
            .iter()
            .map(|r| match &r.next_hop {
                NextHop::Interface { name, ip } => format!(
                    "{}/{} {} {} via {name} {}",
                    r.network,
                    r.len,
                    r.protocol,
                    r.metric,
                    ip.map(|i| i.to_string()).unwrap_or_default()
                ),
                other => format!("{}/{} {other:?}", r.network, r.len),
            })
            .collect();
        v.sort();
        v
    }

    /// r1 — r2 — r3 in a line plus r1 — r3 over a slow link; r3 redistributes a static route.
    #[test]
    fn shortest_paths_costs_and_externals() {
        let r1 = router(
            "hostname r1\ninterface Loopback0\n ip address 1.1.1.1 255.255.255.255\n\
             interface GigabitEthernet0/0\n ip address 10.0.12.1 255.255.255.0\n\
             interface Serial0/0\n ip address 10.0.13.1 255.255.255.252\n\
             router ospf 1\n network 10.0.0.0 0.255.255.255 area 0\n network 1.1.1.1 0.0.0.0 area 0\n",
        );
        let r2 = router(
            "hostname r2\ninterface GigabitEthernet0/0\n ip address 10.0.12.2 255.255.255.0\n\
             interface GigabitEthernet0/1\n ip address 10.0.23.2 255.255.255.0\n\
             interface GigabitEthernet0/2\n ip address 10.0.99.1 255.255.255.0\n\
             router ospf 1\n passive-interface GigabitEthernet0/2\n network 10.0.0.0 0.255.255.255 area 0\n",
        );
        let r3 = router(
            "hostname r3\ninterface GigabitEthernet0/1\n ip address 10.0.23.3 255.255.255.0\n\
             interface Serial0/0\n ip address 10.0.13.2 255.255.255.252\n ip ospf cost 2\n\
             ip route 192.168.0.0 255.255.0.0 10.0.23.100\n\
             router ospf 1\n redistribute static subnets\n network 10.0.0.0 0.255.255.255 area 0\n",
        );
        let all = routes(&[&r1, &r2, &r3]);
        assert_eq!(
            summary(&all[0]),
            [
                "10.0.23.0/24 ospf 2 via GigabitEthernet0/0 10.0.12.2",
                "10.0.99.0/24 ospf 2 via GigabitEthernet0/0 10.0.12.2",
                "192.168.0.0/16 ospfE2 20 via GigabitEthernet0/0 10.0.12.2",
            ],
            "the serial link costs 64 from r1: everything goes through r2"
        );
        // From r3 the serial link costs 2: r1's loopback is as near that way as through r2.
        let r3_routes = summary(&all[2]);
        assert!(r3_routes.contains(&"1.1.1.1/32 ospf 3 via GigabitEthernet0/1 10.0.23.2".to_owned()), "{r3_routes:?}");
        assert!(r3_routes.contains(&"1.1.1.1/32 ospf 3 via Serial0/0 10.0.13.1".to_owned()), "{r3_routes:?}");
        assert!(!r3_routes.iter().any(|r| r.starts_with("192.168.")), "no route to its own external");
    }

    #[test]
    fn area_border_routers_carry_routes_between_areas() {
        let a = router(
            "interface GigabitEthernet0/0\n ip address 10.1.0.1 255.255.255.0\n\
             interface GigabitEthernet0/1\n ip address 10.1.1.1 255.255.255.0\n\
             router ospf 1\n network 10.1.0.0 0.0.255.255 area 1\n",
        );
        let abr = router(
            "interface GigabitEthernet0/0\n ip address 10.1.0.2 255.255.255.0\n\
             interface GigabitEthernet0/1\n ip address 10.0.0.2 255.255.255.0\n\
             router ospf 1\n network 10.1.0.0 0.0.255.255 area 1\n network 10.0.0.0 0.0.255.255 area 0\n",
        );
        let b = router(
            "interface GigabitEthernet0/1\n ip address 10.0.0.3 255.255.255.0\n\
             interface GigabitEthernet0/2\n ip address 10.0.5.3 255.255.255.0\n\
             router ospf 1\n passive-interface default\n no passive-interface GigabitEthernet0/1\n \
             network 10.0.0.0 0.0.255.255 area 0\n",
        );
        let all = routes(&[&a, &abr, &b]);
        assert_eq!(
            summary(&all[0]),
            [
                "10.0.0.0/24 ospfIA 2 via GigabitEthernet0/0 10.1.0.2",
                "10.0.5.0/24 ospfIA 3 via GigabitEthernet0/0 10.1.0.2",
            ]
        );
        assert_eq!(
            summary(&all[2]),
            [
                "10.1.0.0/24 ospfIA 2 via GigabitEthernet0/1 10.0.0.2",
                "10.1.1.0/24 ospfIA 3 via GigabitEthernet0/1 10.0.0.2"
            ]
        );
    }
}
