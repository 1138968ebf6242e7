//! Juniper Junos firewall filters, from the hierarchical (brace) form and the `set` form
//! alike: both are first flattened into statements (the path of words down to a leaf, with
//! its line), then read. A filter's terms apply in order; within a term, the conditions of
//! different kinds must all hold and the values of one kind are alternatives; a term without
//! a terminating action accepts; a packet no term takes is discarded. Interfaces' addresses
//! and `filter input|output` bindings and `policy-options prefix-list` are read too.
//!
//! A term is turned into first-match rules: one per combination of alternatives that a single
//! rule cannot hold (protocols, ICMP types, `address` and `port` matching either side), all
//! with the term's action, so that first match over them is the term. Conditions the header
//! space does not model (`except` addresses, DSCP, packet length, TCP flags…) leave the term
//! out with a warning, and the filter is marked partial. Parsing never fails.

use crate::acl::{Acl, Action, AddrMatch, Family, PortMatch, Rule};
use crate::device::{Binding, Device, Interface, Warning};
use crate::ios::{port, prefix4};
use std::collections::HashMap;
use std::net::Ipv6Addr;

/// One leaf of the configuration: its words from the top, where it ends, and whether it or a
/// block around it is `inactive:`.
#[derive(Debug, Clone)]
struct Statement {
    words: Vec<String>,
    line: usize,
}

/// The configuration's statements as words in `set` form (without `set`), with their lines:
/// what the hardening checks of [`crate::pack`] read.
pub fn lines(text: &str) -> Vec<(usize, Vec<String>)> {
    statements(text).0.into_iter().map(|s| (s.line, s.words)).collect()
}

/// [`lines`], and the lines where blocks nested too deep to read start.
pub(crate) fn lines_checked(text: &str) -> (Vec<(usize, Vec<String>)>, Vec<usize>) {
    let (all, too_deep) = statements(text);
    (all.into_iter().map(|s| (s.line, s.words)).collect(), too_deep)
}

/// Lines that are no Junos statement: neither `set`/`deactivate` nor part of a `{ }` block
/// (every line of one ends in `;`, `{` or `}`), outside comments — another vendor's lines in
/// a mixed file, say. Said, not silently dropped.
fn foreign_lines(text: &str) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut in_comment = false;
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        if in_comment {
            in_comment = !t.contains("*/");
            continue;
        }
        if t.starts_with("/*") {
            in_comment = !t.contains("*/");
            continue;
        }
        let statement = t.is_empty()
            || t.starts_with('#')
            || t.starts_with("set ")
            || t.starts_with("deactivate ")
            || t.starts_with("delete ")
            || t.ends_with(';')
            || t.ends_with('{')
            || t.ends_with('}')
            || t.contains("*/");
        if !statement {
            out.push(Warning {
                line: i + 1,
                text: t.chars().take(120).collect(),
                message: "not a Junos statement (neither `set` nor a line of a `{ }` block); left out".into(),
            });
        }
    }
    out
}

/// Blocks nested deeper than this are not read (no real configuration comes near; a file
/// that does would otherwise cost memory in the square of its depth).
pub(crate) const MAX_DEPTH: usize = 64;

/// Splits a configuration into statements, whichever form it is in; also the lines of
/// blocks nested too deep to read.
fn statements(text: &str) -> (Vec<Statement>, Vec<usize>) {
    let mut out = Vec::new();
    let mut braces = String::new();
    let mut deactivated: Vec<Vec<String>> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("set ") {
            // `set a b [ c d ]` is `set a b c` and `set a b d`.
            let ws = words(rest);
            match (ws.iter().position(|w| w == "["), ws.last().map(String::as_str)) {
                (Some(open), Some("]")) => {
                    for item in &ws[open + 1..ws.len() - 1] {
                        let mut one = ws[..open].to_vec();
                        one.push(item.clone());
                        out.push(Statement { words: one, line: i + 1 });
                    }
                }
                _ => out.push(Statement { words: ws, line: i + 1 }),
            }
            braces.push('\n');
        } else if let Some(rest) = t.strip_prefix("deactivate ") {
            deactivated.push(words(rest));
            braces.push('\n');
        } else {
            braces.push_str(line);
            braces.push('\n');
        }
    }
    let (braced, too_deep) = brace_statements(&braces);
    out.extend(braced);
    out.retain(|s| !deactivated.iter().any(|d| s.words.starts_with(d)));
    (out, too_deep)
}

/// The words of a `set` line, quotes honoured.
pub(crate) fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            out.push(chars.by_ref().take_while(|&c| c != '"').collect());
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                w.push(c);
                chars.next();
            }
            out.push(w);
        }
    }
    out
}

