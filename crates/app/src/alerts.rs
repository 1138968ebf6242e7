//! Alerts and silences as Alertmanager's API has them, so that Prometheus can send to
//! Watchkeeper and amtool can query and silence it: a batch of alerts is merged into what is
//! stored (one row per fingerprint, Alertmanager's episode rules from `model::alert`) and
//! committed before the sender is answered, so an accepted alert survives a crash; silences
//! are created, changed and expired by people (audited) and mute the alerts they match.

use crate::audit::event;
use crate::{Actor, App, AppError, Result};
use model::alert::{Alert, LabelSet, MatchOp, Matcher, Silence, SilenceState};
use model::{Invalid, Perm};
use serde_json::json;
use std::collections::HashMap;
use store::{AlertRow, SilenceRow};

/// How long a resolved alert is kept: Alertmanager's default `--data.retention`, 120 hours.
pub const RESOLVED_RETENTION_MS: i64 = 120 * 3_600_000;

/// Alerts one group commit takes at most, so a storm is committed in steps and answered as
/// it goes.
const GROUP_MAX: usize = 20_000;

/// The one receiver Watchkeeper is, as Alertmanager's API names receivers.
pub const RECEIVER: &str = "watchkeeper";

/// An alert as a query answers it: with the silences muting it.
#[derive(Debug, Clone)]
pub struct AlertView {
    pub alert: Alert,
    pub fingerprint: u64,
    pub silenced_by: Vec<String>,
}

/// `GET /api/v2/alerts`' parameters.
#[derive(Debug, Clone)]
pub struct AlertQuery {
    pub active: bool,
    pub silenced: bool,
    pub inhibited: bool,
    pub unprocessed: bool,
    pub filter: Vec<Matcher>,
    /// A regular expression the receiver's name must match whole.
    pub receiver: Option<String>,
}

impl Default for AlertQuery {
    fn default() -> Self {
        AlertQuery {
            active: true,
            silenced: true,
            inhibited: true,
            unprocessed: true,
            filter: Vec::new(),
            receiver: None,
        }
    }
}

/// A silence as someone posts it; `id` names the one it changes.
#[derive(Debug, Clone)]
pub struct SilenceInput {
    pub id: Option<String>,
    pub matchers: Vec<Matcher>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub created_by: String,
    pub comment: String,
}

/// An alert row's fingerprint as Alertmanager writes it.
pub(crate) fn fingerprint_of(r: &AlertRow) -> u64 {
    to_fp(r.fingerprint)
}

fn to_fp(v: i64) -> u64 {
    u64::from_ne_bytes(v.to_ne_bytes())
}

fn from_fp(v: u64) -> i64 {
    i64::from_ne_bytes(v.to_ne_bytes())
}

fn labels_json(l: &LabelSet) -> String {
    serde_json::to_string(l).unwrap_or_else(|_| "{}".into())
}

fn row(a: &Alert) -> AlertRow {
    AlertRow {
        fingerprint: from_fp(a.fingerprint()),
        labels: labels_json(&a.labels),
        annotations: labels_json(&a.annotations),
        generator_url: a.generator_url.clone(),
        starts_at_ms: a.starts_at,
        ends_at_ms: a.ends_at,
        updated_at_ms: a.updated_at,
        timeout: a.timeout,
    }
}

pub(crate) fn alert(r: &AlertRow) -> Alert {
    Alert {
        labels: serde_json::from_str(&r.labels).unwrap_or_default(),
        annotations: serde_json::from_str(&r.annotations).unwrap_or_default(),
        generator_url: r.generator_url.clone(),
        starts_at: r.starts_at_ms,
        ends_at: r.ends_at_ms,
        updated_at: r.updated_at_ms,
        timeout: r.timeout,
    }
}

fn matchers_json(ms: &[Matcher]) -> String {
    let v: Vec<serde_json::Value> = ms
        .iter()
        .map(|m| json!({"name": m.name, "value": m.value, "isRegex": m.op.is_regex(), "isEqual": m.op.is_equal()}))
        .collect();
    serde_json::Value::Array(v).to_string()
}

pub(crate) fn silence(r: &SilenceRow) -> Silence {
    #[derive(serde::Deserialize)]
    struct M {
        name: String,
        value: String,
        #[serde(rename = "isRegex")]
        is_regex: bool,
        #[serde(rename = "isEqual")]
        is_equal: bool,
    }
    let ms: Vec<M> = serde_json::from_str(&r.matchers).unwrap_or_default();
    Silence {
        id: r.id.clone(),
        // Stored only after being checked, so each reads back.
        matchers: ms
            .iter()
            .filter_map(|m| Matcher::new(&m.name, MatchOp::from_flags(m.is_regex, m.is_equal), &m.value).ok())
            .collect(),
        starts_at: r.starts_at_ms,
        ends_at: r.ends_at_ms,
        created_by: r.created_by.clone(),
        comment: r.comment.clone(),
        updated_at: r.updated_at_ms,
    }
}

