//! Saved views of the incident queue: a name for a queue's parameters, kept per account and
//! optionally shared with everyone.

use crate::{Result, Store, Tx, on, on_tx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SavedFilterRow {
    pub id: i64,
    pub owner: String,
    pub name: String,
    /// The queue's parameters as a query string (`queue=open&priority=1`).
    pub query: String,
    pub shared: bool,
    pub updated_at_ms: i64,
}

const SELECT: &str = "SELECT f.id, u.username AS owner, f.name, f.query, f.shared, f.updated_at_ms \
                      FROM saved_filters f JOIN users u ON u.id = f.user_id ";

impl Store {
    /// The account's own filters and everyone's shared ones: its own first, then by name.
    pub async fn saved_filters(&self, username: &str) -> Result<Vec<SavedFilterRow>> {
        let sql = format!(
            "{SELECT}WHERE u.username = $1 OR f.shared = TRUE \
             ORDER BY CASE WHEN u.username = $1 THEN 0 ELSE 1 END, LOWER(f.name), f.name, u.username"
        );
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(username).fetch_all(p).await?))
    }

    pub async fn saved_filter(&self, id: i64) -> Result<Option<SavedFilterRow>> {
        let sql = format!("{SELECT}WHERE f.id = $1");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(p).await?))
    }
}

impl Tx {
    /// Saves an account's filter under a name, replacing the one it had by that name.
    pub async fn put_saved_filter(
        &mut self,
        user_id: i64,
        name: &str,
        query: &str,
        shared: bool,
        now_ms: i64,
    ) -> Result<i64> {
        Ok(on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO saved_filters (user_id, name, query, shared, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query, shared = excluded.shared, \
             updated_at_ms = excluded.updated_at_ms RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(query)
        .bind(shared)
        .bind(now_ms)
        .fetch_one(&mut **t)
        .await?))
    }

    pub async fn delete_saved_filter(&mut self, id: i64) -> Result<bool> {
        Ok(on_tx!(self, t => sqlx::query("DELETE FROM saved_filters WHERE id = $1").bind(id)
            .execute(&mut **t).await?.rows_affected())
            > 0)
    }
}
