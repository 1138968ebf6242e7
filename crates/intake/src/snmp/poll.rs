//! Polling an agent, without the network: the GetBulk requests that walk several table
//! columns side by side ([`Walk`]), what an agent's Report says went wrong ([`refusal`]), and
//! IF-MIB's rows read into `model::ifmib` interfaces. `probe` sends and receives.

use super::{Oid, Pdu, PduKind, Value, VarBind};
use model::ifmib::{Counter, Interface, Oper};
use std::collections::BTreeMap;
use std::fmt;

/// sysUpTime.0.
pub const SYS_UPTIME: &str = "1.3.6.1.2.1.1.3.0";

const IF_TABLE: &str = "1.3.6.1.2.1.2.2.1";
const IF_X_TABLE: &str = "1.3.6.1.2.1.31.1.1.1";
/// The IF-MIB columns a poll reads: (table, column, what).
const IF_COLUMNS: [(&str, u32, Col); 16] = [
    (IF_TABLE, 2, Col::Descr),
    (IF_TABLE, 5, Col::Speed),
    (IF_TABLE, 7, Col::Admin),
    (IF_TABLE, 8, Col::Oper),
    (IF_TABLE, 10, Col::InOctets),
    (IF_TABLE, 13, Col::InDiscards),
    (IF_TABLE, 14, Col::InErrors),
    (IF_TABLE, 16, Col::OutOctets),
    (IF_TABLE, 19, Col::OutDiscards),
    (IF_TABLE, 20, Col::OutErrors),
    (IF_X_TABLE, 1, Col::Name),
    (IF_X_TABLE, 6, Col::HcInOctets),
    (IF_X_TABLE, 10, Col::HcOutOctets),
    (IF_X_TABLE, 15, Col::HighSpeed),
    (IF_X_TABLE, 18, Col::Alias),
    // ifCounterDiscontinuityTime: read so a change can be told apart from traffic.
    (IF_X_TABLE, 19, Col::Discontinuity),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Descr,
    Speed,
    Admin,
    Oper,
    InOctets,
    InDiscards,
    InErrors,
    OutOctets,
    OutDiscards,
    OutErrors,
    Name,
    HcInOctets,
    HcOutOctets,
    HighSpeed,
    Alias,
    Discontinuity,
}

fn column_oid(table: &str, column: u32) -> Oid {
    let mut o = Oid::parse(table).unwrap_or_default();
    o.0.push(column);
    o
}

/// The columns an IF-MIB poll walks.
pub fn if_columns() -> Vec<Oid> {
    IF_COLUMNS.iter().map(|(t, c, _)| column_oid(t, *c)).collect()
}

/// Why a walk stopped short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError(pub String);

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WalkError {}

/// More rows than any device's interface tables hold: a bound on what one agent can make us keep.
const MAX_VARBINDS: usize = 200_000;

#[derive(Debug, Clone)]
struct Column {
    base: Oid,
    cursor: Oid,
    done: bool,
}

/// A walk of several columns at once by GetBulk (RFC 3416 §4.2.3): each request carries the
/// last name seen in every column not yet finished, and the answer's variables come back
/// row by row, one per column asked.
#[derive(Debug, Clone)]
pub struct Walk {
    columns: Vec<Column>,
    asked: Vec<usize>,
    found: Vec<VarBind>,
}

impl Walk {
    pub fn new(columns: &[Oid]) -> Walk {
        let columns = columns.iter().map(|c| Column { base: c.clone(), cursor: c.clone(), done: false }).collect();
        Walk { columns, asked: Vec::new(), found: Vec::new() }
    }

    /// The next request, asking for about `budget` variables in all; none once every column
    /// is walked.
    pub fn request(&mut self, request_id: i64, budget: usize) -> Option<Pdu> {
        self.asked = (0..self.columns.len()).filter(|&i| !self.columns[i].done).collect();
        if self.asked.is_empty() {
            return None;
        }
        let repetitions = (budget / self.asked.len()).max(1);
        let varbinds =
            self.asked.iter().map(|&i| VarBind { oid: self.columns[i].cursor.clone(), value: Value::Null }).collect();
        Some(Pdu {
            kind: PduKind::GetBulk,
            request_id,
            error_status: 0,
            error_index: repetitions as i64,
            varbinds,
            v1: None,
        })
    }

