//! BGP as a trace needs it: which configured sessions come up, what each router originates
//! (`network` statements, aggregates), what routing policy lets through and changes on the
//! way in and out (route maps matching prefix lists, access lists and community lists,
//! setting local preference, MED, communities and AS-path prepends), route reflection and
//! additional paths, and the routes each router installs after best-path selection with
//! multipath — computed to a fixed point over the routers' IGP tables (connected, static,
//! OSPF), as Batfish's routes answer lists them.
//!
//! Rounds exchange updates until nothing changes; a policy that never settles (a BGP
//! wedgie, a MED oscillation) is cut off after 64 rounds with the last round's routes.
//!
//! What is not modelled: timers, dampening and graceful restart (sessions that the
//! configuration lets up are up), confederations, weights, `as-path access-list` matches,
//! conditional advertisement, route maps on redistribution, VRFs and address families
//! other than IPv4 unicast.

use crate::acl::{Action, Flow};
use crate::device::Device;
use crate::route::{self, NextHop, Route, parse_prefix};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};

/// A configured neighbour (or peer group): what it inherits is filled in by the parser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Neighbor {
    pub line: usize,
    pub remote_as: Option<u32>,
    pub group: Option<String>,
    pub update_source: Option<String>,
    /// Junos `local-address`.
    pub local_address: Option<Ipv4Addr>,
    /// IOS: the route maps. Junos: the first policy of `import`/`export`; the rest of the
    /// chain is in `import_chain`/`export_chain`.
    pub route_map_in: Option<String>,
    pub route_map_out: Option<String>,
    pub import_chain: Vec<String>,
    pub export_chain: Vec<String>,
    pub send_community: bool,
    pub reflector_client: bool,
    pub next_hop_self: bool,
    pub ebgp_multihop: bool,
    /// `neighbor … advertise additional-paths all`.
    pub additional_paths: bool,
    pub shutdown: bool,
}

/// One `router bgp` process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Process {
    pub line: usize,
    pub asn: u32,
    pub router_id: Option<Ipv4Addr>,
    /// By address; peer groups by name in `groups`.
    pub neighbors: BTreeMap<Ipv4Addr, Neighbor>,
    pub groups: BTreeMap<String, Neighbor>,
    /// `network A mask M`.
    pub networks: Vec<(u32, u8)>,
    /// `aggregate-address A M [summary-only]`.
    pub aggregates: Vec<(u32, u8, bool)>,
    /// `redistribute connected|static`.
    pub redistribute: Vec<&'static str>,
    /// `maximum-paths [ibgp|eibgp] N`: equal paths installed (1: no multipath).
    pub max_paths_ebgp: usize,
    pub max_paths_ibgp: usize,
    /// `bgp additional-paths select all`: every path may be sent where a neighbour asks.
    pub additional_paths: bool,
    /// Junos: policies are policy-statement chains with Junos defaults (import accepts,
    /// export sends active BGP routes), originations are what export policies take from
    /// the routing table, and BGP routes rank 170.
    pub junos: bool,
}

impl Process {
    /// A neighbour's settings with its peer group's beneath them.
    pub fn effective(&self, addr: Ipv4Addr) -> Option<Neighbor> {
        let n = self.neighbors.get(&addr)?;
        let Some(g) = n.group.as_ref().and_then(|g| self.groups.get(g)) else { return Some(n.clone()) };
        Some(Neighbor {
            line: n.line,
            remote_as: n.remote_as.or(g.remote_as),
            group: n.group.clone(),
            update_source: n.update_source.clone().or_else(|| g.update_source.clone()),
            local_address: n.local_address.or(g.local_address),
            route_map_in: n.route_map_in.clone().or_else(|| g.route_map_in.clone()),
            route_map_out: n.route_map_out.clone().or_else(|| g.route_map_out.clone()),
            import_chain: if n.import_chain.is_empty() { g.import_chain.clone() } else { n.import_chain.clone() },
            export_chain: if n.export_chain.is_empty() { g.export_chain.clone() } else { n.export_chain.clone() },
            send_community: n.send_community || g.send_community,
            reflector_client: n.reflector_client || g.reflector_client,
            next_hop_self: n.next_hop_self || g.next_hop_self,
            ebgp_multihop: n.ebgp_multihop || g.ebgp_multihop,
            additional_paths: n.additional_paths || g.additional_paths,
            shutdown: n.shutdown || g.shutdown,
        })
    }
}

/// The routing policy objects route maps use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policies {
    pub route_maps: BTreeMap<String, Vec<Clause>>,
    pub prefix_lists: BTreeMap<String, Vec<PrefixEntry>>,
    pub community_lists: BTreeMap<String, Vec<CommunityEntry>>,
    /// Junos `policy-statement NAME [term T] from|then …`, terms in order.
    pub statements: BTreeMap<String, Vec<Term>>,
    /// Junos `community NAME members …`.
    pub communities: BTreeMap<String, Vec<String>>,
}

