//! Watchkeeper's own YAML format: what `watchkeeper cmdb export` writes and `import` reads
//! back unchanged. Items are referred to by site and name path:
//!
//! ```yaml
//! version: 1
//! sites:
//!   - {slug: plant-north, name: Northfield Water Treatment Plant, kind: plant, zone: OT}
//! items:
//!   - {name: pn-core-sw1, class: switch, site: plant-north, vendor: Cisco}
//!   - {name: Gi1/0/1, class: interface, site: plant-north, parent: [pn-core-sw1]}
//!   - {name: svc-northfield, class: business-service, criticality: critical}
//! groups:
//!   - {name: pn-core-pair, kind: hsrp, site: plant-north, members: [{site: plant-north, name: pn-core-sw1}]}
//! relationships:
//!   - {from: svc-northfield, kind: depends-on, to_group: pn-core-pair}
//! vendors:
//!   - slug: cisco
//!     name: Cisco Systems
//!     kind: oem
//!     contacts: [{level: 1, name: Cisco TAC, phone: +44 800 404 7778}]
//!     contracts: [{reference: CON-SNT-4471902, support_level: 24x7x4, ends_on: 2027-09-30}]
//! firmware_baselines:
//!   - {vendor: Cisco, model: IE-, recommended: IOS-XE 17.12.4, minimum: IOS-XE 17.9.1}
//! attribute_definitions:
//!   - {class: wan-circuit, name: circuit_id, kind: text, required: true}
//! ```
//!
//! An item names its support contract as `contract: {vendor: cisco, reference: CON-SNT-4471902}`.
//!
//! A reference is `{site, name}`, `{site, path: [device, interface]}`, or a bare name for an
//! item that belongs to no site.

use crate::{
    BaselineRecord, ContractKey, Coverage, Document, GroupRecord, ImportError, ItemContract, ItemKey, ItemRecord,
    Origin, RelTarget, RelationshipRecord, SiteRecord, VendorRecord,
};
use model::cmdb::{ItemFields, RelationKind};
use model::firmware::Baseline;
use model::supplier::{Contact, ContractFields, VendorFields};
use serde::{Deserialize, Serialize};

