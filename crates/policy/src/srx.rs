//! Junos SRX security policies into a [`ZonePolicy`]: zone-pair policies in order, then
//! global policies, then the default policy (deny-all unless `permit-all`), as the SRX
//! evaluates them. Addresses resolve in the zone's own address book (and books attached to
//! it), then the global one; applications are custom `applications` (terms and sets) or the
//! predefined `junos-*` ones.
//!
//! Reads the statements [`crate::junos`] flattens from either form. NAT is not read yet;
//! policies see translated destinations on an SRX, so a destination-NATed flow must be asked
//! with its translated address.

use crate::acl::{Action, AddrMatch, PortMatch, Rule};
use crate::device::{Device, Object, Warning};
use crate::ios::Service;
use crate::junos::{address, icmp_type, ports, protocol};
use crate::zone::{DefaultRule, Labels, RuleType, ZonePolicy, ZoneRule};
use std::collections::HashMap;

/// One address book: names to addresses, sets to members.
#[derive(Default)]
struct Book {
    addresses: HashMap<String, Entry>,
    sets: HashMap<String, Vec<(bool, String)>>,
}

enum Entry {
    Match(AddrMatch),
    /// A DNS name: resolved at run time.
    Dns(String),
}

/// A policy as its statements build it up.
#[derive(Default)]
struct Policy {
    name: String,
    line: usize,
    from: Option<String>,
    to: Option<String>,
    global: bool,
    sources: Vec<String>,
    destinations: Vec<String>,
    applications: Vec<String>,
    source_excluded: bool,
    destination_excluded: bool,
    users: Vec<String>,
    dynamic_apps: Vec<String>,
    action: Option<Action>,
    log: bool,
    may: Vec<String>,
}

