//! A filter compiled for fast first-match: a decision tree that splits the header space on
//! field boundaries (HyperSplit-style) until a handful of rules remain, then checks those in
//! rule order. `match` on large rule sets and replaying traffic logs for hit counts use it;
//! [`Acl::decide`] stays the reference it is property-tested against.
//!
//! The tree places each rule by its bounding box per field; rules whose exact match is
//! smaller than the box (object-groups, non-contiguous wildcards, port lists, ICMP types,
//! TCP flags) are still checked exactly in the leaf, so the tree only ever narrows the list.

use crate::acl::{Acl, Decision, Flow, Rule};
use crate::boxes::{Box7, DIMS, bounds, covers, is_box, key, overlaps, universe};

/// Stop splitting below this many rules in a region.
const LEAF: usize = 6;
const MAX_DEPTH: u32 = 64;

#[derive(Debug, Clone, Copy)]
enum Node {
    /// Keys at or below `at` in `dim` go to `low`, the others to `low + 1`.
    Split { dim: u8, at: u128, low: u32 },
    /// Rules to check, a range of `Matcher::leaf_rules`.
    Leaf { start: u32, end: u32 },
}

/// A filter compiled for lookups. Built once, then `decide` costs a walk down a shallow tree
/// and a few rule checks.
pub struct Matcher {
    rules: Vec<Rule>,
    nodes: Vec<Node>,
    leaf_rules: Vec<u32>,
}

impl Matcher {
    pub fn new(acl: &Acl) -> Matcher {
        Self::build(acl, LEAF)
    }

    fn build(acl: &Acl, leaf: usize) -> Matcher {
        let boxes: Vec<Box7> = acl.rules.iter().map(|r| bounds(r, acl.family)).collect();
        let exact: Vec<bool> = acl.rules.iter().map(is_box).collect();
        let mut m = Matcher { rules: acl.rules.clone(), nodes: Vec::new(), leaf_rules: Vec::new() };
        let all: Vec<u32> = (0..acl.rules.len() as u32).collect();
        let region = universe(acl.family);
        m.nodes.push(Node::Leaf { start: 0, end: 0 });
        let mut work = vec![(0usize, all, region, 0u32)];
        while let Some((slot, rules, region, depth)) = work.pop() {
            let rules = prune(rules, &region, &boxes, &exact);
            match split(&rules, &region, &boxes).filter(|_| rules.len() > leaf && depth < MAX_DEPTH) {
                Some((dim, at)) => {
                    let low = m.nodes.len() as u32;
                    m.nodes.push(Node::Leaf { start: 0, end: 0 });
                    m.nodes.push(Node::Leaf { start: 0, end: 0 });
                    m.nodes[slot] = Node::Split { dim: dim as u8, at, low };
                    let (mut left, mut right) = (region, region);
                    left[dim].1 = at;
                    right[dim].0 = at + 1;
                    let side = |r: &Box7| rules.iter().copied().filter(|&i| overlaps(&boxes[i as usize], r)).collect();
                    let (l, r): (Vec<u32>, Vec<u32>) = (side(&left), side(&right));
                    work.push((low as usize + 1, r, right, depth + 1));
                    work.push((low as usize, l, left, depth + 1));
                }
                None => {
                    let start = m.leaf_rules.len() as u32;
                    m.leaf_rules.extend(&rules);
                    m.nodes[slot] = Node::Leaf { start, end: m.leaf_rules.len() as u32 };
                }
            }
        }
        m
    }

    pub fn decide(&self, f: &Flow) -> Decision {
        let key = key(f);
        let mut n = 0usize;
        loop {
            match self.nodes[n] {
                Node::Split { dim, at, low } => n = low as usize + usize::from(key[dim as usize] > at),
                Node::Leaf { start, end } => {
                    for &i in &self.leaf_rules[start as usize..end as usize] {
                        let r = &self.rules[i as usize];
                        if r.matches(f) {
                            return Decision { action: r.action, rule: Some(i as usize) };
                        }
                    }
                    return Decision { action: crate::acl::Action::Deny, rule: None };
                }
            }
        }
    }

    /// Tree nodes and rule references in the leaves: the memory the matcher holds besides
    /// the rules.
    pub fn size(&self) -> (usize, usize) {
        (self.nodes.len(), self.leaf_rules.len())
    }
}

/// Drops rules that cannot be reached in the region: everything after the first rule that
/// matches the whole region.
fn prune(mut rules: Vec<u32>, region: &Box7, boxes: &[Box7], exact: &[bool]) -> Vec<u32> {
    if let Some(k) = rules.iter().position(|&i| exact[i as usize] && covers(&boxes[i as usize], region)) {
        rules.truncate(k + 1);
    }
    rules
}

/// The split that best balances the rules: for each field, the median of the rule edges
/// inside the region; the field whose split leaves the smaller larger side wins.
fn split(rules: &[u32], region: &Box7, boxes: &[Box7]) -> Option<(usize, u128)> {
    let mut best: Option<(usize, u128, usize)> = None;
    for dim in 0..DIMS {
        let (lo, hi) = region[dim];
        if lo == hi {
            continue;
        }
        let mut edges: Vec<u128> = Vec::with_capacity(rules.len() * 2);
        for &i in rules {
            let (a, b) = boxes[i as usize][dim];
            if a > lo && a <= hi {
                edges.push(a - 1);
            }
            if b >= lo && b < hi {
                edges.push(b);
            }
        }
        if edges.is_empty() {
            continue;
        }
        edges.sort_unstable();
        edges.dedup();
        let at = edges[edges.len() / 2];
        let (mut left, mut right) = (0, 0);
        for &i in rules {
            let (a, b) = boxes[i as usize][dim];
            left += usize::from(a.max(lo) <= at);
            right += usize::from(b.min(hi) > at);
        }
        let worst = left.max(right);
        if worst < rules.len() && best.is_none_or(|(_, _, w)| worst < w) {
            best = Some((dim, at, worst));
        }
    }
    best.map(|(d, a, _)| (d, a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arbitrary::{acl, flows};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        /// The tree decides every class of flow exactly as the linear scan does.
        #[test]
        fn decides_like_the_linear_scan(acl in acl()) {
            // Leaves of one rule, so that every split is exercised on these small filters.
            let m = Matcher::build(&acl, 1);
            for f in flows() {
                prop_assert_eq!(m.decide(&f), acl.decide(&f), "{:?}", f);
            }
        }
    }
}
