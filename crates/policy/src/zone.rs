//! Zone-based firewall policies (PAN-OS security rulebases, SRX security policies): ordered
//! rules that match on zones, applications and users as well as on headers, and defaults
//! for what no rule decides.
//!
//! The analyses reuse the filter engine by projection. Zones, applications and users are
//! finite labels, so for each source and destination zone and each class of applications
//! and users that the rules treat alike, the rules that apply form an ordinary first-match
//! [`Acl`] ending in the zone pair's default. Projections with the same rules are one
//! [`Slice`], analysed once. That keeps every answer exact over labels too: a rule limited
//! to `ssl` is not shadowed by one limited to `dns`.
//!
//! What a configuration cannot decide (FQDN and dynamic addresses, URL categories,
//! schedules, the ports App-ID expects) is kept on the rule as a *may* condition. `decide`
//! reports such rules as ones that may match; the analyses never let them cover another
//! rule, so a finding holds whatever those conditions turn out to be.

use crate::acl::{Acl, Action, AddrMatch, Family, Flow, Rule};
use crate::analysis::{self, Finding, Kind, Severity};
use crate::space::{HeaderSpace, Result};
use std::collections::{BTreeSet, HashMap};

/// Which values of a label a rule accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Labels {
    Any,
    Only(Vec<String>),
}

impl Labels {
    /// Whether the rule accepts value `v`; `None` stands for any value no rule names.
    pub fn admits(&self, v: Option<&str>) -> bool {
        match self {
            Labels::Any => true,
            Labels::Only(vs) => v.is_some_and(|v| vs.iter().any(|x| x == v)),
        }
    }

    fn named(&self) -> &[String] {
        match self {
            Labels::Any => &[],
            Labels::Only(vs) => vs,
        }
    }
}

/// PAN-OS `rule-type`: which zone pairs a rule may apply to at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RuleType {
    #[default]
    Universal,
    /// Only traffic that stays in one zone.
    Intrazone,
    /// Only traffic between two different zones.
    Interzone,
}

/// One rule of a zone policy. A rule the vendor writes once may stand as several of these
/// with the same name and line (PAN-OS `application-default` gives each application its own
/// ports); answers cite the name and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneRule {
    pub name: String,
    pub line: usize,
    pub from: Labels,
    pub to: Labels,
    pub kind: RuleType,
    pub apps: Labels,
    pub users: Labels,
    pub action: Action,
    /// The header conditions: any of these (each with this rule's line, action and name).
    pub matches: Vec<Rule>,
    /// Conditions the configuration cannot decide, as the answers show them.
    pub may: Vec<String>,
    pub disabled: bool,
    pub log: bool,
}

impl ZoneRule {
    fn applies(&self, from: &str, to: &str) -> bool {
        let kind = match self.kind {
            RuleType::Universal => true,
            RuleType::Intrazone => from == to,
            RuleType::Interzone => from != to,
        };
        kind && !self.disabled && self.from.admits(Some(from)) && self.to.admits(Some(to))
    }
}

impl ZoneRule {
    /// A rule naming addresses known only at run time (FQDNs, dynamic groups, lists) stands
    /// as two entries: the addresses the configuration gives, decided, then every address it
    /// may match, undecided. `self.matches` carry the latter; `known` the former (`None` on
    /// a side where nothing is certain, as when such addresses are negated).
    pub fn with_unknown_addresses(
        self,
        known: (Option<AddrMatch>, Option<AddrMatch>),
        address_may: Vec<String>,
    ) -> Vec<ZoneRule> {
        if address_may.is_empty() {
            return vec![self];
        }
        let mut out = Vec::new();
        if let (Some(src), Some(dst)) = known
            && self.may.is_empty()
            && !matches_none(&src)
            && !matches_none(&dst)
        {
            // An alternative for an undefined service keeps matching nothing.
            let matches = self
                .matches
                .iter()
                .map(|m| match m.src {
                    AddrMatch::Undefined(_) => m.clone(),
                    _ => Rule { src: src.clone(), dst: dst.clone(), ..m.clone() },
                })
                .collect();
            out.push(ZoneRule { matches, ..self.clone() });
        }
        let mut may = self.may.clone();
        may.extend(address_may);
        out.push(ZoneRule { may, ..self });
        out
    }
}

