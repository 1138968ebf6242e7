//! Planning an import: what it adds, changes, removes and leaves alone, and whether the CMDB
//! it would leave behind is sound. Pure: the caller supplies the CMDB as it is.
//!
//! Records are matched by natural key (site slug; site and name path for items; name for
//! groups; both ends and the kind for relationships). Removal is scoped twice: only records
//! the same *source* imported earlier, and only of the kinds the document speaks for
//! ([`Coverage`](crate::Coverage)) — importing `interfaces.json` alone removes stale
//! interfaces, never devices, and never what people entered by hand.

use crate::{
    ContractKey, Document, GroupRecord, ImportError, ItemKey, ItemRecord, Origin, RelTarget, RelationshipRecord,
    SiteRecord,
};
use model::cmdb::{ItemFields, RelationKind};
use model::firmware::Baseline;
use model::supplier::{ContractFields, VendorFields};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// An item as the CMDB holds it.
#[derive(Debug, Clone)]
pub struct CurrentItem {
    pub id: i64,
    pub key: ItemKey,
    pub fields: ItemFields,
    pub source: String,
    pub contract: Option<ContractKey>,
}

#[derive(Debug, Clone)]
pub struct CurrentGroup {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub site: Option<String>,
    pub members: BTreeSet<ItemKey>,
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct CurrentRelationship {
    pub id: i64,
    pub from: ItemKey,
    pub kind: RelationKind,
    pub to: RelTarget,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CurrentSite {
    pub slug: String,
    pub name: String,
    pub kind: String,
    pub zone: String,
    pub purdue_level: Option<i64>,
    pub criticality: String,
    pub time_zone: String,
}

/// The CMDB before the import.
#[derive(Debug, Clone, Default)]
pub struct Current {
    pub sites: Vec<CurrentSite>,
    pub items: Vec<CurrentItem>,
    pub groups: Vec<CurrentGroup>,
    pub relationships: Vec<CurrentRelationship>,
    pub vendors: Vec<VendorFields>,
    pub contracts: Vec<(ContractKey, ContractFields)>,
    pub baselines: Vec<Baseline>,
    /// Custom attribute definitions that added and changed items must meet.
    pub attribute_defs: Vec<model::attributes::AttributeDef>,
}

/// How one kind of record fares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
}

impl std::ops::Add for Counts {
    type Output = Counts;
    fn add(self, o: Counts) -> Counts {
        Counts {
            added: self.added + o.added,
            changed: self.changed + o.changed,
            removed: self.removed + o.removed,
            unchanged: self.unchanged + o.unchanged,
        }
    }
}

/// What to write, in an order that satisfies references: sites, then items parents first,
/// then groups, then relationships; removals children first.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub source: String,
    pub sites_added: Vec<SiteRecord>,
    pub sites_changed: Vec<SiteRecord>,
    pub items_added: Vec<ItemRecord>,
    pub items_changed: Vec<(i64, ItemRecord)>,
    pub items_removed: Vec<(i64, ItemKey)>,
    pub groups_added: Vec<GroupRecord>,
    pub groups_changed: Vec<(i64, GroupRecord)>,
    pub groups_removed: Vec<(i64, String)>,
    pub relationships_added: Vec<RelationshipRecord>,
    pub relationships_removed: Vec<i64>,
    pub vendors_added: Vec<VendorFields>,
    pub vendors_changed: Vec<VendorFields>,
    /// With the vendor's slug.
    pub contracts_added: Vec<(String, ContractFields)>,
    pub contracts_changed: Vec<(String, ContractFields)>,
    pub baselines_added: Vec<Baseline>,
    pub baselines_changed: Vec<Baseline>,
    pub attributes_added: Vec<model::attributes::AttributeDef>,
    pub attributes_changed: Vec<model::attributes::AttributeDef>,
    /// The contract each added or changed item is to be under, where the document says.
    pub item_contracts: HashMap<ItemKey, ContractKey>,
    pub sites: Counts,
    pub items: Counts,
    pub groups: Counts,
    pub relationships: Counts,
    /// Vendors, contracts and firmware baselines together.
    pub register: Counts,
}

