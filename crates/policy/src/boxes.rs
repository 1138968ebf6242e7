//! Rules as boxes: the bounding box of a rule's match set, one interval per header field.
//! For most real rules (contiguous prefixes, one port range, one protocol) the box is the
//! match set exactly, so overlap and containment between two such rules are interval
//! comparisons; the matcher's tree and the pairwise anomaly labels rest on that, and fall
//! back to the exact evaluation or the decision diagrams for the other rules.

use crate::acl::{AddrMatch, Family, Flow, PortMatch, Rule};
use std::net::IpAddr;

pub(crate) const FAMILY: usize = 0;
pub(crate) const SRC: usize = 1;
pub(crate) const DST: usize = 2;
pub(crate) const SPORT: usize = 3;
pub(crate) const DPORT: usize = 4;
pub(crate) const PROTO: usize = 5;
/// 0 for a flow that carries ports (or need not), 1 for a non-initial fragment.
pub(crate) const FRAG: usize = 6;
pub(crate) const DIMS: usize = 7;

pub(crate) type Box7 = [(u128, u128); DIMS];

pub(crate) fn universe(family: Family) -> Box7 {
    // IPv4 keys live in the low 32 bits of the address fields.
    let (fam, addr) = match family {
        Family::V4 => ((0, 0), (0, u128::from(u32::MAX))),
        Family::V6 => ((1, 1), (0, u128::MAX)),
        Family::Any => ((0, 1), (0, u128::MAX)),
    };
    [fam, addr, addr, (0, 65535), (0, 65535), (0, 255), (0, 1)]
}

pub(crate) fn key(f: &Flow) -> [u128; DIMS] {
    let (fam, src, dst) = match (f.src, f.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => (0, u128::from(u32::from(s)), u128::from(u32::from(d))),
        (IpAddr::V6(s), IpAddr::V6(d)) => (1, u128::from(s), u128::from(d)),
        (s, d) => (2, ip(s), ip(d)),
    };
    [fam, src, dst, u128::from(f.sport), u128::from(f.dport), u128::from(f.proto), u128::from(f.fragment)]
}

