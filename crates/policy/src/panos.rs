//! Palo Alto PAN-OS and Panorama configurations, in XML (as exported or as
//! `show config running`) and in `set` form: security rulebases into [`ZonePolicy`]s.
//!
//! Both forms are read into one tree shaped like the XML (`entry` nodes carry names, `member`
//! lists are values), so one extractor serves both. A firewall gives one policy per vsys; a
//! Panorama one per device group, its rules in evaluation order: shared pre-rules, the
//! ancestors' pre-rules from the top, the group's own pre- then post-rules, the ancestors'
//! post-rules, shared post-rules, then `intrazone-default` (allow) and `interzone-default`
//! (deny) unless overridden. Names resolve in the vsys or device group, then its ancestors,
//! then `shared`.
//!
//! Security rules match pre-NAT addresses and (post-NAT) zones; NAT rules are not read yet.
//! What the configuration cannot decide becomes a *may* condition on the rule (see
//! [`crate::zone`]): FQDN and dynamic addresses, external lists, regions, URL categories,
//! schedules, HIP profiles, and the ports `application-default` means for an application
//! neither built in here nor defined in the file.

use crate::acl::{Action, AddrMatch, PortMatch, Rule};
use crate::device::{Device, Interface, Object, Warning};
use crate::ios::Service;
use crate::nat::{Address, NatRule, Translation};
use crate::zone::{DefaultRule, Labels, RuleType, ZonePolicy, ZoneRule};
use std::collections::HashMap;
use std::net::IpAddr;

/// A node of the configuration tree.
#[derive(Debug, Default)]
struct Node {
    key: String,
    /// For `entry` nodes.
    name: Option<String>,
    line: usize,
    /// Text content, or the `member` list.
    values: Vec<String>,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, key: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.key == key)
    }

    fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, k| n.child(k))
    }

    /// The named entries under `key`.
    fn entries(&self, key: &str) -> impl Iterator<Item = &Node> {
        self.child(key).into_iter().flat_map(|c| c.children.iter().filter(|e| e.key == "entry"))
    }

    fn entry(&self, key: &str, name: &str) -> Option<&Node> {
        self.entries(key).find(|e| e.name.as_deref() == Some(name))
    }

    fn text(&self, path: &[&str]) -> Option<&str> {
        self.at(path).and_then(|n| n.values.first()).map(String::as_str)
    }

    fn list(&self, key: &str) -> &[String] {
        self.child(key).map_or(&[], |n| &n.values)
    }

    fn yes(&self, key: &str) -> bool {
        self.text(&[key]) == Some("yes")
    }
}

/// Reads a PAN-OS or Panorama configuration, XML or `set` form.
pub fn parse(text: &str) -> Device {
    let mut d = Device::default();
    let root = match tree(text, &mut d.warnings) {
        Ok(root) => root,
        Err((line, why)) => {
            d.warnings.push(Warning {
                line,
                text: text.lines().nth(line.saturating_sub(1)).unwrap_or("").trim().to_owned(),
                message: format!("not well-formed XML ({why}); nothing after it was read"),
            });
            return d;
        }
    };
    d.nat_order = crate::nat::NatOrder::PanOs;
    extract(&root, &mut d);
    d
}

/// The configuration as one XML-shaped tree, whichever of the three forms it is in.
fn tree(text: &str, warnings: &mut Vec<Warning>) -> Result<Node, (usize, String)> {
    let root = if text.trim_start().starts_with('<') {
        from_xml(text)?
    } else if brace_form(text) {
        // Batfish's nested form of `show config`: the same paths, written as blocks.
        let mut root = Node { key: "config".into(), ..Node::default() };
        let (lines, too_deep) = crate::junos::lines_checked(text);
        for (line, ws) in lines {
            let ws: Vec<Word> = ws.into_iter().map(Word::One).collect();
            insert(&mut root, &ws, line);
        }
        for line in too_deep {
            warnings.push(Warning {
                line,
                text: String::new(),
                message: format!("blocks nested more than {} deep are not read", crate::junos::MAX_DEPTH),
            });
        }
        root
    } else {
        from_set(text, warnings)
    };
    // The nested form wraps everything in `config { }`.
    Ok(match root.children.iter().position(|c| c.key == "config") {
        Some(at) if root.children.len() <= 2 => {
            let mut root = root;
            let mut inner = root.children.remove(at);
            inner.children.append(&mut root.children);
            inner
        }
        _ => root,
    })
}

/// Whether the first statement opens a block.
fn brace_form(text: &str) -> bool {
    text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).is_some_and(|l| l.ends_with('{'))
}

fn from_xml(text: &str) -> Result<Node, (usize, String)> {
    let doc = roxmltree::Document::parse(text).map_err(|e| (e.pos().row as usize, e.to_string()))?;
    // Line numbers by binary search over line starts (asking the document per node is a
    // scan from the start, quadratic on a large export).
    let starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let line_of = |at: usize| starts.partition_point(|&s| s <= at);
    fn walk(n: roxmltree::Node, line_of: &dyn Fn(usize) -> usize, depth: usize) -> Node {
        let mut out = Node {
            key: n.tag_name().name().to_owned(),
            name: n.attribute("name").map(str::to_owned),
            line: line_of(n.range().start),
            ..Node::default()
        };
        for c in n.children() {
            if c.is_text() {
                let t = c.text().unwrap_or("").trim();
                if !t.is_empty() {
                    out.values.push(t.to_owned());
                }
            } else if c.is_element() {
                if c.tag_name().name() == "member" {
                    out.values.push(c.text().unwrap_or("").trim().to_owned());
                } else if depth < crate::junos::MAX_DEPTH {
                    // Deeper than any PAN-OS configuration goes: not read.
                    out.children.push(walk(c, line_of, depth + 1));
                }
            }
        }
        out
    }
    Ok(walk(doc.root_element(), &line_of, 0))
}

/// Keys whose next word in `set` form names an entry.
const COLLECTIONS: &[&str] = &[
    "address",
    "address-group",
    "service",
    "service-group",
    "application",
    "application-group",
    "application-filter",
    "zone",
    "rules",
    "vsys",
    "device-group",
    "template",
    "template-stack",
    "devices",
    "ethernet",
    "loopback",
    "tunnel",
    "vlan",
    "aggregate-ethernet",
    "units",
    "schedule",
    "tag",
    "external-list",
    "virtual-router",
    "static-route",
    "profile-group",
    "region",
];

