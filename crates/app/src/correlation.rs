//! Event correlation: turns the events the intake stored into alarms, and alarms into the
//! right incidents. One task runs passes, woken when events arrive (at most five times a
//! second) and every few seconds:
//!
//! 1. **fold** — alerts that started or stopped firing move their alarm groups (one alarm per
//!    item and alert name, firing while any of its alerts fires: `alerts`), and a group that
//!    changed is an event; every pending event raises, repeats or clears the alarm of its
//!    condition (one per key, `model::alarm`), with Nagios flap detection; events are linked
//!    to it;
//! 2. **expire** — alerts whose end passed without a word from their sender, and alarms raised
//!    by events that never recover and have been quiet, get a clearing event of their own;
//! 3. **route** — each open alarm not yet routed is held under a maintenance window covering
//!    its item, silenced (a silence's matchers match its labels; an alert group's, every
//!    firing alert's), suppressed (its item is down only because an item it needs failed: a symptom,
//!    attached to the cause's incident), left alone while it flaps or while a new "item down"
//!    alarm settles (the settle time, for an item that needs anything: its parent's failure
//!    may arrive a moment later and explain it), or sent to an incident:
//!    the one its previous episode fed if that is still open (or reopened, if it resolved
//!    within the correlation window), an open one sharing a service or the item within the
//!    window, or a new one whose priority comes from the worst affected service and the
//!    event's severity;
//! 4. **resolve** — an incident none of whose alarms is still open resolves itself if nobody
//!    has touched it, and is annotated otherwise.
//!
//! Every step's state is in the database (pending events, unrouted alarms) or rebuilt from it
//! at start (alert groups' firing alerts, from the alert store, compared with their alarms),
//! so a pass that dies half-way is finished by the next one, and a restart loses nothing.

use crate::incidents::OpenIncident;
use crate::{Actor, App, AppError, Result};
use model::Perm;
use model::alarm::{self, AlarmState, Candidate, Change};
use model::alert::{LabelSet, Silence, SilenceState};
use model::impact::{Health, Node};
use model::incident::{Move, State};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;
use store::{AlarmRow, EventRow};

/// Events one fold takes.
const FOLD_BATCH: i64 = 5_000;
/// Alarms one route takes.
const ROUTE_BATCH: i64 = 10_000;
/// How often a pass runs when nothing wakes it: alert ends and quiet alarms are noticed
/// within this.
pub const PASS_INTERVAL: Duration = Duration::from_secs(5);

/// The least time from one pass's start to the next's.
const PASS_GAP: Duration = Duration::from_millis(200);

/// How often a pass looks for alerts that ended without a word from their sender.
const EXPIRY_STEP_MS: i64 = 1_000;

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pass {
    pub events: usize,
    pub raised: usize,
    pub cleared: usize,
    /// Numbers of the incidents it opened.
    pub opened: Vec<String>,
    /// Alarms sent to incidents already open.
    pub joined: usize,
    pub suppressed: usize,
    pub silenced: usize,
    /// Numbers of the incidents it resolved.
    pub resolved: Vec<String>,
}

/// Who correlation acts as in journals and the audit log.
fn correlator() -> Actor {
    Actor { name: "watchkeeper".into(), source: "event-correlation".into(), ..Actor::system() }
}

fn state(a: &AlarmRow) -> AlarmState {
    AlarmState {
        open: a.open,
        opened_at: a.opened_at_ms,
        last_at: a.last_at_ms,
        cleared_at: a.cleared_at_ms,
        count: a.count,
        history: a.history.clone(),
        flapping: a.flapping,
    }
}

fn put_state(a: &mut AlarmRow, s: AlarmState) {
    a.open = s.open;
    a.opened_at_ms = s.opened_at;
    a.last_at_ms = s.last_at;
    a.cleared_at_ms = s.cleared_at;
    a.count = s.count;
    a.history = s.history;
    a.flapping = s.flapping;
}

fn severity(n: i64) -> u8 {
    u8::try_from(n.clamp(0, 7)).unwrap_or(7)
}

/// What silences match an alarm on: an alert's own labels, and for every alarm its item and
/// site (where the CMDB places it, in place of any label of those names), kind, object,
/// source, sender and severity name.
fn labels(e: &EventRow, g: &crate::cmdb::CmdbGraph) -> LabelSet {
    let mut l: LabelSet =
        if e.source == "alertmanager" { serde_json::from_str(&e.fields).unwrap_or_default() } else { LabelSet::new() };
    l.remove("fingerprint");
    place(&mut l, g, e.item_id);
    let mut put = |k: &str, v: &str| {
        if !v.is_empty() {
            l.entry(k.to_owned()).or_insert_with(|| v.to_owned());
        }
    };
    put("kind", &e.kind);
    if e.source != "alertmanager" {
        put("object", &e.object);
    }
    put("source", &e.source);
    put("sender", &e.sender);
    put("severity", model::event::SEVERITIES[usize::from(severity(e.severity))]);
    l
}

