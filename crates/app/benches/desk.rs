//! The desk at scale: a million incidents on SQLite (100k of them open) over the demo
//! estate, then, through the same use-cases the console and API call:
//!
//! * the queue page (50 open incidents with both clocks) — open, breaching soon, mine;
//! * full-text search over all of them;
//! * SLA recomputation of every open incident (what a calendar edit triggers), kept in
//!   `incident_slas`; and the clock computation alone, without the database;
//! * the dashboard's KPIs from the roll-ups.
//!
//! `cargo bench -p app --bench desk [-- --incidents N --open M --samples K]` prints a
//! Markdown table for BENCHMARKS.md. `WATCHKEEPER_BENCH_DATABASE_URL` adds a PostgreSQL run.

use app::incidents::{Queue, QueueName};
use app::{Actor, App, Settings};
use model::calendar::Calendar;
use model::sla::{SlaDefinition, SlaEvent};
use std::time::{Duration, Instant};
use store::{ImportedIncident, Location, Store};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const DEVICES: &[&str] = &[
    "pn-core-sw1",
    "pn-core-sw2",
    "pn-fw1",
    "pn-historian",
    "pn-vtc-control",
    "dc-fw1",
    "dc-core-sw1",
    "ps-wan-rtr",
    "scada-app",
    "esx-01",
    "esx-02",
    "backup-01",
    "ad-dc1",
    "ad-dc2",
    "plc-gw-3",
    "hmi-7",
];
const SYMPTOMS: &[&str] = &[
    "down",
    "flapping",
    "high cpu",
    "crc errors",
    "fan failure",
    "unreachable",
    "slow",
    "packet loss",
    "certificate expired",
    "disk full",
    "replication lagging",
    "login failures",
    "license expired",
    "power supply alarm",
    "bgp session reset",
    "ospf neighbour lost",
    "vpn tunnel drops",
    "time drift",
    "memory leak",
    "config mismatch",
];
const DETAILS: &[&str] = &[
    "reported by the control room",
    "seen in monitoring",
    "after the maintenance window",
    "during the night shift",
    "affecting the treatment line",
    "vendor engaged",
    "intermittent since morning",
    "users on the plant floor complain",
];

/// The app's clock: every incident is dated before it.
const NOW: i64 = 1_800_000_000_000;
const DAY: i64 = 86_400_000;

