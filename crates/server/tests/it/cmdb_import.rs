//! CMDB import and export on both backends: round trips, idempotent re-imports, dry runs,
//! and bad files that are refused with their location while nothing already stored changes.

use crate::common::{Backend, Harness};
use app::{Actor, ImportFile, ImportReport};

fn file(name: &str, text: &str) -> ImportFile {
    ImportFile { name: name.into(), bytes: text.as_bytes().to_vec() }
}

async fn import(h: &Harness, files: &[ImportFile], dry_run: bool) -> Result<ImportReport, app::AppError> {
    h.app.import_cmdb(&Actor::cli(), files, None, None, dry_run, &|_, _| {}).await
}

async fn export_import_round_trips_and_reimport_changes_nothing(backend: Backend) {
    let h = Harness::new(backend).await;
    let exported = h.app.export_cmdb(&Actor::cli()).await.unwrap();
    assert!(exported.contains("pn-core-pair") && exported.contains("svc-directory"));
    assert!(exported.contains("reference: CON-SNT-4471902") && exported.contains("recommended: PAN-OS 11.1.6"));

    // Into an empty CMDB: everything is added, and exporting again gives the same text.
    let fresh = Harness::empty(backend).await;
    let first = import(&fresh, &[file("estate.yaml", &exported)], false).await.unwrap();
    assert!(
        first.items.added > 60 && first.relationships.added > 80 && first.groups.added == 10,
        "{:?} {:?} {:?}",
        first.items,
        first.relationships,
        first.groups
    );
    assert_eq!((first.changed, first.removed), (0, 0));
    assert_eq!(first.register.added, 12 + 11 + 9 + 6, "vendors, contracts, firmware baselines, attributes");
    assert_eq!(fresh.app.export_cmdb(&Actor::cli()).await.unwrap(), exported);
    let risk = fresh.app.risk(&Actor::cli(), 12).await.unwrap();
    assert!(risk.without_contract.iter().any(|u| u.item.name == "ps-fw1"), "uncovered kit stays uncovered");
    assert!(!risk.without_contract.iter().any(|u| u.item.name == "pn-fw1"), "items keep their contracts");

    let again = import(&fresh, &[file("estate.yaml", &exported)], false).await.unwrap();
    assert_eq!((again.added, again.changed, again.removed), (0, 0, 0));
    assert_eq!(again.unchanged, first.added);

    // Moving an item to another contract is a change to that item; items the file names no
    // contract for keep the one they have.
    let moved = exported.replacen(
        "contract:\n    vendor: palo-alto\n    reference: PAN-PREM-99812",
        "contract:\n    vendor: cisco\n    reference: CON-SNT-4471902",
        1,
    );
    assert_ne!(moved, exported, "the export names pn-fw1's contract as a block");
    let change = import(&fresh, &[file("estate.yaml", &moved)], false).await.unwrap();
    assert_eq!((change.items.changed, change.register.changed), (1, 0), "{:?}", change.changes);
    let unknown =
        moved.replacen("vendor: cisco\n    reference: CON-SNT-4471902", "vendor: cisco\n    reference: CON-NOPE", 1);
    let e = import(&fresh, &[file("estate.yaml", &unknown)], true).await.unwrap_err().to_string();
    assert!(e.contains("field `contract`") && e.contains("cisco/CON-NOPE"), "{e}");

    // The imported estate answers impact questions like the original.
    let t = fresh.app.impact(&Actor::cli(), &["dc-san-a".into()]).await.unwrap();
    assert!(t.services.iter().any(|s| s.name == "svc-directory" && s.status == "down"));
}

