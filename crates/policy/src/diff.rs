//! What changes between two versions of a filter: the exact set of flows whose decision
//! differs, cut into blocks by the pair of rules that decide each flow before and after, each
//! block with its header ranges and a witness. The heart of firewall change review.

use crate::acl::{Acl, Action, Flow, Rule};
use crate::boxes::{Box7, bounds, is_box, overlaps, universe as universe_box};
use crate::geometry::{Part, Rules};
use crate::matcher::Partition;
use crate::space::{FlowSet, HeaderSpace, Result, Summary};
use std::cell::OnceCell;
use std::collections::BTreeMap;

/// Flows that one rule decided before and another decides after, with different outcomes.
#[derive(Debug, Clone)]
pub struct Block {
    /// Index of the deciding rule in the old filter; `None` for its implicit deny.
    pub old_rule: Option<usize>,
    pub new_rule: Option<usize>,
    pub old_action: Action,
    pub new_action: Action,
    /// The flows, as boxes where every rule involved was one.
    flows: Part,
    universe: FlowSet,
    /// How many packets the block holds (IPv4 and IPv6 alike).
    pub size: f64,
    pub summary: Summary,
    pub witness: Flow,
}

impl Block {
    /// The block's flows as a decision diagram of `space` (the one the diff ran in).
    pub fn flows(&self, space: &HeaderSpace) -> Result<FlowSet> {
        crate::geometry::to_set(space, &self.universe, &self.flows)
    }
}

/// Every flow whose decision differs, cut by the rules responsible on each side, in the old
/// filter's rule order (the implicit deny last).
///
/// Both filters are cut by one partition of the space; a region whose two rule lists are the
/// same rules in the same order cannot change and is skipped, so an edit of a few rules in a
/// large filter costs little more than the regions those rules touch.
pub fn diff(space: &HeaderSpace, old: &Acl, new: &Acl) -> Result<Vec<Block>> {
    diff_with(space, old, new, crate::matcher::LEAF)
}

