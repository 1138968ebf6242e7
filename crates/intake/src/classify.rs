//! What a network device's syslog message means: Cisco IOS, NX-OS and ASA messages
//! (`%FACILITY-SEVERITY-MNEMONIC: text`), PAN-OS logs (CSV by column) and Junos messages
//! (`TAG: text`) turned into typed events — an interface or its line protocol going down or
//! up, an OSPF adjacency or BGP session changing, spanning tree blocking a port or changing
//! topology, an HSRP or VRRP group changing state, a firewall denying a flow or seeing a
//! threat, a system event, a configuration change. Anything else is kept as a raw event with
//! its mnemonic, searchable.

use crate::syslog::Message;
use std::collections::BTreeMap;

/// A typed event read from one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// `interface.down`, `line-protocol.up`, `ospf.adjacency.down`, `bgp.session.up`,
    /// `stp.block`, `stp.topology-change`, `hsrp.state`, `vrrp.state`, `firewall.deny`, or `raw`.
    pub kind: &'static str,
    /// What it is about on the device: an interface, a neighbour, a group.
    pub object: Option<String>,
    /// Whether the thing is now up (false: down or lost), when the message says.
    pub up: Option<bool>,
    /// `LINK-3-UPDOWN`, `ASA-4-106023`…, when the message has one.
    pub mnemonic: Option<String>,
    /// The message's own severity (0 emergency … 7 debug): the mnemonic's, else syslog's.
    pub severity: u8,
    /// Everything else read from the text, by name.
    pub fields: BTreeMap<&'static str, String>,
}

/// `%LINK-3-UPDOWN: text` → (`LINK-3-UPDOWN`, facility `LINK`, severity 3, `UPDOWN`, text).
fn cisco_mnemonic(msg: &str) -> Option<(&str, &str, u8, &str, &str)> {
    let start = msg.find('%')?;
    let rest = &msg[start + 1..];
    let (tag, text) = rest.split_once(": ").or_else(|| rest.split_once(':'))?;
    let mut parts = tag.rsplitn(3, '-');
    let mnemonic = parts.next()?;
    let severity: u8 = parts.next()?.parse().ok().filter(|s| *s <= 7)?;
    let facility = parts.next()?;
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (ok(facility) && ok(mnemonic) || facility == "ASA" || facility.starts_with("ASA")).then_some((
        tag,
        facility,
        severity,
        mnemonic,
        text.trim(),
    ))
}

/// The word after `word` in `text`, without trailing punctuation.
fn after<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let i = text.find(word)? + word.len();
    text[i..].split_whitespace().next().map(|w| w.trim_end_matches([',', '.', ';']))
}

/// An HSRP or VRRP group as the object of its condition: `Vlan10 group 1` (the interface
/// alone when the message names no group), the group also as a field.
fn redundancy_group(c: &mut Classified, interface: Option<&str>, group: Option<&str>) {
    c.object = interface.map(|i| group.map_or_else(|| i.to_owned(), |g| format!("{i} group {g}")));
    if let Some(g) = group {
        c.fields.insert("group", g.to_owned());
    }
}

