//! Alarms (one row per condition), the events still to be correlated, the links from events
//! to the alarm they touched, and the open incidents alarms may join. Batches are bound as
//! one JSON array, as the intake writes events.

use crate::sql::{Json, json_rows};
use crate::{EventRow, Result, Store, Tx, on, on_tx};
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct AlarmRow {
    pub id: i64,
    pub key: String,
    pub item_id: Option<i64>,
    pub source: String,
    pub kind: String,
    pub object: String,
    pub summary: String,
    pub severity: i64,
    /// JSON object.
    pub labels: String,
    pub open: bool,
    pub stateless: bool,
    pub fails_item: bool,
    pub opened_at_ms: i64,
    pub last_at_ms: i64,
    pub cleared_at_ms: Option<i64>,
    pub count: i64,
    pub history: String,
    pub flapping: bool,
    pub suppressed_by: Option<i64>,
    pub silenced_by: String,
    pub incident_id: Option<i64>,
    pub routed: bool,
    pub acked_by: Option<String>,
    pub acked_at_ms: Option<i64>,
    /// The incident's number, as read (never written).
    pub incident_number: Option<String>,
}

/// Which alarms a list shows.
#[derive(Debug, Clone, Default)]
pub struct AlarmFilter {
    /// Open ones only.
    pub open: bool,
    pub item_id: Option<i64>,
    pub incident_id: Option<i64>,
    /// Only alarms of items at these sites (by slug: what a site-scoped account may read);
    /// none when empty.
    pub sites: Option<Vec<String>>,
    pub limit: i64,
}

/// An open incident that alarms fed: `(incident id, number, its item, when an alarm last
/// joined)`.
pub type FedIncident = (i64, String, Option<i64>, i64);

const COLUMNS: &str = "key, item_id, source, kind, object, summary, severity, labels, open, stateless, fails_item, \
                       opened_at_ms, last_at_ms, cleared_at_ms, count, history, flapping, suppressed_by, silenced_by, \
                       incident_id, routed, acked_by, acked_at_ms";

/// What a read returns, in [`AlarmRow`]'s order.
const READ: &str = "id, key, item_id, source, kind, object, summary, severity, labels, open, stateless, fails_item, \
                    opened_at_ms, last_at_ms, cleared_at_ms, count, history, flapping, suppressed_by, silenced_by, \
                    incident_id, routed, acked_by, acked_at_ms, \
                    (SELECT number FROM incidents WHERE incidents.id = alarms.incident_id) AS incident_number";

const TYPES: &[Json] = &[
    Json::Text,
    Json::Int,
    Json::Text,
    Json::Text,
    Json::Text,
    Json::Text,
    Json::Int,
    Json::Text,
    Json::Bool,
    Json::Bool,
    Json::Bool,
    Json::Int,
    Json::Int,
    Json::Int,
    Json::Int,
    Json::Text,
    Json::Bool,
    Json::Int,
    Json::Text,
    Json::Int,
    Json::Bool,
    Json::Text,
    Json::Int,
];

impl Store {
    /// Events still to be correlated, oldest first.
    pub async fn pending_events(&self, limit: i64) -> Result<Vec<EventRow>> {
        let sql = format!(
            "SELECT {} FROM events WHERE pending ORDER BY id LIMIT {}",
            crate::events::COLUMNS,
            limit.clamp(1, 100_000)
        );
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    /// The items with an open alarm saying they have failed as a whole.
    pub async fn failed_items(&self) -> Result<Vec<i64>> {
        const SQL: &str =
            "SELECT DISTINCT item_id FROM alarms WHERE open AND fails_item AND item_id IS NOT NULL ORDER BY item_id";
        Ok(on!(self.pool(), p => sqlx::query_scalar(SQL).fetch_all(p).await?))
    }

    /// How many alarms are open.
    pub async fn open_alarm_total(&self) -> Result<i64> {
        Ok(on!(self.pool(), p => sqlx::query_scalar("SELECT COUNT(*) FROM alarms WHERE open").fetch_one(p).await?))
    }

    /// How many open alarms wait to be sent to an incident: new, or settling (not those held
    /// back as symptoms, silenced, in maintenance or flapping).
    pub async fn awaiting_route_total(&self) -> Result<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM alarms WHERE open AND NOT routed AND suppressed_by IS NULL \
             AND silenced_by = '' AND NOT flapping";
        Ok(on!(self.pool(), p => sqlx::query_scalar(SQL).fetch_one(p).await?))
    }

