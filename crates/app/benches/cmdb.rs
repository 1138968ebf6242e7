//! CMDB at scale: import of a generated estate (100k items, 500k relationships by default),
//! impact analysis of a core switch, and item search latency, on SQLite and — when
//! `WATCHKEEPER_BENCH_DATABASE_URL` names a PostgreSQL server — on PostgreSQL.
//!
//! `cargo bench -p app --bench cmdb [-- --items N --relationships M --searches K]`
//! prints a Markdown table for BENCHMARKS.md.

use app::{Actor, App, ImportFile, Settings};
use exchange::{Document, GroupRecord, ItemKey, ItemRecord, Origin, RelTarget, RelationshipRecord, SiteRecord};
use model::cmdb::{ItemFields, RelationKind};
use std::time::{Duration, Instant};
use store::{Location, Store};

/// A small deterministic generator, so every run measures the same estate.
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

const TIERS: &[(&str, &str)] = &[
    ("dist", "switch"),
    ("acc", "switch"),
    ("srv", "physical-server"),
    ("vm", "virtual-machine"),
    ("app", "application"),
];

/// Sites each with a redundant core pair and layered tiers above it (distribution, access,
/// servers, VMs, applications), every item depending on several items of the tier below, and
/// business services on top.
fn estate(items: usize, relationships: usize) -> (Document, String) {
    let sites = 20usize;
    let mut rng = Rng(0x5eed_cafe);
    let mut doc = Document::default();
    let fields = |name: &str, class: &str| ItemFields {
        name: name.into(),
        class: class.into(),
        vendor: "Cisco".into(),
        model: "C9500".into(),
        status: "operational".into(),
        criticality: "high".into(),
        mgmt_address: format!("10.{}.{}.{}", name.len(), name.as_bytes()[0], name.len() * 3),
        ..ItemFields::default()
    };
    let per_site = items / sites;
    let deps_per_item = (relationships as f64 / items as f64).max(1.0);
    let mut tiers_of_site: Vec<Vec<Vec<ItemKey>>> = Vec::new();
    for s in 0..sites {
        let slug = format!("site-{s:02}");
        doc.sites.push(SiteRecord {
            origin: Origin::default(),
            slug: slug.clone(),
            name: format!("Site {s}"),
            kind: "datacentre".into(),
            zone: "IT".into(),
            purdue_level: None,
            criticality: "high".into(),
            time_zone: "UTC".into(),
        });
        let core: Vec<ItemKey> = (1..=2).map(|n| ItemKey::top(Some(&slug), &format!("{slug}-core-{n}"))).collect();
        for k in &core {
            doc.items.push(ItemRecord {
                origin: Origin::default(),
                key: k.clone(),
                fields: fields(k.name(), "switch"),
            });
        }
        doc.groups.push(GroupRecord {
            origin: Origin::default(),
            name: format!("{slug}-core-pair"),
            kind: "hsrp".into(),
            site: Some(slug.clone()),
            members: core.clone(),
        });
        // Tier sizes grow towards the top, like a real estate.
        let weights = [1usize, 4, 10, 25, 20];
        let total: usize = weights.iter().sum();
        let mut tiers: Vec<Vec<ItemKey>> = Vec::new();
        for (t, (prefix, class)) in TIERS.iter().enumerate() {
            let n = ((per_site - 2) * weights[t] / total).max(2);
            let keys: Vec<ItemKey> =
                (0..n).map(|i| ItemKey::top(Some(&slug), &format!("{slug}-{prefix}-{i:05}"))).collect();
            for k in &keys {
                doc.items.push(ItemRecord {
                    origin: Origin::default(),
                    key: k.clone(),
                    fields: fields(k.name(), class),
                });
            }
            tiers.push(keys);
        }
        tiers_of_site.push(tiers);
    }
    // Dependencies: tier t on tier t-1 (distribution on the core pair).
    let mut budget = relationships;
    for (s, tiers) in tiers_of_site.iter().enumerate() {
        let slug = format!("site-{s:02}");
        for (t, keys) in tiers.iter().enumerate() {
            for k in keys {
                if t == 0 {
                    doc.relationships.push(RelationshipRecord {
                        origin: Origin::default(),
                        from: k.clone(),
                        kind: RelationKind::DependsOn,
                        to: RelTarget::Group(format!("{slug}-core-pair")),
                    });
                    budget = budget.saturating_sub(1);
                    continue;
                }
                let below = &tiers[t - 1];
                let n = (deps_per_item as usize
                    + usize::from(rng.below(100) < ((deps_per_item.fract() * 100.0) as usize)))
                .min(below.len());
                let start = rng.below(below.len());
                for j in 0..n {
                    if budget == 0 {
                        break;
                    }
                    let kind = if t == 3 {
                        RelationKind::DependsOn
                    } else {
                        [RelationKind::DependsOn, RelationKind::ConnectedTo][rng.below(2)]
                    };
                    doc.relationships.push(RelationshipRecord {
                        origin: Origin::default(),
                        from: k.clone(),
                        kind,
                        to: RelTarget::Item(below[(start + j * 7) % below.len()].clone()),
                    });
                    budget -= 1;
                }
            }
        }
    }
    // Business services on applications across sites.
    for n in 0..50 {
        let key = ItemKey::top(None, &format!("svc-{n:02}"));
        doc.items.push(ItemRecord {
            origin: Origin::default(),
            key: key.clone(),
            fields: fields(key.name(), "business-service"),
        });
        for _ in 0..10 {
            let s = rng.below(sites);
            let apps = &tiers_of_site[s][4];
            doc.relationships.push(RelationshipRecord {
                origin: Origin::default(),
                from: key.clone(),
                kind: RelationKind::DependsOn,
                to: RelTarget::Item(apps[rng.below(apps.len())].clone()),
            });
        }
    }
    let yaml = exchange::yaml::write(&doc).expect("yaml");
    (doc, yaml)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

async fn run(backend: &str, location: Location, yaml: &str, doc: &Document, searches: usize) -> String {
    let store = Store::open(&location).await.expect("open");
    let app = App::new(store, Settings::default());
    let actor = Actor::cli();
    let file = ImportFile { name: "estate.yaml".into(), bytes: yaml.as_bytes().to_vec() };

    let t = Instant::now();
    let report =
        app.import_cmdb(&actor, std::slice::from_ref(&file), None, None, false, &|_, _| {}).await.expect("import");
    let import = t.elapsed();
    assert_eq!(report.items.added, doc.items.len());

    let t = Instant::now();
    let again =
        app.import_cmdb(&actor, std::slice::from_ref(&file), None, None, true, &|_, _| {}).await.expect("dry run");
    let reimport = t.elapsed();
    assert_eq!(again.added + again.changed + again.removed, 0);

    let core = "site-07/site-07-core-1".to_owned();
    let t = Instant::now();
    let cold = app.impact(&actor, std::slice::from_ref(&core)).await.expect("impact");
    let impact_cold = t.elapsed();
    let mut warm = Vec::new();
    let mut affected = 0;
    for _ in 0..20 {
        let t = Instant::now();
        let r = app.impact(&actor, std::slice::from_ref(&core)).await.expect("impact");
        warm.push(t.elapsed());
        affected = r.items_down + r.items_degraded;
    }
    warm.sort();
    let _ = cold;

    let mut rng = Rng(42);
    let mut lat = Vec::new();
    for _ in 0..searches {
        let q = format!("{:05}", rng.below(3000));
        let pairs = vec![("q".to_owned(), q), ("limit".to_owned(), "50".to_owned())];
        let query = model::list::parse(&store::ITEM_LIST, &pairs).expect("query");
        let t = Instant::now();
        app.list_items(&actor, &query).await.expect("search");
        lat.push(t.elapsed());
    }
    lat.sort();
    // The console's item list also counts five facets under the page's filters.
    let mut facets = Vec::new();
    for site in 0..20 {
        let pairs = vec![("site".to_owned(), format!("site-{site:02}"))];
        let query = model::list::parse(&store::ITEM_LIST, &pairs).expect("query");
        let t = Instant::now();
        app.item_facets(&actor, &query).await.expect("facets");
        facets.push(t.elapsed());
    }
    facets.sort();
    format!(
        "| {backend} | {} | {} | {} s | {} s | {} ms | {} ms (p50 {}, {} items affected) | {} ms | {} ms | {} ms |",
        doc.items.len(),
        doc.relationships.len(),
        format_args!("{:.1}", import.as_secs_f64()),
        format_args!("{:.1}", reimport.as_secs_f64()),
        ms(impact_cold),
        ms(percentile(&warm, 0.99)),
        ms(percentile(&warm, 0.5)),
        affected,
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(percentile(&facets, 0.99)),
    )
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let items = arg("--items", 100_000);
    let relationships = arg("--relationships", 500_000);
    let searches = arg("--searches", 300);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let t = Instant::now();
    let (doc, yaml) = estate(items, relationships);
    eprintln!(
        "generated {} items, {} relationships, {} MB of YAML in {:.1} s",
        doc.items.len(),
        doc.relationships.len(),
        yaml.len() / 1_000_000,
        t.elapsed().as_secs_f64()
    );
    let mut rows = Vec::new();
    let dir = tempfile::tempdir().expect("tempdir");
    rows.push(rt.block_on(run("SQLite", Location::DataDir(dir.path().to_path_buf()), &yaml, &doc, searches)));
    eprintln!("{}", rows[0]);
    if let Ok(url) = std::env::var("WATCHKEEPER_BENCH_DATABASE_URL") {
        rows.push(rt.block_on(run("PostgreSQL", Location::Postgres(url), &yaml, &doc, searches)));
        eprintln!("{}", rows[1]);
    }
    println!(
        "| backend | items | relationships | import | re-import (dry run) | impact, cold (graph load) | impact of a core switch, p99 of 20 | search p50 | search p99 | facets of a site, p99 of 20 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}
