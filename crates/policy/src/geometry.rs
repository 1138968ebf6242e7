//! Sets of flows held as lists of disjoint boxes: the first-match evaluation inside one
//! region of a partition, done with interval arithmetic while every rule it meets is exactly
//! its box (most real rules), and with decision diagrams from the first rule that is not.
//!
//! Building a region's remainders as decision diagrams costs node creation for every rule in
//! every region, which at 10k rules is minutes; cutting boxes is a few integer comparisons.
//! The two answers are the same sets: a box here only ever holds valid headers (see
//! [`valid`]), so a non-empty box is a non-empty set of packets, and a box rule matches a
//! valid header exactly when its box holds it.

use crate::acl::{Flow, Rule};
use crate::boxes::{Box7, DIMS, DPORT, FAMILY, FRAG, PROTO, SPORT, SRC, overlaps};
use crate::space::{FlowSet, HeaderSpace, Result, Summary};
use std::cell::OnceCell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Past this many boxes a set is handed to the decision diagrams: box cutting fragments
/// when many rules bite small corners out of a region, and the diagrams do not.
const MAX_BOXES: usize = 512;

/// The valid headers inside a box, as disjoint boxes: an IPv4 address is its low 32 bits,
/// only TCP and UDP carry ports (and not on a non-initial fragment), other headers have both
/// ports 0. ICMP type and code and the TCP `established` bits are not fields of a box; the
/// rules cut this way never constrain them.
pub(crate) fn valid(b: &Box7) -> Vec<Box7> {
    let mut out = Vec::new();
    for family in [0u128, 1] {
        if b[FAMILY].0 > family || family > b[FAMILY].1 {
            continue;
        }
        let mut f = *b;
        f[FAMILY] = (family, family);
        if family == 0 {
            for d in [SRC, crate::boxes::DST] {
                f[d].1 = f[d].1.min(u128::from(u32::MAX));
            }
        }
        for (lo, hi, ported) in [(0, 5, false), (6, 6, true), (7, 16, false), (17, 17, true), (18, 255, false)] {
            let mut p = f;
            p[PROTO] = (lo.max(f[PROTO].0), hi.min(f[PROTO].1));
            let mut portless = p;
            portless[SPORT].1 = 0;
            portless[DPORT].1 = 0;
            if ported {
                p[FRAG].1 = 0;
                portless[FRAG].0 = portless[FRAG].0.max(1);
                out.push(p);
            }
            out.push(portless);
        }
    }
    out.retain(non_empty);
    out
}

pub(crate) fn non_empty(b: &Box7) -> bool {
    b.iter().all(|(lo, hi)| lo <= hi)
}

/// `a` without `b`, as at most two boxes per field, pushed onto `out`.
fn subtract(a: &Box7, b: &Box7, out: &mut Vec<Box7>) {
    if !overlaps(a, b) {
        out.push(*a);
        return;
    }
    let mut rest = *a;
    for d in 0..DIMS {
        if rest[d].0 < b[d].0 {
            let mut p = rest;
            p[d].1 = b[d].0 - 1;
            out.push(p);
            rest[d].0 = b[d].0;
        }
        if rest[d].1 > b[d].1 {
            let mut p = rest;
            p[d].0 = b[d].1 + 1;
            out.push(p);
            rest[d].1 = b[d].1;
        }
    }
}

/// A set as a decision diagram (`universe` bounds the boxes to the packets in view).
pub(crate) fn to_set(space: &HeaderSpace, universe: &FlowSet, p: &Part) -> Result<FlowSet> {
    match p {
        Part::Set(s) => Ok(s.clone()),
        Part::Boxes(boxes) => {
            let mut out = space.nothing();
            for b in boxes {
                out = out.or(&space.region(b)?)?;
            }
            out.and(universe)
        }
    }
}

/// How many packets disjoint boxes of valid headers hold, counted as
/// [`HeaderSpace::count`] counts them: an ICMP header also has its type and code, a TCP
/// header its `established` bits.
pub(crate) fn packets(boxes: &[Box7]) -> f64 {
    let len = |(lo, hi): (u128, u128)| (hi - lo) as f64 + 1.0;
    boxes
        .iter()
        .map(|b| {
            let (plo, phi) = b[PROTO];
            let weighted: f64 = (plo..=phi)
                .map(|p| match p {
                    1 | 58 => 65536.0,
                    6 => 2.0,
                    _ => 1.0,
                })
                .sum();
            [FAMILY, SRC, crate::boxes::DST, SPORT, DPORT, FRAG].iter().map(|&d| len(b[d])).product::<f64>() * weighted
        })
        .sum()
}

