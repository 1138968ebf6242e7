//! The tamper-evident audit log's rules: what a record is, how it is hashed, how the chain
//! is verified.
//!
//! Each record's hash covers its own canonical content and its predecessor's hash, so an
//! edit, a deletion, an insertion or a reordering anywhere breaks the chain from that record
//! on. The newest record's sequence number and hash are also kept apart (the *head*), so
//! cutting records off the end is caught too.

use sha2::{Digest, Sha256};
use std::fmt;

/// The hash the first record points back to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a state change was, before it is sealed into the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Epoch milliseconds.
    pub at_ms: i64,
    /// Who: a username, `system`, or `cli:<os user>`.
    pub actor: String,
    /// From where: a source address, or `cli`.
    pub source: String,
    /// What, as `noun.verb` (`user.create`, `session.login_failed`).
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    /// The object before the change, as JSON text; `None` for a creation.
    pub before: Option<String>,
    /// The object after the change, as JSON text; `None` for a deletion.
    pub after: Option<String>,
}

/// A sealed record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub event: AuditEvent,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// Seals `event` as record `seq`, following the record whose hash is `prev_hash`.
    pub fn seal(seq: i64, event: AuditEvent, prev_hash: &str) -> Self {
        let hash = record_hash(seq, &event, prev_hash);
        AuditRecord { seq, event, prev_hash: prev_hash.to_owned(), hash }
    }
}

/// SHA-256 over the predecessor's hash and a length-prefixed encoding of every field, so no
/// two different records share an encoding (no field can borrow bytes from its neighbour).
pub fn record_hash(seq: i64, e: &AuditEvent, prev_hash: &str) -> String {
    let mut h = Sha256::new();
    let mut field = |name: &str, value: Option<&str>| {
        h.update(name.as_bytes());
        match value {
            None => h.update(b"\x00"),
            Some(v) => {
                h.update(b"\x01");
                h.update((v.len() as u64).to_be_bytes());
                h.update(v.as_bytes());
            }
        }
    };
    field("prev", Some(prev_hash));
    field("seq", Some(&seq.to_string()));
    field("at", Some(&e.at_ms.to_string()));
    field("actor", Some(&e.actor));
    field("source", Some(&e.source));
    field("action", Some(&e.action));
    field("target_type", Some(&e.target_type));
    field("target_id", Some(&e.target_id));
    field("before", e.before.as_deref());
    field("after", e.after.as_deref());
    hex::encode(h.finalize())
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The record's content no longer matches its hash: it was edited.
    Edited { seq: i64 },
    /// The record does not point at its predecessor: something before it was edited,
    /// inserted or removed.
    Unlinked { seq: i64 },
    /// Sequence numbers jump: records `expected..found` are missing.
    Gap { expected: i64, found: i64 },
    /// A sequence number repeats or goes backwards: records were inserted or reordered.
    OutOfOrder { seq: i64, after: i64 },
    /// The newest record is not the one the head names: records were cut off the end
    /// (or the head itself was altered).
    HeadMismatch { head_seq: i64, last_seq: i64 },
}

impl ChainBreak {
    /// The first record at which the chain is known to be bad.
    pub fn seq(&self) -> i64 {
        match *self {
            ChainBreak::Edited { seq } | ChainBreak::Unlinked { seq } => seq,
            ChainBreak::Gap { expected, .. } => expected,
            ChainBreak::OutOfOrder { seq, .. } => seq,
            ChainBreak::HeadMismatch { last_seq, head_seq } => last_seq.min(head_seq) + 1,
        }
    }
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainBreak::Edited { seq } => {
                write!(f, "record {seq} was edited: its content does not match its hash")
            }
            ChainBreak::Unlinked { seq } => write!(
                f,
                "record {seq} does not follow its predecessor: a record before it was edited, inserted or removed"
            ),
            ChainBreak::Gap { expected, found } => {
                write!(f, "records {expected} to {} are missing (next present is {found})", found - 1)
            }
            ChainBreak::OutOfOrder { seq, after } => {
                write!(f, "record {seq} comes after record {after}: records were inserted or reordered")
            }
            ChainBreak::HeadMismatch { head_seq, last_seq } => write!(
                f,
                "the log ends at record {last_seq} but its head names record {head_seq}: records were removed from the end or the head was altered"
            ),
        }
    }
}

/// Incremental verifier, so that a long log can be checked as a stream.
#[derive(Debug)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: String,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { last_seq: 0, last_hash: GENESIS.to_owned(), checked: 0 }
    }
}

impl ChainVerifier {
    /// Checks the next record in sequence order.
    pub fn push(&mut self, r: &AuditRecord) -> Result<(), ChainBreak> {
        if r.seq <= self.last_seq {
            return Err(ChainBreak::OutOfOrder { seq: r.seq, after: self.last_seq });
        }
        if r.seq != self.last_seq + 1 {
            return Err(ChainBreak::Gap { expected: self.last_seq + 1, found: r.seq });
        }
        if record_hash(r.seq, &r.event, &r.prev_hash) != r.hash {
            return Err(ChainBreak::Edited { seq: r.seq });
        }
        if r.prev_hash != self.last_hash {
            return Err(ChainBreak::Unlinked { seq: r.seq });
        }
        self.last_seq = r.seq;
        self.last_hash.clone_from(&r.hash);
        self.checked += 1;
        Ok(())
    }

