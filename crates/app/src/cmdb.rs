//! CMDB use-cases: reading within the actor's sites, writing items, relationships and
//! redundancy groups (each with its audit record, item version and generation bump), and
//! impact analysis over an in-memory graph that reloads when the CMDB changes.

use crate::audit::event;
use crate::{Actor, App, AppError, Result};
use model::Perm;
use model::cmdb::{ItemFields, RelationKind};
use model::impact::{Health, ImpactGraph, Node};
use model::list::ListQuery;
use model::{FieldError, Invalid};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use store::{ItemRow, ItemVersion, ItemWrite, RelationshipRow, SiteRow, Target};

/// What the dashboard shows.
#[derive(Debug, Clone)]
pub struct Overview {
    pub sites: Vec<SiteRow>,
    pub items_by_class: Vec<(String, i64)>,
    pub items_total: i64,
}

/// A new or changed item: its fields and where it sits.
#[derive(Debug, Clone, Default)]
pub struct ItemInput {
    pub fields: ItemFields,
    /// Site slug; `None` for items that belong to no site (services, applications, cloud).
    pub site: Option<String>,
    /// The item this one is part of (an interface's device).
    pub parent: Option<i64>,
    /// The support contract that covers it.
    pub contract: Option<i64>,
}

/// The impact graph as last loaded, with the CMDB generation it reflects.
#[derive(Default)]
pub(crate) struct GraphCache(Mutex<Option<Arc<CmdbGraph>>>);

/// What impact analysis and dependency trees need, in memory: the graph, and enough about
/// each node to name it in an answer without another query.
pub struct CmdbGraph {
    pub generation: i64,
    pub graph: ImpactGraph,
    pub(crate) nodes: HashMap<i64, NodeInfo>,
    groups: HashMap<i64, String>,
    /// Items of the service classes, by name.
    pub(crate) services: Vec<i64>,
}

pub(crate) struct NodeInfo {
    pub(crate) name: String,
    pub(crate) class: String,
    pub(crate) site: Option<String>,
    pub(crate) criticality: String,
}

impl CmdbGraph {
    /// An item's name, if the CMDB has it.
    pub fn name_of(&self, item: i64) -> Option<String> {
        self.nodes.get(&item).map(|n| n.name.clone())
    }

    /// The site an item is at (its slug), if the CMDB has the item and it is at one.
    pub(crate) fn site_of(&self, item: i64) -> Option<&str> {
        self.nodes.get(&item).and_then(|n| n.site.as_deref())
    }

    fn name(&self, n: Node) -> String {
        match n {
            Node::Item(i) => self.nodes.get(&i).map_or_else(|| format!("#{i}"), |x| x.name.clone()),
            Node::Group(g) => self.groups.get(&g).cloned().unwrap_or_else(|| format!("group {g}")),
        }
    }

    /// Names in explanations: a group in brackets.
    fn label(&self, n: Node) -> String {
        match n {
            Node::Item(_) => self.name(n),
            Node::Group(_) => format!("[{}]", self.name(n)),
        }
    }
}

/// An item as a JSON document: the API's item shape and the stored form of each version,
/// so that history and the current item read alike.
pub fn item_document(i: &ItemRow) -> Value {
    let attrs: Value = serde_json::from_str(&i.attrs).unwrap_or_else(|_| json!({}));
    json!({
        "id": i.id,
        "name": i.name,
        "class": i.class,
        "site": i.site,
        "parent_id": i.parent_id,
        "parent": i.parent,
        "vendor": i.vendor,
        "model": i.model,
        "os_version": i.os_version,
        "serial": i.serial,
        "asset_tag": i.asset_tag,
        "mgmt_address": i.mgmt_address,
        "status": i.status,
        "criticality": i.criticality,
        "support_group": i.support_group,
        "owner": i.owner,
        "description": i.description,
        "sla_policy": i.sla_policy,
        "contract_id": i.contract_id,
        "purchased_on": i.purchased_on,
        "warranty_ends_on": i.warranty_ends_on,
        "end_of_sale_on": i.end_of_sale_on,
        "end_of_support_on": i.end_of_support_on,
        "end_of_life_on": i.end_of_life_on,
        "attrs": attrs,
        "version": i.version,
        "created_at_ms": i.created_at_ms,
        "updated_at_ms": i.updated_at_ms,
    })
}

