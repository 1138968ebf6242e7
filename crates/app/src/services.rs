//! Services as the operations lead sees them: every business and technical service with its
//! owner, criticality, support group and SLA policy, how it stands given the items recorded
//! as failed or offline, and its service map, on which any set of items can be failed to
//! see what the service would do.

use crate::cmdb::TreeLine;
use crate::{Actor, App, AppError, Result};
use model::Perm;
use model::cmdb::is_a;
use model::impact::{Health, Node};
use serde::Serialize;
use std::collections::HashSet;

/// Item statuses that count as failed when judging services as they stand.
pub const FAILED_STATUSES: &[&str] = &["failed", "offline"];

#[derive(Debug, Clone, Serialize)]
pub struct ServiceSummary {
    pub id: i64,
    pub name: String,
    /// business-service or technical-service.
    pub class: String,
    pub criticality: String,
    pub owner: String,
    pub support_group: String,
    pub sla_policy: String,
    /// `down`, `degraded` or `unaffected`, given items recorded as failed or offline.
    pub status: &'static str,
    /// Items and groups it stands on, directly or not.
    pub dependencies: usize,
}

/// One node of a service map with its health under the chosen failures.
#[derive(Debug, Clone, Serialize)]
pub struct MapNode {
    #[serde(flatten)]
    pub line: TreeLine,
    /// `down`, `degraded` or `unaffected`.
    pub health: &'static str,
    /// One of the failures chosen (or recorded).
    pub failed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceMap {
    pub service: ServiceSummary,
    /// The failures the map is drawn under: the ids asked for, or those recorded.
    pub failed: Vec<i64>,
    /// The service's verdict under them, with the path that explains it.
    pub status: &'static str,
    pub path: Vec<String>,
    pub nodes: Vec<MapNode>,
    /// Items whose failure alone takes the service down.
    pub single_points_of_failure: Vec<String>,
}

impl App {
    /// Ids of items recorded as failed or offline.
    async fn recorded_failures(&self) -> Result<Vec<i64>> {
        Ok(self.store.item_ids_with_status(FAILED_STATUSES).await?)
    }

    /// How many items are recorded as failed or offline, within the actor's sites.
    pub async fn recorded_failure_count(&self, actor: &Actor) -> Result<usize> {
        actor.require(Perm::CmdbRead)?;
        let ids = self.recorded_failures().await?;
        if actor.sites.is_empty() {
            return Ok(ids.len());
        }
        let mut n = 0;
        for id in ids {
            n += usize::from(self.item(actor, id).await.is_ok());
        }
        Ok(n)
    }

    /// Every service with where it stands, broken ones first. Services span sites, so
    /// site-scoped accounts see none.
    pub async fn services(&self, actor: &Actor) -> Result<Vec<ServiceSummary>> {
        actor.require(Perm::CmdbRead)?;
        if !actor.sites.is_empty() {
            return Ok(Vec::new());
        }
        let g = self.impact_graph().await?;
        let failed = self.recorded_failures().await?;
        let imp = g.graph.impact(failed.iter().copied());
        let rows = self.store.items_of_classes(&model::cmdb::descendants("service")).await?;
        let mut services: Vec<ServiceSummary> = rows
            .into_iter()
            .map(|r| ServiceSummary {
                status: imp.health(Node::Item(r.id)).as_str(),
                dependencies: g
                    .graph
                    .dependency_tree(Node::Item(r.id))
                    .iter()
                    .filter(|l| !l.repeated)
                    .count()
                    .saturating_sub(1),
                id: r.id,
                name: r.name,
                class: r.class,
                criticality: r.criticality,
                owner: r.owner,
                support_group: r.support_group,
                sla_policy: r.sla_policy,
            })
            .collect();
        // What is broken first, then by criticality, then by name.
        let rank = |s: &ServiceSummary| {
            let status = ["down", "degraded"].iter().position(|x| *x == s.status).unwrap_or(2);
            let criticality = model::cmdb::CRITICALITIES.iter().position(|c| *c == s.criticality).unwrap_or(9);
            (status, criticality)
        };
        services.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.name.cmp(&b.name)));
        Ok(services)
    }

    /// Service `id`'s map with the items `fail` failed, or, when `fail` is `None`, with the
    /// items recorded as failed or offline.
    pub async fn service_map(&self, actor: &Actor, id: i64, fail: Option<&[i64]>) -> Result<ServiceMap> {
        let row = self.item(actor, id).await?;
        if !is_a(&row.class, "service") {
            return Err(AppError::NotFound(format!("service {id} (item {id} is a {})", row.class)));
        }
        let failed: Vec<i64> = match fail {
            Some(ids) => ids.to_vec(),
            None => self.recorded_failures().await?,
        };
        let tree = self.dependency_tree(actor, id).await?;
        let g = self.impact_graph().await?;
        let imp = g.graph.impact(failed.iter().copied());
        let chosen: HashSet<i64> = failed.iter().copied().collect();
        let nodes = tree
            .into_iter()
            .map(|line| {
                let node = if line.is_group { Node::Group(line.id) } else { Node::Item(line.id) };
                MapNode { health: imp.health(node).as_str(), failed: !line.is_group && chosen.contains(&line.id), line }
            })
            .collect::<Vec<_>>();
        let health = imp.health(Node::Item(id));
        let path = if health == Health::Unaffected {
            Vec::new()
        } else {
            imp.path(Node::Item(id)).iter().map(|s| nodes_name(&nodes, s.node)).collect()
        };
        let single_points_of_failure = g
            .graph
            .single_points_of_failure(Node::Item(id))
            .into_iter()
            .filter_map(|i| nodes.iter().find(|n| !n.line.is_group && n.line.id == i))
            .filter(|n| !n.line.class.as_deref().is_some_and(|c| is_a(c, "service")))
            .map(|n| n.line.name.clone())
            .collect();
        let service = ServiceSummary {
            status: health.as_str(),
            dependencies: nodes.iter().filter(|n| !n.line.repeated).count().saturating_sub(1),
            id: row.id,
            name: row.name,
            class: row.class,
            criticality: row.criticality,
            owner: row.owner,
            support_group: row.support_group,
            sla_policy: row.sla_policy,
        };
        Ok(ServiceMap { service, failed, status: health.as_str(), path, nodes, single_points_of_failure })
    }
}

fn nodes_name(nodes: &[MapNode], node: Node) -> String {
    let (id, group) = match node {
        Node::Item(i) => (i, false),
        Node::Group(g) => (g, true),
    };
    nodes
        .iter()
        .find(|n| n.line.id == id && n.line.is_group == group)
        .map_or_else(|| format!("#{id}"), |n| if group { format!("[{}]", n.line.name) } else { n.line.name.clone() })
}
