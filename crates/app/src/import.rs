//! CMDB import and export. Files are read by the `exchange` crate; the plan is made against
//! the CMDB as it is once the write lock is held, and applied in the same transaction with a
//! version per item and one audit record, so an import is all or nothing.

use crate::audit::event;
use crate::cmdb::item_document;
use crate::{Actor, App, AppError, Result};
use exchange::plan::{Counts, Current, CurrentGroup, CurrentItem, CurrentRelationship, CurrentSite, Plan};
use exchange::{ContractKey, Document, Format, ItemKey, ItemRecord, RelTarget};
use model::Perm;
use model::cmdb::{ItemFields, RelationKind};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use store::{ItemRow, ItemVersion, ItemWrite, NewSite, Target};

/// A file to import, by name (for messages) and content.
#[derive(Debug, Clone)]
pub struct ImportFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct CountsReport {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
}

impl From<Counts> for CountsReport {
    fn from(c: Counts) -> Self {
        CountsReport { added: c.added, changed: c.changed, removed: c.removed, unchanged: c.unchanged }
    }
}

/// What an import did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    pub source: String,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
    pub sites: CountsReport,
    pub items: CountsReport,
    pub groups: CountsReport,
    pub relationships: CountsReport,
    /// Vendors, contracts and firmware baselines (added or changed, never removed).
    pub register: CountsReport,
    /// `+ item plant-north: pn-sw1`, `~ …`, `- …`: the first [`CHANGE_LINES`] changes.
    pub changes: Vec<String>,
}

pub const CHANGE_LINES: usize = 200;

/// How the database identifies an item: site, parent and name.
type NaturalKey<'a> = (Option<i64>, Option<i64>, &'a str);

fn report(plan: &Plan, dry_run: bool) -> ImportReport {
    let total = plan.total();
    let mut changes = Vec::new();
    changes.extend(plan.sites_added.iter().map(|s| format!("+ site {}", s.slug)));
    changes.extend(plan.sites_changed.iter().map(|s| format!("~ site {}", s.slug)));
    changes.extend(plan.items_added.iter().map(|i| format!("+ item {}", i.key)));
    changes.extend(plan.items_changed.iter().map(|(_, i)| format!("~ item {}", i.key)));
    changes.extend(plan.items_removed.iter().map(|(_, k)| format!("- item {k}")));
    changes.extend(plan.groups_added.iter().map(|g| format!("+ group {}", g.name)));
    changes.extend(plan.groups_changed.iter().map(|(_, g)| format!("~ group {}", g.name)));
    changes.extend(plan.groups_removed.iter().map(|(_, g)| format!("- group {g}")));
    changes.extend(plan.relationships_added.iter().map(|r| format!("+ relationship {} {} {}", r.from, r.kind, r.to)));
    if !plan.relationships_removed.is_empty() {
        changes.push(format!("- {} relationships", plan.relationships_removed.len()));
    }
    changes.extend(plan.vendors_added.iter().map(|v| format!("+ vendor {}", v.slug)));
    changes.extend(plan.vendors_changed.iter().map(|v| format!("~ vendor {}", v.slug)));
    changes.extend(plan.contracts_added.iter().map(|(v, c)| format!("+ contract {v}/{}", c.reference)));
    changes.extend(plan.contracts_changed.iter().map(|(v, c)| format!("~ contract {v}/{}", c.reference)));
    changes.extend(plan.baselines_added.iter().map(|b| format!("+ firmware baseline {} {}", b.vendor, b.model)));
    changes.extend(plan.baselines_changed.iter().map(|b| format!("~ firmware baseline {} {}", b.vendor, b.model)));
    changes.extend(plan.attributes_added.iter().map(|a| format!("+ attribute {}.{}", a.class, a.name)));
    changes.extend(plan.attributes_changed.iter().map(|a| format!("~ attribute {}.{}", a.class, a.name)));
    changes.truncate(CHANGE_LINES);
    ImportReport {
        dry_run,
        source: plan.source.clone(),
        added: total.added,
        changed: total.changed,
        removed: total.removed,
        unchanged: total.unchanged,
        sites: plan.sites.into(),
        items: plan.items.into(),
        groups: plan.groups.into(),
        relationships: plan.relationships.into(),
        register: plan.register.into(),
        changes,
    }
}