/// One service's verdict in an impact report.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceVerdict {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub criticality: String,
    /// `down`, `degraded` or `unaffected`.
    pub status: &'static str,
    /// Names from the service to a failed item; empty when unaffected.
    pub path: Vec<String>,
    /// The same chain with the relationship at each step, e.g.
    /// `plant-scada depends-on scada-app runs-on [esx-cluster] member esx-01`.
    pub explanation: String,
}

/// One line of a dependency tree.
#[derive(Debug, Clone, Serialize)]
pub struct TreeLine {
    pub depth: usize,
    pub id: i64,
    pub name: String,
    /// The item's class; `None` for a redundancy group.
    pub class: Option<String>,
    pub is_group: bool,
    /// How the line above needs this one (`runs-on`, `member`…); `None` for the root.
    pub via: Option<&'static str>,
    /// Listed (and expanded) further up already.
    pub repeated: bool,
}

/// An affected item in an impact report.
#[derive(Debug, Clone, Serialize)]
pub struct AffectedItem {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub site: Option<String>,
    pub status: &'static str,
}

/// What fails when the given items fail.
#[derive(Debug, Clone, Serialize)]
pub struct ImpactReport {
    pub failed: Vec<String>,
    /// Down first, then degraded, then unaffected; by criticality, then name.
    pub services: Vec<ServiceVerdict>,
    pub items_down: usize,
    pub items_degraded: usize,
    /// Affected items other than services, worst first, at most [`AFFECTED_LIMIT`].
    pub items: Vec<AffectedItem>,
    pub items_truncated: bool,
}

pub const AFFECTED_LIMIT: usize = 500;

fn criticality_rank(c: &str) -> usize {
    model::cmdb::CRITICALITIES.iter().position(|x| *x == c).unwrap_or(usize::MAX)
}

impl App {
    pub async fn list_sites(&self, actor: &Actor, q: &ListQuery) -> Result<(Vec<SiteRow>, i64)> {
        actor.require(Perm::CmdbRead)?;
        Ok(self.store.list_sites(q, &actor.sites).await?)
    }

    pub async fn list_items(&self, actor: &Actor, q: &ListQuery) -> Result<(Vec<ItemRow>, i64)> {
        actor.require(Perm::CmdbRead)?;
        Ok(self.store.list_items(q, &actor.sites).await?)
    }

    /// Counts per value of each item facet under the query's other filters.
    pub async fn item_facets(&self, actor: &Actor, q: &ListQuery) -> Result<Vec<(&'static str, Vec<(String, i64)>)>> {
        actor.require(Perm::CmdbRead)?;
        Ok(self.store.item_facets(q, &actor.sites).await?)
    }

    pub async fn overview(&self, actor: &Actor) -> Result<Overview> {
        actor.require(Perm::ConsoleView)?;
        let all = model::list::parse(&store::SITE_LIST, &[]).map_err(crate::AppError::from)?;
        let (sites, _) = self.store.list_sites(&all, &actor.sites).await?;
        let items_by_class = self.store.item_counts_by_class(&actor.sites).await?;
        let items_total = items_by_class.iter().map(|(_, n)| n).sum();
        Ok(Overview { sites, items_by_class, items_total })
    }

    /// Whether `actor` may see `item`: site-scoped actors see only their sites' items, and
    /// not the site-less ones (services, applications) that span sites.
    pub(crate) fn visible(actor: &Actor, item: &ItemRow) -> bool {
        actor.sites.is_empty() || item.site.as_ref().is_some_and(|s| actor.sites.contains(s))
    }

    pub async fn item(&self, actor: &Actor, id: i64) -> Result<ItemRow> {
        actor.require(Perm::CmdbRead)?;
        match self.store.item(id).await? {
            Some(i) if Self::visible(actor, &i) => Ok(i),
            _ => Err(AppError::NotFound(format!("item {id}"))),
        }
    }

