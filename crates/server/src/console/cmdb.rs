//! CMDB pages beyond the item list: the item page (attributes as of any date, relationships,
//! the services that stand on the item, its dependency map as server-rendered SVG, history)
//! and the risk view.

use super::{Chrome, Series, When, app_error_page, ctx_chrome, esc, line_chart, not_found_page, render, when};
use crate::extract::{Ctx, QueryPairs};
use crate::state::AppState;
use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;

/// One attribute row of the item page.
pub struct Attr {
    pub label: &'static str,
    pub value: String,
    /// A lifecycle date that has passed (`passed`) or falls within a year (`soon`).
    pub flag: &'static str,
}

pub struct RelRow {
    pub kind: String,
    pub other: String,
    pub href: String,
}

pub struct ImpactRow {
    pub name: String,
    pub status: &'static str,
    pub explanation: String,
}

/// One line of the item's history: a version of the item, or a relationship added or removed.
pub struct VersionRow {
    /// The item's version; empty for a relationship change.
    pub version: String,
    pub at: When,
    pub actor: String,
    pub change: String,
    /// The day to view the item as of; empty where that makes no sense (a deletion).
    pub as_of: String,
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    chrome: Chrome,
    id: i64,
    /// Stored configuration versions, when the reader may see them.
    configs: Option<usize>,
    name: String,
    class: String,
    site: String,
    status: String,
    criticality: String,
    as_of: String,
    as_of_note: String,
    attrs: Vec<Attr>,
    custom: Vec<(String, String)>,
    needs: Vec<RelRow>,
    needed_by: Vec<RelRow>,
    impact: Vec<ImpactRow>,
    impact_items: String,
    map: String,
    history: Vec<VersionRow>,
    support: Option<ContractLine>,
    support_phone: String,
    /// Charts of what checks measured on the item over the last day (SVG).
    graphs: Vec<String>,
    /// The span shown: its key and label.
    span: (&'static str, &'static str),
    spans: Vec<(&'static str, &'static str)>,
    /// The polled interfaces one may chart, and whether each is chosen now.
    interfaces: Vec<(String, bool)>,
    /// The chosen interfaces as query parameters, kept when the span changes.
    chosen_query: String,
}

const ATTRS: &[(&str, &str)] = &[
    ("Vendor", "vendor"),
    ("Model", "model"),
    ("OS / firmware", "os_version"),
    ("Serial", "serial"),
    ("Asset tag", "asset_tag"),
    ("Management address", "mgmt_address"),
    ("Parent", "parent"),
    ("Support group", "support_group"),
    ("Owner", "owner"),
    ("SLA policy", "sla_policy"),
    ("Description", "description"),
    ("Purchased", "purchased_on"),
    ("Warranty ends", "warranty_ends_on"),
    ("End of sale", "end_of_sale_on"),
    ("End of support", "end_of_support_on"),
    ("End of life", "end_of_life_on"),
];

fn text(doc: &Value, key: &str) -> String {
    match doc.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// At most this many interfaces are charted on an item's page (those erring or busiest first).
const CHARTED_INTERFACES: usize = 8;

/// At most this many interfaces are charted when someone chooses them.
const CHOSEN_INTERFACES: usize = 16;

/// The spans an item's graphs offer: `(key, label, milliseconds)`; the first is the default.
pub const GRAPH_SPANS: [(&str, &str, i64); 4] = [
    ("24h", "24 hours", 86_400_000),
    ("7d", "7 days", 7 * 86_400_000),
    ("30d", "30 days", 30 * 86_400_000),
    ("1y", "a year", 365 * 86_400_000),
];

/// The span a page's `span` parameter chooses, the first by default.
fn graph_span(pairs: &[(String, String)]) -> &'static (&'static str, &'static str, i64) {
    pairs
        .iter()
        .find(|(k, _)| k == "span")
        .and_then(|(_, v)| GRAPH_SPANS.iter().find(|g| g.0 == v))
        .unwrap_or(&GRAPH_SPANS[0])
}

