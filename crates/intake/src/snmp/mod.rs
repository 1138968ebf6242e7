//! SNMP messages as notification senders write them: v1 and v2c (RFC 1157, 1901, 3416) and
//! v3 with the User-based Security Model (RFC 3412, 3414; `usm`), read from a datagram into
//! one [`Message`] and written back for the answer an inform needs. `trap` turns a
//! notification into an event. Nothing here does IO; every reader takes any bytes and says
//! what did not read, and where.

pub mod ber;
pub mod poll;
pub mod trap;
pub mod usm;

use ber::{BerError, Reader, Tlv};
use std::fmt;

/// An object identifier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Oid(pub Vec<u32>);

impl Oid {
    /// Parses `1.3.6.1…` (a leading dot allowed).
    pub fn parse(s: &str) -> Option<Oid> {
        let arcs: Option<Vec<u32>> = s.trim().trim_start_matches('.').split('.').map(|a| a.parse().ok()).collect();
        arcs.filter(|a| a.len() >= 2).map(Oid)
    }

    pub fn starts_with(&self, prefix: &Oid) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

/// A variable's value, as the SMI types it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Integer(i64),
    OctetString(Vec<u8>),
    Null,
    Oid(Oid),
    IpAddress([u8; 4]),
    Counter32(u32),
    Gauge32(u32),
    TimeTicks(u32),
    Opaque(Vec<u8>),
    Counter64(u64),
    NoSuchObject,
    NoSuchInstance,
    EndOfMibView,
}

impl fmt::Display for Value {
    /// As a person reads it: text when the octets are printable, hex otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Integer(v) => write!(f, "{v}"),
            Value::OctetString(b) | Value::Opaque(b) => match std::str::from_utf8(b) {
                Ok(s) if s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t') => f.write_str(s),
                _ => {
                    for (i, x) in b.iter().enumerate() {
                        write!(f, "{}{x:02x}", if i > 0 { ":" } else { "" })?;
                    }
                    Ok(())
                }
            },
            Value::Null => f.write_str("null"),
            Value::Oid(o) => write!(f, "{o}"),
            Value::IpAddress(a) => write!(f, "{}", std::net::Ipv4Addr::from(*a)),
            Value::Counter32(v) | Value::Gauge32(v) | Value::TimeTicks(v) => write!(f, "{v}"),
            Value::Counter64(v) => write!(f, "{v}"),
            Value::NoSuchObject => f.write_str("noSuchObject"),
            Value::NoSuchInstance => f.write_str("noSuchInstance"),
            Value::EndOfMibView => f.write_str("endOfMibView"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarBind {
    pub oid: Oid,
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PduKind {
    Get,
    GetNext,
    Response,
    Set,
    /// SNMPv1's Trap-PDU.
    TrapV1,
    GetBulk,
    Inform,
    TrapV2,
    Report,
}

impl PduKind {
    fn from_tag(tag: u8) -> Option<PduKind> {
        Some(match tag {
            0xa0 => PduKind::Get,
            0xa1 => PduKind::GetNext,
            0xa2 => PduKind::Response,
            0xa3 => PduKind::Set,
            0xa4 => PduKind::TrapV1,
            0xa5 => PduKind::GetBulk,
            0xa6 => PduKind::Inform,
            0xa7 => PduKind::TrapV2,
            0xa8 => PduKind::Report,
            _ => return None,
        })
    }

    pub fn tag(self) -> u8 {
        match self {
            PduKind::Get => 0xa0,
            PduKind::GetNext => 0xa1,
            PduKind::Response => 0xa2,
            PduKind::Set => 0xa3,
            PduKind::TrapV1 => 0xa4,
            PduKind::GetBulk => 0xa5,
            PduKind::Inform => 0xa6,
            PduKind::TrapV2 => 0xa7,
            PduKind::Report => 0xa8,
        }
    }
}

/// What an SNMPv1 Trap-PDU carries besides its variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrapV1 {
    pub enterprise: Oid,
    pub agent_addr: [u8; 4],
    pub generic: i64,
    pub specific: i64,
    pub time_stamp: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu {
    pub kind: PduKind,
    pub request_id: i64,
    /// error-status, or non-repeaters for GetBulk.
    pub error_status: i64,
    /// error-index, or max-repetitions for GetBulk.
    pub error_index: i64,
    pub varbinds: Vec<VarBind>,
    pub v1: Option<TrapV1>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2c,
    V3,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "v1",
            Version::V2c => "v2c",
            Version::V3 => "v3",
        }
    }
}

/// SNMPv3's header and USM parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct V3Header {
    pub msg_id: i64,
    pub max_size: i64,
    pub flags: u8,
    pub security_model: i64,
    pub engine_id: Vec<u8>,
    pub engine_boots: i64,
    pub engine_time: i64,
    pub user: Vec<u8>,
    pub auth_params: Vec<u8>,
    pub priv_params: Vec<u8>,
    /// Where `auth_params`' content sits in the datagram (zeroed to check the MAC).
    pub auth_at: usize,
    pub context_engine_id: Vec<u8>,
    pub context_name: Vec<u8>,
}

