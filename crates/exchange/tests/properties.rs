//! Properties of the import readers: whatever the bytes, an answer or a located error and never
//! a panic; whatever the estate, export then import gives it back; and the fuzz target's seeds
//! (fuzz/seeds/cmdb_import) replayed on every `cargo test`.
#![allow(clippy::unwrap_used)]

use exchange::plan::{Current, plan};
use exchange::{Document, Format, GroupRecord, ItemKey, ItemRecord, Origin, RelTarget, RelationshipRecord, SiteRecord};
use model::cmdb::{ItemFields, RelationKind};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    // Names with the characters real estates use, and some that trip naive formats.
    "[a-zA-Z0-9][a-zA-Z0-9 ./:_>#'\"é-]{0,20}"
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("non-empty", |s| !s.is_empty())
}

fn estate() -> impl Strategy<Value = Document> {
    let classes = prop::sample::select(vec!["switch", "router", "firewall", "virtual-machine", "application", "plc"]);
    (
        prop::collection::btree_set(name(), 1..12),
        prop::collection::vec((classes, any::<bool>(), prop::option::of("[a-z]{1,8}")), 12),
        prop::collection::vec((0usize..12, 0usize..12, 0usize..6), 0..20),
        prop::collection::vec(name(), 0..3),
    )
        .prop_map(|(names, specs, rels, ifaces)| {
            let mut doc = Document::default();
            doc.sites.push(SiteRecord {
                origin: Origin::default(),
                slug: "s1".into(),
                name: "Site 1".into(),
                kind: "plant".into(),
                zone: "OT".into(),
                purdue_level: Some(2),
                criticality: "critical".into(),
                time_zone: "Europe/London".into(),
            });
            let names: Vec<String> = names.into_iter().collect();
            for (i, n) in names.iter().enumerate() {
                let (class, at_site, attr) = specs[i % specs.len()].clone();
                let mut attrs = serde_json::Map::new();
                if let Some(a) = attr {
                    attrs.insert(a, serde_json::json!({"nested": [1, "two"]}));
                }
                let key = ItemKey::top(at_site.then_some("s1"), n);
                doc.items.push(ItemRecord {
                    origin: Origin::default(),
                    fields: ItemFields {
                        name: n.clone(),
                        class: class.into(),
                        vendor: "Vendor, Inc.".into(),
                        status: "operational".into(),
                        criticality: "high".into(),
                        end_of_support_on: Some("2028-02-29".into()),
                        attrs,
                        ..ItemFields::default()
                    },
                    key,
                });
            }
            let parent = doc.items[0].key.clone();
            for f in ifaces {
                if doc.items.iter().any(|i| i.key == parent.child(&f)) {
                    continue;
                }
                doc.items.push(ItemRecord {
                    origin: Origin::default(),
                    key: parent.child(&f),
                    fields: ItemFields {
                        name: f,
                        class: "interface".into(),
                        status: "operational".into(),
                        criticality: "medium".into(),
                        ..ItemFields::default()
                    },
                });
            }
            let n = doc.items.len();
            let members: Vec<ItemKey> = doc.items.iter().take(2).map(|i| i.key.clone()).collect();
            doc.groups.push(GroupRecord {
                origin: Origin::default(),
                name: "pair".into(),
                kind: "hsrp".into(),
                site: None,
                members,
            });
            for (a, b, k) in rels {
                let (a, b) = (a % n, b % n);
                if a == b {
                    continue;
                }
                let kind = RelationKind::ALL[k];
                // runs-on only downwards, so the estate stays acyclic in that kind.
                let kind = if kind == RelationKind::RunsOn && a < b { RelationKind::DependsOn } else { kind };
                let to =
                    if k == 5 { RelTarget::Group("pair".into()) } else { RelTarget::Item(doc.items[b].key.clone()) };
                doc.relationships.push(RelationshipRecord {
                    origin: Origin::default(),
                    from: doc.items[a].key.clone(),
                    kind,
                    to,
                });
            }
            doc
        })
}

/// An estate without origins, in a canonical order: items, relationships, groups.
type Shape = (Vec<(ItemKey, ItemFields)>, Vec<(ItemKey, RelationKind, RelTarget)>, Vec<(String, Vec<ItemKey>)>);

