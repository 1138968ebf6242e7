//! Cisco ASA access lists: `access-list NAME [extended|standard] …` with ASA's semantics —
//! subnet masks rather than wildcards, `any` for IPv4 and IPv6 alike (`any4`, `any6` for
//! one), network and service objects and object-groups (network, service typed or not,
//! protocol, icmp-type) expanded in place, `inactive` entries skipped — and the interfaces
//! (`nameif`, `security-level`) and `access-group` bindings, `global` included.
//!
//! Like the IOS parser it never fails: an entry it cannot read is a warning with its line
//! and is left out (the filter is then partial); a reference to an object that is not
//! defined matches nothing and is reported. ASA 8.3+ filters name real (untranslated)
//! addresses, so NAT does not enter here.

use crate::acl::{Acl, Action, AddrMatch, Family, PortMatch, Rule};
use crate::device::{Binding, Device, Interface, Object};
use crate::ios::{Service, icmp_type, ports, prefix4, protocol, resolve, warn};
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

enum Block {
    None,
    Interface(usize),
    NetworkObject(String),
    ServiceObject(String),
    NetworkGroup(String),
    /// A service group, typed (`tcp`, `udp`, `tcp-udp`) when its members are bare ports.
    ServiceGroup(String),
    ProtocolGroup(String),
    IcmpGroup(String),
}

type Lines = HashMap<String, Vec<(usize, String)>>;

/// Everything the entries can refer to, resolved.
struct Objects {
    networks: HashMap<String, AddrMatch>,
    services: HashMap<String, Vec<Service>>,
    protocols: HashMap<String, Vec<Option<u8>>>,
    icmp: HashMap<String, Vec<(u8, Option<u8>)>>,
    /// `nameif` → the interface's own address, for `interface NAME` in an entry.
    interfaces: HashMap<String, AddrMatch>,
}