/// The NetBox fixtures of one version (crates/exchange/tests/data/netbox), as files to import.
fn netbox(version: &str) -> Vec<ImportFile> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../exchange/tests/data/netbox").join(version);
    let mut files: Vec<ImportFile> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| ImportFile {
            name: p.file_name().unwrap().to_string_lossy().into_owned(),
            bytes: std::fs::read(&p).unwrap(),
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

async fn netbox_3_and_4_import_the_same_estate_and_export_round_trips(backend: Backend) {
    let h = Harness::empty(backend).await;
    let first = import(&h, &netbox("v4"), false).await.unwrap();
    assert_eq!((first.sites.added, first.items.added, first.groups.added), (2, 45, 2), "{:?}", first.changes);
    assert!(first.relationships.added >= 5, "{:?}", first.relationships);
    // NetBox 3.7's shapes describe the same estate: importing them changes nothing.
    let v3 = import(&h, &netbox("v3"), false).await.unwrap();
    assert_eq!((v3.added, v3.changed, v3.removed), (0, 0, 0), "{:?}", v3.changes);
    let again = import(&h, &netbox("v4"), false).await.unwrap();
    assert_eq!((again.added, again.changed, again.removed), (0, 0, 0));

    // Nothing is lost on the way in: the firewall keeps its identity, the HSRP pair is a group.
    let fw = h.app.resolve_item(&Actor::cli(), "plant-west/pw-fw01").await.unwrap();
    assert_eq!(
        (fw.class.as_str(), fw.serial.as_str(), fw.mgmt_address.as_str()),
        ("firewall", "024101001234", "10.20.99.21")
    );
    let groups = h.app.groups(&Actor::cli()).await.unwrap();
    assert!(groups.iter().any(|g| g.kind == "hsrp" && g.members == 2), "{groups:?}");
    assert!(groups.iter().any(|g| g.kind == "virtual-chassis" && g.members == 2), "{groups:?}");

    // Export, import into an empty CMDB, export again: the same text.
    let exported = h.app.export_cmdb(&Actor::cli()).await.unwrap();
    let fresh = Harness::empty(backend).await;
    import(&fresh, &[file("estate.yaml", &exported)], false).await.unwrap();
    assert_eq!(fresh.app.export_cmdb(&Actor::cli()).await.unwrap(), exported);
}

async fn dry_runs_count_and_write_nothing(backend: Backend) {
    let h = Harness::empty(backend).await;
    let v1 = "version: 1\nsites:\n  - {slug: s1, name: Site one, kind: plant}\nitems:\n  - {name: sw1, class: switch, site: s1}\n  - {name: sw2, class: switch, site: s1}\n";
    import(&h, &[file("a.yaml", v1)], false).await.unwrap();
    let v2 = "version: 1\nsites:\n  - {slug: s1, name: Site one, kind: plant}\nitems:\n  - {name: sw1, class: switch, site: s1, vendor: Cisco}\n  - {name: sw3, class: switch, site: s1}\n";
    let before = h.app.export_cmdb(&Actor::cli()).await.unwrap();
    let dry = import(&h, &[file("a.yaml", v2)], true).await.unwrap();
    assert!(dry.dry_run);
    assert_eq!((dry.added, dry.changed, dry.removed, dry.unchanged), (1, 1, 1, 1));
    assert!(dry.changes.contains(&"- item s1: sw2".to_owned()), "{:?}", dry.changes);
    assert_eq!(h.app.export_cmdb(&Actor::cli()).await.unwrap(), before, "a dry run writes nothing");
    let real = import(&h, &[file("a.yaml", v2)], false).await.unwrap();
    assert_eq!((real.added, real.changed, real.removed), (1, 1, 1));
    // A hand-made item is never removed by an import that does not mention it.
    let other = import(&h, &[file("b.csv", "name,class,site\nsw9,switch,s1\n")], false).await.unwrap();
    assert_eq!(other.removed, 0);
}

async fn bad_files_are_refused_with_their_location_and_change_nothing(backend: Backend) {
    let h = Harness::new(backend).await;
    let before = h.app.export_cmdb(&Actor::cli()).await.unwrap();
    let audit_before = h.app.audit_verify(|_, _| {}).await.unwrap().unwrap().records;
    let cases: &[(&str, &str, &str)] = &[
        ("empty.yaml", "", "empty.yaml: the file is empty"),
        ("trunc.yaml", "version: 1\nitems:\n  - {name: x, class: sw", "trunc.yaml"),
        ("types.yaml", "version: 1\nitems:\n  - {name: x, class: switch, site: [1, 2]}\n", "line 3"),
        (
            "class.csv",
            "name,class,site\nok1,switch,plant-north\nbad,toaster,plant-north\n",
            "class.csv: line 3: field `class`",
        ),
        (
            "dangling.yaml",
            "version: 1\nrelationships:\n  - {from: svc-directory, kind: depends-on, to: {site: plant-north, name: nope}}\n",
            "dangling.yaml: relationships[0]: field `to`",
        ),
        (
            "dup.yaml",
            "version: 1\nitems:\n  - {name: a1, class: switch, site: plant-north}\n  - {name: a1, class: router, site: plant-north}\n",
            "dup.yaml: items[1] (a1): field `name`",
        ),
        (
            "cycle.yaml",
            "version: 1\nitems:\n  - {name: vm-a, class: virtual-machine}\n  - {name: vm-b, class: virtual-machine}\nrelationships:\n  - {from: vm-a, kind: runs-on, to: vm-b}\n  - {from: vm-b, kind: runs-on, to: vm-a}\n",
            "runs-on would form a cycle",
        ),
        ("trunc.json", "{\"count\": 2, \"next\": null, \"results\": [{\"id\": 1,", "truncated"),
        ("sites.json", "{\"count\": 1, \"next\": null, \"results\": [{\"id\": 1, \"name\": \"X\"}]}", "field `slug`"),
    ];
    for (name, text, expected) in cases {
        let e = import(&h, &[file(name, text)], false).await.expect_err(name).to_string();
        assert!(e.contains(expected), "{name}: {e}");
    }
    // A good file next to a bad one: nothing of either is written.
    let good = file("good.csv", "name,class,site\nnew-sw,switch,plant-north\n");
    let bad = file("bad.csv", "name,class,site\nx,switch,nowhere\n");
    let e = import(&h, &[good, bad], false).await.unwrap_err().to_string();
    assert!(e.contains("bad.csv") && e.contains("site"), "{e}");
    assert_eq!(h.app.export_cmdb(&Actor::cli()).await.unwrap(), before, "nothing stored changed");
    assert_eq!(h.app.audit_verify(|_, _| {}).await.unwrap().unwrap().records, audit_before);
}

async fn imports_are_audited_and_versioned(backend: Backend) {
    let h = Harness::empty(backend).await;
    let text = "version: 1\nsites:\n  - {slug: s1, name: Site one, kind: plant}\nitems:\n  - {name: sw1, class: switch, site: s1}\n";
    import(&h, &[file("a.yaml", text)], false).await.unwrap();
    let item = h.app.resolve_item(&Actor::cli(), "s1/sw1").await.unwrap();
    let versions = h.app.item_history(&Actor::cli(), item.id).await.unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].change, "create");
    let f = app::AuditFilter::parse(&[("action".into(), "cmdb.import".into())]).unwrap();
    let (records, _) = h.app.audit_list(&Actor::cli(), &f).await.unwrap();
    assert_eq!(records.len(), 1);
    assert!(records[0].event.after.as_deref().unwrap_or("").contains("\"added\":2"), "{:?}", records[0].event.after);
}

crate::both_backends!(
    export_import_round_trips_and_reimport_changes_nothing,
    netbox_3_and_4_import_the_same_estate_and_export_round_trips,
    dry_runs_count_and_write_nothing,
    bad_files_are_refused_with_their_location_and_change_nothing,
    imports_are_audited_and_versioned,
);
