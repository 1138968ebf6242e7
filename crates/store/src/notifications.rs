//! Notification channels, the notification queue with its delivery attempts, escalation
//! rules and the record of which rule fired for which incident.

use crate::{Result, Store, Tx, on, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChannelRow {
    pub name: String,
    pub kind: String,
    pub target: String,
    pub rate_per_hour: i64,
    pub enabled: bool,
    pub updated_at_ms: i64,
    pub version: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub channel: String,
    pub subject: String,
    pub reason: String,
    pub dedupe_key: String,
    pub notice: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at_ms: Option<i64>,
    pub last_result: String,
    pub created_at_ms: i64,
    pub sent_at_ms: Option<i64>,
    /// A page to a person: their e-mail address, with `channel` naming them (`page:erin`).
    pub address: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub notification_id: i64,
    pub at_ms: i64,
    pub ok: bool,
    pub detail: String,
}

/// A notification to queue.
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub channel: &'a str,
    pub subject: &'a str,
    pub reason: &'a str,
    pub dedupe_key: &'a str,
    pub notice: &'a str,
    /// For a page to a person: the address (`channel` names them).
    pub address: Option<&'a str>,
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub struct AttemptResult<'a> {
    pub ok: bool,
    pub detail: &'a str,
    /// pending (to try again at `next_attempt_at_ms`), sent or failed.
    pub state: &'a str,
    pub next_attempt_at_ms: Option<i64>,
}

const NOTIFICATION: &str = "SELECT id, channel, subject, reason, dedupe_key, notice, state, attempts, \
    next_attempt_at_ms, last_result, created_at_ms, sent_at_ms, address FROM notifications";

impl Store {
    pub async fn channels(&self) -> Result<Vec<ChannelRow>> {
        let sql = "SELECT name, kind, target, rate_per_hour, enabled, updated_at_ms, version \
                   FROM notification_channels ORDER BY name";
        Ok(on!(self.pool(), p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// Notifications about `subject` (all with `None`), newest first.
    pub async fn notifications(&self, subject: Option<&str>, limit: i64) -> Result<Vec<NotificationRow>> {
        let sql = format!("{NOTIFICATION} WHERE $1 IS NULL OR subject = $1 ORDER BY id DESC LIMIT $2");
        Ok(
            on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(subject).bind(limit).fetch_all(p).await?),
        )
    }

    /// Pending notifications whose time has come, oldest first.
    pub async fn due_notifications(&self, now_ms: i64, limit: i64) -> Result<Vec<NotificationRow>> {
        let sql = format!(
            "{NOTIFICATION} WHERE state = 'pending' AND next_attempt_at_ms <= $1 ORDER BY next_attempt_at_ms, id LIMIT $2"
        );
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now_ms).bind(limit).fetch_all(p).await?))
    }

    /// Deliveries to `channel` since `since_ms`: how many, and when the oldest of them went.
    pub async fn sent_since(&self, channel: &str, since_ms: i64) -> Result<(i64, Option<i64>)> {
        let sql = "SELECT COUNT(*), MIN(sent_at_ms) FROM notifications WHERE channel = $1 AND sent_at_ms > $2";
        Ok(on!(self.pool(), p => sqlx::query_as(sql).bind(channel).bind(since_ms).fetch_one(p).await?))
    }

    pub async fn notification_attempts(&self, ids: &[i64]) -> Result<Vec<AttemptRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        let sql = format!(
            "SELECT notification_id, at_ms, ok, detail FROM notification_attempts WHERE notification_id IN ({}) \
             ORDER BY notification_id, id",
            list.join(", ")
        );
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    /// Records an attempt and its outcome in one transaction.
    pub async fn record_attempt(&self, id: i64, now_ms: i64, r: &AttemptResult<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, t => sqlx::query(
            "INSERT INTO notification_attempts (notification_id, at_ms, ok, detail) VALUES ($1, $2, $3, $4)",
        )
        .bind(id).bind(now_ms).bind(r.ok).bind(r.detail)
        .execute(&mut **t).await?.rows_affected());
        let sent_at = r.ok.then_some(now_ms);
        on_tx!(&mut tx, t => sqlx::query(
            "UPDATE notifications SET state = $1, attempts = attempts + 1, next_attempt_at_ms = $2, last_result = $3, \
             sent_at_ms = COALESCE($4, sent_at_ms) WHERE id = $5",
        )
        .bind(r.state).bind(r.next_attempt_at_ms).bind(r.detail).bind(sent_at).bind(id)
        .execute(&mut **t).await?.rows_affected());
        tx.commit().await
    }

    /// Puts a pending notification off until `at_ms` without counting an attempt (a channel
    /// over its hourly rate).
    pub async fn defer_notification(&self, id: i64, at_ms: i64, why: &str) -> Result<()> {
        on!(self.pool(), p => sqlx::query("UPDATE notifications SET next_attempt_at_ms = $1, last_result = $2 WHERE id = $3")
            .bind(at_ms).bind(why).bind(id).execute(p).await?.rows_affected());
        Ok(())
    }

    /// Escalation rules as stored (JSON), by name.
    pub async fn escalation_rules(&self) -> Result<Vec<(String, String)>> {
        Ok(on!(self.pool(), p => sqlx::query_as("SELECT name, rule FROM escalation_rules ORDER BY name")
            .fetch_all(p).await?))
    }

    /// Open incidents (New or In Progress) nobody has updated since `before_ms`, with the
    /// priority and the last update, longest quiet first.
    pub async fn quiet_incidents(&self, before_ms: i64, limit: i64) -> Result<Vec<(String, i64, i64)>> {
        let sql = "SELECT number, priority, updated_at_ms FROM incidents WHERE state IN ('new', 'in-progress') \
                   AND updated_at_ms <= $1 ORDER BY updated_at_ms LIMIT $2";
        Ok(on!(self.pool(), p => sqlx::query_as(sql).bind(before_ms).bind(limit).fetch_all(p).await?))
    }
}

