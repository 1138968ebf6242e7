//! CMDB interchange: reading NetBox REST API JSON, Watchkeeper YAML and CSV into one
//! [`Document`], writing the CMDB out as YAML, and planning an import against the CMDB as it
//! is ([`plan`]). Everything here is pure: files come in as bytes, the current CMDB as a
//! [`plan::Current`]; the `app` crate does the IO and applies the plan in one transaction.
//!
//! Every record remembers where it came from ([`Origin`]), so a bad row is reported as
//! `devices.json: results[3] (id 17): field role: …` and nothing is written.

pub mod csv;
pub mod desk;
pub mod netbox;
pub mod plan;
pub mod yaml;

use model::cmdb::{ItemFields, RelationKind};
use model::firmware::Baseline;
use model::supplier::{ContractFields, VendorFields};
use std::collections::BTreeSet;
use std::fmt;

/// Where a record was read: the file and the row, line or array index in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    pub file: String,
    pub at: String,
}

impl Origin {
    pub fn new(file: &str, at: impl Into<String>) -> Self {
        Origin { file: file.to_owned(), at: at.into() }
    }

    /// An error about this record's `field`.
    pub fn error(&self, field: Option<&str>, message: impl Into<String>) -> ImportError {
        ImportError {
            file: self.file.clone(),
            at: self.at.clone(),
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// What is wrong with an import, and where. The import stops at the first batch of these
/// and writes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ImportError {
    pub file: String,
    /// `line 12`, `row 4`, `results[3] (id 17)`, `items[2]`.
    pub at: String,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if !self.at.is_empty() {
            write!(f, ": {}", self.at)?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// An item's natural key: its site (none for site-less items such as services) and its name
/// path, from the top-level item down (`["pn-core-sw1", "Gi1/0/1"]` for an interface).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    pub site: Option<String>,
    pub path: Vec<String>,
}

impl ItemKey {
    pub fn top(site: Option<&str>, name: &str) -> Self {
        ItemKey { site: site.map(str::to_owned), path: vec![name.to_owned()] }
    }

    pub fn child(&self, name: &str) -> Self {
        let mut path = self.path.clone();
        path.push(name.to_owned());
        ItemKey { site: self.site.clone(), path }
    }

    pub fn name(&self) -> &str {
        self.path.last().map_or("", String::as_str)
    }

    pub fn parent(&self) -> Option<ItemKey> {
        (self.path.len() > 1)
            .then(|| ItemKey { site: self.site.clone(), path: self.path[..self.path.len() - 1].to_vec() })
    }
}

impl fmt::Display for ItemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(site) = &self.site {
            write!(f, "{site}: ")?;
        }
        write!(f, "{}", self.path.join(" > "))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SiteRecord {
    pub origin: Origin,
    pub slug: String,
    pub name: String,
    pub kind: String,
    pub zone: String,
    pub purdue_level: Option<i64>,
    pub criticality: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemRecord {
    pub origin: Origin,
    pub key: ItemKey,
    pub fields: ItemFields,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    pub origin: Origin,
    pub name: String,
    pub kind: String,
    pub site: Option<String>,
    pub members: Vec<ItemKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelTarget {
    Item(ItemKey),
    Group(String),
}

impl fmt::Display for RelTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelTarget::Item(k) => k.fmt(f),
            RelTarget::Group(g) => write!(f, "[{g}]"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationshipRecord {
    pub origin: Origin,
    pub from: ItemKey,
    pub kind: RelationKind,
    pub to: RelTarget,
}

/// A support contract by its natural key: the vendor's slug and the contract reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContractKey {
    pub vendor: String,
    pub reference: String,
}

impl fmt::Display for ContractKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.vendor, self.reference)
    }
}

/// A vendor with the contracts held with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorRecord {
    pub origin: Origin,
    pub fields: VendorFields,
    pub contracts: Vec<ContractFields>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineRecord {
    pub origin: Origin,
    pub baseline: Baseline,
}

/// An item's support contract, as a document states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemContract {
    pub origin: Origin,
    pub item: ItemKey,
    pub contract: ContractKey,
}

/// What a document speaks for: records of these kinds that the same source imported before
/// and that are missing now are removed. A NetBox `interfaces.json` alone covers interfaces
/// and says nothing about devices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub classes: BTreeSet<String>,
    pub relationship_kinds: BTreeSet<RelationKind>,
    pub group_kinds: BTreeSet<String>,
}