/// The hierarchical form: `a b { c d; e [ f g ]; }` gives `a b c d`, `a b e f`, `a b e g`.
/// Comments (`/* */`, `#` lines) are dropped; `inactive:` blocks and statements are left out;
/// other annotations (`replace:`, `protect:`) are ignored.
fn brace_statements(text: &str) -> (Vec<Statement>, Vec<usize>) {
    #[derive(PartialEq)]
    enum Tok {
        Word(String),
        Open,
        Close,
        End,
        ListOpen,
        ListClose,
    }
    let mut toks: Vec<(Tok, usize)> = Vec::new();
    let mut line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                    }
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '{' => toks.push((Tok::Open, line)),
            '}' => toks.push((Tok::Close, line)),
            ';' => toks.push((Tok::End, line)),
            '[' => toks.push((Tok::ListOpen, line)),
            ']' => toks.push((Tok::ListClose, line)),
            '"' => {
                let mut w = String::new();
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    if c == '\n' {
                        line += 1;
                    }
                    w.push(c);
                }
                toks.push((Tok::Word(w), line));
            }
            c => {
                let mut w = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || "{};[]\"".contains(n) {
                        break;
                    }
                    w.push(n);
                    chars.next();
                }
                toks.push((Tok::Word(w), line));
            }
        }
    }
    let mut out = Vec::new();
    let mut too_deep = Vec::new();
    // The enclosing blocks' words, and whether each is inactive.
    let mut stack: Vec<(Vec<String>, bool)> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut list: Option<Vec<String>> = None;
    let mut inactive = false;
    for (tok, line) in toks {
        match tok {
            Tok::Word(w) if list.is_some() => list.get_or_insert_with(Vec::new).push(w),
            Tok::Word(w) => match w.as_str() {
                "inactive:" => inactive = true,
                "replace:" | "protect:" | "delete:" => {}
                _ => current.push(w),
            },
            Tok::ListOpen => list = Some(Vec::new()),
            Tok::ListClose => {}
            Tok::Open => {
                // Too deep: the block is read as inactive (left out), once said.
                let deep = stack.len() >= MAX_DEPTH;
                if deep && stack.len() == MAX_DEPTH {
                    too_deep.push(line);
                }
                stack.push((std::mem::take(&mut current), inactive || deep));
                inactive = false;
            }
            Tok::Close => {
                stack.pop();
                current.clear();
                inactive = false;
            }
            Tok::End => {
                let dead = inactive || stack.iter().any(|s| s.1);
                let prefix: Vec<String> = stack.iter().flat_map(|s| s.0.iter().cloned()).collect();
                let items = list.take();
                if !dead {
                    match items {
                        Some(items) => {
                            for item in items {
                                let mut words = prefix.clone();
                                words.extend(current.iter().cloned());
                                words.push(item);
                                out.push(Statement { words, line });
                            }
                        }
                        None => {
                            let mut words = prefix;
                            words.extend(current.iter().cloned());
                            out.push(Statement { words, line });
                        }
                    }
                }
                current.clear();
                inactive = false;
            }
        }
    }
    (out, too_deep)
}

/// The conditions and actions of one term, as written.
#[derive(Default)]
struct Term {
    name: String,
    line: usize,
    from: Vec<(String, String, usize)>,
    then: Vec<String>,
}

/// `100m`, `1g`, `10g` or a number of bit/s, in Mbit/s.
fn bandwidth_mbps(s: &str) -> Option<u64> {
    let s = s.to_ascii_lowercase();
    let (digits, scale) = match s.chars().last()? {
        'k' => (&s[..s.len() - 1], 0.001),
        'm' => (&s[..s.len() - 1], 1.0),
        'g' => (&s[..s.len() - 1], 1000.0),
        _ => (s.as_str(), 0.000_001),
    };
    let n: f64 = digits.parse().ok()?;
    Some(((n * scale) as u64).max(1))
}

