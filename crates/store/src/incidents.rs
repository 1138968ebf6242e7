//! Incidents and their journal (state changes, assignments, work notes, comments).

use crate::{Result, Store, Tx, on, on_tx};
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct IncidentRow {
    pub id: i64,
    pub number: String,
    pub short_description: String,
    pub description: String,
    pub caller: String,
    pub category: String,
    pub subcategory: String,
    pub item_id: Option<i64>,
    /// The item's name and its site's slug and time zone, when it names one.
    pub item: Option<String>,
    pub site: Option<String>,
    pub time_zone: Option<String>,
    pub impact: String,
    pub urgency: String,
    pub priority: i64,
    pub matrix: String,
    pub matrix_version: i64,
    pub priority_reason: String,
    pub state: String,
    pub hold_reason: Option<String>,
    pub assignment_group: String,
    pub assignee: Option<String>,
    pub resolution_code: String,
    pub resolution_notes: String,
    pub opened_at_ms: i64,
    pub resolved_at_ms: Option<i64>,
    pub updated_at_ms: i64,
    pub version: i64,
    /// The parent incident's number, when this one is a child.
    pub parent: Option<String>,
    pub satisfaction: Option<i64>,
    pub verified_by: Option<String>,
    pub closed_at_ms: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JournalRow {
    pub at_ms: i64,
    pub actor: String,
    pub kind: String,
    pub state: Option<String>,
    pub hold_reason: Option<String>,
    pub text: String,
}

/// A journal entry with its id: the cursor a live timeline resumes from. Ids grow with
/// every write, while `at_ms` need not (a mark the sweep records is dated when it was
/// crossed), so "after this id" is what catches every new entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimelineRow {
    pub id: i64,
    #[sqlx(flatten)]
    pub entry: JournalRow,
}

/// What a queue shows.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter<'a> {
    pub open_only: bool,
    pub assignee: Option<&'a str>,
    /// Any of these assignment groups.
    pub groups: &'a [String],
    pub unassigned: bool,
    pub priority: Option<i64>,
    /// Major incidents under way.
    pub major: bool,
    /// Breaching soon: a running clock past its at-risk mark by this instant.
    pub at_risk_by: Option<i64>,
    /// Words to find (number, short description, description, resolution notes).
    pub search: Option<&'a str>,
    /// Only incidents on items at these sites (a site-scoped account's); empty: all.
    pub sites: &'a [String],
    pub category: Option<&'a str>,
    /// Assigned to this group.
    pub group: Option<&'a str>,
    pub limit: i64,
    pub offset: i64,
}

/// A search as both backends take it: an FTS5 query and a tsquery, built from the words'
/// letters and digits only (so nothing a user types is query syntax), all words required,
/// the last one a prefix. `None` when there is nothing to search for.
pub fn search_terms(text: &str) -> Option<(String, String)> {
    let tokens: Vec<String> = crate::sql::search_tokens(text).take(8).collect();
    let (last, rest) = tokens.split_last()?;
    let fts: Vec<String> = rest.iter().map(|t| format!("\"{t}\"")).chain([format!("\"{last}\"*")]).collect();
    let tsq: Vec<String> = rest.iter().cloned().chain([format!("{last}:*")]).collect();
    Some((fts.join(" "), tsq.join(" & ")))
}

/// An incident to open.
#[derive(Debug, Clone)]
pub struct NewIncident<'a> {
    pub short_description: &'a str,
    pub description: &'a str,
    pub caller: &'a str,
    pub category: &'a str,
    pub subcategory: &'a str,
    pub item_id: Option<i64>,
    pub impact: &'a str,
    pub urgency: &'a str,
    pub priority: i64,
    pub matrix: &'a str,
    pub matrix_version: i64,
    pub priority_reason: &'a str,
    pub assignment_group: &'a str,
}

/// A journal entry to write.
#[derive(Debug, Clone)]
pub struct JournalEntry<'a> {
    pub incident_id: i64,
    pub at_ms: i64,
    pub actor: &'a str,
    /// opened, state, assigned, work-note, comment
    pub kind: &'a str,
    pub state: Option<&'a str>,
    pub hold_reason: Option<&'a str>,
    pub text: &'a str,
}