/// Everything read from the files of one import.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub sites: Vec<SiteRecord>,
    pub items: Vec<ItemRecord>,
    pub groups: Vec<GroupRecord>,
    pub relationships: Vec<RelationshipRecord>,
    pub covers: Coverage,
    /// The vendor register. Imports add and update vendors, contracts and baselines but never
    /// remove them: nothing else describes them, and items may still name them.
    pub vendors: Vec<VendorRecord>,
    pub baselines: Vec<BaselineRecord>,
    /// Contracts the document puts items under. Items it does not list keep theirs.
    pub item_contracts: Vec<ItemContract>,
    /// Custom attribute definitions, added and updated like the register.
    pub attribute_defs: Vec<AttributeRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeRecord {
    pub origin: Origin,
    pub def: model::attributes::AttributeDef,
}

impl Document {
    /// Adds `other`'s records (another file of the same import).
    pub fn merge(&mut self, other: Document) {
        self.sites.extend(other.sites);
        self.items.extend(other.items);
        self.groups.extend(other.groups);
        self.relationships.extend(other.relationships);
        self.covers.classes.extend(other.covers.classes);
        self.covers.relationship_kinds.extend(other.covers.relationship_kinds);
        self.covers.group_kinds.extend(other.covers.group_kinds);
        self.vendors.extend(other.vendors);
        self.baselines.extend(other.baselines);
        self.item_contracts.extend(other.item_contracts);
        self.attribute_defs.extend(other.attribute_defs);
    }

    /// Records how many records it holds, for progress bars.
    pub fn len(&self) -> usize {
        self.sites.len()
            + self.items.len()
            + self.groups.len()
            + self.relationships.len()
            + self.vendors.iter().map(|v| 1 + v.contracts.len()).sum::<usize>()
            + self.baselines.len()
            + self.attribute_defs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The formats [`read`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    NetBox,
    Yaml,
    Csv,
}

impl Format {
    /// Guesses from the file name: `.json` is NetBox, `.csv` CSV, anything else YAML.
    pub fn guess(file: &str) -> Format {
        let lower = file.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Format::NetBox
        } else if lower.ends_with(".csv") {
            Format::Csv
        } else {
            Format::Yaml
        }
    }
}

/// Reads one file. `file` names it in errors.
pub fn read(format: Format, file: &str, bytes: &[u8]) -> Result<Document, ImportError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Origin::new(file, "").error(None, "the file is empty; export the data again"));
    }
    match format {
        Format::NetBox => netbox::read_all(&[(file, bytes)]),
        Format::Yaml => yaml::read(file, bytes),
        Format::Csv => csv::read(file, bytes),
    }
}

/// Checks every item's fields, naming the first bad field of each bad record.
pub(crate) fn check_fields(item: &ItemRecord) -> Result<(), ImportError> {
    item.fields.validate().map_err(|e| {
        let first = e.0.into_iter().next().unwrap_or_else(|| model::FieldError::new("item", "invalid"));
        item.origin.error(Some(&first.field), first.message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_file_place_and_field() {
        let e = Origin::new("devices.json", "results[3] (id 17)").error(Some("role"), "unknown role `toaster`");
        assert_eq!(e.to_string(), "devices.json: results[3] (id 17): field `role`: unknown role `toaster`");
        assert_eq!(
            read(Format::Yaml, "x.yaml", b" \n").unwrap_err().to_string(),
            "x.yaml: the file is empty; export the data again"
        );
    }

    #[test]
    fn keys_know_their_parents() {
        let k = ItemKey::top(Some("plant-north"), "pn-core-sw1").child("Gi1/0/1");
        assert_eq!(k.to_string(), "plant-north: pn-core-sw1 > Gi1/0/1");
        assert_eq!(k.parent(), Some(ItemKey::top(Some("plant-north"), "pn-core-sw1")));
        assert_eq!(k.name(), "Gi1/0/1");
        assert_eq!(ItemKey::top(None, "svc").parent(), None);
    }
}