/// Parses an ASA configuration. Never fails; see [`Device::warnings`].
pub fn parse(text: &str) -> Device {
    let mut d = Device::default();
    let (mut net_objects, mut svc_objects, mut net_groups, mut svc_groups) =
        (Lines::new(), Lines::new(), Lines::new(), Lines::new());
    let (mut proto_groups, mut icmp_groups) = (Lines::new(), Lines::new());
    let mut typed: HashMap<String, String> = HashMap::new();
    let mut entries: Vec<(usize, String, Vec<String>)> = Vec::new();
    let mut routes: Vec<(String, crate::route::Route)> = Vec::new();
    // Twice NAT lines (`nat (real,mapped) source …`), in order.
    let mut twice: Vec<(usize, Vec<String>)> = Vec::new();
    let mut block = Block::None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end();
        // An inline `!` starts a comment on ASA object lines.
        let t = line.split(" !").next().unwrap_or_default().trim();
        if t.is_empty() || t.starts_with('!') || t.starts_with(':') {
            continue;
        }
        let w: Vec<&str> = t.split_whitespace().collect();
        if line.starts_with(' ') {
            let into = |m: &mut Lines, name: &String| m.entry(name.clone()).or_default().push((n, t.to_owned()));
            match &block {
                Block::Interface(idx) => interface_line(&mut d.interfaces[*idx], &w),
                Block::NetworkObject(name) => into(&mut net_objects, name),
                Block::ServiceObject(name) => into(&mut svc_objects, name),
                Block::NetworkGroup(name) => into(&mut net_groups, name),
                Block::ServiceGroup(name) => into(&mut svc_groups, name),
                Block::ProtocolGroup(name) => into(&mut proto_groups, name),
                Block::IcmpGroup(name) => into(&mut icmp_groups, name),
                Block::None => {}
            }
            continue;
        }
        block = Block::None;
        let declare = |m: &mut Lines, name: &str, d: &mut Device| {
            m.entry(name.to_owned()).or_default();
            d.object_groups.push(Object { name: name.to_owned(), line: n, in_use: false });
        };
        match w.as_slice() {
            ["hostname", name, ..] => d.hostname = Some((*name).to_owned()),
            ["interface", name, ..] => {
                d.interfaces.push(Interface { line: n, name: (*name).to_owned(), ..Interface::default() });
                block = Block::Interface(d.interfaces.len() - 1);
            }
            ["object", "network", name, ..] => {
                declare(&mut net_objects, name, &mut d);
                block = Block::NetworkObject((*name).to_owned());
            }
            ["object", "service", name, ..] => {
                declare(&mut svc_objects, name, &mut d);
                block = Block::ServiceObject((*name).to_owned());
            }
            ["object-group", "network", name, ..] => {
                declare(&mut net_groups, name, &mut d);
                block = Block::NetworkGroup((*name).to_owned());
            }
            ["object-group", "service", name, rest @ ..] => {
                declare(&mut svc_groups, name, &mut d);
                if let Some(kind) = rest.first() {
                    typed.insert((*name).to_owned(), (*kind).to_owned());
                }
                block = Block::ServiceGroup((*name).to_owned());
            }
            ["object-group", "protocol", name, ..] => {
                declare(&mut proto_groups, name, &mut d);
                block = Block::ProtocolGroup((*name).to_owned());
            }
            ["object-group", "icmp-type", name, ..] => {
                declare(&mut icmp_groups, name, &mut d);
                block = Block::IcmpGroup((*name).to_owned());
            }
            ["access-list", name, rest @ ..] => {
                entries.push((n, (*name).to_owned(), rest.iter().map(|s| (*s).to_owned()).collect()));
            }
            ["nat", rest @ ..] => twice.push((n, rest.iter().map(|w| (*w).to_owned()).collect())),
            // `route IFNAME NETWORK MASK GATEWAY [DISTANCE]`: out of the interface named so.
            ["route", ifname, net, mask, gw, rest @ ..] => {
                match (net.parse::<Ipv4Addr>(), mask.parse::<Ipv4Addr>(), gw.parse::<Ipv4Addr>()) {
                    (Ok(net), Ok(mask), Ok(gw)) => routes.push((
                        (*ifname).to_owned(),
                        crate::route::Route {
                            network: std::net::IpAddr::V4(Ipv4Addr::from(u32::from(net) & u32::from(mask))),
                            len: u32::from(mask).count_ones() as u8,
                            next_hop: crate::route::NextHop::Ip(std::net::IpAddr::V4(gw)),
                            protocol: "static".into(),
                            admin: rest.first().and_then(|a| a.parse().ok()).unwrap_or(1),
                            metric: 0,
                        },
                    )),
                    _ => d.warnings.push(warn(n, t, "not a static route this reader understands; left out")),
                }
            }
            ["access-group", acl, "global"] => d.bindings.push(Binding {
                line: n,
                interface: "*".into(),
                acl: (*acl).to_owned(),
                direction: "global".into(),
            }),
            ["access-group", acl, dir @ ("in" | "out"), "interface", nameif, ..] => d.bindings.push(Binding {
                line: n,
                interface: (*nameif).to_owned(),
                acl: (*acl).to_owned(),
                direction: (*dir).to_owned(),
            }),
            _ => {}
        }
    }
    // A route names its interface by `nameif`; the gateway is on that interface's subnet.
    for (ifname, mut r) in routes {
        if let (Some(i), crate::route::NextHop::Ip(gw)) =
            (d.interfaces.iter().find(|i| i.nameif.as_deref() == Some(ifname.as_str())), &r.next_hop)
        {
            r.next_hop = crate::route::NextHop::Interface { name: i.name.clone(), ip: Some(*gw) };
        }
        d.routes.push(r);
    }
    // An object carrying its own NAT rule is in use even if no access list names it.
    for o in &mut d.object_groups {
        if net_objects.get(&o.name).is_some_and(|lines| lines.iter().any(|(_, t)| t.starts_with("nat "))) {
            o.in_use = true;
        }
    }
    let mut warnings = Vec::new();
    let mut objects = Objects {
        networks: HashMap::new(),
        services: HashMap::new(),
        protocols: resolve(&proto_groups, &mut warnings, &|_, w: &[&str]| match w {
            ["protocol-object", p] => Ok(vec![asa_protocol(p)?]),
            _ => Err("expected `protocol-object PROTOCOL`".into()),
        }),
        icmp: resolve(&icmp_groups, &mut warnings, &|_, w: &[&str]| match w {
            ["icmp-object", t] => Ok(vec![icmp(t)?]),
            _ => Err("expected `icmp-object TYPE`".into()),
        }),
        interfaces: d
            .interfaces
            .iter()
            .filter_map(|i| {
                let addr = i.addresses.first()?.split('/').next()?.parse::<Ipv4Addr>().ok()?;
                Some((i.nameif.clone()?, AddrMatch::host(u32::from(addr))))
            })
            .collect(),
    };
    // Objects first (groups refer to them), each object's lines read as one value.
    let net_object_values = resolve(&net_objects, &mut warnings, &|_, w: &[&str]| network_object(w));
    objects.networks.extend(net_object_values.into_iter().map(|(k, v)| (k, AddrMatch::AnyOf(v))));
    let svc_object_values = resolve(&svc_objects, &mut warnings, &|_, w: &[&str]| match w {
        ["service", proto, rest @ ..] => service(proto, rest),
        _ => Err("expected `service PROTOCOL …`".into()),
    });
    objects.services.extend(svc_object_values);
    let networks = objects.networks.clone();
    let net_group_values = resolve(&net_groups, &mut warnings, &|_, w: &[&str]| match w {
        ["network-object", "object", o] => {
            networks.get(*o).cloned().map(|m| vec![m]).ok_or_else(|| format!("object `{o}` is not defined"))
        }
        ["network-object", rest @ ..] => address_words(rest),
        _ => Err("expected `network-object …` or `group-object NAME`".into()),
    });
    objects.networks.extend(net_group_values.into_iter().map(|(k, v)| (k, AddrMatch::AnyOf(v))));
    let services = objects.services.clone();
    let svc_group_values = resolve(&svc_groups, &mut warnings, &|group: &str, w: &[&str]| match w {
        ["service-object", "object", o] => services
            .get(*o)
            .cloned()
            .or_else(|| builtin_service(o).map(|s| vec![s]))
            .ok_or_else(|| format!("service object `{o}` is not defined")),
        ["service-object", proto, rest @ ..] => service(proto, rest),
        ["port-object", rest @ ..] => {
            // A typed group's bare ports; an untyped group's are read as TCP and UDP.
            let kind = typed.get(group).map_or("tcp-udp", String::as_str);
            let mut at = 0;
            let dport = ports(rest, &mut at)?;
            if at != rest.len() || at == 0 {
                return Err("expected `port-object eq|range …`".into());
            }
            let protos = match kind {
                "tcp" => vec![Some(6)],
                "udp" => vec![Some(17)],
                _ => vec![Some(6), Some(17)],
            };
            Ok(protos.into_iter().map(|p| Service { dport: dport.clone(), ..Service::of(p) }).collect())
        }
        _ => Err("expected `service-object …`, `port-object …` or `group-object NAME`".into()),
    });
    objects.services.extend(svc_group_values);
    d.warnings.extend(warnings);

    nat_rules(&mut d, &net_objects, &twice, &objects);

    for (n, name, rest) in entries {
        let w: Vec<&str> = rest.iter().map(String::as_str).collect();
        let text = format!("access-list {name} {}", w.join(" "));
        let idx = match d.acls.iter().position(|a| a.name == name) {
            Some(i) => i,
            None => {
                d.acls.push(Acl { name: name.clone(), line: n, family: Family::Any, rules: Vec::new() });
                d.acls.len() - 1
            }
        };
        match entry(&w, &objects) {
            Ok(Parsed::Rules(rules, undefined)) => {
                for u in undefined {
                    d.warnings.push(warn(n, &text, &format!("`{u}` is not defined; the entry matches nothing")));
                }
                d.acls[idx].rules.extend(rules.into_iter().map(|r| Rule { line: n, text: text.clone(), ..r }));
            }
            Ok(Parsed::Skip(None)) => {}
            Ok(Parsed::Skip(Some(why))) => d.warnings.push(warn(n, &text, &why)),
            Err(why) => {
                d.warnings.push(warn(n, &text, &format!("{why}; the entry is left out of `{name}`")));
                d.mark_partial(&name);
            }
        }
    }
    d.warn_undefined_bindings(|b| {
        (
            format!("access-group {} {} interface {}", b.acl, b.direction, b.interface),
            format!("access list `{}` is not defined on this device", b.acl),
        )
    });
    d
}

