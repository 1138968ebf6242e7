//! The vendor-neutral filter model every parser produces: ordered rules of match conditions
//! with an action, and first-match evaluation of a concrete flow. This direct evaluator is
//! also the brute-force oracle that the symbolic analyses are property-tested against.

use std::net::IpAddr;

/// A concrete packet header, as `match` takes it and as every witness is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flow {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6…).
    pub proto: u8,
    /// Zero when the protocol has no ports.
    pub sport: u16,
    pub dport: u16,
    /// ICMP type and code, for ICMP flows.
    pub icmp: Option<(u8, u8)>,
    /// A TCP segment of an established connection (ACK or RST set), for IOS `established`.
    pub established: bool,
    /// A non-initial fragment, for IOS `fragments`.
    pub fragment: bool,
}

/// The address family of a filter, which bounds the flows it can ever see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
    /// Rules that may name either family (zone policies on a firewall).
    Any,
}

/// Which addresses a rule side matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrMatch {
    Any,
    /// `addr` under an IOS wildcard: bits set in `wildcard` are ignored, so non-contiguous
    /// wildcards (`0.0.255.0`) mean exactly what IOS means. IPv4 only, as in IOS ACLs.
    Wildcard {
        addr: u32,
        wildcard: u32,
    },
    /// An IPv6 prefix.
    Prefix6 {
        addr: u128,
        len: u8,
    },
    /// Any of these (a network object-group, resolved).
    AnyOf(Vec<AddrMatch>),
    /// A reference the configuration does not define: matches nothing, and is a finding.
    Undefined(String),
}

impl AddrMatch {
    pub fn host(addr: u32) -> Self {
        AddrMatch::Wildcard { addr, wildcard: 0 }
    }

    pub fn matches(&self, ip: IpAddr) -> bool {
        match (self, ip) {
            (AddrMatch::Any, _) => true,
            (AddrMatch::Wildcard { addr, wildcard }, IpAddr::V4(v4)) => (u32::from(v4) ^ addr) & !wildcard == 0,
            (AddrMatch::Prefix6 { addr, len }, IpAddr::V6(v6)) => {
                let mask = if *len == 0 { 0 } else { u128::MAX << (128 - u32::from((*len).min(128))) };
                (u128::from(v6) ^ addr) & mask == 0
            }
            (AddrMatch::AnyOf(all), ip) => all.iter().any(|m| m.matches(ip)),
            _ => false,
        }
    }
}

impl AddrMatch {
    /// The fewest prefixes covering the addresses `lo..=hi` (both of one family) exactly.
    pub fn range(lo: IpAddr, hi: IpAddr) -> AddrMatch {
        match (lo, hi) {
            (IpAddr::V4(l), IpAddr::V4(h)) => {
                let (l, h) = (u32::from(l).min(u32::from(h)), u32::from(l).max(u32::from(h)));
                AddrMatch::AnyOf(
                    blocks(u128::from(l), u128::from(h), 32).into_iter().map(|(a, len)| v4(a, len)).collect(),
                )
            }
            (IpAddr::V6(l), IpAddr::V6(h)) => {
                let (l, h) = (u128::from(l).min(u128::from(h)), u128::from(l).max(u128::from(h)));
                AddrMatch::AnyOf(
                    blocks(l, h, 128)
                        .into_iter()
                        .map(|(addr, len)| AddrMatch::Prefix6 { addr, len: len as u8 })
                        .collect(),
                )
            }
            _ => AddrMatch::AnyOf(Vec::new()),
        }
    }

    /// Every address this does not match, in both families (PAN-OS `negate-source`).
    /// `None` when a non-contiguous wildcard makes the complement more than a prefix list;
    /// an undefined reference stays undefined.
    pub fn complement(&self) -> Option<AddrMatch> {
        let (mut four, mut six) = (Vec::new(), Vec::new());
        if let Some(name) = self.intervals(&mut four, &mut six)? {
            return Some(AddrMatch::Undefined(name));
        }
        let mut out: Vec<AddrMatch> =
            gaps(four, 32).into_iter().flat_map(|(l, h)| blocks(l, h, 32)).map(|(a, len)| v4(a, len)).collect();
        out.extend(
            gaps(six, 128)
                .into_iter()
                .flat_map(|(l, h)| blocks(l, h, 128))
                .map(|(addr, len)| AddrMatch::Prefix6 { addr, len: len as u8 }),
        );
        Some(AddrMatch::AnyOf(out))
    }