/// A priority change to write.
#[derive(Debug, Clone)]
pub struct PriorityWrite<'a> {
    pub impact: &'a str,
    pub urgency: &'a str,
    pub priority: i64,
    pub matrix: &'a str,
    pub matrix_version: i64,
    pub reason: &'a str,
}

/// A state change to write.
#[derive(Debug, Clone)]
pub struct StateWrite<'a> {
    pub state: &'a str,
    pub hold_reason: Option<&'a str>,
    pub resolution_code: &'a str,
    pub resolution_notes: &'a str,
    pub resolved_at_ms: Option<i64>,
    pub assignee: Option<&'a str>,
}

const SELECT: &str = "SELECT n.id, n.number, n.short_description, n.description, n.caller, n.category, \
    n.subcategory, n.item_id, i.name AS item, s.slug AS site, s.time_zone, n.impact, n.urgency, n.priority, n.matrix, \
    n.matrix_version, n.priority_reason, n.state, n.hold_reason, n.assignment_group, n.assignee, n.resolution_code, \
    n.resolution_notes, n.opened_at_ms, n.resolved_at_ms, n.updated_at_ms, n.version, pa.number AS parent, \
    n.satisfaction, n.verified_by, n.closed_at_ms \
    FROM incidents n LEFT JOIN config_items i ON i.id = n.item_id LEFT JOIN sites s ON s.id = i.site_id \
    LEFT JOIN incidents pa ON pa.id = n.parent_id";