/// Charts of what the item's checks measured over `span_ms` (hourly means beyond two days):
/// for SNMP polls, traffic in and out per interface and its errors and discards when there
/// were any — the `chosen` interfaces, or the erring and busiest — and for any other check,
/// each performance value (the agent's uptime aside). Also every polled interface's name.
async fn measurement_graphs(
    s: &AppState,
    actor: &app::Actor,
    item: i64,
    now: i64,
    span_ms: i64,
    chosen: &[String],
) -> (Vec<String>, Vec<String>) {
    let Ok(board) = s.app.check_board(actor, None).await else { return (Vec::new(), Vec::new()) };
    let mut interfaces: Vec<String> = board
        .iter()
        .filter(|r| r.item_id == item && r.kind == "snmp")
        .filter_map(|r| r.state.as_ref())
        .flat_map(|st| {
            let perf: Vec<Value> = serde_json::from_str(&st.perfdata).unwrap_or_default();
            interfaces_in(&perf).into_iter().map(str::to_owned).collect::<Vec<_>>()
        })
        .collect();
    interfaces.sort_unstable();
    interfaces.dedup();
    let graphs = charts_of(s, actor, &board, item, "", (CHARTED_INTERFACES, chosen), (now - span_ms, now)).await;
    (graphs, interfaces)
}

/// The interfaces an SNMP poll's performance data measured (`NAME:in_bps`, `NAME:out_bps`…).
fn interfaces_in(perf: &[Value]) -> Vec<&str> {
    perf.iter().filter_map(|p| p["label"].as_str()?.strip_suffix(":in_bps")).collect()
}

/// The charts of one item's measurements over `[from, to]`, titled after `prefix`: for an
/// SNMP poll, traffic, utilisation (when the agent gives the interface's speed) and errors
/// of the `chosen` interfaces or else of at most `interfaces_max`, those erring or busiest at
/// the last poll first.
async fn charts_of(
    s: &AppState,
    actor: &app::Actor,
    board: &[app::checks::BoardRow],
    item: i64,
    prefix: &str,
    (interfaces_max, chosen): (usize, &[String]),
    (from, now): (i64, i64),
) -> Vec<String> {
    let mut graphs = Vec::new();
    for row in board.iter().filter(|r| r.item_id == item) {
        let Some(state) = &row.state else { continue };
        let perf: Vec<Value> = serde_json::from_str(&state.perfdata).unwrap_or_default();
        let labels: Vec<(String, String)> = perf
            .iter()
            .filter_map(|p| Some((p["label"].as_str()?.to_owned(), p["unit"].as_str().unwrap_or("").to_owned())))
            .filter(|(l, _)| l != "uptime")
            .collect();
        let samples = async |label: &str| {
            s.app.check_samples(actor, row.check_id, item, label, from, now).await.unwrap_or_default()
        };
        if row.kind == "snmp" {
            // The interfaces worth a look first: those erring now, then the busiest now (an
            // uplink, not Gi1/0/1 because it sorts first).
            let last: std::collections::HashMap<&str, f64> =
                perf.iter().filter_map(|p| Some((p["label"].as_str()?, p["value"].as_f64()?))).collect();
            let mut interfaces: Vec<(&str, bool, f64)> = interfaces_in(&perf)
                .into_iter()
                .map(|name| {
                    let at = |what: &str| last.get(format!("{name}:{what}").as_str()).copied().unwrap_or(0.0);
                    (name, at("errors") + at("discards") > 0.0, at("in_bps") + at("out_bps"))
                })
                .collect();
            interfaces.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.total_cmp(&a.2)).then(a.0.cmp(b.0)));
            let interfaces: Vec<&str> = if chosen.is_empty() {
                interfaces.into_iter().map(|i| i.0).take(interfaces_max).collect()
            } else {
                interfaces.into_iter().map(|i| i.0).filter(|i| chosen.iter().any(|c| c == i)).collect()
            };
            for name in interfaces {
                let traffic = vec![
                    Series { name: "in".into(), points: samples(&format!("{name}:in_bps")).await },
                    Series { name: "out".into(), points: samples(&format!("{name}:out_bps")).await },
                ];
                graphs.push(line_chart(&format!("{prefix}{name} traffic"), "bit/s", &traffic, from, now));
                // Utilisation needs the interface's speed: charted when the agent gave one.
                let util = vec![
                    Series { name: "in".into(), points: samples(&format!("{name}:in_util")).await },
                    Series { name: "out".into(), points: samples(&format!("{name}:out_util")).await },
                ];
                if util.iter().any(|u| !u.points.is_empty()) {
                    graphs.push(line_chart(&format!("{prefix}{name} utilisation"), "%", &util, from, now));
                }
                let faults = vec![
                    Series { name: "errors".into(), points: samples(&format!("{name}:errors")).await },
                    Series { name: "discards".into(), points: samples(&format!("{name}:discards")).await },
                ];
                if faults.iter().any(|f| f.points.iter().any(|p| p.value > 0.0 || p.range.is_some_and(|r| r.1 > 0.0))) {
                    graphs.push(line_chart(&format!("{prefix}{name} errors and discards"), "/s", &faults, from, now));
                }
            }
            continue;
        }
        for (label, unit) in &labels {
            let series = vec![Series { name: label.clone(), points: samples(label).await }];
            graphs.push(line_chart(&format!("{prefix}{}: {label}", row.check), unit, &series, from, now));
        }
    }
    graphs
}