/// OSPF as Junos has it: interfaces listed under their area (a loopback costs 0 unless a
/// metric is given), and `export` policies whose terms take direct or static routes and
/// accept them become external (type 2 unless `then external type 1`) redistribution.
fn ospf_settings(
    d: &mut Device,
    interfaces: Vec<(String, u32, Vec<String>)>,
    exports: &[(usize, String)],
    statements: &HashMap<String, Vec<(String, Vec<String>)>>,
) {
    use crate::ospf::Redistribution;
    let Some(p) = d.ospf.as_mut() else { return };
    for (name, area, options) in interfaces {
        let Some(i) = d.interfaces.iter_mut().find(|i| i.name == name) else { continue };
        let opts: Vec<&str> = options.iter().map(String::as_str).collect();
        match opts.as_slice() {
            ["disable"] => continue,
            ["passive", ..] => p.passive.push(name.clone()),
            ["metric", m] => i.ospf_cost = m.parse().ok(),
            _ => {}
        }
        i.ospf_area = Some(area);
        if i.ospf_cost.is_none() && name.starts_with("lo") {
            i.ospf_cost = Some(0);
        }
    }
    for (line, policy) in exports {
        let Some(terms) = statements.get(policy) else {
            d.warnings.push(Warning {
                line: *line,
                text: format!("protocols ospf export {policy}"),
                message: format!("policy-statement `{policy}` is not defined; nothing is exported"),
            });
            continue;
        };
        let mut by_term: Vec<(&str, Vec<&[String]>)> = Vec::new();
        for (term, words) in terms {
            match by_term.iter_mut().find(|(t, _)| t == term) {
                Some((_, list)) => list.push(words),
                None => by_term.push((term, vec![words])),
            }
        }
        for (_, words) in by_term {
            let has =
                |a: &str, b: &str| words.iter().any(|w| w.len() >= 2 && w[0] == a && w[1..].iter().any(|x| x == b));
            if !has("then", "accept") {
                continue;
            }
            let metric = words
                .iter()
                .find_map(|w| (w.len() == 3 && w[0] == "then" && w[1] == "metric").then(|| w[2].parse().ok()).flatten())
                .unwrap_or(0);
            let metric_type = if words.iter().any(|w| w.join(" ") == "then external type 1") { 1 } else { 2 };
            for (proto, source) in [("direct", "connected"), ("static", "static")] {
                if has("from", proto) {
                    p.redistribute.push(Redistribution { source, subnets: true, metric, metric_type, always: false });
                }
            }
        }
    }
}

/// Words after a keyword: one value, or a `[ … ]` list.
fn values(words: &[&str]) -> Vec<String> {
    words.iter().filter(|w| !matches!(**w, "[" | "]")).map(|w| w.trim_matches('"').to_owned()).collect()
}

/// BGP as Junos has it: `protocols bgp` groups (type, peer-as, local-address, import and
/// export chains, `cluster` making its neighbours reflector clients, `multipath`) and
/// neighbours, the AS and router id from `routing-options`, and the policy objects the
/// chains use (policy-statements, communities, prefix lists).
fn bgp_settings(d: &mut Device, all: &[Statement], statements: &HashMap<String, Vec<(String, Vec<String>)>>) {
    use crate::bgp::{Neighbor, Process, Term};
    let mut p = Process { junos: true, max_paths_ebgp: 1, max_paths_ibgp: 1, ..Process::default() };
    let mut autonomous_system = None;
    let mut internal: Vec<String> = Vec::new();
    let mut seen = false;
    for s in all {
        let w: Vec<&str> = s.words.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["routing-options", "router-id", id] => p.router_id = id.parse().ok(),
            ["routing-options", "autonomous-system", asn, ..] => autonomous_system = asn.parse().ok(),
            ["policy-options", "community", name, "members", members @ ..] => {
                d.routing_policy.communities.entry((*name).to_owned()).or_default().extend(values(members));
            }
            ["policy-options", "prefix-list", name, prefix] => {
                if let Some((_, std::net::IpAddr::V4(n), len)) = crate::route::parse_prefix(prefix) {
                    let list = d.routing_policy.prefix_lists.entry((*name).to_owned()).or_default();
                    let seq = list.len() as u32;
                    list.push(crate::bgp::PrefixEntry {
                        seq,
                        permit: true,
                        network: u32::from(n),
                        len,
                        ge: None,
                        le: None,
                    });
                }
            }
            ["protocols", "bgp", rest @ ..] => {
                seen = true;
                if p.line == 0 {
                    p.line = s.line;
                }
                let (target, what): (Option<Result<std::net::Ipv4Addr, String>>, &[&str]) = match rest {
                    ["group", g, "neighbor", ip, what @ ..] => {
                        if let Ok(ip) = ip.parse::<std::net::Ipv4Addr>() {
                            let n = p
                                .neighbors
                                .entry(ip)
                                .or_insert_with(|| Neighbor { line: s.line, ..Neighbor::default() });
                            n.group = Some((*g).to_owned());
                            (Some(Ok(ip)), what)
                        } else {
                            (None, &[])
                        }
                    }
                    ["group", g, what @ ..] => (Some(Err((*g).to_owned())), what),
                    ["local-as", asn, ..] => {
                        p.asn = asn.parse().unwrap_or(p.asn);
                        (None, &[])
                    }
                    _ => (None, &[]),
                };
                let Some(target) = target else { continue };
                let n = match &target {
                    Ok(ip) => p.neighbors.entry(*ip).or_default(),
                    Err(g) => {
                        p.groups.entry(g.clone()).or_insert_with(|| Neighbor { line: s.line, ..Neighbor::default() })
                    }
                };
                match what {
                    ["type", "internal"] => {
                        if let Err(g) = &target {
                            internal.push(g.clone());
                        }
                    }
                    ["peer-as", asn] => n.remote_as = asn.parse().ok(),
                    ["local-address", ip] => n.local_address = ip.parse().ok(),
                    ["import", chain @ ..] => {
                        n.import_chain = values(chain);
                        n.route_map_in = n.import_chain.first().cloned();
                    }
                    ["export", chain @ ..] => {
                        n.export_chain = values(chain);
                        n.route_map_out = n.export_chain.first().cloned();
                    }
                    ["cluster", _] => n.reflector_client = true,
                    ["multiple-as" | "multipath", ..] => {
                        p.max_paths_ebgp = 64;
                        p.max_paths_ibgp = 64;
                    }
                    ["multihop", ..] => n.ebgp_multihop = true,
                    ["shutdown" | "disable"] => n.shutdown = true,
                    _ => {}
                }
                // Junos sends communities unless told otherwise.
                n.send_community = true;
            }
            _ => {}
        }
    }
    if !seen {
        return;
    }
    if p.asn == 0 {
        p.asn = autonomous_system.unwrap_or(0);
    }
    // An internal group peers within the AS.
    for g in internal {
        if let Some(group) = p.groups.get_mut(&g) {
            group.remote_as = group.remote_as.or(Some(p.asn));
        }
    }
    for (name, entries) in statements {
        let mut terms: Vec<Term> = Vec::new();
        for (term, words) in entries {
            let t = match terms.iter_mut().position(|t| &t.name == term) {
                Some(i) => &mut terms[i],
                None => {
                    terms.push(Term { name: term.clone(), ..Term::default() });
                    terms.last_mut().expect("just pushed")
                }
            };
            match words.split_first() {
                Some((k, rest)) if k == "from" => t.from.push(rest.to_vec()),
                Some((k, rest)) if k == "then" => t.then.push(rest.to_vec()),
                _ => {}
            }
        }
        d.routing_policy.statements.insert(name.clone(), terms);
    }
    d.bgp = Some(p);
}

