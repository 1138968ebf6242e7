//! Watchkeeper's domain: the types and the pure rules every other crate builds on.
//!
//! Nothing here does IO, spawns tasks or knows about HTTP, SQL or JSON shapes on the wire.
//! Rules that decide something (who may do what, whether the audit chain is intact, what a
//! list query means) live here so the web server and the CLI cannot disagree about them.

pub mod access;
pub mod attributes;
pub mod audit;
pub mod calendar;
pub mod cmdb;
pub mod escalation;
pub mod firmware;
pub mod impact;
pub mod incident;
pub mod list;
pub mod oncall;
pub mod problem;
pub mod sla;
pub mod supplier;
pub mod user;
pub mod validation;

pub use access::{Perm, Role, Scope};
pub use validation::{FieldError, Invalid};