fn incident(rng: &mut Rng, n: usize, open: bool) -> ImportedIncident {
    let device = DEVICES[rng.below(DEVICES.len())];
    let symptom = SYMPTOMS[rng.below(SYMPTOMS.len())];
    let priority = match rng.below(100) {
        0..=1 => 1,
        2..=9 => 2,
        10..=49 => 3,
        50..=89 => 4,
        _ => 5,
    };
    // Open ones from the last 30 days, the others over the last three years.
    let age = if open { rng.below(30 * 24) as i64 * 3_600_000 } else { rng.below(3 * 365 * 24) as i64 * 3_600_000 };
    let opened = NOW - age - 3_600_000;
    let taken = opened + (5 + rng.below(120) as i64) * 60_000;
    let mut journal = vec![(opened, "operator".to_owned(), "opened".to_owned(), Some("new".to_owned()))];
    let (state, resolved, closed) = if open {
        match rng.below(3) {
            0 => ("new", None, None),
            1 => ("in-progress", None, None),
            _ => ("on-hold", None, None),
        }
    } else {
        let resolved = taken + (10 + rng.below(2_000) as i64) * 60_000;
        ("closed", Some(resolved), Some(resolved + DAY))
    };
    if state != "new" {
        journal.push((taken, "engineer".into(), "state".into(), Some("in-progress".into())));
    }
    if state == "on-hold" {
        journal.push((taken + 600_000, "engineer".into(), "state".into(), Some("on-hold".into())));
    }
    if let (Some(r), Some(c)) = (resolved, closed) {
        journal.push((r, "engineer".into(), "state".into(), Some("resolved".into())));
        journal.push((c, "engineer".into(), "state".into(), Some("closed".into())));
    }
    ImportedIncident {
        number: format!("INC{:07}", n + 1),
        short_description: format!("{device} {symptom}"),
        description: format!("{device} {symptom}, {}", DETAILS[rng.below(DETAILS.len())]),
        caller: "Control room".into(),
        category: "network".into(),
        impact: "medium".into(),
        urgency: "medium".into(),
        priority,
        state: state.into(),
        assignment_group: ["Service desk", "L2", "L3 network", "L3 security"][rng.below(4)].into(),
        assignee: (state != "new").then(|| ["engineer", "operator", "ops-lead"][rng.below(3)].to_owned()),
        resolution_code: if open { String::new() } else { "fixed".into() },
        resolution_notes: if open { String::new() } else { format!("{device}: {} fixed", symptom) },
        opened_at_ms: opened,
        resolved_at_ms: resolved,
        closed_at_ms: closed,
        journal,
        ..ImportedIncident::default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn timed<F: std::future::Future>(samples: &mut Vec<Duration>, f: F) -> F::Output {
    let t = Instant::now();
    let out = f.await;
    samples.push(t.elapsed());
    out
}

async fn run(backend: &str, location: Location, incidents: usize, open: usize, samples: usize) -> String {
    let store = Store::open(&location).await.expect("open");
    let app = App::new(store, Settings::default()).with_clock(std::sync::Arc::new(|| NOW));
    app.bootstrap_admin(Some("bench admin password 1".into())).await.expect("admin");
    app.seed_demo().await.expect("demo");
    let seeding = Store::open(&location).await.expect("second pool");

    // A million incidents, the newest `open` of them still open, in transactions of 10,000.
    let t = Instant::now();
    let mut rng = Rng(0xde5c);
    let closed = incidents - open;
    let mut batch = Vec::with_capacity(10_000);
    for n in 0..incidents {
        batch.push(incident(&mut rng, n, n >= closed));
        if batch.len() == 10_000 || n + 1 == incidents {
            let mut tx = seeding.begin().await.expect("tx");
            tx.insert_imported_incidents(&batch, "itil").await.expect("insert");
            tx.commit().await.expect("commit");
            batch.clear();
        }
    }
    let seed = t.elapsed();
    eprintln!("{backend}: {incidents} incidents written in {:.1} s", seed.as_secs_f64());

    let admin = Actor::cli();
    let t = Instant::now();
    let recomputed = app.recompute_slas(&admin).await.expect("recompute");
    let recompute = t.elapsed();
    assert_eq!(recomputed, open);
    // An administrator adds a holiday to the office calendar: every open P3/P4 clock moves.
    let days: Vec<(String, Vec<String>)> = ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .iter()
        .map(|d| ((*d).to_owned(), vec!["09:00-17:00".to_owned()]))
        .collect();
    let t = Instant::now();
    app.put_calendar(&admin, "office", "Europe/London", &days, &["2027-01-18".to_owned()]).await.expect("calendar");
    let calendar_edit = t.elapsed();

    let engineer = Actor { name: "engineer".into(), ..Actor::cli() };
    let mut queue = Vec::new();
    let mut breaching = Vec::new();
    let mut mine = Vec::new();
    let mut rng = Rng(7);
    for _ in 0..samples {
        let offset = (rng.below(20) * 50) as i64;
        let q = Queue { name: QueueName::Open, limit: 50, offset, ..Queue::default() };
        let page = timed(&mut queue, app.incident_queue(&admin, &q)).await.expect("queue");
        assert_eq!(page.len(), 50);
        let q = Queue { name: QueueName::Breaching, limit: 50, ..Queue::default() };
        timed(&mut breaching, app.incident_queue(&admin, &q)).await.expect("breaching");
        let q = Queue { name: QueueName::Mine, limit: 50, ..Queue::default() };
        timed(&mut mine, app.incident_queue(&engineer, &q)).await.expect("mine");
    }
    let mut search = Vec::new();
    let mut hits = 0;
    for i in 0..samples {
        let words = match i % 3 {
            0 => DEVICES[rng.below(DEVICES.len())].to_owned(),
            1 => format!("{} {}", DEVICES[rng.below(DEVICES.len())], SYMPTOMS[rng.below(SYMPTOMS.len())]),
            _ => format!("INC{:07}", rng.below(incidents) + 1),
        };
        let q = Queue { name: QueueName::All, search: Some(words), limit: 50, ..Queue::default() };
        hits += timed(&mut search, app.incident_queue(&admin, &q)).await.expect("search").len();
    }
    let mut kpis = Vec::new();
    for _ in 0..20 {
        timed(&mut kpis, app.kpis(&admin, 30)).await.expect("kpis");
    }
    for v in [&mut queue, &mut breaching, &mut mine, &mut search, &mut kpis] {
        v.sort();
    }
    format!(
        "| {backend} | {incidents} | {open} | {:.0} s | {} ms | {} ms | {} ms | {} ms | {} ms | {} ms ({:.0} hits/search) | {:.2} s | {:.2} s | {} ms |",
        seed.as_secs_f64(),
        ms(percentile(&queue, 0.5)),
        ms(percentile(&queue, 0.99)),
        ms(percentile(&breaching, 0.99)),
        ms(percentile(&mine, 0.99)),
        ms(percentile(&search, 0.5)),
        ms(percentile(&search, 0.99)),
        hits as f64 / samples as f64,
        recompute.as_secs_f64(),
        calendar_edit.as_secs_f64(),
        ms(percentile(&kpis, 0.99)),
    )
}

/// The SLA engine alone: `open` incidents' two clocks each, from their events, on the 24×7
/// and an office calendar (half each), without the database.
fn compute_only(open: usize) -> Duration {
    let round = Calendar::always("24x7", jiff::tz::TimeZone::UTC);
    use jiff::civil::Weekday::*;
    let office = Calendar::business(
        "office",
        jiff::tz::TimeZone::get("Europe/London").expect("zone"),
        (9, 0),
        (17, 0),
        &[Monday, Tuesday, Wednesday, Thursday, Friday],
    );
    let mut rng = Rng(99);
    // (definition, on the office calendar, events)
    type Clock = (SlaDefinition, bool, model::sla::Timeline);
    let clocks: Vec<Clock> = (0..open * 2)
        .map(|i| {
            let opened = NOW - rng.below(30 * 24) as i64 * 3_600_000;
            let mut events = vec![(opened, SlaEvent::Start)];
            if i % 3 == 0 {
                events.push((opened + 3_600_000, SlaEvent::Pause));
                events.push((opened + 5 * 3_600_000, SlaEvent::Resume));
            }
            (SlaDefinition::new("P3 resolution", 3 * 8 * 3_600_000), i % 2 == 0, events)
        })
        .collect();
    let t = Instant::now();
    let mut breached = 0;
    for (def, on_office, events) in &clocks {
        let cal = if *on_office { &office } else { &round };
        let s = model::sla::evaluate(def, cal, events, NOW);
        let _ = model::sla::next_threshold(def, cal, &s, NOW);
        breached += usize::from(s.breached_at.is_some());
    }
    let took = t.elapsed();
    eprintln!("{} clocks evaluated, {breached} breached", clocks.len());
    took
}

fn main() {
    let incidents = arg("--incidents", 1_000_000);
    let open = arg("--open", 100_000);
    let samples = arg("--samples", 200);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    println!(
        "| backend | incidents | open | written in | queue page p50 | queue page p99 | breaching soon p99 | mine p99 | search p50 | search p99 | every open clock computed and written | office calendar edited (clocks that move rewritten) | KPIs p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let dir = tempfile::tempdir().expect("tempdir");
    let line = rt.block_on(run("SQLite", Location::DataDir(dir.path().to_path_buf()), incidents, open, samples));
    println!("{line}");
    if let Ok(url) = std::env::var("WATCHKEEPER_BENCH_DATABASE_URL") {
        let line = rt.block_on(run("PostgreSQL", Location::Postgres(url), incidents, open, samples));
        println!("{line}");
    }
    let took = compute_only(open);
    println!(
        "\nThe SLA engine alone: {} clocks of {open} open incidents in {:.0} ms.",
        open * 2,
        took.as_secs_f64() * 1000.0
    );
}
