//! Alerts and silences as Alertmanager's API has them, so that Prometheus can send to
//! Watchkeeper and amtool can query and silence it. A batch of alerts is merged into the
//! alert book (one alert per fingerprint, Alertmanager's episode rules from `model::alert`),
//! in memory as Alertmanager has it, and made durable as one entry of the alert log before
//! the sender is answered, so an accepted alert survives a crash. The log is the alerts'
//! store: nothing else is written per alert; now and then the whole book is written as a
//! snapshot and the log it covers deleted, and a start reads the snapshot and then the log.
//! Correlation makes the changes between firing and resolved into events. Silences are
//! created, changed and expired by people (audited) and mute the alerts they match.

use crate::audit::event;
use crate::{Actor, App, AppError, Result};
use model::alert::{Alert, AlertTimes, LabelSet, MatchOp, Matcher, PackedAlert, Silence, SilenceState};
use model::{Invalid, Perm};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use store::SilenceRow;

/// How long a resolved alert is kept: Alertmanager's default `--data.retention`, 120 hours.
pub const RESOLVED_RETENTION_MS: i64 = 120 * 3_600_000;

/// Alerts one group commit takes at most, so a storm is committed in steps and answered as
/// it goes.
const GROUP_MAX: usize = 20_000;

/// Log entries a start reads at a time.
const REPLAY_PAGE: i64 = 64;

/// The log is compacted (the book written as a snapshot, the log it covers deleted) once it
/// has taken in this much since the last snapshot, and twice the snapshot's size: each
/// alert is then rewritten at most once for every two bytes the log took in, however many
/// alerts are current, and a start reads at most about three times the book's size.
const COMPACT_MIN_BYTES: usize = 64 << 20;

/// Alerts per snapshot chunk (a row of a few megabytes).
const SNAPSHOT_CHUNK: usize = 10_000;

/// The current alerts, one per fingerprint (firing, and resolved ones until housekeeping
/// forgets them), kept in memory as Alertmanager keeps them (packed, a fifth of the size): the
/// intake merges and queries them here, and makes each accepted batch durable as one entry
/// of the alert log rather than row by row. A running server writes the log and never reads
/// it; a start reads the snapshot and the log after it into the book.
#[derive(Default)]
pub(crate) struct AlertBook {
    alerts: std::sync::RwLock<HashMap<u64, PackedAlert>>,
    loaded: tokio::sync::OnceCell<()>,
    /// What the book holds that events and the snapshot do not yet.
    unfolded: std::sync::Mutex<Unfolded>,
    /// The firing alerts of each alarm group ([`Alert::alarm_group`]) as folded so far: a
    /// group's alarm fires while any of its alerts does.
    firing: std::sync::Mutex<HashMap<String, HashSet<u64>>>,
    /// The groups whose alarms fire, as this server's last events about them said, with
    /// their severities; a group not here is read from the database when touched. Cleared
    /// when storing events fails, so that nothing unsaid is taken as said.
    sounding: std::sync::Mutex<HashMap<String, i64>>,
    /// One fold at a time: two would store the same changes twice.
    folding: tokio::sync::Mutex<()>,
    /// The log's writer, made on first use and again after a failure; the group-commit
    /// writer task takes it to append, a compaction to keep anything from being appended.
    writer: tokio::sync::Mutex<Option<store::LogWriter>>,
}

/// The book's lead: the log entries up to `through` are in the book, with these changes
/// between firing and resolved not yet made into events.
#[derive(Default)]
struct Unfolded {
    through: i64,
    /// The last entry recorded as made into events.
    events_through: i64,
    changes: Vec<AlertChange>,
    /// The log's size since the snapshot, and the snapshot's.
    logged_bytes: usize,
    snapshot_bytes: usize,
    /// No compaction before this instant (ms) after one failed.
    compact_after: i64,
    /// Records a start could not read: the log is then kept whole, never compacted, so
    /// that they are not deleted with it.
    unread: usize,
}

