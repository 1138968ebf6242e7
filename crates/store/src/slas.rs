//! SLA policies, the services each incident affects, and each incident's SLA clocks as last
//! computed (the maintained record queues, sweeps and reports read).

use crate::{Result, Store, Tx, on, on_tx};
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SlaPolicyRow {
    pub name: String,
    pub description: String,
    /// JSON: `model::sla::SlaTarget`s.
    pub targets: String,
    pub updated_at_ms: i64,
    pub version: i64,
}

/// One SLA clock of an incident as last computed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct IncidentSlaRow {
    pub incident_id: i64,
    pub kind: String,
    pub policy: String,
    pub target_ms: i64,
    pub calendar: String,
    pub stage: String,
    pub started_at_ms: Option<i64>,
    pub elapsed_ms: i64,
    pub deadline_ms: Option<i64>,
    pub at_risk_at_ms: Option<i64>,
    pub next_mark: Option<i64>,
    pub next_due_ms: Option<i64>,
    pub recorded: i64,
    pub breached_at_ms: Option<i64>,
    pub ended_at_ms: Option<i64>,
    pub computed_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IncidentServiceRow {
    pub incident_id: i64,
    pub service_id: i64,
    pub service: String,
    pub status: String,
}

/// `(1, 2, 3)` for ids that came from the database; never for input.
fn id_list(ids: &[i64]) -> String {
    let inner: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("({})", inner.join(", "))
}

const SLA_COLUMNS: &str = "incident_id, kind, policy, target_ms, calendar, stage, started_at_ms, elapsed_ms, \
    deadline_ms, at_risk_at_ms, next_mark, next_due_ms, recorded, breached_at_ms, ended_at_ms, computed_at_ms";

impl Store {
    pub async fn sla_policies(&self) -> Result<Vec<SlaPolicyRow>> {
        let sql = "SELECT name, description, targets, updated_at_ms, version FROM sla_policies ORDER BY name";
        Ok(on!(self.pool(), p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// The SLA policy each of these services names (`(id, name, policy)`; empty names left out).
    pub async fn service_sla_policies(&self, ids: &[i64]) -> Result<Vec<(i64, String, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, name, sla_policy FROM config_items WHERE sla_policy <> '' AND id IN {} ORDER BY name",
            id_list(ids)
        );
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    pub async fn incident_services(&self, incident_ids: &[i64]) -> Result<Vec<IncidentServiceRow>> {
        if incident_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT incident_id, service_id, service, status FROM incident_services WHERE incident_id IN {} \
             ORDER BY incident_id, service",
            id_list(incident_ids)
        );
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    /// The stored clocks of these incidents.
    pub async fn incident_slas(&self, incident_ids: &[i64]) -> Result<Vec<IncidentSlaRow>> {
        if incident_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {SLA_COLUMNS} FROM incident_slas WHERE incident_id IN {} ORDER BY incident_id, kind",
            id_list(incident_ids)
        );
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    /// Incidents with a clock whose next mark has come by `now_ms` (soonest first).
    pub async fn incidents_due(&self, now_ms: i64, limit: i64) -> Result<Vec<String>> {
        let sql = "SELECT n.number FROM incidents n JOIN incident_slas s ON s.incident_id = n.id \
                   WHERE s.next_due_ms <= $1 GROUP BY n.number ORDER BY MIN(s.next_due_ms) LIMIT $2";
        Ok(on!(self.pool(), p => sqlx::query_scalar(sql).bind(now_ms).bind(limit).fetch_all(p).await?))
    }

    /// The state entries (`opened` and `state`) of these incidents' journals, oldest first:
    /// what their clocks are computed from, in one query for a page of them.
    pub async fn incident_state_histories(&self, incident_ids: &[i64]) -> Result<Vec<(i64, crate::JournalRow)>> {
        if incident_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT incident_id, at_ms, actor, kind, state, hold_reason, text FROM incident_journal \
             WHERE incident_id IN {} AND state IS NOT NULL ORDER BY incident_id, at_ms, id",
            id_list(incident_ids)
        );
        let rows: Vec<HistoryRow> = on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| {
                let j = crate::JournalRow {
                    at_ms: r.at_ms,
                    actor: r.actor,
                    kind: r.kind,
                    state: r.state,
                    hold_reason: r.hold_reason,
                    text: r.text,
                };
                (r.incident_id, j)
            })
            .collect())
    }
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    incident_id: i64,
    at_ms: i64,
    actor: String,
    kind: String,
    state: Option<String>,
    hold_reason: Option<String>,
    text: String,
}