/// The format version `export` writes; `import` refuses newer ones.
pub const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sites: Option<Vec<Site>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    items: Option<Vec<Item>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<Group>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    relationships: Option<Vec<Relationship>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vendors: Option<Vec<Vendor>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    firmware_baselines: Option<Vec<FirmwareBaseline>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attribute_definitions: Option<Vec<Attribute>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Attribute {
    class: String,
    name: String,
    kind: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    choices: Vec<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    description: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vendor {
    slug: String,
    name: String,
    kind: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    phone: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    email: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    portal: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    escalation: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    contacts: Vec<Contact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    contracts: Vec<Contract>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Contract {
    reference: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    support_level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    starts_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ends_on: Option<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    contact: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    escalation: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FirmwareBaseline {
    vendor: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    model: String,
    recommended: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    minimum: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContractRef {
    vendor: String,
    reference: String,
}

fn is_empty(s: &str) -> bool {
    s.is_empty()
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Site {
    slug: String,
    name: String,
    kind: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    zone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purdue_level: Option<i64>,
    #[serde(default = "medium")]
    criticality: String,
    #[serde(default = "utc")]
    time_zone: String,
}

fn medium() -> String {
    "medium".into()
}

fn utc() -> String {
    "UTC".into()
}

fn operational() -> String {
    "operational".into()
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    name: String,
    class: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    site: Option<String>,
    /// The names of the item's ancestors, top first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    parent: Vec<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    vendor: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    model: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    os_version: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    serial: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    asset_tag: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    mgmt_address: String,
    #[serde(default = "operational")]
    status: String,
    #[serde(default = "medium")]
    criticality: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    support_group: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    owner: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    description: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    sla_policy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purchased_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    warranty_ends_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_of_sale_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_of_support_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_of_life_on: Option<String>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    attrs: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contract: Option<ContractRef>,
}

/// A reference to an item.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Ref {
    Name(String),
    Named {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        site: Option<String>,
        name: String,
    },
    Path {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        site: Option<String>,
        path: Vec<String>,
    },
}

impl Ref {
    fn key(self) -> Option<ItemKey> {
        match self {
            Ref::Name(name) => Some(ItemKey::top(None, &name)),
            Ref::Named { site, name } => Some(ItemKey { site, path: vec![name] }),
            Ref::Path { path, .. } if path.is_empty() => None,
            Ref::Path { site, path } => Some(ItemKey { site, path }),
        }
    }

    fn of(key: &ItemKey) -> Ref {
        match (&key.site, key.path.as_slice()) {
            (None, [name]) => Ref::Name(name.clone()),
            (site, [name]) => Ref::Named { site: site.clone(), name: name.clone() },
            (site, path) => Ref::Path { site: site.clone(), path: path.to_vec() },
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    name: String,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    site: Option<String>,
    members: Vec<Ref>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Relationship {
    from: Ref,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<Ref>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to_group: Option<String>,
}

/// Reads a YAML document.
pub fn read(file: &str, bytes: &[u8]) -> Result<Document, ImportError> {
    let parsed: File = yaml_serde::from_slice(bytes).map_err(|e| {
        // The library's message carries the line and column.
        Origin::new(file, "").error(None, format!("not a Watchkeeper CMDB document: {e}"))
    })?;
    if parsed.version > VERSION {
        return Err(Origin::new(file, "").error(
            Some("version"),
            format!(
                "format version {} is newer than this Watchkeeper reads ({VERSION}); upgrade Watchkeeper",
                parsed.version
            ),
        ));
    }
    let mut doc = Document::default();
    for (i, s) in parsed.sites.unwrap_or_default().into_iter().enumerate() {
        let origin = Origin::new(file, format!("sites[{i}] ({})", s.slug));
        doc.sites.push(SiteRecord {
            origin,
            slug: s.slug,
            name: s.name,
            kind: s.kind,
            zone: s.zone,
            purdue_level: s.purdue_level,
            criticality: s.criticality,
            time_zone: s.time_zone,
        });
    }
    if let Some(items) = parsed.items {
        for (i, it) in items.into_iter().enumerate() {
            let origin = Origin::new(file, format!("items[{i}] ({})", it.name));
            let mut path = it.parent;
            path.push(it.name.clone());
            if let Some(c) = it.contract {
                doc.item_contracts.push(ItemContract {
                    origin: origin.clone(),
                    item: ItemKey { site: it.site.clone(), path: path.clone() },
                    contract: ContractKey { vendor: c.vendor, reference: c.reference },
                });
            }
            let record = ItemRecord {
                origin,
                key: ItemKey { site: it.site, path },
                fields: ItemFields {
                    name: it.name,
                    class: it.class,
                    vendor: it.vendor,
                    model: it.model,
                    os_version: it.os_version,
                    serial: it.serial,
                    asset_tag: it.asset_tag,
                    mgmt_address: it.mgmt_address,
                    status: it.status,
                    criticality: it.criticality,
                    support_group: it.support_group,
                    owner: it.owner,
                    description: it.description,
                    sla_policy: it.sla_policy,
                    purchased_on: it.purchased_on,
                    warranty_ends_on: it.warranty_ends_on,
                    end_of_sale_on: it.end_of_sale_on,
                    end_of_support_on: it.end_of_support_on,
                    end_of_life_on: it.end_of_life_on,
                    attrs: it.attrs,
                },
            };
            crate::check_fields(&record)?;
            doc.covers.classes.insert(record.fields.class.clone());
            doc.items.push(record);
        }
    }
    if let Some(groups) = parsed.groups {
        doc.covers.group_kinds.extend(model::cmdb::GROUP_KINDS.iter().map(|k| (*k).to_owned()));
        for (i, g) in groups.into_iter().enumerate() {
            let origin = Origin::new(file, format!("groups[{i}] ({})", g.name));
            let members = g
                .members
                .into_iter()
                .map(|m| m.key().ok_or_else(|| origin.error(Some("members"), "a member reference has an empty path")))
                .collect::<Result<Vec<_>, _>>()?;
            doc.groups.push(GroupRecord { origin, name: g.name, kind: g.kind, site: g.site, members });
        }
    }
    if let Some(rels) = parsed.relationships {
        doc.covers.relationship_kinds.extend(RelationKind::ALL);
        for (i, r) in rels.into_iter().enumerate() {
            let origin = Origin::new(file, format!("relationships[{i}]"));
            let kind = r.kind.parse::<RelationKind>().map_err(|e| origin.error(Some("kind"), e.to_string()))?;
            let from = r.from.key().ok_or_else(|| origin.error(Some("from"), "empty path"))?;
            let to = match (r.to, r.to_group) {
                (Some(t), None) => RelTarget::Item(t.key().ok_or_else(|| origin.error(Some("to"), "empty path"))?),
                (None, Some(g)) => RelTarget::Group(g),
                _ => {
                    return Err(origin
                        .error(Some("to"), "give exactly one of `to` (an item) and `to_group` (a redundancy group)"));
                }
            };
            doc.relationships.push(RelationshipRecord { origin, from, kind, to });
        }
    }
    for (i, v) in parsed.vendors.unwrap_or_default().into_iter().enumerate() {
        let origin = Origin::new(file, format!("vendors[{i}] ({})", v.slug));
        doc.vendors.push(VendorRecord {
            origin,
            fields: VendorFields {
                slug: v.slug,
                name: v.name,
                kind: v.kind,
                phone: v.phone,
                email: v.email,
                portal: v.portal,
                escalation: v.escalation,
                contacts: v.contacts,
            },
            contracts: v
                .contracts
                .into_iter()
                .map(|c| ContractFields {
                    reference: c.reference,
                    support_level: c.support_level,
                    starts_on: c.starts_on,
                    ends_on: c.ends_on,
                    contact: c.contact,
                    escalation: c.escalation,
                })
                .collect(),
        });
    }
    for (i, a) in parsed.attribute_definitions.unwrap_or_default().into_iter().enumerate() {
        let origin = Origin::new(file, format!("attribute_definitions[{i}] ({} {})", a.class, a.name));
        doc.attribute_defs.push(crate::AttributeRecord {
            origin,
            def: model::attributes::AttributeDef {
                class: a.class,
                name: a.name,
                kind: a.kind,
                required: a.required,
                choices: a.choices,
                description: a.description,
            },
        });
    }
    for (i, b) in parsed.firmware_baselines.unwrap_or_default().into_iter().enumerate() {
        let origin = Origin::new(file, format!("firmware_baselines[{i}] ({} {})", b.vendor, b.model));
        doc.baselines.push(BaselineRecord {
            origin,
            baseline: Baseline { vendor: b.vendor, model: b.model, recommended: b.recommended, minimum: b.minimum },
        });
    }
    Ok(doc)
}

/// Writes `doc` as YAML that [`read`] reads back to the same records.
pub fn write(doc: &Document) -> Result<String, ImportError> {
    let contracts: std::collections::HashMap<&ItemKey, &ContractKey> =
        doc.item_contracts.iter().map(|c| (&c.item, &c.contract)).collect();
    let file = File {
        version: VERSION,
        sites: Some(
            doc.sites
                .iter()
                .map(|s| Site {
                    slug: s.slug.clone(),
                    name: s.name.clone(),
                    kind: s.kind.clone(),
                    zone: s.zone.clone(),
                    purdue_level: s.purdue_level,
                    criticality: s.criticality.clone(),
                    time_zone: s.time_zone.clone(),
                })
                .collect(),
        ),
        items: Some(
            doc.items
                .iter()
                .map(|r| {
                    let f = &r.fields;
                    Item {
                        name: f.name.clone(),
                        class: f.class.clone(),
                        site: r.key.site.clone(),
                        parent: r.key.path[..r.key.path.len().saturating_sub(1)].to_vec(),
                        vendor: f.vendor.clone(),
                        model: f.model.clone(),
                        os_version: f.os_version.clone(),
                        serial: f.serial.clone(),
                        asset_tag: f.asset_tag.clone(),
                        mgmt_address: f.mgmt_address.clone(),
                        status: f.status.clone(),
                        criticality: f.criticality.clone(),
                        support_group: f.support_group.clone(),
                        owner: f.owner.clone(),
                        description: f.description.clone(),
                        sla_policy: f.sla_policy.clone(),
                        purchased_on: f.purchased_on.clone(),
                        warranty_ends_on: f.warranty_ends_on.clone(),
                        end_of_sale_on: f.end_of_sale_on.clone(),
                        end_of_support_on: f.end_of_support_on.clone(),
                        end_of_life_on: f.end_of_life_on.clone(),
                        attrs: f.attrs.clone(),
                        contract: contracts
                            .get(&r.key)
                            .map(|c| ContractRef { vendor: c.vendor.clone(), reference: c.reference.clone() }),
                    }
                })
                .collect(),
        ),
        groups: Some(
            doc.groups
                .iter()
                .map(|g| Group {
                    name: g.name.clone(),
                    kind: g.kind.clone(),
                    site: g.site.clone(),
                    members: g.members.iter().map(Ref::of).collect(),
                })
                .collect(),
        ),
        relationships: Some(
            doc.relationships
                .iter()
                .map(|r| {
                    let (to, to_group) = match &r.to {
                        RelTarget::Item(k) => (Some(Ref::of(k)), None),
                        RelTarget::Group(g) => (None, Some(g.clone())),
                    };
                    Relationship { from: Ref::of(&r.from), kind: r.kind.as_str().to_owned(), to, to_group }
                })
                .collect(),
        ),
        vendors: Some(
            doc.vendors
                .iter()
                .map(|v| {
                    let f = &v.fields;
                    Vendor {
                        slug: f.slug.clone(),
                        name: f.name.clone(),
                        kind: f.kind.clone(),
                        phone: f.phone.clone(),
                        email: f.email.clone(),
                        portal: f.portal.clone(),
                        escalation: f.escalation.clone(),
                        contacts: f.contacts.clone(),
                        contracts: v
                            .contracts
                            .iter()
                            .map(|c| Contract {
                                reference: c.reference.clone(),
                                support_level: c.support_level.clone(),
                                starts_on: c.starts_on.clone(),
                                ends_on: c.ends_on.clone(),
                                contact: c.contact.clone(),
                                escalation: c.escalation.clone(),
                            })
                            .collect(),
                    }
                })
                .collect(),
        ),
        attribute_definitions: Some(
            doc.attribute_defs
                .iter()
                .map(|a| Attribute {
                    class: a.def.class.clone(),
                    name: a.def.name.clone(),
                    kind: a.def.kind.clone(),
                    required: a.def.required,
                    choices: a.def.choices.clone(),
                    description: a.def.description.clone(),
                })
                .collect(),
        ),
        firmware_baselines: Some(
            doc.baselines
                .iter()
                .map(|b| FirmwareBaseline {
                    vendor: b.baseline.vendor.clone(),
                    model: b.baseline.model.clone(),
                    recommended: b.baseline.recommended.clone(),
                    minimum: b.baseline.minimum.clone(),
                })
                .collect(),
        ),
    };
    let body = yaml_serde::to_string(&file).map_err(|e| Origin::new("export", "").error(None, e.to_string()))?;
    Ok(format!("# Watchkeeper CMDB export; `watchkeeper cmdb import` reads it back.\n{body}"))
}

/// Coverage of a full export: everything.
pub fn full_coverage(doc: &mut Document) {
    doc.covers = Coverage {
        classes: model::cmdb::CLASSES.iter().map(|c| c.slug.to_owned()).collect(),
        relationship_kinds: RelationKind::ALL.into_iter().collect(),
        group_kinds: model::cmdb::GROUP_KINDS.iter().map(|k| (*k).to_owned()).collect(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
version: 1
sites:
  - {slug: plant-north, name: Northfield, kind: plant, zone: OT, purdue_level: 2, criticality: critical}
items:
  - {name: pn-core-sw1, class: switch, site: plant-north, vendor: Cisco, attrs: {rack: R1}}
  - {name: Gi1/0/1, class: interface, site: plant-north, parent: [pn-core-sw1]}
  - {name: svc-plant, class: business-service, criticality: critical}
groups:
  - {name: pn-core-pair, kind: hsrp, site: plant-north, members: [{site: plant-north, name: pn-core-sw1}]}
relationships:
  - {from: svc-plant, kind: depends-on, to_group: pn-core-pair}
  - {from: svc-plant, kind: depends-on, to: {site: plant-north, path: [pn-core-sw1, Gi1/0/1]}}
"#;

    #[test]
    fn reads_references_in_every_form_and_writes_them_back() {
        let doc = read("estate.yaml", SAMPLE.as_bytes()).unwrap();
        assert_eq!(doc.items[1].key, ItemKey::top(Some("plant-north"), "pn-core-sw1").child("Gi1/0/1"));
        assert_eq!(doc.relationships[0].from, ItemKey::top(None, "svc-plant"));
        assert_eq!(doc.relationships[0].to, RelTarget::Group("pn-core-pair".into()));
        assert_eq!(doc.sites[0].time_zone, "UTC");
        let again = read("again.yaml", write(&doc).unwrap().as_bytes()).unwrap();
        assert_eq!(
            again.items.iter().map(|i| (&i.key, &i.fields)).collect::<Vec<_>>(),
            doc.items.iter().map(|i| (&i.key, &i.fields)).collect::<Vec<_>>()
        );
        assert_eq!(
            again.relationships.iter().map(|r| (&r.from, r.kind, &r.to)).collect::<Vec<_>>(),
            doc.relationships.iter().map(|r| (&r.from, r.kind, &r.to)).collect::<Vec<_>>()
        );
    }

    const REGISTER: &str = r#"
version: 1
sites:
  - {slug: plant-north, name: Northfield, kind: plant}
items:
  - {name: pn-fw1, class: firewall, site: plant-north, vendor: Palo Alto Networks, contract: {vendor: palo-alto, reference: PAN-1}}
vendors:
  - slug: palo-alto
    name: Palo Alto Networks
    kind: oem
    contacts: [{level: 1, name: Support, phone: "+44 808 234 7188"}]
    contracts: [{reference: PAN-1, support_level: 24x7, ends_on: 2027-12-31}]
firmware_baselines:
  - {vendor: Palo Alto Networks, recommended: PAN-OS 11.1.6}
"#;

    #[test]
    fn the_vendor_register_and_item_contracts_read_and_write_back() {
        let doc = read("estate.yaml", REGISTER.as_bytes()).unwrap();
        assert_eq!(doc.vendors[0].fields.contacts[0].phone, "+44 808 234 7188");
        assert_eq!(doc.vendors[0].contracts[0].ends_on.as_deref(), Some("2027-12-31"));
        assert_eq!(doc.baselines[0].baseline.recommended, "PAN-OS 11.1.6");
        let c = &doc.item_contracts[0];
        assert_eq!(
            (c.item.to_string(), c.contract.to_string()),
            ("plant-north: pn-fw1".into(), "palo-alto/PAN-1".into())
        );
        let again = read("again.yaml", write(&doc).unwrap().as_bytes()).unwrap();
        assert_eq!(
            (&again.vendors[0].fields, &again.vendors[0].contracts, &again.baselines[0].baseline),
            (&doc.vendors[0].fields, &doc.vendors[0].contracts, &doc.baselines[0].baseline)
        );
        assert_eq!((&again.item_contracts[0].item, &again.item_contracts[0].contract), (&c.item, &c.contract));

        // Planned into an empty CMDB: everything is added; a contract nobody lists is refused.
        let p = crate::plan::plan(&doc, &crate::plan::Current::default(), "yaml", &[]).unwrap();
        assert_eq!((p.register.added, p.vendors_added.len(), p.contracts_added.len()), (3, 1, 1));
        assert_eq!(p.item_contracts[&c.item], c.contract);
        let mut orphan = doc.clone();
        orphan.vendors.clear();
        let e = crate::plan::plan(&orphan, &crate::plan::Current::default(), "yaml", &[]).unwrap_err();
        assert_eq!((e.at.as_str(), e.field.as_deref()), ("items[0] (pn-fw1)", Some("contract")));
        let mut bad = doc;
        bad.vendors[0].contracts[0].ends_on = Some("2027-13-01".into());
        let e = crate::plan::plan(&bad, &crate::plan::Current::default(), "yaml", &[]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("contracts[0].ends_on"), "{e}");
    }

    #[test]
    fn bad_documents_say_where() {
        let wrong_type = read("x.yaml", b"version: 1\nitems:\n  - {name: a, class: switch, site: [1]}\n").unwrap_err();
        assert!(wrong_type.to_string().contains("line 3"), "{wrong_type}");
        let bad_class =
            read("x.yaml", b"version: 1\nitems:\n  - {name: a, class: switch}\n  - {name: b, class: toaster}\n")
                .unwrap_err();
        assert_eq!((bad_class.at.as_str(), bad_class.field.as_deref()), ("items[1] (b)", Some("class")));
        let unknown = read("x.yaml", b"version: 1\nitems:\n  - {name: a, class: switch, colour: red}\n").unwrap_err();
        assert!(unknown.to_string().contains("colour"), "{unknown}");
        let newer = read("x.yaml", b"version: 9\n").unwrap_err();
        assert_eq!(newer.field.as_deref(), Some("version"));
        let truncated = read("x.yaml", b"version: 1\nitems:\n  - {name: a, class: sw").unwrap_err();
        assert!(truncated.to_string().contains("x.yaml"), "{truncated}");
    }
}
