//! A flow through a network of parsed devices, hop by hop: the ingress filter of the
//! interface it arrives on, delivery if the device owns the destination, otherwise the
//! longest-prefix routes (every equal-cost path), the egress filter, and the device that owns
//! the next hop's address. Like Batfish's `traceroute`, each path ends in a disposition:
//! accepted, denied in or out, no route, null-routed, delivered to a subnet, leaving the
//! network, or a loop.
//!
//! Hosts (Batfish's host models: an interface, a gateway, iptables chains) take part with
//! their `INPUT` chain for traffic to them and `OUTPUT` for traffic they start. Zone
//! firewalls (PAN-OS, SRX) apply their policy between the zones of the ingress and egress
//! interfaces. NAT is not applied yet.

use crate::acl::{Action, Flow};
use crate::device::Device;
use crate::nat::NatOrder;
use crate::route::{self, Route};
use std::collections::HashMap;
use std::net::IpAddr;

/// One device of the network.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub device: Device,
    /// Its routing table: from a RIB export when there is one, else from its configuration.
    pub rib: Vec<Route>,
    /// A host's iptables chains stand in for interface filters (`INPUT`, `OUTPUT`).
    pub host: bool,
}

/// A translation a hop applied: the rule (as named in answers), its line, the flow after it.
type NatStep = (String, usize, Flow);

impl Node {
    fn interface(&self, name: &str) -> Option<&crate::device::Interface> {
        self.device.interfaces.iter().find(|i| i.name == name)
    }

    fn zone(&self, name: &str) -> Option<String> {
        self.interface(name).and_then(|i| i.zone.clone())
    }

    /// The zone, or `any` for a device without zones (an F5 is one zone).
    fn zone_or_any(&self, name: &str) -> String {
        self.zone(name).unwrap_or_else(|| "any".to_owned())
    }

    fn nameif(&self, name: &str) -> Option<String> {
        self.interface(name).and_then(|i| i.nameif.clone())
    }

    /// The interface's own (first) address: what interface NAT writes.
    fn address(&self, name: &str) -> Option<IpAddr> {
        self.interface(name)?.addresses.iter().find_map(|a| route::parse_prefix(a)).map(|p| p.0)
    }

    /// On arrival (ASA and IOS order): a packet to a static rule's mapped address gets the
    /// real one back before the access list and the route see it.
    fn nat_on_arrival(&self, ingress: Option<&str>, flow: &Flow) -> Option<NatStep> {
        if self.device.nat_order != NatOrder::Interfaces {
            return None;
        }
        let ni = self.nameif(ingress?)?;
        let r =
            self.device.nat.iter().filter_map(|r| r.reverse()).find(|r| r.from.admits(Some(&ni)) && r.takes(flow))?;
        let real = r.translate(flow, |_| None);
        Some((format!("un-NAT {}", r.name), r.line, real))
    }

    /// Before the route. PAN-OS: the rule is chosen on the original packet's zones (the
    /// egress zone from the route to the original destination) and rewrites the packet.
    /// SRX and F5: static and destination NAT by the zone the packet comes from; a source
    /// translation of the same rule waits for the egress.
    fn nat_before_route(&self, ingress: Option<&str>, flow: &Flow) -> Option<(&crate::nat::NatRule, Flow)> {
        let ingress = ingress?;
        match self.device.nat_order {
            NatOrder::PanOs => {
                let zi = self.zone(ingress)?;
                let first = route::resolve(&self.rib, flow.dst).into_iter().next()??;
                let rule = crate::nat::first(&self.device.nat, flow, &zi, &self.zone(&first.0)?)?;
                Some((rule, rule.translate(flow, |iface| self.address(iface))))
            }
            NatOrder::Srx => {
                let zi = self.zone_or_any(ingress);
                let rule = self
                    .device
                    .nat
                    .iter()
                    .filter(|r| r.destination.is_some())
                    .find(|r| r.from.admits(Some(&zi)) && r.takes(flow))?;
                let destination_only = crate::nat::NatRule { source: None, ..rule.clone() };
                Some((rule, destination_only.translate(flow, |_| None)))
            }
            NatOrder::Interfaces => None,
        }
    }

