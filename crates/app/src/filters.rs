//! Saved filters: a named view of the incident queue (which queue, words, priority, category,
//! group), kept for the account that saved it and optionally shared with everyone who reads
//! incidents — the list a shift lead sets up once ("P1/P2 in plant north", "vendor holds").

use crate::audit::event;
use crate::incidents::{QUEUE_VIEW_KEYS, Queue};
use crate::{Actor, App, AppError, Result};
use model::{Invalid, Perm};
use serde_json::json;
pub use store::SavedFilterRow;

/// Filters one account may keep.
pub const MAX_FILTERS: usize = 50;

impl App {
    /// The actor's own filters, then everyone's shared ones.
    pub async fn saved_filters(&self, actor: &Actor) -> Result<Vec<SavedFilterRow>> {
        actor.require(Perm::IncidentRead)?;
        Ok(self.store.saved_filters(&actor.name).await?)
    }

    /// Saves the queue view `query` (its parameters) under `name`, replacing the actor's own
    /// filter by that name. Sharing it needs the permission to work incidents. Audited.
    pub async fn save_filter(
        &self,
        actor: &Actor,
        name: &str,
        query: &[(String, String)],
        shared: bool,
    ) -> Result<SavedFilterRow> {
        actor.require(Perm::IncidentRead)?;
        actor.require(Perm::OwnViews)?;
        if shared {
            actor.require(Perm::IncidentWork)?;
        }
        let Some(user_id) = actor.user_id else {
            return Err(Invalid::one("owner", "filters belong to accounts; sign in or use an account's token").into());
        };
        let name = name.trim();
        let mut bad = Vec::new();
        if name.is_empty() || name.chars().count() > 60 {
            bad.push(model::FieldError::new("name", "required, up to 60 characters"));
        }
        let view: Vec<(String, String)> = query.to_vec();
        for (k, _) in &view {
            if !QUEUE_VIEW_KEYS.contains(&k.as_str()) {
                bad.push(model::FieldError::new(
                    format!("query.{k}"),
                    format!("a filter keeps only {}", QUEUE_VIEW_KEYS.join(", ")),
                ));
            }
        }
        let queue = match Queue::from_query(&view) {
            Ok(q) => Some(q),
            Err(i) => {
                bad.extend(i.0.into_iter().map(|f| model::FieldError::new(format!("query.{}", f.field), f.message)));
                None
            }
        };
        if let Some(s) = queue.as_ref().and_then(|q| q.search.as_deref())
            && store::search_terms(s).is_none()
        {
            bad.push(model::FieldError::new("query.q", "search for words or numbers"));
        }
        let (Some(queue), true) = (queue, bad.is_empty()) else { return Err(Invalid(bad).into()) };
        let canonical = serde_urlencoded::to_string(queue.view_query()).unwrap_or_default();
        let existing = self.store.saved_filters(&actor.name).await?;
        let before = existing.iter().find(|f| f.owner == actor.name && f.name == name);
        if before.is_none() && existing.iter().filter(|f| f.owner == actor.name).count() >= MAX_FILTERS {
            return Err(Invalid::one("name", format!("{MAX_FILTERS} filters already; delete one first")).into());
        }
        let doc = |q: &str, sh: bool| json!({ "query": q, "shared": sh }).to_string();
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let id = tx.put_saved_filter(user_id, name, &canonical, shared, now).await?;
        let target = format!("{}/{name}", actor.name);
        tx.append_audit(event(
            actor,
            now,
            "filter.save",
            "saved-filter",
            &target,
            before.map(|b| doc(&b.query, b.shared)),
            Some(doc(&canonical, shared)),
        ))
        .await?;
        tx.commit().await?;
        self.store.saved_filter(id).await?.ok_or_else(|| AppError::NotFound(format!("filter {id}")))
    }

    /// Deletes a filter: the actor's own, or — for user administrators — anyone's shared one.
    /// Audited.
    pub async fn delete_filter(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(Perm::OwnViews)?;
        let missing = || AppError::NotFound(format!("saved filter {id}"));
        let f = self.store.saved_filter(id).await?.ok_or_else(missing)?;
        let mine = f.owner == actor.name;
        if !mine && !f.shared {
            return Err(missing());
        }
        if !mine {
            actor.require(Perm::UserAdmin)?;
        }
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.delete_saved_filter(id).await?;
        let before = json!({ "query": f.query, "shared": f.shared }).to_string();
        tx.append_audit(event(
            actor,
            now,
            "filter.delete",
            "saved-filter",
            &format!("{}/{}", f.owner, f.name),
            Some(before),
            None,
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