fn interface_line(i: &mut Interface, w: &[&str]) {
    match w {
        ["nameif", name] => i.nameif = Some((*name).to_owned()),
        ["security-level", level] => i.security_level = level.parse().ok(),
        ["ip", "address", addr, mask, ..] => {
            if let (Ok(a), Ok(m)) = (addr.parse::<Ipv4Addr>(), mask.parse::<Ipv4Addr>()) {
                i.addresses.push(format!("{a}/{}", u32::from(m).count_ones()));
            }
        }
        ["shutdown"] => i.shutdown = true,
        _ => {}
    }
}

/// An `object network` line.
fn network_object(w: &[&str]) -> Result<Vec<AddrMatch>, String> {
    match w {
        ["host", a] => address_words(&["host", a]),
        ["subnet", rest @ ..] => address_words(rest),
        ["range", a, b] => {
            let (a, b) = (parse4(a)?, parse4(b)?);
            Ok(vec![AddrMatch::range(a.into(), b.into())])
        }
        ["fqdn", ..] => Err("FQDN objects are not resolved (no DNS here); the object matches nothing".into()),
        ["nat", ..] => Ok(Vec::new()),
        _ => Err("expected `host`, `subnet`, `range` or `fqdn`".into()),
    }
}

fn parse4(a: &str) -> Result<Ipv4Addr, String> {
    a.parse().map_err(|_| format!("`{a}` is not an IPv4 address"))
}

