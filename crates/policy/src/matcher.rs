//! The header space cut into regions that each hold a handful of rules, and a filter
//! compiled on it for fast first-match.
//!
//! A [`Partition`] is a decision tree that splits the space on rule edges (HyperSplit-style)
//! until few rules remain in each region; a rule that covers its whole region ends the list
//! there, as nothing after it can be reached. The symbolic analyses work region by region on
//! it, which keeps every decision diagram local and small (a union over all rules of a
//! large filter with independent source and destination prefixes does not fit in memory).
//! [`Matcher`] uses it for `match` and log replay; [`Acl::decide`] stays the reference both
//! are property-tested against.
//!
//! The tree places each rule by its bounding box per field; rules whose exact match is
//! smaller than the box (object-groups, non-contiguous wildcards, port lists, ICMP types,
//! TCP flags) are still checked exactly, so the tree only ever narrows the lists.

use crate::acl::{Acl, Action, Decision, Flow, Rule};
use crate::boxes::{Box7, DIMS, bounds, covers, is_box, key, overlaps, universe};

/// Stop splitting below this many rules in a region.
/// Measured: at 10k rules, 32 looks up faster than 12 or 16 (fewer regions stay in cache; the
/// packed leaf checks are cheap) and gives the analyses fewer, still small, regions.
pub(crate) const LEAF: usize = 32;
const MAX_DEPTH: u32 = 64;

#[derive(Debug, Clone, Copy)]
enum Node {
    /// Keys at or below `at` in `dim` go to `low`, the others to `low + 1`.
    Split { dim: u8, at: u128, low: u32 },
    /// A region's items, by range (a lookup reads them without touching the region).
    Leaf { start: u32, end: u32 },
}

/// One region of the partition and the items that may match in it, in order: for each side
/// (one filter, or the two versions a diff compares) the items whose box overlaps the region,
/// up to and including the first one that covers all of it.
#[derive(Debug, Clone)]
pub(crate) struct Region {
    pub(crate) bounds: Box7,
    start: u32,
    end: u32,
    /// Per side, whether the list ends with an item covering the whole region.
    pub(crate) covered: [bool; 2],
}

pub(crate) struct Partition {
    nodes: Vec<Node>,
    pub(crate) regions: Vec<Region>,
    items: Vec<u32>,
}

impl Partition {
    /// Items `0..split` are the first side, the rest the second.
    pub(crate) fn build(boxes: &[Box7], exact: &[bool], split_at: usize, root: Box7, leaf: usize) -> Partition {
        Self::build_on((0..boxes.len() as u32).collect(), boxes, exact, split_at, root, leaf)
    }

    /// A partition of some of the items only.
    fn build_on(all: Vec<u32>, boxes: &[Box7], exact: &[bool], split_at: usize, root: Box7, leaf: usize) -> Partition {
        const NEW: Node = Node::Leaf { start: 0, end: 0 };
        let mut p = Partition { nodes: vec![NEW], regions: Vec::new(), items: Vec::new() };
        let mut work = vec![(0usize, all, root, 0u32)];
        while let Some((slot, items, region, depth)) = work.pop() {
            let (items, covered) = prune(items, &region, boxes, exact, split_at);
            match split(&items, &region, boxes).filter(|_| items.len() > leaf && depth < MAX_DEPTH) {
                Some((dim, at)) => {
                    let low = p.nodes.len() as u32;
                    p.nodes.push(NEW);
                    p.nodes.push(NEW);
                    p.nodes[slot] = Node::Split { dim: dim as u8, at, low };
                    let (mut left, mut right) = (region, region);
                    left[dim].1 = at;
                    right[dim].0 = at + 1;
                    let side = |r: &Box7| items.iter().copied().filter(|&i| overlaps(&boxes[i as usize], r)).collect();
                    let (l, r): (Vec<u32>, Vec<u32>) = (side(&left), side(&right));
                    work.push((low as usize + 1, r, right, depth + 1));
                    work.push((low as usize, l, left, depth + 1));
                }
                None => {
                    let start = p.items.len() as u32;
                    p.items.extend(&items);
                    let end = p.items.len() as u32;
                    p.nodes[slot] = Node::Leaf { start, end };
                    p.regions.push(Region { bounds: region, start, end, covered });
                }
            }
        }
        p
    }