/// Disjoint boxes read back as field ranges (see [`HeaderSpace::summarise`]). Past
/// [`Summary::MAX_RANGES`] ranges in a field the last range absorbs the rest, so the ranges
/// still bound the set; `exact` is claimed only where the boxes were proven to fill the
/// product of the ranges.
pub(crate) fn summary(boxes: &[Box7]) -> Summary {
    let mut out = Summary { exact: true, ..Summary::default() };
    let ranges = |dim: usize, family: Option<u128>, exact: &mut bool| -> Vec<(u128, u128)> {
        let mut all: Vec<(u128, u128)> =
            boxes.iter().filter(|b| family.is_none_or(|f| b[FAMILY].0 == f)).map(|b| b[dim]).collect();
        all.sort_unstable();
        let mut merged: Vec<(u128, u128)> = Vec::new();
        for (lo, hi) in all {
            match merged.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        if merged.len() > Summary::MAX_RANGES {
            let hi = merged.iter().map(|r| r.1).max().unwrap_or(0);
            merged.truncate(Summary::MAX_RANGES);
            if let Some(last) = merged.last_mut() {
                last.1 = hi;
            }
            *exact = false;
        }
        merged
    };
    let mut products: Vec<Box7> = Vec::new();
    let mut exact = true;
    for family in [0u128, 1] {
        if !boxes.iter().any(|b| b[FAMILY].0 == family) {
            continue;
        }
        let ip = |v: u128| match family {
            0 => IpAddr::V4(Ipv4Addr::from(v as u32)),
            _ => IpAddr::V6(Ipv6Addr::from(v)),
        };
        let (src, dst) = (ranges(SRC, Some(family), &mut exact), ranges(crate::boxes::DST, Some(family), &mut exact));
        out.src.extend(src.iter().map(|&(lo, hi)| (ip(lo), ip(hi))));
        out.dst.extend(dst.iter().map(|&(lo, hi)| (ip(lo), ip(hi))));
        for &s in &src {
            for &d in &dst {
                // Fields in box order: family, src, dst, sport, dport, proto, fragment.
                products.push([(family, family), s, d, (0, 65535), (0, 65535), (0, 255), (0, 1)]);
            }
        }
    }
    let narrow = |v: &[(u128, u128)]| v.iter().map(|&(lo, hi)| (lo as u16, hi as u16)).collect::<Vec<_>>();
    let mut fields = Vec::new();
    for dim in [PROTO, SPORT, DPORT] {
        let r = ranges(dim, None, &mut exact);
        fields.push((dim, r));
    }
    out.proto = narrow(&fields[0].1);
    out.sport = narrow(&fields[1].1);
    out.dport = narrow(&fields[2].1);
    // The product of the ranges, cut into boxes; past a few hundred of them the proof is not
    // worth its cost and the ranges are reported as bounds.
    for (dim, r) in &fields {
        if !exact || products.len() * r.len() > 256 {
            exact = false;
            break;
        }
        products = products
            .iter()
            .flat_map(|p| {
                r.iter().map(move |&x| {
                    let mut q = *p;
                    q[*dim] = x;
                    q
                })
            })
            .collect();
    }
    let cuts: Vec<&Box7> = boxes.iter().collect();
    out.exact = exact && products.iter().all(|p| matches!(uncovered(p, &cuts), Ok(None)));
    out
}

/// A flow of the boxes that reads like traffic (see [`HeaderSpace::witness`]): each box's
/// own sample, the one most like a new TCP connection to a well-known service chosen.
pub(crate) fn witness(boxes: &[Box7]) -> Option<Flow> {
    let rank = |f: &Flow| {
        let proto = [6, 17, 1, 58].iter().position(|&p| p == f.proto).unwrap_or(4);
        let dport = [443, 80, 22, 53].iter().position(|&p| p == f.dport).unwrap_or(4);
        (proto, dport, f.fragment)
    };
    boxes.iter().filter_map(crate::boxes::sample).min_by_key(rank)
}

/// How many box splits [`uncovered`] may make before it gives the question to the decision
/// diagrams.
const MAX_SPLITS: usize = 100_000;

/// A box of valid headers inside `b` that none of `cuts` touches, if there is one: whether
/// the flows of a box rule survive the rules before it, answered depth first so that the
/// search stops at the first surviving corner instead of building the whole remainder.
/// `Err(())` when the cuts fragment the box too finely to answer cheaply.
#[allow(clippy::result_unit_err)]
pub(crate) fn uncovered(b: &Box7, cuts: &[&Box7]) -> std::result::Result<Option<Box7>, ()> {
    if cuts.iter().any(|c| crate::boxes::covers(c, b)) {
        return Ok(None);
    }
    let mut stack: Vec<(Box7, usize)> = valid(b).into_iter().map(|x| (x, 0)).collect();
    let mut splits = 0;
    let mut parts = Vec::with_capacity(2 * DIMS);
    while let Some((x, mut k)) = stack.pop() {
        while k < cuts.len() && !overlaps(&x, cuts[k]) {
            k += 1;
        }
        let Some(cut) = cuts.get(k) else { return Ok(Some(x)) };
        if crate::boxes::covers(cut, &x) {
            continue;
        }
        splits += 1;
        if splits > MAX_SPLITS {
            return Err(());
        }
        parts.clear();
        subtract(&x, cut, &mut parts);
        stack.extend(parts.iter().map(|p| (*p, k + 1)));
    }
    Ok(None)
}

/// A set of flows: disjoint boxes of valid headers, or a decision diagram.
#[derive(Debug, Clone)]
pub(crate) enum Part {
    Boxes(Vec<Box7>),
    Set(FlowSet),
}

impl Part {
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Part::Boxes(b) => b.is_empty(),
            Part::Set(s) => s.is_empty(),
        }
    }
}

