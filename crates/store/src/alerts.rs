//! Alerts received through Alertmanager's API (one row per fingerprint, the latest episode)
//! and silences. Labels and matchers are kept as JSON text: they are read whole and matched
//! in memory, never queried by the database.

use crate::{Result, Store, Tx, on, on_tx};
use sqlx::AssertSqlSafe;

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
    /// The stored alerts among these fingerprints, read inside the transaction that will
    /// write their successors (so two batches for one alert cannot interleave).
    pub async fn alerts_by_fingerprint(&mut self, fingerprints: &[i64]) -> Result<Vec<AlertRow>> {
        let mut out = Vec::with_capacity(fingerprints.len());
        for chunk in fingerprints.chunks(500) {
            let ps: Vec<String> = (1..=chunk.len()).map(|k| format!("${k}")).collect();
            let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE fingerprint IN ({})", ps.join(", "));
            let rows: Vec<AlertRow> = on_tx!(self, t => {
                let mut q = sqlx::query_as(AssertSqlSafe(sql));
                for fp in chunk {
                    q = q.bind(*fp);
                }
                q.fetch_all(&mut **t).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Writes alerts, each replacing the row of its fingerprint. One statement per 500.
    pub async fn put_alerts(&mut self, rows: &[AlertRow]) -> Result<()> {
        const COLS: usize = 8;
        for chunk in rows.chunks(500) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let ps: Vec<String> = (1..=COLS).map(|k| format!("${}", i * COLS + k)).collect();
                    format!("({})", ps.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO alerts ({ALERT_COLUMNS}) VALUES {} ON CONFLICT (fingerprint) DO UPDATE SET \
                 labels = excluded.labels, annotations = excluded.annotations, generator_url = excluded.generator_url, \
                 starts_at_ms = excluded.starts_at_ms, ends_at_ms = excluded.ends_at_ms, \
                 updated_at_ms = excluded.updated_at_ms, timeout = excluded.timeout",
                values.join(", ")
            );
            on_tx!(self, t => {
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(r.fingerprint).bind(&r.labels).bind(&r.annotations).bind(&r.generator_url)
                        .bind(r.starts_at_ms).bind(r.ends_at_ms).bind(r.updated_at_ms).bind(r.timeout);
                }
                q.execute(&mut **t).await?.rows_affected()
            });
        }
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
