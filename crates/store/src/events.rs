//! Events as received: written in batches (one JSON array bound per statement, as the alert
//! intake does) and read back newest first, narrowed by kind, item, sender or words.

use crate::sql::{Json, json_rows};
use crate::{Result, Store, Tx, on, on_tx};
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
    /// The alarm it raised, cleared or repeated, once correlated.
    pub alarm_id: Option<i64>,
    /// Still to be correlated (only events that can raise or clear an alarm ever are).
    pub pending: bool,
    /// The incident it fed (its number), once its alarm was routed to one.
    pub incident_number: Option<String>,
}

/// Which events a list shows.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub kind: Option<String>,
    pub item_id: Option<i64>,
    pub sender: Option<String>,
    /// Words the text must contain, each as a whole word (any case; punctuation inside one
    /// kept as typed, so `10.1.1.1` is that address, not its numbers anywhere), or as the start
    /// of one when it ends in `*`; an interface name in any of its spellings.
    pub words: Vec<String>,
    /// At most this severity number (3: error and worse).
    pub max_severity: Option<i64>,
    pub source: Option<String>,
    /// Only events after this id, oldest first (what a live console follows); without it,
    /// newest first.
    pub after_id: Option<i64>,
    /// Only these events (a selection on the console).
    pub ids: Vec<i64>,
    /// Only events of items at these sites (by slug: what a site-scoped account may read);
    /// none when empty.
    pub sites: Option<Vec<String>>,
    /// Only the events that fed this incident.
    pub incident_id: Option<i64>,
    /// Only events received at or after this instant (epoch ms).
    pub received_since: Option<i64>,
    /// Only events before this one.
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// The advisory lock PostgreSQL transactions that write events take turns by
/// ([`Tx::insert_event_batch`]): "WKEVENTS" in ASCII.
const EVENTS_IN_ORDER: i64 = 0x574b_4556_454e_5453;

/// What an insert writes.
const WRITTEN: &str = "received_at_ms, occurred_at_ms, source, sender, host, item_id, kind, object, up, severity, \
                       mnemonic, text, fields, pending";

/// What a read returns, in [`EventRow`]'s order.
pub(crate) const COLUMNS: &str = "id, received_at_ms, occurred_at_ms, source, sender, host, item_id, kind, object, up, \
                                  severity, mnemonic, text, fields, alarm_id, pending, \
                                  (SELECT number FROM incidents WHERE incidents.id = events.incident_id) AS incident_number";

const TYPES: &[Json] = &[
    Json::Int,
    Json::Int,
    Json::Text,
    Json::Text,
    Json::Text,
    Json::Int,
    Json::Text,
    Json::Text,
    Json::Bool,
    Json::Int,
    Json::Text,
    Json::Text,
    Json::Text,
    Json::Bool,
];

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
        if let Some(s) = &f.source {
            w.eq("source", crate::sql::Arg::Text(s.clone()));
        }
        // Words go to the search index; a word with punctuation is also matched as typed
        // (the index sees only its letters and digits), and one with neither is a scan.
        let mut fts = Vec::new();
        let mut tsq = Vec::new();
        // An interface name is looked for in every spelling devices use (`Gi0/1` finds
        // `GigabitEthernet0/1`).
        for word in &f.words {
            let (literal, prefix) = match word.strip_suffix('*') {
                Some(l) => (l, true),
                None => (word.as_str(), false),
            };
            let spellings = model::alarm::interface_spellings(literal);
            let searches: Vec<(String, String)> = spellings.iter().filter_map(|s| word_search(s, prefix)).collect();
            if searches.len() < spellings.len() {
                // A spelling without letters or digits: nothing the index can narrow.
                w.search_any("text", &spellings);
                continue;
            }
            let (f, t): (Vec<String>, Vec<String>) = searches.into_iter().unzip();
            fts.push(if f.len() > 1 { format!("({})", f.join(" OR ")) } else { f.join("") });
            tsq.push(if t.len() > 1 { format!("({})", t.join(" | ")) } else { t.join("") });
            if spellings.iter().all(|s| s.chars().any(|c| !c.is_alphanumeric())) {
                w.search_any("text", &spellings);
            }
        }
        let postgres = matches!(self.pool(), crate::Pool::Postgres(_));
        // On SQLite the index is the outer loop, read in id order, so a page of a common word
        // stops after a page; events are looked up by id.
        let (from, key) = if fts.is_empty() || postgres {
            ("events", "id")
        } else {
            ("events_fts JOIN events ON events.id = events_fts.rowid", "events_fts.rowid")
        };
        if !fts.is_empty() {
            if postgres {
                let p = w.param(crate::sql::Arg::Text(tsq.join(" & ")));
                w.raw(format!("search @@ to_tsquery('simple', {p})"));
            } else {
                let p = w.param(crate::sql::Arg::Text(fts.join(" AND ")));
                w.raw(format!("events_fts MATCH {p}"));
            }
        }
        if let Some(after) = f.after_id {
            w.raw(format!("{key} > {after}"));
        }
        if !f.ids.is_empty() {
            let list: Vec<String> = f.ids.iter().map(i64::to_string).collect();
            w.raw(format!("id IN ({})", list.join(", ")));
        }
        if let Some(sites) = &f.sites {
            w.item_in_sites("item_id", sites);
        }
        if let Some(i) = f.incident_id {
            w.eq("incident_id", crate::sql::Arg::Int(i));
        }
        if let Some(t) = f.received_since {
            w.raw(format!("received_at_ms >= {t}"));
        }
        if let Some(b) = f.before_id {
            w.raw(format!("{key} < {b}"));
        }
        let order = if f.after_id.is_some() { "ASC" } else { "DESC" };
        let sql =
            format!("SELECT {COLUMNS} FROM {from}{} ORDER BY {key} {order} LIMIT {}", w.sql(), f.limit.clamp(1, 1000));
        Ok(
            on!(self.pool(), p => crate::sql::bind_args!(sqlx::query_as(AssertSqlSafe(sql.clone())), &w.args).fetch_all(p).await?),
        )
    }
}