/// Parses a Junos configuration (either form). Never fails; see [`Device::warnings`].
pub fn parse(text: &str) -> Device {
    let mut d = Device::default();
    let mut filters: Vec<(Family, String, usize, Vec<Term>)> = Vec::new();
    let mut prefix_lists: HashMap<String, Vec<AddrMatch>> = HashMap::new();
    let mut interfaces: HashMap<String, usize> = HashMap::new();
    // OSPF: (interface, area, options), `export` policies, and every policy-statement's
    // (term, words) for the exports to be read at the end.
    let mut ospf_interfaces: Vec<(String, u32, Vec<String>)> = Vec::new();
    let mut ospf_exports: Vec<(usize, String)> = Vec::new();
    let mut policy_statements: HashMap<String, Vec<(String, Vec<String>)>> = HashMap::new();
    let (all, too_deep) = statements(text);
    d.warnings.extend(foreign_lines(text));
    for line in too_deep {
        d.warnings.push(Warning {
            line,
            text: String::new(),
            message: format!("blocks nested more than {MAX_DEPTH} deep are not read"),
        });
    }
    for s in &all {
        let w: Vec<&str> = s.words.iter().map(String::as_str).collect();
        let (family, rest) = match w.as_slice() {
            ["firewall", "family", "inet", "filter", rest @ ..] => (Some(Family::V4), rest),
            ["firewall", "family", "inet6", "filter", rest @ ..] => (Some(Family::V6), rest),
            ["firewall", "filter", rest @ ..] => (Some(Family::V4), rest),
            _ => (None, &w[..0]),
        };
        if let Some(family) = family {
            let [name, tail @ ..] = rest else { continue };
            let idx = match filters.iter().position(|f| f.0 == family && f.1 == *name) {
                Some(i) => i,
                None => {
                    filters.push((family, (*name).to_owned(), s.line, Vec::new()));
                    filters.len() - 1
                }
            };
            if let ["term", term, what @ ..] = tail {
                let terms = &mut filters[idx].3;
                let t = match terms.iter().position(|t| t.name == *term) {
                    Some(i) => i,
                    None => {
                        terms.push(Term { name: (*term).to_owned(), line: s.line, ..Term::default() });
                        terms.len() - 1
                    }
                };
                match what {
                    ["from", cond, values @ ..] => {
                        terms[t].from.push(((*cond).to_owned(), values.join(" "), s.line));
                    }
                    ["then", action @ ..] => terms[t].then.push(action.join(" ")),
                    _ => {}
                }
            }
            continue;
        }
        match w.as_slice() {
            ["system", "host-name", name] => d.hostname = Some((*name).to_owned()),
            ["policy-options", "prefix-list", name, prefix] => {
                let list = prefix_lists.entry((*name).to_owned()).or_default();
                match address(prefix) {
                    Some(a) => list.push(a),
                    None => d.warnings.push(warning(s.line, &w, &format!("`{prefix}` is not a prefix"))),
                }
            }
            ["interfaces", name, "unit", unit, "family", "inet" | "inet6", what @ ..] => {
                let full = format!("{name}.{unit}");
                let idx = *interfaces.entry(full.clone()).or_insert_with(|| {
                    d.interfaces.push(Interface { line: s.line, name: full.clone(), ..Interface::default() });
                    d.interfaces.len() - 1
                });
                match what {
                    ["address", a, ..] => d.interfaces[idx].addresses.push((*a).to_owned()),
                    ["filter", dir @ ("input" | "output" | "input-list" | "output-list"), filter] => {
                        let direction = if dir.starts_with("input") { "in" } else { "out" };
                        d.bindings.push(Binding {
                            line: s.line,
                            interface: full,
                            acl: (*filter).to_owned(),
                            direction: direction.into(),
                        });
                    }
                    _ => {}
                }
            }
            ["routing-options", "static", "route", prefix, how @ ..]
            | ["routing-options", "rib", _, "static", "route", prefix, how @ ..] => {
                let next_hop = match how {
                    ["next-hop" | "qualified-next-hop", ip, ..] => ip.parse().ok().map(crate::route::NextHop::Ip),
                    ["discard" | "reject"] => Some(crate::route::NextHop::Discard),
                    _ => None,
                };
                let network = crate::route::parse_prefix(prefix);
                if let (Some(next_hop), Some((_, network, len))) = (next_hop, network) {
                    let static_route =
                        crate::route::Route { network, len, next_hop, protocol: "static".into(), admin: 5, metric: 0 };
                    d.routes.push(static_route);
                }
            }
            ["protocols", "ospf", rest @ ..] => {
                let p = d.ospf.get_or_insert_with(|| crate::ospf::Process {
                    line: s.line,
                    reference_mbps: 100,
                    distance: 10,
                    external_distance: 150,
                    ..crate::ospf::Process::default()
                });
                match rest {
                    ["area", area, "interface", name, what @ ..] => {
                        let Some(area) = crate::ospf::parse_area(area) else { continue };
                        // `ge-0/0/0` means its unit 0.
                        let name = if name.contains('.') { (*name).to_owned() } else { format!("{name}.0") };
                        ospf_interfaces.push((name, area, what.iter().map(|w| (*w).to_owned()).collect()));
                    }
                    ["reference-bandwidth", bw] => p.reference_mbps = bandwidth_mbps(bw).unwrap_or(100),
                    ["export", policy] => ospf_exports.push((s.line, (*policy).to_owned())),
                    ["preference", n] => p.distance = n.parse().unwrap_or(10),
                    ["external-preference", n] => p.external_distance = n.parse().unwrap_or(150),
                    _ => {}
                }
            }
            ["policy-options", "policy-statement", name, rest @ ..] => {
                let (term, what) = match rest {
                    ["term", t, what @ ..] => ((*t).to_owned(), what),
                    what => (String::new(), what),
                };
                let words: Vec<String> = what.iter().map(|w| (*w).to_owned()).collect();
                policy_statements.entry((*name).to_owned()).or_default().push((term, words));
            }
            ["interfaces", name, "disable"] => {
                for i in d.interfaces.iter_mut().filter(|i| i.name.starts_with(&format!("{name}."))) {
                    i.shutdown = true;
                }
            }
            _ => {}
        }
    }
    ospf_settings(&mut d, ospf_interfaces, &ospf_exports, &policy_statements);
    bgp_settings(&mut d, &all, &policy_statements);
    for (family, name, line, terms) in filters {
        let mut acl = Acl { name: name.clone(), line, family, rules: Vec::new() };
        for term in terms {
            match rules(&term, family, &prefix_lists) {
                Ok((rules, undefined)) => {
                    for u in undefined {
                        d.warnings.push(Warning {
                            line: term.line,
                            text: format!("term {}", term.name),
                            message: format!("prefix-list `{u}` is not defined; the term matches nothing"),
                        });
                    }
                    let text = format!("term {}", term.name);
                    acl.rules.extend(rules.into_iter().map(|r| Rule { line: term.line, text: text.clone(), ..r }));
                }
                Err((at, why)) => {
                    d.warnings.push(Warning {
                        line: at.unwrap_or(term.line),
                        text: format!("term {}", term.name),
                        message: format!("{why}; the term is left out of `{name}`"),
                    });
                    d.mark_partial(&name);
                }
            }
        }
        d.acls.push(acl);
    }
    let flat: Vec<(usize, Vec<String>)> = all.into_iter().map(|s| (s.line, s.words)).collect();
    crate::srx::read(&flat, &mut d);
    d.warn_undefined_bindings(|b| {
        (
            format!("{} filter {} {}", b.interface, b.direction, b.acl),
            format!("filter `{}` is not defined on this device", b.acl),
        )
    });
    d
}