fn silence_row(s: &Silence) -> SilenceRow {
    SilenceRow {
        id: s.id.clone(),
        matchers: matchers_json(&s.matchers),
        starts_at_ms: s.starts_at,
        ends_at_ms: s.ends_at,
        created_by: s.created_by.clone(),
        comment: s.comment.clone(),
        updated_at_ms: s.updated_at,
    }
}

/// A random (version 4) UUID, as Alertmanager names silences.
fn new_silence_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn silence_doc(s: &Silence) -> String {
    json!({"matchers": s.matchers.iter().map(ToString::to_string).collect::<Vec<_>>(),
           "startsAt": s.starts_at, "endsAt": s.ends_at, "createdBy": s.created_by, "comment": s.comment})
    .to_string()
}

impl App {
    /// Stores a batch of alerts, each merged into the stored episode of its fingerprint or
    /// starting a new one; returns once they are committed. Batches arriving together are
    /// committed together by one writer task (group commit): one transaction and one sync
    /// for many senders, and no two writers waiting on each other's lock.
    pub async fn receive_alerts(&self, actor: &Actor, alerts: Vec<Alert>) -> Result<usize> {
        actor.require(Perm::EventWork)?;
        if alerts.is_empty() {
            return Ok(0);
        }
        let n = alerts.len();
        self.alert_writer
            .submit(self, alerts, GROUP_MAX, |app, alerts| async move { app.store_alerts(alerts).await })
            .await?;
        Ok(n)
    }

    /// One transaction for the alerts of every batch taken together.
    async fn store_alerts(&self, alerts: Vec<Alert>) -> Result<()> {
        let now = self.now_ms();
        let mut fps: Vec<i64> = alerts.iter().map(|a| from_fp(a.fingerprint())).collect();
        fps.sort_unstable();
        fps.dedup();
        let mut tx = self.store.begin().await?;
        let mut current: HashMap<i64, Alert> =
            tx.alerts_by_fingerprint(&fps).await?.iter().map(|r| (r.fingerprint, alert(r))).collect();
        // A change between firing and resolved is an event, correlated like any other.
        let mut changes = Vec::new();
        for a in alerts {
            let fp = from_fp(a.fingerprint());
            let was_firing = current.get(&fp).is_some_and(|old| old.ends_at > now);
            let next = match current.get(&fp) {
                Some(old) => old.put(a, now),
                None => a,
            };
            let firing = next.ends_at > now;
            if firing != was_firing {
                changes.push(next.event(to_fp(fp), firing, now));
            }
            current.insert(fp, next);
        }
        let rows: Vec<AlertRow> = fps.iter().filter_map(|fp| current.get(fp)).map(row).collect();
        tx.put_alerts(&rows).await?;
        if !changes.is_empty() {
            self.tie_to_items(&mut changes).await?;
            let events: Vec<store::EventRow> = changes.iter().map(crate::events::row).collect();
            tx.insert_events(&events).await?;
        }
        tx.commit().await?;
        if !changes.is_empty() {
            self.correlation.notify_one();
        }
        Ok(())
    }

    /// The alerts firing now that the query lets through, by fingerprint.
    pub async fn alerts(&self, actor: &Actor, q: &AlertQuery) -> Result<Vec<AlertView>> {
        actor.require(Perm::EventRead)?;
        if let Some(re) = &q.receiver {
            let anchored = regex::Regex::new(&format!("^(?:{re})$"))
                .map_err(|_| Invalid::one("receiver", format!("`{re}` is not a regular expression")))?;
            if !anchored.is_match(RECEIVER) {
                return Ok(Vec::new());
            }
        }
        let now = self.now_ms();
        let silences: Vec<Silence> =
            self.store.silences().await?.iter().map(silence).filter(|s| s.state(now) == SilenceState::Active).collect();
        let mut out = Vec::new();
        for r in self.store.alerts_active(now).await? {
            let a = alert(&r);
            if !model::alert::all_match(&q.filter, &a.labels) {
                continue;
            }
            let silenced_by: Vec<String> =
                silences.iter().filter(|s| s.mutes(&a.labels, now)).map(|s| s.id.clone()).collect();
            // Alerts are processed as they arrive: none stays unprocessed, none is inhibited.
            let shown = if silenced_by.is_empty() { q.active } else { q.silenced };
            if shown {
                out.push(AlertView { fingerprint: to_fp(r.fingerprint), alert: a, silenced_by });
            }
        }
        out.sort_by_key(|v| v.fingerprint);
        Ok(out)
    }

