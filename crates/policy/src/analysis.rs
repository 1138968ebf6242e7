//! What is wrong with one filter, exactly: lines that can never match and the lines that
//! block them (Batfish's filterLineReachability), rules that can be removed without changing
//! a single decision, and the Al-Shaer/Hamed labels on overlapping rules with different
//! actions (generalization, correlation). Every answer comes from set algebra on the header
//! space and carries a witness flow where one exists.

use crate::acl::{Acl, Action, AddrMatch, Flow, Rule};
use crate::boxes::{Box7, covers, intersect, overlaps, sample};
use crate::geometry::{Part, Rules, non_empty, uncovered};
use crate::matcher::Matcher;
use crate::space::{FlowSet, HeaderSpace, Result};
use std::cell::OnceCell;

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

/// A filter compiled into a header space, region by region of its partition. In each region
/// the rules are evaluated in first-match order on small, local sets (boxes while the rules
/// are boxes, see [`crate::geometry`]), and what the analyses need is kept as facts (which
/// rules reach, what would decide their flows if they went); the per-region sets themselves
/// are dropped, since keeping them all for a large filter would not fit in memory. Unions
/// over the whole filter ([`Compiled::reach`], [`Compiled::permitted`]) are built only on
/// demand.
pub struct Compiled {
    /// The packets the filter can see.
    pub universe: FlowSet,
    /// Each rule's exact set, built when an analysis first needs it.
    matches: Vec<OnceCell<FlowSet>>,
    /// The partition the filter is compiled on, with every rule's box.
    matcher: Matcher,
    /// For each rule, the regions it reaches in.
    reached_in: Vec<Vec<u32>>,
    /// For each reachable rule, some flows it decides (for witnesses).
    some_reach: Vec<Option<Part>>,
    /// For each reachable rule, what the rules after it would do with its flows.
    after: Vec<After>,
}

/// What happens to a rule's flows if the rule goes.
#[derive(Debug, Clone, Default)]
struct After {
    /// Some later rule would decide some of them the other way.
    differs: bool,
    /// Some would fall to the implicit deny.
    to_default: bool,
    /// The later rules that would take them, in order.
    related: Vec<usize>,
}

impl Compiled {
    pub fn reachable(&self, rule: usize) -> bool {
        !self.reached_in[rule].is_empty()
    }

    /// Whether the rule matches no packet at all (its addresses name no family the filter
    /// sees, or an undefined object).
    pub fn matches_nothing(&self, space: &HeaderSpace, rule: usize) -> Result<bool> {
        self.rules(space).matches_nothing(rule)
    }

    fn rules<'a>(&'a self, space: &'a HeaderSpace) -> Rules<'a> {
        Rules {
            space,
            universe: &self.universe,
            rules: &self.matcher.rules,
            bounds: &self.matcher.bounds,
            exact: &self.matcher.exact,
            matches: &self.matches,
        }
    }

    /// The rules listed in region `r` that are not `removed`, in order; where the list ended
    /// with a rule covering the region that is removed, the later rules whose boxes meet the
    /// region follow.
    fn order_in(&self, r: usize, removed: &[bool]) -> Vec<usize> {
        let p = &self.matcher.partition;
        let region = &p.regions[r];
        let items = p.items(region);
        let mut out: Vec<usize> = items.iter().map(|&i| i as usize).filter(|&i| !removed[i]).collect();
        if let Some(&last) = items.last()
            && region.covered[0]
            && removed[last as usize]
        {
            let from = last as usize + 1;
            out.extend(
                (from..self.matcher.bounds.len())
                    .filter(|&j| !removed[j] && overlaps(&self.matcher.bounds[j], &region.bounds)),
            );
        }
        out
    }

    /// First-match in region `r` over `order`: the flows each rule decides there (rules
    /// deciding nothing left out).
    fn pieces(&self, rs: &Rules, r: usize, order: &[usize]) -> Result<Vec<(usize, Part)>> {
        rs.decided(&self.matcher.partition.regions[r].bounds, order)
    }

    /// Every flow the rule decides (a union over regions, built on demand).
    pub fn reach(&self, space: &HeaderSpace, rule: usize) -> Result<FlowSet> {
        let rs = self.rules(space);
        let none = vec![false; self.matches.len()];
        let mut out = space.nothing();
        for &r in &self.reached_in[rule] {
            let pieces = self.pieces(&rs, r as usize, &self.order_in(r as usize, &none))?;
            if let Some((_, s)) = pieces.iter().find(|(i, _)| *i == rule) {
                out = out.or(&rs.set(s)?)?;
            }
        }
        Ok(out)
    }