/// A Junos policy term: its `from` conditions by kind and its `then` actions, as words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Term {
    pub name: String,
    pub from: Vec<Vec<String>>,
    pub then: Vec<Vec<String>>,
}

/// `route-map NAME permit|deny SEQ` with its `match` and `set` lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Clause {
    pub line: usize,
    pub seq: u32,
    pub permit: bool,
    /// `(kind, names)`: `ip address` (access lists), `prefix-list`, `community`; a clause
    /// matches when every kind matches one of its names.
    pub matches: Vec<(String, Vec<String>)>,
    pub set_local_pref: Option<u32>,
    pub set_med: Option<u32>,
    /// Communities set, and whether they add to the route's (`additive`).
    pub set_communities: Option<(Vec<String>, bool)>,
    pub prepend: Vec<u32>,
    pub set_next_hop: Option<Ipv4Addr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixEntry {
    pub seq: u32,
    pub permit: bool,
    pub network: u32,
    pub len: u8,
    pub ge: Option<u8>,
    pub le: Option<u8>,
}

impl PrefixEntry {
    fn matches(&self, network: u32, len: u8) -> bool {
        let mask = mask(self.len);
        if network & mask != self.network & mask || len < self.len {
            return false;
        }
        match (self.ge, self.le) {
            (None, None) => len == self.len,
            (ge, le) => len >= ge.unwrap_or(self.len) && len <= le.unwrap_or(32),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityEntry {
    pub permit: bool,
    /// `expanded`: a regular expression (Cisco's `_` is a delimiter); `standard`: communities
    /// that must all be present.
    pub expanded: bool,
    pub text: String,
}

fn mask(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0)
}

/// A route as BGP carries it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Path {
    network: u32,
    len: u8,
    /// `None`: originated here (the route's own next hop, or discard for an aggregate).
    next_hop: Option<Ipv4Addr>,
    as_path: Vec<u32>,
    local_pref: u32,
    med: u32,
    /// 0 IGP, 1 EGP, 2 incomplete.
    origin: u8,
    communities: BTreeSet<String>,
    /// Learned over eBGP (installed as `bgp`), over iBGP (`ibgp`), or local.
    from_ebgp: bool,
    /// What policies see as the route's protocol: `bgp` when learned, else where the
    /// local route comes from (`direct`, `static`, `ospf`, `aggregate`, `network`).
    protocol: &'static str,
    local: bool,
    aggregate: bool,
    /// The session it came over (the peer's address), for split horizon and add-paths ids,
    /// and the sending router's id (what reflection records as the originator).
    peer: Option<Ipv4Addr>,
    sender: Option<Ipv4Addr>,
    originator: Option<Ipv4Addr>,
    clusters: Vec<Ipv4Addr>,
}

/// An established session as seen from one end.
#[derive(Debug, Clone)]
struct Session {
    from: usize,
    to: usize,
    /// The address `to` knows `from` by, and `from`'s settings for `to`.
    local_ip: Ipv4Addr,
    peer_ip: Ipv4Addr,
    settings: Neighbor,
    ebgp: bool,
}

/// Whether a configured session comes up, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStatus {
    pub node: usize,
    pub peer_ip: Ipv4Addr,
    pub remote_as: Option<u32>,
    pub local_ip: Option<Ipv4Addr>,
    pub remote_node: Option<usize>,
    pub established: bool,
    pub reason: &'static str,
}

/// The router id: configured, else the highest loopback address, else the highest address.
fn router_id(d: &Device, p: &Process) -> Ipv4Addr {
    p.router_id.unwrap_or_else(|| {
        let highest = |loopback_only: bool| {
            d.interfaces
                .iter()
                .filter(|i| !loopback_only || i.name.to_ascii_lowercase().starts_with("loopback"))
                .flat_map(|i| &i.addresses)
                .filter_map(|a| match parse_prefix(a) {
                    Some((IpAddr::V4(ip), _, _)) => Some(ip),
                    _ => None,
                })
                .max()
        };
        highest(true).or_else(|| highest(false)).unwrap_or(Ipv4Addr::UNSPECIFIED)
    })
}

fn interface_ip(d: &Device, name: &str) -> Option<Ipv4Addr> {
    let i = d.interfaces.iter().find(|i| i.name.eq_ignore_ascii_case(name) && !i.shutdown)?;
    i.addresses.iter().find_map(|a| match parse_prefix(a) {
        Some((IpAddr::V4(ip), _, _)) => Some(ip),
        _ => None,
    })
}

fn owns(d: &Device, ip: Ipv4Addr) -> bool {
    d.interfaces
        .iter()
        .filter(|i| !i.shutdown)
        .flat_map(|i| &i.addresses)
        .any(|a| matches!(parse_prefix(a), Some((IpAddr::V4(x), _, _)) if x == ip))
}