/// Reads a message into an event.
pub fn classify(m: &Message) -> Classified {
    let raw = |mnemonic: Option<String>, severity: u8| Classified {
        kind: "raw",
        object: None,
        up: None,
        mnemonic,
        severity,
        fields: BTreeMap::new(),
    };
    let Some((tag, facility, severity, mnemonic, text)) = cisco_mnemonic(&m.msg) else {
        return panos(m).or_else(|| junos(m)).unwrap_or_else(|| raw(m.msg_id.clone(), m.severity));
    };
    let mut c = raw(Some(tag.to_owned()), severity);
    let state_word = |t: &str| -> Option<bool> {
        let state = t.rsplit("changed state to ").next().filter(|_| t.contains("changed state to "))?;
        Some(state.trim().starts_with("up"))
    };
    match (facility, mnemonic) {
        ("LINK", "UPDOWN" | "CHANGED") | ("ETHPORT", "IF_DOWN_LINK_FAILURE" | "IF_UP" | "IF_DOWN_ADMIN_DOWN") => {
            c.kind = "interface";
            c.object = after(text, "Interface ").map(str::to_owned).or_else(|| {
                text.split_whitespace().find(|w| w.contains('/')).map(|w| w.trim_end_matches([',', ':']).to_owned())
            });
            c.up = state_word(text).or_else(|| Some(mnemonic == "IF_UP"));
            if text.contains("administratively down") || mnemonic == "IF_DOWN_ADMIN_DOWN" {
                // Shut by configuration: planned, not a fault. It clears the link's alarm, as
                // IF-MIB polling and a linkDown trap with ifAdminStatus down do.
                c.fields.insert("admin", "down".into());
                c.up = Some(true);
            }
        }
        ("LINEPROTO", "UPDOWN") => {
            c.kind = "line-protocol";
            c.object = after(text, "Interface ").map(str::to_owned);
            c.up = state_word(text);
        }
        ("OSPF" | "OSPFV3", "ADJCHG") => {
            // Process 1, Nbr 172.16.46.4 on GigabitEthernet2.45 from INIT to DOWN, Neighbor Down: Dead timer expired
            c.kind = "ospf.adjacency";
            c.object = after(text, "Nbr ").map(str::to_owned);
            if let Some(i) = after(text, " on ") {
                c.fields.insert("interface", i.to_owned());
            }
            if let Some(p) = after(text, "Process ") {
                c.fields.insert("process", p.to_owned());
            }
            let to = after(text, " to ").unwrap_or("");
            if let Some(from) = after(text, " from ") {
                c.fields.insert("from", from.to_owned());
            }
            c.fields.insert("to", to.to_owned());
            c.up = Some(to.eq_ignore_ascii_case("FULL"));
            if let Some((_, why)) = text.split_once(", ") {
                c.fields.insert("reason", why.trim().to_owned());
            }
        }
        ("BGP", "ADJCHANGE") => {
            // neighbor 8.0.0.1 Up | neighbor 10.100.1.2 vpn vrf X Down BGP Notification sent
            c.kind = "bgp.session";
            c.object = after(text, "neighbor ").map(str::to_owned);
            if let Some(vrf) = after(text, "vrf ") {
                c.fields.insert("vrf", vrf.to_owned());
            }
            let words: Vec<&str> = text.split_whitespace().collect();
            if let Some(i) = words.iter().position(|w| *w == "Up" || *w == "Down") {
                c.up = Some(words[i] == "Up");
                let reason = words[i + 1..].join(" ");
                if !reason.is_empty() {
                    c.fields.insert("reason", reason);
                }
            }
        }
        (
            "SPANTREE",
            "BLOCK_PVID_LOCAL" | "BLOCK_PVID_PEER" | "BLOCK_BPDUGUARD" | "BLKPORT" | "ROOTGUARD_BLOCK"
            | "LOOPGUARD_BLOCK",
        )
        | ("STP", "BLOCK_BPDUGUARD") => {
            c.kind = "stp.block";
            c.object = after(text, "port ").or_else(|| after(text, "Port ")).map(str::to_owned);
            c.up = Some(false);
        }
        ("SPANTREE", "TOPOTRAP" | "ROOTCHANGE") | ("STP", "ROOT_CHANGE" | "TOPOLOGY_CHANGE") => {
            c.kind = "stp.topology-change";
            c.object =
                after(text, "VLAN").or_else(|| after(text, "vlan")).map(|v| v.trim_start_matches(['0']).to_owned());
        }
        ("HSRP" | "STANDBY", "STATECHANGE") | ("VRRP", "STATECHANGE") | ("VRRP", "STATE_CHANGE") => {
            // Vlan10 Grp 1 state Standby -> Active
            c.kind = if facility == "VRRP" { "vrrp.state" } else { "hsrp.state" };
            // The group, not the interface, is the condition: two groups on one VLAN (one
            // active here, one standby, sharing the load) are two alarms.
            let interface = text.split_whitespace().next().map(|i| i.trim_end_matches(':'));
            redundancy_group(&mut c, interface, after(text, "Grp ").or_else(|| after(text, "group ")));
            if let Some((from, to)) = text.split_once("->") {
                let from = from.split_whitespace().last().unwrap_or("").to_owned();
                let to = to.split_whitespace().next().unwrap_or("").to_owned();
                c.up = Some(to.eq_ignore_ascii_case("Active") || to.eq_ignore_ascii_case("Master"));
                c.fields.insert("from", from);
                c.fields.insert("to", to);
            }
        }
        // Deny tcp src outside:198.51.100.7/51515 dst inside:10.0.0.5/22 by access-group "outside_in" [0x0, 0x0]
        // Deny inbound tcp src … (106001/106023/106100/…)
        (f, id)
            if (f.starts_with("ASA") || f.starts_with("FTD"))
                && (text.starts_with("Deny") || text.contains(" denied ")) =>
        {
            c.kind = "firewall.deny";
            c.fields.insert("message_id", id.to_owned());
            let words: Vec<&str> = text.split_whitespace().collect();
            if let Some(p) = words.get(1).filter(|w| !["inbound", "outbound"].contains(*w)).or_else(|| words.get(2)) {
                c.fields.insert("protocol", (*p).to_owned());
            }
            for (key, word) in [("source", "src"), ("destination", "dst")] {
                if let Some(v) = after(text, &format!("{word} ")) {
                    c.fields.insert(key, v.to_owned());
                }
            }
            if let Some(acl) = text.split("access-group \"").nth(1).and_then(|r| r.split('"').next()) {
                c.fields.insert("acl", acl.to_owned());
                c.object = Some(acl.to_owned());
            }
        }
        _ => {}
    }
    c
}

