//! The part of BER (X.690) that SNMP uses: definite lengths, single-byte tags, and the
//! SMI's application types. Reading never panics and names the byte where it stopped; writing
//! builds a TLV from its content.

use std::fmt;

/// Why bytes did not read, and where (the byte offset in the buffer given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BerError {
    pub offset: usize,
    pub what: String,
}

impl fmt::Display for BerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.what)
    }
}

impl std::error::Error for BerError {}

pub type Result<T> = std::result::Result<T, BerError>;

pub const INTEGER: u8 = 0x02;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;
pub const SEQUENCE: u8 = 0x30;
pub const IP_ADDRESS: u8 = 0x40;
pub const COUNTER32: u8 = 0x41;
pub const GAUGE32: u8 = 0x42;
pub const TIMETICKS: u8 = 0x43;
pub const OPAQUE: u8 = 0x44;
pub const COUNTER64: u8 = 0x46;
pub const NO_SUCH_OBJECT: u8 = 0x80;
pub const NO_SUCH_INSTANCE: u8 = 0x81;
pub const END_OF_MIB_VIEW: u8 = 0x82;

/// One element: its tag, its content, and where the content starts in the whole buffer.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    /// Offset of `content` in the buffer the outermost reader was given.
    pub at: usize,
}

/// Reads elements one after another from a slice that starts at `base` in the whole buffer.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0, base: 0 }
    }

    /// A reader over an element's content.
    pub fn inside(t: &Tlv<'a>) -> Self {
        Reader { bytes: t.content, pos: 0, base: t.at }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// Where the next element starts, in the whole buffer.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    fn fail<T>(&self, what: impl Into<String>) -> Result<T> {
        Err(BerError { offset: self.offset(), what: what.into() })
    }

    pub fn element(&mut self) -> Result<Tlv<'a>> {
        let Some(&tag) = self.bytes.get(self.pos) else { return self.fail("expected an element, found the end") };
        if tag & 0x1f == 0x1f {
            return self.fail(format!("tag {tag:#04x} uses the multi-byte form, which SNMP never does"));
        }
        let Some(&first) = self.bytes.get(self.pos + 1) else { return self.fail("the length is missing") };
        let (len, header) = match first {
            0..=0x7f => (usize::from(first), 2),
            0x80 => return self.fail("indefinite lengths are not allowed in SNMP"),
            0x81..=0x84 => {
                let n = usize::from(first & 0x7f);
                let Some(digits) = self.bytes.get(self.pos + 2..self.pos + 2 + n) else {
                    return self.fail("the length is cut short");
                };
                (digits.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)), 2 + n)
            }
            _ => return self.fail(format!("a length of {} bytes is more than SNMP needs", first & 0x7f)),
        };
        let start = self.pos + header;
        let Some(content) = start.checked_add(len).and_then(|end| self.bytes.get(start..end)) else {
            return self
                .fail(format!("the element says {len} bytes; {} remain", self.bytes.len().saturating_sub(start)));
        };
        let t = Tlv { tag, content, at: self.base + start };
        self.pos = start + len;
        Ok(t)
    }

    /// The next element, which must have `tag`.
    pub fn expect(&mut self, tag: u8, what: &str) -> Result<Tlv<'a>> {
        let at = self.offset();
        let t = self.element()?;
        if t.tag != tag {
            return Err(BerError {
                offset: at,
                what: format!("{what}: expected tag {tag:#04x}, found {:#04x}", t.tag),
            });
        }
        Ok(t)
    }

    pub fn integer(&mut self, what: &str) -> Result<i64> {
        let t = self.expect(INTEGER, what)?;
        integer(&t, what)
    }

    pub fn octets(&mut self, what: &str) -> Result<&'a [u8]> {
        Ok(self.expect(OCTET_STRING, what)?.content)
    }
}

/// A two's-complement INTEGER of at most 8 bytes.
pub fn integer(t: &Tlv<'_>, what: &str) -> Result<i64> {
    let b = t.content;
    if b.is_empty() || b.len() > 8 {
        return Err(BerError { offset: t.at, what: format!("{what}: an INTEGER of {} bytes", b.len()) });
    }
    let init: i64 = if b[0] & 0x80 != 0 { -1 } else { 0 };
    Ok(b.iter().fold(init, |acc, &x| (acc << 8) | i64::from(x)))
}

