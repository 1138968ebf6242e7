//! Linux netfilter rule sets in `iptables-save` / `ip6tables-save` form: the `filter`
//! table's built-in chains (`INPUT`, `FORWARD`, `OUTPUT`), each read as one filter with jumps
//! into user chains inlined, and the chain's policy as its final decision.
//!
//! Inlining is exact for what the model holds: a jump's conditions are intersected with each
//! rule of the target chain (a rule whose conditions cannot both hold is dropped), ACCEPT is
//! permit, DROP and REJECT are deny, and non-terminating targets (LOG, counters, marks) decide
//! nothing. What the model cannot hold — negated conditions, interfaces, a RETURN in the
//! middle of a chain, connection states without NEW — leaves the rule out with a warning (the
//! filter is then partial). Parsing never fails.

use crate::acl::{Acl, Action, AddrMatch, Family, PortMatch, Rule};
use crate::device::{Device, Warning};
use crate::ios::{icmp_type, prefix4};
use std::collections::HashMap;
use std::net::Ipv6Addr;

/// One `-A CHAIN …` line: its conditions as a rule, and where it goes.
#[derive(Debug, Clone)]
struct Line {
    n: usize,
    text: String,
    rule: Rule,
    target: Target,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Decide(Action),
    Jump(String),
    Return,
    /// LOG, counters, marks: the packet goes on to the next rule.
    Continue,
}

/// Parses an `iptables-save` (or `ip6tables-save`) dump. Never fails; see
/// [`Device::warnings`].
pub fn parse(text: &str) -> Device {
    let mut d = Device::default();
    let mut table = String::new();
    let mut policies: Vec<(String, usize, Action)> = Vec::new();
    let mut chains: HashMap<String, Vec<Line>> = HashMap::new();
    let v6 =
        text.lines().any(|l| l.contains("ip6tables")) || text.lines().any(|l| l.starts_with("-A") && l.contains("::/"));
    let family = if v6 { Family::V6 } else { Family::V4 };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') || t == "COMMIT" {
            continue;
        }
        if let Some(name) = t.strip_prefix('*') {
            table = name.to_owned();
            continue;
        }
        if table != "filter" {
            continue;
        }
        if let Some(decl) = t.strip_prefix(':') {
            let mut w = decl.split_whitespace();
            let (Some(chain), Some(policy)) = (w.next(), w.next()) else { continue };
            chains.entry(chain.to_owned()).or_default();
            match policy {
                "ACCEPT" => policies.push((chain.to_owned(), n, Action::Permit)),
                "DROP" => policies.push((chain.to_owned(), n, Action::Deny)),
                _ => {}
            }
            continue;
        }
        let w = words(t);
        match w.first().map(String::as_str) {
            Some("-N") => {
                if let Some(c) = w.get(1) {
                    chains.entry(c.clone()).or_default();
                }
            }
            Some("-A") => {
                let Some(chain) = w.get(1) else { continue };
                match line(&w[2..], v6) {
                    Ok((rule, target)) => chains.entry(chain.clone()).or_default().push(Line {
                        n,
                        text: t.to_owned(),
                        rule: Rule { line: n, text: t.to_owned(), ..rule },
                        target,
                    }),
                    Err(why) => {
                        d.warnings.push(Warning {
                            line: n,
                            text: t.to_owned(),
                            message: format!("{why}; the rule is left out"),
                        });
                        d.mark_partial(chain);
                    }
                }
            }
            Some("-P") => {
                if let (Some(chain), Some(p)) = (w.get(1), w.get(2)) {
                    let action = if p == "ACCEPT" { Action::Permit } else { Action::Deny };
                    policies.push((chain.clone(), n, action));
                }
            }
            _ => d.warnings.push(Warning { line: n, text: t.to_owned(), message: "not understood; left out".into() }),
        }
    }
    for (chain, n, policy) in policies {
        let mut rules = Vec::new();
        let mut warnings = Vec::new();
        inline(&chain, &Rule::any(Action::Permit, 0), &chains, &mut Vec::new(), &mut rules, &mut warnings);
        if policy == Action::Permit {
            rules.push(Rule {
                line: n,
                text: format!(":{chain} ACCEPT (the chain's policy)"),
                ..Rule::any(Action::Permit, n)
            });
        }
        if !warnings.is_empty() {
            d.mark_partial(&chain);
        }
        d.warnings.extend(warnings);
        d.acls.push(Acl { name: chain, line: n, family, rules });
    }
    d
}