    /// Alarms, the latest raised first.
    pub async fn alarms(&self, f: &AlarmFilter) -> Result<Vec<AlarmRow>> {
        let mut w = crate::sql::Where::default();
        if f.open {
            w.raw("open".into());
        }
        if let Some(i) = f.item_id {
            w.eq("item_id", crate::sql::Arg::Int(i));
        }
        if let Some(i) = f.incident_id {
            w.eq("incident_id", crate::sql::Arg::Int(i));
        }
        if let Some(sites) = &f.sites {
            w.item_in_sites("item_id", sites);
        }
        let sql = format!(
            "SELECT {READ} FROM alarms{} ORDER BY last_at_ms DESC, id DESC LIMIT {}",
            w.sql(),
            f.limit.clamp(1, 10_000)
        );
        Ok(
            on!(self.pool(), p => crate::sql::bind_args!(sqlx::query_as(AssertSqlSafe(sql.clone())), &w.args).fetch_all(p).await?),
        )
    }

    pub async fn alarm(&self, id: i64) -> Result<Option<AlarmRow>> {
        let sql = format!("SELECT {READ} FROM alarms WHERE id = $1");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?))
    }

    /// Open alarms raised by events that never recover, quiet since `before`.
    pub async fn stale_stateless_alarms(&self, before: i64) -> Result<Vec<AlarmRow>> {
        let sql = format!("SELECT {READ} FROM alarms WHERE open AND stateless AND last_at_ms < $1");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).bind(before).fetch_all(p).await?))
    }

    /// Incidents not yet resolved that an alarm joined at or after `since`.
    pub async fn fed_incidents(&self, since: i64) -> Result<Vec<FedIncident>> {
        const SQL: &str = "SELECT a.incident_id, i.number, i.item_id, MAX(a.last_at_ms) FROM alarms a \
             JOIN incidents i ON i.id = a.incident_id \
             WHERE i.state IN ('new', 'in-progress', 'on-hold') AND a.routed AND a.last_at_ms >= $1 \
             GROUP BY a.incident_id, i.number, i.item_id";
        Ok(on!(self.pool(), p => sqlx::query_as(SQL).bind(since).fetch_all(p).await?))
    }

    /// Open alarms not yet sent to an incident, oldest first, after the alarm `after_id`.
    pub async fn unrouted_alarms(&self, after_id: i64, limit: i64) -> Result<Vec<AlarmRow>> {
        let sql = format!(
            "SELECT {READ} FROM alarms WHERE open AND NOT routed AND id > $1 ORDER BY id LIMIT {}",
            limit.clamp(1, 100_000)
        );
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).bind(after_id).fetch_all(p).await?))
    }

    /// The open alarm saying `item_id` failed, if one does: `(incident id)` it fed.
    pub async fn failing_alarm_incident(&self, item_id: i64) -> Result<Option<Option<i64>>> {
        const SQL: &str = "SELECT incident_id FROM alarms WHERE open AND fails_item AND item_id = $1 \
             ORDER BY routed DESC, id LIMIT 1";
        Ok(on!(self.pool(), p => sqlx::query_scalar(SQL).bind(item_id).fetch_optional(p).await?))
    }

    /// An incident's number by id.
    pub async fn incident_number(&self, id: i64) -> Result<Option<String>> {
        const SQL: &str = "SELECT number FROM incidents WHERE id = $1";
        Ok(on!(self.pool(), p => sqlx::query_scalar(SQL).bind(id).fetch_optional(p).await?))
    }

    /// How many of the alarms an incident was sent are still open, and how many flap.
    pub async fn incident_alarm_counts(&self, incident_id: i64) -> Result<(i64, i64)> {
        const SQL: &str = "SELECT COALESCE(SUM(CASE WHEN open THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN flapping THEN 1 ELSE 0 END), 0) FROM alarms WHERE incident_id = $1 AND routed";
        Ok(on!(self.pool(), p => sqlx::query_as(SQL).bind(incident_id).fetch_one(p).await?))
    }

    /// The open alarms among these keys, with their severities.
    pub async fn open_alarm_severities(&self, keys: &[String]) -> Result<Vec<(String, i64)>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let doc = serde_json::to_string(keys).unwrap_or_else(|_| "[]".into());
        Ok(match self.pool() {
            crate::Pool::Sqlite(p) => {
                const SQL: &str =
                    "SELECT key, severity FROM alarms WHERE open AND key IN (SELECT value FROM json_each($1))";
                sqlx::query_as(SQL).bind(doc).fetch_all(p).await?
            }
            crate::Pool::Postgres(p) => {
                const SQL: &str = "SELECT key, severity FROM alarms WHERE open \
                                   AND key IN (SELECT jsonb_array_elements_text($1::jsonb))";
                sqlx::query_as(SQL).bind(doc).fetch_all(p).await?
            }
        })
    }

    /// The events of a source still waiting for correlation, oldest first: `(object, up,
    /// severity)`.
    pub async fn pending_states(&self, source: &str) -> Result<Vec<(String, Option<bool>, i64)>> {
        const SQL: &str = "SELECT object, up, severity FROM events WHERE pending AND source = $1 ORDER BY id";
        Ok(on!(self.pool(), p => sqlx::query_as(SQL).bind(source).fetch_all(p).await?))
    }

    /// Events an alarm was raised and cleared by, newest first.
    pub async fn alarm_events(&self, alarm_id: i64, limit: i64) -> Result<Vec<EventRow>> {
        let sql = format!(
            "SELECT {} FROM events WHERE alarm_id = $1 ORDER BY id DESC LIMIT {}",
            crate::events::COLUMNS,
            limit.clamp(1, 1000)
        );
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).bind(alarm_id).fetch_all(p).await?))
    }
}