    /// The filter's decision function: every flow it permits (built on demand).
    pub fn permitted(&self, space: &HeaderSpace, acl: &Acl) -> Result<FlowSet> {
        let rs = self.rules(space);
        let none = vec![false; acl.rules.len()];
        let mut out = space.nothing();
        for r in 0..self.matcher.partition.regions.len() {
            for (i, s) in self.pieces(&rs, r, &self.order_in(r, &none))? {
                if acl.rules[i].action == Action::Permit {
                    out = out.or(&rs.set(&s)?)?;
                }
            }
        }
        Ok(out)
    }

    /// Flows of `set` that `rule` decides, if any.
    fn decided_within(&self, space: &HeaderSpace, rule: usize, set: &FlowSet) -> Result<Option<FlowSet>> {
        let rs = self.rules(space);
        let none = vec![false; self.matches.len()];
        for &r in &self.reached_in[rule] {
            for (i, s) in self.pieces(&rs, r as usize, &self.order_in(r as usize, &none))? {
                if i == rule {
                    let part = set.and(&rs.set(&s)?)?;
                    if !part.is_empty() {
                        return Ok(Some(part));
                    }
                }
            }
        }
        Ok(None)
    }

    /// A box of flows inside `within` that `rule` decides, found by box geometry: the cheap
    /// witness before the sets. `Ok(None)` when the rule decides none of them, `Err` when
    /// the geometry cannot tell (a rule that is not a box, or boxes cut too finely).
    #[allow(clippy::result_unit_err)]
    fn decided_corner(&self, rule: usize, within: &Box7) -> std::result::Result<Option<Box7>, ()> {
        let m = &self.matcher;
        if !m.exact[rule] {
            return Err(());
        }
        let none = vec![false; m.bounds.len()];
        for &r in &self.reached_in[rule] {
            let region = &m.partition.regions[r as usize].bounds;
            let own = intersect(&intersect(region, &m.bounds[rule]), within);
            if !non_empty(&own) {
                continue;
            }
            let order = self.order_in(r as usize, &none);
            let mut earlier = Vec::new();
            for &j in order.iter().take_while(|&&j| j != rule).filter(|&&j| overlaps(&m.bounds[j], &own)) {
                if !m.exact[j] {
                    return Err(());
                }
                earlier.push(&m.bounds[j]);
            }
            if let Some(corner) = uncovered(&own, &earlier)? {
                return Ok(Some(corner));
            }
        }
        Ok(None)
    }

    /// The rules after `rule` in `order`, in region `r`; where `rule` covered the region
    /// and ended its list, the later rules whose boxes meet the region too.
    fn later(&self, r: usize, rule: usize, order: &[usize], removed: &[bool]) -> Vec<usize> {
        let region = &self.matcher.partition.regions[r];
        let ended_list = region.covered[0] && self.matcher.partition.items(region).last() == Some(&(rule as u32));
        let mut later: Vec<usize> = order.iter().copied().filter(|&j| j > rule).collect();
        if ended_list {
            later.extend(
                (rule + 1..self.matcher.bounds.len())
                    .filter(|&j| !removed[j] && overlaps(&self.matcher.bounds[j], &region.bounds)),
            );
        }
        later
    }

    /// What the `later` rules do with `flows` (flows `rule` decides).
    fn follow(&self, rs: &Rules, acl: &Acl, rule: usize, later: &[usize], flows: Part, into: &mut After) -> Result<()> {
        let action = acl.rules[rule].action;
        let mut rest = flows;
        for &j in later {
            let taken = rs.meet(&rest, j)?;
            if taken.is_empty() {
                continue;
            }
            if acl.rules[j].action != action {
                into.differs = true;
                return Ok(());
            }
            into.related.push(j);
            rest = rs.minus(rest, j, &taken)?;
            if rest.is_empty() {
                return Ok(());
            }
        }
        into.to_default = true;
        Ok(())
    }