/// An unsigned application integer (Counter32, Gauge32, TimeTicks, Counter64) of up to
/// `max_bits`, with BER's optional leading zero.
pub fn unsigned(t: &Tlv<'_>, max_bits: u32) -> Result<u64> {
    let b = t.content;
    let digits = match b {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => b,
    };
    if b.is_empty() || digits.len() * 8 > max_bits as usize {
        return Err(BerError { offset: t.at, what: format!("an unsigned {max_bits}-bit value of {} bytes", b.len()) });
    }
    Ok(digits.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
}

/// An object identifier's arcs.
pub fn oid(t: &Tlv<'_>) -> Result<Vec<u32>> {
    let b = t.content;
    if b.is_empty() {
        return Err(BerError { offset: t.at, what: "an empty OBJECT IDENTIFIER".into() });
    }
    let mut arcs = Vec::with_capacity(b.len() + 1);
    let mut value: u64 = 0;
    let mut first_arc = true;
    for (i, &byte) in b.iter().enumerate() {
        value = (value << 7) | u64::from(byte & 0x7f);
        if value > u64::from(u32::MAX) * 128 {
            return Err(BerError { offset: t.at + i, what: "an OID arc beyond 32 bits".into() });
        }
        if byte & 0x80 == 0 {
            if first_arc {
                let (x, y) = if value < 80 { (value / 40, value % 40) } else { (2, value - 80) };
                let Ok(y) = u32::try_from(y) else {
                    return Err(BerError { offset: t.at, what: "an OID arc beyond 32 bits".into() });
                };
                arcs.extend([x as u32, y]);
                first_arc = false;
            } else {
                let Ok(v) = u32::try_from(value) else {
                    return Err(BerError { offset: t.at + i, what: "an OID arc beyond 32 bits".into() });
                };
                arcs.push(v);
            }
            value = 0;
        } else if i == b.len() - 1 {
            return Err(BerError { offset: t.at + i, what: "an OID arc is cut short".into() });
        }
    }
    Ok(arcs)
}

/// A whole TLV: `tag`, BER length, `content`.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// An INTEGER in the fewest bytes.
pub fn int(v: i64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut start = 0;
    while start < 7 && ((b[start] == 0 && b[start + 1] & 0x80 == 0) || (b[start] == 0xff && b[start + 1] & 0x80 != 0)) {
        start += 1;
    }
    tlv(INTEGER, &b[start..])
}

/// An unsigned application value (`tag`: Counter32, Gauge32, TimeTicks, Counter64).
pub fn unsigned_tlv(tag: u8, v: u64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let start = b.iter().position(|&x| x != 0).unwrap_or(7);
    let mut content = Vec::with_capacity(9);
    if b[start] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&b[start..]);
    tlv(tag, &content)
}

/// An OBJECT IDENTIFIER (at least two arcs; the first 0–2).
pub fn oid_tlv(arcs: &[u32]) -> Vec<u8> {
    let mut content = Vec::with_capacity(arcs.len() + 4);
    let (x, y) = (arcs.first().copied().unwrap_or(0), arcs.get(1).copied().unwrap_or(0));
    let mut put = |v: u64| {
        let mut groups = Vec::with_capacity(5);
        let mut v = v;
        groups.push((v & 0x7f) as u8);
        v >>= 7;
        while v > 0 {
            groups.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        content.extend(groups.iter().rev());
    };
    put(u64::from(x.min(2)) * 40 + u64::from(y));
    for &a in arcs.iter().skip(2) {
        put(u64::from(a));
    }
    tlv(OID, &content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lengths_short_and_long() {
        let long = tlv(OCTET_STRING, &[7u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let t = Reader::new(&long).element().unwrap();
        assert_eq!((t.tag, t.content.len(), t.at), (OCTET_STRING, 300, 4));
        let err = Reader::new(&[0x04, 0x05, 1, 2]).element().unwrap_err();
        assert_eq!(err.offset, 0);
        assert!(err.what.contains("says 5 bytes; 2 remain"), "{err}");
        assert!(Reader::new(&[0x30, 0x80]).element().unwrap_err().what.contains("indefinite"));
        assert!(Reader::new(&[0x1f, 0x01, 0x00]).element().is_err());
    }

    #[test]
    fn oids_read_and_write() {
        let link_down = [0x06, 0x09, 0x2b, 0x06, 0x01, 0x06, 0x03, 0x01, 0x01, 0x05, 0x03];
        let t = Reader::new(&link_down).element().unwrap();
        assert_eq!(oid(&t).unwrap(), [1, 3, 6, 1, 6, 3, 1, 1, 5, 3]);
        assert_eq!(oid_tlv(&[1, 3, 6, 1, 6, 3, 1, 1, 5, 3]), link_down);
        let big = oid_tlv(&[1, 3, 6, 1, 4, 1, 4_294_967_295]);
        assert_eq!(oid(&Reader::new(&big).element().unwrap()).unwrap(), [1, 3, 6, 1, 4, 1, 4_294_967_295]);
        assert!(oid(&Reader::new(&[0x06, 0x02, 0x2b, 0x86]).element().unwrap()).is_err(), "cut short");
    }

    #[test]
    fn integers_are_twos_complement() {
        for v in [0i64, 1, 127, 128, 255, 256, -1, -128, -129, i64::MAX, i64::MIN] {
            let b = int(v);
            assert_eq!(integer(&Reader::new(&b).element().unwrap(), "v").unwrap(), v, "{v}: {b:02x?}");
        }
        assert_eq!(int(128), [0x02, 0x02, 0x00, 0x80]);
        let c = unsigned_tlv(COUNTER32, 0xffff_ffff);
        assert_eq!(c, [0x41, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(unsigned(&Reader::new(&c).element().unwrap(), 32).unwrap(), 0xffff_ffff);
        assert!(unsigned(&Reader::new(&[0x41, 0x05, 1, 0, 0, 0, 0]).element().unwrap(), 32).is_err());
    }

    proptest! {
        #[test]
        fn reading_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&bytes);
            while let Ok(t) = r.element() {
                let _ = oid(&t);
                let _ = integer(&t, "x");
                let _ = unsigned(&t, 64);
            }
        }

        #[test]
        fn oids_round_trip(arcs in proptest::collection::vec(any::<u32>(), 0..12), x in 0u32..3, y in 0u32..40) {
            let mut all = vec![x, y];
            all.extend(arcs);
            let b = oid_tlv(&all);
            prop_assert_eq!(oid(&Reader::new(&b).element().unwrap()).unwrap(), all);
        }

        #[test]
        fn integers_round_trip(v in any::<i64>()) {
            let b = int(v);
            prop_assert_eq!(integer(&Reader::new(&b).element().unwrap(), "v").unwrap(), v);
        }
    }
}