/// The interface address a router sends from towards `to`: the connected subnet's, or the
/// egress interface's of the route to it.
fn source_towards(d: &Device, rib: &[Route], to: Ipv4Addr) -> Option<Ipv4Addr> {
    let hops = route::resolve(rib, IpAddr::V4(to));
    let (iface, _) = hops.into_iter().flatten().next()?;
    interface_ip(d, &iface)
}

fn connected_to(d: &Device, ip: Ipv4Addr) -> bool {
    d.interfaces.iter().filter(|i| !i.shutdown).flat_map(|i| &i.addresses).any(|a| {
        matches!(parse_prefix(a), Some((IpAddr::V4(_), IpAddr::V4(n), len)) if u32::from(ip) & mask(len) == u32::from(n) && len < 32)
    })
}

fn reachable(rib: &[Route], ip: Ipv4Addr) -> bool {
    route::resolve(rib, IpAddr::V4(ip)).into_iter().any(|h| h.is_some())
}

/// Which configured sessions come up: the peer's address belongs to a router that has a
/// session back to this one's source address with the right AS numbers, each can route
/// to the other, and an eBGP peer is on a connected subnet unless `ebgp-multihop`.
pub fn sessions(devices: &[&Device], ribs: &[Vec<Route>]) -> Vec<SessionStatus> {
    let mut out = Vec::new();
    for (r, d) in devices.iter().enumerate() {
        let Some(p) = &d.bgp else { continue };
        for &peer_ip in p.neighbors.keys() {
            let Some(n) = p.effective(peer_ip) else { continue };
            let mut s = SessionStatus {
                node: r,
                peer_ip,
                remote_as: n.remote_as,
                local_ip: None,
                remote_node: None,
                established: false,
                reason: "",
            };
            let local = match (&n.local_address, &n.update_source) {
                (Some(ip), _) => Some(*ip),
                (None, Some(i)) => interface_ip(d, i),
                (None, None) => source_towards(d, &ribs[r], peer_ip),
            };
            s.local_ip = local;
            let (Some(remote_as), Some(local)) = (n.remote_as, local) else {
                s.reason = match (n.remote_as, &n.update_source) {
                    (None, _) => "no remote-as",
                    (_, Some(_)) => "the update-source interface has no address",
                    (_, None) => "no route to the peer's address",
                };
                out.push(s);
                continue;
            };
            if n.shutdown {
                s.reason = "shut down";
                out.push(s);
                continue;
            }
            let ebgp = remote_as != p.asn;
            // The peer: a router owning the address with a session back to ours.
            let back = devices.iter().enumerate().find(|(q, other)| {
                *q != r
                    && owns(other, peer_ip)
                    && other.bgp.as_ref().is_some_and(|op| {
                        op.asn == remote_as
                            && op.effective(local).is_some_and(|m| m.remote_as == Some(p.asn) && !m.shutdown)
                    })
            });
            let Some((q, other)) = back else {
                s.reason = if devices.iter().any(|o| owns(o, peer_ip)) {
                    "the peer has no matching session back"
                } else {
                    "no router has the peer's address"
                };
                out.push(s);
                continue;
            };
            s.remote_node = Some(q);
            let op = other.bgp.as_ref().and_then(|op| op.effective(local)).unwrap_or_default();
            let their_source = match (&op.local_address, &op.update_source) {
                (Some(ip), _) => Some(*ip),
                (None, Some(i)) => interface_ip(other, i),
                (None, None) => source_towards(other, &ribs[q], local),
            };
            if their_source != Some(peer_ip) {
                s.reason = "the peer sends from another address";
            } else if ebgp && !(n.ebgp_multihop || connected_to(d, peer_ip)) {
                s.reason = "eBGP peer not on a connected subnet (no ebgp-multihop)";
            } else if !reachable(&ribs[r], peer_ip) || !reachable(&ribs[q], local) {
                s.reason = "no route between the two addresses";
            } else {
                s.established = true;
            }
            out.push(s);
        }
    }
    out
}

/// Cisco's community-list regular expression as a Rust one (`_` matches a delimiter or
/// either end).
fn community_regex(cisco: &str) -> Option<regex::Regex> {
    regex::Regex::new(&cisco.replace('_', r"(?:^|$|[ ,{}()])")).ok()
}

struct Evaluator<'a> {
    device: &'a Device,
    policies: &'a Policies,
    regexes: HashMap<String, Option<regex::Regex>>,
}

