//! Active checks: their definitions, the state of each on each item, and the samples their
//! performance data gives. States and samples are written in batches, one JSON array bound
//! per statement, as the intake writes events.

use crate::sql::{Json, json_rows};
use crate::{Result, Store, Tx, on, on_tx};
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct CheckRow {
    pub id: i64,
    pub name: String,
    /// JSON `model::check::CheckSpec`.
    pub spec: String,
    /// JSON array of item ids.
    pub item_ids: String,
    pub class: String,
    pub site: String,
    pub tag: String,
    pub enabled: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct CheckStateRow {
    pub check_id: i64,
    pub item_id: i64,
    pub status: String,
    pub hard: bool,
    pub attempt: i64,
    pub hard_status: String,
    pub output: String,
    /// JSON array.
    pub perfdata: String,
    pub duration_us: i64,
    pub last_run_ms: i64,
    pub last_change_ms: i64,
    /// JSON: what the next run is judged against (`model::ifmib::Snapshot`), if anything.
    pub baseline: Option<String>,
}

const CHECK: &str = "id, name, spec, item_ids, class, site, tag, enabled, created_at_ms, updated_at_ms";
const STATE: &str = "check_id, item_id, status, hard, attempt, hard_status, output, perfdata, duration_us, \
                     last_run_ms, last_change_ms, baseline";

impl Store {
    pub async fn checks(&self) -> Result<Vec<CheckRow>> {
        let sql = format!("SELECT {CHECK} FROM checks ORDER BY name");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    /// The baselines checks keep for these items, as `(item_id, JSON)`.
    pub async fn check_baselines(&self, items: &[i64]) -> Result<Vec<(i64, String)>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = items.iter().map(i64::to_string).collect();
        let sql = format!(
            "SELECT item_id, baseline FROM check_states WHERE baseline IS NOT NULL AND item_id IN ({}) \
             ORDER BY last_run_ms DESC",
            list.join(", ")
        );
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql.clone())).fetch_all(p).await?))
    }

    pub async fn check_states(&self) -> Result<Vec<CheckStateRow>> {
        let sql = format!("SELECT {STATE} FROM check_states ORDER BY check_id, item_id");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    /// A series' samples in `[from, to]`, oldest first.
    pub async fn samples(&self, series: &str, from: i64, to: i64) -> Result<Vec<(i64, f64)>> {
        const SQL: &str =
            "SELECT at_ms, value FROM samples WHERE series = $1 AND at_ms >= $2 AND at_ms <= $3 ORDER BY at_ms";
        Ok(on!(self.pool(), p => sqlx::query_as(SQL).bind(series).bind(from).bind(to).fetch_all(p).await?))
    }

    /// A series' hourly roll-ups whose hour starts in `[from, to]`, oldest first.
    pub async fn sample_rollups(&self, series: &str, from: i64, to: i64) -> Result<Vec<SampleRollup>> {
        const SQL: &str = "SELECT at_ms, count, min, max, sum FROM sample_rollups \
             WHERE series = $1 AND at_ms >= $2 AND at_ms <= $3 ORDER BY at_ms";
        Ok(on!(self.pool(), p => sqlx::query_as(SQL).bind(series).bind(from).bind(to).fetch_all(p).await?))
    }
}

/// One series' samples over one hour.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SampleRollup {
    /// The hour's start.
    pub at_ms: i64,
    pub count: i64,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
}

/// An hour in milliseconds: the roll-ups' bucket.
pub const ROLLUP_MS: i64 = 3_600_000;

impl Tx {
    pub async fn insert_check(&mut self, c: &CheckRow) -> Result<i64> {
        const SQL: &str = "INSERT INTO checks (name, spec, item_ids, class, site, tag, enabled, created_at_ms, \
             updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
        Ok(on_tx!(self, t => sqlx::query_scalar(SQL).bind(&c.name).bind(&c.spec).bind(&c.item_ids).bind(&c.class)
            .bind(&c.site).bind(&c.tag).bind(c.enabled).bind(c.created_at_ms).bind(c.updated_at_ms)
            .fetch_one(&mut **t).await?))
    }

    /// Deletes a check (its states go with it); false when there was none.
    pub async fn delete_check(&mut self, id: i64) -> Result<bool> {
        let n = on_tx!(self, t => sqlx::query("DELETE FROM checks WHERE id = $1").bind(id).execute(&mut **t).await?.rows_affected());
        Ok(n == 1)
    }

    /// Forgets the states of these (check, item) pairs.
    pub async fn delete_check_states(&mut self, pairs: &[(i64, i64)]) -> Result<()> {
        const SQL: &str = "DELETE FROM check_states WHERE check_id = $1 AND item_id = $2";
        for (check, item) in pairs {
            on_tx!(self, t => sqlx::query(SQL).bind(check).bind(item).execute(&mut **t).await?.rows_affected());
        }
        Ok(())
    }

