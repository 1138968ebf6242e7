//! Alertmanager-API intake, Watchkeeper against Debian's Alertmanager in the same run, from the
//! same client: `cargo bench -p watchkeeper --bench intake [-- --seconds 10] [--only NAME]
//! [--hold]`.
//!
//! Each server is started fresh for each load (release build of Watchkeeper on embedded
//! SQLite as shipped — WAL, `synchronous=FULL`, every accepted batch committed before the
//! answer; `prometheus-alertmanager` with a receiver that sends nothing, its alerts in memory).
//! Two client tasks on one keep-alive connection each post `POST /api/v2/alerts` for the given
//! time: batches of 100 or of 1, a steady set (each task cycles its own 10,000 label sets,
//! sent once before the clock starts) or always-new label sets. Only `200` answers count. The
//! server's CPU time comes from `/proc/PID/stat`, its memory from `/proc/PID/status`; the
//! client shares the two cores, so alerts per server CPU-second is the fair comparison.
//! Watchkeeper's CPU is counted until it has also folded its intake log and correlated what
//! the load raised. After each Watchkeeper run the database must hold every alert that was
//! answered `200`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const STEADY_SET: u64 = 10_000;
const WORKERS: u64 = 2;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// User plus system CPU seconds of a process.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// Resident and peak memory in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn wait_ready(url: &str) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(url).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never answered");
}

struct Server {
    name: &'static str,
    proc: Proc,
    base: String,
    /// Watchkeeper's database, read to know when the work the load left behind is done.
    db: Option<std::path::PathBuf>,
}