impl Store {
    pub async fn incident(&self, number: &str) -> Result<Option<IncidentRow>> {
        let sql = format!("{SELECT} WHERE n.number = $1");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).bind(number).fetch_optional(p).await?))
    }

    /// Incidents, open ones only unless `all`, most urgent and oldest first.
    pub async fn incidents(&self, all: bool, limit: i64) -> Result<Vec<IncidentRow>> {
        self.incident_queue(&QueueFilter { open_only: !all, limit, ..QueueFilter::default() }).await
    }

    /// A queue: open (or all) incidents matching the filter, most urgent and oldest first
    /// (newest first when not only the open ones). The open queue reads its own partial
    /// index; a search reads the full-text index (FTS5 on SQLite, tsvector on PostgreSQL).
    pub async fn incident_queue(&self, f: &QueueFilter<'_>) -> Result<Vec<IncidentRow>> {
        let mut w = crate::sql::Where::default();
        if f.open_only {
            // The partial index's own predicate, word for word.
            w.raw("n.state IN ('new', 'in-progress', 'on-hold')".into());
        }
        if let Some(a) = f.assignee {
            w.eq("n.assignee", crate::sql::Arg::Text(a.into()));
        }
        if !f.groups.is_empty() {
            w.in_text("n.assignment_group", f.groups);
        }
        if f.unassigned {
            w.raw("n.assignee IS NULL".into());
        }
        if let Some(p) = f.priority {
            w.eq("n.priority", crate::sql::Arg::Int(p));
        }
        if let Some(c) = f.category {
            w.eq("n.category", crate::sql::Arg::Text(c.into()));
        }
        if let Some(g) = f.group {
            w.eq("n.assignment_group", crate::sql::Arg::Text(g.into()));
        }
        if !f.sites.is_empty() {
            w.in_text("s.slug", f.sites);
        }
        if f.major {
            w.raw("n.id IN (SELECT incident_id FROM major_incidents WHERE ended_at_ms IS NULL)".into());
        }
        if let Some(now) = f.at_risk_by {
            // Probed row by row along the queue's order, by the clock's key (the unary `+`
            // keeps SQLite off the at-risk index here): it stops at a page of them, however
            // many incidents are breaching.
            let plus = if matches!(self.pool(), crate::Pool::Sqlite(_)) { "+" } else { "" };
            w.raw(format!(
                "EXISTS (SELECT 1 FROM incident_slas r WHERE r.incident_id = n.id \
                 AND {plus}r.stage IN ('running', 'breached') AND r.ended_at_ms IS NULL AND {plus}r.at_risk_at_ms <= {now})"
            ));
        }
        let search = f.search.and_then(search_terms);
        let order = if f.open_only { "n.priority, n.opened_at_ms, n.id" } else { "n.id DESC" };
        let tail = format!(" ORDER BY {order} LIMIT {} OFFSET {}", f.limit.clamp(1, 5000), f.offset.max(0));
        Ok(match (self.pool(), search) {
            (crate::Pool::Sqlite(p), Some((fts, _))) => {
                w.raw("n.id IN (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH $SEARCH)".into());
                let sql = format!("{SELECT}{}{tail}", w.sql()).replace("$SEARCH", &format!("${}", w.args.len() + 1));
                crate::sql::bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args).bind(fts).fetch_all(p).await?
            }
            (crate::Pool::Postgres(p), Some((_, tsq))) => {
                w.raw("n.search @@ to_tsquery('simple', $SEARCH)".into());
                let sql = format!("{SELECT}{}{tail}", w.sql()).replace("$SEARCH", &format!("${}", w.args.len() + 1));
                crate::sql::bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args).bind(tsq).fetch_all(p).await?
            }
            (crate::Pool::Sqlite(p), None) => {
                let mut sql = format!("{SELECT}{}{tail}", w.sql());
                // Without statistics SQLite reaches for an index on the state and sorts every
                // open incident; the queue's own index is already in the order asked for.
                if f.open_only && f.assignee.is_none() {
                    sql = sql.replacen("FROM incidents n ", "FROM incidents n INDEXED BY incidents_queue ", 1);
                }
                crate::sql::bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args).fetch_all(p).await?
            }
            (crate::Pool::Postgres(p), None) => {
                let sql = format!("{SELECT}{}{tail}", w.sql());
                crate::sql::bind_args!(sqlx::query_as(AssertSqlSafe(sql)), &w.args).fetch_all(p).await?
            }
        })
    }

    pub async fn incident_journal(&self, incident_id: i64) -> Result<Vec<TimelineRow>> {
        let sql = "SELECT id, at_ms, actor, kind, state, hold_reason, text FROM incident_journal \
                   WHERE incident_id = $1 ORDER BY at_ms, id";
        Ok(on!(self.pool(), p => sqlx::query_as(sql).bind(incident_id).fetch_all(p).await?))
    }

    /// The id of an incident's latest journal entry (0 for none).
    pub async fn incident_journal_cursor(&self, incident_id: i64) -> Result<i64> {
        let sql = "SELECT COALESCE(MAX(id), 0) FROM incident_journal WHERE incident_id = $1";
        Ok(on!(self.pool(), p => sqlx::query_scalar(sql).bind(incident_id).fetch_one(p).await?))
    }

    /// The journal entries written after the one with id `after`, as written (by id, so a
    /// reader taking them `limit` at a time never skips one), at most `limit`.
    pub async fn incident_journal_after(&self, incident_id: i64, after: i64, limit: i64) -> Result<Vec<TimelineRow>> {
        let sql = "SELECT id, at_ms, actor, kind, state, hold_reason, text FROM incident_journal \
                   WHERE incident_id = $1 AND id > $2 ORDER BY id LIMIT $3";
        Ok(on!(self.pool(), p => sqlx::query_as(sql).bind(incident_id).bind(after).bind(limit).fetch_all(p).await?))
    }
}

/// An incident as an import brings it: its own number, state and times, with the journal
/// entries that give its clocks (`(at, actor, kind, state)`).
#[derive(Debug, Clone, Default)]
pub struct ImportedIncident {
    /// Empty: numbered like any other incident (INC + id).
    pub number: String,
    /// The number or key it had where it came from.
    pub source_ref: Option<String>,
    pub short_description: String,
    pub description: String,
    pub caller: String,
    pub category: String,
    pub item_id: Option<i64>,
    pub impact: String,
    pub urgency: String,
    pub priority: i64,
    pub state: String,
    pub assignment_group: String,
    pub assignee: Option<String>,
    pub resolution_code: String,
    pub resolution_notes: String,
    pub opened_at_ms: i64,
    pub resolved_at_ms: Option<i64>,
    pub closed_at_ms: Option<i64>,
    pub journal: Vec<ImportedEntry>,
}

/// A journal entry of an imported incident: when, who, what kind, and the state entered.
pub type ImportedEntry = (i64, String, String, Option<String>);

