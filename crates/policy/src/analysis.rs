//! What is wrong with one filter, exactly: lines that can never match and the lines that
//! block them (Batfish's filterLineReachability), rules that can be removed without changing
//! a single decision, and the Al-Shaer/Hamed labels on overlapping rules with different
//! actions (generalization, correlation). Every answer comes from set algebra on the header
//! space and carries a witness flow where one exists.

use crate::acl::{Acl, Action, AddrMatch, Flow, PortMatch, Rule};
use crate::space::{FlowSet, HeaderSpace, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Earlier rules with another action take every flow the rule names.
    Shadowed,
    /// Removing the rule changes no decision: earlier rules with the same action cover it, or
    /// the rules after it decide its flows the same way.
    Redundant,
    /// A later rule with another action contains this earlier one (usually an intended
    /// exception, worth knowing when either is edited).
    Generalization,
    /// Two rules with different actions overlap without either containing the other: their
    /// order decides the overlap.
    Correlation,
    /// The rule matches no packet at all, whatever comes before it.
    Unreachable,
    /// The rule names an object the configuration does not define, so it matches nothing.
    UndefinedReference,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Shadowed => "shadowed",
            Kind::Redundant => "redundant",
            Kind::Generalization => "generalization",
            Kind::Correlation => "correlation",
            Kind::Unreachable => "unreachable",
            Kind::UndefinedReference => "undefined-reference",
        }
    }
}

/// Ordered so that `--fail-on` can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            _ => return None,
        })
    }
}

/// One finding on one rule of one filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: Kind,
    pub severity: Severity,
    /// Index of the rule in the filter.
    pub rule: usize,
    /// The rules that explain the finding (blocking lines, the later rules that decide the
    /// same way, the overlapping rules), by index, in filter order.
    pub related: Vec<usize>,
    /// True when no flow ever reaches the rule (the Batfish "unreachable line").
    pub unreachable: bool,
    /// For shadowed and redundant rules, whether a related rule has another action.
    pub different_action: bool,
    /// A concrete flow that shows the finding: one the rule names but another rule decides.
    pub witness: Option<Flow>,
}

/// A filter compiled into a header space: each rule's match set and the part of it that
/// reaches the rule in first-match order.
pub struct Compiled {
    /// The packets the filter can see.
    pub universe: FlowSet,
    pub matches: Vec<FlowSet>,
    pub reach: Vec<FlowSet>,
    /// Flows that no rule matches: the implicit deny.
    pub default_reach: FlowSet,
    /// `permitted_from[k]`: the flows the filter would permit if evaluation started at rule
    /// `k`; `permitted_from[0]` is the filter's whole permit set.
    pub permitted_from: Vec<FlowSet>,
    /// `matched_after[k]`: flows some rule at index ≥ k matches.
    pub matched_after: Vec<FlowSet>,
}

impl Compiled {
    pub fn permitted(&self) -> &FlowSet {
        &self.permitted_from[0]
    }
}

pub fn compile(space: &HeaderSpace, acl: &Acl) -> Result<Compiled> {
    let universe = space.valid(acl.family)?;
    let mut matches = Vec::with_capacity(acl.rules.len());
    let mut reach = Vec::with_capacity(acl.rules.len());
    let mut rest = universe.clone();
    for r in &acl.rules {
        let m = space.rule(r)?.and(&universe)?;
        reach.push(m.and(&rest)?);
        rest = rest.minus(&m)?;
        matches.push(m);
    }
    let n = acl.rules.len();
    let mut permitted_from = vec![space.nothing(); n + 1];
    let mut matched_after = vec![space.nothing(); n + 1];
    for k in (0..n).rev() {
        let decision = if acl.rules[k].action == Action::Permit { space.everything() } else { space.nothing() };
        permitted_from[k] = matches[k].ite(&decision, &permitted_from[k + 1])?;
        matched_after[k] = matches[k].or(&matched_after[k + 1])?;
    }
    Ok(Compiled { universe, matches, reach, default_reach: rest, permitted_from, matched_after })
}