pub(crate) fn ip(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

/// The box around a rule's match set, field by field.
pub(crate) fn bounds(r: &Rule, family: Family) -> Box7 {
    let mut b = universe(family);
    let (src_fam, src) = addr_bounds(&r.src);
    let (dst_fam, dst) = addr_bounds(&r.dst);
    for fam in [src_fam, dst_fam].into_iter().flatten() {
        b[FAMILY] = (b[FAMILY].0.max(fam), b[FAMILY].1.min(fam));
    }
    b[SRC] = src;
    b[DST] = dst;
    if b[FAMILY] == (0, 0) {
        // IPv4 keys live in the low 32 bits: "any" and 0.0.0.0/0 are the same box.
        for d in [SRC, DST] {
            b[d] = (b[d].0.min(u128::from(u32::MAX)), b[d].1.min(u128::from(u32::MAX)));
        }
    }
    if let Some(p) = r.proto {
        b[PROTO] = (u128::from(p), u128::from(p));
    }
    let ported = matches!(r.proto, Some(6 | 17));
    if ported && (!r.sport.is_any() || !r.dport.is_any()) {
        let hull = |p: &PortMatch| {
            let lo = p.0.iter().map(|x| x.0).min().unwrap_or(0);
            let hi = p.0.iter().map(|x| x.1).max().unwrap_or(u16::MAX);
            (u128::from(lo), u128::from(hi))
        };
        b[SPORT] = hull(&r.sport);
        b[DPORT] = hull(&r.dport);
        // A non-initial fragment carries no ports and never matches a rule that names them.
        b[FRAG] = (0, 0);
    }
    if r.fragments {
        b[FRAG] = (1, 1);
    }
    b
}

/// The family a side pins (if any) and its value range.
pub(crate) fn addr_bounds(m: &AddrMatch) -> (Option<u128>, (u128, u128)) {
    match m {
        AddrMatch::Any | AddrMatch::Undefined(_) => (None, (0, u128::MAX)),
        AddrMatch::Wildcard { addr, wildcard } => {
            (Some(0), (u128::from(addr & !wildcard), u128::from(addr | wildcard)))
        }
        AddrMatch::Prefix6 { addr, len } => {
            let host = u128::MAX.checked_shr(u32::from(*len)).unwrap_or(0);
            (Some(1), (addr & !host, addr | host))
        }
        AddrMatch::AnyOf(all) => {
            let parts: Vec<_> = all.iter().map(addr_bounds).collect();
            let fam = parts.first().and_then(|p| p.0).filter(|f| parts.iter().all(|p| p.0 == Some(*f)));
            let lo = parts.iter().map(|p| p.1.0).min().unwrap_or(0);
            let hi = parts.iter().map(|p| p.1.1).max().unwrap_or(u128::MAX);
            if fam.is_some() { (fam, (lo, hi)) } else { (None, (0, u128::MAX)) }
        }
    }
}

/// Whether a rule matches exactly its box, so that a rule covering a region decides all of
/// it and nothing after it need be kept there.
pub(crate) fn is_box(r: &Rule) -> bool {
    let contiguous = |m: &AddrMatch| match m {
        AddrMatch::Any | AddrMatch::Prefix6 { .. } => true,
        AddrMatch::Wildcard { wildcard, .. } => wildcard.wrapping_add(1) & wildcard == 0,
        _ => false,
    };
    contiguous(&r.src)
        && contiguous(&r.dst)
        && r.sport.0.len() == 1
        && r.dport.0.len() == 1
        && r.icmp.is_none()
        && !r.established
        && (r.sport.is_any() && r.dport.is_any() || matches!(r.proto, Some(6 | 17)))
}

pub(crate) fn overlaps(a: &Box7, b: &Box7) -> bool {
    a.iter().zip(b).all(|(x, y)| x.0 <= y.1 && y.0 <= x.1)
}

pub(crate) fn covers(a: &Box7, region: &Box7) -> bool {
    a.iter().zip(region).all(|(x, r)| x.0 <= r.0 && r.1 <= x.1)
}

/// The points two boxes share (empty intervals where they do not).
pub(crate) fn intersect(a: &Box7, b: &Box7) -> Box7 {
    let mut out = *a;
    for (o, y) in out.iter_mut().zip(b) {
        *o = (o.0.max(y.0), o.1.min(y.1));
    }
    out
}

/// A flow inside a box, picked the way witnesses are (a new TCP connection from an ephemeral
/// port to a well-known service, documentation addresses where the box allows): the cheap
/// first try before asking the decision diagrams. `None` when the box is empty.
pub(crate) fn sample(b: &Box7) -> Option<Flow> {
    if b.iter().any(|(lo, hi)| lo > hi) {
        return None;
    }
    let prefer =
        |(lo, hi): (u128, u128), wanted: &[u128]| wanted.iter().copied().find(|w| lo <= *w && *w <= hi).unwrap_or(lo);
    let v6 = b[FAMILY].0 == 1;
    let proto = prefer(b[PROTO], &[6, 17, if v6 { 58 } else { 1 }]) as u8;
    let fragment = prefer(b[FRAG], &[0]) == 1;
    let ported = matches!(proto, 6 | 17) && !fragment;
    let (sport, dport) = if ported {
        (prefer(b[SPORT], &[49152, 1024]) as u16, prefer(b[DPORT], &[443, 80, 22, 53, 1]) as u16)
    } else if b[SPORT].0 == 0 && b[DPORT].0 == 0 {
        (0, 0)
    } else {
        return None;
    };
    let addr = |(lo, hi): (u128, u128), doc4: u32, doc6: u128| -> IpAddr {
        let doc = if v6 { doc6 } else { u128::from(doc4) };
        // The documentation address if the box holds it, else a host rather than the network.
        let v = if lo <= doc && doc <= hi {
            doc
        } else if lo < hi {
            lo + 1
        } else {
            lo
        };
        if v6 { IpAddr::V6(v.into()) } else { IpAddr::V4((v as u32).into()) }
    };
    Some(Flow {
        src: addr(b[SRC], 0xc000_0201, 0x2001_0db8_0001_0000_0000_0000_0000_0001),
        dst: addr(b[DST], 0xc633_6401, 0x2001_0db8_0002_0000_0000_0000_0000_0001),
        proto,
        sport,
        dport,
        icmp: matches!(proto, 1 | 58).then_some((8, 0)),
        established: false,
        fragment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv6 host route bounds one address, not the whole space (the shift by 128 that
    /// wrapped in release builds).
    #[test]
    fn ipv6_host_prefixes_bound_one_address() {
        let addr = 0x2001_0db8_u128 << 96 | 1;
        assert_eq!(addr_bounds(&AddrMatch::Prefix6 { addr, len: 128 }), (Some(1), (addr, addr)));
        assert_eq!(addr_bounds(&AddrMatch::Prefix6 { addr: 0, len: 0 }), (Some(1), (0, u128::MAX)));
    }
}