fn fields_of(r: &ItemRow) -> ItemFields {
    ItemFields {
        name: r.name.clone(),
        class: r.class.clone(),
        vendor: r.vendor.clone(),
        model: r.model.clone(),
        os_version: r.os_version.clone(),
        serial: r.serial.clone(),
        asset_tag: r.asset_tag.clone(),
        mgmt_address: r.mgmt_address.clone(),
        status: r.status.clone(),
        criticality: r.criticality.clone(),
        support_group: r.support_group.clone(),
        owner: r.owner.clone(),
        description: r.description.clone(),
        sla_policy: r.sla_policy.clone(),
        purchased_on: r.purchased_on.clone(),
        warranty_ends_on: r.warranty_ends_on.clone(),
        end_of_sale_on: r.end_of_sale_on.clone(),
        end_of_support_on: r.end_of_support_on.clone(),
        end_of_life_on: r.end_of_life_on.clone(),
        attrs: serde_json::from_str(&r.attrs).unwrap_or_default(),
    }
}

/// The CMDB in the shape the planner and the exporter use, with the rows behind it.
struct Snapshot {
    current: Current,
    rows: HashMap<i64, ItemRow>,
    ids: HashMap<ItemKey, i64>,
    group_ids: HashMap<String, i64>,
    contract_ids: HashMap<ContractKey, i64>,
}

impl App {
    async fn snapshot(&self) -> Result<Snapshot> {
        let rows = self.store.all_items().await?;
        let by_id: HashMap<i64, &ItemRow> = rows.iter().map(|r| (r.id, r)).collect();
        let mut keys: HashMap<i64, ItemKey> = HashMap::with_capacity(rows.len());
        for r in &rows {
            // Walk up to the top-level ancestor; the parent chain is a tree (checked on write).
            let mut path = vec![r.name.clone()];
            let mut at = r.parent_id;
            while let Some(p) = at {
                let Some(parent) = by_id.get(&p) else { break };
                path.push(parent.name.clone());
                at = parent.parent_id;
                if path.len() > 64 {
                    break;
                }
            }
            path.reverse();
            keys.insert(r.id, ItemKey { site: r.site.clone(), path });
        }
        let (groups, members) = self.store.all_groups().await?;
        let group_names: HashMap<i64, String> = groups.iter().map(|g| (g.0, g.1.clone())).collect();
        let mut member_keys: HashMap<i64, BTreeSet<ItemKey>> = HashMap::new();
        for (g, i) in members {
            if let Some(k) = keys.get(&i) {
                member_keys.entry(g).or_default().insert(k.clone());
            }
        }
        let contract_rows = self.store.contracts(None).await?;
        let contract_keys: HashMap<i64, ContractKey> = contract_rows
            .iter()
            .map(|c| (c.id, ContractKey { vendor: c.vendor.clone(), reference: c.reference.clone() }))
            .collect();
        let relationships = self
            .store
            .all_relationships()
            .await?
            .into_iter()
            .filter_map(|(id, from, kind, to, to_group, source)| {
                let kind = kind.parse::<RelationKind>().ok()?;
                let to = match (to, to_group) {
                    (Some(t), _) => RelTarget::Item(keys.get(&t)?.clone()),
                    (None, Some(g)) => RelTarget::Group(group_names.get(&g)?.clone()),
                    (None, None) => return None,
                };
                Some(CurrentRelationship { id, from: keys.get(&from)?.clone(), kind, to, source })
            })
            .collect();
        let current = Current {
            sites: self
                .store
                .all_sites()
                .await?
                .into_iter()
                .map(|s| CurrentSite {
                    slug: s.slug,
                    name: s.name,
                    kind: s.kind,
                    zone: s.zone,
                    purdue_level: s.purdue_level,
                    criticality: s.criticality,
                    time_zone: s.time_zone,
                })
                .collect(),
            items: rows
                .iter()
                .map(|r| CurrentItem {
                    id: r.id,
                    key: keys[&r.id].clone(),
                    fields: fields_of(r),
                    source: r.source.clone(),
                    contract: r.contract_id.and_then(|c| contract_keys.get(&c).cloned()),
                })
                .collect(),
            groups: groups
                .into_iter()
                .map(|(id, name, kind, site, source)| CurrentGroup {
                    members: member_keys.remove(&id).unwrap_or_default(),
                    id,
                    name,
                    kind,
                    site,
                    source,
                })
                .collect(),
            relationships,
            vendors: self.store.vendors().await?.iter().map(crate::suppliers::vendor_fields).collect(),
            contracts: contract_rows
                .iter()
                .map(|c| (ContractKey { vendor: c.vendor.clone(), reference: c.reference.clone() }, c.fields()))
                .collect(),
            baselines: self.store.baselines().await?.iter().map(store::BaselineRow::baseline).collect(),
            attribute_defs: self.store.attribute_defs().await?.iter().map(store::AttributeRow::def).collect(),
        };
        let ids = keys.into_iter().map(|(id, k)| (k, id)).collect();
        let group_ids = current.groups.iter().map(|g| (g.name.clone(), g.id)).collect();
        let contract_ids = contract_keys.into_iter().map(|(id, k)| (k, id)).collect();
        Ok(Snapshot { current, rows: rows.into_iter().map(|r| (r.id, r)).collect(), ids, group_ids, contract_ids })
    }