/// Puts where the CMDB places an alarm or an alert among its labels: `item` and `site` are
/// the CMDB's, in place of any label of those names (a site-scoped account's silences are
/// bounded by `site`, which a sender must not be able to claim); what it cannot place has
/// neither.
pub(crate) fn place(l: &mut LabelSet, g: &crate::cmdb::CmdbGraph, item: Option<i64>) {
    l.remove("item");
    l.remove("site");
    if let Some(n) = item.and_then(|i| g.nodes.get(&i)) {
        l.insert("item".into(), n.name.clone());
        if let Some(site) = &n.site {
            l.insert("site".into(), site.clone());
        }
    }
}

fn summary(e: &EventRow) -> String {
    let text = e.text.trim();
    let text = if e.mnemonic.is_empty() || text.contains(&e.mnemonic) {
        text.to_owned()
    } else {
        format!("{}: {text}", e.mnemonic)
    };
    text.chars().take(300).collect()
}

fn new_alarm(key: &str, e: &EventRow) -> AlarmRow {
    AlarmRow {
        key: key.to_owned(),
        item_id: e.item_id,
        source: e.source.clone(),
        kind: e.kind.clone(),
        object: e.object.clone(),
        stateless: e.up.is_none(),
        fails_item: alarm::fails_item(&e.kind),
        history: String::new(),
        labels: "{}".into(),
        ..AlarmRow::default()
    }
}

/// The services an item's failure reaches: `(id, down, criticality)`.
pub(crate) type Reach = Vec<(i64, bool, String)>;

pub(crate) fn reach_of(g: &crate::cmdb::CmdbGraph, item: i64) -> Reach {
    let imp = g.graph.impact([item]);
    g.services
        .iter()
        .filter_map(|&s| {
            let h = imp.health(Node::Item(s));
            let crit = g.nodes.get(&s).map(|n| n.criticality.clone()).unwrap_or_default();
            (h != Health::Unaffected).then_some((s, h == Health::Down, crit))
        })
        .collect()
}

impl App {
    /// Runs correlation passes until the server stops: on every arrival of events, and every
    /// [`PASS_INTERVAL`].
    pub async fn run_correlation(self) {
        if let Err(e) = self.rekey_alarms().await {
            tracing::error!(error = %e, "Could not bring alarm keys up to date; older interface, HSRP and VRRP alarms keep theirs.");
        }
        loop {
            let started = tokio::time::Instant::now();
            if let Err(e) = self.correlate().await {
                tracing::error!(error = %e, "A correlation pass failed; the next one takes up its work.");
            }
            let _ = tokio::time::timeout(PASS_INTERVAL, self.correlation.notified()).await;
            // A storm wakes the pass with every batch; what arrives within a moment is taken
            // together rather than a pass (a score of statements) run for each.
            tokio::time::sleep_until(started + PASS_GAP).await;
        }
    }