    /// Finds an item by what a person typed: `name`, `site/name`, or `#id`.
    pub async fn resolve_item(&self, actor: &Actor, reference: &str) -> Result<ItemRow> {
        actor.require(Perm::CmdbRead)?;
        if let Some(id) = reference.strip_prefix('#').and_then(|n| n.parse::<i64>().ok()) {
            return self.item(actor, id).await;
        }
        let (site, name) = match reference.split_once('/') {
            Some((site, name)) if self.store.site_id(site).await?.is_some() => (Some(site), name),
            _ => (None, reference),
        };
        let found: Vec<ItemRow> =
            self.store.items_named(name, site).await?.into_iter().filter(|i| Self::visible(actor, i)).collect();
        match found.len() {
            0 => Err(AppError::NotFound(format!("item `{reference}`"))),
            1 => Ok(found.into_iter().next().expect("one")),
            _ => {
                let options: Vec<String> = found
                    .iter()
                    .map(|i| match (&i.site, &i.parent) {
                        (Some(s), Some(p)) => format!("#{} ({s}, on {p})", i.id),
                        (Some(s), None) => format!("{s}/{}", i.name),
                        _ => format!("#{}", i.id),
                    })
                    .collect();
                Err(Invalid::one(
                    "item",
                    format!("`{reference}` names several items; say which: {}", options.join(", ")),
                )
                .into())
            }
        }
    }

    async fn item_write_ids(&self, input: &ItemInput) -> Result<(Option<i64>, Option<i64>)> {
        input.fields.validate()?;
        self.check_item_attributes(&input.fields).await?;
        let site_id = match &input.site {
            None => None,
            Some(slug) => Some(self.store.site_id(slug).await?.ok_or_else(|| {
                Invalid::one("site", format!("no site `{slug}`; known sites: {}", "see /api/v1/sites"))
            })?),
        };
        if let Some(p) = input.parent
            && self.store.item(p).await?.is_none()
        {
            return Err(Invalid::one("parent_id", format!("no item {p}")).into());
        }
        if let Some(c) = input.contract
            && self.store.contract(c).await?.is_none()
        {
            return Err(Invalid::one("contract_id", format!("no contract {c}; see /api/v1/contracts")).into());
        }
        Ok((site_id, input.parent))
    }

    fn check_site_scope(actor: &Actor, site: Option<&String>) -> Result<()> {
        if actor.sites.is_empty() || site.is_some_and(|s| actor.sites.contains(s)) {
            Ok(())
        } else {
            Err(Invalid::one("site", "you may only change items at your own sites").into())
        }
    }

