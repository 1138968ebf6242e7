//! Alerts received through Alertmanager's API (one row per fingerprint, the latest episode)
//! and silences. Labels and matchers are kept as JSON text: they are read whole and matched
//! in memory, never queried by the database. The intake's writes bind one JSON array per
//! statement, read row by row by the database (`json_each`, `jsonb_array_elements`) — the one
//! place besides search where the two backends run different SQL.

use crate::sql::{Json, json_rows};
use crate::{Result, Store, Tx, on, on_tx};
use sqlx::AssertSqlSafe;

/// The alert log's writer: a connection held for good rather than taken from the pool for
/// each entry, because sqlx pings a connection on its way back to the pool — on SQLite one
/// more round trip to the connection's thread for every group commit. A writer that failed
/// is dropped and a new one made.
pub enum LogWriter {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl LogWriter {
    /// Appends one entry to the alert intake's log and commits it: one statement, no
    /// transaction around it, so a sender waits for one write and one sync. Returns its id.
    pub async fn append_alert_log(&mut self, body: &str) -> Result<i64> {
        const SQL: &str = "INSERT INTO alert_log (body) VALUES ($1) RETURNING id";
        Ok(match self {
            LogWriter::Sqlite(c) => sqlx::query_scalar(SQL).bind(body).fetch_one(&mut *c).await?,
            LogWriter::Postgres(c) => sqlx::query_scalar(SQL).bind(body).fetch_one(&mut *c).await?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertRow {
    /// The fingerprint's 64 bits as a signed integer.
    pub fingerprint: i64,
    pub labels: String,
    pub annotations: String,
    pub generator_url: String,
    pub starts_at_ms: i64,
    pub ends_at_ms: i64,
    pub updated_at_ms: i64,
    pub timeout: bool,
}

/// An alert's times, set on its stored row when a sender repeats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertTimes {
    pub fingerprint: i64,
    pub starts_at_ms: i64,
    pub ends_at_ms: i64,
    pub updated_at_ms: i64,
    pub timeout: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SilenceRow {
    pub id: String,
    pub matchers: String,
    pub starts_at_ms: i64,
    pub ends_at_ms: i64,
    pub created_by: String,
    pub comment: String,
    pub updated_at_ms: i64,
}

const ALERT_COLUMNS: &str =
    "fingerprint, labels, annotations, generator_url, starts_at_ms, ends_at_ms, updated_at_ms, timeout";
const SILENCE_COLUMNS: &str = "id, matchers, starts_at_ms, ends_at_ms, created_by, comment, updated_at_ms";

impl Store {
    /// Every stored alert, firing or resolved, as the intake loads them at start.
    pub async fn alerts_all(&self) -> Result<Vec<AlertRow>> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql.clone())).fetch_all(p).await?))
    }

    /// A connection of its own for the alert log's one writer (see [`LogWriter`]).
    pub async fn log_writer(&self) -> Result<LogWriter> {
        Ok(match self.pool() {
            crate::Pool::Sqlite(p) => LogWriter::Sqlite(p.acquire().await?.detach()),
            crate::Pool::Postgres(p) => LogWriter::Postgres(p.acquire().await?.detach()),
        })
    }

    /// Log entries after `after`, oldest first: `(id, body)`.
    pub async fn alert_log_after(&self, after: i64, limit: i64) -> Result<Vec<(i64, String)>> {
        const SQL: &str = "SELECT id, body FROM alert_log WHERE id > $1 ORDER BY id LIMIT $2";
        Ok(on!(self.pool(), p => sqlx::query_as(SQL).bind(after).bind(limit).fetch_all(p).await?))
    }

    /// The alerts still firing at `now` (their end after it), by fingerprint.
    pub async fn alerts_active(&self, now_ms: i64) -> Result<Vec<AlertRow>> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE ends_at_ms > $1 ORDER BY fingerprint");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql.clone())).bind(now_ms).fetch_all(p).await?))
    }

    pub async fn silences(&self) -> Result<Vec<SilenceRow>> {
        let sql = format!("SELECT {SILENCE_COLUMNS} FROM silences ORDER BY starts_at_ms, id");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql.clone())).fetch_all(p).await?))
    }

    pub async fn silence(&self, id: &str) -> Result<Option<SilenceRow>> {
        let sql = format!("SELECT {SILENCE_COLUMNS} FROM silences WHERE id = $1");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql.clone())).bind(id).fetch_optional(p).await?))
    }
}