    /// Brings the keys of alarms stored by an earlier version up to how [`alarm::key`] makes
    /// them now (an interface is one alarm under any of its names; an HSRP or VRRP alarm is
    /// one per group, [`alarm::regrouped`]; an alert's is its alarm group's,
    /// [`model::alert::alarm_group`]), so that the events still to come find them.
    /// Returns how many changed.
    pub async fn rekey_alarms(&self) -> Result<usize> {
        let mut tx = self.store.begin().await?;
        let mut changed = 0;
        for kind in ["hsrp.state", "vrrp.state"] {
            for (id, old) in tx.alarm_keys_of_kind(kind).await? {
                if old.contains(" group ") {
                    continue;
                }
                // The group is in the fields of the events that raised it.
                let last = self.store.alarm_events(id, 1).await?;
                let group = last
                    .first()
                    .and_then(|e| serde_json::from_str::<BTreeMap<String, String>>(&e.fields).ok())
                    .and_then(|f| f.get("group").cloned())
                    .unwrap_or_default();
                if let Some(new) = alarm::regrouped(&old, &group)
                    && tx.rekey_alarm(id, &new, self.now_ms()).await?
                {
                    changed += 1;
                }
            }
        }
        // An alert's alarm was its own (`alert:` and its fingerprint); it is its group's now.
        for (id, old) in tx.open_alarm_keys_from("alert:").await? {
            let Some(fp) = old.strip_prefix("alert:").filter(|f| f.len() == 16 && u64::from_str_radix(f, 16).is_ok())
            else {
                continue;
            };
            let last = self.store.alarm_events(id, 1).await?;
            let Some(labels) =
                last.first().and_then(|e| serde_json::from_str::<BTreeMap<String, String>>(&e.fields).ok())
            else {
                continue;
            };
            // A group named like a fingerprint is a group already.
            if labels.get("fingerprint").is_none_or(|f| f != fp) {
                continue;
            }
            let group = model::alert::alarm_group(|n| labels.get(n).map(String::as_str).filter(|v| !v.is_empty()));
            if tx.rekey_alarm(id, &alarm::key("alertmanager", None, "", "", &group), self.now_ms()).await? {
                changed += 1;
            }
        }
        for (id, old) in tx.alarm_keys_of_kind("interface").await? {
            if let Some(new) = alarm::rekeyed(&old)
                && tx.rekey_alarm(id, &new, self.now_ms()).await?
            {
                changed += 1;
            }
        }
        tx.commit().await?;
        if changed > 0 {
            tracing::info!(
                alarms = changed,
                "Alarms re-keyed: interfaces by their full names, HSRP and VRRP by group, alerts by alarm group."
            );
        }
        Ok(changed)
    }

    /// One correlation pass over everything waiting (see the module's comment).
    pub async fn correlate(&self) -> Result<Pass> {
        let mut pass = Pass::default();
        let mut cleared = BTreeSet::new();
        self.fold_alert_log().await?;
        while self.fold(&mut pass, &mut cleared).await? {}
        if self.expire().await? {
            while self.fold(&mut pass, &mut cleared).await? {}
        }
        self.route(&mut pass).await?;
        self.resolve_cleared(&cleared, &mut pass).await?;
        Ok(pass)
    }

    /// Folds one batch of pending events into their alarms. False when none was waiting.
    async fn fold(&self, pass: &mut Pass, cleared: &mut BTreeSet<i64>) -> Result<bool> {
        let events = self.store.pending_events(FOLD_BATCH).await?;
        if events.is_empty() {
            return Ok(false);
        }
        let g = self.impact_graph().await?;
        let shut = self.line_protocols_shut(&events).await?;
        let keyed: Vec<(String, &EventRow)> =
            events.iter().map(|e| (alarm::key(&e.source, e.item_id, &e.sender, &e.kind, &e.object), e)).collect();
        let mut keys: Vec<String> = keyed.iter().map(|(k, _)| k.clone()).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut tx = self.store.begin().await?;
        let mut alarms: HashMap<String, AlarmRow> =
            tx.alarms_by_key(&keys).await?.into_iter().map(|a| (a.key.clone(), a)).collect();
        let mut flaps: Vec<(i64, bool, String)> = Vec::new();
        for (key, e) in &keyed {
            let a = alarms.entry(key.clone()).or_insert_with(|| new_alarm(key, e));
            let mut st = state(a);
            let was_flapping = st.flapping;
            // A line protocol down because its port was shut is planned: it clears, as the
            // port's own "administratively down" does.
            let up = if shut.contains(&e.id) { Some(true) } else { e.up };
            let change =
                alarm::apply(&mut st, alarm::signal(up, severity(e.severity)), e.received_at_ms, self.settings.flap);
            put_state(a, st);
            match change {
                Change::Raised => {
                    pass.raised += 1;
                    a.routed = false;
                    a.acked_by = None;
                    a.acked_at_ms = None;
                    a.suppressed_by = None;
                    a.silenced_by.clear();
                    a.severity = e.severity;
                    a.summary = summary(e);
                    a.labels = serde_json::to_string(&labels(e, &g)).unwrap_or_else(|_| "{}".into());
                    a.item_id = e.item_id.or(a.item_id);
                }
                Change::Repeated => a.severity = a.severity.min(e.severity),
                Change::Cleared => {
                    pass.cleared += 1;
                    if let (Some(i), true) = (a.incident_id, a.routed) {
                        cleared.insert(i);
                    }
                }
                Change::Nothing => {}
            }
            if a.flapping != was_flapping
                && let Some(i) = a.incident_id
            {
                flaps.push((i, a.flapping, a.summary.clone()));
            }
        }
        pass.events += events.len();
        // A clear for a condition never raised leaves nothing to keep.
        // In the order their events came, so new alarms' ids follow arrival.
        let mut rows: Vec<AlarmRow> = Vec::with_capacity(alarms.len());
        for (key, _) in &keyed {
            if let Some(a) = alarms.remove(key).filter(|a| a.count > 0) {
                rows.push(a);
            }
        }
        let ids: HashMap<String, i64> = tx.put_alarms(&rows).await?.into_iter().collect();
        // An episode already routed: its new events fed that incident too (a new episode's are
        // tied when it is routed).
        let incident_of: HashMap<&str, i64> =
            rows.iter().filter(|a| a.routed).filter_map(|a| a.incident_id.map(|i| (a.key.as_str(), i))).collect();
        let links: Vec<(i64, Option<i64>, Option<i64>)> =
            keyed.iter().map(|(k, e)| (e.id, ids.get(k).copied(), incident_of.get(k.as_str()).copied())).collect();
        tx.link_events(&links).await?;
        tx.commit().await?;
        let actor = correlator();
        for (incident, flapping, what) in flaps {
            let text = if flapping {
                format!("Alarm started flapping (it changes state too often to act on each change): {what}")
            } else {
                format!("Alarm stopped flapping: {what}")
            };
            self.note_incident(&actor, incident, &text).await?;
        }
        Ok(true)
    }