pub const FLAG_AUTH: u8 = 0x01;
pub const FLAG_PRIV: u8 = 0x02;
pub const FLAG_REPORTABLE: u8 = 0x04;

/// A message as read. A v3 message with privacy holds no PDU until `usm` decrypts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub version: Version,
    /// v1 and v2c.
    pub community: Vec<u8>,
    pub v3: Option<V3Header>,
    pub pdu: Option<Pdu>,
    /// v3 with privacy: the encrypted scoped PDU.
    pub encrypted: Option<Vec<u8>>,
}

fn value(t: &Tlv<'_>) -> Result<Value, BerError> {
    let fixed = |bits| ber::unsigned(t, bits);
    Ok(match t.tag {
        ber::INTEGER => Value::Integer(ber::integer(t, "value")?),
        ber::OCTET_STRING => Value::OctetString(t.content.to_vec()),
        ber::NULL => Value::Null,
        ber::OID => Value::Oid(Oid(ber::oid(t)?)),
        ber::IP_ADDRESS => match <[u8; 4]>::try_from(t.content) {
            Ok(a) => Value::IpAddress(a),
            Err(_) => return Err(BerError { offset: t.at, what: "an IpAddress is 4 bytes".into() }),
        },
        ber::COUNTER32 => Value::Counter32(fixed(32)? as u32),
        ber::GAUGE32 => Value::Gauge32(fixed(32)? as u32),
        ber::TIMETICKS => Value::TimeTicks(fixed(32)? as u32),
        ber::OPAQUE => Value::Opaque(t.content.to_vec()),
        ber::COUNTER64 => Value::Counter64(fixed(64)?),
        ber::NO_SUCH_OBJECT => Value::NoSuchObject,
        ber::NO_SUCH_INSTANCE => Value::NoSuchInstance,
        ber::END_OF_MIB_VIEW => Value::EndOfMibView,
        other => return Err(BerError { offset: t.at, what: format!("a value of unknown type {other:#04x}") }),
    })
}

fn varbinds(r: &mut Reader<'_>) -> Result<Vec<VarBind>, BerError> {
    let list = r.expect(ber::SEQUENCE, "variable-bindings")?;
    let mut items = Reader::inside(&list);
    let mut out = Vec::new();
    while !items.is_empty() {
        let vb = items.expect(ber::SEQUENCE, "a variable binding")?;
        let mut inner = Reader::inside(&vb);
        let oid = Oid(ber::oid(&inner.expect(ber::OID, "a variable's name")?)?);
        let v = value(&inner.element()?)?;
        out.push(VarBind { oid, value: v });
    }
    Ok(out)
}

