//! Sites and configuration items: listing within a user's sites, reading, writing with
//! optimistic versioning, and each item's version history.

use crate::sql::{Arg, Where, bind_args, order_page};
use crate::{Result, Store, Tx, on, on_tx};
use model::list::{ListQuery, ListSpec};
use sqlx::AssertSqlSafe;

pub const SITE_LIST: ListSpec =
    ListSpec { sortable: &["slug", "name", "kind"], default_sort: "slug", filters: &["kind"] };

pub const ITEM_LIST: ListSpec = ListSpec {
    sortable: &["name", "class", "site", "vendor", "status"],
    default_sort: "name",
    filters: &["class", "site", "vendor", "status", "criticality", "contract"],
};

fn item_column(field: &str) -> &'static str {
    match field {
        "class" => "i.class",
        "site" => "s.slug",
        "vendor" => "i.vendor",
        "status" => "i.status",
        _ => "i.name",
    }
}

fn site_column(field: &str) -> &'static str {
    match field {
        "name" => "name",
        "kind" => "kind",
        _ => "slug",
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SiteRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub kind: String,
    pub zone: String,
    pub purdue_level: Option<i64>,
    pub criticality: String,
    pub time_zone: String,
}

#[derive(Debug, Clone)]
pub struct NewSite<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub zone: &'a str,
    pub purdue_level: Option<i64>,
    pub criticality: &'a str,
    pub time_zone: &'a str,
}

/// A configuration item as stored, with its site and parent by name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub site: Option<String>,
    pub parent_id: Option<i64>,
    pub parent: Option<String>,
    pub vendor: String,
    pub model: String,
    pub os_version: String,
    pub serial: String,
    pub asset_tag: String,
    pub mgmt_address: String,
    pub status: String,
    pub criticality: String,
    pub support_group: String,
    pub owner: String,
    pub description: String,
    pub sla_policy: String,
    pub contract_id: Option<i64>,
    pub purchased_on: Option<String>,
    pub warranty_ends_on: Option<String>,
    pub end_of_sale_on: Option<String>,
    pub end_of_support_on: Option<String>,
    pub end_of_life_on: Option<String>,
    /// Custom attributes, a JSON object.
    pub attrs: String,
    /// The import that wrote it (`netbox`, `yaml`…); empty when entered by hand.
    pub source: String,
    pub version: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// An item to write: its validated fields and the ids they refer to.
#[derive(Debug, Clone, Copy)]
pub struct ItemWrite<'a> {
    pub fields: &'a model::cmdb::ItemFields,
    pub site_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub contract_id: Option<i64>,
    pub source: &'a str,
}

const ITEM_SELECT: &str = "SELECT i.id, i.name, i.class, s.slug AS site, i.parent_id, p.name AS parent, i.vendor, \
    i.model, i.os_version, i.serial, i.asset_tag, i.mgmt_address, i.status, i.criticality, i.support_group, i.owner, \
    i.description, i.sla_policy, i.contract_id, i.purchased_on, i.warranty_ends_on, i.end_of_sale_on, \
    i.end_of_support_on, i.end_of_life_on, i.attrs, i.source, i.version, i.created_at_ms, i.updated_at_ms \
    FROM config_items i LEFT JOIN sites s ON s.id = i.site_id LEFT JOIN config_items p ON p.id = i.parent_id";

/// What item search looks in: name, management address, model and serial, lower-cased and
/// kept in one column so a search is one comparison per row.
pub(crate) fn search_text(f: &model::cmdb::ItemFields) -> String {
    [f.name.as_str(), &f.mgmt_address, &f.model, &f.serial].join("\n").to_lowercase()
}

/// A page row with the number of rows matching in all, counted in the same scan.
#[derive(sqlx::FromRow)]
struct ItemPageRow {
    total: i64,
    #[sqlx(flatten)]
    item: ItemRow,
}

const ITEM_FROM: &str = " FROM config_items i LEFT JOIN sites s ON s.id = i.site_id";

/// The item list's facets and the column each counts.
const FACETS: [(&str, &str); 5] = [
    ("class", "i.class"),
    ("site", "s.slug"),
    ("status", "i.status"),
    ("criticality", "i.criticality"),
    ("vendor", "i.vendor"),
];

