//! Events: what a monitored thing said happened — a syslog message, a trap, a check result —
//! read into one shape whatever the source, with the configuration item it came from once
//! the CMDB has been asked.

use std::collections::BTreeMap;

/// One event as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When Watchkeeper received it (epoch ms).
    pub received_at: i64,
    /// When the sender says it happened, if it says.
    pub occurred_at: Option<i64>,
    /// syslog, snmp-trap, check, alertmanager.
    pub source: &'static str,
    /// The address it came from.
    pub sender: String,
    /// The name the sender gave itself, if any.
    pub host: String,
    /// The configuration item it is about, when the CMDB knows the sender.
    pub item_id: Option<i64>,
    /// `interface`, `bgp.session`, `firewall.deny`… or `raw`.
    pub kind: String,
    /// What on the item: an interface, a neighbour, a group.
    pub object: String,
    /// Up (true) or down (false), when the event says.
    pub up: Option<bool>,
    /// 0 emergency … 7 debug.
    pub severity: u8,
    /// The vendor's name for the message (`LINK-3-UPDOWN`), if any.
    pub mnemonic: String,
    /// The text as received.
    pub text: String,
    pub fields: BTreeMap<String, String>,
}

/// Syslog's severity names, 0 to 7.
pub const SEVERITIES: [&str; 8] = ["emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"];