pub async fn item_page(
    State(s): State<AppState>,
    ctx: Ctx,
    id: Result<Path<String>, PathRejection>,
    QueryPairs(pairs): QueryPairs,
) -> Response {
    let Some(id) = id.ok().and_then(|Path(id)| id.parse::<i64>().ok()) else { return not_found_page() };
    let actor = ctx.actor();
    let now = s.app.now_ms();
    let as_of = pairs.iter().find(|(k, _)| k == "as_of").map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let current = match s.app.item(&actor, id).await {
        Ok(row) => Some(row),
        Err(app::AppError::NotFound(_)) if !as_of.is_empty() => None,
        Err(e) => return app_error_page(&s, &ctx, e),
    };
    // The document shown: the item now, or as it was at the end of the `as_of` day.
    let (doc, as_of_note, as_of_ms) = if as_of.is_empty() {
        (current.as_ref().map(app::cmdb::item_document).unwrap_or_default(), String::new(), None)
    } else {
        let Ok(date) = as_of.parse::<jiff::civil::Date>() else {
            return app_error_page(&s, &ctx, model::Invalid::one("as_of", "write a date as YYYY-MM-DD").into());
        };
        let end_of_day = date
            .checked_add(jiff::Span::new().days(1))
            .ok()
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map_or(i64::MAX, |z| z.timestamp().as_millisecond() - 1);
        match s.app.item_as_of(&actor, id, end_of_day).await {
            Ok(v) => (
                serde_json::from_str(&v.snapshot).unwrap_or_default(),
                format!("as it was at the end of {as_of} (version {})", v.version),
                Some(end_of_day),
            ),
            Err(e) => return app_error_page(&s, &ctx, e),
        }
    };
    let today = jiff::Timestamp::from_millisecond(now)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
        .unwrap_or_default();
    let horizon = jiff::Timestamp::from_millisecond(now + 365 * 86_400_000)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
        .unwrap_or_default();
    let attrs = ATTRS
        .iter()
        .map(|(label, key)| {
            let value = text(&doc, key);
            let flag = match model::cmdb::lifecycle_due(&value, &today, &horizon) {
                Some(model::cmdb::LifecycleDue::Passed) if key.ends_with("_on") && *key != "purchased_on" => "passed",
                Some(model::cmdb::LifecycleDue::Soon) if key.ends_with("_on") && *key != "purchased_on" => "soon",
                _ => "",
            };
            Attr { label, value, flag }
        })
        .filter(|a| !a.value.is_empty())
        .collect();
    let custom = doc
        .get("attrs")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect())
        .unwrap_or_default();

    let mut needs = Vec::new();
    let mut needed_by = Vec::new();
    let mut impact = Vec::new();
    let mut impact_items = String::new();
    let mut map = String::new();
    let relationships = match as_of_ms {
        Some(at) => s.app.relationships_as_of(&actor, id, at).await,
        None => s.app.item_relationships(&actor, id).await,
    };
    match relationships {
        Ok(rels) => {
            for r in rels {
                if r.from_id == id {
                    let (other, href) = match (r.to_id, r.to_name, r.to_group_name) {
                        (Some(t), Some(n), _) => (n, format!("/cmdb/items/{t}")),
                        (_, _, Some(g)) => (format!("[{g}] redundancy group"), String::new()),
                        _ => continue,
                    };
                    needs.push(RelRow { kind: r.kind, other, href });
                } else {
                    let via_group = r.to_group_name.map(|g| format!(" (via [{g}])")).unwrap_or_default();
                    needed_by.push(RelRow {
                        kind: format!("{}{via_group}", r.kind),
                        other: r.from_name,
                        href: format!("/cmdb/items/{}", r.from_id),
                    });
                }
            }
        }
        Err(e) => return app_error_page(&s, &ctx, e),
    }
    if current.is_some() {
        if let Ok(report) = s.app.impact(&actor, &[format!("#{id}")]).await {
            impact = report
                .services
                .into_iter()
                .filter(|v| v.status != "unaffected" && v.id != id)
                .map(|v| ImpactRow { name: v.name, status: v.status, explanation: v.explanation })
                .collect();
            // The item itself is among the down items unless it is a service; count the others.
            let itself = usize::from(report.items.iter().any(|i| i.id == id));
            let down = report.items_down.saturating_sub(itself);
            impact_items = format!("{down} other item(s) down, {} degraded", report.items_degraded);
        }
        if let Ok(lines) = s.app.dependency_tree(&actor, id).await
            && lines.len() > 1
        {
            map =
                dependency_svg(&lines, |_, l| ((!l.is_group).then(|| format!("/cmdb/items/{}", l.id)), String::new()));
        }
    }
    let day = |at_ms: i64| {
        jiff::Timestamp::from_millisecond(at_ms)
            .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
            .unwrap_or_default()
    };
    let mut timeline: Vec<(i64, VersionRow)> = match s.app.item_history(&actor, id).await {
        Ok(v) => v
            .into_iter()
            .map(|v| {
                let as_of = if v.change == "delete" { String::new() } else { day(v.at_ms) };
                (
                    v.at_ms,
                    VersionRow {
                        version: v.version.to_string(),
                        at: when(v.at_ms, now),
                        as_of,
                        actor: v.actor,
                        change: v.change,
                    },
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    if let Ok(changes) = s.app.relationship_changes(&actor, id).await {
        for c in changes {
            let target =
                c.to_name.clone().or_else(|| c.to_group_name.as_ref().map(|g| format!("[{g}]"))).unwrap_or_default();
            let what = if c.from_id == id {
                format!("{} {} {target}", if c.change == "add" { "now" } else { "no longer" }, c.kind)
            } else {
                format!("{} {} {} this", c.from_name, if c.change == "add" { "now" } else { "no longer" }, c.kind)
            };
            timeline.push((
                c.at_ms,
                VersionRow {
                    version: String::new(),
                    at: when(c.at_ms, now),
                    as_of: day(c.at_ms),
                    actor: c.actor,
                    change: what,
                },
            ));
        }
    }
    // Newest first; at the same instant the item's version before its relationships.
    timeline.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.version.is_empty().cmp(&a.1.version.is_empty()).reverse()));
    let history: Vec<VersionRow> = timeline.into_iter().map(|(_, r)| r).collect();
    // Who to call: the contract that covers the item, for accounts that may see contracts.
    let mut support = None;
    let mut support_phone = String::new();
    if let Some(contract) = doc.get("contract_id").and_then(Value::as_i64)
        && let Ok(c) = s.app.contract(&actor, contract).await
    {
        support_phone = s.app.vendor(&actor, &c.row.vendor).await.map(|v| v.phone).unwrap_or_default();
        support = Some(ContractLine::from(c));
    }
    let name = text(&doc, "name");
    let configs = if actor.can(model::Perm::ConfigRead) {
        s.app.config_versions(&actor, id).await.ok().map(|v| v.len())
    } else {
        None
    };
    // Measurements are of now: not shown when looking at the item as it was.
    let span = graph_span(&pairs);
    // At most a screenful of interfaces, however many are asked for.
    let chosen: Vec<String> =
        pairs.iter().filter(|(k, _)| k == "interface").map(|(_, v)| v.clone()).take(CHOSEN_INTERFACES).collect();
    let (graphs, polled) = if as_of.is_empty() {
        measurement_graphs(&s, &actor, id, now, span.2, &chosen).await
    } else {
        (Vec::new(), Vec::new())
    };
    let chosen_query: String = chosen
        .iter()
        .map(|c| format!("&{}", serde_urlencoded::to_string([("interface", c)]).unwrap_or_default()))
        .collect();
    let page = ItemPage {
        interfaces: polled.into_iter().map(|i| (i.clone(), chosen.contains(&i))).collect(),
        chosen_query,
        graphs,
        span: (span.0, span.1),
        spans: GRAPH_SPANS.iter().map(|g| (g.0, g.1)).collect(),
        chrome: ctx_chrome(&s, &ctx, &name, "cmdb"),
        id,
        configs,
        class: text(&doc, "class"),
        site: text(&doc, "site"),
        status: text(&doc, "status"),
        criticality: text(&doc, "criticality"),
        name,
        as_of,
        as_of_note,
        attrs,
        custom,
        needs,
        needed_by,
        impact,
        impact_items,
        map,
        history,
        support,
        support_phone,
    };
    render(StatusCode::OK, &page)
}

/// The dependency tree as a layered SVG: the item on the left, what it needs to the right,
/// one column per level. `decorate` gives each line's link and extra CSS classes (item
/// pages on the item page, failure toggles on the service map), so the map works without
/// JavaScript. A node needed from several places is drawn once, with an edge from each.
fn dependency_svg(
    lines: &[app::cmdb::TreeLine],
    decorate: impl Fn(usize, &app::cmdb::TreeLine) -> (Option<String>, String),
) -> String {
    const COL: i64 = 230;
    const ROW: i64 = 46;
    const W: i64 = 200;
    const H: i64 = 32;
    // Place each node once, at the depth where it is first met.
    // A node is (is it a group, id); an edge joins two nodes through a relationship kind.
    type Key = (bool, i64);
    let mut pos: HashMap<Key, (i64, i64)> = HashMap::new();
    let mut rows_in_col: HashMap<usize, i64> = HashMap::new();
    let mut edges: Vec<(Key, Key, &str)> = Vec::new();
    let mut stack: Vec<Key> = Vec::new();
    let mut nodes = String::new();
    for (index, l) in lines.iter().enumerate() {
        let key = (l.is_group, l.id);
        stack.truncate(l.depth);
        if let (Some(parent), Some(via)) = (stack.last(), l.via) {
            edges.push((*parent, key, via));
        }
        stack.push(key);
        if pos.contains_key(&key) {
            continue;
        }
        let row = rows_in_col.entry(l.depth).or_insert(0);
        let (x, y) = (10 + l.depth as i64 * COL, 10 + *row * ROW);
        *row += 1;
        pos.insert(key, (x, y));
        let label = esc(&l.name);
        let sub =
            if l.is_group { "redundancy group · any one".to_owned() } else { esc(l.class.as_deref().unwrap_or("")) };
        let (href, extra) = decorate(index, l);
        let (open, close) = match href {
            Some(h) => (format!("<a href=\"{}\">", esc(&h)), "</a>".to_owned()),
            None => (String::new(), String::new()),
        };
        let _ = write!(
            nodes,
            "{open}<g class=\"node{}{extra}\"><title>{label}</title><rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{H}\" rx=\"5\"/>\
             <text x=\"{}\" y=\"{}\">{label}</text><text class=\"sub\" x=\"{}\" y=\"{}\">{sub}</text></g>{close}",
            if l.is_group {
                " group"
            } else if l.depth == 0 {
                " root"
            } else {
                ""
            },
            x + 8,
            y + 14,
            x + 8,
            y + 27,
        );
    }
    let mut lines_svg = String::new();
    for (from, to, via) in &edges {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(from), pos.get(to)) else { continue };
        let (sx, sy, ex, ey) = (x1 + W, y1 + H / 2, x2, y2 + H / 2);
        let mid = (sx + ex) / 2;
        let _ = write!(
            lines_svg,
            "<path class=\"edge {via}\" d=\"M{sx},{sy} C{mid},{sy} {mid},{ey} {ex},{ey}\"><title>{via}</title></path>"
        );
    }
    let width = pos.values().map(|(x, _)| x + W + 10).max().unwrap_or(0);
    let height = pos.values().map(|(_, y)| y + H + 10).max().unwrap_or(0);
    format!(
        "<svg class=\"depmap\" role=\"img\" aria-label=\"Dependency map\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">{lines_svg}{nodes}</svg>"
    )
}