/// The conditions of an item query, leaving out the filter named `skip` (for its facet).
fn item_where(q: &ListQuery, scope: &[String], skip: Option<&str>) -> Where {
    let mut w = Where::default();
    if !scope.is_empty() {
        w.in_text("s.slug", scope);
    }
    let wanted = |name: &str| q.filter(name).filter(|_| skip != Some(name));
    if let Some(class) = wanted("class") {
        let family: Vec<String> = model::cmdb::descendants(class).into_iter().map(str::to_owned).collect();
        if family.is_empty() {
            w.eq("i.class", Arg::Text(class.to_owned()));
        } else {
            w.in_text("i.class", &family);
        }
    }
    for (filter, column) in
        [("site", "s.slug"), ("vendor", "i.vendor"), ("status", "i.status"), ("criticality", "i.criticality")]
    {
        if let Some(v) = wanted(filter) {
            w.eq(column, Arg::Text(v.to_owned()));
        }
    }
    if let Some(c) = q.filter("contract") {
        // A contract id that is not a number matches nothing rather than everything.
        w.eq("i.contract_id", Arg::Int(c.parse().unwrap_or(-1)));
    }
    if let Some(text) = &q.q {
        w.contains("i.search", text);
    }
    w
}

impl Store {
    /// Sites, limited to `scope` when the user is site-scoped.
    pub async fn list_sites(&self, q: &ListQuery, scope: &[String]) -> Result<(Vec<SiteRow>, i64)> {
        let mut w = Where::default();
        if !scope.is_empty() {
            w.in_text("slug", scope);
        }
        if let Some(k) = q.filter("kind") {
            w.eq("kind", Arg::Text(k.to_owned()));
        }
        if let Some(text) = &q.q {
            w.search(&["slug", "name", "zone"], text);
        }
        let sql = format!(
            "SELECT id, slug, name, kind, zone, purdue_level, criticality, time_zone FROM sites{}{}",
            w.sql(),
            order_page(q, site_column, "id")
        );
        let count_sql = format!("SELECT COUNT(*) FROM sites{}", w.sql());
        Ok(on!(self.pool(), p => (
            bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), &w.args).fetch_all(p).await?,
            bind_args!(sqlx::query_scalar(AssertSqlSafe(count_sql.as_str())), &w.args).fetch_one(p).await?,
        )))
    }

    /// Configuration items, limited to `scope` when the user is site-scoped.
    pub async fn list_items(&self, q: &ListQuery, scope: &[String]) -> Result<(Vec<ItemRow>, i64)> {
        let w = item_where(q, scope, None);
        let select = ITEM_SELECT.replacen("SELECT ", "SELECT COUNT(*) OVER () AS total, ", 1);
        let sql = format!("{select}{}{}", w.sql(), order_page(q, item_column, "i.id"));
        let rows: Vec<ItemPageRow> =
            on!(self.pool(), p => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), &w.args).fetch_all(p).await?);
        let total = match rows.first() {
            Some(r) => r.total,
            // Past the last page the window has no row to count on.
            None if q.offset > 0 => {
                let count_sql = format!("SELECT COUNT(*){ITEM_FROM}{}", w.sql());
                on!(self.pool(), p => bind_args!(sqlx::query_scalar(AssertSqlSafe(count_sql.as_str())), &w.args).fetch_one(p).await?)
            }
            None => 0,
        };
        Ok((rows.into_iter().map(|r| r.item).collect(), total))
    }

    /// For each facet (class, site, status, criticality, vendor), how many items match each
    /// value under the query's other filters, so picking a value shows what it would leave.
    pub async fn item_facets(
        &self,
        q: &ListQuery,
        scope: &[String],
    ) -> Result<Vec<(&'static str, Vec<(String, i64)>)>> {
        let mut out = Vec::new();
        for (facet, column) in FACETS {
            let w = item_where(q, scope, Some(facet));
            let sql = format!(
                "SELECT COALESCE({column}, ''), COUNT(*){ITEM_FROM}{} GROUP BY {column} ORDER BY COUNT(*) DESC, {column} LIMIT 40",
                w.sql()
            );
            let counts: Vec<(String, i64)> = on!(self.pool(), p =>
                bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), &w.args).fetch_all(p).await?);
            out.push((facet, counts));
        }
        Ok(out)
    }

    /// Item counts by class within `scope`, for the dashboard.
    pub async fn item_counts_by_class(&self, scope: &[String]) -> Result<Vec<(String, i64)>> {
        let mut w = Where::default();
        if !scope.is_empty() {
            w.in_text("s.slug", scope);
        }
        let sql = format!("SELECT i.class, COUNT(*){ITEM_FROM}{} GROUP BY i.class ORDER BY i.class", w.sql());
        Ok(on!(self.pool(), p => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), &w.args).fetch_all(p).await?))
    }

    pub async fn item(&self, id: i64) -> Result<Option<ItemRow>> {
        let sql = format!("{ITEM_SELECT} WHERE i.id = $1");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?))
    }

    /// Items called `name` (at `site`, when given), for resolving what a person typed.
    pub async fn items_named(&self, name: &str, site: Option<&str>) -> Result<Vec<ItemRow>> {
        let sql = format!("{ITEM_SELECT} WHERE i.name = $1 AND ($2 IS NULL OR s.slug = $2) ORDER BY i.id LIMIT 20");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).bind(name).bind(site).fetch_all(p).await?))
    }

    /// Ids of items in any of `statuses`.
    pub async fn item_ids_with_status(&self, statuses: &[&str]) -> Result<Vec<i64>> {
        let mut w = Where::default();
        w.in_text("status", &statuses.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        let sql = format!("SELECT id FROM config_items{} ORDER BY id", w.sql());
        Ok(
            on!(self.pool(), p => bind_args!(sqlx::query_scalar(AssertSqlSafe(sql.as_str())), &w.args).fetch_all(p).await?),
        )
    }

    /// Items of any of `classes`, by name.
    pub async fn items_of_classes(&self, classes: &[&str]) -> Result<Vec<ItemRow>> {
        let mut w = Where::default();
        w.in_text("i.class", &classes.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        let sql = format!("{ITEM_SELECT}{} ORDER BY i.name, i.id", w.sql());
        Ok(on!(self.pool(), p => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), &w.args).fetch_all(p).await?))
    }

    /// Every item, for planning an import or exporting.
    pub async fn all_items(&self) -> Result<Vec<ItemRow>> {
        let sql = format!("{ITEM_SELECT} ORDER BY i.id");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    pub async fn all_sites(&self) -> Result<Vec<SiteRow>> {
        Ok(on!(self.pool(), p => sqlx::query_as(
            "SELECT id, slug, name, kind, zone, purdue_level, criticality, time_zone FROM sites ORDER BY slug",
        ).fetch_all(p).await?))
    }

    pub async fn site_id(&self, slug: &str) -> Result<Option<i64>> {
        Ok(on!(self.pool(), p => sqlx::query_scalar("SELECT id FROM sites WHERE slug = $1").bind(slug)
            .fetch_optional(p).await?))
    }

    /// An item's versions, oldest first.
    pub async fn item_versions(&self, item_id: i64) -> Result<Vec<ItemVersion>> {
        Ok(on!(self.pool(), p => sqlx::query_as(
            "SELECT item_id, version, at_ms, actor, change, snapshot FROM item_versions WHERE item_id = $1 ORDER BY version",
        ).bind(item_id).fetch_all(p).await?))
    }

    pub async fn site_slugs(&self) -> Result<Vec<String>> {
        Ok(on!(self.pool(), p => sqlx::query_scalar("SELECT slug FROM sites ORDER BY slug").fetch_all(p).await?))
    }
}

