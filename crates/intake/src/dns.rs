//! DNS messages (RFC 1035) as a DNS check needs them: a query for one name and record type,
//! and an answer read into its response code, flags and records — A, AAAA, CNAME, NS, PTR,
//! MX, TXT and SOA as text, any other type by its number. Names are decompressed with
//! pointers that must point backwards, so a hostile answer cannot loop; an answer that does
//! not read is an error, never a panic.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The record types a check may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    A,
    Ns,
    Cname,
    Soa,
    Ptr,
    Mx,
    Txt,
    Aaaa,
}

impl RecordType {
    pub const ALL: [RecordType; 8] = [
        RecordType::A,
        RecordType::Ns,
        RecordType::Cname,
        RecordType::Soa,
        RecordType::Ptr,
        RecordType::Mx,
        RecordType::Txt,
        RecordType::Aaaa,
    ];

    pub fn code(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Ns => 2,
            RecordType::Cname => 5,
            RecordType::Soa => 6,
            RecordType::Ptr => 12,
            RecordType::Mx => 15,
            RecordType::Txt => 16,
            RecordType::Aaaa => 28,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Ns => "NS",
            RecordType::Cname => "CNAME",
            RecordType::Soa => "SOA",
            RecordType::Ptr => "PTR",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Aaaa => "AAAA",
        }
    }

    /// By name, any case: `a`, `AAAA`, `mx`…
    pub fn parse(s: &str) -> Option<RecordType> {
        RecordType::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }

    fn of_code(code: u16) -> Option<RecordType> {
        RecordType::ALL.into_iter().find(|t| t.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsError {
    /// The name cannot be asked for: empty label, a label over 63 bytes, over 253 in all.
    BadName(String),
    /// The answer does not read: where, and why.
    Malformed(usize, &'static str),
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnsError::BadName(why) => write!(f, "not a DNS name: {why}"),
            DnsError::Malformed(at, why) => write!(f, "malformed DNS answer at byte {at}: {why}"),
        }
    }
}

impl std::error::Error for DnsError {}

/// One record of an answer's answer section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Without the trailing dot, lower case.
    pub name: String,
    pub rtype: u16,
    pub ttl: u32,
    /// As `dig +short` writes it: an address, a name, `10 mx.example.org`, the text.
    pub data: String,
}

impl Record {
    pub fn type_name(&self) -> String {
        RecordType::of_code(self.rtype).map_or_else(|| format!("TYPE{}", self.rtype), |t| t.as_str().to_owned())
    }
}

/// An answer as a check reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub id: u16,
    pub rcode: u8,
    /// Cut to fit a datagram: ask again over TCP.
    pub truncated: bool,
    pub authoritative: bool,
    pub records: Vec<Record>,
}

/// RFC 1035's and RFC 6895's names of the common response codes.
pub fn rcode_name(rcode: u8) -> &'static str {
    match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        _ => "an unknown response code",
    }
}