impl Tx {
    /// Writes imported incidents, a few hundred to a statement, with their journals.
    pub async fn insert_imported_incidents(&mut self, rows: &[ImportedIncident], matrix: &str) -> Result<Vec<i64>> {
        const COLS: usize = 20;
        let mut ids = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(300) {
            // RETURNING's order is not promised: rows are matched back by number.
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let ps: Vec<String> = (1..=COLS).map(|k| format!("${}", i * COLS + k)).collect();
                    format!("({}, 1)", ps.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO incidents (number, short_description, description, caller, category, item_id, impact, \
                 urgency, priority, matrix, state, assignment_group, assignee, resolution_code, resolution_notes, \
                 opened_at_ms, resolved_at_ms, closed_at_ms, updated_at_ms, source_ref, matrix_version) VALUES {} \
                 RETURNING id, number",
                values.join(", ")
            );
            let returned: Vec<(i64, String)> = on_tx!(self, t => {
                let mut q = sqlx::query_as(AssertSqlSafe(sql));
                for r in chunk {
                    let updated = r.closed_at_ms.or(r.resolved_at_ms).unwrap_or(r.opened_at_ms);
                    q = q.bind(placeholder(r)).bind(&r.short_description).bind(&r.description).bind(&r.caller)
                        .bind(&r.category).bind(r.item_id).bind(&r.impact).bind(&r.urgency).bind(r.priority)
                        .bind(matrix).bind(&r.state).bind(&r.assignment_group).bind(&r.assignee)
                        .bind(&r.resolution_code).bind(&r.resolution_notes).bind(r.opened_at_ms)
                        .bind(r.resolved_at_ms).bind(r.closed_at_ms).bind(updated).bind(&r.source_ref);
                }
                q.fetch_all(&mut **t).await?
            });
            let by_number: std::collections::HashMap<String, i64> =
                returned.into_iter().map(|(id, n)| (n, id)).collect();
            let got: Vec<i64> =
                chunk.iter().map(|r| by_number.get(&placeholder(r)).copied().unwrap_or_default()).collect();
            // Numbered now that their ids are known.
            for (id, _) in got.iter().zip(chunk).filter(|(_, r)| r.number.is_empty()) {
                on_tx!(self, t => sqlx::query("UPDATE incidents SET number = $1 WHERE id = $2")
                    .bind(format!("INC{id:07}")).bind(id)
                    .execute(&mut **t).await?.rows_affected());
            }
            // Journals, a few hundred entries to a statement.
            let entries: Vec<(i64, &ImportedEntry)> =
                got.iter().zip(chunk).flat_map(|(id, r)| r.journal.iter().map(move |j| (*id, j))).collect();
            for part in entries.chunks(500) {
                let values: Vec<String> = (0..part.len())
                    .map(|i| {
                        format!("(${}, ${}, ${}, ${}, ${})", i * 5 + 1, i * 5 + 2, i * 5 + 3, i * 5 + 4, i * 5 + 5)
                    })
                    .collect();
                let sql = format!(
                    "INSERT INTO incident_journal (incident_id, at_ms, actor, kind, state) VALUES {}",
                    values.join(", ")
                );
                on_tx!(self, t => {
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (id, (at, actor, kind, state)) in part {
                        q = q.bind(*id).bind(*at).bind(actor).bind(kind).bind(state);
                    }
                    q.execute(&mut **t).await?.rows_affected()
                });
            }
            ids.extend(got);
        }
        Ok(ids)
    }
}

/// The number an imported incident is written with until its id is known.
fn placeholder(r: &ImportedIncident) -> String {
    if r.number.is_empty() {
        format!("import:{}", r.source_ref.as_deref().unwrap_or_default())
    } else {
        r.number.clone()
    }
}

impl Store {
    /// Which of these source references were imported already.
    pub async fn imported_refs(&self, refs: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for chunk in refs.chunks(500) {
            let ps: Vec<String> = (1..=chunk.len()).map(|k| format!("${k}")).collect();
            let sql = format!("SELECT source_ref FROM incidents WHERE source_ref IN ({})", ps.join(", "));
            let found: Vec<String> = on!(self.pool(), p => {
                let mut q = sqlx::query_scalar(AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(r);
                }
                q.fetch_all(p).await?
            });
            out.extend(found);
        }
        Ok(out)
    }
}

