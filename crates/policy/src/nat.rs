//! Address translation rules, vendor-neutral: which original packets a rule takes (zones or
//! interfaces, and the header), and what it rewrites — the source, the destination, or both
//! — to an address range, a prefix mapped one to one, or the egress interface's address,
//! with an optional port. First match over a device's rules; the evaluation order against
//! routing and filters is the vendor's and lives with the caller (`trace`, `match`).

use crate::acl::{Flow, Rule};
use crate::zone::Labels;
use std::net::IpAddr;

/// When a device translates a packet passing through, against its filters and routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NatOrder {
    /// ASA and IOS: a static rule's mapped destination is translated back first (before the
    /// access list and the route); sources are translated on the way out, by the pair of
    /// interfaces (`nameif`, or IOS's NAT side).
    #[default]
    Interfaces,
    /// PAN-OS: the rule is chosen on the original packet (zones from the original route);
    /// the security policy sees the original addresses and the translated route's zone.
    PanOs,
    /// SRX (and F5 virtual servers): static and destination NAT before the route; the
    /// policy sees the translated destination; source NAT after the policy.
    Srx,
}

/// What a translation writes into one side of the packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// One of these addresses (a pool); a prefix of the same length as the matched one maps
    /// one to one (static NAT).
    Range { lo: IpAddr, hi: IpAddr },
    /// The address of the interface the packet leaves by (PAN-OS `interface-address`,
    /// IOS `overload` on an interface).
    Interface(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    pub address: Option<Address>,
    pub port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatRule {
    pub name: String,
    pub line: usize,
    /// Zones (or interfaces) the original packet comes from and goes to.
    pub from: Labels,
    pub to: Labels,
    /// The original packets it takes: any of these headers (their action is not used), or,
    /// with `first_match`, those whose first matching entry permits.
    pub matches: Vec<Rule>,
    /// `matches` is an access list read first-match: a deny entry exempts the packets it
    /// takes from the rule (IOS `ip nat inside source list`, the usual VPN exemption).
    pub first_match: bool,
    pub source: Option<Translation>,
    pub destination: Option<Translation>,
    /// Static NAT that also translates the reverse direction.
    pub bidirectional: bool,
    pub disabled: bool,
}

impl NatRule {
    pub fn applies(&self, flow: &Flow, from: &str, to: &str) -> bool {
        !self.disabled && self.from.admits(Some(from)) && self.to.admits(Some(to)) && self.takes(flow)
    }

    /// Whether the header is one the rule translates, whatever the zones.
    pub fn takes(&self, flow: &Flow) -> bool {
        if self.first_match {
            self.matches.iter().find(|m| m.matches(flow)).is_some_and(|m| m.action == crate::acl::Action::Permit)
        } else {
            self.matches.iter().any(|m| m.matches(flow))
        }
    }

    /// The flow as this rule rewrites it; `egress` gives an interface's address.
    pub fn translate(&self, flow: &Flow, egress: impl Fn(&str) -> Option<IpAddr>) -> Flow {
        let mut out = *flow;
        if let Some(t) = &self.source {
            if let Some(a) = t.address.as_ref().and_then(|a| rewrite(a, flow.src, self.original_range(true), &egress)) {
                out.src = a;
            }
            if let Some(p) = t.port {
                out.sport = p;
            }
        }
        if let Some(t) = &self.destination {
            if let Some(a) = t.address.as_ref().and_then(|a| rewrite(a, flow.dst, self.original_range(false), &egress))
            {
                out.dst = a;
            }
            if let Some(p) = t.port {
                out.dport = p;
            }
        }
        out
    }

    /// The range of the side the rule matches, when it is one prefix (for one-to-one maps).
    fn original_range(&self, source: bool) -> Option<(IpAddr, IpAddr)> {
        let m = self.matches.first()?;
        let side = if source { &m.src } else { &m.dst };
        single_range(side)
    }
}

/// The translated address for `ip`: the same offset in a range as long as the original
/// (one-to-one), else the range's first address.
fn rewrite(
    a: &Address,
    ip: IpAddr,
    original: Option<(IpAddr, IpAddr)>,
    egress: &impl Fn(&str) -> Option<IpAddr>,
) -> Option<IpAddr> {
    match a {
        Address::Interface(name) => egress(name),
        Address::Range { lo, hi } => {
            let span = |a: IpAddr, b: IpAddr| to_u128(b).checked_sub(to_u128(a));
            if let Some((olo, ohi)) = original
                && span(olo, ohi).is_some()
                && span(olo, ohi) == span(*lo, *hi)
                && olo.is_ipv4() == lo.is_ipv4()
            {
                let offset = to_u128(ip).checked_sub(to_u128(olo))?;
                return from_u128(to_u128(*lo) + offset, lo.is_ipv4());
            }
            Some(*lo)
        }
    }
}

/// The addresses of one prefix, when the side is one.
fn single_range(m: &crate::acl::AddrMatch) -> Option<(IpAddr, IpAddr)> {
    use crate::acl::AddrMatch;
    match m {
        AddrMatch::Wildcard { addr, wildcard } if wildcard.checked_add(1).is_none_or(|n| n.is_power_of_two()) => {
            Some((IpAddr::V4((addr & !wildcard).into()), IpAddr::V4((addr | wildcard).into())))
        }
        AddrMatch::Prefix6 { addr, len } => {
            let host = u128::MAX.checked_shr(u32::from(*len)).unwrap_or(0);
            Some((IpAddr::V6((addr & !host).into()), IpAddr::V6((addr | host).into())))
        }
        AddrMatch::AnyOf(all) if all.len() == 1 => single_range(&all[0]),
        _ => None,
    }
}

fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn from_u128(n: u128, v4: bool) -> Option<IpAddr> {
    if v4 { u32::try_from(n).ok().map(|n| IpAddr::V4(n.into())) } else { Some(IpAddr::V6(n.into())) }
}

impl NatRule {
    /// The other direction of a static rule: packets to the mapped addresses, coming from the
    /// mapped side, get the real ones back (ASA "un-NAT", checked before the access list).
    ///
    /// And the other way round for a static destination rule (SRX `static-nat`): packets
    /// from the real addresses, going towards the side the rule faces, leave with the
    /// mapped ones.
    pub fn reverse(&self) -> Option<NatRule> {
        if !self.bidirectional {
            return None;
        }
        if self.source.is_none() {
            let t = self.destination.as_ref()?;
            let Some(Address::Range { lo, hi }) = &t.address else { return None };
            let m = self.matches.first()?;
            let (mlo, mhi) = single_range(&m.dst)?;
            return Some(NatRule {
                name: self.name.clone(),
                line: self.line,
                from: self.to.clone(),
                to: self.from.clone(),
                matches: vec![Rule {
                    src: crate::acl::AddrMatch::range(*lo, *hi),
                    ..Rule::any(crate::acl::Action::Permit, self.line)
                }],
                source: Some(Translation { address: Some(Address::Range { lo: mlo, hi: mhi }), port: None }),
                destination: None,
                bidirectional: false,
                first_match: false,
                disabled: self.disabled,
            });
        }
        let t = self.source.as_ref()?;
        let Some(Address::Range { lo, hi }) = &t.address else { return None };
        let m = self.matches.first()?;
        let (rlo, rhi) = single_range(&m.src)?;
        let to_real = Translation { address: Some(Address::Range { lo: rlo, hi: rhi }), port: None };
        // A port-mapping static rule answers on the mapped port and gives back the real one.
        let (dport, port) = match t.port {
            Some(mapped) => (crate::acl::PortMatch(vec![(mapped, mapped)]), m.sport.0.first().map(|r| r.0)),
            None => (crate::acl::PortMatch::any(), None),
        };
        Some(NatRule {
            name: self.name.clone(),
            line: self.line,
            from: self.to.clone(),
            to: self.from.clone(),
            matches: vec![Rule {
                dst: crate::acl::AddrMatch::range(*lo, *hi),
                dport,
                proto: m.proto,
                ..Rule::any(crate::acl::Action::Permit, self.line)
            }],
            source: None,
            destination: Some(Translation { port, ..to_real }),
            bidirectional: false,
            first_match: false,
            disabled: self.disabled,
        })
    }
}

/// The first rule that takes the flow between these zones (or interfaces).
pub fn first<'a>(rules: &'a [NatRule], flow: &Flow, from: &str, to: &str) -> Option<&'a NatRule> {
    rules.iter().find(|r| r.applies(flow, from, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::{Action, AddrMatch};

    fn flow(src: &str, dst: &str) -> Flow {
        crate::arbitrary::flow(src, dst, 6, 80)
    }

    #[test]
    fn static_prefixes_map_one_to_one_and_pools_take_their_first_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let rule = |dst: AddrMatch, to: Address, port| NatRule {
            name: "r".into(),
            line: 1,
            from: Labels::Any,
            to: Labels::Any,
            matches: vec![Rule { dst, ..Rule::any(Action::Permit, 1) }],
            source: None,
            destination: Some(Translation { address: Some(to), port }),
            bidirectional: false,
            first_match: false,
            disabled: false,
        };
        let one_to_one = rule(
            AddrMatch::Wildcard { addr: u32::from(std::net::Ipv4Addr::new(203, 0, 113, 0)), wildcard: 0xff },
            Address::Range { lo: ip("10.0.0.0"), hi: ip("10.0.0.255") },
            None,
        );
        let t = one_to_one.translate(&flow("198.51.100.1", "203.0.113.77"), |_| None);
        assert_eq!(t.dst, ip("10.0.0.77"));
        let pool = rule(AddrMatch::Any, Address::Range { lo: ip("10.9.9.9"), hi: ip("10.9.9.12") }, Some(8080));
        let t = pool.translate(&flow("198.51.100.1", "203.0.113.77"), |_| None);
        assert_eq!((t.dst, t.dport, t.src), (ip("10.9.9.9"), 8080, ip("198.51.100.1")));
        let iface = NatRule {
            source: Some(Translation { address: Some(Address::Interface("eth1".into())), port: None }),
            destination: None,
            ..pool
        };
        let t = iface.translate(&flow("10.1.1.1", "8.8.8.8"), |n| (n == "eth1").then(|| ip("192.0.2.1")));
        assert_eq!(t.src, ip("192.0.2.1"));
    }
}