impl Tx {
    /// Every alarm of `kind`, as `(id, key)`: what a change to how keys are made re-reads.
    pub async fn alarm_keys_of_kind(&mut self, kind: &str) -> Result<Vec<(i64, String)>> {
        const SQL: &str = "SELECT id, key FROM alarms WHERE kind = $1 ORDER BY id";
        Ok(on_tx!(self, t => sqlx::query_as(SQL).bind(kind).fetch_all(&mut **t).await?))
    }

    /// The open alarms whose keys start with `prefix`: `(id, key)`, oldest first.
    pub async fn open_alarm_keys_from(&mut self, prefix: &str) -> Result<Vec<(i64, String)>> {
        const SQL: &str = "SELECT id, key FROM alarms WHERE open AND substr(key, 1, $2) = $1 ORDER BY id";
        let chars = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
        Ok(on_tx!(self, t => sqlx::query_as(SQL).bind(prefix).bind(chars).fetch_all(&mut **t).await?))
    }

    /// Gives an alarm a new key. When another alarm already has it, the two tracked one
    /// condition under two names: this one is closed (at `now_ms`, if open) and keeps its key,
    /// and later events go to the other. True when the key changed.
    pub async fn rekey_alarm(&mut self, id: i64, key: &str, now_ms: i64) -> Result<bool> {
        const SQL: &str =
            "UPDATE alarms SET key = $2 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM alarms WHERE key = $2)";
        const CLOSE: &str = "UPDATE alarms SET open = FALSE, cleared_at_ms = $2 WHERE id = $1 AND open";
        let changed =
            on_tx!(self, t => sqlx::query(SQL).bind(id).bind(key).execute(&mut **t).await?.rows_affected()) > 0;
        if !changed {
            on_tx!(self, t => sqlx::query(CLOSE).bind(id).bind(now_ms).execute(&mut **t).await.map(|_| ())?);
        }
        Ok(changed)
    }

