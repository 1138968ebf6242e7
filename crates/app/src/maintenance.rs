//! Maintenance windows as people schedule them (audited): what they cover and when. The
//! correlation task asks which cover an alarm's item now; alarms under one are recorded and
//! shown but open no incident, and are routed as usual once the window closes.

use crate::{Actor, App, AppError, Result};
use model::maintenance::{Coverage, Schedule};
use model::{Invalid, Perm};
use store::WindowRow;

/// A window as read.
#[derive(Debug, Clone)]
pub struct Window {
    pub row: WindowRow,
    pub coverage: Coverage,
    pub schedule: Schedule,
}

impl Window {
    pub fn active(&self, now: i64) -> bool {
        self.schedule.active(now)
    }
}

fn read(row: WindowRow) -> Option<Window> {
    Some(Window {
        coverage: serde_json::from_str(&row.coverage).ok()?,
        schedule: serde_json::from_str(&row.schedule).ok()?,
        row,
    })
}

impl App {
    /// The windows, as the actor may see them: a site-scoped account sees those that reach its
    /// sites (by site, by one of its items, or by class).
    pub async fn maintenance_windows(&self, actor: &Actor) -> Result<Vec<Window>> {
        actor.require(Perm::EventRead)?;
        let all = self.all_windows().await?;
        if actor.sites.is_empty() {
            return Ok(all);
        }
        let g = self.impact_graph().await?;
        Ok(all
            .into_iter()
            .filter(|w| {
                let c = &w.coverage;
                actor.sees_site(Some(&c.site))
                    || c.items.iter().any(|i| actor.sees_site(g.site_of(*i)))
                    || !c.class.is_empty()
            })
            .collect())
    }

    /// Why a site-scoped account may not set or cancel a window of this coverage, if it may
    /// not: it covers only its own sites' items, by site or by item (a class reaches every
    /// site's items of that class).
    async fn beyond_sites(&self, actor: &Actor, c: &Coverage) -> Result<Option<model::FieldError>> {
        if actor.sites.is_empty() {
            return Ok(None);
        }
        let g = self.impact_graph().await?;
        let why = if !c.class.is_empty() {
            Some((
                "coverage.class",
                "a class reaches every site's items of it: cover your site or its items".to_owned(),
            ))
        } else if !c.site.is_empty() && !actor.sees_site(Some(&c.site)) {
            Some(("coverage.site", format!("only your sites: {}", actor.sites.join(", "))))
        } else if c.items.iter().any(|i| !actor.sees_site(g.site_of(*i))) {
            Some(("coverage.items", format!("only items at your sites: {}", actor.sites.join(", "))))
        } else {
            None
        };
        Ok(why.map(|(f, m)| model::FieldError::new(f, m)))
    }

    pub(crate) async fn all_windows(&self) -> Result<Vec<Window>> {
        Ok(self.store.maintenance_windows().await?.into_iter().filter_map(read).collect())
    }

    /// Schedules a window (audited).
    pub async fn create_window(
        &self,
        actor: &Actor,
        name: &str,
        reason: &str,
        coverage: Coverage,
        schedule: Schedule,
    ) -> Result<Window> {
        actor.require(Perm::EventWork)?;
        let mut errors = schedule.validate().err().map(|i| i.0).unwrap_or_default();
        if name.trim().is_empty() || name.chars().count() > 100 {
            errors.push(model::FieldError::new("name", "1 to 100 characters"));
        }
        if coverage.items.is_empty() && coverage.site.is_empty() && coverage.class.is_empty() {
            errors.push(model::FieldError::new("coverage", "say what it covers: items, site or class"));
        }
        if !coverage.class.is_empty() && model::cmdb::descendants(&coverage.class).is_empty() {
            errors.push(model::FieldError::new("coverage.class", format!("no class `{}`", coverage.class)));
        }
        errors.extend(self.beyond_sites(actor, &coverage).await?);
        Invalid::check(errors)?;
        let now = self.now_ms();
        let mut row = WindowRow {
            id: 0,
            name: name.trim().to_owned(),
            coverage: serde_json::to_string(&coverage).map_err(|e| AppError::Internal(e.to_string()))?,
            schedule: serde_json::to_string(&schedule).map_err(|e| AppError::Internal(e.to_string()))?,
            reason: reason.trim().to_owned(),
            created_by: actor.name.clone(),
            created_at_ms: now,
        };
        let mut tx = self.store.begin().await?;
        row.id = tx.insert_window(&row).await?;
        let doc =
            serde_json::json!({"name": row.name, "reason": row.reason, "coverage": coverage, "schedule": schedule});
        tx.append_audit(crate::audit::event(
            actor,
            now,
            "maintenance.create",
            "maintenance",
            &row.id.to_string(),
            None,
            Some(doc.to_string()),
        ))
        .await?;
        tx.commit().await?;
        self.correlation.notify_one();
        Ok(Window { row, coverage, schedule })
    }

    /// Cancels a window (audited).
    pub async fn delete_window(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(Perm::EventWork)?;
        let Some(before) = self.store.maintenance_windows().await?.into_iter().find(|w| w.id == id) else {
            return Err(AppError::NotFound(format!("maintenance window {id}")));
        };
        // A site-scoped account cancels only what it could have set; others' are not there
        // for it, as in its list.
        if let Some(w) = read(before.clone())
            && self.beyond_sites(actor, &w.coverage).await?.is_some()
        {
            return Err(AppError::NotFound(format!("maintenance window {id}")));
        }
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.delete_window(id).await?;
        let doc = serde_json::json!({"name": before.name, "coverage": before.coverage, "schedule": before.schedule});
        tx.append_audit(crate::audit::event(
            actor,
            now,
            "maintenance.delete",
            "maintenance",
            &id.to_string(),
            Some(doc.to_string()),
            None,
        ))
        .await?;
        tx.commit().await?;
        self.correlation.notify_one();
        Ok(())
    }
}
