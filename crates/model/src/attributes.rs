//! Custom attributes per class, as NetBox's custom fields: a definition names an attribute
//! of a class (and every class below it), its type, whether it is required and, for choices,
//! the allowed values. Items keep attributes as a JSON object, so a new definition needs no
//! schema migration; defined attributes are checked on every write, undefined ones are kept
//! as they come (imports carry whatever their source had).

use crate::cmdb::{class_of, is_a, is_calendar_date};
use crate::{FieldError, Invalid};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The types an attribute can have.
pub const ATTRIBUTE_KINDS: &[&str] = &["text", "integer", "decimal", "boolean", "date", "choice", "url"];

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AttributeDef {
    /// A class or family from [`crate::cmdb::CLASSES`]; the attribute applies below it too.
    pub class: String,
    /// The key in the item's `attrs`: lower-case letters, digits and underscores.
    pub name: String,
    /// One of [`ATTRIBUTE_KINDS`].
    pub kind: String,
    pub required: bool,
    /// The allowed values of a `choice`.
    pub choices: Vec<String>,
    /// What it means, shown next to the value.
    pub description: String,
}

impl AttributeDef {
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut errors = Vec::new();
        if class_of(&self.class).is_none() {
            errors.push(FieldError::new("class", format!("unknown class `{}`; see /api/v1/classes", self.class)));
        }
        let good_name = !self.name.is_empty()
            && self.name.len() <= 60
            && self.name.starts_with(|c: char| c.is_ascii_lowercase())
            && self.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !good_name {
            errors.push(FieldError::new(
                "name",
                "1 to 60 lower-case letters, digits and underscores, starting with a letter",
            ));
        }
        if !ATTRIBUTE_KINDS.contains(&self.kind.as_str()) {
            errors.push(FieldError::new("kind", format!("one of {}", ATTRIBUTE_KINDS.join(", "))));
        }
        match (self.kind == "choice", self.choices.is_empty()) {
            (true, true) => errors.push(FieldError::new("choices", "a choice needs at least one allowed value")),
            (false, false) => errors.push(FieldError::new("choices", "only a choice has allowed values")),
            _ => {}
        }
        if self.choices.iter().any(|c| c.trim().is_empty() || c.len() > 100) {
            errors.push(FieldError::new("choices", "each allowed value has 1 to 100 characters"));
        }
        if self.description.len() > 500 {
            errors.push(FieldError::new("description", "at most 500 characters"));
        }
        Invalid::check(errors)
    }

    /// Whether `value` has this attribute's type; `None` when it does, else what is wrong.
    fn check(&self, value: &Value) -> Option<String> {
        let ok = match self.kind.as_str() {
            "integer" => value.as_i64().is_some(),
            "decimal" => value.is_number(),
            "boolean" => value.is_boolean(),
            "date" => value.as_str().is_some_and(is_calendar_date),
            "choice" => value.as_str().is_some_and(|v| self.choices.iter().any(|c| c == v)),
            "url" => value.as_str().is_some_and(|v| v.starts_with("https://") || v.starts_with("http://")),
            _ => value.is_string(),
        };
        (!ok).then(|| match self.kind.as_str() {
            "integer" => "a whole number".to_owned(),
            "decimal" => "a number".to_owned(),
            "boolean" => "true or false".to_owned(),
            "date" => "a date as YYYY-MM-DD".to_owned(),
            "choice" => format!("one of {}", self.choices.join(", ")),
            "url" => "an http:// or https:// address".to_owned(),
            _ => "text".to_owned(),
        })
    }
}

/// Checks an item's attributes against the definitions that apply to `class`, naming each bad
/// one as `attrs.<name>`.
pub fn check_attributes(defs: &[AttributeDef], class: &str, attrs: &Map<String, Value>) -> Result<(), Invalid> {
    let mut errors = Vec::new();
    for d in defs.iter().filter(|d| is_a(class, &d.class)) {
        match attrs.get(&d.name) {
            None | Some(Value::Null) if d.required => errors.push(FieldError::new(
                format!("attrs.{}", d.name),
                format!(
                    "required for {} items: {}",
                    d.class,
                    if d.description.is_empty() { &d.kind } else { &d.description }
                ),
            )),
            None | Some(Value::Null) => {}
            Some(v) => {
                if let Some(want) = d.check(v) {
                    errors.push(FieldError::new(format!("attrs.{}", d.name), format!("give {want}, not {v}")));
                }
            }
        }
    }
    Invalid::check(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(class: &str, name: &str, kind: &str, required: bool, choices: &[&str]) -> AttributeDef {
        AttributeDef {
            class: class.into(),
            name: name.into(),
            kind: kind.into(),
            required,
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
            description: String::new(),
        }
    }

    fn attrs(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn definitions_apply_down_the_class_tree_and_check_types() {
        let defs = vec![
            def("link", "bandwidth_mbps", "integer", false, &[]),
            def("wan-circuit", "circuit_id", "text", true, &[]),
            def("ot-device", "safety_rated", "boolean", false, &[]),
            def("crypto-device", "keyed_on", "date", false, &[]),
            def("network-device", "tier", "choice", false, &["core", "distribution", "access"]),
        ];
        assert!(
            check_attributes(&defs, "wan-circuit", &attrs(json!({"circuit_id": "BT-1", "bandwidth_mbps": 100})))
                .is_ok()
        );
        let e = check_attributes(&defs, "wan-circuit", &attrs(json!({"bandwidth_mbps": "100M"}))).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["attrs.bandwidth_mbps", "attrs.circuit_id"]);
        assert!(check_attributes(&defs, "cable", &attrs(json!({}))).is_ok(), "circuit_id is not asked of cables");
        assert!(check_attributes(&defs, "plc", &attrs(json!({"safety_rated": "yes"}))).is_err());
        assert!(check_attributes(&defs, "crypto-device", &attrs(json!({"keyed_on": "2026-02-30"}))).is_err());
        let tier = check_attributes(&defs, "switch", &attrs(json!({"tier": "edge"}))).unwrap_err();
        assert!(tier.0[0].message.contains("core, distribution, access"), "{tier}");
        assert!(
            check_attributes(&defs, "switch", &attrs(json!({"tier": "core", "rack": [1, 2]}))).is_ok(),
            "undefined keys are kept"
        );
    }

    #[test]
    fn definitions_name_what_is_wrong() {
        assert!(def("plc", "safety_rated", "boolean", false, &[]).validate().is_ok());
        let e = def("toaster", "Bad Name", "colour", false, &["x"]).validate().unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["class", "name", "kind", "choices"]);
        assert_eq!(def("switch", "tier", "choice", false, &[]).validate().unwrap_err().0[0].field, "choices");
    }
}