fn warning(line: usize, w: &[&str], message: &str) -> Warning {
    Warning { line, text: w.join(" "), message: message.to_owned() }
}

/// An address or prefix (`1.2.3.4` is a /32).
pub(crate) fn address(a: &str) -> Option<AddrMatch> {
    if a.contains(':') {
        let (p, len) = a.split_once('/').unwrap_or((a, "128"));
        let p: Ipv6Addr = p.parse().ok()?;
        let len: u8 = len.parse().ok().filter(|l| *l <= 128)?;
        let keep = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
        return Some(AddrMatch::Prefix6 { addr: u128::from(p) & keep, len });
    }
    if a.contains('/') { prefix4(a) } else { prefix4(&format!("{a}/32")) }
}

pub(crate) fn protocol(p: &str, v6: bool) -> Result<Option<u8>, String> {
    Ok(Some(match p {
        "tcp" => 6,
        "udp" => 17,
        "icmp" => 1,
        "icmp6" | "icmpv6" => 58,
        "igmp" => 2,
        "ipip" => 4,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "ospf" => 89,
        "pim" => 103,
        "vrrp" => 112,
        "sctp" => 132,
        "rsvp" => 46,
        "egp" => 8,
        "ipv6" if !v6 => 41,
        n => n.parse::<u8>().map_err(|_| format!("unknown protocol `{n}`"))?,
    }))
}