/// Reads a PDU (the element itself, tag included).
pub fn read_pdu(r: &mut Reader<'_>) -> Result<Pdu, BerError> {
    let at = r.offset();
    let t = r.element()?;
    let Some(kind) = PduKind::from_tag(t.tag) else {
        return Err(BerError { offset: at, what: format!("a PDU of unknown type {:#04x}", t.tag) });
    };
    let mut p = Reader::inside(&t);
    if kind == PduKind::TrapV1 {
        let enterprise = Oid(ber::oid(&p.expect(ber::OID, "enterprise")?)?);
        let addr = p.expect(ber::IP_ADDRESS, "agent-addr")?;
        let agent_addr = <[u8; 4]>::try_from(addr.content)
            .map_err(|_| BerError { offset: addr.at, what: "agent-addr is 4 bytes".into() })?;
        let generic = p.integer("generic-trap")?;
        let specific = p.integer("specific-trap")?;
        let ts = p.expect(ber::TIMETICKS, "time-stamp")?;
        let time_stamp = ber::unsigned(&ts, 32)? as u32;
        let varbinds = varbinds(&mut p)?;
        return Ok(Pdu {
            kind,
            request_id: 0,
            error_status: 0,
            error_index: 0,
            varbinds,
            v1: Some(TrapV1 { enterprise, agent_addr, generic, specific, time_stamp }),
        });
    }
    let request_id = p.integer("request-id")?;
    let error_status = p.integer("error-status")?;
    let error_index = p.integer("error-index")?;
    let varbinds = varbinds(&mut p)?;
    Ok(Pdu { kind, request_id, error_status, error_index, varbinds, v1: None })
}

/// Reads a scoped PDU (v3): context engine id, context name, PDU. Bytes after it (block
/// cipher padding) are ignored.
pub fn read_scoped_pdu(bytes: &[u8], h: &mut V3Header) -> Result<Pdu, BerError> {
    let mut r = Reader::new(bytes);
    let scoped = r.expect(ber::SEQUENCE, "scopedPDU")?;
    let mut s = Reader::inside(&scoped);
    h.context_engine_id = s.octets("contextEngineID")?.to_vec();
    h.context_name = s.octets("contextName")?.to_vec();
    read_pdu(&mut s)
}

/// Reads one datagram.
pub fn decode(bytes: &[u8]) -> Result<Message, BerError> {
    let mut top = Reader::new(bytes);
    let msg = top.expect(ber::SEQUENCE, "message")?;
    let mut m = Reader::inside(&msg);
    let version = match m.integer("version")? {
        0 => Version::V1,
        1 => Version::V2c,
        3 => Version::V3,
        v => return Err(BerError { offset: 0, what: format!("SNMP version {v} is not 0 (v1), 1 (v2c) or 3 (v3)") }),
    };
    if version != Version::V3 {
        let community = m.octets("community")?.to_vec();
        let pdu = read_pdu(&mut m)?;
        return Ok(Message { version, community, v3: None, pdu: Some(pdu), encrypted: None });
    }
    let global = m.expect(ber::SEQUENCE, "msgGlobalData")?;
    let mut g = Reader::inside(&global);
    let mut h = V3Header {
        msg_id: g.integer("msgID")?,
        max_size: g.integer("msgMaxSize")?,
        flags: g.octets("msgFlags")?.first().copied().unwrap_or(0),
        security_model: g.integer("msgSecurityModel")?,
        ..V3Header::default()
    };
    if h.security_model != 3 {
        return Err(BerError {
            offset: global.at,
            what: format!("security model {} is not USM (3)", h.security_model),
        });
    }
    let sp = m.expect(ber::OCTET_STRING, "msgSecurityParameters")?;
    let mut sr = Reader::inside(&sp);
    let usm = sr.expect(ber::SEQUENCE, "UsmSecurityParameters")?;
    let mut u = Reader::inside(&usm);
    h.engine_id = u.octets("msgAuthoritativeEngineID")?.to_vec();
    h.engine_boots = u.integer("msgAuthoritativeEngineBoots")?;
    h.engine_time = u.integer("msgAuthoritativeEngineTime")?;
    h.user = u.octets("msgUserName")?.to_vec();
    let auth = u.expect(ber::OCTET_STRING, "msgAuthenticationParameters")?;
    h.auth_params = auth.content.to_vec();
    h.auth_at = auth.at;
    h.priv_params = u.octets("msgPrivacyParameters")?.to_vec();
    if h.flags & FLAG_PRIV != 0 {
        let data = m.octets("encryptedPDU")?.to_vec();
        return Ok(Message { version, community: Vec::new(), v3: Some(h), pdu: None, encrypted: Some(data) });
    }
    let at = m.offset();
    let rest = bytes.get(at..).unwrap_or_default();
    let pdu = read_scoped_pdu(rest, &mut h).map_err(|e| BerError { offset: e.offset + at, what: e.what })?;
    Ok(Message { version, community: Vec::new(), v3: Some(h), pdu: Some(pdu), encrypted: None })
}

