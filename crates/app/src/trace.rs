//! `policy trace`: a flow through a topology of configuration files, hop by hop, and its way
//! back. The files of a directory become the network's devices (any dialect `policy` reads,
//! plus Batfish's JSON host models with their iptables files); routing comes from each
//! configuration (connected and static routes, and OSPF and BGP computed between the
//! configurations) or from a routing-table export (Batfish's `routes` answer) when one is
//! given.

use crate::policy::{self as use_case, FlowQuery, FlowView, PolicyError};
use policy::acl::Flow;
use policy::device::{Device, Interface};
use policy::route::{self, NextHop, Route};
use policy::trace::{Disposition, FilterStep, Network, Node, Trace};
use serde::Serialize;
use std::net::IpAddr;

/// A file of the topology directory.
pub struct TopologyFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The devices read from a topology, and what could not be read.
pub struct Topology {
    pub network: Network,
    /// Files left out, and why.
    pub skipped: Vec<(String, String)>,
}

/// Reads every configuration of a topology; `routes` replace the routing tables of the nodes
/// they name: Batfish's routes answer (JSON), or a device's `show ip route` (named by the
/// prompt in it, else by the file's name).
pub fn load(files: &[TopologyFile], routes: &[TopologyFile]) -> Result<Topology, PolicyError> {
    let mut nodes = Vec::new();
    let mut skipped = Vec::new();
    for f in files {
        let stem = f.name.rsplit('/').next().unwrap_or(&f.name);
        let stem = stem.split('.').next().unwrap_or(stem).to_owned();
        if f.name.ends_with(".json") {
            match host(f, files) {
                Ok(Some(node)) => nodes.push(node),
                Ok(None) => skipped.push((f.name.clone(), "JSON that is not a host model".into())),
                Err(why) => skipped.push((f.name.clone(), why)),
            }
            continue;
        }
        // A host's iptables file belongs to its JSON model.
        if f.name.ends_with(".iptables") {
            continue;
        }
        match use_case::load(&f.name, &f.bytes, None) {
            Ok(c) => {
                let name = c.device.hostname.clone().unwrap_or(stem);
                let rib = route::from_device(&c.device);
                nodes.push(Node { name, device: c.device, rib, host: false });
            }
            Err(e) => skipped.push((f.name.clone(), e.to_string())),
        }
    }
    // OSPF, then BGP over it, between the configurations read: each router's computed
    // routes join its connected and static ones (a routing-table export below replaces
    // them all).
    let devices: Vec<&policy::device::Device> = nodes.iter().map(|n| &n.device).collect();
    let ospf = policy::ospf::routes(&devices);
    let igp: Vec<Vec<Route>> = nodes.iter().zip(ospf).map(|(n, o)| n.rib.iter().cloned().chain(o).collect()).collect();
    let (bgp, _) = policy::bgp::routes(&devices, &igp);
    for ((n, igp), bgp) in nodes.iter_mut().zip(igp).zip(bgp) {
        n.rib = igp;
        n.rib.extend(bgp);
    }
    for f in routes {
        let text = String::from_utf8_lossy(&f.bytes);
        let ribs = if text.trim_start().starts_with(['[', '{']) {
            batfish_routes(&f.name, &f.bytes)?
        } else {
            let table = policy::route::show_ip_route(&text);
            for w in table.unread {
                skipped.push((format!("{}:{}", f.name, w.line), format!("{}: {}", w.message, w.text)));
            }
            let (host, rib) = (table.host, table.routes);
            let stem = f.name.rsplit('/').next().unwrap_or(&f.name);
            let name = host.unwrap_or_else(|| stem.split('.').next().unwrap_or(stem).to_owned());
            vec![(name, rib)]
        };
        for n in &mut nodes {
            if let Some(rib) = ribs.iter().find(|(name, _)| *name == n.name) {
                n.rib = rib.1.clone();
            }
        }
    }
    Ok(Topology { network: Network::new(nodes), skipped })
}