impl<'a> Evaluator<'a> {
    fn new(device: &'a Device) -> Evaluator<'a> {
        let mut regexes = HashMap::new();
        for entries in device.routing_policy.community_lists.values() {
            for e in entries.iter().filter(|e| e.expanded) {
                regexes.entry(e.text.clone()).or_insert_with(|| community_regex(&e.text));
            }
        }
        Evaluator { device, policies: &device.routing_policy, regexes }
    }

    fn community_list(&self, name: &str, communities: &BTreeSet<String>) -> bool {
        let Some(entries) = self.policies.community_lists.get(name) else { return false };
        let text = communities.iter().cloned().collect::<Vec<_>>().join(" ");
        for e in entries {
            let hit = if e.expanded {
                self.regexes.get(&e.text).and_then(Option::as_ref).is_some_and(|re| re.is_match(&text))
            } else {
                e.text.split_whitespace().all(|c| communities.contains(c))
            };
            if hit {
                return e.permit;
            }
        }
        false
    }

    fn prefix_list(&self, name: &str, network: u32, len: u8) -> bool {
        let Some(entries) = self.policies.prefix_lists.get(name) else { return false };
        entries.iter().find(|e| e.matches(network, len)).is_some_and(|e| e.permit)
    }

    /// An access list read as a route filter: the source is the prefix's network, the
    /// destination its mask (extended lists), as IOS reads them in route maps.
    fn access_list(&self, name: &str, network: u32, len: u8) -> bool {
        let Some(acl) = self.device.acl(name) else { return false };
        let flow = Flow {
            src: IpAddr::V4(Ipv4Addr::from(network)),
            dst: IpAddr::V4(Ipv4Addr::from(mask(len))),
            proto: 0,
            sport: 0,
            dport: 0,
            icmp: None,
            established: false,
            fragment: false,
        };
        acl.decide(&flow).rule.is_some() && acl.decide(&flow).action == Action::Permit
    }

    /// Whether a route's communities hold every member of a Junos community (members may
    /// be patterns: `2:*`, `^65[0-9]+:.*$`).
    fn junos_community(&self, name: &str, communities: &BTreeSet<String>) -> bool {
        let Some(members) = self.policies.communities.get(name) else { return false };
        members.iter().all(|m| {
            if m.contains(['*', '^', '$', '[', '(', '.', '+']) {
                let pattern = format!("^{}$", m.trim_start_matches('^').trim_end_matches('$').replace('*', ".*"));
                regex::Regex::new(&pattern).is_ok_and(|re| communities.iter().any(|c| re.is_match(c)))
            } else {
                communities.contains(m)
            }
        })
    }

    fn junos_from(&self, words: &[String], path: &Path) -> bool {
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let within = |network: u32, len: u8| path.len >= len && path.network & mask(len) == network & mask(len);
        match w.as_slice() {
            ["protocol", p] => path.protocol == *p || (*p == "ospf" && path.protocol.starts_with("ospf")),
            ["prefix-list", name] => self
                .policies
                .prefix_lists
                .get(*name)
                .is_some_and(|l| l.iter().any(|e| e.network == path.network && e.len == path.len)),
            ["prefix-list-filter", name, how] => self.policies.prefix_lists.get(*name).is_some_and(|l| {
                l.iter().any(|e| match *how {
                    "exact" => e.network == path.network && e.len == path.len,
                    "orlonger" => within(e.network, e.len),
                    "longer" => within(e.network, e.len) && path.len > e.len,
                    _ => false,
                })
            }),
            ["route-filter", prefix, how @ ..] => {
                let Some((_, IpAddr::V4(n), len)) = parse_prefix(prefix) else { return false };
                let n = u32::from(n);
                match how {
                    ["exact"] => path.network == n && path.len == len,
                    ["orlonger"] => within(n, len),
                    ["longer"] => within(n, len) && path.len > len,
                    ["upto", to] => within(n, len) && path.len <= to.trim_start_matches('/').parse().unwrap_or(32),
                    _ => false,
                }
            }
            ["community", name] => self.junos_community(name, &path.communities),
            _ => false,
        }
    }

    /// A Junos policy chain: the first term whose conditions hold and that accepts or
    /// rejects decides, modifying the route on the way; when none does, the default
    /// (`default_accept`) decides.
    fn junos_chain(&self, chain: &[String], mut path: Path, default_accept: bool) -> Option<Path> {
        for name in chain {
            let Some(terms) = self.policies.statements.get(name) else { continue };
            'terms: for t in terms {
                // Conditions of one kind are alternatives; different kinds must all hold.
                let mut kinds: BTreeMap<&str, bool> = BTreeMap::new();
                for f in &t.from {
                    let kind = f.first().map_or("", String::as_str);
                    let hit = self.junos_from(f, &path);
                    *kinds.entry(kind).or_insert(false) |= hit;
                }
                if kinds.values().any(|hit| !hit) {
                    continue;
                }
                let mut verdict = None;
                for a in &t.then {
                    let a: Vec<&str> = a.iter().map(String::as_str).collect();
                    match a.as_slice() {
                        ["accept"] => verdict = Some(true),
                        ["reject"] => verdict = Some(false),
                        ["next", "policy"] => break 'terms,
                        ["local-preference", n] => path.local_pref = n.parse().unwrap_or(path.local_pref),
                        ["metric", n] => path.med = n.parse().unwrap_or(path.med),
                        ["community", op @ ("add" | "set" | "delete"), name] => {
                            let members = self.policies.communities.get(*name).cloned().unwrap_or_default();
                            match *op {
                                "set" => path.communities = members.into_iter().collect(),
                                "add" => path.communities.extend(members),
                                _ => path.communities.retain(|c| !members.contains(c)),
                            }
                        }
                        ["as-path-prepend", asns @ ..] => {
                            let mut v: Vec<u32> = asns
                                .iter()
                                .flat_map(|a| a.split_whitespace())
                                .filter_map(|a| a.trim_matches('"').parse().ok())
                                .collect();
                            v.extend(&path.as_path);
                            path.as_path = v;
                        }
                        ["next-hop", ip] => {
                            if let Ok(ip) = ip.parse() {
                                path.next_hop = Some(ip);
                            }
                        }
                        _ => {}
                    }
                }
                match verdict {
                    Some(true) => return Some(path),
                    Some(false) => return None,
                    None => {}
                }
            }
        }
        default_accept.then_some(path)
    }