/// An address written in full (`host A`, `A MASK`, `PREFIX6/LEN`, `any`…), as in network
/// groups and objects.
fn address_words(w: &[&str]) -> Result<Vec<AddrMatch>, String> {
    let mut at = 0;
    let m = address(w, &mut at, None, &mut Vec::new())?;
    if at != w.len() {
        return Err(format!("`{}` is not understood here", w[at..].join(" ")));
    }
    Ok(vec![m])
}

/// Reads an address at `w[*at..]`. With `objects`, `object`, `object-group` and `interface`
/// references are resolved (undefined ones go to `undefined` and match nothing).
fn address(
    w: &[&str],
    at: &mut usize,
    objects: Option<&Objects>,
    undefined: &mut Vec<String>,
) -> Result<AddrMatch, String> {
    let word = *w.get(*at).ok_or("an address is missing")?;
    *at += 1;
    let mut named = |kind: &str, map: Option<&HashMap<String, AddrMatch>>| -> Result<AddrMatch, String> {
        let name = *w.get(*at).ok_or_else(|| format!("`{kind}` needs a name"))?;
        *at += 1;
        Ok(map.and_then(|m| m.get(name)).cloned().unwrap_or_else(|| {
            undefined.push(name.to_owned());
            AddrMatch::Undefined(name.to_owned())
        }))
    };
    match word {
        "any" => Ok(AddrMatch::Any),
        "any4" => Ok(AddrMatch::Wildcard { addr: 0, wildcard: u32::MAX }),
        "any6" => Ok(AddrMatch::Prefix6 { addr: 0, len: 0 }),
        "object" | "object-group" => named(word, objects.map(|o| &o.networks)),
        "interface" => named(word, objects.map(|o| &o.interfaces)),
        "host" => {
            let a = *w.get(*at).ok_or("`host` needs an address")?;
            *at += 1;
            if let Ok(v6) = a.parse::<Ipv6Addr>() {
                return Ok(AddrMatch::Prefix6 { addr: u128::from(v6), len: 128 });
            }
            Ok(AddrMatch::host(u32::from(parse4(a)?)))
        }
        a if a.contains(':') => {
            let (p, len) = a.split_once('/').ok_or_else(|| format!("`{a}` is not an IPv6 prefix"))?;
            let p: Ipv6Addr = p.parse().map_err(|_| format!("`{a}` is not an IPv6 prefix"))?;
            let len: u8 = len.parse().ok().filter(|l| *l <= 128).ok_or_else(|| format!("`{a}` has a bad length"))?;
            let keep = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
            Ok(AddrMatch::Prefix6 { addr: u128::from(p) & keep, len })
        }
        a if a.contains('/') => prefix4(a).ok_or_else(|| format!("`{a}` is not an IPv4 prefix")),
        a => {
            let addr = parse4(a)?;
            let mask = w.get(*at).ok_or_else(|| format!("`{a}` needs a subnet mask"))?;
            let mask = parse4(mask)?;
            *at += 1;
            // A mask, not a wildcard; host bits in the address are ignored, as the ASA does.
            let wildcard = !u32::from(mask);
            Ok(AddrMatch::Wildcard { addr: u32::from(addr) & !wildcard, wildcard })
        }
    }
}

fn asa_protocol(word: &str) -> Result<Option<u8>, String> {
    match word {
        "icmp6" => Ok(Some(58)),
        "ipsec" => Ok(Some(50)),
        "nos" => Ok(Some(94)),
        "snp" => Ok(Some(109)),
        p => protocol(p, false),
    }
}

fn icmp(word: &str) -> Result<(u8, Option<u8>), String> {
    icmp_type(word)
        .or_else(|| word.parse::<u8>().ok().map(|t| (t, None)))
        .ok_or_else(|| format!("unknown ICMP type `{word}`"))
}

/// A service written out: `tcp [source OP P] [destination OP P]` (the `destination`
/// keyword optional), `icmp [TYPE [CODE]]`, or a bare protocol; `tcp-udp` is both.
fn service(proto: &str, rest: &[&str]) -> Result<Vec<Service>, String> {
    let protos = match proto {
        "tcp-udp" => vec![Some(6), Some(17)],
        p => vec![asa_protocol(p)?],
    };
    let mut s = Service::of(protos[0]);
    let mut at = 0;
    if matches!(protos[0], Some(6 | 17)) {
        if rest.first() == Some(&"source") {
            at = 1;
            s.sport = ports(rest, &mut at)?;
        }
        if rest.get(at) == Some(&"destination") {
            at += 1;
        }
        s.dport = ports(rest, &mut at)?;
    } else if matches!(protos[0], Some(1 | 58))
        && let Some(t) = rest.first()
    {
        let (ty, _) = icmp(t)?;
        let code = rest.get(1).and_then(|c| c.parse::<u8>().ok());
        s.icmp = Some((ty, code));
        at = 1 + usize::from(code.is_some());
    }
    if let Some(extra) = rest.get(at) {
        return Err(format!("`{extra}` is not supported in a service"));
    }
    Ok(protos.into_iter().map(|proto| Service { proto, ..s.clone() }).collect())
}