/// Splits a `set` line into words: `"quoted words"` are one, `[ a b ]` a list.
fn words(line: &str) -> Result<Vec<Word>, String> {
    let mut out = Vec::new();
    let mut list: Option<Vec<String>> = None;
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let word = if c == '"' || c == '\'' {
            chars.next();
            let mut w = String::new();
            loop {
                match chars.next() {
                    Some(q) if q == c => break,
                    Some(x) => w.push(x),
                    None => return Err("a quote is not closed".into()),
                }
            }
            w
        } else {
            // `[` and `]` are words of their own even when written against another.
            let mut w = String::new();
            while let Some(&x) = chars.peek() {
                if x.is_whitespace() || (x == ']' || x == '[') && !w.is_empty() {
                    break;
                }
                w.push(x);
                chars.next();
                if x == '[' || x == ']' {
                    break;
                }
            }
            w
        };
        match (word.as_str(), &mut list) {
            ("[", None) => list = Some(Vec::new()),
            ("]", Some(_)) => out.push(Word::List(list.take().unwrap_or_default())),
            (_, Some(l)) => l.push(word),
            (_, None) => out.push(Word::One(word)),
        }
    }
    if list.is_some() {
        return Err("a `[` list is not closed".into());
    }
    Ok(out)
}

enum Word {
    One(String),
    List(Vec<String>),
}

fn from_set(text: &str, warnings: &mut Vec<Warning>) -> Node {
    let mut root = Node { key: "config".into(), ..Node::default() };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let ws = match words(line) {
            Ok(ws) => ws,
            Err(why) => {
                warnings.push(Warning { line: n, text: line.into(), message: why });
                continue;
            }
        };
        match ws.first() {
            Some(Word::One(s)) if s == "set" => {}
            _ => {
                warnings.push(Warning { line: n, text: line.into(), message: "not a `set` command; left out".into() });
                continue;
            }
        }
        if ws.len() > crate::junos::MAX_DEPTH {
            warnings.push(Warning {
                line: n,
                text: line.chars().take(80).collect(),
                message: format!("a path of more than {} words is not read", crate::junos::MAX_DEPTH),
            });
            continue;
        }
        insert(&mut root, &ws[1..], n);
    }
    root
}

/// Adds one `set` command's path and value to the tree.
fn insert(root: &mut Node, ws: &[Word], line: usize) {
    let mut node = root;
    let mut i = 0;
    // Inside a rule, `application`, `service` and `tag` are member lists, not collections.
    let mut in_rule = false;
    while i < ws.len() {
        let last = i + 1 == ws.len();
        let name_next = COLLECTIONS.contains(&node.key.as_str()) && !in_rule;
        match &ws[i] {
            Word::List(vs) => {
                node.values.extend(vs.iter().cloned());
                return;
            }
            Word::One(w) if name_next => {
                let at = match node.children.iter().rposition(|c| c.key == "entry" && c.name.as_deref() == Some(w)) {
                    Some(at) => at,
                    None => {
                        node.children.push(Node {
                            key: "entry".into(),
                            name: Some(w.clone()),
                            line,
                            ..Node::default()
                        });
                        node.children.len() - 1
                    }
                };
                in_rule = node.key == "rules";
                node = &mut node.children[at];
            }
            Word::One(w) if last && i > 0 => {
                node.values.push(w.clone());
                return;
            }
            Word::One(w) => {
                let at = match node.children.iter().rposition(|c| c.key == *w && c.name.is_none()) {
                    Some(at) => at,
                    None => {
                        node.children.push(Node { key: w.clone(), line, ..Node::default() });
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[at];
            }
        }
        i += 1;
    }
}

/// The configuration's settings as words in `set` form (without `set`), with their lines,
/// whichever form it is in: what the hardening checks of [`crate::pack`] read. XML paths
/// read like `set` paths (`devices localhost.localdomain deviceconfig system …`).
pub fn lines(text: &str) -> Vec<(usize, Vec<String>)> {
    let Ok(root) = tree(text, &mut Vec::new()) else { return Vec::new() };
    let mut out = Vec::new();
    let mut path = Vec::new();
    for c in &root.children {
        flatten(c, &mut path, &mut out);
    }
    out.sort_by_key(|(line, _)| *line);
    out
}

fn flatten(n: &Node, path: &mut Vec<String>, out: &mut Vec<(usize, Vec<String>)>) {
    let pushed = match (&n.name, n.key.as_str()) {
        (Some(name), "entry") => vec![name.clone()],
        (Some(name), key) => vec![key.to_owned(), name.clone()],
        (None, key) => vec![key.to_owned()],
    };
    let depth = path.len();
    path.extend(pushed);
    for v in &n.values {
        let mut words = path.clone();
        words.push(v.clone());
        out.push((n.line, words));
    }
    if n.values.is_empty() && n.children.is_empty() {
        out.push((n.line, path.clone()));
    }
    for c in &n.children {
        flatten(c, path, out);
    }
    path.truncate(depth);
}

/// Where names are looked up: a vsys or device group, then its ancestors, then `shared`.
struct Scope<'a> {
    chain: Vec<&'a Node>,
}

impl<'a> Scope<'a> {
    fn find(&self, key: &str, name: &str) -> Option<&'a Node> {
        self.chain.iter().find_map(|n| n.entry(key, name))
    }
}