    /// A session's import (`out` false) or export policy: IOS route maps, Junos chains.
    fn policy(&self, n: &Neighbor, out: bool, path: Path) -> Option<Path> {
        let junos = self.device.bgp.as_ref().is_some_and(|p| p.junos);
        if !junos {
            return self.apply(if out { n.route_map_out.as_deref() } else { n.route_map_in.as_deref() }, path);
        }
        let chain = if out { &n.export_chain } else { &n.import_chain };
        // Junos defaults: import takes everything; export sends active BGP routes only.
        let default = !out || path.protocol == "bgp";
        self.junos_chain(chain, path, default)
    }

    /// The route as the route map passes it, or `None` when it is denied. No route map:
    /// everything passes; a route map that is not defined passes nothing.
    fn apply(&self, name: Option<&str>, mut path: Path) -> Option<Path> {
        let Some(name) = name else { return Some(path) };
        let clauses = self.policies.route_maps.get(name)?;
        for c in clauses {
            let all = c.matches.iter().all(|(kind, names)| {
                names.iter().any(|n| match kind.as_str() {
                    "prefix-list" => self.prefix_list(n, path.network, path.len),
                    "ip address" => self.access_list(n, path.network, path.len),
                    "community" => self.community_list(n, &path.communities),
                    _ => false,
                })
            });
            if !all {
                continue;
            }
            if !c.permit {
                return None;
            }
            if let Some(lp) = c.set_local_pref {
                path.local_pref = lp;
            }
            if let Some(med) = c.set_med {
                path.med = med;
            }
            if let Some((set, additive)) = &c.set_communities {
                if !additive {
                    path.communities.clear();
                }
                path.communities.extend(set.iter().cloned());
            }
            if !c.prepend.is_empty() {
                let mut v = c.prepend.clone();
                v.extend(&path.as_path);
                path.as_path = v;
            }
            if let Some(nh) = c.set_next_hop {
                path.next_hop = Some(nh);
            }
            return Some(path);
        }
        None
    }
}

/// Update rounds before a computation that does not settle is cut off.
const MAX_ROUNDS: usize = 64;

/// IGP cost to a next hop: the metric of the route that reaches it (connected: 0).
fn igp_cost(rib: &[Route], ip: Ipv4Addr) -> Option<u64> {
    route::lookup(rib, IpAddr::V4(ip)).first().map(|r| r.metric)
}

/// The attributes best-path selection compares, best first; equal keys are multipath.
fn rank(p: &Path, cost: u64) -> (std::cmp::Reverse<u32>, bool, usize, u8, u32, bool, u64) {
    (std::cmp::Reverse(p.local_pref), !p.local, p.as_path.len(), p.origin, p.med, !p.from_ebgp, cost)
}

