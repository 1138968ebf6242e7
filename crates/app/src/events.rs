//! Events: what devices say (syslog so far), stored as the intake hands them over — each tied
//! to the configuration item that sent it, by its management address or its name — through
//! one group-commit writer, and listed newest first for the people who may read them.

use crate::{Actor, App, Result};
use model::Perm;
use model::alarm;
use model::event::Event;
use std::collections::HashMap;
use std::sync::Mutex;
use store::{EventFilter, EventRow};

/// Senders' batches one group commit takes at most (a listener's batch holds up to a few
/// thousand events).
const GROUP_BATCHES: usize = 16;

/// The CMDB's items by management address and by name, rebuilt when the CMDB changes.
#[derive(Debug, Default)]
pub struct SenderCache {
    inner: Mutex<Senders>,
}

#[derive(Debug, Default)]
struct Senders {
    generation: Option<i64>,
    by_address: HashMap<String, i64>,
    by_name: HashMap<String, i64>,
    site_of: HashMap<i64, Option<String>>,
    /// Each site's time zone, where it has one other than UTC.
    zone_of_site: HashMap<String, jiff::tz::TimeZone>,
}

/// A management address as typed (`10.1.1.1`, `10.1.1.1/24`) reduced to the address.
fn bare_address(a: &str) -> String {
    a.trim().split('/').next().unwrap_or("").to_lowercase()
}

impl App {
    /// Brings the sender map up to the CMDB's generation.
    async fn refresh_senders(&self) -> Result<()> {
        let generation = self.store.cmdb_generation().await?;
        if self.senders.inner.lock().map(|s| s.generation == Some(generation)).unwrap_or(false) {
            return Ok(());
        }
        let items = self.store.all_items().await?;
        let mut fresh = Senders { generation: Some(generation), ..Senders::default() };
        for i in items {
            if !i.mgmt_address.trim().is_empty() {
                fresh.by_address.insert(bare_address(&i.mgmt_address), i.id);
            }
            fresh.by_name.insert(i.name.to_lowercase(), i.id);
            fresh.site_of.insert(i.id, i.site.clone());
        }
        for site in self.store.all_sites().await? {
            match jiff::tz::TimeZone::get(&site.time_zone) {
                Ok(tz) if tz != jiff::tz::TimeZone::UTC => {
                    fresh.zone_of_site.insert(site.slug, tz);
                }
                _ => {}
            }
        }
        if let Ok(mut s) = self.senders.inner.lock() {
            *s = fresh;
        }
        Ok(())
    }

    /// Stores events as received (the listeners call this as the server itself), each tied
    /// to its item: the sender's address first, then the name it gave. Returns once committed.
    pub async fn record_events(&self, actor: &Actor, events: Vec<Event>) -> Result<usize> {
        actor.require(Perm::EventSend)?;
        if events.is_empty() {
            return Ok(0);
        }
        let n = events.len();
        self.queue_events(actor, events).await?.wait().await?;
        Ok(n)
    }

    /// Ties events to their items, makes them ready to write and hands them to the writer;
    /// returns what to wait on for their commit. Events handed over one after the other are
    /// committed in that order, so a listener can make its next batch ready while this one is
    /// written without a link's "up" overtaking its "down".
    pub async fn queue_events(&self, actor: &Actor, mut events: Vec<Event>) -> Result<crate::Committed> {
        actor.require(Perm::EventSend)?;
        self.tie_to_items(&mut events).await?;
        self.zone_times(&mut events);
        self.name_interfaces(&mut events).await?;
        // Serialized here, by the sender, so the writer's transaction only writes.
        let rows: Vec<EventRow> = events.iter().map(row).collect();
        let batch = store::EventBatch::of(&rows)?;
        self.event_writer
            .enqueue(self, vec![batch], GROUP_BATCHES, |app, batches| async move {
                let mut tx = app.store.begin().await?;
                for b in &batches {
                    tx.insert_event_batch(b).await?;
                }
                tx.commit().await?;
                app.correlation.notify_one();
                Ok(())
            })
            .await
    }