/// Every finding on the filter, in rule order.
pub fn findings(space: &mut HeaderSpace, acl: &Acl, c: &Compiled) -> Result<Vec<Finding>> {
    let boxes: Vec<Hull> = acl.rules.iter().map(Hull::of).collect();
    let mut out = Vec::new();
    for (i, rule) in acl.rules.iter().enumerate() {
        let m = &c.matches[i];
        if m.is_empty() {
            let undefined = undefined(rule);
            out.push(Finding {
                kind: if undefined { Kind::UndefinedReference } else { Kind::Unreachable },
                severity: Severity::High,
                rule: i,
                related: Vec::new(),
                unreachable: true,
                different_action: false,
                witness: None,
            });
            continue;
        }
        if c.reach[i].is_empty() {
            let (related, different_action) = blocking_lines(space, acl, c, &boxes, i)?;
            // Show a flow that one of the blocking lines really decides, where there is one.
            let mut shown = m.clone();
            for &j in &related {
                let decided = m.and(&c.reach[j])?;
                if !decided.is_empty() {
                    shown = decided;
                    break;
                }
            }
            let witness = space.witness(&shown)?;
            out.push(Finding {
                kind: if different_action { Kind::Shadowed } else { Kind::Redundant },
                severity: if different_action { Severity::High } else { Severity::Medium },
                rule: i,
                related,
                unreachable: true,
                different_action,
                witness,
            });
            continue;
        }
        if let Some(f) = removable(space, acl, c, i)? {
            out.push(f);
        }
        overlaps(space, acl, c, &boxes, i, &mut out)?;
    }
    Ok(out)
}

fn undefined(r: &Rule) -> bool {
    fn has(m: &AddrMatch) -> bool {
        match m {
            AddrMatch::Undefined(_) => true,
            AddrMatch::AnyOf(all) => all.iter().any(has),
            _ => false,
        }
    }
    has(&r.src) || has(&r.dst)
}

/// The earlier lines that, together, cover an unreachable line: a greedy set cover that
/// takes the line covering most of what is still uncovered, as Batfish weights blocking lines
/// by overlap; plus the largest overlapping line with another action if the cover has none,
/// so that a shadowing is never reported as a mere redundancy.
fn blocking_lines(
    space: &mut HeaderSpace,
    acl: &Acl,
    c: &Compiled,
    boxes: &[Hull],
    i: usize,
) -> Result<(Vec<usize>, bool)> {
    let m = &c.matches[i];
    let mut candidates = Vec::new();
    for j in 0..i {
        if boxes[j].disjoint(&boxes[i]) {
            continue;
        }
        let overlap = c.matches[j].and(m)?;
        if !overlap.is_empty() {
            candidates.push((j, overlap));
        }
    }
    let action = acl.rules[i].action;
    let mut uncovered = m.clone();
    let mut chosen = Vec::new();
    while !uncovered.is_empty() {
        let mut best: Option<(usize, f64)> = None;
        for (k, (j, overlap)) in candidates.iter().enumerate() {
            if chosen.contains(j) {
                continue;
            }
            let size = space.count(&overlap.and(&uncovered)?);
            // Among equal covers prefer the earlier line, the one that really decides.
            if size > 0.0 && best.is_none_or(|(_, b)| size > b) {
                best = Some((k, size));
            }
        }
        let Some((k, _)) = best else { break };
        chosen.push(candidates[k].0);
        uncovered = uncovered.minus(&candidates[k].1)?;
    }
    let differs = |j: &usize| acl.rules[*j].action != action;
    if !chosen.iter().any(differs) {
        let mut largest: Option<(usize, f64)> = None;
        for (j, overlap) in &candidates {
            if differs(j) {
                let size = space.count(overlap);
                if largest.is_none_or(|(_, b)| size > b) {
                    largest = Some((*j, size));
                }
            }
        }
        if let Some((j, _)) = largest {
            chosen.push(j);
        }
    }
    chosen.sort_unstable();
    let different_action = chosen.iter().any(differs);
    Ok((chosen, different_action))
}