fn extract(root: &Node, d: &mut Device) {
    let devices: Vec<&Node> = root.entries("devices").collect();
    let shared = root.child("shared");
    d.hostname = devices
        .iter()
        .chain(std::iter::once(&root))
        .find_map(|n| n.text(&["deviceconfig", "system", "hostname"]))
        .map(str::to_owned);
    for dev in devices.iter().chain(std::iter::once(&root)) {
        if let Some(eth) = dev.at(&["network", "interface"]) {
            // Ethernet ports and their subinterfaces (`layer3 units`).
            let ports: Vec<&Node> = eth.entries("ethernet").chain(eth.entries("aggregate-ethernet")).collect();
            let units = ports.iter().flat_map(|e| e.at(&["layer3"]).into_iter().flat_map(|l3| l3.entries("units")));
            let all: Vec<(&Node, Option<&Node>)> =
                ports.iter().map(|e| (*e, e.at(&["layer3", "ip"]))).chain(units.map(|u| (u, u.at(&["ip"])))).collect();
            for (e, ip) in all {
                let addresses = ip
                    .map(|ip| {
                        ip.children.iter().filter_map(|c| c.name.clone()).chain(ip.values.iter().cloned()).collect()
                    })
                    .unwrap_or_default();
                d.interfaces.push(Interface {
                    line: e.line,
                    name: e.name.clone().unwrap_or_default(),
                    addresses,
                    ..Interface::default()
                });
            }
        }
    }
    // Zones: every zone defined anywhere (a vsys, or a Panorama template).
    let mut zones = Vec::new();
    collect_zones(root, &mut zones);
    for v in devices.iter().flat_map(|dv| dv.entries("vsys")).chain(std::iter::once(root)) {
        for z in v.entries("zone") {
            for member in z.at(&["network", "layer3"]).map_or(&[][..], |n| &n.values) {
                if let Some(i) = d.interfaces.iter_mut().find(|i| &i.name == member) {
                    i.zone = z.name.clone();
                }
            }
        }
    }
    // Static routes of every virtual router.
    for dev in devices.iter().chain(std::iter::once(&root)) {
        for vr in dev.at(&["network"]).into_iter().flat_map(|n| n.entries("virtual-router")) {
            for sr in vr.at(&["routing-table", "ip"]).into_iter().flat_map(|n| n.entries("static-route")) {
                let Some((_, network, len)) = sr.text(&["destination"]).and_then(crate::route::parse_prefix) else {
                    continue;
                };
                let gw = sr.text(&["nexthop", "ip-address"]).and_then(|g| g.parse::<IpAddr>().ok());
                let next_hop = match (sr.text(&["interface"]), gw, sr.at(&["nexthop", "discard"])) {
                    (_, _, Some(_)) => crate::route::NextHop::Discard,
                    (Some(i), gw, None) => crate::route::NextHop::Interface { name: i.to_owned(), ip: gw },
                    (None, Some(gw), None) => crate::route::NextHop::Ip(gw),
                    (None, None, None) => continue,
                };
                let admin = sr.text(&["admin-dist"]).and_then(|a| a.parse().ok()).unwrap_or(10);
                let metric = sr.text(&["metric"]).and_then(|m| m.parse().ok()).unwrap_or(10);
                d.routes.push(crate::route::Route { network, len, next_hop, protocol: "static".into(), admin, metric });
            }
        }
    }

    let mut vsys: Vec<&Node> = devices.iter().flat_map(|dv| dv.entries("vsys")).chain(root.entries("vsys")).collect();
    if root.child("rulebase").is_some() || root.child("address").is_some() || root.child("zone").is_some() {
        vsys.push(root);
    }
    let parents: HashMap<String, String> = root
        .at(&["readonly"])
        .into_iter()
        .flat_map(|r| r.entries("devices"))
        .flat_map(|dv| dv.entries("device-group"))
        .filter_map(|g| Some((g.name.clone()?, g.text(&["parent-dg"])?.to_owned())))
        .collect();
    let mut groups: Vec<&Node> = Vec::new();
    for g in devices.iter().flat_map(|dv| dv.entries("device-group")).chain(root.entries("device-group")) {
        match groups.iter().find(|x| x.name == g.name) {
            Some(first) => d.warnings.push(Warning {
                line: g.line,
                text: format!("device-group {}", g.name.as_deref().unwrap_or("")),
                message: format!("defined again (first at line {}); this one is left out", first.line),
            }),
            None => groups.push(g),
        }
    }
    // Rules a Panorama pushed to this firewall: before and after the local ones.
    let pushed = |which: &str| root.at(&["policy", "panorama", which, "security", "rules"]);

    let mut defined = Vec::new();
    for v in &vsys {
        let name = v.name.clone().unwrap_or_else(|| "vsys1".into());
        // Rules a Panorama pushed bring their own objects.
        let scope =
            Scope { chain: [Some(*v), root.at(&["policy", "panorama"]), shared].into_iter().flatten().collect() };
        let rulebases = [pushed("pre-rulebase"), v.at(&["rulebase", "security", "rules"]), pushed("post-rulebase")];
        let defaults = [v.at(&["rulebase", "default-security-rules", "rules"])];
        let own_zones: Vec<String> = v.entries("zone").filter_map(|z| z.name.clone()).collect();
        let zones = if own_zones.is_empty() { zones.clone() } else { own_zones };
        d.zone_policies.push(policy(&name, v.line, &scope, &rulebases, &defaults, zones, &mut d.warnings));
        let pushed_nat = |which: &str| root.at(&["policy", "panorama", which, "nat", "rules"]);
        for rb in [pushed_nat("pre-rulebase"), v.at(&["rulebase", "nat", "rules"]), pushed_nat("post-rulebase")] {
            for e in rb.into_iter().flat_map(|rb| rb.children.iter().filter(|e| e.key == "entry")) {
                d.nat.extend(nat_rule(e, &scope, &mut d.warnings));
            }
        }
        defined.push(*v);
    }
    for g in &groups {
        let name = g.name.clone().unwrap_or_default();
        // The group, then its ancestors (nearest first).
        let mut lineage = vec![*g];
        let mut at = name.clone();
        while let Some(p) = parents.get(&at) {
            match groups.iter().find(|x| x.name.as_deref() == Some(p.as_str())) {
                Some(pg) if lineage.iter().any(|l| std::ptr::eq(*l, *pg)) => {
                    d.warnings.push(Warning {
                        line: g.line,
                        text: format!("device-group {name}"),
                        message: format!("its parents loop back through `{p}`; the loop is cut there"),
                    });
                    break;
                }
                Some(pg) => {
                    lineage.push(pg);
                    at = p.clone();
                }
                None => break,
            }
        }
        let scope = Scope { chain: lineage.iter().copied().chain(shared).collect() };
        let mut rulebases: Vec<Option<&Node>> = vec![shared.and_then(|s| s.at(&["pre-rulebase", "security", "rules"]))];
        rulebases.extend(lineage.iter().rev().map(|n| n.at(&["pre-rulebase", "security", "rules"])));
        rulebases.extend(lineage.iter().map(|n| n.at(&["post-rulebase", "security", "rules"])));
        rulebases.push(shared.and_then(|s| s.at(&["post-rulebase", "security", "rules"])));
        let defaults: Vec<Option<&Node>> = lineage
            .iter()
            .copied()
            .chain(shared)
            .map(|n| n.at(&["post-rulebase", "default-security-rules", "rules"]))
            .collect();
        d.zone_policies.push(policy(&name, g.line, &scope, &rulebases, &defaults, zones.clone(), &mut d.warnings));
        let mut nat: Vec<&Node> =
            lineage.iter().rev().filter_map(|n| n.at(&["pre-rulebase", "nat", "rules"])).collect();
        nat.extend(lineage.iter().filter_map(|n| n.at(&["post-rulebase", "nat", "rules"])));
        for e in nat.into_iter().flat_map(|rb| rb.children.iter().filter(|e| e.key == "entry")) {
            d.nat.extend(nat_rule(e, &scope, &mut d.warnings));
        }
        defined.push(*g);
    }
    // A Panorama with shared rules and no device group still has a policy to analyse.
    if groups.is_empty()
        && let Some(s) = shared
        && (s.at(&["pre-rulebase", "security", "rules"]).is_some()
            || s.at(&["post-rulebase", "security", "rules"]).is_some())
    {
        let scope = Scope { chain: vec![s] };
        let rulebases = [s.at(&["pre-rulebase", "security", "rules"]), s.at(&["post-rulebase", "security", "rules"])];
        let defaults = [s.at(&["post-rulebase", "default-security-rules", "rules"])];
        d.zone_policies.push(policy("shared", s.line, &scope, &rulebases, &defaults, zones.clone(), &mut d.warnings));
    }
    // Objects, for unused-object findings: used when some member list anywhere names them
    // (a rule, a group, a NAT rule); descriptions do not count.
    let mut named = std::collections::HashSet::new();
    collect_values(root, &mut named);
    for holder in defined.iter().copied().chain(shared) {
        for key in ["address", "address-group", "service", "service-group", "application-group"] {
            for e in holder.entries(key) {
                if let Some(name) = &e.name {
                    let in_use = named.contains(name.as_str());
                    d.object_groups.push(Object { name: name.clone(), line: e.line, in_use });
                }
            }
        }
    }
}