/// Reads the security policies among `statements` into `d.zone_policies`.
pub(crate) fn read(statements: &[(usize, Vec<String>)], d: &mut Device) {
    let mut zones: Vec<String> = Vec::new();
    let mut zone_books: HashMap<String, Book> = HashMap::new();
    let mut books: HashMap<String, Book> = HashMap::new();
    let mut attached: HashMap<String, Vec<String>> = HashMap::new();
    let mut apps: HashMap<String, Vec<HashMap<String, String>>> = HashMap::new();
    let mut app_sets: HashMap<String, Vec<String>> = HashMap::new();
    let mut policies: Vec<Policy> = Vec::new();
    let mut nat = Nat::default();
    let mut default = None;
    let mut first = None;
    for (line, words) in statements {
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["security", "zones", "security-zone", z, rest @ ..] => {
                if !zones.iter().any(|x| x == z) {
                    zones.push((*z).to_owned());
                }
                if let ["interfaces", iface, ..] = rest
                    && let Some(i) = d.interfaces.iter_mut().find(|i| i.name == *iface)
                {
                    i.zone = Some((*z).to_owned());
                }
                if let ["address-book", entry @ ..] = rest {
                    book_entry(zone_books.entry((*z).to_owned()).or_default(), entry, *line, d);
                }
            }
            ["security", "address-book", name, "attach", "zone", z] => {
                attached.entry((*z).to_owned()).or_default().push((*name).to_owned());
            }
            ["security", "address-book", name, entry @ ..] => {
                book_entry(books.entry((*name).to_owned()).or_default(), entry, *line, d);
            }
            ["applications", "application", name, rest @ ..] => {
                let terms = apps.entry((*name).to_owned()).or_default();
                let (term, kv) = match rest {
                    ["term", t, kv @ ..] => (Some(*t), kv),
                    kv => (None, kv),
                };
                // A term's settings, or the application's own (one implicit term).
                let key = term.unwrap_or("");
                let at = match terms.iter().position(|t| t.get("") == Some(&key.to_owned())) {
                    Some(at) => at,
                    None => {
                        terms.push(HashMap::from([(String::new(), key.to_owned())]));
                        terms.len() - 1
                    }
                };
                for pair in kv.chunks(2) {
                    if let [k, v] = pair {
                        terms[at].insert((*k).to_owned(), (*v).to_owned());
                    }
                }
            }
            ["applications", "application-set", name, "application" | "application-set", member] => {
                app_sets.entry((*name).to_owned()).or_default().push((*member).to_owned());
            }
            ["security", "nat", "proxy-arp", "interface", iface, "address", a, ..] => {
                if let Some((_, network, len)) = crate::route::parse_prefix(a) {
                    let last = broadcast(network, len);
                    let (lo, hi) = (to_u128(network), to_u128(last).min(to_u128(network) + 255));
                    for n in lo..=hi {
                        let ip = if network.is_ipv4() {
                            std::net::IpAddr::V4((n as u32).into())
                        } else {
                            std::net::IpAddr::V6(n.into())
                        };
                        d.proxy_arp.push(((*iface).to_owned(), ip));
                    }
                } else if let Ok(ip) = a.parse() {
                    d.proxy_arp.push(((*iface).to_owned(), ip));
                }
            }
            ["security", "nat", kind @ ("source" | "destination" | "static"), rest @ ..] => {
                nat_statement(&mut nat, kind, rest, *line);
            }
            ["security", "policies", "default-policy", what] => {
                default = Some((if *what == "permit-all" { Action::Permit } else { Action::Deny }, *line));
            }
            ["security", "policies", "from-zone", f, "to-zone", t, "policy", p, rest @ ..] => {
                first.get_or_insert(*line);
                let at = policy_at(&mut policies, p, Some(f), Some(t), false, *line);
                policy_statement(&mut policies[at], rest);
            }
            ["security", "policies", "global", "policy", p, rest @ ..] => {
                first.get_or_insert(*line);
                let at = policy_at(&mut policies, p, None, None, true, *line);
                policy_statement(&mut policies[at], rest);
            }
            _ => {}
        }
    }
    d.nat_order = crate::nat::NatOrder::Srx;
    let global = books.get("global");
    d.nat = nat.rules(global);
    if policies.is_empty() && default.is_none() {
        return;
    }
    // Zone pairs first (their order among pairs does not matter), then global policies.
    let (zoned, global): (Vec<Policy>, Vec<Policy>) = policies.into_iter().partition(|p| !p.global);
    let global_book = books.get("global");
    let mut rules = Vec::new();
    for p in zoned.iter().chain(&global) {
        let chain = |zone: Option<&String>| -> Vec<&Book> {
            let mut out = Vec::new();
            if let Some(z) = zone {
                out.extend(zone_books.get(z));
                out.extend(attached.get(z).into_iter().flatten().filter_map(|b| books.get(b)));
            }
            out.extend(global_book);
            out
        };
        let (src_books, dst_books) = (chain(p.from.as_ref()), chain(p.to.as_ref()));
        rules.extend(zone_rule(p, &src_books, &dst_books, &apps, &app_sets, d));
    }
    let (action, line) = default.unwrap_or((Action::Deny, 0));
    let dr = DefaultRule { name: "default-policy".into(), action, line };
    d.zone_policies.push(ZonePolicy {
        name: "security-policies".into(),
        line: first.unwrap_or(line),
        zones,
        rules,
        intrazone: dr.clone(),
        interzone: dr,
    });
}

fn policy_at(
    policies: &mut Vec<Policy>,
    name: &str,
    from: Option<&str>,
    to: Option<&str>,
    global: bool,
    line: usize,
) -> usize {
    let same = |p: &Policy| p.name == name && p.global == global && p.from.as_deref() == from && p.to.as_deref() == to;
    match policies.iter().position(same) {
        Some(at) => at,
        None => {
            policies.push(Policy {
                name: name.to_owned(),
                line,
                from: from.map(str::to_owned),
                to: to.map(str::to_owned),
                global,
                ..Policy::default()
            });
            policies.len() - 1
        }
    }
}

fn policy_statement(p: &mut Policy, rest: &[&str]) {
    match rest {
        ["match", "source-address", a] => p.sources.push((*a).to_owned()),
        ["match", "destination-address", a] => p.destinations.push((*a).to_owned()),
        ["match", "application", a] => p.applications.push((*a).to_owned()),
        ["match", "source-address-excluded"] => p.source_excluded = true,
        ["match", "destination-address-excluded"] => p.destination_excluded = true,
        ["match", "source-identity", u] => p.users.push((*u).to_owned()),
        ["match", "dynamic-application", a] if *a != "any" && *a != "none" => p.dynamic_apps.push((*a).to_owned()),
        ["match", "from-zone", z] => p.from = Some((*z).to_owned()),
        ["match", "to-zone", z] => p.to = Some((*z).to_owned()),
        ["match", "url-category", c] if *c != "any" && *c != "none" => p.may.push(format!("URL category is {c}")),
        ["scheduler-name", s] => p.may.push(format!("scheduler {s} is active")),
        ["then", "permit", ..] => p.action = Some(Action::Permit),
        ["then", "deny" | "reject", ..] => p.action = Some(Action::Deny),
        ["then", "log", ..] => p.log = true,
        _ => {}
    }
}