/// One version of an item: who changed it, when, how, and what it was afterwards.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ItemVersion {
    pub item_id: i64,
    pub version: i64,
    pub at_ms: i64,
    pub actor: String,
    /// create, update, delete
    pub change: String,
    pub snapshot: String,
}

impl Tx {
    pub async fn update_site(&mut self, s: &NewSite<'_>) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "UPDATE sites SET name = $2, kind = $3, zone = $4, purdue_level = $5, criticality = $6, time_zone = $7 \
             WHERE slug = $1",
        )
        .bind(s.slug).bind(s.name).bind(s.kind).bind(s.zone).bind(s.purdue_level).bind(s.criticality).bind(s.time_zone)
        .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    pub async fn insert_site(&mut self, s: &NewSite<'_>, now_ms: i64) -> Result<i64> {
        Ok(on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO sites (slug, name, kind, zone, purdue_level, criticality, time_zone, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(s.slug).bind(s.name).bind(s.kind).bind(s.zone).bind(s.purdue_level).bind(s.criticality)
        .bind(s.time_zone).bind(now_ms)
        .fetch_one(&mut **t).await?))
    }

    pub async fn insert_item(&mut self, i: ItemWrite<'_>, now_ms: i64) -> Result<i64> {
        let f = i.fields;
        let attrs = serde_json::Value::Object(f.attrs.clone()).to_string();
        Ok(on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO config_items (name, class, site_id, parent_id, vendor, model, os_version, serial, asset_tag, \
             mgmt_address, status, criticality, support_group, owner, description, sla_policy, contract_id, \
             purchased_on, warranty_ends_on, end_of_sale_on, end_of_support_on, end_of_life_on, attrs, source, search, \
             version, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, \
             $22, $23, $25, $26, 1, $24, $24) RETURNING id",
        )
        .bind(&f.name).bind(&f.class).bind(i.site_id).bind(i.parent_id).bind(&f.vendor).bind(&f.model)
        .bind(&f.os_version).bind(&f.serial).bind(&f.asset_tag).bind(&f.mgmt_address).bind(&f.status)
        .bind(&f.criticality).bind(&f.support_group).bind(&f.owner).bind(&f.description).bind(&f.sla_policy)
        .bind(i.contract_id).bind(&f.purchased_on).bind(&f.warranty_ends_on).bind(&f.end_of_sale_on)
        .bind(&f.end_of_support_on).bind(&f.end_of_life_on).bind(&attrs).bind(now_ms).bind(i.source)
        .bind(search_text(f))
        .fetch_one(&mut **t).await?))
    }

    /// Overwrites item `id` if it is still at `version`; returns the new version, or
    /// [`StoreError::Stale`](crate::StoreError) when someone else changed it first.
    pub async fn update_item(&mut self, id: i64, version: i64, i: ItemWrite<'_>, now_ms: i64) -> Result<i64> {
        let f = i.fields;
        let attrs = serde_json::Value::Object(f.attrs.clone()).to_string();
        let n = on_tx!(self, t => sqlx::query(
            "UPDATE config_items SET name = $1, class = $2, site_id = $3, parent_id = $4, vendor = $5, model = $6, \
             os_version = $7, serial = $8, asset_tag = $9, mgmt_address = $10, status = $11, criticality = $12, \
             support_group = $13, owner = $14, description = $15, sla_policy = $16, contract_id = $17, \
             purchased_on = $18, warranty_ends_on = $19, end_of_sale_on = $20, end_of_support_on = $21, \
             end_of_life_on = $22, attrs = $23, version = version + 1, updated_at_ms = $24, source = $27, search = $28 \
             WHERE id = $25 AND version = $26",
        )
        .bind(&f.name).bind(&f.class).bind(i.site_id).bind(i.parent_id).bind(&f.vendor).bind(&f.model)
        .bind(&f.os_version).bind(&f.serial).bind(&f.asset_tag).bind(&f.mgmt_address).bind(&f.status)
        .bind(&f.criticality).bind(&f.support_group).bind(&f.owner).bind(&f.description).bind(&f.sla_policy)
        .bind(i.contract_id).bind(&f.purchased_on).bind(&f.warranty_ends_on).bind(&f.end_of_sale_on)
        .bind(&f.end_of_support_on).bind(&f.end_of_life_on).bind(&attrs).bind(now_ms).bind(id).bind(version)
        .bind(i.source).bind(search_text(f))
        .execute(&mut **t).await?.rows_affected());
        if n == 0 {
            return Err(crate::StoreError::Stale);
        }
        Ok(version + 1)
    }

    pub async fn delete_item(&mut self, id: i64) -> Result<()> {
        let n = on_tx!(self, t => sqlx::query("DELETE FROM config_items WHERE id = $1").bind(id)
            .execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(crate::StoreError::NotFound) } else { Ok(()) }
    }

    /// Keeps `snapshot` (the item as JSON) as version `version` of item `item_id`.
    pub async fn record_item_version(&mut self, v: &ItemVersion) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "INSERT INTO item_versions (item_id, version, at_ms, actor, change, snapshot) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(v.item_id).bind(v.version).bind(v.at_ms).bind(&v.actor).bind(&v.change).bind(&v.snapshot)
        .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    pub async fn item_in_tx(&mut self, id: i64) -> Result<Option<ItemRow>> {
        let sql = format!("{ITEM_SELECT} WHERE i.id = $1");
        Ok(on_tx!(self, t => sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **t).await?))
    }
}
