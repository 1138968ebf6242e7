//! What changes between two versions of a filter: the exact set of flows whose decision
//! differs, cut into blocks by the pair of rules that decide each flow before and after, each
//! block with its header ranges and a witness. The heart of firewall change review.

use crate::acl::{Acl, Action, Flow, Rule};
use crate::boxes::{Box7, bounds, is_box, universe as universe_box};
use crate::matcher::Partition;
use crate::space::{FlowSet, HeaderSpace, Result, Summary};
use std::collections::BTreeMap;

/// Flows that one rule decided before and another decides after, with different outcomes.
#[derive(Debug, Clone)]
pub struct Block {
    /// Index of the deciding rule in the old filter; `None` for its implicit deny.
    pub old_rule: Option<usize>,
    pub new_rule: Option<usize>,
    pub old_action: Action,
    pub new_action: Action,
    pub flows: FlowSet,
    /// How many packets the block holds (IPv4 and IPv6 alike).
    pub size: f64,
    pub summary: Summary,
    pub witness: Flow,
}

/// Every flow whose decision differs, cut by the rules responsible on each side, in the old
/// filter's rule order (the implicit deny last).
///
/// Both filters are cut by one partition of the space; a region whose two rule lists are the
/// same rules in the same order cannot change and is skipped, so an edit of a few rules in a
/// large filter costs little more than the regions those rules touch.
pub fn diff(space: &mut HeaderSpace, old: &Acl, new: &Acl) -> Result<Vec<Block>> {
    diff_with(space, old, new, crate::matcher::LEAF)
}

/// `diff` with regions of at most `leaf` rules where they can be split.
pub(crate) fn diff_with(space: &mut HeaderSpace, old: &Acl, new: &Acl, leaf: usize) -> Result<Vec<Block>> {
    let universe = space.valid(old.family)?.or(&space.valid(new.family)?)?;
    let mut boxes: Vec<Box7> = old.rules.iter().map(|r| bounds(r, old.family)).collect();
    boxes.extend(new.rules.iter().map(|r| bounds(r, new.family)));
    let exact: Vec<bool> = old.rules.iter().chain(&new.rules).map(is_box).collect();
    let (ro, rn) = (universe_box(old.family), universe_box(new.family));
    let root = std::array::from_fn(|d| (ro[d].0.min(rn[d].0), ro[d].1.max(rn[d].1)));
    let split = old.rules.len();
    let partition = Partition::build(&boxes, &exact, split, root, leaf);
    let rule_of = |i: u32| -> &Rule {
        if (i as usize) < split { &old.rules[i as usize] } else { &new.rules[i as usize - split] }
    };
    let mut matches: Vec<Option<FlowSet>> = vec![None; boxes.len()];
    let mut pieces: BTreeMap<(usize, usize), FlowSet> = BTreeMap::new();
    for region in &partition.regions {
        let items = partition.items(region);
        let (a, b): (Vec<u32>, Vec<u32>) = items.iter().partition(|&&i| (i as usize) < split);
        if a.len() == b.len() && a.iter().zip(&b).all(|(&x, &y)| rule_of(x).same_effect(rule_of(y))) {
            continue;
        }
        let here = space.region(&region.bounds)?.and(&universe)?;
        let mut decide = |list: &[u32]| -> Result<Vec<(usize, Action, FlowSet)>> {
            let mut rest = here.clone();
            let mut out = Vec::new();
            for &i in list {
                if rest.is_empty() {
                    break;
                }
                if matches[i as usize].is_none() {
                    matches[i as usize] = Some(space.rule(rule_of(i))?.and(&universe)?);
                }
                let Some(m) = &matches[i as usize] else { continue };
                let taken = rest.and(m)?;
                if !taken.is_empty() {
                    rest = rest.minus(&taken)?;
                    out.push((i as usize, rule_of(i).action, taken));
                }
            }
            if !rest.is_empty() {
                out.push((usize::MAX, Action::Deny, rest));
            }
            Ok(out)
        };
        let (da, db) = (decide(&a)?, decide(&b)?);
        for (i, action_a, fa) in &da {
            for (j, action_b, fb) in &db {
                if action_a == action_b {
                    continue;
                }
                let both = fa.and(fb)?;
                if both.is_empty() {
                    continue;
                }
                let key = (*i, *j);
                let merged = match pieces.get(&key) {
                    Some(p) => p.or(&both)?,
                    None => both,
                };
                pieces.insert(key, merged);
            }
        }
    }
    let index = |i: usize, base: usize| (i != usize::MAX).then(|| i - base);
    let action = |acl: &Acl, rule: Option<usize>| rule.map_or(Action::Deny, |i| acl.rules[i].action);
    let mut blocks = Vec::new();
    for ((i, j), flows) in pieces {
        let (old_rule, new_rule) = (index(i, 0), index(j, split));
        let Some(witness) = space.witness(&flows)? else { continue };
        blocks.push(Block {
            old_rule,
            new_rule,
            old_action: action(old, old_rule),
            new_action: action(new, new_rule),
            size: space.count(&flows),
            summary: space.summarise(&flows, &universe)?,
            flows,
            witness,
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
            let mut space = HeaderSpace::with_capacity(1 << 20);
            // Regions of one rule, so that these small filters are cut into many.
            let blocks = diff_with(&mut space, &old, &new, 1).unwrap();
            for f in flows() {
                let (a, b) = (old.decide(&f), new.decide(&f));
                let holding: Vec<&Block> = blocks.iter().filter(|blk| space.contains(&blk.flows, &f)).collect();
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
                let w = &blk.witness;
                prop_assert_eq!((old.decide(w).rule, new.decide(w).rule), (blk.old_rule, blk.new_rule));
                prop_assert!(blk.old_action != blk.new_action && blk.size >= 1.0);
            }
        }
    }
}