    /// Takes in the answer to the last request.
    pub fn absorb(&mut self, answer: &Pdu) -> Result<(), WalkError> {
        if answer.error_status != 0 {
            return Err(WalkError(format!(
                "the agent answered error-status {} ({}) at variable {}",
                answer.error_status,
                error_name(answer.error_status),
                answer.error_index
            )));
        }
        if answer.varbinds.is_empty() {
            for &i in &self.asked {
                self.columns[i].done = true;
            }
            return Ok(());
        }
        let mut moved = false;
        for (k, vb) in answer.varbinds.iter().enumerate() {
            let Some(&i) = self.asked.get(k % self.asked.len().max(1)) else { break };
            let col = &mut self.columns[i];
            if col.done {
                continue;
            }
            if matches!(vb.value, Value::EndOfMibView | Value::NoSuchObject | Value::NoSuchInstance)
                || !vb.oid.starts_with(&col.base)
            {
                col.done = true;
                continue;
            }
            if vb.oid <= col.cursor {
                return Err(WalkError(format!(
                    "the agent went back from {} to {} (OIDs not increasing)",
                    col.cursor, vb.oid
                )));
            }
            col.cursor = vb.oid.clone();
            moved = true;
            if self.found.len() >= MAX_VARBINDS {
                return Err(WalkError(format!("more than {MAX_VARBINDS} variables in the tables walked")));
            }
            self.found.push(vb.clone());
        }
        // An answer that moved no column on would be asked again for ever.
        if !moved && self.columns.iter().any(|c| !c.done) {
            for &i in &self.asked {
                self.columns[i].done = true;
            }
        }
        Ok(())
    }

    /// What was found.
    pub fn into_varbinds(self) -> Vec<VarBind> {
        self.found
    }
}

/// RFC 3416's error-status names.
pub fn error_name(code: i64) -> &'static str {
    match code {
        1 => "tooBig",
        2 => "noSuchName",
        3 => "badValue",
        4 => "readOnly",
        5 => "genErr",
        6 => "noAccess",
        16 => "authorizationError",
        _ => "error",
    }
}

/// What a Report says, when it is USM refusing or discovering (RFC 3414's usmStats
/// counters): a name and what to do.
pub fn refusal(report: &Pdu) -> Option<(&'static str, &'static str)> {
    let usm_stats = Oid::parse("1.3.6.1.6.3.15.1.1")?;
    let vb = report.varbinds.first()?;
    if !vb.oid.starts_with(&usm_stats) {
        return Some(("report", "the agent refused the request"));
    }
    Some(match vb.oid.0.get(usm_stats.0.len()) {
        Some(1) => ("unsupportedSecLevel", "the agent's user has another security level: check auth and privacy"),
        Some(2) => ("notInTimeWindow", "resynchronise the engine time"),
        Some(3) => ("unknownUserName", "the agent has no such user: check the credential's user name"),
        Some(4) => ("unknownEngineID", "discovery"),
        Some(5) => ("wrongDigest", "authentication failed: check the authentication passphrase and protocol"),
        Some(6) => ("decryptionError", "decryption failed: check the privacy passphrase and protocol"),
        _ => ("usmStats", "the agent refused the request"),
    })
}

fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(*i),
        Value::Gauge32(g) | Value::Counter32(g) | Value::TimeTicks(g) => Some(i64::from(*g)),
        _ => None,
    }
}

fn counter(v: &Value) -> Option<Counter> {
    match v {
        Value::Counter32(c) => Some(Counter::c32(*c)),
        Value::Counter64(c) => Some(Counter::c64(*c)),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::OctetString(b) => Some(String::from_utf8_lossy(b).trim_end_matches('\0').trim().to_owned()),
        _ => None,
    }
}