async fn watchkeeper(dir: &Path) -> Server {
    let port = free_port();
    std::fs::write(dir.join("wk.toml"), "[intake]\ntrusted_networks = [\"127.0.0.1/32\"]\n").unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_watchkeeper"))
        .args(["--config", "wk.toml", "serve", "--data-dir", "data", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .env("WATCHKEEPER_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start watchkeeper");
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{base}/readyz")).await;
    Server { name: "Watchkeeper", proc: Proc(child), base, db: Some(dir.join("data/watchkeeper.db")) }
}

async fn alertmanager(dir: &Path) -> Server {
    let port = free_port();
    std::fs::write(
        dir.join("am.yml"),
        "route: {receiver: blackhole, group_by: [alertname], group_wait: 30s, group_interval: 5m}\nreceivers: [{name: blackhole}]\n",
    )
    .unwrap();
    let child = Command::new("prometheus-alertmanager")
        .args([
            "--config.file=am.yml",
            "--storage.path=am-data",
            &format!("--web.listen-address=127.0.0.1:{port}"),
            "--cluster.listen-address=",
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus-alertmanager (Debian package prometheus-alertmanager)");
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{base}/-/ready")).await;
    Server { name: "Alertmanager 0.25", proc: Proc(child), base, db: None }
}

#[derive(Clone, Copy)]
struct Load {
    batch: u64,
    unique: bool,
}

fn body(worker: u64, seq: u64, load: Load) -> String {
    let alerts: Vec<serde_json::Value> = (0..load.batch)
        .map(|k| {
            let i = if load.unique { seq * load.batch + k } else { (seq * load.batch + k) % STEADY_SET };
            serde_json::json!({
                "labels": {"alertname": "Bench", "worker": worker.to_string(), "id": i.to_string(), "severity": "warning",
                           "instance": format!("dev{}:if{}", i % 500, i % 48)},
                "annotations": {"summary": format!("load test alert {i}")},
                "generatorURL": "http://127.0.0.1/bench"
            })
        })
        .collect();
    serde_json::Value::Array(alerts).to_string()
}

struct Outcome {
    accepted: u64,
    failed: u64,
    seconds: f64,
    cpu: f64,
    /// Seconds after the load until the server had folded the intake log and correlated
    /// every event it raised; its CPU in that time is counted in `cpu`.
    catch_up: f64,
    rss_before: u64,
    rss_after: u64,
    p99_ms: f64,
}

async fn run(server: &Server, load: Load, seconds: f64) -> Outcome {
    let pid = server.proc.0.id();
    if !load.unique {
        // A steady set is one the server already holds, as Prometheus re-sends what fires.
        let client = reqwest::Client::new();
        let url = format!("{}/api/v2/alerts", server.base);
        for w in 0..WORKERS {
            for seq in 0..STEADY_SET / 100 {
                let b = body(w, seq, Load { batch: 100, unique: false });
                let r = client.post(&url).header("content-type", "application/json").body(b).send().await.unwrap();
                assert_eq!(r.status(), 200, "warm-up");
            }
        }
        if let Some(db) = &server.db {
            caught_up(db).await;
        }
    }
    let (rss_before, _) = memory_kib(pid);
    let cpu0 = cpu_seconds(pid);
    let accepted = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let (url, accepted, failed) = (format!("{}/api/v2/alerts", server.base), accepted.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
            let mut latencies = Vec::new();
            let mut seq = 0;
            while Instant::now() < until {
                let b = body(w, seq, load);
                seq += 1;
                let t = Instant::now();
                let r = client.post(&url).header("content-type", "application/json").body(b).send().await;
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                match r {
                    Ok(r) if r.status() == 200 => {
                        let _ = r.bytes().await;
                        accepted.fetch_add(load.batch, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    let caught = Instant::now();
    if let Some(db) = &server.db {
        caught_up(db).await;
    }
    let catch_up = caught.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let p99_ms = latencies.get(latencies.len() * 99 / 100).copied().unwrap_or(0.0);
    Outcome {
        accepted: accepted.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        seconds: elapsed,
        cpu: cpu_seconds(pid) - cpu0,
        catch_up,
        rss_before,
        rss_after: memory_kib(pid).0,
        p99_ms,
    }
}

/// Waits until Watchkeeper has no alert log left to fold, no event left to correlate and no
/// open alarm left to route (two minutes at most), so that work deferred past the load is
/// counted in its CPU like work done during it.
async fn caught_up(db: &Path) {
    let url = format!("sqlite://{}?mode=ro", db.display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("open the benchmark's database");
    let deadline = Instant::now() + Duration::from_secs(120);
    const BACKLOG: &str = "SELECT (SELECT COUNT(*) FROM alert_entries WHERE id > (SELECT events_through FROM alert_folds)) \
                           + (SELECT COUNT(*) FROM events WHERE pending) \
                           + (SELECT COUNT(*) FROM alarms WHERE open AND NOT routed)";
    while Instant::now() < deadline {
        let left: i64 = sqlx::query_scalar(BACKLOG).fetch_one(&pool).await.unwrap_or(1);
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pool.close().await;
}

/// The distinct alerts Watchkeeper's database holds: in its snapshot, or logged after it.
async fn stored(dir: &Path) -> u64 {
    let url = format!("sqlite://{}", dir.join("data/watchkeeper.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("open the benchmark's database");
    let mut held = std::collections::HashSet::new();
    let chunks: Vec<Vec<u8>> = sqlx::query_scalar("SELECT packed FROM alert_snapshot WHERE packed IS NOT NULL")
        .fetch_all(&pool)
        .await
        .unwrap();
    for c in chunks {
        held.extend(model::alert::record::read_chunk(&c).unwrap().into_iter().map(|(fp, _)| fp));
    }
    let entries: Vec<Vec<u8>> = sqlx::query_scalar("SELECT entry FROM alert_entries").fetch_all(&pool).await.unwrap();
    for e in entries {
        held.extend(model::alert::record::read_entry(&e).unwrap().alerts.into_iter().map(|(fp, _)| fp));
    }
    pool.close().await;
    held.len() as u64
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // reqwest is built without a TLS provider of its own (the notifier chooses ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let seconds: f64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let loads = [
        ("steady, batches of 100", Load { batch: 100, unique: false }),
        ("always new, batches of 100", Load { batch: 100, unique: true }),
        ("steady, batches of 1", Load { batch: 1, unique: false }),
        ("always new, batches of 1", Load { batch: 1, unique: true }),
    ];
    // `--only steady`: the loads whose name contains it, or the one it names whole.
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned().unwrap_or_default();
    // `--hold`: keep each Watchkeeper running for a profiler after its load, until Enter.
    let hold = args.iter().any(|a| a == "--hold");
    println!("{WORKERS} client tasks, {seconds} s per run; every server started fresh for each load.\n");
    println!(
        "| load | server | alerts/s | server CPU (cores) | catch-up s | alerts per server CPU-second | p99 ms | RSS before → after | refused requests |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut ratios = Vec::new();
    let exact = loads.iter().any(|(n, _)| *n == only);
    for (name, load) in loads.into_iter().filter(|(n, _)| if exact { *n == only } else { n.contains(&only) }) {
        let mut per_cpu = Vec::new();
        for which in ["am", "wk"] {
            let dir = tempfile::tempdir().unwrap();
            let server = if which == "am" { alertmanager(dir.path()).await } else { watchkeeper(dir.path()).await };
            let o = run(&server, load, seconds).await;
            let rate = o.accepted as f64 / o.seconds;
            let cpu_rate = if o.cpu > 0.0 { o.accepted as f64 / o.cpu } else { 0.0 };
            per_cpu.push(cpu_rate);
            println!(
                "| {name} | {} | {:.0} | {:.2} | {:.1} | {:.0} | {:.1} | {} → {} MiB | {} |",
                server.name,
                rate,
                o.cpu / (o.seconds + o.catch_up),
                o.catch_up,
                cpu_rate,
                o.p99_ms,
                o.rss_before / 1024,
                o.rss_after / 1024,
                o.failed
            );
            if which == "wk" {
                if hold {
                    eprintln!("Watchkeeper is pid {}; Enter to go on.", server.proc.0.id());
                    let _ = std::io::stdin().read_line(&mut String::new());
                }
                drop(server);
                let held = stored(dir.path()).await;
                let expected = if load.unique { o.accepted } else { o.accepted.min(WORKERS * STEADY_SET) };
                assert!(held >= expected, "{name}: {held} alerts stored, {expected} acknowledged");
                if load.unique {
                    let db_bytes: u64 = std::fs::read_dir(dir.path().join("data"))
                        .unwrap()
                        .filter_map(|e| e.ok()?.metadata().ok())
                        .map(|m| m.len())
                        .sum();
                    println!(
                        "|  | (Watchkeeper: {held} alerts on disk, {:.0} bytes each; memory grew {:.0} bytes per alert) |  |  |  |  |  |  |  |",
                        db_bytes as f64 / held.max(1) as f64,
                        (o.rss_after.saturating_sub(o.rss_before) * 1024) as f64 / held.max(1) as f64
                    );
                }
            } else if load.unique {
                println!(
                    "|  | (Alertmanager: memory grew {:.0} bytes per alert) |  |  |  |  |  |  |  |",
                    (o.rss_after.saturating_sub(o.rss_before) * 1024) as f64 / o.accepted.max(1) as f64
                );
            }
        }
        ratios.push((name, per_cpu[1] / per_cpu[0].max(1e-9)));
    }
    println!("\nWatchkeeper ÷ Alertmanager, alerts per server CPU-second:");
    for (name, r) in ratios {
        println!("- {name}: {r:.2}×");
    }
}