    /// Marks the events of these alarms' current episodes with the incident each alarm was
    /// routed to, those not marked yet (the events of an earlier episode keep theirs).
    pub async fn tie_events_to_incidents(&mut self, alarm_ids: &[i64]) -> Result<()> {
        if alarm_ids.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = alarm_ids.iter().map(i64::to_string).collect();
        let sql = format!(
            "UPDATE events SET incident_id = a.incident_id FROM alarms a \
             WHERE events.alarm_id = a.id AND a.id IN ({}) AND a.routed AND a.incident_id IS NOT NULL \
             AND events.incident_id IS NULL AND events.received_at_ms >= a.opened_at_ms",
            list.join(", ")
        );
        on_tx!(self, t => sqlx::query(AssertSqlSafe(sql.clone())).execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    /// Marks these events as having fed this incident (someone opened it from them), those
    /// not marked yet.
    pub async fn tie_events(&mut self, event_ids: &[i64], incident_id: i64) -> Result<()> {
        if event_ids.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = event_ids.iter().map(i64::to_string).collect();
        let sql =
            format!("UPDATE events SET incident_id = $1 WHERE id IN ({}) AND incident_id IS NULL", list.join(", "));
        on_tx!(self, t => sqlx::query(AssertSqlSafe(sql.clone())).bind(incident_id).execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    /// Sends these open alarms to an incident someone opened from their events, routed there
    /// as correlation would have; an alarm already feeding an incident stays with it.
    pub async fn attach_alarms(&mut self, alarm_ids: &[i64], incident_id: i64) -> Result<u64> {
        let mut n = 0;
        for id in alarm_ids {
            n += on_tx!(self, t => sqlx::query("UPDATE alarms SET incident_id = $1, routed = TRUE WHERE id = $2 AND open AND incident_id IS NULL")
                .bind(incident_id).bind(id).execute(&mut **t).await?.rows_affected());
        }
        Ok(n)
    }

    /// Records who acknowledged an alarm; false when there is no such alarm.
    pub async fn ack_alarm(&mut self, id: i64, by: &str, at_ms: i64) -> Result<bool> {
        const SQL: &str = "UPDATE alarms SET acked_by = $1, acked_at_ms = $2 WHERE id = $3";
        let done =
            on_tx!(self, t => sqlx::query(SQL).bind(by).bind(at_ms).bind(id).execute(&mut **t).await?.rows_affected());
        Ok(done == 1)
    }

    /// The alarms of these keys, those that exist.
    pub async fn alarms_by_key(&mut self, keys: &[String]) -> Result<Vec<AlarmRow>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let doc = serde_json::to_string(keys).unwrap_or_else(|_| "[]".into());
        let sql = match self {
            Tx::Sqlite(_) => format!("SELECT {READ} FROM alarms WHERE key IN (SELECT value FROM json_each($1))"),
            Tx::Postgres(_) => {
                format!("SELECT {READ} FROM alarms WHERE key IN (SELECT jsonb_array_elements_text($1::jsonb))")
            }
        };
        Ok(on_tx!(self, t => sqlx::query_as(AssertSqlSafe(sql)).bind(doc).fetch_all(&mut **t).await?))
    }

    /// Writes alarms by key (new ones get ids); returns `(key, id)` of each.
    pub async fn put_alarms(&mut self, rows: &[AlarmRow]) -> Result<Vec<(String, i64)>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let doc: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!([
                    r.key,
                    r.item_id,
                    r.source,
                    r.kind,
                    r.object,
                    r.summary,
                    r.severity,
                    r.labels,
                    r.open,
                    r.stateless,
                    r.fails_item,
                    r.opened_at_ms,
                    r.last_at_ms,
                    r.cleared_at_ms,
                    r.count,
                    r.history,
                    r.flapping,
                    r.suppressed_by,
                    r.silenced_by,
                    r.incident_id,
                    r.routed,
                    r.acked_by,
                    r.acked_at_ms
                ])
            })
            .collect();
        let doc = serde_json::Value::Array(doc).to_string();
        let update: Vec<String> =
            COLUMNS.split(", ").skip(1).map(str::trim).map(|c| format!("{c} = excluded.{c}")).collect();
        let select = json_rows(matches!(self, Tx::Postgres(_)), TYPES);
        let sql = format!(
            "INSERT INTO alarms ({COLUMNS}) {select} ON CONFLICT (key) DO UPDATE SET {} RETURNING key, id",
            update.join(", ")
        );
        Ok(on_tx!(self, t => sqlx::query_as(AssertSqlSafe(sql)).bind(doc).fetch_all(&mut **t).await?))
    }

    /// Marks events correlated, each with the alarm it touched and the incident that alarm
    /// feeds (if any; an incident already recorded stays).
    pub async fn link_events(&mut self, links: &[(i64, Option<i64>, Option<i64>)]) -> Result<()> {
        if links.is_empty() {
            return Ok(());
        }
        let doc = serde_json::to_string(links).unwrap_or_else(|_| "[]".into());
        match self {
            Tx::Sqlite(t) => {
                const SQL: &str = "UPDATE events SET pending = FALSE, alarm_id = j.value->>1, \
                     incident_id = COALESCE(events.incident_id, j.value->>2) \
                     FROM json_each($1) j WHERE events.id = j.value->>0";
                sqlx::query(SQL).bind(doc).execute(&mut **t).await?;
            }
            Tx::Postgres(t) => {
                const SQL: &str = "UPDATE events SET pending = FALSE, alarm_id = (j->>1)::bigint, \
                     incident_id = COALESCE(events.incident_id, (j->>2)::bigint) \
                     FROM jsonb_array_elements($1::jsonb) j WHERE events.id = (j->>0)::bigint";
                sqlx::query(SQL).bind(doc).execute(&mut **t).await?;
            }
        }
        Ok(())
    }
}