impl Plan {
    pub fn total(&self) -> Counts {
        self.sites + self.items + self.groups + self.relationships + self.register
    }

    pub fn is_noop(&self) -> bool {
        let t = self.total();
        t.added + t.changed + t.removed == 0
    }
}

/// Fields a partial source (NetBox) does not own: existing items keep their values.
pub const NETBOX_KEEPS: &[&str] = &[
    "criticality",
    "support_group",
    "owner",
    "sla_policy",
    "purchased_on",
    "warranty_ends_on",
    "end_of_sale_on",
    "end_of_support_on",
    "end_of_life_on",
];

/// `incoming` as it should be stored over `current`: fields in `keeps` stay as they were,
/// and custom attributes are merged (the source's keys win).
fn merged(current: &ItemFields, incoming: &ItemFields, keeps: &[&str]) -> ItemFields {
    if keeps.is_empty() {
        return incoming.clone();
    }
    let mut f = incoming.clone();
    for k in keeps {
        match *k {
            "criticality" => f.criticality.clone_from(&current.criticality),
            "support_group" => f.support_group.clone_from(&current.support_group),
            "owner" => f.owner.clone_from(&current.owner),
            "sla_policy" => f.sla_policy.clone_from(&current.sla_policy),
            "purchased_on" => f.purchased_on = current.purchased_on.clone().or(f.purchased_on.take()),
            "warranty_ends_on" => f.warranty_ends_on.clone_from(&current.warranty_ends_on),
            "end_of_sale_on" => f.end_of_sale_on.clone_from(&current.end_of_sale_on),
            "end_of_support_on" => f.end_of_support_on.clone_from(&current.end_of_support_on),
            "end_of_life_on" => f.end_of_life_on = current.end_of_life_on.clone().or(f.end_of_life_on.take()),
            _ => {}
        }
    }
    let mut attrs = current.attrs.clone();
    attrs.extend(incoming.attrs.clone());
    f.attrs = attrs;
    f
}