/// A port or range (`80`, `1024-65535`, `http`).
pub(crate) fn ports(v: &str) -> Result<(u16, u16), String> {
    let one = |p: &str| -> Result<u16, String> {
        match p {
            "http" => Ok(80),
            "https" => Ok(443),
            "ldp" => Ok(646),
            "ms-rpc" => Ok(135),
            "nfsd" => Ok(2049),
            "snmptrap" => Ok(162),
            "xdmcp" => Ok(177),
            p => port(p),
        }
    };
    match v.split_once('-') {
        Some((a, b)) if a.parse::<u16>().is_ok() => {
            let (a, b) = (one(a)?, one(b)?);
            Ok((a.min(b), a.max(b)))
        }
        _ => one(v).map(|p| (p, p)),
    }
}

pub(crate) fn icmp_type(v: &str, v6: bool) -> Result<u8, String> {
    let named = if v6 {
        match v {
            "destination-unreachable" | "unreachable" => Some(1),
            "packet-too-big" => Some(2),
            "time-exceeded" => Some(3),
            "parameter-problem" => Some(4),
            "echo-request" => Some(128),
            "echo-reply" => Some(129),
            "router-solicit" => Some(133),
            "router-advertisement" => Some(134),
            "neighbor-solicit" => Some(135),
            "neighbor-advertisement" => Some(136),
            "redirect" => Some(137),
            _ => None,
        }
    } else {
        match v {
            "echo-reply" => Some(0),
            "unreachable" | "destination-unreachable" => Some(3),
            "source-quench" => Some(4),
            "redirect" => Some(5),
            "echo-request" => Some(8),
            "router-advertisement" => Some(9),
            "router-solicit" => Some(10),
            "time-exceeded" => Some(11),
            "parameter-problem" => Some(12),
            "timestamp" => Some(13),
            "timestamp-reply" => Some(14),
            "info-request" => Some(15),
            "info-reply" => Some(16),
            "mask-request" => Some(17),
            "mask-reply" => Some(18),
            _ => None,
        }
    };
    named.or_else(|| v.parse().ok()).ok_or_else(|| format!("unknown ICMP type `{v}`"))
}

type TermError = (Option<usize>, String);

