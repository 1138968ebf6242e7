//! Console sessions. Only a hash of the session id is stored, so a copy of the database
//! does not let anyone take over a session.

use crate::{Result, Store, Tx, on, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub source: String,
    pub created_at_ms: i64,
    pub last_seen_ms: i64,
}

impl Store {
    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>> {
        Ok(on!(self.pool(), p => sqlx::query_as(
            "SELECT id_hash, user_id, csrf_token, source, created_at_ms, last_seen_ms FROM sessions WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(p)
        .await?))
    }

    /// Records activity; idle timeouts count from here. Not audited: it changes no state a
    /// person decided on.
    pub async fn touch_session(&self, id_hash: &str, now_ms: i64) -> Result<()> {
        on!(self.pool(), p => sqlx::query("UPDATE sessions SET last_seen_ms = $1 WHERE id_hash = $2")
            .bind(now_ms).bind(id_hash).execute(p).await?.rows_affected());
        Ok(())
    }

    pub async fn count_sessions(&self) -> Result<i64> {
        Ok(on!(self.pool(), p => sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(p).await?))
    }
}

impl Tx {
    pub async fn insert_session(&mut self, s: &SessionRow) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, source, created_at_ms, last_seen_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&s.id_hash).bind(s.user_id).bind(&s.csrf_token).bind(&s.source).bind(s.created_at_ms).bind(s.last_seen_ms)
        .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    pub async fn delete_session(&mut self, id_hash: &str) -> Result<u64> {
        Ok(on_tx!(self, t => sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash).execute(&mut **t).await?.rows_affected()))
    }

    /// Ends every session of a user (disabled, password changed).
    pub async fn delete_user_sessions(&mut self, user_id: i64) -> Result<u64> {
        Ok(on_tx!(self, t => sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id).execute(&mut **t).await?.rows_affected()))
    }

    /// Removes sessions past either timeout.
    pub async fn delete_stale_sessions(&mut self, idle_before_ms: i64, created_before_ms: i64) -> Result<u64> {
        Ok(on_tx!(self, t => sqlx::query("DELETE FROM sessions WHERE last_seen_ms < $1 OR created_at_ms < $2")
            .bind(idle_before_ms).bind(created_before_ms).execute(&mut **t).await?.rows_affected()))
    }
}
