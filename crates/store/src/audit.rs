//! The audit log table and its head. Records are only ever appended, inside the transaction
//! of the change they describe; sealing (hashing) is `model::audit`'s rule.

use crate::sql::{Arg, Where, bind_args, order_page};
use crate::{Result, Store, Tx, on, on_tx};
use model::audit::{AuditEvent, AuditRecord};
use model::list::{ListQuery, ListSpec};
use sqlx::AssertSqlSafe;

pub const AUDIT_LIST: ListSpec = ListSpec {
    sortable: &["seq"],
    default_sort: "-seq",
    filters: &["actor", "action", "target_type", "target_id", "from", "to"],
};

#[derive(Debug, sqlx::FromRow)]
struct Row {
    seq: i64,
    at_ms: i64,
    actor: String,
    source: String,
    action: String,
    target_type: String,
    target_id: String,
    before_json: Option<String>,
    after_json: Option<String>,
    prev_hash: String,
    hash: String,
}

impl From<Row> for AuditRecord {
    fn from(r: Row) -> Self {
        AuditRecord {
            seq: r.seq,
            event: AuditEvent {
                at_ms: r.at_ms,
                actor: r.actor,
                source: r.source,
                action: r.action,
                target_type: r.target_type,
                target_id: r.target_id,
                before: r.before_json,
                after: r.after_json,
            },
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

const COLUMNS: &str =
    "seq, at_ms, actor, source, action, target_type, target_id, before_json, after_json, prev_hash, hash";

#[derive(Debug)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    pub total: i64,
}

impl Store {
    /// The head: the newest record's number and hash (0 and the genesis hash when empty).
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        Ok(on!(self.pool(), p => sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(p).await?))
    }

    /// Records with `seq > after`, oldest first, at most `limit`.
    pub async fn audit_batch(&self, after: i64, limit: i64) -> Result<Vec<AuditRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
        let rows: Vec<Row> = on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(after).bind(limit).fetch_all(p).await?);
        Ok(rows.into_iter().map(AuditRecord::from).collect())
    }

    /// One page of the log; `from_ms`/`to_ms` bound the time (inclusive, exclusive).
    pub async fn audit_list(&self, q: &ListQuery, from_ms: Option<i64>, to_ms: Option<i64>) -> Result<AuditPage> {
        let mut w = Where::default();
        for f in ["actor", "action", "target_type", "target_id"] {
            if let Some(v) = q.filter(f) {
                w.eq(f, Arg::Text(v.to_owned()));
            }
        }
        if let Some(v) = from_ms {
            w.cmp("at_ms", ">=", Arg::Int(v));
        }
        if let Some(v) = to_ms {
            w.cmp("at_ms", "<", Arg::Int(v));
        }
        if let Some(text) = &q.q {
            w.search(&["actor", "action", "target_id", "source", "after_json"], text);
        }
        let sql = format!("SELECT {COLUMNS} FROM audit_log{}{}", w.sql(), order_page(q, |_| "seq", "seq"));
        let count_sql = format!("SELECT COUNT(*) FROM audit_log{}", w.sql());
        let (rows, total): (Vec<Row>, i64) = on!(self.pool(), p => (
            bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), &w.args).fetch_all(p).await?,
            bind_args!(sqlx::query_scalar(AssertSqlSafe(count_sql.as_str())), &w.args).fetch_one(p).await?,
        ));
        Ok(AuditPage { records: rows.into_iter().map(AuditRecord::from).collect(), total })
    }
}

impl Tx {
    /// Seals and appends one record. Taking the next number updates the head row first, which
    /// locks it (PostgreSQL row lock; SQLite's write lock is already held), so concurrent
    /// writers form one chain.
    pub async fn append_audit(&mut self, event: AuditEvent) -> Result<AuditRecord> {
        let (seq, prev): (i64, String) = on_tx!(self, t => sqlx::query_as(
            "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
        )
        .fetch_one(&mut **t)
        .await?);
        let r = AuditRecord::seal(seq, event, &prev);
        let e = &r.event;
        let sql = format!("INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
        on_tx!(self, t => {
            sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(r.seq).bind(e.at_ms).bind(&e.actor).bind(&e.source).bind(&e.action)
                .bind(&e.target_type).bind(&e.target_id).bind(&e.before).bind(&e.after)
                .bind(&r.prev_hash).bind(&r.hash)
                .execute(&mut **t).await?;
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&r.hash).execute(&mut **t).await?;
        });
        Ok(r)
    }
}