/// The rules sets are cut by: each rule's box, whether the rule is exactly its box, and its
/// decision diagram, built the first time a set needs it.
pub(crate) struct Rules<'a> {
    pub(crate) space: &'a HeaderSpace,
    /// The packets the filter (or the two a diff compares) can see.
    pub(crate) universe: &'a FlowSet,
    pub(crate) rules: &'a [Rule],
    pub(crate) bounds: &'a [Box7],
    pub(crate) exact: &'a [bool],
    pub(crate) matches: &'a [OnceCell<FlowSet>],
}

impl Rules<'_> {
    /// The flows rule `i` matches, exactly.
    pub(crate) fn matches(&self, i: usize) -> Result<&FlowSet> {
        if let Some(m) = self.matches[i].get() {
            return Ok(m);
        }
        let m = self.space.rule(&self.rules[i])?.and(self.universe)?;
        Ok(self.matches[i].get_or_init(|| m))
    }

    /// Whether rule `i` matches no packet at all.
    pub(crate) fn matches_nothing(&self, i: usize) -> Result<bool> {
        if self.exact[i] {
            return Ok(valid(&self.bounds[i]).is_empty());
        }
        Ok(self.matches(i)?.is_empty())
    }

    /// Every packet in a box (a region of the partition).
    pub(crate) fn region(&self, b: &Box7) -> Part {
        Part::Boxes(valid(b))
    }

    /// Every packet rule `i` matches.
    pub(crate) fn rule(&self, i: usize) -> Result<Part> {
        if self.exact[i] { Ok(self.region(&self.bounds[i])) } else { Ok(Part::Set(self.matches(i)?.clone())) }
    }

    /// The set as a decision diagram.
    pub(crate) fn set(&self, p: &Part) -> Result<FlowSet> {
        to_set(self.space, self.universe, p)
    }

    /// The flows of `p` that rule `i` matches.
    pub(crate) fn meet(&self, p: &Part, i: usize) -> Result<Part> {
        match p {
            Part::Boxes(boxes) if self.exact[i] => {
                let b = &self.bounds[i];
                Ok(Part::Boxes(
                    boxes.iter().filter(|x| overlaps(x, b)).map(|x| crate::boxes::intersect(x, b)).collect(),
                ))
            }
            _ => Ok(Part::Set(self.set(p)?.and(self.matches(i)?)?)),
        }
    }

    /// `p` without the flows rule `i` matches; `taken` is `meet(p, i)`, already at hand.
    pub(crate) fn minus(&self, p: Part, i: usize, taken: &Part) -> Result<Part> {
        match (p, taken) {
            (Part::Boxes(boxes), Part::Boxes(_)) if self.exact[i] => {
                let mut out = Vec::with_capacity(boxes.len() + 4);
                for x in &boxes {
                    subtract(x, &self.bounds[i], &mut out);
                }
                if out.len() > MAX_BOXES {
                    return Ok(Part::Set(self.set(&Part::Boxes(out))?));
                }
                Ok(Part::Boxes(out))
            }
            (p, taken) => Ok(Part::Set(self.set(&p)?.minus(&self.set(taken)?)?)),
        }
    }

    /// First-match over `order` inside a box (a region of the partition): the flows each rule
    /// decides there, rules deciding nothing left out. Each rule's flows are its own box
    /// without the earlier rules that overlap it, rather than what is left of the region:
    /// the remainder of a whole region fragments into many boxes as rules bite corners out
    /// of it, while a rule's box meets only a few earlier ones.
    pub(crate) fn decided(&self, region: &Box7, order: &[usize]) -> Result<Vec<(usize, Part)>> {
        let mut out = Vec::new();
        for (k, &i) in order.iter().enumerate() {
            let own = if self.exact[i] {
                Part::Boxes(valid(&crate::boxes::intersect(region, &self.bounds[i])))
            } else {
                self.meet(&self.region(region), i)?
            };
            let earlier = order[..k].iter().copied().filter(|&j| overlaps(&self.bounds[j], &self.bounds[i]));
            let piece = self.without(own, earlier)?;
            if !piece.is_empty() {
                out.push((i, piece));
            }
        }
        Ok(out)
    }

    /// `p` without the flows any of `rules` matches.
    pub(crate) fn without(&self, mut p: Part, rules: impl IntoIterator<Item = usize>) -> Result<Part> {
        for j in rules {
            if p.is_empty() {
                break;
            }
            let taken = self.meet(&p, j)?;
            if !taken.is_empty() {
                p = self.minus(p, j, &taken)?;
            }
        }
        Ok(p)
    }

    /// The flows both sets hold.
    pub(crate) fn and(&self, a: &Part, b: &Part) -> Result<Part> {
        if let (Part::Boxes(x), Part::Boxes(y)) = (a, b) {
            let mut out = Vec::new();
            for p in x {
                out.extend(y.iter().filter(|q| overlaps(p, q)).map(|q| crate::boxes::intersect(p, q)));
            }
            return Ok(Part::Boxes(out));
        }
        Ok(Part::Set(self.set(a)?.and(&self.set(b)?)?))
    }

    /// The union of disjoint sets.
    pub(crate) fn union<'p>(&self, parts: impl IntoIterator<Item = &'p Part>) -> Result<Part> {
        let mut boxes = Vec::new();
        let mut set: Option<FlowSet> = None;
        for p in parts {
            match p {
                Part::Boxes(b) => boxes.extend_from_slice(b),
                Part::Set(s) => set = Some(set.map_or_else(|| Ok(s.clone()), |t| t.or(s))?),
            }
        }
        match set {
            None => Ok(Part::Boxes(boxes)),
            Some(s) => Ok(Part::Set(s.or(&self.set(&Part::Boxes(boxes))?)?)),
        }
    }

    /// Whether two sets hold the same flows.
    pub(crate) fn same(&self, a: &Part, b: &Part) -> Result<bool> {
        if let (Part::Boxes(x), Part::Boxes(y)) = (a, b)
            && let (Some(l), Some(r)) = (without_all(x, y), without_all(y, x))
        {
            return Ok(l && r);
        }
        Ok(self.set(a)? == self.set(b)?)
    }
}

