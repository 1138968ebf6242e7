//! What is wrong with one filter, exactly: lines that can never match and the lines that
//! block them (Batfish's filterLineReachability), rules that can be removed without changing
//! a single decision, and the Al-Shaer/Hamed labels on overlapping rules with different
//! actions (generalization, correlation). Every answer comes from set algebra on the header
//! space and carries a witness flow where one exists.

use crate::acl::{Acl, Action, AddrMatch, Flow, Rule};
use crate::boxes::{Box7, bounds, covers, intersect, is_box, overlaps, sample};
use crate::matcher::Matcher;
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
    permitted: FlowSet,
}

impl Compiled {
    /// The filter's decision function: every flow it permits.
    pub fn permitted(&self) -> &FlowSet {
        &self.permitted
    }
}

pub fn compile(space: &HeaderSpace, acl: &Acl) -> Result<Compiled> {
    let universe = space.valid(acl.family)?;
    let mut matches = Vec::with_capacity(acl.rules.len());
    let mut reach = Vec::with_capacity(acl.rules.len());
    let mut rest = universe.clone();
    let mut permitted = space.nothing();
    for r in &acl.rules {
        let m = space.rule(r)?.and(&universe)?;
        let reached = m.and(&rest)?;
        if r.action == Action::Permit {
            permitted = permitted.or(&reached)?;
        }
        reach.push(reached);
        rest = rest.minus(&m)?;
        matches.push(m);
    }
    Ok(Compiled { universe, matches, reach, default_reach: rest, permitted })
}

/// Every finding on the filter, in rule order.
pub fn findings(space: &mut HeaderSpace, acl: &Acl, c: &Compiled) -> Result<Vec<Finding>> {
    let boxes = Boxes {
        bounds: acl.rules.iter().map(|r| bounds(r, acl.family)).collect(),
        exact: acl.rules.iter().map(is_box).collect(),
        matcher: Matcher::new(acl),
    };
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
            let rule = &acl.rules[i];
            let sample = related.first().and_then(|&j| sample(&intersect(&boxes.bounds[i], &boxes.bounds[j])));
            let fits = |w: &Flow| rule.matches(w) && boxes.matcher.decide(w).rule.is_some_and(|d| related.contains(&d));
            let witness = witness(space, sample, fits, || {
                for &j in &related {
                    let decided = m.and(&c.reach[j])?;
                    if !decided.is_empty() {
                        return Ok(decided);
                    }
                }
                Ok(m.clone())
            })?;
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
        if let Some(f) = removable(space, acl, c, &boxes, i)? {
            out.push(f);
        }
        overlapping(space, acl, c, &boxes, i, &mut out)?;
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

/// The earlier lines that, together, cover an unreachable line, chosen as Batfish chooses
/// them: the overlapping lines by decreasing size of overlap, each taken while it still
/// covers something, until the line is covered; plus the largest overlapping line with
/// another action if none was taken, so a shadowing is never reported as a redundancy.
/// Overlap sizes of two box rules are box volumes; the decision diagrams count the others.
fn blocking_lines(
    space: &mut HeaderSpace,
    acl: &Acl,
    c: &Compiled,
    boxes: &Boxes,
    i: usize,
) -> Result<(Vec<usize>, bool)> {
    let m = &c.matches[i];
    let action = acl.rules[i].action;
    let differs = |j: &usize| acl.rules[*j].action != action;
    // Fast path: an earlier box rule that covers the whole line overlaps it the most; the
    // first such rule is the greedy cover's first and only pick.
    let full = |j: usize| boxes.exact[j] && covers(&boxes.bounds[j], &boxes.bounds[i]) && boxes.exact[i];
    if let Some(j) = (0..i).find(|&j| full(j)) {
        if differs(&j) {
            return Ok((vec![j], true));
        }
        if let Some(k) = (0..i).find(|&k| full(k) && differs(&k)) {
            let mut both = vec![j, k];
            both.sort_unstable();
            return Ok((both, true));
        }
    }
    let mut candidates: Vec<(usize, f64)> = Vec::new();
    for j in 0..i {
        let (bi, bj) = (&boxes.bounds[i], &boxes.bounds[j]);
        if !overlaps(bj, bi) {
            continue;
        }
        let size = if boxes.exact[i] && boxes.exact[j] {
            volume(bi, bj)
        } else {
            let overlap = c.matches[j].and(m)?;
            if overlap.is_empty() {
                continue;
            }
            space.count(&overlap)
        };
        candidates.push((j, size));
    }
    // Largest first; among equals the earlier line, the one that really decides.
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut uncovered = m.clone();
    let mut chosen = Vec::new();
    for &(j, _) in &candidates {
        if uncovered.is_empty() {
            break;
        }
        if uncovered.intersects(&c.matches[j])? {
            chosen.push(j);
            uncovered = uncovered.minus(&c.matches[j])?;
        }
    }
    if !chosen.iter().any(differs)
        && let Some(&(j, _)) = candidates.iter().find(|(j, _)| differs(j))
    {
        chosen.push(j);
    }
    chosen.sort_unstable();
    let different_action = chosen.iter().any(differs);
    Ok((chosen, different_action))
}

/// The number of header points two boxes share.
fn volume(a: &Box7, b: &Box7) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x.1.min(y.1).saturating_sub(x.0.max(y.0)) as f64) + 1.0).product()
}

