//! Firmware currency: ordering vendor version strings and judging an item's OS/firmware
//! against the baseline the team has set for its vendor and model.
//!
//! Vendors write versions their own way: IOS-XE `17.9.4a`, ASA `9.18(3)56`, PAN-OS
//! `10.2.7-h3`, Junos `21.4R3-S5`, pre-releases as `10.1.0-rc1` or `7.2beta`, often behind
//! the product's name (`PAN-OS 11.1.4`, `IOS-XE 17.12.4`). One ordering covers them: skip
//! to the first digit, split into runs of digits and of letters (anything else separates), compare
//! run by run, numbers by value, and rank a missing run between pre-release words and other
//! letters, so `10.1.0-rc1 < 10.1.0 < 10.1.0a < 10.1.0-h3 < 10.1.1`.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Words that mark a build before the release it names.
const PRE_RELEASE: &[&str] = &["alpha", "beta", "rc", "pre", "dev", "ea", "eft"];

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Token<'a> {
    // Variant order is the rank: pre-release word < end of version < other word < number.
    PreRelease(String),
    End,
    Word(String),
    // Digits without leading zeros, compared by length then text, so any length works.
    Number(usize, &'a str),
}

fn tokens(v: &str) -> impl Iterator<Item = Token<'_>> {
    let bytes = v.as_bytes();
    // The product name before the number is not part of the version.
    let mut at = bytes.iter().position(u8::is_ascii_digit).unwrap_or(bytes.len());
    std::iter::from_fn(move || {
        while at < bytes.len() && !bytes[at].is_ascii_alphanumeric() {
            at += 1;
        }
        if at == bytes.len() {
            return None;
        }
        let start = at;
        let digits = bytes[at].is_ascii_digit();
        while at < bytes.len() && bytes[at].is_ascii_alphanumeric() && bytes[at].is_ascii_digit() == digits {
            at += 1;
        }
        let run = &v[start..at];
        Some(if digits {
            let n = run.trim_start_matches('0');
            Token::Number(n.len(), n)
        } else {
            let w = run.to_ascii_lowercase();
            if PRE_RELEASE.contains(&w.as_str()) { Token::PreRelease(w) } else { Token::Word(w) }
        })
    })
}

/// Orders two version strings as described in the module documentation. `17.9.04` and
/// `17.9.4` are equal; case does not matter.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let mut a = tokens(a);
    let mut b = tokens(b);
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (x, y) => match x.unwrap_or(Token::End).cmp(&y.unwrap_or(Token::End)) {
                Ordering::Equal => {}
                other => return other,
            },
        }
    }
}

/// The firmware the team runs for a vendor's models: at least `minimum`, ideally
/// `recommended`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Baseline {
    /// Matches an item's vendor, ignoring case.
    pub vendor: String,
    /// Matches items whose model starts with this (ignoring case); empty for every model.
    pub model: String,
    pub recommended: String,
    /// Older than this is out of support or has known vulnerabilities.
    pub minimum: Option<String>,
}

impl Baseline {
    pub fn validate(&self) -> Result<(), crate::Invalid> {
        let mut errors = Vec::new();
        for (field, value, required) in [
            ("vendor", self.vendor.as_str(), true),
            ("model", self.model.as_str(), false),
            ("recommended", self.recommended.as_str(), true),
            ("minimum", self.minimum.as_deref().unwrap_or(""), false),
        ] {
            if (required && value.trim().is_empty()) || value.len() > 100 || value.chars().any(char::is_control) {
                errors.push(crate::FieldError::new(field, "give 1 to 100 characters without control characters"));
            }
        }
        if let Some(min) = &self.minimum
            && compare_versions(min, &self.recommended) == Ordering::Greater
        {
            errors.push(crate::FieldError::new(
                "minimum",
                format!("`{min}` is newer than the recommended `{}`", self.recommended),
            ));
        }
        crate::Invalid::check(errors)
    }

    fn matches(&self, vendor: &str, model: &str) -> bool {
        self.vendor.eq_ignore_ascii_case(vendor)
            && model.get(..self.model.len()).is_some_and(|m| m.eq_ignore_ascii_case(&self.model))
    }
}

/// Where an item's firmware stands against its baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Currency {
    /// At or past the recommended version.
    Current,
    /// Supported, but older than recommended.
    Behind,
    /// Older than the minimum.
    Unsupported,
    /// The item has a baseline but records no version.
    Unknown,
}

impl Currency {
    pub fn as_str(self) -> &'static str {
        match self {
            Currency::Current => "current",
            Currency::Behind => "behind",
            Currency::Unsupported => "unsupported",
            Currency::Unknown => "unknown",
        }
    }
}

/// Whether items of `class` run vendor firmware that a baseline judges: devices, not the
/// applications, services and logical network objects that share their vendor's name.
pub fn runs_firmware(class: &str) -> bool {
    crate::supplier::needs_contract(class) && class != "wan-circuit"
}

