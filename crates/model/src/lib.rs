//! Watchkeeper's domain: the types and the pure rules every other crate builds on.
//!
//! Nothing here does IO, spawns tasks or knows about HTTP, SQL or JSON shapes on the wire.
//! Rules that decide something (who may do what, whether the audit chain is intact, what a
//! list query means) live here so the web server and the CLI cannot disagree about them.

pub mod access;
pub mod alarm;
pub mod alert;
pub mod attachment;
pub mod attributes;
pub mod audit;
pub mod calendar;
pub mod check;
pub mod cmdb;
pub mod escalation;
pub mod event;
pub mod firmware;
pub mod ifmib;
pub mod impact;
pub mod incident;
pub mod kpi;
pub mod list;
pub mod maintenance;
pub mod major;
pub mod oncall;
pub mod problem;
pub mod sla;
pub mod supplier;
pub mod user;
pub mod validation;

pub use access::{Perm, Role, Scope};
pub use validation::{FieldError, Invalid};

/// The fuzz target `desk_specs`: any bytes as an attachment, and as the JSON documents people
/// write for the desk (SLA policies, escalation rules, on-call schedules and chains), read
/// and checked without a panic. Also replayed over the seeds in `cargo test`.
pub fn fuzz_desk(data: &[u8]) {
    let _ = attachment::classify(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = attachment::check_name(text);
    let people = ["engineer", "ops-lead"];
    let office = |n: &str| (n == "office").then(|| calendar::Calendar::always("office", jiff::tz::TimeZone::UTC));
    if let Ok(s) = serde_json::from_str::<oncall::ScheduleSpec>(text)
        && let Ok(schedule) = s.build(&people, office)
    {
        let start = oncall::parse_instant("2027-01-15T00:00", &jiff::tz::TimeZone::UTC).unwrap_or(0);
        let _ = schedule.shifts(start, start + 3 * 86_400_000);
    }
    if let Ok(c) = serde_json::from_str::<oncall::ChainSpec>(text)
        && let Ok(steps) = c.build(&["L3 network"], &people, &["noc"])
    {
        let _ = oncall::due_steps(&steps, c.repeats, 0, None, 86_400_000);
    }
    if let Ok(r) = serde_json::from_str::<escalation::EscalationRule>(text) {
        let _ = r.validate(&["noc"], &["network"], &[50, 75, 90, 100]);
    }
    if let Ok(p) = serde_json::from_str::<sla::SlaPolicy>(text) {
        let _ = p.validate(&["office"]);
    }
    let _ = oncall::parse_span(text);
    let _ = oncall::parse_instant(text, &jiff::tz::TimeZone::UTC);
}