/// A file attached to an incident, without its bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentMeta {
    pub id: i64,
    pub incident_id: i64,
    pub file_name: String,
    pub media_type: String,
    pub label: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at_ms: i64,
}

const ATTACHMENT: &str = "SELECT id, incident_id, file_name, media_type, label, size, sha256, uploaded_by, uploaded_at_ms FROM incident_attachments";

impl Store {
    /// The children of an incident, by number.
    pub async fn incident_children(&self, id: i64) -> Result<Vec<IncidentRow>> {
        let sql = format!("{SELECT} WHERE n.parent_id = $1 ORDER BY n.id");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_all(p).await?))
    }

    /// Open incidents after `after_id`, by id: a page of a walk over all of them.
    pub async fn open_incidents_after(&self, after_id: i64, limit: i64) -> Result<Vec<IncidentRow>> {
        let sql =
            format!("{SELECT} WHERE n.state IN ('new', 'in-progress', 'on-hold') AND n.id > $1 ORDER BY n.id LIMIT $2");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).bind(after_id).bind(limit).fetch_all(p).await?))
    }

    /// Resolved incidents resolved before `before_ms`, oldest first: to close for want of an answer.
    pub async fn resolved_before(&self, before_ms: i64, limit: i64) -> Result<Vec<String>> {
        let sql = "SELECT number FROM incidents WHERE state = 'resolved' AND resolved_at_ms <= $1 \
                   ORDER BY resolved_at_ms LIMIT $2";
        Ok(on!(self.pool(), p => sqlx::query_scalar(sql).bind(before_ms).bind(limit).fetch_all(p).await?))
    }

    pub async fn attachments(&self, incident_id: i64) -> Result<Vec<AttachmentMeta>> {
        let sql = format!("{ATTACHMENT} WHERE incident_id = $1 ORDER BY id");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).bind(incident_id).fetch_all(p).await?))
    }

    /// One attachment with its bytes.
    pub async fn attachment(&self, incident_id: i64, id: i64) -> Result<Option<(AttachmentMeta, Vec<u8>)>> {
        let sql = format!("{ATTACHMENT} WHERE incident_id = $1 AND id = $2");
        let meta: Option<AttachmentMeta> = on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql)).bind(incident_id).bind(id).fetch_optional(p).await?);
        let Some(meta) = meta else { return Ok(None) };
        let bytes: Vec<u8> = on!(self.pool(), p => sqlx::query_scalar("SELECT content FROM incident_attachments WHERE id = $1")
            .bind(id).fetch_one(p).await?);
        Ok(Some((meta, bytes)))
    }
}

impl Tx {
    /// Puts an incident under a parent (or none), if it is still at `version`.
    pub async fn set_incident_parent(
        &mut self,
        id: i64,
        version: i64,
        parent: Option<i64>,
        now_ms: i64,
    ) -> Result<i64> {
        let n = on_tx!(self, t => sqlx::query(
            "UPDATE incidents SET parent_id = $1, updated_at_ms = $2, version = version + 1 WHERE id = $3 AND version = $4",
        )
        .bind(parent).bind(now_ms).bind(id).bind(version)
        .execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(crate::StoreError::Stale) } else { Ok(version + 1) }
    }