/// One spelling of a searched word as the two indexes take it: an FTS5 phrase and a tsquery
/// phrase of its letters and digits, the last part a prefix when `prefix`. `None` when it has
/// no letters or digits.
fn word_search(literal: &str, prefix: bool) -> Option<(String, String)> {
    let parts: Vec<String> = crate::sql::search_tokens(literal).collect();
    if parts.is_empty() {
        return None;
    }
    let star = if prefix { "*" } else { "" };
    let fts = format!("\"{}\"{star}", parts.join(" "));
    let mut tsq = parts.join(" <-> ");
    if prefix {
        tsq.push_str(":*");
    }
    Some((fts, if parts.len() > 1 { format!("({tsq})") } else { tsq }))
}

impl Store {
    /// Deletes up to `chunk` of the oldest events received before `before`, never one still
    /// waiting to be correlated; by id, so each chunk is a range of the primary key (events
    /// have no index by time). Returns how many it deleted.
    pub async fn delete_events_before(&self, before: i64, chunk: i64) -> Result<u64> {
        const OLDEST: &str = "SELECT received_at_ms FROM events ORDER BY id LIMIT 1";
        let oldest: Option<i64> = on!(self.pool(), p => sqlx::query_scalar(OLDEST).fetch_optional(p).await?);
        if oldest.is_none_or(|t| t >= before) {
            return Ok(0);
        }
        const SQL: &str = "DELETE FROM events WHERE id IN \
             (SELECT id FROM events WHERE received_at_ms < $1 AND NOT pending ORDER BY id LIMIT $2)";
        Ok(on!(self.pool(), p => sqlx::query(SQL).bind(before).bind(chunk).execute(p).await?.rows_affected()))
    }
}

/// Events made ready to write: their rows serialized into the one JSON array the insert binds,
/// before any transaction is open, so that a writer's transaction does only the writing.
#[derive(Debug, Clone)]
pub struct EventBatch {
    doc: String,
    len: usize,
}

impl EventBatch {
    pub fn of(rows: &[EventRow]) -> Result<EventBatch> {
        // Rows as tuples, serialized straight to text: no JSON tree built on the way.
        let doc: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.received_at_ms,
                    r.occurred_at_ms,
                    &r.source,
                    &r.sender,
                    &r.host,
                    r.item_id,
                    &r.kind,
                    &r.object,
                    r.up,
                    r.severity,
                    &r.mnemonic,
                    &r.text,
                    &r.fields,
                    r.pending,
                )
            })
            .collect();
        let doc = serde_json::to_string(&doc).map_err(|e| crate::StoreError::Db(sqlx::Error::Encode(Box::new(e))))?;
        Ok(EventBatch { doc, len: rows.len() })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Tx {
    /// Writes events (ids are assigned): one statement, one bound JSON array.
    pub async fn insert_events(&mut self, rows: &[EventRow]) -> Result<()> {
        self.insert_event_batch(&EventBatch::of(rows)?).await
    }

    /// Writes a batch of events made ready beforehand.
    ///
    /// Events become visible in the order of their ids, so a reader following them by id (the
    /// live console, a reconnecting browser) never passes one that is still to come. SQLite's
    /// writers take turns; PostgreSQL hands a `BIGSERIAL` id out at insert, not at commit, so
    /// there the transactions that write events take turns too, from their insert to their
    /// commit (a transaction-scoped advisory lock).
    pub async fn insert_event_batch(&mut self, batch: &EventBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        if let Tx::Postgres(t) = self {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(EVENTS_IN_ORDER).execute(&mut **t).await?;
        }
        let doc = batch.doc.as_str();
        let sql = format!("INSERT INTO events ({WRITTEN}) {}", json_rows(matches!(self, Tx::Postgres(_)), TYPES));
        on_tx!(self, t => sqlx::query(AssertSqlSafe(sql)).bind(doc).execute(&mut **t).await.map(|_| ())?);
        Ok(())
    }
}