/// The BGP routes each router installs (eBGP `bgp`, iBGP `ibgp`, aggregates), over the IGP
/// tables given (one per device, in order), with the status of every configured session.
pub fn routes(devices: &[&Device], igp: &[Vec<Route>]) -> (Vec<Vec<Route>>, Vec<SessionStatus>) {
    let status = sessions(devices, igp);
    let mut links: Vec<Session> = Vec::new();
    for s in status.iter().filter(|s| s.established) {
        let (Some(to), Some(local_ip)) = (s.remote_node, s.local_ip) else { continue };
        let Some(p) = &devices[s.node].bgp else { continue };
        let Some(settings) = p.effective(s.peer_ip) else { continue };
        let ebgp = settings.remote_as != Some(p.asn);
        links.push(Session { from: s.node, to, local_ip, peer_ip: s.peer_ip, settings, ebgp });
    }
    let evaluators: Vec<Evaluator> = devices.iter().map(|d| Evaluator::new(d)).collect();
    // What each router received, per sending session.
    let mut adj_in: Vec<BTreeMap<Ipv4Addr, Vec<Path>>> = vec![BTreeMap::new(); devices.len()];
    let mut chosen: Vec<BTreeMap<(u32, u8), Vec<Path>>> = vec![BTreeMap::new(); devices.len()];
    for _round in 0..MAX_ROUNDS {
        // Each router's candidates and best paths.
        let mut loc: Vec<BTreeMap<(u32, u8), Vec<Path>>> = Vec::with_capacity(devices.len());
        for (r, d) in devices.iter().enumerate() {
            let mut table: BTreeMap<(u32, u8), Vec<Path>> = BTreeMap::new();
            let Some(p) = &d.bgp else {
                loc.push(table);
                continue;
            };
            for (network, len) in originated(p, &igp[r]) {
                table.entry((network, len)).or_default().push(local_path(network, len, 0));
            }
            for paths in adj_in[r].values() {
                for path in paths {
                    // A next hop the IGP cannot reach makes the path unusable.
                    if path.next_hop.is_some_and(|nh| !reachable(&igp[r], nh) || owns(d, nh)) {
                        continue;
                    }
                    table.entry((path.network, path.len)).or_default().push(path.clone());
                }
            }
            // Aggregates: when some more specific route is known.
            let learned: Vec<(u32, u8)> = table.keys().copied().collect();
            for &(network, len, _) in &p.aggregates {
                if learned.iter().any(|&(n, l)| l > len && n & mask(len) == network) {
                    let mut a = local_path(network, len, 0);
                    a.aggregate = true;
                    table.entry((network, len)).or_default().push(a);
                }
            }
            loc.push(table);
        }
        // Best paths and multipath per prefix.
        let mut best: Vec<BTreeMap<(u32, u8), Vec<Path>>> = Vec::with_capacity(devices.len());
        for (r, d) in devices.iter().enumerate() {
            let mut out = BTreeMap::new();
            if let Some(p) = &d.bgp {
                for (key, paths) in &loc[r] {
                    let cost = |x: &Path| x.next_hop.and_then(|nh| igp_cost(&igp[r], nh)).unwrap_or(0);
                    let Some(top) = paths.iter().map(|x| rank(x, cost(x))).min() else { continue };
                    let mut equal: Vec<Path> = paths.iter().filter(|x| rank(x, cost(x)) == top).cloned().collect();
                    equal.sort();
                    equal.dedup();
                    let first = equal[0].clone();
                    let max = if first.from_ebgp { p.max_paths_ebgp } else { p.max_paths_ibgp };
                    // Multipath needs the same AS path; the rest stand by (tie-break by
                    // router id is not modelled: the lowest-sorting path stands in).
                    let mut multi: Vec<Path> =
                        equal.into_iter().filter(|x| x.as_path == first.as_path).take(max.max(1)).collect();
                    multi.sort();
                    out.insert(*key, multi);
                }
            }
            best.push(out);
        }
        // Advertise: each session's export, through both routers' policies.
        let mut next_in: Vec<BTreeMap<Ipv4Addr, Vec<Path>>> = vec![BTreeMap::new(); devices.len()];
        for s in &links {
            let (d, to) = (devices[s.from], devices[s.to]);
            let (Some(p), Some(tp)) = (&d.bgp, &to.bgp) else { continue };
            let suppressed: Vec<(u32, u8)> = p.aggregates.iter().filter(|a| a.2).map(|&(n, l, _)| (n, l)).collect();
            let mut sent = Vec::new();
            for (&(network, len), bests) in &best[s.from] {
                if suppressed.iter().any(|&(n, l)| len > l && network & mask(l) == n) {
                    continue;
                }
                let all = if p.additional_paths && s.settings.additional_paths {
                    loc[s.from].get(&(network, len)).cloned().unwrap_or_default()
                } else {
                    bests.first().cloned().into_iter().collect()
                };
                for path in all {
                    if let Some(out) = export(p, s, &path, router_id(d, p), &evaluators[s.from]) {
                        sent.push(out);
                    }
                }
            }
            // Junos: what export policies may take from the routing table besides BGP.
            if p.junos {
                for r in &igp[s.from] {
                    let (IpAddr::V4(n), Some(protocol)) = (r.network, junos_protocol(&r.protocol)) else { continue };
                    if best[s.from].contains_key(&(u32::from(n), r.len)) {
                        continue;
                    }
                    let mut path = local_path(u32::from(n), r.len, 0);
                    path.protocol = protocol;
                    if let Some(out) = export(p, s, &path, router_id(d, p), &evaluators[s.from])
                        && !sent.contains(&out)
                    {
                        sent.push(out);
                    }
                }
            }
            let their = tp.effective(s.local_ip).unwrap_or_default();
            let received: Vec<Path> = sent
                .into_iter()
                .filter_map(|mut path| {
                    if s.ebgp {
                        if path.as_path.contains(&tp.asn) {
                            return None;
                        }
                        path.local_pref = 100;
                    } else if path.originator == Some(router_id(to, tp)) || path.clusters.contains(&router_id(to, tp)) {
                        return None;
                    }
                    path.from_ebgp = s.ebgp;
                    path.local = false;
                    path.aggregate = false;
                    path.peer = Some(s.local_ip);
                    path.sender = Some(router_id(d, p));
                    path.protocol = "bgp";
                    evaluators[s.to].policy(&their, false, path)
                })
                .collect();
            next_in[s.to].insert(s.local_ip, received);
        }
        chosen = best;
        if next_in == adj_in {
            break;
        }
        adj_in = next_in;
    }
    let ribs = devices
        .iter()
        .enumerate()
        .map(|(r, d)| {
            let Some(junos) = d.bgp.as_ref().map(|p| p.junos) else { return Vec::new() };
            let mut out = Vec::new();
            for (&(network, len), paths) in &chosen[r] {
                for path in paths {
                    let (next_hop, protocol, admin) = match (path.aggregate, path.local, path.next_hop) {
                        (true, _, _) => (NextHop::Discard, "aggregate", 200),
                        (false, true, _) | (_, _, None) => continue,
                        (false, false, Some(nh)) if path.from_ebgp => {
                            (NextHop::Ip(IpAddr::V4(nh)), "bgp", if junos { 170 } else { 20 })
                        }
                        (false, false, Some(nh)) => {
                            (NextHop::Ip(IpAddr::V4(nh)), "ibgp", if junos { 170 } else { 200 })
                        }
                    };
                    out.push(Route {
                        network: IpAddr::V4(Ipv4Addr::from(network)),
                        len,
                        next_hop,
                        protocol: protocol.into(),
                        admin,
                        metric: u64::from(path.med),
                    });
                }
            }
            out.dedup();
            out
        })
        .collect();
    (ribs, status)
}

