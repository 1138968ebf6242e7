//! Risky-rule and hardening checks as data: a pack of checks in TOML (or YAML) that ships
//! with Watchkeeper ([`Pack::standard`]) and that users extend with their own files.
//!
//! A *risky* check names the rules it objects to by what they let through: an action, how
//! wide the source and destination are, the services they match (`tcp/22`, `udp/161-162`,
//! `icmp`, `any`), and whether they log. A *hardening* check looks at a device's
//! configuration lines, per vendor: lines that must be there (`require_any`) and lines that
//! must not (`forbid`), written as word patterns — `*` is one word, `**` any number of words,
//! `<ip>` an address — so that a check reads like the configuration it describes and says
//! nothing a regular expression could get subtly wrong.

use crate::acl::{Acl, Action, AddrMatch, Flow, Rule};
use crate::analysis::Severity;
use crate::boxes::{DPORT, PROTO, bounds, intersect, sample};
use serde::Deserialize;

/// The checks Watchkeeper ships with.
pub const STANDARD: &str = include_str!("standard-pack.toml");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    #[serde(default)]
    pub risky: Vec<RiskyCheck>,
    #[serde(default)]
    pub hardening: Vec<HardeningCheck>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskyCheck {
    pub id: String,
    pub title: String,
    #[serde(deserialize_with = "severity")]
    pub severity: Severity,
    /// `permit` (the default) or `deny`.
    #[serde(default = "permit", deserialize_with = "action")]
    pub action: Action,
    /// The source is this wide or wider: an IPv4 prefix length (0 is "any"); IPv6 prefixes
    /// count four bits for one (a /32 is as wide as an IPv4 /8).
    pub src_prefix_at_most: Option<u8>,
    pub dst_prefix_at_most: Option<u8>,
    /// The rule matches one of these services (none listed: any rule).
    #[serde(default)]
    pub services: Vec<String>,
    /// Only rules that do not log.
    #[serde(default)]
    pub without_log: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HardeningCheck {
    pub id: String,
    pub title: String,
    #[serde(deserialize_with = "severity")]
    pub severity: Severity,
    /// The dialects it applies to: `ios`, `nxos`, `iosxr`, `eos`, `asa`, `junos`.
    pub vendors: Vec<String>,
    /// The configuration must have a line matching one of these.
    #[serde(default)]
    pub require_any: Vec<String>,
    /// Every line matching one of these is a finding.
    #[serde(default)]
    pub forbid: Vec<String>,
}

fn permit() -> Action {
    Action::Permit
}

fn severity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Severity, D::Error> {
    let s = String::deserialize(d)?;
    Severity::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not info, low, medium or high")))
}

fn action<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Action, D::Error> {
    match String::deserialize(d)?.as_str() {
        "permit" => Ok(Action::Permit),
        "deny" => Ok(Action::Deny),
        other => Err(serde::de::Error::custom(format!("`{other}` is not permit or deny"))),
    }
}

/// A pack that cannot be used, and why (the parser's message names the line and field).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PackError(String);

impl Pack {
    pub fn standard() -> Pack {
        // The shipped pack is checked by a test; an error here is a build mistake.
        Pack::from_toml(STANDARD).unwrap_or_default()
    }

    pub fn from_toml(text: &str) -> Result<Pack, PackError> {
        let pack: Pack = toml::from_str(text).map_err(|e| PackError(e.to_string()))?;
        pack.validated()
    }

    pub fn from_yaml(text: &str) -> Result<Pack, PackError> {
        let pack: Pack = yaml_serde::from_str(text).map_err(|e| PackError(e.to_string()))?;
        pack.validated()
    }

    /// Adds another pack's checks; a check with an id already present replaces it.
    pub fn extend(&mut self, other: Pack) {
        for c in other.risky {
            self.risky.retain(|r| r.id != c.id);
            self.risky.push(c);
        }
        for c in other.hardening {
            self.hardening.retain(|r| r.id != c.id);
            self.hardening.push(c);
        }
    }

    fn validated(self) -> Result<Pack, PackError> {
        for c in &self.risky {
            for s in &c.services {
                service(s).map_err(|why| PackError(format!("risky check `{}`: {why}", c.id)))?;
            }
        }
        for c in &self.hardening {
            if c.require_any.is_empty() && c.forbid.is_empty() {
                return Err(PackError(format!("hardening check `{}` has neither `require_any` nor `forbid`", c.id)));
            }
        }
        Ok(self)
    }
}

/// A service as a check names it: the protocol (`None`: any) and a destination port range.
type Service = (Option<u8>, Option<(u16, u16)>);

fn service(s: &str) -> Result<Service, String> {
    let (proto, ports) = s.split_once('/').map_or((s, None), |(p, r)| (p, Some(r)));
    let proto = match proto {
        "any" | "ip" => None,
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        "icmp6" => Some(58),
        p => Some(p.parse::<u8>().map_err(|_| format!("`{s}`: unknown protocol `{p}`"))?),
    };
    let ports = match ports {
        None => None,
        Some(r) => {
            let num = |p: &str| p.parse::<u16>().map_err(|_| format!("`{s}`: `{p}` is not a port"));
            Some(match r.split_once('-') {
                Some((a, b)) => (num(a)?, num(b)?),
                None => (num(r)?, num(r)?),
            })
        }
    };
    Ok((proto, ports))
}

/// A rule a risky check objects to, with a flow it lets through that shows why.
#[derive(Debug, Clone)]
pub struct RiskyHit {
    pub check: usize,
    pub rule: usize,
    pub witness: Option<Flow>,
}

/// How wide an address match is, as an IPv4 prefix length (smaller is wider).
fn width(m: &AddrMatch) -> Option<u8> {
    match m {
        AddrMatch::Any => Some(0),
        AddrMatch::Wildcard { wildcard, .. } => Some(32 - wildcard.count_ones() as u8),
        AddrMatch::Prefix6 { len, .. } => Some(len / 4),
        AddrMatch::AnyOf(all) => all.iter().filter_map(width).min(),
        AddrMatch::Undefined(_) => None,
    }
}

/// The rules of a filter each risky check objects to.
pub fn risky(pack: &Pack, acl: &Acl) -> Vec<RiskyHit> {
    let mut out = Vec::new();
    for (k, c) in pack.risky.iter().enumerate() {
        let services: Vec<_> = c.services.iter().filter_map(|s| service(s).ok()).collect();
        for (i, r) in acl.rules.iter().enumerate() {
            let wide = |m: &AddrMatch, limit: Option<u8>| limit.is_none_or(|l| width(m).is_some_and(|w| w <= l));
            if r.action != c.action || !wide(&r.src, c.src_prefix_at_most) || !wide(&r.dst, c.dst_prefix_at_most) {
                continue;
            }
            if c.without_log && r.log {
                continue;
            }
            let hit = if services.is_empty() {
                Some(sample(&bounds(r, acl.family)).filter(|w| r.matches(w)))
            } else {
                services.iter().find_map(|s| matches_service(r, acl, *s))
            };
            if let Some(witness) = hit {
                out.push(RiskyHit { check: k, rule: i, witness });
            }
        }
    }
    out
}

/// Whether the rule matches some flows of the service, and one of them.
fn matches_service(r: &Rule, acl: &Acl, (proto, ports): Service) -> Option<Option<Flow>> {
    let Some(p) = proto else {
        // `any`: the rule must match every protocol and port.
        return (r.proto.is_none() && r.sport.is_any() && r.dport.is_any())
            .then(|| sample(&bounds(r, acl.family)).filter(|w| r.matches(w)));
    };
    if r.proto.is_some_and(|q| q != p) {
        return None;
    }
    let mut b = bounds(r, acl.family);
    let mut s = b;
    s[PROTO] = (u128::from(p), u128::from(p));
    if let Some((lo, hi)) = ports {
        if !matches!(p, 6 | 17) {
            return None;
        }
        // The rule's ports must meet the service's.
        if !r.dport.0.iter().any(|&(a, z)| a <= hi && lo <= z) {
            return None;
        }
        s[DPORT] = (u128::from(lo), u128::from(hi));
        s[crate::boxes::FRAG] = (0, 0);
    }
    b = intersect(&b, &s);
    // A flow in both, when the boxes find one the rule really matches.
    Some(sample(&b).filter(|w| r.matches(w)))
}

/// A hardening check that fails on a device: for a forbidden line, the line; for a missing
/// one, none.
#[derive(Debug, Clone)]
pub struct HardeningHit {
    pub check: usize,
    pub line: Option<usize>,
    pub text: String,
}

/// The hardening checks for `vendor` that fail on a configuration given as its lines' words.
/// Settings that must be there are only asked of a `full` configuration: a file holding just
/// a filter (a generated ACL, a snippet under review) lacks NTP by nature, not by mistake.
pub fn hardening(pack: &Pack, vendor: &str, lines: &[(usize, Vec<String>)], full: bool) -> Vec<HardeningHit> {
    let mut out = Vec::new();
    for (k, c) in pack.hardening.iter().enumerate() {
        if !c.vendors.iter().any(|v| v == vendor) {
            continue;
        }
        let pattern = |p: &String| p.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        let required: Vec<Vec<String>> = c.require_any.iter().map(pattern).collect();
        if full && !required.is_empty() && !lines.iter().any(|(_, w)| required.iter().any(|p| glob(p, w))) {
            out.push(HardeningHit { check: k, line: None, text: String::new() });
        }
        let forbidden: Vec<Vec<String>> = c.forbid.iter().map(pattern).collect();
        for (n, w) in lines {
            if forbidden.iter().any(|p| glob(p, w)) {
                out.push(HardeningHit { check: k, line: Some(*n), text: w.join(" ") });
            }
        }
    }
    out
}

/// Whether a line's words match a pattern: `*` one word, `**` any number, `<ip>` an address.
fn glob(pattern: &[String], words: &[String]) -> bool {
    match pattern.split_first() {
        None => words.is_empty(),
        Some((p, rest)) if p == "**" => (0..=words.len()).any(|k| glob(rest, &words[k..])),
        Some((p, rest)) => {
            let Some((w, more)) = words.split_first() else { return false };
            let one = match p.as_str() {
                "*" => true,
                "<ip>" => w.split('/').next().is_some_and(|a| a.parse::<std::net::IpAddr>().is_ok()),
                lit => lit == w,
            };
            one && glob(rest, more)
        }
    }
}

/// A configuration's lines as words, for the hardening checks of line-oriented dialects
/// (everything but Junos, whose statements [`crate::junos::lines`] gives).
pub fn lines(text: &str) -> Vec<(usize, Vec<String>)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let t = l.trim();
            (!t.is_empty() && !t.starts_with('!') && !t.starts_with('#'))
                .then(|| (i + 1, t.split_whitespace().map(str::to_owned).collect()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn the_standard_pack_loads() {
        let p = Pack::from_toml(STANDARD).expect("the shipped pack");
        assert!(p.risky.len() >= 4 && p.hardening.len() >= 10);
    }

    #[test]
    fn word_patterns_match_whole_lines() {
        assert!(glob(&w("transport input ** telnet **"), &w("transport input ssh telnet")));
        assert!(glob(&w("transport input ** telnet **"), &w("transport input telnet")));
        assert!(!glob(&w("transport input ** telnet **"), &w("transport input ssh")));
        assert!(glob(&w("logging <ip>"), &w("logging 192.0.2.9")));
        assert!(!glob(&w("logging <ip>"), &w("logging buffered")));
        assert!(glob(&w("snmp-server community * **"), &w("snmp-server community public RO")));
        assert!(!glob(&w("ntp server *"), &w("ntp server")));
    }

    #[test]
    fn risky_rules_and_hardening_gaps_are_found() {
        let d = crate::ios::parse(
            "hostname r1\n\
             ip access-list extended IN\n \
             permit tcp any host 192.0.2.10 eq 22\n \
             permit tcp 10.0.0.0 0.0.0.255 host 192.0.2.10 eq 23 log\n \
             permit ip any any\n\
             line vty 0 4\n \
             transport input telnet ssh\n\
             snmp-server community public RO\n",
        );
        let pack = Pack::standard();
        let acl = d.acl("IN").unwrap();
        let hits = risky(&pack, acl);
        let named = |id: &str| -> Vec<usize> {
            hits.iter().filter(|h| pack.risky[h.check].id == id).map(|h| acl.rules[h.rule].line).collect()
        };
        assert_eq!(named("any-to-any-permit"), vec![5]);
        assert_eq!(named("management-from-anywhere"), vec![3, 5]);
        assert_eq!(named("clear-text-protocol"), vec![4, 5]);
        for h in &hits {
            let flow = h.witness.as_ref().expect("a witness");
            assert_eq!(acl.decide(flow).rule.map(|_| ()), Some(()));
            assert!(acl.rules[h.rule].matches(flow));
        }
        let text = "hostname r1\nline vty 0 4\n transport input telnet ssh\nsnmp-server community public RO\n";
        let gaps = hardening(&pack, "ios", &lines(text), true);
        let failed =
            |id: &str| gaps.iter().filter(|h| pack.hardening[h.check].id == id).map(|h| h.line).collect::<Vec<_>>();
        assert_eq!(failed("no-telnet"), vec![Some(3)]);
        assert_eq!(failed("snmpv3-only"), vec![Some(4)]);
        assert_eq!(failed("ssh-version-2"), vec![None]);
        // Checks for other dialects stay quiet: IOS-only ones do not run on Junos.
        let junos = hardening(&pack, "junos", &lines(text), true);
        assert!(junos.iter().all(|h| pack.hardening[h.check].id != "ssh-version-2"));
        // A snippet is not asked for settings, only checked for forbidden lines.
        let snippet = hardening(&pack, "ios", &lines(text), false);
        assert!(snippet.iter().all(|h| h.line.is_some()) && snippet.len() == 2, "{snippet:?}");
    }

    #[test]
    fn user_packs_extend_and_bad_ones_say_why() {
        let mut p = Pack::standard();
        let mine = Pack::from_toml(
            "[[risky]]\nid = \"rdp-anywhere\"\ntitle = \"RDP from anywhere\"\nseverity = \"high\"\n\
             src_prefix_at_most = 0\nservices = [\"tcp/3389\"]\n",
        )
        .unwrap();
        let before = p.risky.len();
        p.extend(mine);
        assert_eq!(p.risky.len(), before + 1);
        let yaml = Pack::from_yaml("hardening:\n  - id: banner\n    title: t\n    severity: low\n    vendors: [ios]\n    require_any: [\"banner login **\"]\n").unwrap();
        assert_eq!(yaml.hardening.len(), 1);
        let bad = Pack::from_toml("[[risky]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"urgent\"\n").unwrap_err();
        assert!(bad.to_string().contains("urgent") && bad.to_string().contains("line"), "{bad}");
        let bad =
            Pack::from_toml("[[risky]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\nservices = [\"tcp/99999\"]\n")
                .unwrap_err();
        assert!(bad.to_string().contains("99999"), "{bad}");
    }
}