// ---------------------------------------------------------------------------------------
// Risk

#[derive(Template)]
#[template(path = "risk.html")]
struct RiskPage {
    chrome: Chrome,
    report: app::RiskReport,
    months: u32,
    /// End of support by year, as a bar chart.
    lifecycle: String,
}

pub async fn risk_page(State(s): State<AppState>, ctx: Ctx, QueryPairs(pairs): QueryPairs) -> Response {
    let months = pairs
        .iter()
        .find(|(k, _)| k == "within_months")
        .and_then(|(_, v)| v.parse::<u32>().ok())
        .filter(|m| (1..=120).contains(m))
        .unwrap_or(12);
    match s.app.risk(&ctx.actor(), months).await {
        Ok(report) => {
            let this_year: i64 = report.today.get(..4).and_then(|y| y.parse().ok()).unwrap_or(1970);
            let month: i64 = report.today.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
            // Each bar opens the view with the horizon at the end of its year.
            let lifecycle =
                super::bar_chart(&report.end_of_support_by_year, "Items reaching end of support, by year", |label| {
                    let months = match label.parse::<i64>() {
                        Ok(year) => ((year - this_year) * 12 + 13 - month).clamp(1, 120),
                        Err(_) if label == "later" => 120,
                        Err(_) => 1,
                    };
                    format!("/cmdb/risk?within_months={months}#ageing")
                });
            render(
                StatusCode::OK,
                &RiskPage { chrome: ctx_chrome(&s, &ctx, "Risk", "risk"), report, months, lifecycle },
            )
        }
        Err(e) => app_error_page(&s, &ctx, e),
    }
}