/// One side of a rule whose addresses may be partly known only at run time: every address
/// it may match, and the ones it surely matches (`None` when none are sure: such addresses
/// negated can only take some away). `address_may[from..]` are the run-time conditions
/// this side added; negated, they are reworded.
pub fn address_side(
    known: Vec<AddrMatch>,
    negate: bool,
    what: &str,
    address_may: &mut [String],
) -> (AddrMatch, Option<AddrMatch>) {
    let unknown = !address_may.is_empty();
    let known = AddrMatch::AnyOf(known);
    if !negate {
        let all = if unknown { AddrMatch::Any } else { known.clone() };
        return (all, Some(known));
    }
    for m in address_may.iter_mut() {
        *m = format!("{what} is not {}", m.trim_start_matches(&format!("{what} is ")));
    }
    let not =
        known.complement().unwrap_or_else(|| AddrMatch::Undefined(format!("negated {what} with wildcard objects")));
    (not.clone(), (!unknown).then_some(not))
}

/// An address set with no address in it.
fn matches_none(m: &AddrMatch) -> bool {
    matches!(m, AddrMatch::AnyOf(all) if all.iter().all(matches_none))
}

/// What decides the flows no rule takes, for traffic within one zone or between two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultRule {
    pub name: String,
    pub action: Action,
    /// Where the configuration overrides the default; 0 when it is the vendor's own.
    pub line: usize,
}

/// An ordered zone policy with its defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZonePolicy {
    /// Which policy this is (`vsys1`, a Panorama device group, `security-policies`).
    pub name: String,
    pub line: usize,
    /// The zones defined (traffic only ever comes from and goes to these), in file order.
    pub zones: Vec<String>,
    pub rules: Vec<ZoneRule>,
    pub intrazone: DefaultRule,
    pub interzone: DefaultRule,
}

/// A rule that may decide a flow, or the one that does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Index into `rules`; `None` for the default.
    pub rule: Option<usize>,
    pub action: Action,
    /// The conditions it depends on that the question did not settle; empty for the rule
    /// that decides.
    pub undecided: Vec<String>,
}

/// One class of labelled traffic: a zone pair and the applications and users the rules
/// treat alike there (`None` in a list: any value no rule names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub from: String,
    pub to: String,
    pub apps: Vec<Option<String>>,
    pub users: Vec<Option<String>>,
}

/// The rules that apply to some scopes, as one first-match filter.
#[derive(Debug, Clone)]
pub struct Slice {
    pub scopes: Vec<Scope>,
    pub acl: Acl,
    /// For each rule of `acl`, the zone rule it comes from; `None` for the default.
    pub origin: Vec<Option<usize>>,
}

impl ZonePolicy {
    /// The candidates for a flow between two zones, in order: rules that may match because
    /// of a condition the question leaves open (an application or user not given, an FQDN),
    /// then the rule or default that decides. The last candidate always decides.
    pub fn decide(&self, flow: &Flow, from: &str, to: &str, app: Option<&str>, user: Option<&str>) -> Vec<Candidate> {
        let mut out = Vec::new();
        for (i, r) in self.rules.iter().enumerate() {
            if !r.applies(from, to) || !r.matches.iter().any(|m| m.matches(flow)) {
                continue;
            }
            let mut undecided = r.may.clone();
            for (labels, given, what) in [(&r.apps, app, "application"), (&r.users, user, "user")] {
                match (labels, given) {
                    (Labels::Any, _) => {}
                    (l, Some(v)) if !l.admits(Some(v)) => {
                        undecided.push(String::new());
                        break;
                    }
                    (_, Some(_)) => {}
                    (Labels::Only(vs), None) => undecided.push(format!("{what} is {}", vs.join(" or "))),
                }
            }
            if undecided.iter().any(String::is_empty) {
                continue;
            }
            let decides = undecided.is_empty();
            out.push(Candidate { rule: Some(i), action: r.action, undecided });
            if decides {
                return out;
            }
        }
        let d = self.default_for(from, to);
        out.push(Candidate { rule: None, action: d.action, undecided: Vec::new() });
        out
    }

    pub fn default_for(&self, from: &str, to: &str) -> &DefaultRule {
        if from == to { &self.intrazone } else { &self.interzone }
    }

    /// The zones traffic can come from or go to: those defined, and any a rule names.
    fn all_zones(&self) -> Vec<String> {
        let mut out = self.zones.clone();
        for r in &self.rules {
            for z in r.from.named().iter().chain(r.to.named()) {
                if !out.contains(z) {
                    out.push(z.clone());
                }
            }
        }
        if out.is_empty() {
            out.push("any".to_owned());
        }
        out
    }