    /// The items listed in a region, in order.
    pub(crate) fn items(&self, r: &Region) -> &[u32] {
        &self.items[r.start as usize..r.end as usize]
    }

    /// The range of items listed in the region that holds `key`.
    fn items_of(&self, key: &[u128; DIMS]) -> std::ops::Range<usize> {
        let mut n = 0usize;
        loop {
            match self.nodes[n] {
                Node::Split { dim, at, low } => n = low as usize + usize::from(key[dim as usize] > at),
                Node::Leaf { start, end } => return start as usize..end as usize,
            }
        }
    }
}

/// A filter compiled for lookups. Built once, then `decide` costs a few walks down shallow
/// trees and a few rule checks.
///
/// The analyses use one partition of the whole filter ([`Matcher::build`]); lookups of IPv4
/// flows use separate trees per class of rule instead (EffiCuts' separable trees): a rule
/// with a wide source and a narrow destination is copied into every region a source cut
/// makes, and at 10k rules those copies were most of the memory. Cutting each class on its
/// own copies almost nothing (~10k rule references instead of ~250k), and the trees are
/// walked side by side so that their memory loads overlap.
pub struct Matcher {
    pub(crate) rules: Vec<Rule>,
    /// Each rule's box, and whether the rule is exactly its box (the analyses use them too).
    pub(crate) bounds: Vec<Box7>,
    pub(crate) exact: Vec<bool>,
    pub(crate) partition: Partition,
    /// The partition's rule lists again, packed for the check: an IPv4 rule that is exactly
    /// its box is decided by integer comparisons, the others by `Rule::matches`.
    entries: Vec<Entry>,
    /// The lookup trees for IPv4 flows, by their first rule (empty when built for analysis).
    trees: Vec<Tree>,
}

/// Below this many rules a region of a lookup tree is not cut further. Measured at 10k
/// rules: 4 beats 1, 2, 8, 16 and 32 (deeper trees cost more loads than they save checks).
const TREE_LEAF: usize = 4;

/// One lookup tree over a class of rules, its nodes in 12 bytes (IPv4 keys, ports and
/// protocols fit in 32 bits; the analysis partition keeps 128-bit bounds for IPv6). The top
/// of the tree is a table indexed by the high bits of the field the class keeps narrow, which
/// replaces the first dozen dependent loads of a walk by one.
struct Tree {
    /// Per bucket of the table, the node its walk starts at (one bucket when the class keeps
    /// no address narrow).
    table: Vec<u32>,
    /// The field the table indexes, and how far its key is shifted.
    dim: usize,
    shift: u32,
    nodes: Vec<Cell>,
    entries: Vec<Entry>,
    /// The lowest rule in the tree: once a hit is earlier, the tree has nothing to add.
    first: u32,
}

/// High bits of an address that index a tree's table.
const TABLE_BITS: u32 = 12;

/// A split (`dim` < [`DIMS`]: keys at or below `at` go to `a`, the others to `a + 1`) or a
/// leaf (`dim` has [`Cell::LEAF`] set: entries `a..end`).
#[derive(Debug, Clone, Copy)]
struct Cell {
    at: u32,
    a: u32,
    dim: u32,
}

impl Cell {
    const LEAF: u32 = 1 << 31;
}

