//! Events as received: written in batches (one JSON array bound per statement, as the alert
//! intake does) and read back newest first, narrowed by kind, item, sender or words.

use crate::{Result, Store, Tx, on};
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub received_at_ms: i64,
    pub occurred_at_ms: Option<i64>,
    pub source: String,
    pub sender: String,
    pub host: String,
    pub item_id: Option<i64>,
    pub kind: String,
    pub object: String,
    pub up: Option<bool>,
    pub severity: i64,
    pub mnemonic: String,
    pub text: String,
    /// JSON object.
    pub fields: String,
}

/// Which events a list shows.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub kind: Option<String>,
    pub item_id: Option<i64>,
    pub sender: Option<String>,
    /// Words the text must contain (each, anywhere, any case).
    pub words: Vec<String>,
    /// At most this severity number (3: error and worse).
    pub max_severity: Option<i64>,
    pub limit: i64,
}

const COLUMNS: &str = "received_at_ms, occurred_at_ms, source, sender, host, item_id, kind, object, up, severity, \
                       mnemonic, text, fields";

impl Store {
    /// Events newest first.
    pub async fn events(&self, f: &EventFilter) -> Result<Vec<EventRow>> {
        let mut w = crate::sql::Where::default();
        if let Some(k) = &f.kind {
            w.eq("kind", crate::sql::Arg::Text(k.clone()));
        }
        if let Some(i) = f.item_id {
            w.eq("item_id", crate::sql::Arg::Int(i));
        }
        if let Some(s) = &f.sender {
            w.eq("sender", crate::sql::Arg::Text(s.clone()));
        }
        if let Some(s) = f.max_severity {
            w.raw(format!("severity <= {}", s.clamp(0, 7)));
        }
        for word in &f.words {
            w.search(&["text"], word);
        }
        let sql =
            format!("SELECT id, {COLUMNS} FROM events{} ORDER BY id DESC LIMIT {}", w.sql(), f.limit.clamp(1, 1000));
        Ok(
            on!(self.pool(), p => crate::sql::bind_args!(sqlx::query_as(AssertSqlSafe(sql.clone())), &w.args).fetch_all(p).await?),
        )
    }
}

impl Tx {
    /// Writes events (ids are assigned): one statement, one bound JSON array.
    pub async fn insert_events(&mut self, rows: &[EventRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let doc: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!([
                    r.received_at_ms,
                    r.occurred_at_ms,
                    r.source,
                    r.sender,
                    r.host,
                    r.item_id,
                    r.kind,
                    r.object,
                    r.up,
                    r.severity,
                    r.mnemonic,
                    r.text,
                    r.fields
                ])
            })
            .collect();
        let doc = serde_json::Value::Array(doc).to_string();
        match self {
            Tx::Sqlite(t) => {
                let sql = format!(
                    "INSERT INTO events ({COLUMNS}) SELECT value->>0, value->>1, value->>2, value->>3, value->>4, \
                     value->>5, value->>6, value->>7, value->>8, value->>9, value->>10, value->>11, value->>12 \
                     FROM json_each($1)"
                );
                sqlx::query(AssertSqlSafe(sql)).bind(doc).execute(&mut **t).await?;
            }
            Tx::Postgres(t) => {
                let sql = format!(
                    "INSERT INTO events ({COLUMNS}) SELECT (r->>0)::bigint, (r->>1)::bigint, r->>2, r->>3, r->>4, \
                     (r->>5)::bigint, r->>6, r->>7, (r->>8)::boolean, (r->>9)::bigint, r->>10, r->>11, r->>12 \
                     FROM jsonb_array_elements($1::jsonb) r"
                );
                sqlx::query(AssertSqlSafe(sql)).bind(doc).execute(&mut **t).await?;
            }
        }
        Ok(())
    }
}
