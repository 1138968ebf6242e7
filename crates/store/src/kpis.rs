//! The dashboard's roll-ups: daily counters per priority, and daily openings per service,
//! item and category, bumped in the transaction of the change they count.

use crate::{Result, Store, Tx, on, on_tx};
use sqlx::AssertSqlSafe;

/// One day's counters for one priority.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct RollupRow {
    pub day: String,
    pub priority: i64,
    pub opened: i64,
    pub responded: i64,
    pub response_ms: i64,
    pub resolved: i64,
    pub resolution_ms: i64,
    pub first_contact: i64,
    pub reopened: i64,
    pub sla_met: i64,
    pub sla_breached: i64,
    pub satisfaction_sum: i64,
    pub satisfaction_count: i64,
}

/// The counters' columns (from code; the only names interpolated).
pub const COUNTERS: [&str; 11] = [
    "opened",
    "responded",
    "response_ms",
    "resolved",
    "resolution_ms",
    "first_contact",
    "reopened",
    "sla_met",
    "sla_breached",
    "satisfaction_sum",
    "satisfaction_count",
];

impl Store {
    /// The roll-ups of the days from `from_day` to `to_day` (inclusive, `YYYY-MM-DD`).
    pub async fn rollups(&self, from_day: &str, to_day: &str) -> Result<Vec<RollupRow>> {
        let sql = format!(
            "SELECT day, priority, {} FROM incident_rollups WHERE day >= $1 AND day <= $2 ORDER BY day, priority",
            COUNTERS.join(", ")
        );
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).bind(from_day).bind(to_day).fetch_all(p).await?))
    }

    /// The keys of a dimension with the most openings since `from_day`.
    pub async fn top_opened(&self, dimension: &str, from_day: &str, limit: i64) -> Result<Vec<(String, i64)>> {
        let sql = "SELECT key, CAST(SUM(opened) AS BIGINT) AS n FROM incident_counts WHERE dimension = $1 AND day >= $2 \
                   GROUP BY key ORDER BY n DESC, key LIMIT $3";
        Ok(on!(self.pool(), p => sqlx::query_as(sql).bind(dimension).bind(from_day).bind(limit).fetch_all(p).await?))
    }

    /// Open incidents with a running clock at its at-risk mark or past it by `now_ms`.
    pub async fn at_risk_count(&self, now_ms: i64) -> Result<i64> {
        let sql = "SELECT COUNT(DISTINCT s.incident_id) FROM incident_slas s JOIN incidents n ON n.id = s.incident_id \
                   WHERE n.state IN ('new', 'in-progress', 'on-hold') AND s.stage IN ('running', 'breached') \
                   AND s.ended_at_ms IS NULL AND s.at_risk_at_ms <= $1";
        Ok(on!(self.pool(), p => sqlx::query_scalar(sql).bind(now_ms).fetch_one(p).await?))
    }

    /// Open incidents counted by priority and by age (the bucket a `limits` entry bounds, in
    /// milliseconds, youngest first; beyond the last, the last bucket), read off the queue's
    /// index.
    pub async fn open_ages(&self, now_ms: i64, limits: &[i64]) -> Result<Vec<(i64, i64, i64)>> {
        let cases: Vec<String> = limits
            .iter()
            .enumerate()
            .map(|(k, limit)| format!("WHEN opened_at_ms > {} THEN {k}", now_ms.saturating_sub(*limit)))
            .collect();
        let sql = format!(
            "SELECT priority, CAST(CASE {} ELSE {} END AS BIGINT) AS bucket, COUNT(*) FROM incidents \
             WHERE state IN ('new', 'in-progress', 'on-hold') GROUP BY 1, 2",
            cases.join(" "),
            limits.len()
        );
        Ok(match self.pool() {
            // The queue's index holds both columns: a scan of it alone, not of the table.
            crate::Pool::Sqlite(p) => {
                let sql = sql.replacen("FROM incidents ", "FROM incidents INDEXED BY incidents_queue ", 1);
                sqlx::query_as(AssertSqlSafe(sql)).fetch_all(p).await?
            }
            crate::Pool::Postgres(p) => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(p).await?,
        })
    }
}

impl Tx {
    /// Adds to one day's counters of one priority; `counters` name columns of [`COUNTERS`].
    pub async fn bump_rollups(&mut self, day: &str, priority: i64, counters: &[(&str, i64)]) -> Result<()> {
        for (column, amount) in counters {
            if !COUNTERS.contains(column) {
                continue;
            }
            let sql = format!(
                "INSERT INTO incident_rollups (day, priority, {column}) VALUES ($1, $2, $3) ON CONFLICT (day, priority) \
                 DO UPDATE SET {column} = incident_rollups.{column} + $3"
            );
            on_tx!(self, t => sqlx::query(AssertSqlSafe(sql)).bind(day).bind(priority).bind(amount)
                .execute(&mut **t).await?.rows_affected());
        }
        Ok(())
    }

    /// Counts an opening against a service, item or category.
    pub async fn bump_count(&mut self, day: &str, dimension: &str, key: &str) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "INSERT INTO incident_counts (day, dimension, key, opened) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (day, dimension, key) DO UPDATE SET opened = incident_counts.opened + 1",
        )
        .bind(day).bind(dimension).bind(key)
        .execute(&mut **t).await?.rows_affected());
        Ok(())
    }
}
