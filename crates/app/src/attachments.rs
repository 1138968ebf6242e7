//! Files attached to incidents: a show-tech, a packet capture, a screenshot. The kind is read
//! from the bytes (`model::attachment`) and served back as that, never as the uploader said;
//! sizes are limited per file and per incident; each upload is journaled and audited with
//! its SHA-256, so the file later served can be matched to the one received.

use crate::audit::event;
use crate::{Actor, App, AppError, Result};
use model::attachment::{self, MAX_TOTAL_BYTES};
use model::{Invalid, Perm};
use serde_json::json;
use sha2::{Digest, Sha256};
use store::{AttachmentMeta, JournalEntry};

impl App {
    pub async fn attachments(&self, actor: &Actor, number: &str) -> Result<Vec<AttachmentMeta>> {
        let v = self.incident(actor, number).await?;
        Ok(self.store.attachments(v.row.id).await?)
    }

    /// One attachment with its bytes, for whoever may read the incident.
    pub async fn attachment(&self, actor: &Actor, number: &str, id: i64) -> Result<(AttachmentMeta, Vec<u8>)> {
        let v = self.incident(actor, number).await?;
        self.store
            .attachment(v.row.id, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("attachment {id} of {number}")))
    }

    /// Attaches a file to an incident that is not closed.
    pub async fn attach(&self, actor: &Actor, number: &str, file_name: &str, bytes: &[u8]) -> Result<AttachmentMeta> {
        actor.require(Perm::IncidentWork)?;
        let v = self.incident(actor, number).await?;
        if v.state.is_terminal() {
            return Err(Invalid::one("state", format!("{number} is {}; attach to an open incident", v.state)).into());
        }
        let name = file_name.trim();
        attachment::check_name(name).map_err(|e| Invalid::one("name", e))?;
        let kind = attachment::classify(bytes).map_err(|e| Invalid::one("file", e))?;
        let sha = hex::encode(Sha256::digest(bytes));
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let Some(id) = tx
            .insert_attachment(
                v.row.id,
                name,
                kind.media_type,
                kind.label,
                &sha,
                bytes,
                &actor.name,
                now,
                MAX_TOTAL_BYTES,
            )
            .await?
        else {
            return Err(Invalid::one(
                "file",
                format!(
                    "{number}'s attachments would pass {} MiB together; remove or compress some",
                    MAX_TOTAL_BYTES / 1_048_576
                ),
            )
            .into());
        };
        let text = format!("Attached {name} ({}, {} bytes)", kind.label, bytes.len());
        let entry = JournalEntry {
            incident_id: v.row.id,
            at_ms: now,
            actor: &actor.name,
            kind: "attachment",
            state: None,
            hold_reason: None,
            text: &text,
        };
        tx.append_journal(&entry).await?;
        let after =
            json!({"id": id, "name": name, "type": kind.media_type, "size": bytes.len(), "sha256": sha}).to_string();
        tx.append_audit(event(actor, now, "incident.attach", "incident", number, None, Some(after))).await?;
        tx.commit().await?;
        let stored = self.store.attachments(v.row.id).await?.into_iter().find(|a| a.id == id);
        stored.ok_or_else(|| AppError::NotFound(format!("attachment {id}")))
    }
}
