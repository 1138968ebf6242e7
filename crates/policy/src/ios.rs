//! Cisco IOS / IOS-XE filters: numbered and named standard and extended IPv4 ACLs, IPv6
//! ACLs, network and service object-groups, and their `ip access-group` / `ipv6 traffic-filter`
//! bindings on interfaces, with IOS's semantics (wildcards that need not be contiguous,
//! `established`, `fragments`, the implicit deny).
//!
//! Parsing never fails: a line inside a filter that cannot be read becomes a [`Warning`]
//! with its line number and is left out of the filter (which is then marked partial); a
//! reference to an object-group that is not defined matches nothing and is reported.
//! Configuration outside filters, object-groups and interfaces is not modelled here.

use crate::acl::{Acl, Action, AddrMatch, Family, PortMatch, Rule};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use crate::device::{Binding, Device, Interface, Object, Warning};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Standard,
    Extended,
    V6,
}

enum Block {
    None,
    Acl(usize, Kind),
    Group(String),
    /// NX-OS `object-group ip address`: like a network group, but with wildcards.
    WildcardGroup(String),
    /// NX-OS `object-group ip port`.
    Ports(String),
    Service(String),
    Interface(usize),
    /// `router ospf N`: the device's first OSPF process (a later one is warned about).
    Ospf,
    /// `router bgp N`, its address families included.
    Bgp,
    /// `route-map NAME …`: the clause's index in its map.
    RouteMap(String, usize),
}

/// Parses an IOS configuration. Never fails; see [`Device::warnings`].
pub fn parse(text: &str) -> Device {
    let mut d = Device::default();
    // `ip nat pool NAME START END …` and the `ip nat inside source …` lines, read at the end
    // (a rule names access lists and pools defined anywhere).
    let mut nat_pools: HashMap<String, (IpAddr, IpAddr)> = HashMap::new();
    let mut nat_lines: Vec<(usize, String)> = Vec::new();
    let mut groups: HashMap<String, Vec<(usize, String)>> = HashMap::new();
    let mut wildcard_groups: HashMap<String, Vec<(usize, String)>> = HashMap::new();
    let mut port_groups: HashMap<String, Vec<(usize, String)>> = HashMap::new();
    let mut services: HashMap<String, Vec<(usize, String)>> = HashMap::new();
    let mut pending: Vec<(usize, usize, Kind, String)> = Vec::new(); // (acl index, line, kind, rule text)
    // NX-OS `fragments permit-all|deny-all`, per filter: decides non-initial fragments first.
    let mut fragments: HashMap<usize, (usize, String, Action)> = HashMap::new();
    let mut block = Block::None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end();
        let indented = line.starts_with(' ');
        let t = line.trim();
        if t.is_empty() {
            // Generated configs (Aerleon) put blank lines inside filters.
            continue;
        }
        // A comment ends nothing: pasted into the CLI, the lines after it still belong to the
        // filter or group being entered (NX-OS configs put `! …` notes inside filters).
        if t.starts_with('!') {
            continue;
        }
        let w: Vec<&str> = t.split_whitespace().collect();
        if indented {
            match &block {
                Block::Acl(idx, kind) => match w.as_slice() {
                    // NX-OS filter-wide options: counters and a routing knob change no decision.
                    ["statistics", "per-entry"] | ["ignore", "routable"] => {}
                    ["fragments", how @ ("permit-all" | "deny-all")] => {
                        let action = if *how == "permit-all" { Action::Permit } else { Action::Deny };
                        fragments.insert(*idx, (n, t.to_owned(), action));
                    }
                    // Remarks decide nothing. (NX-OS numbers them too, which can only move an
                    // unnumbered entry that follows; IOS does not, and an unnumbered remark
                    // before `10 permit …` must not take 10.)
                    ["remark", ..] | [_, "remark", ..] => {}
                    _ => pending.push((*idx, n, *kind, t.to_owned())),
                },
                Block::Group(name) => groups.entry(name.clone()).or_default().push((n, t.to_owned())),
                Block::WildcardGroup(name) => wildcard_groups.entry(name.clone()).or_default().push((n, t.to_owned())),
                Block::Ports(name) => port_groups.entry(name.clone()).or_default().push((n, t.to_owned())),
                Block::Service(name) => services.entry(name.clone()).or_default().push((n, t.to_owned())),
                Block::Interface(idx) => interface_line(&mut d, *idx, n, &w),
                Block::Ospf => ospf_line(&mut d, n, t, &w),
                Block::Bgp => bgp_line(&mut d, n, t, &w),
                Block::RouteMap(name, idx) => route_map_line(&mut d, name, *idx, n, t, &w),
                Block::None => {}
            }
            continue;
        }
        block = Block::None;
        match w.as_slice() {
            ["hostname", name, ..] => d.hostname = Some((*name).to_owned()),
            // Another vendor's lines in the file (a mixed or mislabelled configuration).
            ["set", ..] | [.., "{"] | ["}"] => d.warnings.push(warn(
                n,
                line,
                "not IOS syntax (a `set` command or a `{ }` block: Junos or PAN-OS?); left out",
            )),
            ["ip", "nat", "pool", name, start, end, ..] => {
                if let (Ok(a), Ok(b)) = (start.parse::<IpAddr>(), end.parse::<IpAddr>()) {
                    nat_pools.insert((*name).to_owned(), (a, b));
                }
            }
            ["ip", "nat", "inside", "source", ..] => nat_lines.push((n, line.trim().to_owned())),
            ["ip", "route", rest @ ..] if rest.first() != Some(&"vrf") => match static_route(rest) {
                Some(r) => d.routes.push(r),
                None => d.warnings.push(warn(n, line, "not a static route this reader understands; left out")),
            },
            ["ip", "access-list", kind @ ("standard" | "extended"), name, ..] => {
                let kind = if *kind == "standard" { Kind::Standard } else { Kind::Extended };
                block = Block::Acl(acl_index(&mut d, name, n, Family::V4), kind);
            }
            // `ip access-list NAME` (NX-OS, Arista) and `ipv4 access-list NAME` (IOS-XR).
            ["ip" | "ipv4", "access-list", name] => {
                block = Block::Acl(acl_index(&mut d, name, n, Family::V4), Kind::Extended)
            }
            ["object-group", "ip", "address", name] => {
                d.object_groups.push(Object { name: (*name).to_owned(), line: n, in_use: false });
                wildcard_groups.entry((*name).to_owned()).or_default();
                block = Block::WildcardGroup((*name).to_owned());
            }
            ["object-group", "ip", "port", name] => {
                d.object_groups.push(Object { name: (*name).to_owned(), line: n, in_use: false });
                port_groups.entry((*name).to_owned()).or_default();
                block = Block::Ports((*name).to_owned());
            }
            ["ipv6", "access-list", name, ..] => block = Block::Acl(acl_index(&mut d, name, n, Family::V6), Kind::V6),
            ["object-group", "service", name, ..] => {
                d.object_groups.push(Object { name: (*name).to_owned(), line: n, in_use: false });
                services.entry((*name).to_owned()).or_default();
                block = Block::Service((*name).to_owned());
            }
            ["access-list", number, rest @ ..] => match number.parse::<u32>() {
                Ok(num) if (1..=99).contains(&num) || (1300..=1999).contains(&num) => {
                    pending.push((acl_index(&mut d, number, n, Family::V4), n, Kind::Standard, rest.join(" ")));
                }
                Ok(num) if (100..=199).contains(&num) || (2000..=2699).contains(&num) => {
                    pending.push((acl_index(&mut d, number, n, Family::V4), n, Kind::Extended, rest.join(" ")));
                }
                _ => d.warnings.push(warn(n, t, "not an IPv4 standard or extended ACL number; left out")),
            },
            ["object-group", "network", name, ..] => {
                d.object_groups.push(Object { name: (*name).to_owned(), line: n, in_use: false });
                groups.entry((*name).to_owned()).or_default();
                block = Block::Group((*name).to_owned());
            }
            ["interface", name, ..] => {
                d.interfaces.push(Interface { line: n, name: (*name).to_owned(), ..Interface::default() });
                block = Block::Interface(d.interfaces.len() - 1);
            }
            ["router", "bgp", asn] => match (asn.parse::<u32>(), d.bgp.is_some()) {
                (Ok(asn), false) => {
                    d.bgp = Some(crate::bgp::Process {
                        line: n,
                        asn,
                        max_paths_ebgp: 1,
                        max_paths_ibgp: 1,
                        ..crate::bgp::Process::default()
                    });
                    block = Block::Bgp;
                }
                _ => d.warnings.push(warn(n, t, "a BGP process this reader does not model; left out")),
            },
            ["route-map", name, rest @ ..] => {
                let permit = rest.first() != Some(&"deny");
                let seq = rest.iter().find_map(|w| w.parse::<u32>().ok()).unwrap_or(10);
                let clauses = d.routing_policy.route_maps.entry((*name).to_owned()).or_default();
                let clause = crate::bgp::Clause { line: n, seq, permit, ..crate::bgp::Clause::default() };
                let idx = match clauses.binary_search_by_key(&seq, |c| c.seq) {
                    Ok(i) => {
                        clauses[i] = clause;
                        i
                    }
                    Err(i) => {
                        clauses.insert(i, clause);
                        i
                    }
                };
                block = Block::RouteMap((*name).to_owned(), idx);
            }
            ["ip", "prefix-list", name, rest @ ..] => prefix_list_line(&mut d, name, rest, n, t),
            ["ip", "community-list", rest @ ..] => community_list_line(&mut d, rest, n, t),
            ["router", "ospf", _, rest @ ..] if !rest.contains(&"vrf") => {
                if d.ospf.is_some() {
                    d.warnings.push(warn(n, t, "a second OSPF process; only the first is modelled"));
                } else {
                    d.ospf = Some(crate::ospf::Process { line: n, ..crate::ospf::Process::default() });
                    block = Block::Ospf;
                }
            }
            _ => {}
        }
    }
    let mut networks: HashMap<String, AddrMatch> = resolve(&groups, &mut d.warnings, &network_member)
        .into_iter()
        .map(|(name, members)| (name, AddrMatch::AnyOf(members)))
        .collect();
    networks.extend(
        resolve(&wildcard_groups, &mut d.warnings, &wildcard_member)
            .into_iter()
            .map(|(name, members)| (name, AddrMatch::AnyOf(members))),
    );
    let resolved = Groups {
        networks,
        ports: resolve(&port_groups, &mut d.warnings, &port_member)
            .into_iter()
            .map(|(name, ranges)| (name, PortMatch(ranges)))
            .collect(),
        services: resolve(&services, &mut d.warnings, &service_member),
    };
    for (idx, (n, text, action)) in fragments {
        let rule = Rule { fragments: true, line: n, text, ..Rule::any(action, n) };
        d.acls[idx].rules.push(rule);
    }
    for (idx, n, kind, rule) in in_sequence(pending, &mut d.warnings) {
        if rule.split_whitespace().nth(1) == Some("remark") || rule.starts_with("remark") {
            continue;
        }
        match parse_rule(&rule, kind, &resolved) {
            Ok((rules, undefined)) => {
                for g in undefined {
                    d.warnings.push(warn(
                        n,
                        &rule,
                        &format!("object-group `{g}` is not defined; the rule matches nothing"),
                    ));
                }
                // A service group expands to one rule per service, in order: first match
                // over them is first match over the group.
                d.acls[idx].rules.extend(rules.into_iter().map(|r| Rule { line: n, text: rule.clone(), ..r }));
            }
            Err(why) => {
                let name = d.acls[idx].name.clone();
                d.warnings.push(warn(n, &rule, &format!("{why}; the rule is left out of `{name}`")));
                d.mark_partial(&name);
            }
        }
    }
    nat_rules(&mut d, &nat_lines, &nat_pools);
    undefined_route_maps(&mut d);
    d.warn_undefined_bindings(|b| {
        (
            format!("access-group {} {}", b.acl, b.direction),
            format!("ACL `{}` is not defined on this device (IOS then permits everything)", b.acl),
        )
    });
    d
}

