//! Alerts received through Alertmanager's API and silences. Alerts are stored as the intake's
//! log (one binary record per group commit) and a snapshot of the whole alert book (a few
//! binary chunks), written and read whole by the app (`model::alert::record`), never queried
//! by the database; silences' matchers are JSON text, matched in memory.

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
    pub async fn append_alert_entry(&mut self, entry: &[u8]) -> Result<i64> {
        const SQL: &str = "INSERT INTO alert_entries (entry) VALUES ($1) RETURNING id";
        Ok(match self {
            LogWriter::Sqlite(c) => sqlx::query_scalar(SQL).bind(entry).fetch_one(&mut *c).await?,
            LogWriter::Postgres(c) => sqlx::query_scalar(SQL).bind(entry).fetch_one(&mut *c).await?,
        })
    }
}

/// A chunk of the alert snapshot: a binary record, or JSON as the migration from the former
/// per-alert table wrote it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SnapshotChunk {
    pub body: Option<String>,
    pub packed: Option<Vec<u8>>,
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

const SILENCE_COLUMNS: &str = "id, matchers, starts_at_ms, ends_at_ms, created_by, comment, updated_at_ms";

impl Store {
    /// The alert book's snapshot, chunk by chunk.
    pub async fn alert_snapshot(&self) -> Result<Vec<SnapshotChunk>> {
        const SQL: &str = "SELECT body, packed FROM alert_snapshot ORDER BY id";
        Ok(on!(self.pool(), p => sqlx::query_as(SQL).fetch_all(p).await?))
    }

    /// What the former intake's log still holds (JSON entries, by id), read once at start.
    pub async fn former_alert_log(&self) -> Result<Vec<(i64, String)>> {
        const SQL: &str = "SELECT id, body FROM alert_log ORDER BY id";
        Ok(on!(self.pool(), p => sqlx::query_as(SQL).fetch_all(p).await?))
    }

    /// The last log entry whose changes between firing and resolved were made into events.
    pub async fn alert_events_through(&self) -> Result<i64> {
        const SQL: &str = "SELECT events_through FROM alert_folds WHERE id = 1";
        Ok(on!(self.pool(), p => sqlx::query_scalar(SQL).fetch_optional(p).await?).unwrap_or(0))
    }

    /// A connection of its own for the alert log's one writer (see [`LogWriter`]).
    pub async fn log_writer(&self) -> Result<LogWriter> {
        Ok(match self.pool() {
            crate::Pool::Sqlite(p) => LogWriter::Sqlite(p.acquire().await?.detach()),
            crate::Pool::Postgres(p) => LogWriter::Postgres(p.acquire().await?.detach()),
        })
    }

    /// Log entries after `after`, oldest first: `(id, entry)`.
    pub async fn alert_entries_after(&self, after: i64, limit: i64) -> Result<Vec<(i64, Vec<u8>)>> {
        const SQL: &str = "SELECT id, entry FROM alert_entries WHERE id > $1 ORDER BY id LIMIT $2";
        Ok(on!(self.pool(), p => sqlx::query_as(SQL).bind(after).bind(limit).fetch_all(p).await?))
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
    /// Records that the log's changes through entry `id` were made into events.
    pub async fn set_alert_events_through(&mut self, id: i64) -> Result<()> {
        const SQL: &str = "UPDATE alert_folds SET events_through = $1 WHERE id = 1";
        on_tx!(self, t => sqlx::query(SQL).bind(id).execute(&mut **t).await.map(|_| ())?);
        Ok(())
    }

    /// Replaces the alert book's snapshot with `chunks` (binary records).
    pub async fn put_alert_snapshot(&mut self, chunks: &[Vec<u8>]) -> Result<()> {
        on_tx!(self, t => sqlx::query("DELETE FROM alert_snapshot").execute(&mut **t).await.map(|_| ())?);
        for (id, body) in (1_i64..).zip(chunks) {
            const SQL: &str = "INSERT INTO alert_snapshot (id, packed) VALUES ($1, $2)";
            on_tx!(self, t => sqlx::query(SQL).bind(id).bind(body).execute(&mut **t).await.map(|_| ())?);
        }
        Ok(())
    }

    /// Deletes the alert log's entries up to `id`, and what the former intake's log held,
    /// once a snapshot covers them.
    pub async fn delete_alert_log_through(&mut self, id: i64) -> Result<()> {
        // All of them, usually (a compaction holds the writer): SQLite then drops the table's
        // pages whole instead of deleting row by row.
        const LAST: &str = "SELECT MAX(id) FROM alert_entries";
        let last: Option<i64> = on_tx!(self, t => sqlx::query_scalar(LAST).fetch_one(&mut **t).await?);
        if last.is_some_and(|l| l <= id) {
            on_tx!(self, t => sqlx::query("DELETE FROM alert_entries").execute(&mut **t).await.map(|_| ())?);
        } else {
            const SQL: &str = "DELETE FROM alert_entries WHERE id <= $1";
            on_tx!(self, t => sqlx::query(SQL).bind(id).execute(&mut **t).await.map(|_| ())?);
        }
        on_tx!(self, t => sqlx::query("DELETE FROM alert_log").execute(&mut **t).await.map(|_| ())?);
        Ok(())
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