fn book_entry(b: &mut Book, w: &[&str], line: usize, d: &mut Device) {
    match w {
        ["address", _, "description", ..] => {}
        ["address", name, "dns-name", dns, ..] => {
            b.addresses.insert((*name).to_owned(), Entry::Dns((*dns).to_owned()));
            d.object_groups.push(Object { name: (*name).to_owned(), line, in_use: false });
        }
        ["address", name, "range-address", lo, "to", hi] => {
            let m = match (lo.parse(), hi.parse()) {
                (Ok(lo), Ok(hi)) => AddrMatch::range(lo, hi),
                _ => AddrMatch::Undefined((*name).to_owned()),
            };
            b.addresses.insert((*name).to_owned(), Entry::Match(m));
            d.object_groups.push(Object { name: (*name).to_owned(), line, in_use: false });
        }
        ["address", name, "wildcard-address", wa] => {
            let m = wa.split_once('/').and_then(|(a, m)| {
                let (a, m): (std::net::Ipv4Addr, std::net::Ipv4Addr) = (a.parse().ok()?, m.parse().ok()?);
                Some(AddrMatch::Wildcard { addr: u32::from(a) & !u32::from(m), wildcard: u32::from(m) })
            });
            b.addresses.insert((*name).to_owned(), Entry::Match(m.unwrap_or(AddrMatch::Undefined((*name).to_owned()))));
        }
        ["address", name, prefix] => match address(prefix) {
            Some(m) => {
                b.addresses.insert((*name).to_owned(), Entry::Match(m));
                d.object_groups.push(Object { name: (*name).to_owned(), line, in_use: false });
            }
            None => d.warnings.push(Warning {
                line,
                text: w.join(" "),
                message: format!("`{prefix}` is not an address or prefix; `{name}` matches nothing"),
            }),
        },
        ["address-set", name, kind @ ("address" | "address-set"), member] => {
            let set = b.sets.entry((*name).to_owned()).or_insert_with(|| {
                d.object_groups.push(Object { name: (*name).to_owned(), line, in_use: false });
                Vec::new()
            });
            set.push((*kind == "address-set", (*member).to_owned()));
        }
        _ => {}
    }
}

/// Resolves an address name through the books (first that defines it wins).
fn resolve(
    name: &str,
    books: &[&Book],
    stack: &mut Vec<String>,
    out: &mut Vec<AddrMatch>,
    may: &mut Vec<String>,
    what: &str,
) {
    match name {
        "any" => return out.push(AddrMatch::Any),
        "any-ipv4" => return out.push(AddrMatch::Wildcard { addr: 0, wildcard: u32::MAX }),
        "any-ipv6" => return out.push(AddrMatch::Prefix6 { addr: 0, len: 0 }),
        _ => {}
    }
    if stack.iter().any(|s| s == name) {
        return;
    }
    for b in books {
        if let Some(e) = b.addresses.get(name) {
            match e {
                Entry::Match(m) => out.push(m.clone()),
                Entry::Dns(dns) => may.push(format!("{what} is {dns} ({name})")),
            }
            return;
        }
        if let Some(members) = b.sets.get(name) {
            stack.push(name.to_owned());
            for (_, m) in members {
                resolve(m, books, stack, out, may, what);
            }
            stack.pop();
            return;
        }
    }
    out.push(AddrMatch::Undefined(name.to_owned()));
}

