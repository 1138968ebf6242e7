//! Problems and the incidents they explain.

use crate::{Result, Store, Tx, on, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProblemRow {
    pub id: i64,
    pub number: String,
    pub short_description: String,
    pub state: String,
    pub symptom: String,
    pub root_cause: String,
    pub contributing_factors: String,
    /// JSON array.
    pub five_whys: String,
    pub workaround: String,
    pub fix: String,
    pub close_code: String,
    pub opened_by: String,
    pub opened_at_ms: i64,
    pub updated_at_ms: i64,
    pub version: i64,
}

/// The analysis fields a problem's owner writes.
#[derive(Debug, Clone)]
pub struct AnalysisWrite<'a> {
    pub symptom: &'a str,
    pub root_cause: &'a str,
    pub contributing_factors: &'a str,
    pub five_whys: &'a str,
    pub workaround: &'a str,
    pub fix: &'a str,
    pub close_code: &'a str,
    pub state: &'a str,
}

const SELECT: &str = "SELECT id, number, short_description, state, symptom, root_cause, contributing_factors, five_whys, \
    workaround, fix, close_code, opened_by, opened_at_ms, updated_at_ms, version FROM problems";

impl Store {
    pub async fn problem(&self, number: &str) -> Result<Option<ProblemRow>> {
        let sql = format!("{SELECT} WHERE number = $1");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(number).fetch_optional(p).await?))
    }

    pub async fn problems(&self) -> Result<Vec<ProblemRow>> {
        let sql = format!("{SELECT} ORDER BY opened_at_ms DESC LIMIT 500");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    /// The numbers of the incidents a problem explains.
    pub async fn problem_incidents(&self, problem_id: i64) -> Result<Vec<String>> {
        let sql = "SELECT i.number FROM problem_incidents p JOIN incidents i ON i.id = p.incident_id \
                   WHERE p.problem_id = $1 ORDER BY i.number";
        Ok(on!(self.pool(), p => sqlx::query_scalar(sql).bind(problem_id).fetch_all(p).await?))
    }

    /// Known errors (problems with a workaround, not closed) whose incidents were on this
    /// item or, without an item, in this category.
    pub async fn known_errors_for(&self, item_id: Option<i64>, category: &str) -> Result<Vec<ProblemRow>> {
        let sql = format!(
            "{SELECT} WHERE workaround <> '' AND state <> 'closed' AND id IN (SELECT p.problem_id FROM problem_incidents p \
             JOIN incidents i ON i.id = p.incident_id WHERE ($1 IS NOT NULL AND i.item_id = $1) \
             OR ($1 IS NULL AND i.item_id IS NULL AND i.category = $2)) ORDER BY opened_at_ms DESC"
        );
        Ok(
            on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(item_id).bind(category).fetch_all(p).await?),
        )
    }
}

/// A problem as an import brings it: its analysis, state and when it was opened.
#[derive(Debug, Clone, Default)]
pub struct ImportedProblem {
    pub source_ref: String,
    pub short_description: String,
    pub state: String,
    pub symptom: String,
    pub root_cause: String,
    pub workaround: String,
    pub fix: String,
    pub close_code: String,
    pub opened_by: String,
    pub opened_at_ms: i64,
}