    /// The policy as first-match filters, one per class of traffic its rules treat alike.
    /// Rules with conditions the configuration cannot decide are left out (`with_may`
    /// false) or kept as if those conditions held.
    pub fn slices(&self, with_may: bool) -> Vec<Slice> {
        slices(&[self], with_may)
            .into_iter()
            .map(|(scopes, mut acls)| {
                let (acl, origin) = acls.remove(0);
                Slice { scopes, acl, origin }
            })
            .collect()
    }
}

/// Projects several versions of a policy onto the same scopes (a diff compares them scope by
/// scope): for each class of traffic, one filter per policy. Scopes whose filters are the
/// same in every version share one entry.
#[allow(clippy::type_complexity)]
pub fn slices(policies: &[&ZonePolicy], with_may: bool) -> Vec<(Vec<Scope>, Vec<(Acl, Vec<Option<usize>>)>)> {
    let mut zones: Vec<String> = Vec::new();
    for p in policies {
        for z in p.all_zones() {
            if !zones.contains(&z) {
                zones.push(z);
            }
        }
    }
    let mut by_rules: HashMap<Vec<Vec<usize>>, usize> = HashMap::new();
    let mut out: Vec<(Vec<Scope>, Vec<(Acl, Vec<Option<usize>>)>)> = Vec::new();
    for from in &zones {
        for to in &zones {
            let applying: Vec<Vec<usize>> = policies
                .iter()
                .map(|p| {
                    (0..p.rules.len())
                        .filter(|&i| p.rules[i].applies(from, to) && (with_may || p.rules[i].may.is_empty()))
                        .collect()
                })
                .collect();
            let apps = atoms(policies, &applying, |r| &r.apps);
            let users = atoms(policies, &applying, |r| &r.users);
            for (app_class, app_rules) in &apps {
                for (user_class, user_rules) in &users {
                    let rules: Vec<Vec<usize>> = (0..policies.len())
                        .map(|k| app_rules[k].iter().copied().filter(|i| user_rules[k].contains(i)).collect())
                        .collect();
                    // The default differs between intrazone and interzone: part of the key.
                    let mut key = rules.clone();
                    key.push(vec![usize::from(from == to)]);
                    let scope = Scope {
                        from: from.clone(),
                        to: to.clone(),
                        apps: app_class.clone(),
                        users: user_class.clone(),
                    };
                    if let Some(&at) = by_rules.get(&key) {
                        out[at].0.push(scope);
                        continue;
                    }
                    by_rules.insert(key, out.len());
                    let acls = policies.iter().zip(&rules).map(|(p, rs)| project(p, rs, from, to)).collect();
                    out.push((vec![scope], acls));
                }
            }
        }
    }
    out
}

/// The classes of one label (applications or users) that the `applying` rules of each
/// policy treat alike, each with the rules (per policy) that admit it: every value some rule
/// names, then the values no rule names (`None`).
#[allow(clippy::type_complexity)]
fn atoms(
    policies: &[&ZonePolicy],
    applying: &[Vec<usize>],
    labels: impl Fn(&ZoneRule) -> &Labels,
) -> Vec<(Vec<Option<String>>, Vec<BTreeSet<usize>>)> {
    let mut values: Vec<Option<String>> = Vec::new();
    let mut seen = BTreeSet::new();
    for (p, rs) in policies.iter().zip(applying) {
        for &i in rs {
            for v in labels(&p.rules[i]).named() {
                if seen.insert(v.clone()) {
                    values.push(Some(v.clone()));
                }
            }
        }
    }
    values.push(None);
    let mut classes: Vec<(Vec<Option<String>>, Vec<BTreeSet<usize>>)> = Vec::new();
    for v in values {
        let admitted: Vec<BTreeSet<usize>> = policies
            .iter()
            .zip(applying)
            .map(|(p, rs)| rs.iter().copied().filter(|&i| labels(&p.rules[i]).admits(v.as_deref())).collect())
            .collect();
        match classes.iter_mut().find(|(_, a)| *a == admitted) {
            Some((members, _)) => members.push(v),
            None => classes.push((vec![v], admitted)),
        }
    }
    classes
}

