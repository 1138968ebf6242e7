//! CSV, as spreadsheets export it. A file holds either items or relationships, told apart by
//! its header:
//!
//! * items: `name,class,site,parent,vendor,model,…` — any column of the YAML item; `parent`
//!   is the ancestor names joined by ` > `; a column `attr.<name>` becomes a custom attribute;
//! * relationships: `from_site,from,kind,to_site,to,to_group`.
//!
//! Errors name the line.

use crate::{Document, ImportError, ItemKey, ItemRecord, Origin, RelTarget, RelationshipRecord};
use model::cmdb::{ItemFields, RelationKind};

const ITEM_COLUMNS: &[&str] = &[
    "name",
    "class",
    "site",
    "parent",
    "vendor",
    "model",
    "os_version",
    "serial",
    "asset_tag",
    "mgmt_address",
    "status",
    "criticality",
    "support_group",
    "owner",
    "description",
    "sla_policy",
    "purchased_on",
    "warranty_ends_on",
    "end_of_sale_on",
    "end_of_support_on",
    "end_of_life_on",
];

const RELATIONSHIP_COLUMNS: &[&str] = &["from_site", "from", "kind", "to_site", "to", "to_group"];

pub fn read(file: &str, bytes: &[u8]) -> Result<Document, ImportError> {
    let mut reader = ::csv::ReaderBuilder::new().trim(::csv::Trim::All).from_reader(bytes);
    let header_err =
        |e: ::csv::Error| Origin::new(file, "line 1").error(None, format!("the header row cannot be read: {e}"));
    let headers: Vec<String> = reader.headers().map_err(header_err)?.iter().map(str::to_owned).collect();
    let relationships = headers.iter().any(|h| h == "kind") && headers.iter().any(|h| h == "from");
    for h in &headers {
        let known = if relationships {
            RELATIONSHIP_COLUMNS.contains(&h.as_str())
        } else {
            ITEM_COLUMNS.contains(&h.as_str()) || h.strip_prefix("attr.").is_some_and(|a| !a.is_empty())
        };
        if !known {
            let allowed = if relationships {
                RELATIONSHIP_COLUMNS.join(", ")
            } else {
                format!("{}, attr.<name>", ITEM_COLUMNS.join(", "))
            };
            return Err(Origin::new(file, "line 1").error(Some(h), format!("unknown column; use {allowed}")));
        }
    }
    let mut doc = Document::default();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, ::csv::Position::line);
            Origin::new(file, format!("line {line}")).error(None, format!("the row cannot be read: {e}"))
        })?;
        let line = record.position().map_or(0, ::csv::Position::line);
        let origin = Origin::new(file, format!("line {line}"));
        let get =
            |col: &str| headers.iter().position(|h| h == col).and_then(|i| record.get(i)).unwrap_or("").to_owned();
        let opt = |col: &str| Some(get(col)).filter(|v| !v.is_empty());
        if relationships {
            let from = ItemKey::top(opt("from_site").as_deref(), &get("from"));
            let kind = get("kind").parse::<RelationKind>().map_err(|e| origin.error(Some("kind"), e.to_string()))?;
            let to = match (opt("to"), opt("to_group")) {
                (Some(to), None) => RelTarget::Item(ItemKey::top(opt("to_site").as_deref(), &to)),
                (None, Some(g)) => RelTarget::Group(g),
                _ => return Err(origin.error(Some("to"), "fill exactly one of `to` and `to_group`")),
            };
            doc.covers.relationship_kinds.insert(kind);
            doc.relationships.push(RelationshipRecord { origin, from, kind, to });
        } else {
            let mut attrs = serde_json::Map::new();
            for (i, h) in headers.iter().enumerate() {
                if let (Some(a), Some(v)) = (h.strip_prefix("attr."), record.get(i))
                    && !v.is_empty()
                {
                    attrs.insert(a.to_owned(), serde_json::Value::String(v.to_owned()));
                }
            }
            let name = get("name");
            let mut path: Vec<String> =
                get("parent").split(" > ").map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect();
            path.push(name.clone());
            let record = ItemRecord {
                key: ItemKey { site: opt("site"), path },
                fields: ItemFields {
                    name,
                    class: get("class"),
                    vendor: get("vendor"),
                    model: get("model"),
                    os_version: get("os_version"),
                    serial: get("serial"),
                    asset_tag: get("asset_tag"),
                    mgmt_address: get("mgmt_address"),
                    status: opt("status").unwrap_or_else(|| "operational".into()),
                    criticality: opt("criticality").unwrap_or_else(|| "medium".into()),
                    support_group: get("support_group"),
                    owner: get("owner"),
                    description: get("description"),
                    sla_policy: get("sla_policy"),
                    purchased_on: opt("purchased_on"),
                    warranty_ends_on: opt("warranty_ends_on"),
                    end_of_sale_on: opt("end_of_sale_on"),
                    end_of_support_on: opt("end_of_support_on"),
                    end_of_life_on: opt("end_of_life_on"),
                    attrs,
                },
                origin,
            };
            crate::check_fields(&record)?;
            doc.covers.classes.insert(record.fields.class.clone());
            doc.items.push(record);
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_with_custom_attributes_and_parents() {
        let csv = "name,class,site,parent,vendor,attr.rack\npn-sw1,switch,plant-north,,Cisco,R1\nGi1/0/1,interface,plant-north,pn-sw1,,\n";
        let doc = read("items.csv", csv.as_bytes()).unwrap();
        assert_eq!(doc.items[0].fields.attrs["rack"], "R1");
        assert_eq!(doc.items[1].key.path, ["pn-sw1", "Gi1/0/1"]);
        assert_eq!(doc.items[1].origin.at, "line 3");
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let bad = read("items.csv", b"name,class\nsw1,switch\nsw2,toaster\n").unwrap_err();
        assert_eq!(
            bad.to_string(),
            "items.csv: line 3: field `class`: unknown class `toaster`; see the class list at /api/v1/classes"
        );
        let col = read("items.csv", b"name,class,colour\n").unwrap_err();
        assert_eq!(col.field.as_deref(), Some("colour"));
        let ragged = read("items.csv", b"name,class\nsw1,switch,extra\n").unwrap_err();
        assert!(ragged.at == "line 2", "{ragged}");
        let rel = read("rels.csv", b"from,kind,to,to_group\nsvc,uses,x,\n").unwrap_err();
        assert_eq!((rel.at.as_str(), rel.field.as_deref()), ("line 2", Some("kind")));
    }
}