    /// Every silence whose matchers include all of `filter` (the same matcher, not one that
    /// would match: Alertmanager's rule), active first, then pending, then expired.
    pub async fn silences(&self, actor: &Actor, filter: &[Matcher]) -> Result<Vec<Silence>> {
        actor.require(Perm::EventRead)?;
        let now = self.now_ms();
        let mut all: Vec<Silence> = self
            .store
            .silences()
            .await?
            .iter()
            .map(silence)
            .filter(|s| filter.iter().all(|f| s.matchers.contains(f)))
            .collect();
        all.sort_by_key(|s| {
            let st = s.state(now);
            let key = match st {
                SilenceState::Active => s.ends_at,
                SilenceState::Pending => s.starts_at,
                SilenceState::Expired => -s.ends_at,
            };
            (st, key)
        });
        Ok(all)
    }

    pub async fn silence(&self, actor: &Actor, id: &str) -> Result<Silence> {
        actor.require(Perm::EventRead)?;
        match self.store.silence(id).await? {
            Some(r) => Ok(silence(&r)),
            None => Err(AppError::NotFound(format!("silence {id}"))),
        }
    }

    /// Creates a silence, or changes the one `id` names: in place when Alertmanager would
    /// (same matchers, not expired), otherwise by expiring it and creating a new one. Returns
    /// the id it has now. Audited.
    pub async fn put_silence(&self, actor: &Actor, input: SilenceInput) -> Result<String> {
        actor.require(Perm::EventWork)?;
        let now = self.now_ms();
        let before = match &input.id {
            Some(id) => Some(self.silence(actor, id).await?),
            None => None,
        };
        let mut s = Silence {
            id: String::new(),
            matchers: input.matchers,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            created_by: input.created_by,
            comment: input.comment,
            updated_at: now,
        };
        // A silence starting in the past starts now (Alertmanager's rule for new ones).
        if before.is_none() && s.starts_at < now {
            s.starts_at = now;
        }
        s.validate(now).map_err(Invalid)?;
        let mut tx = self.store.begin().await?;
        match before {
            Some(old) if old.can_update_to(&s, now) => {
                s.id = old.id.clone();
                tx.put_silence(&silence_row(&s)).await?;
                tx.append_audit(event(
                    actor,
                    now,
                    "silence.update",
                    "silence",
                    &s.id,
                    Some(silence_doc(&old)),
                    Some(silence_doc(&s)),
                ))
                .await?;
            }
            Some(old) => {
                let ended = old.expired(now);
                if old.state(now) != SilenceState::Expired {
                    tx.put_silence(&silence_row(&ended)).await?;
                    tx.append_audit(event(
                        actor,
                        now,
                        "silence.expire",
                        "silence",
                        &old.id,
                        Some(silence_doc(&old)),
                        None,
                    ))
                    .await?;
                }
                s.id = new_silence_id();
                if s.starts_at < now {
                    s.starts_at = now;
                }
                tx.put_silence(&silence_row(&s)).await?;
                tx.append_audit(event(actor, now, "silence.create", "silence", &s.id, None, Some(silence_doc(&s))))
                    .await?;
            }
            None => {
                s.id = new_silence_id();
                tx.put_silence(&silence_row(&s)).await?;
                tx.append_audit(event(actor, now, "silence.create", "silence", &s.id, None, Some(silence_doc(&s))))
                    .await?;
            }
        }
        tx.commit().await?;
        tracing::info!(silence = %s.id, by = %actor.name, matchers = %s.matchers.iter().map(ToString::to_string).collect::<Vec<_>>().join(","), "Silence set.");
        Ok(s.id)
    }

    /// Ends a silence now (it is kept, expired). Audited.
    pub async fn expire_silence(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Perm::EventWork)?;
        let old = self.silence(actor, id).await?;
        let now = self.now_ms();
        if old.state(now) == SilenceState::Expired {
            return Err(AppError::Conflict(format!("silence {id} already expired")));
        }
        let mut tx = self.store.begin().await?;
        tx.put_silence(&silence_row(&old.expired(now))).await?;
        tx.append_audit(event(actor, now, "silence.expire", "silence", id, Some(silence_doc(&old)), None)).await?;
        tx.commit().await?;
        Ok(())
    }
}
