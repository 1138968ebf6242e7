//! Device configurations per configuration item: each distinct version, newest first, and
//! the latest version of every device for the archive's overview.

use crate::{Result, Store, Tx, on, on_tx};
use sqlx::AssertSqlSafe;

/// One stored version of a device's configuration, without its text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConfigMeta {
    pub item_id: i64,
    /// The item's name now (the name it had when it was deleted for a deleted item: empty).
    pub item: String,
    /// The item's site slug, for site-scoped readers.
    pub site: Option<String>,
    pub version: i64,
    pub vendor: String,
    pub file_name: String,
    pub fingerprint: String,
    pub lines: i64,
    pub secrets_removed: i64,
    pub source: String,
    pub actor: String,
    pub note: String,
    pub at_ms: i64,
}

/// A version with its text.
#[derive(Debug, Clone)]
pub struct ConfigRow {
    pub meta: ConfigMeta,
    pub content: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct ConfigRecord {
    #[sqlx(flatten)]
    meta: ConfigMeta,
    content: String,
}

/// A version to store.
#[derive(Debug, Clone)]
pub struct NewConfig<'a> {
    pub item_id: i64,
    pub version: i64,
    pub vendor: &'a str,
    pub file_name: &'a str,
    pub fingerprint: &'a str,
    pub content: &'a str,
    pub lines: i64,
    pub secrets_removed: i64,
    pub source: &'a str,
    pub actor: &'a str,
    pub note: &'a str,
    pub at_ms: i64,
}

const META: &str = "c.item_id, COALESCE(i.name, '') AS item, s.slug AS site, c.version, c.vendor, c.file_name, \
    c.fingerprint, c.lines, c.secrets_removed, c.source, c.actor, c.note, c.at_ms \
    FROM device_configs c LEFT JOIN config_items i ON i.id = c.item_id LEFT JOIN sites s ON s.id = i.site_id";

impl Store {
    /// Every version of an item's configuration, newest first.
    pub async fn config_versions(&self, item_id: i64) -> Result<Vec<ConfigMeta>> {
        let sql = format!("SELECT {META} WHERE c.item_id = $1 ORDER BY c.version DESC");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).bind(item_id).fetch_all(p).await?))
    }

    /// One version with its text; the latest when `version` is `None`.
    pub async fn config(&self, item_id: i64, version: Option<i64>) -> Result<Option<ConfigRow>> {
        let sql = format!(
            "SELECT {META_CONTENT} WHERE c.item_id = $1 AND c.version = COALESCE($2, \
             (SELECT MAX(version) FROM device_configs WHERE item_id = $1))",
            META_CONTENT = META.replacen("c.at_ms", "c.at_ms, c.content", 1)
        );
        let rec: Option<ConfigRecord> = on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql))
            .bind(item_id).bind(version).fetch_optional(p).await?);
        Ok(rec.map(|r| ConfigRow { meta: r.meta, content: r.content }))
    }

    /// The latest version of every item's configuration, by item name.
    pub async fn latest_configs(&self) -> Result<Vec<ConfigMeta>> {
        let sql = format!(
            "SELECT {META} WHERE i.id IS NOT NULL AND c.version = \
             (SELECT MAX(version) FROM device_configs d WHERE d.item_id = c.item_id) ORDER BY i.name"
        );
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(p).await?))
    }
}

impl Tx {
    /// The latest version's number and fingerprint, read inside the writing transaction so
    /// two collectors storing at once cannot both take the same number.
    pub async fn latest_config_fingerprint(&mut self, item_id: i64) -> Result<Option<(i64, String)>> {
        let sql = "SELECT version, fingerprint FROM device_configs WHERE item_id = $1 ORDER BY version DESC LIMIT 1";
        Ok(on_tx!(self, t => sqlx::query_as(sql).bind(item_id).fetch_optional(&mut **t).await?))
    }

    pub async fn insert_config(&mut self, c: &NewConfig<'_>) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "INSERT INTO device_configs (item_id, version, vendor, file_name, fingerprint, content, lines, \
             secrets_removed, source, actor, note, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(c.item_id).bind(c.version).bind(c.vendor).bind(c.file_name).bind(c.fingerprint).bind(c.content)
        .bind(c.lines).bind(c.secrets_removed).bind(c.source).bind(c.actor).bind(c.note).bind(c.at_ms)
        .execute(&mut **t).await?.rows_affected());
        Ok(())
    }
}