    /// The line-protocol "down" events among `events` that follow their port's shutdown by
    /// configuration ([`alarm::follows_shutdown`]), by id: one read of the interface events of
    /// each device concerned since the earliest of them (folded already, or in this batch).
    async fn line_protocols_shut(&self, events: &[EventRow]) -> Result<HashSet<i64>> {
        let downs: Vec<&EventRow> =
            events.iter().filter(|e| e.kind == "line-protocol" && e.up == Some(false)).collect();
        let mut by_device: BTreeMap<(Option<i64>, &str), Vec<&EventRow>> = BTreeMap::new();
        for e in downs {
            let sender = if e.item_id.is_some() { "" } else { e.sender.as_str() };
            by_device.entry((e.item_id, sender)).or_default().push(e);
        }
        let mut out = HashSet::new();
        for ((item_id, sender), downs) in by_device {
            let since = downs.iter().map(|e| e.received_at_ms).min().unwrap_or(0) - alarm::SHUTDOWN_ECHO_MS;
            let filter = store::EventFilter {
                kind: Some("interface".into()),
                item_id,
                sender: item_id.is_none().then(|| sender.to_owned()),
                received_since: Some(since),
                before_id: downs.iter().map(|e| e.id).max(),
                limit: 1000,
                ..Default::default()
            };
            let ports = self.store.events(&filter).await?;
            // Shut by configuration, as syslog and traps mark it (`admin: down`) and IF-MIB
            // polling names it.
            let shut = |p: &EventRow| {
                p.mnemonic == "IF-MIB-ADMINDOWN"
                    || serde_json::from_str::<BTreeMap<String, String>>(&p.fields)
                        .is_ok_and(|f| f.get("admin").is_some_and(|v| v == "down"))
            };
            let ports: Vec<alarm::PortEvent> = ports
                .iter()
                .map(|p| alarm::PortEvent { id: p.id, object: &p.object, at: p.received_at_ms, shut: shut(p) })
                .collect();
            for e in downs {
                if alarm::follows_shutdown(&e.object, e.id, e.received_at_ms, &ports) {
                    out.insert(e.id);
                }
            }
        }
        Ok(out)
    }

