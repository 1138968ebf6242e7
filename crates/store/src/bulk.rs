//! Multi-row inserts for imports: one statement per few hundred rows instead of one per row,
//! which is what makes a 100k-item import take seconds rather than minutes.

use crate::cmdb::{ItemVersion, ItemWrite};
use crate::relations::Target;
use crate::{Result, Tx, on_tx};

/// Rows per statement, kept under SQLite's and PostgreSQL's limits on bound values.
const ITEM_ROWS: usize = 400;
const VERSION_ROWS: usize = 1_500;
const RELATIONSHIP_ROWS: usize = 2_000;

/// What an insert of several items returns for each row, so callers can map their natural
/// keys to the new ids whatever order the database returns rows in.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InsertedItem {
    pub id: i64,
    pub site_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub name: String,
}

impl Tx {
    /// Inserts `items` (whose parents already exist) at version 1.
    pub async fn insert_items(&mut self, items: &[ItemWrite<'_>], now_ms: i64) -> Result<Vec<InsertedItem>> {
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(ITEM_ROWS) {
            let rows: Vec<InsertedItem> = on_tx!(self, t => {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO config_items (name, class, site_id, parent_id, vendor, model, os_version, serial, \
                     asset_tag, mgmt_address, status, criticality, support_group, owner, description, sla_policy, \
                     contract_id, purchased_on, warranty_ends_on, end_of_sale_on, end_of_support_on, end_of_life_on, \
                     attrs, source, search, version, created_at_ms, updated_at_ms) ",
                );
                qb.push_values(chunk, |mut b, i| {
                    let f = i.fields;
                    b.push_bind(f.name.clone())
                        .push_bind(f.class.clone())
                        .push_bind(i.site_id)
                        .push_bind(i.parent_id)
                        .push_bind(f.vendor.clone())
                        .push_bind(f.model.clone())
                        .push_bind(f.os_version.clone())
                        .push_bind(f.serial.clone())
                        .push_bind(f.asset_tag.clone())
                        .push_bind(f.mgmt_address.clone())
                        .push_bind(f.status.clone())
                        .push_bind(f.criticality.clone())
                        .push_bind(f.support_group.clone())
                        .push_bind(f.owner.clone())
                        .push_bind(f.description.clone())
                        .push_bind(f.sla_policy.clone())
                        .push_bind(i.contract_id)
                        .push_bind(f.purchased_on.clone())
                        .push_bind(f.warranty_ends_on.clone())
                        .push_bind(f.end_of_sale_on.clone())
                        .push_bind(f.end_of_support_on.clone())
                        .push_bind(f.end_of_life_on.clone())
                        .push_bind(serde_json::Value::Object(f.attrs.clone()).to_string())
                        .push_bind(i.source.to_owned())
                        .push_bind(crate::cmdb::search_text(f))
                        .push_bind(1i64)
                        .push_bind(now_ms)
                        .push_bind(now_ms);
                });
                qb.push(" RETURNING id, site_id, parent_id, name");
                qb.build_query_as().fetch_all(&mut **t).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    pub async fn insert_item_versions(&mut self, versions: &[ItemVersion]) -> Result<()> {
        for chunk in versions.chunks(VERSION_ROWS) {
            on_tx!(self, t => {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO item_versions (item_id, version, at_ms, actor, change, snapshot) ",
                );
                qb.push_values(chunk, |mut b, v| {
                    b.push_bind(v.item_id)
                        .push_bind(v.version)
                        .push_bind(v.at_ms)
                        .push_bind(v.actor.clone())
                        .push_bind(v.change.clone())
                        .push_bind(v.snapshot.clone());
                });
                qb.build().execute(&mut **t).await?.rows_affected()
            });
        }
        Ok(())
    }

    /// Inserts `(from, kind, to)` relationships, all from `source`.
    pub async fn insert_relationships(
        &mut self,
        rows: &[(i64, &str, Target)],
        source: &str,
        now_ms: i64,
    ) -> Result<()> {
        for chunk in rows.chunks(RELATIONSHIP_ROWS) {
            on_tx!(self, t => {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO relationships (from_id, kind, to_id, to_group_id, source, created_at_ms) ",
                );
                qb.push_values(chunk, |mut b, (from, kind, to)| {
                    let (to_id, to_group) = match to {
                        Target::Item(i) => (Some(*i), None),
                        Target::Group(g) => (None, Some(*g)),
                    };
                    b.push_bind(*from)
                        .push_bind((*kind).to_owned())
                        .push_bind(to_id)
                        .push_bind(to_group)
                        .push_bind(source.to_owned())
                        .push_bind(now_ms);
                });
                qb.build().execute(&mut **t).await?.rows_affected()
            });
        }
        Ok(())
    }
}