/// A Batfish host model (`hostname`, `hostInterfaces` with `prefix` and `gateway`,
/// `iptablesFile`): an interface, a default route, and the iptables chains.
fn host(f: &TopologyFile, files: &[TopologyFile]) -> Result<Option<Node>, String> {
    let v: serde_json::Value = serde_json::from_slice(&f.bytes).map_err(|e| format!("not JSON: {e}"))?;
    let (Some(name), Some(ifaces)) = (v["hostname"].as_str(), v["hostInterfaces"].as_object()) else {
        return Ok(None);
    };
    let mut device = match v["iptablesFile"].as_str() {
        Some(path) => {
            let base = path.rsplit('/').next().unwrap_or(path);
            let file = files
                .iter()
                .find(|g| g.name.rsplit('/').next() == Some(base))
                .ok_or_else(|| format!("its iptables file `{path}` is not in the topology"))?;
            policy::iptables::parse(&String::from_utf8_lossy(&file.bytes))
        }
        None => Device::default(),
    };
    device.hostname = Some(name.to_owned());
    let mut rib = Vec::new();
    for (iname, i) in ifaces {
        let Some(prefix) = i["prefix"].as_str() else { continue };
        device.interfaces.push(Interface {
            name: iname.clone(),
            addresses: vec![prefix.to_owned()],
            ..Interface::default()
        });
        if let Some(gw) = i["gateway"].as_str().and_then(|g| g.parse::<IpAddr>().ok()) {
            let any = if gw.is_ipv4() { IpAddr::from([0u8; 4]) } else { IpAddr::from([0u16; 8]) };
            rib.push(Route {
                network: any,
                len: 0,
                next_hop: NextHop::Interface { name: iname.clone(), ip: Some(gw) },
                protocol: "static".into(),
                admin: 1,
                metric: 0,
            });
        }
    }
    rib.extend(route::from_device(&device));
    Ok(Some(Node { name: name.to_owned(), device, rib, host: true }))
}