impl Unfolded {
    /// Puts back the changes a failed fold took, ahead of what came since.
    fn restore(&mut self, mut taken: Vec<AlertChange>) {
        taken.append(&mut self.changes);
        self.changes = taken;
    }

    fn wants_compaction(&self) -> bool {
        self.unread == 0 && self.logged_bytes >= COMPACT_MIN_BYTES.max(2 * self.snapshot_bytes)
    }

    /// Housekeeping's lower bar: the log has taken in as much as the snapshot holds, so that
    /// a quiet server's start reads at most twice its book.
    fn wants_housekeeping(&self) -> bool {
        self.unread == 0 && self.logged_bytes > 0 && self.logged_bytes >= self.snapshot_bytes
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

    fn sounding(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        self.sounding.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn firing(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashSet<u64>>> {
        self.firing.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies alerts' changes between firing and resolved to their groups' firing alerts
    /// (again after a failed fold: a set takes the same change twice the same way); returns
    /// what each touched group saw.
    fn apply_changes(&self, changes: &[AlertChange]) -> HashMap<String, GroupChange> {
        let mut firing = self.firing();
        let mut touched: HashMap<String, GroupChange> = HashMap::new();
        for c in changes {
            let last = (c.fingerprint, c.firing, c.at);
            let seen = match touched.get_mut(&c.group) {
                Some(seen) => seen,
                None => touched.entry(c.group.clone()).or_insert(GroupChange { last, worst_firing: None }),
            };
            seen.last = last;
            if c.firing {
                match firing.get_mut(&c.group) {
                    Some(members) => members.insert(c.fingerprint),
                    None => firing.entry(c.group.clone()).or_default().insert(c.fingerprint),
                };
                if seen.worst_firing.is_none_or(|(s, _, _)| c.severity < s) {
                    seen.worst_firing = Some((c.severity, c.fingerprint, c.at));
                }
            } else if let Some(members) = firing.get_mut(&c.group) {
                members.remove(&c.fingerprint);
            }
        }
        firing.retain(|_, m| !m.is_empty());
        touched
    }
}

/// An alert starting (`firing`) or stopping to fire at `at`, with what its alarm group needs
/// of it, read once where the alert is at hand.
struct AlertChange {
    fingerprint: u64,
    firing: bool,
    at: i64,
    group: String,
    severity: u8,
}

impl AlertChange {
    fn of(fingerprint: u64, a: &Alert, firing: bool, at: i64) -> AlertChange {
        AlertChange { fingerprint, firing, at, group: a.alarm_group(), severity: a.severity() }
    }

    fn of_packed(fingerprint: u64, a: &PackedAlert, firing: bool, at: i64) -> AlertChange {
        AlertChange { fingerprint, firing, at, group: a.alarm_group(), severity: a.severity() }
    }
}

/// The most severe of these alerts, with its severity.
fn worst_of(members: &HashSet<u64>, map: &HashMap<u64, PackedAlert>) -> Option<(u8, u64)> {
    members.iter().filter_map(|fp| map.get(fp).map(|a| (a.severity(), *fp))).min()
}

/// What one fold saw of an alarm group: its last change `(fingerprint, firing, at)`, and its
/// most severe alert that started firing `(severity, fingerprint, at)`.
struct GroupChange {
    last: (u64, bool, i64),
    worst_firing: Option<(u8, u64, i64)>,
}

/// One entry of the former intake's log (JSON; `alert_log`), read at start until the first
/// compaction deletes it. The log's entries are [`model::alert::record::Entry`] now.
#[derive(serde::Deserialize)]
struct LogEntry {
    at: i64,
    alerts: Vec<Logged>,
    #[serde(default)]
    times: Vec<LoggedTimes>,
    changes: Vec<(u64, bool)>,
}

/// Fingerprint, start, end, last update, ended by timeout.
type LoggedTimes = (u64, i64, i64, i64, bool);

/// An alert in the log, compact: fingerprint, labels, annotations, generator URL, start,
/// end, last update, ended by timeout.
#[derive(serde::Deserialize)]
struct Logged(u64, LabelSet, LabelSet, String, i64, i64, i64, bool);

/// An alert in the snapshot: [`Logged`] with the fingerprint's bits as a signed integer, as
/// the migration from the former per-alert table wrote them.
#[derive(serde::Deserialize)]
struct Snapped(i64, LabelSet, LabelSet, String, i64, i64, i64, bool);

impl Snapped {
    fn alert(self) -> (u64, Alert) {
        let alert = Alert {
            labels: self.1,
            annotations: self.2,
            generator_url: self.3,
            starts_at: self.4,
            ends_at: self.5,
            updated_at: self.6,
            timeout: self.7,
        };
        (to_fp(self.0), alert)
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

fn to_fp(v: i64) -> u64 {
    u64::from_ne_bytes(v.to_ne_bytes())
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

    /// The alert book, loaded on first use (see [`App::load_alert_book`]).
    async fn book(&self) -> Result<&AlertBook> {
        let book = &*self.alert_book;
        book.loaded.get_or_try_init(|| self.load_alert_book(book)).await?;
        Ok(book)
    }

    /// Reads the snapshot and then the log into the book, and brings the alarms of alert
    /// groups to what it holds (one transaction, which records how far the log was folded).
    async fn load_alert_book(&self, book: &AlertBook) -> Result<()> {
        let forget_before = self.now_ms() - RESOLVED_RETENTION_MS;
        // A failed load leaves nothing said that the next one would take as said.
        book.sounding().clear();
        let mut map: HashMap<u64, PackedAlert> = HashMap::new();
        let (mut snapshot_bytes, mut unread) = (0, 0);
        // Only Watchkeeper writes the store; a record it cannot read (damaged, or from a newer
        // version) is reported and left out rather than keeping every other alert from
        // loading, and the log is then never compacted, so that nothing deletes it.
        let mut skipped = |what: &str, e: &dyn std::fmt::Display| {
            unread += 1;
            tracing::error!(
                error = %e,
                "An alert {what} does not read; left out, and the alert log kept whole until it does."
            );
        };
        for chunk in self.store.alert_snapshot().await? {
            if let Some(packed) = &chunk.packed {
                snapshot_bytes += packed.len();
                match model::alert::record::read_chunk(packed) {
                    Ok(alerts) => map.extend(alerts),
                    Err(e) => skipped("snapshot chunk", &e),
                }
            } else if let Some(body) = &chunk.body {
                // As the migration wrote the former table: read alert by alert, so one bad row
                // costs itself alone.
                snapshot_bytes += body.len();
                match serde_json::from_str::<Vec<serde_json::Value>>(body) {
                    Ok(alerts) => {
                        for v in alerts {
                            match serde_json::from_value::<Snapped>(v) {
                                Ok(a) => {
                                    let (fp, a) = a.alert();
                                    map.insert(fp, PackedAlert::pack(&a));
                                }
                                Err(e) => skipped("in the snapshot", &e),
                            }
                        }
                    }
                    Err(e) => skipped("snapshot chunk", &e),
                }
            }
        }
        // The changes of entries not yet made into events (a crash came between an entry and
        // its fold), as `(fingerprint, firing, at)`.
        let mut changes = Vec::new();
        // Entries the former intake logged as JSON, older than any other (counted as log, so
        // that housekeeping's compaction soon deletes them).
        let mut former_bytes = 0;
        for (id, body) in self.store.former_alert_log().await? {
            former_bytes += body.len();
            let entry: LogEntry = match serde_json::from_str(&body) {
                Ok(e) => e,
                Err(e) => {
                    skipped(&format!("log entry ({id})"), &e);
                    continue;
                }
            };
            changes.extend(entry.changes.iter().map(|(fp, firing)| (*fp, *firing, entry.at)));
            for l in &entry.alerts {
                map.insert(l.0, PackedAlert::pack(&l.alert()));
            }
            for (fp, starts_at, ends_at, updated_at, timeout) in entry.times {
                if let Some(a) = map.get_mut(&fp) {
                    a.times = AlertTimes { starts_at, ends_at, updated_at, timeout };
                }
            }
        }
        let events_through = self.store.alert_events_through().await?;
        let (mut after, mut logged_bytes) = (0, former_bytes);
        loop {
            let page = self.store.alert_entries_after(after, REPLAY_PAGE).await?;
            let Some(&(last, _)) = page.last() else { break };
            for (id, bytes) in page {
                logged_bytes += bytes.len();
                let entry = match model::alert::record::read_entry(&bytes) {
                    Ok(e) => e,
                    Err(e) => {
                        skipped(&format!("log entry ({id})"), &e);
                        continue;
                    }
                };
                if id > events_through {
                    changes.extend(entry.changes.iter().map(|(fp, firing)| (*fp, *firing, entry.at)));
                }
                map.extend(entry.alerts);
                for (fp, times) in entry.times {
                    if let Some(a) = map.get_mut(&fp) {
                        a.times = times;
                    }
                }
            }
            after = last;
        }
        map.retain(|_, a| a.times.ends_at >= forget_before);
        // Each group's firing alerts as the book has them now.
        let now = self.now_ms();
        let mut firing: HashMap<String, HashSet<u64>> = HashMap::new();
        for (fp, a) in &map {
            if a.times.ends_at > now {
                firing.entry(a.alarm_group()).or_default().insert(*fp);
            }
        }
        let alerts = map.len();
        *book.write() = map;
        // The groups those changes touched, and every firing group, are brought to what their
        // alerts say: whatever the database's alarms last heard (before an upgrade that
        // grouped alerts, or a crash), they agree with the book from here on.
        let changes: Vec<AlertChange> = {
            let map = book.read();
            changes
                .iter()
                .filter_map(|&(fp, firing, at)| map.get(&fp).map(|a| AlertChange::of_packed(fp, a, firing, at)))
                .collect()
        };
        let mut touched = book.apply_changes(&changes);
        {
            let map = book.read();
            for (group, members) in &firing {
                // Its most severe alert, whatever the replay saw: the alarm may not know it.
                let Some((severity, fp)) = worst_of(members, &map) else { continue };
                let seen =
                    touched.entry(group.clone()).or_insert(GroupChange { last: (fp, true, now), worst_firing: None });
                if seen.worst_firing.is_none_or(|(s, _, _)| severity < s) {
                    seen.worst_firing = Some((severity, fp, now));
                }
            }
        }
        *book.firing() = firing;
        let events = self.group_events(book, touched, "").await?;
        let stored = self.store_alert_events(events, after.max(events_through)).await?;
        tracing::debug!(alerts, events = stored, "Alert book loaded.");
        let mut unfolded = book.unfolded();
        (unfolded.through, unfolded.events_through) = (after, after.max(events_through));
        (unfolded.logged_bytes, unfolded.snapshot_bytes, unfolded.unread) = (logged_bytes, snapshot_bytes, unread);
        Ok(())
    }

    /// Stores events of alert changes and records that the log's changes through entry
    /// `through` are events, in one transaction. Returns how many it stored.
    async fn store_alert_events(&self, mut events: Vec<model::event::Event>, through: i64) -> Result<usize> {
        self.tie_to_items(&mut events).await?;
        let rows: Vec<store::EventRow> = events.iter().map(crate::events::row).collect();
        let mut tx = self.store.begin().await?;
        tx.insert_events(&rows).await?;
        tx.set_alert_events_through(through).await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Merges every waiting batch into the book and logs the result as one entry. The book
    /// changes only once the entry is committed, so nothing shows that a crash could lose.
    async fn log_alerts(&self, alerts: Vec<Alert>) -> Result<()> {
        let book = self.book().await?;
        // Held from reading the book to changing it: a compaction or housekeeping in between
        // could drop an alert this entry logs by its times alone, from the book and the log.
        let mut held = book.writer.lock().await;
        let now = self.now_ms();
        let mut next: HashMap<u64, Alert> = HashMap::with_capacity(alerts.len());
        let (mut changes, mut grouped) = (Vec::new(), Vec::new());
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
                    grouped.push(AlertChange::of(fp, &merged, firing, now));
                }
                next.insert(fp, merged);
            }
            for (fp, a) in &next {
                match map.get(fp) {
                    Some(old) if old.same_but_times(a) => times.push((*fp, a.times())),
                    _ => whole.push(*fp),
                }
            }
        }
        let packed: HashMap<u64, PackedAlert> = next.iter().map(|(fp, a)| (*fp, PackedAlert::pack(a))).collect();
        drop(next);
        let logged: Vec<(u64, &PackedAlert)> =
            whole.iter().filter_map(|fp| packed.get_key_value(fp)).map(|(fp, a)| (*fp, a)).collect();
        let body = model::alert::record::write_entry(now, logged.into_iter(), &times, &changes);
        let writer = match &mut *held {
            Some(w) => w,
            None => held.insert(self.store.log_writer().await?),
        };
        let id = match writer.append_alert_entry(&body).await {
            Ok(id) => id,
            Err(e) => {
                // The connection may be what failed: the next group makes a new one.
                *held = None;
                return Err(e.into());
            }
        };
        // The book changes while the writer is held, so that a compaction (which holds it)
        // finds in the book every entry it deletes.
        book.write().extend(packed);
        let mut unfolded = book.unfolded();
        unfolded.through = id;
        unfolded.logged_bytes += body.len();
        unfolded.changes.append(&mut grouped);
        drop(unfolded);
        drop(held);
        // Correlation folds the log: at once when an alert started or stopped firing, within
        // its pass interval otherwise.
        if !changes.is_empty() {
            self.correlation.notify_one();
        }
        Ok(())
    }

    /// Makes the changes between firing and resolved logged since the last fold into
    /// events, and compacts the log when it has grown enough. Returns how many events it
    /// stored.
    pub(crate) async fn fold_alert_log(&self) -> Result<usize> {
        let book = self.book().await?;
        let _one = book.folding.lock().await;
        let stored = self.fold_alert_changes(book).await?;
        let now = self.now_ms();
        if book.unfolded().wants_compaction() && now >= book.unfolded().compact_after {
            // A compaction that fails is tried again a minute later; the rest of the pass
            // (other sources' events, routing) goes on meanwhile, and nothing is lost: the
            // log stays.
            if let Err(e) = self.compact_alert_log(book).await {
                tracing::warn!(error = %e, "Compacting the alert log failed; trying again in a minute.");
                book.unfolded().compact_after = now + 60_000;
            }
        }
        Ok(stored)
    }

    async fn fold_alert_changes(&self, book: &AlertBook) -> Result<usize> {
        let (through, changes) = {
            let mut unfolded = book.unfolded();
            if unfolded.through == unfolded.events_through {
                return Ok(0);
            }
            (unfolded.through, std::mem::take(&mut unfolded.changes))
        };
        let touched = book.apply_changes(&changes);
        let events = match self.group_events(book, touched, "").await {
            Ok(events) => events,
            Err(e) => {
                book.sounding().clear();
                book.unfolded().restore(changes);
                return Err(e);
            }
        };
        // Recorded even with no change, so that how far the log was folded can be read.
        let stored = self.store_alert_events(events, through).await;
        match stored {
            Ok(_) => book.unfolded().events_through = through,
            Err(_) => {
                book.sounding().clear();
                book.unfolded().restore(changes);
            }
        }
        stored
    }

    /// The events that bring touched groups' alarms to what their alerts say: a group with
    /// a firing alert and no firing alarm fires (as its most severe new alert, else any of
    /// them), one whose alarm fires and whose alerts have all ended resolves (as its last to
    /// end, `resolved_note` added to its text), and a firing group that a more severe alert
    /// joins fires again at that severity. What the alarm says is read from the database,
    /// events still waiting for correlation included, so that every start agrees with it.
    async fn group_events(
        &self,
        book: &AlertBook,
        touched: HashMap<String, GroupChange>,
        resolved_note: &str,
    ) -> Result<Vec<model::event::Event>> {
        if touched.is_empty() {
            return Ok(Vec::new());
        }
        let key = |group: &str| model::alarm::key("alertmanager", None, "", "", group);
        let unknown: Vec<String> = {
            let sounding = book.sounding();
            touched.keys().filter(|g| !sounding.contains_key(*g)).map(|g| key(g)).collect()
        };
        if !unknown.is_empty() {
            // Whether each group's alarm fires, and at which severity: the alarm, unless
            // events still waiting for correlation say otherwise.
            let mut said: HashMap<String, Option<i64>> =
                self.store.open_alarm_severities(&unknown).await?.into_iter().map(|(k, s)| (k, Some(s))).collect();
            for (object, up, severity) in self.store.pending_states("alertmanager").await? {
                match up {
                    Some(false) => {
                        let s = said.entry(key(&object)).or_insert(None);
                        *s = Some(s.map_or(severity, |s| s.min(severity)));
                    }
                    Some(true) => {
                        said.insert(key(&object), None);
                    }
                    None => {}
                }
            }
            let mut sounding = book.sounding();
            for (k, severity) in said {
                if let (Some(group), Some(severity)) = (k.strip_prefix("alert:"), severity)
                    && touched.contains_key(group)
                {
                    sounding.insert(group.to_owned(), severity);
                }
            }
        }
        let now = self.now_ms();
        let map = book.read();
        let firing = book.firing();
        let mut sounding = book.sounding();
        let mut events = Vec::new();
        for (group, seen) in touched {
            let (fires, severity) = sounding.get(&group).map_or((false, 0), |s| (true, *s));
            let members = firing.get(&group);
            let event = match (members.is_some_and(|m| !m.is_empty()), fires) {
                (true, false) => seen
                    .worst_firing
                    .map(|(_, fp, at)| (fp, at))
                    .or_else(|| members.and_then(|m| worst_of(m, &map)).map(|(_, fp)| (fp, now)))
                    .map(|(fp, at)| (fp, true, at)),
                (true, true) => {
                    seen.worst_firing.filter(|(s, _, _)| i64::from(*s) < severity).map(|(_, fp, at)| (fp, true, at))
                }
                (false, true) => Some(seen.last).map(|(fp, _, at)| (fp, false, at)),
                (false, false) => None,
            };
            let Some((fp, is_firing, at)) = event else { continue };
            let Some(a) = map.get(&fp) else { continue };
            let mut e = a.unpack().event(fp, is_firing, at);
            if is_firing {
                let s = i64::from(e.severity);
                sounding.insert(group, if fires { severity.min(s) } else { s });
            } else {
                sounding.remove(&group);
            }
            if !is_firing && !resolved_note.is_empty() {
                e.text = format!("{} {resolved_note}", e.text);
            }
            events.push(e);
        }
        Ok(events)
    }

    /// Writes the whole book as the snapshot and deletes the log it covers, with the writer
    /// held so that nothing is appended meanwhile.
    async fn compact_alert_log(&self, book: &AlertBook) -> Result<()> {
        let _held = book.writer.lock().await;
        // The entries about to go must have made their events.
        self.fold_alert_changes(book).await?;
        let through = book.unfolded().through;
        let chunks: Vec<Vec<u8>> = {
            let map = book.read();
            let all: Vec<(&u64, &PackedAlert)> = map.iter().collect();
            all.chunks(SNAPSHOT_CHUNK)
                .map(|c| model::alert::record::write_chunk(c.iter().map(|(fp, a)| (**fp, *a))))
                .collect()
        };
        let bytes = chunks.iter().map(Vec::len).sum();
        let mut tx = self.store.begin().await?;
        tx.put_alert_snapshot(&chunks).await?;
        tx.delete_alert_log_through(through).await?;
        tx.commit().await?;
        let mut unfolded = book.unfolded();
        (unfolded.logged_bytes, unfolded.snapshot_bytes) = (0, bytes);
        tracing::debug!(through, bytes, "Alert log compacted.");
        Ok(())
    }

    /// Stores the events of alerts whose end passed in `(after, to]` with no sender saying so
    /// (their end was still ahead when last received: a resolve timeout, or a sender gone
    /// quiet): each group left with no firing alert resolves. Returns how many.
    pub(crate) async fn expire_alerts(&self, after: i64, to: i64) -> Result<usize> {
        let book = self.book().await?;
        let _one = book.folding.lock().await;
        let ended: Vec<AlertChange> = book
            .read()
            .iter()
            .filter(|(_, a)| {
                let t = a.times;
                t.ends_at > after && t.ends_at <= to && t.updated_at < t.ends_at
            })
            .map(|(fp, a)| AlertChange::of_packed(*fp, a, false, to))
            .collect();
        let touched = book.apply_changes(&ended);
        let stored = async {
            let mut events = self.group_events(book, touched, "(ended without a resolve from its sender)").await?;
            self.tie_to_items(&mut events).await?;
            let rows: Vec<store::EventRow> = events.iter().map(crate::events::row).collect();
            let mut tx = self.store.begin().await?;
            tx.insert_events(&rows).await?;
            tx.commit().await?;
            Ok::<_, AppError>(rows.len())
        }
        .await;
        if stored.is_err() {
            book.sounding().clear();
        }
        stored
    }

    /// The labels silences match each firing alert of an alarm group on: the alert's own,
    /// placed as its alarm is (`item`, `site`), with the alarm's kind, source and sender, and
    /// the alarm's severity name unless the alert has its own. Empty if none fires.
    pub(crate) async fn group_alert_labels(
        &self,
        group: &str,
        alarm: &LabelSet,
        item: Option<i64>,
        g: &crate::cmdb::CmdbGraph,
    ) -> Result<Vec<LabelSet>> {
        let book = self.book().await?;
        let members: Vec<u64> = book.firing().get(group).map(|m| m.iter().copied().collect()).unwrap_or_default();
        let map = book.read();
        Ok(members
            .iter()
            .filter_map(|fp| map.get(fp))
            .map(|a| {
                let mut l: LabelSet = a.labels().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
                crate::correlation::place(&mut l, g, item);
                for name in ["kind", "source", "sender", "severity"] {
                    if let Some(v) = alarm.get(name) {
                        l.entry(name.to_owned()).or_insert_with(|| v.clone());
                    }
                }
                l
            })
            .collect())
    }

    /// Forgets the alerts that ended before `before` (the next snapshot leaves them out, and
    /// a start before it forgets them again), and compacts the alert log if it has grown
    /// as large as the snapshot.
    pub(crate) async fn alert_housekeeping(&self, before: i64) -> Result<()> {
        let book = self.book().await?;
        {
            // With the writer held: an entry being made reads the book as it logs (see
            // `log_alerts`).
            let _held = book.writer.lock().await;
            book.write().retain(|_, a| a.times.ends_at >= before);
        }
        let _one = book.folding.lock().await;
        if book.unfolded().wants_housekeeping() {
            self.compact_alert_log(book).await?;
        }
        Ok(())
    }

    /// How many alerts are held, firing or resolved (until housekeeping forgets them).
    pub async fn alerts_held(&self) -> Result<usize> {
        Ok(self.book().await?.read().len())
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
