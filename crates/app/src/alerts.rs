//! Alerts and silences as Alertmanager's API has them, so that Prometheus can send to
//! Watchkeeper and amtool can query and silence it. A batch of alerts is merged into the
//! alert book (one alert per fingerprint, Alertmanager's episode rules from `model::alert`),
//! in memory as Alertmanager has it, and made durable as one entry of the alert log before
//! the sender is answered, so an accepted alert survives a crash; correlation folds the log
//! into the `alerts` table and the events of alerts starting and stopping to fire. Silences
//! are created, changed and expired by people (audited) and mute the alerts they match.

use crate::audit::event;
use crate::{Actor, App, AppError, Result};
use model::alert::{Alert, AlertTimes, LabelSet, MatchOp, Matcher, PackedAlert, Silence, SilenceState};
use model::{Invalid, Perm};
use serde_json::json;
use std::collections::HashMap;
use store::{AlertRow, SilenceRow};

/// How long a resolved alert is kept: Alertmanager's default `--data.retention`, 120 hours.
pub const RESOLVED_RETENTION_MS: i64 = 120 * 3_600_000;

/// Alerts one group commit takes at most, so a storm is committed in steps and answered as
/// it goes.
const GROUP_MAX: usize = 20_000;

/// How much of the alert log one fold reads before it commits.
const FOLD_BYTES: usize = 8 << 20;

/// The current alerts, one per fingerprint (firing, and resolved ones until housekeeping
/// forgets them), kept in memory as Alertmanager keeps them (packed, a fifth of the size): the
/// intake merges and queries them here, and makes each accepted batch durable as one entry
/// of the alert log rather than row by row. The `alerts` table trails the book by a
/// correlation pass; at start the log is folded into it and the book read from it.
#[derive(Default)]
pub(crate) struct AlertBook {
    alerts: std::sync::RwLock<HashMap<u64, PackedAlert>>,
    loaded: tokio::sync::OnceCell<()>,
    /// What the book holds that the table does not yet.
    unfolded: std::sync::Mutex<Unfolded>,
    /// One fold at a time: two would store the same changes twice.
    folding: tokio::sync::Mutex<()>,
    /// The log's writer, made on first use and again after a failure; only the group-commit
    /// writer task takes it.
    writer: tokio::sync::Mutex<Option<store::LogWriter>>,
}

/// The book's lead over the `alerts` table: the log entries up to `through` are in the book
/// and not yet folded, touching `fingerprints`, with these changes between firing and
/// resolved. A fold writes the book's states of those alerts, so that in a running server the
/// log is written and deleted but never read; only a start reads it.
#[derive(Default)]
struct Unfolded {
    through: i64,
    /// Each touched alert, and whether more than its times changed (a fold then writes it
    /// whole rather than setting its times).
    fingerprints: HashMap<u64, bool>,
    /// `(fingerprint, firing, at)`.
    changes: Vec<(u64, bool, i64)>,
}

impl Unfolded {
    /// Puts back what a failed fold took, ahead of what came since.
    fn restore(&mut self, mut taken: Unfolded) {
        self.through = self.through.max(taken.through);
        for (fp, whole) in taken.fingerprints {
            *self.fingerprints.entry(fp).or_default() |= whole;
        }
        taken.changes.append(&mut self.changes);
        self.changes = taken.changes;
    }
}