fn encode_value(v: &Value) -> Vec<u8> {
    match v {
        Value::Integer(i) => ber::int(*i),
        Value::OctetString(b) => ber::tlv(ber::OCTET_STRING, b),
        Value::Null => ber::tlv(ber::NULL, &[]),
        Value::Oid(o) => ber::oid_tlv(&o.0),
        Value::IpAddress(a) => ber::tlv(ber::IP_ADDRESS, a),
        Value::Counter32(c) => ber::unsigned_tlv(ber::COUNTER32, u64::from(*c)),
        Value::Gauge32(c) => ber::unsigned_tlv(ber::GAUGE32, u64::from(*c)),
        Value::TimeTicks(c) => ber::unsigned_tlv(ber::TIMETICKS, u64::from(*c)),
        Value::Opaque(b) => ber::tlv(ber::OPAQUE, b),
        Value::Counter64(c) => ber::unsigned_tlv(ber::COUNTER64, *c),
        Value::NoSuchObject => ber::tlv(ber::NO_SUCH_OBJECT, &[]),
        Value::NoSuchInstance => ber::tlv(ber::NO_SUCH_INSTANCE, &[]),
        Value::EndOfMibView => ber::tlv(ber::END_OF_MIB_VIEW, &[]),
    }
}

/// Writes a (non-v1-trap) PDU.
pub fn encode_pdu(p: &Pdu) -> Vec<u8> {
    let mut list = Vec::new();
    for vb in &p.varbinds {
        let mut one = ber::oid_tlv(&vb.oid.0);
        one.extend(encode_value(&vb.value));
        list.extend(ber::tlv(ber::SEQUENCE, &one));
    }
    let mut body = ber::int(p.request_id);
    body.extend(ber::int(p.error_status));
    body.extend(ber::int(p.error_index));
    body.extend(ber::tlv(ber::SEQUENCE, &list));
    ber::tlv(p.kind.tag(), &body)
}

/// Writes a v1 or v2c message.
pub fn encode_community(version: Version, community: &[u8], pdu: &Pdu) -> Vec<u8> {
    let mut body = ber::int(if version == Version::V1 { 0 } else { 1 });
    body.extend(ber::tlv(ber::OCTET_STRING, community));
    body.extend(encode_pdu(pdu));
    ber::tlv(ber::SEQUENCE, &body)
}

/// The Response an inform is acknowledged with: the same request id and variables.
pub fn inform_response(inform: &Pdu) -> Pdu {
    Pdu { kind: PduKind::Response, error_status: 0, error_index: 0, v1: None, ..inform.clone() }
}