/// PAN-OS' severity words as syslog severities.
fn panos_severity(word: &str) -> Option<u8> {
    Some(match word {
        "critical" => 2,
        "high" => 3,
        "medium" => 4,
        "low" => 5,
        "informational" => 6,
        _ => return None,
    })
}

/// PAN-OS logs: CSV after the syslog header, the log type in the fourth column (TRAFFIC,
/// THREAT, SYSTEM, CONFIG), fields by position as Palo Alto documents them for 10.x/11.x.
fn panos(m: &Message) -> Option<Classified> {
    let mut reader = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(m.msg.as_bytes());
    let record = reader.records().next()?.ok()?;
    let col = |n: usize| record.get(n - 1).unwrap_or("").trim().to_owned();
    let kind = col(4);
    if !matches!(kind.as_str(), "TRAFFIC" | "THREAT" | "SYSTEM" | "CONFIG") || record.len() < 10 {
        return None;
    }
    let mut c = Classified {
        kind: "raw",
        object: None,
        up: None,
        mnemonic: Some(format!("PAN-OS {kind} {}", col(5))),
        severity: m.severity,
        fields: BTreeMap::new(),
    };
    let mut put = |key: &'static str, v: String| {
        if !v.is_empty() {
            c.fields.insert(key, v);
        }
    };
    match kind.as_str() {
        "TRAFFIC" | "THREAT" => {
            put("source", format!("{}/{}", col(8), col(25)));
            put("destination", format!("{}/{}", col(9), col(26)));
            put("rule", col(12));
            put("application", col(15));
            put("from_zone", col(17));
            put("to_zone", col(18));
            put("protocol", col(30));
            put("action", col(31));
            let action = col(31);
            c.object = Some(col(12)).filter(|r| !r.is_empty());
            if kind == "THREAT" {
                c.kind = "firewall.threat";
                put("threat", col(33));
                put("category", col(34));
                put("url", col(32));
                if let Some(sev) = panos_severity(&col(35)) {
                    c.severity = sev;
                }
            } else if action.starts_with("deny") || action.starts_with("drop") || action.starts_with("reset") {
                c.kind = "firewall.deny";
            } else {
                c.kind = "firewall.traffic";
            }
        }
        "SYSTEM" => {
            c.kind = "system";
            c.object = Some(col(9)).filter(|e| !e.is_empty());
            put("module", col(13));
            put("description", col(15));
            if let Some(sev) = panos_severity(&col(14)) {
                c.severity = sev;
            }
        }
        _ => {
            c.kind = "config.change";
            c.object = Some(col(14)).filter(|p| !p.is_empty());
            put("command", col(10));
            put("admin", col(11));
            put("client", col(12));
            put("result", col(13));
        }
    }
    Some(c)
}