impl AlertBook {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<u64, PackedAlert>> {
        // A panic while holding the lock leaves the map as it was: every change is one insert.
        self.alerts.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<u64, PackedAlert>> {
        self.alerts.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn unfolded(&self) -> std::sync::MutexGuard<'_, Unfolded> {
        self.unfolded.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One entry of the alert log: the state after a group of batches of each alert it touched,
/// and which of them started (`true`) or stopped firing at `at`. An alert repeated with
/// nothing new but its times (what Prometheus does every evaluation) is logged by its times
/// alone; the rest of it is in an earlier entry or the table.
#[derive(serde::Serialize, serde::Deserialize)]
struct LogEntry {
    at: i64,
    alerts: Vec<Logged>,
    #[serde(default)]
    times: Vec<LoggedTimes>,
    changes: Vec<(u64, bool)>,
}

/// Fingerprint, start, end, last update, ended by timeout.
type LoggedTimes = (u64, i64, i64, i64, bool);

fn logged_times(fp: u64, t: AlertTimes) -> LoggedTimes {
    (fp, t.starts_at, t.ends_at, t.updated_at, t.timeout)
}

fn times_row((fp, starts, ends, updated, timeout): LoggedTimes) -> store::AlertTimes {
    store::AlertTimes {
        fingerprint: from_fp(fp),
        starts_at_ms: starts,
        ends_at_ms: ends,
        updated_at_ms: updated,
        timeout,
    }
}

/// An alert in the log, compact: fingerprint, labels, annotations, generator URL, start,
/// end, last update, ended by timeout.
#[derive(serde::Serialize, serde::Deserialize)]
struct Logged(u64, LabelSet, LabelSet, String, i64, i64, i64, bool);

/// [`LogEntry`] as written, borrowing the alerts it logs.
#[derive(serde::Serialize)]
struct LogEntryOut<'a> {
    at: i64,
    alerts: Vec<LoggedRef<'a>>,
    times: Vec<LoggedTimes>,
    changes: &'a [(u64, bool)],
}

/// [`Logged`] as written.
#[derive(serde::Serialize)]
struct LoggedRef<'a>(u64, &'a LabelSet, &'a LabelSet, &'a str, i64, i64, i64, bool);

impl<'a> LoggedRef<'a> {
    fn of(fp: u64, a: &'a Alert) -> Self {
        LoggedRef(fp, &a.labels, &a.annotations, &a.generator_url, a.starts_at, a.ends_at, a.updated_at, a.timeout)
    }
}

impl Logged {
    fn alert(&self) -> Alert {
        Alert {
            labels: self.1.clone(),
            annotations: self.2.clone(),
            generator_url: self.3.clone(),
            starts_at: self.4,
            ends_at: self.5,
            updated_at: self.6,
            timeout: self.7,
        }
    }
}

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

/// Label names to values as JSON, from a packed alert.
struct PairsJson<'a>(model::alert::Pairs<'a>);

impl serde::Serialize for PairsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.0.clone())
    }
}