/// `ip nat inside source static [tcp|udp] LOCAL [PORT] GLOBAL [PORT]`, `… static network
/// LOCAL GLOBAL /LEN`, and `… list ACL {pool NAME | interface IF} [overload]`: static
/// entries first (they are bidirectional), then the dynamic ones in order. Interfaces carry
/// their side (`ip nat inside|outside`) as `nameif`.
fn nat_rules(d: &mut Device, lines: &[(usize, String)], pools: &HashMap<String, (IpAddr, IpAddr)>) {
    use crate::nat::{Address, NatRule, Translation};
    use crate::zone::Labels;
    let side = |s: &str| Labels::Only(vec![s.to_owned()]);
    let mut statics = Vec::new();
    let mut dynamics = Vec::new();
    for (n, text) in lines {
        let w: Vec<&str> = text.split_whitespace().skip(4).collect();
        let host = |ip: &str| ip.parse::<Ipv4Addr>().ok();
        let base = |src: AddrMatch| Rule { src, text: text.clone(), ..Rule::any(Action::Permit, *n) };
        let rule = match w.as_slice() {
            ["static", "network", local, global, len, ..] => {
                let len: u32 = len.trim_start_matches('/').parse().unwrap_or(32).min(32);
                let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
                match (host(local), host(global)) {
                    (Some(l), Some(g)) => {
                        let (g0, g1) = (u32::from(g) & mask, u32::from(g) | !mask);
                        Some((
                            base(AddrMatch::Wildcard { addr: u32::from(l) & mask, wildcard: !mask }),
                            Address::Range { lo: IpAddr::V4(g0.into()), hi: IpAddr::V4(g1.into()) },
                            None,
                            true,
                        ))
                    }
                    _ => None,
                }
            }
            ["static", proto @ ("tcp" | "udp"), local, lport, global, gport, ..] => {
                match (host(local), host(global), port(lport), port(gport)) {
                    (Some(l), Some(g), Ok(lp), Ok(gp)) => Some((
                        Rule {
                            proto: Some(if *proto == "tcp" { 6 } else { 17 }),
                            sport: PortMatch(vec![(lp, lp)]),
                            ..base(AddrMatch::host(u32::from(l)))
                        },
                        Address::Range { lo: IpAddr::V4(g), hi: IpAddr::V4(g) },
                        Some(gp),
                        true,
                    )),
                    _ => None,
                }
            }
            ["static", local, global, ..] => match (host(local), host(global)) {
                (Some(l), Some(g)) => Some((
                    base(AddrMatch::host(u32::from(l))),
                    Address::Range { lo: IpAddr::V4(g), hi: IpAddr::V4(g) },
                    None,
                    true,
                )),
                _ => None,
            },
            ["list", acl, how @ ("pool" | "interface"), target, ..] => {
                let address = match *how {
                    "pool" => pools.get(*target).map(|&(lo, hi)| Address::Range { lo, hi }),
                    _ => Some(Address::Interface((*target).to_owned())),
                };
                // The list read first-match: a deny entry exempts what it takes (traffic to
                // a VPN peer, say) from translation by this rule.
                let list: Vec<Rule> = d.acl(acl).map(|a| a.rules.clone()).unwrap_or_default();
                let permits = list.iter().any(|r| r.action == Action::Permit);
                match (address, permits) {
                    (Some(address), true) => {
                        dynamics.push(NatRule {
                            name: text.clone(),
                            line: *n,
                            from: side("inside"),
                            to: side("outside"),
                            matches: list,
                            source: Some(Translation { address: Some(address), port: None }),
                            destination: None,
                            bidirectional: false,
                            first_match: true,
                            disabled: false,
                        });
                        continue;
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        match rule {
            Some((matches, address, port, bidirectional)) => statics.push(NatRule {
                name: text.clone(),
                line: *n,
                from: side("inside"),
                to: side("outside"),
                matches: vec![matches],
                source: Some(Translation { address: Some(address), port }),
                destination: None,
                bidirectional,
                first_match: false,
                disabled: false,
            }),
            None => d.warnings.push(warn(
                *n,
                text,
                "a NAT rule this reader does not understand (or its list or pool is not defined); left out",
            )),
        }
    }
    d.nat = statics.into_iter().chain(dynamics).collect();
}

/// The entries of each filter in sequence-number order, as the device applies them: an entry
/// without a number gets 10 more than the highest so far (NX-OS, IOS and IOS-XR agree), and
/// a number given twice keeps the first entry (the device refuses the second).
fn in_sequence(
    pending: Vec<(usize, usize, Kind, String)>,
    warnings: &mut Vec<Warning>,
) -> Vec<(usize, usize, Kind, String)> {
    let mut highest: HashMap<usize, u64> = HashMap::new();
    let mut seen: std::collections::HashSet<(usize, u64)> = std::collections::HashSet::new();
    let mut numbered = Vec::with_capacity(pending.len());
    for (idx, n, kind, text) in pending {
        let top = highest.entry(idx).or_insert(0);
        let mut words = text.split_whitespace();
        let explicit = match words.next() {
            Some("sequence") => words.next().and_then(|w| w.parse::<u64>().ok()),
            Some(w) => w.parse::<u64>().ok(),
            None => None,
        };
        let seq = explicit.unwrap_or(*top + 10);
        *top = (*top).max(seq);
        if !seen.insert((idx, seq)) {
            warnings.push(warn(n, &text, &format!("sequence number {seq} is used twice; the later entry is left out")));
            continue;
        }
        numbered.push((idx, seq, n, kind, text));
    }
    numbered.sort_by_key(|e| (e.0, e.1));
    numbered.into_iter().map(|(idx, _, n, kind, text)| (idx, n, kind, text)).collect()
}

pub(crate) fn warn(line: usize, text: &str, message: &str) -> Warning {
    Warning { line, text: text.to_owned(), message: message.to_owned() }
}

fn acl_index(d: &mut Device, name: &str, line: usize, family: Family) -> usize {
    if let Some(i) = d.acls.iter().position(|a| a.name == name) {
        return i;
    }
    d.acls.push(Acl { name: name.to_owned(), line, family, rules: Vec::new() });
    d.acls.len() - 1
}

fn interface_line(d: &mut Device, idx: usize, n: usize, w: &[&str]) {
    let name = d.interfaces[idx].name.clone();
    match w {
        ["ip", "access-group", acl, dir @ ("in" | "out")] | ["ipv6", "traffic-filter", acl, dir @ ("in" | "out")] => {
            d.bindings.push(Binding { line: n, interface: name, acl: (*acl).to_owned(), direction: (*dir).to_owned() });
        }
        ["ip", "address", addr, mask, ..] => {
            if let (Ok(a), Ok(m)) = (addr.parse::<Ipv4Addr>(), mask.parse::<Ipv4Addr>()) {
                d.interfaces[idx].addresses.push(format!("{a}/{}", u32::from(m).count_ones()));
            }
        }
        ["ipv6", "address", prefix, ..] if prefix.contains('/') => {
            d.interfaces[idx].addresses.push((*prefix).to_owned())
        }
        ["shutdown"] => d.interfaces[idx].shutdown = true,
        // HSRP (`standby [GROUP] ip|priority …`) and VRRP (`vrrp GROUP ip|address|priority …`).
        [proto @ ("standby" | "vrrp"), rest @ ..] => {
            let (group, rest) = match rest.split_first() {
                Some((g, more)) if g.parse::<u32>().is_ok() => (g.parse().unwrap_or(0), more),
                _ => (0, rest),
            };
            let protocol = if *proto == "standby" { "hsrp" } else { "vrrp" };
            let list = &mut d.interfaces[idx].redundancy;
            let at = match list.iter().position(|r| r.protocol == protocol && r.group == group) {
                Some(at) => at,
                None => {
                    list.push(crate::device::Redundancy { protocol, group, address: None, priority: 100 });
                    list.len() - 1
                }
            };
            match rest {
                ["ip" | "address", a, ..] if !rest.contains(&"secondary") => list[at].address = a.parse().ok(),
                ["priority", p, ..] => list[at].priority = p.parse().unwrap_or(100),
                _ => {}
            }
        }
        ["bandwidth", kbps, ..] => d.interfaces[idx].bandwidth_kbps = kbps.parse().ok(),
        ["ip", "ospf", "cost", cost] => d.interfaces[idx].ospf_cost = cost.parse().ok(),
        ["ip", "ospf", _, "area", area, ..] => d.interfaces[idx].ospf_area = crate::ospf::parse_area(area),
        // The interface's side for NAT: what `ip nat inside source` rules name.
        ["ip", "nat", side @ ("inside" | "outside")] => d.interfaces[idx].nameif = Some((*side).to_owned()),
        _ => {}
    }
}

/// A line of `router bgp N` (its `address-family ipv4` lines too): sessions and what they
/// inherit from peer groups, originated networks, aggregates, multipath and add-paths.
fn bgp_line(d: &mut Device, n: usize, t: &str, w: &[&str]) {
    let Some(p) = d.bgp.as_mut() else { return };
    let ipv4 = |s: &str| s.parse::<Ipv4Addr>().ok();
    let classful = |a: u32| match a >> 24 {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    };
    match w {
        ["bgp", "router-id", id] => p.router_id = ipv4(id),
        ["bgp", "additional-paths", "select", "all", ..] => p.additional_paths = true,
        ["neighbor", who, what @ ..] => {
            let entry = match ipv4(who) {
                Some(ip) => {
                    p.neighbors.entry(ip).or_insert_with(|| crate::bgp::Neighbor { line: n, ..Default::default() })
                }
                None => p
                    .groups
                    .entry((*who).to_owned())
                    .or_insert_with(|| crate::bgp::Neighbor { line: n, ..Default::default() }),
            };
            match what {
                ["peer-group", group] => entry.group = Some((*group).to_owned()),
                ["remote-as", asn] => entry.remote_as = asn.parse().ok(),
                ["update-source", iface] => entry.update_source = Some((*iface).to_owned()),
                ["route-map", map, "in"] => entry.route_map_in = Some((*map).to_owned()),
                ["route-map", map, "out"] => entry.route_map_out = Some((*map).to_owned()),
                ["send-community", ..] => entry.send_community = true,
                ["route-reflector-client"] => entry.reflector_client = true,
                ["next-hop-self", ..] => entry.next_hop_self = true,
                ["ebgp-multihop", ..] => entry.ebgp_multihop = true,
                ["advertise", "additional-paths", ..] => entry.additional_paths = true,
                ["shutdown"] => entry.shutdown = true,
                _ => {}
            }
        }
        ["network", a, "mask", m, ..] => {
            if let (Some(a), Some(m)) = (ipv4(a), ipv4(m)) {
                let len = u32::from(m).count_ones() as u8;
                p.networks.push((u32::from(a) & u32::from(m), len));
            }
        }
        ["network", a] => {
            if let Some(a) = ipv4(a) {
                let len = classful(u32::from(a));
                p.networks.push((u32::from(a), len));
            }
        }
        ["aggregate-address", a, m, rest @ ..] => match (ipv4(a), ipv4(m)) {
            (Some(a), Some(m)) => {
                let len = u32::from(m).count_ones() as u8;
                p.aggregates.push((u32::from(a) & u32::from(m), len, rest.contains(&"summary-only")));
            }
            _ => d.warnings.push(warn(n, t, "not an aggregate this reader understands; left out")),
        },
        ["redistribute", source @ ("connected" | "static"), ..] => {
            p.redistribute.push(if *source == "connected" { "connected" } else { "static" })
        }
        ["redistribute", ..] => d.warnings.push(warn(n, t, "redistribution of this source into BGP is not modelled")),
        ["maximum-paths", count] => {
            p.max_paths_ebgp = count.parse().unwrap_or(1);
        }
        ["maximum-paths", "ibgp", count] => p.max_paths_ibgp = count.parse().unwrap_or(1),
        ["maximum-paths", "eibgp", count] => {
            let count = count.parse().unwrap_or(1);
            (p.max_paths_ebgp, p.max_paths_ibgp) = (count, count);
        }
        _ => {}
    }
}

/// A BGP session that names a route map nobody defined takes (or sends) no routes at all:
/// say so where the session is configured.
fn undefined_route_maps(d: &mut Device) {
    let Some(p) = &d.bgp else { return };
    let mut found = Vec::new();
    let sessions =
        p.neighbors.iter().map(|(ip, n)| (ip.to_string(), n)).chain(p.groups.iter().map(|(g, n)| (g.clone(), n)));
    for (who, n) in sessions {
        for (map, dir) in [(&n.route_map_in, "in"), (&n.route_map_out, "out")] {
            if let Some(map) = map.as_ref().filter(|m| !d.routing_policy.route_maps.contains_key(*m)) {
                found.push(warn(
                    n.line,
                    &format!("neighbor {who} route-map {map} {dir}"),
                    &format!("route-map `{map}` is not defined; the session passes no routes {dir}"),
                ));
            }
        }
    }
    d.warnings.extend(found);
}

/// A `match` or `set` line of a route-map clause.
fn route_map_line(d: &mut Device, name: &str, idx: usize, n: usize, t: &str, w: &[&str]) {
    let Some(c) = d.routing_policy.route_maps.get_mut(name).and_then(|m| m.get_mut(idx)) else { return };
    let names = |rest: &[&str]| rest.iter().filter(|w| **w != "exact-match").map(|w| (*w).to_owned()).collect();
    let mut unmodelled = false;
    match w {
        ["match", "ip", "address", "prefix-list", rest @ ..] => c.matches.push(("prefix-list".into(), names(rest))),
        ["match", "ip", "address", rest @ ..] => c.matches.push(("ip address".into(), names(rest))),
        ["match", "community", rest @ ..] => c.matches.push(("community".into(), names(rest))),
        ["match", ..] => {
            // A condition not modelled matches nothing, so the clause is never taken.
            c.matches.push((t.to_owned(), Vec::new()));
            unmodelled = true;
        }
        ["set", "local-preference", v] => c.set_local_pref = v.parse().ok(),
        ["set", "metric", v] => c.set_med = v.parse().ok(),
        ["set", "community", "none"] => c.set_communities = Some((Vec::new(), false)),
        ["set", "community", rest @ ..] => {
            let additive = rest.contains(&"additive");
            let values = rest.iter().filter(|w| **w != "additive").map(|w| (*w).to_owned()).collect();
            c.set_communities = Some((values, additive));
        }
        ["set", "as-path", "prepend", rest @ ..] => c.prepend = rest.iter().filter_map(|a| a.parse().ok()).collect(),
        ["set", "ip", "next-hop", ip] => c.set_next_hop = ip.parse().ok(),
        ["set", ..] => unmodelled = true,
        _ => {}
    }
    if unmodelled {
        d.warnings.push(warn(n, t, "this route-map condition or action is not modelled"));
    }
}

/// `ip prefix-list NAME [seq N] permit|deny PREFIX/LEN [ge X] [le Y]`.
fn prefix_list_line(d: &mut Device, name: &str, rest: &[&str], n: usize, t: &str) {
    let entries = d.routing_policy.prefix_lists.entry(name.to_owned()).or_default();
    let (seq, rest) = match rest {
        ["seq", seq, rest @ ..] => (seq.parse().ok(), rest),
        rest => (None, rest),
    };
    let seq = seq.unwrap_or_else(|| entries.last().map_or(5, |e| e.seq + 5));
    let [action @ ("permit" | "deny"), prefix, bounds @ ..] = rest else {
        if !matches!(rest.first(), Some(&"description")) {
            d.warnings.push(warn(n, t, "not a prefix-list entry this reader understands; left out"));
        }
        return;
    };
    let Some((_, IpAddr::V4(network), len)) = crate::route::parse_prefix(prefix) else {
        d.warnings.push(warn(n, t, "not an IPv4 prefix; left out"));
        return;
    };
    let bound = |key: &str| bounds.windows(2).find(|p| p[0] == key).and_then(|p| p[1].parse().ok());
    let entry = crate::bgp::PrefixEntry {
        seq,
        permit: *action == "permit",
        network: u32::from(network),
        len,
        ge: bound("ge"),
        le: bound("le"),
    };
    let at = entries.partition_point(|e| e.seq < seq);
    entries.insert(at, entry);
}

/// `ip community-list {standard|expanded} NAME permit|deny …` and the numbered forms.
fn community_list_line(d: &mut Device, rest: &[&str], n: usize, t: &str) {
    let (expanded, name, rest) = match rest {
        ["expanded", name, rest @ ..] => (true, *name, rest),
        ["standard", name, rest @ ..] => (false, *name, rest),
        [num, rest @ ..] if num.parse::<u32>().is_ok() => (num.parse::<u32>().unwrap_or(0) >= 100, *num, rest),
        _ => {
            d.warnings.push(warn(n, t, "not a community list this reader understands; left out"));
            return;
        }
    };
    let [action @ ("permit" | "deny"), values @ ..] = rest else { return };
    d.routing_policy.community_lists.entry(name.to_owned()).or_default().push(crate::bgp::CommunityEntry {
        permit: *action == "permit",
        expanded,
        text: values.join(" "),
    });
}

/// A line of `router ospf N`: what decides areas, costs, neighbours and redistribution.
fn ospf_line(d: &mut Device, n: usize, t: &str, w: &[&str]) {
    use crate::ospf::{DEFAULT_EXTERNAL_METRIC, Redistribution, parse_area};
    let Some(p) = d.ospf.as_mut() else { return };
    // `metric N` and `metric-type 1|2` after a redistribution.
    let options = |rest: &[&str], source: &'static str| {
        let mut r = Redistribution {
            source,
            subnets: rest.contains(&"subnets"),
            metric: DEFAULT_EXTERNAL_METRIC,
            metric_type: 2,
            always: rest.contains(&"always"),
        };
        for pair in rest.windows(2) {
            match pair {
                ["metric", m] => r.metric = m.parse().unwrap_or(DEFAULT_EXTERNAL_METRIC),
                ["metric-type", k] => r.metric_type = if *k == "1" { 1 } else { 2 },
                _ => {}
            }
        }
        r
    };
    match w {
        ["router-id", id] => p.router_id = id.parse().ok(),
        ["network", addr, wildcard, "area", area] => {
            match (addr.parse::<Ipv4Addr>(), wildcard.parse::<Ipv4Addr>(), parse_area(area)) {
                (Ok(a), Ok(m), Some(area)) => p.networks.push(crate::ospf::NetworkStatement {
                    address: u32::from(a),
                    wildcard: u32::from(m),
                    area,
                }),
                _ => d.warnings.push(warn(n, t, "not a network statement this reader understands; left out")),
            }
        }
        ["passive-interface", "default"] => p.passive_default = true,
        ["passive-interface", name] => p.passive.push((*name).to_owned()),
        ["no", "passive-interface", name] => p.active.push((*name).to_owned()),
        ["redistribute", source @ ("connected" | "static"), rest @ ..] => {
            let source = if *source == "connected" { "connected" } else { "static" };
            p.redistribute.push(options(rest, source));
        }
        ["redistribute", ..] => d.warnings.push(warn(
            n,
            t,
            "redistribution from another routing protocol is not modelled; use a routing-table export for those routes",
        )),
        ["default-information", "originate", rest @ ..] => p.default_originate = Some(options(rest, "default")),
        ["auto-cost", "reference-bandwidth", mbps, ..] => p.reference_mbps = mbps.parse().unwrap_or(100).max(1),
        ["distance", ad] => {
            p.distance = ad.parse().unwrap_or(110);
            p.external_distance = p.distance;
        }
        _ => {}
    }
}

/// `ip route PREFIX MASK {NEXT-HOP | INTERFACE [NEXT-HOP]} [DISTANCE] [name …] [permanent]`.
fn static_route(w: &[&str]) -> Option<crate::route::Route> {
    use crate::route::{NextHop, Route};
    let (prefix, mask): (Ipv4Addr, Ipv4Addr) = (w.first()?.parse().ok()?, w.get(1)?.parse().ok()?);
    let len = u32::from(mask).count_ones() as u8;
    let network = IpAddr::V4(Ipv4Addr::from(u32::from(prefix) & u32::from(mask)));
    let mut at = 2;
    let next_hop = match (w.get(at)?.parse::<Ipv4Addr>(), w.get(at + 1).map(|n| n.parse::<Ipv4Addr>())) {
        (Ok(ip), _) => {
            at += 1;
            NextHop::Ip(IpAddr::V4(ip))
        }
        (Err(_), _) if w[at].eq_ignore_ascii_case("null0") => {
            at += 1;
            NextHop::Discard
        }
        (Err(_), Some(Ok(ip))) => {
            at += 2;
            NextHop::Interface { name: w[at - 2].to_owned(), ip: Some(IpAddr::V4(ip)) }
        }
        (Err(_), _) => {
            at += 1;
            NextHop::Interface { name: w[at - 1].to_owned(), ip: None }
        }
    };
    let admin = w.get(at).and_then(|d| d.parse().ok()).unwrap_or(1);
    Some(Route { network, len, next_hop, protocol: "static".into(), admin, metric: 0 })
}

/// Reads one member line of the group named first into what it stands for, or says why not.
pub(crate) type Member<'a, T> = dyn Fn(&str, &[&str]) -> Result<Vec<T>, String> + 'a;

/// Resolves object-groups of one kind, following `group-object` nesting: `entry` reads one
/// member line into what it stands for, or says why it cannot. A cycle, a missing nested
/// group or an unreadable line is a warning; the group then holds what could be resolved.
pub(crate) fn resolve<T: Clone>(
    groups: &HashMap<String, Vec<(usize, String)>>,
    warnings: &mut Vec<Warning>,
    entry: &Member<'_, T>,
) -> HashMap<String, Vec<T>> {
    fn walk<T: Clone>(
        name: &str,
        groups: &HashMap<String, Vec<(usize, String)>>,
        stack: &mut Vec<String>,
        warnings: &mut Vec<Warning>,
        entry: &Member<'_, T>,
    ) -> Vec<T> {
        let mut out = Vec::new();
        let Some(lines) = groups.get(name) else { return out };
        stack.push(name.to_owned());
        for (n, t) in lines {
            let w: Vec<&str> = t.split_whitespace().collect();
            match w.as_slice() {
                ["description", ..] | [] => {}
                ["group-object", g] => {
                    if stack.iter().any(|s| s == g) {
                        warnings.push(warn(*n, t, &format!("object-group `{g}` contains itself")));
                    } else if !groups.contains_key(*g) {
                        warnings.push(warn(*n, t, &format!("object-group `{g}` is not defined")));
                    } else {
                        out.extend(walk(g, groups, stack, warnings, entry));
                    }
                }
                words => match entry(name, words) {
                    Ok(mut items) => out.append(&mut items),
                    Err(why) => warnings.push(warn(*n, t, &why)),
                },
            }
        }
        stack.pop();
        out
    }
    groups.keys().map(|name| (name.clone(), walk(name, groups, &mut Vec::new(), warnings, entry))).collect()
}

/// A network object-group member: `host A`, `A MASK` (a subnet mask, not a wildcard) or `A/LEN`.
fn network_member(_group: &str, w: &[&str]) -> Result<Vec<AddrMatch>, String> {
    match w {
        ["host", a] => {
            let a: Ipv4Addr = a.parse().map_err(|_| "not an IPv4 address".to_owned())?;
            Ok(vec![AddrMatch::host(u32::from(a))])
        }
        [a, m] => match (a.parse::<Ipv4Addr>(), m.parse::<Ipv4Addr>()) {
            (Ok(a), Ok(m)) => Ok(vec![AddrMatch::Wildcard { addr: u32::from(a), wildcard: !u32::from(m) }]),
            _ => Err("expected `host A`, `A MASK` or `group-object NAME`".into()),
        },
        [p] if p.contains('/') => prefix4(p).map(|m| vec![m]).ok_or_else(|| "not an IPv4 prefix".into()),
        _ => Err("not understood in a network object-group; left out".into()),
    }
}

/// An NX-OS `object-group ip address` member, after an optional sequence number: `host A`,
/// `A WILDCARD` (a wildcard here, unlike IOS's network groups) or `A/LEN`.
fn wildcard_member(_group: &str, w: &[&str]) -> Result<Vec<AddrMatch>, String> {
    let w = match w.split_first() {
        Some((first, rest)) if first.parse::<u32>().is_ok() => rest,
        _ => w,
    };
    match w {
        ["host", a] => {
            let a: Ipv4Addr = a.parse().map_err(|_| "not an IPv4 address".to_owned())?;
            Ok(vec![AddrMatch::host(u32::from(a))])
        }
        [a, wc] => match (a.parse::<Ipv4Addr>(), wc.parse::<Ipv4Addr>()) {
            (Ok(a), Ok(wc)) => {
                let wildcard = u32::from(wc);
                Ok(vec![AddrMatch::Wildcard { addr: u32::from(a) & !wildcard, wildcard }])
            }
            _ => Err("expected `host A`, `A WILDCARD` or `A/LEN`".into()),
        },
        [p] if p.contains('/') => prefix4(p).map(|m| vec![m]).ok_or_else(|| "not an IPv4 prefix".into()),
        _ => Err("not understood in an address object-group; left out".into()),
    }
}

/// An NX-OS `object-group ip port` member, after an optional sequence number: `eq P`,
/// `neq P`, `lt P`, `gt P` or `range A B`. `lt 0` and `gt 65535` name no port and add none.
fn port_member(_group: &str, w: &[&str]) -> Result<Vec<(u16, u16)>, String> {
    let w = match w.split_first() {
        Some((first, rest)) if first.parse::<u32>().is_ok() => rest,
        _ => w,
    };
    let mut at = 0;
    let m = ports(w, &mut at)?;
    if at == 0 || at != w.len() {
        return Err("expected `eq`, `neq`, `lt`, `gt` or `range` with ports".into());
    }
    Ok(m.0)
}

/// Object-groups resolved: network groups to address matches, port groups to port ranges,
/// service groups to the services they list.
struct Groups {
    networks: HashMap<String, AddrMatch>,
    ports: HashMap<String, PortMatch>,
    services: HashMap<String, Vec<Service>>,
}

/// One service (an entry of a service object-group, or an ASA service object): a protocol
/// (any when `None`), ports, an ICMP type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Service {
    pub(crate) proto: Option<u8>,
    pub(crate) sport: PortMatch,
    pub(crate) dport: PortMatch,
    pub(crate) icmp: Option<(u8, Option<u8>)>,
}

impl Service {
    pub(crate) fn of(proto: Option<u8>) -> Service {
        Service { proto, sport: PortMatch::any(), dport: PortMatch::any(), icmp: None }
    }

    /// `base` limited to this service: how a rule naming a service (group) becomes one
    /// rule per service.
    pub(crate) fn narrow(&self, base: &Rule) -> Rule {
        Rule {
            proto: self.proto,
            sport: self.sport.clone(),
            dport: self.dport.clone(),
            icmp: self.icmp,
            ..base.clone()
        }
    }
}

/// A service object-group member, or why it is left out of `group`.
fn service_member(group: &str, w: &[&str]) -> Result<Vec<Service>, String> {
    let (proto, rest) = w.split_first().ok_or_else(|| "an empty line".to_owned())?;
    service(proto, rest).map_err(|why| format!("{why}; left out of service group `{group}`"))
}

/// A service-group entry: `tcp eq 80`, `udp source range 1 2`, `tcp-udp eq 53`, `icmp echo`, `gre`.
fn service(proto: &str, rest: &[&str]) -> Result<Vec<Service>, String> {
    let protos: Vec<Option<u8>> = match proto {
        "tcp-udp" => vec![Some(6), Some(17)],
        p => vec![protocol(p, false)?],
    };
    let mut at = 0;
    let mut sport = PortMatch::any();
    let mut dport = PortMatch::any();
    let mut icmp = None;
    if matches!(protos[0], Some(6 | 17)) {
        if rest.first() == Some(&"source") {
            at = 1;
            sport = ports(rest, &mut at)?;
        }
        dport = ports(rest, &mut at)?;
    } else if protos[0] == Some(1)
        && let Some(word) = rest.first()
    {
        icmp = Some(icmp_type(word).ok_or_else(|| format!("unknown ICMP type `{word}`"))?);
        at = 1;
    }
    if let Some(extra) = rest.get(at) {
        return Err(format!("`{extra}` is not supported here"));
    }
    Ok(protos.into_iter().map(|proto| Service { proto, sport: sport.clone(), dport: dport.clone(), icmp }).collect())
}

pub(crate) fn prefix4(p: &str) -> Option<AddrMatch> {
    let (a, len) = p.split_once('/')?;
    let a: Ipv4Addr = a.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    let wildcard = if len == 0 { u32::MAX } else { (1u32 << (32 - len)).wrapping_sub(1) };
    Some(AddrMatch::Wildcard { addr: u32::from(a) & !wildcard, wildcard })
}

pub(crate) fn protocol(word: &str, v6: bool) -> Result<Option<u8>, String> {
    Ok(Some(match word {
        "ip" | "ipv4" if !v6 => return Ok(None),
        "ipv6" if v6 => return Ok(None),
        "tcp" => 6,
        "udp" => 17,
        "icmp" if v6 => 58,
        "icmp" => 1,
        "igmp" => 2,
        "ipinip" => 4,
        "gre" => 47,
        "esp" => 50,
        "ahp" | "ah" => 51,
        "nos" => 94,
        "pcp" => 108,
        "vrrp" => 112,
        "eigrp" => 88,
        "ospf" => 89,
        "pim" => 103,
        "sctp" => 132,
        n => n.parse::<u8>().map_err(|_| format!("unknown protocol `{n}`"))?,
    }))
}

pub(crate) fn port(word: &str) -> Result<u16, String> {
    let named = match word {
        "ftp-data" => 20,
        "ftp" => 21,
        "ssh" => 22,
        "telnet" => 23,
        "smtp" => 25,
        "domain" => 53,
        "bootps" => 67,
        "bootpc" => 68,
        "tftp" => 69,
        "www" | "http" => 80,
        "pop3" => 110,
        "sunrpc" => 111,
        "ntp" => 123,
        "netbios-ns" => 137,
        "netbios-dgm" => 138,
        "netbios-ss" => 139,
        "snmp" => 161,
        "snmptrap" => 162,
        "bgp" => 179,
        "ldap" => 389,
        "https" => 443,
        "isakmp" => 500,
        "syslog" => 514,
        "cmd" => 514,
        "non500-isakmp" => 4500,
        // Names ASA also knows (its own values where they differ from IANA's: kerberos).
        "echo" => 7,
        "discard" => 9,
        "daytime" => 13,
        "chargen" => 19,
        "time" => 37,
        "nameserver" => 42,
        "whois" => 43,
        "tacacs" => 49,
        "gopher" => 70,
        "finger" => 79,
        "hostname" => 101,
        "pop2" => 109,
        "ident" => 113,
        "nntp" => 119,
        "imap4" | "imap" => 143,
        "acr-nema" => 104,
        "sftp" => 115,
        "msdp" => 639,
        "nfs" => 2049,
        "bfd" => 3784,
        "mlag" => 4432,
        "xdmcp" => 177,
        "irc" => 194,
        "dnsix" => 195,
        "mobile-ip" => 434,
        "pim-auto-rp" => 496,
        "exec" | "biff" => 512,
        "login" | "who" => 513,
        "rsh" => 514,
        "lpd" | "printer" => 515,
        "talk" => 517,
        "rip" => 520,
        "uucp" => 540,
        "klogin" => 543,
        "kshell" => 544,
        "rtsp" => 554,
        "ldaps" => 636,
        "kerberos" => 750,
        "lotusnotes" => 1352,
        "citrix-ica" => 1494,
        "sqlnet" => 1521,
        "radius" => 1645,
        "radius-acct" => 1646,
        "h323" => 1720,
        "pptp" => 1723,
        "ctiqbe" => 2748,
        "cifs" => 3020,
        "vxlan" => 4789,
        "sip" => 5060,
        "aol" => 5190,
        "secureid-udp" => 5510,
        "pcanywhere-data" => 5631,
        n => return n.parse::<u16>().map_err(|_| format!("unknown port `{n}`")),
    };
    Ok(named)
}

pub(crate) fn icmp_type(word: &str) -> Option<(u8, Option<u8>)> {
    Some(match word {
        "echo-reply" => (0, None),
        "unreachable" => (3, None),
        "net-unreachable" => (3, Some(0)),
        "host-unreachable" => (3, Some(1)),
        "port-unreachable" => (3, Some(3)),
        "packet-too-big" => (3, Some(4)),
        "administratively-prohibited" => (3, Some(13)),
        "source-quench" => (4, None),
        "redirect" => (5, None),
        "echo" => (8, None),
        "router-advertisement" => (9, None),
        "router-solicitation" => (10, None),
        "time-exceeded" | "ttl-exceeded" => (11, None),
        "parameter-problem" => (12, None),
        "timestamp-request" | "timestamp" => (13, None),
        "timestamp-reply" => (14, None),
        "alternate-address" => (6, None),
        "information-request" => (15, None),
        "information-reply" => (16, None),
        "mask-request" => (17, None),
        "mask-reply" => (18, None),
        "traceroute" => (30, None),
        "conversion-error" => (31, None),
        "mobile-redirect" => (32, None),
        _ => return None,
    })
}

/// Reads an address at `w[*at..]`, advancing `at`.
fn address(
    w: &[&str],
    at: &mut usize,
    kind: Kind,
    groups: &Groups,
    undefined: &mut Vec<String>,
) -> Result<AddrMatch, String> {
    let word = *w.get(*at).ok_or("an address is missing")?;
    *at += 1;
    match word {
        "any" => Ok(AddrMatch::Any),
        "host" => {
            let a = *w.get(*at).ok_or("`host` needs an address")?;
            *at += 1;
            if kind == Kind::V6 {
                let a: Ipv6Addr = a.parse().map_err(|_| format!("`{a}` is not an IPv6 address"))?;
                Ok(AddrMatch::Prefix6 { addr: u128::from(a), len: 128 })
            } else {
                let a: Ipv4Addr = a.parse().map_err(|_| format!("`{a}` is not an IPv4 address"))?;
                Ok(AddrMatch::host(u32::from(a)))
            }
        }
        "object-group" | "addrgroup" => {
            let g = *w.get(*at).ok_or("`object-group` needs a name")?;
            *at += 1;
            Ok(groups.networks.get(g).cloned().unwrap_or_else(|| {
                undefined.push(g.to_owned());
                AddrMatch::Undefined(g.to_owned())
            }))
        }
        // NX-OS takes a bare IPv6 address for one host.
        a if kind == Kind::V6 && !a.contains('/') => {
            let a: Ipv6Addr = a.parse().map_err(|_| format!("`{a}` is not an IPv6 address or prefix"))?;
            Ok(AddrMatch::Prefix6 { addr: u128::from(a), len: 128 })
        }
        a if kind == Kind::V6 => {
            let (p, len) = a.split_once('/').ok_or_else(|| format!("`{a}` is not an IPv6 prefix"))?;
            let p: Ipv6Addr = p.parse().map_err(|_| format!("`{a}` is not an IPv6 prefix"))?;
            let len: u8 = len.parse().ok().filter(|l| *l <= 128).ok_or_else(|| format!("`{a}` has a bad length"))?;
            Ok(AddrMatch::Prefix6 { addr: u128::from(p), len })
        }
        // IOS-XE (and NX-OS) also take a prefix length.
        a if a.contains('/') => prefix4(a).ok_or_else(|| format!("`{a}` is not an IPv4 prefix")),
        a => {
            let addr: Ipv4Addr = a.parse().map_err(|_| format!("`{a}` is not an address"))?;
            // A standard ACL's lone address means that host; otherwise a wildcard follows.
            match w.get(*at).map(|x| x.parse::<Ipv4Addr>()) {
                Some(Ok(wc)) => {
                    *at += 1;
                    Ok(AddrMatch::Wildcard { addr: u32::from(addr) & !u32::from(wc), wildcard: u32::from(wc) })
                }
                _ if kind == Kind::Standard => Ok(AddrMatch::host(u32::from(addr))),
                _ => Err(format!("`{a}` needs a wildcard mask")),
            }
        }
    }
}

/// Reads an optional port condition at `w[*at..]`.
pub(crate) fn ports(w: &[&str], at: &mut usize) -> Result<PortMatch, String> {
    let op = w.get(*at).copied();
    let arg = |i: usize| {
        w.get(*at + i).ok_or_else(|| format!("`{}` needs a port", op.unwrap_or_default())).and_then(|p| port(p))
    };
    let m = match op {
        Some("eq") => {
            let mut list = Vec::new();
            let mut i = 1;
            while let Some(p) = w.get(*at + i).and_then(|p| port(p).ok()) {
                list.push((p, p));
                i += 1;
            }
            if list.is_empty() {
                arg(1)?;
            }
            *at += i;
            return Ok(PortMatch(list));
        }
        Some("neq") => {
            let p = arg(1)?;
            let mut r = Vec::new();
            if p > 0 {
                r.push((0, p - 1));
            }
            if p < u16::MAX {
                r.push((p + 1, u16::MAX));
            }
            PortMatch(r)
        }
        Some("lt") => {
            let p = arg(1)?;
            PortMatch(if p == 0 { Vec::new() } else { vec![(0, p - 1)] })
        }
        Some("gt") => {
            let p = arg(1)?;
            PortMatch(if p == u16::MAX { Vec::new() } else { vec![(p + 1, u16::MAX)] })
        }
        Some("range") => {
            let (lo, hi) = (arg(1)?, arg(2)?);
            *at += 3;
            return Ok(PortMatch(vec![(lo.min(hi), lo.max(hi))]));
        }
        _ => return Ok(PortMatch::any()),
    };
    *at += 2;
    Ok(m)
}

/// Parses one rule (after `access-list N`, or inside a named ACL, optionally numbered).
/// Returns the rule (line and text are filled in by the caller) and any undefined groups.
fn parse_rule(text: &str, kind: Kind, groups: &Groups) -> Result<(Vec<Rule>, Vec<String>), String> {
    let mut w: Vec<&str> = text.split_whitespace().collect();
    if w.first().is_some_and(|s| s.parse::<u32>().is_ok()) || w.first() == Some(&"sequence") {
        w.remove(0);
        if w.first().is_some_and(|s| s.parse::<u32>().is_ok()) {
            w.remove(0);
        }
    }
    let action = match w.first() {
        Some(&"permit") => Action::Permit,
        Some(&"deny") => Action::Deny,
        Some(other) => return Err(format!("expected permit or deny, found `{other}`")),
        None => return Err("an empty rule".into()),
    };
    let mut at = 1;
    let mut undefined = Vec::new();
    let mut rule = Rule::any(action, 0);
    if kind == Kind::Standard {
        rule.src = address(&w, &mut at, kind, groups, &mut undefined)?;
    } else if w.get(at) == Some(&"object-group") && kind == Kind::Extended {
        // `permit object-group SERVICES SRC DST`: one rule per service.
        let g = *w.get(at + 1).ok_or("`object-group` needs a name")?;
        at += 2;
        rule.src = address(&w, &mut at, kind, groups, &mut undefined)?;
        rule.dst = address(&w, &mut at, kind, groups, &mut undefined)?;
        options(&w, at, &mut rule)?;
        let Some(services) = groups.services.get(g) else {
            undefined.push(g.to_owned());
            return Ok((vec![Rule { src: AddrMatch::Undefined(g.to_owned()), ..rule }], undefined));
        };
        let rules = services.iter().map(|s| s.narrow(&rule)).collect();
        return Ok((rules, undefined));
    } else {
        rule.proto = protocol(w.get(at).ok_or("the protocol is missing")?, kind == Kind::V6)?;
        at += 1;
        let ported = matches!(rule.proto, Some(6 | 17));
        // Ports by operator, or an NX-OS port group.
        let side_ports = |at: &mut usize, undefined: &mut Vec<String>| -> Result<PortMatch, String> {
            if w.get(*at) != Some(&"portgroup") {
                return ports(&w, at);
            }
            let g = *w.get(*at + 1).ok_or("`portgroup` needs a name")?;
            *at += 2;
            Ok(groups.ports.get(g).cloned().unwrap_or_else(|| {
                undefined.push(g.to_owned());
                PortMatch(Vec::new())
            }))
        };
        rule.src = address(&w, &mut at, kind, groups, &mut undefined)?;
        if ported {
            rule.sport = side_ports(&mut at, &mut undefined)?;
        }
        rule.dst = address(&w, &mut at, kind, groups, &mut undefined)?;
        if ported {
            rule.dport = side_ports(&mut at, &mut undefined)?;
        }
        if matches!(rule.proto, Some(1 | 58))
            && let Some(word) = w.get(at)
        {
            if let Some(t) = icmp_type(word) {
                rule.icmp = Some(t);
                at += 1;
            } else if let Ok(t) = word.parse::<u8>() {
                let code = w.get(at + 1).and_then(|c| c.parse::<u8>().ok());
                rule.icmp = Some((t, code));
                at += 1 + usize::from(code.is_some());
            }
        }
    }
    options(&w, at, &mut rule)?;
    Ok((vec![rule], undefined))
}

/// The keywords after a rule's addresses and ports.
fn options(w: &[&str], mut at: usize, rule: &mut Rule) -> Result<(), String> {
    while let Some(word) = w.get(at) {
        match *word {
            "established" if rule.proto == Some(6) => rule.established = true,
            "log" | "log-input" => rule.log = true,
            "fragments" => rule.fragments = true,
            other => return Err(format!("`{other}` is not supported here")),
        }
        at += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::Flow;
    use crate::arbitrary::flow;

    const CONFIG: &str = "\
hostname edge1
!
object-group network MGMT
 host 10.0.0.5
 10.1.0.0 255.255.255.0
 group-object NOC
object-group network NOC
 192.168.50.0/24
!
ip access-list extended EDGE-IN
 remark management from the NOC only
 10 permit tcp object-group MGMT any eq 22
 20 permit tcp any host 203.0.113.10 eq www 443
 30 permit tcp any any established
 40 permit icmp any any echo-reply
 50 deny ip 10.0.0.0 0.255.0.255 any log
 60 permit udp any range 1024 65535 any eq ntp
 70 permit tcp any any eq 22 time-range OFFICE
 80 permit tcp object-group NOWHERE any
!
access-list 10 permit 10.9.9.9
access-list 10 deny any
access-list 150 permit ip any any
!
ipv6 access-list V6-IN
 permit tcp 2001:db8::/32 any eq 22
 deny ipv6 any any
!
interface GigabitEthernet0/0
 ip address 203.0.113.1 255.255.255.0
 ip access-group EDGE-IN in
 ipv6 traffic-filter V6-IN in
interface GigabitEthernet0/1
 ip access-group MISSING out
 shutdown
";

    /// A deny entry of a NAT list exempts its traffic (site-to-site VPN traffic keeps its
    /// addresses); the rest of what the list permits leaves translated.
    #[test]
    fn nat_list_deny_entries_exempt_traffic() {
        let d = parse(
            "interface Gi0/0\n ip address 192.168.1.1 255.255.255.0\n ip nat inside\n\
             interface Gi0/1\n ip address 203.0.113.2 255.255.255.252\n ip nat outside\n\
             ip access-list extended NAT\n deny ip 192.168.1.0 0.0.0.255 10.0.0.0 0.255.255.255\n \
             permit ip 192.168.1.0 0.0.0.255 any\n\
             ip nat inside source list NAT interface Gi0/1 overload\n",
        );
        let rule = &d.nat[0];
        assert!(rule.first_match);
        let to = |dst: &str| flow("192.168.1.20", dst, 6, 443);
        assert!(rule.applies(&to("198.51.100.9"), "inside", "outside"));
        assert!(!rule.applies(&to("10.2.3.4"), "inside", "outside"), "VPN traffic keeps its address");
    }

    #[test]
    fn reads_filters_groups_and_bindings() {
        let d = parse(CONFIG);
        assert_eq!(d.hostname.as_deref(), Some("edge1"));
        let names: Vec<&str> = d.acls.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["EDGE-IN", "10", "150", "V6-IN"]);
        let edge = d.acl("EDGE-IN").unwrap();
        assert_eq!(edge.rules.len(), 7, "the time-range rule is left out");
        assert_eq!(d.partial, ["EDGE-IN"]);
        assert_eq!(edge.rules[0].line, 12);
        assert_eq!(d.bindings.len(), 3);
        assert_eq!(d.interfaces[0].addresses, ["203.0.113.1/24"]);
        assert!(d.interfaces[1].shutdown);
        let messages: Vec<(usize, &str)> = d.warnings.iter().map(|w| (w.line, w.message.as_str())).collect();
        assert!(messages.iter().any(|(l, m)| *l == 18 && m.contains("time-range")), "{messages:?}");
        assert!(messages.iter().any(|(l, m)| *l == 19 && m.contains("`NOWHERE` is not defined")), "{messages:?}");
        assert!(messages.iter().any(|(l, m)| *l == 34 && m.contains("MISSING")), "{messages:?}");
    }

    #[test]
    fn decisions_follow_ios_semantics() {
        let d = parse(CONFIG);
        let edge = d.acl("EDGE-IN").unwrap();
        let rule_line = |f: &Flow| edge.decide(f).rule.map(|i| edge.rules[i].line);
        // Nested group member, SSH: rule 10.
        assert_eq!(rule_line(&flow("192.168.50.7", "8.8.8.8", 6, 22)), Some(12));
        assert_eq!(rule_line(&flow("10.1.0.200", "8.8.8.8", 6, 22)), Some(12));
        // Two ports on one `eq`.
        assert_eq!(rule_line(&flow("1.2.3.4", "203.0.113.10", 6, 443)), Some(13));
        // `established` needs ACK/RST.
        let mut ack = flow("1.2.3.4", "8.8.8.8", 6, 5000);
        assert_eq!(edge.decide(&ack).rule, None, "implicit deny");
        ack.established = true;
        assert_eq!(rule_line(&ack), Some(14));
        // A non-contiguous wildcard: 10.x.0.y.
        assert_eq!(rule_line(&flow("10.77.0.9", "8.8.8.8", 17, 53)), Some(16));
        assert_eq!(rule_line(&flow("10.77.1.9", "8.8.8.8", 17, 123)), Some(17), "10.77.1.9 is outside 10.x.0.y");
        let mut ping = flow("1.2.3.4", "8.8.8.8", 1, 0);
        ping.icmp = Some((0, 0));
        assert_eq!(rule_line(&ping), Some(15));
        // Standard ACL: a lone address is a host.
        let std = d.acl("10").unwrap();
        assert_eq!(std.decide(&flow("10.9.9.9", "1.1.1.1", 6, 1)).action, Action::Permit);
        assert_eq!(std.decide(&flow("10.9.9.8", "1.1.1.1", 6, 1)).action, Action::Deny);
        let v6 = d.acl("V6-IN").unwrap();
        assert_eq!(v6.decide(&flow("2001:db8:1::1", "2001:db9::1", 6, 22)).action, Action::Permit);
        assert_eq!(v6.decide(&flow("2001:db9:1::1", "2001:db9::1", 6, 22)).action, Action::Deny);
    }

    #[test]
    fn ports_operators_cover_exactly_their_ranges() {
        let mut at = 0;
        assert_eq!(ports(&["neq", "0"], &mut at).unwrap(), PortMatch(vec![(1, 65535)]));
        at = 0;
        assert_eq!(ports(&["lt", "1024"], &mut at).unwrap(), PortMatch(vec![(0, 1023)]));
        at = 0;
        assert_eq!(ports(&["gt", "65535"], &mut at).unwrap(), PortMatch(vec![]));
        at = 0;
        assert!(ports(&["eq", "nonsense"], &mut at).is_err());
    }

    #[test]
    fn cycles_between_groups_are_reported_not_followed() {
        let d = parse("object-group network A\n group-object B\nobject-group network B\n group-object A\n");
        assert!(d.warnings.iter().any(|w| w.message.contains("contains itself")), "{:?}", d.warnings);
    }
}