// ---------------------------------------------------------------------------------------
// Vendors and contracts

pub struct VendorLine {
    pub slug: String,
    pub name: String,
    pub kind: String,
    pub phone: String,
    /// Who to call first, with their number.
    pub first_escalation: String,
    pub contracts: i64,
}

pub struct ContractLine {
    pub id: i64,
    pub vendor: String,
    pub vendor_name: String,
    pub reference: String,
    pub support_level: String,
    pub starts_on: String,
    pub ends_on: String,
    pub contact: String,
    pub standing: &'static str,
    /// `ok` or `warn`, for the chip's colour (its text says the same).
    pub standing_class: &'static str,
    pub items: i64,
}

impl From<app::suppliers::ContractView> for ContractLine {
    fn from(v: app::suppliers::ContractView) -> Self {
        let r = v.row;
        ContractLine {
            id: r.id,
            vendor: r.vendor,
            vendor_name: r.vendor_name,
            reference: r.reference,
            support_level: r.support_level,
            starts_on: r.starts_on.unwrap_or_default(),
            ends_on: r.ends_on.unwrap_or_else(|| "open-ended".into()),
            contact: r.contact,
            standing: v.standing.as_str(),
            standing_class: if v.standing == model::supplier::Standing::Active { "ok" } else { "warn" },
            items: r.items,
        }
    }
}