enum Parsed {
    Rules(Vec<Rule>, Vec<String>),
    /// Nothing to add; with a note when the entry is not a filter rule we read.
    Skip(Option<String>),
}

/// One `access-list NAME …` entry, after the name.
fn entry(w: &[&str], objects: &Objects) -> Result<Parsed, String> {
    let mut at = 0;
    if w.first() == Some(&"line") {
        at = 2;
    }
    let standard = match w.get(at) {
        Some(&"remark") => return Ok(Parsed::Skip(None)),
        Some(&"extended") => {
            at += 1;
            false
        }
        Some(&"standard") => {
            at += 1;
            true
        }
        Some(kind @ (&"webtype" | &"ethertype")) => {
            return Ok(Parsed::Skip(Some(format!("{kind} access lists filter no IP flows; left out"))));
        }
        _ => false,
    };
    let action = match w.get(at) {
        Some(&"permit") => Action::Permit,
        Some(&"deny") => Action::Deny,
        Some(other) => return Err(format!("expected permit or deny, found `{other}`")),
        None => return Err("an empty entry".into()),
    };
    at += 1;
    let mut undefined = Vec::new();
    if standard {
        // Standard ASA lists (route maps, split tunnels) match the destination.
        let dst = address(w, &mut at, Some(objects), &mut undefined)?;
        return Ok(Parsed::Rules(vec![Rule { dst, ..Rule::any(action, 0) }], undefined));
    }
    // What the entry carries: a protocol, or services from an object or group.
    let word = *w.get(at).ok_or("the protocol is missing")?;
    at += 1;
    let mut services: Vec<Service> = match word {
        "object" | "object-group" => {
            let name = *w.get(at).ok_or_else(|| format!("`{word}` needs a name"))?;
            at += 1;
            if let Some(s) = objects.services.get(name) {
                s.clone()
            } else if let Some(p) = objects.protocols.get(name) {
                p.iter().map(|&p| Service::of(p)).collect()
            } else if let Some(builtin) = builtin_service(name) {
                vec![builtin]
            } else {
                // Kept as a rule that matches nothing, so the analyses report the reference.
                undefined.push(name.to_owned());
                return Ok(Parsed::Rules(
                    vec![Rule { src: AddrMatch::Undefined(name.to_owned()), ..Rule::any(action, 0) }],
                    undefined,
                ));
            }
        }
        p => vec![Service::of(asa_protocol(p)?)],
    };
    let plain = !matches!(word, "object" | "object-group");
    let src = address(w, &mut at, Some(objects), &mut undefined)?;
    let ported = plain && matches!(services.first().and_then(|s| s.proto), Some(6 | 17));
    let side_ports = |at: &mut usize| -> Result<Option<PortMatch>, String> {
        if !ported {
            return Ok(None);
        }
        // `object-group G` here is a port group when G is a service group, else the next address.
        if w.get(*at) == Some(&"object-group")
            && let Some(g) = w.get(*at + 1).and_then(|g| objects.services.get(*g))
        {
            *at += 2;
            return Ok(Some(PortMatch(g.iter().flat_map(|s| s.dport.0.clone()).collect())));
        }
        let before = *at;
        let p = ports(w, at)?;
        Ok((*at != before).then_some(p))
    };
    let sport = side_ports(&mut at)?;
    let dst = address(w, &mut at, Some(objects), &mut undefined)?;
    let dport = side_ports(&mut at)?;
    for s in &mut services {
        if let Some(p) = &sport {
            s.sport = p.clone();
        }
        if let Some(p) = &dport {
            s.dport = p.clone();
        }
    }
    // An ICMP type (or icmp-type group) after the addresses.
    let is_icmp = plain && matches!(services.first().and_then(|s| s.proto), Some(1 | 58));
    if is_icmp && let Some(word) = w.get(at).copied() {
        if word == "object-group"
            && let Some(types) = w.get(at + 1).and_then(|g| objects.icmp.get(*g))
        {
            let base = services[0].clone();
            services = types.iter().map(|&t| Service { icmp: Some(t), ..base.clone() }).collect();
            at += 2;
        } else if let Ok(t) = icmp(word) {
            let code = w.get(at + 1).and_then(|c| c.parse::<u8>().ok());
            services[0].icmp = Some((t.0, code.or(t.1)));
            at += 1 + usize::from(code.is_some());
        }
    }
    let mut log = false;
    while let Some(word) = w.get(at) {
        match *word {
            "log" => {
                log = true;
                // `log [level] [interval N] [disable|default]`
                at += 1;
                while let Some(x) = w.get(at) {
                    if x.parse::<u32>().is_ok()
                        || matches!(*x, "interval" | "disable" | "default" | "emergencies" | "alerts" | "critical")
                        || matches!(*x, "errors" | "warnings" | "notifications" | "informational" | "debugging")
                    {
                        at += 1;
                    } else {
                        break;
                    }
                }
                continue;
            }
            "inactive" => return Ok(Parsed::Skip(Some("inactive: the ASA skips this entry".into()))),
            "time-range" => {
                return Err("time-ranges are not evaluated yet (the entry matches only at some times)".into());
            }
            other => return Err(format!("`{other}` is not supported here")),
        }
    }
    let base = Rule { src, dst, log, ..Rule::any(action, 0) };
    let rules = services.iter().map(|s| s.narrow(&base)).collect();
    Ok(Parsed::Rules(rules, undefined))
}