    /// Checks the end of the log against the head. `head` is `None` when the log is empty.
    pub fn finish(self, head: Option<(i64, &str)>) -> Result<u64, ChainBreak> {
        let (head_seq, head_hash) = head.unwrap_or((0, GENESIS));
        if head_seq != self.last_seq || head_hash != self.last_hash {
            return Err(ChainBreak::HeadMismatch { head_seq, last_seq: self.last_seq });
        }
        Ok(self.checked)
    }
}

/// Verifies a whole chain held in memory.
pub fn verify<'a>(
    records: impl IntoIterator<Item = &'a AuditRecord>,
    head: Option<(i64, &str)>,
) -> Result<u64, ChainBreak> {
    let mut v = ChainVerifier::default();
    for r in records {
        v.push(r)?;
    }
    v.finish(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event(i: u32) -> AuditEvent {
        AuditEvent {
            at_ms: 1_700_000_000_000 + i64::from(i),
            actor: format!("user{}", i % 3),
            source: "127.0.0.1".into(),
            action: "user.create".into(),
            target_type: "user".into(),
            target_id: i.to_string(),
            before: i.is_multiple_of(2).then(|| format!("{{\"n\":{i}}}")),
            after: Some(format!("{{\"n\":{}}}", i + 1)),
        }
    }

    fn chain(n: u32) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let prev = out.last().map_or(GENESIS.to_owned(), |r| r.hash.clone());
            out.push(AuditRecord::seal(i64::from(i) + 1, event(i), &prev));
        }
        out
    }

    fn head(c: &[AuditRecord]) -> Option<(i64, &str)> {
        c.last().map(|r| (r.seq, r.hash.as_str()))
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, head(&c)), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn field_boundaries_matter() {
        let mut a = event(1);
        let mut b = event(1);
        a.actor = "ab".into();
        a.source = "c".into();
        b.actor = "a".into();
        b.source = "bc".into();
        assert_ne!(record_hash(1, &a, GENESIS), record_hash(1, &b, GENESIS));
        a.before = None;
        b.actor = "ab".into();
        b.source = "c".into();
        b.before = Some(String::new());
        assert_ne!(record_hash(1, &a, GENESIS), record_hash(1, &b, GENESIS));
    }

    proptest! {
        #[test]
        fn any_edit_is_caught_at_the_edited_record(n in 2u32..30, k in 0usize..30, what in 0u8..4) {
            let mut c = chain(n);
            let k = k % c.len();
            let h = head(&c).map(|(s, h)| (s, h.to_owned()));
            match what {
                0 => c[k].event.actor.push('x'),
                1 => c[k].event.after = None,
                2 => c[k].event.at_ms += 1,
                _ => c[k].event.action = "user.delete".into(),
            }
            let err = verify(&c, h.as_ref().map(|(s, h)| (*s, h.as_str()))).unwrap_err();
            prop_assert_eq!(err, ChainBreak::Edited { seq: k as i64 + 1 });
        }

        #[test]
        fn deletion_anywhere_is_caught(n in 2u32..30, k in 0usize..30) {
            let mut c = chain(n);
            let k = k % c.len();
            let h = head(&c).map(|(s, h)| (s, h.to_owned()));
            c.remove(k);
            let err = verify(&c, h.as_ref().map(|(s, h)| (*s, h.as_str()))).unwrap_err();
            prop_assert_eq!(err.seq(), k as i64 + 1);
        }

        #[test]
        fn reordering_is_caught(n in 3u32..30, a in 0usize..30, b in 0usize..30) {
            let mut c = chain(n);
            let (a, b) = (a % c.len(), b % c.len());
            prop_assume!(a != b);
            let h = head(&c).map(|(s, h)| (s, h.to_owned()));
            c.swap(a, b);
            prop_assert!(verify(&c, h.as_ref().map(|(s, h)| (*s, h.as_str()))).is_err());
        }

        #[test]
        fn a_forged_insertion_is_caught(n in 2u32..30, k in 0usize..30) {
            let mut c = chain(n);
            let k = k % c.len();
            let h = head(&c).map(|(s, h)| (s, h.to_owned()));
            // The forger renumbers the rest and reseals the inserted record itself, but cannot
            // reseal its successors without rewriting the whole tail and the head.
            let prev = if k == 0 { GENESIS.to_owned() } else { c[k - 1].hash.clone() };
            let forged = AuditRecord::seal(k as i64 + 1, event(999), &prev);
            for r in c.iter_mut().skip(k) { r.seq += 1; }
            c.insert(k, forged);
            let err = verify(&c, h.as_ref().map(|(s, h)| (*s, h.as_str()))).unwrap_err();
            prop_assert_eq!(err.seq(), k as i64 + 2);
        }
    }
}
