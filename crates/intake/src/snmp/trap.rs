//! Notifications as events: the trap's OID (v2c/v3 `snmpTrapOID.0`, or RFC 3584's mapping of
//! a v1 trap's generic and specific numbers) looked up in an OID map — the standard traps
//! (linkDown/linkUp, coldStart/warmStart, authenticationFailure), common vendor ones, and
//! whatever the operator adds — and its variables kept as fields.

use super::{Message, Oid, PduKind, Value, VarBind};
use model::event::Event;
use std::collections::BTreeMap;

/// `snmpTrapOID.0`.
pub const SNMP_TRAP_OID: &str = "1.3.6.1.6.3.1.1.4.1.0";
/// `sysUpTime.0`.
pub const SYS_UPTIME: &str = "1.3.6.1.2.1.1.3.0";

/// What a trap OID means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrapRule {
    /// The trap's OID, or a prefix of it.
    pub oid: Oid,
    /// A name for people: `linkDown`.
    pub name: String,
    /// The event kind: `interface`, `bgp.session`… (see `model::alarm`).
    pub kind: String,
    /// Syslog's 0–7.
    pub severity: u8,
    /// Down (false) or up (true), when the trap says so.
    pub up: Option<bool>,
    /// Variables (OID prefixes) whose value names the object, first found wins: an
    /// interface's name, a neighbour's address.
    pub object_from: Vec<Oid>,
}

fn rule(oid: &str, name: &str, kind: &str, severity: u8, up: Option<bool>, object_from: &[&str]) -> TrapRule {
    TrapRule {
        oid: Oid::parse(oid).unwrap_or_default(),
        name: name.into(),
        kind: kind.into(),
        severity,
        up,
        object_from: object_from.iter().filter_map(|o| Oid::parse(o)).collect(),
    }
}

/// ifName, ifDescr, then ifIndex: what names an interface in a link trap.
const IF_NAMES: [&str; 3] = ["1.3.6.1.2.1.31.1.1.1.1", "1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.1"];

/// bgpPeerRemoteAddr, then any column of bgpPeerTable (indexed by the peer's address).
const BGP_PEER: [&str; 2] = ["1.3.6.1.2.1.15.3.1.7", BGP_PEER_ENTRY];
const BGP_PEER_ENTRY: &str = "1.3.6.1.2.1.15.3.1";

/// VRRP-MIB's vrrpOperMasterIpAddr, indexed by ifIndex and VRID: the group is the index, not
/// the address (a new master has a new address).
const VRRP_MASTER: &str = "1.3.6.1.2.1.68.1.3.1.7";

/// IF-MIB's ifAdminStatus column; 2 is down by configuration.
const IF_ADMIN_STATUS: &str = "1.3.6.1.2.1.2.2.1.7";

/// The built-in map: SNMPv2-MIB's and IF-MIB's standard traps, BGP4-MIB, OSPF-MIB, VRRP-MIB,
/// and Cisco's configuration and syslog notifications.
pub fn standard_rules() -> Vec<TrapRule> {
    vec![
        rule("1.3.6.1.6.3.1.1.5.3", "linkDown", "interface", 3, Some(false), &IF_NAMES),
        rule("1.3.6.1.6.3.1.1.5.4", "linkUp", "interface", 5, Some(true), &IF_NAMES),
        rule("1.3.6.1.6.3.1.1.5.1", "coldStart", "device.restart", 4, None, &[]),
        rule("1.3.6.1.6.3.1.1.5.2", "warmStart", "device.restart", 5, None, &[]),
        rule("1.3.6.1.6.3.1.1.5.5", "authenticationFailure", "snmp.auth-failure", 4, None, &[]),
        // BGP4-MIB (RFC 4273), and its predecessor's numbering: the peer is the address its
        // variables are indexed by (bgpPeerRemoteAddr's value when sent).
        rule("1.3.6.1.2.1.15.0.1", "bgpEstablishedNotification", "bgp.session", 5, Some(true), &BGP_PEER),
        rule("1.3.6.1.2.1.15.0.2", "bgpBackwardTransNotification", "bgp.session", 3, Some(false), &BGP_PEER),
        rule("1.3.6.1.2.1.15.7.1", "bgpEstablished", "bgp.session", 5, Some(true), &BGP_PEER),
        rule("1.3.6.1.2.1.15.7.2", "bgpBackwardTransition", "bgp.session", 3, Some(false), &BGP_PEER),
        rule("1.3.6.1.2.1.14.16.2.2", "ospfNbrStateChange", "ospf.adjacency", 4, None, &["1.3.6.1.2.1.14.10.1.1"]),
        rule("1.3.6.1.2.1.68.0.1", "vrrpTrapNewMaster", "vrrp.state", 4, None, &[VRRP_MASTER]),
        rule("1.3.6.1.4.1.9.9.43.2.0.1", "ciscoConfigManEvent", "config.change", 5, None, &[]),
        rule("1.3.6.1.4.1.9.9.41.2.0.1", "clogMessageGenerated", "syslog.forwarded", 5, None, &[]),
    ]
}