/// Junos: `TAG: text` after the daemon's name (`mib2d`, `rpd`, `flowd`…), the tag in capitals;
/// in Junos' structured-data format (RFC 5424, `[junos@2636…]`) the tag is the MSGID and the
/// text follows the structured data.
fn junos(m: &Message) -> Option<Classified> {
    let is_tag = |t: &str| {
        t.len() >= 4 && t.contains('_') && t.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    let (tag, text) = match (m.msg_id.as_deref(), m.structured_data.as_deref()) {
        // 2636 is Juniper's enterprise number.
        (Some(id), Some(sd)) if sd.contains("@2636") && is_tag(id) => (id, m.msg.as_str()),
        _ => m.msg.split_once(": ").filter(|(t, _)| is_tag(t))?,
    };
    let mut c = Classified {
        kind: "raw",
        object: None,
        up: None,
        mnemonic: Some(tag.to_owned()),
        severity: m.severity,
        fields: BTreeMap::new(),
    };
    match tag {
        "SNMP_TRAP_LINK_DOWN" | "SNMP_TRAP_LINK_UP" => {
            // ifIndex 526, ifAdminStatus up(1), ifOperStatus down(2), ifName ge-0/0/1
            c.kind = "interface";
            c.object = after(text, "ifName ").map(str::to_owned);
            // A link shut by configuration clears, as everywhere else.
            let shut = text.contains("ifAdminStatus down");
            c.up = Some(tag == "SNMP_TRAP_LINK_UP" || shut);
            if shut {
                c.fields.insert("admin", "down".into());
            }
            if let Some(i) = after(text, "ifIndex ") {
                c.fields.insert("if_index", i.to_owned());
            }
        }
        "BGP_NEIGHBOR_STATE_CHANGED" | "RPD_BGP_NEIGHBOR_STATE_CHANGED" => {
            // BGP peer 10.0.0.2 (External AS 65001) changed state from Established to Idle (event RecvNotify)
            c.kind = "bgp.session";
            c.object = after(text, "peer ").map(str::to_owned);
            let to = after(text, " to ").unwrap_or("");
            c.up = Some(to == "Established");
            if let Some(from) = after(text, " from ") {
                c.fields.insert("from", from.to_owned());
            }
            c.fields.insert("to", to.to_owned());
            if let Some(ev) = after(text, "(event ") {
                c.fields.insert("reason", ev.trim_end_matches(')').to_owned());
            }
        }
        "RPD_OSPF_NBRDOWN" | "RPD_OSPF_NBRUP" => {
            // OSPF neighbor 10.1.1.2 (realm ospf-v2 ge-0/0/0.0 area 0.0.0.0) state changed from Full to Init due to 1WayRcvd
            c.kind = "ospf.adjacency";
            c.object = after(text, "neighbor ").map(str::to_owned);
            c.up = Some(tag == "RPD_OSPF_NBRUP");
            if let Some(i) = after(text, "ospf-v2 ").or_else(|| after(text, "ospf-v3 ")) {
                c.fields.insert("interface", i.to_owned());
            }
            if let Some(why) = text.split(" due to ").nth(1) {
                c.fields.insert("reason", why.trim().to_owned());
            }
        }
        "VRRPD_NEW_MASTER" | "VRRPD_NEW_BACKUP" => {
            c.kind = "vrrp.state";
            c.up = Some(tag == "VRRPD_NEW_MASTER");
            // Interface ge-0/0/1.0 (local address 10.0.0.2) became VRRP master for group 1 …
            redundancy_group(
                &mut c,
                after(text, "Interface ").or_else(|| after(text, "interface ")),
                after(text, "group "),
            );
        }
        "RT_FLOW_SESSION_DENY" => {
            // session denied 10.0.0.1/1234->10.0.0.2/22 0x0 junos-ssh 6(0) default-deny untrust trust …
            c.kind = "firewall.deny";
            if let Some(flow) = after(text, "denied ")
                && let Some((src, dst)) = flow.split_once("->")
            {
                c.fields.insert("source", src.to_owned());
                c.fields.insert("destination", dst.to_owned());
            }
        }
        "UI_COMMIT" | "UI_COMMIT_COMPLETED" => {
            c.kind = "config.change";
            if let Some(user) = text.split('\'').nth(1) {
                c.fields.insert("admin", user.to_owned());
            }
        }
        _ => {}
    }
    Some(c)
}

/// The field an event carries when its sender's time named no zone.
pub const UNZONED: (&str, &str) = ("timestamp", "no zone");

/// A syslog message as an event: classified, from `sender`, received at `received_at`.
pub fn event(m: &Message, sender: &str, received_at: i64) -> model::event::Event {
    let mut c = classify(m);
    if m.rfc == 3164 && m.timestamp.is_some() {
        // RFC 3164 times name no zone: read here in the receiver's, and again in the site's
        // once the sender is known (`app::events`).
        c.fields.insert(UNZONED.0, UNZONED.1.into());
    }
    model::event::Event {
        received_at,
        occurred_at: m.timestamp,
        source: "syslog",
        sender: sender.to_owned(),
        host: m.hostname.clone().unwrap_or_default(),
        item_id: None,
        kind: c.kind.to_owned(),
        object: c.object.unwrap_or_default(),
        up: c.up,
        severity: c.severity,
        mnemonic: c.mnemonic.unwrap_or_default(),
        text: m.msg.clone(),
        fields: c.fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syslog::parse;
    use jiff::tz::TimeZone;

    fn read(line: &str) -> Classified {
        classify(&parse(line.as_bytes(), 1_795_334_400_000, &TimeZone::UTC).unwrap())
    }

    #[test]
    fn cisco_interface_and_protocol_messages() {
        let down =
            read("<187>Nov 22 07:17:26 sw1 IOS: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down");
        assert_eq!(
            (down.kind, down.object.as_deref(), down.up, down.severity),
            ("interface", Some("GigabitEthernet0/1"), Some(false), 3)
        );
        assert_eq!(down.mnemonic.as_deref(), Some("LINK-3-UPDOWN"));
        let admin = read(
            "<189>521: router1: *Nov 14 08:30:56.699: %LINK-5-CHANGED: Interface GigabitEthernet2, changed state to administratively down",
        );
        assert_eq!((admin.up, admin.fields.get("admin").map(String::as_str)), (Some(true), Some("down")));
        let up = read(
            "<189>Nov 22 07:17:30 sw1 IOS: %LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/0, changed state to up",
        );
        assert_eq!((up.kind, up.object.as_deref(), up.up), ("line-protocol", Some("GigabitEthernet0/0"), Some(true)));
        let nxos = read(
            "<187>Nov 22 07:17:26 n9k-1 : %ETHPORT-5-IF_DOWN_LINK_FAILURE: Interface Ethernet1/1 is down (Link failure)",
        );
        assert_eq!((nxos.kind, nxos.object.as_deref(), nxos.up), ("interface", Some("Ethernet1/1"), Some(false)));
    }

    #[test]
    fn routing_protocol_messages() {
        let ospf = read(
            "<189>Nov 22 07:17:26 r1 IOS: %OSPF-5-ADJCHG: Process 1, Nbr 172.16.46.4 on GigabitEthernet2.45 from INIT to DOWN, Neighbor Down: Dead timer expired",
        );
        assert_eq!((ospf.kind, ospf.object.as_deref(), ospf.up), ("ospf.adjacency", Some("172.16.46.4"), Some(false)));
        assert_eq!(ospf.fields["interface"], "GigabitEthernet2.45");
        assert_eq!((ospf.fields["from"].as_str(), ospf.fields["to"].as_str()), ("INIT", "DOWN"));
        let full = read(
            "<189>Nov 22 07:18:26 r1 IOS: %OSPF-5-ADJCHG: Process 1, Nbr 172.16.46.4 on GigabitEthernet2.45 from LOADING to FULL, Loading Done",
        );
        assert_eq!(full.up, Some(true));
        let bgp = read(
            "<189>Nov 22 07:17:26 r1 IOS: %BGP-5-ADJCHANGE: neighbor 10.100.1.2 vpn vrf CUST-A Down BGP Notification sent",
        );
        assert_eq!((bgp.kind, bgp.object.as_deref(), bgp.up), ("bgp.session", Some("10.100.1.2"), Some(false)));
        assert_eq!((bgp.fields["vrf"].as_str(), bgp.fields["reason"].as_str()), ("CUST-A", "BGP Notification sent"));
        assert_eq!(read("<189>Nov 22 07:17:26 r1 IOS: %BGP-5-ADJCHANGE: neighbor 8.0.0.1 Up").up, Some(true));
    }

    #[test]
    fn redundancy_spanning_tree_and_firewall_messages() {
        let hsrp = read("<189>Nov 22 07:17:26 sw1 IOS: %HSRP-5-STATECHANGE: Vlan10 Grp 1 state Standby -> Active");
        assert_eq!((hsrp.kind, hsrp.object.as_deref(), hsrp.up), ("hsrp.state", Some("Vlan10 group 1"), Some(true)));
        assert_eq!((hsrp.fields["group"].as_str(), hsrp.fields["from"].as_str()), ("1", "Standby"));
        let vrrp = read("<190>Nov 22 07:17:26 r2 IOS: %VRRP-6-STATECHANGE: Gi0/1 Grp 10 state Master -> Backup");
        assert_eq!((vrrp.kind, vrrp.object.as_deref(), vrrp.up), ("vrrp.state", Some("Gi0/1 group 10"), Some(false)));
        let other = read("<190>Nov 22 07:17:27 r2 IOS: %VRRP-6-STATECHANGE: Gi0/1 Grp 20 state Backup -> Master");
        assert_ne!(other.object, vrrp.object, "two groups on one interface are two conditions");
        let stp = read(
            "<186>Nov 22 07:17:26 sw1 IOS: %SPANTREE-2-BLOCK_BPDUGUARD: Received BPDU on port GigabitEthernet0/5 with BPDU Guard enabled. Disabling port.",
        );
        assert_eq!((stp.kind, stp.object.as_deref(), stp.severity), ("stp.block", Some("GigabitEthernet0/5"), 2));
        let asa = read(
            "<164>Nov 22 07:17:26 asa1 : %ASA-4-106023: Deny tcp src outside:198.51.100.7/51515 dst inside:10.0.0.5/22 by access-group \"outside_in\" [0x0, 0x0]",
        );
        assert_eq!((asa.kind, asa.object.as_deref(), asa.severity), ("firewall.deny", Some("outside_in"), 4));
        assert_eq!(
            (asa.fields["protocol"].as_str(), asa.fields["source"].as_str(), asa.fields["destination"].as_str()),
            ("tcp", "outside:198.51.100.7/51515", "inside:10.0.0.5/22")
        );
        let inbound = read(
            "<162>Nov 22 07:17:26 asa1 : %ASA-2-106001: Inbound TCP connection denied from 198.51.100.7/51515 to 10.0.0.5/22 flags SYN on interface outside",
        );
        assert_eq!(inbound.kind, "firewall.deny");
    }

    #[test]
    fn pan_os_logs() {
        let traffic = read(
            "<14>Sep 28 10:16:00 PA-3220 1,2026/09/28 10:16:00,012801054321,TRAFFIC,deny,2561,2026/09/28 10:16:00,10.10.4.21,203.0.113.80,0.0.0.0,0.0.0.0,block-telnet,,,telnet,vsys1,trust,untrust,ethernet1/2,ethernet1/1,default,2026/09/28 10:16:00,45678,1,53012,23,0,0,0x0,tcp,deny,60,60,0,1,2026/09/28 10:16:00,0,any,0,7300000000000000002,0x0,10.0.0.0-10.255.255.255,United States,0,1,0,policy-deny",
        );
        assert_eq!((traffic.kind, traffic.object.as_deref()), ("firewall.deny", Some("block-telnet")));
        assert_eq!(
            (traffic.fields["source"].as_str(), traffic.fields["destination"].as_str()),
            ("10.10.4.21/53012", "203.0.113.80/23")
        );
        assert_eq!((traffic.fields["from_zone"].as_str(), traffic.fields["protocol"].as_str()), ("trust", "tcp"));
        let allowed = read(
            "<14>Sep 28 10:16:00 PA-3220 1,2026/09/28 10:16:00,012801054321,TRAFFIC,end,2561,2026/09/28 10:16:00,10.10.4.21,160.79.104.10,203.0.113.10,160.79.104.10,allow-web,,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,default,2026/09/28 10:16:00,45678,1,53012,443,40002,443,0x400053,tcp,allow,18532",
        );
        assert_eq!(allowed.kind, "firewall.traffic");
        let threat = read(
            "<12>Sep 28 10:16:00 PA-3220 1,2026/09/28 10:16:00,012801054321,THREAT,vulnerability,2561,2026/09/28 10:16:00,198.51.100.7,10.10.4.30,0.0.0.0,0.0.0.0,inbound-web,,,web-browsing,vsys1,untrust,dmz,ethernet1/1,ethernet1/3,default,2026/09/28 10:16:00,555,1,44444,80,0,0,0x0,tcp,reset-both,\"/cgi-bin/x\",Apache Struts RCE(33397),code-execution,critical,client-to-server",
        );
        assert_eq!((threat.kind, threat.severity), ("firewall.threat", 2));
        assert_eq!(threat.fields["threat"], "Apache Struts RCE(33397)");
        let system = read(
            "<12>Sep 28 10:16:00 PA-3220 1,2026/09/28 10:16:00,012801054321,SYSTEM,ha,0,2026/09/28 10:16:00,,state-change,,0,0,general,high,HA Group 1: Moved from state Active to state Passive",
        );
        assert_eq!((system.kind, system.object.as_deref(), system.severity), ("system", Some("state-change"), 3));
        let config = read(
            "<14>Sep 28 10:16:00 PA-3220 1,2026/09/28 10:16:00,012801054321,CONFIG,0,0,2026/09/28 10:16:00,10.0.0.9,vsys1,edit,admin,Web,Succeeded, vsys  vsys1 rulebase security rules allow-web",
        );
        assert_eq!((config.kind, config.fields["admin"].as_str()), ("config.change", "admin"));
    }

    #[test]
    fn junos_messages() {
        let link = read(
            "<28>Nov 22 07:17:26 mx1 mib2d[1234]: SNMP_TRAP_LINK_DOWN: ifIndex 526, ifAdminStatus up(1), ifOperStatus down(2), ifName ge-0/0/1",
        );
        assert_eq!((link.kind, link.object.as_deref(), link.up), ("interface", Some("ge-0/0/1"), Some(false)));
        let shut = read(
            "<28>Nov 22 07:18:01 mx1 mib2d[1234]: SNMP_TRAP_LINK_DOWN: ifIndex 526, ifAdminStatus down(2), ifOperStatus down(2), ifName ge-0/0/1",
        );
        assert_eq!((shut.object.as_deref(), shut.up), (Some("ge-0/0/1"), Some(true)), "shut by configuration clears");
        // The same in Junos' structured-data format: the tag is the MSGID.
        let sd = read(
            "<28>1 2026-11-22T07:17:26.120Z mx1 mib2d 1234 SNMP_TRAP_LINK_DOWN [junos@2636.1.1.1.2.18 snmp-interface-index=\"526\" interface-name=\"ge-0/0/1\"] ifIndex 526, ifAdminStatus up(1), ifOperStatus down(2), ifName ge-0/0/1",
        );
        assert_eq!((sd.kind, sd.object.as_deref(), sd.up), ("interface", Some("ge-0/0/1"), Some(false)));
        let master = read(
            "<28>Nov 22 07:17:26 mx1 vrrpd[4321]: VRRPD_NEW_MASTER: Interface ge-0/0/1.0 (local address 10.0.0.2) became VRRP master for group 7 with master reason masterNoResponse",
        );
        assert_eq!(
            (master.kind, master.object.as_deref(), master.up),
            ("vrrp.state", Some("ge-0/0/1.0 group 7"), Some(true))
        );
        let backup = read(
            "<28>1 2026-11-22T07:17:26Z mx1 vrrpd 4321 VRRPD_NEW_BACKUP [junos@2636.1.1.1.2.18 interface-name=\"ge-0/0/1.0\"] Interface ge-0/0/1.0 (local address 10.0.0.2) became VRRP backup for group 7 with master reason priority",
        );
        assert_eq!((backup.object, backup.up), (master.object.clone(), Some(false)), "one group, one condition");
        assert_eq!(read("<28>1 2026-11-22T07:17:26Z mx1 app 1 NOT_JUNOS [x@1 a=\"b\"] hello").kind, "raw");
        let bgp = read(
            "<28>Nov 22 07:17:26 mx1 rpd[1234]: BGP_NEIGHBOR_STATE_CHANGED: BGP peer 10.0.0.2 (External AS 65001) changed state from Established to Idle (event RecvNotify) (instance master)",
        );
        assert_eq!((bgp.kind, bgp.object.as_deref(), bgp.up), ("bgp.session", Some("10.0.0.2"), Some(false)));
        assert_eq!(bgp.fields["reason"], "RecvNotify");
        let ospf = read(
            "<28>Nov 22 07:17:26 mx1 rpd[1234]: RPD_OSPF_NBRDOWN: OSPF neighbor 10.1.1.2 (realm ospf-v2 ge-0/0/0.0 area 0.0.0.0) state changed from Full to Init due to 1WayRcvd",
        );
        assert_eq!(
            (ospf.kind, ospf.object.as_deref(), ospf.fields["interface"].as_str()),
            ("ospf.adjacency", Some("10.1.1.2"), "ge-0/0/0.0")
        );
        let deny = read(
            "<14>Nov 22 07:17:26 srx1 RT_FLOW: RT_FLOW_SESSION_DENY: session denied 10.0.0.1/1234->10.0.0.2/22 0x0 junos-ssh 6(0) default-deny untrust trust",
        );
        assert_eq!((deny.kind, deny.fields["destination"].as_str()), ("firewall.deny", "10.0.0.2/22"));
        let commit = read(
            "<29>Nov 22 07:17:26 mx1 mgd[99]: UI_COMMIT: User 'netops' requested 'commit' operation (comment: none)",
        );
        assert_eq!((commit.kind, commit.fields["admin"].as_str()), ("config.change", "netops"));
    }

    #[test]
    fn everything_else_is_raw_and_kept() {
        let other = read("<190>Nov 22 07:17:26 sw1 IOS: %SYS-5-CONFIG_I: Configured from console by admin on vty0");
        assert_eq!((other.kind, other.mnemonic.as_deref(), other.severity), ("raw", Some("SYS-5-CONFIG_I"), 5));
        let linux = read("<30>Nov 22 07:17:26 host1 systemd[1]: Started Session 4 of user root.");
        assert_eq!((linux.kind, linux.mnemonic, linux.severity), ("raw", None, 6));
    }

    proptest::proptest! {
        /// Any text after a mnemonic classifies without a panic.
        #[test]
        fn any_text_classifies(fac in "[A-Z_]{1,10}", sev in 0u8..9, mn in "[A-Z_]{1,12}", text in "[ -~]{0,80}") {
            let line = format!("<189>Nov 22 07:17:26 h t: %{fac}-{sev}-{mn}: {text}");
            let _ = read(&line);
        }
    }
}