fn collect_values<'a>(n: &'a Node, out: &mut std::collections::HashSet<&'a str>) {
    if n.key != "description" && n.key != "comments" {
        out.extend(n.values.iter().map(String::as_str));
    }
    for c in &n.children {
        collect_values(c, out);
    }
}

fn collect_zones(n: &Node, out: &mut Vec<String>) {
    for z in n.entries("zone") {
        if let Some(name) = &z.name
            && !out.contains(name)
        {
            out.push(name.clone());
        }
    }
    for c in &n.children {
        collect_zones(c, out);
    }
}

/// One policy from its rulebases (in evaluation order) and the places its defaults may be
/// overridden (first found wins).
fn policy(
    name: &str,
    line: usize,
    scope: &Scope,
    rulebases: &[Option<&Node>],
    defaults: &[Option<&Node>],
    zones: Vec<String>,
    warnings: &mut Vec<Warning>,
) -> ZonePolicy {
    let mut rules = Vec::new();
    for rb in rulebases.iter().flatten() {
        for e in rb.children.iter().filter(|e| e.key == "entry") {
            rules.extend(rule(e, scope, warnings));
        }
    }
    let default = |which: &str, action: Action| {
        let found = defaults.iter().flatten().find_map(|rs| {
            let e = rs.children.iter().find(|e| e.key == "entry" && e.name.as_deref() == Some(which))?;
            let a = e.text(&["action"])?;
            Some((e.line, a))
        });
        match found {
            Some((line, a)) => DefaultRule { name: which.into(), action: action_of(a).unwrap_or(action), line },
            None => DefaultRule { name: which.into(), action, line: 0 },
        }
    };
    ZonePolicy {
        name: name.to_owned(),
        line,
        zones,
        rules,
        intrazone: default("intrazone-default", Action::Permit),
        interzone: default("interzone-default", Action::Deny),
    }
}

fn action_of(a: &str) -> Option<Action> {
    match a {
        "allow" => Some(Action::Permit),
        "deny" | "drop" | "reset-client" | "reset-server" | "reset-both" => Some(Action::Deny),
        _ => None,
    }
}

fn labels(vs: &[String]) -> Labels {
    if vs.is_empty() || vs.iter().any(|v| v == "any") { Labels::Any } else { Labels::Only(vs.to_vec()) }
}

/// A NAT rule: zones, the original packet, and the source and destination translations.
fn nat_rule(e: &Node, scope: &Scope, warnings: &mut Vec<Warning>) -> Option<NatRule> {
    let name = e.name.clone().unwrap_or_default();
    let mut may = Vec::new();
    let side = |key: &str, may: &mut Vec<String>| {
        let mut ms = Vec::new();
        for v in e.list(key) {
            resolve_address(v, scope, &mut Vec::new(), &mut ms, may, key);
        }
        if e.list(key).is_empty() {
            ms.push(AddrMatch::Any);
        }
        AddrMatch::AnyOf(ms)
    };
    let (src, dst) = (side("source", &mut may), side("destination", &mut may));
    if !may.is_empty() {
        warnings.push(Warning {
            line: e.line,
            text: format!("nat rule {name}"),
            message: format!("matches addresses known only at run time ({}); left out", may.join(", ")),
        });
        return None;
    }
    let mut services = Vec::new();
    let mut undefined = Vec::new();
    for s in e.list("service") {
        resolve_service(s, scope, &mut Vec::new(), &mut services, &mut undefined);
    }
    if services.is_empty() {
        services.push(Service::any());
    }
    let base = Rule { src, dst, text: format!("nat rule {name}"), ..Rule::any(Action::Permit, e.line) };
    let matches = services
        .iter()
        .map(|s| s.narrow(&base))
        .chain(
            undefined.into_iter().map(|u| Rule { src: AddrMatch::Undefined(u), ..Rule::any(Action::Permit, e.line) }),
        )
        .collect();
    // A translated address: an object, a group (its first member) or a literal.
    let address = |v: &str| -> Option<Address> {
        let mut ms = Vec::new();
        resolve_address(v, scope, &mut Vec::new(), &mut ms, &mut Vec::new(), "translated");
        let first = ms.into_iter().find(|m| !matches!(m, AddrMatch::Undefined(_)))?;
        let (lo, hi) = range_of(&first)?;
        Some(Address::Range { lo, hi })
    };
    let first = |n: &Node| n.values.first().cloned();
    let st = e.child("source-translation");
    let source = st.and_then(|st| {
        if let Some(dip) = st.child("dynamic-ip-and-port") {
            if let Some(i) = dip.at(&["interface-address"]) {
                let iface = i.text(&["interface"]).map(str::to_owned).unwrap_or_default();
                return Some(Translation { address: Some(Address::Interface(iface)), port: None });
            }
            return dip
                .child("translated-address")
                .and_then(first)
                .map(|a| Translation { address: address(&a), port: None });
        }
        if let Some(d) = st.child("dynamic-ip") {
            return d
                .child("translated-address")
                .and_then(first)
                .map(|a| Translation { address: address(&a), port: None });
        }
        st.child("static-ip")
            .and_then(|s| s.child("translated-address"))
            .and_then(first)
            .map(|a| Translation { address: address(&a), port: None })
    });
    let bidirectional = st
        .and_then(|st| st.at(&["static-ip", "bi-directional"]))
        .and_then(|b| b.values.first())
        .is_some_and(|v| v == "yes");
    let destination = e.child("destination-translation").map(|dt| Translation {
        address: dt.child("translated-address").and_then(first).and_then(|a| address(&a)),
        port: dt.text(&["translated-port"]).and_then(|p| p.parse().ok()),
    });
    Some(NatRule {
        name,
        line: e.line,
        from: labels(e.list("from")),
        to: labels(e.list("to")),
        matches,
        source,
        destination,
        bidirectional,
        first_match: false,
        disabled: e.yes("disabled"),
    })
}