    /// Reads again, in the time zone of the item's site, a time its sender wrote without a
    /// zone (RFC 3164 syslog), which the listener could only read in UTC: a plant logging in
    /// local time gets its events at the instants they happened.
    fn zone_times(&self, events: &mut [Event]) {
        let Ok(s) = self.senders.inner.lock() else { return };
        for e in events {
            let (Some(at), Some(item)) = (e.occurred_at, e.item_id) else { continue };
            if e.fields.get(intake::classify::UNZONED.0).map(String::as_str) != Some(intake::classify::UNZONED.1) {
                continue;
            }
            let Some(tz) = s.site_of.get(&item).and_then(Option::as_deref).and_then(|site| s.zone_of_site.get(site))
            else {
                continue;
            };
            let Ok(civil) =
                jiff::Timestamp::from_millisecond(at).map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).datetime())
            else {
                continue;
            };
            if let Ok(zoned) = tz.to_ambiguous_zoned(civil).compatible() {
                e.occurred_at = Some(zoned.timestamp().as_millisecond());
                let name = tz.iana_name().unwrap_or("the site's zone").to_owned();
                e.fields.insert(intake::classify::UNZONED.0.to_owned(), format!("no zone; read in {name}"));
            }
        }
    }

    /// Names the interfaces a trap gave only by number (`ifIndex 4`: linkDown and linkUp
    /// carry ifIndex, and ifName or ifDescr only when the agent adds them) from the item's last
    /// IF-MIB poll, so that a trap, a poll and a syslog message about one interface are one
    /// alarm. An interface no poll has seen keeps its number.
    async fn name_interfaces(&self, events: &mut [Event]) -> Result<()> {
        fn numbered(e: &Event) -> Option<(i64, u32)> {
            let index = e.object.strip_prefix("ifIndex ")?.trim().parse().ok()?;
            (e.kind == "interface").then_some((e.item_id?, index))
        }
        let mut items: Vec<i64> = events.iter().filter_map(numbered).map(|(item, _)| item).collect();
        if items.is_empty() {
            return Ok(());
        }
        items.sort_unstable();
        items.dedup();
        let mut names: HashMap<(i64, u32), String> = HashMap::new();
        // Newest poll first: its name wins.
        for (item, json) in self.store.check_baselines(&items).await? {
            if let Ok(polled) = serde_json::from_str::<model::ifmib::Snapshot>(&json) {
                for i in polled.interfaces {
                    names.entry((item, i.index)).or_insert(i.name);
                }
            }
        }
        for e in events.iter_mut() {
            if let Some(at) = numbered(e)
                && let Some(name) = names.get(&at)
            {
                e.fields.insert("ifIndex".into(), at.1.to_string());
                e.object = name.clone();
            }
        }
        Ok(())
    }

    /// Ties events to the items that sent them: the sender's address first, then the name it
    /// gave, then that name's first label (`core-sw-1` for `core-sw-1.plant.example`).
    pub(crate) async fn tie_to_items(&self, events: &mut [Event]) -> Result<()> {
        self.refresh_senders().await?;
        if let Ok(s) = self.senders.inner.lock() {
            for e in events {
                e.item_id = e.item_id.or_else(|| {
                    s.by_address
                        .get(&bare_address(&e.sender))
                        .or_else(|| s.by_name.get(&e.host.to_lowercase()))
                        .or_else(|| e.host.split('.').next().and_then(|short| s.by_name.get(&short.to_lowercase())))
                        .copied()
                });
            }
        }
        Ok(())
    }

    /// Events newest first, as the actor may see them (a site-scoped account: its sites'
    /// items only, narrowed in the query so that a page or a live console's next step is
    /// never swallowed by events the account may not read).
    pub async fn events(&self, actor: &Actor, filter: &EventFilter) -> Result<Vec<EventRow>> {
        actor.require(Perm::EventRead)?;
        let sites = (!actor.sites.is_empty()).then(|| actor.sites.clone());
        Ok(self.store.events(&EventFilter { sites, ..filter.clone() }).await?)
    }

    /// The item an event's sender is, by name or `#id` (for filters).
    pub async fn item_id_of(&self, reference: &str) -> Result<Option<i64>> {
        if let Some(id) = reference.strip_prefix('#').and_then(|i| i.parse().ok()) {
            return Ok(Some(id));
        }
        self.refresh_senders().await?;
        Ok(self.senders.inner.lock().ok().and_then(|s| s.by_name.get(&reference.to_lowercase()).copied()))
    }
}

pub(crate) fn row(e: &Event) -> EventRow {
    EventRow {
        id: 0,
        received_at_ms: e.received_at,
        occurred_at_ms: e.occurred_at,
        source: e.source.to_owned(),
        sender: e.sender.clone(),
        host: e.host.clone(),
        item_id: e.item_id,
        kind: e.kind.clone(),
        object: e.object.clone(),
        up: e.up,
        severity: i64::from(e.severity),
        mnemonic: e.mnemonic.clone(),
        text: e.text.clone(),
        fields: serde_json::to_string(&e.fields).unwrap_or_else(|_| "{}".into()),
        alarm_id: None,
        pending: alarm::signal(e.up, e.severity) != alarm::Signal::Info,
        incident_number: None,
    }
}
