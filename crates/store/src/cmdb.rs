//! The first slice of the CMDB: sites and configuration items, enough for the demo estate,
//! the dashboard and site-scoped access. The full class model arrives with the CMDB issue.

use crate::sql::{Arg, Where, bind_args, order_page};
use crate::{Result, Store, Tx, on, on_tx};
use model::list::{ListQuery, ListSpec};
use sqlx::AssertSqlSafe;

pub const SITE_LIST: ListSpec =
    ListSpec { sortable: &["slug", "name", "kind"], default_sort: "slug", filters: &["kind"] };

pub const ITEM_LIST: ListSpec = ListSpec {
    sortable: &["name", "class", "site", "vendor", "status"],
    default_sort: "name",
    filters: &["class", "site", "vendor", "status", "criticality"],
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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub site: String,
    pub vendor: String,
    pub model: String,
    pub os_version: String,
    pub serial: String,
    pub mgmt_address: String,
    pub status: String,
    pub criticality: String,
    pub support_group: String,
}

#[derive(Debug, Clone)]
pub struct NewItem<'a> {
    pub name: &'a str,
    pub class: &'a str,
    pub site: &'a str,
    pub vendor: &'a str,
    pub model: &'a str,
    pub os_version: &'a str,
    pub serial: &'a str,
    pub mgmt_address: &'a str,
    pub criticality: &'a str,
    pub support_group: &'a str,
}

const ITEM_SELECT: &str = "SELECT i.id, i.name, i.class, s.slug AS site, i.vendor, i.model, i.os_version, i.serial, \
    i.mgmt_address, i.status, i.criticality, i.support_group FROM config_items i JOIN sites s ON s.id = i.site_id";

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
        let mut w = Where::default();
        if !scope.is_empty() {
            w.in_text("s.slug", scope);
        }
        for (filter, column) in [
            ("class", "i.class"),
            ("site", "s.slug"),
            ("vendor", "i.vendor"),
            ("status", "i.status"),
            ("criticality", "i.criticality"),
        ] {
            if let Some(v) = q.filter(filter) {
                w.eq(column, Arg::Text(v.to_owned()));
            }
        }
        if let Some(text) = &q.q {
            w.search(&["i.name", "i.mgmt_address", "i.model", "i.serial"], text);
        }
        let sql = format!("{ITEM_SELECT}{}{}", w.sql(), order_page(q, item_column, "i.id"));
        let count_sql = format!("SELECT COUNT(*) FROM config_items i JOIN sites s ON s.id = i.site_id{}", w.sql());
        Ok(on!(self.pool(), p => (
            bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), &w.args).fetch_all(p).await?,
            bind_args!(sqlx::query_scalar(AssertSqlSafe(count_sql.as_str())), &w.args).fetch_one(p).await?,
        )))
    }

    /// Item counts by class within `scope`, for the dashboard.
    pub async fn item_counts_by_class(&self, scope: &[String]) -> Result<Vec<(String, i64)>> {
        let mut w = Where::default();
        if !scope.is_empty() {
            w.in_text("s.slug", scope);
        }
        let sql = format!(
            "SELECT i.class, COUNT(*) FROM config_items i JOIN sites s ON s.id = i.site_id{} GROUP BY i.class ORDER BY i.class",
            w.sql()
        );
        Ok(on!(self.pool(), p => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), &w.args).fetch_all(p).await?))
    }

    pub async fn site_slugs(&self) -> Result<Vec<String>> {
        Ok(on!(self.pool(), p => sqlx::query_scalar("SELECT slug FROM sites ORDER BY slug").fetch_all(p).await?))
    }
}

impl Tx {
    pub async fn insert_site(&mut self, s: &NewSite<'_>, now_ms: i64) -> Result<i64> {
        Ok(on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO sites (slug, name, kind, zone, purdue_level, criticality, time_zone, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(s.slug).bind(s.name).bind(s.kind).bind(s.zone).bind(s.purdue_level).bind(s.criticality)
        .bind(s.time_zone).bind(now_ms)
        .fetch_one(&mut **t).await?))
    }

    pub async fn insert_item(&mut self, i: &NewItem<'_>, now_ms: i64) -> Result<i64> {
        Ok(on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO config_items (name, class, site_id, vendor, model, os_version, serial, mgmt_address, \
             criticality, support_group, created_at_ms, updated_at_ms) \
             SELECT $1, $2, id, $3, $4, $5, $6, $7, $8, $9, $10, $10 FROM sites WHERE slug = $11 RETURNING id",
        )
        .bind(i.name).bind(i.class).bind(i.vendor).bind(i.model).bind(i.os_version).bind(i.serial)
        .bind(i.mgmt_address).bind(i.criticality).bind(i.support_group).bind(now_ms).bind(i.site)
        .fetch_one(&mut **t).await?))
    }
}
