//! Custom attribute definitions: reading them (every CMDB reader, so forms and clients know
//! the fields), changing them (administrators, audited), and checking items against them.

use crate::audit::event;
use crate::{Actor, App, AppError, Result};
use model::Perm;
use model::attributes::{AttributeDef, check_attributes};
use model::cmdb::ItemFields;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct AttributeView {
    pub id: i64,
    #[serde(flatten)]
    pub def: AttributeDef,
}

/// A unique-key clash as the field error it is: the class already has that attribute.
fn defined_twice(e: store::StoreError, d: &AttributeDef) -> AppError {
    match e {
        store::StoreError::Conflict { .. } => {
            model::Invalid::one("name", format!("`{}` is already defined for {}", d.name, d.class)).into()
        }
        e => AppError::from(e),
    }
}

impl App {
    pub async fn attribute_defs(&self, actor: &Actor) -> Result<Vec<AttributeView>> {
        actor.require(Perm::CmdbRead)?;
        Ok(self.store.attribute_defs().await?.into_iter().map(|r| AttributeView { id: r.id, def: r.def() }).collect())
    }

    /// Checks `fields.attrs` against the definitions for its class.
    pub(crate) async fn check_item_attributes(&self, fields: &ItemFields) -> Result<()> {
        let defs: Vec<AttributeDef> = self.store.attribute_defs().await?.iter().map(store::AttributeRow::def).collect();
        Ok(check_attributes(&defs, &fields.class, &fields.attrs)?)
    }

    /// A required attribute may only be defined once every item it applies to has it.
    async fn check_required_is_met(&self, d: &AttributeDef) -> Result<()> {
        if !d.required {
            return Ok(());
        }
        let classes = model::cmdb::descendants(&d.class);
        let lacking: Vec<String> = self
            .store
            .items_of_classes(&classes)
            .await?
            .into_iter()
            .filter(|i| {
                serde_json::from_str::<serde_json::Value>(&i.attrs)
                    .ok()
                    .and_then(|a| a.get(&d.name).cloned())
                    .is_none_or(|v| v.is_null())
            })
            .map(|i| i.name)
            .collect();
        if lacking.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = lacking.iter().take(5).map(String::as_str).collect();
        Err(model::Invalid::one(
            "required",
            format!(
                "{} item(s) lack `{}` ({}{}); give them a value first, or define it as optional",
                lacking.len(),
                d.name,
                shown.join(", "),
                if lacking.len() > shown.len() { ", …" } else { "" }
            ),
        )
        .into())
    }

    pub async fn create_attribute_def(&self, actor: &Actor, d: AttributeDef) -> Result<AttributeView> {
        actor.require(Perm::SystemAdmin)?;
        d.validate()?;
        self.check_required_is_met(&d).await?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let id = tx.insert_attribute_def(&d, now).await.map_err(|e| defined_twice(e, &d))?;
        let doc = serde_json::to_string(&d).unwrap_or_default();
        tx.append_audit(event(actor, now, "attribute.create", "attribute", &id.to_string(), None, Some(doc))).await?;
        tx.commit().await?;
        Ok(AttributeView { id, def: d })
    }

    pub async fn update_attribute_def(&self, actor: &Actor, id: i64, d: AttributeDef) -> Result<AttributeView> {
        actor.require(Perm::SystemAdmin)?;
        let before = self
            .store
            .attribute_def(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("attribute definition {id}")))?;
        d.validate()?;
        self.check_required_is_met(&d).await?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.update_attribute_def(id, &d, now).await.map_err(|e| defined_twice(e, &d))?;
        let (b, a) =
            (serde_json::to_string(&before.def()).unwrap_or_default(), serde_json::to_string(&d).unwrap_or_default());
        tx.append_audit(event(actor, now, "attribute.update", "attribute", &id.to_string(), Some(b), Some(a))).await?;
        tx.commit().await?;
        Ok(AttributeView { id, def: d })
    }

    /// Removes a definition; items keep the values they have, unchecked.
    pub async fn delete_attribute_def(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(Perm::SystemAdmin)?;
        let before = self
            .store
            .attribute_def(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("attribute definition {id}")))?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.delete_attribute_def(id).await?;
        let b = serde_json::to_string(&before.def()).unwrap_or_default();
        tx.append_audit(event(actor, now, "attribute.delete", "attribute", &id.to_string(), Some(b), None)).await?;
        tx.commit().await?;
        Ok(())
    }
}