    /// On the way out, once the egress is known. SRX and F5: source NAT after the policy, by
    /// the pair of zones (or the source half of the rule applied before the route). ASA and
    /// IOS: by the pair of interfaces, unless the packet was un-NATed on arrival.
    fn nat_on_leaving(
        &self,
        ingress: Option<&str>,
        egress: &str,
        flow: &Flow,
        before: Option<&crate::nat::NatRule>,
        unnated: bool,
    ) -> Option<NatStep> {
        let ingress = ingress?;
        let rule: std::borrow::Cow<crate::nat::NatRule> = match self.device.nat_order {
            NatOrder::Srx => {
                let (zi, ze) = (self.zone_or_any(ingress), self.zone_or_any(egress));
                let takes =
                    |r: &crate::nat::NatRule| r.from.admits(Some(&zi)) && r.to.admits(Some(&ze)) && r.takes(flow);
                // Static NAT comes before source rule-sets: a real address sending towards
                // its rule's zone leaves with the mapped address.
                let reverse =
                    before.is_none().then(|| self.device.nat.iter().filter_map(|r| r.reverse()).find(takes)).flatten();
                match reverse {
                    Some(r) => std::borrow::Cow::Owned(r),
                    None => std::borrow::Cow::Borrowed(before.filter(|r| r.source.is_some()).or_else(|| {
                        self.device
                            .nat
                            .iter()
                            .filter(|r| r.source.is_some() && r.destination.is_none())
                            .find(|r| takes(r))
                    })?),
                }
            }
            NatOrder::Interfaces if !unnated => std::borrow::Cow::Borrowed(crate::nat::first(
                &self.device.nat,
                flow,
                &self.nameif(ingress)?,
                &self.nameif(egress)?,
            )?),
            _ => return None,
        };
        let source_only = crate::nat::NatRule { destination: None, ..rule.clone().into_owned() };
        Some((rule.name.clone(), rule.line, source_only.translate(flow, |_| self.address(egress))))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Accepted,
    DeniedIn,
    DeniedOut,
    NoRoute,
    NullRouted,
    /// Sent onto a connected subnet where no device of the network owns the destination.
    DeliveredToSubnet,
    /// Sent to a next hop no device of the network owns.
    ExitsNetwork,
    Loop,
}

impl Disposition {
    /// Batfish's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Accepted => "ACCEPTED",
            Disposition::DeniedIn => "DENIED_IN",
            Disposition::DeniedOut => "DENIED_OUT",
            Disposition::NoRoute => "NO_ROUTE",
            Disposition::NullRouted => "NULL_ROUTED",
            Disposition::DeliveredToSubnet => "DELIVERED_TO_SUBNET",
            Disposition::ExitsNetwork => "EXITS_NETWORK",
            Disposition::Loop => "LOOP",
        }
    }
}

/// A filter that looked at the flow on a hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterStep {
    pub filter: String,
    pub action: Action,
    /// The deciding rule's line and text; `None` for the implicit deny.
    pub rule: Option<(usize, String)>,
}

/// What one device did with the flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub node: String,
    pub ingress: Option<String>,
    pub filter_in: Option<FilterStep>,
    /// The routes that sent it on (all equal-cost ones that lead to this egress).
    pub routes: Vec<Route>,
    pub egress: Option<String>,
    pub next_hop: Option<IpAddr>,
    pub filter_out: Option<FilterStep>,
    /// The translation rule that rewrote the flow here, and the flow it sent on.
    pub nat: Option<(String, usize, Flow)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub hops: Vec<Hop>,
    pub disposition: Disposition,
}

/// At most this many paths are followed (equal-cost paths multiply at each hop).
pub const MAX_TRACES: usize = 256;

pub struct Network {
    pub nodes: Vec<Node>,
    /// Which node and interface own each address.
    owners: HashMap<IpAddr, (usize, String)>,
    /// Addresses a node answers for on a subnet without owning them (static NAT's mapped
    /// addresses, by proxy ARP): where packets to them are sent.
    proxies: HashMap<IpAddr, (usize, String)>,
}

