//! Major incidents, their stakeholder updates and post-incident reviews.

use crate::{Result, Store, Tx, on, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MajorRow {
    pub incident_id: i64,
    pub number: String,
    pub short_description: String,
    pub priority: i64,
    pub state: String,
    pub declared_at_ms: i64,
    pub declared_by: String,
    pub commander: String,
    pub roles: String,
    pub update_every_minutes: i64,
    pub channels: String,
    pub next_update_due_ms: i64,
    pub reminded_for_ms: Option<i64>,
    pub ended_at_ms: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UpdateRow {
    pub id: i64,
    pub incident_id: i64,
    pub at_ms: i64,
    pub author: String,
    pub status: String,
    pub impact: String,
    pub actions: String,
}

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ReviewRow {
    pub incident_id: i64,
    pub summary: String,
    pub root_cause: String,
    pub went_well: String,
    pub to_improve: String,
    pub follow_ups: String,
    pub author: String,
    pub updated_at_ms: i64,
    pub version: i64,
}

/// A major declaration to write.
#[derive(Debug, Clone)]
pub struct NewMajor<'a> {
    pub incident_id: i64,
    pub declared_by: &'a str,
    pub commander: &'a str,
    pub roles: &'a str,
    pub update_every_minutes: i64,
    pub channels: &'a str,
    pub next_update_due_ms: i64,
}

const MAJOR: &str = "SELECT m.incident_id, n.number, n.short_description, n.priority, n.state, m.declared_at_ms, \
    m.declared_by, m.commander, m.roles, m.update_every_minutes, m.channels, m.next_update_due_ms, m.reminded_for_ms, \
    m.ended_at_ms FROM major_incidents m JOIN incidents n ON n.id = m.incident_id";

impl Store {
    pub async fn major(&self, incident_id: i64) -> Result<Option<MajorRow>> {
        let sql = format!("{MAJOR} WHERE m.incident_id = $1");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(incident_id).fetch_optional(p).await?))
    }

    /// Majors still running (not ended), most recent first.
    pub async fn ongoing_majors(&self) -> Result<Vec<MajorRow>> {
        let sql = format!("{MAJOR} WHERE m.ended_at_ms IS NULL ORDER BY m.declared_at_ms DESC");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    pub async fn stakeholder_updates(&self, incident_id: i64) -> Result<Vec<UpdateRow>> {
        let sql = "SELECT id, incident_id, at_ms, author, status, impact, actions FROM stakeholder_updates \
                   WHERE incident_id = $1 ORDER BY at_ms, id";
        Ok(on!(self.pool(), p => sqlx::query_as(sql).bind(incident_id).fetch_all(p).await?))
    }

    pub async fn review(&self, incident_id: i64) -> Result<Option<ReviewRow>> {
        let sql = "SELECT incident_id, summary, root_cause, went_well, to_improve, follow_ups, author, updated_at_ms, \
                   version FROM incident_reviews WHERE incident_id = $1";
        Ok(on!(self.pool(), p => sqlx::query_as(sql).bind(incident_id).fetch_optional(p).await?))
    }
}

impl Tx {
    /// Declares an incident major; false when it already is.
    pub async fn insert_major(&mut self, m: &NewMajor<'_>, now_ms: i64) -> Result<bool> {
        let n = on_tx!(self, t => sqlx::query(
            "INSERT INTO major_incidents (incident_id, declared_at_ms, declared_by, commander, roles, \
             update_every_minutes, channels, next_update_due_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (incident_id) DO NOTHING",
        )
        .bind(m.incident_id).bind(now_ms).bind(m.declared_by).bind(m.commander).bind(m.roles)
        .bind(m.update_every_minutes).bind(m.channels).bind(m.next_update_due_ms)
        .execute(&mut **t).await?.rows_affected());
        Ok(n == 1)
    }

    /// Records a stakeholder update and when the next is due (the major ends with a
    /// `resolved` one).
    pub async fn insert_update(&mut self, u: &UpdateRow, next_due_ms: i64, ends: bool) -> Result<i64> {
        let id: i64 = on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO stakeholder_updates (incident_id, at_ms, author, status, impact, actions) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(u.incident_id).bind(u.at_ms).bind(&u.author).bind(&u.status).bind(&u.impact).bind(&u.actions)
        .fetch_one(&mut **t).await?);
        let ended = ends.then_some(u.at_ms);
        on_tx!(self, t => sqlx::query(
            "UPDATE major_incidents SET next_update_due_ms = $1, ended_at_ms = COALESCE($2, ended_at_ms) \
             WHERE incident_id = $3",
        )
        .bind(next_due_ms).bind(ended).bind(u.incident_id)
        .execute(&mut **t).await?.rows_affected());
        Ok(id)
    }

    /// Notes that the commander was reminded of the update due at `due_ms`; false if already.
    pub async fn mark_reminded(&mut self, incident_id: i64, due_ms: i64) -> Result<bool> {
        let n = on_tx!(self, t => sqlx::query(
            "UPDATE major_incidents SET reminded_for_ms = $1 WHERE incident_id = $2 \
             AND (reminded_for_ms IS NULL OR reminded_for_ms <> $1)",
        )
        .bind(due_ms).bind(incident_id)
        .execute(&mut **t).await?.rows_affected());
        Ok(n == 1)
    }

    /// Ends a major (its incident resolved or cancelled without a final update).
    pub async fn end_major(&mut self, incident_id: i64, now_ms: i64) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "UPDATE major_incidents SET ended_at_ms = $1 WHERE incident_id = $2 AND ended_at_ms IS NULL",
        )
        .bind(now_ms).bind(incident_id)
        .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    /// Writes the review's written part if it is still at `version` (0: none yet).
    pub async fn put_review(&mut self, r: &ReviewRow, version: i64) -> Result<i64> {
        let n = if version == 0 {
            on_tx!(self, t => sqlx::query(
                "INSERT INTO incident_reviews (incident_id, summary, root_cause, went_well, to_improve, follow_ups, \
                 author, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (incident_id) DO NOTHING",
            )
            .bind(r.incident_id).bind(&r.summary).bind(&r.root_cause).bind(&r.went_well).bind(&r.to_improve)
            .bind(&r.follow_ups).bind(&r.author).bind(r.updated_at_ms)
            .execute(&mut **t).await?.rows_affected())
        } else {
            on_tx!(self, t => sqlx::query(
                "UPDATE incident_reviews SET summary = $1, root_cause = $2, went_well = $3, to_improve = $4, \
                 follow_ups = $5, author = $6, updated_at_ms = $7, version = version + 1 \
                 WHERE incident_id = $8 AND version = $9",
            )
            .bind(&r.summary).bind(&r.root_cause).bind(&r.went_well).bind(&r.to_improve).bind(&r.follow_ups)
            .bind(&r.author).bind(r.updated_at_ms).bind(r.incident_id).bind(version)
            .execute(&mut **t).await?.rows_affected())
        };
        if n == 0 { Err(crate::StoreError::Stale) } else { Ok(version + 1) }
    }
}
