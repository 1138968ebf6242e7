//! NetBox REST API list responses (`{"count", "next", "previous", "results": [...]}`, or a
//! bare array) from `dcim/sites`, `dcim/devices`, `dcim/interfaces`, `dcim/cables`,
//! `ipam/vlans`, `ipam/prefixes`, `ipam/ip-addresses`, `circuits/circuits`,
//! `ipam/fhrp-groups` and `ipam/fhrp-group-assignments`, in NetBox 3.x and 4.x field names.
//!
//! Which endpoint a file holds is read from the records' `url`, or else from the file name.
//! Files refer to each other by NetBox id (an interface names its device's id, not its
//! site), so all files of one import are read together and resolved at the end.
//!
//! Mapping: sites → sites; devices → items classed by their role; interfaces, VLANs,
//! prefixes, IP addresses and circuits → items; cables → `connected-to` relationships; virtual
//! chassis and FHRP groups → redundancy groups of their devices.

use crate::{
    Document, GroupRecord, ImportError, ItemKey, ItemRecord, Origin, RelTarget, RelationshipRecord, SiteRecord,
};
use model::cmdb::{ItemFields, RelationKind};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Endpoint {
    Sites,
    Devices,
    Interfaces,
    Cables,
    Vlans,
    Prefixes,
    IpAddresses,
    Circuits,
    FhrpGroups,
    FhrpAssignments,
}

const ENDPOINTS: &[(&str, Endpoint)] = &[
    ("dcim/sites", Endpoint::Sites),
    ("dcim/devices", Endpoint::Devices),
    ("dcim/interfaces", Endpoint::Interfaces),
    ("dcim/cables", Endpoint::Cables),
    ("ipam/vlans", Endpoint::Vlans),
    ("ipam/prefixes", Endpoint::Prefixes),
    ("ipam/ip-addresses", Endpoint::IpAddresses),
    ("circuits/circuits", Endpoint::Circuits),
    ("ipam/fhrp-group-assignments", Endpoint::FhrpAssignments),
    ("ipam/fhrp-groups", Endpoint::FhrpGroups),
];

fn endpoint_of(file: &str, results: &[Value]) -> Option<Endpoint> {
    let from_url = results
        .iter()
        .find_map(|r| r.get("url").and_then(Value::as_str))
        .and_then(|url| ENDPOINTS.iter().find(|(path, _)| url.contains(&format!("/api/{path}/"))).map(|(_, e)| *e));
    from_url.or_else(|| {
        let stem = file.rsplit('/').next().unwrap_or(file).trim_end_matches(".json").replace('_', "-");
        ENDPOINTS.iter().find(|(path, _)| path.rsplit('/').next() == Some(stem.as_str())).map(|(_, e)| *e)
    })
}

/// Reads the string at `path` (`["site", "slug"]`), if any.
fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(*k)).and_then(Value::as_str).filter(|x| !x.is_empty())
}

fn int(v: &Value, path: &[&str]) -> Option<i64> {
    path.iter().try_fold(v, |v, k| v.get(*k)).and_then(Value::as_i64)
}

/// NetBox choice fields are `{"value": "active", "label": "Active"}`; older exports a string.
fn choice<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    s(v, &[key, "value"]).or_else(|| s(v, &[key]))
}

/// One record with its place in its file.
struct Rec<'a> {
    origin: Origin,
    v: &'a Value,
}

impl Rec<'_> {
    fn id(&self) -> Result<i64, ImportError> {
        int(self.v, &["id"]).ok_or_else(|| self.origin.error(Some("id"), "every NetBox record has a numeric id"))
    }

    fn need<'b>(&'b self, path: &[&str]) -> Result<&'b str, ImportError> {
        s(self.v, path)
            .ok_or_else(|| self.origin.error(Some(&path.join(".")), "missing; is this a NetBox API list response?"))
    }
}