#[derive(Template)]
#[template(path = "vendors.html")]
struct VendorsPage {
    chrome: Chrome,
    vendors: Vec<VendorLine>,
    contracts: Vec<ContractLine>,
    baselines: Vec<app::suppliers::BaselineView>,
}

pub async fn vendors_page(State(s): State<AppState>, ctx: Ctx) -> Response {
    let actor = ctx.actor();
    let (vendors, contracts, baselines) =
        match (s.app.vendors(&actor).await, s.app.contracts(&actor, None).await, s.app.baselines(&actor).await) {
            (Ok(v), Ok(c), Ok(b)) => (v, c, b),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return app_error_page(&s, &ctx, e),
        };
    let vendors = vendors
        .into_iter()
        .map(|r| {
            let f = app::suppliers::vendor_fields(&r);
            let first_escalation = f
                .ladder()
                .into_iter()
                .find(|c| c.level > 1)
                .map(|c| format!("{} {}", c.name, c.phone).trim().to_owned())
                .unwrap_or_default();
            VendorLine {
                slug: f.slug,
                name: f.name,
                kind: f.kind,
                phone: f.phone,
                first_escalation,
                contracts: r.contracts,
            }
        })
        .collect();
    let page = VendorsPage {
        chrome: ctx_chrome(&s, &ctx, "Vendors and contracts", "vendors"),
        vendors,
        contracts: contracts.into_iter().map(ContractLine::from).collect(),
        baselines,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "vendor.html")]