/// The first-match rules a term stands for, and the prefix-lists it names that are missing.
fn rules(
    term: &Term,
    family: Family,
    lists: &HashMap<String, Vec<AddrMatch>>,
) -> Result<(Vec<Rule>, Vec<String>), TermError> {
    let v6 = family == Family::V6;
    let mut undefined = Vec::new();
    let (mut src, mut dst, mut either) = (Vec::new(), Vec::new(), Vec::new());
    let (mut protos, mut sports, mut dports, mut anyports, mut icmp) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut icmp_code: Option<u8> = None;
    let (mut established, mut fragments) = (false, false);
    for (cond, value, line) in &term.from {
        let at = |why: String| (Some(*line), why);
        let prefix_list = |name: &str, undefined: &mut Vec<String>| match lists.get(name) {
            Some(l) => AddrMatch::AnyOf(l.clone()),
            None => {
                undefined.push(name.to_owned());
                AddrMatch::Undefined(name.to_owned())
            }
        };
        if value.ends_with(" except") {
            return Err(at(format!("`{cond} {value}`: address exceptions are not modelled yet")));
        }
        let addr = || address(value).ok_or_else(|| at(format!("`{value}` is not an address or prefix")));
        match cond.as_str() {
            "source-address" | "ip-source-address" => src.push(addr()?),
            "destination-address" | "ip-destination-address" => dst.push(addr()?),
            "address" | "ip-address" => either.push(addr()?),
            "source-prefix-list" => src.push(prefix_list(value, &mut undefined)),
            "destination-prefix-list" => dst.push(prefix_list(value, &mut undefined)),
            "prefix-list" => either.push(prefix_list(value, &mut undefined)),
            "protocol" | "next-header" | "payload-protocol" => protos.push(protocol(value, v6).map_err(at)?),
            "source-port" => sports.push(ports(value).map_err(at)?),
            "destination-port" => dports.push(ports(value).map_err(at)?),
            "port" => anyports.push(ports(value).map_err(at)?),
            "icmp-type" => {
                // A range of types is one alternative per type.
                match value.split_once('-').filter(|(a, _)| a.parse::<u8>().is_ok()) {
                    Some((a, b)) => {
                        let (a, b): (u8, u8) =
                            (a.parse().unwrap_or(0), b.parse().map_err(|_| at(format!("`{value}`")))?);
                        icmp.extend(a.min(b)..=a.max(b));
                    }
                    None => icmp.push(icmp_type(value, v6).map_err(at)?),
                }
            }
            "icmp-code" => {
                icmp_code = Some(value.parse().map_err(|_| at(format!("ICMP code `{value}` is not a number")))?)
            }
            "tcp-established" => established = true,
            "is-fragment" => fragments = true,
            other => return Err(at(format!("`from {other}` is not modelled yet"))),
        }
    }
    // The action: the first terminating one; a term with none accepts.
    let mut action = Action::Permit;
    for a in &term.then {
        let word = a.split_whitespace().next().unwrap_or_default();
        match word {
            "accept" | "routing-instance" | "next-ip" | "next-ip6" => {
                action = Action::Permit;
                break;
            }
            "discard" | "reject" => {
                action = Action::Deny;
                break;
            }
            // `next term` decides nothing: the term adds no rule.
            "next" => return Ok((Vec::new(), undefined)),
            _ => {}
        }
    }
    if icmp_code.is_some() && icmp.is_empty() {
        return Err((None, "`icmp-code` without `icmp-type` is not modelled yet".into()));
    }
    let any_of = |v: Vec<AddrMatch>| match v.len() {
        0 => AddrMatch::Any,
        1 => v.into_iter().next().unwrap_or(AddrMatch::Any),
        _ => AddrMatch::AnyOf(v),
    };
    let port_match = |v: &[(u16, u16)]| if v.is_empty() { PortMatch::any() } else { PortMatch(v.to_vec()) };
    let base = Rule {
        src: any_of(src),
        dst: any_of(dst),
        sport: port_match(&sports),
        dport: port_match(&dports),
        established,
        fragments,
        ..Rule::any(action, 0)
    };
    // `address`/`prefix-list` and `port` match either side: a rule for each side.
    let mut variants = vec![base];
    if !either.is_empty() {
        let e = any_of(either);
        variants = variants
            .into_iter()
            .flat_map(|r| [Rule { src: e.clone(), ..r.clone() }, Rule { dst: e.clone(), ..r }])
            .collect();
    }
    if !anyports.is_empty() {
        let p = PortMatch(anyports);
        variants = variants
            .into_iter()
            .flat_map(|r| [Rule { sport: p.clone(), ..r.clone() }, Rule { dport: p.clone(), ..r }])
            .collect();
    }
    let protos = if protos.is_empty() { vec![None] } else { protos };
    let mut out = Vec::new();
    for r in variants {
        for &proto in &protos {
            if icmp.is_empty() {
                out.push(Rule { proto, ..r.clone() });
            } else {
                for &t in &icmp {
                    out.push(Rule { proto, icmp: Some((t, icmp_code)), ..r.clone() });
                }
            }
        }
    }
    if out.len() > 4096 {
        return Err((None, format!("expands to {} rules; too many to analyse", out.len())));
    }
    Ok((out, undefined))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::Flow;
    use crate::arbitrary::flow;

    const BRACES: &str = "\
system { host-name edge1; }
interfaces {
    ge-0/0/0 {
        unit 0 {
            family inet {
                filter { input EDGE-IN; }
                address 203.0.113.1/24;
            }
        }
    }
}
policy-options {
    prefix-list NOC { 192.0.2.0/24; 198.51.100.7/32; }
}
firewall {
    family inet {
        /* generated */
        replace: filter EDGE-IN {
            interface-specific;
            term mgmt {
                from {
                    source-prefix-list NOC;
                    protocol tcp;
                    destination-port [ ssh 830 ];
                }
                then accept;
            }
            term web {
                from {
                    destination-address { 203.0.113.10/32; 203.0.113.11/32; }
                    protocol [ tcp udp ];
                    destination-port https;
                }
                then { count web; accept; }
            }
            inactive: term old { then accept; }
            term ping {
                from { protocol icmp; icmp-type echo-request; }
                then { policer p1; }
            }
            term rest { then { discard; } }
        }
    }
}
";

    const SET: &str = "\
set system host-name edge1
set interfaces ge-0/0/0 unit 0 family inet filter input EDGE-IN
set interfaces ge-0/0/0 unit 0 family inet address 203.0.113.1/24
set policy-options prefix-list NOC 192.0.2.0/24
set policy-options prefix-list NOC 198.51.100.7/32
set firewall family inet filter EDGE-IN interface-specific
set firewall family inet filter EDGE-IN term mgmt from source-prefix-list NOC
set firewall family inet filter EDGE-IN term mgmt from protocol tcp
set firewall family inet filter EDGE-IN term mgmt from destination-port ssh
set firewall family inet filter EDGE-IN term mgmt from destination-port 830
set firewall family inet filter EDGE-IN term mgmt then accept
set firewall family inet filter EDGE-IN term web from destination-address 203.0.113.10/32
set firewall family inet filter EDGE-IN term web from destination-address 203.0.113.11/32
set firewall family inet filter EDGE-IN term web from protocol tcp
set firewall family inet filter EDGE-IN term web from protocol udp
set firewall family inet filter EDGE-IN term web from destination-port https
set firewall family inet filter EDGE-IN term web then count web
set firewall family inet filter EDGE-IN term web then accept
set firewall family inet filter EDGE-IN term old then accept
deactivate firewall family inet filter EDGE-IN term old
set firewall family inet filter EDGE-IN term ping from protocol icmp
set firewall family inet filter EDGE-IN term ping from icmp-type echo-request
set firewall family inet filter EDGE-IN term ping then policer p1
set firewall family inet filter EDGE-IN term rest then discard
";

    #[test]
    fn both_forms_read_the_same_filter() {
        for text in [BRACES, SET] {
            let d = parse(text);
            assert!(d.warnings.is_empty(), "{:?}", d.warnings);
            assert_eq!(d.hostname.as_deref(), Some("edge1"));
            let acl = d.acl("EDGE-IN").unwrap();
            // mgmt: one rule (two ports in one list); web: two protocols; ping; rest.
            assert_eq!(acl.rules.len(), 5, "{:#?}", acl.rules);
            assert_eq!(d.bindings[0].interface, "ge-0/0/0.0");
            assert_eq!(d.interfaces[0].addresses, vec!["203.0.113.1/24".to_owned()]);
            let term = |f: Flow| acl.decide(&f).rule.map(|i| acl.rules[i].text.clone());
            assert_eq!(term(flow("192.0.2.9", "203.0.113.1", 6, 22)).as_deref(), Some("term mgmt"));
            assert_eq!(term(flow("192.0.2.9", "203.0.113.1", 6, 830)).as_deref(), Some("term mgmt"));
            assert_eq!(term(flow("198.18.0.1", "203.0.113.1", 6, 22)).as_deref(), Some("term rest"));
            assert_eq!(term(flow("198.18.0.1", "203.0.113.11", 17, 443)).as_deref(), Some("term web"));
            // A term with only a modifier (policer) accepts; the inactive term is gone.
            let ping = acl.decide(&flow("198.18.0.1", "203.0.113.1", 1, 0));
            assert_eq!(
                (ping.action, ping.rule.map(|i| acl.rules[i].text.as_str())),
                (Action::Permit, Some("term ping"))
            );
        }
    }

    #[test]
    fn unmodelled_conditions_leave_the_term_out_with_a_warning() {
        let d = parse(
            "set firewall filter F term a from source-address 10.0.0.0/8 except\n\
             set firewall filter F term a then accept\n\
             set firewall filter F term b from dscp ef\n\
             set firewall filter F term b then accept\n\
             set firewall filter F term c from source-prefix-list MISSING\n\
             set firewall filter F term c then accept\n",
        );
        let acl = d.acl("F").unwrap();
        assert_eq!(acl.rules.len(), 1);
        let lines: Vec<usize> = d.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, vec![1, 3, 5], "{:?}", d.warnings);
        assert!(d.partial.contains(&"F".to_owned()));
    }
}
