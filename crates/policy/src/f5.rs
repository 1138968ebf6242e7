//! F5 BIG-IP `tmsh` configurations (`bigip.conf`, `show running-config`): the filters that
//! decide what the box does with a flow.
//!
//! Virtual servers become one filter, `virtual-servers`, whose rules are the enabled
//! virtuals in BIG-IP's precedence order — most specific destination first, then most
//! specific source, then a named port before the wildcard, then a named protocol before
//! any — so that first match is the virtual the BIG-IP picks; a flow no virtual takes is
//! not forwarded. Each rule names its pool and members (where the flow goes, translated).
//! AFM network firewall policies (`security firewall policy`, `rule-list`) become filters
//! of their own, rule by rule. Virtual addresses, self IPs and VLANs are interfaces.

use crate::acl::{Acl, Action, AddrMatch, Family, PortMatch, Rule};
use crate::device::{Binding, Device, Interface, Warning};
use crate::junos::words;
use crate::nat::{Address, NatRule, Translation};
use crate::zone::Labels;
use std::net::IpAddr;

/// One statement: the words of the enclosing blocks and its own, and its line.
struct Statement {
    line: usize,
    words: Vec<String>,
}

/// The statements of a tmsh configuration: each line inside blocks, prefixed with the
/// blocks' own words. iRule bodies (`ltm rule`) and multi-line strings are skipped.
fn statements(text: &str) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut stack: Vec<Vec<String>> = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, raw)) = lines.next() {
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        // A string that goes on past this line (an HTTP monitor's `send`): skip to its end.
        if t.matches('"').count() % 2 == 1 {
            for (_, more) in lines.by_ref() {
                if more.matches('"').count() % 2 == 1 {
                    break;
                }
            }
            continue;
        }
        if t == "}" {
            stack.pop();
            continue;
        }
        let prefix: Vec<String> = stack.iter().flatten().cloned().collect();
        if let Some(head) = t.strip_suffix('{') {
            let head = words(head);
            // An iRule is Tcl: its braces are not configuration blocks.
            if prefix.is_empty() && head.first().is_some_and(|w| w == "ltm") && head.get(1).is_some_and(|w| w == "rule")
            {
                let mut depth = 1i64;
                for (_, body) in lines.by_ref() {
                    depth += body.matches('{').count() as i64 - body.matches('}').count() as i64;
                    if depth <= 0 {
                        break;
                    }
                }
                continue;
            }
            // Deeper than any tmsh configuration goes: the block's words are not kept.
            if stack.len() >= crate::junos::MAX_DEPTH {
                stack.push(Vec::new());
                continue;
            }
            let mut all = prefix;
            all.extend(head.iter().cloned());
            out.push(Statement { line: i + 1, words: all });
            stack.push(head);
            continue;
        }
        // `name { }` or `key { a b }` on one line: the words without the braces.
        let mut all = prefix;
        all.extend(words(t).into_iter().filter(|w| w != "{" && w != "}"));
        out.push(Statement { line: i + 1, words: all });
    }
    out
}

/// The configuration's statements as words, with their lines: what the hardening checks read.
pub fn lines(text: &str) -> Vec<(usize, Vec<String>)> {
    statements(text).into_iter().map(|s| (s.line, s.words)).collect()
}

/// A virtual server as its statements build it.
#[derive(Default)]
struct Virtual {
    name: String,
    line: usize,
    destination: Option<String>,
    mask: Option<String>,
    source: Option<String>,
    protocol: Option<String>,
    pool: Option<String>,
    disabled: bool,
    vlans: Vec<String>,
    snat: Option<String>,
    firewall: Option<String>,
}

/// An AFM rule as its statements build it.
#[derive(Default)]
struct FwRule {
    name: String,
    line: usize,
    action: Option<Action>,
    protocol: Option<String>,
    src: Vec<String>,
    dst: Vec<String>,
    sports: Vec<String>,
    dports: Vec<String>,
    disabled: bool,
    log: bool,
}