/// A standard query for `name` and `rtype`, recursion desired.
pub fn query(id: u16, name: &str, rtype: RecordType) -> Result<Vec<u8>, DnsError> {
    let mut m = Vec::with_capacity(18 + name.len());
    m.extend(id.to_be_bytes());
    m.extend([0x01, 0x00]); // RD
    m.extend([0, 1, 0, 0, 0, 0, 0, 0]); // one question
    let trimmed = name.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        return Err(DnsError::BadName("empty".into()));
    }
    if trimmed.len() > 253 {
        return Err(DnsError::BadName(format!("{} bytes, at most 253", trimmed.len())));
    }
    for label in trimmed.split('.') {
        let n = u8::try_from(label.len()).ok().filter(|n| (1..=63).contains(n));
        let Some(n) = n else {
            return Err(DnsError::BadName(format!("label `{label}`: 1 to 63 bytes")));
        };
        m.push(n);
        m.extend(label.as_bytes());
    }
    m.push(0);
    m.extend(rtype.code().to_be_bytes());
    m.extend([0, 1]); // IN
    Ok(m)
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&[u8], DnsError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len()).ok_or(DnsError::Malformed(self.at, what))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, DnsError> {
        let s = self.take(2, what)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, DnsError> {
        let s = self.take(4, what)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    /// A name at the reader's place, compression pointers followed; the reader moves past
    /// the name as written here.
    fn name(&mut self) -> Result<String, DnsError> {
        let (name, end) = read_name(self.b, self.at)?;
        self.at = end;
        Ok(name)
    }
}

/// Reads the name at `start`: returns it and where the bytes after it (as written at
/// `start`) begin. Each pointer must point before the label it replaces, so reading ends.
fn read_name(b: &[u8], start: usize) -> Result<(String, usize), DnsError> {
    let mut labels: Vec<String> = Vec::new();
    let (mut at, mut end, mut len) = (start, None, 0usize);
    loop {
        let n = *b.get(at).ok_or(DnsError::Malformed(at, "a name runs past the end"))?;
        match n {
            0 => {
                let after = end.unwrap_or(at + 1);
                return Ok((labels.join("."), after));
            }
            n if n & 0xC0 == 0xC0 => {
                let low = *b.get(at + 1).ok_or(DnsError::Malformed(at, "a name pointer is cut short"))?;
                let target = usize::from(n & 0x3F) << 8 | usize::from(low);
                if target >= at {
                    return Err(DnsError::Malformed(at, "a name pointer points forward"));
                }
                end.get_or_insert(at + 2);
                at = target;
            }
            n if n & 0xC0 == 0 => {
                let n = usize::from(n);
                let label = b.get(at + 1..at + 1 + n).ok_or(DnsError::Malformed(at, "a label runs past the end"))?;
                len += n + 1;
                if len > 255 {
                    return Err(DnsError::Malformed(at, "a name longer than 255 bytes"));
                }
                labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
                at += 1 + n;
            }
            _ => return Err(DnsError::Malformed(at, "a label type that is not defined")),
        }
    }
}

/// Reads an answer: its header, the question skipped, the answer section's records.
pub fn decode(b: &[u8]) -> Result<Answer, DnsError> {
    let mut r = Reader { b, at: 0 };
    let id = r.u16("the header is cut short")?;
    let flags = r.u16("the header is cut short")?;
    if flags & 0x8000 == 0 {
        return Err(DnsError::Malformed(2, "a query, not an answer"));
    }
    let (qd, an) = (r.u16("the header is cut short")?, r.u16("the header is cut short")?);
    r.take(4, "the header is cut short")?;
    for _ in 0..qd {
        r.name()?;
        r.take(4, "a question is cut short")?;
    }
    let mut records = Vec::with_capacity(usize::from(an.min(64)));
    for _ in 0..an {
        let name = r.name()?;
        let rtype = r.u16("a record is cut short")?;
        r.u16("a record is cut short")?;
        let ttl = r.u32("a record is cut short")?;
        let len = usize::from(r.u16("a record is cut short")?);
        let start = r.at;
        let rdata = r.take(len, "a record's data runs past the end")?;
        let data = rdata_text(b, start, rdata, rtype)?;
        records.push(Record { name, rtype, ttl, data });
    }
    Ok(Answer {
        id,
        rcode: u8::try_from(flags & 0x000F).unwrap_or(0),
        truncated: flags & 0x0200 != 0,
        authoritative: flags & 0x0400 != 0,
        records,
    })
}

/// A record's data as text; names inside it may point anywhere before them in the message.
fn rdata_text(b: &[u8], start: usize, rdata: &[u8], rtype: u16) -> Result<String, DnsError> {
    let name_at = |offset: usize| -> Result<(String, usize), DnsError> {
        let (name, end) = read_name(b, start + offset)?;
        if end > start + rdata.len() {
            return Err(DnsError::Malformed(start, "a name runs past its record"));
        }
        Ok((name, end - start))
    };
    Ok(match RecordType::of_code(rtype) {
        Some(RecordType::A) => match <[u8; 4]>::try_from(rdata) {
            Ok(a) => Ipv4Addr::from(a).to_string(),
            Err(_) => return Err(DnsError::Malformed(start, "an A record is not four bytes")),
        },
        Some(RecordType::Aaaa) => match <[u8; 16]>::try_from(rdata) {
            Ok(a) => Ipv6Addr::from(a).to_string(),
            Err(_) => return Err(DnsError::Malformed(start, "an AAAA record is not sixteen bytes")),
        },
        Some(RecordType::Ns | RecordType::Cname | RecordType::Ptr) => name_at(0)?.0,
        Some(RecordType::Mx) => {
            let pref = rdata.get(..2).ok_or(DnsError::Malformed(start, "an MX record is cut short"))?;
            format!("{} {}", u16::from_be_bytes([pref[0], pref[1]]), name_at(2)?.0)
        }
        Some(RecordType::Soa) => {
            let (mname, after) = name_at(0)?;
            let (rname, after) = name_at(after)?;
            let serial = rdata.get(after..after + 4).ok_or(DnsError::Malformed(start, "an SOA record is cut short"))?;
            format!("{mname} {rname} {}", u32::from_be_bytes([serial[0], serial[1], serial[2], serial[3]]))
        }
        Some(RecordType::Txt) => {
            let (mut parts, mut at) = (Vec::new(), 0);
            while at < rdata.len() {
                let n = usize::from(rdata[at]);
                let s = rdata
                    .get(at + 1..at + 1 + n)
                    .ok_or(DnsError::Malformed(start + at, "a TXT string is cut short"))?;
                parts.push(String::from_utf8_lossy(s).into_owned());
                at += 1 + n;
            }
            parts.concat()
        }
        None => rdata.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An answer as a server would write it: the question, then `records` (name pointer to
    /// the question, type, TTL 300, data).
    fn answer(id: u16, flags: u16, q: &[u8], records: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend(id.to_be_bytes());
        m.extend(flags.to_be_bytes());
        m.extend([0, 1]);
        m.extend(u16::try_from(records.len()).unwrap().to_be_bytes());
        m.extend([0, 0, 0, 0]);
        m.extend(&q[12..]);
        for (t, data) in records {
            m.extend([0xC0, 12]);
            m.extend(t.to_be_bytes());
            m.extend([0, 1, 0, 0, 1, 44]);
            m.extend(u16::try_from(data.len()).unwrap().to_be_bytes());
            m.extend(data);
        }
        m
    }

    #[test]
    fn a_query_names_its_question() {
        let q = query(0x1234, "PLC.lab.", RecordType::A).unwrap();
        assert_eq!(&q[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(&q[12..], b"\x03PLC\x03lab\x00\x00\x01\x00\x01");
        assert!(matches!(query(1, "a..b", RecordType::A), Err(DnsError::BadName(_))));
        assert!(matches!(query(1, &"x".repeat(64), RecordType::A), Err(DnsError::BadName(_))));
        assert!(matches!(query(1, " ", RecordType::Mx), Err(DnsError::BadName(_))));
    }

    #[test]
    fn answers_read_as_dig_short_writes_them() {
        let q = query(7, "plc.lab", RecordType::A).unwrap();
        let mut mx = vec![0, 10];
        mx.extend([0xC0, 12]);
        let txt = b"\x05hello\x06 world".to_vec();
        let m = answer(
            7,
            0x8580,
            &q,
            &[(1, vec![10, 1, 2, 3]), (15, mx), (16, txt), (28, [0u8; 15].iter().copied().chain([1]).collect())],
        );
        let a = decode(&m).unwrap();
        assert_eq!((a.id, a.rcode, a.authoritative, a.truncated), (7, 0, true, false));
        let data: Vec<(String, &str)> = a.records.iter().map(|r| (r.type_name(), r.data.as_str())).collect();
        assert_eq!(
            data,
            [
                ("A".to_owned(), "10.1.2.3"),
                ("MX".to_owned(), "10 plc.lab"),
                ("TXT".to_owned(), "hello world"),
                ("AAAA".to_owned(), "::1")
            ]
        );
        assert_eq!((a.records[0].name.as_str(), a.records[0].ttl), ("plc.lab", 300));
        let nx = decode(&answer(8, 0x8183, &q, &[])).unwrap();
        assert_eq!((rcode_name(nx.rcode), nx.records.len()), ("NXDOMAIN", 0));
    }

    #[test]
    fn hostile_answers_are_refused_not_followed() {
        let q = query(9, "plc.lab", RecordType::Cname).unwrap();
        // A CNAME whose target points at itself.
        let mut m = answer(9, 0x8180, &q, &[(5, vec![0xC0, 0])]);
        let at = m.len() - 2;
        m[at + 1] = u8::try_from(at).unwrap();
        assert_eq!(decode(&m), Err(DnsError::Malformed(at, "a name pointer points forward")));
        assert!(decode(&q).is_err(), "a query is not an answer");
        assert!(decode(&answer(9, 0x8180, &q, &[(1, vec![1, 2, 3])])).is_err(), "a short A record");
        assert!(decode(&[0x80]).is_err());
    }

    /// Answers dnsmasq gave (kept as the fuzz target's seeds).
    #[test]
    fn dnsmasqs_answers_read() {
        let read = |b: &[u8]| {
            let a = decode(b).unwrap();
            (a.rcode, a.records.iter().map(|r| format!("{} {}", r.type_name(), r.data)).collect::<Vec<_>>())
        };
        assert_eq!(read(include_bytes!("../../../fuzz/seeds/dns/dnsmasq-a.bin")), (0, vec!["A 10.1.2.3".into()]));
        assert_eq!(
            read(include_bytes!("../../../fuzz/seeds/dns/dnsmasq-aaaa.bin")),
            (0, vec!["AAAA 2001:db8::3".into()])
        );
        assert_eq!(
            read(include_bytes!("../../../fuzz/seeds/dns/dnsmasq-cname.bin")),
            (0, vec!["CNAME historian.plant.lab".into(), "A 10.1.2.3".into()])
        );
        assert_eq!(
            read(include_bytes!("../../../fuzz/seeds/dns/dnsmasq-mx.bin")),
            (0, vec!["MX 10 mail.plant.lab".into()])
        );
        assert_eq!(
            read(include_bytes!("../../../fuzz/seeds/dns/dnsmasq-txt.bin")),
            (0, vec!["TXT v=spf1 -all".into()])
        );
        assert_eq!(read(include_bytes!("../../../fuzz/seeds/dns/dnsmasq-nxdomain.bin")), (3, vec![]));
    }

    proptest! {
        #[test]
        fn any_bytes_decode_or_fail_without_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn a_name_asked_is_the_name_answered(labels in proptest::collection::vec("[a-z0-9-]{1,20}", 1..6),
                                             addr in any::<[u8; 4]>(), id in any::<u16>()) {
            let name = labels.join(".");
            let q = query(id, &name, RecordType::A).unwrap();
            let a = decode(&answer(id, 0x8180, &q, &[(1, addr.to_vec())])).unwrap();
            prop_assert_eq!(a.id, id);
            prop_assert_eq!(&a.records[0].name, &name);
            prop_assert_eq!(&a.records[0].data, &Ipv4Addr::from(addr).to_string());
        }

        #[test]
        fn cut_answers_fail(cut in 0usize..40) {
            let q = query(1, "historian.plant.lab", RecordType::A).unwrap();
            let m = answer(1, 0x8180, &q, &[(1, vec![10, 0, 0, 1])]);
            prop_assert!(decode(&m[..cut.min(m.len() - 1)]).is_err());
        }
    }
}