impl Tree {
    /// The tree over `items` of a filter, its table on `dim` (`None`: no table), or `None`
    /// when a bound does not fit in 32 bits.
    fn build(items: Vec<u32>, dim: Option<usize>, m: &Matcher, acl: &Acl, root: Box7, leaf: usize) -> Option<Tree> {
        let first = *items.first()?;
        let (dim, shift, buckets) = match dim {
            Some(d) => (d, 32 - TABLE_BITS, 1usize << TABLE_BITS),
            None => (crate::boxes::SRC, 32, 1),
        };
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); buckets];
        for &i in &items {
            let (lo, hi) = m.bounds[i as usize][dim];
            let (lo, hi) = (lo.max(root[dim].0), hi.min(root[dim].1));
            if lo > hi {
                continue;
            }
            let (a, b) = ((lo >> shift) as usize, (hi >> shift) as usize);
            for list in &mut lists[a..=b.min(buckets - 1)] {
                list.push(i);
            }
        }
        let mut t =
            Tree { table: Vec::with_capacity(buckets), dim, shift, nodes: Vec::new(), entries: Vec::new(), first };
        for (b, list) in lists.into_iter().enumerate() {
            let mut bucket = root;
            if buckets > 1 {
                let lo = (b as u128) << shift;
                bucket[dim] = (lo, lo + (1u128 << shift) - 1);
            }
            let p = Partition::build_on(list, &m.bounds, &m.exact, m.bounds.len(), bucket, leaf);
            let (base, start) = (t.nodes.len() as u32, t.entries.len() as u32);
            t.table.push(base);
            for n in &p.nodes {
                t.nodes.push(match *n {
                    Node::Split { dim, at, low } => {
                        Cell { at: u32::try_from(at).ok()?, a: base + low, dim: u32::from(dim) }
                    }
                    Node::Leaf { start: s, end } => Cell { at: 0, a: start + s, dim: (start + end) | Cell::LEAF },
                });
            }
            t.entries.extend(
                p.items
                    .iter()
                    .map(|&i| Entry::of(i, &m.bounds[i as usize], m.exact[i as usize], acl.rules[i as usize].action)),
            );
        }
        Some(t)
    }

    /// Where the walk for a key starts.
    fn root(&self, k: &[u32; DIMS]) -> usize {
        self.table[((u64::from(k[self.dim])) >> self.shift) as usize] as usize
    }
}

/// One rule in a region's list. `exact` rules hold their IPv4 box; for the others only `rule`
/// is used.
#[derive(Debug, Clone, Copy)]
struct Entry {
    rule: u32,
    src: (u32, u32),
    dst: (u32, u32),
    sport: (u16, u16),
    dport: (u16, u16),
    proto: (u8, u8),
    /// Bits: which fragment values match ([`Entry::WHOLE`], [`Entry::FRAGMENT`]), whether the
    /// box decides ([`Entry::EXACT`]), and the action ([`Entry::PERMIT`], kept here so that
    /// a hit needs no look at the rule). 32 bytes in all: two entries per cache line.
    flags: u8,
}

impl Entry {
    const WHOLE: u8 = 1;
    const FRAGMENT: u8 = 2;
    const EXACT: u8 = 4;
    const PERMIT: u8 = 8;

    fn of(i: u32, b: &Box7, exact: bool, action: Action) -> Entry {
        let n32 = |r: (u128, u128)| (r.0 as u32, r.1 as u32);
        let (f0, f1) = b[crate::boxes::FRAG];
        let mut flags = 0;
        if f0 == 0 {
            flags |= Entry::WHOLE;
        }
        if f1 == 1 {
            flags |= Entry::FRAGMENT;
        }
        if exact && b[crate::boxes::FAMILY] == (0, 0) {
            flags |= Entry::EXACT;
        }
        if action == Action::Permit {
            flags |= Entry::PERMIT;
        }
        Entry {
            rule: i,
            flags,
            src: n32(b[crate::boxes::SRC]),
            dst: n32(b[crate::boxes::DST]),
            sport: (b[crate::boxes::SPORT].0 as u16, b[crate::boxes::SPORT].1 as u16),
            dport: (b[crate::boxes::DPORT].0 as u16, b[crate::boxes::DPORT].1 as u16),
            proto: (b[crate::boxes::PROTO].0 as u8, b[crate::boxes::PROTO].1 as u8),
        }
    }
}