/// The filter the rules `rs` of `p` form between two zones, ending in the pair's default.
fn project(p: &ZonePolicy, rs: &[usize], from: &str, to: &str) -> (Acl, Vec<Option<usize>>) {
    let mut rules = Vec::new();
    let mut origin = Vec::new();
    for &i in rs {
        for m in &p.rules[i].matches {
            rules.push(m.clone());
            origin.push(Some(i));
        }
    }
    let d = p.default_for(from, to);
    // An explicit default that permits is a rule; one that denies is the implicit deny.
    if d.action == Action::Permit {
        rules.push(Rule { text: d.name.clone(), ..Rule::any(Action::Permit, d.line) });
        origin.push(None);
    }
    let acl = Acl { name: format!("{} {from}→{to}", p.name), line: p.line, family: Family::Any, rules };
    (acl, origin)
}

/// One finding on one rule of a zone policy, over every scope the rule applies in.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneFinding {
    pub kind: Kind,
    pub severity: Severity,
    /// The rule (its first entry in `rules`).
    pub rule: usize,
    /// The rules that explain the finding, by first entry, in policy order.
    pub related: Vec<usize>,
    /// A zone default is among them.
    pub by_default: bool,
    pub unreachable: bool,
    pub different_action: bool,
    /// A flow and the class of traffic it shows the finding in.
    pub witness: Option<(Flow, Scope)>,
}

/// What one rule did across the slices it is in.
#[derive(Default)]
struct Tally {
    slices: usize,
    /// Slices where none of its flows reach it, and where it could go.
    unreachable: usize,
    removable: usize,
    /// Slices where it matches no packet, and where that is for an undefined object.
    nothing: usize,
    undefined: bool,
    related: BTreeSet<usize>,
    by_default: bool,
    different_action: bool,
    witness: Option<(Flow, Scope)>,
}

impl ZonePolicy {
    /// Each entry's first entry, for all of them at once.
    fn heads(&self) -> Vec<usize> {
        let mut first: HashMap<(usize, &str), usize> = HashMap::new();
        (0..self.rules.len())
            .map(|i| *first.entry((self.rules[i].line, self.rules[i].name.as_str())).or_insert(i))
            .collect()
    }

    /// Every finding on the policy, in rule order: each rule judged over every class of
    /// traffic it applies to, so a rule is shadowed only if it is shadowed in all of them.
    /// Rules with undecidable conditions never count as covering another; their own
    /// reachability is judged as if their conditions held.
    pub fn findings(&self) -> Result<Vec<ZoneFinding>> {
        let heads = self.heads();
        let mut tally: HashMap<usize, Tally> = HashMap::new();
        let mut pairs: Vec<ZoneFinding> = Vec::new();
        self.tally(&heads, &self.slices(false), &mut tally, Some(&mut pairs))?;
        // Rules with an undecidable condition: as if it held, among all the rules (one
        // reachable so is reachable with fewer rules before it too); those that are not,
        // against the rules that surely match only.
        let undecided: Vec<usize> = (0..self.rules.len())
            .filter(|&h| heads[h] == h && (0..self.rules.len()).any(|i| heads[i] == h && !self.rules[i].may.is_empty()))
            .collect();
        let mut optimistic = HashMap::new();
        if !undecided.is_empty() {
            self.tally(&heads, &self.slices(true), &mut optimistic, None)?;
        }
        for &m in &undecided {
            if let Some(t) = optimistic.remove(&m).filter(|t| t.unreachable < t.slices) {
                // Reachable; whether it could go depends on the conditions: not claimed.
                tally.insert(m, Tally { removable: 0, ..t });
                continue;
            }
            let mut alone = self.clone();
            alone.rules.retain(|r| r.may.is_empty() || (r.name == self.rules[m].name && r.line == self.rules[m].line));
            let alone_heads = alone.heads();
            let mut t = HashMap::new();
            alone.tally(&alone_heads, &alone.slices(true), &mut t, None)?;
            let at = alone.rules.iter().position(|r| r.line == self.rules[m].line && r.name == self.rules[m].name);
            if let Some(entry) = at.and_then(|a| t.remove(&a)) {
                tally.insert(m, entry);
            }
        }
        let may_after = |i: usize| self.rules[i + 1..].iter().any(|r| !r.may.is_empty() && !r.disabled);
        let mut out = Vec::new();
        for i in (0..self.rules.len()).filter(|&i| heads[i] == i && !self.rules[i].disabled) {
            let Some(t) = tally.remove(&i) else {
                out.push(ZoneFinding {
                    kind: Kind::Unreachable,
                    severity: Severity::High,
                    rule: i,
                    related: Vec::new(),
                    by_default: false,
                    unreachable: true,
                    different_action: false,
                    witness: None,
                });
                continue;
            };
            let base = ZoneFinding {
                kind: Kind::Redundant,
                severity: Severity::Medium,
                rule: i,
                related: t.related.iter().copied().collect(),
                by_default: t.by_default,
                unreachable: true,
                different_action: t.different_action,
                witness: t.witness.clone(),
            };
            if t.nothing == t.slices {
                let kind = if t.undefined { Kind::UndefinedReference } else { Kind::Unreachable };
                out.push(ZoneFinding { kind, severity: Severity::High, related: Vec::new(), witness: None, ..base });
            } else if t.unreachable == t.slices {
                let (kind, severity) = if t.different_action {
                    (Kind::Shadowed, Severity::High)
                } else {
                    (Kind::Redundant, Severity::Medium)
                };
                out.push(ZoneFinding { kind, severity, ..base });
            } else if t.unreachable + t.removable == t.slices && !t.different_action && !may_after(i) {
                out.push(ZoneFinding { unreachable: false, ..base });
            }
            if t.unreachable < t.slices {
                out.extend(pairs.iter().filter(|f| f.rule == i).cloned());
            }
        }
        Ok(out)
    }