    /// Reads `files` and imports them as one all-or-nothing change; with `dry_run`, only says
    /// what would change. `progress(done, total)` is called as records are written.
    pub async fn import_cmdb(
        &self,
        actor: &Actor,
        files: &[ImportFile],
        format: Option<Format>,
        source: Option<&str>,
        dry_run: bool,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<ImportReport> {
        actor.require(Perm::CmdbWrite)?;
        if !actor.sites.is_empty() {
            return Err(AppError::Forbidden(Perm::SystemAdmin));
        }
        if files.is_empty() {
            return Err(model::Invalid::one("files", "name at least one file to import").into());
        }
        let format_of = |f: &ImportFile| format.unwrap_or_else(|| Format::guess(&f.name));
        let formats: BTreeSet<&str> = files
            .iter()
            .map(|f| match format_of(f) {
                Format::NetBox => "netbox",
                Format::Yaml => "yaml",
                Format::Csv => "csv",
            })
            .collect();
        let source = match (source, formats.len()) {
            (Some(s), _) => s.to_owned(),
            (None, 1) => formats.iter().next().map(|s| (*s).to_owned()).unwrap_or_default(),
            (None, _) => {
                return Err(model::Invalid::one(
                    "format",
                    "these files are in different formats; import them separately, or name one --source for all",
                )
                .into());
            }
        };
        let mut doc = Document::default();
        let netbox: Vec<(&str, &[u8])> = files
            .iter()
            .filter(|f| format_of(f) == Format::NetBox)
            .map(|f| (f.name.as_str(), f.bytes.as_slice()))
            .collect();
        for f in files.iter().filter(|f| format_of(f) != Format::NetBox) {
            doc.merge(exchange::read(format_of(f), &f.name, &f.bytes)?);
        }
        if !netbox.is_empty() {
            for (name, bytes) in &netbox {
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    return Err(exchange::Origin::new(name, "")
                        .error(None, "the file is empty; export the data again")
                        .into());
                }
            }
            doc.merge(exchange::netbox::read_all(&netbox)?);
        }
        let keeps: &[&str] = if formats.contains("netbox") { exchange::plan::NETBOX_KEEPS } else { &[] };

        if dry_run {
            let snap = self.snapshot().await?;
            let plan = exchange::plan::plan(&doc, &snap.current, &source, keeps)?;
            return Ok(report(&plan, true));
        }
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        // Planned with the write lock held (SQLite), so nothing changes between plan and apply.
        let snap = self.snapshot().await?;
        let plan = exchange::plan::plan(&doc, &snap.current, &source, keeps)?;
        let total = plan.total();
        let steps = total.added + total.changed + total.removed;
        let mut done = 0usize;
        let mut tick = |n: usize| {
            done += n;
            if done.is_multiple_of(500) || done == steps {
                progress(done, steps);
            }
        };

        for id in &plan.relationships_removed {
            tx.record_relationships_removed(store::Removing::One(*id), &actor.name, now).await?;
            tx.delete_relationship(*id).await?;
            tick(1);
        }
        for (id, _) in &plan.groups_removed {
            tx.record_relationships_removed(store::Removing::ToGroup(*id), &actor.name, now).await?;
            tx.delete_group(*id).await?;
            tick(1);
        }
        for (id, _) in &plan.items_removed {
            // A parent removed first took its children with it (ON DELETE CASCADE).
            if let Some(row) = snap.rows.get(id) {
                tx.record_relationships_removed(store::Removing::OfItem(*id), &actor.name, now).await?;
                let _ = tx.delete_item(*id).await;
                tx.record_item_version(&ItemVersion {
                    item_id: *id,
                    version: row.version + 1,
                    at_ms: now,
                    actor: actor.name.clone(),
                    change: "delete".into(),
                    snapshot: item_document(row).to_string(),
                })
                .await?;
            }
            tick(1);
        }

        let mut site_ids: HashMap<String, i64> =
            self.store.all_sites().await?.into_iter().map(|s| (s.slug, s.id)).collect();
        for s in &plan.sites_added {
            site_ids.insert(s.slug.clone(), tx.insert_site(&new_site(s), now).await?);
            tick(1);
        }
        for s in &plan.sites_changed {
            tx.update_site(&new_site(s)).await?;
            tick(1);
        }

        let contract_ids = self.apply_register(&mut tx, &plan, snap.contract_ids, now).await?;
        tick(plan.register.added + plan.register.changed);
        let contract_of = |key: &ItemKey| -> Result<Option<i64>> {
            match plan.item_contracts.get(key) {
                None => Ok(None),
                Some(c) => contract_ids
                    .get(c)
                    .copied()
                    .map(Some)
                    .ok_or_else(|| AppError::Internal(format!("contract {c} vanished during the import"))),
            }
        };

        let mut ids = snap.ids;
        let site_id = |r: &ItemRecord, site_ids: &HashMap<String, i64>| -> Result<Option<i64>> {
            match &r.key.site {
                None => Ok(None),
                Some(s) => site_ids
                    .get(s)
                    .copied()
                    .map(Some)
                    .ok_or_else(|| AppError::Internal(format!("site {s} vanished during the import"))),
            }
        };
        // Added items go in depth by depth (parents before children), many rows a statement.
        let mut versions: Vec<ItemVersion> = Vec::with_capacity(plan.items_added.len() + plan.items_changed.len());
        let mut depth = 1;
        let mut start = 0;
        while start < plan.items_added.len() {
            let end = start + plan.items_added[start..].iter().take_while(|r| r.key.path.len() == depth).count();
            let batch = &plan.items_added[start..end];
            let mut writes = Vec::with_capacity(batch.len());
            let mut by_natural_key: HashMap<NaturalKey, (&ItemRecord, Option<i64>, Option<i64>)> = HashMap::new();
            for r in batch {
                let parent_id = match r.key.parent() {
                    Some(p) => Some(*ids.get(&p).ok_or_else(|| AppError::Internal(format!("parent {p} missing")))?),
                    None => None,
                };
                let site = site_id(r, &site_ids)?;
                let contract = contract_of(&r.key)?;
                writes.push(ItemWrite {
                    fields: &r.fields,
                    site_id: site,
                    parent_id,
                    contract_id: contract,
                    source: &source,
                });
                by_natural_key.insert((site, parent_id, r.fields.name.as_str()), (r, parent_id, contract));
            }
            for inserted in tx.insert_items(&writes, now).await? {
                let Some(&(r, parent_id, contract)) =
                    by_natural_key.get(&(inserted.site_id, inserted.parent_id, inserted.name.as_str()))
                else {
                    return Err(AppError::Internal(format!("inserted item {} not in the plan", inserted.name)));
                };
                ids.insert(r.key.clone(), inserted.id);
                versions.push(version_of(
                    &stored_row(inserted.id, r, parent_id, contract, &source, 1, now, now),
                    actor,
                    "create",
                    now,
                ));
            }
            tick(batch.len());
            start = end;
            depth += 1;
        }
        for (id, r) in &plan.items_changed {
            let Some(before) = snap.rows.get(id) else { continue };
            let parent_id = match r.key.parent() {
                Some(p) => ids.get(&p).copied(),
                None => None,
            };
            let contract = contract_of(&r.key)?.or(before.contract_id);
            let write = ItemWrite {
                fields: &r.fields,
                site_id: site_id(r, &site_ids)?,
                parent_id,
                contract_id: contract,
                source: &source,
            };
            let version = tx.update_item(*id, before.version, write, now).await?;
            let row = stored_row(*id, r, parent_id, contract, &source, version, before.created_at_ms, now);
            versions.push(version_of(&row, actor, "update", now));
            tick(1);
        }
        tx.insert_item_versions(&versions).await?;

        let mut group_ids = snap.group_ids;
        let member_ids = |g: &exchange::GroupRecord, ids: &HashMap<ItemKey, i64>| -> Vec<i64> {
            let mut m: Vec<i64> = g.members.iter().filter_map(|k| ids.get(k).copied()).collect();
            m.sort_unstable();
            m.dedup();
            m
        };
        for g in &plan.groups_added {
            let site = g.site.as_ref().and_then(|s| site_ids.get(s).copied());
            let id = tx.insert_group(&g.name, &g.kind, site, &source, now).await?;
            for m in member_ids(g, &ids) {
                tx.add_group_member(id, m).await?;
            }
            group_ids.insert(g.name.clone(), id);
            tick(1);
        }
        for (id, g) in &plan.groups_changed {
            let site = g.site.as_ref().and_then(|s| site_ids.get(s).copied());
            tx.replace_group(*id, &g.kind, site, &source, &member_ids(g, &ids), now).await?;
            tick(1);
        }
        let mut relationships = Vec::with_capacity(plan.relationships_added.len());
        for r in &plan.relationships_added {
            let from = *ids.get(&r.from).ok_or_else(|| AppError::Internal(format!("{} missing", r.from)))?;
            let to = match &r.to {
                RelTarget::Item(k) => {
                    Target::Item(*ids.get(k).ok_or_else(|| AppError::Internal(format!("{k} missing")))?)
                }
                RelTarget::Group(g) => {
                    Target::Group(*group_ids.get(g).ok_or_else(|| AppError::Internal(format!("group {g} missing")))?)
                }
            };
            relationships.push((from, r.kind.as_str(), to));
        }
        tx.insert_relationships(&relationships, &source, now).await?;
        if !relationships.is_empty() {
            tx.record_relationships_added_at(now, &actor.name).await?;
        }
        tick(relationships.len());

        let rep = report(&plan, false);
        if !plan.is_noop() {
            tx.bump_cmdb_generation().await?;
        }
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        let after = json!({
            "source": source, "files": names, "added": rep.added, "changed": rep.changed, "removed": rep.removed,
            "unchanged": rep.unchanged, "items": rep.items, "relationships": rep.relationships, "groups": rep.groups,
            "register": rep.register,
        });
        tx.append_audit(event(actor, now, "cmdb.import", "cmdb", &source, None, Some(after.to_string()))).await?;
        tx.commit().await?;
        Ok(rep)
    }