impl Matcher {
    pub fn new(acl: &Acl) -> Matcher {
        Self::with_leaves(acl, LEAF, TREE_LEAF)
    }

    /// `new` with the analysis partition cut to `leaf` rules and the lookup trees to
    /// `tree_leaf` (tests use one, so that every small filter is cut).
    pub(crate) fn with_leaves(acl: &Acl, leaf: usize, tree_leaf: usize) -> Matcher {
        // An IPv4 filter sees other flows only by mistake: the whole-filter partition, which
        // takes seconds to cut at 100k rules, is then one list scanned in order.
        let leaf = if acl.family == crate::acl::Family::V4 { usize::MAX } else { leaf };
        let mut m = Self::build(acl, leaf);
        let root = universe(acl.family);
        if root[crate::boxes::FAMILY].0 > 0 {
            return m;
        }
        // Classes by whether the source and the destination are wide (a /8 or more of the
        // IPv4 space, or "any"): each class cuts well on the fields it keeps narrow.
        let wide = |b: &Box7, d: usize| b[d].1.min(u128::from(u32::MAX)).saturating_sub(b[d].0) >= 1 << 24;
        let mut classes: Vec<Vec<u32>> = vec![Vec::new(); 4];
        for (i, b) in m.bounds.iter().enumerate() {
            let c = usize::from(wide(b, crate::boxes::SRC)) + 2 * usize::from(wide(b, crate::boxes::DST));
            classes[c].push(i as u32);
        }
        let mut root4 = root;
        root4[crate::boxes::FAMILY] = (0, 0);
        for d in [crate::boxes::SRC, crate::boxes::DST] {
            root4[d].1 = root4[d].1.min(u128::from(u32::MAX));
        }
        // The table indexes the address the class keeps narrow.
        let narrow = [Some(crate::boxes::DST), Some(crate::boxes::DST), Some(crate::boxes::SRC), None];
        let trees: Option<Vec<Tree>> = classes
            .into_iter()
            .zip(narrow)
            .filter(|(c, _)| !c.is_empty())
            .map(|(c, dim)| Tree::build(c, dim, &m, acl, root4, tree_leaf))
            .collect();
        m.trees = trees.unwrap_or_default();
        m.trees.sort_by_key(|t| t.first);
        m
    }

    /// The matcher on one partition of the whole filter, with regions of at most `leaf`
    /// rules where they can be split: what the analyses work on.
    pub(crate) fn build(acl: &Acl, leaf: usize) -> Matcher {
        let bounds: Vec<Box7> = acl.rules.iter().map(|r| bounds(r, acl.family)).collect();
        let exact: Vec<bool> = acl.rules.iter().map(is_box).collect();
        let partition = Partition::build(&bounds, &exact, bounds.len(), universe(acl.family), leaf);
        let entries = partition
            .items
            .iter()
            .map(|&i| Entry::of(i, &bounds[i as usize], exact[i as usize], acl.rules[i as usize].action))
            .collect();
        Matcher { rules: acl.rules.clone(), bounds, exact, partition, entries, trees: Vec::new() }
    }