/// A routing-table protocol as Junos policies name it.
fn junos_protocol(protocol: &str) -> Option<&'static str> {
    match protocol {
        "connected" => Some("direct"),
        "static" => Some("static"),
        p if p.starts_with("ospf") => Some("ospf"),
        _ => None,
    }
}

fn local_path(network: u32, len: u8, med: u32) -> Path {
    Path {
        network,
        len,
        next_hop: None,
        as_path: Vec::new(),
        local_pref: 100,
        med,
        origin: 0,
        communities: BTreeSet::new(),
        from_ebgp: false,
        protocol: "network",
        local: true,
        aggregate: false,
        peer: None,
        sender: None,
        originator: None,
        clusters: Vec::new(),
    }
}

/// What a router originates: `network` statements whose exact prefix its IGP table has, and
/// redistributed connected and static routes.
fn originated(p: &Process, rib: &[Route]) -> Vec<(u32, u8)> {
    let has = |n: u32, l: u8| {
        rib.iter().any(|r| r.len == l && r.network == IpAddr::V4(Ipv4Addr::from(n)) && r.protocol != "local")
    };
    let mut out: Vec<(u32, u8)> = p.networks.iter().copied().filter(|&(n, l)| has(n, l)).collect();
    for source in &p.redistribute {
        for r in rib.iter().filter(|r| r.protocol == *source) {
            if let IpAddr::V4(n) = r.network {
                out.push((u32::from(n), r.len));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A path as `s.from` sends it to `s.to`, or `None` when it is not sent: iBGP routes go to
/// iBGP peers only by reflection, never back where they came from; eBGP gets the AS
/// prepended, this end's address as next hop and no MED or local preference from inside.
fn export(p: &Process, s: &Session, path: &Path, rid: Ipv4Addr, eval: &Evaluator) -> Option<Path> {
    if path.peer == Some(s.peer_ip) {
        return None;
    }
    let mut out = path.clone();
    if s.ebgp {
        out.as_path.insert(0, p.asn);
        out.next_hop = Some(s.local_ip);
        if !path.local {
            out.med = 0;
        }
        out.originator = None;
        out.clusters.clear();
    } else {
        let learned_ibgp = !path.local && !path.from_ebgp;
        if learned_ibgp {
            // Reflection: from a client to everyone, from a non-client to clients.
            let from_client = path.peer.and_then(|peer| p.effective(peer)).is_some_and(|n| n.reflector_client);
            if !(from_client || s.settings.reflector_client) {
                return None;
            }
            out.originator = out.originator.or(path.sender);
            out.clusters.insert(0, rid);
        }
        if path.local || s.settings.next_hop_self {
            out.next_hop = Some(s.local_ip);
        }
    }
    if !s.settings.send_community {
        out.communities.clear();
    }
    let mut out = eval.policy(&s.settings, true, out)?;
    out.local = path.local;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(prefix: &str, communities: &[&str]) -> Path {
        let Some((_, IpAddr::V4(n), len)) = parse_prefix(prefix) else { panic!("{prefix}") };
        let mut p = local_path(u32::from(n), len, 0);
        p.communities = communities.iter().map(|c| (*c).to_owned()).collect();
        p
    }

    const POLICY: &str = "\
ip prefix-list AGG seq 5 permit 10.128.0.0/9 ge 16 le 24
ip prefix-list AGG seq 10 deny 0.0.0.0/0 le 32
ip prefix-list EXACT permit 192.0.2.0/24
ip community-list expanded FROM-AS1 permit _1:
ip community-list standard BOTH permit 65000:1 65000:2
access-list 101 permit ip host 198.51.100.0 host 255.255.255.0
route-map IN deny 5
 match community BOTH
route-map IN permit 10
 match community FROM-AS1
 set local-preference 350
 set community 9:9 additive
route-map IN permit 20
 match ip address prefix-list AGG
 set metric 50
 set as-path prepend 65000 65000
route-map IN permit 30
 match ip address 101
 set community 7:7
";

    #[test]
    fn route_maps_read_prefix_lists_access_lists_and_communities_as_ios_does() {
        let d = crate::ios::parse(POLICY);
        let eval = Evaluator::new(&d);
        let apply = |p: Path| eval.apply(Some("IN"), p);
        // `_1:` takes 1:100 but not 21:1 or 2:1.
        let lp = |c: &[&str]| apply(path("203.0.113.0/24", c)).map(|p| p.local_pref);
        assert_eq!(lp(&["1:100"]), Some(350));
        assert_eq!(lp(&["21:1", "2:1"]), None, "nothing else matches: the map denies");
        let tagged = apply(path("203.0.113.0/24", &["5:5", "1:2"])).unwrap();
        assert!(tagged.communities.contains("9:9") && tagged.communities.contains("1:2"), "additive keeps the rest");
        // A standard list needs all its communities; the deny clause comes first.
        assert_eq!(lp(&["65000:1", "65000:2", "1:1"]), None);
        assert_eq!(lp(&["65000:1", "1:1"]), Some(350));
        // ge/le: /16 to /24 inside 10.128.0.0/9.
        for (prefix, taken) in
            [("10.129.0.0/16", true), ("10.129.1.0/24", true), ("10.129.1.0/25", false), ("10.1.0.0/16", false)]
        {
            let out = apply(path(prefix, &[]));
            assert_eq!(out.is_some(), taken, "{prefix}");
            if let Some(p) = out {
                assert_eq!((p.med, p.as_path.as_slice()), (50, [65000, 65000].as_slice()));
            }
        }
        // An extended access list reads the prefix as source and its mask as destination.
        assert_eq!(apply(path("198.51.100.0/24", &["3:3"])).map(|p| p.communities), Some(["7:7".to_owned()].into()));
        assert_eq!(apply(path("198.51.100.0/25", &[])), None, "another mask is another prefix");
        // No route map: all pass; one that is not defined: none.
        assert!(eval.apply(None, path("203.0.113.0/24", &[])).is_some());
        assert!(eval.apply(Some("MISSING"), path("203.0.113.0/24", &[])).is_none());
    }

    /// Two routers on a link, eBGP: the session comes up, each learns the other's network
    /// with the AS prepended and the peer's address as next hop; a wrong remote-as keeps it down.
    #[test]
    fn an_ebgp_pair_exchanges_networks_and_a_wrong_as_stays_down() {
        let r1 = "hostname r1\ninterface Gi0/0\n ip address 10.0.0.1 255.255.255.252\ninterface Lo0\n ip address 192.0.2.1 255.255.255.0\n\
                  router bgp 65001\n neighbor 10.0.0.2 remote-as 65002\n network 192.0.2.0 mask 255.255.255.0\n";
        let r2 = |asn: u32| {
            format!(
                "hostname r2\ninterface Gi0/0\n ip address 10.0.0.2 255.255.255.252\ninterface Lo0\n ip address 198.51.100.1 255.255.255.0\n\
                 router bgp {asn}\n neighbor 10.0.0.1 remote-as 65001\n network 198.51.100.0 mask 255.255.255.0\n"
            )
        };
        let (a, b) = (crate::ios::parse(r1), crate::ios::parse(&r2(65002)));
        let ribs = [crate::route::from_device(&a), crate::route::from_device(&b)];
        let (learned, status) = routes(&[&a, &b], &ribs);
        assert!(status.iter().all(|s| s.established), "{status:?}");
        assert_eq!(learned[0].len(), 1);
        let r = &learned[0][0];
        assert_eq!(
            (r.network.to_string(), r.len, r.protocol.as_str(), r.admin),
            ("198.51.100.0".into(), 24, "bgp", 20)
        );
        assert_eq!(r.next_hop, NextHop::Ip("10.0.0.2".parse().unwrap()));
        let wrong = crate::ios::parse(&r2(65009));
        let (learned, status) = routes(&[&a, &wrong], &ribs);
        assert!(learned.iter().all(Vec::is_empty));
        assert!(
            status.iter().all(|s| !s.established && s.reason == "the peer has no matching session back"),
            "{status:?}"
        );
    }
}