    /// [`Self::follow`] for a box rule whose flows in `region` are its box without the
    /// `earlier` boxes, asking [`uncovered`] instead of building the sets. `None` when a later
    /// rule is not a box or the boxes fragment too finely.
    fn follow_boxes(&self, acl: &Acl, region: &Box7, rule: usize, earlier: &[usize], later: &[usize]) -> Option<After> {
        let m = &self.matcher;
        let own = intersect(region, &m.bounds[rule]);
        let mut cuts: Vec<&Box7> = earlier.iter().map(|&j| &m.bounds[j]).collect();
        let mut out = After::default();
        for &j in later {
            if !overlaps(&m.bounds[j], &own) {
                continue;
            }
            if !m.exact[j] {
                return None;
            }
            if uncovered(&intersect(&own, &m.bounds[j]), &cuts).ok()?.is_none() {
                continue;
            }
            if acl.rules[j].action != acl.rules[rule].action {
                out.differs = true;
                return Some(out);
            }
            out.related.push(j);
            cuts.push(&m.bounds[j]);
            if uncovered(&own, &cuts).ok()?.is_none() {
                return Some(out);
            }
        }
        out.to_default = true;
        Some(out)
    }
}

pub fn compile(space: &HeaderSpace, acl: &Acl) -> Result<Compiled> {
    compile_with(space, acl, crate::matcher::LEAF)
}

/// `compile` with regions of at most `leaf` rules where they can be split (tests use one, so
/// that every small filter is cut into many regions).
pub(crate) fn compile_with(space: &HeaderSpace, acl: &Acl, leaf: usize) -> Result<Compiled> {
    let n = acl.rules.len();
    let mut c = Compiled {
        universe: space.valid(acl.family)?,
        matches: vec![OnceCell::new(); n],
        matcher: Matcher::build(acl, leaf),
        reached_in: vec![Vec::new(); n],
        some_reach: vec![None; n],
        after: vec![After::default(); n],
    };
    let none = vec![false; n];
    let mut some_reach = vec![None; n];
    let mut after = vec![After::default(); n];
    let mut reached_in = vec![Vec::new(); n];
    {
        let rs = c.rules(space);
        let m = &c.matcher;
        for r in 0..m.partition.regions.len() {
            let region = &m.partition.regions[r].bounds;
            let order = c.order_in(r, &none);
            for (k, &i) in order.iter().enumerate() {
                let earlier: Vec<usize> =
                    order[..k].iter().copied().filter(|&j| overlaps(&m.bounds[j], &m.bounds[i])).collect();
                // Box rules by box geometry (most rules); the others, or boxes cut too finely,
                // by sets.
                let by_boxes = m.exact[i] && earlier.iter().all(|&j| m.exact[j]);
                let own = intersect(region, &m.bounds[i]);
                let survivor = match by_boxes {
                    true => uncovered(&own, &earlier.iter().map(|&j| &m.bounds[j]).collect::<Vec<_>>()).ok(),
                    false => None,
                };
                let flows = match survivor {
                    Some(None) => continue,
                    Some(Some(corner)) => {
                        some_reach[i].get_or_insert(Part::Boxes(vec![corner]));
                        None
                    }
                    None => {
                        let piece = rs.without(rs.meet(&rs.region(region), i)?, earlier.iter().copied())?;
                        if piece.is_empty() {
                            continue;
                        }
                        some_reach[i].get_or_insert_with(|| piece.clone());
                        Some(piece)
                    }
                };
                reached_in[i].push(r as u32);
                if after[i].differs {
                    continue;
                }
                let later = c.later(r, i, &order, &none);
                let found = match flows {
                    None => c.follow_boxes(acl, region, i, &earlier, &later),
                    Some(_) => None,
                };
                let a = &mut after[i];
                match found {
                    Some(f) => {
                        a.differs |= f.differs;
                        a.to_default |= f.to_default;
                        a.related.extend(f.related);
                    }
                    None => {
                        let flows = match flows {
                            Some(p) => p,
                            None => rs.without(rs.meet(&rs.region(region), i)?, earlier.iter().copied())?,
                        };
                        c.follow(&rs, acl, i, &later, flows, a)?;
                    }
                }
            }
        }
    }
    for a in &mut after {
        a.related.sort_unstable();
        a.related.dedup();
    }
    c.reached_in = reached_in;
    c.some_reach = some_reach;
    c.after = after;
    Ok(c)
}