/// A reachable rule whose flows the later rules decide the same way anyway. A deny whose
/// flows would all fall to the implicit deny is left alone: an explicit final deny (often
/// with `log`) is the convention, not a mistake.
fn removable(space: &HeaderSpace, acl: &Acl, c: &Compiled, i: usize) -> Result<Option<Finding>> {
    let reach = &c.reach[i];
    let later = &c.permitted_from[i + 1];
    let same = match acl.rules[i].action {
        Action::Permit => reach.within(later)?,
        Action::Deny => !reach.intersects(later)? && reach.intersects(&c.matched_after[i + 1])?,
    };
    if !same {
        return Ok(None);
    }
    let mut related = Vec::new();
    let mut rest = reach.clone();
    for j in i + 1..acl.rules.len() {
        if rest.is_empty() {
            break;
        }
        if rest.intersects(&c.matches[j])? {
            related.push(j);
            rest = rest.minus(&c.matches[j])?;
        }
    }
    Ok(Some(Finding {
        kind: Kind::Redundant,
        severity: Severity::Medium,
        rule: i,
        related,
        unreachable: false,
        different_action: false,
        witness: space.witness(reach)?,
    }))
}

/// Earlier rules with another action that overlap rule `j`: generalization when rule `j`
/// contains the earlier one, correlation when neither contains the other. One finding per
/// label, listing every related rule.
fn overlaps(
    space: &HeaderSpace,
    acl: &Acl,
    c: &Compiled,
    boxes: &[Hull],
    j: usize,
    out: &mut Vec<Finding>,
) -> Result<()> {
    let (mut general, mut correlated) = (Vec::new(), Vec::new());
    let (mut general_witness, mut correlated_witness) = (None, None);
    for i in 0..j {
        if acl.rules[i].action == acl.rules[j].action || boxes[i].disjoint(&boxes[j]) {
            continue;
        }
        let overlap = c.matches[i].and(&c.matches[j])?;
        if overlap.is_empty() {
            continue;
        }
        if c.matches[i].within(&c.matches[j])? {
            if general_witness.is_none() {
                general_witness = Some(overlap.and(&c.reach[i])?);
            }
            general.push(i);
        } else {
            if correlated_witness.is_none() {
                correlated_witness = Some(overlap);
            }
            correlated.push(i);
        }
    }
    for (kind, severity, related, witness) in [
        (Kind::Generalization, Severity::Info, general, general_witness),
        (Kind::Correlation, Severity::Low, correlated, correlated_witness),
    ] {
        if related.is_empty() {
            continue;
        }
        let witness = match witness {
            Some(w) => space.witness(&w)?,
            None => None,
        };
        out.push(Finding { kind, severity, rule: j, related, unreachable: false, different_action: true, witness });
    }
    Ok(())
}

/// A cheap outer bound of a rule's match set, field by field, so that the pairwise checks
/// skip rules that cannot overlap without touching the decision diagrams.
#[derive(Debug, Clone)]
struct Hull {
    proto: Option<u8>,
    src: (u128, u128, Option<bool>),
    dst: (u128, u128, Option<bool>),
    sport: (u16, u16),
    dport: (u16, u16),
}

impl Hull {
    fn of(r: &Rule) -> Hull {
        // Port conditions bind TCP and UDP only; any other protocol ignores them.
        let ported = r.proto.is_none_or(|p| matches!(p, 6 | 17));
        let ports = |p: &PortMatch| -> (u16, u16) {
            if !ported || p.0.is_empty() {
                return (0, u16::MAX);
            }
            (p.0.iter().map(|r| r.0).min().unwrap_or(0), p.0.iter().map(|r| r.1).max().unwrap_or(u16::MAX))
        };
        Hull {
            proto: r.proto,
            src: addr_hull(&r.src),
            dst: addr_hull(&r.dst),
            sport: ports(&r.sport),
            dport: ports(&r.dport),
        }
    }