/// The OID a notification is: v2c/v3 `snmpTrapOID.0`; v1 by RFC 3584 §3.1.
pub fn trap_oid(m: &Message) -> Option<Oid> {
    let pdu = m.pdu.as_ref()?;
    if let Some(v1) = &pdu.v1 {
        return Some(match v1.generic {
            0..=5 => Oid(vec![1, 3, 6, 1, 6, 3, 1, 1, 5, (v1.generic + 1) as u32]),
            _ => {
                let mut o = v1.enterprise.0.clone();
                o.extend([0, u32::try_from(v1.specific).unwrap_or(0)]);
                Oid(o)
            }
        });
    }
    let want = Oid::parse(SNMP_TRAP_OID)?;
    pdu.varbinds.iter().find(|vb| vb.oid == want).and_then(|vb| match &vb.value {
        Value::Oid(o) => Some(o.clone()),
        _ => None,
    })
}

/// The event a notification is. `sender` is the address it came from (for v1, the agent
/// address it names, unless that is 0.0.0.0). `rules` are searched longest prefix first.
pub fn event(m: &Message, sender: &str, user: Option<&str>, rules: &[TrapRule], received_at: i64) -> Option<Event> {
    let pdu = m.pdu.as_ref()?;
    if !matches!(pdu.kind, PduKind::TrapV1 | PduKind::TrapV2 | PduKind::Inform) {
        return None;
    }
    let oid = trap_oid(m)?;
    let rule = rules.iter().filter(|r| oid.starts_with(&r.oid)).max_by_key(|r| r.oid.0.len());
    let sender = match pdu.v1.as_ref().map(|v| v.agent_addr) {
        Some(a) if a != [0, 0, 0, 0] => std::net::Ipv4Addr::from(a).to_string(),
        _ => sender.to_owned(),
    };
    let skip = [Oid::parse(SYS_UPTIME), Oid::parse(SNMP_TRAP_OID)];
    let shown: Vec<&VarBind> = pdu.varbinds.iter().filter(|vb| !skip.iter().flatten().any(|s| *s == vb.oid)).collect();
    let mut fields: BTreeMap<String, String> =
        shown.iter().map(|vb| (vb.oid.to_string(), vb.value.to_string())).collect();
    fields.insert("trap_oid".into(), oid.to_string());
    fields.insert("snmp_version".into(), m.version.as_str().into());
    if let Some(u) = user {
        fields.insert("user".into(), u.into());
    }
    let name = rule.map_or_else(|| oid.to_string(), |r| r.name.clone());
    let object = rule
        .and_then(|r| {
            r.object_from.iter().find_map(|prefix| {
                shown.iter().find(|vb| vb.oid.starts_with(prefix)).and_then(|vb| match &vb.value {
                    // An ifIndex alone says which interface by number.
                    Value::Integer(i) if prefix.to_string() == IF_NAMES[2] => Some(format!("ifIndex {i}")),
                    // Another column of the peer table: the peer is its index.
                    _ if prefix.to_string() == BGP_PEER_ENTRY => match vb.oid.0.get(prefix.0.len()..) {
                        Some([_column, a, b, c, d]) => {
                            let octet = |x: &u32| u8::try_from(*x).ok();
                            Some(std::net::Ipv4Addr::new(octet(a)?, octet(b)?, octet(c)?, octet(d)?).to_string())
                        }
                        _ => None,
                    },
                    _ if prefix.to_string() == VRRP_MASTER => match vb.oid.0.get(prefix.0.len()..) {
                        Some([if_index, vrid]) => Some(format!("ifIndex {if_index} group {vrid}")),
                        _ => Some(vb.value.to_string()),
                    },
                    v => Some(v.to_string()),
                })
            })
        })
        .unwrap_or_default();
    let detail: Vec<String> = shown.iter().take(8).map(|vb| format!("{}={}", vb.oid, vb.value)).collect();
    // A link taken down by configuration is planned work, not a fault: it clears the link's
    // alarm, as IF-MIB polling and syslog's "administratively down" do.
    let shut = rule.is_some_and(|r| r.kind == "interface")
        && shown.iter().any(|vb| {
            Oid::parse(IF_ADMIN_STATUS).is_some_and(|p| vb.oid.starts_with(&p)) && vb.value == Value::Integer(2)
        });
    if shut {
        // Marked as syslog marks "administratively down", so correlation knows the shutdown.
        fields.insert("admin".into(), "down".into());
    }
    let said = if shut { format!("{name} (administratively down)") } else { name.clone() };
    let text = if detail.is_empty() { said } else { format!("{said} {}", detail.join(" ")) };
    Some(Event {
        received_at,
        occurred_at: None,
        source: "snmp-trap",
        sender,
        host: String::new(),
        item_id: None,
        kind: rule.map_or_else(|| "snmp.trap".to_owned(), |r| r.kind.clone()),
        object: if rule.is_some() { object } else { oid.to_string() },
        up: if shut { Some(true) } else { rule.and_then(|r| r.up) },
        severity: if shut { 5 } else { rule.map_or(5, |r| r.severity) },
        mnemonic: name,
        text,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snmp::decode;
    use crate::snmp::tests::{LINK_DOWN_V2C, hex};

    #[test]
    fn a_v2c_link_down_is_an_interface_down_event() {
        let m = decode(&hex(LINK_DOWN_V2C)).unwrap();
        let e = event(&m, "10.20.1.2", None, &standard_rules(), 7).unwrap();
        assert_eq!((e.kind.as_str(), e.object.as_str(), e.up, e.severity), ("interface", "ifIndex 4", Some(false), 3));
        assert_eq!(e.mnemonic, "linkDown");
        assert_eq!(e.fields["1.3.6.1.2.1.2.2.1.8.4"], "2");
        assert_eq!(e.fields["trap_oid"], "1.3.6.1.6.3.1.1.5.3");
        assert!(!e.fields.values().any(|v| v == "public"), "the community is a secret");
        assert_eq!(e.source, "snmp-trap");
    }

    fn v2_trap(trap: &str, varbinds: Vec<VarBind>) -> Message {
        let mut all =
            vec![VarBind { oid: Oid::parse(SNMP_TRAP_OID).unwrap(), value: Value::Oid(Oid::parse(trap).unwrap()) }];
        all.extend(varbinds);
        let pdu = crate::snmp::Pdu {
            kind: PduKind::TrapV2,
            request_id: 1,
            error_status: 0,
            error_index: 0,
            varbinds: all,
            v1: None,
        };
        Message { version: crate::snmp::Version::V2c, community: vec![], v3: None, pdu: Some(pdu), encrypted: None }
    }

    fn vb(oid: &str, value: Value) -> VarBind {
        VarBind { oid: Oid::parse(oid).unwrap(), value }
    }

    #[test]
    fn bgp_traps_name_the_peer_not_its_last_error() {
        // RFC 1657's bgpBackwardTransition: bgpPeerLastError and bgpPeerState, indexed by peer.
        let old = v2_trap(
            "1.3.6.1.2.1.15.7.2",
            vec![
                vb("1.3.6.1.2.1.15.3.1.14.192.0.2.7", Value::OctetString(vec![4, 0])),
                vb("1.3.6.1.2.1.15.3.1.2.192.0.2.7", Value::Integer(1)),
            ],
        );
        let e = event(&old, "10.0.0.1", None, &standard_rules(), 0).unwrap();
        assert_eq!((e.kind.as_str(), e.object.as_str(), e.up), ("bgp.session", "192.0.2.7", Some(false)));
        // RFC 4273's notification sends bgpPeerRemoteAddr itself.
        let new = v2_trap(
            "1.3.6.1.2.1.15.0.1",
            vec![
                vb("1.3.6.1.2.1.15.3.1.7.198.51.100.9", Value::IpAddress([198, 51, 100, 9])),
                vb("1.3.6.1.2.1.15.3.1.14.198.51.100.9", Value::OctetString(vec![0, 0])),
            ],
        );
        let e = event(&new, "10.0.0.1", None, &standard_rules(), 0).unwrap();
        assert_eq!((e.object.as_str(), e.up), ("198.51.100.9", Some(true)));
    }

    #[test]
    fn vrrp_traps_name_the_group_not_its_new_master() {
        let new_master = |if_index: u32, vrid: u32, master: [u8; 4]| {
            let oid = format!("1.3.6.1.2.1.68.1.3.1.7.{if_index}.{vrid}");
            let m = v2_trap("1.3.6.1.2.1.68.0.1", vec![vb(&oid, Value::IpAddress(master))]);
            event(&m, "10.0.0.1", None, &standard_rules(), 0).unwrap()
        };
        let a = new_master(5, 10, [10, 0, 0, 1]);
        assert_eq!((a.kind.as_str(), a.object.as_str()), ("vrrp.state", "ifIndex 5 group 10"));
        assert_eq!(new_master(5, 10, [10, 0, 0, 2]).object, a.object, "the same group under another master");
        assert_ne!(new_master(5, 20, [10, 0, 0, 1]).object, a.object, "two groups on one interface");
    }

    #[test]
    fn a_link_shut_by_configuration_clears_rather_than_raises() {
        let down = |admin| {
            v2_trap(
                "1.3.6.1.6.3.1.1.5.3",
                vec![
                    vb("1.3.6.1.2.1.2.2.1.1.4", Value::Integer(4)),
                    vb("1.3.6.1.2.1.2.2.1.7.4", Value::Integer(admin)),
                    vb("1.3.6.1.2.1.2.2.1.8.4", Value::Integer(2)),
                ],
            )
        };
        let fault = event(&down(1), "10.0.0.1", None, &standard_rules(), 0).unwrap();
        assert_eq!((fault.up, fault.severity), (Some(false), 3));
        let shut = event(&down(2), "10.0.0.1", None, &standard_rules(), 0).unwrap();
        assert_eq!((shut.up, shut.severity, shut.mnemonic.as_str()), (Some(true), 5, "linkDown"));
        assert!(shut.text.starts_with("linkDown (administratively down)"), "{}", shut.text);
    }

    #[test]
    fn v1_generic_and_enterprise_traps_map_by_rfc_3584() {
        let pdu = crate::snmp::Pdu {
            kind: PduKind::TrapV1,
            request_id: 0,
            error_status: 0,
            error_index: 0,
            varbinds: vec![],
            v1: Some(crate::snmp::TrapV1 {
                enterprise: Oid::parse("1.3.6.1.4.1.8072.3.2.10").unwrap(),
                agent_addr: [10, 20, 1, 3],
                generic: 2,
                specific: 0,
                time_stamp: 0,
            }),
        };
        let mut m =
            Message { version: crate::snmp::Version::V1, community: vec![], v3: None, pdu: Some(pdu), encrypted: None };
        let e = event(&m, "127.0.0.1", None, &standard_rules(), 0).unwrap();
        assert_eq!((e.kind.as_str(), e.sender.as_str(), e.up), ("interface", "10.20.1.3", Some(false)));
        if let Some(v1) = m.pdu.as_mut().and_then(|p| p.v1.as_mut()) {
            v1.generic = 6;
            v1.specific = 17;
        }
        assert_eq!(trap_oid(&m).unwrap().to_string(), "1.3.6.1.4.1.8072.3.2.10.0.17");
        let e = event(&m, "127.0.0.1", None, &standard_rules(), 0).unwrap();
        assert_eq!((e.kind.as_str(), e.object.as_str()), ("snmp.trap", "1.3.6.1.4.1.8072.3.2.10.0.17"));
    }
}
