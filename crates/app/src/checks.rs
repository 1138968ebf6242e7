//! Active checks: definitions (audited) that apply to items by name, class (and below), site
//! or tag; the schedule that runs every check on every item it applies to, spread over its
//! interval (so a thousand checks defined at once do not fire in the same second), through
//! `probe`; Nagios' soft and hard states per check and item (retrying at the retry interval
//! while a problem is unconfirmed); and the results — each state kept, performance data kept
//! as samples, and each hard change stored as an event, which correlation turns into alarms
//! and incidents like any other. An ICMP check gone CRITICAL says its item is down
//! (`host.down`), so what sits behind it is suppressed, not paged. What a probe saw change
//! besides its status (an SNMP poll's link down, an agent restart) is an event of its own.

use crate::{Actor, App, AppError, Result};
use model::check::{CheckSpec, CheckState, Outcome, Probe, Signal, Status, Transition};
use model::event::Event;
use model::{Invalid, Perm};
use probe::{Probes, Target};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use store::{CheckRow, CheckStateRow};

/// Checks running at once, at most.
const CONCURRENCY: usize = 512;
/// How long raw samples are kept: a week and a day, so last week reads at full resolution.
pub const SAMPLE_RETENTION_MS: i64 = 8 * 86_400_000;
/// How long hourly roll-ups are kept: a year and a month, for year-on-year graphs.
pub const ROLLUP_RETENTION_MS: i64 = 400 * 86_400_000;
/// Spans longer than this are read from the hourly roll-ups: at 240 points a graph, longer
/// spans would average raw samples into points of more than 12 minutes anyway.
pub const RAW_SPAN_MS: i64 = 2 * 86_400_000;

/// A point of a series: a sample, or an hour's roll-up (its mean, with its minimum and
/// maximum).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at: i64,
    pub value: f64,
    /// The hour's lowest and highest sample, for a roll-up.
    pub range: Option<(f64, f64)>,
}

/// A check as someone defines it.
#[derive(Debug, Clone)]
pub struct CheckInput {
    pub spec: CheckSpec,
    /// Items by name, `site/name` or `#id`.
    pub items: Vec<String>,
    /// Every item of this class or below (`network-device`).
    pub class: String,
    /// Every item at this site.
    pub site: String,
    /// Every item whose custom attribute `tags` holds this tag.
    pub tag: String,
    pub enabled: bool,
}

/// A check as defined, read.
#[derive(Debug, Clone)]
pub struct CheckView {
    pub row: CheckRow,
    pub spec: CheckSpec,
    pub item_ids: Vec<i64>,
}

/// One check on one item, as the status board shows it.
#[derive(Debug, Clone)]
pub struct BoardRow {
    pub check_id: i64,
    pub check: String,
    pub kind: &'static str,
    pub item_id: i64,
    pub item: String,
    pub site: Option<String>,
    pub state: Option<CheckStateRow>,
}

/// One check on one item, due at `next_at`.
#[derive(Debug, Clone)]
struct Planned {
    check_id: i64,
    item_id: i64,
    name: String,
    spec: Arc<CheckSpec>,
    target: Target,
    /// The slot on the pair's cadence its next run belongs to ([`model::check::next_run`]).
    slot_at: i64,
    /// When it runs: the slot plus the check's jitter.
    next_at: i64,
}

fn view(row: CheckRow) -> Option<CheckView> {
    let spec = serde_json::from_str(&row.spec).ok()?;
    let item_ids = serde_json::from_str(&row.item_ids).unwrap_or_default();
    Some(CheckView { row, spec, item_ids })
}

/// Whether a custom-attribute document's `tags` (a list, or words separated by commas or
/// spaces) holds `tag`.
fn has_tag(attrs: &str, tag: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(attrs) else { return false };
    match &doc["tags"] {
        serde_json::Value::Array(a) => a.iter().any(|t| t.as_str() == Some(tag)),
        serde_json::Value::String(s) => s.split([',', ' ']).any(|t| t.trim() == tag),
        _ => false,
    }
}