/// ASA's built-in service objects: `icmp-TYPE` and the protocol names.
fn builtin_service(name: &str) -> Option<Service> {
    if let Some(t) = name.strip_prefix("icmp-") {
        return Some(Service { icmp: Some(icmp(t).ok()?), ..Service::of(Some(1)) });
    }
    asa_protocol(name).ok().map(Service::of)
}

/// ASA NAT in its three sections: twice NAT (manual, before object NAT), object NAT (static
/// before dynamic), then twice NAT written `after-auto`. Interfaces are named by `nameif`.
fn nat_rules(d: &mut Device, net_objects: &Lines, twice: &[(usize, Vec<String>)], objects: &Objects) {
    use crate::nat::{Address, NatRule, Translation};
    use crate::zone::Labels;
    let side = |s: &str| if s == "any" { Labels::Any } else { Labels::Only(vec![s.to_owned()]) };
    let ifaces = |w: &str| -> Option<(Labels, Labels)> {
        let (real, mapped) = w.strip_prefix('(')?.strip_suffix(')')?.split_once(',')?;
        Some((side(real), side(mapped)))
    };
    // A mapped address: `interface`, a literal, or an object.
    let mapped = |m: &str, to: &Labels| -> Option<Address> {
        if m == "interface" {
            let Labels::Only(names) = to else { return None };
            let i = d.interfaces.iter().find(|i| i.nameif.as_deref() == Some(names[0].as_str()))?;
            return Some(Address::Interface(i.name.clone()));
        }
        let value = match m.parse::<Ipv4Addr>() {
            Ok(ip) => AddrMatch::host(u32::from(ip)),
            Err(_) => objects.networks.get(m)?.clone(),
        };
        let (lo, hi) = ranges(&value)?;
        Some(Address::Range { lo, hi })
    };
    let real = |o: &str| if o == "any" { Some(AddrMatch::Any) } else { objects.networks.get(o).cloned() };
    let mut manual = Vec::new();
    let mut after = Vec::new();
    for (n, w) in twice {
        let w: Vec<&str> = w.iter().map(String::as_str).collect();
        let Some((from, to)) = w.first().and_then(|f| ifaces(f)) else {
            d.warnings.push(warn(*n, &format!("nat {}", w.join(" ")), "expected `nat (REAL-IF,MAPPED-IF) source …`"));
            continue;
        };
        let after_auto = w.contains(&"after-auto");
        let at = |k: &str| w.iter().position(|x| *x == k);
        let Some(s) = at("source") else { continue };
        let (kind, src_real, src_mapped) = match (w.get(s + 1), w.get(s + 2), w.get(s + 3)) {
            (Some(kind), Some(r), Some(m)) => (*kind, *r, *m),
            _ => continue,
        };
        let Some(src) = real(src_real) else {
            d.warnings.push(warn(
                *n,
                &format!("nat {}", w.join(" ")),
                &format!("object `{src_real}` is not defined; left out"),
            ));
            continue;
        };
        let mut rule = Rule { src, ..Rule::any(crate::acl::Action::Permit, *n) };
        let mut destination = None;
        if let Some(dpos) = at("destination")
            && let (Some(dm), Some(dr)) = (w.get(dpos + 2), w.get(dpos + 3))
        {
            // `destination static MAPPED REAL`: packets to MAPPED go to REAL.
            rule.dst = real(dm).unwrap_or(AddrMatch::Undefined((*dm).to_owned()));
            destination = Some(Translation { address: mapped(dr, &to), port: None });
        }
        let source = (src_mapped != src_real).then(|| Translation { address: mapped(src_mapped, &to), port: None });
        let r = NatRule {
            name: format!("nat {}", w.join(" ")),
            line: *n,
            from,
            to,
            matches: vec![rule],
            source,
            destination,
            bidirectional: kind == "static",
            first_match: false,
            disabled: w.contains(&"inactive"),
        };
        if after_auto { after.push(r) } else { manual.push(r) }
    }
    let mut static_auto = Vec::new();
    let mut dynamic_auto = Vec::new();
    for (name, lines) in net_objects {
        for (n, t) in lines.iter().filter(|(_, t)| t.starts_with("nat ")) {
            let w: Vec<&str> = t.split_whitespace().collect();
            let (Some((from, to)), Some(kind), Some(m)) = (w.get(1).and_then(|f| ifaces(f)), w.get(2), w.get(3)) else {
                d.warnings.push(warn(*n, t, "expected `nat (REAL-IF,MAPPED-IF) static|dynamic MAPPED`"));
                continue;
            };
            let Some(src) = objects.networks.get(name).cloned() else { continue };
            let mut rule = Rule { src, ..Rule::any(crate::acl::Action::Permit, *n) };
            let mut port = None;
            // `service tcp REAL-PORT MAPPED-PORT`: a port forward.
            if let Some(sp) = w.iter().position(|x| *x == "service")
                && let (Some(p), Some(rp), Some(mp)) = (w.get(sp + 1), w.get(sp + 2), w.get(sp + 3))
                && let (Ok(proto), Ok(rp), Ok(mp)) = (protocol(p, false), port_number(rp), port_number(mp))
            {
                rule.proto = proto;
                rule.sport = crate::acl::PortMatch(vec![(rp, rp)]);
                port = Some(mp);
            }
            let address = match *m {
                "pat-pool" => w.get(4).and_then(|p| mapped(p, &to)),
                m => mapped(m, &to),
            };
            let r = NatRule {
                name: format!("object {name}"),
                line: *n,
                from,
                to,
                matches: vec![rule],
                source: Some(Translation { address, port }),
                destination: None,
                bidirectional: *kind == "static",
                first_match: false,
                disabled: false,
            };
            if *kind == "static" { static_auto.push(r) } else { dynamic_auto.push(r) }
        }
    }
    // Object NAT: most specific real address first within each kind, then by line.
    let width = |r: &NatRule| r.matches.first().and_then(|m| ranges(&m.src)).map(|(lo, hi)| span(lo, hi));
    static_auto.sort_by_key(|r| (width(r), r.line));
    dynamic_auto.sort_by_key(|r| (width(r), r.line));
    d.nat = manual.into_iter().chain(static_auto).chain(dynamic_auto).chain(after).collect();
}

