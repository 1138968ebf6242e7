//! Relationships between items, redundancy groups and their members, and the CMDB's
//! generation counter that tells in-memory copies of the graph when to reload.

use crate::{Result, Store, Tx, on, on_tx};

/// The far end of a relationship: an item or a redundancy group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Item(i64),
    Group(i64),
}

/// A relationship with both ends named, as item pages and the API show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RelationshipRow {
    pub id: i64,
    pub from_id: i64,
    pub from_name: String,
    pub kind: String,
    pub to_id: Option<i64>,
    pub to_name: Option<String>,
    pub to_group_id: Option<i64>,
    pub to_group_name: Option<String>,
    pub attrs: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub site: Option<String>,
    pub description: String,
    pub members: i64,
}

/// The whole graph in id form, for building `model::impact::ImpactGraph`.
#[derive(Debug, Default)]
pub struct GraphEdges {
    /// (id, name, class, site slug, criticality)
    pub items: Vec<(i64, String, String, Option<String>, String)>,
    /// (id, name)
    pub groups: Vec<(i64, String)>,
    /// (from, kind, to item, to group)
    pub relationships: Vec<(i64, String, Option<i64>, Option<i64>)>,
    /// (group, member item)
    pub members: Vec<(i64, i64)>,
    pub generation: i64,
}

const REL_SELECT: &str = "SELECT r.id, r.from_id, f.name AS from_name, r.kind, r.to_id, t.name AS to_name, \
    r.to_group_id, g.name AS to_group_name, r.attrs FROM relationships r JOIN config_items f ON f.id = r.from_id \
    LEFT JOIN config_items t ON t.id = r.to_id LEFT JOIN redundancy_groups g ON g.id = r.to_group_id";

impl Store {
    /// Relationships from or to item `id` (including to groups it is a member of).
    pub async fn relationships_of(&self, id: i64) -> Result<Vec<RelationshipRow>> {
        let sql = format!(
            "{REL_SELECT} WHERE r.from_id = $1 OR r.to_id = $1 \
             OR r.to_group_id IN (SELECT group_id FROM redundancy_members WHERE item_id = $1) ORDER BY r.kind, r.id"
        );
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(p).await?))
    }

    pub async fn groups(&self) -> Result<Vec<GroupRow>> {
        Ok(on!(self.pool(), p => sqlx::query_as(
            "SELECT g.id, g.name, g.kind, s.slug AS site, g.description, \
             (SELECT COUNT(*) FROM redundancy_members m WHERE m.group_id = g.id) AS members \
             FROM redundancy_groups g LEFT JOIN sites s ON s.id = g.site_id ORDER BY g.name",
        ).fetch_all(p).await?))
    }

    /// Every relationship: (id, from, kind, to item, to group, source).
    pub async fn all_relationships(&self) -> Result<Vec<(i64, i64, String, Option<i64>, Option<i64>, String)>> {
        Ok(on!(self.pool(), p => sqlx::query_as(
            "SELECT id, from_id, kind, to_id, to_group_id, source FROM relationships ORDER BY id",
        ).fetch_all(p).await?))
    }

    /// Every group with its source, and every membership (group, item).
    pub async fn all_groups(&self) -> Result<(Vec<(i64, String, String, Option<String>, String)>, Vec<(i64, i64)>)> {
        Ok(on!(self.pool(), p => (
            sqlx::query_as(
                "SELECT g.id, g.name, g.kind, s.slug, g.source FROM redundancy_groups g \
                 LEFT JOIN sites s ON s.id = g.site_id ORDER BY g.name",
            ).fetch_all(p).await?,
            sqlx::query_as("SELECT group_id, item_id FROM redundancy_members").fetch_all(p).await?,
        )))
    }

    pub async fn cmdb_generation(&self) -> Result<i64> {
        Ok(on!(self.pool(), p => sqlx::query_scalar("SELECT generation FROM cmdb_state WHERE id = 1")
            .fetch_one(p).await?))
    }

    /// Every item, relationship and membership, read in one transaction so they agree.
    pub async fn graph_edges(&self) -> Result<GraphEdges> {
        let mut tx = self.read_tx().await?;
        let edges = on_tx!(&mut tx, t => GraphEdges {
            generation: sqlx::query_scalar("SELECT generation FROM cmdb_state WHERE id = 1").fetch_one(&mut **t).await?,
            items: sqlx::query_as(
                "SELECT i.id, i.name, i.class, s.slug, i.criticality FROM config_items i LEFT JOIN sites s ON s.id = i.site_id",
            ).fetch_all(&mut **t).await?,
            groups: sqlx::query_as("SELECT id, name FROM redundancy_groups").fetch_all(&mut **t).await?,
            relationships: sqlx::query_as("SELECT from_id, kind, to_id, to_group_id FROM relationships")
                .fetch_all(&mut **t).await?,
            members: sqlx::query_as("SELECT group_id, item_id FROM redundancy_members").fetch_all(&mut **t).await?,
        });
        tx.commit().await?;
        Ok(edges)
    }
}