/// Whether `a` lies within `b` (`None` when cutting fragmented too far to tell cheaply).
fn without_all(a: &[Box7], b: &[Box7]) -> Option<bool> {
    let mut rest = a.to_vec();
    for cut in b {
        let mut next = Vec::with_capacity(rest.len());
        for x in &rest {
            subtract(x, cut, &mut next);
        }
        if next.len() > MAX_BOXES {
            return None;
        }
        rest = next;
    }
    Some(rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::Family;
    use crate::arbitrary::{acl, flows};
    use crate::boxes::{bounds, is_box, key, universe};
    use proptest::prelude::*;

    fn holds(boxes: &[Box7], k: &[u128; DIMS]) -> bool {
        boxes.iter().any(|b| b.iter().zip(k).all(|((lo, hi), v)| lo <= v && v <= hi))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Cutting the universe by box rules in order leaves exactly the flows none of them
        /// matches, and each rule's piece holds exactly the flows it decides.
        #[test]
        fn first_match_by_boxes_is_the_linear_scan(acl in acl()) {
            let rules: Vec<&Rule> = acl.rules.iter().filter(|r| is_box(r)).collect();
            let mut rest = valid(&universe(acl.family));
            let mut decided: Vec<Vec<Box7>> = Vec::new();
            for r in &rules {
                let b = bounds(r, acl.family);
                decided.push(rest.iter().filter(|x| overlaps(x, &b)).map(|x| crate::boxes::intersect(x, &b)).collect());
                let mut next = Vec::new();
                for x in &rest {
                    subtract(x, &b, &mut next);
                }
                rest = next;
            }
            for f in flows() {
                if acl.family != Family::Any && f.src.is_ipv4() != (acl.family == Family::V4) {
                    continue;
                }
                let k = key(&f);
                let first = rules.iter().position(|r| r.matches(&f));
                prop_assert_eq!(holds(&rest, &k), first.is_none(), "{:?}", f);
                for (i, d) in decided.iter().enumerate() {
                    prop_assert_eq!(holds(d, &k), first == Some(i), "{:?} rule {}", f, i);
                }
            }
        }
    }
}
