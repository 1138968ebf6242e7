//! Syslog over TCP at rate: `cargo bench -p watchkeeper --bench syslog [-- --messages 500000]`.
//!
//! A release build of Watchkeeper on embedded SQLite as shipped, its TCP syslog listener on
//! loopback; two client connections send RFC 6587 octet-counted RFC 3164 messages as fast as
//! the server takes them — a network's usual mix: ASA denies, Cisco link and line-protocol
//! changes (which raise and clear alarms), and plain informational lines. The clock runs from
//! the first byte sent until the database holds every message, so the rate is messages parsed,
//! classified and stored; any shortfall is loss, and fails the run. The server's CPU time comes
//! from `/proc/PID/stat`.
//!
//! Then, with the server stopped, word searches over what was stored, as the event list asks
//! the store for them (a page of 100, newest first), against the scan they replace (`LIKE`
//! over every event's text, newest first, stopping at a page): p50 and p99 of 20 each.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

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

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

/// Message `n` of sender `w`, octet-counted.
fn frame(w: usize, n: usize) -> Vec<u8> {
    let host = format!("edge-{w}-{}", n % 50);
    let msg = match n % 10 {
        0 => format!(
            "<187>Jan 15 08:00:00 {host} IOS: %LINK-3-UPDOWN: Interface Gi1/0/{}, changed state to {}",
            n % 48,
            if n.is_multiple_of(20) { "down" } else { "up" }
        ),
        1 | 2 => format!(
            "<190>Jan 15 08:00:00 {host} IOS: %SYS-6-LOGGINGHOST_STARTSTOP: Logging to host 10.0.0.{} started",
            n % 250
        ),
        _ => format!(
            "<164>Jan 15 08:00:00 {host} IOS: %ASA-4-106023: Deny tcp src outside:198.51.100.{}/{} dst inside:10.1.1.{}/443 by access-group \"outside_in\" [0x0, 0x0]",
            n % 250,
            1024 + n % 60_000,
            n % 250
        ),
    };
    format!("{} {msg}", msg.len()).into_bytes()
}

async fn stored(dir: &Path) -> u64 {
    let url = format!("sqlite://{}?mode=ro", dir.join("data/watchkeeper.db").display());
    let Ok(pool) = sqlx::SqlitePool::connect(&url).await else { return 0 };
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(&pool).await.unwrap_or(0);
    pool.close().await;
    u64::try_from(n).unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let total: usize = args
        .iter()
        .position(|a| a == "--messages")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(500_000);
    let dir = tempfile::tempdir().unwrap();
    let (http, tcp) = (free_port(), free_port());
    std::fs::write(dir.path().join("wk.toml"), format!("[intake]\nsyslog_tcp = \"127.0.0.1:{tcp}\"\n")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_watchkeeper"))
        .args(["--config", "wk.toml", "serve", "--data-dir", "data", "--listen", &format!("127.0.0.1:{http}")])
        .current_dir(dir.path())
        .env("WATCHKEEPER_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start watchkeeper");
    let server = Proc(child);
    let pid = server.0.id();
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", tcp)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Frames made before the clock starts: the client's work is not the server's.
    let per = total / 2;
    let batches: Vec<Vec<u8>> = (0..2).map(|w| (0..per).flat_map(|n| frame(w, n)).collect()).collect();
    let cpu0 = cpu_seconds(pid);
    let started = Instant::now();
    let mut senders = Vec::new();
    for bytes in batches {
        senders.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", tcp)).await.unwrap();
            s.write_all(&bytes).await.unwrap();
            s.shutdown().await.unwrap();
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
    let sent = started.elapsed().as_secs_f64();
    let want = (per * 2) as u64;
    let mut have = 0;
    for _ in 0..1200 {
        have = stored(dir.path()).await;
        if have >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu0;
    println!(
        "syslog over TCP: {want} messages sent in {sent:.2} s; stored {have} in {all:.2} s: {:.0} messages/s stored, \
         server CPU {cpu:.2} s ({:.0} messages per CPU-second)",
        have as f64 / all,
        have as f64 / cpu.max(1e-9)
    );
    assert_eq!(have, want, "messages lost");
    drop(server);
    search(dir.path()).await;
}

/// Word searches through the index against the scan they replace.
async fn search(dir: &Path) {
    let location = store::Location::DataDir(dir.join("data"));
    let db = store::Store::connect(&location).await.unwrap();
    let url = format!("sqlite://{}?mode=ro", dir.join("data/watchkeeper.db").display());
    let scan = sqlx::SqlitePool::connect(&url).await.unwrap();
    println!("| search | hits (page of 100) | index p50 | index p99 | LIKE scan p50 | LIKE scan p99 |");
    println!("|---|---|---|---|---|---|");
    for (what, words, like) in [
        ("a common word", "deny", "%deny%"),
        ("a rare address and port", "198.51.100.17/1041", "%198.51.100.17/1041%"),
        ("an interface", "Gi1/0/8,", "%gi1/0/8,%"),
        ("two words", "logging started", "%logging%started%"),
        ("nothing matches", "nonexistent", "%nonexistent%"),
    ] {
        let filter = store::EventFilter {
            words: words.split_whitespace().map(str::to_owned).collect(),
            limit: 100,
            ..store::EventFilter::default()
        };
        let (mut indexed, mut scanned) = (Vec::new(), Vec::new());
        let mut hits = 0;
        for _ in 0..20 {
            let t = Instant::now();
            hits = db.events(&filter).await.unwrap().len();
            indexed.push(t.elapsed());
            let t = Instant::now();
            let rows: Vec<(i64,)> =
                sqlx::query_as("SELECT id FROM events WHERE LOWER(text) LIKE $1 ORDER BY id DESC LIMIT 100")
                    .bind(like)
                    .fetch_all(&scan)
                    .await
                    .unwrap();
            scanned.push(t.elapsed());
            assert_eq!(rows.len(), hits, "{what}: the index and the scan disagree");
        }
        let pct = |v: &mut Vec<Duration>, p: usize| {
            v.sort();
            format!("{:.1} ms", v[(v.len() - 1) * p / 100].as_secs_f64() * 1e3)
        };
        println!(
            "| {what} (`{words}`) | {hits} | {} | {} | {} | {} |",
            pct(&mut indexed, 50),
            pct(&mut indexed, 99),
            pct(&mut scanned, 50),
            pct(&mut scanned, 99)
        );
    }
}