/// The item class for a NetBox device role (slug or name); roles that name none of
/// Watchkeeper's classes become `device`.
fn class_for_role(role: &str) -> &'static str {
    let r = role.to_ascii_lowercase();
    let has = |w: &str| r.split(|c: char| !c.is_ascii_alphanumeric()).any(|p| p == w) || r.contains(w);
    const TABLE: &[(&[&str], &str)] = &[
        (&["firewall", "fw"], "firewall"),
        (&["load-balancer", "loadbalancer", "adc"], "load-balancer"),
        (&["wireless-controller", "wlc"], "wireless-controller"),
        (&["access-point", "wap"], "access-point"),
        (&["vpn"], "vpn-concentrator"),
        (&["router", "edge"], "router"),
        (&["switch"], "switch"),
        (&["hypervisor", "esx"], "hypervisor"),
        (&["plc"], "plc"),
        (&["rtu"], "rtu"),
        (&["hmi"], "hmi"),
        (&["historian"], "historian"),
        (&["industrial-pc", "ipc"], "industrial-pc"),
        (&["storage", "san", "nas"], "storage"),
        (&["backup"], "backup-system"),
        (&["ups", "pdu", "power"], "power"),
        (&["crypto", "hsm", "comsec", "encryptor"], "crypto-device"),
        (&["vtc", "video"], "vtc-endpoint"),
        (&["phone", "voice"], "voice-endpoint"),
        (&["server"], "physical-server"),
    ];
    TABLE.iter().find(|(words, _)| words.iter().any(|w| has(w))).map_or("device", |(_, c)| c)
}

fn status(v: &Value) -> String {
    match choice(v, "status").unwrap_or("active") {
        "active" | "connected" => "operational",
        "planned" | "provisioning" => "planned",
        "staged" | "inventory" => "staged",
        "offline" | "deprovisioning" => "offline",
        "failed" => "failed",
        "decommissioning" => "decommissioning",
        "decommissioned" => "retired",
        _ => "operational",
    }
    .to_owned()
}

fn without_prefix_len(addr: &str) -> &str {
    addr.split('/').next().unwrap_or(addr)
}

/// A name within its VRF: the same prefix may exist in several.
fn in_vrf(name: &str, v: &Value) -> String {
    match s(v, &["vrf", "name"]) {
        Some(vrf) => format!("{name} vrf {vrf}"),
        None => name.to_owned(),
    }
}

fn fields(name: String, class: &str, status: String) -> ItemFields {
    ItemFields { name, class: class.to_owned(), status, criticality: "medium".into(), ..ItemFields::default() }
}

fn attr(attrs: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value.filter(|v| !v.is_null()) {
        attrs.insert(key.to_owned(), v);
    }
}

/// Classes each endpoint speaks for, for removing what a re-import no longer contains.
fn device_classes() -> impl Iterator<Item = String> {
    const NOT_DEVICES: &[&str] = &[
        "interface",
        "vlan",
        "subnet",
        "ip-address",
        "cable",
        "wan-circuit",
        "application",
        "database",
        "cloud-resource",
        "room",
        "rack",
    ];
    model::cmdb::CLASSES
        .iter()
        .filter(|c| !c.is_abstract && !NOT_DEVICES.contains(&c.slug) && !model::cmdb::is_a(c.slug, "service"))
        .map(|c| c.slug.to_owned())
}

