//! What a use-case can answer besides success. The server maps each variant to one HTTP
//! status and problem type; the CLI to one message and exit code.

use model::{Invalid, Perm};
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input breaks a rule; every bad field is named.
    #[error("invalid input: {0}")]
    Invalid(#[from] Invalid),
    #[error("{0} not found")]
    NotFound(String),
    /// The actor is known but lacks the permission.
    #[error("permission `{0:?}` is required")]
    Forbidden(Perm),
    /// No valid credentials (wrong password, expired token…). The reason is for logs and the
    /// audit record; users see a generic message so accounts cannot be enumerated.
    #[error("not authenticated: {0}")]
    Unauthenticated(&'static str),
    #[error("too many failed logins; try again in {retry_after_s} s")]
    Throttled { retry_after_s: i64 },
    #[error("{0}")]
    Conflict(String),
    /// An import file is wrong; the error says which file, where and what.
    #[error("{0}")]
    Rejected(#[from] exchange::ImportError),
    #[error(transparent)]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("record".into()),
            StoreError::Conflict { what } => {
                AppError::Conflict(format!("a record with that name already exists in {what}"))
            }
            StoreError::Stale => AppError::Conflict("changed by someone else since it was read; reload it".into()),
            e => AppError::Store(e),
        }
    }
}