fn zone_rule(
    p: &Policy,
    src_books: &[&Book],
    dst_books: &[&Book],
    apps: &HashMap<String, Vec<HashMap<String, String>>>,
    app_sets: &HashMap<String, Vec<String>>,
    d: &mut Device,
) -> Vec<ZoneRule> {
    let Some(action) = p.action else {
        d.warnings.push(Warning {
            line: p.line,
            text: format!("policy {}", p.name),
            message: "the policy has no `then permit|deny|reject`; left out".into(),
        });
        return Vec::new();
    };
    let mut may = p.may.clone();
    // DNS names resolve at run time: the side may match anything, and `known` is what is
    // certain (nothing, when such names are excluded).
    let mut address_may = Vec::new();
    let side = |names: &[String], books: &[&Book], excluded: bool, what: &str, may: &mut Vec<String>| {
        let mut ms = Vec::new();
        let before = may.len();
        for n in names {
            resolve(n, books, &mut Vec::new(), &mut ms, may, what);
        }
        if names.is_empty() {
            ms.push(AddrMatch::Any);
        }
        crate::zone::address_side(ms, excluded, what, &mut may[before..])
    };
    let (src, known_src) = side(&p.sources, src_books, p.source_excluded, "source", &mut address_may);
    let (dst, known_dst) = side(&p.destinations, dst_books, p.destination_excluded, "destination", &mut address_may);
    let mut svcs = Vec::new();
    let mut undefined = Vec::new();
    for a in &p.applications {
        application(a, apps, app_sets, &mut Vec::new(), &mut svcs, &mut undefined, &mut may);
    }
    if p.applications.is_empty() {
        svcs.push(Service::of(None));
    }
    let text = format!("policy {}", p.name);
    let base = Rule { text, src, dst, log: p.log, ..Rule::any(action, p.line) };
    let header = |s: &Service| s.narrow(&base);
    let mut matches: Vec<Rule> = svcs.iter().map(header).collect();
    matches.extend(undefined.into_iter().map(|u| Rule { src: AddrMatch::Undefined(u), ..header(&Service::of(None)) }));
    let labels = |v: &[String]| {
        if v.is_empty() || v.iter().any(|x| x == "any") { Labels::Any } else { Labels::Only(v.to_vec()) }
    };
    let rule = ZoneRule {
        name: p.name.clone(),
        line: p.line,
        from: p.from.as_ref().map_or(Labels::Any, |z| Labels::Only(vec![z.clone()])),
        to: p.to.as_ref().map_or(Labels::Any, |z| Labels::Only(vec![z.clone()])),
        kind: RuleType::Universal,
        apps: labels(&p.dynamic_apps),
        users: labels(&p.users),
        action,
        matches,
        may,
        disabled: false,
        log: p.log,
    };
    rule.with_unknown_addresses((known_src, known_dst), address_may)
}

/// The services an application (or application set) stands for.
fn application(
    name: &str,
    apps: &HashMap<String, Vec<HashMap<String, String>>>,
    sets: &HashMap<String, Vec<String>>,
    stack: &mut Vec<String>,
    out: &mut Vec<Service>,
    undefined: &mut Vec<String>,
    may: &mut Vec<String>,
) {
    if name == "any" {
        return out.push(Service::of(None));
    }
    if stack.iter().any(|s| s == name) {
        return;
    }
    if let Some(terms) = apps.get(name) {
        for t in terms {
            match term(t) {
                Some(s) => out.push(s),
                None => undefined.push(format!("{name} (a term this analysis cannot read)")),
            }
        }
        return;
    }
    if let Some(members) = sets.get(name) {
        stack.push(name.to_owned());
        for m in members {
            application(m, apps, sets, stack, out, undefined, may);
        }
        stack.pop();
        return;
    }
    match predefined(name) {
        Some(svcs) => out.extend(svcs),
        None if name.starts_with("junos-") => {
            may.push(format!("the ports of predefined application {name}"));
            out.push(Service::of(None));
        }
        None => undefined.push(name.to_owned()),
    }
}

/// One application term: `protocol`, `destination-port`, `source-port`, `icmp-type`,
/// `icmp6-type`, `icmp-code`.
fn term(t: &HashMap<String, String>) -> Option<Service> {
    let v6 = t.get("protocol").is_some_and(|p| p == "icmp6");
    let proto = match t.get("protocol") {
        Some(p) => protocol(p, v6).ok()?,
        None => None,
    };
    let range = |k: &str| t.get(k).map(|v| ports(v).ok().map(|r| PortMatch(vec![r]))).unwrap_or(Some(PortMatch::any()));
    let icmp = match t.get("icmp-type").or_else(|| t.get("icmp6-type")) {
        Some(ty) => {
            let code = t.get("icmp-code").or_else(|| t.get("icmp6-code")).and_then(|c| c.parse().ok());
            Some((icmp_type(ty, v6).ok()?, code))
        }
        None => None,
    };
    Some(Service { proto, sport: range("source-port")?, dport: range("destination-port")?, icmp })
}