impl Network {
    pub fn new(nodes: Vec<Node>) -> Network {
        let mut owners = HashMap::new();
        for (k, n) in nodes.iter().enumerate() {
            for i in n.device.interfaces.iter().filter(|i| !i.shutdown) {
                for a in &i.addresses {
                    if let Some((ip, _, _)) = route::parse_prefix(a) {
                        owners.entry(ip).or_insert((k, i.name.clone()));
                    }
                }
            }
        }
        let mut proxies = HashMap::new();
        // HSRP/VRRP: the router with the highest priority (then the highest own address)
        // answers for the group's virtual address.
        let mut active: HashMap<IpAddr, (u8, IpAddr, usize, String)> = HashMap::new();
        for (k, n) in nodes.iter().enumerate() {
            for i in n.device.interfaces.iter().filter(|i| !i.shutdown) {
                let own = i.addresses.iter().find_map(|a| route::parse_prefix(a)).map(|p| p.0);
                for r in &i.redundancy {
                    let (Some(vip), Some(own)) = (r.address, own) else { continue };
                    let candidate = (r.priority, own, k, i.name.clone());
                    let better = active.get(&vip).is_none_or(|c| (candidate.0, candidate.1) > (c.0, c.1));
                    if better {
                        active.insert(vip, candidate);
                    }
                }
            }
        }
        for (vip, (_, _, k, iface)) in active {
            proxies.insert(vip, (k, iface));
        }
        for (k, n) in nodes.iter().enumerate() {
            for (iface, ip) in &n.device.proxy_arp {
                proxies.entry(*ip).or_insert((k, iface.clone()));
            }
            // The SRX answers only for what `proxy-arp` names.
            if n.device.nat_order == NatOrder::Srx {
                continue;
            }
            for r in n.device.nat.iter().filter(|r| !r.disabled) {
                // The mapped side of a static rule, and a destination NAT's original address.
                let mapped = r.reverse().and_then(|rev| rev.matches.first().cloned()).map(|m| m.dst);
                let original = r.destination.as_ref().and_then(|_| r.matches.first()).map(|m| m.dst.clone());
                for side in mapped.into_iter().chain(original) {
                    for ip in hosts(&side) {
                        let on = n.device.interfaces.iter().find(|i| {
                            i.addresses.iter().filter_map(|a| route::parse_prefix(a)).any(|(_, net, len)| {
                                Route {
                                    network: net,
                                    len,
                                    next_hop: route::NextHop::Discard,
                                    protocol: String::new(),
                                    admin: 0,
                                    metric: 0,
                                }
                                .contains(ip)
                            })
                        });
                        if let Some(i) = on {
                            proxies.entry(ip).or_insert((k, i.name.clone()));
                        }
                    }
                }
            }
        }
        Network { nodes, owners, proxies }
    }