/// The addresses of one prefix or range.
fn range_of(m: &AddrMatch) -> Option<(IpAddr, IpAddr)> {
    match m {
        AddrMatch::Wildcard { addr, wildcard } => {
            Some((IpAddr::V4((addr & !wildcard).into()), IpAddr::V4((addr | wildcard).into())))
        }
        AddrMatch::Prefix6 { addr, len } => {
            let host = u128::MAX.checked_shr(u32::from(*len)).unwrap_or(0);
            Some((IpAddr::V6((addr & !host).into()), IpAddr::V6((addr | host).into())))
        }
        // A range object: from its first block to its last.
        AddrMatch::AnyOf(all) => Some((range_of(all.first()?)?.0, range_of(all.last()?)?.1)),
        _ => None,
    }
}

/// A security rule: one [`ZoneRule`], or one per application when the service is
/// `application-default` (each application has its own ports).
fn rule(e: &Node, scope: &Scope, warnings: &mut Vec<Warning>) -> Vec<ZoneRule> {
    let name = e.name.clone().unwrap_or_default();
    let line = e.line;
    let warn = |warnings: &mut Vec<Warning>, message: String| {
        warnings.push(Warning { line, text: format!("rule {name}"), message });
    };
    let action = match e.text(&["action"]).map(|a| (a, action_of(a))) {
        Some((_, Some(a))) => a,
        Some((a, None)) => {
            warn(warnings, format!("action `{a}` is not allow, deny, drop or reset-*; read as deny"));
            Action::Deny
        }
        None => {
            warn(warnings, "the rule has no action; read as deny".into());
            Action::Deny
        }
    };
    let mut may = Vec::new();
    // Addresses only known at run time (FQDNs, dynamic groups, lists): the side may match
    // anything; negated, such addresses can only take some away. `known` is what is certain.
    let mut address_may = Vec::new();
    let side = |key: &str, negate: bool, what: &str, may: &mut Vec<String>| {
        let mut ms = Vec::new();
        let before = may.len();
        for v in e.list(key) {
            resolve_address(v, scope, &mut Vec::new(), &mut ms, may, what);
        }
        if e.list(key).is_empty() {
            ms.push(AddrMatch::Any);
        }
        crate::zone::address_side(ms, negate, what, &mut may[before..])
    };
    let (src, known_src) = side("source", e.yes("negate-source"), "source", &mut address_may);
    let (dst, known_dst) = side("destination", e.yes("negate-destination"), "destination", &mut address_may);
    let users = labels(e.list("source-user"));
    let mut apps_named = Vec::new();
    for a in e.list("application") {
        expand_app(a, scope, &mut Vec::new(), &mut apps_named, &mut may);
    }
    let apps = if e.list("application").iter().any(|a| a == "any") || e.list("application").is_empty() {
        Labels::Any
    } else {
        Labels::Only(apps_named.clone())
    };
    for c in e.list("category").iter().filter(|c| *c != "any") {
        may.push(format!("URL category is {c}"));
    }
    if let Some(s) = e.text(&["schedule"]) {
        may.push(format!("schedule {s} is active"));
    }
    for key in ["source-hip", "destination-hip"] {
        for h in e.list(key).iter().filter(|h| *h != "any") {
            may.push(format!("{key} profile {h} matches"));
        }
    }
    let log = e.text(&["log-end"]) != Some("no") || e.yes("log-start");
    let kind = match e.text(&["rule-type"]) {
        Some("intrazone") => RuleType::Intrazone,
        Some("interzone") => RuleType::Interzone,
        _ => RuleType::Universal,
    };
    let base = ZoneRule {
        name: name.clone(),
        line,
        from: labels(e.list("from")),
        to: labels(e.list("to")),
        kind,
        apps: apps.clone(),
        users,
        action,
        matches: Vec::new(),
        may,
        disabled: e.yes("disabled"),
        log,
    };
    let text = format!("rule {name}");
    let header_base = Rule { text, src, dst, log, ..Rule::any(action, line) };
    let header = |svc: &Service| svc.narrow(&header_base);
    let services = e.list("service");
    if services.iter().any(|s| s == "application-default") {
        let split = |r: ZoneRule| r.with_unknown_addresses((known_src.clone(), known_dst.clone()), address_may.clone());
        return match &apps {
            Labels::Any => {
                let mut may = base.may.clone();
                may.push("the application runs on its default ports".into());
                split(ZoneRule { matches: vec![header(&Service::any())], may, ..base })
            }
            Labels::Only(list) => list
                .iter()
                .flat_map(|a| {
                    let mut may = base.may.clone();
                    let svcs = match app_default(a, scope) {
                        Some(svcs) => svcs,
                        None => {
                            may.push(format!("the default ports of application {a}"));
                            vec![Service::any()]
                        }
                    };
                    split(ZoneRule {
                        apps: Labels::Only(vec![a.clone()]),
                        matches: svcs.iter().map(header).collect(),
                        may,
                        ..base.clone()
                    })
                })
                .collect(),
        };
    }
    let mut svcs = Vec::new();
    let mut undefined = Vec::new();
    for s in services {
        resolve_service(s, scope, &mut Vec::new(), &mut svcs, &mut undefined);
    }
    if services.is_empty() {
        svcs.push(Service::any());
    }
    let mut matches: Vec<Rule> = svcs.iter().map(header).collect();
    matches.extend(undefined.into_iter().map(|u| Rule { src: AddrMatch::Undefined(u), ..header(&Service::any()) }));
    ZoneRule { matches, ..base }.with_unknown_addresses((known_src, known_dst), address_may)
}

/// A service and how common ones are written.
impl Service {
    fn any() -> Service {
        Service::of(None)
    }

    fn port(proto: u8, ports: &[(u16, u16)]) -> Service {
        Service { dport: PortMatch(ports.to_vec()), ..Service::of(Some(proto)) }
    }
}