/// A reachable rule whose flows the later rules decide the same way anyway: the flows that
/// reach it are followed down the rules after it, stopping at the first rule that would
/// decide some of them otherwise. A deny whose flows would all fall to the implicit deny is
/// left alone: an explicit final deny (often with `log`) is the convention, not a mistake.
fn removable(space: &HeaderSpace, acl: &Acl, c: &Compiled, boxes: &Boxes, i: usize) -> Result<Option<Finding>> {
    let action = acl.rules[i].action;
    let mut rest = c.reach[i].clone();
    let mut related = Vec::new();
    for j in i + 1..acl.rules.len() {
        if !overlaps(&boxes.bounds[i], &boxes.bounds[j]) {
            continue;
        }
        let taken = rest.and(&c.matches[j])?;
        if taken.is_empty() {
            continue;
        }
        if acl.rules[j].action != action {
            return Ok(None);
        }
        related.push(j);
        rest = rest.minus(&taken)?;
        if rest.is_empty() {
            break;
        }
    }
    // What is left falls to the implicit deny.
    if !rest.is_empty() && (action == Action::Permit || related.is_empty()) {
        return Ok(None);
    }
    Ok(Some(Finding {
        kind: Kind::Redundant,
        severity: Severity::Medium,
        rule: i,
        related,
        unreachable: false,
        different_action: false,
        witness: witness(
            space,
            sample(&boxes.bounds[i]),
            |w| boxes.matcher.decide(w).rule == Some(i),
            || Ok(c.reach[i].clone()),
        )?,
    }))
}

/// Earlier rules with another action that overlap rule `j`: generalization when rule `j`
/// contains the earlier one, correlation when neither contains the other. One finding per
/// label, listing every related rule. Two rules that are exactly their boxes are compared as
/// boxes; the decision diagrams answer for the others.
fn overlapping(
    space: &HeaderSpace,
    acl: &Acl,
    c: &Compiled,
    boxes: &Boxes,
    j: usize,
    out: &mut Vec<Finding>,
) -> Result<()> {
    let (mut general, mut correlated) = (Vec::new(), Vec::new());
    let bj = &boxes.bounds[j];
    for i in 0..j {
        let bi = &boxes.bounds[i];
        if acl.rules[i].action == acl.rules[j].action || !overlaps(bi, bj) {
            continue;
        }
        let (overlap, inside) = if boxes.exact[i] && boxes.exact[j] {
            (true, covers(bj, bi))
        } else {
            let o = c.matches[i].and(&c.matches[j])?;
            (!o.is_empty(), !o.is_empty() && c.matches[i].within(&c.matches[j])?)
        };
        if !overlap {
            continue;
        }
        if inside { general.push(i) } else { correlated.push(i) }
    }
    for (kind, severity, related) in
        [(Kind::Generalization, Severity::Info, general), (Kind::Correlation, Severity::Low, correlated)]
    {
        let Some(&first) = related.first() else { continue };
        // The witness: a flow both name, decided by the earlier rule where there is one.
        let (rj, rf) = (&acl.rules[j], &acl.rules[first]);
        let fits = |w: &Flow| rj.matches(w) && rf.matches(w) && boxes.matcher.decide(w).rule == Some(first);
        let witness = witness(space, sample(&intersect(bj, &boxes.bounds[first])), fits, || {
            let both = c.matches[first].and(&c.matches[j])?;
            let decided = both.and(&c.reach[first])?;
            Ok(if decided.is_empty() { both } else { decided })
        })?;
        out.push(Finding { kind, severity, rule: j, related, unreachable: false, different_action: true, witness });
    }
    Ok(())
}

/// Every rule's box, whether the rule is exactly its box, and the filter compiled for fast
/// concrete decisions (to check sampled witnesses).
struct Boxes {
    bounds: Vec<Box7>,
    exact: Vec<bool>,
    matcher: Matcher,
}

/// A witness for a finding: a flow sampled from the rules' boxes when it shows the finding
/// (checked by `fits`), otherwise one drawn from the exact set, computed only then.
fn witness(
    space: &HeaderSpace,
    sample: Option<Flow>,
    fits: impl Fn(&Flow) -> bool,
    set: impl FnOnce() -> Result<FlowSet>,
) -> Result<Option<Flow>> {
    match sample.filter(|w| fits(w)) {
        Some(w) => Ok(Some(w)),
        None => space.witness(&set()?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::{Family, PortMatch};
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
