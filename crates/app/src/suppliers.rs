//! The vendor register: vendors and carriers with their escalation ladders, the support
//! contracts that cover items, and the firmware baselines items are judged against. Each
//! change is audited with the record before and after.
//!
//! Contracts carry commercial terms, so the register is closed to site-scoped accounts
//! (vendors working on their own kit see their items, not each other's contracts).

use crate::audit::event;
use crate::{Actor, App, AppError, Result};
use model::Perm;
use model::firmware::Baseline;
use model::supplier::{Contact, ContractFields, Standing, VendorFields};
use serde::Serialize;
use serde_json::json;
use store::{BaselineRow, ContractRow, VendorRow};

/// How far ahead a contract counts as expiring.
pub const CONTRACT_WARNING_DAYS: i64 = 90;

/// A contract and where it stands today.
#[derive(Debug, Clone)]
pub struct ContractView {
    pub row: ContractRow,
    pub standing: Standing,
}

/// A vendor's fields from its row.
pub fn vendor_fields(r: &VendorRow) -> VendorFields {
    VendorFields {
        slug: r.slug.clone(),
        name: r.name.clone(),
        kind: r.kind.clone(),
        phone: r.phone.clone(),
        email: r.email.clone(),
        portal: r.portal.clone(),
        escalation: r.escalation.clone(),
        contacts: serde_json::from_str::<Vec<Contact>>(&r.contacts).unwrap_or_default(),
    }
}

fn contract_doc(vendor: &str, c: &ContractFields) -> String {
    json!({"vendor": vendor, "contract": c}).to_string()
}