/// `diff` with regions of at most `leaf` rules where they can be split.
pub(crate) fn diff_with(space: &HeaderSpace, old: &Acl, new: &Acl, leaf: usize) -> Result<Vec<Block>> {
    let universe = space.valid(old.family)?.or(&space.valid(new.family)?)?;
    let mut boxes: Vec<Box7> = old.rules.iter().map(|r| bounds(r, old.family)).collect();
    boxes.extend(new.rules.iter().map(|r| bounds(r, new.family)));
    let exact: Vec<bool> = old.rules.iter().chain(&new.rules).map(is_box).collect();
    let (ro, rn) = (universe_box(old.family), universe_box(new.family));
    let root = std::array::from_fn(|d| (ro[d].0.min(rn[d].0), ro[d].1.max(rn[d].1)));
    let split = old.rules.len();
    let partition = Partition::build(&boxes, &exact, split, root, leaf);
    let rules: Vec<Rule> = old.rules.iter().chain(&new.rules).cloned().collect();
    let matches = vec![OnceCell::new(); rules.len()];
    let rs = Rules { space, universe: &universe, rules: &rules, bounds: &boxes, exact: &exact, matches: &matches };
    let mut pieces: BTreeMap<(usize, usize), Vec<Part>> = BTreeMap::new();
    for region in &partition.regions {
        let items = partition.items(region);
        let (a, b): (Vec<u32>, Vec<u32>) = items.iter().partition(|&&i| (i as usize) < split);
        if a.len() == b.len() && a.iter().zip(&b).all(|(&x, &y)| rules[x as usize].same_effect(&rules[y as usize])) {
            continue;
        }
        let (a, b): (Vec<usize>, Vec<usize>) =
            (a.iter().map(|&i| i as usize).collect(), b.iter().map(|&i| i as usize).collect());
        let (da, db) = (rs.decided(&region.bounds, &a)?, rs.decided(&region.bounds, &b)?);
        let action = |i: usize| rules[i].action;
        let mut add = |key: (usize, usize), flows: Part| {
            if !flows.is_empty() {
                pieces.entry(key).or_default().push(flows);
            }
        };
        for (i, fa) in &da {
            for (j, fb) in &db {
                if action(*i) != action(*j) {
                    add((*i, *j), rs.and(fa, fb)?);
                }
            }
        }
        // What one side permits and the other leaves to its implicit deny.
        const DENY: usize = usize::MAX;
        for (i, fa) in da.iter().filter(|(i, _)| action(*i) == Action::Permit) {
            add((*i, DENY), rs.without(fa.clone(), b.iter().copied().filter(|&k| overlaps(&boxes[k], &boxes[*i])))?);
        }
        for (j, fb) in db.iter().filter(|(j, _)| action(*j) == Action::Permit) {
            add((DENY, *j), rs.without(fb.clone(), a.iter().copied().filter(|&k| overlaps(&boxes[k], &boxes[*j])))?);
        }
    }
    let index = |i: usize, base: usize| (i != usize::MAX).then(|| i - base);
    let action = |acl: &Acl, rule: Option<usize>| rule.map_or(Action::Deny, |i| acl.rules[i].action);
    let mut blocks = Vec::new();
    for ((i, j), parts) in pieces {
        let flows = rs.union(&parts)?;
        let (old_rule, new_rule) = (index(i, 0), index(j, split));
        let (size, summary, witness) = match &flows {
            Part::Boxes(boxes) => {
                let Some(witness) = crate::geometry::witness(boxes) else { continue };
                (crate::geometry::packets(boxes), crate::geometry::summary(boxes), witness)
            }
            Part::Set(set) => {
                let Some(witness) = space.witness(set)? else { continue };
                (space.count(set), space.summarise(set, &universe)?, witness)
            }
        };
        blocks.push(Block {
            old_rule,
            new_rule,
            old_action: action(old, old_rule),
            new_action: action(new, new_rule),
            size,
            summary,
            witness,
            flows,
            universe: universe.clone(),
        });
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arbitrary::{acl, flows};
    use proptest::prelude::*;
    use std::net::IpAddr;

    fn within(v: IpAddr, ranges: &[(IpAddr, IpAddr)]) -> bool {
        ranges.iter().any(|(lo, hi)| *lo <= v && v <= *hi)
    }

    fn within_ports(v: u16, ranges: &[(u16, u16)]) -> bool {
        ranges.iter().any(|(lo, hi)| *lo <= v && v <= *hi)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        /// The blocks hold exactly the flows the two filters decide differently, each flow in
        /// the block of the two rules that decide it, inside the block's ranges.
        #[test]
        fn blocks_are_exactly_the_changed_decisions(old in acl(), new in acl(), keep in 0usize..8) {
            // Half the time the new filter is an edit of the old one, as in a change.
            let new = if keep % 2 == 0 {
                let mut edited = old.clone();
                edited.rules.insert(keep.min(edited.rules.len()), new.rules[0].clone());
                edited
            } else {
                new
            };
            let space = HeaderSpace::with_capacity(1 << 20);
            // Regions of one rule, so that these small filters are cut into many.
            let blocks = diff_with(&space, &old, &new, 1).unwrap();
            for f in flows() {
                let (a, b) = (old.decide(&f), new.decide(&f));
                let holding: Vec<&Block> = blocks.iter().filter(|blk| space.contains(&blk.flows(&space).unwrap(), &f)).collect();
                if a.action == b.action {
                    prop_assert!(holding.is_empty(), "{:?} unchanged but in a block", f);
                    continue;
                }
                prop_assert_eq!(holding.len(), 1, "{:?}", f);
                let blk = holding[0];
                prop_assert_eq!((blk.old_rule, blk.new_rule), (a.rule, b.rule));
                prop_assert_eq!((blk.old_action, blk.new_action), (a.action, b.action));
                let s = &blk.summary;
                prop_assert!(within(f.src, &s.src) && within(f.dst, &s.dst), "{:?} {:?}", f, s);
                prop_assert!(within_ports(u16::from(f.proto), &s.proto));
                prop_assert!(within_ports(f.sport, &s.sport) && within_ports(f.dport, &s.dport));
            }
            for blk in &blocks {
                // The size counts packets as the decision diagrams do, and an exact summary
                // holds nothing the block does not.
                let set = blk.flows(&space).unwrap();
                let count = space.count(&set);
                prop_assert!((blk.size - count).abs() <= count * 1e-9, "size {} vs {}", blk.size, count);
                if blk.summary.exact {
                    let s = &blk.summary;
                    for f in flows() {
                        let inside = within(f.src, &s.src) && within(f.dst, &s.dst)
                            && within_ports(u16::from(f.proto), &s.proto)
                            && within_ports(f.sport, &s.sport) && within_ports(f.dport, &s.dport);
                        let seen = f.src.is_ipv4() && old.family != crate::acl::Family::V6
                            || f.src.is_ipv6() && old.family != crate::acl::Family::V4
                            || f.src.is_ipv4() && new.family != crate::acl::Family::V6
                            || f.src.is_ipv6() && new.family != crate::acl::Family::V4;
                        prop_assert!(!inside || !seen || space.contains(&set, &f), "{:?} in exact {:?}", f, s);
                    }
                }
                let w = &blk.witness;
                prop_assert_eq!((old.decide(w).rule, new.decide(w).rule), (blk.old_rule, blk.new_rule));
                prop_assert!(blk.old_action != blk.new_action && blk.size >= 1.0);
            }
        }
    }
}