/// `80,443,8000-8080`.
fn port_list(s: &str) -> Option<PortMatch> {
    let mut out = Vec::new();
    for p in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lo, hi) = p.split_once('-').unwrap_or((p, p));
        let (lo, hi): (u16, u16) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
        out.push((lo.min(hi), lo.max(hi)));
    }
    (!out.is_empty()).then_some(PortMatch(out))
}

fn resolve_service(
    name: &str,
    scope: &Scope,
    stack: &mut Vec<String>,
    out: &mut Vec<Service>,
    undefined: &mut Vec<String>,
) {
    match name {
        "any" => return out.push(Service::any()),
        "service-http" => return out.push(Service::port(6, &[(80, 80), (8080, 8080)])),
        "service-https" => return out.push(Service::port(6, &[(443, 443)])),
        _ => {}
    }
    if stack.iter().any(|s| s == name) {
        return;
    }
    if let Some(s) = scope.find("service", name) {
        for (key, proto) in [("tcp", 6), ("udp", 17), ("sctp", 132)] {
            if let Some(p) = s.at(&["protocol", key]) {
                let dport = p.text(&["port"]).and_then(port_list).unwrap_or_else(PortMatch::any);
                let sport = p.text(&["source-port"]).and_then(port_list).unwrap_or_else(PortMatch::any);
                out.push(Service { proto: Some(proto), sport, dport, icmp: None });
            }
        }
        return;
    }
    if let Some(g) = scope.find("service-group", name) {
        stack.push(name.to_owned());
        let members: Vec<String> = g.list("members").iter().chain(&g.values).cloned().collect();
        for m in members {
            resolve_service(&m, scope, stack, out, undefined);
        }
        stack.pop();
        return;
    }
    undefined.push(name.to_owned());
}

/// An address member: a literal, an object, a group (static members, or dynamic: undecided)
/// or something only known at run time.
fn resolve_address(
    v: &str,
    scope: &Scope,
    stack: &mut Vec<String>,
    out: &mut Vec<AddrMatch>,
    may: &mut Vec<String>,
    what: &str,
) {
    if v == "any" {
        return out.push(AddrMatch::Any);
    }
    if let Some(m) = literal(v) {
        return out.push(m);
    }
    if stack.iter().any(|s| s == v) {
        return;
    }
    if let Some(o) = scope.find("address", v) {
        if let Some(m) = o.text(&["ip-netmask"]).and_then(literal) {
            out.push(m);
        } else if let Some(m) = o.text(&["ip-range"]).and_then(literal) {
            out.push(m);
        } else if let Some(w) = o.text(&["ip-wildcard"]).and_then(wildcard) {
            out.push(w);
        } else if let Some(f) = o.text(&["fqdn"]) {
            may.push(format!("{what} is {f} (FQDN object {v})"));
        } else {
            out.push(AddrMatch::Undefined(v.to_owned()));
        }
        return;
    }
    if let Some(g) = scope.find("address-group", v) {
        stack.push(v.to_owned());
        if g.child("dynamic").is_some() {
            may.push(format!("{what} is in dynamic group {v}"));
        }
        for m in g.list("static").to_vec() {
            resolve_address(&m, scope, stack, out, may, what);
        }
        stack.pop();
        return;
    }
    // `panw-*` lists are Palo Alto's own, predefined.
    if scope.find("external-list", v).is_some() || v.starts_with("panw-") {
        return may.push(format!("{what} is in external list {v}"));
    }
    if v.len() == 2 && v.chars().all(|c| c.is_ascii_uppercase()) || scope.find("region", v).is_some() {
        return may.push(format!("{what} is in region {v}"));
    }
    out.push(AddrMatch::Undefined(v.to_owned()));
}

/// `10.0.0.0/8`, `10.0.0.1`, `2001:db8::/32`, `10.0.0.1-10.0.0.9`.
fn literal(v: &str) -> Option<AddrMatch> {
    if let Some((a, b)) = v.split_once('-') {
        let (a, b): (IpAddr, IpAddr) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        return (a.is_ipv4() == b.is_ipv4()).then(|| AddrMatch::range(a, b));
    }
    let (a, len) = v.split_once('/').map_or((v, None), |(a, l)| (a, Some(l)));
    let a: IpAddr = a.parse().ok()?;
    match a {
        IpAddr::V4(v4) => {
            let len: u32 = len.map_or(Some(32), |l| l.parse().ok())?;
            (len <= 32).then(|| {
                let wildcard = if len == 0 { u32::MAX } else { (1u32 << (32 - len)).wrapping_sub(1) };
                AddrMatch::Wildcard { addr: u32::from(v4) & !wildcard, wildcard }
            })
        }
        IpAddr::V6(v6) => {
            let len: u8 = len.map_or(Some(128), |l| l.parse().ok())?;
            (len <= 128).then(|| {
                let keep = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
                AddrMatch::Prefix6 { addr: u128::from(v6) & keep, len }
            })
        }
    }
}

/// `10.0.1.0/0.0.254.255`: an address and a wildcard mask, as IOS writes them.
fn wildcard(v: &str) -> Option<AddrMatch> {
    let (a, m) = v.split_once('/')?;
    let (a, m): (std::net::Ipv4Addr, std::net::Ipv4Addr) = (a.parse().ok()?, m.parse().ok()?);
    Some(AddrMatch::Wildcard { addr: u32::from(a) & !u32::from(m), wildcard: u32::from(m) })
}

/// Application groups expanded to applications; filters cannot be (they select by
/// attributes of App-ID's database).
fn expand_app(a: &str, scope: &Scope, stack: &mut Vec<String>, out: &mut Vec<String>, may: &mut Vec<String>) {
    if a == "any" || stack.iter().any(|s| s == a) {
        return;
    }
    if let Some(g) = scope.find("application-group", a) {
        stack.push(a.to_owned());
        let members: Vec<String> = g.list("members").iter().chain(&g.values).cloned().collect();
        for m in members {
            expand_app(&m, scope, stack, out, may);
        }
        stack.pop();
    } else if scope.find("application-filter", a).is_some() {
        may.push(format!("application is in filter {a}"));
        out.push(a.to_owned());
    } else if !out.iter().any(|x| x == a) {
        out.push(a.to_owned());
    }
}