    /// Records who verified the resolution and how satisfied the requester was.
    pub async fn set_verification(&mut self, id: i64, satisfaction: Option<i64>, verified_by: &str) -> Result<()> {
        on_tx!(self, t => sqlx::query("UPDATE incidents SET satisfaction = $1, verified_by = $2 WHERE id = $3")
            .bind(satisfaction).bind(verified_by).bind(id)
            .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    /// Stores a file; refuses it (`None`) when the incident's files would pass `max_total` bytes.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_attachment(
        &mut self,
        incident_id: i64,
        file_name: &str,
        media_type: &str,
        label: &str,
        sha256: &str,
        content: &[u8],
        uploaded_by: &str,
        now_ms: i64,
        max_total: i64,
    ) -> Result<Option<i64>> {
        let used: Option<i64> = on_tx!(self, t => sqlx::query_scalar(
            "SELECT CAST(SUM(size) AS BIGINT) FROM incident_attachments WHERE incident_id = $1",
        )
        .bind(incident_id).fetch_one(&mut **t).await?);
        let size = i64::try_from(content.len()).unwrap_or(i64::MAX);
        if used.unwrap_or(0) + size > max_total {
            return Ok(None);
        }
        let id: i64 = on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO incident_attachments (incident_id, file_name, media_type, label, size, sha256, content, \
             uploaded_by, uploaded_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(incident_id).bind(file_name).bind(media_type).bind(label).bind(size).bind(sha256).bind(content)
        .bind(uploaded_by).bind(now_ms)
        .fetch_one(&mut **t).await?);
        Ok(Some(id))
    }
}

impl Tx {
    /// Opens an incident in state `new`; its number comes from its id (INC0000001).
    pub async fn insert_incident(&mut self, n: &NewIncident<'_>, now_ms: i64) -> Result<(i64, String)> {
        let id: i64 = on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO incidents (number, short_description, description, caller, category, subcategory, item_id, \
             impact, urgency, priority, matrix, matrix_version, priority_reason, state, assignment_group, \
             opened_at_ms, updated_at_ms) VALUES ('', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'new', $13, \
             $14, $14) RETURNING id",
        )
        .bind(n.short_description).bind(n.description).bind(n.caller).bind(n.category).bind(n.subcategory)
        .bind(n.item_id).bind(n.impact).bind(n.urgency).bind(n.priority).bind(n.matrix).bind(n.matrix_version)
        .bind(n.priority_reason).bind(n.assignment_group).bind(now_ms)
        .fetch_one(&mut **t).await?);
        let number = format!("INC{id:07}");
        on_tx!(self, t => sqlx::query("UPDATE incidents SET number = $1 WHERE id = $2").bind(&number).bind(id)
            .execute(&mut **t).await?.rows_affected());
        Ok((id, number))
    }

    /// Writes a state change if the incident is still at `version`; returns the new version,
    /// or [`StoreError::Stale`](crate::StoreError) when someone else changed it first.
    pub async fn update_incident_state(
        &mut self,
        id: i64,
        version: i64,
        w: &StateWrite<'_>,
        now_ms: i64,
    ) -> Result<i64> {
        let n = on_tx!(self, t => sqlx::query(
            "UPDATE incidents SET state = $1, hold_reason = $2, resolution_code = $3, resolution_notes = $4, \
             resolved_at_ms = $5, assignee = COALESCE($6, assignee), updated_at_ms = $7, version = version + 1, \
             closed_at_ms = CASE WHEN $1 = 'closed' THEN $7 ELSE NULL END WHERE id = $8 AND version = $9",
        )
        .bind(w.state).bind(w.hold_reason).bind(w.resolution_code).bind(w.resolution_notes).bind(w.resolved_at_ms)
        .bind(w.assignee).bind(now_ms).bind(id).bind(version)
        .execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(crate::StoreError::Stale) } else { Ok(version + 1) }
    }

    /// New impact, urgency and priority (with the matrix version and the reason), if the
    /// incident is still at `version`.
    pub async fn update_incident_priority(
        &mut self,
        id: i64,
        version: i64,
        p: &PriorityWrite<'_>,
        now_ms: i64,
    ) -> Result<i64> {
        let n = on_tx!(self, t => sqlx::query(
            "UPDATE incidents SET impact = $1, urgency = $2, priority = $3, matrix = $4, matrix_version = $5, \
             priority_reason = $6, updated_at_ms = $7, version = version + 1 WHERE id = $8 AND version = $9",
        )
        .bind(p.impact).bind(p.urgency).bind(p.priority).bind(p.matrix).bind(p.matrix_version).bind(p.reason)
        .bind(now_ms).bind(id).bind(version)
        .execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(crate::StoreError::Stale) } else { Ok(version + 1) }
    }

    /// A new assignment group and assignee, if the incident is still at `version`.
    pub async fn update_incident_assignment(
        &mut self,
        id: i64,
        version: i64,
        group: &str,
        assignee: Option<&str>,
        now_ms: i64,
    ) -> Result<i64> {
        let n = on_tx!(self, t => sqlx::query(
            "UPDATE incidents SET assignment_group = $1, assignee = $2, updated_at_ms = $3, version = version + 1 \
             WHERE id = $4 AND version = $5",
        )
        .bind(group).bind(assignee).bind(now_ms).bind(id).bind(version)
        .execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(crate::StoreError::Stale) } else { Ok(version + 1) }
    }

    /// Marks the incident updated (a note) without a new version: notes never conflict with
    /// someone else's change, but they do count as an update.
    pub async fn touch_incident(&mut self, id: i64, now_ms: i64) -> Result<()> {
        on_tx!(self, t => sqlx::query("UPDATE incidents SET updated_at_ms = $1 WHERE id = $2").bind(now_ms).bind(id)
            .execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    pub async fn append_journal(&mut self, e: &JournalEntry<'_>) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "INSERT INTO incident_journal (incident_id, at_ms, actor, kind, state, hold_reason, text) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(e.incident_id).bind(e.at_ms).bind(e.actor).bind(e.kind).bind(e.state).bind(e.hold_reason).bind(e.text)
        .execute(&mut **t).await?.rows_affected());
        Ok(())
    }
}