/// The interfaces the walked IF-MIB columns describe, by ifIndex: 64-bit counters preferred
/// to 32-bit ones, ifHighSpeed to ifSpeed (which saturates at 4.29 Gb/s), ifName to ifDescr.
pub fn interfaces(varbinds: &[VarBind]) -> Vec<Interface> {
    let columns: Vec<(Oid, Col)> = IF_COLUMNS.iter().map(|(t, c, what)| (column_oid(t, *c), *what)).collect();
    #[derive(Default)]
    struct Row {
        descr: Option<String>,
        name: Option<String>,
        alias: String,
        speed: Option<u64>,
        high_speed: Option<u64>,
        admin: Option<i64>,
        oper: Option<i64>,
        c: BTreeMap<u8, Counter>,
    }
    let mut rows: BTreeMap<u32, Row> = BTreeMap::new();
    for vb in varbinds {
        let Some((base, what)) = columns.iter().find(|(b, _)| vb.oid.starts_with(b)) else { continue };
        // Interface tables are indexed by ifIndex alone.
        let [index] = vb.oid.0[base.0.len()..] else { continue };
        let row = rows.entry(index).or_default();
        let v = &vb.value;
        match what {
            Col::Descr => row.descr = text(v),
            Col::Name => row.name = text(v),
            Col::Alias => row.alias = text(v).unwrap_or_default(),
            Col::Speed => row.speed = integer(v).map(|s| s.max(0) as u64),
            // An agent may send any INTEGER here; a speed past u64 is no speed anyone has.
            Col::HighSpeed => row.high_speed = integer(v).map(|s| (s.max(0) as u64).saturating_mul(1_000_000)),
            Col::Admin => row.admin = integer(v),
            Col::Oper => row.oper = integer(v),
            Col::Discontinuity => {}
            c => {
                if let Some(x) = counter(v) {
                    row.c.insert(*c as u8, x);
                }
            }
        }
    }
    rows.into_iter()
        .map(|(index, r)| {
            let c = |col: Col| r.c.get(&(col as u8)).copied();
            Interface {
                index,
                name: r.name.filter(|n| !n.is_empty()).or(r.descr).unwrap_or_else(|| format!("ifIndex {index}")),
                alias: r.alias,
                admin_up: r.admin == Some(1),
                oper: Oper::from_code(r.oper.unwrap_or(4)),
                speed_bps: r.high_speed.filter(|&s| s > 0).or(r.speed).unwrap_or(0),
                in_octets: c(Col::HcInOctets).or(c(Col::InOctets)),
                out_octets: c(Col::HcOutOctets).or(c(Col::OutOctets)),
                in_errors: c(Col::InErrors),
                out_errors: c(Col::OutErrors),
                in_discards: c(Col::InDiscards),
                out_discards: c(Col::OutDiscards),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snmp::usm::{AuthProtocol, Engine, PrivProtocol, User, UserKeys, Usm, open_answer, seal};
    use crate::snmp::{Version, decode, encode_community};

    fn vb(oid: &str, value: Value) -> VarBind {
        VarBind { oid: Oid::parse(oid).unwrap(), value }
    }

    #[test]
    fn a_walk_follows_each_column_to_its_end() {
        let cols = [Oid::parse("1.3.6.1.2.1.2.2.1.2").unwrap(), Oid::parse("1.3.6.1.2.1.2.2.1.8").unwrap()];
        let mut w = Walk::new(&cols);
        let req = w.request(1, 4).unwrap();
        assert_eq!((req.kind, req.error_index, req.varbinds.len()), (PduKind::GetBulk, 2, 2));
        // Row by row: descr 1, oper 1, descr 2, oper 2.
        let answer = |varbinds| Pdu {
            kind: PduKind::Response,
            request_id: 1,
            error_status: 0,
            error_index: 0,
            varbinds,
            v1: None,
        };
        w.absorb(&answer(vec![
            vb("1.3.6.1.2.1.2.2.1.2.1", Value::OctetString(b"lo".to_vec())),
            vb("1.3.6.1.2.1.2.2.1.8.1", Value::Integer(1)),
            vb("1.3.6.1.2.1.2.2.1.2.2", Value::OctetString(b"eth0".to_vec())),
            vb("1.3.6.1.2.1.2.2.1.8.2", Value::Integer(2)),
        ]))
        .unwrap();
        let next = w.request(2, 4).unwrap();
        assert_eq!(next.varbinds[0].oid.to_string(), "1.3.6.1.2.1.2.2.1.2.2");
        // The descr column runs into the next column; oper runs off the MIB.
        w.absorb(&answer(vec![
            vb("1.3.6.1.2.1.2.2.1.3.1", Value::Integer(24)),
            vb("1.3.6.1.2.1.2.2.1.8.3", Value::Integer(1)),
            vb("1.3.6.1.2.1.2.2.1.3.2", Value::Integer(6)),
            vb("1.3.6.1.2.1.2.2.1.8.3", Value::EndOfMibView),
        ]))
        .unwrap();
        assert!(w.request(3, 4).is_none());
        let found = w.into_varbinds();
        assert_eq!(found.len(), 5);
        let ifs = interfaces(&found);
        assert_eq!(
            ifs.iter().map(|i| (i.index, i.name.as_str(), i.oper)).collect::<Vec<_>>(),
            vec![(1, "lo", Oper::Up), (2, "eth0", Oper::Down), (3, "ifIndex 3", Oper::Up)]
        );
    }

    #[test]
    fn an_agent_going_back_or_standing_still_ends_the_walk() {
        let mut w = Walk::new(&[Oid::parse("1.3.6.1.2.1.2.2.1.2").unwrap()]);
        w.request(1, 10);
        let back = Pdu {
            kind: PduKind::Response,
            request_id: 1,
            error_status: 0,
            error_index: 0,
            varbinds: vec![vb("1.3.6.1.2.1.2.2.1.2.5", Value::Null), vb("1.3.6.1.2.1.2.2.1.2.4", Value::Null)],
            v1: None,
        };
        assert!(w.absorb(&back).unwrap_err().0.contains("not increasing"));
        let mut w = Walk::new(&[Oid::parse("1.3.6.1.2.1.2.2.1.2").unwrap()]);
        w.request(1, 10);
        let refused = Pdu { error_status: 16, ..back };
        assert!(w.absorb(&refused).unwrap_err().0.contains("authorizationError"));
    }

    #[test]
    fn high_capacity_counters_and_speeds_win() {
        let ifs = interfaces(&[
            vb("1.3.6.1.2.1.2.2.1.5.7", Value::Gauge32(u32::MAX)),
            vb("1.3.6.1.2.1.31.1.1.1.15.7", Value::Gauge32(10_000)),
            vb("1.3.6.1.2.1.2.2.1.10.7", Value::Counter32(5)),
            vb("1.3.6.1.2.1.31.1.1.1.6.7", Value::Counter64(1 << 40)),
            vb("1.3.6.1.2.1.2.2.1.16.7", Value::Counter32(9)),
            vb("1.3.6.1.2.1.2.2.1.7.7", Value::Integer(1)),
            vb("1.3.6.1.2.1.31.1.1.1.1.7", Value::OctetString(b"Te1/1".to_vec())),
            vb("1.3.6.1.2.1.31.1.1.1.18.7", Value::OctetString(b"uplink to core".to_vec())),
        ]);
        let i = &ifs[0];
        assert_eq!((i.name.as_str(), i.alias.as_str(), i.speed_bps), ("Te1/1", "uplink to core", 10_000_000_000));
        assert_eq!(i.in_octets, Some(Counter::c64(1 << 40)));
        assert_eq!(i.out_octets, Some(Counter::c32(9)));
        assert!(i.admin_up);
    }

    #[test]
    fn an_absurd_high_speed_saturates_rather_than_overflowing() {
        let rows = interfaces(&[
            vb("1.3.6.1.2.1.2.2.1.2.7", Value::OctetString(b"Te1/1".to_vec())),
            vb("1.3.6.1.2.1.31.1.1.1.15.7", Value::Integer(i64::MAX)),
        ]);
        assert_eq!(rows[0].speed_bps, u64::MAX);
    }

    #[test]
    fn sealed_requests_open_with_the_same_keys_and_not_others() {
        let engine = Engine { id: vec![0x80, 0, 0x1f, 0x88, 4, 1, 2, 3], boots: 3, time: 12345 };
        let get = Pdu {
            kind: PduKind::Get,
            request_id: 77,
            error_status: 0,
            error_index: 0,
            varbinds: vec![vb(SYS_UPTIME, Value::Null)],
            v1: None,
        };
        for (auth, privacy) in [
            (AuthProtocol::Sha1, Some(PrivProtocol::Aes128)),
            (AuthProtocol::Md5, Some(PrivProtocol::Des)),
            (AuthProtocol::Sha256, None),
        ] {
            let user = User {
                name: "poller".into(),
                auth: Some((auth, "authpass123".into())),
                privacy: privacy.map(|p| (p, "privpass123".into())),
            };
            let keys = UserKeys::new(user.clone()).localize(&engine.id);
            let datagram = seal(&keys, &engine, 9, &get, 0x0102_0304_0506_0708);
            // The agent's side of USM (the one traps are received with) reads it.
            let mut m = decode(&datagram).unwrap();
            Usm::new(vec![user]).open(&datagram, &mut m).unwrap();
            assert_eq!(m.pdu.as_ref().unwrap().varbinds, get.varbinds);
            assert_eq!(open_answer(&keys, &datagram).unwrap().pdu.unwrap().request_id, 77);
            let other = UserKeys::new(User {
                name: "poller".into(),
                auth: Some((auth, "another-pass".into())),
                privacy: privacy.map(|p| (p, "privpass123".into())),
            })
            .localize(&engine.id);
            assert!(open_answer(&other, &datagram).is_err(), "a MAC made with other keys does not verify");
        }
        // v2c: a community message as net-snmp would read it.
        let m = decode(&encode_community(Version::V2c, b"public", &get)).unwrap();
        assert_eq!((m.version, m.community.as_slice()), (Version::V2c, b"public".as_slice()));
    }
}