pub fn parse(text: &str) -> Device {
    let mut d = Device::default();
    let mut virtuals: Vec<Virtual> = Vec::new();
    let mut pools: Vec<(String, Vec<String>)> = Vec::new();
    let mut net_routes: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    let mut snatpools: Vec<(String, Vec<IpAddr>)> = Vec::new();
    // AFM policies and rule lists, in file order, with their rules.
    let mut firewalls: Vec<(String, usize, Vec<FwRule>)> = Vec::new();
    for s in statements(text) {
        let w: Vec<&str> = s.words.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["sys", "global-settings", "hostname", h] => d.hostname = Some((*h).to_owned()),
            ["ltm", "virtual", name, rest @ ..] => {
                let at = match virtuals.iter().position(|v| v.name == *name) {
                    Some(at) => at,
                    None => {
                        virtuals.push(Virtual { name: (*name).to_owned(), line: s.line, ..Virtual::default() });
                        virtuals.len() - 1
                    }
                };
                let v = &mut virtuals[at];
                match rest {
                    ["destination", dst] => v.destination = Some((*dst).to_owned()),
                    ["mask", m] => v.mask = Some((*m).to_owned()),
                    ["source", src] => v.source = Some((*src).to_owned()),
                    ["ip-protocol", p] => v.protocol = Some((*p).to_owned()),
                    ["pool", p] => v.pool = Some((*p).to_owned()),
                    ["disabled"] => v.disabled = true,
                    ["vlans", vlan] => v.vlans.push((*vlan).to_owned()),
                    ["source-address-translation", "type", t] => {
                        v.snat.get_or_insert_with(|| (*t).to_owned());
                    }
                    ["source-address-translation", "pool", p] => v.snat = Some(format!("snat pool {p}")),
                    ["fw-enforced-policy", p] => v.firewall = Some((*p).to_owned()),
                    _ => {}
                }
            }
            ["ltm", "pool", name, "members", member, rest @ ..] => {
                let at = match pools.iter().position(|p| p.0 == *name) {
                    Some(at) => at,
                    None => {
                        pools.push(((*name).to_owned(), Vec::new()));
                        pools.len() - 1
                    }
                };
                // `/Common/node1:80 { address 10.0.0.1 }`: the address and the member's port.
                let port = member.rsplit_once([':', '.']).map_or("", |(_, p)| p);
                if let ["address", a] = rest {
                    pools[at].1.push(format!("{a}:{port}"));
                }
            }
            ["ltm", "snatpool", name, "members", member] => {
                let ip = member.rsplit('/').next().and_then(|m| m.parse::<IpAddr>().ok());
                match (snatpools.iter_mut().find(|p| p.0 == *name), ip) {
                    (Some(p), Some(ip)) => p.1.push(ip),
                    (None, Some(ip)) => snatpools.push(((*name).to_owned(), vec![ip])),
                    _ => {}
                }
            }
            ["ltm", "virtual-address", name, "address", a] => {
                let _ = name;
                d.interfaces.push(Interface {
                    line: s.line,
                    name: format!("virtual-address {a}"),
                    addresses: vec![(*a).to_owned()],
                    ..Interface::default()
                });
            }
            ["net", "route", name, rest @ ..] => {
                let at = match net_routes.iter().position(|r: &(String, Option<String>, Option<String>)| r.0 == *name) {
                    Some(at) => at,
                    None => {
                        net_routes.push(((*name).to_owned(), None, None));
                        net_routes.len() - 1
                    }
                };
                match rest {
                    ["gw", gw] => net_routes[at].1 = Some((*gw).to_owned()),
                    ["network", net] => net_routes[at].2 = Some((*net).to_owned()),
                    _ => {}
                }
            }
            ["net", "self", name, "address", a] => d.interfaces.push(Interface {
                line: s.line,
                name: (*name).to_owned(),
                addresses: vec![(*a).to_owned()],
                ..Interface::default()
            }),
            ["security", "firewall", "policy" | "rule-list", name, "rules", rule, rest @ ..] => {
                let at = match firewalls.iter().position(|f| f.0 == *name) {
                    Some(at) => at,
                    None => {
                        firewalls.push(((*name).to_owned(), s.line, Vec::new()));
                        firewalls.len() - 1
                    }
                };
                let rules = &mut firewalls[at].2;
                let r = match rules.iter().position(|r| r.name == *rule) {
                    Some(r) => r,
                    None => {
                        rules.push(FwRule { name: (*rule).to_owned(), line: s.line, ..FwRule::default() });
                        rules.len() - 1
                    }
                };
                let r = &mut rules[r];
                match rest {
                    ["action", a] => {
                        r.action = match *a {
                            "accept" | "accept-decisively" => Some(Action::Permit),
                            "drop" | "reject" => Some(Action::Deny),
                            _ => None,
                        }
                    }
                    ["ip-protocol", p] => r.protocol = Some((*p).to_owned()),
                    ["source", "addresses", a, ..] => r.src.push((*a).to_owned()),
                    ["destination", "addresses", a, ..] => r.dst.push((*a).to_owned()),
                    ["source", "ports", p, ..] => r.sports.push((*p).to_owned()),
                    ["destination", "ports", p, ..] => r.dports.push((*p).to_owned()),
                    ["status", "disabled"] => r.disabled = true,
                    ["log", "yes"] => r.log = true,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    virtual_servers(&virtuals, &pools, &snatpools, &mut d);
    for (_, gw, net) in net_routes {
        let (Some(gw), Some(net)) = (gw.and_then(|g| g.parse::<IpAddr>().ok()), net) else { continue };
        let net = if net == "default" { "0.0.0.0/0".to_owned() } else { net };
        if let Some((_, network, len)) = crate::route::parse_prefix(&net) {
            let next_hop = crate::route::NextHop::Ip(gw);
            d.routes.push(crate::route::Route {
                network,
                len,
                next_hop,
                protocol: "static".into(),
                admin: 1,
                metric: 0,
            });
        }
    }
    // Traffic no virtual server takes is not forwarded: the virtuals decide on every
    // interface, and a virtual's address is answered on the self IP's subnet.
    if d.acl("virtual-servers").is_some() {
        d.bindings.push(Binding {
            line: 0,
            interface: "*".into(),
            acl: "virtual-servers".into(),
            direction: "global".into(),
        });
    }
    d.nat_order = crate::nat::NatOrder::Srx;
    let selfs: Vec<(String, crate::route::Route)> = d
        .interfaces
        .iter()
        .flat_map(|i| {
            i.addresses.iter().filter_map(|a| crate::route::parse_prefix(a)).map(|(_, network, len)| {
                (
                    i.name.clone(),
                    crate::route::Route {
                        network,
                        len,
                        next_hop: crate::route::NextHop::Discard,
                        protocol: String::new(),
                        admin: 0,
                        metric: 0,
                    },
                )
            })
        })
        .collect();
    let mut proxies = Vec::new();
    for r in d.acl("virtual-servers").map(|a| a.rules.as_slice()).unwrap_or_default() {
        let ip = match r.dst {
            AddrMatch::Wildcard { addr, wildcard: 0 } => IpAddr::V4(addr.into()),
            AddrMatch::Prefix6 { addr, len: 128 } => IpAddr::V6(addr.into()),
            _ => continue,
        };
        if let Some((iface, _)) = selfs.iter().find(|(_, s)| s.contains(ip)) {
            proxies.push((iface.clone(), ip));
        }
    }
    d.proxy_arp = proxies;
    for (name, line, rules) in firewalls {
        let mut acl = Acl { name: name.clone(), line, family: Family::Any, rules: Vec::new() };
        for r in rules {
            if r.disabled {
                continue;
            }
            match fw_rule(&r) {
                Ok(rs) => acl.rules.extend(rs),
                Err(why) => {
                    d.warnings.push(Warning { line: r.line, text: format!("rule {}", r.name), message: why });
                    d.mark_partial(&name);
                }
            }
        }
        d.acls.push(acl);
    }
    for v in virtuals.iter().filter(|v| v.firewall.is_some()) {
        d.bindings.push(Binding {
            line: v.line,
            interface: v.name.clone(),
            acl: v.firewall.clone().unwrap_or_default(),
            direction: "in".into(),
        });
    }
    d.warn_undefined_bindings(|b| {
        (
            format!("ltm virtual {} fw-enforced-policy {}", b.interface, b.acl),
            format!("firewall policy `{}` is not defined", b.acl),
        )
    });
    d
}

/// `10.0.0.1`, `10.0.0.0/8`, `any`, `any6`, a range `a-b`.
fn address(a: &str) -> Option<AddrMatch> {
    let a = a.rsplit('/').next().filter(|_| a.starts_with('/')).unwrap_or(a);
    match a {
        "any" | "0.0.0.0/0" => return Some(AddrMatch::Any),
        "any6" => return Some(AddrMatch::Prefix6 { addr: 0, len: 0 }),
        _ => {}
    }
    if let Some((lo, hi)) = a.split_once('-') {
        let (lo, hi): (IpAddr, IpAddr) = (lo.parse().ok()?, hi.parse().ok()?);
        return (lo.is_ipv4() == hi.is_ipv4()).then(|| AddrMatch::range(lo, hi));
    }
    let (ip, len) = a.split_once('/').map_or((a, None), |(ip, l)| (ip, Some(l)));
    // Route domains (`10.0.0.1%2`) do not change which addresses match.
    let ip: IpAddr = ip.split('%').next()?.parse().ok()?;
    let len: Option<u32> = match len {
        Some(l) => Some(l.parse().ok()?),
        None => None,
    };
    prefix(ip, len)
}

fn prefix(ip: IpAddr, len: Option<u32>) -> Option<AddrMatch> {
    match ip {
        IpAddr::V4(v4) => {
            let len = len.unwrap_or(32);
            (len <= 32).then(|| {
                let wildcard = u32::MAX.checked_shr(len).unwrap_or(0);
                AddrMatch::Wildcard { addr: u32::from(v4) & !wildcard, wildcard }
            })
        }
        IpAddr::V6(v6) => {
            let len = len.unwrap_or(128);
            (len <= 128).then(|| {
                let host = u128::MAX.checked_shr(len).unwrap_or(0);
                AddrMatch::Prefix6 { addr: u128::from(v6) & !host, len: len as u8 }
            })
        }
    }
}

/// A mask written as an address (`255.255.255.0`) as a prefix length.
fn mask_len(m: &str) -> Option<u32> {
    let bits = match m.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
        IpAddr::V6(v6) => u128::from(v6),
    };
    let len = bits.leading_ones();
    (bits.checked_shl(len).unwrap_or(0) == 0).then_some(len)
}

fn protocol(p: &str) -> Result<Option<u8>, String> {
    Ok(match p {
        "any" => None,
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        "ipv6-icmp" | "icmpv6" => Some(58),
        "sctp" => Some(132),
        "gre" => Some(47),
        "esp" => Some(50),
        n => Some(n.parse().map_err(|_| format!("unknown protocol `{n}`"))?),
    })
}

/// A port as tmsh writes it: a number, a range, or a service name.
fn port(p: &str) -> Result<(u16, u16), String> {
    let one = |p: &str| -> Result<u16, String> {
        match p {
            "any" | "0" => Ok(0),
            "http" => Ok(80),
            "https" => Ok(443),
            "ssh" => Ok(22),
            "telnet" => Ok(23),
            "ftp" => Ok(21),
            "smtp" => Ok(25),
            "domain" => Ok(53),
            "snmp" => Ok(161),
            n => n.parse().map_err(|_| format!("unknown port `{n}`")),
        }
    };
    match p.split_once('-') {
        Some((a, b)) => Ok((one(a)?, one(b)?)),
        None => one(p).map(|p| (p, p)),
    }
}

/// The virtual servers as one filter in precedence order.
/// Where a virtual's source translation takes addresses from.
enum Snat {
    /// The self IP of the egress VLAN.
    Automap,
    Pool(Vec<IpAddr>),
}

fn virtual_servers(
    virtuals: &[Virtual],
    pools: &[(String, Vec<String>)],
    snatpools: &[(String, Vec<IpAddr>)],
    d: &mut Device,
) {
    if virtuals.is_empty() {
        return;
    }
    // (destination length, source length, port named, protocol named, rule)
    #[allow(clippy::type_complexity)]
    let mut ranked: Vec<(u32, u32, bool, bool, Rule, Option<String>, Option<Snat>)> = Vec::new();
    for v in virtuals {
        let warn = |d: &mut Device, message: String| {
            d.warnings.push(Warning { line: v.line, text: format!("ltm virtual {}", v.name), message });
        };
        if v.disabled {
            warn(d, "disabled: it takes no traffic".into());
            continue;
        }
        let Some(dest) = &v.destination else {
            warn(d, "no destination: it takes no traffic".into());
            continue;
        };
        // `/Common/192.0.2.7:80`, `dead:beef::1.80` (IPv6 takes a dot before the port).
        let dest = dest.rsplit('/').next().unwrap_or(dest);
        let split = if dest.contains(':') && dest.matches(':').count() > 1 {
            dest.rsplit_once('.')
        } else {
            dest.rsplit_once(':')
        };
        let Some((addr, p)) = split else {
            warn(d, format!("destination `{dest}` is not ADDRESS:PORT"));
            continue;
        };
        let Ok(ip) = addr.split('%').next().unwrap_or(addr).parse::<IpAddr>() else {
            warn(d, format!("destination address `{addr}` is not an IP address"));
            continue;
        };
        let host = if ip.is_ipv4() { 32 } else { 128 };
        let len = match &v.mask {
            Some(m) if m == "any" || m == "any6" => 0,
            Some(m) => match mask_len(m) {
                Some(l) => l,
                None => {
                    warn(d, format!("mask `{m}` is not contiguous"));
                    continue;
                }
            },
            None => host,
        };
        let (dport, named_port) = match port(p) {
            Ok((0, 0)) => (PortMatch::any(), false),
            Ok(r) => (PortMatch(vec![r]), true),
            Err(why) => {
                warn(d, why);
                continue;
            }
        };
        let (src, src_len) = match v.source.as_deref().map(|s| (s, address(s))) {
            None => (AddrMatch::Any, 0),
            Some((_, Some(m))) => {
                let l =
                    v.source.as_deref().and_then(|s| s.split_once('/')).and_then(|(_, l)| l.parse().ok()).unwrap_or(0);
                (m, l)
            }
            Some((s, None)) => {
                warn(d, format!("source `{s}` is not an address or prefix"));
                continue;
            }
        };
        let proto = match protocol(v.protocol.as_deref().unwrap_or("any")) {
            Ok(p) => p,
            Err(why) => {
                warn(d, why);
                continue;
            }
        };
        let Some(dst) = prefix(ip, Some(len)) else { continue };
        if let Some(p) = &v.pool
            && !pools.iter().any(|(n, _)| n == p)
        {
            warn(d, format!("pool `{p}` is not defined (or has no members): where the flow goes is unknown"));
        }
        let to = match &v.pool {
            Some(p) => {
                let members = pools.iter().find(|(n, _)| n == p).map(|(_, m)| m.join(", ")).unwrap_or_default();
                if members.is_empty() { format!(" → pool {p}") } else { format!(" → pool {p} [{members}]") }
            }
            None => String::new(),
        };
        let snat = v.snat.as_ref().map(|s| format!(", source translated ({s})")).unwrap_or_default();
        let ported = proto.is_none_or(|p| matches!(p, 6 | 17));
        ranked.push((
            len,
            src_len,
            named_port,
            proto.is_some(),
            Rule {
                text: format!("virtual {}{to}{snat}", v.name),
                proto,
                src,
                dst,
                dport: if ported { dport } else { PortMatch::any() },
                ..Rule::any(Action::Permit, v.line)
            },
            v.pool.clone(),
            match v.snat.as_deref() {
                Some("automap") => Some(Snat::Automap),
                Some(p) if p.starts_with("snat pool ") => {
                    let name = &p["snat pool ".len()..];
                    snatpools.iter().find(|(n, _)| n == name).map(|(_, m)| Snat::Pool(m.clone()))
                }
                _ => None,
            },
        ));
    }
    // Most specific first; the sort is stable, so equals keep file order.
    ranked.sort_by_key(|r| std::cmp::Reverse((r.0, r.1, r.2, r.3)));
    // Each virtual sends what it takes to its pool (the first member here) and, with source
    // translation, from the self IP it leaves by or its SNAT pool.
    for (_, _, _, _, rule, pool, snat) in &ranked {
        let member = pool.as_ref().and_then(|p| pools.iter().find(|(n, _)| n == p)).and_then(|(_, m)| m.first());
        let destination = member.and_then(|m| {
            let (a, p) = m.rsplit_once(':')?;
            let ip: IpAddr = a.parse().ok()?;
            Some(Translation {
                address: Some(Address::Range { lo: ip, hi: ip }),
                port: p.parse().ok().filter(|&p| p != 0),
            })
        });
        let source = snat.as_ref().map(|s| match s {
            Snat::Automap => Translation { address: Some(Address::Interface(String::new())), port: None },
            Snat::Pool(members) => {
                Translation { address: members.first().map(|&ip| Address::Range { lo: ip, hi: ip }), port: None }
            }
        });
        if destination.is_none() && source.is_none() {
            continue;
        }
        d.nat.push(NatRule {
            name: rule.text.split(" →").next().unwrap_or(&rule.text).to_owned(),
            line: rule.line,
            from: Labels::Any,
            to: Labels::Any,
            matches: vec![rule.clone()],
            source,
            destination,
            bidirectional: false,
            first_match: false,
            disabled: false,
        });
    }
    d.acls.push(Acl {
        name: "virtual-servers".into(),
        line: virtuals[0].line,
        family: Family::Any,
        rules: ranked.into_iter().map(|r| r.4).collect(),
    });
}

fn fw_rule(r: &FwRule) -> Result<Vec<Rule>, String> {
    let action = r.action.ok_or("no `action accept|accept-decisively|drop|reject`; left out")?;
    let proto = protocol(r.protocol.as_deref().unwrap_or("any"))?;
    let side = |list: &[String]| -> Result<AddrMatch, String> {
        if list.is_empty() {
            return Ok(AddrMatch::Any);
        }
        let all: Option<Vec<AddrMatch>> = list.iter().map(|a| address(a)).collect();
        all.map(AddrMatch::AnyOf).ok_or_else(|| format!("an address in `{}` is not understood", list.join(" ")))
    };
    let ports = |list: &[String]| -> Result<PortMatch, String> {
        if list.is_empty() {
            return Ok(PortMatch::any());
        }
        Ok(PortMatch(list.iter().map(|p| port(p)).collect::<Result<_, _>>()?))
    };
    Ok(vec![Rule {
        text: format!("rule {}", r.name),
        proto,
        src: side(&r.src)?,
        dst: side(&r.dst)?,
        sport: ports(&r.sports)?,
        dport: ports(&r.dports)?,
        log: r.log,
        ..Rule::any(action, r.line)
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::Flow;

    fn flow(dst: &str, dport: u16) -> Flow {
        crate::arbitrary::flow("198.51.100.7", dst, 6, dport)
    }

    const CONF: &str = "#TMSH-VERSION: 13.1.1
sys global-settings {
  hostname lb1
}
ltm pool /Common/web {
    members {
        /Common/n1:8080 {
            address 10.0.0.1
        }
        /Common/n2:8080 {
            address 10.0.0.2
        }
    }
}
ltm rule /Common/irule {
when HTTP_REQUEST {
  if { [HTTP::host] eq \"x\" } { pool /Common/web }
}
}
ltm virtual /Common/wide {
    destination /Common/192.0.2.0:any
    mask 255.255.255.0
    ip-protocol tcp
}
ltm virtual /Common/web443 {
    destination /Common/192.0.2.10:443
    ip-protocol tcp
    pool /Common/web
    source-address-translation {
        type automap
    }
}
ltm virtual /Common/v6 {
    destination dead:beef::1.80
    pool /Common/web
}
ltm virtual /Common/off {
    destination /Common/192.0.2.11:22
    disabled
}
ltm monitor http /Common/m {
    send \"GET / HTTP/1.1
Host: x
\"
}
security firewall policy /Common/afm {
    rules {
        allow-web {
            action accept
            ip-protocol tcp
            destination {
                ports {
                    443 { }
                }
            }
        }
        block {
            action drop
        }
    }
}
";

    #[test]
    fn the_most_specific_virtual_takes_the_flow() {
        let d = parse(CONF);
        assert_eq!(d.hostname.as_deref(), Some("lb1"));
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
        let vs = d.acl("virtual-servers").unwrap();
        let by = |f: &Flow| vs.decide(f).rule.map(|i| vs.rules[i].text.clone());
        // The host virtual on 443 before the /24 wildcard-port one written before it.
        let web = by(&flow("192.0.2.10", 443)).unwrap();
        assert!(web.starts_with("virtual /Common/web443 → pool /Common/web [10.0.0.1:8080, 10.0.0.2:8080]"), "{web}");
        assert!(web.contains("automap"), "{web}");
        assert_eq!(by(&flow("192.0.2.10", 80)).as_deref(), Some("virtual /Common/wide"));
        // The disabled virtual takes nothing; outside every virtual, nothing is forwarded.
        assert_eq!(by(&flow("192.0.2.11", 22)).as_deref(), Some("virtual /Common/wide"));
        assert_eq!(vs.decide(&flow("203.0.113.1", 443)).action, Action::Deny);
        assert!(by(&flow("dead:beef::1", 80)).is_some_and(|t| t.starts_with("virtual /Common/v6")));
        let afm = d.acl("/Common/afm").unwrap();
        assert_eq!(afm.rules.len(), 2);
        assert_eq!(afm.decide(&flow("192.0.2.10", 443)).action, Action::Permit);
        assert_eq!(afm.decide(&flow("192.0.2.10", 80)).action, Action::Deny);
    }
}