    /// Adds the address intervals matched to `four` and `six`; `Some(name)` for an undefined
    /// reference, `None` (outer) for a non-contiguous wildcard.
    fn intervals(&self, four: &mut Vec<(u128, u128)>, six: &mut Vec<(u128, u128)>) -> Option<Option<String>> {
        match self {
            AddrMatch::Any => {
                four.push((0, u128::from(u32::MAX)));
                six.push((0, u128::MAX));
            }
            AddrMatch::Wildcard { addr, wildcard } => {
                if wildcard.checked_add(1).is_some_and(|n| !n.is_power_of_two()) {
                    return None;
                }
                four.push((u128::from(addr & !wildcard), u128::from(addr | wildcard)));
            }
            AddrMatch::Prefix6 { addr, len } => {
                let host = if *len >= 128 { 0 } else { u128::MAX >> len };
                six.push((addr & !host, addr | host));
            }
            AddrMatch::AnyOf(all) => {
                for m in all {
                    if let Some(name) = m.intervals(four, six)? {
                        return Some(Some(name));
                    }
                }
            }
            AddrMatch::Undefined(name) => return Some(Some(name.clone())),
        }
        Some(None)
    }
}

fn v4(addr: u128, len: u32) -> AddrMatch {
    let wildcard = if len == 0 { u32::MAX } else { (1u32 << (32 - len)).wrapping_sub(1) };
    AddrMatch::Wildcard { addr: addr as u32, wildcard }
}

/// The fewest aligned blocks `(start, prefix length)` covering `lo..=hi` on `bits`-wide
/// addresses.
fn blocks(mut lo: u128, hi: u128, bits: u32) -> Vec<(u128, u32)> {
    let mut out = Vec::new();
    loop {
        // The largest aligned block starting at `lo` that stays within `hi`.
        let mask = |k: u32| if k >= 128 { u128::MAX } else { (1u128 << k) - 1 };
        let mut size_log = if lo == 0 { bits } else { lo.trailing_zeros().min(bits) };
        while size_log > 0 && hi - lo < mask(size_log) {
            size_log -= 1;
        }
        out.push((lo, bits - size_log));
        let last = lo + mask(size_log);
        if last >= hi {
            return out;
        }
        lo = last + 1;
    }
}

/// The intervals of `0..=max(bits)` that none of `taken` covers.
fn gaps(mut taken: Vec<(u128, u128)>, bits: u32) -> Vec<(u128, u128)> {
    let max = if bits == 128 { u128::MAX } else { (1u128 << bits) - 1 };
    taken.sort_unstable();
    let mut out = Vec::new();
    let mut next = Some(0u128);
    for (l, h) in taken {
        let Some(n) = next else { break };
        if l > n {
            out.push((n, l - 1));
        }
        if h >= n {
            next = h.checked_add(1).filter(|&x| x <= max);
        }
    }
    if let Some(n) = next {
        out.push((n, max));
    }
    out
}

/// Which ports a rule side matches: inclusive ranges, any of which may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMatch(pub Vec<(u16, u16)>);

impl PortMatch {
    pub fn any() -> Self {
        PortMatch(vec![(0, u16::MAX)])
    }

    pub fn is_any(&self) -> bool {
        self.0.iter().any(|&(lo, hi)| lo == 0 && hi == u16::MAX)
    }

    pub fn matches(&self, port: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| lo <= port && port <= hi)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Permit,
    Deny,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Permit => "permit",
            Action::Deny => "deny",
        }
    }
}

/// One rule (ACE) of a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The line in the source file.
    pub line: usize,
    /// The rule as written, for answers.
    pub text: String,
    pub action: Action,
    /// `None` for any IP protocol.
    pub proto: Option<u8>,
    pub src: AddrMatch,
    pub sport: PortMatch,
    pub dst: AddrMatch,
    pub dport: PortMatch,
    /// ICMP type and optional code.
    pub icmp: Option<(u8, Option<u8>)>,
    /// TCP `established`: only segments with ACK or RST.
    pub established: bool,
    /// `fragments`: only non-initial fragments.
    pub fragments: bool,
    pub log: bool,
}