struct VendorPage {
    chrome: Chrome,
    vendor: model::supplier::VendorFields,
    ladder: Vec<model::supplier::Contact>,
    contracts: Vec<ContractLine>,
}

pub async fn vendor_page(State(s): State<AppState>, ctx: Ctx, slug: Result<Path<String>, PathRejection>) -> Response {
    let Ok(Path(slug)) = slug else { return not_found_page() };
    let actor = ctx.actor();
    let row = match s.app.vendor(&actor, &slug).await {
        Ok(r) => r,
        Err(e) => return app_error_page(&s, &ctx, e),
    };
    let contracts = match s.app.contracts(&actor, Some(&slug)).await {
        Ok(c) => c,
        Err(e) => return app_error_page(&s, &ctx, e),
    };
    let vendor = app::suppliers::vendor_fields(&row);
    let ladder = vendor.ladder().into_iter().cloned().collect();
    let page = VendorPage {
        chrome: ctx_chrome(&s, &ctx, &vendor.name, "vendors"),
        vendor,
        ladder,
        contracts: contracts.into_iter().map(ContractLine::from).collect(),
    };
    render(StatusCode::OK, &page)
}

// ---------------------------------------------------------------------------------------
// Services and the service map

#[derive(Template)]
#[template(path = "services.html")]
struct ServicesPage {
    chrome: Chrome,
    services: Vec<app::services::ServiceSummary>,
    failed: usize,
}

pub async fn services_page(State(s): State<AppState>, ctx: Ctx) -> Response {
    let actor = ctx.actor();
    let services = match s.app.services(&actor).await {
        Ok(v) => v,
        Err(e) => return app_error_page(&s, &ctx, e),
    };
    let failed = s.app.recorded_failure_count(&actor).await.unwrap_or(0);
    render(StatusCode::OK, &ServicesPage { chrome: ctx_chrome(&s, &ctx, "Services", "services"), services, failed })
}

#[derive(Template)]
#[template(path = "service_map.html")]
struct ServiceMapPage {
    chrome: Chrome,
    map: app::services::ServiceMap,
    svg: String,
    /// Whether the failures were chosen on the page rather than recorded in the CMDB.
    what_if: bool,
    /// The chosen failures, each with the link that restores it.
    failures: Vec<(String, String)>,
    /// Single points of failure, each with the link that fails it.
    spofs: Vec<(String, String)>,
    clear_href: String,
    /// What the checks of the service's items measured over the span shown.
    graphs: Vec<String>,
    span: (&'static str, &'static str),
    spans: Vec<(&'static str, &'static str)>,
}