    pub fn decide(&self, f: &Flow) -> Decision {
        let mut best: Option<(u32, bool)> = None;
        if let (std::net::IpAddr::V4(src), std::net::IpAddr::V4(dst)) = (f.src, f.dst)
            && !self.trees.is_empty()
        {
            // The key in the trees' 32-bit fields, built directly (no 128-bit detour).
            let (s, d) = (u32::from(src), u32::from(dst));
            let mut k = [0u32; DIMS];
            k[crate::boxes::SRC] = s;
            k[crate::boxes::DST] = d;
            k[crate::boxes::SPORT] = u32::from(f.sport);
            k[crate::boxes::DPORT] = u32::from(f.dport);
            k[crate::boxes::PROTO] = u32::from(f.proto);
            k[crate::boxes::FRAG] = u32::from(f.fragment);
            // Side by side: one step in every tree per round, so the loads overlap.
            let mut at = [0usize; 4];
            for (t, tree) in self.trees.iter().enumerate() {
                at[t] = tree.root(&k);
            }
            let mut walking = true;
            while walking {
                walking = false;
                for (t, tree) in self.trees.iter().enumerate() {
                    let c = tree.nodes[at[t]];
                    if c.dim & Cell::LEAF == 0 {
                        at[t] = c.a as usize + usize::from(k[c.dim as usize] > c.at);
                        walking = true;
                    }
                }
            }
            for (t, tree) in self.trees.iter().enumerate() {
                if best.is_some_and(|(r, _)| r < tree.first) {
                    break;
                }
                let c = tree.nodes[at[t]];
                let items = &tree.entries[c.a as usize..(c.dim & !Cell::LEAF) as usize];
                if let Some(hit) = self.first_hit(items, f, Some((s, d)), best.map(|b| b.0)) {
                    best = Some(hit);
                }
            }
        } else {
            let key = key(f);
            let v4 = (key[crate::boxes::FAMILY] == 0)
                .then(|| (key[crate::boxes::SRC] as u32, key[crate::boxes::DST] as u32));
            best = self.first_hit(&self.entries[self.partition.items_of(&key)], f, v4, None);
        }
        match best {
            Some((rule, permit)) => {
                Decision { action: if permit { Action::Permit } else { Action::Deny }, rule: Some(rule as usize) }
            }
            None => Decision { action: Action::Deny, rule: None },
        }
    }

    /// The first entry that matches the flow, among those before rule `before`; `v4` holds
    /// an IPv4 flow's addresses as integers.
    fn first_hit(
        &self,
        entries: &[Entry],
        f: &Flow,
        v4: Option<(u32, u32)>,
        before: Option<u32>,
    ) -> Option<(u32, bool)> {
        let (s, d) = v4.unwrap_or_default();
        let v4 = v4.is_some();
        let frag = if f.fragment { Entry::FRAGMENT } else { Entry::WHOLE };
        fn within<T: PartialOrd>(v: T, (lo, hi): (T, T)) -> bool {
            lo <= v && v <= hi
        }
        for e in entries {
            if before.is_some_and(|b| b < e.rule) {
                return None;
            }
            let hit = if e.flags & Entry::EXACT != 0 && v4 {
                within(s, e.src)
                    && within(d, e.dst)
                    && within(f.proto, e.proto)
                    && within(f.dport, e.dport)
                    && within(f.sport, e.sport)
                    && e.flags & frag != 0
            } else {
                self.rules[e.rule as usize].matches(f)
            };
            if hit {
                return Some((e.rule, e.flags & Entry::PERMIT != 0));
            }
        }
        None
    }

    /// Regions and rule references: the memory the matcher holds besides the rules (of the
    /// lookup trees where there are some).
    pub fn size(&self) -> (usize, usize) {
        if self.trees.is_empty() {
            return (self.partition.regions.len(), self.partition.items.len());
        }
        let leaves = self.trees.iter().map(|t| t.nodes.iter().filter(|c| c.dim & Cell::LEAF != 0).count()).sum();
        (leaves, self.trees.iter().map(|t| t.entries.len()).sum())
    }
}