    /// Writes check states by (check, item).
    pub async fn put_check_states(&mut self, rows: &[CheckStateRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let doc: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!([
                    r.check_id,
                    r.item_id,
                    r.status,
                    r.hard,
                    r.attempt,
                    r.hard_status,
                    r.output,
                    r.perfdata,
                    r.duration_us,
                    r.last_run_ms,
                    r.last_change_ms,
                    r.baseline
                ])
            })
            .collect();
        let select = json_rows(
            matches!(self, Tx::Postgres(_)),
            &[
                Json::Int,
                Json::Int,
                Json::Text,
                Json::Bool,
                Json::Int,
                Json::Text,
                Json::Text,
                Json::Text,
                Json::Int,
                Json::Int,
                Json::Int,
                Json::Text,
            ],
        );
        let update: Vec<String> =
            STATE.split(", ").skip(2).map(str::trim).map(|c| format!("{c} = excluded.{c}")).collect();
        let sql = format!(
            "INSERT INTO check_states ({STATE}) {select} ON CONFLICT (check_id, item_id) DO UPDATE SET {}",
            update.join(", ")
        );
        let doc = serde_json::Value::Array(doc).to_string();
        on_tx!(self, t => sqlx::query(AssertSqlSafe(sql)).bind(doc).execute(&mut **t).await.map(|_| ())?);
        Ok(())
    }

    /// Adds samples `(series, at, value)`; one already there for the instant stays.
    pub async fn insert_samples(&mut self, rows: &[(String, i64, f64)]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let doc = serde_json::to_string(rows).unwrap_or_else(|_| "[]".into());
        let sql = match self {
            Tx::Sqlite(_) => "INSERT INTO samples (series, at_ms, value) SELECT j.value->>0, j.value->>1, j.value->>2 \
                 FROM json_each($1) j WHERE true ON CONFLICT DO NOTHING"
                .to_owned(),
            Tx::Postgres(_) => "INSERT INTO samples (series, at_ms, value) SELECT j->>0, (j->>1)::bigint, \
                 (j->>2)::double precision FROM jsonb_array_elements($1::jsonb) j ON CONFLICT DO NOTHING"
                .to_owned(),
        };
        on_tx!(self, t => sqlx::query(AssertSqlSafe(sql)).bind(doc).execute(&mut **t).await.map(|_| ())?);
        Ok(())
    }

    /// Rolls the samples up by series and hour, from the hour of the newest roll-up (computed
    /// again whole: it may have been partial) or the oldest sample, to `now`. Returns how many
    /// roll-ups it wrote.
    pub async fn roll_up_samples(&mut self, now: i64) -> Result<u64> {
        const FROM: &str = "SELECT COALESCE((SELECT MAX(at_ms) FROM sample_rollups), (SELECT MIN(at_ms) FROM samples))";
        let from: Option<i64> = on_tx!(self, t => sqlx::query_scalar(FROM).fetch_one(&mut **t).await?);
        let Some(from) = from else { return Ok(0) };
        let from = from - from.rem_euclid(ROLLUP_MS);
        let sql = format!(
            "INSERT INTO sample_rollups (series, at_ms, count, min, max, sum) \
             SELECT series, at_ms - (at_ms % {ROLLUP_MS}) AS hour, COUNT(*), MIN(value), MAX(value), SUM(value) \
             FROM samples WHERE at_ms >= $1 AND at_ms < $2 GROUP BY series, hour \
             ON CONFLICT (series, at_ms) DO UPDATE SET count = excluded.count, min = excluded.min, \
             max = excluded.max, sum = excluded.sum"
        );
        Ok(
            on_tx!(self, t => sqlx::query(AssertSqlSafe(sql.clone())).bind(from).bind(now).execute(&mut **t).await?.rows_affected()),
        )
    }

    /// Deletes roll-ups of hours before `before` (their retention). Returns how many.
    pub async fn delete_rollups_before(&mut self, before: i64) -> Result<u64> {
        Ok(on_tx!(self, t => sqlx::query("DELETE FROM sample_rollups WHERE at_ms < $1").bind(before)
            .execute(&mut **t).await?.rows_affected()))
    }

    /// Deletes samples older than `before` (retention). Returns how many.
    pub async fn delete_samples_before(&mut self, before: i64) -> Result<u64> {
        Ok(on_tx!(self, t => sqlx::query("DELETE FROM samples WHERE at_ms < $1").bind(before)
            .execute(&mut **t).await?.rows_affected()))
    }
}
