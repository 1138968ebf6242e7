//! Field-level validation errors, shared by every rule that checks user input.
//!
//! A rule returns every problem it finds at once, each naming the field, so that a form can
//! show them next to the fields and an API client gets them all in one problem+json answer.

use std::fmt;

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name as the user sent it (`username`, `limit`, `sort`…).
    pub field: String,
    /// What is wrong and, where it helps, what to do instead.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Input that failed validation; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, message)])
    }

    /// `Ok(())` when nothing was collected, otherwise the collected errors.
    pub fn check(errors: Vec<FieldError>) -> Result<(), Invalid> {
        if errors.is_empty() { Ok(()) } else { Err(Invalid(errors)) }
    }
}

/// The name of something configured (a policy, a channel, a rule): letters, digits, dashes
/// and underscores, up to 64 — it appears in paths, files and audit records.
pub fn check_name(name: &str) -> Option<FieldError> {
    let ok =
        !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    (!ok).then(|| FieldError::new("name", "letters, digits, dashes and underscores, up to 64"))
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Invalid {}