impl Tx {
    /// Marks the CMDB as changed; every CMDB write calls this in its transaction.
    pub async fn bump_cmdb_generation(&mut self) -> Result<()> {
        on_tx!(self, t => sqlx::query("UPDATE cmdb_state SET generation = generation + 1 WHERE id = 1")
            .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    pub async fn insert_relationship(
        &mut self,
        from: i64,
        kind: &str,
        to: Target,
        source: &str,
        now_ms: i64,
    ) -> Result<i64> {
        let (to_id, to_group) = match to {
            Target::Item(i) => (Some(i), None),
            Target::Group(g) => (None, Some(g)),
        };
        Ok(on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO relationships (from_id, kind, to_id, to_group_id, source, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(from).bind(kind).bind(to_id).bind(to_group).bind(source).bind(now_ms)
        .fetch_one(&mut **t).await?))
    }

    pub async fn relationship(&mut self, id: i64) -> Result<Option<RelationshipRow>> {
        let sql = format!("{REL_SELECT} WHERE r.id = $1");
        Ok(on_tx!(self, t => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **t).await?))
    }

    pub async fn delete_relationship(&mut self, id: i64) -> Result<()> {
        let n = on_tx!(self, t => sqlx::query("DELETE FROM relationships WHERE id = $1").bind(id)
            .execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(crate::StoreError::NotFound) } else { Ok(()) }
    }

    pub async fn insert_group(
        &mut self,
        name: &str,
        kind: &str,
        site_id: Option<i64>,
        source: &str,
        now_ms: i64,
    ) -> Result<i64> {
        Ok(on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO redundancy_groups (name, kind, site_id, source, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(name).bind(kind).bind(site_id).bind(source).bind(now_ms)
        .fetch_one(&mut **t).await?))
    }

    /// Replaces group `id`'s kind, site, source and members.
    pub async fn replace_group(
        &mut self,
        id: i64,
        kind: &str,
        site_id: Option<i64>,
        source: &str,
        members: &[i64],
        now_ms: i64,
    ) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "UPDATE redundancy_groups SET kind = $2, site_id = $3, source = $4, updated_at_ms = $5 WHERE id = $1",
        ).bind(id).bind(kind).bind(site_id).bind(source).bind(now_ms).execute(&mut **t).await?.rows_affected());
        on_tx!(self, t => sqlx::query("DELETE FROM redundancy_members WHERE group_id = $1").bind(id)
            .execute(&mut **t).await?.rows_affected());
        for &m in members {
            self.add_group_member(id, m).await?;
        }
        Ok(())
    }

    pub async fn delete_group(&mut self, id: i64) -> Result<()> {
        on_tx!(self, t => sqlx::query("DELETE FROM redundancy_groups WHERE id = $1").bind(id)
            .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    pub async fn add_group_member(&mut self, group: i64, item: i64) -> Result<()> {
        on_tx!(self, t => sqlx::query("INSERT INTO redundancy_members (group_id, item_id) VALUES ($1, $2)")
            .bind(group).bind(item).execute(&mut **t).await?.rows_affected());
        Ok(())
    }
}

/// One relationship added or removed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RelationshipChange {
    pub relationship_id: i64,
    pub from_id: i64,
    pub from_name: String,
    pub kind: String,
    pub to_id: Option<i64>,
    pub to_name: Option<String>,
    pub to_group_id: Option<i64>,
    pub to_group_name: Option<String>,
    /// `add` or `remove`.
    pub change: String,
    pub at_ms: i64,
    pub actor: String,
}

