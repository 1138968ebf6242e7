//! The one list convention every collection follows, in the API and in the console:
//! `?limit=50&offset=0&sort=-at&q=text&<field>=<value>`.
//!
//! `limit` is 1–500 (default 50), `offset` counts from 0, `sort` names one sortable field,
//! with a leading `-` for descending order, `q` is a free-text search and any other
//! parameter must be a filter the collection declares. Unknown parameters are errors, not
//! silently ignored, so a typo in a filter never returns the whole table.

use crate::validation::{FieldError, Invalid};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

/// What a collection accepts.
#[derive(Debug, Clone, Copy)]
pub struct ListSpec {
    /// Fields that `sort` may name.
    pub sortable: &'static [&'static str],
    /// The order when none is asked for, e.g. `-at`.
    pub default_sort: &'static str,
    /// Exact-match filter parameters.
    pub filters: &'static [&'static str],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    pub field: &'static str,
    pub descending: bool,
}

/// A validated list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub limit: u32,
    pub offset: u64,
    pub sort: Sort,
    pub q: Option<String>,
    /// `(filter, value)` pairs, each filter named in the spec.
    pub filters: Vec<(&'static str, String)>,
}

impl ListQuery {
    /// The value of one filter, if it was given.
    pub fn filter(&self, name: &str) -> Option<&str> {
        self.filters.iter().find(|(f, _)| *f == name).map(|(_, v)| v.as_str())
    }
}

fn parse_sort(spec: &ListSpec, raw: &str) -> Option<Sort> {
    let (descending, name) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    spec.sortable.iter().find(|f| **f == name).map(|f| Sort { field: f, descending })
}

/// Validates raw query pairs against a collection's spec, reporting every bad parameter.
pub fn parse(spec: &ListSpec, pairs: &[(String, String)]) -> Result<ListQuery, Invalid> {
    let mut errors = Vec::new();
    let mut limit = DEFAULT_LIMIT;
    let mut offset = 0;
    let mut sort = None;
    let mut q = None;
    let mut filters = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in pairs {
        if seen.contains(&key.as_str()) {
            errors.push(FieldError::new(key, "given more than once; give it once"));
            continue;
        }
        seen.push(key);
        match key.as_str() {
            "limit" => match value.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => limit = n,
                _ => errors
                    .push(FieldError::new("limit", format!("`{value}` is not a whole number from 1 to {MAX_LIMIT}"))),
            },
            "offset" => match value.parse::<u64>() {
                Ok(n) if n <= i64::MAX as u64 => offset = n,
                _ => errors.push(FieldError::new("offset", format!("`{value}` is not a whole number ≥ 0"))),
            },
            "sort" => match parse_sort(spec, value) {
                Some(s) => sort = Some(s),
                None => errors.push(FieldError::new(
                    "sort",
                    format!(
                        "cannot sort by `{value}`; sortable fields are {} (prefix `-` for descending)",
                        spec.sortable.join(", ")
                    ),
                )),
            },
            "q" => {
                if value.chars().count() > 200 {
                    errors.push(FieldError::new("q", "search text is longer than 200 characters"));
                } else if !value.is_empty() {
                    q = Some(value.clone());
                }
            }
            other => match spec.filters.iter().find(|f| **f == other) {
                Some(f) if !value.is_empty() => filters.push((*f, value.clone())),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    other,
                    format!(
                        "unknown parameter; this list accepts limit, offset, sort, q{}",
                        spec.filters.iter().map(|f| format!(", {f}")).collect::<String>()
                    ),
                )),
            },
        }
    }
    Invalid::check(errors)?;
    let sort = match sort {
        Some(s) => s,
        None => parse_sort(spec, spec.default_sort).unwrap_or(Sort { field: "id", descending: false }),
    };
    Ok(ListQuery { limit, offset, sort, q, filters })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SPEC: ListSpec = ListSpec { sortable: &["at", "actor"], default_sort: "-at", filters: &["actor"] };

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn defaults() {
        let q = parse(&SPEC, &[]).unwrap();
        assert_eq!(q.limit, DEFAULT_LIMIT);
        assert_eq!(q.sort, Sort { field: "at", descending: true });
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let err = parse(&SPEC, &pairs(&[("limit", "0"), ("sort", "password"), ("colour", "red")])).unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "sort", "colour"]);
    }

    #[test]
    fn filters_and_sort() {
        let q = parse(&SPEC, &pairs(&[("actor", "admin"), ("sort", "actor"), ("limit", "10")])).unwrap();
        assert_eq!(q.filter("actor"), Some("admin"));
        assert_eq!(q.sort, Sort { field: "actor", descending: false });
        assert_eq!(q.limit, 10);
    }

    proptest! {
        #[test]
        fn never_panics_and_limit_stays_in_range(k in "[a-z]{1,8}", v in ".{0,40}") {
            if let Ok(q) = parse(&SPEC, &[(k, v)]) {
                prop_assert!((1..=MAX_LIMIT).contains(&q.limit));
            }
        }
    }
}
