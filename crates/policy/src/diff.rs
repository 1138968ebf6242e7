//! What changes between two versions of a filter: the exact set of flows whose decision
//! differs, cut into blocks by the pair of rules that decide each flow before and after, each
//! block with its header ranges and a witness. The heart of firewall change review.

use crate::acl::{Acl, Action, Flow};
use crate::analysis::Compiled;
use crate::space::{FlowSet, HeaderSpace, Result, Summary};

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
/// filter's rule order. Both filters must be compiled in `space`.
pub fn diff(space: &mut HeaderSpace, old: (&Acl, &Compiled), new: (&Acl, &Compiled)) -> Result<Vec<Block>> {
    let universe = old.1.universe.or(&new.1.universe)?;
    let changed =
        old.1.permitted().and(&new.1.permitted().not()?)?.or(&new.1.permitted().minus(old.1.permitted())?)?;
    let changed = changed.and(&universe)?;
    let mut blocks = Vec::new();
    if changed.is_empty() {
        return Ok(blocks);
    }
    let deciders = |c: &Compiled| -> Vec<(Option<usize>, FlowSet)> {
        c.reach
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, r)| (Some(i), r))
            .chain([(None, c.default_reach.clone())])
            .collect()
    };
    let action = |acl: &Acl, rule: Option<usize>| rule.map_or(Action::Deny, |i| acl.rules[i].action);
    let new_deciders = deciders(new.1);
    for (old_rule, old_reach) in deciders(old.1) {
        let mut left = old_reach.and(&changed)?;
        for (new_rule, new_reach) in &new_deciders {
            if left.is_empty() {
                break;
            }
            let flows = left.and(new_reach)?;
            if flows.is_empty() {
                continue;
            }
            left = left.minus(&flows)?;
            let Some(witness) = space.witness(&flows)? else { continue };
            blocks.push(Block {
                old_rule,
                new_rule: *new_rule,
                old_action: action(old.0, old_rule),
                new_action: action(new.0, *new_rule),
                size: space.count(&flows),
                summary: space.summarise(&flows, &universe)?,
                flows,
                witness,
            });
        }
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::compile;
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
            let (co, cn) = (compile(&space, &old).unwrap(), compile(&space, &new).unwrap());
            let blocks = diff(&mut space, (&old, &co), (&new, &cn)).unwrap();
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
