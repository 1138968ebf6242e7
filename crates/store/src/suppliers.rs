//! Vendors (the `organisations` table), their support contracts, and firmware baselines.

use crate::{Result, Store, Tx, on, on_tx};
use model::firmware::Baseline;
use model::supplier::{ContractFields, VendorFields};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VendorRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub kind: String,
    pub phone: String,
    pub email: String,
    pub portal: String,
    pub escalation: String,
    /// JSON array of `model::supplier::Contact`.
    pub contacts: String,
    /// Contracts with this vendor.
    pub contracts: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContractRow {
    pub id: i64,
    pub vendor: String,
    pub vendor_name: String,
    pub reference: String,
    pub support_level: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub contact: String,
    pub escalation: String,
    /// Items this contract covers.
    pub items: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl ContractRow {
    pub fn fields(&self) -> ContractFields {
        ContractFields {
            reference: self.reference.clone(),
            support_level: self.support_level.clone(),
            starts_on: self.starts_on.clone(),
            ends_on: self.ends_on.clone(),
            contact: self.contact.clone(),
            escalation: self.escalation.clone(),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BaselineRow {
    pub id: i64,
    pub vendor: String,
    pub model: String,
    pub recommended: String,
    pub minimum: Option<String>,
    pub updated_at_ms: i64,
}

impl BaselineRow {
    pub fn baseline(&self) -> Baseline {
        Baseline {
            vendor: self.vendor.clone(),
            model: self.model.clone(),
            recommended: self.recommended.clone(),
            minimum: self.minimum.clone(),
        }
    }
}

const VENDOR_SELECT: &str = "SELECT o.id, o.slug, o.name, o.kind, o.phone, o.email, o.portal, o.escalation, o.contacts, \
    (SELECT COUNT(*) FROM contracts c WHERE c.organisation_id = o.id) AS contracts, o.created_at_ms, o.updated_at_ms \
    FROM organisations o";

const CONTRACT_SELECT: &str = "SELECT c.id, o.slug AS vendor, o.name AS vendor_name, c.reference, c.support_level, \
    c.starts_on, c.ends_on, c.contact, c.escalation, \
    (SELECT COUNT(*) FROM config_items i WHERE i.contract_id = c.id) AS items, c.created_at_ms, c.updated_at_ms \
    FROM contracts c JOIN organisations o ON o.id = c.organisation_id";

const BASELINE_SELECT: &str = "SELECT id, vendor, model, recommended, minimum, updated_at_ms FROM firmware_baselines";

impl Store {
    pub async fn vendors(&self) -> Result<Vec<VendorRow>> {
        let sql = format!("{VENDOR_SELECT} ORDER BY o.name, o.slug");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    pub async fn vendor(&self, slug: &str) -> Result<Option<VendorRow>> {
        let sql = format!("{VENDOR_SELECT} WHERE o.slug = $1");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(slug).fetch_optional(p).await?))
    }

    /// Contracts, of one vendor when `vendor` is given.
    pub async fn contracts(&self, vendor: Option<&str>) -> Result<Vec<ContractRow>> {
        let sql = format!("{CONTRACT_SELECT} WHERE ($1 IS NULL OR o.slug = $1) ORDER BY o.name, c.reference");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(vendor).fetch_all(p).await?))
    }

    pub async fn contract(&self, id: i64) -> Result<Option<ContractRow>> {
        let sql = format!("{CONTRACT_SELECT} WHERE c.id = $1");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?))
    }

    /// The contract `reference` with vendor `vendor`, for imports that name contracts.
    pub async fn contract_by_key(&self, vendor: &str, reference: &str) -> Result<Option<ContractRow>> {
        let sql = format!("{CONTRACT_SELECT} WHERE o.slug = $1 AND c.reference = $2");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(vendor).bind(reference)
            .fetch_optional(p).await?))
    }

    pub async fn baselines(&self) -> Result<Vec<BaselineRow>> {
        let sql = format!("{BASELINE_SELECT} ORDER BY lower(vendor), lower(model)");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    pub async fn baseline(&self, id: i64) -> Result<Option<BaselineRow>> {
        let sql = format!("{BASELINE_SELECT} WHERE id = $1");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?))
    }
}