/// The ports `application-default` means: a custom application's own `default`, or the
/// App-ID defaults of common predefined applications.
fn app_default(app: &str, scope: &Scope) -> Option<Vec<Service>> {
    if let Some(def) = scope.find("application", app).and_then(|a| a.child("default")) {
        let mut out = Vec::new();
        for p in def.list("port") {
            let (proto, ports) = p.split_once('/')?;
            let proto = match proto {
                "tcp" => 6,
                "udp" => 17,
                _ => return None,
            };
            out.push(if ports == "dynamic" {
                Service::port(proto, &[(0, u16::MAX)])
            } else {
                Service::port(proto, &port_list(ports)?.0)
            });
        }
        if let Some(t) = def.at(&["ident-by-icmp-type"]) {
            let ty: u8 = t.text(&["type"])?.parse().ok()?;
            let code = t.text(&["code"]).and_then(|c| c.parse().ok());
            out.push(Service { proto: Some(1), icmp: Some((ty, code)), ..Service::any() });
        }
        if let Some(t) = def.at(&["ident-by-icmp6-type"]) {
            let ty: u8 = t.text(&["type"])?.parse().ok()?;
            let code = t.text(&["code"]).and_then(|c| c.parse().ok());
            out.push(Service { proto: Some(58), icmp: Some((ty, code)), ..Service::any() });
        }
        if let Some(p) = def.text(&["ident-by-ip-protocol"]) {
            out.push(Service { proto: Some(p.parse().ok()?), ..Service::any() });
        }
        return (!out.is_empty()).then_some(out);
    }
    let tcp = |ps: &[u16]| Service::port(6, &ps.iter().map(|&p| (p, p)).collect::<Vec<_>>());
    let udp = |ps: &[u16]| Service::port(17, &ps.iter().map(|&p| (p, p)).collect::<Vec<_>>());
    let proto = |p: u8| Service { proto: Some(p), ..Service::any() };
    let icmp = |p: u8, t: u8| Service { proto: Some(p), icmp: Some((t, None)), ..Service::any() };
    Some(match app {
        "ssl" => vec![tcp(&[443])],
        "web-browsing" => vec![tcp(&[80])],
        "ssh" => vec![tcp(&[22])],
        "telnet" => vec![tcp(&[23])],
        "ftp" => vec![tcp(&[21])],
        "smtp" => vec![tcp(&[25, 587])],
        "dns" => vec![tcp(&[53]), udp(&[53])],
        "ntp" => vec![udp(&[123])],
        "snmp" => vec![udp(&[161])],
        "snmp-trap" => vec![udp(&[162])],
        "syslog" => vec![udp(&[514])],
        "ldap" => vec![tcp(&[389]), udp(&[389])],
        "kerberos" => vec![tcp(&[88]), udp(&[88])],
        "ms-rdp" => vec![tcp(&[3389])],
        "radius" => vec![udp(&[1812, 1813, 1645, 1646])],
        "tacacs-plus" => vec![tcp(&[49])],
        "bgp" => vec![tcp(&[179])],
        "ike" => vec![udp(&[500, 4500])],
        "ospf" => vec![proto(89)],
        "ipsec-esp" => vec![proto(50)],
        "gre" => vec![proto(47)],
        "igmp" => vec![proto(2)],
        "icmp" => vec![proto(1)],
        "ipv6-icmp" => vec![proto(58)],
        "ping" => vec![icmp(1, 8), icmp(58, 128)],
        "traceroute" => vec![udp(&[33434]), icmp(1, 8)],
        // Mail, directory, file and database services.
        "pop3" => vec![tcp(&[110])],
        "imap" => vec![tcp(&[143])],
        "ms-ds-smb" => vec![tcp(&[139, 445])],
        "msrpc" => vec![tcp(&[135])],
        "netbios-ns" => vec![udp(&[137])],
        "netbios-dg" => vec![udp(&[138])],
        "netbios-ss" => vec![tcp(&[139])],
        "dhcp" => vec![udp(&[67, 68])],
        "tftp" => vec![udp(&[69])],
        "mssql-db" => vec![tcp(&[1433])],
        "mssql-mon" => vec![udp(&[1434])],
        "mysql" => vec![tcp(&[3306])],
        "oracle" => vec![tcp(&[1521])],
        "postgres" => vec![tcp(&[5432])],
        "rtsp" => vec![tcp(&[554])],
        "sip" => vec![tcp(&[5060, 5061]), udp(&[5060])],
        "sflow" => vec![udp(&[6343])],
        // Industrial control protocols (ICS App-IDs) a plant's firewalls carry.
        "modbus" => vec![tcp(&[502])],
        "dnp3" => vec![tcp(&[20000]), udp(&[20000])],
        "iec-60870-5-104" => vec![tcp(&[2404])],
        "bacnet" => vec![udp(&[47808])],
        "ethernet-ip" => vec![tcp(&[44818]), udp(&[2222, 44818])],
        "opc-ua" => vec![tcp(&[4840])],
        "iccp" => vec![tcp(&[102])],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::Flow;
    use std::net::Ipv4Addr;

    fn flow(src: [u8; 4], dst: [u8; 4], proto: u8, dport: u16) -> Flow {
        crate::arbitrary::flow(&Ipv4Addr::from(src).to_string(), &Ipv4Addr::from(dst).to_string(), proto, dport)
    }

    const SET: &str = "\
set deviceconfig system hostname fw1
set zone trust network layer3 ethernet1/1
set zone untrust network layer3 ethernet1/2
set address web ip-netmask 192.0.2.10
set address dns-servers ip-range 198.51.100.1-198.51.100.2
set address-group servers static [ web dns-servers ]
set address partner fqdn partner.example.com
set service tcp-8443 protocol tcp port 8443
set rulebase security rules \"allow web\" from trust
set rulebase security rules \"allow web\" to untrust
set rulebase security rules \"allow web\" source any
set rulebase security rules \"allow web\" destination servers
set rulebase security rules \"allow web\" application [ ssl web-browsing ]
set rulebase security rules \"allow web\" service application-default
set rulebase security rules \"allow web\" action allow
set rulebase security rules alt from trust
set rulebase security rules alt to untrust
set rulebase security rules alt source [ 10.0.0.0/8 ]
set rulebase security rules alt negate-source yes
set rulebase security rules alt destination web
set rulebase security rules alt application any
set rulebase security rules alt service tcp-8443
set rulebase security rules alt action deny
set rulebase security rules partner from any
set rulebase security rules partner to any
set rulebase security rules partner destination partner
set rulebase security rules partner application any
set rulebase security rules partner service any
set rulebase security rules partner action allow
set rulebase security rules missing from trust
set rulebase security rules missing to untrust
set rulebase security rules missing destination nosuch
set rulebase security rules missing action allow
";

    #[test]
    fn set_form_rules_decide_with_applications_and_negation() {
        let d = parse(SET);
        assert_eq!(d.hostname.as_deref(), Some("fw1"));
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        let p = &d.zone_policies[0];
        assert_eq!(p.zones, vec!["trust", "untrust"]);
        // application-default: ssl on 443, web-browsing on 80; one rule, two entries.
        assert_eq!(p.rules.iter().filter(|r| r.name == "allow web").count(), 2);
        let ssl = flow([10, 1, 1, 1], [192, 0, 2, 10], 6, 443);
        let last = |c: Vec<crate::zone::Candidate>| c.last().cloned().unwrap();
        let c = last(p.decide(&ssl, "trust", "untrust", Some("ssl"), None));
        assert_eq!((c.action, c.rule.map(|i| p.rules[i].name.as_str())), (Action::Permit, Some("allow web")));
        // web-browsing on 443 is not its default port: the rule does not take it.
        let c = last(p.decide(&ssl, "trust", "untrust", Some("web-browsing"), None));
        assert_eq!(c.action, Action::Deny);
        // The range object: both ends in, the next address out.
        let dns = |last_octet| flow([10, 1, 1, 1], [198, 51, 100, last_octet], 6, 443);
        assert_eq!(last(p.decide(&dns(2), "trust", "untrust", Some("ssl"), None)).action, Action::Permit);
        assert_eq!(last(p.decide(&dns(3), "trust", "untrust", Some("ssl"), None)).action, Action::Deny);
        // Negated source: 10/8 is not denied by `alt`, 172.16.0.1 is.
        let alt = |src| flow(src, [192, 0, 2, 10], 6, 8443);
        let by =
            |f: &Flow| last(p.decide(f, "trust", "untrust", Some("x"), None)).rule.map(|i| p.rules[i].name.clone());
        assert_eq!(by(&alt([172, 16, 0, 1])).as_deref(), Some("alt"));
        assert_ne!(by(&alt([10, 0, 0, 1])).as_deref(), Some("alt"));
        // An FQDN destination: the rule may match, the default decides otherwise.
        let c = p.decide(&flow([10, 1, 1, 1], [203, 0, 113, 5], 17, 53), "trust", "untrust", Some("dns"), None);
        assert_eq!(c.len(), 2);
        assert_eq!(p.rules[c[0].rule.unwrap()].name, "partner");
        assert!(c[0].undecided[0].contains("partner.example.com"), "{:?}", c[0].undecided);
        // An undefined object is a finding, not a crash.
        let found = p.findings().unwrap();
        let missing = p.rules.iter().position(|r| r.name == "missing").unwrap();
        assert!(
            found.iter().any(|f| f.rule == missing && f.kind == crate::analysis::Kind::UndefinedReference),
            "{found:?}"
        );
    }

    /// A plant's cell firewall: SCADA may poll PLCs with Modbus and DNP3 on their App-ID
    /// ports only; the same application on another port is not taken by the rule.
    #[test]
    fn industrial_applications_take_their_default_ports() {
        let d = parse(
            "set zone scada network layer3 ethernet1/1\n\
             set zone cell network layer3 ethernet1/2\n\
             set rulebase security rules poll from scada\n\
             set rulebase security rules poll to cell\n\
             set rulebase security rules poll source 10.20.2.0/24\n\
             set rulebase security rules poll destination 10.20.10.0/24\n\
             set rulebase security rules poll application [ modbus dnp3 ]\n\
             set rulebase security rules poll service application-default\n\
             set rulebase security rules poll action allow\n",
        );
        let p = &d.zone_policies[0];
        let last = |c: Vec<crate::zone::Candidate>| c.last().cloned().unwrap();
        let decide = |proto, port, app| {
            last(p.decide(&flow([10, 20, 2, 21], [10, 20, 10, 11], proto, port), "scada", "cell", Some(app), None))
                .action
        };
        assert_eq!(decide(6, 502, "modbus"), Action::Permit);
        assert_eq!(decide(17, 20000, "dnp3"), Action::Permit);
        assert_eq!(decide(6, 20000, "dnp3"), Action::Permit);
        assert_eq!(decide(6, 8080, "modbus"), Action::Deny, "Modbus on another port is not application-default");
    }

    #[test]
    fn xml_and_set_forms_read_alike() {
        let xml = r#"<config><devices><entry name="localhost.localdomain"><vsys><entry name="vsys1">
<zone><entry name="trust"/><entry name="untrust"/></zone>
<address><entry name="web"><ip-netmask>192.0.2.10</ip-netmask></entry></address>
<rulebase><security><rules>
<entry name="r1"><from><member>trust</member></from><to><member>untrust</member></to>
<source><member>any</member></source><destination><member>web</member></destination>
<application><member>any</member></application><service><member>service-https</member></service>
<action>allow</action></entry>
</rules></security>
<default-security-rules><rules><entry name="intrazone-default"><action>deny</action></entry></rules></default-security-rules>
</rulebase></entry></vsys></entry></devices></config>"#;
        let set = "\
set zone trust network layer3 e1
set zone untrust network layer3 e2
set address web ip-netmask 192.0.2.10
set rulebase security rules r1 from trust
set rulebase security rules r1 to untrust
set rulebase security rules r1 source any
set rulebase security rules r1 destination web
set rulebase security rules r1 application any
set rulebase security rules r1 service service-https
set rulebase security rules r1 action allow
set rulebase default-security-rules rules intrazone-default action deny
";
        let (a, b) = (parse(xml), parse(set));
        assert!(a.warnings.is_empty() && b.warnings.is_empty(), "{:?} {:?}", a.warnings, b.warnings);
        let (pa, pb) = (&a.zone_policies[0], &b.zone_policies[0]);
        assert_eq!(pa.rules[0].line, 5);
        assert_eq!(pa.intrazone.action, Action::Deny);
        assert_eq!(pa.zones, pb.zones);
        assert_eq!(pa.intrazone.action, pb.intrazone.action);
        assert_eq!(pa.rules.len(), pb.rules.len());
        assert_eq!(pa.rules[0].matches[0].dst, pb.rules[0].matches[0].dst);
        assert_eq!(pa.rules[0].matches[0].dport, pb.rules[0].matches[0].dport);
    }

    #[test]
    fn broken_xml_is_a_warning_with_its_line() {
        let d = parse("<config>\n<devices>\n</config>\n");
        assert_eq!(d.warnings.len(), 1);
        assert_eq!(d.warnings[0].line, 3);
        assert!(d.zone_policies.is_empty());
    }
}