    fn disjoint(&self, o: &Hull) -> bool {
        let apart = |a: (u128, u128, Option<bool>), b: (u128, u128, Option<bool>)| {
            let families = matches!((a.2, b.2), (Some(x), Some(y)) if x != y);
            families || (a.2.is_some() && a.2 == b.2 && (a.1 < b.0 || b.1 < a.0))
        };
        matches!((self.proto, o.proto), (Some(a), Some(b)) if a != b)
            || apart(self.src, o.src)
            || apart(self.dst, o.dst)
            || self.sport.1 < o.sport.0
            || o.sport.1 < self.sport.0
            || self.dport.1 < o.dport.0
            || o.dport.1 < self.dport.0
    }
}

/// (low, high, is IPv6) — `None` for the family when the side matches either family.
fn addr_hull(m: &AddrMatch) -> (u128, u128, Option<bool>) {
    match m {
        AddrMatch::Any | AddrMatch::Undefined(_) => (0, u128::MAX, None),
        AddrMatch::Wildcard { addr, wildcard } => {
            (u128::from(addr & !wildcard), u128::from(addr | wildcard), Some(false))
        }
        AddrMatch::Prefix6 { addr, len } => {
            let host = if *len == 0 { u128::MAX } else { u128::MAX >> u32::from((*len).min(128)) };
            (addr & !host, addr | host, Some(true))
        }
        AddrMatch::AnyOf(all) => {
            let hulls: Vec<_> = all.iter().map(addr_hull).collect();
            let family = hulls.first().and_then(|h| h.2).filter(|f| hulls.iter().all(|h| h.2 == Some(*f)));
            match family {
                Some(f) => (
                    hulls.iter().map(|h| h.0).min().unwrap_or(0),
                    hulls.iter().map(|h| h.1).max().unwrap_or(u128::MAX),
                    Some(f),
                ),
                None => (0, u128::MAX, None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::Family;
    use crate::arbitrary::{acl, flows};
    use proptest::prelude::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn without(acl: &Acl, i: usize) -> Acl {
        let mut a = acl.clone();
        a.rules.remove(i);
        a
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        /// Every finding agrees with evaluating every class of flow one by one, and every
        /// rule that brute force says is dead, removable or overlapping has its finding.
        #[test]
        fn findings_agree_with_brute_force(acl in acl()) {
            let mut space = HeaderSpace::with_capacity(1 << 20);
            let c = compile(&space, &acl).unwrap();
            let found = findings(&mut space, &acl, &c).unwrap();
            let flows = flows();
            let decided: Vec<_> = flows.iter().map(|f| acl.decide(f)).collect();
            let n = acl.rules.len();
            for i in 0..n {
                let hits: Vec<&Flow> = flows.iter().zip(&decided).filter(|(_, d)| d.rule == Some(i)).map(|(f, _)| f).collect();
                let dead = found.iter().any(|f| f.rule == i && f.unreachable);
                prop_assert_eq!(dead, hits.is_empty(), "rule {} reachability", i);
                prop_assert_eq!(c.reach[i].is_empty(), hits.is_empty());
                if let Some(w) = space.witness(&c.reach[i]).unwrap() {
                    prop_assert_eq!(acl.decide(&w).rule, Some(i), "reach witness {:?}", w);
                }
                if dead {
                    continue;
                }
                let shorter = without(&acl, i);
                let same = hits.iter().all(|f| shorter.decide(f).action == acl.rules[i].action);
                let to_default = acl.rules[i].action == Action::Deny
                    && hits.iter().all(|f| acl.rules[i + 1..].iter().all(|r| !r.matches(f)));
                let redundant = found.iter().any(|f| f.rule == i && f.kind == Kind::Redundant);
                prop_assert_eq!(redundant, same && !to_default, "rule {} removable", i);
                let overlaps = |a: usize, b: usize| flows.iter().any(|f| acl.rules[a].matches(f) && acl.rules[b].matches(f));
                let inside = |a: usize, b: usize| flows.iter().all(|f| !acl.rules[a].matches(f) || acl.rules[b].matches(f));
                let differ = |k: usize| acl.rules[k].action != acl.rules[i].action;
                let general: Vec<usize> = (0..i).filter(|&k| differ(k) && overlaps(k, i) && inside(k, i)).collect();
                let correlated: Vec<usize> = (0..i).filter(|&k| differ(k) && overlaps(k, i) && !inside(k, i)).collect();
                let listed = |kind| found.iter().find(|f| f.rule == i && f.kind == kind).map(|f| f.related.clone()).unwrap_or_default();
                prop_assert_eq!(listed(Kind::Generalization), general);
                prop_assert_eq!(listed(Kind::Correlation), correlated);
            }
            for f in &found {
                let r = &acl.rules[f.rule];
                if let Some(w) = &f.witness {
                    match f.kind {
                        Kind::Shadowed | Kind::Redundant if f.unreachable => {
                            prop_assert!(r.matches(w));
                            let decider = acl.decide(w).rule;
                            prop_assert!(decider.is_some_and(|d| d < f.rule), "{:?} {:?}", f, w);
                            if f.related.iter().any(|&j| flows.iter().any(|x| r.matches(x) && acl.decide(x).rule == Some(j))) {
                                prop_assert!(decider.is_some_and(|d| f.related.contains(&d)), "{:?} {:?}", f, w);
                            }
                        }
                        Kind::Redundant => {
                            prop_assert_eq!(acl.decide(w).rule, Some(f.rule));
                            prop_assert_eq!(without(&acl, f.rule).decide(w).action, r.action);
                        }
                        Kind::Generalization | Kind::Correlation => {
                            prop_assert!(r.matches(w) && acl.rules[f.related[0]].matches(w), "{:?} {:?}", f, w);
                        }
                        _ => {}
                    }
                }
                if f.kind == Kind::Shadowed {
                    prop_assert!(f.related.iter().any(|&j| acl.rules[j].action != r.action));
                }
                if f.unreachable && matches!(f.kind, Kind::Shadowed | Kind::Redundant) {
                    // The blocking lines cover the rule.
                    let covered = flows.iter().filter(|w| r.matches(w)).all(|w| f.related.iter().any(|&j| acl.rules[j].matches(w)));
                    prop_assert!(covered, "{:?}", f);
                }
            }
            // The permit set is the filter's decision function.
            for (flow, d) in flows.iter().zip(&decided) {
                let permitted = space.contains(c.permitted(), flow);
                prop_assert_eq!(permitted, d.action == Action::Permit, "{:?}", flow);
            }
        }
    }

    #[test]
    fn witnesses_read_like_traffic() {
        let space = HeaderSpace::with_capacity(1 << 16);
        let r = Rule {
            line: 1,
            text: String::new(),
            action: Action::Permit,
            proto: Some(6),
            src: AddrMatch::Wildcard { addr: 0x0a01_0000, wildcard: 0xffff },
            dst: AddrMatch::host(0xc000_0201),
            sport: PortMatch::any(),
            dport: PortMatch(vec![(443, 443)]),
            icmp: None,
            established: false,
            fragments: false,
            log: false,
        };
        let set = space.rule(&r).unwrap().and(&space.valid(Family::V4).unwrap()).unwrap();
        let w = space.witness(&set).unwrap().unwrap();
        assert_eq!(w.src, IpAddr::V4(Ipv4Addr::new(10, 1, 0, 1)));
        assert_eq!(w.dst, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!((w.proto, w.dport, w.sport, w.established, w.fragment), (6, 443, 49152, false, false));
    }
}
