//! NetBox 3.x and 4.x list responses (tests/data/netbox, shaped like the documented API) read
//! into the same CMDB document, with nothing lost, and plan into an empty CMDB cleanly.
#![allow(clippy::unwrap_used)]

use exchange::plan::{Current, CurrentSite, plan};
use exchange::{Document, ItemKey, RelTarget};
use model::cmdb::RelationKind;

const FILES: &[&str] = &[
    "sites",
    "devices",
    "interfaces",
    "cables",
    "vlans",
    "prefixes",
    "ip-addresses",
    "circuits",
    "fhrp-groups",
    "fhrp-group-assignments",
];

fn read(version: &str) -> Document {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/netbox").join(version);
    let files: Vec<(String, Vec<u8>)> =
        FILES.iter().map(|f| (format!("{f}.json"), std::fs::read(dir.join(format!("{f}.json"))).unwrap())).collect();
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    exchange::netbox::read_all(&refs).unwrap()
}

fn item<'a>(doc: &'a Document, key: &ItemKey) -> &'a exchange::ItemRecord {
    doc.items.iter().find(|i| &i.key == key).unwrap_or_else(|| panic!("no {key}"))
}

fn site(s: &str, path: &[&str]) -> ItemKey {
    ItemKey { site: Some(s.into()), path: path.iter().map(|p| (*p).to_owned()).collect() }
}

#[test]
fn netbox_3_and_4_read_to_the_same_estate_with_nothing_lost() {
    let v3 = read("v3");
    let v4 = read("v4");
    let strip = |d: &Document| {
        let mut items: Vec<_> = d.items.iter().map(|i| (i.key.clone(), i.fields.clone())).collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let mut rels: Vec<_> = d.relationships.iter().map(|r| (r.from.clone(), r.kind, r.to.clone())).collect();
        rels.sort();
        let groups: Vec<_> =
            d.groups.iter().map(|g| (g.name.clone(), g.kind.clone(), g.site.clone(), g.members.clone())).collect();
        let sites: Vec<_> = d
            .sites
            .iter()
            .map(|s| (s.slug.clone(), s.name.clone(), s.purdue_level, s.criticality.clone(), s.time_zone.clone()))
            .collect();
        (items, rels, groups, sites)
    };
    assert_eq!(strip(&v3), strip(&v4), "both versions describe one estate");

    let d = &v4;
    assert_eq!(d.sites.len(), 2);
    let plant = d.sites.iter().find(|s| s.slug == "plant-west").unwrap();
    assert_eq!(
        (plant.purdue_level, plant.criticality.as_str(), plant.time_zone.as_str()),
        (Some(2), "critical", "Europe/London")
    );
    let count = |class: &str| d.items.iter().filter(|i| i.fields.class == class).count();
    assert_eq!(d.items.len(), 8 + 18 + 4 + 4 + 9 + 2, "devices, interfaces, VLANs, prefixes, addresses, circuits");
    assert_eq!(
        (count("interface"), count("vlan"), count("subnet"), count("ip-address"), count("wan-circuit")),
        (18, 4, 4, 9, 2)
    );

    let fw = item(d, &site("plant-west", &["pw-fw01"]));
    assert_eq!(fw.fields.class, "firewall");
    assert_eq!((fw.fields.vendor.as_str(), fw.fields.model.as_str()), ("Palo Alto Networks", "PA-3410"));
    assert_eq!(
        (fw.fields.serial.as_str(), fw.fields.asset_tag.as_str(), fw.fields.mgmt_address.as_str()),
        ("024101001234", "NWC-000301", "10.20.99.21")
    );
    assert_eq!(fw.fields.attrs["platform"], "PAN-OS");
    assert_eq!(item(d, &site("plant-west", &["pw-plc01"])).fields.class, "plc");
    assert_eq!(item(d, &site("dc-north", &["dcn-sw01"])).fields.class, "switch");
    assert_eq!(item(d, &site("plant-west", &["pw-core-sw02"])).fields.mgmt_address, "", "no primary address in NetBox");

    let lag = item(d, &site("plant-west", &["pw-core-sw01", "Port-channel1"]));
    assert_eq!(lag.fields.attrs["tagged_vlans"], serde_json::json!([10, 100]));
    let ot = item(d, &site("plant-west", &["pw-plc01", "X1 P1", "10.20.100.10/24 vrf OT"]));
    assert_eq!(ot.fields.class, "ip-address", "addresses hang under their interface, named with their VRF");
    let vip = item(d, &ItemKey::top(None, "10.20.10.1/24"));
    assert_eq!(vip.fields.attrs["role"], "hsrp");
    let circuit = item(d, &site("plant-west", &["BTIPVPN-4410-0001"]));
    assert_eq!((circuit.fields.vendor.as_str(), circuit.fields.attrs["carrier"].as_str()), ("BT", Some("BT")));

    assert_eq!(d.relationships.len(), 5, "one connected-to per cable");
    assert!(d.relationships.iter().all(|r| r.kind == RelationKind::ConnectedTo));
    assert!(d.relationships.iter().any(|r| r.from == site("plant-west", &["pw-core-sw01", "GigabitEthernet1/0/1"])
        && matches!(&r.to, RelTarget::Item(k) if k.path[0] == "pw-rtr01" || k.path[0] == "pw-fw01" || k.path[0].starts_with("pw-"))));

    let vc = d.groups.iter().find(|g| g.kind == "virtual-chassis").unwrap();
    assert_eq!(vc.members, [site("plant-west", &["pw-core-sw01"]), site("plant-west", &["pw-core-sw02"])]);
    let hsrp = d.groups.iter().find(|g| g.kind == "hsrp").unwrap();
    assert_eq!(hsrp.name, "PW-GW");
    assert_eq!(hsrp.members, [site("plant-west", &["pw-rtr01"]), site("plant-west", &["pw-rtr02"])]);
    assert_eq!(hsrp.site.as_deref(), Some("plant-west"));

    // Into an empty CMDB: everything is added, and nothing dangles.
    let p = plan(d, &Current::default(), "netbox", exchange::plan::NETBOX_KEEPS).unwrap();
    assert_eq!((p.sites.added, p.items.added, p.groups.added, p.relationships.added), (2, 45, 2, 5));
}

#[test]
fn interfaces_alone_cover_only_interfaces() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/netbox/v4");
    let devices = std::fs::read(dir.join("devices.json")).unwrap();
    let interfaces = std::fs::read(dir.join("interfaces.json")).unwrap();
    let doc = exchange::netbox::read_all(&[("devices.json", &devices), ("interfaces.json", &interfaces)]).unwrap();
    assert!(doc.covers.classes.contains("interface") && doc.covers.classes.contains("firewall"));
    assert!(!doc.covers.classes.contains("vlan"), "VLANs were not in this import, so none are removed");
    let current = Current {
        sites: ["plant-west", "dc-north"]
            .iter()
            .map(|s| CurrentSite {
                slug: (*s).into(),
                name: (*s).into(),
                kind: "site".into(),
                zone: String::new(),
                purdue_level: None,
                criticality: "medium".into(),
                time_zone: "UTC".into(),
            })
            .collect(),
        ..Current::default()
    };
    let p = plan(&doc, &current, "netbox", exchange::plan::NETBOX_KEEPS).unwrap();
    assert_eq!(p.items.added, 8 + 18);
}