    pub async fn create_item(&self, actor: &Actor, input: ItemInput) -> Result<ItemRow> {
        actor.require(Perm::CmdbWrite)?;
        Self::check_site_scope(actor, input.site.as_ref())?;
        let (site_id, parent_id) = self.item_write_ids(&input).await?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let write = ItemWrite { fields: &input.fields, site_id, parent_id, contract_id: input.contract, source: "" };
        let id = tx.insert_item(write, now).await.map_err(|e| name_taken(e, &input))?;
        let row = tx.item_in_tx(id).await?.ok_or_else(|| AppError::Internal("inserted item vanished".into()))?;
        let doc = item_document(&row).to_string();
        tx.record_item_version(&store::ItemVersion {
            item_id: id,
            version: 1,
            at_ms: now,
            actor: actor.name.clone(),
            change: "create".into(),
            snapshot: doc.clone(),
        })
        .await?;
        tx.bump_cmdb_generation().await?;
        tx.append_audit(event(actor, now, "item.create", "item", &id.to_string(), None, Some(doc))).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Replaces item `id`'s fields, provided nobody changed it since `version` was read.
    pub async fn update_item(&self, actor: &Actor, id: i64, version: i64, input: ItemInput) -> Result<ItemRow> {
        actor.require(Perm::CmdbWrite)?;
        let before = self.item(actor, id).await?;
        Self::check_site_scope(actor, input.site.as_ref())?;
        let (site_id, parent_id) = self.item_write_ids(&input).await?;
        if parent_id == Some(id) {
            return Err(Invalid::one("parent_id", "an item cannot be its own parent").into());
        }
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        // A hand edit keeps the item with the import that owns it. Site-scoped accounts
        // cannot see contracts, so their edits keep the contract as it was.
        let contract_id = if actor.sites.is_empty() { input.contract } else { before.contract_id };
        let write = ItemWrite { fields: &input.fields, site_id, parent_id, contract_id, source: &before.source };
        let new_version = tx.update_item(id, version, write, now).await.map_err(|e| match e {
            store::StoreError::Stale => AppError::Conflict(format!(
                "item {id} changed since version {version} was read (it is now at version {}); reload it and apply your change again",
                before.version
            )),
            e => name_taken(e, &input),
        })?;
        let row = tx.item_in_tx(id).await?.ok_or_else(|| AppError::NotFound(format!("item {id}")))?;
        let doc = item_document(&row).to_string();
        tx.record_item_version(&store::ItemVersion {
            item_id: id,
            version: new_version,
            at_ms: now,
            actor: actor.name.clone(),
            change: "update".into(),
            snapshot: doc.clone(),
        })
        .await?;
        tx.bump_cmdb_generation().await?;
        let before_doc = item_document(&before).to_string();
        tx.append_audit(event(actor, now, "item.update", "item", &id.to_string(), Some(before_doc), Some(doc))).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Deletes item `id` with its parts (interfaces) and relationships; its history stays.
    pub async fn delete_item(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(Perm::CmdbWrite)?;
        let before = self.item(actor, id).await?;
        Self::check_site_scope(actor, before.site.as_ref())?;
        let now = self.now_ms();
        let doc = item_document(&before).to_string();
        let mut tx = self.store.begin().await?;
        tx.record_relationships_removed(store::Removing::OfItem(id), &actor.name, now).await?;
        tx.delete_item(id).await?;
        tx.record_item_version(&store::ItemVersion {
            item_id: id,
            version: before.version + 1,
            at_ms: now,
            actor: actor.name.clone(),
            change: "delete".into(),
            snapshot: doc.clone(),
        })
        .await?;
        tx.bump_cmdb_generation().await?;
        tx.append_audit(event(actor, now, "item.delete", "item", &id.to_string(), Some(doc), None)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Item `id`'s versions, oldest first.
    pub async fn item_history(&self, actor: &Actor, id: i64) -> Result<Vec<store::ItemVersion>> {
        actor.require(Perm::CmdbRead)?;
        let versions = self.store.item_versions(id).await?;
        let Some(last) = versions.last() else { return Err(AppError::NotFound(format!("item {id}"))) };
        // Scope is judged on the newest snapshot: where the item is (or was, if deleted).
        let site = serde_json::from_str::<Value>(&last.snapshot)
            .ok()
            .and_then(|v| v.get("site").and_then(Value::as_str).map(str::to_owned));
        if !actor.sites.is_empty() && !site.is_some_and(|s| actor.sites.contains(&s)) {
            return Err(AppError::NotFound(format!("item {id}")));
        }
        Ok(versions)
    }

    /// Item `id` as it was at `at_ms`: the newest version recorded by then. A version whose
    /// change is `delete` means the item no longer existed.
    pub async fn item_as_of(&self, actor: &Actor, id: i64, at_ms: i64) -> Result<ItemVersion> {
        let versions = self.item_history(actor, id).await?;
        versions
            .into_iter()
            .rev()
            .find(|v| v.at_ms <= at_ms)
            .filter(|v| v.change != "delete")
            .ok_or_else(|| AppError::NotFound(format!("item {id} at that time")))
    }

    /// Relationships from and to item `id`, and those to groups it belongs to.
    pub async fn item_relationships(&self, actor: &Actor, id: i64) -> Result<Vec<RelationshipRow>> {
        self.item(actor, id).await?;
        Ok(self.store.relationships_of(id).await?)
    }

    /// Everything item `id` needs, transitively, as rows of (depth, node name, via, repeated).
    pub async fn dependency_tree(&self, actor: &Actor, id: i64) -> Result<Vec<TreeLine>> {
        let root = self.item(actor, id).await?;
        let g = self.impact_graph().await?;
        let rows = g.graph.dependency_tree(Node::Item(root.id));
        Ok(rows
            .into_iter()
            .map(|r| {
                let (id, is_group) = match r.node {
                    Node::Item(i) => (i, false),
                    Node::Group(g) => (g, true),
                };
                let class = if is_group { None } else { g.nodes.get(&id).map(|n| n.class.clone()) };
                let name = g.name(r.node);
                TreeLine {
                    depth: r.depth,
                    id,
                    name,
                    class,
                    is_group,
                    via: r.via.map(|v| v.as_str()),
                    repeated: r.repeated,
                }
            })
            .collect())
    }

    /// Records `from —kind→ to`.
    pub async fn relate(&self, actor: &Actor, from: i64, kind: RelationKind, to: Target) -> Result<RelationshipRow> {
        actor.require(Perm::CmdbWrite)?;
        let from_item = self.item(actor, from).await?;
        Self::check_site_scope(actor, from_item.site.as_ref())?;
        match to {
            Target::Item(t) => {
                self.item(actor, t).await.map_err(|_| Invalid::one("to", format!("no item {t}")))?;
                if t == from {
                    return Err(Invalid::one("to", "an item cannot relate to itself").into());
                }
            }
            Target::Group(g) => {
                if !self.store.groups().await?.iter().any(|x| x.id == g) {
                    return Err(Invalid::one("to_group", format!("no redundancy group {g}")).into());
                }
            }
        }
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let id = tx.insert_relationship(from, kind.as_str(), to, "", now).await.map_err(|e| match e {
            store::StoreError::Conflict { .. } => AppError::Conflict(format!("item {from} already {kind} that")),
            e => e.into(),
        })?;
        tx.record_relationship_added(id, &actor.name, now).await?;
        let row = tx.relationship(id).await?.ok_or_else(|| AppError::Internal("relationship vanished".into()))?;
        let after = json!({
            "from": row.from_name, "kind": row.kind, "to": row.to_name, "to_group": row.to_group_name,
        });
        tx.bump_cmdb_generation().await?;
        tx.append_audit(event(
            actor,
            now,
            "relationship.create",
            "relationship",
            &id.to_string(),
            None,
            Some(after.to_string()),
        ))
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn unrelate(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(Perm::CmdbWrite)?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let row = tx.relationship(id).await?.ok_or_else(|| AppError::NotFound(format!("relationship {id}")))?;
        let from = self.item(actor, row.from_id).await?;
        Self::check_site_scope(actor, from.site.as_ref())?;
        tx.record_relationships_removed(store::Removing::One(id), &actor.name, now).await?;
        tx.delete_relationship(id).await?;
        let before = json!({
            "from": row.from_name, "kind": row.kind, "to": row.to_name, "to_group": row.to_group_name,
        });
        tx.bump_cmdb_generation().await?;
        tx.append_audit(event(
            actor,
            now,
            "relationship.delete",
            "relationship",
            &id.to_string(),
            Some(before.to_string()),
            None,
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Redundancy groups; a site-scoped actor sees those at its sites.
    pub async fn groups(&self, actor: &Actor) -> Result<Vec<store::GroupRow>> {
        actor.require(Perm::CmdbRead)?;
        let groups = self.store.groups().await?;
        Ok(groups
            .into_iter()
            .filter(|g| actor.sites.is_empty() || g.site.as_ref().is_some_and(|s| actor.sites.contains(s)))
            .collect())
    }

    /// Creates a redundancy group of `members` (item ids).
    pub async fn create_group(
        &self,
        actor: &Actor,
        name: &str,
        kind: &str,
        site: Option<&str>,
        members: &[i64],
    ) -> Result<i64> {
        actor.require(Perm::CmdbWrite)?;
        let mut errors = Vec::new();
        if name.trim().is_empty() || name.len() > 200 {
            errors.push(FieldError::new("name", "give a name of 1 to 200 characters"));
        }
        if !model::cmdb::GROUP_KINDS.contains(&kind) {
            errors.push(FieldError::new("kind", format!("use one of {}", model::cmdb::GROUP_KINDS.join(", "))));
        }
        if members.len() < 2 {
            errors.push(FieldError::new("members", "a redundancy group needs at least two members"));
        }
        Invalid::check(errors)?;
        let site_id = match site {
            Some(s) => {
                Some(self.store.site_id(s).await?.ok_or_else(|| Invalid::one("site", format!("no site `{s}`")))?)
            }
            None => None,
        };
        let mut names = Vec::new();
        for &m in members {
            let item = self.item(actor, m).await.map_err(|_| Invalid::one("members", format!("no item {m}")))?;
            Self::check_site_scope(actor, item.site.as_ref())?;
            names.push(item.name);
        }
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let id = tx.insert_group(name, kind, site_id, "", now).await.map_err(|e| match e {
            store::StoreError::Conflict { .. } => AppError::Conflict(format!("a redundancy group `{name}` exists")),
            e => e.into(),
        })?;
        for &m in members {
            tx.add_group_member(id, m).await.map_err(|e| match e {
                store::StoreError::Conflict { .. } => {
                    AppError::from(Invalid::one("members", format!("item {m} is listed twice")))
                }
                e => e.into(),
            })?;
        }
        tx.bump_cmdb_generation().await?;
        let after = json!({ "name": name, "kind": kind, "site": site, "members": names });
        tx.append_audit(event(
            actor,
            now,
            "group.create",
            "redundancy-group",
            &id.to_string(),
            None,
            Some(after.to_string()),
        ))
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The impact graph for the CMDB as it is now, reloaded only when the CMDB changed.
    pub async fn impact_graph(&self) -> Result<Arc<CmdbGraph>> {
        let generation = self.store.cmdb_generation().await?;
        if let Some(g) = self.graph.0.lock().expect("graph cache lock").as_ref()
            && g.generation == generation
        {
            return Ok(g.clone());
        }
        let edges = self.store.graph_edges().await?;
        let mut graph = ImpactGraph::new();
        let mut nodes = HashMap::with_capacity(edges.items.len());
        let mut services = Vec::new();
        for (id, name, class, site, criticality) in edges.items {
            graph.add_node(Node::Item(id));
            if model::cmdb::is_a(&class, "service") {
                services.push(id);
            }
            nodes.insert(id, NodeInfo { name, class, site, criticality });
        }
        services.sort_by(|a, b| nodes[a].name.cmp(&nodes[b].name));
        for (from, kind, to_item, to_group) in edges.relationships {
            // Kinds are written from `RelationKind`; anything else was put there by hand and
            // carries no failure.
            let Ok(kind) = kind.parse::<RelationKind>() else { continue };
            match (to_item, to_group) {
                (Some(t), _) => graph.add_relation(from, kind, Node::Item(t)),
                (None, Some(g)) => graph.add_relation(from, kind, Node::Group(g)),
                (None, None) => false,
            };
        }
        for (group, item) in edges.members {
            graph.add_member(group, Node::Item(item));
        }
        let loaded = Arc::new(CmdbGraph {
            generation: edges.generation,
            graph,
            nodes,
            groups: edges.groups.into_iter().collect(),
            services,
        });
        *self.graph.0.lock().expect("graph cache lock") = Some(loaded.clone());
        Ok(loaded)
    }

    /// What fails, and why, when the items named by `references` fail together.
    /// The services an item's failure takes down or degrades, `(id, name, status)`, whoever
    /// asks: what an incident on the item affects, and so which SLA policies it runs on.
    pub(crate) async fn services_affected(&self, item_id: i64) -> Result<Vec<(i64, String, String)>> {
        let g = self.impact_graph().await?;
        let imp = g.graph.impact([item_id]);
        Ok(g.services
            .iter()
            .filter_map(|&id| {
                let health = imp.health(Node::Item(id));
                let name = &g.nodes.get(&id)?.name;
                (health != Health::Unaffected).then(|| (id, name.clone(), health.as_str().to_owned()))
            })
            .collect())
    }

    pub async fn impact(&self, actor: &Actor, references: &[String]) -> Result<ImpactReport> {
        actor.require(Perm::CmdbRead)?;
        if references.is_empty() {
            return Err(Invalid::one("item", "name at least one item that fails").into());
        }
        let mut failed = Vec::new();
        for r in references {
            failed.push(self.resolve_item(actor, r).await?);
        }
        let g = self.impact_graph().await?;
        let imp = g.graph.impact(failed.iter().map(|i| i.id));

        // Site-less services span sites; a site-scoped actor sees items only.
        let services: &[i64] = if actor.sites.is_empty() { &g.services } else { &[] };
        let mut verdicts: Vec<ServiceVerdict> = services
            .iter()
            .filter_map(|&id| {
                let info = g.nodes.get(&id)?;
                let health = imp.health(Node::Item(id));
                let steps = if health == Health::Unaffected { Vec::new() } else { imp.path(Node::Item(id)) };
                let path: Vec<String> = steps.iter().map(|st| g.label(st.node)).collect();
                let explanation = steps
                    .iter()
                    .map(|st| match st.via {
                        None => g.label(st.node),
                        Some(v) => format!("{} {}", v.as_str(), g.label(st.node)),
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                Some(ServiceVerdict {
                    id,
                    name: info.name.clone(),
                    class: info.class.clone(),
                    criticality: info.criticality.clone(),
                    status: health.as_str(),
                    path,
                    explanation,
                })
            })
            .collect();
        verdicts.sort_by(|a, b| {
            let rank = |v: &ServiceVerdict| match v.status {
                "down" => 0,
                "degraded" => 1,
                _ => 2,
            };
            (rank(a), criticality_rank(&a.criticality), &a.name).cmp(&(
                rank(b),
                criticality_rank(&b.criticality),
                &b.name,
            ))
        });

        let mut items: Vec<AffectedItem> = imp
            .affected()
            .filter_map(|(n, h)| {
                let Node::Item(id) = n else { return None };
                let info = g.nodes.get(&id)?;
                let in_scope = actor.sites.is_empty() || info.site.as_ref().is_some_and(|s| actor.sites.contains(s));
                (!model::cmdb::is_a(&info.class, "service") && in_scope).then(|| AffectedItem {
                    id,
                    name: info.name.clone(),
                    class: info.class.clone(),
                    site: info.site.clone(),
                    status: h.as_str(),
                })
            })
            .collect();
        items.sort_by(|a, b| (a.status != "down", &a.name).cmp(&(b.status != "down", &b.name)));
        let items_down = items.iter().filter(|i| i.status == "down").count();
        let items_degraded = items.len() - items_down;
        let items_truncated = items.len() > AFFECTED_LIMIT;
        items.truncate(AFFECTED_LIMIT);
        Ok(ImpactReport {
            failed: failed.iter().map(|i| i.name.clone()).collect(),
            services: verdicts,
            items_down,
            items_degraded,
            items,
            items_truncated,
        })
    }
}

/// A unique-key clash on insert or update means the name is taken among its siblings.
fn name_taken(e: store::StoreError, input: &ItemInput) -> AppError {
    match e {
        store::StoreError::Conflict { .. } => Invalid::one(
            "name",
            format!(
                "`{}` already exists {}; choose another name",
                input.fields.name,
                input.site.as_deref().map_or_else(|| "outside any site".to_owned(), |s| format!("at site `{s}`"))
            ),
        )
        .into(),
        e => e.into(),
    }
}

impl App {
    /// Relationships added to and removed from item `id`, oldest first.
    pub async fn relationship_changes(&self, actor: &Actor, id: i64) -> Result<Vec<store::RelationshipChange>> {
        self.item_or_history(actor, id).await?;
        Ok(self.store.relationship_changes(id).await?)
    }

    /// Item `id`'s own relationships (from it, or to it directly) as they stood at `at_ms`:
    /// today's, with every later change undone.
    pub async fn relationships_as_of(&self, actor: &Actor, id: i64, at_ms: i64) -> Result<Vec<RelationshipRow>> {
        self.item_or_history(actor, id).await?;
        let mut set: std::collections::BTreeMap<i64, RelationshipRow> = self
            .store
            .relationships_of(id)
            .await?
            .into_iter()
            .filter(|r| r.from_id == id || r.to_id == Some(id))
            .map(|r| (r.id, r))
            .collect();
        for c in self.store.relationship_changes(id).await?.into_iter().rev().take_while(|c| c.at_ms > at_ms) {
            if c.change == "add" {
                set.remove(&c.relationship_id);
            } else {
                set.insert(
                    c.relationship_id,
                    RelationshipRow {
                        id: c.relationship_id,
                        from_id: c.from_id,
                        from_name: c.from_name,
                        kind: c.kind,
                        to_id: c.to_id,
                        to_name: c.to_name,
                        to_group_id: c.to_group_id,
                        to_group_name: c.to_group_name,
                        attrs: "{}".into(),
                    },
                );
            }
        }
        Ok(set.into_values().collect())
    }

    /// Checks the actor may see item `id`, which may since have been deleted (its history
    /// remains).
    async fn item_or_history(&self, actor: &Actor, id: i64) -> Result<()> {
        match self.item(actor, id).await {
            Ok(_) => Ok(()),
            Err(AppError::NotFound(_)) => self.item_history(actor, id).await.map(|_| ()),
            Err(e) => Err(e),
        }
    }
}