/// Reads and resolves all files of one NetBox import.
pub fn read_all(files: &[(&str, &[u8])]) -> Result<Document, ImportError> {
    let mut parsed: Vec<(String, Endpoint, Vec<Value>)> = Vec::new();
    for (file, bytes) in files {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            let what = if e.is_eof() { "the file ends early (truncated?)" } else { "not valid JSON" };
            Origin::new(file, format!("line {} column {}", e.line(), e.column())).error(None, format!("{what}: {e}"))
        })?;
        let results = match value {
            Value::Array(a) => a,
            Value::Object(mut o) => match o.remove("results") {
                Some(Value::Array(a)) => {
                    if o.get("next").is_some_and(|n| !n.is_null()) {
                        return Err(Origin::new(file, "").error(
                            Some("next"),
                            "this is one page of several; fetch with ?limit=0 (or follow `next`) so the file holds every record",
                        ));
                    }
                    a
                }
                _ => {
                    return Err(Origin::new(file, "")
                        .error(Some("results"), "expected a NetBox list response with a `results` array"));
                }
            },
            _ => {
                return Err(Origin::new(file, "")
                    .error(None, "expected a NetBox list response (an object with `results`) or an array"));
            }
        };
        let endpoint = endpoint_of(file, &results).ok_or_else(|| {
            Origin::new(file, "").error(
                None,
                "cannot tell which NetBox endpoint this is (no `url` in the records); name the file after it, e.g. devices.json",
            )
        })?;
        parsed.push(((*file).to_owned(), endpoint, results));
    }
    parsed.sort_by_key(|(_, e, _)| *e);

    let mut doc = Document::default();
    // NetBox id → key, filled as the endpoints that others refer to are read.
    let mut sites: HashMap<i64, String> = HashMap::new();
    let mut devices: HashMap<i64, ItemKey> = HashMap::new();
    let mut interfaces: HashMap<i64, ItemKey> = HashMap::new();
    let mut circuits: HashMap<i64, ItemKey> = HashMap::new();
    let mut chassis: BTreeMap<String, (Origin, Option<String>, Vec<ItemKey>)> = BTreeMap::new();
    let mut fhrp: BTreeMap<i64, (Origin, String, String)> = BTreeMap::new();
    let mut fhrp_members: BTreeMap<i64, Vec<ItemKey>> = BTreeMap::new();

    for (file, endpoint, results) in &parsed {
        for (i, v) in results.iter().enumerate() {
            let mut origin = Origin::new(file, format!("results[{i}]"));
            if let Some(id) = int(v, &["id"]) {
                origin.at = format!("results[{i}] (id {id})");
            }
            let r = Rec { origin, v };
            let site_of = |r: &Rec, path: &[&str]| -> Result<Option<String>, ImportError> {
                match int(r.v, &[path, &["id"]].concat()) {
                    None => Ok(s(r.v, &[path, &["slug"]].concat()).map(str::to_owned)),
                    Some(id) => Ok(Some(
                        sites
                            .get(&id)
                            .cloned()
                            .or_else(|| s(r.v, &[path, &["slug"]].concat()).map(str::to_owned))
                            .ok_or_else(|| {
                                r.origin.error(
                                    Some(&path.join(".")),
                                    format!("site {id} is not in this import; add sites.json"),
                                )
                            })?,
                    )),
                }
            };
            match endpoint {
                Endpoint::Sites => {
                    let slug = r.need(&["slug"])?.to_owned();
                    sites.insert(r.id()?, slug.clone());
                    let cf = |k: &str| s(v, &["custom_fields", k]).map(str::to_owned);
                    doc.sites.push(SiteRecord {
                        slug,
                        name: r.need(&["name"])?.to_owned(),
                        kind: cf("site_kind").or_else(|| cf("kind")).unwrap_or_else(|| "site".into()),
                        zone: cf("zone").unwrap_or_default(),
                        purdue_level: int(v, &["custom_fields", "purdue_level"]),
                        criticality: cf("criticality").unwrap_or_else(|| "medium".into()),
                        time_zone: s(v, &["time_zone"]).unwrap_or("UTC").to_owned(),
                        origin: r.origin,
                    });
                }
                Endpoint::Devices => {
                    let id = r.id()?;
                    let site = site_of(&r, &["site"])?;
                    let name = s(v, &["name"]).map_or_else(|| format!("unnamed-{id}"), str::to_owned);
                    let role = s(v, &["role", "slug"]).or_else(|| s(v, &["device_role", "slug"])).unwrap_or("");
                    let cf_class = s(v, &["custom_fields", "watchkeeper_class"])
                        .filter(|c| model::cmdb::class_of(c).is_some_and(|c| !c.is_abstract));
                    let class = cf_class.unwrap_or_else(|| class_for_role(role));
                    let mut f = fields(name.clone(), class, status(v));
                    f.vendor = s(v, &["device_type", "manufacturer", "name"]).unwrap_or("").to_owned();
                    f.model = s(v, &["device_type", "model"]).unwrap_or("").to_owned();
                    f.os_version = s(v, &["custom_fields", "os_version"])
                        .or_else(|| s(v, &["custom_fields", "software_version"]))
                        .unwrap_or("")
                        .to_owned();
                    f.serial = s(v, &["serial"]).unwrap_or("").to_owned();
                    f.asset_tag = s(v, &["asset_tag"]).unwrap_or("").to_owned();
                    f.mgmt_address = s(v, &["primary_ip4", "address"])
                        .or_else(|| s(v, &["primary_ip", "address"]))
                        .map(without_prefix_len)
                        .unwrap_or("")
                        .to_owned();
                    f.description = s(v, &["description"]).unwrap_or("").to_owned();
                    if let Some(c) = s(v, &["custom_fields", "criticality"]) {
                        f.criticality = c.to_owned();
                    }
                    let a = &mut f.attrs;
                    attr(a, "netbox_id", Some(id.into()));
                    attr(
                        a,
                        "role",
                        s(v, &["role", "name"]).or_else(|| s(v, &["device_role", "name"])).map(Value::from),
                    );
                    attr(a, "platform", s(v, &["platform", "name"]).map(Value::from));
                    attr(a, "tenant", s(v, &["tenant", "name"]).map(Value::from));
                    attr(a, "location", s(v, &["location", "name"]).map(Value::from));
                    attr(a, "rack", s(v, &["rack", "name"]).map(Value::from));
                    attr(a, "position", v.get("position").cloned());
                    attr(a, "vc_position", v.get("vc_position").cloned());
                    let key = ItemKey::top(site.as_deref(), &name);
                    if let Some(vc) =
                        s(v, &["virtual_chassis", "name"]).or_else(|| s(v, &["virtual_chassis", "display"]))
                    {
                        let entry = chassis
                            .entry(vc.to_owned())
                            .or_insert_with(|| (r.origin.clone(), site.clone(), Vec::new()));
                        entry.2.push(key.clone());
                    }
                    devices.insert(id, key.clone());
                    let record = ItemRecord { origin: r.origin, key, fields: f };
                    crate::check_fields(&record)?;
                    doc.items.push(record);
                }
                Endpoint::Interfaces => {
                    let id = r.id()?;
                    let device_id = int(v, &["device", "id"])
                        .ok_or_else(|| r.origin.error(Some("device"), "an interface names its device"))?;
                    let device = devices.get(&device_id).ok_or_else(|| {
                        r.origin.error(
                            Some("device"),
                            format!("device {device_id} is not in this import; add devices.json"),
                        )
                    })?;
                    let name = r.need(&["name"])?.to_owned();
                    let mut f = fields(
                        name.clone(),
                        "interface",
                        if v.get("enabled") == Some(&Value::Bool(false)) {
                            "offline".into()
                        } else {
                            "operational".into()
                        },
                    );
                    f.description = s(v, &["description"]).unwrap_or("").to_owned();
                    let a = &mut f.attrs;
                    attr(a, "netbox_id", Some(id.into()));
                    attr(a, "type", choice(v, "type").map(Value::from));
                    attr(a, "mgmt_only", v.get("mgmt_only").cloned().filter(|x| x == &Value::Bool(true)));
                    attr(a, "mac_address", s(v, &["mac_address"]).map(Value::from));
                    attr(a, "mtu", v.get("mtu").cloned());
                    attr(a, "mode", choice(v, "mode").map(Value::from));
                    attr(a, "lag", s(v, &["lag", "name"]).map(Value::from));
                    attr(a, "untagged_vlan", v.get("untagged_vlan").and_then(|u| u.get("vid")).cloned());
                    let tagged: Vec<Value> = v
                        .get("tagged_vlans")
                        .and_then(Value::as_array)
                        .map(|t| t.iter().filter_map(|x| x.get("vid").cloned()).collect())
                        .unwrap_or_default();
                    if !tagged.is_empty() {
                        a.insert("tagged_vlans".into(), Value::Array(tagged));
                    }
                    let key = device.child(&name);
                    interfaces.insert(id, key.clone());
                    let record = ItemRecord { origin: r.origin, key, fields: f };
                    crate::check_fields(&record)?;
                    doc.items.push(record);
                }
                Endpoint::Vlans => {
                    let vid =
                        int(v, &["vid"]).ok_or_else(|| r.origin.error(Some("vid"), "a VLAN has a numeric vid"))?;
                    let name = format!("VLAN {vid} {}", r.need(&["name"])?);
                    let site = site_of(&r, &["site"])?;
                    let mut f = fields(name.clone(), "vlan", status(v));
                    f.description = s(v, &["description"]).unwrap_or("").to_owned();
                    attr(&mut f.attrs, "netbox_id", Some(r.id()?.into()));
                    attr(&mut f.attrs, "vid", Some(vid.into()));
                    attr(&mut f.attrs, "group", s(v, &["group", "name"]).map(Value::from));
                    attr(&mut f.attrs, "role", s(v, &["role", "name"]).map(Value::from));
                    let record = ItemRecord { origin: r.origin, key: ItemKey::top(site.as_deref(), &name), fields: f };
                    crate::check_fields(&record)?;
                    doc.items.push(record);
                }
                Endpoint::Prefixes => {
                    let name = in_vrf(r.need(&["prefix"])?, v);
                    // 3.x: `site`; 4.2+: `scope` with `scope_type`.
                    let site = if int(v, &["site", "id"]).is_some() {
                        site_of(&r, &["site"])?
                    } else if s(v, &["scope_type"]) == Some("dcim.site") {
                        site_of(&r, &["scope"])?
                    } else {
                        None
                    };
                    let mut f = fields(name.clone(), "subnet", status(v));
                    f.description = s(v, &["description"]).unwrap_or("").to_owned();
                    attr(&mut f.attrs, "netbox_id", Some(r.id()?.into()));
                    attr(&mut f.attrs, "vrf", s(v, &["vrf", "name"]).map(Value::from));
                    attr(&mut f.attrs, "vlan", v.get("vlan").and_then(|x| x.get("vid")).cloned());
                    attr(&mut f.attrs, "role", s(v, &["role", "name"]).map(Value::from));
                    let record = ItemRecord { origin: r.origin, key: ItemKey::top(site.as_deref(), &name), fields: f };
                    crate::check_fields(&record)?;
                    doc.items.push(record);
                }
                Endpoint::IpAddresses => {
                    let name = in_vrf(r.need(&["address"])?, v);
                    let key = match (s(v, &["assigned_object_type"]), int(v, &["assigned_object_id"])) {
                        (Some("dcim.interface"), Some(iid)) => interfaces
                            .get(&iid)
                            .ok_or_else(|| {
                                r.origin.error(
                                    Some("assigned_object_id"),
                                    format!("interface {iid} is not in this import; add interfaces.json"),
                                )
                            })?
                            .child(&name),
                        _ => ItemKey::top(None, &name),
                    };
                    let mut f = fields(name, "ip-address", status(v));
                    f.description = s(v, &["description"]).unwrap_or("").to_owned();
                    attr(&mut f.attrs, "netbox_id", Some(r.id()?.into()));
                    attr(&mut f.attrs, "role", choice(v, "role").map(Value::from));
                    attr(&mut f.attrs, "dns_name", s(v, &["dns_name"]).map(Value::from));
                    let record = ItemRecord { origin: r.origin, key, fields: f };
                    crate::check_fields(&record)?;
                    doc.items.push(record);
                }
                Endpoint::Circuits => {
                    let id = r.id()?;
                    let cid = r.need(&["cid"])?.to_owned();
                    // 3.x/4.0–4.1: termination_a.site; 4.2+: termination_a.termination (a site) .
                    let site = if int(v, &["termination_a", "site", "id"]).is_some() {
                        site_of(&r, &["termination_a", "site"])?
                    } else if s(v, &["termination_a", "termination_type"]) == Some("dcim.site") {
                        site_of(&r, &["termination_a", "termination"])?
                    } else {
                        None
                    };
                    let mut f = fields(cid.clone(), "wan-circuit", status(v));
                    f.vendor = s(v, &["provider", "name"]).unwrap_or("").to_owned();
                    f.model = s(v, &["type", "name"]).unwrap_or("").to_owned();
                    f.description = s(v, &["description"]).unwrap_or("").to_owned();
                    f.purchased_on = s(v, &["install_date"]).map(str::to_owned);
                    f.end_of_life_on = s(v, &["termination_date"]).map(str::to_owned);
                    attr(&mut f.attrs, "netbox_id", Some(id.into()));
                    attr(&mut f.attrs, "carrier", s(v, &["provider", "name"]).map(Value::from));
                    attr(&mut f.attrs, "circuit_id", Some(Value::from(cid.clone())));
                    attr(&mut f.attrs, "commit_rate_kbps", v.get("commit_rate").cloned());
                    let key = ItemKey::top(site.as_deref(), &cid);
                    circuits.insert(id, key.clone());
                    let record = ItemRecord { origin: r.origin, key, fields: f };
                    crate::check_fields(&record)?;
                    doc.items.push(record);
                }
                Endpoint::Cables => {
                    let ends = |side: &str| -> Vec<&Value> {
                        v.get(format!("{side}_terminations"))
                            .and_then(Value::as_array)
                            .map(|a| a.iter().collect())
                            .unwrap_or_default()
                    };
                    let key_of = |t: &Value| -> Result<Option<ItemKey>, ImportError> {
                        let id = int(t, &["object_id"]).or_else(|| int(t, &["object", "id"]));
                        match (s(t, &["object_type"]), id) {
                            (Some("dcim.interface"), Some(id)) => {
                                interfaces.get(&id).cloned().map(Some).ok_or_else(|| {
                                    r.origin.error(
                                        Some("terminations"),
                                        format!("interface {id} is not in this import; add interfaces.json"),
                                    )
                                })
                            }
                            (Some("circuits.circuittermination"), _) => {
                                let circuit = int(t, &["object", "circuit", "id"]);
                                Ok(circuit.and_then(|c| circuits.get(&c).cloned()))
                            }
                            // Front/rear ports and power: not part of the service model.
                            _ => Ok(None),
                        }
                    };
                    for a in ends("a") {
                        for b in ends("b") {
                            if let (Some(from), Some(to)) = (key_of(a)?, key_of(b)?) {
                                doc.relationships.push(RelationshipRecord {
                                    origin: r.origin.clone(),
                                    from,
                                    kind: RelationKind::ConnectedTo,
                                    to: RelTarget::Item(to),
                                });
                            }
                        }
                    }
                }
                Endpoint::FhrpGroups => {
                    let protocol = choice(v, "protocol").unwrap_or("other");
                    let group_id = int(v, &["group_id"]).unwrap_or_default();
                    let name = s(v, &["name"]).map_or_else(|| format!("{protocol}-{group_id}"), str::to_owned);
                    let kind = match protocol {
                        "hsrp" => "hsrp",
                        "vrrp2" | "vrrp3" => "vrrp",
                        "glbp" => "glbp",
                        _ => "other",
                    };
                    fhrp.insert(r.id()?, (r.origin, name, kind.to_owned()));
                }
                Endpoint::FhrpAssignments => {
                    let group = int(v, &["group", "id"])
                        .ok_or_else(|| r.origin.error(Some("group"), "an assignment names its group"))?;
                    let iid = int(v, &["interface_id"]).or_else(|| int(v, &["interface", "id"]));
                    let device = match (s(v, &["interface_type"]), iid) {
                        (Some("dcim.interface"), Some(iid)) => {
                            interfaces.get(&iid).and_then(ItemKey::parent).ok_or_else(|| {
                                r.origin.error(
                                    Some("interface_id"),
                                    format!("interface {iid} is not in this import; add interfaces.json"),
                                )
                            })?
                        }
                        _ => continue,
                    };
                    let members = fhrp_members.entry(group).or_default();
                    if !members.contains(&device) {
                        members.push(device);
                    }
                }
            }
        }
        match endpoint {
            Endpoint::Devices => {
                doc.covers.classes.extend(device_classes());
                doc.covers.group_kinds.insert("virtual-chassis".into());
            }
            Endpoint::Interfaces => drop(doc.covers.classes.insert("interface".into())),
            Endpoint::Vlans => drop(doc.covers.classes.insert("vlan".into())),
            Endpoint::Prefixes => drop(doc.covers.classes.insert("subnet".into())),
            Endpoint::IpAddresses => drop(doc.covers.classes.insert("ip-address".into())),
            Endpoint::Circuits => drop(doc.covers.classes.insert("wan-circuit".into())),
            Endpoint::Cables => drop(doc.covers.relationship_kinds.insert(RelationKind::ConnectedTo)),
            Endpoint::FhrpGroups => doc.covers.group_kinds.extend(["hsrp", "vrrp", "glbp", "other"].map(String::from)),
            Endpoint::Sites | Endpoint::FhrpAssignments => {}
        }
    }
    for (name, (origin, site, members)) in chassis {
        doc.groups.push(GroupRecord { origin, name, kind: "virtual-chassis".into(), site, members });
    }
    for (id, (origin, name, kind)) in fhrp {
        let members = fhrp_members.remove(&id).unwrap_or_default();
        let sites: BTreeSet<Option<String>> = members.iter().map(|m| m.site.clone()).collect();
        let site = if sites.len() == 1 { sites.into_iter().next().flatten() } else { None };
        doc.groups.push(GroupRecord { origin, name, kind, site, members });
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_map_to_classes() {
        for (role, class) in [
            ("core-switch", "switch"),
            ("Access Switch", "switch"),
            ("firewall", "firewall"),
            ("wan-router", "router"),
            ("plc", "plc"),
            ("patch-panel", "device"),
            ("ups", "power"),
        ] {
            assert_eq!(class_for_role(role), class, "{role}");
        }
    }

    #[test]
    fn pages_and_strangers_are_refused() {
        let page =
            br#"{"count": 300, "next": "http://nb/api/dcim/devices/?offset=50", "previous": null, "results": []}"#;
        assert_eq!(read_all(&[("devices.json", page)]).unwrap_err().field.as_deref(), Some("next"));
        let unknown = br#"{"count": 0, "next": null, "previous": null, "results": []}"#;
        assert!(read_all(&[("things.json", unknown)]).unwrap_err().message.contains("which NetBox endpoint"));
        let truncated = br#"{"count": 1, "next": null, "results": [{"id": 1, "#;
        assert!(read_all(&[("sites.json", truncated)]).unwrap_err().message.contains("truncated"));
    }

    #[test]
    fn interfaces_need_their_devices() {
        let ifs = br#"[{"id": 5, "url": "http://nb/api/dcim/interfaces/5/", "device": {"id": 9, "name": "sw1"}, "name": "Gi1"}]"#;
        let e = read_all(&[("interfaces.json", ifs)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "interfaces.json: results[0] (id 5): field `device`: device 9 is not in this import; add devices.json"
        );
    }
}