/// Junos's predefined applications that the analyses know the ports of.
fn predefined(name: &str) -> Option<Vec<Service>> {
    let port = |proto: u8, p: u16| Service { proto: Some(proto), dport: PortMatch(vec![(p, p)]), ..Service::of(None) };
    let proto = |p: u8| Service { proto: Some(p), ..Service::of(None) };
    let icmp = |p: u8, t: u8| Service { proto: Some(p), icmp: Some((t, None)), ..Service::of(None) };
    Some(match name {
        "junos-http" => vec![port(6, 80)],
        "junos-https" => vec![port(6, 443)],
        "junos-http-ext" => vec![port(6, 7001)],
        "junos-ssh" => vec![port(6, 22)],
        "junos-telnet" => vec![port(6, 23)],
        "junos-ftp" => vec![port(6, 21)],
        "junos-ftp-data" => vec![port(6, 20)],
        "junos-tftp" => vec![port(17, 69)],
        "junos-smtp" => vec![port(6, 25)],
        "junos-pop3" => vec![port(6, 110)],
        "junos-imap" => vec![port(6, 143)],
        "junos-imaps" => vec![port(6, 993)],
        "junos-dns-udp" => vec![port(17, 53)],
        "junos-dns-tcp" => vec![port(6, 53)],
        "junos-ntp" => vec![port(17, 123)],
        "junos-syslog" => vec![port(17, 514)],
        "junos-ldap" => vec![port(6, 389)],
        "junos-bgp" => vec![port(6, 179)],
        "junos-ike" => vec![port(17, 500)],
        "junos-ike-nat" => vec![port(17, 4500)],
        "junos-radius" => vec![port(17, 1812)],
        "junos-radacct" => vec![port(17, 1813)],
        "junos-tacacs" => vec![port(6, 49)],
        "junos-snmp-get" | "junos-snmp-get-next" | "junos-snmp-response" => vec![port(17, 161)],
        "junos-snmp-trap" => vec![port(17, 162)],
        "junos-ms-sql" => vec![port(6, 1433)],
        "junos-mysql" => vec![port(6, 3306)],
        "junos-bootpc" | "junos-dhcp-client" => vec![port(17, 68)],
        "junos-bootps" | "junos-dhcp-server" => vec![port(17, 67)],
        "junos-echo" => vec![port(6, 7), port(17, 7)],
        "junos-discard" => vec![port(6, 9), port(17, 9)],
        "junos-chargen" => vec![port(6, 19), port(17, 19)],
        "junos-finger" => vec![port(6, 79)],
        "junos-gopher" => vec![port(6, 70)],
        "junos-ospf" => vec![proto(89)],
        "junos-gre" => vec![proto(47)],
        "junos-icmp-all" => vec![proto(1)],
        "junos-icmp6-all" => vec![proto(58)],
        "junos-icmp-ping" | "junos-ping" => vec![icmp(1, 8)],
        "junos-pingv6" => vec![icmp(58, 128)],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::acl::{Action, Flow};

    use crate::arbitrary::flow;

    #[test]
    fn zone_books_sets_ranges_exclusion_and_globals_decide() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/junos_parse/srx.conf"))
                .unwrap();
        let d = crate::junos::parse(&text);
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        let p = &d.zone_policies[0];
        let by = |f: &Flow| {
            let c = p.decide(f, "trust", "untrust", None, None);
            let last = c.last().unwrap();
            (last.action, last.rule.map(|i| p.rules[i].name.as_str()), c.len())
        };
        // The zone's address set, an application set of a custom application and a predefined one.
        assert_eq!(by(&flow("10.1.1.1", "192.0.2.10", 6, 8081)), (Action::Permit, Some("p1"), 1));
        assert_eq!(by(&flow("10.1.1.1", "198.51.100.9", 6, 443)), (Action::Permit, Some("p1"), 1));
        // Not from the zone's set: p2 rejects everything but `web` (excluded).
        assert_eq!(by(&flow("172.16.0.1", "198.51.100.9", 6, 443)), (Action::Deny, Some("p2"), 1));
        // To `web` from outside the set: past p2, the global policy permits SSH only.
        assert_eq!(by(&flow("172.16.0.1", "192.0.2.10", 6, 22)), (Action::Permit, Some("g1"), 1));
        assert_eq!(by(&flow("172.16.0.1", "192.0.2.10", 6, 23)), (Action::Deny, None, 1));
        // The DNS name: p1 may match any address (it resolves at run time).
        let c = p.decide(&flow("10.1.1.1", "203.0.113.1", 6, 443), "trust", "untrust", None, None);
        assert_eq!(c.len(), 2);
        assert!(c[0].undecided[0].contains("www.example.com"), "{:?}", c[0].undecided);
    }
}

/// SRX NAT as its statements build it: pools, and rule-sets with their contexts and rules.
#[derive(Default)]
struct Nat {
    pools: HashMap<String, (crate::nat::Address, Option<u16>)>,
    sets: Vec<NatSet>,
}

#[derive(Default)]
struct NatSet {
    kind: String,
    name: String,
    from: Vec<String>,
    to: Vec<String>,
    rules: Vec<NatRuleStatements>,
}

#[derive(Default)]
struct NatRuleStatements {
    name: String,
    line: usize,
    src: Vec<String>,
    dst: Vec<String>,
    dports: Vec<(u16, u16)>,
    protocols: Vec<String>,
    then: Vec<String>,
}

fn nat_statement(nat: &mut Nat, kind: &str, w: &[&str], line: usize) {
    match w {
        ["pool", name, "address", a, rest @ ..] => {
            let lo = crate::route::parse_prefix(a)
                .map(|p| (p.1, p.2))
                .or_else(|| a.parse().ok().map(|ip: std::net::IpAddr| (ip, if ip.is_ipv4() { 32 } else { 128 })));
            let Some((network, len)) = lo else { return };
            let hi = match rest {
                ["to", b, ..] => b.split('/').next().and_then(|b| b.parse().ok()),
                _ => None,
            };
            // `A/len` is the prefix's addresses; `A to B` the range.
            let range = match hi {
                Some(hi) => (network, hi),
                None => (network, broadcast(network, len)),
            };
            let port =
                rest.iter().position(|x| *x == "port").and_then(|k| rest.get(k + 1)).and_then(|p| p.parse().ok());
            nat.pools.insert(format!("{kind} {name}"), (crate::nat::Address::Range { lo: range.0, hi: range.1 }, port));
        }
        ["rule-set", set, dir @ ("from" | "to"), "zone" | "interface", value] => {
            let s = set_at(nat, kind, set);
            if *dir == "from" { s.from.push((*value).to_owned()) } else { s.to.push((*value).to_owned()) }
        }
        ["rule-set", set, "rule", rule, rest @ ..] => {
            let s = set_at(nat, kind, set);
            let at = match s.rules.iter().position(|r| r.name == *rule) {
                Some(at) => at,
                None => {
                    s.rules.push(NatRuleStatements { name: (*rule).to_owned(), line, ..NatRuleStatements::default() });
                    s.rules.len() - 1
                }
            };
            let r = &mut s.rules[at];
            match rest {
                ["match", "source-address" | "source-address-name", a] => r.src.push((*a).to_owned()),
                ["match", "destination-address" | "destination-address-name", a] => r.dst.push((*a).to_owned()),
                ["match", "destination-port", p, "to", q] => {
                    if let (Ok(p), Ok(q)) = (p.parse(), q.parse()) {
                        r.dports.push((p, q));
                    }
                }
                ["match", "destination-port", p] => {
                    if let Ok(p) = p.parse() {
                        r.dports.push((p, p));
                    }
                }
                ["match", "protocol", p] => r.protocols.push((*p).to_owned()),
                ["then", then @ ..] => r.then = then.iter().map(|t| (*t).to_owned()).collect(),
                _ => {}
            }
        }
        _ => {}
    }
}

fn broadcast(network: std::net::IpAddr, len: u8) -> std::net::IpAddr {
    match network {
        std::net::IpAddr::V4(v4) => {
            std::net::IpAddr::V4((u32::from(v4) | u32::MAX.checked_shr(u32::from(len)).unwrap_or(0)).into())
        }
        std::net::IpAddr::V6(v6) => {
            std::net::IpAddr::V6((u128::from(v6) | u128::MAX.checked_shr(u32::from(len)).unwrap_or(0)).into())
        }
    }
}

fn set_at<'a>(nat: &'a mut Nat, kind: &str, name: &str) -> &'a mut NatSet {
    let at = match nat.sets.iter().position(|s| s.kind == kind && s.name == name) {
        Some(at) => at,
        None => {
            nat.sets.push(NatSet { kind: kind.to_owned(), name: name.to_owned(), ..NatSet::default() });
            nat.sets.len() - 1
        }
    };
    &mut nat.sets[at]
}