impl Tx {
    pub async fn put_channel(&mut self, c: &ChannelRow) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "INSERT INTO notification_channels (name, kind, target, rate_per_hour, enabled, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO UPDATE SET kind = $2, target = $3, \
             rate_per_hour = $4, enabled = $5, updated_at_ms = $6, version = notification_channels.version + 1",
        )
        .bind(&c.name).bind(&c.kind).bind(&c.target).bind(c.rate_per_hour).bind(c.enabled).bind(c.updated_at_ms)
        .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    pub async fn delete_channel(&mut self, name: &str) -> Result<bool> {
        let n = on_tx!(self, t => sqlx::query("DELETE FROM notification_channels WHERE name = $1").bind(name)
            .execute(&mut **t).await?.rows_affected());
        Ok(n > 0)
    }

    /// Queues a notification: pending, or suppressed when one with the same key was queued
    /// (and not failed) within `window_ms`. Returns its id and state.
    pub async fn enqueue_notification(
        &mut self,
        n: &NewNotification<'_>,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<(i64, &'static str)> {
        let earlier: i64 = on_tx!(self, t => sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE dedupe_key = $1 AND created_at_ms > $2 \
             AND state IN ('pending', 'sent')",
        )
        .bind(n.dedupe_key).bind(now_ms - window_ms)
        .fetch_one(&mut **t).await?);
        let (state, next) = if earlier > 0 { ("suppressed", None) } else { ("pending", Some(now_ms)) };
        let result = if earlier > 0 { "the same notification went out within the dedupe window" } else { "" };
        let id: i64 = on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO notifications (channel, subject, reason, dedupe_key, notice, state, next_attempt_at_ms, \
             last_result, created_at_ms, address) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(n.channel).bind(n.subject).bind(n.reason).bind(n.dedupe_key).bind(n.notice).bind(state).bind(next)
        .bind(result).bind(now_ms).bind(n.address)
        .fetch_one(&mut **t).await?);
        Ok((id, state))
    }

    pub async fn put_escalation_rule(&mut self, name: &str, rule: &str, now_ms: i64) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "INSERT INTO escalation_rules (name, rule, updated_at_ms) VALUES ($1, $2, $3) ON CONFLICT (name) \
             DO UPDATE SET rule = $2, updated_at_ms = $3, version = escalation_rules.version + 1",
        )
        .bind(name).bind(rule).bind(now_ms)
        .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    pub async fn delete_escalation_rule(&mut self, name: &str) -> Result<bool> {
        let n = on_tx!(self, t => sqlx::query("DELETE FROM escalation_rules WHERE name = $1").bind(name)
            .execute(&mut **t).await?.rows_affected());
        Ok(n > 0)
    }

    /// Notes that `rule` fired for the incident on `occasion`; false when it already had.
    pub async fn mark_escalated(&mut self, incident_id: i64, rule: &str, occasion: &str, now_ms: i64) -> Result<bool> {
        let n = on_tx!(self, t => sqlx::query(
            "INSERT INTO incident_escalations (incident_id, rule, occasion, at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (incident_id, rule, occasion) DO NOTHING",
        )
        .bind(incident_id).bind(rule).bind(occasion).bind(now_ms)
        .execute(&mut **t).await?.rows_affected());
        Ok(n == 1)
    }
}