/// Plans `doc` (from `source`) against `current`. `keeps` lists fields the source does not
/// own ([`NETBOX_KEEPS`] for NetBox, empty for Watchkeeper's own formats).
pub fn plan(doc: &Document, current: &Current, source: &str, keeps: &[&str]) -> Result<Plan, ImportError> {
    let mut p = Plan { source: source.to_owned(), ..Plan::default() };

    // Sites.
    let current_sites: HashMap<&str, &CurrentSite> = current.sites.iter().map(|s| (s.slug.as_str(), s)).collect();
    let mut seen_sites: HashMap<&str, &Origin> = HashMap::new();
    for s in &doc.sites {
        if let Some(first) = seen_sites.insert(&s.slug, &s.origin) {
            return Err(s
                .origin
                .error(Some("slug"), format!("site `{}` is also defined at {}: {}", s.slug, first.file, first.at)));
        }
        let as_current = CurrentSite {
            slug: s.slug.clone(),
            name: s.name.clone(),
            kind: s.kind.clone(),
            zone: s.zone.clone(),
            purdue_level: s.purdue_level,
            criticality: s.criticality.clone(),
            time_zone: s.time_zone.clone(),
        };
        if !model::cmdb::CRITICALITIES.contains(&s.criticality.as_str()) {
            return Err(s
                .origin
                .error(Some("criticality"), format!("use one of {}", model::cmdb::CRITICALITIES.join(", "))));
        }
        match current_sites.get(s.slug.as_str()) {
            None => p.sites_added.push(s.clone()),
            Some(c) if **c != as_current => p.sites_changed.push(s.clone()),
            Some(_) => p.sites.unchanged += 1,
        }
    }
    let site_known = |slug: &str| seen_sites.contains_key(slug) || current_sites.contains_key(slug);

    plan_register(doc, current, &mut p)?;
    // Items are checked against the definitions as they will be after the import.
    let mut defs: Vec<model::attributes::AttributeDef> = current.attribute_defs.clone();
    for a in &doc.attribute_defs {
        a.def.validate().map_err(|e| {
            let first = e.0.into_iter().next().unwrap_or_else(|| model::FieldError::new("attribute", "invalid"));
            a.origin.error(Some(&first.field), first.message)
        })?;
        match defs.iter_mut().find(|d| d.class == a.def.class && d.name == a.def.name) {
            None => {
                p.attributes_added.push(a.def.clone());
                defs.push(a.def.clone());
            }
            Some(d) if *d != a.def => {
                p.attributes_changed.push(a.def.clone());
                *d = a.def.clone();
            }
            Some(_) => p.register.unchanged += 1,
        }
    }
    p.register.added += p.attributes_added.len();
    p.register.changed += p.attributes_changed.len();

    // Items.
    let current_items: HashMap<&ItemKey, &CurrentItem> = current.items.iter().map(|i| (&i.key, i)).collect();
    let mut incoming: HashMap<&ItemKey, &ItemRecord> = HashMap::with_capacity(doc.items.len());
    for it in &doc.items {
        if let Some(first) = incoming.insert(&it.key, it) {
            return Err(it.origin.error(
                Some("name"),
                format!(
                    "`{}` is also defined at {}: {}; names are unique among an item's siblings",
                    it.key, first.origin.file, first.origin.at
                ),
            ));
        }
        if let Some(site) = &it.key.site
            && !site_known(site)
        {
            return Err(it.origin.error(Some("site"), format!("no site `{site}` in the CMDB or this import")));
        }
    }
    let removed_items: HashSet<&ItemKey> = current
        .items
        .iter()
        .filter(|c| {
            c.source == source && doc.covers.classes.contains(&c.fields.class) && !incoming.contains_key(&c.key)
        })
        .map(|c| &c.key)
        .collect();
    let exists_after =
        |k: &ItemKey| incoming.contains_key(k) || (current_items.contains_key(k) && !removed_items.contains(k));
    for it in &doc.items {
        if let Some(parent) = it.key.parent()
            && !exists_after(&parent)
        {
            return Err(it.origin.error(Some("parent"), format!("`{parent}` is not in the CMDB or this import")));
        }
        let contract = p.item_contracts.get(&it.key);
        let check = |f: &ItemFields| {
            model::attributes::check_attributes(&defs, &f.class, &f.attrs).map_err(|e| {
                let first = e.0.into_iter().next().unwrap_or_else(|| model::FieldError::new("attrs", "invalid"));
                it.origin.error(Some(&first.field), first.message)
            })
        };
        match current_items.get(&it.key) {
            None => {
                check(&it.fields)?;
                p.items_added.push(it.clone());
            }
            Some(c) => {
                let fields = merged(&c.fields, &it.fields, keeps);
                if fields != c.fields {
                    check(&fields)?;
                }
                // Equal fields are left alone, whoever owns them; a change takes ownership.
                // An item the document names no contract for keeps its own.
                if fields != c.fields || contract.is_some_and(|k| c.contract.as_ref() != Some(k)) {
                    p.items_changed.push((c.id, ItemRecord { fields, ..it.clone() }));
                } else {
                    p.items.unchanged += 1;
                }
            }
        }
    }
    p.items_added.sort_by_key(|i| i.key.path.len());
    let mut removed: Vec<&CurrentItem> = current.items.iter().filter(|c| removed_items.contains(&c.key)).collect();
    removed.sort_by_key(|c| std::cmp::Reverse(c.key.path.len()));
    p.items_removed = removed.into_iter().map(|c| (c.id, c.key.clone())).collect();

    // Groups.
    let current_groups: HashMap<&str, &CurrentGroup> = current.groups.iter().map(|g| (g.name.as_str(), g)).collect();
    let mut seen_groups: HashMap<&str, &Origin> = HashMap::new();
    for g in &doc.groups {
        if let Some(first) = seen_groups.insert(&g.name, &g.origin) {
            return Err(g
                .origin
                .error(Some("name"), format!("group `{}` is also defined at {}: {}", g.name, first.file, first.at)));
        }
        if !model::cmdb::GROUP_KINDS.contains(&g.kind.as_str()) {
            return Err(g.origin.error(Some("kind"), format!("use one of {}", model::cmdb::GROUP_KINDS.join(", "))));
        }
        if let Some(site) = &g.site
            && !site_known(site)
        {
            return Err(g.origin.error(Some("site"), format!("no site `{site}` in the CMDB or this import")));
        }
        for m in &g.members {
            if !exists_after(m) {
                return Err(g.origin.error(Some("members"), format!("`{m}` is not in the CMDB or this import")));
            }
        }
        let members: BTreeSet<ItemKey> = g.members.iter().cloned().collect();
        match current_groups.get(g.name.as_str()) {
            None => p.groups_added.push(g.clone()),
            Some(c) if c.kind != g.kind || c.site != g.site || c.members != members => {
                p.groups_changed.push((c.id, g.clone()));
            }
            Some(_) => p.groups.unchanged += 1,
        }
    }
    p.groups_removed = current
        .groups
        .iter()
        .filter(|c| {
            c.source == source && doc.covers.group_kinds.contains(&c.kind) && !seen_groups.contains_key(c.name.as_str())
        })
        .map(|c| (c.id, c.name.clone()))
        .collect();
    let group_known = |name: &str| {
        seen_groups.contains_key(name)
            || (current_groups.contains_key(name) && !p.groups_removed.iter().any(|(_, n)| n == name))
    };

    // Relationships.
    type RelKey<'a> = (&'a ItemKey, RelationKind, &'a RelTarget);
    let current_rels: HashMap<RelKey, &CurrentRelationship> =
        current.relationships.iter().map(|r| ((&r.from, r.kind, &r.to), r)).collect();
    let mut seen_rels: HashSet<RelKey> = HashSet::new();
    for r in &doc.relationships {
        if !seen_rels.insert((&r.from, r.kind, &r.to)) {
            continue;
        }
        if !exists_after(&r.from) {
            return Err(r.origin.error(Some("from"), format!("`{}` is not in the CMDB or this import", r.from)));
        }
        match &r.to {
            RelTarget::Item(k) if k == &r.from => {
                return Err(r.origin.error(Some("to"), "an item cannot relate to itself"));
            }
            RelTarget::Item(k) if !exists_after(k) => {
                return Err(r.origin.error(Some("to"), format!("`{k}` is not in the CMDB or this import")));
            }
            RelTarget::Group(g) if !group_known(g) => {
                return Err(r
                    .origin
                    .error(Some("to_group"), format!("no redundancy group `{g}` in the CMDB or this import")));
            }
            _ => {}
        }
        match current_rels.get(&(&r.from, r.kind, &r.to)) {
            None => p.relationships_added.push(r.clone()),
            Some(_) => p.relationships.unchanged += 1,
        }
    }
    p.relationships_removed = current
        .relationships
        .iter()
        .filter(|c| {
            c.source == source
                && doc.covers.relationship_kinds.contains(&c.kind)
                && !seen_rels.contains(&(&c.from, c.kind, &c.to))
                && !removed_items.contains(&c.from)
        })
        .map(|c| c.id)
        .collect();

    check_runs_on_acyclic(doc, current, &removed_items)?;

    p.sites.added = p.sites_added.len();
    p.sites.changed = p.sites_changed.len();
    p.items.added = p.items_added.len();
    p.items.changed = p.items_changed.len();
    p.items.removed = p.items_removed.len();
    p.groups.added = p.groups_added.len();
    p.groups.changed = p.groups_changed.len();
    p.groups.removed = p.groups_removed.len();
    p.relationships.added = p.relationships_added.len();
    p.relationships.removed = p.relationships_removed.len();
    Ok(p)
}

