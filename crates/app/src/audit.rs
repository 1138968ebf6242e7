//! Reading, filtering and verifying the audit log. Writing happens only inside other
//! use-cases' transactions, through [`event`].

use crate::{Actor, App, Result};
use model::audit::{AuditEvent, AuditRecord, ChainBreak, ChainVerifier};
use model::list::{self, ListQuery};
use model::{FieldError, Invalid, Perm};
use store::AUDIT_LIST;

/// Builds the audit event for a change `actor` made at `at_ms`.
pub(crate) fn event(
    actor: &Actor,
    at_ms: i64,
    action: &str,
    target_type: &str,
    target_id: &str,
    before: Option<String>,
    after: Option<String>,
) -> AuditEvent {
    AuditEvent {
        at_ms,
        actor: actor.name.clone(),
        source: actor.source.clone(),
        action: action.to_owned(),
        target_type: target_type.to_owned(),
        target_id: target_id.to_owned(),
        before,
        after,
    }
}

/// A validated audit query: the list convention plus a time range.
#[derive(Debug, Clone)]
pub struct AuditFilter {
    pub list: ListQuery,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

/// `2026-11-22`, `2026-11-22T08:00:00Z` or epoch milliseconds.
fn parse_instant(field: &str, raw: &str) -> Result<i64, FieldError> {
    if let Ok(ms) = raw.parse::<i64>() {
        return Ok(ms);
    }
    if let Ok(ts) = raw.parse::<jiff::Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    if let Ok(d) = raw.parse::<jiff::civil::Date>()
        && let Ok(z) = d.to_zoned(jiff::tz::TimeZone::UTC)
    {
        return Ok(z.timestamp().as_millisecond());
    }
    Err(FieldError::new(
        field,
        format!("`{raw}` is not a date (2026-11-22), an RFC 3339 instant or epoch milliseconds"),
    ))
}

impl AuditFilter {
    pub fn parse(pairs: &[(String, String)]) -> Result<AuditFilter, Invalid> {
        let list = list::parse(&AUDIT_LIST, pairs)?;
        let mut errors = Vec::new();
        let mut get = |name: &str| {
            list.filter(name).map(|raw| parse_instant(name, raw)).and_then(|r| r.map_err(|e| errors.push(e)).ok())
        };
        let from_ms = get("from");
        let to_ms = get("to");
        Invalid::check(errors)?;
        Ok(AuditFilter { list, from_ms, to_ms })
    }
}

/// The outcome of a full chain verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub records: u64,
    pub head_seq: i64,
    pub head_hash: String,
}

impl App {
    pub async fn audit_list(&self, actor: &Actor, f: &AuditFilter) -> Result<(Vec<AuditRecord>, i64)> {
        actor.require(Perm::AuditRead)?;
        let page = self.store.audit_list(&f.list, f.from_ms, f.to_ms).await?;
        Ok((page.records, page.total))
    }

    /// Every matching record, oldest first, in pages, for export. `each` gets one page at a time
    /// so an export of a long log never holds it all in memory.
    pub async fn audit_export(
        &self,
        actor: &Actor,
        f: &AuditFilter,
        mut each: impl FnMut(&[AuditRecord]),
    ) -> Result<u64> {
        actor.require(Perm::AuditRead)?;
        let mut q = f.list.clone();
        q.limit = model::list::MAX_LIMIT;
        q.offset = 0;
        q.sort = model::list::Sort { field: "seq", descending: false };
        let mut n = 0;
        loop {
            let page = self.store.audit_list(&q, f.from_ms, f.to_ms).await?;
            if page.records.is_empty() {
                return Ok(n);
            }
            each(&page.records);
            n += page.records.len() as u64;
            q.offset += page.records.len() as u64;
        }
    }

    /// Walks the whole chain. `progress` is told how many records have been checked.
    pub async fn audit_verify(&self, mut progress: impl FnMut(u64, i64)) -> Result<Result<VerifyReport, ChainBreak>> {
        let (head_seq, head_hash) = self.store.audit_head().await?;
        let mut v = ChainVerifier::default();
        let mut after = 0;
        let mut checked = 0;
        loop {
            let batch = self.store.audit_batch(after, 2000).await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for r in &batch {
                if let Err(b) = v.push(r) {
                    return Ok(Err(b));
                }
            }
            checked += batch.len() as u64;
            progress(checked, head_seq);
        }
        Ok(v.finish(Some((head_seq, &head_hash))).map(|records| VerifyReport { records, head_seq, head_hash }))
    }
}