/// The words of a rule line, `"quoted strings"` kept whole.
fn words(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in t.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The conditions and target of one rule (the words after `-A CHAIN`).
fn line(w: &[String], v6: bool) -> Result<(Rule, Target), String> {
    let mut rule = Rule::any(Action::Permit, 0);
    let mut target = Target::Continue;
    let mut i = 0;
    let arg = |i: usize| w.get(i + 1).map(String::as_str).ok_or_else(|| format!("`{}` needs a value", w[i]));
    while i < w.len() {
        let opt = w[i].as_str();
        match opt {
            "!" => return Err("negated conditions are not modelled yet".into()),
            "-p" | "--protocol" => {
                rule.proto = protocol(arg(i)?, v6)?;
                i += 2;
            }
            "-s" | "--source" => {
                rule.src = address(arg(i)?)?;
                i += 2;
            }
            "-d" | "--destination" => {
                rule.dst = address(arg(i)?)?;
                i += 2;
            }
            "--sport" | "--source-port" => {
                rule.sport = ports(arg(i)?)?;
                i += 2;
            }
            "--dport" | "--destination-port" => {
                rule.dport = ports(arg(i)?)?;
                i += 2;
            }
            "--sports" | "--source-ports" => {
                rule.sport = ports(arg(i)?)?;
                i += 2;
            }
            "--dports" | "--destination-ports" => {
                rule.dport = ports(arg(i)?)?;
                i += 2;
            }
            "--icmp-type" | "--icmpv6-type" => {
                let v = arg(i)?;
                let (t, c) = match v.split_once('/') {
                    Some((t, c)) => (t.parse::<u8>().ok(), c.parse::<u8>().ok()),
                    None => (v.parse::<u8>().ok().or_else(|| icmp_name(v)), None),
                };
                rule.icmp = Some((t.ok_or_else(|| format!("unknown ICMP type `{v}`"))?, c));
                i += 2;
            }
            "-f" | "--fragment" => {
                rule.fragments = true;
                i += 1;
            }
            "-m" | "--match" => {
                // Match modules: the conditions they bring follow as options of their own.
                match arg(i)? {
                    "tcp" | "udp" | "icmp" | "icmp6" | "multiport" | "comment" | "state" | "conntrack" => {}
                    other => return Err(format!("match module `{other}` is not modelled yet")),
                }
                i += 2;
            }
            "--comment" => i += 2,
            "--state" | "--ctstate" => {
                let states = arg(i)?;
                if !states.split(',').any(|s| s == "NEW") {
                    return Err(format!("connection state `{states}` without NEW is not modelled yet"));
                }
                i += 2;
            }
            "-i" | "--in-interface" | "-o" | "--out-interface" => {
                return Err("interface conditions are not modelled yet".into());
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                target = match arg(i)? {
                    "ACCEPT" => Target::Decide(Action::Permit),
                    "DROP" | "REJECT" => Target::Decide(Action::Deny),
                    "RETURN" => Target::Return,
                    "LOG" | "NFLOG" | "ULOG" | "MARK" | "CONNMARK" | "TRACE" | "CT" | "NOTRACK" => Target::Continue,
                    chain => Target::Jump(chain.to_owned()),
                };
                i += 2;
                // The target's own options (`--reject-with …`, `--log-prefix …`) decide nothing.
                while w.get(i).is_some_and(|o| o.starts_with("--")) {
                    i += 2;
                }
            }
            other => return Err(format!("`{other}` is not modelled yet")),
        }
    }
    Ok((rule, target))
}

fn protocol(p: &str, v6: bool) -> Result<Option<u8>, String> {
    Ok(Some(match p {
        "all" | "0" => return Ok(None),
        "tcp" => 6,
        "udp" => 17,
        "icmp" if !v6 => 1,
        "icmp" | "icmpv6" | "ipv6-icmp" => 58,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "ospf" => 89,
        "vrrp" => 112,
        "sctp" => 132,
        n => n.parse::<u8>().map_err(|_| format!("unknown protocol `{n}`"))?,
    }))
}

fn address(a: &str) -> Result<AddrMatch, String> {
    if a.contains(':') {
        let (p, len) = a.split_once('/').unwrap_or((a, "128"));
        let p: Ipv6Addr = p.parse().map_err(|_| format!("`{a}` is not an IPv6 address"))?;
        let len: u8 = len.parse().ok().filter(|l| *l <= 128).ok_or_else(|| format!("`{a}` has a bad length"))?;
        let keep = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
        return Ok(AddrMatch::Prefix6 { addr: u128::from(p) & keep, len });
    }
    let p = if a.contains('/') { a.to_owned() } else { format!("{a}/32") };
    prefix4(&p).ok_or_else(|| format!("`{a}` is not an IPv4 address or prefix"))
}

/// `80`, `1024:65535`, or multiport's `22,80,8000:8080`.
fn ports(v: &str) -> Result<PortMatch, String> {
    let one = |p: &str| p.parse::<u16>().map_err(|_| format!("`{p}` is not a port"));
    let mut out = Vec::new();
    for part in v.split(',') {
        match part.split_once(':') {
            Some((a, b)) => {
                let a = if a.is_empty() { 0 } else { one(a)? };
                let b = if b.is_empty() { u16::MAX } else { one(b)? };
                out.push((a.min(b), a.max(b)));
            }
            None => {
                let p = one(part)?;
                out.push((p, p));
            }
        }
    }
    Ok(PortMatch(out))
}

fn icmp_name(v: &str) -> Option<u8> {
    match v {
        "echo-request" => Some(8),
        "destination-unreachable" => Some(3),
        "router-solicitation" => Some(10),
        "any" => None,
        v => icmp_type(v).map(|t| t.0),
    }
}

/// Appends to `out` the first-match rules of `chain` under the conditions `outer` (those of
/// the jumps that led here), following jumps; `stack` stops loops.
fn inline(
    chain: &str,
    outer: &Rule,
    chains: &HashMap<String, Vec<Line>>,
    stack: &mut Vec<String>,
    out: &mut Vec<Rule>,
    warnings: &mut Vec<Warning>,
) {
    let Some(lines) = chains.get(chain) else { return };
    stack.push(chain.to_owned());
    for (k, l) in lines.iter().enumerate() {
        let Some(rule) = meet(outer, &l.rule) else { continue };
        match &l.target {
            Target::Decide(action) => out.push(Rule { action: *action, line: l.n, text: l.text.clone(), ..rule }),
            Target::Continue => {}
            Target::Return if k + 1 == lines.len() && l.rule.same_effect(&Rule::any(l.rule.action, 0)) => {}
            Target::Return => {
                warnings.push(Warning {
                    line: l.n,
                    text: l.text.clone(),
                    message:
                        "a RETURN before the end of a chain is not modelled yet; the rest of the chain is left out"
                            .into(),
                });
                break;
            }
            Target::Jump(next) if stack.contains(next) => warnings.push(Warning {
                line: l.n,
                text: l.text.clone(),
                message: format!("jumping to `{next}` loops; left out"),
            }),
            Target::Jump(next) if !chains.contains_key(next) => warnings.push(Warning {
                line: l.n,
                text: l.text.clone(),
                message: format!("chain `{next}` is not defined; left out"),
            }),
            Target::Jump(next) => inline(next, &rule, chains, stack, out, warnings),
        }
    }
    stack.pop();
}

/// The conditions of both rules at once, or `None` when they cannot both hold.
fn meet(a: &Rule, b: &Rule) -> Option<Rule> {
    let addr = |x: &AddrMatch, y: &AddrMatch| -> Option<AddrMatch> {
        match (x, y) {
            (AddrMatch::Any, o) | (o, AddrMatch::Any) => Some(o.clone()),
            (AddrMatch::Wildcard { addr: a1, wildcard: w1 }, AddrMatch::Wildcard { addr: a2, wildcard: w2 }) => {
                // Prefixes: nested or disjoint.
                if w1 >= w2 && a2 & !w1 == *a1 {
                    Some(y.clone())
                } else if w2 >= w1 && a1 & !w2 == *a2 {
                    Some(x.clone())
                } else {
                    None
                }
            }
            (AddrMatch::Prefix6 { addr: a1, len: l1 }, AddrMatch::Prefix6 { addr: a2, len: l2 }) => {
                let within =
                    |a: u128, l: u8, net: u128, nl: u8| nl <= l && (nl == 0 || (a ^ net) >> (128 - u32::from(nl)) == 0);
                if within(*a2, *l2, *a1, *l1) {
                    Some(y.clone())
                } else if within(*a1, *l1, *a2, *l2) {
                    Some(x.clone())
                } else {
                    None
                }
            }
            _ => None,
        }
    };
    let ports = |x: &PortMatch, y: &PortMatch| -> Option<PortMatch> {
        if x.is_any() {
            return Some(y.clone());
        }
        if y.is_any() {
            return Some(x.clone());
        }
        let both: Vec<(u16, u16)> =
            x.0.iter()
                .flat_map(|&(a, b)| y.0.iter().map(move |&(c, e)| (a.max(c), b.min(e))))
                .filter(|(lo, hi)| lo <= hi)
                .collect();
        (!both.is_empty()).then_some(PortMatch(both))
    };
    let proto = match (a.proto, b.proto) {
        (None, p) | (p, None) => p,
        (Some(x), Some(y)) if x == y => Some(x),
        _ => return None,
    };
    Some(Rule {
        proto,
        src: addr(&a.src, &b.src)?,
        dst: addr(&a.dst, &b.dst)?,
        sport: ports(&a.sport, &b.sport)?,
        dport: ports(&a.dport, &b.dport)?,
        icmp: b.icmp.or(a.icmp),
        established: a.established || b.established,
        fragments: a.fragments || b.fragments,
        ..b.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::Flow;
    use crate::arbitrary::flow;

    const SAVE: &str = "\
# Generated by iptables-save
*nat
:PREROUTING ACCEPT [0:0]
-A PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 8080
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-N SSH
-A SSH -s 192.0.2.0/24 -j ACCEPT
-A SSH -j LOG --log-prefix \"ssh denied: \"
-A SSH -j DROP
-A INPUT -p tcp -m tcp --dport 22 -j SSH
-A INPUT -p tcp -m multiport --dports 80,443,8000:8080 -d 203.0.113.10 -m state --state NEW,ESTABLISHED -j ACCEPT
-A INPUT -p icmp --icmp-type echo-request -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A FORWARD -s 10.0.0.0/8 -j REJECT --reject-with icmp-port-unreachable
COMMIT
";

    #[test]
    fn chains_are_inlined_and_policies_decide_the_rest() {
        let d = parse(SAVE);
        // The interface rule is the only one left out.
        assert_eq!(d.warnings.iter().map(|w| w.line).collect::<Vec<_>>(), vec![17], "{:?}", d.warnings);
        let input = d.acl("INPUT").unwrap();
        let decide = |f: Flow| {
            let x = input.decide(&f);
            (x.action, x.rule.map(|i| input.rules[i].line))
        };
        assert_eq!(decide(flow("192.0.2.7", "203.0.113.1", 6, 22)), (Action::Permit, Some(11)));
        assert_eq!(decide(flow("198.51.100.7", "203.0.113.1", 6, 22)), (Action::Deny, Some(13)));
        assert_eq!(decide(flow("198.51.100.7", "203.0.113.10", 6, 8080)), (Action::Permit, Some(15)));
        assert_eq!(decide(flow("198.51.100.7", "203.0.113.11", 6, 8080)), (Action::Deny, None));
        assert_eq!(decide(flow("198.51.100.7", "203.0.113.11", 1, 0)), (Action::Permit, Some(16)));
        // FORWARD's policy is ACCEPT: a final rule says so.
        let fwd = d.acl("FORWARD").unwrap();
        assert_eq!(fwd.decide(&flow("10.1.1.1", "192.0.2.1", 17, 53)).action, Action::Deny);
        assert_eq!(fwd.decide(&flow("11.1.1.1", "192.0.2.1", 17, 53)).action, Action::Permit);
        assert!(d.acl("PREROUTING").is_none(), "only the filter table");
    }
}