/// Drops, side by side, the items that cannot be reached in the region: everything after the
/// first item that matches the whole region.
fn prune(items: Vec<u32>, region: &Box7, boxes: &[Box7], exact: &[bool], split_at: usize) -> (Vec<u32>, [bool; 2]) {
    let mut covered = [false; 2];
    let kept = items
        .into_iter()
        .filter(|&i| {
            let side = usize::from(i as usize >= split_at);
            if covered[side] {
                return false;
            }
            covered[side] = exact[i as usize] && covers(&boxes[i as usize], region);
            true
        })
        .collect();
    (kept, covered)
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
        // Fewest rule copies first (wide rules land on both sides), balance second.
        let score = left + right;
        if worst < rules.len() && best.is_none_or(|(_, _, w)| score < w) {
            best = Some((dim, at, score));
        }
    }
    best.map(|(d, a, _)| (d, a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arbitrary::{acl, flows};
    use proptest::prelude::*;

    /// A filter for both families (as ASA's are): IPv6 rules stay out of the IPv4 trees, and
    /// flows of either family are decided as the linear scan does.
    #[test]
    fn mixed_family_filters_decide_like_the_linear_scan() {
        let text = "access-list M extended permit tcp any6 2001:db8::/32 eq 443\n\
                    access-list M extended deny ip any4 10.0.0.0 255.0.0.0\n\
                    access-list M extended permit ip any any\n";
        let d = crate::asa::parse(text);
        let acl = d.acl("M").unwrap();
        let m = Matcher::new(acl);
        for (src, dst, dport) in
            [("2001:db8::1", "2001:db8::2", 443), ("192.0.2.1", "10.1.1.1", 80), ("192.0.2.1", "192.0.2.2", 80)]
        {
            let f = Flow {
                src: src.parse().unwrap(),
                dst: dst.parse().unwrap(),
                proto: 6,
                sport: 40000,
                dport,
                icmp: None,
                established: false,
                fragment: false,
            };
            assert_eq!(m.decide(&f), acl.decide(&f), "{f:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        /// On generated rule sets spread over the whole address space, the lookup trees (with
        /// their bucket tables) decide every flow at and next to a rule's edges, where a cut
        /// or a bucket could be off by one, as the linear scan does.
        #[test]
        fn trees_decide_like_the_linear_scan_at_rule_edges(seed in 0u64..10_000, shape in 0usize..3) {
            use crate::boxes::{DPORT, DST, PROTO, SPORT, SRC};
            use std::net::{IpAddr, Ipv4Addr};
            let shape = [crate::synth::Shape::Acl, crate::synth::Shape::Fw, crate::synth::Shape::Ipc][shape];
            let acl = crate::synth::rules(shape, 300, seed);
            let m = Matcher::new(&acl);
            let v4 = |v: u128| IpAddr::V4(Ipv4Addr::from(v.min(u128::from(u32::MAX)) as u32));
            for r in acl.rules.iter().step_by(7) {
                let b = bounds(r, acl.family);
                let near = |(lo, hi): (u128, u128)| [lo.saturating_sub(1), lo, hi, hi + 1];
                for (i, (s, d)) in near(b[SRC]).into_iter().zip(near(b[DST])).enumerate() {
                    let proto = b[PROTO].0 as u8;
                    let ported = matches!(proto, 6 | 17);
                    let f = Flow {
                        src: v4(s),
                        dst: v4(d),
                        proto,
                        sport: if ported { near(b[SPORT])[i].min(65535) as u16 } else { 0 },
                        dport: if ported { near(b[DPORT])[3 - i].min(65535) as u16 } else { 0 },
                        icmp: (proto == 1).then_some((8, 0)),
                        established: false,
                        fragment: false,
                    };
                    prop_assert_eq!(m.decide(&f), acl.decide(&f), "{:?}", f);
                }
            }
        }

        /// The tree decides every class of flow exactly as the linear scan does.
        #[test]
        fn decides_like_the_linear_scan(acl in acl()) {
            // Leaves of one rule, so that every split is exercised on these small filters.
            let m = Matcher::build(&acl, 1);
            // And the lookup trees, cut as finely.
            let trees = Matcher::with_leaves(&acl, 1, 1);
            for f in flows() {
                prop_assert_eq!(m.decide(&f), acl.decide(&f), "{:?}", f);
                prop_assert_eq!(trees.decide(&f), acl.decide(&f), "{:?} by the trees", f);
            }
        }
    }
}