fn shape(doc: &Document) -> Shape {
    let mut items: Vec<_> = doc.items.iter().map(|i| (i.key.clone(), i.fields.clone())).collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rels: Vec<_> = doc.relationships.iter().map(|r| (r.from.clone(), r.kind, r.to.clone())).collect();
    rels.sort();
    let groups = doc.groups.iter().map(|g| (g.name.clone(), g.members.clone())).collect();
    (items, rels, groups)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn yaml_export_reads_back_to_the_same_estate(doc in estate()) {
        let text = exchange::yaml::write(&doc).unwrap();
        let back = exchange::read(Format::Yaml, "estate.yaml", text.as_bytes()).unwrap();
        prop_assert_eq!(shape(&back), shape(&doc));
        let expected_sites: Vec<SiteRecord> =
            doc.sites.iter().map(|s| SiteRecord { origin: Origin::new("estate.yaml", "sites[0] (s1)"), ..s.clone() }).collect();
        prop_assert_eq!(&back.sites, &expected_sites);
        // Into an empty CMDB, everything read is added.
        let p = plan(&back, &Current::default(), "yaml", &[]).unwrap();
        prop_assert_eq!(p.items.added, doc.items.len());
    }

    #[test]
    fn readers_never_panic_and_errors_name_the_file(bytes in prop::collection::vec(any::<u8>(), 0..400), which in 0u8..3) {
        let (format, name) = match which {
            0 => (Format::NetBox, "devices.json"),
            1 => (Format::Yaml, "estate.yaml"),
            _ => (Format::Csv, "items.csv"),
        };
        if let Err(e) = exchange::read(format, name, &bytes) {
            prop_assert!(e.to_string().starts_with(name), "{}", e);
        }
    }

    #[test]
    fn netbox_records_of_any_shape_never_panic(v in arb_json(), endpoint in prop::sample::select(vec!["sites", "devices", "interfaces", "cables", "vlans", "prefixes", "ip-addresses", "circuits", "fhrp-groups", "fhrp-group-assignments"])) {
        let body = serde_json::json!({"count": 1, "next": null, "previous": null, "results": [v]}).to_string();
        let file = format!("{endpoint}.json");
        if let Err(e) = exchange::netbox::read_all(&[(&file, body.as_bytes())]) {
            prop_assert!(e.to_string().starts_with(&file), "{}", e);
        }
    }
}

/// JSON values with NetBox's keys in them, so the mapping code is reached.
fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let keys = prop::sample::select(vec![
        "id",
        "url",
        "name",
        "slug",
        "site",
        "device",
        "role",
        "device_role",
        "device_type",
        "manufacturer",
        "model",
        "status",
        "value",
        "address",
        "prefix",
        "vid",
        "cid",
        "provider",
        "a_terminations",
        "b_terminations",
        "object_type",
        "object_id",
        "object",
        "assigned_object_type",
        "assigned_object_id",
        "interface_id",
        "interface_type",
        "group",
        "protocol",
        "group_id",
        "virtual_chassis",
        "termination_a",
        "scope_type",
        "scope",
        "primary_ip4",
        "custom_fields",
        "purdue_level",
        "time_zone",
    ]);
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        (0i64..20).prop_map(serde_json::Value::from),
        "[a-z./ ]{0,12}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("dcim.interface")),
        Just(serde_json::Value::from("http://nb/api/dcim/devices/1/")),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

#[test]
fn fuzz_seeds_replay() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/cmdb_import");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let Some((&selector, bytes)) = data.split_first() else { continue };
        let (format, name) = match selector % 3 {
            0 => (Format::NetBox, "devices.json"),
            1 => (Format::Yaml, "estate.yaml"),
            _ => (Format::Csv, "items.csv"),
        };
        match exchange::read(format, name, bytes) {
            Ok(doc) => {
                let text = exchange::yaml::write(&doc).unwrap();
                exchange::read(Format::Yaml, "again.yaml", text.as_bytes()).unwrap();
            }
            Err(e) => assert!(e.to_string().starts_with(name), "{e}"),
        }
        n += 1;
    }
    assert!(n >= 5, "{n} seeds");
}
