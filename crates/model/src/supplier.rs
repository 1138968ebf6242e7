//! Vendors, carriers and the support contracts that cover configuration items: what a
//! vendor record and a contract must hold, who to call at which escalation level, and
//! whether a contract still covers anything today.
//!
//! Dates are `YYYY-MM-DD` strings compared as text, like the lifecycle dates in
//! [`crate::cmdb`]: the NOC's calendar day is what a contract names.

use crate::cmdb::{is_a, is_calendar_date};
use crate::{FieldError, Invalid};
use serde::{Deserialize, Serialize};

/// What a vendor is to the organisation. `oem` makes the kit, `carrier` runs circuits,
/// `reseller` and `integrator` sell or run support on someone else's kit.
pub const VENDOR_KINDS: &[&str] = &["oem", "carrier", "reseller", "integrator", "service-provider"];

/// A vendor as entered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VendorFields {
    /// Stable key: lower-case letters, digits and dashes (`cisco`, `bt-openreach`).
    pub slug: String,
    pub name: String,
    pub kind: String,
    /// The support desk (TAC, NOC) number that is answered around the clock.
    pub phone: String,
    pub email: String,
    /// Where cases are opened.
    pub portal: String,
    /// How to escalate: what to quote, when to go up a level.
    pub escalation: String,
    /// Escalation ladder: who to call when the desk does not deliver.
    pub contacts: Vec<Contact>,
}

/// A named person or desk on a vendor's escalation ladder.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    /// Account manager, TAM, duty manager…
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    /// Escalation level, 1 (first call) to 5; contacts are listed in this order.
    pub level: u8,
}

/// A support or service contract with a vendor.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContractFields {
    /// The vendor's contract or service-agreement number; unique per vendor.
    pub reference: String,
    /// `24x7x4`, `8x5xNBD`, `return-to-base`…: what the vendor promises.
    pub support_level: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// Who at the vendor owns this contract.
    pub contact: String,
    /// How to escalate under this contract (if it differs from the vendor's ladder).
    pub escalation: String,
}

fn text(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize, required: bool) {
    if required && value.trim().is_empty() {
        errors.push(FieldError::new(field, "required"));
    } else if value.chars().count() > max || value.chars().any(|c| c.is_control() && c != '\n') {
        errors.push(FieldError::new(field, format!("at most {max} characters, without control characters")));
    }
}

/// `cisco`, `bt-openreach`: what URLs, imports and item references use.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

impl VendorFields {
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut errors = Vec::new();
        if !is_slug(&self.slug) {
            errors.push(FieldError::new(
                "slug",
                "give 1 to 64 lower-case letters, digits and dashes, not starting or ending with a dash",
            ));
        }
        text(&mut errors, "name", &self.name, 200, true);
        if !VENDOR_KINDS.contains(&self.kind.as_str()) {
            errors.push(FieldError::new("kind", format!("one of {}", VENDOR_KINDS.join(", "))));
        }
        text(&mut errors, "phone", &self.phone, 60, false);
        text(&mut errors, "email", &self.email, 200, false);
        text(&mut errors, "portal", &self.portal, 500, false);
        text(&mut errors, "escalation", &self.escalation, 2000, false);
        if self.contacts.len() > 50 {
            errors.push(FieldError::new("contacts", "at most 50 contacts"));
        }
        for (n, c) in self.contacts.iter().enumerate() {
            text(&mut errors, &format!("contacts[{n}].name"), &c.name, 200, true);
            text(&mut errors, &format!("contacts[{n}].role"), &c.role, 200, false);
            text(&mut errors, &format!("contacts[{n}].phone"), &c.phone, 60, false);
            text(&mut errors, &format!("contacts[{n}].email"), &c.email, 200, false);
            if c.phone.trim().is_empty() && c.email.trim().is_empty() {
                errors.push(FieldError::new(format!("contacts[{n}]"), "give a phone number or an e-mail address"));
            }
            if !(1..=5).contains(&c.level) {
                errors.push(FieldError::new(format!("contacts[{n}].level"), "an escalation level from 1 to 5"));
            }
        }
        Invalid::check(errors)
    }

    /// The escalation ladder, first call first.
    pub fn ladder(&self) -> Vec<&Contact> {
        let mut out: Vec<&Contact> = self.contacts.iter().collect();
        out.sort_by_key(|c| c.level);
        out
    }
}