/// Which relationships a removal is about to take away.
#[derive(Debug, Clone, Copy)]
pub enum Removing {
    One(i64),
    /// Every relationship from or to an item being deleted.
    OfItem(i64),
    /// Every relationship to a group being deleted.
    ToGroup(i64),
}

const HISTORY_INSERT: &str = "INSERT INTO relationship_history (relationship_id, from_id, from_name, kind, to_id, \
    to_name, to_group_id, to_group_name, change, at_ms, actor) \
    SELECT r.id, r.from_id, f.name, r.kind, r.to_id, t.name, r.to_group_id, g.name, $1, $2, $3 \
    FROM relationships r JOIN config_items f ON f.id = r.from_id LEFT JOIN config_items t ON t.id = r.to_id \
    LEFT JOIN redundancy_groups g ON g.id = r.to_group_id";

impl Store {
    /// Relationship changes from or to item `id`, oldest first.
    pub async fn relationship_changes(&self, id: i64) -> Result<Vec<RelationshipChange>> {
        Ok(on!(self.pool(), p => sqlx::query_as(
            "SELECT relationship_id, from_id, from_name, kind, to_id, to_name, to_group_id, to_group_name, change, \
             at_ms, actor FROM relationship_history WHERE from_id = $1 OR to_id = $1 ORDER BY at_ms, id",
        ).bind(id).fetch_all(p).await?))
    }
}

impl Tx {
    /// Records relationship `id` as added.
    pub async fn record_relationship_added(&mut self, id: i64, actor: &str, now_ms: i64) -> Result<()> {
        let sql = format!("{HISTORY_INSERT} WHERE r.id = $4");
        on_tx!(self, t => sqlx::query(sqlx::AssertSqlSafe(sql)).bind("add").bind(now_ms).bind(actor).bind(id)
            .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    /// Records every relationship this transaction created at `now_ms` (a bulk import) as added.
    pub async fn record_relationships_added_at(&mut self, now_ms: i64, actor: &str) -> Result<()> {
        let sql = format!(
            "{HISTORY_INSERT} WHERE r.created_at_ms = $2 \
             AND NOT EXISTS (SELECT 1 FROM relationship_history h WHERE h.relationship_id = r.id)"
        );
        on_tx!(self, t => sqlx::query(sqlx::AssertSqlSafe(sql)).bind("add").bind(now_ms).bind(actor)
            .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    /// Records relationships as removed; call it before deleting them.
    pub async fn record_relationships_removed(&mut self, what: Removing, actor: &str, now_ms: i64) -> Result<()> {
        let (clause, id) = match what {
            Removing::One(id) => ("r.id = $4", id),
            // The item's parts (interfaces) go with it.
            Removing::OfItem(id) => (
                "(r.from_id IN (SELECT id FROM config_items WHERE id = $4 OR parent_id = $4) \
                 OR r.to_id IN (SELECT id FROM config_items WHERE id = $4 OR parent_id = $4))",
                id,
            ),
            Removing::ToGroup(id) => ("r.to_group_id = $4", id),
        };
        let sql = format!("{HISTORY_INSERT} WHERE {clause}");
        on_tx!(self, t => sqlx::query(sqlx::AssertSqlSafe(sql)).bind("remove").bind(now_ms).bind(actor).bind(id)
            .execute(&mut **t).await?.rows_affected());
        Ok(())
    }
}