impl Store {
    /// Of these references, the ones problems were imported from before.
    pub async fn imported_problem_refs(&self, refs: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for chunk in refs.chunks(500) {
            let ps: Vec<String> = (1..=chunk.len()).map(|k| format!("${k}")).collect();
            let sql = format!("SELECT source_ref FROM problems WHERE source_ref IN ({})", ps.join(", "));
            let found: Vec<String> = on!(self.pool(), p => {
                let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(r);
                }
                q.fetch_all(p).await?
            });
            out.extend(found);
        }
        Ok(out)
    }

    /// Records named by their own number or the reference they were imported from:
    /// `(reference as given, id)` for `table` `incidents` or `problems`.
    pub async fn ids_by_ref(&self, table: RefTable, refs: &[String]) -> Result<Vec<(String, i64)>> {
        let table = match table {
            RefTable::Incidents => "incidents",
            RefTable::Problems => "problems",
        };
        let mut out = Vec::new();
        for chunk in refs.chunks(400) {
            let ps: Vec<String> = (1..=chunk.len()).map(|k| format!("${k}")).collect();
            let list = ps.join(", ");
            let sql = format!(
                "SELECT number, source_ref, id FROM {table} WHERE number IN ({list}) OR source_ref IN ({list})"
            );
            let found: Vec<(String, Option<String>, i64)> = on!(self.pool(), p => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(r);
                }
                q.fetch_all(p).await?
            });
            for (number, source, id) in found {
                for r in chunk {
                    if *r == number || Some(r) == source.as_ref() {
                        out.push((r.clone(), id));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Which records [`Store::ids_by_ref`] looks in.
#[derive(Debug, Clone, Copy)]
pub enum RefTable {
    Incidents,
    Problems,
}

impl Tx {
    /// Writes an imported problem, numbered like any other.
    pub async fn insert_imported_problem(&mut self, p: &ImportedProblem) -> Result<(i64, String)> {
        let id: i64 = on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO problems (number, short_description, state, symptom, root_cause, workaround, fix, close_code, \
             opened_by, opened_at_ms, updated_at_ms, source_ref) VALUES ('', $1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) \
             RETURNING id",
        )
        .bind(&p.short_description).bind(&p.state).bind(&p.symptom).bind(&p.root_cause).bind(&p.workaround)
        .bind(&p.fix).bind(&p.close_code).bind(&p.opened_by).bind(p.opened_at_ms).bind(&p.source_ref)
        .fetch_one(&mut **t).await?);
        let number = format!("PRB{id:07}");
        on_tx!(self, t => sqlx::query("UPDATE problems SET number = $1 WHERE id = $2").bind(&number).bind(id)
            .execute(&mut **t).await?.rows_affected());
        Ok((id, number))
    }

    pub async fn insert_problem(
        &mut self,
        short_description: &str,
        opened_by: &str,
        now_ms: i64,
    ) -> Result<(i64, String)> {
        let id: i64 = on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO problems (number, short_description, state, opened_by, opened_at_ms, updated_at_ms) \
             VALUES ('', $1, 'new', $2, $3, $3) RETURNING id",
        )
        .bind(short_description).bind(opened_by).bind(now_ms)
        .fetch_one(&mut **t).await?);
        let number = format!("PRB{id:07}");
        on_tx!(self, t => sqlx::query("UPDATE problems SET number = $1 WHERE id = $2").bind(&number).bind(id)
            .execute(&mut **t).await?.rows_affected());
        Ok((id, number))
    }

    pub async fn link_problem_incident(&mut self, problem_id: i64, incident_id: i64) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "INSERT INTO problem_incidents (problem_id, incident_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(problem_id).bind(incident_id)
        .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    /// Writes the analysis and state if the problem is still at `version`.
    pub async fn update_problem(&mut self, id: i64, version: i64, a: &AnalysisWrite<'_>, now_ms: i64) -> Result<i64> {
        let n = on_tx!(self, t => sqlx::query(
            "UPDATE problems SET symptom = $1, root_cause = $2, contributing_factors = $3, five_whys = $4, \
             workaround = $5, fix = $6, close_code = $7, state = $8, updated_at_ms = $9, version = version + 1 \
             WHERE id = $10 AND version = $11",
        )
        .bind(a.symptom).bind(a.root_cause).bind(a.contributing_factors).bind(a.five_whys).bind(a.workaround)
        .bind(a.fix).bind(a.close_code).bind(a.state).bind(now_ms).bind(id).bind(version)
        .execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(crate::StoreError::Stale) } else { Ok(version + 1) }
    }
}

/// A corrective or preventive action of a problem.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActionRow {
    pub id: i64,
    pub problem_id: i64,
    pub kind: String,
    pub description: String,
    pub owner: String,
    pub due_on: String,
    pub state: String,
    pub created_by: String,
    pub created_at_ms: i64,
    pub done_at_ms: Option<i64>,
    pub done_note: String,
}

impl Store {
    pub async fn problem_actions(&self, problem_id: i64) -> Result<Vec<ActionRow>> {
        let sql = "SELECT id, problem_id, kind, description, owner, due_on, state, created_by, created_at_ms, \
                   done_at_ms, done_note FROM problem_actions WHERE problem_id = $1 ORDER BY id";
        Ok(on!(self.pool(), p => sqlx::query_as(sql).bind(problem_id).fetch_all(p).await?))
    }
}

impl Tx {
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_problem_action(
        &mut self,
        problem_id: i64,
        kind: &str,
        description: &str,
        owner: &str,
        due_on: &str,
        created_by: &str,
        now_ms: i64,
    ) -> Result<i64> {
        Ok(on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO problem_actions (problem_id, kind, description, owner, due_on, state, created_by, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $7) RETURNING id",
        )
        .bind(problem_id).bind(kind).bind(description).bind(owner).bind(due_on).bind(created_by).bind(now_ms)
        .fetch_one(&mut **t).await?))
    }

    /// Marks an open action done; false when it was not open.
    pub async fn complete_problem_action(&mut self, problem_id: i64, id: i64, note: &str, now_ms: i64) -> Result<bool> {
        let n = on_tx!(self, t => sqlx::query(
            "UPDATE problem_actions SET state = 'done', done_at_ms = $1, done_note = $2 \
             WHERE id = $3 AND problem_id = $4 AND state = 'open'",
        )
        .bind(now_ms).bind(note).bind(id).bind(problem_id)
        .execute(&mut **t).await?.rows_affected());
        Ok(n == 1)
    }
}