/// A page an incident raised.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PageRow {
    pub incident_id: i64,
    pub number: String,
    pub chain: String,
    pub raised_at_ms: i64,
    pub steps_sent: i64,
    pub acknowledged_at_ms: Option<i64>,
    pub acknowledged_by: Option<String>,
}

const PAGE: &str = "SELECT p.incident_id, n.number, p.chain, p.raised_at_ms, p.steps_sent, p.acknowledged_at_ms, \
    p.acknowledged_by FROM incident_pages p JOIN incidents n ON n.id = p.incident_id";

impl Store {
    /// Schedules or chains (`table` from code: `oncall_schedules` or `escalation_chains`) as
    /// stored JSON specs, by name.
    pub async fn specs(&self, table: Specs) -> Result<Vec<(String, String)>> {
        let sql = format!("SELECT name, spec FROM {} ORDER BY name", table.table());
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    /// Where each account is reached: `(username, email)`.
    pub async fn contacts(&self) -> Result<Vec<(String, String)>> {
        let sql = "SELECT u.username, c.email FROM user_contacts c JOIN users u ON u.id = c.user_id \
                   WHERE u.disabled = FALSE ORDER BY u.username";
        Ok(on!(self.pool(), p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// Pages nobody has acknowledged yet.
    pub async fn open_pages(&self) -> Result<Vec<PageRow>> {
        let sql = format!("{PAGE} WHERE p.acknowledged_at_ms IS NULL ORDER BY p.raised_at_ms");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    pub async fn incident_pages(&self, incident_id: i64) -> Result<Vec<PageRow>> {
        let sql = format!("{PAGE} WHERE p.incident_id = $1 ORDER BY p.raised_at_ms");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(incident_id).fetch_all(p).await?))
    }
}

/// The tables holding JSON specs by name.
#[derive(Debug, Clone, Copy)]
pub enum Specs {
    Schedules,
    Chains,
}

impl Specs {
    fn table(self) -> &'static str {
        match self {
            Specs::Schedules => "oncall_schedules",
            Specs::Chains => "escalation_chains",
        }
    }
}

impl Tx {
    pub async fn put_spec(&mut self, table: Specs, name: &str, spec: &str, now_ms: i64) -> Result<()> {
        let t = table.table();
        let sql = format!(
            "INSERT INTO {t} (name, spec, updated_at_ms) VALUES ($1, $2, $3) ON CONFLICT (name) \
             DO UPDATE SET spec = $2, updated_at_ms = $3, version = {t}.version + 1"
        );
        on_tx!(self, c => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(name).bind(spec).bind(now_ms)
            .execute(&mut **c).await?.rows_affected());
        Ok(())
    }

    pub async fn delete_spec(&mut self, table: Specs, name: &str) -> Result<bool> {
        let sql = format!("DELETE FROM {} WHERE name = $1", table.table());
        let n = on_tx!(self, c => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(name)
            .execute(&mut **c).await?.rows_affected());
        Ok(n > 0)
    }

    pub async fn put_contact(&mut self, user_id: i64, email: &str, now_ms: i64) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "INSERT INTO user_contacts (user_id, email, updated_at_ms) VALUES ($1, $2, $3) ON CONFLICT (user_id) \
             DO UPDATE SET email = $2, updated_at_ms = $3",
        )
        .bind(user_id).bind(email).bind(now_ms)
        .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    /// Starts paging a chain for an incident; false when that chain already pages it.
    pub async fn raise_page(&mut self, incident_id: i64, chain: &str, now_ms: i64) -> Result<bool> {
        let n = on_tx!(self, t => sqlx::query(
            "INSERT INTO incident_pages (incident_id, chain, raised_at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (incident_id, chain) DO NOTHING",
        )
        .bind(incident_id).bind(chain).bind(now_ms)
        .execute(&mut **t).await?.rows_affected());
        Ok(n == 1)
    }

    /// Records how many steps of a page have gone out (only ever more).
    pub async fn page_steps_sent(&mut self, incident_id: i64, chain: &str, steps: i64) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "UPDATE incident_pages SET steps_sent = $1 WHERE incident_id = $2 AND chain = $3 AND steps_sent < $1",
        )
        .bind(steps).bind(incident_id).bind(chain)
        .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    /// Acknowledges every open page of an incident; how many there were.
    pub async fn acknowledge_pages(&mut self, incident_id: i64, who: &str, now_ms: i64) -> Result<u64> {
        Ok(on_tx!(self, t => sqlx::query(
            "UPDATE incident_pages SET acknowledged_at_ms = $1, acknowledged_by = $2 \
             WHERE incident_id = $3 AND acknowledged_at_ms IS NULL",
        )
        .bind(now_ms).bind(who).bind(incident_id)
        .execute(&mut **t).await?.rows_affected()))
    }
}