impl Tx {
    pub async fn insert_vendor(&mut self, v: &VendorFields, now_ms: i64) -> Result<i64> {
        let contacts = serde_json::to_string(&v.contacts).unwrap_or_else(|_| "[]".into());
        Ok(on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO organisations (slug, name, kind, phone, email, portal, escalation, contacts, created_at_ms, \
             updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(&v.slug).bind(&v.name).bind(&v.kind).bind(&v.phone).bind(&v.email).bind(&v.portal)
        .bind(&v.escalation).bind(&contacts).bind(now_ms)
        .fetch_one(&mut **t).await?))
    }

    /// Replaces vendor `slug`'s fields (its slug included, so it can be renamed).
    pub async fn update_vendor(&mut self, slug: &str, v: &VendorFields, now_ms: i64) -> Result<()> {
        let contacts = serde_json::to_string(&v.contacts).unwrap_or_else(|_| "[]".into());
        let n = on_tx!(self, t => sqlx::query(
            "UPDATE organisations SET slug = $2, name = $3, kind = $4, phone = $5, email = $6, portal = $7, \
             escalation = $8, contacts = $9, updated_at_ms = $10 WHERE slug = $1",
        )
        .bind(slug).bind(&v.slug).bind(&v.name).bind(&v.kind).bind(&v.phone).bind(&v.email).bind(&v.portal)
        .bind(&v.escalation).bind(&contacts).bind(now_ms)
        .execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(crate::StoreError::NotFound) } else { Ok(()) }
    }

    /// Deletes a vendor with no contracts; returns false when it still has some.
    pub async fn delete_vendor(&mut self, slug: &str) -> Result<bool> {
        let n = on_tx!(self, t => sqlx::query(
            "DELETE FROM organisations WHERE slug = $1 \
             AND NOT EXISTS (SELECT 1 FROM contracts c WHERE c.organisation_id = organisations.id)",
        )
        .bind(slug).execute(&mut **t).await?.rows_affected());
        Ok(n == 1)
    }

    pub async fn insert_contract(&mut self, vendor_id: i64, c: &ContractFields, now_ms: i64) -> Result<i64> {
        Ok(on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO contracts (organisation_id, reference, support_level, starts_on, ends_on, contact, escalation, \
             created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(vendor_id).bind(&c.reference).bind(&c.support_level).bind(&c.starts_on).bind(&c.ends_on)
        .bind(&c.contact).bind(&c.escalation).bind(now_ms)
        .fetch_one(&mut **t).await?))
    }

    pub async fn update_contract(&mut self, id: i64, c: &ContractFields, now_ms: i64) -> Result<()> {
        let n = on_tx!(self, t => sqlx::query(
            "UPDATE contracts SET reference = $2, support_level = $3, starts_on = $4, ends_on = $5, contact = $6, \
             escalation = $7, updated_at_ms = $8 WHERE id = $1",
        )
        .bind(id).bind(&c.reference).bind(&c.support_level).bind(&c.starts_on).bind(&c.ends_on)
        .bind(&c.contact).bind(&c.escalation).bind(now_ms)
        .execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(crate::StoreError::NotFound) } else { Ok(()) }
    }

    /// Deletes a contract that covers no item; returns false when items still name it.
    pub async fn delete_contract(&mut self, id: i64) -> Result<bool> {
        let n = on_tx!(self, t => sqlx::query(
            "DELETE FROM contracts WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM config_items i WHERE i.contract_id = $1)",
        )
        .bind(id).execute(&mut **t).await?.rows_affected());
        Ok(n == 1)
    }

    pub async fn insert_baseline(&mut self, b: &Baseline, now_ms: i64) -> Result<i64> {
        Ok(on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO firmware_baselines (vendor, model, recommended, minimum, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(&b.vendor).bind(&b.model).bind(&b.recommended).bind(&b.minimum).bind(now_ms)
        .fetch_one(&mut **t).await?))
    }

    pub async fn update_baseline(&mut self, id: i64, b: &Baseline, now_ms: i64) -> Result<()> {
        let n = on_tx!(self, t => sqlx::query(
            "UPDATE firmware_baselines SET vendor = $2, model = $3, recommended = $4, minimum = $5, updated_at_ms = $6 \
             WHERE id = $1",
        )
        .bind(id).bind(&b.vendor).bind(&b.model).bind(&b.recommended).bind(&b.minimum).bind(now_ms)
        .execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(crate::StoreError::NotFound) } else { Ok(()) }
    }

    pub async fn delete_baseline(&mut self, id: i64) -> Result<()> {
        let n = on_tx!(self, t => sqlx::query("DELETE FROM firmware_baselines WHERE id = $1").bind(id)
            .execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(crate::StoreError::NotFound) } else { Ok(()) }
    }
}