    /// Writes the plan's vendors, contracts and baselines; returns every contract's id by key.
    async fn apply_register(
        &self,
        tx: &mut store::Tx,
        plan: &Plan,
        mut contract_ids: HashMap<ContractKey, i64>,
        now: i64,
    ) -> Result<HashMap<ContractKey, i64>> {
        let mut vendor_ids: HashMap<String, i64> =
            self.store.vendors().await?.into_iter().map(|v| (v.slug, v.id)).collect();
        for v in &plan.vendors_added {
            vendor_ids.insert(v.slug.clone(), tx.insert_vendor(v, now).await?);
        }
        for v in &plan.vendors_changed {
            tx.update_vendor(&v.slug, v, now).await?;
        }
        for (vendor, c) in &plan.contracts_added {
            let vendor_id =
                *vendor_ids.get(vendor).ok_or_else(|| AppError::Internal(format!("vendor {vendor} missing")))?;
            let id = tx.insert_contract(vendor_id, c, now).await?;
            contract_ids.insert(ContractKey { vendor: vendor.clone(), reference: c.reference.clone() }, id);
        }
        for (vendor, c) in &plan.contracts_changed {
            let key = ContractKey { vendor: vendor.clone(), reference: c.reference.clone() };
            let id = *contract_ids.get(&key).ok_or_else(|| AppError::Internal(format!("contract {key} missing")))?;
            tx.update_contract(id, c, now).await?;
        }
        let baseline_ids: HashMap<(String, String), i64> = self
            .store
            .baselines()
            .await?
            .into_iter()
            .map(|b| ((b.vendor.to_lowercase(), b.model.to_lowercase()), b.id))
            .collect();
        for b in &plan.baselines_added {
            tx.insert_baseline(b, now).await?;
        }
        let attribute_ids: HashMap<(String, String), i64> =
            self.store.attribute_defs().await?.into_iter().map(|a| ((a.class, a.name), a.id)).collect();
        for a in &plan.attributes_added {
            tx.insert_attribute_def(a, now).await?;
        }
        for a in &plan.attributes_changed {
            let key = (a.class.clone(), a.name.clone());
            let id =
                *attribute_ids.get(&key).ok_or_else(|| AppError::Internal(format!("attribute {key:?} missing")))?;
            tx.update_attribute_def(id, a, now).await?;
        }
        for b in &plan.baselines_changed {
            let key = (b.vendor.to_lowercase(), b.model.to_lowercase());
            let id = *baseline_ids.get(&key).ok_or_else(|| AppError::Internal(format!("baseline {key:?} missing")))?;
            tx.update_baseline(id, b, now).await?;
        }
        Ok(contract_ids)
    }