fn slug_taken(e: store::StoreError, field: &str, what: String) -> AppError {
    match e {
        store::StoreError::Conflict { .. } => model::Invalid::one(field, format!("{what} already exists")).into(),
        e => e.into(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineView {
    pub id: i64,
    #[serde(flatten)]
    pub baseline: Baseline,
}

impl From<BaselineRow> for BaselineView {
    fn from(r: BaselineRow) -> Self {
        BaselineView { id: r.id, baseline: r.baseline() }
    }
}

impl App {
    fn require_register(actor: &Actor, perm: Perm) -> Result<()> {
        actor.require(perm)?;
        if actor.sites.is_empty() { Ok(()) } else { Err(AppError::Forbidden(perm)) }
    }

    /// Today and the day `days` ahead, `YYYY-MM-DD` in UTC.
    pub(crate) fn today_plus(&self, days: i64) -> (String, String) {
        let now = jiff::Timestamp::from_millisecond(self.now_ms()).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let later = today.checked_add(jiff::Span::new().days(days)).unwrap_or(today);
        (today.to_string(), later.to_string())
    }

    pub(crate) fn contract_view(&self, row: ContractRow) -> ContractView {
        let (today, horizon) = self.today_plus(CONTRACT_WARNING_DAYS);
        ContractView { standing: row.fields().standing(&today, &horizon), row }
    }

    pub async fn vendors(&self, actor: &Actor) -> Result<Vec<VendorRow>> {
        Self::require_register(actor, Perm::CmdbRead)?;
        Ok(self.store.vendors().await?)
    }

    pub async fn vendor(&self, actor: &Actor, slug: &str) -> Result<VendorRow> {
        Self::require_register(actor, Perm::CmdbRead)?;
        self.store.vendor(slug).await?.ok_or_else(|| AppError::NotFound(format!("vendor `{slug}`")))
    }

    pub async fn create_vendor(&self, actor: &Actor, v: VendorFields) -> Result<VendorRow> {
        Self::require_register(actor, Perm::CmdbWrite)?;
        v.validate()?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.insert_vendor(&v, now).await.map_err(|e| slug_taken(e, "slug", format!("vendor `{}`", v.slug)))?;
        let doc = serde_json::to_string(&v).unwrap_or_default();
        tx.append_audit(event(actor, now, "vendor.create", "vendor", &v.slug, None, Some(doc))).await?;
        tx.commit().await?;
        self.vendor(actor, &v.slug).await
    }

    pub async fn update_vendor(&self, actor: &Actor, slug: &str, v: VendorFields) -> Result<VendorRow> {
        Self::require_register(actor, Perm::CmdbWrite)?;
        let before = self.vendor(actor, slug).await?;
        v.validate()?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.update_vendor(slug, &v, now).await.map_err(|e| slug_taken(e, "slug", format!("vendor `{}`", v.slug)))?;
        let before_doc = serde_json::to_string(&vendor_fields(&before)).unwrap_or_default();
        let doc = serde_json::to_string(&v).unwrap_or_default();
        tx.append_audit(event(actor, now, "vendor.update", "vendor", slug, Some(before_doc), Some(doc))).await?;
        tx.commit().await?;
        self.vendor(actor, &v.slug).await
    }

    /// Deletes a vendor that has no contracts left.
    pub async fn delete_vendor(&self, actor: &Actor, slug: &str) -> Result<()> {
        Self::require_register(actor, Perm::CmdbWrite)?;
        let before = self.vendor(actor, slug).await?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        if !tx.delete_vendor(slug).await? {
            return Err(AppError::Conflict(format!(
                "vendor `{slug}` still has {} contract(s); delete or move them first",
                before.contracts
            )));
        }
        let before_doc = serde_json::to_string(&vendor_fields(&before)).unwrap_or_default();
        tx.append_audit(event(actor, now, "vendor.delete", "vendor", slug, Some(before_doc), None)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Contracts, of one vendor when `vendor` is given, with where each stands today.
    pub async fn contracts(&self, actor: &Actor, vendor: Option<&str>) -> Result<Vec<ContractView>> {
        Self::require_register(actor, Perm::CmdbRead)?;
        if let Some(v) = vendor {
            self.vendor(actor, v).await?;
        }
        Ok(self.store.contracts(vendor).await?.into_iter().map(|r| self.contract_view(r)).collect())
    }

    pub async fn contract(&self, actor: &Actor, id: i64) -> Result<ContractView> {
        Self::require_register(actor, Perm::CmdbRead)?;
        let row = self.store.contract(id).await?.ok_or_else(|| AppError::NotFound(format!("contract {id}")))?;
        Ok(self.contract_view(row))
    }

    pub async fn create_contract(&self, actor: &Actor, vendor: &str, c: ContractFields) -> Result<ContractView> {
        Self::require_register(actor, Perm::CmdbWrite)?;
        let v = self.vendor(actor, vendor).await?;
        c.validate()?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let id = tx
            .insert_contract(v.id, &c, now)
            .await
            .map_err(|e| slug_taken(e, "reference", format!("contract `{}` with vendor `{vendor}`", c.reference)))?;
        tx.append_audit(event(
            actor,
            now,
            "contract.create",
            "contract",
            &id.to_string(),
            None,
            Some(contract_doc(vendor, &c)),
        ))
        .await?;
        tx.commit().await?;
        self.contract(actor, id).await
    }

    pub async fn update_contract(&self, actor: &Actor, id: i64, c: ContractFields) -> Result<ContractView> {
        Self::require_register(actor, Perm::CmdbWrite)?;
        let before = self.contract(actor, id).await?;
        c.validate()?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.update_contract(id, &c, now).await.map_err(|e| {
            slug_taken(e, "reference", format!("contract `{}` with vendor `{}`", c.reference, before.row.vendor))
        })?;
        let before_doc = contract_doc(&before.row.vendor, &before.row.fields());
        tx.append_audit(event(
            actor,
            now,
            "contract.update",
            "contract",
            &id.to_string(),
            Some(before_doc),
            Some(contract_doc(&before.row.vendor, &c)),
        ))
        .await?;
        tx.commit().await?;
        self.contract(actor, id).await
    }

    /// Deletes a contract that no item names.
    pub async fn delete_contract(&self, actor: &Actor, id: i64) -> Result<()> {
        Self::require_register(actor, Perm::CmdbWrite)?;
        let before = self.contract(actor, id).await?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        if !tx.delete_contract(id).await? {
            return Err(AppError::Conflict(format!(
                "contract {id} still covers {} item(s); move them to another contract first",
                before.row.items
            )));
        }
        let before_doc = contract_doc(&before.row.vendor, &before.row.fields());
        tx.append_audit(event(actor, now, "contract.delete", "contract", &id.to_string(), Some(before_doc), None))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Firmware baselines. Open to every CMDB reader: they are engineering, not commerce.
    pub async fn baselines(&self, actor: &Actor) -> Result<Vec<BaselineView>> {
        actor.require(Perm::CmdbRead)?;
        Ok(self.store.baselines().await?.into_iter().map(BaselineView::from).collect())
    }

    pub async fn create_baseline(&self, actor: &Actor, b: Baseline) -> Result<BaselineView> {
        Self::require_register(actor, Perm::CmdbWrite)?;
        b.validate()?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let id = tx
            .insert_baseline(&b, now)
            .await
            .map_err(|e| slug_taken(e, "model", format!("a baseline for {} `{}`", b.vendor, b.model)))?;
        let doc = serde_json::to_string(&b).unwrap_or_default();
        tx.append_audit(event(actor, now, "baseline.create", "baseline", &id.to_string(), None, Some(doc))).await?;
        tx.commit().await?;
        Ok(BaselineView { id, baseline: b })
    }

    pub async fn update_baseline(&self, actor: &Actor, id: i64, b: Baseline) -> Result<BaselineView> {
        Self::require_register(actor, Perm::CmdbWrite)?;
        let before = self.store.baseline(id).await?.ok_or_else(|| AppError::NotFound(format!("baseline {id}")))?;
        b.validate()?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.update_baseline(id, &b, now)
            .await
            .map_err(|e| slug_taken(e, "model", format!("a baseline for {} `{}`", b.vendor, b.model)))?;
        let (before_doc, doc) = (
            serde_json::to_string(&before.baseline()).unwrap_or_default(),
            serde_json::to_string(&b).unwrap_or_default(),
        );
        tx.append_audit(event(actor, now, "baseline.update", "baseline", &id.to_string(), Some(before_doc), Some(doc)))
            .await?;
        tx.commit().await?;
        Ok(BaselineView { id, baseline: b })
    }

    pub async fn delete_baseline(&self, actor: &Actor, id: i64) -> Result<()> {
        Self::require_register(actor, Perm::CmdbWrite)?;
        let before = self.store.baseline(id).await?.ok_or_else(|| AppError::NotFound(format!("baseline {id}")))?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.delete_baseline(id).await?;
        let before_doc = serde_json::to_string(&before.baseline()).unwrap_or_default();
        tx.append_audit(event(actor, now, "baseline.delete", "baseline", &id.to_string(), Some(before_doc), None))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
