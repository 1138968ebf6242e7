//! Policy analysis at scale, on seeded ClassBench-style rule sets (`policy::synth`): match
//! throughput of the compiled matcher against the linear scan, anomaly analysis, diff of two
//! versions, and IOS parsing — with the peers run in the same process when they are
//! installed: `ciscoconfparse2` (parse) and Aerleon's `aclcheck` (match), found through
//! `WATCHKEEPER_PEERS_PYTHON` (a Python with both installed).
//!
//! `cargo bench -p policy --bench policy [-- --sizes 1000,10000,100000 --flows 2000000]`
//! prints Markdown tables for BENCHMARKS.md.

// aclcheck is timed against `match`; aclgen renders the IOS files the parse is timed on.
#[path = "../tests/peers/aerleon.rs"]
mod aerleon;

use policy::matcher::Matcher;
use policy::space::HeaderSpace;
use policy::synth::{self, Shape};
use std::hint::black_box;

use std::process::Command;
use std::time::{Duration, Instant};

struct Args {
    sizes: Vec<usize>,
    flows: usize,
    analysis_max: usize,
    /// Only the zone-policy section (`--zones-only`).
    zones_only: bool,
}

fn args() -> Args {
    let mut a = Args { sizes: vec![1_000, 10_000, 100_000], flows: 2_000_000, analysis_max: 10_000, zones_only: false };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let value = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--sizes" => a.sizes = value.split(',').filter_map(|s| s.parse().ok()).collect(),
            "--flows" => a.flows = value.parse().unwrap_or(a.flows),
            "--analysis-max" => a.analysis_max = value.parse().unwrap_or(a.analysis_max),
            "--zones-only" => {
                a.zones_only = true;
                i += 1;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

fn secs(d: Duration) -> String {
    if d.as_secs_f64() >= 1.0 {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}

fn main() {
    let a = args();
    zone_policies();
    if a.zones_only {
        return;
    }
    let python = std::env::var("WATCHKEEPER_PEERS_PYTHON").ok();
    println!("## Match: compiled matcher vs linear scan (one core)\n");
    println!("| set | rules | build | leaves / rule refs | matcher decisions/s | linear scan decisions/s | ratio |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for &n in &a.sizes {
        for shape in [Shape::Acl, Shape::Fw, Shape::Ipc] {
            let acl = synth::rules(shape, n, 42);
            let flows = synth::trace(&acl, a.flows, 7);
            let t = Instant::now();
            let m = Matcher::new(&acl);
            let build = t.elapsed();
            // Best of three passes: the machine is a shared VM and one pass can be preempted.
            let mut permits = 0usize;
            let mut best = Duration::MAX;
            for _ in 0..3 {
                let t = Instant::now();
                for f in &flows {
                    permits += usize::from(m.decide(black_box(f)).action == policy::acl::Action::Permit);
                }
                best = best.min(t.elapsed());
            }
            let fast = flows.len() as f64 / best.as_secs_f64();
            // The linear scan gets fewer flows at large sizes; its rate is per flow either way.
            let sample = &flows[..(flows.len() / (n / 1000).max(1)).max(10_000).min(flows.len())];
            let t = Instant::now();
            let linear: Vec<_> = sample.iter().map(|f| acl.decide(black_box(f))).collect();
            let slow = sample.len() as f64 / t.elapsed().as_secs_f64();
            assert!(
                sample.iter().zip(&linear).all(|(f, d)| m.decide(f) == *d),
                "the matcher and the linear scan disagree"
            );
            let (nodes, refs) = m.size();
            println!(
                "| {shape:?} | {n} | {} | {nodes} / {refs} | {:.1} M | {:.3} M | {:.0}× |",
                secs(build),
                fast / 1e6,
                slow / 1e6,
                fast / slow
            );
            black_box(permits);
        }
    }

    if let Some(py) = python.as_deref() {
        println!("\n## Match: Aerleon aclcheck per query (same flows, same verdicts)\n");
        println!("| set | rules | queries | Watchkeeper per query | aclcheck per query | ratio |");
        println!("|---|---:|---:|---:|---:|---:|");
        let dir = std::env::temp_dir().join(format!("wk-aerleon-{}", std::process::id()));
        for &n in a.sizes.iter().filter(|&&n| n <= 10_000) {
            for shape in [Shape::Acl, Shape::Fw, Shape::Ipc] {
                let acl = synth::rules(shape, n, 42);
                let queries = (2_000_000 / n).clamp(100, 2_000);
                let flows = synth::trace(&acl, queries, 11);
                let (theirs, verdicts) = aerleon::aclcheck(py, &dir, &acl, &flows);
                // Ours per query as the tool runs it: a matcher built once, one decision each.
                let m = Matcher::new(&acl);
                let t = Instant::now();
                let ours: Vec<_> = flows.iter().map(|f| m.decide(black_box(f)).rule).collect();
                let ours_secs = t.elapsed().as_secs_f64();
                assert_eq!(ours, verdicts, "Watchkeeper and aclcheck disagree on {shape:?} {n}");
                let (a, b) = (ours_secs / queries as f64, theirs / queries as f64);
                println!("| {shape:?} | {n} | {queries} | {:.0} ns | {:.2} ms | {:.0}× |", a * 1e9, b * 1e3, b / a);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    println!("\n## Anomaly analysis and diff (exact, BDD)\n");
    println!("| set | rules | compile | findings | total | findings found | diff vs 1% edited | diff blocks |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for &n in a.sizes.iter().filter(|&&n| n <= a.analysis_max) {
        for shape in [Shape::Acl, Shape::Fw, Shape::Ipc] {
            let acl = synth::rules(shape, n, 42);
            let space = HeaderSpace::new();
            let t = Instant::now();
            let c = policy::analysis::compile(&space, &acl).expect("fits");
            let compile = t.elapsed();
            let t = Instant::now();
            let found = policy::analysis::findings(&space, &acl, &c).expect("fits");
            let analysis = t.elapsed();
            // A change: every hundredth rule flips its action, and a few rules are inserted.
            let mut edited = acl.clone();
            for (i, r) in edited.rules.iter_mut().enumerate() {
                if i % 100 == 50 {
                    r.action = match r.action {
                        policy::acl::Action::Permit => policy::acl::Action::Deny,
                        policy::acl::Action::Deny => policy::acl::Action::Permit,
                    };
                }
            }
            let extra = synth::rules(shape, 12, 99);
            for (k, r) in extra.rules.into_iter().take(10).enumerate() {
                edited.rules.insert(k * n / 10, r);
            }
            let space = HeaderSpace::new();
            let t = Instant::now();
            let blocks = policy::diff::diff(&space, &acl, &edited).expect("fits");
            let diff = t.elapsed();
            println!(
                "| {shape:?} | {n} | {} | {} | {} | {} | {} | {} |",
                secs(compile),
                secs(analysis),
                secs(compile + analysis),
                found.len(),
                secs(diff),
                blocks.len()
            );
        }
    }

    println!("\n## Parsing IOS\n");
    println!("| file | lines | Watchkeeper | ciscoconfparse2 (parse only) | ratio |");
    println!("|---|---:|---:|---:|---:|");
    let dir = std::env::temp_dir().join(format!("wk-policy-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for &n in &a.sizes {
        // The file Aerleon's aclgen renders for the set (as the issue asks), or our own IOS
        // rendering of it when no Python with Aerleon is at hand.
        let acl = synth::rules(Shape::Fw, n, 42);
        let rendered = python.as_deref().and_then(|py| {
            let target = format!("cisco {} extended", acl.name);
            aerleon::render(py, &dir.join(format!("aclgen-{n}")), &acl, &[target]).remove("acl")
        });
        let source = if rendered.is_some() { "aclgen" } else { "synth" };
        let text = rendered.unwrap_or_else(|| synth::to_ios(&acl));
        let path = dir.join(format!("acl-{n}.cfg"));
        std::fs::write(&path, &text).expect("write");
        let runs = 5;
        let t = Instant::now();
        for _ in 0..runs {
            black_box(policy::ios::parse(black_box(&text)));
        }
        let ours = t.elapsed() / runs;
        let peer = python.as_deref().and_then(|py| {
            let script = "import sys,time\nfrom ciscoconfparse2 import CiscoConfParse\nt=time.perf_counter()\nCiscoConfParse(sys.argv[1])\nprint(time.perf_counter()-t)";
            let out = Command::new(py).args(["-c", script, path.to_str()?]).output().ok()?;
            String::from_utf8_lossy(&out.stdout).trim().parse::<f64>().ok().map(Duration::from_secs_f64)
        });
        match peer {
            Some(p) => println!(
                "| fw {n} rules ({source}) | {} | {} | {} | {:.0}× |",
                text.lines().count(),
                secs(ours),
                secs(p),
                p.as_secs_f64() / ours.as_secs_f64()
            ),
            None => {
                println!("| fw {n} rules ({source}) | {} | {} | (not installed) | |", text.lines().count(), secs(ours))
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Zone policies (PAN-OS `set` form): parse, projection into slices, and the findings over
/// every class of traffic.
fn zone_policies() {
    println!("## Zone policies (PAN-OS, exact over zones and applications)\n");
    println!("| rules | zones | parse | slices | slicing | findings | findings found |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for (n, zones) in [(1_000, 8), (5_000, 12), (10_000, 16)] {
        let text = synth::panos_set(n, zones, 42);
        let t = Instant::now();
        let d = policy::panos::parse(&text);
        let parse = t.elapsed();
        let p = &d.zone_policies[0];
        let t = Instant::now();
        let slices = p.slices(false).len();
        let slicing = t.elapsed();
        let t = Instant::now();
        let found = p.findings().expect("fits").len();
        let findings = t.elapsed();
        println!("| {n} | {zones} | {} | {slices} | {} | {} | {found} |", secs(parse), secs(slicing), secs(findings));
    }
    println!();
}