    /// The whole CMDB as Watchkeeper YAML, which `import` reads back unchanged.
    pub async fn export_cmdb(&self, actor: &Actor) -> Result<String> {
        actor.require(Perm::CmdbRead)?;
        if !actor.sites.is_empty() {
            return Err(AppError::Forbidden(Perm::SystemAdmin));
        }
        let snap = self.snapshot().await?;
        let mut doc = Document::default();
        let origin = exchange::Origin::default();
        doc.sites = snap
            .current
            .sites
            .into_iter()
            .map(|s| exchange::SiteRecord {
                origin: origin.clone(),
                slug: s.slug,
                name: s.name,
                kind: s.kind,
                zone: s.zone,
                purdue_level: s.purdue_level,
                criticality: s.criticality,
                time_zone: s.time_zone,
            })
            .collect();
        let mut items = snap.current.items;
        items.sort_by(|a, b| (a.key.path.len(), &a.key).cmp(&(b.key.path.len(), &b.key)));
        doc.item_contracts = items
            .iter()
            .filter_map(|i| {
                let contract = i.contract.clone()?;
                Some(exchange::ItemContract { origin: origin.clone(), item: i.key.clone(), contract })
            })
            .collect();
        let mut contracts_of: HashMap<String, Vec<model::supplier::ContractFields>> = HashMap::new();
        for (k, c) in snap.current.contracts {
            contracts_of.entry(k.vendor).or_default().push(c);
        }
        doc.vendors = snap
            .current
            .vendors
            .into_iter()
            .map(|v| exchange::VendorRecord {
                origin: origin.clone(),
                contracts: contracts_of.remove(&v.slug).unwrap_or_default(),
                fields: v,
            })
            .collect();
        doc.attribute_defs = snap
            .current
            .attribute_defs
            .into_iter()
            .map(|def| exchange::AttributeRecord { origin: origin.clone(), def })
            .collect();
        doc.baselines = snap
            .current
            .baselines
            .into_iter()
            .map(|b| exchange::BaselineRecord { origin: origin.clone(), baseline: b })
            .collect();
        doc.items =
            items.into_iter().map(|i| ItemRecord { origin: origin.clone(), key: i.key, fields: i.fields }).collect();
        doc.groups = snap
            .current
            .groups
            .into_iter()
            .map(|g| exchange::GroupRecord {
                origin: origin.clone(),
                name: g.name,
                kind: g.kind,
                site: g.site,
                members: g.members.into_iter().collect(),
            })
            .collect();
        let mut rels = snap.current.relationships;
        rels.sort_by(|a, b| (&a.from, a.kind, &a.to).cmp(&(&b.from, b.kind, &b.to)));
        doc.relationships = rels
            .into_iter()
            .map(|r| exchange::RelationshipRecord { origin: origin.clone(), from: r.from, kind: r.kind, to: r.to })
            .collect();
        Ok(exchange::yaml::write(&doc)?)
    }
}