impl Rule {
    pub fn matches(&self, f: &Flow) -> bool {
        if self.proto.is_some_and(|p| p != f.proto) {
            return false;
        }
        if !self.src.matches(f.src) || !self.dst.matches(f.dst) {
            return false;
        }
        let ported = matches!(f.proto, 6 | 17);
        // Port conditions cannot hold for a non-initial fragment, which carries no ports.
        if ported
            && (!self.sport.is_any() || !self.dport.is_any())
            && (f.fragment || !self.sport.matches(f.sport) || !self.dport.matches(f.dport))
        {
            return false;
        }
        if let Some((t, code)) = self.icmp {
            match f.icmp {
                Some((ft, fc)) if ft == t && code.is_none_or(|c| c == fc) => {}
                _ => return false,
            }
        }
        if self.established && (f.proto != 6 || !f.established) {
            return false;
        }
        if self.fragments && !f.fragment {
            return false;
        }
        true
    }
}

impl Rule {
    /// `permit ip any any` / `deny ip any any` at a line, the base the parsers narrow.
    pub fn any(action: Action, line: usize) -> Rule {
        Rule {
            line,
            text: String::new(),
            action,
            proto: None,
            src: AddrMatch::Any,
            sport: PortMatch::any(),
            dst: AddrMatch::Any,
            dport: PortMatch::any(),
            icmp: None,
            established: false,
            fragments: false,
            log: false,
        }
    }

    /// Same action on the same flows, as written (line and text aside): how a diff tells an
    /// untouched rule from an edited one.
    pub fn same_effect(&self, o: &Rule) -> bool {
        (self.action, self.proto, &self.src, &self.sport, &self.dst, &self.dport, self.icmp)
            == (o.action, o.proto, &o.src, &o.sport, &o.dst, &o.dport, o.icmp)
            && (self.established, self.fragments) == (o.established, o.fragments)
    }
}

/// An ordered filter: the first rule that matches decides; none matching is an implicit deny.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    pub name: String,
    /// The line where the filter is defined (its first rule for numbered IOS ACLs).
    pub line: usize,
    /// The flows the filter can see: an IOS IPv4 ACL never sees IPv6 packets.
    pub family: Family,
    pub rules: Vec<Rule>,
}

/// What a filter does with a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    /// Index into `rules` of the deciding rule; `None` for the implicit deny.
    pub rule: Option<usize>,
}

impl Acl {
    pub fn decide(&self, f: &Flow) -> Decision {
        match self.rules.iter().position(|r| r.matches(f)) {
            Some(i) => Decision { action: self.rules[i].action, rule: Some(i) },
            None => Decision { action: Action::Deny, rule: None },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    proptest! {
        /// A wildcard match is exactly "the address agrees with `addr` on every bit the
        /// wildcard does not ignore", bit by bit, contiguous or not.
        #[test]
        fn wildcards_compare_exactly_the_cared_bits(addr: u32, wildcard: u32, ip: u32) {
            let by_bits = (0..32).all(|b| wildcard >> b & 1 == 1 || (addr >> b & 1) == (ip >> b & 1));
            let m = AddrMatch::Wildcard { addr, wildcard };
            prop_assert_eq!(m.matches(IpAddr::V4(Ipv4Addr::from(ip))), by_bits);
        }

        /// A range is exactly the addresses between its ends, and a complement exactly the
        /// addresses (of either family) the original does not match.
        #[test]
        fn ranges_and_complements_are_exact(a: u32, b: u32, probes in proptest::collection::vec(any::<u32>(), 16), len in 0u32..=32) {
            let (lo, hi) = (a.min(b), a.max(b));
            let range = AddrMatch::range(IpAddr::V4(lo.into()), IpAddr::V4(hi.into()));
            let near = [lo.wrapping_sub(1), lo, hi, hi.wrapping_add(1)];
            for &p in probes.iter().chain(&near) {
                prop_assert_eq!(range.matches(IpAddr::V4(p.into())), lo <= p && p <= hi);
            }
            let prefix = v4(u128::from(a), len);
            let set = AddrMatch::AnyOf(vec![range.clone(), prefix]);
            let not = set.complement().expect("prefixes only");
            for &p in probes.iter().chain(&near) {
                let ip = IpAddr::V4(p.into());
                prop_assert_ne!(not.matches(ip), set.matches(ip));
            }
            prop_assert!(not.matches(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)));
        }

        #[test]
        fn ipv6_prefixes_compare_the_leading_bits(addr: u128, len in 0u8..=128, ip: u128) {
            let by_bits = (0..u32::from(len)).all(|b| (addr >> (127 - b) & 1) == (ip >> (127 - b) & 1));
            let m = AddrMatch::Prefix6 { addr, len };
            prop_assert_eq!(m.matches(IpAddr::V6(ip.into())), by_bits);
        }
    }
}