/// Every finding on the filter, in rule order.
pub fn findings(space: &HeaderSpace, acl: &Acl, c: &Compiled) -> Result<Vec<Finding>> {
    let rs = c.rules(space);
    let mut out = Vec::new();
    for (i, rule) in acl.rules.iter().enumerate() {
        if rs.matches_nothing(i)? {
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
        if !c.reachable(i) {
            let (related, different_action) = blocking_lines(&rs, acl, c, i)?;
            // Show a flow that one of the blocking lines really decides, where there is one.
            let rule = &acl.rules[i];
            let bi = &c.matcher.bounds[i];
            let sample = related
                .iter()
                .find_map(|&j| c.decided_corner(j, bi).ok().flatten())
                .or_else(|| related.first().map(|&j| intersect(bi, &c.matcher.bounds[j])))
                .and_then(|b| sample(&b));
            let fits = |w: &Flow| rule.matches(w) && c.matcher.decide(w).rule.is_some_and(|d| related.contains(&d));
            let witness = witness(space, sample, fits, || {
                let m = rs.matches(i)?;
                // Where the geometry knows a line decides none of them, the sets need not look.
                for &j in related.iter().filter(|&&j| c.decided_corner(j, bi) != Ok(None)) {
                    if let Some(decided) = c.decided_within(space, j, m)? {
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
        if let Some(f) = removable(&rs, acl, c, i)? {
            out.push(f);
        }
        overlapping(&rs, acl, c, i, &mut out)?;
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
fn blocking_lines(rs: &Rules, acl: &Acl, c: &Compiled, i: usize) -> Result<(Vec<usize>, bool)> {
    let action = acl.rules[i].action;
    let differs = |j: &usize| acl.rules[*j].action != action;
    // Fast path: an earlier box rule that covers the whole line overlaps it the most; the
    // first such rule is the greedy cover's first and only pick.
    let full =
        |j: usize| c.matcher.exact[j] && covers(&c.matcher.bounds[j], &c.matcher.bounds[i]) && c.matcher.exact[i];
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
        let (bi, bj) = (&c.matcher.bounds[i], &c.matcher.bounds[j]);
        if !overlaps(bj, bi) {
            continue;
        }
        let size = if c.matcher.exact[i] && c.matcher.exact[j] {
            volume(bi, bj)
        } else {
            let overlap = rs.matches(j)?.and(rs.matches(i)?)?;
            if overlap.is_empty() {
                continue;
            }
            rs.space.count(&overlap)
        };
        candidates.push((j, size));
    }
    // Largest first; among equals the earlier line, the one that really decides.
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut chosen = match greedy_by_boxes(c, i, &candidates) {
        Some(chosen) => chosen,
        None => {
            let mut uncovered = rs.rule(i)?;
            let mut chosen = Vec::new();
            for &(j, _) in &candidates {
                if uncovered.is_empty() {
                    break;
                }
                let taken = rs.meet(&uncovered, j)?;
                if !taken.is_empty() {
                    chosen.push(j);
                    uncovered = rs.minus(uncovered, j, &taken)?;
                }
            }
            chosen
        }
    };
    if !chosen.iter().any(differs)
        && let Some(&(j, _)) = candidates.iter().find(|(j, _)| differs(j))
    {
        chosen.push(j);
    }
    chosen.sort_unstable();
    let different_action = chosen.iter().any(differs);
    Ok((chosen, different_action))
}

/// The greedy cover of [`blocking_lines`] by box geometry, when the line and its candidates
/// are all boxes and do not fragment too finely.
fn greedy_by_boxes(c: &Compiled, i: usize, candidates: &[(usize, f64)]) -> Option<Vec<usize>> {
    let m = &c.matcher;
    if !m.exact[i] || candidates.iter().any(|&(j, _)| !m.exact[j]) {
        return None;
    }
    let mut chosen: Vec<&Box7> = Vec::new();
    let mut out = Vec::new();
    for &(j, _) in candidates {
        if uncovered(&intersect(&m.bounds[i], &m.bounds[j]), &chosen).ok()?.is_some() {
            chosen.push(&m.bounds[j]);
            out.push(j);
            if uncovered(&m.bounds[i], &chosen).ok()?.is_none() {
                break;
            }
        }
    }
    Some(out)
}

/// The number of header points two boxes share.
fn volume(a: &Box7, b: &Box7) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x.1.min(y.1).saturating_sub(x.0.max(y.0)) as f64) + 1.0).product()
}

/// A reachable rule whose flows the later rules decide the same way anyway (see
/// [`Compiled::follow`]). A deny whose flows would all fall to the implicit deny is left
/// alone: an explicit final deny (often with `log`) is the convention, not a mistake.
fn removable(rs: &Rules, acl: &Acl, c: &Compiled, i: usize) -> Result<Option<Finding>> {
    let a = &c.after[i];
    if !alike(acl.rules[i].action, a) {
        return Ok(None);
    }
    let space = rs.space;
    let reach = || c.some_reach[i].as_ref().map_or_else(|| c.reach(space, i), |p| rs.set(p));
    Ok(Some(Finding {
        kind: Kind::Redundant,
        severity: Severity::Medium,
        rule: i,
        related: a.related.clone(),
        unreachable: false,
        different_action: false,
        witness: witness(space, sample(&c.matcher.bounds[i]), |w| c.matcher.decide(w).rule == Some(i), reach)?,
    }))
}

/// Whether the rules after a rule (and the implicit deny) decide its flows as it does.
fn alike(action: Action, a: &After) -> bool {
    !a.differs && !(a.to_default && (action == Action::Permit || a.related.is_empty()))
}

/// Rules that can all be removed together without changing a single decision, and whether
/// the filter without them was proven to decide every flow as before. Rules are judged from
/// the last to the first: removing a rule changes only flows that reach it, and those depend
/// on the rules before it, which are all still there; so each rule is judged against the
/// rules after it as already cleaned. The proof then compares the two filters region by
/// region.
///
/// One pass can leave a rule removable: a deny kept by the final-deny convention may reach
/// more flows once an earlier rule is gone, some of which a later rule takes. Passes repeat
/// on the cleaned filter until nothing more goes; each is proven against the one before.
pub fn cleanup(space: &HeaderSpace, acl: &Acl, c: &Compiled) -> Result<(Vec<usize>, bool)> {
    let (mut gone, mut proven) = cleanup_pass(space, acl, c)?;
    while proven && !gone.is_empty() {
        let kept: Vec<usize> = (0..acl.rules.len()).filter(|i| gone.binary_search(i).is_err()).collect();
        let cleaned = Acl { rules: kept.iter().map(|&i| acl.rules[i].clone()).collect(), ..acl.clone() };
        let cc = compile(space, &cleaned)?;
        let (more, ok) = cleanup_pass(space, &cleaned, &cc)?;
        proven = ok;
        if more.is_empty() {
            break;
        }
        gone.extend(more.into_iter().map(|k| kept[k]));
        gone.sort_unstable();
    }
    Ok((gone, proven))
}

fn cleanup_pass(space: &HeaderSpace, acl: &Acl, c: &Compiled) -> Result<(Vec<usize>, bool)> {
    let rs = c.rules(space);
    let n = acl.rules.len();
    let mut removed = vec![false; n];
    let none = vec![false; n];
    for i in (0..n).rev() {
        if !c.reachable(i) {
            removed[i] = true;
            continue;
        }
        // Judged against the rules after it as cleaned so far: a rule the original order
        // keeps may go once a later rule that overrode it is gone.
        let mut after = After::default();
        for &r in &c.reached_in[i] {
            let pieces = c.pieces(&rs, r as usize, &c.order_in(r as usize, &none))?;
            let Some((_, flows)) = pieces.into_iter().find(|(k, _)| *k == i) else { continue };
            let later = c.later(r as usize, i, &c.order_in(r as usize, &removed), &removed);
            c.follow(&rs, acl, i, &later, flows, &mut after)?;
            if after.differs {
                break;
            }
        }
        after.related.sort_unstable();
        after.related.dedup();
        if alike(acl.rules[i].action, &after) {
            removed[i] = true;
        }
    }
    let gone: Vec<usize> = (0..n).filter(|&i| removed[i]).collect();
    for r in 0..c.matcher.partition.regions.len() {
        let permits = |pieces: Vec<(usize, Part)>| {
            rs.union(pieces.iter().filter(|(i, _)| acl.rules[*i].action == Action::Permit).map(|(_, s)| s))
        };
        let before = permits(c.pieces(&rs, r, &c.order_in(r, &none))?)?;
        let after = permits(c.pieces(&rs, r, &c.order_in(r, &removed))?)?;
        if !rs.same(&before, &after)? {
            return Ok((gone, false));
        }
    }
    Ok((gone, true))
}

/// Earlier rules with another action that overlap rule `j`: generalization when rule `j`
/// contains the earlier one, correlation when neither contains the other. One finding per
/// label, listing every related rule. Two rules that are exactly their boxes are compared as
/// boxes; the decision diagrams answer for the others.
fn overlapping(rs: &Rules, acl: &Acl, c: &Compiled, j: usize, out: &mut Vec<Finding>) -> Result<()> {
    let space = rs.space;
    let (mut general, mut correlated) = (Vec::new(), Vec::new());
    let bj = &c.matcher.bounds[j];
    for i in 0..j {
        let bi = &c.matcher.bounds[i];
        if acl.rules[i].action == acl.rules[j].action || !overlaps(bi, bj) {
            continue;
        }
        let (overlap, inside) = if c.matcher.exact[i] && c.matcher.exact[j] {
            (true, covers(bj, bi))
        } else {
            let o = rs.matches(i)?.and(rs.matches(j)?)?;
            (!o.is_empty(), !o.is_empty() && rs.matches(i)?.within(rs.matches(j)?)?)
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
        let fits = |w: &Flow| rj.matches(w) && rf.matches(w) && c.matcher.decide(w).rule == Some(first);
        let both = intersect(bj, &c.matcher.bounds[first]);
        let corner = c.decided_corner(first, &both);
        let witness = witness(space, sample(&corner.ok().flatten().unwrap_or(both)), fits, || {
            let both = rs.matches(first)?.and(rs.matches(j)?)?;
            if corner == Ok(None) {
                return Ok(both);
            }
            Ok(c.decided_within(space, first, &both)?.unwrap_or(both))
        })?;
        out.push(Finding { kind, severity, rule: j, related, unreachable: false, different_action: true, witness });
    }
    Ok(())
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
            let space = HeaderSpace::with_capacity(1 << 20);
            let c = compile_with(&space, &acl, 1).unwrap();
            let found = findings(&space, &acl, &c).unwrap();
            let flows = flows();
            let decided: Vec<_> = flows.iter().map(|f| acl.decide(f)).collect();
            let n = acl.rules.len();
            for i in 0..n {
                let hits: Vec<&Flow> = flows.iter().zip(&decided).filter(|(_, d)| d.rule == Some(i)).map(|(f, _)| f).collect();
                let dead = found.iter().any(|f| f.rule == i && f.unreachable);
                prop_assert_eq!(dead, hits.is_empty(), "rule {} reachability", i);
                prop_assert_eq!(c.reach(&space, i).unwrap().is_empty(), hits.is_empty());
                if let Some(w) = space.witness(&c.reach(&space, i).unwrap()).unwrap() {
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
            let permit_set = c.permitted(&space, &acl).unwrap();
            for (flow, d) in flows.iter().zip(&decided) {
                let permitted = space.contains(&permit_set, flow);
                prop_assert_eq!(permitted, d.action == Action::Permit, "{:?}", flow);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        /// The cleaned filter decides every class of flow as the original, the proof says so,
        /// and nothing left could go on its own (but a final deny kept by convention).
        #[test]
        fn cleanup_keeps_every_decision_and_leaves_nothing_removable(acl in acl()) {
            let space = HeaderSpace::with_capacity(1 << 20);
            let c = compile_with(&space, &acl, 1).unwrap();
            let (gone, proven) = cleanup(&space, &acl, &c).unwrap();
            prop_assert!(proven);
            let mut cleaned = acl.clone();
            cleaned.rules = acl.rules.iter().enumerate().filter(|(i, _)| !gone.contains(i)).map(|(_, r)| r.clone()).collect();
            let flows = flows();
            for f in &flows {
                prop_assert_eq!(cleaned.decide(f).action, acl.decide(f).action, "{:?}", f);
            }
            for k in 0..cleaned.rules.len() {
                let shorter = without(&cleaned, k);
                let changes = flows.iter().any(|f| shorter.decide(f).action != cleaned.decide(f).action);
                let hits: Vec<&Flow> = flows.iter().filter(|f| cleaned.decide(f).rule == Some(k)).collect();
                let kept_by_convention = cleaned.rules[k].action == Action::Deny
                    && hits.iter().all(|f| cleaned.rules[k + 1..].iter().all(|r| !r.matches(f)));
                prop_assert!(changes || kept_by_convention, "rule {} of the cleaned filter could still go", k);
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