impl Nat {
    /// Static, then destination, then source rules (the order the SRX applies them in; a
    /// static rule also translates the source of the reply direction).
    fn rules(&self, global: Option<&Book>) -> Vec<crate::nat::NatRule> {
        use crate::nat::{Address, NatRule, Translation};
        let labels = |v: &[String]| if v.is_empty() { Labels::Any } else { Labels::Only(v.to_vec()) };
        let side = |names: &[String]| {
            if names.is_empty() {
                return AddrMatch::Any;
            }
            let mut out = Vec::new();
            for n in names {
                match address(n) {
                    Some(m) => out.push(m),
                    None => resolve(
                        n,
                        &global.into_iter().collect::<Vec<_>>(),
                        &mut Vec::new(),
                        &mut out,
                        &mut Vec::new(),
                        "nat",
                    ),
                }
            }
            AddrMatch::AnyOf(out)
        };
        let mut out = Vec::new();
        for kind in ["static", "destination", "source"] {
            for set in self.sets.iter().filter(|s| s.kind == kind) {
                for r in &set.rules {
                    let protos: Vec<Option<u8>> = if r.protocols.is_empty() {
                        vec![None]
                    } else {
                        r.protocols.iter().filter_map(|p| protocol(p, false).ok()).collect()
                    };
                    let dport = if r.dports.is_empty() { PortMatch::any() } else { PortMatch(r.dports.clone()) };
                    let matches: Vec<Rule> = protos
                        .iter()
                        .map(|&proto| Rule {
                            proto,
                            src: side(&r.src),
                            dst: side(&r.dst),
                            dport: dport.clone(),
                            text: format!("{kind} nat rule {} {}", set.name, r.name),
                            ..Rule::any(Action::Permit, r.line)
                        })
                        .collect();
                    let then: Vec<&str> = r.then.iter().map(String::as_str).collect();
                    let pool = |p: &str| self.pools.get(&format!("{kind} {p}")).cloned();
                    let translation = match then.as_slice() {
                        ["source-nat", "pool", p] | ["destination-nat", "pool", p] => {
                            pool(p).map(|(a, port)| Translation { address: Some(a), port })
                        }
                        ["source-nat", "interface"] => {
                            Some(Translation { address: Some(Address::Interface(String::new())), port: None })
                        }
                        ["static-nat", "prefix", p] => crate::route::parse_prefix(p).map(|(_, net, len)| Translation {
                            address: Some(Address::Range { lo: net, hi: broadcast(net, len) }),
                            port: None,
                        }),
                        // `off`, or what is not read: the packet is not translated by it.
                        _ => None,
                    };
                    let name = format!("{kind} nat rule {} {}", set.name, r.name);
                    let (source, destination) = match kind {
                        "source" => (translation, None),
                        _ => (None, translation),
                    };
                    // `off` rules still take their packets (first match): no translation.
                    let no_op = source.is_none() && destination.is_none();
                    out.push(NatRule {
                        name,
                        line: r.line,
                        from: labels(&set.from),
                        to: labels(&set.to),
                        matches,
                        source: if no_op && kind == "source" {
                            Some(Translation { address: None, port: None })
                        } else {
                            source
                        },
                        destination: if no_op && kind != "source" {
                            Some(Translation { address: None, port: None })
                        } else {
                            destination
                        },
                        // Static NAT translates both ways (the source of what the real
                        // address sends out); `nat_on_leaving` applies the reverse.
                        bidirectional: kind == "static" && !no_op,
                        first_match: false,
                        disabled: false,
                    });
                }
            }
        }
        out
    }
}

fn to_u128(ip: std::net::IpAddr) -> u128 {
    match ip {
        std::net::IpAddr::V4(v4) => u128::from(u32::from(v4)),
        std::net::IpAddr::V6(v6) => u128::from(v6),
    }
}