/// Plans the vendor register (added and changed; never removed) and checks that every
/// contract an item is put under exists in the CMDB or the document.
fn plan_register(doc: &Document, current: &Current, p: &mut Plan) -> Result<(), ImportError> {
    let first_error = |origin: &Origin, prefix: &str, e: model::Invalid| {
        let first = e.0.into_iter().next().unwrap_or_else(|| model::FieldError::new("record", "invalid"));
        origin.error(Some(&format!("{prefix}{}", first.field)), first.message)
    };
    let current_vendors: HashMap<&str, &VendorFields> = current.vendors.iter().map(|v| (v.slug.as_str(), v)).collect();
    let current_contracts: HashMap<&ContractKey, &ContractFields> =
        current.contracts.iter().map(|(k, c)| (k, c)).collect();
    let mut known: HashSet<ContractKey> = current.contracts.iter().map(|(k, _)| k.clone()).collect();
    let mut seen: HashMap<&str, &Origin> = HashMap::new();
    for v in &doc.vendors {
        v.fields.validate().map_err(|e| first_error(&v.origin, "", e))?;
        if let Some(first) = seen.insert(&v.fields.slug, &v.origin) {
            return Err(v.origin.error(
                Some("slug"),
                format!("vendor `{}` is also defined at {}: {}", v.fields.slug, first.file, first.at),
            ));
        }
        match current_vendors.get(v.fields.slug.as_str()) {
            None => p.vendors_added.push(v.fields.clone()),
            Some(c) if **c != v.fields => p.vendors_changed.push(v.fields.clone()),
            Some(_) => p.register.unchanged += 1,
        }
        let mut references = HashSet::new();
        for (n, c) in v.contracts.iter().enumerate() {
            c.validate().map_err(|e| first_error(&v.origin, &format!("contracts[{n}]."), e))?;
            if !references.insert(&c.reference) {
                return Err(v.origin.error(
                    Some(&format!("contracts[{n}].reference")),
                    format!("contract `{}` is listed twice", c.reference),
                ));
            }
            let key = ContractKey { vendor: v.fields.slug.clone(), reference: c.reference.clone() };
            match current_contracts.get(&key) {
                None => p.contracts_added.push((key.vendor.clone(), c.clone())),
                Some(cur) if *cur != c => p.contracts_changed.push((key.vendor.clone(), c.clone())),
                Some(_) => p.register.unchanged += 1,
            }
            known.insert(key);
        }
    }
    let baseline_key = |b: &Baseline| (b.vendor.to_lowercase(), b.model.to_lowercase());
    let current_baselines: HashMap<(String, String), &Baseline> =
        current.baselines.iter().map(|b| (baseline_key(b), b)).collect();
    let mut seen_baselines = HashSet::new();
    for b in &doc.baselines {
        b.baseline.validate().map_err(|e| first_error(&b.origin, "", e))?;
        let key = baseline_key(&b.baseline);
        if !seen_baselines.insert(key.clone()) {
            return Err(b.origin.error(Some("model"), "another baseline covers the same vendor and model"));
        }
        match current_baselines.get(&key) {
            None => p.baselines_added.push(b.baseline.clone()),
            Some(cur) if **cur != b.baseline => p.baselines_changed.push(b.baseline.clone()),
            Some(_) => p.register.unchanged += 1,
        }
    }
    for ic in &doc.item_contracts {
        if !known.contains(&ic.contract) {
            return Err(ic.origin.error(
                Some("contract"),
                format!("no contract `{}` in the CMDB or this import; list it under its vendor", ic.contract),
            ));
        }
        p.item_contracts.insert(ic.item.clone(), ic.contract.clone());
    }
    p.register.added = p.vendors_added.len() + p.contracts_added.len() + p.baselines_added.len();
    p.register.changed = p.vendors_changed.len() + p.contracts_changed.len() + p.baselines_changed.len();
    Ok(())
}