impl Tx {
    /// Writes alerts, each replacing the row of its fingerprint: one statement, one bound
    /// JSON array of the rows.
    pub async fn put_alerts(&mut self, rows: &[AlertRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let doc: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!([
                    r.fingerprint,
                    r.labels,
                    r.annotations,
                    r.generator_url,
                    r.starts_at_ms,
                    r.ends_at_ms,
                    r.updated_at_ms,
                    r.timeout
                ])
            })
            .collect();
        let doc = serde_json::Value::Array(doc).to_string();
        const UPSERT: &str = "ON CONFLICT (fingerprint) DO UPDATE SET \
             labels = excluded.labels, annotations = excluded.annotations, generator_url = excluded.generator_url, \
             starts_at_ms = excluded.starts_at_ms, ends_at_ms = excluded.ends_at_ms, \
             updated_at_ms = excluded.updated_at_ms, timeout = excluded.timeout";
        let select = json_rows(
            matches!(self, Tx::Postgres(_)),
            &[Json::Int, Json::Text, Json::Text, Json::Text, Json::Int, Json::Int, Json::Int, Json::Bool],
        );
        let sql = format!("INSERT INTO alerts ({ALERT_COLUMNS}) {select} {UPSERT}");
        on_tx!(self, t => sqlx::query(AssertSqlSafe(sql)).bind(doc).execute(&mut **t).await.map(|_| ())?);
        Ok(())
    }

    /// Sets the times of stored alerts, by fingerprint: what a sender repeating an alert
    /// changes. Alerts not stored are left out.
    pub async fn put_alert_times(&mut self, times: &[AlertTimes]) -> Result<()> {
        if times.is_empty() {
            return Ok(());
        }
        let doc: Vec<serde_json::Value> = times
            .iter()
            .map(|t| serde_json::json!([t.fingerprint, t.starts_at_ms, t.ends_at_ms, t.updated_at_ms, t.timeout]))
            .collect();
        let doc = serde_json::Value::Array(doc).to_string();
        let select =
            json_rows(matches!(self, Tx::Postgres(_)), &[Json::Int, Json::Int, Json::Int, Json::Int, Json::Bool]);
        let sql = format!(
            "WITH t(fingerprint, starts_at_ms, ends_at_ms, updated_at_ms, timeout) AS ({select}) \
             UPDATE alerts SET starts_at_ms = t.starts_at_ms, ends_at_ms = t.ends_at_ms, \
             updated_at_ms = t.updated_at_ms, timeout = t.timeout FROM t WHERE alerts.fingerprint = t.fingerprint"
        );
        on_tx!(self, t => sqlx::query(AssertSqlSafe(sql)).bind(doc).execute(&mut **t).await.map(|_| ())?);
        Ok(())
    }

    /// Deletes the alert log's entries up to `id`, once folded.
    pub async fn delete_alert_log_through(&mut self, id: i64) -> Result<()> {
        on_tx!(self, t => sqlx::query("DELETE FROM alert_log WHERE id <= $1").bind(id).execute(&mut **t).await.map(|_| ())?);
        Ok(())
    }

    /// Deletes the alerts that ended before `before` (housekeeping). Returns how many.
    pub async fn delete_alerts_ended_before(&mut self, before: i64) -> Result<u64> {
        Ok(on_tx!(self, t => sqlx::query("DELETE FROM alerts WHERE ends_at_ms < $1").bind(before)
            .execute(&mut **t).await?.rows_affected()))
    }

    /// Writes a silence, replacing the one with its id.
    pub async fn put_silence(&mut self, s: &SilenceRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO silences ({SILENCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
             matchers = excluded.matchers, starts_at_ms = excluded.starts_at_ms, ends_at_ms = excluded.ends_at_ms, \
             created_by = excluded.created_by, comment = excluded.comment, updated_at_ms = excluded.updated_at_ms"
        );
        on_tx!(self, t => sqlx::query(AssertSqlSafe(sql.clone()))
            .bind(&s.id).bind(&s.matchers).bind(s.starts_at_ms).bind(s.ends_at_ms).bind(&s.created_by)
            .bind(&s.comment).bind(s.updated_at_ms)
            .execute(&mut **t).await?.rows_affected());
        Ok(())
    }
}