    /// Runs the filter analyses on each slice and adds what they say about each rule.
    fn tally(
        &self,
        heads: &[usize],
        slices: &[Slice],
        tally: &mut HashMap<usize, Tally>,
        mut pairs: Option<&mut Vec<ZoneFinding>>,
    ) -> Result<()> {
        // One space for the slices: a fresh node table per slice costs more than the slices.
        let space = HeaderSpace::with_capacity(1 << 20);
        for s in slices {
            let c = analysis::compile(&space, &s.acl)?;
            let found = analysis::findings(&space, &s.acl, &c)?;
            let mut present: Vec<usize> = s.origin.iter().flatten().map(|&i| heads[i]).collect();
            present.sort_unstable();
            present.dedup();
            for &h in &present {
                let ks: Vec<usize> =
                    (0..s.acl.rules.len()).filter(|&k| s.origin[k].is_some_and(|i| heads[i] == h)).collect();
                let of = |k: usize| found.iter().filter(move |f| f.rule == k);
                let t = tally.entry(h).or_default();
                t.slices += 1;
                let nothing = |k: usize| of(k).any(|f| matches!(f.kind, Kind::Unreachable | Kind::UndefinedReference));
                if ks.iter().all(|&k| nothing(k)) {
                    t.nothing += 1;
                    t.undefined |= ks.iter().any(|&k| of(k).any(|f| f.kind == Kind::UndefinedReference));
                }
                let unreachable = ks.iter().all(|&k| !c.reachable(k));
                let removable = ks.iter().all(|&k| !c.reachable(k) || of(k).any(|f| f.kind == Kind::Redundant));
                if unreachable {
                    t.unreachable += 1;
                } else if removable {
                    t.removable += 1;
                }
                if unreachable || removable {
                    for f in ks.iter().flat_map(|&k| of(k)) {
                        t.different_action |= f.different_action;
                        for &j in &f.related {
                            match s.origin[j] {
                                Some(o) => {
                                    t.related.insert(heads[o]);
                                }
                                None => t.by_default = true,
                            }
                        }
                        if t.witness.is_none() {
                            t.witness = f.witness.map(|w| (w, s.scopes[0].clone()));
                        }
                    }
                }
                let Some(pairs) = pairs.as_deref_mut() else { continue };
                // Part of a rule shadowed by a rule with another action (one of its services,
                // say) is an overlap whose order decides: a correlation.
                let pairwise = |f: &&Finding| match f.kind {
                    Kind::Generalization | Kind::Correlation => true,
                    Kind::Shadowed => !unreachable,
                    _ => false,
                };
                for f in ks.iter().flat_map(|&k| of(k)).filter(pairwise) {
                    let kind = if f.kind == Kind::Shadowed { Kind::Correlation } else { f.kind };
                    let severity = if f.kind == Kind::Shadowed { Severity::Low } else { f.severity };
                    let related: Vec<usize> = {
                        let mut r: Vec<usize> = f
                            .related
                            .iter()
                            .filter_map(|&j| s.origin[j])
                            .map(|o| heads[o])
                            .filter(|&o| o != h)
                            .collect();
                        r.sort_unstable();
                        r.dedup();
                        r
                    };
                    if related.is_empty() || pairs.iter().any(|p| p.rule == h && p.kind == kind && p.related == related)
                    {
                        continue;
                    }
                    pairs.push(ZoneFinding {
                        kind,
                        severity,
                        rule: h,
                        related,
                        by_default: false,
                        unreachable: false,
                        different_action: true,
                        witness: f.witness.map(|w| (w, s.scopes[0].clone())),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Whether two versions of a policy decide every flow of every class of traffic alike,
/// whether the undecidable conditions hold or not.
pub fn same_decisions(a: &ZonePolicy, b: &ZonePolicy) -> Result<bool> {
    let space = HeaderSpace::with_capacity(1 << 20);
    for with_may in [true, false] {
        for (_, acls) in slices(&[a, b], with_may) {
            let (x, y) = (&acls[0].0, &acls[1].0);
            if x.rules != y.rules && !crate::diff::diff(&space, x, y)?.is_empty() {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

impl ZonePolicy {
    /// The policy without the rules (all entries) that `heads` name.
    pub fn without(&self, heads: &[usize]) -> ZonePolicy {
        let gone = |r: &ZoneRule| heads.iter().any(|&h| self.rules[h].line == r.line && self.rules[h].name == r.name);
        ZonePolicy { rules: self.rules.iter().filter(|r| !gone(r)).cloned().collect(), ..self.clone() }
    }

    /// The rules that can go together without changing a decision, and the proof: the policy
    /// without them compared with the original over every class of traffic. Candidates are
    /// the rules the findings call unreachable or removable; one that would change a decision
    /// once others are gone (two rules redundant with each other) stays.
    pub fn cleanup(&self) -> Result<(Vec<usize>, bool)> {
        // Rules that never match go first: of two copies, the later one is the one to drop.
        let found = self.findings()?;
        let candidates: Vec<usize> = found
            .iter()
            .filter(|f| f.unreachable)
            .chain(found.iter().filter(|f| !f.unreachable && f.kind == Kind::Redundant))
            .map(|f| f.rule)
            .collect();
        if candidates.is_empty() {
            return Ok((candidates, true));
        }
        if same_decisions(self, &self.without(&candidates))? {
            return Ok((candidates, true));
        }
        let mut gone: Vec<usize> = Vec::new();
        for c in candidates {
            gone.push(c);
            if !same_decisions(self, &self.without(&gone))? {
                gone.pop();
            }
        }
        let proven = same_decisions(self, &self.without(&gone))?;
        Ok((gone, proven))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::{AddrMatch, PortMatch};
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn labels(all: &[&str], mask: u8) -> Labels {
        if mask == 0 {
            return Labels::Any;
        }
        Labels::Only(all.iter().enumerate().filter(|(i, _)| mask >> i & 1 == 1).map(|(_, z)| z.to_string()).collect())
    }

    const ZONES: [&str; 3] = ["trust", "untrust", "dmz"];
    const APPS: [&str; 3] = ["ssl", "dns", "ssh"];

    /// Rules from generated tuples; `may`: 0 decided, 1 wholly undecidable, 2 a destination
    /// partly known (the net, decided) and partly not (any address, undecided).
    fn policy(rules: Vec<(u8, u8, u8, bool, u8, u16, u8)>, intra: bool) -> ZonePolicy {
        let rules = rules
            .into_iter()
            .enumerate()
            .flat_map(|(i, (from, to, apps, permit, net, port, may))| {
                let action = if permit { Action::Permit } else { Action::Deny };
                let line = i + 1;
                let m = Rule {
                    dst: AddrMatch::Wildcard { addr: u32::from(net) << 8, wildcard: 0xff },
                    dport: if port == 0 { PortMatch::any() } else { PortMatch(vec![(port, port)]) },
                    proto: Some(6),
                    ..Rule::any(action, line)
                };
                let rule = ZoneRule {
                    name: format!("r{line}"),
                    line,
                    from: labels(&ZONES, from),
                    to: labels(&ZONES, to),
                    kind: RuleType::Universal,
                    apps: labels(&APPS, apps),
                    users: Labels::Any,
                    action,
                    matches: vec![m.clone()],
                    may: if may == 1 { vec!["destination is fqdn x".into()] } else { Vec::new() },
                    disabled: false,
                    log: false,
                };
                match may {
                    2 => ZoneRule { matches: vec![Rule { dst: AddrMatch::Any, ..m.clone() }], ..rule }
                        .with_unknown_addresses(
                            (Some(AddrMatch::Any), Some(m.dst.clone())),
                            vec!["destination is fqdn x".into()],
                        ),
                    _ => vec![rule],
                }
            })
            .collect();
        let default = |action| DefaultRule { name: "default".into(), action, line: 0 };
        ZonePolicy {
            name: "p".into(),
            line: 1,
            zones: ZONES.iter().map(|z| z.to_string()).collect(),
            rules,
            intrazone: default(if intra { Action::Permit } else { Action::Deny }),
            interzone: default(Action::Deny),
        }
    }

    fn arb_policy() -> impl Strategy<Value = ZonePolicy> {
        let rule = (0u8..8, 0u8..8, 0u8..8, any::<bool>(), 0u8..4, prop_oneof![Just(0u16), 22u16..24], 0u8..3);
        (proptest::collection::vec(rule, 0..8), any::<bool>()).prop_map(|(rs, intra)| policy(rs, intra))
    }

    fn flow(net: u8, port: u16) -> Flow {
        crate::arbitrary::flow("10.0.0.1", &Ipv4Addr::from(u32::from(net) << 8 | 7).to_string(), 6, port)
    }

    proptest! {
        /// Every slice decides each flow of each of its scopes as the policy does when the
        /// application is named (and the undecidable conditions hold, or not).
        #[test]
        fn slices_decide_as_the_policy(p in arb_policy(), net in 0u8..4, port in 21u16..25, with_may: bool) {
            let f = flow(net, port);
            let mut covered = 0;
            for s in p.slices(with_may) {
                for scope in &s.scopes {
                    for app in &scope.apps {
                        covered += 1;
                        // An application no rule names: one that is not in the test's list.
                        let app = app.as_deref().unwrap_or("web-browsing");
                        let mut q = p.clone();
                        for r in &mut q.rules {
                            if !with_may && !r.may.is_empty() {
                                r.disabled = true;
                            }
                            r.may.clear();
                        }
                        let expected = q.decide(&f, &scope.from, &scope.to, Some(app), Some("u")).pop().unwrap();
                        let got = s.acl.decide(&f);
                        prop_assert_eq!(got.action, expected.action);
                        prop_assert_eq!(got.rule.and_then(|k| s.origin[k]), expected.rule);
                    }
                }
            }
            // Every zone pair and every application class has its slice.
            prop_assert!(covered >= ZONES.len() * ZONES.len());
        }

        /// A question that names the application gets one definite answer unless an FQDN-like
        /// condition is involved; without the application, the rules limited to some
        /// applications come first as "may" candidates.
        #[test]
        fn undecided_rules_come_before_the_decision(p in arb_policy(), net in 0u8..4, port in 21u16..25) {
            let f = flow(net, port);
            let cands = p.decide(&f, "trust", "untrust", None, None);
            let (last, may) = cands.split_last().unwrap();
            prop_assert!(last.undecided.is_empty());
            prop_assert!(may.iter().all(|c| !c.undecided.is_empty()));
            for c in may {
                let r = &p.rules[c.rule.unwrap()];
                prop_assert!(r.apps != Labels::Any || !r.may.is_empty());
            }
        }
    }

    /// Every flow, zone pair and application the generated rules can tell apart.
    fn universe() -> Vec<(Flow, &'static str, &'static str, &'static str)> {
        let mut out = Vec::new();
        for net in 0..4 {
            for port in 21..25 {
                for from in ZONES {
                    for to in ZONES {
                        for app in APPS.iter().copied().chain(["web-browsing"]) {
                            out.push((flow(net, port), from, to, app));
                        }
                    }
                }
            }
        }
        out
    }

    /// The action per universe point when the undecidable conditions of the rules `holds`
    /// picks hold, and those of the others do not.
    fn decisions(p: &ZonePolicy, holds: impl Fn(usize) -> bool) -> Vec<(Action, Option<usize>)> {
        let mut q = p.clone();
        for (i, r) in q.rules.iter_mut().enumerate() {
            r.disabled |= !holds(i) && !r.may.is_empty();
            r.may.clear();
        }
        universe()
            .iter()
            .map(|(f, from, to, app)| {
                let c = q.decide(f, from, to, Some(app), None).pop().unwrap();
                (c.action, c.rule)
            })
            .collect()
    }

    proptest! {
        /// Findings against brute force over every flow, zone pair and application class:
        /// a rule said never to match never decides, whether the undecidable conditions hold
        /// or not; without such conditions, a rule that never decides is said so, and one said
        /// removable can go without changing a decision.
        #[test]
        fn findings_agree_with_brute_force(p in arb_policy()) {
            let found = p.findings().unwrap();
            // All conditions hold, none, or just one rule's.
            let mut worlds = vec![decisions(&p, |_| true), decisions(&p, |_| false)];
            worlds.extend((0..p.rules.len()).filter(|&m| !p.rules[m].may.is_empty()).map(|m| decisions(&p, |i| i == m)));
            let plain = p.rules.iter().all(|r| r.may.is_empty());
            let heads = p.heads();
            for i in (0..p.rules.len()).filter(|&i| heads[i] == i) {
                let f = found.iter().find(|f| f.rule == i && matches!(f.kind, Kind::Shadowed | Kind::Redundant | Kind::Unreachable));
                let decides = worlds.iter().any(|w| w.iter().any(|d| d.1.is_some_and(|k| heads[k] == i)));
                if f.is_some_and(|f| f.unreachable) {
                    prop_assert!(!decides, "rule {} said unreachable but decides: {:?}", i, f);
                }
                if plain && !decides {
                    prop_assert!(f.is_some_and(|f| f.unreachable), "rule {} never decides, findings {:?}", i, found);
                }
                if plain && f.is_some_and(|f| !f.unreachable) {
                    let mut q = p.clone();
                    q.rules.retain(|r| r.line != p.rules[i].line);
                    let before: Vec<Action> = worlds[0].iter().map(|d| d.0).collect();
                    let after: Vec<Action> = decisions(&q, |_| true).iter().map(|d| d.0).collect();
                    prop_assert_eq!(before, after, "rule {} said removable", i);
                }
            }
        }
    }

    proptest! {
        /// A cleanup plan removes only rules whose going changes no decision, in any world.
        #[test]
        fn cleanup_changes_no_decision(p in arb_policy()) {
            let (gone, proven) = p.cleanup().unwrap();
            prop_assert!(proven);
            let q = p.without(&gone);
            prop_assert_eq!(q.rules.len() + gone.iter().map(|&h| p.rules.iter().filter(|r| r.line == p.rules[h].line).count()).sum::<usize>(), p.rules.len());
            let before: Vec<Action> = decisions(&p, |_| true).iter().map(|d| d.0).collect();
            let after: Vec<Action> = decisions(&q, |_| true).iter().map(|d| d.0).collect();
            prop_assert_eq!(before, after);
            let before: Vec<Action> = decisions(&p, |_| false).iter().map(|d| d.0).collect();
            let after: Vec<Action> = decisions(&q, |_| false).iter().map(|d| d.0).collect();
            prop_assert_eq!(before, after);
        }
    }

    /// Two copies of one rule: each can go, not both.
    #[test]
    fn cleanup_keeps_one_of_two_rules_redundant_with_each_other() {
        let p = policy(vec![(1, 2, 0, true, 0, 23, 0), (1, 2, 0, true, 0, 23, 0)], false);
        let found = p.findings().unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        let (gone, proven) = p.cleanup().unwrap();
        assert!(proven);
        assert_eq!(gone.len(), 1);
    }

    #[test]
    fn intrazone_default_permits_and_interzone_denies() {
        let p = policy(vec![(1, 2, 1, true, 0, 23, 0)], true);
        let f = flow(0, 23);
        let d = |from, to, app| p.decide(&f, from, to, app, None);
        assert_eq!(
            d("trust", "untrust", Some("ssl")),
            vec![Candidate { rule: Some(0), action: Action::Permit, undecided: vec![] }]
        );
        assert_eq!(d("trust", "untrust", Some("dns")).last().unwrap().rule, None);
        assert_eq!(d("trust", "untrust", Some("dns")).last().unwrap().action, Action::Deny);
        assert_eq!(d("dmz", "dmz", Some("dns")).last().unwrap().action, Action::Permit);
        let open = d("trust", "untrust", None);
        assert_eq!(open.len(), 2);
        assert_eq!(open[0].undecided, vec!["application is ssl".to_owned()]);
    }
}