/// Charts a service page shows at most: its items' measurements, in map order.
const SERVICE_CHARTS: usize = 12;

/// The map's URL with failures `ids`.
fn map_href(service: i64, ids: &[i64]) -> String {
    let mut q = vec![("what_if".to_owned(), "1".to_owned())];
    q.extend(ids.iter().map(|i| ("fail".to_owned(), i.to_string())));
    format!("/cmdb/services/{service}?{}", serde_urlencoded::to_string(&q).unwrap_or_default())
}

/// The map's URL with `id` failed if it was not, restored if it was.
fn toggled(service: i64, failed: &[i64], id: i64) -> String {
    let mut ids: Vec<i64> = failed.iter().copied().filter(|f| *f != id).collect();
    if ids.len() == failed.len() {
        ids.push(id);
    }
    map_href(service, &ids)
}

pub async fn service_map_page(
    State(s): State<AppState>,
    ctx: Ctx,
    id: Result<Path<String>, PathRejection>,
    QueryPairs(pairs): QueryPairs,
) -> Response {
    let Some(id) = id.ok().and_then(|Path(id)| id.parse::<i64>().ok()) else { return not_found_page() };
    let what_if = pairs.iter().any(|(k, _)| k == "what_if");
    let mut chosen = Vec::new();
    for (k, v) in &pairs {
        if k == "fail" {
            match v.parse::<i64>() {
                Ok(i) => chosen.push(i),
                Err(_) => {
                    return app_error_page(
                        &s,
                        &ctx,
                        model::Invalid::one("fail", format!("`{v}` is not an item id")).into(),
                    );
                }
            }
        }
    }
    let actor = ctx.actor();
    let map = match s.app.service_map(&actor, id, what_if.then_some(chosen.as_slice())).await {
        Ok(m) => m,
        Err(e) => return app_error_page(&s, &ctx, e),
    };
    let failed = map.failed.clone();
    let svg = dependency_svg(&map.nodes.iter().map(|n| n.line.clone()).collect::<Vec<_>>(), |i, l| {
        let node = &map.nodes[i];
        let mut extra = format!(" health-{}", node.health);
        if node.failed {
            extra.push_str(" failed");
        }
        ((!l.is_group && l.depth > 0).then(|| toggled(id, &failed, l.id)), extra)
    });
    let name_of = |item: i64| {
        map.nodes
            .iter()
            .find(|n| !n.line.is_group && n.line.id == item)
            .map_or_else(|| format!("#{item}"), |n| n.line.name.clone())
    };
    let failures = failed.iter().map(|f| (name_of(*f), toggled(id, &failed, *f))).collect();
    let spofs = map
        .single_points_of_failure
        .iter()
        .filter_map(|name| map.nodes.iter().find(|n| !n.line.is_group && &n.line.name == name))
        .map(|n| (n.line.name.clone(), toggled(id, &failed, n.line.id)))
        .collect();
    let title = map.service.name.clone();
    let span = graph_span(&pairs);
    let now = s.app.now_ms();
    let board = s.app.check_board(&actor, None).await.unwrap_or_default();
    let mut graphs = Vec::new();
    for n in map.nodes.iter().filter(|n| !n.line.is_group) {
        if graphs.len() >= SERVICE_CHARTS {
            break;
        }
        let prefix = format!("{} · ", n.line.name);
        graphs.extend(charts_of(&s, &actor, &board, n.line.id, &prefix, (2, &[]), (now - span.2, now)).await);
    }
    graphs.truncate(SERVICE_CHARTS);
    let page = ServiceMapPage {
        chrome: ctx_chrome(&s, &ctx, &title, "services"),
        svg,
        what_if,
        failures,
        spofs,
        clear_href: map_href(id, &[]),
        map,
        graphs,
        span: (span.0, span.1),
        spans: GRAPH_SPANS.iter().map(|g| (g.0, g.1)).collect(),
    };
    render(StatusCode::OK, &page)
}