/// The fuzz target `snmp`: any bytes as a datagram — read, opened by a USM with one user of
/// each kind (so MAC checks and decryption run on whatever the fuzzer makes), turned into an
/// event, and an inform's answer written; and read as an agent's answer to a poll (opened
/// with a poller's keys, absorbed by an IF-MIB walk, its rows read) — without a panic. Also replayed over the seeds in
/// `cargo test`.
pub fn fuzz_one(data: &[u8]) {
    use std::sync::{Mutex, OnceLock};
    use usm::{AuthProtocol, PrivProtocol, User};
    static USM: OnceLock<Mutex<usm::Usm>> = OnceLock::new();
    let usm = USM.get_or_init(|| {
        let user = |name: &str, a: Option<AuthProtocol>, p: Option<PrivProtocol>| User {
            name: name.into(),
            auth: a.map(|a| (a, "authpass123".into())),
            privacy: p.map(|p| (p, "privpass123".into())),
        };
        Mutex::new(usm::Usm::new(vec![
            user("trapuser", Some(AuthProtocol::Sha1), Some(PrivProtocol::Aes128)),
            user("desuser", Some(AuthProtocol::Md5), Some(PrivProtocol::Des)),
            user("authuser", Some(AuthProtocol::Sha256), None),
            user("plain", None, None),
        ]))
    });
    static POLLER: OnceLock<usm::LocalKeys> = OnceLock::new();
    let poller = POLLER.get_or_init(|| {
        let u = User {
            name: "poller".into(),
            auth: Some((AuthProtocol::Sha1, "authpass123".into())),
            privacy: Some((PrivProtocol::Aes128, "privpass123".into())),
        };
        usm::UserKeys::new(u).localize(b"\x80\x00\x1f\x88\x04fuzz")
    });
    let answer = usm::open_answer(poller, data).ok().and_then(|m| m.pdu).or_else(|| decode(data).ok()?.pdu);
    if let Some(p) = answer {
        let mut walk = poll::Walk::new(&poll::if_columns());
        let _ = walk.request(1, 48);
        let _ = walk.absorb(&p);
        let _ = poll::refusal(&p);
        let _ = poll::interfaces(&p.varbinds);
        let _ = poll::interfaces(&walk.into_varbinds());
    }
    let Ok(mut m) = decode(data) else { return };
    let mut name = None;
    if m.v3.is_some()
        && let Ok(mut u) = usm.lock()
    {
        name = u.open(data, &mut m).ok();
    }
    let _ = trap::event(&m, "127.0.0.1", name.as_deref(), &trap::standard_rules(), 0);
    if let Some(p) = m.pdu.as_ref().filter(|p| p.kind == PduKind::Inform) {
        let answer = encode_community(m.version, &m.community, &inform_response(p));
        assert!(decode(&answer).is_ok(), "an answer written reads back");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The v2c linkDown trap `snmptrap` sent, captured (see the monitoring reference).
    pub(crate) const LINK_DOWN_V2C: &str = "3077020101040670756\
        26c6963a76a02043b40194a020100020100305c300e06082b060102010103004302303930170\
        60a2b06010603010104010006092b0601060301010503300f060a2b0601020102020101040201\
        04300f060a2b060102010202010704020101300f060a2b060102010202010804020102";

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn a_captured_v2c_link_down_reads() {
        let m = decode(&hex(LINK_DOWN_V2C)).unwrap();
        assert_eq!((m.version, m.community.as_slice()), (Version::V2c, &b"public"[..]));
        let p = m.pdu.unwrap();
        assert_eq!((p.kind, p.request_id), (PduKind::TrapV2, 0x3b40_194a));
        assert_eq!(p.varbinds.len(), 5);
        assert_eq!(p.varbinds[0].value, Value::TimeTicks(12345));
        assert_eq!(p.varbinds[1].value, Value::Oid(Oid::parse("1.3.6.1.6.3.1.1.5.3").unwrap()));
        assert_eq!(p.varbinds[4].oid.to_string(), "1.3.6.1.2.1.2.2.1.8.4");
        assert_eq!(p.varbinds[4].value, Value::Integer(2));
        // Written back, it is the same bytes.
        assert_eq!(encode_community(Version::V2c, b"public", &p), hex(LINK_DOWN_V2C));
    }

    #[test]
    fn the_fuzz_seeds_pass() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/snmp");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            fuzz_one(&std::fs::read(entry.unwrap().path()).unwrap());
            n += 1;
        }
        assert!(n >= 4, "{n} seeds");
    }

    #[test]
    fn a_captured_v1_trap_reads() {
        let v1 = "303d02010004067075626c6963a430060a2b06010401bf0803020a40040a140103020102020100430303fe4e3011300f\
                  060a2b060102010202010104020104";
        let m = decode(&hex(v1)).unwrap();
        let p = m.pdu.unwrap();
        let t = p.v1.unwrap();
        assert_eq!((m.version, t.generic, t.agent_addr), (Version::V1, 2, [10, 20, 1, 3]));
        assert_eq!(t.enterprise.to_string(), "1.3.6.1.4.1.8072.3.2.10");
    }

    #[test]
    fn bad_datagrams_say_where() {
        let mut b = hex(LINK_DOWN_V2C);
        b[4] = 2; // version 2 does not exist
        assert!(decode(&b).unwrap_err().what.contains("version 2"));
        let cut = &hex(LINK_DOWN_V2C)[..60];
        let e = decode(cut).unwrap_err();
        assert!(e.what.contains("remain"), "{e}");
        assert!(decode(b"").is_err());
        assert!(decode(b"<13>Jan 1 00:00:00 host app: syslog on the trap port").is_err());
    }
}