fn packed_row(fp: u64, a: &PackedAlert) -> AlertRow {
    let json = |p| serde_json::to_string(&PairsJson(p)).unwrap_or_else(|_| "{}".into());
    AlertRow {
        fingerprint: from_fp(fp),
        labels: json(a.labels()),
        annotations: json(a.annotations()),
        generator_url: a.generator_url().to_owned(),
        starts_at_ms: a.times.starts_at,
        ends_at_ms: a.times.ends_at,
        updated_at_ms: a.times.updated_at,
        timeout: a.times.timeout,
    }
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

/// Whether a silence is one an account limited to `sites` may see and set: it names one of
/// them (`site="…"`), so it cannot mute another site's alarms. Every silence, for an account
/// limited to none.
fn in_sites(s: &Silence, sites: &[String]) -> bool {
    let names = |m: &Matcher| m.name == "site" && m.op == MatchOp::Equal && sites.contains(&m.value);
    sites.is_empty() || s.matchers.iter().any(names)
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
    /// Stores a batch of alerts, each merged into the current episode of its fingerprint or
    /// starting a new one; returns once they are durable. Batches arriving together are
    /// logged together by one writer task (group commit): one write and one sync for many
    /// senders.
    pub async fn receive_alerts(&self, actor: &Actor, alerts: Vec<Alert>) -> Result<usize> {
        actor.require(Perm::EventSend)?;
        if alerts.is_empty() {
            return Ok(0);
        }
        let n = alerts.len();
        self.alert_writer
            .submit(self, alerts, GROUP_MAX, |app, alerts| async move { app.log_alerts(alerts).await })
            .await?;
        Ok(n)
    }

    /// The alert book, loaded on first use: the log folded into the table, then the table
    /// read.
    async fn book(&self) -> Result<&AlertBook> {
        let book = &*self.alert_book;
        book.loaded
            .get_or_try_init(|| async {
                self.fold_alert_log_entries().await?;
                let all = self.store.alerts_all().await?;
                let mut map = book.write();
                for r in &all {
                    map.insert(fingerprint_of(r), PackedAlert::pack(&alert(r)));
                }
                tracing::debug!(alerts = all.len(), "Alert book loaded.");
                Ok::<_, AppError>(())
            })
            .await?;
        Ok(book)
    }

    /// Merges every waiting batch into the book and logs the result as one entry. The book
    /// changes only once the entry is committed, so nothing shows that a crash could lose.
    async fn log_alerts(&self, alerts: Vec<Alert>) -> Result<()> {
        let book = self.book().await?;
        let now = self.now_ms();
        let mut next: HashMap<u64, Alert> = HashMap::with_capacity(alerts.len());
        let mut changes = Vec::new();
        let (mut whole, mut times) = (Vec::new(), Vec::new());
        {
            let map = book.read();
            for a in alerts {
                let fp = a.fingerprint();
                // What this group merged before, else what the book holds.
                let (was_firing, merged) = match (next.get(&fp), map.get(&fp)) {
                    (Some(o), _) => (!o.resolved(now), o.put(a, now)),
                    (None, Some(o)) => (!o.resolved(now), o.put(a, now)),
                    (None, None) => (false, a),
                };
                let firing = merged.ends_at > now;
                // A change between firing and resolved is an event, correlated like any other.
                if firing != was_firing {
                    changes.push((fp, firing));
                }
                next.insert(fp, merged);
            }
            // A change is logged whole, so that a start can make its event from the entry.
            let changed: std::collections::HashSet<u64> = changes.iter().map(|c| c.0).collect();
            for (fp, a) in &next {
                match map.get(fp) {
                    Some(old) if !changed.contains(fp) && old.same_but_times(a) => {
                        times.push(logged_times(*fp, a.times()))
                    }
                    _ => whole.push(*fp),
                }
            }
        }
        let entry = LogEntryOut {
            at: now,
            alerts: whole.iter().filter_map(|fp| next.get_key_value(fp)).map(|(fp, a)| LoggedRef::of(*fp, a)).collect(),
            times,
            changes: &changes,
        };
        let body = serde_json::to_string(&entry).map_err(|e| AppError::Internal(format!("alert log entry: {e}")))?;
        let id = {
            let mut held = book.writer.lock().await;
            let writer = match &mut *held {
                Some(w) => w,
                None => held.insert(self.store.log_writer().await?),
            };
            match writer.append_alert_log(&body).await {
                Ok(id) => id,
                Err(e) => {
                    // The connection may be what failed: the next group makes a new one.
                    *held = None;
                    return Err(e.into());
                }
            }
        };
        // Ends the entry's borrow of `next`, keeping what the book's lead needs of it.
        let LogEntryOut { times, .. } = entry;
        let packed: Vec<(u64, PackedAlert)> = next.iter().map(|(fp, a)| (*fp, PackedAlert::pack(a))).collect();
        drop(next);
        book.write().extend(packed);
        // The book first: a fold that sees entry `id` unfolded must find its states in the
        // book, as it deletes the entry once it wrote them.
        let mut unfolded = book.unfolded();
        unfolded.through = id;
        for t in times {
            unfolded.fingerprints.entry(t.0).or_default();
        }
        for fp in whole {
            unfolded.fingerprints.insert(fp, true);
        }
        unfolded.changes.extend(changes.iter().map(|(fp, firing)| (*fp, *firing, now)));
        drop(unfolded);
        // Correlation folds the log: at once when an alert started or stopped firing, within
        // its pass interval otherwise.
        if !changes.is_empty() {
            self.correlation.notify_one();
        }
        Ok(())
    }

    /// Brings the `alerts` table up to the book — each alert the log touched since the last
    /// fold, as the book has it now — and stores the changes between firing and resolved as
    /// events, in one transaction that also deletes the log entries it covers. Returns how
    /// many events it stored.
    pub(crate) async fn fold_alert_log(&self) -> Result<usize> {
        let book = self.book().await?;
        let _one = book.folding.lock().await;
        let taken = std::mem::take(&mut *book.unfolded());
        if taken.through == 0 {
            return Ok(0);
        }
        let (rows, times, mut events) = {
            let map = book.read();
            let (mut rows, mut times) = (Vec::new(), Vec::new());
            for (fp, whole) in &taken.fingerprints {
                match map.get(fp) {
                    Some(a) if *whole => rows.push(packed_row(*fp, a)),
                    Some(a) => times.push(times_row(logged_times(*fp, a.times))),
                    None => {}
                }
            }
            let events: Vec<_> = taken
                .changes
                .iter()
                .filter_map(|(fp, firing, at)| map.get(fp).map(|a| a.unpack().event(*fp, *firing, *at)))
                .collect();
            (rows, times, events)
        };
        let stored = async {
            self.tie_to_items(&mut events).await?;
            let event_rows: Vec<store::EventRow> = events.iter().map(crate::events::row).collect();
            let mut tx = self.store.begin().await?;
            tx.put_alerts(&rows).await?;
            tx.put_alert_times(&times).await?;
            tx.insert_events(&event_rows).await?;
            tx.delete_alert_log_through(taken.through).await?;
            tx.commit().await?;
            Ok::<_, AppError>(event_rows.len())
        }
        .await;
        if stored.is_err() {
            book.unfolded().restore(taken);
        }
        stored
    }

    /// Folds what the alert log holds into the `alerts` table (each fingerprint's latest
    /// state) and its changes into events, in transactions of a few megabytes, deleting what
    /// it folded: what a start does before it reads the table into the book.
    async fn fold_alert_log_entries(&self) -> Result<usize> {
        let _one = self.alert_book.folding.lock().await;
        let mut stored = 0;
        let mut after = 0;
        loop {
            let mut latest: HashMap<u64, Logged> = HashMap::new();
            // Repeats of alerts whose whole state is in the table (folded before), not in
            // what this step read.
            let mut repeats: HashMap<u64, LoggedTimes> = HashMap::new();
            let mut events = Vec::new();
            let (mut bytes, mut read) = (0, false);
            while bytes < FOLD_BYTES {
                let page = self.store.alert_log_after(after, 64).await?;
                let Some(last) = page.last() else { break };
                (after, read) = (last.0, true);
                for (id, body) in &page {
                    bytes += body.len();
                    let entry: LogEntry = match serde_json::from_str(body) {
                        Ok(e) => e,
                        Err(e) => {
                            // Only Watchkeeper writes the log; an entry it cannot read is
                            // reported and left out rather than holding up every later one.
                            tracing::error!(entry = id, error = %e, "An alert log entry does not read; skipped.");
                            continue;
                        }
                    };
                    for (fp, firing) in &entry.changes {
                        if let Some(l) = entry.alerts.iter().find(|l| l.0 == *fp) {
                            events.push(l.alert().event(*fp, *firing, entry.at));
                        }
                    }
                    for l in entry.alerts {
                        repeats.remove(&l.0);
                        latest.insert(l.0, l);
                    }
                    for t in entry.times {
                        match latest.get_mut(&t.0) {
                            Some(l) => (l.4, l.5, l.6, l.7) = (t.1, t.2, t.3, t.4),
                            None => {
                                repeats.insert(t.0, t);
                            }
                        }
                    }
                }
            }
            if !read {
                return Ok(stored);
            }
            let rows: Vec<AlertRow> = latest.values().map(|l| row(&l.alert())).collect();
            let times: Vec<store::AlertTimes> = repeats.into_values().map(times_row).collect();
            self.tie_to_items(&mut events).await?;
            let event_rows: Vec<store::EventRow> = events.iter().map(crate::events::row).collect();
            let mut tx = self.store.begin().await?;
            tx.put_alerts(&rows).await?;
            tx.put_alert_times(&times).await?;
            tx.insert_events(&event_rows).await?;
            tx.delete_alert_log_through(after).await?;
            tx.commit().await?;
            stored += event_rows.len();
        }
    }

    /// Alerts whose end passed in `(after, to]` with no sender saying so: their end was still
    /// ahead when they were last received (a resolve timeout, or a sender gone quiet).
    pub(crate) async fn alerts_ended_between(&self, after: i64, to: i64) -> Result<Vec<(u64, Alert)>> {
        let book = self.book().await?;
        let map = book.read();
        Ok(map
            .iter()
            .filter(|(_, a)| {
                let t = a.times;
                t.ends_at > after && t.ends_at <= to && t.updated_at < t.ends_at
            })
            .map(|(fp, a)| (*fp, a.unpack()))
            .collect())
    }

    /// Forgets the alerts that ended before `before`, in the book and in the table.
    pub(crate) async fn forget_alerts_ended_before(&self, tx: &mut store::Tx, before: i64) -> Result<()> {
        tx.delete_alerts_ended_before(before).await?;
        if self.alert_book.loaded.initialized() {
            self.alert_book.write().retain(|_, a| a.times.ends_at >= before);
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
        let book = self.book().await?;
        // Copied out packed (one allocation each), so the intake's writer is not held up while
        // they are read and matched.
        let firing: Vec<(u64, PackedAlert)> =
            book.read().iter().filter(|(_, a)| !a.resolved(now)).map(|(fp, a)| (*fp, a.clone())).collect();
        let matched: Vec<(u64, Alert)> = firing
            .into_iter()
            .map(|(fp, a)| (fp, a.unpack()))
            .filter(|(_, a)| model::alert::all_match(&q.filter, &a.labels))
            .collect();
        // Where the CMDB places each alert, when a silence or the account's scope asks: the
        // item and site correlation gives its alarm, so a silence by `site` or `item` mutes
        // the same alerts here as it mutes their alarms.
        let placing = !actor.sites.is_empty()
            || silences.iter().any(|s| s.matchers.iter().any(|m| m.name == "site" || m.name == "item"));
        let mut items: Vec<Option<i64>> = vec![None; matched.len()];
        let g = if placing {
            let mut events: Vec<_> = matched.iter().map(|(fp, a)| a.event(*fp, true, now)).collect();
            self.tie_to_items(&mut events).await?;
            items = events.iter().map(|e| e.item_id).collect();
            Some(self.impact_graph().await?)
        } else {
            None
        };
        let mut out = Vec::new();
        for ((fp, a), item) in matched.into_iter().zip(items) {
            let mut labels = a.labels.clone();
            if let Some(g) = &g {
                // A site-scoped account sees the alerts of its sites' items only, and no alert
                // the CMDB cannot place.
                if !actor.sees_site(item.and_then(|i| g.site_of(i))) {
                    continue;
                }
                crate::correlation::place(&mut labels, g, item);
            }
            let silenced_by: Vec<String> = silences
                .iter()
                .filter(|s| s.mutes(&labels, now) && in_sites(s, &actor.sites))
                .map(|s| s.id.clone())
                .collect();
            // Alerts are processed as they arrive: none stays unprocessed, none is inhibited.
            let shown = if silenced_by.is_empty() { q.active } else { q.silenced };
            if shown {
                out.push(AlertView { fingerprint: fp, alert: a, silenced_by });
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
            .filter(|s| in_sites(s, &actor.sites))
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
        match self.store.silence(id).await?.map(|r| silence(&r)) {
            Some(s) if in_sites(&s, &actor.sites) => Ok(s),
            _ => Err(AppError::NotFound(format!("silence {id}"))),
        }
    }

    /// Creates a silence, or changes the one `id` names: in place when Alertmanager would
    /// (same matchers, not expired), otherwise by expiring it and creating a new one. Returns
    /// the id it has now. Audited.
    pub async fn put_silence(&self, actor: &Actor, input: SilenceInput) -> Result<String> {
        actor.require(Perm::EventSend)?;
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
        if !in_sites(&s, &actor.sites) {
            return Err(Invalid::one(
                "matchers",
                format!(
                    "an account limited to sites silences only them: add {}",
                    actor.sites.iter().map(|s| format!("site=\"{s}\"")).collect::<Vec<_>>().join(" or ")
                ),
            )
            .into());
        }
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
        actor.require(Perm::EventSend)?;
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