fn port_number(p: &str) -> Result<u16, String> {
    crate::ios::port(p)
}

/// The addresses of a prefix (or an object that is one), first to last.
fn ranges(m: &AddrMatch) -> Option<(std::net::IpAddr, std::net::IpAddr)> {
    match m {
        AddrMatch::Wildcard { addr, wildcard } => Some(((addr & !wildcard).into(), (addr | wildcard).into()))
            .map(|(a, b): (Ipv4Addr, Ipv4Addr)| (a.into(), b.into())),
        AddrMatch::AnyOf(all) if !all.is_empty() => Some((ranges(all.first()?)?.0, ranges(all.last()?)?.1)),
        _ => None,
    }
}

fn span(lo: std::net::IpAddr, hi: std::net::IpAddr) -> u128 {
    match (lo, hi) {
        (std::net::IpAddr::V4(a), std::net::IpAddr::V4(b)) => u128::from(u32::from(b).saturating_sub(u32::from(a))),
        _ => u128::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::Flow;
    use crate::arbitrary::flow;

    const CONFIG: &str = "\
ASA Version 9.9
hostname fw1
interface GigabitEthernet0/0
 nameif outside
 security-level 0
 ip address 203.0.113.1 255.255.255.0
interface GigabitEthernet0/1
 nameif inside
 security-level 100
 ip address 10.0.0.1 255.255.255.0
object network WEB
 host 10.0.0.10
object network POOL
 range 10.0.1.10 10.0.1.20
object-group network ADMINS
 network-object host 192.0.2.5
 network-object 198.51.100.0 255.255.255.0
 network-object object WEB
object-group service WEBPORTS tcp
 port-object eq www
 port-object eq https
object-group service MIXED
 service-object udp destination eq domain
 service-object icmp echo
access-list OUTSIDE_IN extended permit tcp any object WEB object-group WEBPORTS
access-list OUTSIDE_IN extended permit tcp object-group ADMINS object-group ADMINS eq ssh
access-list OUTSIDE_IN extended permit object-group MIXED any object POOL
access-list OUTSIDE_IN extended deny ip any4 10.0.0.0 255.0.0.0 log
access-list OUTSIDE_IN extended permit tcp any host 10.9.9.9 eq 8080 inactive
access-list OUTSIDE_IN extended permit ip any any
access-group OUTSIDE_IN in interface outside
";

    #[test]
    fn reads_objects_groups_interfaces_and_bindings() {
        let d = parse(CONFIG);
        assert!(d.warnings.iter().all(|w| w.message.contains("inactive")), "{:?}", d.warnings);
        let acl = d.acl("OUTSIDE_IN").unwrap();
        // Two web ports are one rule (a port group); MIXED expands to two services.
        assert_eq!(acl.rules.len(), 6);
        assert_eq!(d.interfaces[0].nameif.as_deref(), Some("outside"));
        assert_eq!(d.interfaces[1].security_level, Some(100));
        assert_eq!(d.bindings[0].interface, "outside");
    }

    #[test]
    fn decisions_follow_asa_semantics() {
        let d = parse(CONFIG);
        let acl = d.acl("OUTSIDE_IN").unwrap();
        let rule = |f: Flow| acl.decide(&f).rule.map(|i| acl.rules[i].line);
        assert_eq!(rule(flow("198.18.0.1", "10.0.0.10", 6, 443)), Some(25));
        assert_eq!(rule(flow("198.51.100.7", "10.0.0.10", 6, 22)), Some(26));
        assert_eq!(rule(flow("198.18.0.1", "10.0.1.15", 17, 53)), Some(27));
        assert_eq!(rule(flow("198.18.0.1", "10.0.1.21", 17, 53)), Some(28), "outside the range: the deny of 10/8");
        // The mask is a mask: 10.0.0.0/8 is denied, not a wildcard's odd set.
        assert_eq!(acl.decide(&flow("198.18.0.1", "10.200.0.1", 6, 8080)).action, Action::Deny);
        // `any` is IPv6 too on ASA 9.
        assert_eq!(acl.decide(&flow("2001:db8::1", "2001:db8::2", 6, 80)).action, Action::Permit);
    }

    #[test]
    fn objects_no_line_names_are_unused() {
        let text = format!(
            "{CONFIG}object network SPARE\n host 10.9.9.9\nobject network NATTED\n host 10.9.9.8\n nat (inside,outside) static 203.0.113.8\n"
        );
        let d = parse(&text);
        let unused: Vec<&str> = d.unused_objects(&crate::pack::lines(&text)).iter().map(|o| o.name.as_str()).collect();
        // Every group CONFIG defines is named by an entry; SPARE by nothing; NATTED carries NAT.
        assert_eq!(unused, vec!["SPARE"]);
    }

    #[test]
    fn nat_sections_in_asa_order() {
        let text = "ASA Version 9.8(1)
interface GigabitEthernet0/0
 nameif outside
 ip address 198.51.100.2 255.255.255.0
interface GigabitEthernet0/1
 nameif inside
 ip address 10.1.1.1 255.255.255.0
object network LAN
 subnet 10.1.1.0 255.255.255.0
 nat (inside,outside) dynamic interface
object network WEB
 host 10.1.1.10
 nat (inside,outside) static 198.51.100.10 service tcp 443 8443
object network VPN
 subnet 172.16.0.0 255.255.0.0
nat (inside,outside) after-auto source dynamic any interface
nat (inside,outside) source static LAN LAN destination static VPN VPN
";
        let d = parse(text);
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        let names: Vec<&str> = d.nat.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "nat (inside,outside) source static LAN LAN destination static VPN VPN",
                "object WEB",
                "object LAN",
                "nat (inside,outside) after-auto source dynamic any interface",
            ]
        );
        // Identity NAT rewrites nothing; the port forward maps 443 to 8443 both ways.
        assert!(d.nat[0].source.is_none());
        let web = d.nat[1].reverse().unwrap();
        let flow = crate::acl::Flow {
            src: "203.0.113.5".parse().unwrap(),
            dst: "198.51.100.10".parse().unwrap(),
            proto: 6,
            sport: 40000,
            dport: 8443,
            icmp: None,
            established: false,
            fragment: false,
        };
        assert!(web.matches.iter().any(|m| m.matches(&flow)));
        let real = web.translate(&flow, |_| None);
        assert_eq!((real.dst.to_string(), real.dport), ("10.1.1.10".to_owned(), 443));
    }
}