    /// Stores a clearing event for each alert whose end passed unannounced and each alarm
    /// raised by events without a recovery that has been quiet for
    /// [`alarm::STATELESS_CLEAR_MS`]. True when it stored any.
    async fn expire(&self) -> Result<bool> {
        let now = self.now_ms();
        // Finding the alerts that ended reads the whole alert book: once a second at most,
        // however often alerts wake the passes.
        let after = self.expired_to.load(std::sync::atomic::Ordering::Relaxed);
        let ended = if after == 0 || now - after >= EXPIRY_STEP_MS {
            self.expired_to.store(now, std::sync::atomic::Ordering::Relaxed);
            let from = if after == 0 { now - crate::alerts::RESOLVED_RETENTION_MS } else { after };
            match self.expire_alerts(from, now).await {
                Ok(n) => n,
                Err(e) => {
                    // The next pass looks at the same span again.
                    self.expired_to.store(after, std::sync::atomic::Ordering::Relaxed);
                    return Err(e);
                }
            }
        } else {
            0
        };
        let mut events = Vec::new();
        for a in self.store.stale_stateless_alarms(now - alarm::STATELESS_CLEAR_MS).await? {
            events.push(model::event::Event {
                received_at: now,
                occurred_at: None,
                source: "watchkeeper",
                sender: a.key.split('|').next().and_then(|w| w.strip_prefix("sender:")).unwrap_or("").to_owned(),
                host: String::new(),
                item_id: a.item_id,
                kind: a.kind.clone(),
                object: a.object.clone(),
                up: Some(true),
                severity: 6,
                mnemonic: String::new(),
                text: format!("Cleared: no repeat for {} minutes ({})", alarm::STATELESS_CLEAR_MS / 60_000, a.summary),
                fields: BTreeMap::new(),
            });
        }
        if events.is_empty() {
            return Ok(ended > 0);
        }
        self.tie_to_items(&mut events).await?;
        let rows: Vec<store::EventRow> = events.iter().map(crate::events::row).collect();
        let mut tx = self.store.begin().await?;
        tx.insert_events(&rows).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Sends each open alarm not yet routed where it belongs (see the module's comment), a
    /// page at a time.
    async fn route(&self, pass: &mut Pass) -> Result<()> {
        let mut after = 0;
        loop {
            let waiting = self.store.unrouted_alarms(after, ROUTE_BATCH).await?;
            let Some(last) = waiting.last() else { return Ok(()) };
            after = last.id;
            let full = waiting.len() as i64 == ROUTE_BATCH;
            self.route_page(waiting, pass).await?;
            if !full {
                return Ok(());
            }
        }
    }

    async fn route_page(&self, waiting: Vec<AlarmRow>, pass: &mut Pass) -> Result<()> {
        let now = self.now_ms();
        let actor = correlator();
        let window = self.settings.correlation_window_ms;
        let g = self.impact_graph().await?;
        let failed = self.store.failed_items().await?;
        let silences: Vec<Silence> = self
            .store
            .silences()
            .await?
            .iter()
            .map(crate::alerts::silence)
            .filter(|s| s.state(now) == SilenceState::Active)
            .collect();
        let windows: Vec<crate::maintenance::Window> =
            self.all_windows().await?.into_iter().filter(|w| w.active(now)).collect();
        let matrix = self.current_matrix().await?;
        let fed = self.store.fed_incidents(now - window).await?;
        let fed_ids: Vec<i64> = fed.iter().map(|f| f.0).collect();
        let mut services_of: HashMap<i64, Vec<i64>> = HashMap::new();
        for s in self.store.incident_services(&fed_ids).await? {
            services_of.entry(s.incident_id).or_default().push(s.service_id);
        }
        let mut candidates: Vec<Candidate> = fed
            .iter()
            .map(|(id, _, item, last)| Candidate {
                incident_id: *id,
                item_id: *item,
                services: services_of.remove(id).unwrap_or_default(),
                last_alarm_at: *last,
            })
            .collect();
        let mut reach: HashMap<i64, Reach> = HashMap::new();
        // Per incident: what joined it, and the best (impact, urgency) rank among them.
        let mut joined: BTreeMap<i64, (Vec<String>, (usize, usize))> = BTreeMap::new();
        let mut changed = Vec::new();
        let mut symptoms: Vec<(AlarmRow, AlarmRow)> = Vec::new();
        for mut a in waiting {
            let before = a.clone();
            let labels: LabelSet = serde_json::from_str(&a.labels).unwrap_or_default();
            // Planned work first: under a maintenance window the alarm is kept but opens nothing.
            let maintenance = a.item_id.and_then(|i| {
                let node = g.nodes.get(&i)?;
                windows.iter().find(|w| w.coverage.covers(i, node.site.as_deref(), &node.class))
            });
            let muting = |l: &LabelSet| silences.iter().find(|s| s.mutes(l, now)).map(|s| s.id.clone());
            a.silenced_by = match maintenance {
                Some(w) => format!("maintenance:{}", w.row.id),
                // An alert group's alarm is silenced when every alert firing in it is, as
                // Alertmanager notifies a group for the alerts no silence mutes.
                None => match a.key.strip_prefix("alert:") {
                    Some(group) => {
                        let each = self.group_alert_labels(group, &labels, a.item_id, &g).await?;
                        if each.is_empty() {
                            muting(&labels)
                        } else {
                            each.iter()
                                .map(muting)
                                .collect::<Option<Vec<String>>>()
                                .and_then(|ids| ids.into_iter().next())
                        }
                    }
                    None => muting(&labels),
                }
                .unwrap_or_default(),
            };
            if !a.silenced_by.is_empty() {
                pass.silenced += usize::from(before.silenced_by.is_empty());
                if a != before {
                    changed.push(a);
                }
                continue;
            }
            let cause = match a.item_id {
                Some(x) if a.fails_item => {
                    let others: Vec<i64> = failed.iter().copied().filter(|&f| f != x).collect();
                    let imp = g.graph.impact(others);
                    match imp.path(Node::Item(x)).last() {
                        Some(step) if imp.health(Node::Item(x)) == Health::Down => match step.node {
                            Node::Item(root) => Some(root),
                            Node::Group(_) => None,
                        },
                        _ => None,
                    }
                }
                _ => None,
            };
            a.suppressed_by = cause;
            if cause.is_some() {
                // A symptom: shown under the incident of the failure that explains it, once
                // that is known (its own alarm may be routed later in this pass).
                pass.suppressed += usize::from(before.suppressed_by != cause);
                symptoms.push((a, before));
                continue;
            }
            // A flapping alarm that has held its state long enough stops flapping now, not at
            // its next event (which a link that settled down may never send).
            let mut st = state(&a);
            if alarm::settled(&mut st, now, self.settings.flap) {
                put_state(&mut a, st);
                if let Some(i) = a.incident_id {
                    self.note_incident(&actor, i, &format!("Alarm stopped flapping: {}", a.summary)).await?;
                }
            }
            // A child's failure may be seen before its parent's: give something upstream time
            // to explain it, when there is anything upstream at all.
            let settling = now - a.opened_at_ms < self.settings.settle_ms;
            if a.flapping || (a.fails_item && settling && a.item_id.is_some_and(|x| g.graph.needs_anything(x))) {
                if a != before {
                    changed.push(a);
                }
                continue;
            }
            let Some(item) = a.item_id else {
                // The CMDB does not know the sender: nothing says which service it touches.
                // It stays in the alarm list for someone to act on.
                a.routed = true;
                a.incident_id = None;
                changed.push(a);
                continue;
            };
            let sev = severity(a.severity);
            let down = !a.stateless;
            let services = reach.entry(item).or_insert_with(|| reach_of(&g, item)).clone();
            let worst = services.iter().map(|(_, d, c)| (*d, c.as_str())).min_by_key(|w| alarm::impact_rank(Some(*w)));
            let ranks = (alarm::impact_rank(worst), alarm::urgency_rank(sev, down));
            let service_ids: Vec<i64> = services.iter().map(|s| s.0).collect();

            // The incident its previous episode fed, if that is still the one to follow.
            if let Some(previous) = a.incident_id
                && self.follow_previous(&actor, previous, &a, window).await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, alarm = a.id, "An alarm could not go back to its previous incident.");
                    false
                })
            {
                a.routed = true;
                join(&mut joined, previous, &a, ranks);
                if let Some(c) = candidates.iter_mut().find(|c| c.incident_id == previous) {
                    c.last_alarm_at = c.last_alarm_at.max(a.last_at_ms);
                } else {
                    candidates.push(Candidate {
                        incident_id: previous,
                        item_id: Some(item),
                        services: service_ids,
                        last_alarm_at: a.last_at_ms,
                    });
                }
                pass.joined += 1;
                changed.push(a);
                continue;
            }
            match alarm::correlate(Some(item), &service_ids, a.last_at_ms, window, &candidates) {
                Some(incident) => {
                    a.incident_id = Some(incident);
                    a.routed = true;
                    join(&mut joined, incident, &a, ranks);
                    if let Some(c) = candidates.iter_mut().find(|c| c.incident_id == incident) {
                        c.last_alarm_at = c.last_alarm_at.max(a.last_at_ms);
                    }
                    pass.joined += 1;
                    changed.push(a);
                }
                None => {
                    let node = g.nodes.get(&item);
                    let name = node.map_or_else(|| format!("#{item}"), |n| n.name.clone());
                    let level = |axis: &[String], r| alarm::level(axis, r).unwrap_or_default().to_owned();
                    let affected: Vec<String> = services
                        .iter()
                        .filter_map(|(s, d, _)| {
                            g.nodes.get(s).map(|n| format!("{} ({})", n.name, if *d { "down" } else { "degraded" }))
                        })
                        .collect();
                    let description = format!(
                        "Opened by event correlation from the alarm `{}` on {name}.\nSeverity: {}. Services affected: {}.",
                        a.summary,
                        model::event::SEVERITIES[usize::from(sev)],
                        if affected.is_empty() { "none recorded".to_owned() } else { affected.join(", ") },
                    );
                    let opened = match self
                        .open_incident(
                            &actor,
                            OpenIncident {
                                short_description: format!("{name}: {}", a.summary).chars().take(160).collect(),
                                description,
                                caller: "watchkeeper".into(),
                                category: alarm::category(node.map_or("", |n| n.class.as_str())).into(),
                                item: Some(format!("#{item}")),
                                impact: level(&matrix.impacts, ranks.0),
                                urgency: level(&matrix.urgencies, ranks.1),
                                ..OpenIncident::default()
                            },
                        )
                        .await
                    {
                        Ok(o) => o,
                        Err(e) => {
                            // One alarm that cannot open an incident (a matrix without its
                            // levels, say) must not hold up the rest; it is tried again next pass
                            // (unrouted), keeping what this pass found (a flap settled, say).
                            tracing::error!(error = %e, alarm = a.id, "An alarm could not open an incident.");
                            if a != before {
                                changed.push(a);
                            }
                            continue;
                        }
                    };
                    a.incident_id = Some(opened.row.id);
                    a.routed = true;
                    // Kept at once, so a crash now cannot open the incident twice.
                    let mut tx = self.store.begin().await?;
                    tx.put_alarms(std::slice::from_ref(&a)).await?;
                    tx.tie_events_to_incidents(&[a.id]).await?;
                    tx.commit().await?;
                    candidates.push(Candidate {
                        incident_id: opened.row.id,
                        item_id: Some(item),
                        services: service_ids,
                        last_alarm_at: a.last_at_ms,
                    });
                    pass.opened.push(opened.row.number.clone());
                }
            }
        }
        for (mut a, before) in symptoms {
            if let Some(root) = a.suppressed_by {
                a.incident_id = self.store.failing_alarm_incident(root).await?.flatten().or(changed
                    .iter()
                    .find(|c: &&AlarmRow| c.fails_item && c.item_id == Some(root) && c.routed)
                    .and_then(|c| c.incident_id));
            }
            if a != before {
                changed.push(a);
            }
        }
        let mut tx = self.store.begin().await?;
        tx.put_alarms(&changed).await?;
        let routed: Vec<i64> = changed.iter().filter(|a| a.routed && a.incident_id.is_some()).map(|a| a.id).collect();
        tx.tie_events_to_incidents(&routed).await?;
        tx.commit().await?;
        for (incident, (what, ranks)) in joined {
            self.report_joined(&actor, incident, &what, ranks, &matrix).await?;
        }
        Ok(())
    }

    /// Whether an alarm raised again goes back to the incident its previous episode fed:
    /// yes while that is open, and (reopened) when it resolved within the window.
    async fn follow_previous(&self, actor: &Actor, incident: i64, a: &AlarmRow, window: i64) -> Result<bool> {
        let Some(number) = self.store.incident_number(incident).await? else { return Ok(false) };
        let Some(row) = self.store.incident(&number).await? else { return Ok(false) };
        match State::parse(&row.state) {
            Some(State::New | State::InProgress | State::OnHold) => Ok(true),
            Some(State::Resolved) if row.resolved_at_ms.is_some_and(|r| a.opened_at_ms - r <= window) => {
                let comment = format!("Reopened by event correlation: raised again — {}", a.summary);
                self.move_incident(actor, &number, State::InProgress, Move { comment, ..Move::default() }, None)
                    .await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// One journal entry per incident per pass for the alarms that joined it (a storm is one
    /// line, not thousands), and a higher priority if one of them warrants it.
    async fn report_joined(
        &self,
        actor: &Actor,
        incident: i64,
        what: &[String],
        (impact, urgency): (usize, usize),
        matrix: &model::incident::PriorityMatrix,
    ) -> Result<()> {
        let Some(number) = self.store.incident_number(incident).await? else { return Ok(()) };
        let mut shown: Vec<&str> = what.iter().map(String::as_str).take(5).collect();
        shown.dedup();
        let more =
            if what.len() > shown.len() { format!(" and {} more", what.len() - shown.len()) } else { String::new() };
        let text = format!("{} alarm(s) correlated: {}{more}", what.len(), shown.join("; "));
        self.add_note(actor, &number, &text, false).await?;
        let (Some(i), Some(u)) = (alarm::level(&matrix.impacts, impact), alarm::level(&matrix.urgencies, urgency))
        else {
            return Ok(());
        };
        let Ok(p) = matrix.priority(i, u) else { return Ok(()) };
        if let Some(row) = self.store.incident(&number).await?
            && i64::from(p) < row.priority
        {
            self.reprioritise(actor, &number, i, u, None, "", None).await?;
        }
        Ok(())
    }

    /// Incidents whose alarms have all cleared: resolved when nobody has touched them and
    /// none flaps, annotated otherwise.
    async fn resolve_cleared(&self, incidents: &BTreeSet<i64>, pass: &mut Pass) -> Result<()> {
        let actor = correlator();
        for &incident in incidents {
            let (open, flapping) = self.store.incident_alarm_counts(incident).await?;
            if open > 0 {
                continue;
            }
            let Some(number) = self.store.incident_number(incident).await? else { continue };
            let Some(row) = self.store.incident(&number).await? else { continue };
            let state = State::parse(&row.state);
            if !matches!(state, Some(State::New | State::InProgress | State::OnHold)) {
                continue;
            }
            if self.settings.auto_resolve && state == Some(State::New) && flapping == 0 {
                let m = Move {
                    resolution_code: "recovered".into(),
                    resolution_notes: "Every alarm that fed this incident has cleared; resolved by event correlation."
                        .into(),
                    ..Move::default()
                };
                self.move_incident(&actor, &number, State::Resolved, m, None).await?;
                pass.resolved.push(number);
            } else {
                let text = "Every alarm that fed this incident has cleared; resolve it once the service is confirmed.";
                self.add_note(&actor, &number, text, false).await?;
            }
        }
        Ok(())
    }

    /// Alarms, the latest raised first, as the actor may see them (a site-scoped account: its
    /// sites' items only).
    pub async fn alarms(&self, actor: &Actor, filter: &store::AlarmFilter) -> Result<Vec<AlarmRow>> {
        actor.require(Perm::EventRead)?;
        let sites = (!actor.sites.is_empty()).then(|| actor.sites.clone());
        Ok(self.store.alarms(&store::AlarmFilter { sites, ..filter.clone() }).await?)
    }

    /// An incident's id by its number (for filters).
    pub async fn incident_id_of(&self, number: &str) -> Result<Option<i64>> {
        Ok(self.store.incident(number).await?.map(|r| r.id))
    }

    /// One alarm with its latest events.
    pub async fn alarm(&self, actor: &Actor, id: i64) -> Result<(AlarmRow, Vec<EventRow>)> {
        let row = self.store.alarm(id).await?.ok_or_else(|| AppError::NotFound(format!("alarm {id}")))?;
        if !self.alarms_visible(actor, &row).await? {
            return Err(AppError::NotFound(format!("alarm {id}")));
        }
        let events = self.store.alarm_events(id, 100).await?;
        Ok((row, events))
    }

    async fn alarms_visible(&self, actor: &Actor, a: &AlarmRow) -> Result<bool> {
        actor.require(Perm::EventRead)?;
        if actor.sites.is_empty() {
            return Ok(true);
        }
        let g = self.impact_graph().await?;
        Ok(actor.sees_site(a.item_id.and_then(|i| g.site_of(i))))
    }

    /// Acknowledges an alarm: someone is on it (audited).
    pub async fn acknowledge_alarm(&self, actor: &Actor, id: i64) -> Result<AlarmRow> {
        actor.require(Perm::EventWork)?;
        let (before, _) = self.alarm(actor, id).await?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.ack_alarm(id, &actor.name, now).await?;
        let doc = |a: &Option<String>| serde_json::json!({"key": before.key, "acked_by": a}).to_string();
        tx.append_audit(crate::audit::event(
            actor,
            now,
            "alarm.acknowledge",
            "alarm",
            &id.to_string(),
            Some(doc(&before.acked_by)),
            Some(doc(&Some(actor.name.clone()))),
        ))
        .await?;
        tx.commit().await?;
        Ok(self.store.alarm(id).await?.unwrap_or(before))
    }

    async fn note_incident(&self, actor: &Actor, incident: i64, text: &str) -> Result<()> {
        if let Some(number) = self.store.incident_number(incident).await? {
            self.add_note(actor, &number, text, false).await?;
        }
        Ok(())
    }
}

fn join(joined: &mut BTreeMap<i64, (Vec<String>, (usize, usize))>, incident: i64, a: &AlarmRow, ranks: (usize, usize)) {
    let e = joined.entry(incident).or_insert_with(|| (Vec::new(), ranks));
    e.0.push(a.summary.clone());
    e.1 = e.1.min(ranks);
}