/// The baseline that applies to an item: its vendor's with the longest matching model
/// prefix; `None` when the team set none.
pub fn baseline_for<'a>(baselines: &'a [Baseline], vendor: &str, model: &str) -> Option<&'a Baseline> {
    baselines.iter().filter(|b| b.matches(vendor, model)).max_by_key(|b| b.model.len())
}

/// Judges `version` against `baseline`.
pub fn currency(baseline: &Baseline, version: &str) -> Currency {
    if version.trim().is_empty() {
        return Currency::Unknown;
    }
    if baseline.minimum.as_deref().is_some_and(|m| compare_versions(version, m) == Ordering::Less) {
        Currency::Unsupported
    } else if compare_versions(version, &baseline.recommended) == Ordering::Less {
        Currency::Behind
    } else {
        Currency::Current
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vendor_versions_order_as_engineers_read_them() {
        let ascending =
            ["10.1.0-rc1", "10.1.0", "10.1.0a", "10.1.0-h3", "10.1.0-h12", "10.1.1", "10.2", "10.10.0", "9.18(3)56"];
        for w in ascending[..8].windows(2) {
            assert_eq!(compare_versions(w[0], w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
        }
        assert_eq!(compare_versions("9.18(3)56", "9.18(4)"), Ordering::Less);
        assert_eq!(compare_versions("21.4R3-S5", "21.4R3"), Ordering::Greater);
        assert_eq!(compare_versions("21.4R3-S5", "22.2R1"), Ordering::Less);
        assert_eq!(compare_versions("17.9.04", "17.9.4"), Ordering::Equal);
        assert_eq!(compare_versions("7.2beta", "7.2"), Ordering::Less);
        assert_eq!(compare_versions("V4.5", "v4.5"), Ordering::Equal);
        assert_eq!(compare_versions("IOS-XE 17.9.5", "17.12.4"), Ordering::Less);
        assert_eq!(compare_versions("PAN-OS 11.1.4", "PAN-OS 11.1.4-h7"), Ordering::Less);
    }

    #[test]
    fn the_most_specific_baseline_judges_an_item() {
        let baselines = vec![
            Baseline { vendor: "Cisco".into(), recommended: "17.9.4".into(), ..Default::default() },
            Baseline {
                vendor: "cisco".into(),
                model: "ASA".into(),
                recommended: "9.18(4)".into(),
                minimum: Some("9.16(1)".into()),
            },
        ];
        let asa = baseline_for(&baselines, "CISCO", "ASA5516-X").unwrap();
        assert_eq!(asa.recommended, "9.18(4)");
        assert_eq!(currency(asa, "9.18(4)22"), Currency::Current);
        assert_eq!(currency(asa, "9.17(1)"), Currency::Behind);
        assert_eq!(currency(asa, "9.14(3)"), Currency::Unsupported);
        assert_eq!(currency(asa, ""), Currency::Unknown);
        assert_eq!(baseline_for(&baselines, "Cisco", "C9300-48P").unwrap().recommended, "17.9.4");
        assert!(baseline_for(&baselines, "Juniper", "SRX345").is_none());
        assert!(runs_firmware("firewall") && runs_firmware("plc") && !runs_firmware("application"));
        let bad = Baseline { minimum: Some("9.20".into()), ..asa.clone() };
        assert_eq!(bad.validate().unwrap_err().0[0].field, "minimum");
    }

    fn version() -> impl Strategy<Value = String> {
        proptest::string::string_regex(
            "[0-9a-c.()-]{0,8}|(rc|beta|h|R|S)?[0-9]{0,3}(\\.[0-9]{1,2}){0,2}(-?(rc|h|S|a)[0-9])?",
        )
        .unwrap()
    }

    proptest! {
        /// A total order: sorting never contradicts itself, whatever vendors write.
        #[test]
        fn comparison_is_a_total_order(a in version(), b in version(), c in version()) {
            prop_assert_eq!(compare_versions(&a, &a), Ordering::Equal);
            prop_assert_eq!(compare_versions(&a, &b), compare_versions(&b, &a).reverse());
            if compare_versions(&a, &b) != Ordering::Greater && compare_versions(&b, &c) != Ordering::Greater {
                prop_assert_ne!(compare_versions(&a, &c), Ordering::Greater, "{} <= {} <= {}", a, b, c);
            }
        }

        /// Raising a patch number never makes a version older.
        #[test]
        fn a_later_patch_is_newer(major in 0u32..40, minor in 0u32..40, patch in 0u32..40, suffix in "(|a|-h[0-9])") {
            let v = format!("{major}.{minor}.{patch}{suffix}");
            let next = format!("{major}.{minor}.{}", patch + 1);
            prop_assert_eq!(compare_versions(&v, &next), Ordering::Less);
        }
    }
}