/// Software runs on hardware that runs on nothing it hosts: a `runs-on` cycle is a data
/// error (`depends-on` cycles are real and allowed).
fn check_runs_on_acyclic(doc: &Document, current: &Current, removed: &HashSet<&ItemKey>) -> Result<(), ImportError> {
    let mut edges: BTreeMap<&ItemKey, Vec<(&ItemKey, Option<&Origin>)>> = BTreeMap::new();
    for r in &current.relationships {
        if let (RelationKind::RunsOn, RelTarget::Item(to)) = (r.kind, &r.to)
            && !removed.contains(&r.from)
            && !removed.contains(to)
        {
            edges.entry(&r.from).or_default().push((to, None));
        }
    }
    for r in &doc.relationships {
        if let (RelationKind::RunsOn, RelTarget::Item(to)) = (r.kind, &r.to) {
            edges.entry(&r.from).or_default().push((to, Some(&r.origin)));
        }
    }
    // Iterative three-colour depth-first search.
    let mut colour: HashMap<&ItemKey, u8> = HashMap::new();
    for &start in edges.keys() {
        if colour.contains_key(start) {
            continue;
        }
        let mut stack: Vec<(&ItemKey, usize)> = vec![(start, 0)];
        colour.insert(start, 1);
        while let Some((node, next)) = stack.pop() {
            let outs = edges.get(node).map_or(&[][..], Vec::as_slice);
            if let Some(&(to, origin)) = outs.get(next) {
                stack.push((node, next + 1));
                match colour.get(to) {
                    Some(1) => {
                        let mut cycle: Vec<String> = stack.iter().map(|(k, _)| k.to_string()).collect();
                        let from = cycle.iter().position(|k| *k == to.to_string()).unwrap_or(0);
                        cycle.drain(..from);
                        cycle.push(to.to_string());
                        let origin = origin.cloned().unwrap_or_default();
                        return Err(origin
                            .error(Some("to"), format!("runs-on would form a cycle: {}", cycle.join(" runs-on "))));
                    }
                    Some(_) => {}
                    None => {
                        colour.insert(to, 1);
                        stack.push((to, 0));
                    }
                }
            } else {
                colour.insert(node, 2);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Coverage;

    fn item(site: &str, path: &[&str], class: &str) -> ItemRecord {
        let key = ItemKey { site: Some(site.into()), path: path.iter().map(|p| (*p).to_owned()).collect() };
        ItemRecord {
            origin: Origin::new("f.yaml", format!("item {}", path.join(">"))),
            fields: ItemFields {
                name: key.name().to_owned(),
                class: class.into(),
                status: "operational".into(),
                criticality: "medium".into(),
                ..ItemFields::default()
            },
            key,
        }
    }

    fn current_of(doc: &Document, source: &str) -> Current {
        Current {
            sites: vec![CurrentSite {
                slug: "s".into(),
                name: "S".into(),
                kind: "plant".into(),
                zone: String::new(),
                purdue_level: None,
                criticality: "medium".into(),
                time_zone: "UTC".into(),
            }],
            items: doc
                .items
                .iter()
                .enumerate()
                .map(|(i, r)| CurrentItem {
                    id: i as i64 + 1,
                    key: r.key.clone(),
                    fields: r.fields.clone(),
                    source: source.into(),
                    contract: None,
                })
                .collect(),
            groups: Vec::new(),
            relationships: doc
                .relationships
                .iter()
                .enumerate()
                .map(|(i, r)| CurrentRelationship {
                    id: i as i64 + 1,
                    from: r.from.clone(),
                    kind: r.kind,
                    to: r.to.clone(),
                    source: source.into(),
                })
                .collect(),
            ..Current::default()
        }
    }

    fn doc(items: Vec<ItemRecord>) -> Document {
        let classes = items.iter().map(|i| i.fields.class.clone()).collect();
        Document { items, covers: Coverage { classes, ..Coverage::default() }, ..Document::default() }
    }

    #[test]
    fn reimport_is_a_no_op_and_changes_are_counted() {
        let d = doc(vec![item("s", &["sw1"], "switch"), item("s", &["sw1", "Gi1"], "interface")]);
        let first = plan(&d, &current_of(&Document::default(), "yaml"), "yaml", &[]).unwrap();
        assert_eq!(first.items.added, 2);
        assert_eq!(first.items_added[0].key.path.len(), 1, "parents first");
        let cur = current_of(&d, "yaml");
        let again = plan(&d, &cur, "yaml", &[]).unwrap();
        assert!(again.is_noop());
        assert_eq!(again.items.unchanged, 2);

        let mut changed = d.clone();
        changed.items[0].fields.vendor = "Cisco".into();
        changed.items.pop();
        let p = plan(&changed, &cur, "yaml", &[]).unwrap();
        assert_eq!((p.items.changed, p.items.removed, p.items.unchanged), (1, 1, 0));
        // Another source never removes this one's items.
        let other = plan(&doc(vec![item("s", &["sw2"], "switch")]), &cur, "netbox", &[]).unwrap();
        assert_eq!(other.items.removed, 0);
    }

    #[test]
    fn partial_sources_keep_what_they_do_not_own() {
        let d = doc(vec![item("s", &["sw1"], "switch")]);
        let mut cur = current_of(&d, "netbox");
        cur.items[0].fields.end_of_support_on = Some("2027-01-31".into());
        cur.items[0].fields.criticality = "critical".into();
        cur.items[0].fields.attrs.insert("note".into(), "kept".into());
        let p = plan(&d, &cur, "netbox", NETBOX_KEEPS).unwrap();
        assert!(p.is_noop(), "{p:?}");
    }

    #[test]
    fn dangling_references_duplicates_and_cycles_are_refused() {
        let orphan = doc(vec![item("s", &["sw9", "Gi1"], "interface")]);
        let e = plan(&orphan, &current_of(&Document::default(), "yaml"), "yaml", &[]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("parent"));
        let dup = doc(vec![item("s", &["sw1"], "switch"), item("s", &["sw1"], "router")]);
        assert!(
            plan(&dup, &current_of(&Document::default(), "y"), "y", &[]).unwrap_err().message.contains("also defined")
        );
        let nosite = doc(vec![item("nowhere", &["sw1"], "switch")]);
        assert_eq!(plan(&nosite, &Current::default(), "y", &[]).unwrap_err().field.as_deref(), Some("site"));

        let mut cyc = doc(vec![item("s", &["vm1"], "virtual-machine"), item("s", &["vm2"], "virtual-machine")]);
        let k = |n: &str| ItemKey::top(Some("s"), n);
        for (a, b) in [("vm1", "vm2"), ("vm2", "vm1")] {
            cyc.relationships.push(RelationshipRecord {
                origin: Origin::new("f", a),
                from: k(a),
                kind: RelationKind::RunsOn,
                to: RelTarget::Item(k(b)),
            });
        }
        let e = plan(&cyc, &current_of(&Document::default(), "y"), "y", &[]).unwrap_err();
        assert!(e.message.contains("cycle"), "{e}");
        // The same loop as depends-on is allowed.
        for r in &mut cyc.relationships {
            r.kind = RelationKind::DependsOn;
        }
        assert!(plan(&cyc, &current_of(&Document::default(), "y"), "y", &[]).is_ok());
    }
}