/// A stored working-time calendar.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CalendarRow {
    pub name: String,
    pub time_zone: String,
    /// JSON: seven lists of `[start_minute, end_minute]`, Monday first.
    pub week: String,
    /// JSON: local dates.
    pub holidays: String,
    pub updated_at_ms: i64,
    pub version: i64,
}

impl Store {
    pub async fn calendars(&self) -> Result<Vec<CalendarRow>> {
        let sql =
            "SELECT name, time_zone, week, holidays, updated_at_ms, version FROM business_calendars ORDER BY name";
        Ok(on!(self.pool(), p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    pub async fn calendar(&self, name: &str) -> Result<Option<CalendarRow>> {
        let sql =
            "SELECT name, time_zone, week, holidays, updated_at_ms, version FROM business_calendars WHERE name = $1";
        Ok(on!(self.pool(), p => sqlx::query_as(sql).bind(name).fetch_optional(p).await?))
    }
}

impl Tx {
    /// Creates or replaces a calendar.
    pub async fn put_calendar(
        &mut self,
        name: &str,
        time_zone: &str,
        week: &str,
        holidays: &str,
        now_ms: i64,
    ) -> Result<()> {
        on_tx!(self, t => sqlx::query(
            "INSERT INTO business_calendars (name, time_zone, week, holidays, updated_at_ms) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (name) DO UPDATE SET time_zone = $2, week = $3, holidays = $4, updated_at_ms = $5, \
             version = business_calendars.version + 1",
        )
        .bind(name).bind(time_zone).bind(week).bind(holidays).bind(now_ms)
        .execute(&mut **t).await?.rows_affected());
        Ok(())
    }
}

/// One version of the priority matrix.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MatrixRow {
    pub version: i64,
    pub name: String,
    /// JSON arrays.
    pub impacts: String,
    pub urgencies: String,
    pub cells: String,
    pub actor: String,
    pub created_at_ms: i64,
}

impl Store {
    /// The matrix in force: the highest version.
    pub async fn priority_matrix(&self) -> Result<Option<MatrixRow>> {
        let sql = "SELECT version, name, impacts, urgencies, cells, actor, created_at_ms FROM priority_matrices \
                   ORDER BY version DESC LIMIT 1";
        Ok(on!(self.pool(), p => sqlx::query_as(sql).fetch_optional(p).await?))
    }
}

impl Tx {
    /// Stores the next version of the matrix and returns its number.
    pub async fn insert_priority_matrix(&mut self, m: &MatrixRow) -> Result<i64> {
        let latest: Option<i64> = on_tx!(self, t => sqlx::query_scalar("SELECT MAX(version) FROM priority_matrices")
            .fetch_one(&mut **t).await?);
        // Version 1 is the built-in ITIL grid, in force before anything is stored.
        let version = latest.unwrap_or(1) + 1;
        on_tx!(self, t => sqlx::query(
            "INSERT INTO priority_matrices (version, name, impacts, urgencies, cells, actor, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(version).bind(&m.name).bind(&m.impacts).bind(&m.urgencies).bind(&m.cells).bind(&m.actor)
        .bind(m.created_at_ms)
        .execute(&mut **t).await?.rows_affected());
        Ok(version)
    }
}