fn new_site(s: &exchange::SiteRecord) -> NewSite<'_> {
    NewSite {
        slug: &s.slug,
        name: &s.name,
        kind: &s.kind,
        zone: &s.zone,
        purdue_level: s.purdue_level,
        criticality: &s.criticality,
        time_zone: &s.time_zone,
    }
}

/// The row an import just wrote, rebuilt from what it wrote rather than read back.
#[allow(clippy::too_many_arguments)]
fn stored_row(
    id: i64,
    r: &ItemRecord,
    parent_id: Option<i64>,
    contract_id: Option<i64>,
    source: &str,
    version: i64,
    created: i64,
    now: i64,
) -> ItemRow {
    let f = &r.fields;
    ItemRow {
        id,
        name: f.name.clone(),
        class: f.class.clone(),
        site: r.key.site.clone(),
        parent_id,
        parent: r.key.parent().map(|p| p.name().to_owned()),
        vendor: f.vendor.clone(),
        model: f.model.clone(),
        os_version: f.os_version.clone(),
        serial: f.serial.clone(),
        asset_tag: f.asset_tag.clone(),
        mgmt_address: f.mgmt_address.clone(),
        status: f.status.clone(),
        criticality: f.criticality.clone(),
        support_group: f.support_group.clone(),
        owner: f.owner.clone(),
        description: f.description.clone(),
        sla_policy: f.sla_policy.clone(),
        contract_id,
        purchased_on: f.purchased_on.clone(),
        warranty_ends_on: f.warranty_ends_on.clone(),
        end_of_sale_on: f.end_of_sale_on.clone(),
        end_of_support_on: f.end_of_support_on.clone(),
        end_of_life_on: f.end_of_life_on.clone(),
        attrs: serde_json::Value::Object(f.attrs.clone()).to_string(),
        source: source.to_owned(),
        version,
        created_at_ms: created,
        updated_at_ms: now,
    }
}

fn version_of(row: &ItemRow, actor: &Actor, change: &str, now: i64) -> ItemVersion {
    ItemVersion {
        item_id: row.id,
        version: row.version,
        at_ms: now,
        actor: actor.name.clone(),
        change: change.into(),
        snapshot: item_document(row).to_string(),
    }
}