impl ContractFields {
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut errors = Vec::new();
        text(&mut errors, "reference", &self.reference, 100, true);
        if self.reference.trim() != self.reference {
            errors.push(FieldError::new("reference", "no leading or trailing spaces"));
        }
        text(&mut errors, "support_level", &self.support_level, 60, false);
        text(&mut errors, "contact", &self.contact, 500, false);
        text(&mut errors, "escalation", &self.escalation, 2000, false);
        for (field, date) in [("starts_on", &self.starts_on), ("ends_on", &self.ends_on)] {
            if let Some(d) = date
                && !is_calendar_date(d)
            {
                errors.push(FieldError::new(field, format!("`{d}` is not a date; write YYYY-MM-DD")));
            }
        }
        if let (Some(s), Some(e)) = (&self.starts_on, &self.ends_on)
            && is_calendar_date(s)
            && is_calendar_date(e)
            && e < s
        {
            errors.push(FieldError::new("ends_on", format!("ends before it starts ({s})")));
        }
        Invalid::check(errors)
    }

    /// Where the contract stands on `today`, warning `horizon` ahead (both `YYYY-MM-DD`).
    pub fn standing(&self, today: &str, horizon: &str) -> Standing {
        if self.starts_on.as_deref().is_some_and(|s| s > today) {
            return Standing::NotStarted;
        }
        match self.ends_on.as_deref() {
            Some(e) if e < today => Standing::Expired,
            Some(e) if e <= horizon => Standing::Expiring,
            _ => Standing::Active,
        }
    }
}

/// Whether a contract covers its items today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    NotStarted,
    Active,
    /// Active, but ends within the warning horizon: time to renew.
    Expiring,
    Expired,
}

impl Standing {
    pub fn covers(self) -> bool {
        matches!(self, Standing::Active | Standing::Expiring)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Standing::NotStarted => "not-started",
            Standing::Active => "active",
            Standing::Expiring => "expiring",
            Standing::Expired => "expired",
        }
    }
}

/// Whether an item of `class` is hardware or a circuit that a NOC expects a support contract
/// for. Logical things (interfaces, VLANs, services, applications, locations) are covered
/// through what they run on.
pub fn needs_contract(class: &str) -> bool {
    ["network-device", "ot-device", "endpoint", "storage", "backup-system", "crypto-device", "power"]
        .iter()
        .any(|f| is_a(class, f))
        || ["physical-server", "industrial-pc", "hypervisor", "wan-circuit"].contains(&class)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract(starts: Option<&str>, ends: Option<&str>) -> ContractFields {
        ContractFields {
            reference: "C-1".into(),
            starts_on: starts.map(Into::into),
            ends_on: ends.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn standing_follows_the_calendar() {
        let (today, horizon) = ("2026-11-23", "2027-02-21");
        assert_eq!(contract(None, None).standing(today, horizon), Standing::Active);
        assert_eq!(contract(Some("2026-12-01"), None).standing(today, horizon), Standing::NotStarted);
        assert_eq!(contract(None, Some("2026-11-22")).standing(today, horizon), Standing::Expired);
        assert_eq!(contract(None, Some("2026-11-23")).standing(today, horizon), Standing::Expiring);
        assert_eq!(contract(None, Some("2027-02-21")).standing(today, horizon), Standing::Expiring);
        assert_eq!(contract(None, Some("2027-02-22")).standing(today, horizon), Standing::Active);
        assert!(Standing::Expiring.covers() && !Standing::Expired.covers() && !Standing::NotStarted.covers());
    }

    #[test]
    fn contracts_name_every_bad_field() {
        let bad = ContractFields {
            reference: " ".into(),
            starts_on: Some("2027-01-01".into()),
            ends_on: Some("2026-01-01".into()),
            ..Default::default()
        };
        let fields: Vec<String> = bad.validate().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert!(fields.contains(&"reference".to_owned()) && fields.contains(&"ends_on".to_owned()), "{fields:?}");
        assert!(contract(Some("2026-02-30"), None).validate().is_err());
        assert!(contract(Some("2026-01-01"), Some("2026-12-31")).validate().is_ok());
    }

    #[test]
    fn vendors_need_a_slug_a_kind_and_reachable_contacts() {
        let mut v = VendorFields {
            slug: "cisco".into(),
            name: "Cisco Systems".into(),
            kind: "oem".into(),
            contacts: vec![
                Contact {
                    name: "Account manager".into(),
                    email: "am@example.com".into(),
                    level: 2,
                    ..Default::default()
                },
                Contact { name: "TAC".into(), phone: "+44 800 404 7778".into(), level: 1, ..Default::default() },
            ],
            ..Default::default()
        };
        assert!(v.validate().is_ok());
        assert_eq!(v.ladder().iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["TAC", "Account manager"]);
        v.slug = "Cisco Systems".into();
        v.kind = "friend".into();
        v.contacts[0].email.clear();
        v.contacts[1].level = 9;
        let fields: Vec<String> = v.validate().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["slug", "kind", "contacts[0]", "contacts[1].level"]);
    }

    #[test]
    fn hardware_and_circuits_need_contracts_logical_items_do_not() {
        for c in ["firewall", "plc", "wan-circuit", "physical-server", "storage", "crypto-device", "power"] {
            assert!(needs_contract(c), "{c}");
        }
        for c in ["interface", "vlan", "cable", "virtual-machine", "business-service", "application", "rack"] {
            assert!(!needs_contract(c), "{c}");
        }
    }
}