    pub fn node(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// Every path of `flow` entering `start` on `ingress` (or starting there when `None`).
    pub fn trace(&self, start: usize, ingress: Option<&str>, flow: &Flow) -> Vec<Trace> {
        let mut out = Vec::new();
        self.walk(start, ingress.map(str::to_owned), flow, &mut Vec::new(), &mut out);
        out
    }

    fn filter(&self, node: &Node, name: &str, flow: &Flow) -> Option<FilterStep> {
        let acl = node.device.acl(name)?;
        let d = acl.decide(flow);
        Some(FilterStep {
            filter: name.to_owned(),
            action: d.action,
            rule: d.rule.map(|i| (acl.rules[i].line, acl.rules[i].text.clone())),
        })
    }

    /// The filter bound to `interface` in `direction` (`in`/`out`), if any, and its verdict.
    /// ASA binds by `nameif`, and a `global` access group applies inbound everywhere.
    fn bound(&self, node: &Node, interface: &str, direction: &str, flow: &Flow) -> Option<FilterStep> {
        let nameif = node.nameif(interface);
        let names = |b: &&crate::device::Binding| {
            b.interface.eq_ignore_ascii_case(interface) || nameif.as_deref().is_some_and(|n| b.interface == n)
        };
        let b = node.device.bindings.iter().find(|b| b.direction == direction && names(b)).or_else(|| {
            (direction == "in").then(|| node.device.bindings.iter().find(|b| b.direction == "global")).flatten()
        })?;
        self.filter(node, &b.acl, flow)
    }

    /// A zone firewall's verdict on transit from one interface to another: the zone policy
    /// of the zones they are in. The application is not known here: where a rule may match
    /// (it names applications), the rule that surely decides is the one shown.
    fn zoned(&self, node: &Node, ingress: &str, egress: &str, flow: &Flow) -> Option<FilterStep> {
        let (from, to) = (node.zone(ingress)?, node.zone(egress)?);
        let p = node.device.zone_policies.iter().find(|p| p.zones.contains(&from) || p.zones.is_empty())?;
        let c = p.decide(flow, &from, &to, None, None).pop()?;
        let rule = match c.rule {
            Some(i) => {
                let r = &p.rules[i];
                Some((r.line, r.matches.first().map_or_else(|| r.name.clone(), |m| m.text.clone())))
            }
            None => {
                let d = p.default_for(&from, &to);
                Some((d.line, d.name.clone()))
            }
        };
        Some(FilterStep { filter: format!("{} {from}→{to}", p.name), action: c.action, rule })
    }

    fn walk(&self, k: usize, ingress: Option<String>, flow: &Flow, path: &mut Vec<Hop>, out: &mut Vec<Trace>) {
        if out.len() >= MAX_TRACES {
            return;
        }
        let node = &self.nodes[k];
        let mut hop = Hop {
            node: node.name.clone(),
            ingress: ingress.clone(),
            filter_in: None,
            routes: Vec::new(),
            egress: None,
            next_hop: None,
            filter_out: None,
            nat: None,
        };
        let finish = |path: &mut Vec<Hop>, hop: Hop, disposition: Disposition, out: &mut Vec<Trace>| {
            let mut hops = path.clone();
            hops.push(hop);
            out.push(Trace { hops, disposition });
        };
        if path.iter().any(|h| h.node == node.name && h.ingress == ingress) {
            return finish(path, hop, Disposition::Loop, out);
        }
        hop.nat = node.nat_on_arrival(ingress.as_deref(), flow);
        let unnated = hop.nat.is_some();
        let real = hop.nat.as_ref().map_or(*flow, |n| n.2);
        let flow = &real;
        let owned = self.owners.get(&flow.dst).is_some_and(|(o, _)| *o == k);
        // A host's INPUT chain guards what reaches it; OUTPUT what it sends. A router's
        // ingress filter is the one bound inbound on the interface.
        hop.filter_in = match (&ingress, node.host) {
            (Some(_), true) if owned => self.filter(node, "INPUT", flow),
            (Some(_), true) => self.filter(node, "FORWARD", flow),
            (None, true) => self.filter(node, "OUTPUT", flow),
            (Some(i), false) => self.bound(node, i, "in", flow),
            (None, false) => None,
        };
        if hop.filter_in.as_ref().is_some_and(|f| f.action == Action::Deny) {
            let d = if ingress.is_some() { Disposition::DeniedIn } else { Disposition::DeniedOut };
            return finish(path, hop, d, out);
        }
        if owned && ingress.is_some() {
            return finish(path, hop, Disposition::Accepted, out);
        }
        let before = node.nat_before_route(ingress.as_deref(), flow);
        let sent = before.as_ref().map_or(*flow, |b| b.1);
        if let Some((rule, _)) = &before {
            hop.nat = Some((rule.name.clone(), rule.line, sent));
        }
        // The zone policy sees the original addresses on PAN-OS, the translated destination
        // on an SRX.
        let policy_flow = if node.device.nat_order == NatOrder::Srx { sent } else { *flow };
        let flow = &sent;
        let exits = route::resolve(&node.rib, flow.dst);
        if exits.is_empty() {
            return finish(path, hop, Disposition::NoRoute, out);
        }
        let best: Vec<Route> = route::lookup(&node.rib, flow.dst).into_iter().cloned().collect();
        for exit in exits {
            let mut h = hop.clone();
            h.routes = best.clone();
            let Some((egress, next_hop)) = exit else {
                finish(path, h, Disposition::NullRouted, out);
                continue;
            };
            h.egress = Some(egress.clone());
            h.next_hop = Some(next_hop);
            if !node.host {
                h.filter_out = self.bound(node, &egress, "out", flow);
                // A zone firewall's security policy, on transit between its zones.
                if h.filter_out.as_ref().is_none_or(|f| f.action == Action::Permit)
                    && let Some(i) = &ingress
                    && let Some(z) = self.zoned(node, i, &egress, &policy_flow)
                {
                    h.filter_out = Some(z);
                }
                if h.filter_out.as_ref().is_some_and(|f| f.action == Action::Deny) {
                    finish(path, h, Disposition::DeniedOut, out);
                    continue;
                }
            }
            let mut leaving = *flow;
            if let Some((rule, line, translated)) =
                node.nat_on_leaving(ingress.as_deref(), &egress, flow, before.as_ref().map(|b| b.0), unnated)
            {
                leaving = translated;
                let name = match &h.nat {
                    Some((earlier, _, _)) if *earlier != rule => format!("{earlier}, then {rule}"),
                    _ => rule,
                };
                h.nat = Some((name, line, leaving));
            }
            match self.owners.get(&next_hop).or_else(|| self.proxies.get(&next_hop)) {
                Some((n, iface)) if *n != k => {
                    path.push(h);
                    self.walk(*n, Some(iface.clone()), &leaving, path, out);
                    path.pop();
                }
                Some(_) => finish(path, h, Disposition::Loop, out),
                None if next_hop == flow.dst => finish(path, h, Disposition::DeliveredToSubnet, out),
                None => finish(path, h, Disposition::ExitsNetwork, out),
            }
        }
    }
}

/// The single addresses a side names (up to a /24's worth), for proxy ARP.
fn hosts(m: &crate::acl::AddrMatch) -> Vec<IpAddr> {
    use crate::acl::AddrMatch;
    match m {
        AddrMatch::Wildcard { addr, wildcard } if *wildcard <= 0xff => {
            (0..=*wildcard).filter(|x| x & !wildcard == 0).map(|x| IpAddr::V4((addr & !wildcard | x).into())).collect()
        }
        AddrMatch::Prefix6 { addr, len: 128 } => vec![IpAddr::V6((*addr).into())],
        AddrMatch::AnyOf(all) => all.iter().flat_map(hosts).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, config: &str) -> Node {
        let device = crate::ios::parse(config);
        let rib = route::from_device(&device);
        Node { name: name.into(), device, rib, host: false }
    }

    fn flow(src: &str, dst: &str, dport: u16) -> Flow {
        crate::arbitrary::flow(src, dst, 6, dport)
    }

    /// r1 — r2 over 10.0.12.0/30; r2 filters inbound; a static route loops back.
    fn network() -> Network {
        let r1 = "hostname r1
interface Gi0/0
 ip address 192.168.1.1 255.255.255.0
interface Gi0/1
 ip address 10.0.12.1 255.255.255.252
ip route 172.16.0.0 255.255.0.0 10.0.12.2
ip route 198.51.100.0 255.255.255.0 Null0
ip route 203.0.113.0 255.255.255.0 10.0.12.2
";
        let r2 = "hostname r2
interface Gi0/1
 ip address 10.0.12.2 255.255.255.252
 ip access-group EDGE in
interface Gi0/2
 ip address 172.16.0.1 255.255.255.0
ip access-list extended EDGE
 deny tcp any any eq 23
 permit ip any any
ip route 203.0.113.0 255.255.255.0 10.0.12.1
";
        Network::new(vec![node("r1", r1), node("r2", r2)])
    }

    fn run(net: &Network, f: &Flow) -> Vec<(Disposition, Vec<String>)> {
        net.trace(0, Some("Gi0/0"), f)
            .into_iter()
            .map(|t| (t.disposition, t.hops.iter().map(|h| h.node.clone()).collect()))
            .collect()
    }

    #[test]
    fn hop_by_hop_dispositions() {
        let net = network();
        let r = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(run(&net, &flow("192.168.1.5", "172.16.0.1", 22)), vec![(Disposition::Accepted, r(&["r1", "r2"]))]);
        assert_eq!(
            run(&net, &flow("192.168.1.5", "172.16.0.9", 22)),
            vec![(Disposition::DeliveredToSubnet, r(&["r1", "r2"]))]
        );
        let denied = net.trace(0, Some("Gi0/0"), &flow("192.168.1.5", "172.16.0.9", 23));
        assert_eq!(denied[0].disposition, Disposition::DeniedIn);
        assert_eq!(denied[0].hops[1].filter_in.as_ref().map(|f| f.rule.clone().unwrap().0), Some(8));
        assert_eq!(run(&net, &flow("192.168.1.5", "198.51.100.1", 80)), vec![(Disposition::NullRouted, r(&["r1"]))]);
        assert_eq!(run(&net, &flow("192.168.1.5", "8.8.8.8", 80)), vec![(Disposition::NoRoute, r(&["r1"]))]);
        assert_eq!(
            run(&net, &flow("192.168.1.5", "203.0.113.1", 80)),
            vec![(Disposition::Loop, r(&["r1", "r2", "r1", "r2"]))]
        );
    }
}