impl Tx {
    /// Creates or replaces a policy.
    pub async fn put_sla_policy(&mut self, name: &str, description: &str, targets: &str, now_ms: i64) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "INSERT INTO sla_policies (name, description, targets, updated_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET description = $2, targets = $3, updated_at_ms = $4, \
             version = sla_policies.version + 1",
        )
        .bind(name).bind(description).bind(targets).bind(now_ms)
        .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    pub async fn delete_sla_policy(&mut self, name: &str) -> Result<bool> {
        let n = on_tx!(self, t => sqlx::query("DELETE FROM sla_policies WHERE name = $1").bind(name)
            .execute(&mut **t).await?.rows_affected());
        Ok(n > 0)
    }

    pub async fn insert_incident_services(
        &mut self,
        incident_id: i64,
        services: &[(i64, String, String)],
    ) -> Result<()> {
        for (id, name, status) in services {
            on_tx!(self, t => sqlx::query(
                "INSERT INTO incident_services (incident_id, service_id, service, status) VALUES ($1, $2, $3, $4)",
            )
            .bind(incident_id).bind(id).bind(name).bind(status)
            .execute(&mut **t).await?.rows_affected());
        }
        Ok(())
    }

    /// Writes many clocks as computed, a few hundred to a statement.
    pub async fn put_incident_slas(&mut self, rows: &[IncidentSlaRow]) -> Result<()> {
        // Small statements: SQLite plans a long multi-row upsert far slower than several short ones.
        for chunk in rows.chunks(16) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 16;
                    let ps: Vec<String> = (1..=16).map(|k| format!("${}", b + k)).collect();
                    format!("({})", ps.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO incident_slas ({SLA_COLUMNS}) VALUES {} ON CONFLICT (incident_id, kind) DO UPDATE SET \
                 policy = excluded.policy, target_ms = excluded.target_ms, calendar = excluded.calendar, \
                 stage = excluded.stage, started_at_ms = excluded.started_at_ms, elapsed_ms = excluded.elapsed_ms, \
                 deadline_ms = excluded.deadline_ms, at_risk_at_ms = excluded.at_risk_at_ms, \
                 next_mark = excluded.next_mark, next_due_ms = excluded.next_due_ms, recorded = excluded.recorded, \
                 breached_at_ms = excluded.breached_at_ms, ended_at_ms = excluded.ended_at_ms, \
                 computed_at_ms = excluded.computed_at_ms",
                values.join(", ")
            );
            on_tx!(self, t => {
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(r.incident_id).bind(&r.kind).bind(&r.policy).bind(r.target_ms).bind(&r.calendar)
                        .bind(&r.stage).bind(r.started_at_ms).bind(r.elapsed_ms).bind(r.deadline_ms)
                        .bind(r.at_risk_at_ms).bind(r.next_mark).bind(r.next_due_ms).bind(r.recorded)
                        .bind(r.breached_at_ms).bind(r.ended_at_ms).bind(r.computed_at_ms);
                }
                q.execute(&mut **t).await?.rows_affected()
            });
        }
        Ok(())
    }

    /// Writes a clock as computed (replacing the previous computation).
    pub async fn put_incident_sla(&mut self, r: &IncidentSlaRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO incident_slas ({SLA_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             $14, $15, $16) ON CONFLICT (incident_id, kind) DO UPDATE SET policy = $3, target_ms = $4, calendar = $5, \
             stage = $6, started_at_ms = $7, elapsed_ms = $8, deadline_ms = $9, at_risk_at_ms = $10, next_mark = $11, \
             next_due_ms = $12, recorded = $13, breached_at_ms = $14, ended_at_ms = $15, computed_at_ms = $16"
        );
        on_tx!(self, t => sqlx::query(AssertSqlSafe(sql))
            .bind(r.incident_id).bind(&r.kind).bind(&r.policy).bind(r.target_ms).bind(&r.calendar).bind(&r.stage)
            .bind(r.started_at_ms).bind(r.elapsed_ms).bind(r.deadline_ms).bind(r.at_risk_at_ms).bind(r.next_mark)
            .bind(r.next_due_ms).bind(r.recorded).bind(r.breached_at_ms).bind(r.ended_at_ms).bind(r.computed_at_ms)
            .execute(&mut **t).await?.rows_affected());
        Ok(())
    }
}