/// Batfish's `routes` answer: rows of `Node`, `Network`, `Next_Hop`, `Protocol`,
/// `Admin_Distance`, `Metric`; per node its routes.
fn batfish_routes(file: &str, bytes: &[u8]) -> Result<Vec<(String, Vec<Route>)>, PolicyError> {
    let bad = |reason: String| PolicyError::Unreadable { file: file.to_owned(), reason };
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    let answer = if v.is_array() { &v[0] } else { &v };
    let rows = answer["rows"].as_array().ok_or_else(|| bad("no `rows`: not a Batfish routes answer".into()))?;
    let mut out: Vec<(String, Vec<Route>)> = Vec::new();
    for (k, r) in rows.iter().enumerate() {
        let row = |what: &str| bad(format!("row {}: {what}", k + 1));
        let node = r["Node"]["name"].as_str().ok_or_else(|| row("no Node name"))?;
        let net = r["Network"].as_str().ok_or_else(|| row("no Network"))?;
        let (_, network, len) = route::parse_prefix(net).ok_or_else(|| row("Network is not a prefix"))?;
        let nh = &r["Next_Hop"];
        let ip = nh["ip"].as_str().and_then(|i| i.parse::<IpAddr>().ok());
        let next_hop = match (nh["type"].as_str(), nh["interface"].as_str(), ip) {
            (Some("discard"), _, _) => NextHop::Discard,
            (_, Some(name), ip) => NextHop::Interface { name: name.to_owned(), ip },
            (_, None, Some(ip)) => NextHop::Ip(ip),
            _ => return Err(row("Next_Hop has neither interface nor ip")),
        };
        let route = Route {
            network,
            len,
            next_hop,
            protocol: r["Protocol"].as_str().unwrap_or("").to_owned(),
            admin: r["Admin_Distance"].as_u64().unwrap_or(0) as u32,
            metric: r["Metric"].as_u64().unwrap_or(0),
        };
        match out.iter_mut().find(|(n, _)| n == node) {
            Some((_, rib)) => rib.push(route),
            None => out.push((node.to_owned(), vec![route])),
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct FilterView {
    pub filter: String,
    pub action: &'static str,
    /// The deciding rule; `None` for the filter's implicit deny.
    pub line: Option<usize>,
    pub rule: Option<String>,
}

impl From<&FilterStep> for FilterView {
    fn from(f: &FilterStep) -> Self {
        FilterView {
            filter: f.filter.clone(),
            action: f.action.as_str(),
            line: f.rule.as_ref().map(|r| r.0),
            rule: f.rule.as_ref().map(|r| r.1.clone()),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HopView {
    pub node: String,
    pub ingress: Option<String>,
    pub filter_in: Option<FilterView>,
    /// The routes that sent the flow on, as `network via next-hop (protocol)`.
    pub routes: Vec<String>,
    pub egress: Option<String>,
    pub next_hop: Option<String>,
    pub filter_out: Option<FilterView>,
    /// The translation applied here: the rule, its line, and the flow sent on.
    pub nat: Option<NatView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NatView {
    pub rule: String,
    pub line: usize,
    pub flow: FlowView,
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceView {
    pub disposition: &'static str,
    pub hops: Vec<HopView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceReport {
    pub flow: FlowView,
    pub start: String,
    pub ingress: Option<String>,
    pub traces: Vec<TraceView>,
    /// The reply's paths, from the destination's device, when the flow is accepted there.
    pub return_traces: Vec<TraceView>,
    /// The reply crosses devices the flow did not (or the other way round): a stateful
    /// firewall on one path only drops it.
    pub asymmetric: bool,
    /// Every path reaches the destination.
    pub delivered: bool,
    /// Every path of the reply gets back (false when there is no reply to trace).
    pub reply_delivered: bool,
}

fn route_text(r: &Route) -> String {
    let via = match &r.next_hop {
        NextHop::Interface { name, ip: Some(ip) } => format!("{ip} on {name}"),
        NextHop::Interface { name, ip: None } => name.clone(),
        NextHop::Ip(ip) => ip.to_string(),
        NextHop::Discard => "discard".into(),
    };
    format!("{}/{} via {via} ({})", r.network, r.len, r.protocol)
}

fn view(t: &Trace) -> TraceView {
    TraceView {
        disposition: t.disposition.as_str(),
        hops: t
            .hops
            .iter()
            .map(|h| HopView {
                node: h.node.clone(),
                ingress: h.ingress.clone(),
                filter_in: h.filter_in.as_ref().map(FilterView::from),
                routes: h.routes.iter().map(route_text).collect(),
                egress: h.egress.clone(),
                next_hop: h.next_hop.map(|n| n.to_string()),
                filter_out: h.filter_out.as_ref().map(FilterView::from),
                nat: h.nat.as_ref().map(|(rule, line, f)| NatView {
                    rule: rule.clone(),
                    line: *line,
                    flow: FlowView::from(f),
                }),
            })
            .collect(),
    }
}

/// Where a flow starts: the named node (on the named interface), or the device that owns
/// the source address, or the one with the source on a connected subnet (entering there).
fn start(
    net: &Network,
    from: Option<&str>,
    ingress: Option<&str>,
    flow: &Flow,
) -> Result<(usize, Option<String>), PolicyError> {
    let names = || net.nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(", ");
    if let Some(name) = from {
        let k = net.node(name).ok_or_else(|| PolicyError::BadFlow {
            field: "--from",
            reason: format!("no device `{name}` in the topology; devices: {}", names()),
        })?;
        return Ok((k, ingress.map(str::to_owned)));
    }
    let mut connected = None;
    for (k, n) in net.nodes.iter().enumerate() {
        for i in &n.device.interfaces {
            for a in &i.addresses {
                let Some((ip, network, len)) = route::parse_prefix(a) else { continue };
                if ip == flow.src {
                    return Ok((k, None));
                }
                let r =
                    Route { network, len, next_hop: NextHop::Discard, protocol: String::new(), admin: 0, metric: 0 };
                if connected.is_none() && r.contains(flow.src) {
                    connected = Some((k, Some(i.name.clone())));
                }
            }
        }
    }
    connected.ok_or_else(|| PolicyError::BadFlow {
        field: "--src",
        reason: format!(
            "no device owns {} or has it on a connected subnet; name one with --from ({})",
            flow.src,
            names()
        ),
    })
}

/// Traces a flow, and its reply when the flow is accepted.
pub fn trace(
    topology: &Topology,
    query: &FlowQuery,
    from: Option<&str>,
    ingress: Option<&str>,
) -> Result<TraceReport, PolicyError> {
    let flow = query.flow()?;
    let net = &topology.network;
    let (k, ingress) = start(net, from, ingress, &flow)?;
    let traces = net.trace(k, ingress.as_deref(), &flow);
    let delivered = !traces.is_empty()
        && traces.iter().all(|t| matches!(t.disposition, Disposition::Accepted | Disposition::DeliveredToSubnet));
    // The reply: from the device that accepted the flow, ports swapped, as an established
    // connection's segment.
    let mut return_traces = Vec::new();
    let accepted_at: Vec<&str> = traces
        .iter()
        .filter(|t| t.disposition == Disposition::Accepted)
        .filter_map(|t| t.hops.last().map(|h| h.node.as_str()))
        .collect();
    if let Some(&dst_node) = accepted_at.first()
        && let Some(d) = net.node(dst_node)
    {
        let reply = Flow {
            src: flow.dst,
            dst: flow.src,
            sport: flow.dport,
            dport: flow.sport,
            established: flow.proto == 6,
            icmp: flow.icmp.map(|(t, c)| {
                (
                    if t == 8 {
                        0
                    } else if t == 128 {
                        129
                    } else {
                        t
                    },
                    c,
                )
            }),
            ..flow
        };
        return_traces = net.trace(d, None, &reply);
    }
    let nodes = |ts: &[Trace]| {
        let mut all: Vec<String> = ts.iter().flat_map(|t| t.hops.iter().map(|h| h.node.clone())).collect();
        all.sort();
        all.dedup();
        all
    };
    let reached = |ts: &[Trace]| {
        !ts.is_empty()
            && ts.iter().all(|t| matches!(t.disposition, Disposition::Accepted | Disposition::DeliveredToSubnet))
    };
    let reply_delivered = reached(&return_traces);
    // Asymmetry is about replies that get back: a reply a stateless filter drops says so itself.
    let asymmetric = reply_delivered && nodes(&traces) != nodes(&return_traces);
    Ok(TraceReport {
        flow: FlowView::from(&flow),
        start: net.nodes[k].name.clone(),
        ingress,
        traces: traces.iter().map(view).collect(),
        return_traces: return_traces.iter().map(view).collect(),
        asymmetric,
        delivered,
        reply_delivered,
    })
}

/// What the `trace_topology` fuzz target runs: the first byte picks whether the bytes are a
/// routes answer or a host model; reading never panics, and a topology that reads traces.
#[doc(hidden)]
pub fn fuzz_one(data: &[u8]) {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let router = TopologyFile {
        name: "r1.cfg".into(),
        bytes: b"hostname r1\ninterface Gi0/0\n ip address 10.0.0.1 255.255.255.0\n".to_vec(),
    };
    let result = match pick % 3 {
        0 => load(&[router], &[TopologyFile { name: "routes.json".into(), bytes: bytes.to_vec() }]),
        1 => load(&[router, TopologyFile { name: "h.json".into(), bytes: bytes.to_vec() }], &[]),
        // `show ip route` text.
        _ => load(&[router], &[TopologyFile { name: "r1.txt".into(), bytes: bytes.to_vec() }]),
    };
    if let Ok(topology) = result {
        let q =
            FlowQuery { src: "10.0.0.5".into(), dst: "10.0.0.9".into(), proto: "tcp".into(), ..FlowQuery::default() };
        let _ = trace(&topology, &q, None, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fuzz target's seeds, replayed on every `cargo test`.
    #[test]
    fn fuzz_seeds_replay() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/trace_topology");
        let seeds: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(seeds.len() >= 2);
        for s in seeds {
            fuzz_one(&std::fs::read(s).unwrap());
        }
    }

    #[test]
    fn a_bad_routes_answer_names_the_row() {
        let router = TopologyFile { name: "r1.cfg".into(), bytes: b"hostname r1\n".to_vec() };
        let bad = br#"[{"rows":[{"Node":{"name":"r1"},"Network":"10.0.0.0/24","Next_Hop":{"type":"interface","interface":"Gi0/0"}},{"Node":{"name":"r1"},"Network":"nonsense","Next_Hop":{}}]}]"#;
        let Err(e) = load(&[router], &[TopologyFile { name: "routes.json".into(), bytes: bad.to_vec() }]) else {
            panic!("accepted")
        };
        assert_eq!(e.to_string(), "routes.json: row 2: Network is not a prefix");
    }
}