/// Spreads first runs over the interval by a hash of the pair, so restarts keep the spread.
fn offset(check_id: i64, item_id: i64, interval_ms: i64) -> i64 {
    let h =
        (check_id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (item_id as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
    (h % (interval_ms.max(1) as u64)) as i64
}

fn state_of(r: &CheckStateRow) -> CheckState {
    CheckState {
        status: Status::parse(&r.status).unwrap_or(Status::Unknown),
        hard: r.hard,
        attempt: u32::try_from(r.attempt).unwrap_or(1).max(1),
        hard_status: Status::parse(&r.hard_status).unwrap_or(Status::Unknown),
    }
}

/// The events a hard change is: for an ICMP check, CRITICAL says the item is down
/// (`host.down`); anything else non-OK is a `check` problem. The kind not raised is cleared,
/// so a move between the two leaves one alarm open.
fn events(p: &Planned, item_site: &str, from: Status, to: Status, o: &Outcome, now: i64) -> Vec<Event> {
    let host_down = matches!(p.spec.probe, Probe::Icmp { .. });
    let make = |kind: &str, object: &str, up: bool, severity: u8| {
        let s = Signal {
            kind: kind.to_owned(),
            object: object.to_owned(),
            up: Some(up),
            severity,
            mnemonic: format!("{}-{}", p.spec.probe.kind().to_uppercase(), to.as_str().to_uppercase()),
            text: format!("{}: {} (was {from}, now {to})", p.name, o.output.text),
        };
        let mut e = signal_event(p, item_site, &s, now);
        e.fields.insert("status".to_owned(), to.as_str().to_owned());
        e
    };
    let down_kind = host_down && to == Status::Critical;
    let mut out = Vec::new();
    if to == Status::Ok {
        out.push(make("check", &p.name, true, 6));
        if host_down {
            out.push(make("host.down", "", true, 6));
        }
        return out;
    }
    if down_kind {
        out.push(make("check", &p.name, true, 6));
        out.push(make("host.down", "", false, to.severity()));
    } else {
        if host_down {
            out.push(make("host.down", "", true, 6));
        }
        out.push(make("check", &p.name, false, to.severity()));
    }
    out
}

/// The event a signal is: something the probe saw change on the item (an interface, the
/// agent restarting, or the check's own status changing).
fn signal_event(p: &Planned, item_site: &str, s: &Signal, now: i64) -> Event {
    Event {
        received_at: now,
        occurred_at: Some(now),
        source: "check",
        sender: p.target.address.clone(),
        host: p.target.name.clone(),
        item_id: Some(p.item_id),
        kind: s.kind.clone(),
        object: s.object.clone(),
        up: s.up,
        severity: s.severity,
        mnemonic: s.mnemonic.clone(),
        text: s.text.clone(),
        fields: BTreeMap::from([("check".to_owned(), p.name.clone()), ("site".to_owned(), item_site.to_owned())]),
    }
}

impl App {
    /// How many performance data items checks wrote that did not read, since the start.
    pub fn perfdata_unread(&self) -> u64 {
        self.perfdata_unread.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Every check defined.
    pub async fn checks(&self, actor: &Actor) -> Result<Vec<CheckView>> {
        actor.require(Perm::EventRead)?;
        Ok(self.store.checks().await?.into_iter().filter_map(view).collect())
    }

    /// Defines a check (audited).
    pub async fn create_check(&self, actor: &Actor, input: CheckInput) -> Result<CheckView> {
        actor.require(Perm::CmdbWrite)?;
        let mut errors = input.spec.validate().err().map(|i| i.0).unwrap_or_default();
        let mut ids = Vec::new();
        for r in &input.items {
            match self.resolve_item(actor, r).await {
                Ok(i) => ids.push(i.id),
                Err(AppError::NotFound(_)) => errors.push(model::FieldError::new("items", format!("no item `{r}`"))),
                Err(e) => return Err(e),
            }
        }
        if !input.class.is_empty() && model::cmdb::descendants(&input.class).is_empty() {
            errors.push(model::FieldError::new("class", format!("no class `{}`", input.class)));
        }
        if ids.is_empty() && input.class.is_empty() && input.site.is_empty() && input.tag.is_empty() {
            errors.push(model::FieldError::new("items", "say what it applies to: items, class, site or tag"));
        }
        Invalid::check(errors)?;
        let now = self.now_ms();
        let spec = serde_json::to_string(&input.spec).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut row = CheckRow {
            id: 0,
            name: input.spec.name.trim().to_owned(),
            spec,
            item_ids: serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()),
            class: input.class,
            site: input.site,
            tag: input.tag,
            enabled: input.enabled,
            created_at_ms: now,
            updated_at_ms: now,
        };
        let mut tx = self.store.begin().await?;
        row.id = match tx.insert_check(&row).await {
            Ok(id) => id,
            Err(store::StoreError::Conflict { .. }) => {
                return Err(Invalid::one("name", format!("a check `{}` exists; choose another name", row.name)).into());
            }
            Err(e) => return Err(e.into()),
        };
        let doc = serde_json::json!({"name": row.name, "spec": input.spec, "items": ids, "class": row.class,
                                     "site": row.site, "tag": row.tag, "enabled": row.enabled});
        tx.append_audit(crate::audit::event(
            actor,
            now,
            "check.create",
            "check",
            &row.id.to_string(),
            None,
            Some(doc.to_string()),
        ))
        .await?;
        tx.commit().await?;
        self.checks_changed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        view(row).ok_or_else(|| AppError::Internal("a check just written does not read".into()))
    }

    /// Deletes a check and its states (audited), clearing the alarms it raised.
    pub async fn delete_check(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(Perm::CmdbWrite)?;
        let before = self.store.checks().await?.into_iter().find(|c| c.id == id);
        let Some(before) = before else { return Err(AppError::NotFound(format!("check {id}"))) };
        let names = self.check_names().await?;
        let mut states = self.load_states().await?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.delete_check(id).await?;
        tx.append_audit(crate::audit::event(
            actor,
            now,
            "check.delete",
            "check",
            &id.to_string(),
            Some(before.spec),
            None,
        ))
        .await?;
        tx.commit().await?;
        self.checks_changed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let plan = self.plan().await?;
        self.retire_states(&mut states, &plan, &names).await
    }

    /// Each check's name and whether it pings, by id, disabled ones included.
    async fn check_names(&self) -> Result<HashMap<i64, (String, bool)>> {
        Ok(self
            .store
            .checks()
            .await?
            .into_iter()
            .filter_map(view)
            .map(|c| (c.row.id, (c.row.name.clone(), matches!(c.spec.probe, Probe::Icmp { .. }))))
            .collect())
    }

    /// Clears what checks raised on items they no longer run on — a check deleted or
    /// disabled, an item out of its scope or retired — and forgets those states, so that no
    /// alarm stays open with nothing left to clear it (and a check added again starts afresh).
    /// `names` names the checks by id, one being deleted included; `planned` is what runs.
    async fn retire_states(
        &self,
        states: &mut HashMap<(i64, i64), CheckStateRow>,
        planned: &[Planned],
        names: &HashMap<i64, (String, bool)>,
    ) -> Result<()> {
        let running: std::collections::HashSet<(i64, i64)> = planned.iter().map(|p| (p.check_id, p.item_id)).collect();
        let gone: Vec<(i64, i64)> = states.keys().filter(|k| !running.contains(k)).copied().collect();
        if gone.is_empty() {
            return Ok(());
        }
        // Items a ping check that still runs says are down: they stay down.
        let pinged_down: std::collections::HashSet<i64> = states
            .iter()
            .filter(|(k, o)| {
                running.contains(k)
                    && names.get(&o.check_id).is_some_and(|(_, icmp)| *icmp)
                    && Status::parse(&o.hard_status) == Some(Status::Critical)
            })
            .map(|(_, o)| o.item_id)
            .collect();
        let now = self.now_ms();
        let g = self.impact_graph().await?;
        let mut clears = Vec::new();
        for key in &gone {
            let Some(s) = states.get(key) else { continue };
            let problem = Status::parse(&s.hard_status).is_some_and(|st| st != Status::Ok);
            // An item deleted took its alarms with it: nothing to clear.
            let (Some((name, icmp)), Some(node), true) = (names.get(&s.check_id), g.nodes.get(&s.item_id), problem)
            else {
                continue;
            };
            let clear = |kind: &str, object: &str| Event {
                received_at: now,
                occurred_at: Some(now),
                source: "check",
                sender: String::new(),
                host: node.name.clone(),
                item_id: Some(s.item_id),
                kind: kind.to_owned(),
                object: object.to_owned(),
                up: Some(true),
                severity: 6,
                mnemonic: "CHECK-RETIRED".into(),
                text: format!("{name}: no longer runs on this item, so what it raised is cleared"),
                fields: BTreeMap::from([("check".to_owned(), name.clone())]),
            };
            clears.push(clear("check", name));
            if *icmp && !pinged_down.contains(&s.item_id) {
                clears.push(clear("host.down", ""));
            }
        }
        // The clears first: should they fail, the states stay and the next re-plan tries again.
        if !clears.is_empty() {
            self.record_events(&Actor::system(), clears).await?;
        }
        let mut tx = self.store.begin().await?;
        tx.delete_check_states(&gone).await?;
        tx.commit().await?;
        for key in &gone {
            states.remove(key);
        }
        Ok(())
    }

    /// Every check on every item it applies to, now.
    async fn plan(&self) -> Result<Vec<Planned>> {
        let checks: Vec<CheckView> =
            self.store.checks().await?.into_iter().filter(|c| c.enabled).filter_map(view).collect();
        if checks.is_empty() {
            return Ok(Vec::new());
        }
        let items = self.store.all_items().await?;
        let now = self.now_ms();
        let mut out = Vec::new();
        for c in &checks {
            let spec = Arc::new(c.spec.clone());
            let classes = if c.row.class.is_empty() { Vec::new() } else { model::cmdb::descendants(&c.row.class) };
            for i in &items {
                let applies = c.item_ids.contains(&i.id)
                    || (!c.row.class.is_empty() && classes.contains(&i.class.as_str()))
                    || (!c.row.site.is_empty() && i.site.as_deref() == Some(c.row.site.as_str()))
                    || (!c.row.tag.is_empty() && has_tag(&i.attrs, &c.row.tag));
                if !applies || matches!(i.status.as_str(), "retired" | "decommissioning" | "planned") {
                    continue;
                }
                let address = i.mgmt_address.split('/').next().unwrap_or("").trim().to_owned();
                // Echo and connect need an address; an item without one is not probed (rather
                // than failing, and paging, for want of configuration).
                if address.is_empty() && matches!(c.spec.probe, Probe::Icmp { .. } | Probe::Tcp { .. }) {
                    continue;
                }
                let interval = i64::from(c.spec.interval_s) * 1000;
                let first = now + offset(c.row.id, i.id, interval);
                out.push(Planned {
                    check_id: c.row.id,
                    item_id: i.id,
                    name: c.row.name.clone(),
                    spec: spec.clone(),
                    target: Target {
                        address: if address.is_empty() { i.name.clone() } else { address },
                        name: i.name.clone(),
                    },
                    slot_at: first,
                    next_at: first,
                });
            }
        }
        Ok(out)
    }

    /// Runs every check on every item once, now, and applies the results (what the schedule
    /// does over time; the CLI's `check run` and the tests call it). Returns the results.
    pub async fn run_checks_once(&self, probes: &Probes) -> Result<Vec<(i64, i64, Outcome)>> {
        let plan = self.plan().await?;
        let mut states = self.load_states().await?;
        self.retire_states(&mut states, &plan, &self.check_names().await?).await?;
        let mut set = tokio::task::JoinSet::new();
        for p in plan.iter().cloned() {
            let probes = probes.clone();
            let baseline = baseline_of(&states, &p);
            set.spawn(async move {
                let timeout = Duration::from_secs(u64::from(p.spec.timeout_s));
                let o = probes.run_after(&p.spec.probe, &p.target, timeout, baseline.as_ref()).await;
                (p, o)
            });
        }
        let mut results = Vec::new();
        while let Some(done) = set.join_next().await {
            if let Ok(r) = done {
                results.push(r);
            }
        }
        results.sort_by_key(|(p, _)| (p.check_id, p.item_id));
        self.apply_results(&mut states, &results).await?;
        Ok(results.into_iter().map(|(p, o)| (p.check_id, p.item_id, o)).collect())
    }

    async fn load_states(&self) -> Result<HashMap<(i64, i64), CheckStateRow>> {
        Ok(self.store.check_states().await?.into_iter().map(|r| ((r.check_id, r.item_id), r)).collect())
    }

    /// Applies results in order: states, samples, and the events of hard changes. Returns
    /// how long each pair waits for its next slot (the retry interval while a problem is
    /// unconfirmed), in milliseconds.
    async fn apply_results(
        &self,
        states: &mut HashMap<(i64, i64), CheckStateRow>,
        results: &[(Planned, Outcome)],
    ) -> Result<Vec<((i64, i64), i64)>> {
        if results.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now_ms();
        let g = self.impact_graph().await?;
        let mut rows = Vec::with_capacity(results.len());
        let mut samples = Vec::new();
        let mut changes = Vec::new();
        let mut next = Vec::with_capacity(results.len());
        for (p, o) in results {
            let key = (p.check_id, p.item_id);
            let before = states.get(&key).map(state_of).unwrap_or_default();
            let (after, t) = model::check::next(before, o.status, p.spec.max_attempts);
            let soft_problem = !after.hard && after.status != Status::Ok;
            let wait = if soft_problem { p.spec.retry_interval_s } else { p.spec.interval_s };
            next.push((key, i64::from(wait) * 1000));
            let changed = after.status != before.status || after.hard != before.hard;
            let perf: Vec<serde_json::Value> = o
                .output
                .perfdata
                .iter()
                .map(|d| {
                    serde_json::json!({"label": d.label, "value": d.value, "unit": d.unit,
                        "warn": d.warn.map(|r| r.to_string()), "crit": d.crit.map(|r| r.to_string()),
                        "min": d.min, "max": d.max})
                })
                .collect();
            for d in &o.output.perfdata {
                samples.push((format!("check/{}/{}/{}", p.check_id, p.item_id, d.label), now, d.value));
            }
            let mut text = if o.output.long_text.is_empty() {
                o.output.text.clone()
            } else {
                format!("{}\n{}", o.output.text, o.output.long_text)
            };
            if !o.output.bad_perfdata.is_empty() {
                // Shown where the check's output is read, logged and counted; the rest of the
                // result stands.
                let bad = o.output.bad_perfdata.join(" ");
                // At debug, as the listeners log what does not read: it repeats at every run.
                tracing::debug!(check = %p.name, item = %p.target.name, perfdata = %bad,
                    "A check wrote performance data that does not read; those items are left out.");
                self.perfdata_unread
                    .fetch_add(o.output.bad_perfdata.len() as u64, std::sync::atomic::Ordering::Relaxed);
                text.push_str(&format!("\nPerformance data not read (not in Nagios' format): {bad}"));
            }
            let row = CheckStateRow {
                check_id: p.check_id,
                item_id: p.item_id,
                status: after.status.as_str().into(),
                hard: after.hard,
                attempt: i64::from(after.attempt),
                hard_status: after.hard_status.as_str().into(),
                output: text,
                perfdata: serde_json::Value::Array(perf).to_string(),
                duration_us: (o.duration_ms * 1000.0) as i64,
                last_run_ms: now,
                last_change_ms: if changed { now } else { states.get(&key).map_or(now, |s| s.last_change_ms) },
                // A run that read nothing to compare (a device not answering) keeps the last
                // baseline: the next answer is judged against it, a reboot in between included.
                baseline: match &o.baseline {
                    Some(b) => serde_json::to_string(b).ok(),
                    None => states.get(&key).and_then(|s| s.baseline.clone()),
                },
            };
            let site = || g.nodes.get(&p.item_id).and_then(|n| n.site.clone()).unwrap_or_default();
            if let Transition::Hard { from, to } = t {
                changes.extend(events(p, &site(), from, to, o, now));
            }
            changes.extend(o.signals.iter().map(|s| signal_event(p, &site(), s, now)));
            states.insert(key, row.clone());
            rows.push(row);
        }
        let mut tx = self.store.begin().await?;
        tx.put_check_states(&rows).await?;
        tx.insert_samples(&samples).await?;
        tx.commit().await?;
        if !changes.is_empty() {
            self.record_events(&Actor::system(), changes).await?;
        }
        Ok(next)
    }

    /// Runs the schedule until the server stops: each pair when due, at most
    /// [`CONCURRENCY`] at once; the plan is rebuilt when checks or the CMDB change.
    pub async fn run_check_schedule(self, probes: Probes) {
        let mut plan: Vec<Planned> = Vec::new();
        let mut planned: std::collections::HashSet<(i64, i64)> = std::collections::HashSet::new();
        let mut seen = (u64::MAX, i64::MIN);
        let mut states = match self.load_states().await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "Check states could not be read; checks are not run.");
                return;
            }
        };
        let mut running = tokio::task::JoinSet::new();
        let mut in_flight = std::collections::HashSet::new();
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            let generation = (
                self.checks_changed.load(std::sync::atomic::Ordering::Relaxed),
                self.store.cmdb_generation().await.unwrap_or(i64::MIN),
            );
            if generation != seen {
                match self.plan().await {
                    Ok(fresh) => {
                        let due: HashMap<(i64, i64), (i64, i64)> =
                            plan.iter().map(|p| ((p.check_id, p.item_id), (p.slot_at, p.next_at))).collect();
                        plan = fresh;
                        planned = plan.iter().map(|p| (p.check_id, p.item_id)).collect();
                        for p in &mut plan {
                            if let Some(&(slot, at)) = due.get(&(p.check_id, p.item_id)) {
                                (p.slot_at, p.next_at) = (slot, at);
                            }
                        }
                        seen = generation;
                        let retired = match self.check_names().await {
                            Ok(names) => self.retire_states(&mut states, &plan, &names).await,
                            Err(e) => Err(e),
                        };
                        if let Err(e) = retired {
                            tracing::warn!(error = %e, "Alarms of checks that no longer run could not be cleared.");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "The check plan could not be rebuilt."),
                }
            }
            let now = self.now_ms();
            for p in plan.iter_mut().filter(|p| p.next_at <= now) {
                let key = (p.check_id, p.item_id);
                if running.len() >= CONCURRENCY || in_flight.contains(&key) {
                    continue;
                }
                in_flight.insert(key);
                // Not due again until its result says when.
                p.next_at = i64::MAX;
                let (p, probes) = (p.clone(), probes.clone());
                let baseline = baseline_of(&states, &p);
                running.spawn(async move {
                    let timeout = Duration::from_secs(u64::from(p.spec.timeout_s));
                    let o = probes.run_after(&p.spec.probe, &p.target, timeout, baseline.as_ref()).await;
                    (p, o)
                });
            }
            let mut done = Vec::new();
            while let Some(r) = running.try_join_next() {
                if let Ok(r) = r {
                    in_flight.remove(&(r.0.check_id, r.0.item_id));
                    // A pair retired while its probe ran: its result would raise again what
                    // was just cleared.
                    if planned.contains(&(r.0.check_id, r.0.item_id)) {
                        done.push(r);
                    }
                }
            }
            match self.apply_results(&mut states, &done).await {
                Ok(waits) => {
                    let waits: HashMap<(i64, i64), i64> = waits.into_iter().collect();
                    let now = self.now_ms();
                    for p in &mut plan {
                        if let Some(&wait) = waits.get(&(p.check_id, p.item_id)) {
                            let jitter = i64::from(p.spec.jitter_s) * 1000;
                            (p.slot_at, p.next_at) =
                                model::check::next_run(p.slot_at, wait, jitter, now, rand::random::<f64>());
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, results = done.len(), "Check results could not be stored; retried next round.");
                    for (p, _) in &done {
                        if let Some(q) = plan.iter_mut().find(|q| q.check_id == p.check_id && q.item_id == p.item_id) {
                            (q.slot_at, q.next_at) = (now, now);
                        }
                    }
                }
            }
        }
    }

    /// The status board: every check on every item it applies to, with its state, for the
    /// actor's sites.
    pub async fn check_board(&self, actor: &Actor, site: Option<&str>) -> Result<Vec<BoardRow>> {
        actor.require(Perm::EventRead)?;
        let plan = self.plan().await?;
        let states = self.load_states().await?;
        let g = self.impact_graph().await?;
        let mut out = Vec::new();
        for p in plan {
            let node_site = g.site_of(p.item_id);
            if !actor.sees_site(node_site) {
                continue;
            }
            if site.is_some_and(|s| node_site != Some(s)) {
                continue;
            }
            out.push(BoardRow {
                check_id: p.check_id,
                check: p.name.clone(),
                kind: p.spec.probe.kind(),
                item_id: p.item_id,
                item: p.target.name.clone(),
                site: node_site.map(str::to_owned),
                state: states.get(&(p.check_id, p.item_id)).cloned(),
            });
        }
        Ok(out)
    }

    /// A check's samples for one item and performance label over `[from, to]`.
    pub async fn check_samples(
        &self,
        actor: &Actor,
        check_id: i64,
        item_id: i64,
        label: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<Sample>> {
        actor.require(Perm::EventRead)?;
        if !actor.sites.is_empty() && !actor.sees_site(self.impact_graph().await?.site_of(item_id)) {
            return Err(AppError::NotFound(format!("item {item_id}")));
        }
        let series = format!("check/{check_id}/{item_id}/{label}");
        if to - from <= RAW_SPAN_MS {
            let raw = self.store.samples(&series, from, to).await?;
            return Ok(raw.into_iter().map(|(at, value)| Sample { at, value, range: None }).collect());
        }
        let hours = self.store.sample_rollups(&series, from - from.rem_euclid(store::ROLLUP_MS), to).await?;
        Ok(hours
            .into_iter()
            .filter(|h| h.count > 0)
            .map(|h| Sample {
                // The middle of the hour: a mean belongs to no one instant of it.
                at: h.at_ms + store::ROLLUP_MS / 2,
                value: h.sum / h.count as f64,
                range: Some((h.min, h.max)),
            })
            .collect())
    }
}

/// What a pair's next run is judged against, as its last run left it.
fn baseline_of(states: &HashMap<(i64, i64), CheckStateRow>, p: &Planned) -> Option<model::ifmib::Snapshot> {
    let json = states.get(&(p.check_id, p.item_id))?.baseline.as_deref()?;
    serde_json::from_str(json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_read_as_lists_or_words() {
        assert!(has_tag(r#"{"tags": ["core", "ot"]}"#, "ot"));
        assert!(has_tag(r#"{"tags": "core, ot"}"#, "ot"));
        assert!(!has_tag(r#"{"tags": "core"}"#, "ot"));
        assert!(!has_tag("not json", "ot"));
    }

    #[test]
    fn first_runs_spread_over_the_interval() {
        let offsets: std::collections::HashSet<i64> = (0..100).map(|i| offset(1, i, 60_000) / 1000).collect();
        assert!(offsets.len() > 40, "{} distinct seconds of 60", offsets.len());
        assert!((0..100).all(|i| (0..60_000).contains(&offset(3, i, 60_000))));
    }
}
