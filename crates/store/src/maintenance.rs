//! Maintenance windows, read whole (there are few) and written one at a time.

use crate::{Result, Store, Tx, on, on_tx};

#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct WindowRow {
    pub id: i64,
    pub name: String,
    /// JSON `model::maintenance::Coverage`.
    pub coverage: String,
    /// JSON `model::maintenance::Schedule`.
    pub schedule: String,
    pub reason: String,
    pub created_by: String,
    pub created_at_ms: i64,
}

const COLUMNS: &str = "id, name, coverage, schedule, reason, created_by, created_at_ms";

impl Store {
    pub async fn maintenance_windows(&self) -> Result<Vec<WindowRow>> {
        let sql = format!("SELECT {COLUMNS} FROM maintenance_windows ORDER BY id");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?))
    }
}

impl Tx {
    pub async fn insert_window(&mut self, w: &WindowRow) -> Result<i64> {
        const SQL: &str = "INSERT INTO maintenance_windows (name, coverage, schedule, reason, created_by, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
        Ok(on_tx!(self, t => sqlx::query_scalar(SQL).bind(&w.name).bind(&w.coverage).bind(&w.schedule).bind(&w.reason)
            .bind(&w.created_by).bind(w.created_at_ms).fetch_one(&mut **t).await?))
    }

    /// Deletes a window; false when there was none.
    pub async fn delete_window(&mut self, id: i64) -> Result<bool> {
        let n = on_tx!(self, t => sqlx::query("DELETE FROM maintenance_windows WHERE id = $1").bind(id)
            .execute(&mut **t).await?.rows_affected());
        Ok(n == 1)
    }
}
