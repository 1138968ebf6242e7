//! ICMP at scale: 10,000 targets, each checked once per 30 s interval (first runs spread over
//! the interval, as the schedule does), for a number of intervals; reports the CPU this process
//! used per wall-clock second (cores) and the share of echoes answered. Targets are loopback
//! addresses (all of 127.0.0.0/8 answers), so traffic stays on this machine. In the same run,
//! Debian's `fping` pings the same targets once per interval, for the ratio.
//!
//! `cargo bench -p probe --bench icmp [-- --targets N --interval S --intervals K]`

use model::check::{Probe, Status};
use probe::{Probes, Target};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// CPU seconds a process used, with its reaped children's, from a `/proc/PID/stat` text.
fn cpu_of(stat: &str) -> f64 {
    // Fields after the command's closing parenthesis: utime, stime, cutime, cstime are the
    // 14th to 17th of the whole line. The clock tick is 100 Hz on Linux.
    let rest = stat.rsplit_once(')').map_or("", |r| r.1);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12) + ticks(13) + ticks(14)) / 100.0
}

fn cpu_seconds(pid: &str) -> f64 {
    cpu_of(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default())
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn address(i: usize) -> String {
    format!("127.{}.{}.{}", 1 + i / 65_536, (i / 256) % 256, 1 + i % 254)
}

fn main() {
    let targets = arg("--targets", 10_000) as usize;
    let interval = Duration::from_secs(arg("--interval", 30));
    let intervals = arg("--intervals", 2) as u32;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (ok, failed, cores, wall) = rt.block_on(async {
        let probes = Probes::new();
        let probe = Arc::new(Probe::Icmp {
            count: 1,
            rtt_warn_ms: 200.0,
            rtt_crit_ms: 500.0,
            loss_warn_pct: 20.0,
            loss_crit_pct: 60.0,
        });
        let ok = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let cpu0 = cpu_seconds("self");
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..targets {
            let (probes, probe, ok, failed) = (probes.clone(), probe.clone(), ok.clone(), failed.clone());
            let offset = interval.mul_f64(i as f64 / targets as f64);
            let target = Target { address: address(i), name: format!("t{i}") };
            tasks.spawn(async move {
                tokio::time::sleep_until(tokio::time::Instant::from_std(started + offset)).await;
                let mut tick = tokio::time::interval(interval);
                for _ in 0..intervals {
                    tick.tick().await;
                    let o = probes.run(&probe, &target, Duration::from_secs(2)).await;
                    if o.status == Status::Ok {
                        ok.fetch_add(1, Ordering::Relaxed)
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed)
                    };
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        let wall = started.elapsed().as_secs_f64();
        let cores = (cpu_seconds("self") - cpu0) / wall;
        (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed), cores, wall)
    });
    println!(
        "watchkeeper: {targets} targets every {} s, {intervals} intervals, {wall:.1} s: {ok} answered, {failed} not; \
         {cores:.3} cores ({:.1} ms CPU per check)",
        interval.as_secs(),
        cores * wall * 1000.0 / (ok + failed).max(1) as f64
    );

    // fping over the same targets, once per interval, for the same number of intervals.
    let list = std::env::temp_dir().join("wk-icmp-targets.txt");
    let text: String = (0..targets).map(|i| address(i) + "\n").collect();
    if std::fs::write(&list, text).is_err() {
        return;
    }
    let started = Instant::now();
    let mut cpu = 0.0;
    for _ in 0..intervals {
        let began = Instant::now();
        // The shell reaps fping, then prints its own /proc entry: its children's CPU is fping's.
        let script = format!("fping -q -c 1 -t 1000 -i 1 -f {} >/dev/null 2>&1; cat /proc/$$/stat", list.display());
        match std::process::Command::new("sh").args(["-c", &script]).output() {
            Ok(o) if which_fping() => cpu += cpu_of(&String::from_utf8_lossy(&o.stdout)),
            _ => {
                println!("fping: not installed (Debian package fping); no ratio");
                return;
            }
        }
        std::thread::sleep(interval.saturating_sub(began.elapsed()));
    }
    let wall = started.elapsed().as_secs_f64();
    let fping_cores = cpu / wall;
    println!(
        "fping: same targets, {intervals} intervals, {wall:.1} s: {fping_cores:.3} cores; watchkeeper ÷ fping CPU: {:.2}×",
        cores / fping_cores.max(1e-9)
    );
}

fn which_fping() -> bool {
    ["/usr/bin/fping", "/usr/sbin/fping", "/bin/fping"].iter().any(|p| std::path::Path::new(p).exists())
}
