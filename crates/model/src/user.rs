//! User accounts: names, password policy, and whether an account may sign in right now.

use crate::access::Role;
use crate::validation::{FieldError, Invalid};

/// Minimum password length. Length beats composition rules (NIST SP 800-63B §5.1.1).
pub const MIN_PASSWORD_LEN: usize = 12;
pub const MAX_PASSWORD_LEN: usize = 256;

/// A user as the rest of the system sees it (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    /// Time-bound access (vendors, contractors): the account stops working at this instant.
    pub expires_at_ms: Option<i64>,
    /// Sites the user is limited to; empty means every site.
    pub sites: Vec<String>,
    pub created_at_ms: i64,
}

impl User {
    /// Why the account may not sign in or use a token at `now_ms`, if it may not.
    pub fn refusal(&self, now_ms: i64) -> Option<&'static str> {
        if self.disabled {
            Some("account disabled")
        } else if self.expires_at_ms.is_some_and(|e| e <= now_ms) {
            Some("account expired")
        } else {
            None
        }
    }

    /// Whether an object at `site` is visible to this user.
    pub fn sees_site(&self, site: &str) -> bool {
        self.sites.is_empty() || self.sites.iter().any(|s| s == site)
    }
}

/// Usernames: 2–64 characters of lower-case letters, digits, `.`, `_`, `-`, starting with a
/// letter, so they are safe in URLs, logs and audit records without quoting.
pub fn check_username(name: &str) -> Result<(), FieldError> {
    let ok_len = (2..=64).contains(&name.len());
    let ok_start = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let ok_chars = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if ok_len && ok_start && ok_chars {
        Ok(())
    } else {
        Err(FieldError::new(
            "username",
            "use 2–64 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter",
        ))
    }
}

pub fn check_password(password: &str, username: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        Err(FieldError::new("password", format!("use at least {MIN_PASSWORD_LEN} characters")))
    } else if n > MAX_PASSWORD_LEN {
        Err(FieldError::new("password", format!("use at most {MAX_PASSWORD_LEN} characters")))
    } else if password.eq_ignore_ascii_case(username) {
        Err(FieldError::new("password", "must not be the username"))
    } else {
        Ok(())
    }
}

/// A new account's fields, checked together.
pub fn check_new_user(username: &str, password: Option<&str>, display_name: &str) -> Result<(), Invalid> {
    let mut errors = Vec::new();
    errors.extend(check_username(username).err());
    if let Some(p) = password {
        errors.extend(check_password(p, username).err());
    }
    if display_name.chars().count() > 128 {
        errors.push(FieldError::new("display_name", "use at most 128 characters"));
    }
    Invalid::check(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(check_username("ops.lead-2").is_ok());
        for bad in ["", "a", "Admin", "1abc", "a b", "a/b", &"x".repeat(65)] {
            assert!(check_username(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn passwords() {
        assert!(check_password("correct horse battery", "alice").is_ok());
        assert!(check_password("short", "alice").is_err());
        assert!(check_password("alicealicealice", "alicealicealice").is_err());
    }

    #[test]
    fn expiry_and_sites() {
        let u = User {
            id: 1,
            username: "vendor".into(),
            display_name: String::new(),
            role: Role::Engineer,
            disabled: false,
            expires_at_ms: Some(1000),
            sites: vec!["plant-north".into()],
            created_at_ms: 0,
        };
        assert_eq!(u.refusal(999), None);
        assert_eq!(u.refusal(1000), Some("account expired"));
        assert!(u.sees_site("plant-north"));
        assert!(!u.sees_site("dc-east"));
    }
}
